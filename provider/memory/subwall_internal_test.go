package memory

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestSubWall checks subWall against time.Time.Sub for times without a
// monotonic reading as u: random instants up to ±2⁴⁰ s apart in three
// locations, t with and without a monotonic reading, and differences at
// and beyond what a Duration holds (where Sub saturates).
func TestSubWall(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(4, 9))
	locs := []*time.Location{time.UTC, time.FixedZone("x", 3600), time.Local}
	mono := time.Now() // carries a monotonic reading
	edges := []int64{0, 1, -1, 1<<32 - 1, 1 << 32, -(1<<32 - 1), -(1 << 32), math.MaxInt64 / int64(time.Second), math.MinInt64 / int64(time.Second), math.MaxInt64/int64(time.Second) + 1}
	for i := range 200_000 {
		u := time.Unix(rng.Int64N(1<<41)-1<<40, rng.Int64N(1e9)).In(locs[rng.IntN(3)])
		var d int64
		switch i % 4 {
		case 0:
			d = edges[rng.IntN(len(edges))]
		case 1:
			d = rng.Int64N(1<<34) - 1<<33
		default:
			d = rng.Int64N(1<<44) - 1<<43
		}
		tt := time.Unix(u.Unix()+d, rng.Int64N(1e9)).In(locs[rng.IntN(3)])
		if i%3 == 0 {
			tt = mono.Add(tt.Sub(mono)) // the same instant with a monotonic reading, where representable
		}
		if got, want := subWall(tt, u), tt.Sub(u); got != want {
			t.Fatalf("subWall(%v, %v) = %v, Sub %v", tt, u, got, want)
		}
	}
}

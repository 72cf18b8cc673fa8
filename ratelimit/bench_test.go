package ratelimit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/idlescale/idlescale/ratelimit"
)

// BenchmarkLimiterReserve reserves on the memory store with the default
// policy. It cycles over 16 targets, each reserving every 13 minutes, so
// that every reservation is granted and each 24 h history stays full
// (about 110 events, one pruned per call) while the simulated clock stays
// within the limiter's range for any b.N.
func BenchmarkLimiterReserve(b *testing.B) {
	lim, err := ratelimit.New(ratelimit.Config{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	const targets = 16
	step := 13 * time.Minute / targets
	reqs := make([]ratelimit.Request, targets)
	for i := range reqs {
		reqs[i] = ratelimit.Request{Target: fmt.Sprintf("group-%02d", i), Direction: ratelimit.Up, Units: 2}
	}
	now := t0
	i := 0
	for range 200 * targets { // fill the histories
		now = now.Add(step)
		if _, err := lim.ReserveAt(ctx, now, reqs[i%targets]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	denied := 0
	for b.Loop() {
		now = now.Add(step)
		r, err := lim.ReserveAt(ctx, now, reqs[i%targets])
		if err != nil {
			b.Fatal(err)
		}
		if !r.OK() {
			denied++
		}
		i++
	}
	if denied > 0 {
		b.Fatalf("%d reservations denied; the benchmark must measure granted ones", denied)
	}
}

// BenchmarkLimiterReserveDenied measures the read-only denial path.
func BenchmarkLimiterReserveDenied(b *testing.B) {
	lim, err := ratelimit.New(ratelimit.Config{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	req := ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 2}
	if _, err := lim.ReserveAt(ctx, t0, req); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if r, _ := lim.ReserveAt(ctx, t0.Add(time.Minute), req); r.OK() {
			b.Fatal("granted")
		}
	}
}

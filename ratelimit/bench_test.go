package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/idlescale/idlescale/ratelimit"
)

// BenchmarkLimiterReserve reserves on the memory store with the default
// policy, 13 minutes apart, so that every reservation is granted and the
// 24 h history stays full (about 110 events, one pruned per call).
func BenchmarkLimiterReserve(b *testing.B) {
	lim, err := ratelimit.New(ratelimit.Config{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	req := ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 2}
	now := t0
	for range 200 { // fill the history
		now = now.Add(13 * time.Minute)
		if _, err := lim.ReserveAt(ctx, now, req); err != nil {
			b.Fatal(err)
		}
	}
	denied := 0
	for b.Loop() {
		now = now.Add(13 * time.Minute)
		r, err := lim.ReserveAt(ctx, now, req)
		if err != nil {
			b.Fatal(err)
		}
		if !r.OK() {
			denied++
		}
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

package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/idlescale/idlescale/ratelimit"
)

// A zero field of a Config means its default: 5 events per hour, 3 units
// per event, 300 s between events, per target and direction. Here the
// downs of every target get their own window, the ups of "db" at most one
// unit per event, and all targets together at most 20 events an hour.
func ExampleNew() {
	lim, err := ratelimit.New(ratelimit.Config{
		Down:    ratelimit.Budget{Events: 2, Window: 2 * time.Hour},
		Targets: map[string]ratelimit.TargetBudgets{"db": {Up: ratelimit.Budget{MaxUnits: 1}}},
		Global:  ratelimit.Budget{Events: 20, Window: time.Hour},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	r, _ := lim.ReserveAt(context.Background(), now, ratelimit.Request{Target: "db", Direction: ratelimit.Up, Units: 2})
	fmt.Println(r)

	_, err = ratelimit.New(ratelimit.Config{History: 30 * time.Minute})
	fmt.Println(err)
	// Output:
	// db/up +2: clamped to 1 (target max_units_per_event); next at 2026-03-02T10:05:00Z
	// ratelimit: config: invalid history 30m0s: must cover up.window 1h0m0s
}

// Reservations are allowed, clamped (asked +5, granted +3) or denied, with
// the reason and the next allowed time.
func ExampleLimiter_ReserveAt() {
	lim, _ := ratelimit.New(ratelimit.Config{})
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	req := ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 5}

	r, _ := lim.ReserveAt(ctx, now, req)
	fmt.Println(r.Outcome, r.Granted, r)
	r, _ = lim.ReserveAt(ctx, now.Add(time.Minute), req)
	fmt.Println(r.Outcome, r.Granted, r.Delay(), r)
	// Output:
	// clamped 3 web/up +5: clamped to 3 (target max_units_per_event); next at 2026-03-02T10:05:00Z
	// denied 0 4m0s web/up +5: denied (target min_interval); next at 2026-03-02T10:05:00Z
}

// Cancel refunds a reservation whose action failed before it changed
// anything.
func ExampleLimiter_CancelAt() {
	lim, _ := ratelimit.New(ratelimit.Config{})
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	req := ratelimit.Request{Target: "web", Direction: ratelimit.Down, Units: 1}

	r, _ := lim.ReserveAt(ctx, now, req)
	// ... the provider refused the change: nothing happened.
	_ = lim.CancelAt(ctx, now, r)
	r, _ = lim.ReserveAt(ctx, now.Add(time.Second), req)
	fmt.Println(r.Outcome)
	// Output:
	// allowed
}

// Stats is a snapshot for dashboards.
func ExampleLimiter_StatsAt() {
	lim, _ := ratelimit.New(ratelimit.Config{})
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	_, _ = lim.ReserveAt(ctx, now, ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 2})
	st, _ := lim.StatsAt(ctx, now.Add(time.Minute))
	for _, b := range st.Buckets {
		fmt.Printf("%s: %d in window, %d remaining, next %s\n", b.Key, b.InWindow, b.Remaining, b.Next.Format("15:04"))
	}
	// Output:
	// web/up: 1 in window, 4 remaining, next 10:05
}

// Wait blocks on the limiter's clock until the request is allowed.
func ExampleLimiter_Wait() {
	lim, _ := ratelimit.New(ratelimit.Config{Up: ratelimit.Budget{MinInterval: -1}})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	r, err := lim.Wait(ctx, ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 1})
	fmt.Println(r.Outcome, err)
	// Output:
	// allowed <nil>
}

// Two replicas of a host share one budget through one Store: here a
// MemoryStore in one process; across processes, an etcdstore.Store.
func ExampleNewMemoryStore() {
	store := ratelimit.NewMemoryStore()
	cfg := ratelimit.Config{Up: ratelimit.Budget{Events: 3, MinInterval: -1}}
	replicaA, _ := ratelimit.New(cfg, ratelimit.WithStore(store))
	replicaB, _ := ratelimit.New(cfg, ratelimit.WithStore(store))

	ctx := context.Background()
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	req := ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 1}
	for i, lim := range []*ratelimit.Limiter{replicaA, replicaB, replicaA, replicaB} {
		r, _ := lim.ReserveAt(ctx, now.Add(time.Duration(i)*time.Minute), req)
		fmt.Printf("replica %c: %s\n", "ABAB"[i], r.Outcome)
	}
	// Output:
	// replica A: allowed
	// replica B: allowed
	// replica A: allowed
	// replica B: denied
}

// downStore is a Store that is down: every call fails.
type downStore struct{}

func (downStore) Update(context.Context, []ratelimit.Key, func([]*ratelimit.History) (bool, error)) error {
	return errors.New("connection refused")
}

func (downStore) Snapshot(context.Context) ([]ratelimit.Bucket, error) {
	return nil, errors.New("connection refused")
}

// A Store keeps the histories; when it fails, the limiter fails closed.
func ExampleStore() {
	lim, _ := ratelimit.New(ratelimit.Config{}, ratelimit.WithStore(downStore{}))
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	r, err := lim.ReserveAt(context.Background(), now, ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 1})
	fmt.Println(r.Outcome, r.Reason)
	fmt.Println(errors.Is(err, ratelimit.ErrStore), err)
	// Output:
	// denied store_failed
	// true ratelimit: reserve: store failed: connection refused
}

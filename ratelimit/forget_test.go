package ratelimit_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	bclock "github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/ratelimit"
)

// TestMemoryStoreForgetsDepartedTargets: a MemoryStore drops the
// buckets of a target whose events are all older than any reservation
// can look at, so that a host whose targets come and go (preview
// environments, groups created and deleted) holds the targets of about
// the last History, not every target it ever saw: it kept each for good
// (a bucket's Horizon is never cleared, so a bucket never left Empty),
// 1000 buckets after 1000 hourly targets.
func TestMemoryStoreForgetsDepartedTargets(t *testing.T) {
	t.Parallel()
	clk := bclock.NewMock()
	clk.Set(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	store := ratelimit.NewMemoryStore()
	lim, err := ratelimit.New(ratelimit.Config{}, ratelimit.WithStore(store), ratelimit.WithClock(clk))
	require.NoError(t, err)
	for i := range 1000 {
		r, err := lim.Reserve(t.Context(), ratelimit.Request{Target: fmt.Sprintf("preview-%d", i), Direction: ratelimit.Up, Units: 1})
		require.NoError(t, err)
		require.True(t, r.OK(), r.String())
		clk.Add(time.Hour)
	}
	bs, err := store.Snapshot(t.Context())
	require.NoError(t, err)
	// The default History (24h) with MaxSkew (15m) keeps 25 targets
	// live; a sweep runs once the store has doubled.
	assert.LessOrEqual(t, len(bs), 128, "buckets kept")
	assert.GreaterOrEqual(t, len(bs), 25, "the live targets are kept")
	st, err := lim.Stats(t.Context())
	require.NoError(t, err)
	assert.Len(t, st.Buckets, 23, "the targets of the last day are shown")
}

// opaqueStore hides the MemoryStore it holds (no Unwrap, no embedding),
// so that the Limiter cannot make it forget: the reference that keeps
// every bucket.
type opaqueStore struct{ s *ratelimit.MemoryStore }

func (o opaqueStore) Update(ctx context.Context, keys []ratelimit.Key, fn func([]*ratelimit.History) (bool, error)) error {
	return o.s.Update(ctx, keys, fn)
}

func (o opaqueStore) Snapshot(ctx context.Context) ([]ratelimit.Bucket, error) {
	return o.s.Snapshot(ctx)
}

// TestForgettingChangesNoAnswer: a Limiter whose MemoryStore forgets
// departed targets answers every reservation, cancellation and Stats as
// one whose store keeps every bucket for good, over random runs of many
// targets that come and go, reservations stamped up to MaxSkew around
// the clock, in both directions, Both, with a global budget and without.
func TestForgettingChangesNoAnswer(t *testing.T) {
	t.Parallel()
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, 99))
			cfg := propCfg
			if seed%2 == 1 {
				cfg.Global = ratelimit.Budget{}
			}
			clk := bclock.NewMock()
			clk.Set(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
			forgetting := ratelimit.NewMemoryStore()
			a, err := ratelimit.New(cfg, ratelimit.WithStore(forgetting), ratelimit.WithClock(clk))
			require.NoError(t, err)
			b, err := ratelimit.New(cfg, ratelimit.WithStore(opaqueStore{ratelimit.NewMemoryStore()}), ratelimit.WithClock(clk))
			require.NoError(t, err)
			type pair struct{ a, b ratelimit.Reservation }
			var granted []pair
			dirs := []ratelimit.Direction{ratelimit.Up, ratelimit.Down, ratelimit.Both}
			for step := range 4000 {
				clk.Add(time.Duration(rng.IntN(int(20 * time.Second))))
				// A working set of 40 targets that drifts: the old ones
				// leave for good.
				target := fmt.Sprintf("t%d", step/20+rng.IntN(40))
				now := clk.Now().Add(time.Duration(rng.Int64N(int64(2*cfg.MaxSkew))) - cfg.MaxSkew)
				if len(granted) > 0 && rng.IntN(5) == 0 {
					p := granted[rng.IntN(len(granted))]
					require.NoError(t, a.CancelAt(t.Context(), now, p.a))
					require.NoError(t, b.CancelAt(t.Context(), now, p.b))
					continue
				}
				req := ratelimit.Request{Target: target, Direction: dirs[rng.IntN(len(dirs))], Units: 1 + rng.IntN(3)}
				ra, err := a.ReserveAt(t.Context(), now, req)
				require.NoError(t, err)
				rb, err := b.ReserveAt(t.Context(), now, req)
				require.NoError(t, err)
				if ra.OK() {
					granted = append(granted, pair{ra, rb})
				}
				rb.ID = ra.ID
				require.Equal(t, rb, ra, "step %d", step)
				if step%100 == 0 {
					sa, err := a.Stats(t.Context())
					require.NoError(t, err)
					sb, err := b.Stats(t.Context())
					require.NoError(t, err)
					require.Equal(t, sb, sa, "stats at step %d", step)
				}
			}
			bs, err := forgetting.Snapshot(t.Context())
			require.NoError(t, err)
			assert.Less(t, len(bs), 300, "the departed targets are forgotten (of 480 buckets)")
		})
	}
}

// TestReservationStampedAheadForgetsNothingEarly: a MemoryStore drops
// departed targets measured from the earlier of a granted reservation's
// time and the clock's now, so that one reservation stamped two days
// ahead of the clock (a replica's clock, a scheduled action reserved
// early) drops no target the present still counts. Mutation testing
// found the clock's part untested (the reservation's time alone: every
// test passed): the 127 targets reserved ten minutes before were dropped
// and, the store's floor then two days ahead, every one of them was
// denied (max_skew) for a day, stopping all their scaling.
func TestReservationStampedAheadForgetsNothingEarly(t *testing.T) {
	t.Parallel()
	clk := bclock.NewMock()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clk.Set(now)
	store := ratelimit.NewMemoryStore()
	lim, err := ratelimit.New(ratelimit.Config{}, ratelimit.WithStore(store), ratelimit.WithClock(clk))
	require.NoError(t, err)
	// 127 targets: the store sweeps at 64 buckets, then once it holds
	// 128, the reservation stamped ahead making the 128th.
	for i := range 127 {
		r, err := lim.ReserveAt(t.Context(), now, ratelimit.Request{Target: fmt.Sprintf("web-%d", i), Direction: ratelimit.Up, Units: 1})
		require.NoError(t, err)
		require.True(t, r.OK(), r.String())
	}
	ahead, err := lim.ReserveAt(t.Context(), now.Add(48*time.Hour), ratelimit.Request{Target: "batch", Direction: ratelimit.Up, Units: 1})
	require.NoError(t, err)
	require.True(t, ahead.OK(), ahead.String())

	clk.Add(10 * time.Minute)
	r, err := lim.Reserve(t.Context(), ratelimit.Request{Target: "web-0", Direction: ratelimit.Up, Units: 1})
	require.NoError(t, err)
	assert.True(t, r.OK(), "web-0's bucket is live: %s", r)
	r, err = lim.Reserve(t.Context(), ratelimit.Request{Target: "web-1", Direction: ratelimit.Up, Units: 1})
	require.NoError(t, err)
	assert.True(t, r.OK(), "web-1's bucket is live: %s", r)
	bs, err := store.Snapshot(t.Context())
	require.NoError(t, err)
	assert.Len(t, bs, 128, "no bucket was dropped")
}

package ratelimit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/ratelimit"
)

// The MemoryStore honours the Store contract when called through the
// interface (the limiter calls its own MemoryStore directly).
func TestMemoryStoreContract(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	var s ratelimit.Store = ratelimit.NewMemoryStore()
	web := ratelimit.Key{Target: "web", Direction: ratelimit.Up}
	keys := []ratelimit.Key{web, ratelimit.GlobalKey}

	// Absent buckets are empty histories; nothing written leaves nothing.
	err := s.Update(ctx, keys, func(hs []*ratelimit.History) (bool, error) {
		require.Len(t, hs, 2)
		assert.Empty(t, hs[0].Events)
		assert.Empty(t, hs[1].Events)
		return false, nil
	})
	require.NoError(t, err)
	bs, err := s.Snapshot(ctx)
	require.NoError(t, err)
	assert.Empty(t, bs)

	ev := ratelimit.Event{ID: 1, At: t0, Units: 2, Target: "web", Direction: ratelimit.Up}
	require.NoError(t, s.Update(ctx, keys, func(hs []*ratelimit.History) (bool, error) {
		for _, h := range hs {
			h.Events = append(h.Events, ev)
		}
		return true, nil
	}))
	boom := errors.New("boom")
	err = s.Update(ctx, keys[:1], func(hs []*ratelimit.History) (bool, error) { return false, boom })
	require.ErrorIs(t, err, boom, "fn's error is returned unchanged")

	bs, err = s.Snapshot(ctx)
	require.NoError(t, err)
	ratelimit.SortBuckets(bs)
	require.Len(t, bs, 2)
	assert.True(t, bs[0].Key.IsGlobal())
	assert.Equal(t, web, bs[1].Key)
	assert.Equal(t, []ratelimit.Event{ev}, bs[1].History.Events)
	bs[1].History.Events[0].Units = 99 // a copy
	again, err := s.Snapshot(ctx)
	require.NoError(t, err)
	for _, b := range again {
		assert.Equal(t, 2, b.History.Events[0].Units)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	called := false
	err = s.Update(cancelled, keys, func([]*ratelimit.History) (bool, error) { called = true; return true, nil })
	require.ErrorIs(t, err, context.Canceled)
	assert.False(t, called)
	_, err = s.Snapshot(cancelled)
	require.ErrorIs(t, err, context.Canceled)
}

// The global bucket holds every target's events, so it keeps only what
// its rule looks at, plus MaxSkew for reservations that come out of time
// order; the targets keep the whole history.
func TestGlobalBucketKeepsOnlyItsWindow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		skew time.Duration
		want int // global events kept after reservations at 0, 20, 40, 60 min
	}{
		{name: "default skew 15m: keeps 25m", want: 2},
		{name: "skew 30m: keeps 40m, not the event exactly 40m old", skew: 30 * mins, want: 2},
		{name: "skew 31m: keeps 41m", skew: 31 * mins, want: 3},
		{name: "no skew: keeps 10m", skew: -1, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			store := ratelimit.NewMemoryStore()
			lim, err := ratelimit.New(ratelimit.Config{Global: ratelimit.Budget{Events: 100, Window: 10 * mins}, MaxSkew: tt.skew},
				ratelimit.WithStore(store))
			require.NoError(t, err)
			for i, target := range []string{"a", "b", "c", "a"} {
				r, err := lim.ReserveAt(ctx, t0.Add(time.Duration(i)*20*mins), ratelimit.Request{Target: target, Direction: ratelimit.Up, Units: 1})
				require.NoError(t, err)
				require.True(t, r.OK(), r.String())
			}
			bs, err := store.Snapshot(ctx)
			require.NoError(t, err)
			ratelimit.SortBuckets(bs)
			require.Len(t, bs, 4)
			assert.True(t, bs[0].Key.IsGlobal())
			assert.Len(t, bs[0].History.Events, tt.want, "the global bucket pruned what left its window plus skew")
			assert.Len(t, bs[1].History.Events, 2, "target a keeps its 24 h history")
			assert.Equal(t, t0.Add(time.Hour), bs[0].History.Horizon, "the newest reservation")
		})
	}
}

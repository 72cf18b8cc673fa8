package ratelimit_test

import (
	"fmt"
	"testing"
	"time"

	bclock "github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/ratelimit"
)

// TestStatsRemainingBounds: BucketStats.Remaining is -1 when Events is
// unlimited, and with peers (WithPeers) the fewest any budget leaves even
// when the limiter's own leaves none and a peer's leaves some.
func TestStatsRemainingBounds(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	req := ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 1}

	t.Run("unlimited", func(t *testing.T) {
		t.Parallel()
		lim, err := ratelimit.New(ratelimit.Config{Up: ratelimit.Budget{Events: -1}})
		require.NoError(t, err)
		r, err := lim.ReserveAt(ctx, t0, req)
		require.NoError(t, err)
		require.True(t, r.OK(), "%s", r)
		st, err := lim.StatsAt(ctx, t0)
		require.NoError(t, err)
		require.Len(t, st.Buckets, 1)
		assert.Equal(t, -1, st.Buckets[0].Budget.Events)
		assert.Equal(t, -1, st.Buckets[0].Remaining, "no event budget: unlimited")
	})

	t.Run("own stricter than a peer", func(t *testing.T) {
		t.Parallel()
		var p peers
		p.set(ratelimit.Config{Up: ratelimit.Budget{Events: 5}})
		lim, err := ratelimit.New(ratelimit.Config{Up: ratelimit.Budget{Events: 1}}, ratelimit.WithPeers(&p))
		require.NoError(t, err)
		r, err := lim.ReserveAt(ctx, t0, req)
		require.NoError(t, err)
		require.True(t, r.OK(), "%s", r)
		st, err := lim.StatsAt(ctx, t0)
		require.NoError(t, err)
		require.Len(t, st.Buckets, 1)
		assert.Equal(t, 0, st.Buckets[0].Remaining, "the limiter's own 1 event is used; the peer's 4 left do not count")
	})
}

// TestMemoryStoreForgetBoundaries: a MemoryStore sweeps once it holds
// at least minSweep (64) buckets, not only more, and then not before it
// holds twice as many as it kept; a sweep drops a bucket whose newest
// reservation is at the cutoff (24h15m before now with the defaults: the
// longest keep, History, and MaxSkew), not only one before it; and it
// does so under as many wrappers as New walks.
func TestMemoryStoreForgetBoundaries(t *testing.T) {
	t.Parallel()
	reserve := func(t *testing.T, n int, every time.Duration, wrappers int) []ratelimit.Bucket {
		t.Helper()
		clk := bclock.NewMock()
		clk.Set(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
		store := ratelimit.NewMemoryStore()
		lim, err := ratelimit.New(ratelimit.Config{}, ratelimit.WithStore(wrapped(store, wrappers)), ratelimit.WithClock(clk))
		require.NoError(t, err)
		for i := range n {
			if i > 0 {
				clk.Add(every)
			}
			r, err := lim.Reserve(t.Context(), ratelimit.Request{Target: fmt.Sprintf("preview-%d", i), Direction: ratelimit.Up, Units: 1})
			require.NoError(t, err)
			require.True(t, r.OK(), r.String())
		}
		bs, err := store.Snapshot(t.Context())
		require.NoError(t, err)
		return bs
	}
	t.Run("sweep at 64 buckets", func(t *testing.T) {
		t.Parallel()
		assert.Len(t, reserve(t, 63, time.Hour, 0), 63, "fewer than 64: no sweep")
		assert.Len(t, reserve(t, 64, time.Hour, 0), 25, "64: swept, the last 24h15m kept")
	})
	t.Run("a bucket at the cutoff goes", func(t *testing.T) {
		t.Parallel()
		// 128 buckets 15 minutes apart: the second sweep, at the 128th,
		// drops the 31 whose reservation is 24h15m or more before it.
		bs := reserve(t, 128, 15*time.Minute, 0)
		targets := make(map[string]bool, len(bs))
		for _, b := range bs {
			targets[b.Key.Target] = true
		}
		assert.False(t, targets["preview-30"], "exactly 24h15m before: at the cutoff")
		assert.True(t, targets["preview-31"], "24h before: kept")
		assert.Len(t, bs, 97)
	})
	t.Run("no sweep until doubled", func(t *testing.T) {
		t.Parallel()
		// The 129th finds 98 buckets, fewer than twice the 97 kept:
		// preview-30's bucket, 24h15m old now, waits for the next sweep.
		assert.Len(t, reserve(t, 129, 15*time.Minute, 0), 98)
	})
	t.Run("under 32 wrappers", func(t *testing.T) {
		t.Parallel()
		// The MemoryStore a limiter is given under as many wrappers as
		// New walks (Unwrap) forgets as well.
		assert.Len(t, reserve(t, 64, time.Hour, 32), 25)
	})
}

// TestStatsKeptOfTheGlobalBucket: the global bucket keeps its events for
// its window plus MaxSkew, and Kept counts all of them, as its doc says:
// an event 71 minutes old of an hourly global window (15m of MaxSkew) is
// kept, out of the window. The doc said Kept counted the global bucket's
// events in its window or interval, so a dashboard showed 2 kept where
// the doc promised 1.
func TestStatsKeptOfTheGlobalBucket(t *testing.T) {
	t.Parallel()
	lim, err := ratelimit.New(ratelimit.Config{Global: ratelimit.Budget{Events: 10, Window: time.Hour}})
	require.NoError(t, err)
	for i, at := range []time.Duration{0, 70 * time.Minute} {
		r, err := lim.ReserveAt(t.Context(), t0.Add(at), ratelimit.Request{Target: fmt.Sprintf("t%d", i), Direction: ratelimit.Up, Units: 1})
		require.NoError(t, err)
		require.True(t, r.OK(), r.String())
	}
	st, err := lim.StatsAt(t.Context(), t0.Add(71*time.Minute))
	require.NoError(t, err)
	require.NotEmpty(t, st.Buckets)
	g := st.Buckets[0]
	require.True(t, g.Key.IsGlobal(), g.Key.String())
	assert.Equal(t, 1, g.InWindow)
	assert.Equal(t, 2, g.Kept, "the window plus MaxSkew")
	st, err = lim.StatsAt(t.Context(), t0.Add(75*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, 1, st.Buckets[0].Kept, "the event at +0 left the window plus MaxSkew")
}

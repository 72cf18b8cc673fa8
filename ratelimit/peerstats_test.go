package ratelimit_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/ratelimit"
)

// TestStatsWithStricterPeers: Stats of a limiter given stricter peers
// (WithPeers) says what ReserveAt decides: Next is when a reservation is
// allowed by every one's rules and Remaining what the strictest window
// leaves, while Budget stays the limiter's own. Stats computed them by
// its own budget alone, so a dashboard showed 4 events left and a Next a
// reservation made then was denied at.
func TestStatsWithStricterPeers(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	var p peers
	p.set(ratelimit.Config{Up: ratelimit.Budget{Events: 2, MinInterval: 10 * time.Minute}})
	lim, err := ratelimit.New(ratelimit.Config{}, ratelimit.WithPeers(&p))
	require.NoError(t, err)
	req := ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 1}
	r, err := lim.ReserveAt(ctx, t0, req)
	require.NoError(t, err)
	require.True(t, r.OK(), "%s", r)

	at := t0.Add(time.Minute)
	st, err := lim.StatsAt(ctx, at)
	require.NoError(t, err)
	require.Len(t, st.Buckets, 1)
	b := st.Buckets[0]
	assert.Equal(t, ratelimit.DefaultEvents, b.Budget.Events, "the limiter's own budget")
	assert.Equal(t, 1, b.Remaining, "the peer's 2 events less the one in its window")
	assert.Equal(t, t0.Add(10*time.Minute), b.Next, "the peer's interval")

	r, err = lim.ReserveAt(ctx, b.Next.Add(-time.Second), req)
	require.NoError(t, err)
	assert.False(t, r.OK(), "ReserveAt agrees: %s", r)
	r, err = lim.ReserveAt(ctx, b.Next, req)
	require.NoError(t, err)
	require.True(t, r.OK(), "%s", r)
	st, err = lim.StatsAt(ctx, b.Next)
	require.NoError(t, err)
	assert.Equal(t, 0, st.Buckets[0].Remaining, "the peer's window is full")
}

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

// TestForgottenTargetStillRefusesAStaleReservation: a reservation stamped
// long before the reservations a MemoryStore forgot a target's bucket
// after (a run that reserves with the now it took at its start) is not
// let through by the forgetting: a store that keeps every bucket denies
// it (ReasonSkew: its window cannot be checked, and here the target's
// event 20 minutes after it is in its window), and one that forgot the
// bucket granted it, a second event in the target's hour where its
// budget allows one.
func TestForgottenTargetStillRefusesAStaleReservation(t *testing.T) {
	t.Parallel()
	cfg := ratelimit.Config{Up: ratelimit.Budget{Events: 1, Window: time.Hour}}
	clk := bclock.NewMock()
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clk.Set(t0)
	forgetting := ratelimit.NewMemoryStore()
	a, err := ratelimit.New(cfg, ratelimit.WithStore(forgetting), ratelimit.WithClock(clk))
	require.NoError(t, err)
	b, err := ratelimit.New(cfg, ratelimit.WithStore(opaqueStore{ratelimit.NewMemoryStore()}), ratelimit.WithClock(clk))
	require.NoError(t, err)
	both := func(now time.Time, target string) (ratelimit.Reservation, ratelimit.Reservation) {
		req := ratelimit.Request{Target: target, Direction: ratelimit.Up, Units: 1}
		ra, err := a.ReserveAt(t.Context(), now, req)
		require.NoError(t, err)
		rb, err := b.ReserveAt(t.Context(), now, req)
		require.NoError(t, err)
		return ra, rb
	}
	ra, rb := both(t0, "x")
	require.True(t, ra.OK() && rb.OK())
	clk.Add(26 * time.Hour)
	for i := range 200 { // other targets, enough for the store to sweep
		both(clk.Now(), fmt.Sprintf("other-%d", i))
	}
	bs, err := forgetting.Snapshot(t.Context())
	require.NoError(t, err)
	for _, b := range bs {
		require.NotEqual(t, "x", b.Key.Target, "the store forgot x")
	}

	ra, rb = both(t0.Add(-20*time.Minute), "x")
	assert.Equal(t, rb.Outcome, ra.Outcome, "kept: %s; forgotten: %s", rb, ra)
	assert.False(t, ra.OK(), ra.String())
}

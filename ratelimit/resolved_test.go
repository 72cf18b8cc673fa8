package ratelimit_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/ratelimit"
)

// TestResolved: Resolved writes every default out and resolves every
// budget, so that the zero Config and one with the defaults written out
// resolve alike, another budget does not, a Resolved resolves to itself,
// and a limiter of it decides as one of the Config it came from.
func TestResolved(t *testing.T) {
	t.Parallel()
	def := ratelimit.Budget{Events: ratelimit.DefaultEvents, Window: ratelimit.DefaultWindow, MaxUnits: ratelimit.DefaultMaxUnits, MinInterval: ratelimit.DefaultMinInterval}
	zero, err := ratelimit.Config{}.Resolved()
	require.NoError(t, err)
	assert.Equal(t, ratelimit.Config{
		Up: def, Down: def, Global: ratelimit.Budget{Events: -1, MaxUnits: -1, MinInterval: -1},
		History: ratelimit.DefaultHistory, MaxSkew: ratelimit.DefaultMaxSkew,
	}, zero)
	explicit, err := ratelimit.Config{Up: def, Down: def, History: ratelimit.DefaultHistory, MaxSkew: ratelimit.DefaultMaxSkew}.Resolved()
	require.NoError(t, err)
	assert.Equal(t, zero, explicit)
	looser, err := ratelimit.Config{Down: ratelimit.Budget{Events: 10}}.Resolved()
	require.NoError(t, err)
	assert.NotEqual(t, zero, looser)

	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for _, c := range []ratelimit.Config{
		{},
		{Down: ratelimit.Budget{Events: -1, MaxUnits: -1, MinInterval: -1}, MaxSkew: -1},
		{Up: ratelimit.Budget{Events: 2, Window: 10 * time.Minute}, Global: ratelimit.Budget{Events: 3, Window: time.Hour},
			Targets: map[string]ratelimit.TargetBudgets{"web": {Up: ratelimit.Budget{MinInterval: time.Minute}}}, History: 2 * time.Hour},
	} {
		r, err := c.Resolved()
		require.NoError(t, err)
		again, err := r.Resolved()
		require.NoError(t, err)
		assert.Equal(t, r, again, "%+v", c)
		la, err := ratelimit.New(c)
		require.NoError(t, err)
		lb, err := ratelimit.New(r)
		require.NoError(t, err)
		for i := range 40 {
			at := now.Add(time.Duration(i) * 97 * time.Second)
			for _, req := range []ratelimit.Request{{Target: "web", Direction: ratelimit.Up, Units: 4}, {Target: "db", Direction: ratelimit.Down, Units: 1}} {
				ra, err := la.ReserveAt(t.Context(), at, req)
				require.NoError(t, err)
				rb, err := lb.ReserveAt(t.Context(), at, req)
				require.NoError(t, err)
				assert.Equal(t, [3]any{ra.Outcome, ra.Granted, ra.Next}, [3]any{rb.Outcome, rb.Granted, rb.Next}, "%+v at %s: %+v", c, at, req)
			}
		}
	}

	_, err = ratelimit.Config{Up: ratelimit.Budget{Window: -1}}.Resolved()
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "up.window", ie.Field)
}

// A Config without a skew rule (MaxSkew −1) resolves to −1, "none", not
// to a skew of a nanosecond or to the default.
func TestResolvedNoSkew(t *testing.T) {
	t.Parallel()
	r, err := ratelimit.Config{MaxSkew: -1}.Resolved()
	require.NoError(t, err)
	assert.Equal(t, time.Duration(-1), r.MaxSkew)
}

// TestResolvedGlobalWindowOfNoBudget: a global budget that sets no limit
// but a Window (events commented out of a YAML file, or -1) limits as no
// global budget at all, and Resolved says so, as its doc promises (the
// global budget's fields -1 and its Window 0 when it sets none): the
// replicas that compare Resolved (etcdstore.ConfigCheck) would report a
// mismatch between two Configs that limit alike. Nor does that window need
// a History to cover it.
func TestResolvedGlobalWindowOfNoBudget(t *testing.T) {
	t.Parallel()
	none, err := ratelimit.Config{}.Resolved()
	require.NoError(t, err)
	for _, g := range []ratelimit.Budget{
		{Window: 2 * time.Hour},
		{Events: -1, Window: 2 * time.Hour},
		{Events: -1, Window: 2 * time.Hour, MaxUnits: -1, MinInterval: -1},
	} {
		r, err := ratelimit.Config{Global: g}.Resolved()
		require.NoError(t, err)
		assert.Equal(t, none, r, "%+v", g)
		_, err = ratelimit.New(ratelimit.Config{Global: g, History: 90 * time.Minute})
		require.NoError(t, err, "a window of no budget needs no history: %+v", g)
	}
	set, err := ratelimit.Config{Global: ratelimit.Budget{Events: 3, Window: time.Hour}}.Resolved()
	require.NoError(t, err)
	assert.Equal(t, time.Hour, set.Global.Window, "a global budget keeps its window")
}

// TestResolvedGlobalWindowOfUnitsOnly: a global budget that limits only
// MaxUnits (a cap on each event, which no window counts) with a Window
// limits as the same budget without it: Resolved drops the window, as
// for a global budget of no limit, so that replicas configured alike
// publish one fingerprint, and New needs no History to cover it.
func TestResolvedGlobalWindowOfUnitsOnly(t *testing.T) {
	t.Parallel()
	without, err := ratelimit.Config{Global: ratelimit.Budget{Events: -1, MaxUnits: 5}}.Resolved()
	require.NoError(t, err)
	g := ratelimit.Budget{Events: -1, MaxUnits: 5, Window: 2 * time.Hour}
	with, err := ratelimit.Config{Global: g}.Resolved()
	require.NoError(t, err)
	assert.Equal(t, without, with, "a window no rule counts in")
	_, err = ratelimit.New(ratelimit.Config{Global: g, History: 90 * time.Minute})
	require.NoError(t, err, "a window no rule counts in needs no history")
	interval, err := ratelimit.Config{Global: ratelimit.Budget{Events: -1, MinInterval: time.Minute, Window: time.Hour}}.Resolved()
	require.NoError(t, err)
	assert.Equal(t, time.Hour, interval.Global.Window, "with MinInterval the window sets what the global bucket keeps")
}

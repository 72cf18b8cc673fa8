package ratelimit_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/ratelimit"
)

// TestWindowOfUnlimitedEventsNeedsNoHistory: an Up, Down or per-target
// budget with Events -1 counts nothing in its Window, so a Window longer
// than History limits nothing and is accepted; a Window an Events rule
// counts in (the budget's own or one inherited) must still be covered,
// since History prunes the events it would count.
func TestWindowOfUnlimitedEventsNeedsNoHistory(t *testing.T) {
	t.Parallel()
	long := ratelimit.Budget{Events: -1, Window: 48 * time.Hour}
	for name, cfg := range map[string]ratelimit.Config{
		"up":          {Up: long},
		"down":        {Down: long},
		"target up":   {Targets: map[string]ratelimit.TargetBudgets{"web": {Up: long}}},
		"target down": {Targets: map[string]ratelimit.TargetBudgets{"web": {Down: long}}},
		// A target that lifts the events of a long window set above it.
		"inherited window": {Up: ratelimit.Budget{Events: -1, Window: 48 * time.Hour}, Down: ratelimit.Budget{Events: -1, Window: 48 * time.Hour},
			Targets: map[string]ratelimit.TargetBudgets{"web": {Up: ratelimit.Budget{MaxUnits: 2}}}},
	} {
		require.NoError(t, cfg.Validate(), name)
		lim, err := ratelimit.New(cfg)
		require.NoError(t, err, "%s: a window no Events rule counts in needs no history", name)
		for _, d := range []ratelimit.Direction{ratelimit.Up, ratelimit.Down} {
			r, err := lim.ReserveAt(t.Context(), t0, ratelimit.Request{Target: "web", Direction: d, Units: 1})
			require.NoError(t, err, name)
			assert.True(t, r.OK(), "%s: %s", name, r)
		}
	}
	for name, cfg := range map[string]ratelimit.Config{
		"up":              {Up: ratelimit.Budget{Events: 3, Window: 48 * time.Hour}},
		"target inherits": {Up: long, Targets: map[string]ratelimit.TargetBudgets{"web": {Up: ratelimit.Budget{Events: 3}}}},
		"target down":     {Targets: map[string]ratelimit.TargetBudgets{"web": {Down: ratelimit.Budget{Window: 48 * time.Hour}}}},
	} {
		_, err := ratelimit.New(cfg)
		var inv *provider.InvalidError
		require.ErrorAs(t, err, &inv, "%s: a window of events History does not cover cannot be enforced", name)
		assert.Equal(t, "history", inv.Field, name)
	}
}

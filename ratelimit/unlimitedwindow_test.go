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

// TestWindowOfUnlimitedEventsNeedsNoRetention: a store that forgets a
// bucket some time after its last write (etcdstore's leases, 25h by
// default) must keep it as long as the budgets look back, and New
// compared its retention with the window of a budget with Events -1 too:
// a window that limits nothing was refused ('raise its lease or shorten
// the window') where History no longer needs to cover it. A window an
// Events rule counts in still needs the lease to cover it with MaxSkew.
func TestWindowOfUnlimitedEventsNeedsNoRetention(t *testing.T) {
	t.Parallel()
	store := retainingStore{MemoryStore: ratelimit.NewMemoryStore(), keep: 25 * time.Hour}
	_, err := ratelimit.New(ratelimit.Config{Up: ratelimit.Budget{Events: -1, Window: 48 * time.Hour}, History: 24 * time.Hour}, ratelimit.WithStore(store))
	require.NoError(t, err, "a window no Events rule counts in needs no lease to cover it")
	short := retainingStore{MemoryStore: ratelimit.NewMemoryStore(), keep: 24*time.Hour + 5*time.Minute}
	_, err = ratelimit.New(ratelimit.Config{Up: ratelimit.Budget{Events: -1, Window: 48 * time.Hour}}, ratelimit.WithStore(short))
	require.NoError(t, err, "the default history (24h) and interval are covered")
	_, err = ratelimit.New(ratelimit.Config{Up: ratelimit.Budget{Events: 3, Window: 24 * time.Hour}}, ratelimit.WithStore(short))
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv, "a window of 3 events and MaxSkew the lease does not cover")
	assert.Equal(t, "history", inv.Field)
}

// TestRetentionCoversEveryBucketThatLooksBack: the store's retention must
// cover, with MaxSkew, the MinInterval of a budget with Events -1 (an
// interval rule looks back even when no event is counted), and the Window
// of an Events rule in Down and in a target's budgets, not only in Up.
func TestRetentionCoversEveryBucketThatLooksBack(t *testing.T) {
	t.Parallel()
	day := ratelimit.Budget{Events: 3, Window: 24 * time.Hour}
	tests := []struct {
		name string
		give ratelimit.Config
	}{
		{name: "interval of unlimited events", give: ratelimit.Config{Up: ratelimit.Budget{Events: -1, MinInterval: 24 * time.Hour}}},
		{name: "down", give: ratelimit.Config{Down: day}},
		{name: "target up", give: ratelimit.Config{Targets: map[string]ratelimit.TargetBudgets{"web": {Up: day}}}},
		{name: "target down", give: ratelimit.Config{Targets: map[string]ratelimit.TargetBudgets{"web": {Down: day}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.NoError(t, tt.give.Validate())
			short := retainingStore{MemoryStore: ratelimit.NewMemoryStore(), keep: 24*time.Hour + time.Minute}
			_, err := ratelimit.New(tt.give, ratelimit.WithStore(short))
			var inv *provider.InvalidError
			require.ErrorAs(t, err, &inv, "24h with MaxSkew (15m) is not covered by a lease of 24h1m")
			assert.Equal(t, "history", inv.Field)
			enough := retainingStore{MemoryStore: ratelimit.NewMemoryStore(), keep: 24*time.Hour + ratelimit.DefaultMaxSkew}
			_, err = ratelimit.New(tt.give, ratelimit.WithStore(enough))
			require.NoError(t, err)
		})
	}
}

package reaper_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/reaper"
)

// With a fleet tag, the resources that lack it (or carry it empty) are
// share-limited as one fleet of their own: a host that configures a
// fleet tag asks for the share limit, and an instance whose tag was never
// set must not escape it. (They were each their own unlimited fleet, so
// only MaxActions bounded them: a run stopped all four.)
func TestUntaggedResourcesAreShareLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	ids := []string{"i-1", "i-2", "i-3", "i-4"}
	e.add(t, vm{id: "i-1", cpu: 0.02}, vm{id: "i-2", cpu: 0.02},
		vm{id: "i-3", cpu: 0.02, tags: map[string]string{"team": "x"}}, vm{id: "i-4", cpu: 0.02, tags: map[string]string{"fleet": ""}})
	rep, err := e.run(t.Context(), t, e.reaper(t, reaper.Config{Execute: true, FleetTag: "fleet"}), t0)
	require.NoError(t, err)
	stopped := 0
	for _, id := range ids {
		res, err := e.cloud.Get(t.Context(), id)
		require.NoError(t, err)
		rec := record(t, rep, id)
		if res.State == provider.StateRunning {
			assert.Equal(t, reaper.OutcomeBlocked, rec.Outcome, id)
			assert.Equal(t, []string{"limits"}, rec.BlockedBy, id)
			continue
		}
		stopped++
		assert.Equal(t, reaper.OutcomeActed, rec.Outcome, id)
	}
	assert.Equal(t, 2, stopped, "half of the four untagged instances per hour")
	n, err := e.history.ActedOn(t.Context(), "(untagged)", t0.Add(-time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 2, n, "recorded under the untagged fleet")

	dry, err := e.run(t.Context(), t, e.reaper(t, reaper.Config{FleetTag: "fleet"}), t0.Add(5*time.Minute))
	require.NoError(t, err)
	assert.Zero(t, dry.Totals.WouldAct, "a dry run sees the untagged fleet's share spent too")
}

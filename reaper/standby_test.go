package reaper_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/reaper"
)

// TestIdleStandbyNotStoppedWithoutApproval: a standby and a replica, idle
// by design, are idle to the detector and recommended a stop; the
// built-in safety rules' default critical roles include standby and
// replica, so neither is stopped without an approval (they were stopped
// like any idle machine, protected only by a dependency graph or a
// critical tag the host had to add).
func TestIdleStandbyNotStoppedWithoutApproval(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-standby", cpu: 0.02, role: "standby"}, vm{id: "i-replica", cpu: 0.02, role: "replica"}, vm{id: "i-web", cpu: 0.02, role: "web"})
	rep, err := e.run(t.Context(), t, e.reaper(t, reaper.Config{Execute: true}), t0)
	require.NoError(t, err)
	for _, id := range []string{"i-standby", "i-replica"} {
		rec := record(t, rep, id)
		require.NotNil(t, rec.Verdict)
		require.Equal(t, detector.ActionStop, rec.Verdict.Action, "%s: %v", id, rec.Verdict.Explain())
		assert.Equal(t, reaper.OutcomeNeedsApproval, rec.Outcome, "%s: %s", id, rec.Reason)
	}
	assert.Equal(t, reaper.OutcomeActed, record(t, rep, "i-web").Outcome, "the control")
	acts := e.actions()
	require.Len(t, acts, 1)
	assert.Equal(t, "i-web", acts[0].ResourceID)
}

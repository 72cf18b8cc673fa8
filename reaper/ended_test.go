package reaper_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/reaper"
)

// TestRunEndedLeavesTheRestDeferred: a run whose context ends (the host
// stopping) while it decides its first candidate does not report the
// candidates it never reached as failed: nothing of theirs failed (no
// inventory read, no gate, no provider call was made for them), and
// monitor.ReaperObserver would write a failure event for each, at every
// deploy that stops a run. They are deferred to the next run, with no
// error of their own; the run's error is the context's.
func TestRunEndedLeavesTheRestDeferred(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-1", cpu: 0.02}, vm{id: "i-2", cpu: 0.02}, vm{id: "i-3", cpu: 0.02}, vm{id: "i-busy", cpu: 0.9})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r, err := reaper.New(reaper.Config{Execute: true}, e.fleet(), e.ensemble, cancelGate{cancel}, reaper.WithClock(e.waitClock()))
	require.NoError(t, err)
	rep, err := e.run(ctx, t, r, t0)
	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, e.actions(), "nothing acted on once the run ended")
	first := record(t, rep, "i-1")
	assert.Equal(t, reaper.OutcomeFailed, first.Outcome, "the candidate in hand when the run ended: %s", first)
	for _, id := range []string{"i-2", "i-3"} {
		rec := record(t, rep, id)
		assert.Equal(t, reaper.OutcomeDeferred, rec.Outcome, rec.String())
		assert.Contains(t, rec.Reason, "the run ended")
		require.NoError(t, rec.Err())
		assert.Nil(t, rec.Decision, "the gate was not asked")
	}
	assert.Equal(t, reaper.OutcomeSkipped, record(t, rep, "i-busy").Outcome, "a resource that is no candidate is still judged")
	assert.Equal(t, 1, rep.Totals.Failed)
	assert.Equal(t, 2, rep.Totals.Deferred)
}

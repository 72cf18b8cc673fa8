package detector_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// TestReadErrorBlocksAction: a quiet instance is stopped; the same
// instance with a memory read at 90 % is not, and neither is it when its
// memory read failed (memory is not a required metric, so the verdict
// stays idle): the failed read could have shown it at work. An activity
// read that failed blocks the action too. (A review found both let the
// stop through.)
func TestReadErrorBlocksAction(t *testing.T) {
	t.Parallel()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	cpu := days(14, quiet)
	r := res("r", cpu.Start)
	quietV, err := ens.Detect(t.Context(), detector.Input{Now: tEnd, Resource: r, Series: []provider.Series{cpu}})
	require.NoError(t, err)
	require.Equal(t, detector.ActionStop, quietV.Action, "the baseline: %v", quietV.Explain())

	mem := cpu.Clone()
	mem.Metric = provider.MetricMemory
	for i := range mem.Values {
		mem.Values[i] = 0.9
	}
	busy, err := ens.Detect(t.Context(), detector.Input{Now: tEnd, Resource: r, Series: []provider.Series{cpu, mem}})
	require.NoError(t, err)
	assert.Equal(t, detector.ActionNone, busy.Action, "memory read busy")

	denied := errors.New("AccessDenied on CWAgent")
	failed, err := ens.Detect(t.Context(), detector.Input{Now: tEnd, Resource: r, Series: []provider.Series{cpu},
		MetricErrors: []detector.MetricError{{Metric: provider.MetricMemory, Err: denied}}})
	require.NoError(t, err)
	assert.Equal(t, detector.Idle, failed.State, "the verdict itself stands")
	assert.Equal(t, detector.ActionNone, failed.Action, "memory read failed: %v", failed.Explain())
	assert.Contains(t, failed.Explain(), "ensemble: reading memory failed (AccessDenied on CWAgent): no action, its data could show use")

	act, err := ens.Detect(t.Context(), detector.Input{Now: tEnd, Resource: r, Series: []provider.Series{cpu}, ActivityErr: denied})
	require.NoError(t, err)
	assert.Equal(t, detector.ActionNone, act.Action, "activity read failed: %v", act.Explain())
	assert.Contains(t, act.Explain(), "ensemble: reading activity failed (AccessDenied on CWAgent): no action, its data could show use")
	assert.Zero(t, act.MonthlySavings)
}

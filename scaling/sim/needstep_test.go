package sim_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/scaling/sim"
)

// TestRunRefusesANeedOfAnotherStep: any strategy whose need names a step
// other than the demand's is refused by name, as a Predictive is: the
// simulator can only give the demand at the trace's step, and a strategy
// reads the series as if at its own (a target value or threshold counts
// its window and the age of its last value in its own steps). A target
// value at the default 1m step on hourly demand took its last value as
// an hour old, stale, and its fitness fell from 0.7 to 0: the engine
// chose the other candidate (fitness 0.5) at every step where the
// Autoscaler, reading the metric at 1m, chooses it. At the demand's step
// it replays.
func TestRunRefusesANeedOfAnotherStep(t *testing.T) {
	t.Parallel()
	s, err := sim.New(handConfig())
	require.NoError(t, err)
	target := 0.6
	tv := func(step time.Duration) scaling.Strategy {
		v, err := scaling.NewTargetValue(scaling.TargetValueConfig{Metric: provider.MetricCPU, Target: &target, Step: step})
		require.NoError(t, err)
		return v
	}
	run := func(step time.Duration) (*sim.Report, error) {
		return s.Run(t.Context(), hand(), sim.Policy{Name: "p", Candidates: []scaling.Candidate{
			{Name: "other", Strategy: &fixed{desired: 1, fitness: 0.5}}, {Name: "tv", Strategy: tv(step)},
		}})
	}
	rep, err := run(0) // the default step, 1m
	var chosen map[string]int
	if rep != nil {
		r, _ := rep.Result("p")
		chosen = r.Chosen
	}
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv, "replayed, chosen %v", chosen)
	assert.Equal(t, "policies[0].candidates[1].needs[0].step", inv.Field)
	assert.Contains(t, err.Error(), "1h0m0s", "names the demand's step")

	rep, err = run(time.Hour)
	require.NoError(t, err)
	r, _ := rep.Result("p")
	assert.Equal(t, map[string]int{"other": 0, "tv": 5}, r.Chosen, "the fresher, fitter target value at every step")
}

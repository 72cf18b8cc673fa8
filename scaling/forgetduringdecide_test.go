package scaling_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/scaling"
)

// TestForgetDuringADecideLeavesNoStandingBehind: a target forgotten while
// a host's Decide of it runs (its strategies reading) is told nothing by
// that decision: it told it without data (or fallen back) after Forget
// had ended its standings, and with the target's state gone nothing ever
// told it recovered, so the scaling_no_data alert of a target that had
// left fired for good.
func TestForgetDuringADecideLeavesNoStandingBehind(t *testing.T) {
	t.Parallel()
	e, rec, target := observedEngine(t, scaling.EngineConfig{NoDataAfter: -1})
	forgetting := scaling.StrategyFunc(func(_ context.Context, s scaling.State) (scaling.Recommendation, error) {
		require.NoError(t, e.Forget(s.Target.ID), "no Autoscaler has it, no plan runs")
		return scaling.Recommendation{Capacity: s.Target.Capacity.CapacitySpec, Proposal: s.Target.Capacity.Desired, Reason: "no queue depth", NoData: true}, nil
	})
	_, err := e.Decide(t.Context(), scaling.State{Now: t0, Target: target}, []scaling.Candidate{{Name: "host", Strategy: forgetting}}, "")
	require.NoError(t, err)
	assert.Equal(t, rec.count(scaling.EventDataRecovered), rec.count(scaling.EventNoData), "every want of data told is ended: %v", rec.events)
	assert.Empty(t, e.History("web").Recommendations, "forgotten")

	// The target that comes back starts afresh, and is told as any.
	data := false
	_, err = e.Decide(t.Context(), scaling.State{Now: t0.Add(time.Minute), Target: target}, []scaling.Candidate{{Name: "a", Strategy: lacking{"a", &data}}}, "")
	require.NoError(t, err)
	assert.Equal(t, 1, rec.count(scaling.EventNoData))
}

// TestForgetDuringADecideToldNoForecastFallback: as
// TestForgetDuringADecideLeavesNoStandingBehind, for the forecast
// standing: a strategy that fell back from its forecast
// (InputForecastFallback 1) in a decision of a target forgotten as it ran
// tells no EventForecastFallback, which nothing would end.
func TestForgetDuringADecideToldNoForecastFallback(t *testing.T) {
	t.Parallel()
	e, rec, target := observedEngine(t, scaling.EngineConfig{NoDataAfter: -1})
	forgetting := scaling.StrategyFunc(func(_ context.Context, s scaling.State) (scaling.Recommendation, error) {
		require.NoError(t, e.Forget(s.Target.ID), "no Autoscaler has it, no plan runs")
		return scaling.Recommendation{Capacity: s.Target.Capacity.CapacitySpec, Proposal: s.Target.Capacity.Desired, Reason: "forecast fell back",
			Inputs: []scaling.Input{{Name: scaling.InputForecastFallback, Value: 1}}}, nil
	})
	_, err := e.Decide(t.Context(), scaling.State{Now: t0, Target: target}, []scaling.Candidate{{Name: "host", Strategy: forgetting}}, "")
	require.NoError(t, err)
	assert.Zero(t, rec.count(scaling.EventForecastFallback), "a forgotten target is told no fallback: %v", rec.events)
	assert.Equal(t, rec.count(scaling.EventForecastRecovered), rec.count(scaling.EventForecastFallback))
}

package scaling_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/scaling/hpa"
)

// TestStrategiesKeepTheirOwnConfig checks that a strategy decides by the
// configuration it validated: a caller's later change to what its config
// points at (a limit, a step, a scheduled value, an HPA metric) reaches
// no decision. Before, TargetValue read MaxScaleUp through the caller's
// pointer (a limit set to −5 afterwards turned a scale up from 10 into
// one to 5), Step its steps, Scheduled its values and HPA the metrics of
// the calculators it makes later.
func TestStrategiesKeepTheirOwnConfig(t *testing.T) {
	t.Parallel()
	t.Run("target value", func(t *testing.T) {
		t.Parallel()
		up := 2
		s, err := scaling.NewTargetValue(scaling.TargetValueConfig{Metric: provider.MetricCPU, Target: fp(0.5), MaxScaleUp: &up})
		require.NoError(t, err)
		up = -5
		rec, err := s.Recommend(t.Context(), stateWith(group(10, 1, 50), series(provider.MetricCPU, t0, time.Minute, 1)))
		require.NoError(t, err)
		assert.Equal(t, 12, rec.Capacity.Desired, rec.Reason)
	})
	t.Run("step", func(t *testing.T) {
		t.Parallel()
		cfg := scaling.StepConfig{Policies: []scaling.StepPolicy{{Threshold: 0.5, Comparison: scaling.Greater, AdjustmentType: scaling.ChangeInCapacity,
			Steps: []scaling.StepAdjustment{{LowerBound: fp(0), Adjustment: 1}}}}}
		s, err := scaling.NewStep(cfg)
		require.NoError(t, err)
		cfg.Policies[0].Steps[0].Adjustment = 30
		rec, err := s.Recommend(t.Context(), stateWith(group(10, 1, 50), series(provider.MetricCPU, t0, time.Minute, 0.9)))
		require.NoError(t, err)
		assert.Equal(t, 11, rec.Capacity.Desired, rec.Reason)
	})
	t.Run("scheduled", func(t *testing.T) {
		t.Parallel()
		desired := 3
		s, err := scaling.NewScheduled(scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{{Name: "noon", Schedule: "0 12 * * *", Desired: &desired}}})
		require.NoError(t, err)
		desired = 40
		rec, err := s.Recommend(t.Context(), scaling.State{Now: t0, Target: group(5, 0, 50)})
		require.NoError(t, err)
		assert.Equal(t, 3, rec.Capacity.Desired, rec.Reason)
	})
	t.Run("hpa", func(t *testing.T) {
		// Not parallel: it empties the strategy's pool of working spaces
		// with two collections, so that Recommend makes a calculator.
		cfg := scaling.HPAConfig{Metrics: []hpa.MetricSpec{cpuUtilization(60)}}
		s, err := scaling.NewHPA(cfg, "")
		require.NoError(t, err)
		cfg.Metrics[0].Resource.Target.AverageUtilization = 0 // invalid, and not validated
		runtime.GC()
		runtime.GC()
		rec, err := s.Recommend(t.Context(), stateWith(group(3, 1, 10), series(provider.MetricCPU, t0, time.Minute, 0.9)))
		require.NoError(t, err)
		assert.Equal(t, 5, rec.Capacity.Desired, rec.Reason)
	})
}

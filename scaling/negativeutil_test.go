package scaling_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
)

// TestStrategiesRefuseANegativeUtilization: a utilization (cpu, memory:
// a fraction of what the instances have) below zero is a provider's
// garbage, not a load: the strategies that read the latest values refuse
// it with an error naming the metric and the step, where they read it as
// an idle group and scaled it in (the threshold halved it, the target
// value took it to its min, the HPA proposed its minimum). A custom
// metric may be negative (a balance, a temperature) and is read.
func TestStrategiesRefuseANegativeUtilization(t *testing.T) {
	t.Parallel()
	threshold, targetValue, hpaS, step := cpuStrategies(t)
	cpu := series(provider.MetricCPU, t0, time.Minute, 0.5, -0.4)
	for _, tt := range []struct {
		name string
		give scaling.Strategy
	}{
		{"threshold", threshold},
		{"target value", targetValue},
		{"hpa", hpaS},
		{"step", step},
	} {
		rec, err := tt.give.Recommend(t.Context(), stateWith(group(4, 1, 100), cpu))
		require.ErrorIs(t, err, provider.ErrInvalid, "%s: %s (proposal %d)", tt.name, rec.Reason, rec.Proposal)
		assert.Contains(t, err.Error(), "metrics.cpu[", tt.name)
		assert.Contains(t, err.Error(), "-0.4", tt.name)
	}

	custom := provider.Metric("custom/balance")
	low, err := scaling.NewStep(scaling.StepConfig{Metric: custom, Policies: []scaling.StepPolicy{{Threshold: -1, Comparison: scaling.Less,
		AdjustmentType: scaling.ChangeInCapacity, Steps: []scaling.StepAdjustment{{UpperBound: fp(0), Adjustment: 2}}}}})
	require.NoError(t, err)
	rec, err := low.Recommend(t.Context(), stateWith(group(4, 1, 100), series(custom, t0, time.Minute, -3, -3)))
	require.NoError(t, err, "a custom metric may be negative")
	assert.Equal(t, 6, rec.Proposal, rec.Reason)
}

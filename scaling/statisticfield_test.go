package scaling_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
)

// TestInvalidStatisticIsNamedOnce: a statistic no source knows is an
// error naming the field "statistic", where the configuration has it,
// not "statistic.statistic" (provider.Statistic.Validate names it
// already, and each config wrapped it again).
func TestInvalidStatisticIsNamedOnce(t *testing.T) {
	t.Parallel()
	const bad = provider.Statistic("p200")
	for name, err := range map[string]error{
		"Need":              scaling.Need{Metric: provider.MetricCPU, Lookback: time.Hour, Step: time.Minute, Statistic: bad}.Validate(),
		"Signal":            scaling.Signal{Metric: provider.MetricCPU, Statistic: bad}.Validate(),
		"StepConfig":        scaling.StepConfig{Statistic: bad}.Validate(),
		"TargetValueConfig": scaling.TargetValueConfig{Metric: provider.MetricCPU, Target: new(0.5), Statistic: bad}.Validate(),
		"ThresholdConfig":   scaling.ThresholdConfig{Statistic: bad}.Validate(),
		"PredictiveConfig":  scaling.PredictiveConfig{Statistic: bad}.Validate(),
	} {
		var inv *provider.InvalidError
		require.ErrorAs(t, err, &inv, name)
		assert.Equal(t, "statistic", inv.Field, name)
		assert.Equal(t, string(bad), inv.Value, name)
	}
}

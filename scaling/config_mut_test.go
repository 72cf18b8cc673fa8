package scaling_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
)

// TestConfigDefaults pins the policy's defaults: a 15 s interval (the
// HPA's sync period), plans older than 15 minutes not resumed, a target's
// bounds [1, 10] when unset, and a max that must be set when min is above
// 10.
func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	assert.Equal(t, 15*time.Second, scaling.DefaultInterval)
	assert.Equal(t, 15*time.Minute, scaling.DefaultPlanTTL)
	assert.Equal(t, 1, scaling.DefaultMin)
	assert.Equal(t, 10, scaling.DefaultMax)
	c, err := memory.New(memory.Config{})
	require.NoError(t, err)
	e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c}, allowAll{})
	require.NoError(t, err)
	threshold := []scaling.StrategySpec{{Type: scaling.StrategyThreshold}}
	a, err := scaling.NewAutoscaler(scaling.Config{Targets: []scaling.TargetConfig{{ID: "web", Strategies: threshold}}}, e, scaling.Fleet{Inventory: c, Metrics: c})
	require.NoError(t, err)
	got := a.Config()
	assert.Equal(t, scaling.DefaultInterval, got.Interval)
	assert.Equal(t, scaling.DefaultPlanTTL, got.PlanTTL)
	assert.Equal(t, 8, got.Concurrency)

	for _, tc := range []struct {
		name string
		min  *int
		max  int
		err  string // the field, "" when valid
	}{
		{"unset", nil, 0, ""},
		{"min at the default max", ip(10), 0, ""},
		{"min above the default max, max unset", ip(11), 0, "max"},
		{"min above the default max, max set", ip(11), 12, ""},
		{"max below min", ip(5), 4, "max"},
		{"max at min", ip(5), 5, ""},
		{"negative min", ip(-1), 4, "min"},
		{"zero min", ip(0), 4, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := scaling.Config{Targets: []scaling.TargetConfig{{ID: "web", Min: tc.min, Max: tc.max, Strategies: threshold}}}.Validate()
			if tc.err == "" {
				require.NoError(t, err)
				return
			}
			var inv *provider.InvalidError
			require.ErrorAs(t, err, &inv)
			assert.Equal(t, "targets[0]."+tc.err, inv.Field)
		})
	}
	err = scaling.Config{Targets: []scaling.TargetConfig{{ID: "web", Strategies: []scaling.StrategySpec{{Type: scaling.StrategyCustom}}}}}.Validate()
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "targets[0].strategies[0].name", inv.Field, "a custom strategy needs its registered name")
}

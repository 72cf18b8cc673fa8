package scaling_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
)

// TestExecuteRefusesAnInvalidMonitoringPlan: a host that plans with
// Engine.Plan passes its own VerifyConfig, which nothing validated. A
// monitoring plan that would verify less than it says is refused by
// Execute (provider.ErrInvalid naming the field) before anything is
// written: a negative Window skipped every signal, so a scale in that
// overloads the group (CPU 0.95) completed; a negative Timeout failed
// every step after writing it; a signal without Max or Min was healthy
// whatever its value.
func TestExecuteRefusesAnInvalidMonitoringPlan(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		verify scaling.VerifyConfig
		field  string
	}{
		{"negative window", scaling.VerifyConfig{Window: -time.Minute}, "monitoring.window"},
		{"negative timeout", scaling.VerifyConfig{Timeout: -time.Minute}, "monitoring.timeout"},
		{"signal without a range", scaling.VerifyConfig{Signals: []scaling.Signal{{Metric: provider.MetricCPU}}}, "monitoring.signals[0].max"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCloud(t, 4, memory.Config{})
				setCPU(t, c, "web", 0.95)
				e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t))
				require.NoError(t, err)
				x, err := e.Execute(t.Context(), e.Plan(decide(t, e, c, 3), scaling.PlanOptions{Verify: tc.verify}))
				require.ErrorIs(t, err, provider.ErrInvalid)
				assert.Contains(t, err.Error(), tc.field)
				assert.NotEqual(t, scaling.PlanCompleted, x.Status)
				assert.Empty(t, setCapacityOps(c), "nothing written")
			})
		})
	}
}

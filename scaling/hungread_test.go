package scaling_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
)

// TestHungReadIsCutOff: a read that hangs while a step is verified (the
// group's capacity as it settles, or a signal's metric) is cut off after
// the monitoring plan's Timeout: the step is not verified and is rolled
// back, and the plan ends long before its context. The read held the
// plan, and its target, until the context ended (here 100 hours; under
// Run, until the process stopped), the step neither verified nor rolled
// back.
func TestHungReadIsCutOff(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		op      memory.Op
		desired int
	}{
		{"capacity", memory.OpCapacity, 6},  // its second read: the first is before the step
		{"metric", memory.OpQueryMetric, 3}, // a scale in's CPU signal
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCloud(t, 4, memory.Config{})
				e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t))
				require.NoError(t, err)
				p := e.Plan(decide(t, e, c, tc.desired), scaling.PlanOptions{})
				require.Len(t, p.Steps, 1)
				nth := 1
				if tc.op == memory.OpCapacity {
					nth = 2
				}
				_, err = c.InjectFault(memory.Fault{Op: tc.op, Latency: 1000 * time.Hour, Nth: nth})
				require.NoError(t, err)
				ctx, cancel := context.WithTimeout(t.Context(), 100*time.Hour)
				defer cancel()
				start := time.Now()
				x, err := e.Execute(ctx, p)
				require.ErrorIs(t, err, scaling.ErrNotVerified)
				assert.Equal(t, scaling.PlanRolledBack, x.Status, x.Reason)
				assert.LessOrEqual(t, time.Since(start), 2*p.Monitoring.Timeout+p.Monitoring.Window, "cut off, not waited for")
				capa, err := c.Capacity(t.Context(), "web")
				require.NoError(t, err)
				assert.Equal(t, 4, capa.Desired)
			})
		})
	}
}

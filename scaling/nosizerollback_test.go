package scaling_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
)

// TestRollbackToNoSizeFails: a resource planned from no size (a pod
// without requests, given its first) whose resize is not verified cannot
// be resized back to no size: the rollback fails (ErrRollback, status
// failed, the cause kept) and the new size stays. The rollback took a
// size matching the empty From for one back where it started and
// reported the plan rolled back, the resize still in place.
func TestRollbackToNoSizeFails(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, err := memory.New(memory.Config{})
		require.NoError(t, err)
		require.NoError(t, c.Add(provider.Resource{ID: "pod", Kind: provider.KindInstance}))
		setCPU(t, c, "pod", 0.5)
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Resizer: c, Inventory: c, Metrics: c}, allowAll{})
		require.NoError(t, err)
		res, err := c.Get(t.Context(), "pod")
		require.NoError(t, err)
		require.True(t, res.Size.IsZero())
		to := provider.Size{VCPU: 0.5, MemoryMiB: 256}
		d, err := e.Decide(t.Context(), scaling.State{Now: time.Now(), Target: scaling.Target{ID: "pod", Resource: res}},
			[]scaling.Candidate{{Name: "fixed", Strategy: scaling.StrategyFunc(func(context.Context, scaling.State) (scaling.Recommendation, error) {
				return scaling.Recommendation{Size: to, Reason: "first requests", Fitness: 1}, nil
			})}}, "")
		require.NoError(t, err)
		p := e.Plan(d, scaling.PlanOptions{Verify: scaling.VerifyConfig{Window: time.Minute,
			Signals: []scaling.Signal{{Metric: provider.MetricCPU, Max: fp(0.1)}}}}) // unhealthy at 0.5
		x, err := e.Execute(t.Context(), p)
		require.ErrorIs(t, err, scaling.ErrRollback)
		require.ErrorIs(t, err, scaling.ErrNotVerified, "the cause is kept")
		assert.Equal(t, scaling.PlanFailed, x.Status, x.Reason)
		assert.Contains(t, x.Reason, "no size")
		assert.Empty(t, x.Rollback, "no resize back was made")
		got, err := c.Get(t.Context(), "pod")
		require.NoError(t, err)
		assert.Equal(t, to, got.Size, "the new size stays")
	})
}

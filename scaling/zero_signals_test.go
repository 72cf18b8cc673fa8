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

// TestScaleInToZeroVerifiesWithoutInstancesToReport: a group's metric is
// reported by its instances (CloudWatch's CPUUtilization of an Auto
// Scaling group, metrics.k8s.io for a workload's pods): at zero instances
// it has no data. A step to zero is verified without it, as the instances
// it would watch are gone; read as unknown (not healthy), it failed
// verification and was rolled back, so that no group could be scaled in
// to zero through the engine on a real backend, pass after pass.
func TestScaleInToZeroVerifiesWithoutInstancesToReport(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, err := memory.New(memory.Config{})
		require.NoError(t, err)
		require.NoError(t, c.AddGroup(provider.Resource{ID: "web", Kind: provider.KindGroup}, provider.CapacitySpec{Min: 0, Max: 50, Desired: 1}))
		// Its one instance reported an idle CPU for the last hour; after
		// the scale in nothing reports.
		now := time.Now()
		vals := make([]float64, 60)
		for i := range vals {
			vals[i] = 0.01
		}
		require.NoError(t, c.SetSeries(provider.Series{ResourceID: "web", Metric: provider.MetricCPU, Start: now.Add(-time.Hour), Step: time.Minute, Values: vals}))
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t))
		require.NoError(t, err)
		p := e.Plan(decide(t, e, c, 0), scaling.PlanOptions{})
		require.NotEmpty(t, p.Monitoring.Signals, "a scale in watches the default CPU signal")
		x, err := e.Execute(t.Context(), p)
		require.NoError(t, err)
		assert.Equal(t, scaling.PlanCompleted, x.Status, x.Reason)
		capa, err := c.Capacity(t.Context(), "web")
		require.NoError(t, err)
		assert.Equal(t, 0, capa.Desired)

		// A step that leaves instances still needs their data: a group of
		// 3 whose instances stopped reporting is not verified at 2.
		require.NoError(t, c.AddGroup(provider.Resource{ID: "api", Kind: provider.KindGroup}, provider.CapacitySpec{Min: 0, Max: 50, Desired: 3}))
		require.NoError(t, c.SetSeries(provider.Series{ResourceID: "api", Metric: provider.MetricCPU, Start: now.Add(-time.Hour), Step: time.Minute, Values: vals}))
		res, err := c.Get(t.Context(), "api")
		require.NoError(t, err)
		capa, err = c.Capacity(t.Context(), "api")
		require.NoError(t, err)
		d, err := e.Decide(t.Context(), scaling.State{Now: time.Now(), Target: scaling.Target{ID: "api", Resource: res, Capacity: capa, Max: 50}},
			[]scaling.Candidate{{Name: "fixed", Strategy: fixedStrategy(2, 1)}}, "")
		require.NoError(t, err)
		x, err = e.Execute(t.Context(), e.Plan(d, scaling.PlanOptions{}))
		require.ErrorIs(t, err, scaling.ErrNotVerified)
		assert.Equal(t, scaling.PlanRolledBack, x.Status)
	})
}

package scaling_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
)

// TestVerticalNonFiniteVCPUIsAnError: an instance whose type is not in
// the catalogue and whose reported vCPUs are NaN (a driver's bad read)
// needed "NaN vCPU", which every type's vCPUs pass, so a 90 % busy
// instance was resized to the cheapest type holding its memory at
// fitness 0.9; a non-finite vCPU count is now an error naming
// target.resource.size.vcpu, and nothing is recommended.
func TestVerticalNonFiniteVCPUIsAnError(t *testing.T) {
	t.Parallel()
	s, err := scaling.NewVertical(scaling.VerticalConfig{InstanceTypes: catalogue(), Lookback: time.Hour, Step: 5 * time.Minute})
	require.NoError(t, err)
	flat := func(m provider.Metric, v float64) provider.Series { return flatSeries(m, 5*time.Minute, 12, v) }
	for _, vcpu := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		inst := scaling.Target{ID: "db", Resource: provider.Resource{ID: "i-1", Kind: provider.KindInstance,
			Size: provider.Size{InstanceType: "x9.8xlarge", VCPU: vcpu, MemoryMiB: 4096}}}
		rec, err := s.Recommend(t.Context(), stateWith(inst, flat(provider.MetricCPU, 0.9), flat(provider.MetricMemory, 0.5)))
		var inv *provider.InvalidError
		require.ErrorAs(t, err, &inv, "vcpu %g: recommended %s (%s)", vcpu, rec.Size, rec.Reason)
		assert.Equal(t, "target.resource.size.vcpu", inv.Field)
		assert.True(t, rec.Size.IsZero())
	}
}

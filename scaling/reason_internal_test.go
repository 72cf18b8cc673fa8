package scaling

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/idlescale/idlescale/scaling/hpa"
)

// TestReasonsAsSprintf checks that the reasons built without fmt read
// exactly as the fmt.Sprintf they replace.
func TestReasonsAsSprintf(t *testing.T) {
	t.Parallel()
	floats := []float64{0, 1, -1, 0.5, 1.0000015, 2.4, 1.0 / 3, 123456.789, 1e-7, 1e21, -0.047619, math.MaxFloat64, math.SmallestNonzeroFloat64, math.Inf(1), math.NaN()}
	for _, f := range floats {
		for _, th := range []float64{0.01, 0, 0.1, 1e-7, 0.25, 3} {
			assert.Equal(t, fmt.Sprintf("factor %f within the threshold %g of the target", f, th), targetValueReason(0, f, th))
		}
		assert.Equal(t, fmt.Sprintf("scaling %s because factor is %f", "up", f), targetValueReason(1, f, 0.01))
		assert.Equal(t, fmt.Sprintf("scaling %s because factor is %f", "down", f), targetValueReason(-1, f, 0.01))
	}
	for _, d := range []hpa.Decision{
		{},
		{Rescale: true, Reason: "cpu resource utilization (percentage of request) above target", Replicas: 7, AbleToScale: "SucceededRescale", ScalingLimited: "DesiredWithinRange"},
		{Rescale: true, Reason: hpa.RescaleAboveMax, Replicas: math.MaxInt32, AbleToScale: "ScaleUpLimit"},
		{Proposal: -1, Stabilized: 300, ScalingActive: "ValidMetricFound", AbleToScale: "ScaleDownStabilized", ScalingLimited: "DesiredWithinRange"},
		{Proposal: 1 << 30, Stabilized: math.MinInt32, ScalingActive: "FailedGetResourceMetric"},
	} {
		for _, current := range []int{0, 3, 1000, -5} {
			want := fmt.Sprintf("no rescale: proposal %d, stabilized %d (%s, %s, %s)", d.Proposal, d.Stabilized, d.ScalingActive, d.AbleToScale, d.ScalingLimited)
			if d.Rescale {
				want = fmt.Sprintf("%s: %d → %d (%s, %s)", d.Reason, current, d.Replicas, d.AbleToScale, d.ScalingLimited)
			}
			assert.Equal(t, want, hpaReason(d, current))
		}
	}
}

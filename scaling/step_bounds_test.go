package scaling_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/idlescale/idlescale/scaling"
)

// TestStepConfigInt32Limits: an adjustment or a magnitude at the ends of
// an int32 (EC2 Auto Scaling's type) is valid; only beyond them is one
// refused (TestStepConfigErrors).
func TestStepConfigInt32Limits(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]scaling.StepConfig{
		"adjustment of MaxInt32": {Policies: []scaling.StepPolicy{{Threshold: 1, Comparison: scaling.Greater, AdjustmentType: scaling.ChangeInCapacity,
			Steps: []scaling.StepAdjustment{{LowerBound: fp(0), Adjustment: math.MaxInt32}}}}},
		"adjustment of MinInt32": {Policies: []scaling.StepPolicy{{Threshold: 1, Comparison: scaling.Less, AdjustmentType: scaling.ChangeInCapacity,
			Steps: []scaling.StepAdjustment{{UpperBound: fp(0), Adjustment: math.MinInt32}}}}},
		"magnitude of MaxInt32": {Policies: []scaling.StepPolicy{{Threshold: 1, Comparison: scaling.Greater, AdjustmentType: scaling.PercentChangeInCapacity,
			MinAdjustmentMagnitude: math.MaxInt32, Steps: []scaling.StepAdjustment{{LowerBound: fp(0), Adjustment: 10}}}}},
	} {
		assert.NoError(t, c.Validate(), name)
	}
}

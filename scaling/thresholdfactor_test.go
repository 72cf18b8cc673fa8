package scaling_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
)

// TestThresholdHugeUpFactorScalesUp checks that a scale up by a factor
// Validate accepts (any finite number > 1) whose product leaves the int
// range goes to the group's Max. Before, Go's conversion of the
// out-of-range product gave math.MinInt64 on amd64, which the group's
// bounds clamped to its Min: CPU above the threshold scaled the group in
// to its minimum.
func TestThresholdHugeUpFactorScalesUp(t *testing.T) {
	t.Parallel()
	s, err := scaling.NewThreshold(scaling.ThresholdConfig{UpFactor: 1e20})
	require.NoError(t, err)
	g := group(4, 1, 50)
	g.Capacity.Min = 2
	rec, err := s.Recommend(t.Context(), stateWith(g, series(provider.MetricCPU, t0, time.Minute, 0.95)))
	require.NoError(t, err)
	assert.Equal(t, 100, rec.Capacity.Desired, rec.Reason)
}

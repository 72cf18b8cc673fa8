package scaling_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/scaling"
)

// TestPredictiveStaleDemandKeepsTheCapacity: a demand metric no longer
// published (an agent down, a load balancer's metrics gone) ends the
// usable history after a gap longer than the gap policy allows, and the
// predictive strategy falls back to the reactive capacity of the last
// demand known, however old: eight hours into such a gap it took a group
// of 30 to 9 instances on the demand of the night before, with fitness
// 0, the "no opinion" the engine still carries out when the strategy is
// pinned or alone (as the threshold, target-value and step strategies
// did until 7461e52). A last demand whose step ended five steps or more
// before now is no demand to size for: the capacity is kept, with the
// reason. Four steps into the gap it still sizes from it.
func TestPredictiveStaleDemandKeepsTheCapacity(t *testing.T) {
	t.Parallel()
	y := seasonal(20*24, 1)
	n := len(y)
	for i := n - 8; i < n; i++ {
		y[i] = math.NaN()
	}
	last := y[n-9]
	reactive := int(math.Ceil(last / 50))
	require.NotEqual(t, 30, reactive)

	// Read afresh, and stepped through the gap from before it.
	fresh, err := scaling.NewPredictive(hourlyConfig())
	require.NoError(t, err)
	stepped, err := scaling.NewPredictive(hourlyConfig())
	require.NoError(t, err)
	for k := n - 12; k <= n; k++ {
		rec, err := stepped.Recommend(t.Context(), stateAt(y, k, 30))
		require.NoError(t, err)
		if k == n-4 { // four steps into the gap, 4h after the last demand's step ended
			assert.Equal(t, reactive, rec.Capacity.Desired, rec.Reason)
		}
		if k >= n-3 { // five steps or more
			assert.Equal(t, 30, rec.Capacity.Desired, "%d steps into the gap: %s", k-(n-8), rec.Reason)
			assert.Contains(t, rec.Reason, "no recent requests data", k-(n-8))
		}
	}
	rec, err := fresh.Recommend(t.Context(), stateAt(y, n, 30))
	require.NoError(t, err)
	assert.Equal(t, 30, rec.Capacity.Desired, rec.Reason)
	assert.Zero(t, rec.Fitness)
}

package scaling_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/scaling"
)

// A series that ends with a short gap, read afresh (a first decision, or
// after a restart), is sized from the last demand before the gap; a gap
// is never read as zero demand. It was: the reactive capacity was
// ⌈0 / 50⌉ = 0, a scale in of the whole group on a missing sample. A
// series of nothing but gaps keeps the capacity.
func TestPredictiveTrailingGapIsNotZeroDemand(t *testing.T) {
	t.Parallel()
	p, err := scaling.NewPredictive(hourlyConfig())
	require.NoError(t, err)
	y := seasonal(10*24, 1)
	y[len(y)-1] = math.NaN()
	rec, err := p.Recommend(t.Context(), stateAt(y, len(y), 30))
	require.NoError(t, err)
	want := int(math.Ceil(y[len(y)-2] / 50))
	assert.Equal(t, want, rec.Capacity.Desired, "the reactive capacity of the last demand before the gap")
	assert.InDelta(t, y[len(y)-2], inputValue(t, rec, "requests"), 0)

	q, err := scaling.NewPredictive(hourlyConfig())
	require.NoError(t, err)
	for i := range y {
		y[i] = math.NaN()
	}
	rec, err = q.Recommend(t.Context(), stateAt(y, len(y), 30))
	require.NoError(t, err)
	assert.Equal(t, 30, rec.Capacity.Desired, "no demand known: the capacity is kept")
	assert.Contains(t, rec.Reason, "no requests data")
}

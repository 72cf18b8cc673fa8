package scaling_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/scaling"
)

// A series that starts with a gap longer than the gap policy allows (a
// metric that began to exist inside the lookback, padded with gaps) has
// its usable history start after the gap, as a long gap inside it does:
// the missing days are not history. They were counted: five days of gaps
// and ten of data made fifteen days of "usable history", and the strategy
// forecast from ten days of data where it needs fourteen.
func TestPredictiveLeadingGapIsNotHistory(t *testing.T) {
	t.Parallel()
	p, err := scaling.NewPredictive(hourlyConfig()) // MinHistory 14 days
	require.NoError(t, err)
	y := seasonal(15*24, 6)
	for k := range 5 * 24 {
		y[k] = math.NaN()
	}
	rec, err := p.Recommend(t.Context(), stateAt(y, len(y), 20))
	require.NoError(t, err)
	st, ok := p.Status("web")
	require.True(t, ok)
	assert.Equal(t, scaling.StandingShortHistory, st.Standing, rec.Reason)
	assert.Equal(t, 10*24*time.Hour, st.History)
	assert.Contains(t, rec.Reason, "after a gap")
	assert.Equal(t, int(math.Ceil(y[len(y)-1]/50)), rec.Capacity.Desired, "the reactive capacity")
}

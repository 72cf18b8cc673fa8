package scaling_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/scaling"
)

// A host that decides less often than every fourth step (a quarter of
// the error window's steps is then never scored within it) still gets a
// rolling error, once a quarter of the window has passed since its first
// scored step and at least four steps were scored: the error was unknown
// for good, so the strategy never fell back, however wrong its forecast
// (a day upside down, decisions every sixth hourly step).
func TestPredictiveSparseDecisionsStillFallBack(t *testing.T) {
	t.Parallel()
	cfg := hourlyConfig()
	cfg.ErrorWindow = 24 * time.Hour
	p, err := scaling.NewPredictive(cfg)
	require.NoError(t, err)
	y := seasonal(18*24, 4)
	from := 15 * 24
	for k := from; k < from+30; k++ {
		y[k] = 2000 - y[k] // a day and more upside down
	}
	cur := 20
	fell := false
	var last scaling.Recommendation
	for k := from - 48; k <= from+30; k += 6 { // a decision every sixth step
		rec, err := p.Recommend(t.Context(), stateAt(y, k, cur))
		require.NoError(t, err)
		cur = rec.Capacity.Desired
		fell = fell || inputValue(t, rec, scaling.InputForecastFallback) == 1
		last = rec
	}
	assert.Greater(t, inputValue(t, last, scaling.InputForecastMASE), 0.0, "the rolling error is known: %s", last.Reason)
	assert.True(t, fell, "it falls back on the day upside down")
}

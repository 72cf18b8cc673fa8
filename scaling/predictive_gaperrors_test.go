package scaling_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/scaling"
)

// A long gap restarts the usable history, and with it the rolling error:
// the model fitted after it is judged by its own forecasts, not by the
// errors of the model the gap ended. Those were kept, so a strategy that
// had fallen back before an outage fell back again with the new model's
// first forecast, on errors two weeks old.
func TestPredictiveLongGapRestartsTheRollingError(t *testing.T) {
	t.Parallel()
	cfg := hourlyConfig() // MinHistory 14 days
	cfg.ErrorWindow = 12 * time.Hour
	p, err := scaling.NewPredictive(cfg)
	require.NoError(t, err)
	y := seasonal(31*24, 4)
	bad := 15 * 24
	for k := bad; k < bad+24; k++ {
		y[k] = 2000 - y[k] // a day upside down: it falls back
	}
	gap := bad + 24
	for k := gap; k < gap+5; k++ {
		y[k] = math.NaN() // longer than the 3 steps interpolated
	}
	_, recs := walk(t, p, y[:gap], bad, 20)
	require.InDelta(t, 1, inputValue(t, recs[len(recs)-1], scaling.InputForecastFallback), 0, "fallen back before the gap")

	first := gap + 5 + 14*24 // the first decision with 14 days after the gap
	_, recs = walk(t, p, y[:first+1], gap, 20)
	last := recs[len(recs)-1]
	st, ok := p.Status("web")
	require.True(t, ok)
	assert.Equal(t, scaling.StandingForecast, st.Standing, last.Reason)
	assert.InDelta(t, 0, inputValue(t, last, scaling.InputForecastFallback), 0)
}

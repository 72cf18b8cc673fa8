package scaling_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/scaling"
)

// A predictive strategy that fell back to the reactive capacity while its
// forecast was wrong sizes from its forecast again once the forecast is
// good again (EventForecastRecovered's "sizes from its forecast again").
// It never did: in fallback it stopped recording its forecasts, so its
// rolling error kept the bad day's errors for good and it stayed reactive
// through a week of demand it forecast well.
func TestPredictiveRecoversFromAFallback(t *testing.T) {
	t.Parallel()
	cfg := hourlyConfig()
	cfg.ErrorWindow = 12 * time.Hour
	p, err := scaling.NewPredictive(cfg)
	require.NoError(t, err)
	y := seasonal(20*24, 4)
	from := 15 * 24
	for k := from; k < from+24; k++ {
		y[k] = 2000 - y[k] // one day upside down
	}
	_, recs := walk(t, p, y, from, 20)
	fell := -1
	for i, r := range recs {
		if inputValue(t, r, scaling.InputForecastFallback) == 1 {
			fell = i
			break
		}
	}
	require.GreaterOrEqual(t, fell, 0, "it falls back on the bad day")
	require.Less(t, fell, 24)
	last := recs[len(recs)-1]
	assert.InDelta(t, 0, inputValue(t, last, scaling.InputForecastFallback), 0, "four good days later it forecasts again: %s", last.Reason)
	assert.Less(t, inputValue(t, last, scaling.InputForecastMASE), 1.0)
	assert.GreaterOrEqual(t, last.Fitness, 0.9)
	st, ok := p.Status("web")
	require.True(t, ok)
	assert.Equal(t, scaling.StandingForecast, st.Standing)
}

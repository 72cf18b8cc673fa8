package scaling_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/scaling"
)

// The rolling forecast error is over the last ErrorWindow of time, as
// PredictiveConfig.ErrorWindow, the Predictive doc and the fallback's
// reason ("over the last 12h0m0s") say, however often the host asks. It
// was over the last ErrorWindow/Step scored steps: a host deciding every
// third step scored a third of them, so the "last 12 h" reached back 36 h,
// and a whole day of forecasts upside down never made the strategy fall
// back (MASE 0.81 at its end: its good day before still counted).
func TestPredictiveErrorWindowIsTime(t *testing.T) {
	t.Parallel()
	cfg := hourlyConfig()
	cfg.ErrorWindow = 12 * time.Hour
	p, err := scaling.NewPredictive(cfg)
	require.NoError(t, err)
	y := seasonal(18*24, 4)
	from := 15 * 24
	for k := from; k < from+24; k++ {
		y[k] = 2000 - y[k] // one day upside down
	}
	cur := 20
	var fell []int
	for k := from - 24; k <= from+24; k += 3 { // a decision every third step
		rec, err := p.Recommend(t.Context(), stateAt(y, k, cur))
		require.NoError(t, err)
		cur = rec.Capacity.Desired
		if inputValue(t, rec, scaling.InputForecastFallback) == 1 {
			fell = append(fell, k-from)
		}
		if k == from+24 {
			assert.Greater(t, inputValue(t, rec, scaling.InputForecastMASE), 1.0,
				"the last 12 h were forecast upside down: %s", rec.Reason)
		}
	}
	assert.NotEmpty(t, fell, "it falls back during the bad day")
}

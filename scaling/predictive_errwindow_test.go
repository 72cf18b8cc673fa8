package scaling_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/scaling"
)

// An error window of fewer than four steps (valid: at least one step) is
// scored in full once its steps were seen: the strategy falls back when
// its forecast goes wrong. It never did: the rolling MASE waited for four
// scored steps that a ring of three never holds, so the forecast stayed in
// charge however wrong it was.
func TestPredictiveFallsBackWithAShortErrorWindow(t *testing.T) {
	t.Parallel()
	for _, w := range []time.Duration{time.Hour, 3 * time.Hour} {
		cfg := hourlyConfig()
		cfg.ErrorWindow = w
		cfg.RefitInterval = 24 * time.Hour
		cfg.ReselectInterval = 30 * 24 * time.Hour
		p, err := scaling.NewPredictive(cfg)
		require.NoError(t, err)
		y := seasonal(17*24, 4)
		from := 15 * 24
		for k := from; k < len(y); k++ {
			y[k] = 2000 - y[k] // the daily forecast is now upside down
		}
		_, recs := walk(t, p, y, from, 20)
		fell := 0
		for _, r := range recs {
			fell += int(inputValue(t, r, scaling.InputForecastFallback))
		}
		assert.Positive(t, fell, "error window %s: it falls back", w)
		assert.Greater(t, inputValue(t, recs[len(recs)-1], scaling.InputForecastMASE), 0.0, "error window %s: the MASE is known", w)
	}
}

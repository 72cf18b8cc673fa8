package forecast_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/forecast"
)

// TestQuantilesBracketThePointOnFewErrors: a model fitted on a short
// series keeps few rolling-origin errors (a Holt-Winters model on
// 2·period + 1 values: one), too few for the 0.01 and 0.99 quantiles,
// whose conformal rank falls outside the sample. Those were clamped to the
// sample's extreme error: a single error of +9 put the 0.01 quantile 9
// above the point forecast, and every quantile from 0.01 to 0.99 on one
// value (a 98 % interval of width 0 that excluded the forecast). A
// quantile the errors cannot resolve now reaches at least the point
// forecast: below the median never above it, from the median on never
// below it; and the quantiles stay non-decreasing in the level.
func TestQuantilesBracketThePointOnFewErrors(t *testing.T) {
	t.Parallel()
	y := seasonal(24*3, 100, 0.5, 30, 2, 5) // a trend: a seasonal naive's errors are all positive
	qs := []float64{0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99}
	tests := []struct {
		name  string
		give  forecast.Spec
		giveN int
	}{
		{"snaive", forecast.Spec{Kind: forecast.KindSeasonalNaive, Period: 24}, 48},
		{"seasonal mean", forecast.Spec{Kind: forecast.KindSeasonalNaive, Period: 24, Seasons: 2}, 72},
		{"holt-winters, one origin", forecast.Spec{Kind: forecast.KindHoltWinters, Period: 24}, 49},
		{"holt-winters, two origins", forecast.Spec{Kind: forecast.KindHoltWinters, Period: 24}, 50},
		{"harmonic", forecast.Spec{Kind: forecast.KindHarmonic, Periods: []int{24}, Harmonics: []int{3}}, 48},
		{"ensemble", forecast.Spec{Kind: forecast.KindEnsemble, Members: []forecast.Spec{
			{Kind: forecast.KindSeasonalNaive, Period: 24},
			{Kind: forecast.KindHoltWinters, Period: 24},
		}}, 49},
	}
	check := func(t *testing.T, m forecast.Model) {
		t.Helper()
		const steps = 60 // past the kept horizons too
		point := make([]float64, steps)
		bands := make([][]float64, len(qs))
		for j := range bands {
			bands[j] = make([]float64, steps)
		}
		require.NoError(t, m.Forecast(point, qs, bands))
		for i := range point {
			assert.LessOrEqual(t, bands[0][i], point[i], "step %d: the 0.01 quantile is not above the point forecast", i+1)
			assert.GreaterOrEqual(t, bands[len(qs)-1][i], point[i], "step %d: the 0.99 quantile is not below the point forecast", i+1)
			for j := 1; j < len(qs); j++ {
				assert.LessOrEqual(t, bands[j-1][i], bands[j][i], "step %d: quantile %v ≤ quantile %v", i+1, qs[j-1], qs[j])
			}
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := tt.give.New(forecast.IntervalOptions{})
			require.NoError(t, err)
			require.NoError(t, m.Fit(y[:tt.giveN]))
			check(t, m)
		})
	}
	t.Run("auto", func(t *testing.T) {
		t.Parallel()
		a, err := forecast.NewAuto(forecast.AutoConfig{Periods: []int{24}})
		require.NoError(t, err)
		require.NoError(t, a.Fit(y))
		check(t, a)
	})
}

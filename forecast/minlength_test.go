package forecast_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/forecast"
)

// A model fitted on the shortest series its Fit accepts forecasts its
// quantiles too: Fit refuses what it cannot estimate intervals from. A
// Holt-Winters model (or an ensemble of them) fitted on exactly two
// seasons had no rolling-origin error and failed every quantile forecast
// with "no rolling-origin errors to estimate quantiles from", while its
// Fit had said the series was long enough.
func TestShortestFitForecastsQuantiles(t *testing.T) {
	t.Parallel()
	y := make([]float64, 200)
	for i := range y {
		y[i] = 100 + 50*math.Sin(2*math.Pi*float64(i)/24) + float64(i%5)
	}
	hw := func(c forecast.HoltWintersConfig) func() (forecast.Model, error) {
		return func() (forecast.Model, error) { return forecast.NewHoltWinters(c) }
	}
	tests := []struct {
		name string
		give func() (forecast.Model, error)
	}{
		{"holt-winters additive", hw(forecast.HoltWintersConfig{Period: 24})},
		{"holt-winters damped", hw(forecast.HoltWintersConfig{Period: 24, Damped: true})},
		{"holt-winters multiplicative", hw(forecast.HoltWintersConfig{Period: 24, Multiplicative: true})},
		{"seasonal naive", func() (forecast.Model, error) { return forecast.NewSeasonalNaive(24) }},
		{"harmonic", func() (forecast.Model, error) {
			return forecast.NewHarmonic(forecast.HarmonicConfig{Periods: []int{24}, Harmonics: []int{3}})
		}},
		{"ensemble with holt-winters", func() (forecast.Model, error) {
			return forecast.Spec{Kind: forecast.KindEnsemble, Members: []forecast.Spec{
				{Kind: forecast.KindSeasonalNaive, Period: 24}, {Kind: forecast.KindHoltWinters, Period: 24},
			}}.New(forecast.IntervalOptions{})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n := 0
			var m forecast.Model
			for k := 2; k <= len(y); k++ {
				var err error
				m, err = tt.give()
				require.NoError(t, err)
				if m.Fit(y[:k]) == nil {
					n = k
					break
				}
			}
			require.Positive(t, n, "some length fits")
			point, p90 := make([]float64, 3), make([]float64, 3)
			require.NoError(t, m.Forecast(point, []float64{0.9}, [][]float64{p90}), "fitted on %d values", n)
			for i := range point {
				assert.False(t, math.IsNaN(p90[i]) || math.IsInf(p90[i], 0), "step %d: %v", i+1, p90[i])
			}
		})
	}
}

// TestHarmonicNeedsMoreValuesThanColumns pins what Harmonic's doc says
// Fit needs: two of the longest season, or two values more than the
// design's columns when that is more. Seasons of 4, 5 and 7 steps with
// 2, 2 and 3 harmonics have 16 columns with the intercept and the trend:
// 18 values, where two of the longest season are 14 (the doc said 14).
func TestHarmonicNeedsMoreValuesThanColumns(t *testing.T) {
	t.Parallel()
	y := seasonal(18, 100, 0.1, 20, 1, 4)
	m, err := forecast.NewHarmonic(forecast.HarmonicConfig{Periods: []int{4, 5, 7}, Harmonics: []int{2, 2, 3}})
	require.NoError(t, err)
	require.ErrorIs(t, m.Fit(y[:17]), forecast.ErrInsufficientData)
	require.NoError(t, m.Fit(y))
}

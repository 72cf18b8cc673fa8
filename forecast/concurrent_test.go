package forecast_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/forecast"
)

// TestForecastConcurrently: Forecast alone may be called concurrently
// (the Model contract), and every call gets the forecast a call alone
// gets. An Ensemble (and an Auto that chose one) wrote its members'
// forecasts into buffers all calls shared: a data race, and one call's
// combination could read another's member forecasts.
func TestForecastConcurrently(t *testing.T) {
	t.Parallel()
	y := seasonal(24*20, 100, 0.01, 20, 2, 3)
	ensemble := func(rule forecast.Combine) func() (forecast.Model, error) {
		return func() (forecast.Model, error) {
			a, _ := forecast.NewSeasonalNaive(24)
			b, _ := forecast.NewHoltWinters(forecast.HoltWintersConfig{Period: 24})
			c, _ := forecast.NewHarmonic(forecast.HarmonicConfig{Periods: []int{24}})
			return forecast.NewEnsemble(rule, a, b, c)
		}
	}
	tests := []struct {
		name string
		give func() (forecast.Model, error)
	}{
		{"seasonal naive", func() (forecast.Model, error) { return forecast.NewSeasonalMean(24, 2) }},
		{"holt-winters", func() (forecast.Model, error) {
			return forecast.NewHoltWinters(forecast.HoltWintersConfig{Period: 24, Damped: true})
		}},
		{"harmonic", func() (forecast.Model, error) {
			return forecast.NewHarmonic(forecast.HarmonicConfig{Periods: []int{24}})
		}},
		{"ensemble mean", ensemble(forecast.CombineMean)},
		{"ensemble median", ensemble(forecast.CombineMedian)},
		{"auto of an ensemble", func() (forecast.Model, error) {
			return forecast.NewAuto(forecast.AutoConfig{Periods: []int{24}, Candidates: []forecast.Spec{{
				Kind: forecast.KindEnsemble, Combine: forecast.CombineMedian, Members: []forecast.Spec{
					{Kind: forecast.KindSeasonalNaive, Period: 24},
					{Kind: forecast.KindHoltWinters, Period: 24},
					{Kind: forecast.KindSeasonalNaive, Period: 24, Seasons: 2},
				},
			}}})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := tt.give()
			require.NoError(t, err)
			require.NoError(t, m.Fit(y))
			// Each caller its own horizon, so that a call reading another's
			// member forecasts gets wrong values, not just a race.
			const callers = 4
			want := make([][]float64, callers)
			for g := range callers {
				want[g] = make([]float64, 20+10*g)
				require.NoError(t, m.Forecast(want[g], nil, nil))
			}
			var wg sync.WaitGroup
			for g := range callers {
				wg.Go(func() {
					p := make([]float64, len(want[g]))
					q := [][]float64{make([]float64, len(p))}
					for range 50 {
						err := m.Forecast(p, []float64{0.9}, q)
						if err != nil {
							t.Error(err)
							return
						}
						if !assert.Equal(t, want[g], p) {
							return
						}
					}
				})
			}
			wg.Wait()
		})
	}
}

package forecast_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/forecast"
)

// TestEnsembleMembersAreFittedModels: Fit fits every member, and Members
// returns them shared; a member of a mean or median ensemble was given
// its parameters only (the inverse_error rule alone fitted it whole), so
// it reported itself fitted but its Forecast refused every quantile
// (ErrInsufficientData: no rolling-origin errors) and did not clip a
// non-negative series' forecasts at 0, as the Model contract says a
// fitted built-in model does. Each member now forecasts, points and
// quantiles, as the same model fitted alone on the same data.
func TestEnsembleMembersAreFittedModels(t *testing.T) {
	t.Parallel()
	y := seasonal(24*12, 50, 0.05, 20, 3, 11)
	specs := []forecast.Spec{
		{Kind: forecast.KindSeasonalNaive, Period: 24},
		{Kind: forecast.KindHoltWinters, Period: 24, Damped: true},
		{Kind: forecast.KindHarmonic, Periods: []int{24}},
	}
	tests := []struct {
		name string
		give forecast.Combine
	}{
		{"mean", forecast.CombineMean},
		{"median", forecast.CombineMedian},
		{"inverse error", forecast.CombineInverseError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := forecast.Spec{Kind: forecast.KindEnsemble, Combine: tt.give, Members: specs}.New(forecast.IntervalOptions{})
			require.NoError(t, err)
			require.NoError(t, m.Fit(y))
			members := m.(*forecast.Ensemble).Members()
			require.Len(t, members, len(specs))
			for i, s := range specs {
				alone, err := s.New(forecast.IntervalOptions{})
				require.NoError(t, err)
				require.NoError(t, alone.Fit(y))
				want, wantQ := make([]float64, 30), [][]float64{make([]float64, 30), make([]float64, 30)}
				got, gotQ := make([]float64, 30), [][]float64{make([]float64, 30), make([]float64, 30)}
				require.NoError(t, alone.Forecast(want, []float64{0.1, 0.9}, wantQ))
				require.NoError(t, members[i].Forecast(got, []float64{0.1, 0.9}, gotQ), "member %d (%s)", i, s)
				assert.InDeltaSlice(t, want, got, 1e-9, "member %d (%s): point", i, s)
				assert.InDeltaSlice(t, wantQ[0], gotQ[0], 1e-9, "member %d (%s): q0.1", i, s)
				assert.InDeltaSlice(t, wantQ[1], gotQ[1], 1e-9, "member %d (%s): q0.9", i, s)
			}
		})
	}
}

// TestEnsembleInverseErrorWeightsInTheSeriesUnit: inverse_error weights
// each member by 1/MAE of its rolling-origin errors, as CombineInverseError
// says. It took the mean of the member's stored interval errors, which
// for a non-negative series are by default relative (e/(|ŷ| + ȳ)) and
// with IntervalOptions.Absolute in the series' unit: the same harmonic
// model beside a seasonal naive one weighed 0.78 with its default
// intervals and 0.018 with absolute ones, a hundredfold apart on the
// same errors. The MAE is now in the series' unit whatever a member's
// interval options.
func TestEnsembleInverseErrorWeightsInTheSeriesUnit(t *testing.T) {
	t.Parallel()
	y := seasonal(24*20, 100, 0, 20, 2, 3)
	weights := func(absolute bool) []float64 {
		h, err := forecast.NewHarmonic(forecast.HarmonicConfig{Periods: []int{24, 168}, Intervals: forecast.IntervalOptions{Absolute: absolute}})
		require.NoError(t, err)
		s, err := forecast.NewSeasonalNaive(24)
		require.NoError(t, err)
		e, err := forecast.NewEnsemble(forecast.CombineInverseError, h, s)
		require.NoError(t, err)
		require.NoError(t, e.Fit(y))
		return e.Weights()
	}
	relative, absolute := weights(false), weights(true)
	assert.InDeltaSlice(t, relative, absolute, 1e-12)
	assert.Greater(t, absolute[0], absolute[1], "the harmonic model (the daily and weekly seasons, noise σ 2) errs less than the seasonal naive one")
}

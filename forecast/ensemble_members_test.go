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

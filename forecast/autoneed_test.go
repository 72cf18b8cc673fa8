package forecast_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/forecast"
)

// TestAutoNeedsWhatItsErrorSays: Fit's error for a too-short series says
// how many values it needs, and that many fit. Fit first refused fewer
// than 8 values saying it needed 8 (DetectPeriods' least), but with
// periods given, or with none found, the validation window of the
// default horizon needs 2·24 + 1 = 49: Fit on 8 values then failed,
// "needs at least 49", the count an error three values shorter had not
// said. With periods given Fit now asks the validation's count from the
// start (that many may still fit no candidate before the window, an
// error listing why), and without them it says both (8 to detect
// periods, 49 when none is found) and, when none is found, why; that many
// values of a series without a period fit.
func TestAutoNeedsWhatItsErrorSays(t *testing.T) {
	t.Parallel()
	trend := make([]float64, 100) // a concave trend: no period
	for i := range trend {
		trend[i] = math.Sqrt(float64(i))
	}
	tests := []struct {
		name     string
		give     forecast.AutoConfig
		giveN    int
		wantText []string
		fits     int // 0: the need repeated one value short
	}{
		{"periods given", forecast.AutoConfig{Periods: []int{24}}, 5, []string{"has 5 values, needs at least 49"}, 0},
		{"periods and validation given", forecast.AutoConfig{Periods: []int{24}, Validation: 60}, 5, []string{"has 5 values, needs at least 61"}, 0},
		{"too short to detect", forecast.AutoConfig{}, 5, []string{"has 5 values, needs at least 8", "49"}, 49},
		{"no period found", forecast.AutoConfig{}, 20, []string{"has 20 values, needs at least 49", "no period"}, 49},
		{"no period found, horizon given", forecast.AutoConfig{Horizon: 6}, 10, []string{"has 10 values, needs at least 13", "no period"}, 13},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := forecast.NewAuto(tt.give)
			require.NoError(t, err)
			err = a.Fit(trend[:tt.giveN])
			require.ErrorIs(t, err, forecast.ErrInsufficientData)
			for _, w := range tt.wantText {
				require.ErrorContains(t, err, w)
			}
			if tt.fits == 0 {
				err = a.Fit(trend[:48])
				require.ErrorIs(t, err, forecast.ErrInsufficientData)
				require.ErrorContains(t, err, "has 48 values, "+tt.wantText[0][len("has 5 values, "):])
				return
			}
			require.ErrorIs(t, a.Fit(trend[:tt.fits-1]), forecast.ErrInsufficientData)
			require.NoError(t, a.Fit(trend[:tt.fits]))
		})
	}
}

// TestAutoLongEnoughButUnusableSaysWhy: a series long enough to detect
// periods in (8 values) that Fit refuses for another reason (constant,
// or a value not finite) gets that reason alone, not the "to detect
// periods" count of a series too short, which it is not.
func TestAutoLongEnoughButUnusableSaysWhy(t *testing.T) {
	t.Parallel()
	constant := []float64{3, 3, 3, 3, 3, 3, 3, 3}
	a, err := forecast.NewAuto(forecast.AutoConfig{})
	require.NoError(t, err)
	err = a.Fit(constant)
	require.ErrorIs(t, err, forecast.ErrInsufficientData)
	require.ErrorContains(t, err, "constant")
	require.NotContains(t, err.Error(), "to detect periods")
	nonFinite := []float64{1, 2, 3, math.Inf(1), 5, 6, 7, 8}
	err = a.Fit(nonFinite)
	require.Error(t, err)
	require.NotContains(t, err.Error(), "to detect periods")
}

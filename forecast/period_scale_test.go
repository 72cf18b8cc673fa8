package forecast_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/forecast"
)

// scaled returns y multiplied by f.
func scaled(y []float64, f float64) []float64 {
	out := make([]float64, len(y))
	for i, v := range y {
		out[i] = v * f
	}
	return out
}

// TestACFScaleInvariant checks that ACF and DetectPeriods, which do not
// depend on the scale of y, give the same answer for finite values near
// the float64 limits as for ordinary ones, instead of NaN from an
// overflowing sum, a claim that a finite y holds NaN, or "constant" from
// squares that underflow to zero.
func TestACFScaleInvariant(t *testing.T) {
	t.Parallel()
	base := seasonal(24*20, 100, 0, 30, 2, 12)
	want := make([]float64, 50)
	require.NoError(t, forecast.ACF(want, base))
	wantPeriods, err := forecast.DetectPeriods(base, 0)
	require.NoError(t, err)
	require.Equal(t, []int{24}, wantPeriods)
	tests := []struct {
		name   string
		factor float64
	}{
		{"huge", 1e305},
		{"huge negative", -1e305},
		{"subnormal", 1e-320},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			y := scaled(base, tt.factor)
			for _, v := range y {
				require.False(t, math.IsInf(v, 0) || math.IsNaN(v), "the input must be finite")
			}
			got := make([]float64, len(want))
			require.NoError(t, forecast.ACF(got, y))
			for k := range want {
				require.False(t, math.IsNaN(got[k]), "lag %d is NaN", k)
				// Subnormal inputs keep only a few significant bits.
				tol := 1e-9
				if math.Abs(tt.factor) < 1e-300 {
					tol = 0.05
				}
				assert.InDelta(t, want[k], got[k], tol, "lag %d", k)
			}
			periods, err := forecast.DetectPeriods(y, 0)
			require.NoError(t, err)
			assert.Equal(t, wantPeriods, periods)
		})
	}
}

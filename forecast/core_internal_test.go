package forecast

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every built-in model keeps core's contract: with the parameters of a fit
// on y, reset(y) and reset(y[:k]) followed by step over y[k:] leave the
// state Fit left, so all three forecast the same (to rounding).
func TestResetIsSteppingThrough(t *testing.T) {
	t.Parallel()
	y := synthetic(1200, 12)
	models := []struct {
		name string
		make func() (core, error)
	}{
		{"seasonal naive", func() (core, error) { return NewSeasonalNaive(24) }},
		{"seasonal mean", func() (core, error) { return NewSeasonalMean(24, 3) }},
		{"holt-winters additive", func() (core, error) { return NewHoltWinters(HoltWintersConfig{Period: 24}) }},
		{"holt-winters multiplicative damped", func() (core, error) {
			return NewHoltWinters(HoltWintersConfig{Period: 24, Multiplicative: true, Damped: true})
		}},
		{"harmonic", func() (core, error) { return NewHarmonic(HarmonicConfig{Periods: []int{24, 168}}) }},
		{"harmonic without trend, five seasons", func() (core, error) {
			return NewHarmonic(HarmonicConfig{Periods: []int{5, 7, 12, 24, 60}, NoTrend: true})
		}},
	}
	for _, tt := range models {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := tt.make()
			require.NoError(t, err)
			require.NoError(t, m.Fit(y))
			want := make([]float64, 30)
			m.predict(want)
			got := make([]float64, 30)
			m.reset(y)
			m.predict(got)
			assert.InDeltaSlice(t, want, got, 1e-9, "reset(y)")
			for _, k := range []int{m.minLen(), len(y) - 1} {
				m.reset(y[:k])
				for _, v := range y[k:] {
					m.step(v)
				}
				m.predict(got)
				assert.InDeltaSlice(t, want, got, 1e-6, "reset(y[:%d]), then step", k)
			}
		})
	}
}

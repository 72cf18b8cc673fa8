package forecast

import (
	"encoding/json"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
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

// Fit replays the series from the origin that leaves the last Origins
// origins with a full Horizon (never before the model's minimum length)
// and keeps, per horizon h, the errors of every origin whose h-step target
// is in y: here a seasonal naive model of period 3, whose forecast from
// origin t for step h+1 is y[t−3+h mod 3].
func TestReplayResidualsOrigins(t *testing.T) {
	t.Parallel()
	y := make([]float64, 30)
	for i := range y {
		y[i] = float64((i*7)%11) + 0.1*float64(i)
	}
	for _, tt := range []struct {
		origins, horizon, t0 int
	}{
		{10, 4, 17}, // 30 − 10 − 4 + 1
		{40, 4, 3},  // the model's minimum length
		{10, 1, 20},
		{10, 40, 3}, // a horizon longer than the replay: 27 horizons
	} {
		m, err := NewSeasonalNaive(3)
		require.NoError(t, err)
		m.opts = IntervalOptions{Origins: tt.origins, Horizon: tt.horizon, Absolute: true, Empirical: true}
		require.NoError(t, m.Fit(y))
		H := min(tt.horizon, len(y)-tt.t0)
		require.Len(t, m.b.Residuals.Sorted, H, "%+v", tt)
		for h := range H {
			var want []float64
			for o := tt.t0; o+h < len(y); o++ {
				want = append(want, y[o+h]-y[o-3+h%3])
			}
			slices.Sort(want)
			assert.Equal(t, want, m.b.Residuals.Sorted[h], "%+v: horizon %d", tt, h+1)
		}
	}
}

// A stored seasonal mean's buffer must hold seasons × period values, and
// the error says how many.
func TestSeasonalUnmarshalBuffer(t *testing.T) {
	t.Parallel()
	m, err := NewSeasonalMean(3, 2)
	require.NoError(t, err)
	require.NoError(t, m.Fit(synthetic(40, 5)))
	m.buf = m.buf[:5]
	m.pos = 0
	data, err := json.Marshal(m)
	require.NoError(t, err)
	var back SeasonalNaive
	err = back.UnmarshalJSON(data)
	require.ErrorIs(t, err, provider.ErrInvalid)
	assert.Contains(t, err.Error(), "length must be seasons × period = 6")
}

// Forecast refuses what it cannot compute, naming the step: a point
// forecast that overflows, a quantile that overflows, and quantiles from a
// (decoded) model without rolling-origin errors; a point forecast needs no
// errors.
func TestForecastNumericErrors(t *testing.T) {
	t.Parallel()
	huge := func(first float64) *FuncModel {
		m, err := NewFunc(1, func(_, dst []float64) {
			for i := range dst {
				dst[i] = 1e308
			}
			dst[0] = first
		}, IntervalOptions{})
		require.NoError(t, err)
		m.reset([]float64{1})
		m.b = base{Fitted: true, Residuals: residuals{Sorted: [][]float64{{1e308, 1e308}}}}
		return m
	}
	point, band := make([]float64, 3), make([]float64, 3)
	err := huge(math.Inf(1)).Forecast(point, nil, nil)
	require.ErrorIs(t, err, ErrNumeric)
	assert.Contains(t, err.Error(), "forecast step 1 is +Inf")
	err = huge(1).Forecast(point, []float64{0.9}, [][]float64{band})
	require.ErrorIs(t, err, ErrNumeric)
	assert.Contains(t, err.Error(), "quantile 0.9 at step 2 is +Inf")

	m := huge(1)
	m.b.Residuals = residuals{}
	require.NoError(t, m.Forecast(point, nil, nil), "a point forecast needs no errors")
	err = m.Forecast(point, []float64{0.9}, [][]float64{band})
	require.ErrorIs(t, err, ErrInsufficientData)
	assert.Contains(t, err.Error(), "no rolling-origin errors")
}

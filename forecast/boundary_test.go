package forecast_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/forecast"
	"github.com/idlescale/idlescale/provider"
)

// drift extrapolates the last step's change: on a falling series it goes
// below zero.
func drift(history, dst []float64) {
	n := len(history)
	last, d := history[n-1], history[n-1]-history[n-2]
	for i := range dst {
		dst[i] = last + float64(i+1)*d
	}
}

// A series that is never negative gets no negative forecast or quantile,
// also when it holds exact zeros (its minimum is 0) and the model's
// extrapolation falls below zero; a series that was negative somewhere is
// forecast as the model says.
func TestForecastOfSeriesWithZerosStaysNonNegative(t *testing.T) {
	t.Parallel()
	// A saw tooth falling from 40 to 0 by 4 per step, 20 times.
	var withZeros []float64
	for range 20 {
		for v := 40.0; v >= 0; v -= 4 {
			withZeros = append(withZeros, v)
		}
	}
	// The same series ending on its way down, at 4: the drift forecast
	// is 0, -4, -8, ...
	y := withZeros[:len(withZeros)-1]
	require.InDelta(t, 0, slicesMin(y), 0, "the series holds exact zeros")
	require.InDelta(t, 4, y[len(y)-1], 0)
	quantiles := []float64{0.05, 0.5, 0.95}
	for _, absolute := range []bool{false, true} {
		m, err := forecast.NewFunc(2, drift, forecast.IntervalOptions{Horizon: 6, Absolute: absolute})
		require.NoError(t, err)
		require.NoError(t, m.Fit(y))
		point := make([]float64, 6)
		bands := [][]float64{make([]float64, 6), make([]float64, 6), make([]float64, 6)}
		require.NoError(t, m.Forecast(point, quantiles, bands))
		assert.Equal(t, []float64{0, 0, 0, 0, 0, 0}, point, "absolute %v: clipped at 0", absolute)
		for j := range bands {
			for i, v := range bands[j] {
				assert.GreaterOrEqual(t, v, 0.0, "absolute %v, q%v step %d", absolute, quantiles[j], i+1)
			}
		}
	}

	// Shifted by −1 the series is negative somewhere: nothing is clipped.
	shifted := make([]float64, len(y))
	for i, v := range y {
		shifted[i] = v - 1
	}
	m, err := forecast.NewFunc(2, drift, forecast.IntervalOptions{Horizon: 6})
	require.NoError(t, err)
	require.NoError(t, m.Fit(shifted))
	point := make([]float64, 3)
	require.NoError(t, m.Forecast(point, nil, nil))
	assert.Equal(t, []float64{-1, -5, -9}, point)
}

func slicesMin(y []float64) float64 {
	m := math.Inf(1)
	for _, v := range y {
		m = min(m, v)
	}
	return m
}

// Beyond IntervalOptions.Horizon the quantile offsets keep the last kept
// horizon's and grow with √(h/H): with absolute errors and a flat point
// forecast, the band's distance from the point at step h > H is exactly
// that at H times √(h/H), so it widens step by step.
func TestBandsWidenBeyondTheHorizon(t *testing.T) {
	t.Parallel()
	const H = 4
	// Noise around a level of 100: the last value is the forecast (flat).
	y := make([]float64, 600)
	for i := range y {
		y[i] = 100 + 10*math.Sin(float64(i)*1.7) + 5*math.Cos(float64(i)*0.31)
	}
	last := func(history, dst []float64) {
		for i := range dst {
			dst[i] = history[len(history)-1]
		}
	}
	m, err := forecast.NewFunc(1, last, forecast.IntervalOptions{Horizon: H, Absolute: true, Empirical: true})
	require.NoError(t, err)
	require.NoError(t, m.Fit(y))
	const steps = 4 * H
	point := make([]float64, steps)
	quantiles := []float64{0.1, 0.9}
	bands := [][]float64{make([]float64, steps), make([]float64, steps)}
	require.NoError(t, m.Forecast(point, quantiles, bands))
	for j := range quantiles {
		atH := bands[j][H-1] - point[H-1]
		require.NotZero(t, atH)
		for h := H + 1; h <= steps; h++ {
			got := bands[j][h-1] - point[h-1]
			want := atH * math.Sqrt(float64(h)/float64(H))
			assert.InDelta(t, want, got, 1e-9*math.Abs(want), "q%v step %d", quantiles[j], h)
			assert.Greater(t, math.Abs(got), math.Abs(bands[j][h-2]-point[h-2]), "q%v widens at step %d", quantiles[j], h)
		}
	}
	assert.Less(t, bands[0][steps-1], bands[0][H-1], "the lower band falls")
	assert.Greater(t, bands[1][steps-1], bands[1][H-1], "the upper band rises")
}

// TestAutoScoresACandidateThatOverflows: on values near the largest
// float64 the Holt-Winters candidate's validation forecasts overflow
// (NaN), and the harmonic one's fit does (Σ y over its 150 training steps).
// Scores lists every candidate, those as skipped with the reason; one
// whose forecasts overflowed was neither scored nor skipped (its NaNs
// read as steps past the end), and one that overflowed at some origins
// only was scored on the rest. (At 1e300, where the harmonic candidate's
// forecasts overflowed until its AR(1) coefficient was computed on scaled
// residuals, every candidate now fits: TestHarmonicOfLargeValues.)
func TestAutoScoresACandidateThatOverflows(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	y := make([]float64, 200)
	for i := range y {
		y[i] = 1e307*(1+0.5*math.Sin(2*math.Pi*float64(i)/24)) + 1e306*r.Float64()
	}
	a, err := forecast.NewAuto(forecast.AutoConfig{Periods: []int{24}, NoCombinations: true})
	require.NoError(t, err)
	require.NoError(t, a.Fit(y))
	names := map[string]forecast.Score{}
	for _, s := range a.Scores() {
		names[s.Name] = s
	}
	for _, c := range forecast.DefaultCandidates([]int{24}) {
		assert.Contains(t, names, c.String(), "every candidate is scored or skipped")
	}
	h := names["harmonic(24:10)"]
	assert.Contains(t, h.Skipped, "overflow")
	assert.True(t, math.IsNaN(h.MAE))
	hw := names["hw(24,add,damped)"]
	assert.Contains(t, hw.Skipped, "validation forecast")
	assert.Contains(t, hw.Skipped, "overflow")
	assert.True(t, math.IsNaN(hw.MAE))
	point := make([]float64, 24)
	require.NoError(t, a.Forecast(point, nil, nil))
}

// TestIntervalsOfHugeValues: the quantiles of a non-negative series whose
// values are large enough that their sum overflows (480 values near
// 2e306) are finite, by default as with Absolute. The level-scaled
// errors' floor, the series' mean, was computed from that sum: +Inf, so
// every quantile was NaN and Forecast returned ErrNumeric, Auto's too.
func TestIntervalsOfHugeValues(t *testing.T) {
	t.Parallel()
	y := make([]float64, 24*20)
	for i := range y {
		y[i] = 1e306 * (2 + math.Sin(2*math.Pi*float64(i)/24)) * (1 + 0.01*math.Sin(float64(i)))
	}
	naive, err := forecast.NewSeasonalNaive(24)
	require.NoError(t, err)
	auto, err := forecast.NewAuto(forecast.AutoConfig{Periods: []int{24}})
	require.NoError(t, err)
	for _, m := range []forecast.Model{naive, auto} {
		require.NoError(t, m.Fit(y))
		point, lo, hi := make([]float64, 30), make([]float64, 30), make([]float64, 30)
		require.NoError(t, m.Forecast(point, []float64{0.1, 0.9}, [][]float64{lo, hi}))
		for i := range point {
			assert.Less(t, lo[i], point[i], "step %d", i)
			assert.Less(t, point[i], hi[i], "step %d", i)
		}
	}
}

// TestHarmonicOfLargeValues: the harmonic model is linear in y, so on a
// series scaled by 1e200 it forecasts the scaled forecasts of the series
// itself. The AR(1) coefficient was Σ r_t·r_{t−1} / Σ r_{t−1}² of the
// residuals, whose products overflow above about 1e154: ∞/∞ made ρ NaN,
// the fit succeeded with it, and every Forecast was then ErrNumeric.
func TestHarmonicOfLargeValues(t *testing.T) {
	t.Parallel()
	const scale = 1e200
	y := seasonal(24*10, 100, 0.01, 20, 2, 5)
	big := make([]float64, len(y))
	for i, v := range y {
		big[i] = v * scale
	}
	small, err := forecast.NewHarmonic(forecast.HarmonicConfig{Periods: []int{24}})
	require.NoError(t, err)
	require.NoError(t, small.Fit(y))
	large, err := forecast.NewHarmonic(forecast.HarmonicConfig{Periods: []int{24}})
	require.NoError(t, err)
	require.NoError(t, large.Fit(big))
	want, got := make([]float64, 30), make([]float64, 30)
	p90, P90 := make([]float64, 30), make([]float64, 30)
	require.NoError(t, small.Forecast(want, []float64{0.9}, [][]float64{p90}))
	require.NoError(t, large.Forecast(got, []float64{0.9}, [][]float64{P90}))
	for i := range want {
		assert.InDelta(t, want[i], got[i]/scale, 1e-9*math.Abs(want[i]), "step %d", i+1)
		assert.InDelta(t, p90[i], P90[i]/scale, 1e-9*math.Abs(p90[i]), "q0.9 step %d", i+1)
	}
}

// TestHarmonicRefusesDataThatOverflowItsFit: on values near the largest
// float64 the sums of the normal equations overflow; Fit refuses the data
// with an error matching ErrNumeric (and provider.ErrInvalid) and leaves
// the model unfitted, instead of a fit with NaN coefficients.
func TestHarmonicRefusesDataThatOverflowItsFit(t *testing.T) {
	t.Parallel()
	y := make([]float64, 24*10)
	for i := range y {
		y[i] = 1e308 * (1 + 0.5*math.Sin(2*math.Pi*float64(i)/24))
	}
	m, err := forecast.NewHarmonic(forecast.HarmonicConfig{Periods: []int{24}})
	require.NoError(t, err)
	err = m.Fit(y)
	require.ErrorIs(t, err, forecast.ErrNumeric)
	require.ErrorIs(t, err, provider.ErrInvalid)
	require.ErrorIs(t, m.Forecast(make([]float64, 3), nil, nil), forecast.ErrNotFitted)
}

// TestHoltWintersRefusesDataThatOverflowItsFit: near the largest float64
// the Holt-Winters start (the mean of the first season, a sum of 24
// values near 1e307) overflows and the state is NaN; Fit succeeded, and
// every Forecast was then ErrNumeric. Fit now refuses the data as the
// harmonic model's does (ErrNumeric and provider.ErrInvalid) and leaves
// the model unfitted, and so does an ensemble with such a member and a
// seasonal mean whose sum of seasons overflows.
func TestHoltWintersRefusesDataThatOverflowItsFit(t *testing.T) {
	t.Parallel()
	y := make([]float64, 24*10)
	for i := range y {
		y[i] = 1e307 * (1 + 0.5*math.Sin(2*math.Pi*float64(i)/24))
	}
	huge := make([]float64, len(y))
	for i := range huge {
		huge[i] = 1e308 * (1 + 0.5*math.Sin(2*math.Pi*float64(i)/24))
	}
	hw := func(cfg forecast.HoltWintersConfig) func() (forecast.Model, error) {
		return func() (forecast.Model, error) { return forecast.NewHoltWinters(cfg) }
	}
	tests := []struct {
		name  string
		give  func() (forecast.Model, error)
		giveY []float64
	}{
		{"additive", hw(forecast.HoltWintersConfig{Period: 24}), y},
		{"damped", hw(forecast.HoltWintersConfig{Period: 24, Damped: true}), y},
		{"multiplicative", hw(forecast.HoltWintersConfig{Period: 24, Multiplicative: true}), y},
		{"ensemble mean", func() (forecast.Model, error) {
			return forecast.Spec{Kind: forecast.KindEnsemble, Members: []forecast.Spec{
				{Kind: forecast.KindHoltWinters, Period: 24}, {Kind: forecast.KindSeasonalNaive, Period: 24},
			}}.New(forecast.IntervalOptions{})
		}, y},
		{"seasonal mean", func() (forecast.Model, error) { return forecast.NewSeasonalMean(24, 2) }, huge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := tt.give()
			require.NoError(t, err)
			err = m.Fit(tt.giveY)
			require.ErrorIs(t, err, forecast.ErrNumeric)
			require.ErrorIs(t, err, provider.ErrInvalid)
			require.ErrorIs(t, m.Forecast(make([]float64, 3), nil, nil), forecast.ErrNotFitted)
		})
	}
}

// TestMultiplicativeHoltWintersGapForecastNotPositive: a multiplicative
// Holt-Winters model refuses a value ≤ 0 in Update, and a gap (NaN) is
// filled with its one-step forecast; where that forecast is ≤ 0 (a
// falling series extrapolated below zero) the gap was filled with it all
// the same, and the level and seasonal ratios ran on a negative value
// they would have refused. Such a gap is now refused with ErrNonPositive
// and the model is left as it was.
func TestMultiplicativeHoltWintersGapForecastNotPositive(t *testing.T) {
	t.Parallel()
	season := []float64{0.8, 1.2, 1.0, 1.0}
	y := make([]float64, 100)
	for i := range y {
		y[i] = (99.5 - float64(i)) * season[i%4] // 0.5 at the end, falling by one a step
	}
	m, err := forecast.NewHoltWinters(forecast.HoltWintersConfig{Period: 4, Multiplicative: true})
	require.NoError(t, err)
	require.NoError(t, m.Fit(y))
	before, after := make([]float64, 8), make([]float64, 8)
	require.NoError(t, m.Forecast(before, nil, nil))
	require.Zero(t, before[0], "the one-step forecast is ≤ 0 (clipped to 0)")
	err = m.Update(math.NaN())
	require.ErrorIs(t, err, forecast.ErrNonPositive)
	require.ErrorIs(t, err, provider.ErrInvalid)
	require.NoError(t, m.Forecast(after, nil, nil))
	assert.Equal(t, before, after, "a refused gap leaves the model as it was")
	require.NoError(t, m.Update(0.5), "a positive value is still taken")
}

// TestHoltWintersOfLargeValues: the Holt-Winters recursions are linear in
// the data's scale, so the fitted parameters of a series scaled by 1e200
// are the series' own. The search minimised a sum of squared one-step
// errors that overflows above about 1e154: every evaluation was +Inf,
// and the fit kept its start (α = 0.3004, β = 0.03, γ = 0.07) whatever
// the data.
func TestHoltWintersOfLargeValues(t *testing.T) {
	t.Parallel()
	y := seasonal(24*10, 100, 0.01, 20, 2, 5)
	for _, scale := range []float64{1e200, 1e-200} {
		scaled := make([]float64, len(y))
		for i, v := range y {
			scaled[i] = v * scale
		}
		for _, mul := range []bool{false, true} {
			cfg := forecast.HoltWintersConfig{Period: 24, Damped: true, Multiplicative: mul}
			small, err := forecast.NewHoltWinters(cfg)
			require.NoError(t, err)
			require.NoError(t, small.Fit(y))
			large, err := forecast.NewHoltWinters(cfg)
			require.NoError(t, err)
			require.NoError(t, large.Fit(scaled))
			a, b, g, phi := small.Params()
			A, B, G, Phi := large.Params()
			assert.InDelta(t, a, A, 1e-6, "α, scale %g, multiplicative %v", scale, mul)
			assert.InDelta(t, b, B, 1e-6, "β, scale %g, multiplicative %v", scale, mul)
			assert.InDelta(t, g, G, 1e-6, "γ, scale %g, multiplicative %v", scale, mul)
			assert.InDelta(t, phi, Phi, 1e-6, "φ, scale %g, multiplicative %v", scale, mul)
		}
	}
}

// TestAutoScoresOfLargeValues: Auto's validation MAE is the mean of the
// absolute errors, which is finite wherever the errors are; a sum of
// them overflowed on values near 1e307 (about 1,400 errors near 1e306),
// so every candidate scored +Inf, they tied, and the first listed was
// chosen whatever its error. Each candidate scored on the scaled series scores
// the scale times what it scores on the series itself.
func TestAutoScoresOfLargeValues(t *testing.T) {
	t.Parallel()
	const scale = 1e305
	y := seasonal(24*10, 100, 0, 20, 5, 3)
	big := make([]float64, len(y))
	for i, v := range y {
		big[i] = v * scale
	}
	cfg := forecast.AutoConfig{Periods: []int{24}, NoCombinations: true}
	small, err := forecast.NewAuto(cfg)
	require.NoError(t, err)
	require.NoError(t, small.Fit(y))
	want := map[string]float64{}
	for _, s := range small.Scores() {
		want[s.Name] = s.MAE
	}
	large, err := forecast.NewAuto(cfg)
	require.NoError(t, err)
	require.NoError(t, large.Fit(big))
	scored := 0
	for _, s := range large.Scores() {
		if s.Skipped != "" {
			continue // Holt-Winters and harmonic overflow here
		}
		scored++
		assert.InEpsilon(t, want[s.Name], s.MAE/scale, 1e-6, "%s", s.Name)
	}
	assert.GreaterOrEqual(t, scored, 2, "the two seasonal naive candidates")
}

// TestGapOfANonNegativeSeriesFilledWithItsForecast: a model fitted on a
// series with no negative value forecasts no negative value (its point
// forecasts and quantiles are clipped at 0), and Update fills a gap with
// its one-step forecast. The gap was filled with the forecast before the
// clip: a falling count extrapolated below zero put a negative count into
// the model's state, where Forecast had said 0. It is now filled with 0,
// as Update(0) would.
func TestGapOfANonNegativeSeriesFilledWithItsForecast(t *testing.T) {
	t.Parallel()
	y := make([]float64, 100)
	for i := range y {
		y[i] = 99.5 - float64(i) + 2*float64(i%4) // falling by one a step to 6.5, then −0.5
	}
	newModel := func() forecast.Model {
		m, err := forecast.NewHoltWinters(forecast.HoltWintersConfig{Period: 4})
		require.NoError(t, err)
		require.NoError(t, m.Fit(y))
		return m
	}
	gap, zero := newModel(), newModel()
	one := make([]float64, 1)
	require.NoError(t, gap.Forecast(one, nil, nil))
	require.Zero(t, one[0], "the next forecast is clipped at 0")
	require.NoError(t, gap.Update(math.NaN()))
	require.NoError(t, zero.Update(0))
	want, got := make([]float64, 8), make([]float64, 8)
	require.NoError(t, zero.Forecast(want, nil, nil))
	require.NoError(t, gap.Forecast(got, nil, nil))
	assert.Equal(t, want, got)
}

package forecast_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/forecast"
	"github.com/idlescale/idlescale/provider"
)

func TestMetrics(t *testing.T) {
	t.Parallel()
	actual := []float64{10, 20, 30, 40}
	fc := []float64{12, 18, 30, 44}
	inf := math.Inf(1)
	tests := []struct {
		name string
		got  float64
		want float64
	}{
		// |e| = 2, 2, 0, 4 → mean 2.
		{"MASE with scale 4", forecast.MASE(actual, fc, 4), 0.5},
		{"RMSE", forecast.RMSE(actual, fc), math.Sqrt((4 + 4 + 0 + 16) / 4.0)},
		{"sMAPE", forecast.SMAPE(actual, fc), 200.0 / 4 * (2.0/22 + 2.0/38 + 0 + 4.0/84)},
		{"sMAPE both zero counts 0", forecast.SMAPE([]float64{0, 1}, []float64{0, 1}), 0},
		// tau 0.9: under-forecast e>0 costs 0.9e, over-forecast 0.1|e|:
		// e = −2, 2, 0, −4 → 0.2, 1.8, 0, 0.4 → mean 0.6.
		{"pinball 0.9", forecast.Pinball(actual, fc, 0.9), 0.6},
		{"coverage", forecast.Coverage(actual, []float64{0, 21, 0, 0}, []float64{inf, inf, 30, 39}), 0.5},
		// Seasonal differences with m = 2: |30−10|, |40−20| → 20.
		{"scale", forecast.Scale(actual, 2), 20},
		// Differences of 1.5e308 whose sum overflows: the scale was +Inf,
		// and MASE against it 0 however bad the forecast.
		{"scale of the largest values", forecast.Scale([]float64{0, 1.5e308, 0, 1.5e308}, 1) / 1e308, 1.5},
		{"MASE on the scale of the largest values", forecast.MASE([]float64{1.5e308}, []float64{0}, forecast.Scale([]float64{0, 1.5e308, 0, 1.5e308}, 1)), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.InDelta(t, tt.want, tt.got, 1e-12)
		})
	}
	for name, v := range map[string]float64{
		"MASE zero scale":      forecast.MASE(actual, fc, 0),
		"MASE mismatch":        forecast.MASE(actual, fc[:2], 1),
		"RMSE empty":           forecast.RMSE(nil, nil),
		"sMAPE mismatch":       forecast.SMAPE(actual, nil),
		"pinball tau 1":        forecast.Pinball(actual, fc, 1),
		"coverage mismatch":    forecast.Coverage(actual, fc, nil),
		"scale too short":      forecast.Scale(actual, 4),
		"scale period invalid": forecast.Scale(actual, 0),
	} {
		assert.True(t, math.IsNaN(v), name)
	}
}

// TestBacktestWindowEndingWithGaps: when the training window ends with
// gaps, the model's forecast still covers the origin's steps: it is
// scored from the origin on, not from the first gap (an exactly periodic
// series scored 1.7 RMSE at such origins and 0 at the others).
func TestBacktestWindowEndingWithGaps(t *testing.T) {
	t.Parallel()
	periodic := make([]float64, 24*20)
	for i := range periodic {
		periodic[i] = float64(i%24) + 1
	}
	for _, origin := range []int{24 * 10, 24*12 + 5} {
		for k := 1; k <= 3; k++ {
			periodic[origin-k] = math.NaN()
		}
	}
	newNaive := func() (forecast.Model, error) { return forecast.NewSeasonalNaive(24) }
	for _, opts := range []forecast.BacktestOptions{
		{Horizon: 24, SeasonalPeriod: 24, Window: 24 * 7, Quantiles: []float64{0.1, 0.9}},
		{Horizon: 4, SeasonalPeriod: 1, Window: 24 * 3, Origins: []int{24 * 10, 24*12 + 5}, Quantiles: []float64{0.5}},
		{Horizon: 30, SeasonalPeriod: 24, Origins: []int{24 * 10, 24*12 + 5, 24*20 - 7}},
	} {
		res, err := forecast.Backtest(t.Context(), periodic, newNaive, opts)
		require.NoError(t, err)
		require.Zero(t, res.Skipped)
		for _, or := range res.Origins {
			require.InDelta(t, 0, or.RMSE, 1e-12, "origin %d, %+v", or.Origin, opts)
		}
		for j, c := range res.Coverage {
			assert.InDelta(t, 1, c, 0, "quantile %v: the exact forecast's errors are all 0", opts.Quantiles[j])
		}
	}
}

// TestBacktestWindowEndingWithALongGap: an origin whose training window
// ends with more gap steps than the gap policy interpolates is skipped,
// as one with such a gap inside it is: the predictive strategy restarts
// its history after a long gap and forecasts nothing across it. The
// backtest forecast across any trailing run, scoring a 100-step outage's
// origin as if a model had been fitted on live data.
func TestBacktestWindowEndingWithALongGap(t *testing.T) {
	t.Parallel()
	newNaive := func() (forecast.Model, error) { return forecast.NewSeasonalNaive(24) }
	for _, tt := range []struct {
		trailing int
		gaps     forecast.GapPolicy
		skipped  bool
	}{
		{3, forecast.GapPolicy{}, false}, // the default MaxGap, 3: at the bound
		{4, forecast.GapPolicy{}, true},
		{100, forecast.GapPolicy{}, true},
		{100, forecast.GapPolicy{MaxGap: 100}, false},
		{1, forecast.GapPolicy{MaxGap: -1}, true}, // no gap interpolated
		{0, forecast.GapPolicy{MaxGap: -1}, false},
	} {
		periodic := make([]float64, 24*20)
		for i := range periodic {
			periodic[i] = float64(i%24) + 1
		}
		origin := 24 * 15
		for k := 1; k <= tt.trailing; k++ {
			periodic[origin-k] = math.NaN()
		}
		res, err := forecast.Backtest(t.Context(), periodic, newNaive, forecast.BacktestOptions{
			Horizon: 24, SeasonalPeriod: 24, Window: 24 * 7, Origins: []int{origin}, Gaps: tt.gaps})
		require.NoError(t, err)
		if tt.skipped {
			assert.Equal(t, 1, res.Skipped, "%d trailing gaps, %+v", tt.trailing, tt.gaps)
			assert.Empty(t, res.Origins)
			continue
		}
		assert.Zero(t, res.Skipped, "%d trailing gaps, %+v", tt.trailing, tt.gaps)
		require.Len(t, res.Origins, 1)
		assert.InDelta(t, 0, res.Origins[0].RMSE, 1e-12)
	}
}

// TestBacktestLargestHorizonAndStride: a Horizon or Stride too large for
// y is no error and no crash (a horizon of math.MaxInt allocated its
// buffers at that length and panicked, 1<<40 ran out of memory; a stride
// of math.MaxInt wrapped around to a negative origin, an error): the
// default origins are those whose horizon fits, explicit ones score the
// steps there are.
func TestBacktestLargestHorizonAndStride(t *testing.T) {
	t.Parallel()
	periodic := make([]float64, 24*10)
	for i := range periodic {
		periodic[i] = float64(i%24) + 1
	}
	newNaive := func() (forecast.Model, error) { return forecast.NewSeasonalNaive(24) }
	for _, h := range []int{math.MaxInt, 1 << 40, len(periodic) + 1} {
		res, err := forecast.Backtest(t.Context(), periodic, newNaive, forecast.BacktestOptions{Horizon: h, SeasonalPeriod: 24, Quantiles: []float64{0.9}})
		require.NoError(t, err, "horizon %d", h)
		assert.Empty(t, res.Origins, "horizon %d: no default origin has a full horizon", h)
		res, err = forecast.Backtest(t.Context(), periodic, newNaive, forecast.BacktestOptions{Horizon: h, SeasonalPeriod: 24, Origins: []int{48, 200}, Quantiles: []float64{0.9}})
		require.NoError(t, err, "horizon %d", h)
		require.Len(t, res.Origins, 2)
		assert.Equal(t, len(periodic)-48, res.Origins[0].Steps)
		assert.Equal(t, len(periodic)-200, res.Origins[1].Steps)
		assert.InDelta(t, 0, res.RMSE, 1e-12)
	}
	// So is a seasonal period too long for y: the default origins start
	// after two of its seasons, none (twice math.MaxInt was −2, an origin
	// error; twice MaxInt/2 + 1000 a start near −2⁶³, origins appended
	// until memory ran out).
	for _, m := range []int{math.MaxInt, math.MaxInt/2 + 1000, len(periodic)} {
		res, err := forecast.Backtest(t.Context(), periodic, newNaive, forecast.BacktestOptions{Horizon: 24, SeasonalPeriod: m})
		require.NoError(t, err, "seasonal period %d", m)
		assert.Empty(t, res.Origins, "seasonal period %d", m)
	}
	for _, stride := range []int{math.MaxInt, math.MaxInt - 10, len(periodic)} {
		res, err := forecast.Backtest(t.Context(), periodic, newNaive, forecast.BacktestOptions{Horizon: 24, SeasonalPeriod: 24, Stride: stride})
		require.NoError(t, err, "stride %d", stride)
		require.Len(t, res.Origins, 1, "stride %d", stride)
		assert.Equal(t, 48, res.Origins[0].Origin)
	}
}

func TestBacktest(t *testing.T) {
	t.Parallel()
	periodic := make([]float64, 24*20)
	for i := range periodic {
		periodic[i] = float64(i%24) + 1
	}
	newNaive := func() (forecast.Model, error) { return forecast.NewSeasonalNaive(24) }
	opts := forecast.BacktestOptions{Horizon: 24, SeasonalPeriod: 24, Window: 24 * 7, Quantiles: []float64{0.1, 0.9}}
	res, err := forecast.Backtest(t.Context(), periodic, newNaive, opts)
	require.NoError(t, err)
	require.Len(t, res.Origins, 13, "origins every 24 steps from 168 to 456")
	assert.Equal(t, 24*7, res.Origins[0].Origin)
	// Exact forecasts on a periodic series; a zero scale makes MASE NaN.
	assert.InDelta(t, 0, res.RMSE, 1e-12)
	assert.InDelta(t, 0, res.SMAPE, 1e-12)
	assert.True(t, math.IsNaN(res.MASE), "MASE is undefined when the seasonal naive error is 0")

	t.Run("noisy series, gaps and skipped origins", func(t *testing.T) {
		t.Parallel()
		y := seasonal(24*20, 100, 0, 20, 3, 8)
		for i := 200; i < 206; i++ { // a 6-step gap: origins whose window holds it are skipped
			y[i] = math.NaN()
		}
		y[24*19+3] = math.NaN() // a gap in an actual value is not scored
		res, err := forecast.Backtest(t.Context(), y, newNaive, opts)
		require.NoError(t, err)
		assert.Positive(t, res.Skipped)
		assert.Equal(t, 23, res.Origins[len(res.Origins)-1].Steps)
		assert.Greater(t, res.MASE, 0.5)
		assert.Less(t, res.MASE, 2.0)
		require.Len(t, res.Coverage, 2)
		assert.Less(t, res.Coverage[0], res.Coverage[1])
		assert.Positive(t, res.Pinball[1])
	})
	t.Run("bad options", func(t *testing.T) {
		t.Parallel()
		bad := []forecast.BacktestOptions{
			{Horizon: 0, SeasonalPeriod: 24},
			{Horizon: 24, SeasonalPeriod: 0},
			{Horizon: 24, SeasonalPeriod: 24, Window: -1},
			{Horizon: 24, SeasonalPeriod: 24, Quantiles: []float64{1.5}},
			{Horizon: 24, SeasonalPeriod: 24, Window: 100, Origins: []int{50}},
			{Horizon: 24, SeasonalPeriod: 24, Origins: []int{len(periodic)}},
			// y has no step: a duration was read in nanoseconds, so any
			// gap, however long, was interpolated.
			{Horizon: 24, SeasonalPeriod: 24, Gaps: forecast.GapPolicy{MaxGapDuration: 3 * time.Hour}},
			{Horizon: 24, SeasonalPeriod: 24, Gaps: forecast.GapPolicy{MaxGapDuration: -1}},
		}
		for i, o := range bad {
			_, err := forecast.Backtest(t.Context(), periodic, newNaive, o)
			require.ErrorIs(t, err, provider.ErrInvalid, "case %d", i)
		}
		_, err := forecast.Backtest(t.Context(), periodic, nil, opts)
		require.ErrorIs(t, err, provider.ErrInvalid)
	})
	t.Run("cancelled context", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := forecast.Backtest(ctx, periodic, newNaive, opts)
		require.ErrorIs(t, err, context.Canceled)
	})
}

// TestBacktestCancelledPartWay: a Backtest whose context ends after some
// origins returns the context's error with the origins scored so far and
// their means. It returned their MASE, sMAPE and RMSE summed, not
// averaged, and no pinball loss or coverage: with three origins scored,
// an RMSE three times the origins' own.
func TestBacktestCancelledPartWay(t *testing.T) {
	t.Parallel()
	y := seasonal(24*20, 100, 0, 20, 3, 8)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	models := 0
	newNaive := func() (forecast.Model, error) {
		if models++; models == 3 {
			cancel() // the third origin is scored, the fourth is not started
		}
		return forecast.NewSeasonalNaive(24)
	}
	opts := forecast.BacktestOptions{Horizon: 24, SeasonalPeriod: 24, Window: 24 * 7, Quantiles: []float64{0.9}}
	res, err := forecast.Backtest(ctx, y, newNaive, opts)
	require.ErrorIs(t, err, context.Canceled)
	require.Len(t, res.Origins, 3)
	var mase, smape, rmse, pinball float64
	for _, or := range res.Origins {
		mase += or.MASE / 3
		smape += or.SMAPE / 3
		rmse += or.RMSE / 3
		pinball += or.Pinball[0] / 3
	}
	assert.InDelta(t, mase, res.MASE, 1e-12)
	assert.InDelta(t, smape, res.SMAPE, 1e-9)
	assert.InDelta(t, rmse, res.RMSE, 1e-9)
	require.Len(t, res.Pinball, 1)
	assert.InDelta(t, pinball, res.Pinball[0], 1e-12)
	require.Len(t, res.Coverage, 1)
	assert.Positive(t, res.Coverage[0])
}

// TestMetricBoundaries pins the metrics at their edges: Scale with a lag
// of 1 and with no pair, Pinball at τ = 0 and 1 (NaN) and just inside,
// Coverage counting a value exactly on either bound as covered.
func TestMetricBoundaries(t *testing.T) {
	t.Parallel()
	assert.InDelta(t, 1.5, forecast.Scale([]float64{1, 2, 4}, 1), 1e-15)
	assert.True(t, math.IsNaN(forecast.Scale([]float64{1, 2, 4}, 3)))
	assert.True(t, math.IsNaN(forecast.Scale([]float64{1, 2, 4}, 0)))
	a, q := []float64{1, 3}, []float64{2, 2}
	assert.True(t, math.IsNaN(forecast.Pinball(a, q, 0)))
	assert.True(t, math.IsNaN(forecast.Pinball(a, q, 1)))
	assert.InDelta(t, 0.5, forecast.Pinball(a, q, 0.5), 1e-15) // (0.5·1 + 0.5·1)/2
	assert.InDelta(t, (0.001+0.999)/2, forecast.Pinball(a, q, math.Nextafter(1, 0)), 1e-9)
	assert.InDelta(t, 1, forecast.Coverage([]float64{1, 2}, []float64{1, 0}, []float64{3, 2}), 0, "on the lower and on the upper bound")
	assert.InDelta(t, 0.5, forecast.Coverage([]float64{1, 2}, []float64{1, 0}, []float64{3, 1.5}), 0)
}

// TestBacktestWindowStartingInAGap: an origin whose training window holds
// a gap longer than the policy allows is skipped, wherever the gap lies in
// the window. A window that began inside a long gap was trimmed to the
// steps after it (Prepare's leading gaps) and the model fitted on fewer
// steps than Window, or, for a model needing the whole window, Fit failed
// and with it the whole Backtest; a gap in the middle of the window, or at
// its end, skipped the origin.
func TestBacktestWindowStartingInAGap(t *testing.T) {
	t.Parallel()
	y := seasonal(24*20, 100, 0, 20, 3, 8)
	for i := 200; i < 230; i++ { // an outage of 30 steps
		y[i] = math.NaN()
	}
	newMean := func() (forecast.Model, error) { return forecast.NewSeasonalMean(24, 2) } // needs 72 steps
	opts := forecast.BacktestOptions{Horizon: 24, SeasonalPeriod: 24, Window: 72, Origins: []int{120, 250, 290, 400}}
	res, err := forecast.Backtest(t.Context(), y, newMean, opts)
	require.NoError(t, err)
	assert.Equal(t, 2, res.Skipped, "250 (the gap inside its window) and 290 (its window starts 12 steps into the gap)")
	require.Len(t, res.Origins, 2)
	assert.Equal(t, 120, res.Origins[0].Origin)
	assert.Equal(t, 400, res.Origins[1].Origin)

	// A series that starts with gaps: its first origin's window is
	// trimmed to the data, as before.
	z := append([]float64(nil), y[:200]...)
	for i := range 10 {
		z[i] = math.NaN()
	}
	naive := func() (forecast.Model, error) { return forecast.NewSeasonalNaive(24) }
	res, err = forecast.Backtest(t.Context(), z, naive, forecast.BacktestOptions{Horizon: 24, SeasonalPeriod: 24, Window: 72, Origins: []int{72, 150}})
	require.NoError(t, err)
	assert.Zero(t, res.Skipped)
	assert.Len(t, res.Origins, 2)
}

// TestBacktestWindowStartingAtTheEndOfAGap: a window that starts inside a
// gap too long to interpolate is skipped however few of the gap's steps
// it holds, as Backtest's doc says ("starts inside such a gap"). Only the
// steps inside the window were compared with the policy, so a window
// holding the last one to three steps (the default MaxSteps) of a
// 30-step outage was trimmed to the steps after them, and a model needing
// the whole window failed to fit and took the whole Backtest down (origin
// 300: seasonal_naive: y has 70 values, needs at least 72).
func TestBacktestWindowStartingAtTheEndOfAGap(t *testing.T) {
	t.Parallel()
	y := seasonal(24*20, 100, 0, 20, 3, 8)
	for i := 200; i < 230; i++ { // an outage of 30 steps
		y[i] = math.NaN()
	}
	newMean := func() (forecast.Model, error) { return forecast.NewSeasonalMean(24, 2) } // needs 72 steps
	opts := forecast.BacktestOptions{Horizon: 24, SeasonalPeriod: 24, Window: 72, Origins: []int{299, 300, 301, 302}}
	res, err := forecast.Backtest(t.Context(), y, newMean, opts)
	require.NoError(t, err)
	assert.Equal(t, 3, res.Skipped, "299, 300 and 301: their windows start 3, 2 and 1 steps before the outage ends")
	require.Len(t, res.Origins, 1)
	assert.Equal(t, 302, res.Origins[0].Origin)
}

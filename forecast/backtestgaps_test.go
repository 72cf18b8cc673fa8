package forecast_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/forecast"
)

// TestBacktestWindowInAGapAfterTheFirstStep: a gap that has data before
// it only at y[0] is an outage, not the series' own leading gaps, so a
// window starting inside it is skipped (the first step counts as data
// before the gap).
func TestBacktestWindowInAGapAfterTheFirstStep(t *testing.T) {
	t.Parallel()
	y := seasonal(24*10, 100, 0, 20, 3, 8)
	for i := 1; i < 40; i++ { // y[0] is data, then an outage of 39 steps
		y[i] = math.NaN()
	}
	newMean := func() (forecast.Model, error) { return forecast.NewSeasonalMean(24, 2) } // needs 72 steps
	opts := forecast.BacktestOptions{Horizon: 24, SeasonalPeriod: 24, Window: 72, Origins: []int{102, 150}}
	res, err := forecast.Backtest(t.Context(), y, newMean, opts)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Skipped, "102: its window starts 9 steps before the outage ends")
	require.Len(t, res.Origins, 1)
	assert.Equal(t, 150, res.Origins[0].Origin)
}

// TestBacktestWindowInsideTheLeadingGaps: a window that starts inside the
// series' own leading gaps, past its first step, is fitted on the data
// after them, however long they are, as Backtest's doc says: only a gap
// with data before it skips the origin.
func TestBacktestWindowInsideTheLeadingGaps(t *testing.T) {
	t.Parallel()
	z := seasonal(24*10, 100, 0, 20, 3, 8)
	for i := range 10 {
		z[i] = math.NaN()
	}
	naive := func() (forecast.Model, error) { return forecast.NewSeasonalNaive(24) }
	res, err := forecast.Backtest(t.Context(), z, naive, forecast.BacktestOptions{Horizon: 24, SeasonalPeriod: 24, Window: 72, Origins: []int{77, 150}})
	require.NoError(t, err)
	assert.Zero(t, res.Skipped, "77: its window starts 5 steps into the series' 10 leading gaps")
	require.Len(t, res.Origins, 2)
	assert.Equal(t, 77, res.Origins[0].Origin)
}

// TestBacktestWindowStartingInAShortGap: a window that starts inside a gap
// the policy allows (three steps, the default MaxSteps) is not skipped:
// it is fitted with the gap's steps it holds interpolated
// (TestBacktestWindowStartingInAShortGapIsInterpolated).
func TestBacktestWindowStartingInAShortGap(t *testing.T) {
	t.Parallel()
	y := seasonal(24*20, 100, 0, 20, 3, 8)
	for i := 200; i < 203; i++ { // a gap of 3 steps
		y[i] = math.NaN()
	}
	naive := func() (forecast.Model, error) { return forecast.NewSeasonalNaive(24) }
	opts := forecast.BacktestOptions{Horizon: 24, SeasonalPeriod: 24, Window: 72, Origins: []int{273, 274}}
	res, err := forecast.Backtest(t.Context(), y, naive, opts)
	require.NoError(t, err)
	assert.Zero(t, res.Skipped, "273 and 274: their windows start 2 steps and 1 step before the gap ends")
	require.Len(t, res.Origins, 2)
}

// TestBacktestWindowStartingInAShortGapIsInterpolated: Backtest fits each
// model on the Window steps before its origin with short gaps
// interpolated, as its doc says; a window starting inside a gap the
// policy allows was trimmed to the steps after it (Prepare reads leading
// gaps as the series' start), so a model needing the whole window failed
// to fit and a gap the policy allows took the whole Backtest down. The
// gap is now interpolated from its neighbours (the one before the
// window's start too), and the model is fitted on the whole window.
func TestBacktestWindowStartingInAShortGapIsInterpolated(t *testing.T) {
	t.Parallel()
	y := seasonal(24*20, 100, 0, 20, 3, 8)
	for i := 200; i < 203; i++ { // a gap of 3 steps, the default MaxSteps
		y[i] = math.NaN()
	}
	newMean := func() (forecast.Model, error) { return forecast.NewSeasonalMean(24, 2) } // needs 72 steps
	opts := forecast.BacktestOptions{Horizon: 24, SeasonalPeriod: 24, Window: 72, Origins: []int{273, 274}}
	res, err := forecast.Backtest(t.Context(), y, newMean, opts)
	require.NoError(t, err)
	assert.Zero(t, res.Skipped, "273 and 274: their windows start 2 steps and 1 step before the gap ends")
	require.Len(t, res.Origins, 2)
	for k, or := range res.Origins {
		t0 := opts.Origins[k]
		filled, err := forecast.Prepare(seriesOf(y[199:t0]), forecast.GapPolicy{})
		require.NoError(t, err)
		window := filled[len(filled)-72:]
		m, err := newMean()
		require.NoError(t, err)
		require.NoError(t, m.Fit(window))
		point := make([]float64, 24)
		require.NoError(t, m.Forecast(point, nil, nil))
		assert.InDelta(t, forecast.MASE(y[t0:t0+24], point, forecast.Scale(window, 24)), or.MASE, 1e-12, "origin %d", t0)
	}
}

// TestBacktestWindowThatIsAllAShortGapIsSkipped: a window that lies
// wholly inside a gap the policy allows (it starts in the gap and ends
// with it) has no value to fit on once its end's gap is trimmed: that
// origin is skipped, as a window ending in a gap it cannot forecast
// across is, and the other origins are scored, rather than the model
// being fitted on nothing and the whole Backtest failing.
func TestBacktestWindowThatIsAllAShortGapIsSkipped(t *testing.T) {
	t.Parallel()
	y := seasonal(24*20, 100, 0, 20, 3, 8)
	for i := 200; i < 203; i++ { // a gap of 3 steps, the default MaxSteps
		y[i] = math.NaN()
	}
	last := func() (forecast.Model, error) {
		return forecast.NewFunc(1, func(w, dst []float64) {
			for i := range dst {
				dst[i] = w[len(w)-1]
			}
		}, forecast.IntervalOptions{})
	}
	opts := forecast.BacktestOptions{Horizon: 24, SeasonalPeriod: 24, Window: 3, Origins: []int{203, 250}}
	res, err := forecast.Backtest(t.Context(), y, last, opts)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Skipped, "203: its window y[200:203] is the gap")
	require.Len(t, res.Origins, 1)
	assert.Equal(t, 250, res.Origins[0].Origin)
}

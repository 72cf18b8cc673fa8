package forecast_test

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/forecast"
)

// A zero MASE scale makes MASE and the scaled pinball loss undefined (NaN
// or Inf), which JSON cannot hold: BacktestResult writes them as null and
// reads null back as NaN, and keeps every finite figure exactly.
func TestBacktestResultJSONWithUndefinedScores(t *testing.T) {
	t.Parallel()
	periodic := make([]float64, 24*12)
	for i := range periodic {
		periodic[i] = float64(i%24) + 1
	}
	newNaive := func() (forecast.Model, error) { return forecast.NewSeasonalNaive(24) }
	res, err := forecast.Backtest(t.Context(), periodic, newNaive, forecast.BacktestOptions{Horizon: 24, SeasonalPeriod: 24, Window: 24 * 7, Quantiles: []float64{0.1, 0.9}})
	require.NoError(t, err)
	require.NotEmpty(t, res.Origins)
	require.True(t, math.IsNaN(res.MASE), "the premise: a zero scale")

	data, err := json.Marshal(res)
	require.NoError(t, err)
	var back forecast.BacktestResult
	require.NoError(t, json.Unmarshal(data, &back))
	require.Len(t, back.Origins, len(res.Origins))
	assert.True(t, math.IsNaN(back.MASE))
	assert.True(t, math.IsNaN(back.Origins[0].MASE))
	assert.InDelta(t, res.RMSE, back.RMSE, 0)
	assert.Equal(t, res.Origins[0].Origin, back.Origins[0].Origin)
	assert.Equal(t, res.Origins[0].Below, back.Origins[0].Below)
	assert.Equal(t, res.Coverage, back.Coverage)
	for j, p := range res.Pinball {
		if math.IsNaN(p) || math.IsInf(p, 0) {
			assert.True(t, math.IsNaN(back.Pinball[j]), "pinball %d", j)
		} else {
			assert.InDelta(t, p, back.Pinball[j], 0)
		}
	}

	// Finite results round-trip unchanged.
	noisy := seasonal(24*12, 100, 0, 20, 3, 8)
	res, err = forecast.Backtest(t.Context(), noisy, newNaive, forecast.BacktestOptions{Horizon: 24, SeasonalPeriod: 24, Window: 24 * 7, Quantiles: []float64{0.9}})
	require.NoError(t, err)
	data, err = json.Marshal(res)
	require.NoError(t, err)
	back = forecast.BacktestResult{}
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, res, back)
	assert.Contains(t, string(data), `"mase":`)
}

// TestBacktestWithoutScoredOrigins: when no origin is scored (every
// training window has a gap too long to interpolate, or no default origin
// fits) the means are undefined, NaN and null in JSON. They were 0, a
// perfect MASE, sMAPE and RMSE, and the quantiles had no entries.
func TestBacktestWithoutScoredOrigins(t *testing.T) {
	t.Parallel()
	y := seasonal(24*10, 100, 0, 20, 3, 8)
	for i := 24 * 4; i < 24*7; i++ {
		y[i] = math.NaN() // the windows before steps 192 and 216 hold a gap of 72 steps
	}
	newNaive := func() (forecast.Model, error) { return forecast.NewSeasonalNaive(24) }
	for _, opts := range []forecast.BacktestOptions{
		{Horizon: 24, SeasonalPeriod: 24, Origins: []int{24 * 8, 24 * 9}, Quantiles: []float64{0.1, 0.9}},
		{Horizon: 24, SeasonalPeriod: 24, Window: 24 * 20, Quantiles: []float64{0.1, 0.9}}, // no origin has a full window
	} {
		res, err := forecast.Backtest(t.Context(), y, newNaive, opts)
		require.NoError(t, err)
		require.Empty(t, res.Origins)
		for name, v := range map[string]float64{"mase": res.MASE, "smape": res.SMAPE, "rmse": res.RMSE} {
			assert.True(t, math.IsNaN(v), "%s %v: no origin, no mean", name, v)
		}
		require.Len(t, res.Pinball, 2)
		require.Len(t, res.Coverage, 2)
		for j := range 2 {
			assert.True(t, math.IsNaN(res.Pinball[j]), "pinball %d", j)
			assert.True(t, math.IsNaN(res.Coverage[j]), "coverage %d", j)
		}
		data, err := json.Marshal(res)
		require.NoError(t, err)
		assert.Contains(t, string(data), `"mase":null`)
	}
}

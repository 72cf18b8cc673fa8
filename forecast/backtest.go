package forecast

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// BacktestOptions configures Backtest. Horizon and SeasonalPeriod are
// required; the zero value of the rest means the defaults.
type BacktestOptions struct {
	// Horizon is the number of steps forecast from every origin. Required.
	Horizon int `json:"horizon"`
	// SeasonalPeriod is m of the MASE scale (24 for hourly data, as in
	// M4). Required.
	SeasonalPeriod int `json:"seasonal_period"`
	// Window is the number of steps before each origin that the model is
	// fitted on. Default (0): every step before the origin (expanding
	// window).
	Window int `json:"window,omitempty"`
	// Origins are the indices of the first forecast step of each origin.
	// Default: every Stride steps from the first origin with a full
	// window (or 2·SeasonalPeriod) to the last with a full horizon.
	Origins []int `json:"origins,omitempty"`
	// Stride is the spacing of the default origins. Default: Horizon.
	Stride int `json:"stride,omitempty"`
	// Quantiles are scored with the pinball loss and coverage. Optional.
	Quantiles []float64 `json:"quantiles,omitempty"`
	// Gaps prepares each training window; an origin whose window has a
	// longer gap is skipped and counted in BacktestResult.Skipped.
	Gaps GapPolicy `json:"gaps,omitzero"`
}

// OriginResult is the accuracy at one origin. Steps whose actual value is a
// gap are left out. MASE and Pinball are undefined (NaN, or +Inf for a
// positive pinball loss) when Scale is 0 (an exactly periodic training
// window) or NaN; JSON holds them as null, read back as NaN.
type OriginResult struct {
	// Origin is the index of the first forecast step.
	Origin int `json:"origin"`
	// Steps is the number of scored steps.
	Steps int `json:"steps"`
	// Scale is the MASE denominator of the training window.
	Scale float64 `json:"scale"`
	// MASE, SMAPE (percent) and RMSE of the point forecast.
	MASE  float64 `json:"mase"`
	SMAPE float64 `json:"smape"`
	RMSE  float64 `json:"rmse"`
	// Pinball is the scaled pinball loss per quantile (pinball / Scale).
	Pinball []float64 `json:"pinball,omitempty"`
	// Below counts, per quantile, the actual values ≤ the quantile forecast.
	Below []int `json:"below,omitempty"`
}

// BacktestResult aggregates a Backtest. A mean over origins one of which
// has an undefined score is undefined too (see OriginResult); JSON holds
// it as null, read back as NaN.
type BacktestResult struct {
	// Origins holds one entry per scored origin, in order.
	Origins []OriginResult `json:"origins"`
	// Skipped counts origins not scored because the training window had a
	// gap too long to interpolate or no scored step.
	Skipped int `json:"skipped"`
	// MASE, SMAPE and RMSE are means over the scored origins.
	MASE  float64 `json:"mase"`
	SMAPE float64 `json:"smape"`
	RMSE  float64 `json:"rmse"`
	// Pinball is the mean scaled pinball loss per quantile.
	Pinball []float64 `json:"pinball,omitempty"`
	// Coverage is, per quantile, the share of actual values at or below the
	// quantile forecast (0.9 is ideal for the 0.9 quantile).
	Coverage []float64 `json:"coverage,omitempty"`
}

// Backtest evaluates a model over rolling origins (Tashman 2000): for each
// origin t it builds a fresh model with newModel, fits it on the Window
// steps before t (short gaps interpolated), forecasts Horizon steps and
// scores them against y[t:t+Horizon] with MASE (scaled by the training
// window's seasonal naive error, as in M4), sMAPE, RMSE, scaled pinball
// loss and coverage. Gaps (NaN) in y are allowed: a gap in the actual
// values is not scored, and an origin whose training window has a gap
// longer than opts.Gaps allows is skipped. It returns the first error of
// newModel, Fit or Forecast (wrapped with the origin), ctx's error when ctx
// ends, and an error matching provider.ErrInvalid for invalid options.
func Backtest(ctx context.Context, y []float64, newModel func() (Model, error), opts BacktestOptions) (BacktestResult, error) {
	var res BacktestResult
	if newModel == nil {
		return res, provider.Invalid("new_model", nil, "must not be nil")
	}
	if opts.Horizon < 1 {
		return res, provider.Invalid("horizon", opts.Horizon, "must be ≥ 1")
	}
	if opts.SeasonalPeriod < 1 {
		return res, provider.Invalid("seasonal_period", opts.SeasonalPeriod, "must be ≥ 1")
	}
	if opts.Window < 0 || opts.Stride < 0 {
		return res, provider.Invalid("window", opts.Window, "window and stride must be ≥ 0")
	}
	for i, v := range y {
		if math.IsInf(v, 0) {
			return res, provider.Invalid(fmt.Sprintf("y[%d]", i), v, "must be finite or NaN (gap)")
		}
	}
	for j, q := range opts.Quantiles {
		if !(q > 0 && q < 1) {
			return res, provider.Invalid(fmt.Sprintf("quantiles[%d]", j), q, "must be in (0, 1)")
		}
	}
	H := opts.Horizon
	origins := opts.Origins
	if len(origins) == 0 {
		stride := opts.Stride
		if stride == 0 {
			stride = H
		}
		first := opts.Window
		if first == 0 {
			first = 2 * opts.SeasonalPeriod
		}
		for t := first; t+H <= len(y); t += stride {
			origins = append(origins, t)
		}
	}
	point := make([]float64, H)
	bands := make([][]float64, len(opts.Quantiles))
	for j := range bands {
		bands[j] = make([]float64, H)
	}
	nq := len(opts.Quantiles)
	pinSum := make([]float64, nq)
	below := make([]int, nq)
	steps := 0
	for i, t := range origins {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		lo := 0
		if opts.Window > 0 {
			lo = t - opts.Window
		}
		if lo < 0 || t >= len(y) || t < 1 {
			return res, provider.Invalid(fmt.Sprintf("origins[%d]", i), t, fmt.Sprintf("needs %d steps before it inside y (len %d)", opts.Window, len(y)))
		}
		train, err := Prepare(provider.Series{Start: epoch, Step: 1, Values: y[lo:t]}, opts.Gaps)
		if err != nil {
			res.Skipped++
			continue
		}
		m, err := newModel()
		if err != nil {
			return res, fmt.Errorf("forecast: backtest: new model: %w", err)
		}
		if err := m.Fit(train); err != nil {
			return res, fmt.Errorf("forecast: backtest: origin %d: %w", t, err)
		}
		h := min(H, len(y)-t)
		if err := m.Forecast(point[:h], opts.Quantiles, trimBands(bands, h)); err != nil {
			return res, fmt.Errorf("forecast: backtest: origin %d: %w", t, err)
		}
		or := OriginResult{Origin: t, Scale: Scale(train, opts.SeasonalPeriod), Pinball: make([]float64, nq), Below: make([]int, nq)}
		var act, fc []float64
		for k := range h {
			if math.IsNaN(y[t+k]) {
				continue
			}
			act = append(act, y[t+k])
			fc = append(fc, point[k])
			for j, tau := range opts.Quantiles {
				d := y[t+k] - bands[j][k]
				or.Pinball[j] += math.Max(tau*d, (tau-1)*d)
				if d <= 0 {
					or.Below[j]++
				}
			}
		}
		if len(act) == 0 {
			res.Skipped++
			continue
		}
		or.Steps = len(act)
		or.MASE = MASE(act, fc, or.Scale)
		or.SMAPE = SMAPE(act, fc)
		or.RMSE = RMSE(act, fc)
		for j := range or.Pinball {
			or.Pinball[j] /= float64(len(act)) * or.Scale
			pinSum[j] += or.Pinball[j]
			below[j] += or.Below[j]
		}
		steps += len(act)
		res.Origins = append(res.Origins, or)
		res.MASE += or.MASE
		res.SMAPE += or.SMAPE
		res.RMSE += or.RMSE
	}
	if k := float64(len(res.Origins)); k > 0 {
		res.MASE /= k
		res.SMAPE /= k
		res.RMSE /= k
		res.Pinball = make([]float64, nq)
		res.Coverage = make([]float64, nq)
		for j := range nq {
			res.Pinball[j] = pinSum[j] / k
			res.Coverage[j] = float64(below[j]) / float64(steps)
		}
	}
	return res, nil
}

// epoch stamps the internal series Backtest prepares; only its step
// matters.
var epoch = time.Unix(0, 0).UTC()

func trimBands(b [][]float64, h int) [][]float64 {
	for j := range b {
		b[j] = b[j][:h]
	}
	return b
}

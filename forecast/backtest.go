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
	// longer gap is skipped and counted in BacktestResult.Skipped. Its
	// MaxGap counts steps; a MaxGapDuration is an error (y has no step to
	// convert it with).
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
// has an undefined score is undefined too (see OriginResult), and so is
// every mean (MASE, SMAPE, RMSE, each Pinball and Coverage) when no origin
// was scored; JSON holds them as null, read back as NaN.
type BacktestResult struct {
	// Origins holds one entry per scored origin, in order.
	Origins []OriginResult `json:"origins"`
	// Skipped counts origins not scored because the training window had a
	// gap too long to interpolate (at its start or end too) or no scored
	// step.
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
// values is not scored, an origin whose training window has a gap
// longer than opts.Gaps allows is skipped, and so is one whose window
// starts inside such a gap (a window that starts in a shorter one is
// fitted with it interpolated from the value before the window, and one
// that starts in the series' own leading gaps on the data after them)
// or ends with one (the
// predictive strategy restarts its history after one, and forecasts
// nothing across it); when the window ends with
// a shorter run of gaps, the model forecasts across them and is scored
// from t on. It returns the first error of
// newModel, Fit or Forecast (wrapped with the origin), ctx's error when ctx
// ends (checked between origins, and inside a fit of a model that is a
// ContextFitter, such as Auto), and an error matching provider.ErrInvalid
// for invalid options.
// With the error of an origin or of ctx, the result holds the origins
// scored before it and their means, as a complete one does.
func Backtest(ctx context.Context, y []float64, newModel func() (Model, error), opts BacktestOptions) (BacktestResult, error) {
	var res BacktestResult
	if err := checkBacktest(y, newModel, opts); err != nil {
		return res, err
	}
	b := newBacktester(y, newModel, opts)
	for i, t := range opts.originsFor(len(y)) {
		if err := ctx.Err(); err != nil {
			res.average(len(opts.Quantiles))
			return res, err
		}
		or, ok, err := b.origin(ctx, i, t)
		if err != nil {
			res.average(len(opts.Quantiles))
			return res, err
		}
		if !ok {
			res.Skipped++
			continue
		}
		res.Origins = append(res.Origins, or)
		res.MASE += or.MASE
		res.SMAPE += or.SMAPE
		res.RMSE += or.RMSE
	}
	res.average(len(opts.Quantiles))
	return res, nil
}

// checkBacktest validates Backtest's arguments.
func checkBacktest(y []float64, newModel func() (Model, error), opts BacktestOptions) error {
	if newModel == nil {
		return provider.Invalid("new_model", nil, "must not be nil")
	}
	if opts.Horizon < 1 {
		return provider.Invalid("horizon", opts.Horizon, "must be ≥ 1")
	}
	if opts.SeasonalPeriod < 1 {
		return provider.Invalid("seasonal_period", opts.SeasonalPeriod, "must be ≥ 1")
	}
	if opts.Window < 0 {
		return provider.Invalid("window", opts.Window, "must be ≥ 0 (0 means every step before the origin)")
	}
	if opts.Stride < 0 {
		return provider.Invalid("stride", opts.Stride, "must be ≥ 0 (0 means the horizon)")
	}
	if opts.Gaps.MaxGapDuration != 0 {
		// Prepare would convert it with a step of 1 ns: any gap would be
		// interpolated.
		return provider.Invalid("gaps.max_gap_duration", opts.Gaps.MaxGapDuration, "y has no step to convert it with: give gaps.max_gap in steps")
	}
	for i, v := range y {
		if math.IsInf(v, 0) {
			return provider.Invalid(fmt.Sprintf("y[%d]", i), v, "must be finite or NaN (gap)")
		}
	}
	for j, q := range opts.Quantiles {
		if !(q > 0 && q < 1) {
			return provider.Invalid(fmt.Sprintf("quantiles[%d]", j), q, "must be in (0, 1)")
		}
	}
	return nil
}

// originsFor returns o.Origins, or by default one origin every Stride
// steps from the first with a full window (or 2·SeasonalPeriod) to the
// last with a full horizon inside n steps.
func (o BacktestOptions) originsFor(n int) []int {
	if len(o.Origins) > 0 {
		return o.Origins
	}
	stride := o.Stride
	if stride == 0 {
		stride = o.Horizon
	}
	first := o.Window
	if first == 0 {
		first = 2 * min(o.SeasonalPeriod, n) // past n: no origin, and 2·m may overflow
	}
	var origins []int
	for t := first; t <= n-o.Horizon; t += stride { // not t+Horizon ≤ n: it overflows
		origins = append(origins, t)
		if stride > n-t {
			break // t+stride is past n, or overflows
		}
	}
	return origins
}

// backtester is one Backtest: its inputs and the forecast buffers reused
// from origin to origin.
type backtester struct {
	y        []float64
	newModel func() (Model, error)
	opts     BacktestOptions
	point    []float64
	bands    [][]float64
}

func newBacktester(y []float64, newModel func() (Model, error), opts BacktestOptions) *backtester {
	h := min(opts.Horizon, len(y)) // no origin forecasts further (grow)
	b := &backtester{y: y, newModel: newModel, opts: opts, point: make([]float64, h), bands: make([][]float64, len(opts.Quantiles))}
	for j := range b.bands {
		b.bands[j] = make([]float64, h)
	}
	return b
}

// origin fits a fresh model on the window before origin t (the i-th),
// forecasts from t and scores the forecast. ok is false when the origin is
// skipped: its window has a gap too long to interpolate, or no actual
// value in the horizon is present.
func (b *backtester) origin(ctx context.Context, i, t int) (or OriginResult, ok bool, err error) {
	y, opts := b.y, b.opts
	lo := 0
	if opts.Window > 0 {
		lo = t - opts.Window
	}
	if lo < 0 || t >= len(y) || t < 1 {
		return or, false, provider.Invalid(fmt.Sprintf("origins[%d]", i), t, fmt.Sprintf("needs %d steps before it inside y (len %d)", opts.Window, len(y)))
	}
	early := leadingGap(y, lo, t)
	if early > opts.Gaps.MaxSteps(1) {
		// The window starts inside a gap of the series too long to
		// interpolate, which Prepare trims as the series' own start:
		// skipped as one inside the window or at its end.
		return or, false, nil
	}
	// A shorter gap cut by the window's start is interpolated, as one
	// inside the window is, from the value before it: prepared from
	// there, and the steps before lo dropped (Prepare would trim it as
	// the series' leading gaps, and fit on fewer than Window steps).
	from := lo
	if early > 0 {
		from--
		for math.IsNaN(y[from]) {
			from--
		}
	}
	train, err := Prepare(provider.Series{Start: epoch, Step: 1, Values: y[from:t]}, opts.Gaps)
	if err != nil || len(train) <= lo-from {
		return or, false, nil
	}
	train = train[lo-from:]
	m, err := b.newModel()
	if err != nil {
		return or, false, fmt.Errorf("forecast: backtest: new model: %w", err)
	}
	if err := fitContext(ctx, m, train); err != nil {
		return or, false, fmt.Errorf("forecast: backtest: origin %d: %w", t, err)
	}
	// Prepare trims the gaps at the window's end: the model's first
	// forecast step is then the first of them, not t, and its forecast of
	// t comes that many steps later.
	late := 0
	for k := t - 1; k >= lo && math.IsNaN(y[k]); k-- {
		late++
	}
	if late > opts.Gaps.MaxSteps(1) {
		// Not interpolated inside the window, not forecast across at
		// its end either.
		return or, false, nil
	}
	h := min(opts.Horizon, len(y)-t)
	b.grow(late + h)
	if err := m.Forecast(b.point[:late+h], opts.Quantiles, trimBands(b.bands, late+h)); err != nil {
		return or, false, fmt.Errorf("forecast: backtest: origin %d: %w", t, err)
	}
	or, ok = scoreOrigin(t, y[t:t+h], b.point[late:late+h], trimFront(b.bands, late), opts.Quantiles, Scale(train, opts.SeasonalPeriod))
	return or, ok, nil
}

// leadingGap returns the length of the gap y[lo:t] starts with when it
// continues a gap that has data before it in y (a gap cut by the
// window's start): the whole gap's, from its first step before lo, which
// is what the policy allows or not, however few of its steps the window
// holds. It returns 0 when the window starts with the series' own
// leading gap or with no gap.
func leadingGap(y []float64, lo, t int) int {
	k := lo
	for k < t && math.IsNaN(y[k]) {
		k++
	}
	if k == lo {
		return 0
	}
	for j := lo - 1; j >= 0; j-- {
		if !math.IsNaN(y[j]) {
			return k - (j + 1)
		}
	}
	return 0 // the series starts with gaps
}

// grow makes the forecast buffers hold at least n steps.
func (b *backtester) grow(n int) {
	if cap(b.point) >= n {
		return
	}
	b.point = make([]float64, n)
	for j := range b.bands {
		b.bands[j] = make([]float64, n)
	}
}

// scoreOrigin scores the point forecast and the quantile forecasts
// bands[j] of origin t against actual, leaving out the gaps (NaN) of
// actual; ok is false when every actual value is a gap.
func scoreOrigin(t int, actual, point []float64, bands [][]float64, quantiles []float64, scale float64) (or OriginResult, ok bool) {
	nq := len(quantiles)
	or = OriginResult{Origin: t, Scale: scale, Pinball: make([]float64, nq), Below: make([]int, nq)}
	var act, fc []float64
	for k, a := range actual {
		if math.IsNaN(a) {
			continue
		}
		act = append(act, a)
		fc = append(fc, point[k])
		for j, tau := range quantiles {
			d := a - bands[j][k]
			or.Pinball[j] += math.Max(tau*d, (tau-1)*d)
			if d <= 0 {
				or.Below[j]++
			}
		}
	}
	if len(act) == 0 {
		return or, false
	}
	or.Steps = len(act)
	or.MASE = MASE(act, fc, or.Scale)
	or.SMAPE = SMAPE(act, fc)
	or.RMSE = RMSE(act, fc)
	for j := range or.Pinball {
		or.Pinball[j] /= float64(len(act)) * or.Scale
	}
	return or, true
}

// average turns the sums of MASE, SMAPE and RMSE over the scored origins
// into means, and computes the mean scaled pinball loss and the coverage
// of each of the nq quantiles; all are NaN without a scored origin.
func (r *BacktestResult) average(nq int) {
	k := float64(len(r.Origins))
	if k == 0 {
		// A mean of nothing: not 0, a perfect score.
		r.MASE, r.SMAPE, r.RMSE = math.NaN(), math.NaN(), math.NaN()
		r.Pinball, r.Coverage = make([]float64, nq), make([]float64, nq)
		for j := range nq {
			r.Pinball[j], r.Coverage[j] = math.NaN(), math.NaN()
		}
		return
	}
	r.MASE /= k
	r.SMAPE /= k
	r.RMSE /= k
	r.Pinball = make([]float64, nq)
	r.Coverage = make([]float64, nq)
	below := make([]int, nq)
	steps := 0
	for _, or := range r.Origins {
		steps += or.Steps
		for j := range nq {
			r.Pinball[j] += or.Pinball[j]
			below[j] += or.Below[j]
		}
	}
	for j := range nq {
		r.Pinball[j] /= k
		r.Coverage[j] = float64(below[j]) / float64(steps)
	}
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

// trimFront returns the bands without their first k steps (a new outer
// slice; the steps are shared).
func trimFront(b [][]float64, k int) [][]float64 {
	if k == 0 {
		return b
	}
	out := make([][]float64, len(b))
	for j := range b {
		out[j] = b[j][k:]
	}
	return out
}

package scaling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/idlescale/idlescale/forecast"
	"github.com/idlescale/idlescale/provider"
)

// PredictiveStatus is what a Predictive strategy knows of one target.
type PredictiveStatus struct {
	// Standing is how its last decision was made.
	Standing PredictiveStanding `json:"standing"`
	// Patterns are the seasons the model was given (detected in the
	// history unless PredictiveConfig.Periods names them), shortest first.
	Patterns []Pattern `json:"patterns,omitempty"`
	// Model is the forecast model in use (forecast.Spec's text), empty
	// when there is none.
	Model string `json:"model,omitempty"`
	// MASE is the rolling forecast error over the last ErrorWindow; NaN
	// (−1 in JSON) while fewer than a quarter of its steps (at least 4, or
	// all of a window of fewer) were scored, unless at least 4 were over a
	// quarter of its time (a host that decides less often than every
	// fourth step: only the steps decided for are scored).
	MASE float64 `json:"mase"`
	// History is the usable history at the last decision.
	History time.Duration `json:"history"`
	// SelectedAt and FittedAt are when the model was last chosen and
	// last fitted (zero when never).
	SelectedAt time.Time `json:"selected_at,omitzero"`
	// FittedAt is when the model's parameters were last estimated.
	FittedAt time.Time `json:"fitted_at,omitzero"`
	// Err is why there is no forecast, if there is none: why no model
	// could be fitted, or why the last decision's forecast failed.
	Err string `json:"error,omitempty"`
}

// predictiveStatusJSON is PredictiveStatus without its methods.
type predictiveStatusJSON PredictiveStatus

// MarshalJSON encodes s, an unknown (NaN) MASE as −1: encoding/json
// refuses NaN.
func (s PredictiveStatus) MarshalJSON() ([]byte, error) {
	if math.IsNaN(s.MASE) {
		s.MASE = -1
	}
	return json.Marshal(predictiveStatusJSON(s))
}

// UnmarshalJSON decodes what MarshalJSON wrote: a negative MASE (−1) is
// unknown, NaN.
func (s *PredictiveStatus) UnmarshalJSON(b []byte) error {
	var j predictiveStatusJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if j.MASE < 0 {
		j.MASE = math.NaN()
	}
	*s = PredictiveStatus(j)
	return nil
}

// Pattern is a season found in a demand series.
type Pattern struct {
	// Name is "daily", "weekly" or "every <period>".
	Name string `json:"name"`
	// Period is the season's length.
	Period time.Duration `json:"period"`
}

// patternOf names a season of period d.
func patternOf(d time.Duration) Pattern {
	switch d {
	case 24 * time.Hour:
		return Pattern{Name: "daily", Period: d}
	case 7 * 24 * time.Hour:
		return Pattern{Name: "weekly", Period: d}
	}
	return Pattern{Name: "every " + d.String(), Period: d}
}

// timedValue is a point forecast for the step starting at At.
type timedValue struct {
	At time.Time
	V  float64
}

// predictor is the per-target state of a Predictive strategy: the fitted
// model, how far the series was fed into it, and the rolling error.
type predictor struct {
	cfg PredictiveConfig
	mu  sync.Mutex

	model   forecast.Model // nil: none (short history or a failed fit)
	spec    forecast.Spec
	periods []int
	fitErr  error
	fcErr   error // why the last decision's forecast failed, or its first fit was stopped by ctx (nil: neither)
	fitCut  error // why the last decision forecast with the model in use though a fit was due: stopped by ctx (nil: none)

	grid     time.Time // a step boundary of the series' grid
	lastNow  time.Time
	usable   time.Time // start of the usable history (after the last long gap)
	fedEnd   time.Time // end of the last step fed into the model
	seenEnd  time.Time // end of the last complete step read
	lastVal  float64   // the last value fed (interpolation's left end)
	last     float64   // the last step's demand (NaN when a gap)
	longGap  bool      // the usable history starts after a long gap
	fitAt    time.Time
	selectAt time.Time
	standing PredictiveStanding
	// fellBack is set while the standing is fallback and kept through a
	// failed fit or forecast (no model) until it forecasts again: the
	// hysteresis holds across them.
	fellBack bool
	history  time.Duration

	// The rolling error: point forecasts waiting for their step, and a
	// ring of the absolute errors of the steps scored in the last
	// ErrorWindow (errAt their steps' starts, oldest at errPos − errN).
	preds  []timedValue
	errs   []float64
	errAt  []time.Time
	errPos int
	errN   int
	errSum float64
	errAt0 time.Time // the start of the first step scored since the ring was last empty
	scale  float64   // the larger in-sample error of the naive and seasonal naive forecasts

	point, band []float64
	fitBuf      []float64 // the values of the last fit window
	quantile    [1]float64
	bands       [1][]float64
}

func newPredictor(c PredictiveConfig) *predictor {
	// The forecast buffers grow when a gap at the end makes a forecast
	// longer (grow), not to the longest gap the policy allows,
	// which may be any number of steps.
	n := c.forecastSteps() + min(c.maxGap(), maxPredictiveForecastSteps) + 1
	p := &predictor{
		cfg:   c,
		errs:  make([]float64, c.steps(c.ErrorWindow)),
		errAt: make([]time.Time, c.steps(c.ErrorWindow)),
		point: make([]float64, n),
		band:  make([]float64, n),
		last:  math.NaN(),
	}
	p.quantile[0] = c.Quantile
	return p
}

// maxGap is the longest run of gap steps interpolated (forecast.Prepare's
// rule).
func (c PredictiveConfig) maxGap() int { return c.Gaps.MaxSteps(c.Step) }

// reset forgets the model and the error record.
func (p *predictor) reset() {
	p.model, p.spec, p.periods, p.fitErr, p.fitCut = nil, forecast.Spec{}, nil, nil, nil
	p.fedEnd, p.seenEnd, p.usable, p.lastNow = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	p.fitAt, p.selectAt = time.Time{}, time.Time{}
	p.clearErrors()
	p.last, p.longGap = math.NaN(), false
}

// clearErrors forgets the forecasts waiting for their step and the
// rolling error.
func (p *predictor) clearErrors() {
	p.preds = p.preds[:0]
	clear(p.errs)
	p.errPos, p.errN, p.errSum = 0, 0, 0
	p.fellBack = false // the next model is judged by its own error
}

// observe brings the predictor up to date with ser at now: it feeds the
// complete steps it has not seen into the model (interpolating short
// gaps), scores its earlier forecasts, and fits or refits the model when
// due. It returns an error for demand it cannot use (negative).
func (p *predictor) observe(ctx context.Context, ser provider.Series, now time.Time) error {
	c := p.cfg
	// Only the values read are checked (checkValue), not the whole series
	// on every decision.
	if ser.Step <= 0 || ser.Start.IsZero() {
		return provider.Invalid(string(c.Metric)+".step", ser.Step, "the series needs a step > 0 and a start")
	}
	n := len(ser.Values)
	if !now.Before(ser.End()) {
		// every step is complete
	} else if now.Before(ser.Start) {
		n = 0
	} else {
		n = int(now.Sub(ser.Start) / ser.Step) // the steps ending by now
	}
	end := ser.TimeAt(n)
	continues := !p.fedEnd.IsZero() && !now.Before(p.lastNow) && ser.Start.Sub(p.grid)%c.Step == 0 &&
		!p.seenEnd.Before(ser.Start) && !p.seenEnd.After(end)
	if !continues {
		p.reset()
		p.grid = ser.Start
		if err := p.rebuild(ser, n); err != nil {
			return err
		}
	} else if err := p.feed(ser, n); err != nil {
		return err
	}
	p.lastNow = now
	p.seenEnd = end
	p.expireErrors(end.Add(-c.ErrorWindow))
	if p.usable.IsZero() || p.usable.After(end) {
		p.history = 0
	} else {
		p.history = end.Sub(p.usable)
	}
	if p.history < c.MinHistory {
		p.model, p.fitErr = nil, nil
		p.standing = StandingShortHistory
		return nil
	}
	if err := p.fitIfDue(ctx, ser, n, now); err != nil {
		if p.model == nil {
			// Stopped by ctx before any model was fitted: none is in use,
			// and the status says why (a host whose every decision ends
			// before a fit would see nothing otherwise). Not a failed fit:
			// the next decision fits again.
			p.standing, p.fcErr = StandingNoModel, err
		}
		return err
	}
	switch {
	case p.model == nil:
		p.standing = StandingNoModel
	case p.maseAbove(c.MaxError):
		p.standing = StandingFallback
	case p.fellBack && p.maseAbove(recoverFraction*c.MaxError):
		// Hysteresis: it stays reactive until the error is well below the
		// bound, rather than flip the capacity between the forecast's and
		// the reactive one at every crossing of an error hovering around it
		// (a fit or forecast that failed meanwhile included).
		p.standing = StandingFallback
	default:
		p.standing = StandingForecast
	}
	switch p.standing {
	case StandingFallback:
		p.fellBack = true
	case StandingForecast:
		p.fellBack = false
	}
	return nil
}

// recoverFraction is the share of MaxError at or below which a strategy
// that fell back sizes from its forecast again.
const recoverFraction = 0.9

// rebuild reads ser's first n steps afresh: the usable history starts
// after the last gap longer than the gap policy allows, and no model is
// fitted yet (fitIfDue fits one).
func (p *predictor) rebuild(ser provider.Series, n int) error {
	maxGap := p.cfg.maxGap()
	p.usable = ser.Start
	run := 0
	for i := n - 1; i >= 0; i-- {
		v := ser.Values[i]
		if err := p.checkValue(ser, i); err != nil {
			return err
		}
		if math.IsNaN(v) {
			run++
			continue
		}
		if run > maxGap {
			p.usable = ser.TimeAt(i + 1 + run)
			p.longGap = true
			run = 0
			break
		}
		run = 0
	}
	if run > maxGap {
		// A long gap at the start (every step, when run = n): the
		// history starts after it too.
		p.usable = ser.TimeAt(run)
		p.longGap = true
	}
	p.last = math.NaN()
	if n > 0 {
		p.last = ser.Values[n-1]
	}
	// The last demand known, for a series that ends with a gap (a gap is
	// never read as zero demand); NaN when every step is one.
	p.lastVal = math.NaN()
	for i := n - 1; i >= 0; i-- {
		if !math.IsNaN(ser.Values[i]) {
			p.lastVal = ser.Values[i]
			break
		}
	}
	// Nothing is fed until a model is fitted: fedEnd marks the state as
	// read up to the last complete step.
	p.fedEnd = ser.TimeAt(n)
	return nil
}

// checkValue returns an error for a negative or infinite demand at step i.
func (p *predictor) checkValue(ser provider.Series, i int) error {
	v := ser.Values[i]
	if v < 0 || math.IsInf(v, 0) {
		return provider.Invalid(fmt.Sprintf("%s[%s]", p.cfg.Metric, ser.TimeAt(i).UTC().Format(time.RFC3339)), v, "demand must be finite and ≥ 0")
	}
	return nil
}

// feed feeds ser's steps from fedEnd to step n into the model, scoring the
// forecasts made for them. A run of gap steps no longer than the gap
// policy is interpolated once the step after it is known; a longer run
// restarts the usable history after it.
func (p *predictor) feed(ser provider.Series, n int) error {
	i, _ := ser.Index(p.fedEnd)
	if p.fedEnd.Before(ser.Start) {
		i = 0
	}
	maxGap := p.cfg.maxGap()
	for i < n {
		if err := p.checkValue(ser, i); err != nil {
			return err
		}
		v := ser.Values[i]
		if !math.IsNaN(v) {
			p.push(ser.TimeAt(i), v)
			i++
			continue
		}
		j := i
		for j < n && math.IsNaN(ser.Values[j]) {
			j++
		}
		if j-i > maxGap {
			// A long gap: the history restarts after it, and so does the
			// rolling error (the next model is judged by its own).
			p.model, p.spec, p.periods = nil, forecast.Spec{}, nil
			p.clearErrors()
			p.usable, p.longGap = ser.TimeAt(j), true
			p.fitAt, p.selectAt = time.Time{}, time.Time{}
			p.fedEnd = ser.TimeAt(j)
			i = j
			continue
		}
		if j == n {
			break // a short gap at the end: wait for the step after it
		}
		a, b := p.lastVal, ser.Values[j]
		if p.model == nil {
			a = b
		}
		for k := i; k < j; k++ {
			w := float64(k-i+1) / float64(j-i+1)
			p.push(ser.TimeAt(k), a+w*(b-a))
		}
		i = j
	}
	p.last = math.NaN()
	if n > 0 {
		p.last = ser.Values[n-1]
		if math.IsNaN(p.last) {
			p.last = p.lastVal
		}
	}
	return nil
}

// push feeds the value v of the step starting at at into the model and
// scores the forecast made for it.
func (p *predictor) push(at time.Time, v float64) {
	p.fedEnd = at.Add(p.cfg.Step)
	p.lastVal = v
	if p.model == nil {
		return
	}
	k := 0
	for k < len(p.preds) && !p.preds[k].At.After(at) {
		if p.preds[k].At.Equal(at) {
			p.score(at, math.Abs(v-p.preds[k].V))
		}
		k++
	}
	if k > 0 {
		p.preds = append(p.preds[:0], p.preds[k:]...)
	}
	// The model's Update cannot fail on a finite value once fitted.
	if err := p.model.Update(v); err != nil {
		p.model, p.fitErr = nil, err
	}
}

// score adds the absolute error e of the step starting at at to the
// rolling window. Steps are scored in time order, at most once each, so
// the ring (a slot per step of the window) holds every step scored in it.
func (p *predictor) score(at time.Time, e float64) {
	if len(p.errs) == 0 {
		return
	}
	if p.errN == 0 {
		p.errAt0 = at
	}
	if p.errN == len(p.errs) {
		p.errSum -= p.errs[p.errPos]
	} else {
		p.errN++
	}
	p.errs[p.errPos], p.errAt[p.errPos] = e, at
	p.errSum += e
	p.errPos = (p.errPos + 1) % len(p.errs)
}

// expireErrors drops from the rolling window the errors of steps that
// start before cutoff: the window is the last ErrorWindow of time, not
// of the steps scored (a host that decides every third step scores a
// third of them).
func (p *predictor) expireErrors(cutoff time.Time) {
	for p.errN > 0 {
		i := (p.errPos - p.errN + len(p.errs)) % len(p.errs)
		if !p.errAt[i].Before(cutoff) {
			return
		}
		p.errSum -= p.errs[i]
		p.errN--
	}
	p.errSum = 0 // none left: no rounding left over either
}

// mase is the rolling MASE, NaN without a scale or while fewer than a
// quarter of the window's steps (at least 4, or all of a window of fewer)
// were scored in it; a host that decides less often than every fourth
// step scores fewer than that in any window, so at least 4 scored steps
// (or all of a window of fewer) over a quarter of the window's time since
// the first of them do too.
func (p *predictor) mase() float64 {
	n := len(p.errs)
	enough := p.errN >= min(n, max(4, n/4)) ||
		p.errN >= min(n, 4) && p.seenEnd.Sub(p.errAt0) >= p.cfg.ErrorWindow/4
	if !enough || p.errN == 0 || !(p.scale > 0) {
		return math.NaN()
	}
	return p.errSum / float64(p.errN) / p.scale
}

// maseAbove reports whether the rolling MASE is known and above bound.
func (p *predictor) maseAbove(bound float64) bool {
	m := p.mase()
	return !math.IsNaN(m) && m > bound
}

// fitIfDue chooses the model when there is none or ReselectInterval has
// turned, and refits its parameters when RefitInterval has turned, on the
// last FitWindow of usable history ending at step n. A fit stopped by ctx
// is an error when no model is in use; with one, the decision forecasts
// with it (a per-decision deadline shorter than a reselection, cutting
// every one, would leave the target without decisions for good), says so
// (fitCut), and the fit is tried again at the next decision.
func (p *predictor) fitIfDue(ctx context.Context, ser provider.Series, n int, now time.Time) error {
	c := p.cfg
	p.fitCut = nil
	reselect := p.model == nil && p.fitErr == nil || now.Truncate(c.ReselectInterval).After(p.selectAt)
	refit := reselect || now.Truncate(c.RefitInterval).After(p.fitAt)
	if !refit {
		return nil
	}
	if p.model == nil && p.fitErr != nil && !now.Truncate(c.RefitInterval).After(p.fitAt) {
		return nil // a failed fit is retried at the next refit time
	}
	if err := ctx.Err(); err != nil {
		return p.stopped(reselect, fmt.Errorf("predictive: fit: %w", err))
	}
	from := ser.TimeAt(n).Add(-c.FitWindow)
	if from.Before(p.usable) {
		from = p.usable
	}
	w := ser.Window(from, ser.TimeAt(n))
	y, err := p.prepare(w)
	if err == nil && c.Model == nil && reselect {
		err = p.selectModel(ctx, y)
	} else if err == nil {
		err = p.refitModel(ctx, y)
	}
	if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
		// Stopped, not failed: the model in use (if any) is kept, and
		// the fit is tried again at the next decision rather than at
		// the next refit time.
		return p.stopped(reselect, fmt.Errorf("predictive: fit: %w", err))
	}
	p.fitAt = now.Truncate(c.RefitInterval)
	if err != nil {
		p.model, p.fitErr = nil, err
		return nil
	}
	if reselect {
		p.selectAt = now.Truncate(c.ReselectInterval)
	}
	p.fitErr = nil
	// The model's state ends at the last non-gap step of the window.
	last := len(w.Values)
	for last > 0 && math.IsNaN(w.Values[last-1]) {
		last--
	}
	p.fedEnd = w.TimeAt(last)
	p.lastVal = y[len(y)-1]
	// The forecast is bad when it is worse than both simple forecasts:
	// last season's value and the value h steps before (reacting).
	p.scale = naiveScale(y, c.leadSteps()+1)
	if len(p.periods) > 0 {
		p.scale = math.Max(p.scale, naiveScale(y, p.periods[0]))
	}
	return nil
}

// stopped is fitIfDue's end when ctx stopped a due fit (a reselection
// when reselect) with err: err when no model is in use, else nil, the
// model in use forecasting and the reason saying why it was not fitted
// again.
func (p *predictor) stopped(reselect bool, err error) error {
	if p.model == nil {
		return err
	}
	what := "refit"
	if reselect && p.cfg.Model == nil {
		what = "reselection"
	}
	p.fitCut = fmt.Errorf("the model's %s due was stopped (%w): forecasting with the model in use, fitted %s; tried again at the next decision", what, err, p.fitAt.Format(time.RFC3339))
	return nil
}

// prepare returns w's values ready to fit (forecast.Prepare's). A window
// without gaps, the usual case, is copied into a buffer kept between fits
// instead of a new slice every hour (the values were checked when read).
func (p *predictor) prepare(w provider.Series) ([]float64, error) {
	if len(w.Values) == 0 || slices.ContainsFunc(w.Values, math.IsNaN) {
		return forecast.Prepare(w, p.cfg.Gaps)
	}
	p.fitBuf = append(p.fitBuf[:0], w.Values...)
	return p.fitBuf, nil
}

// selectModel chooses and fits a model on y with forecast.Auto; it stops
// between the candidates when ctx ends.
func (p *predictor) selectModel(ctx context.Context, y []float64) error {
	c := p.cfg
	periods := make([]int, 0, len(c.Periods))
	for _, d := range c.Periods {
		periods = append(periods, int(d/c.Step))
	}
	if len(periods) == 0 {
		ps, err := forecast.CandidatePeriods(y)
		if err != nil {
			return err
		}
		periods = calendarSeasons(ps, c.Step)
	}
	a, err := forecast.NewAuto(forecast.AutoConfig{Periods: periods, Candidates: predictiveCandidates(periods), Horizon: c.forecastSteps(), Intervals: p.intervals()})
	if err != nil {
		return err
	}
	if err := a.FitContext(ctx, y); err != nil {
		return err
	}
	p.model, p.spec, p.periods = a.Model(), a.Chosen(), a.Periods()
	return nil
}

// predictiveCandidates are the models selectModel chooses from for
// seasons of periods steps: forecast's defaults, and with two seasons or
// more a harmonic regression on every season (with its AR(1) errors),
// which does well on the short horizon. Each season gets at most half its
// period, maxPredictiveHarmonicOrders and 48/len(periods) orders (at most
// 98 Fourier columns in all: forecast's bound is 100 with the intercept
// and trend), and at least one.
func predictiveCandidates(periods []int) []forecast.Spec {
	cands := forecast.DefaultCandidates(periods)
	if len(periods) >= 2 {
		h := make([]int, len(periods))
		for i, k := range periods {
			h[i] = max(1, min(k/2, maxPredictiveHarmonicOrders, 48/len(periods)))
		}
		cands = append(cands, forecast.Spec{Kind: forecast.KindHarmonic, Periods: periods, Harmonics: h})
	}
	return cands
}

// calendarSeasons moves each season within 3 % of a day or a week (in
// steps of step) to exactly that: demand made by people follows the
// clock, and a season read from a noisy window (23h20m on 5-minute
// requests) forecasts worse than the day it approximates.
func calendarSeasons(periods []int, step time.Duration) []int {
	out := make([]int, 0, len(periods))
	for _, k := range periods {
		d := time.Duration(k) * step
		for _, cal := range []time.Duration{24 * time.Hour, 7 * 24 * time.Hour} {
			if cal%step == 0 && math.Abs(float64(d-cal)) <= 0.03*float64(cal) {
				k = int(cal / step)
			}
		}
		out = append(out, k)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// refitModel estimates the parameters of the model in use (or the pinned
// one) again on y.
func (p *predictor) refitModel(ctx context.Context, y []float64) error {
	c := p.cfg
	if c.Model != nil && p.model == nil {
		m, err := c.Model.New(p.intervals())
		if err != nil {
			return err
		}
		p.model, p.spec = m, *c.Model
		p.periods = specPeriods(*c.Model)
	}
	if p.model == nil {
		return p.selectModel(ctx, y)
	}
	return p.model.Fit(y)
}

func (p *predictor) intervals() forecast.IntervalOptions {
	return forecast.IntervalOptions{Horizon: p.cfg.forecastSteps()}
}

// specPeriods returns the seasons a spec models, sorted.
func specPeriods(s forecast.Spec) []int {
	out := slices.Clone(s.Periods)
	if s.Period > 1 {
		out = append(out, s.Period)
	}
	for _, m := range s.Members {
		out = append(out, specPeriods(m)...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// naiveScale is mean |y_s − y_{s−h}|, the in-sample error of the
// seasonal naive forecast of lag h.
func naiveScale(y []float64, h int) float64 {
	if len(y) <= h {
		return math.NaN()
	}
	var s float64
	for i := h; i < len(y); i++ {
		s += math.Abs(y[i] - y[i-h])
	}
	return s / float64(len(y)-h)
}

// decide sizes the group from the state observe left, for a group whose
// desired capacity is current. It allocates nothing.
func (p *predictor) decide(current int) predictiveDecision {
	c := p.cfg
	per := c.CapacityPerInstance * c.TargetUtilization
	p.fcErr = nil
	d := predictiveDecision{Standing: p.standing, Last: p.last, MASE: p.mase(), History: p.history}
	if math.IsNaN(d.Last) {
		d.Last = p.lastVal
	}
	d.Reactive = instancesFor(d.Last, per)
	d.Fitness = fitnessFor(p.standing, d.MASE, c.MaxError, p.history, c.MinHistory)
	if p.standing != StandingForecast {
		d.Desired, d.Up, d.Hold = d.Reactive, d.Reactive, d.Reactive
		if p.standing == StandingFallback {
			p.track()
		}
		return d
	}
	// The model's state ends at fedEnd; the forecast must cover the steps
	// from seenEnd (the step in progress) to LeadTime + Horizon after it.
	off := int(p.seenEnd.Sub(p.fedEnd) / c.Step)
	H := c.forecastSteps()
	F := off + H
	p.grow(F)
	p.bands[0] = p.band[:F]
	if err := p.model.Forecast(p.point[:F], p.quantile[:], p.bands[:]); err != nil {
		// Said in the reason and the status, as a failed fit is.
		p.fcErr, p.standing = fmt.Errorf("forecast: %w", err), StandingNoModel
		d.Standing, d.Desired = StandingNoModel, d.Reactive
		d.Fitness = fitnessFor(StandingNoModel, d.MASE, c.MaxError, p.history, c.MinHistory)
		return d
	}
	L := c.leadSteps()
	grow := 1 + *c.Margin
	var up, hold float64
	for h := range H {
		q := math.Max(0, p.band[off+h]) * grow
		if h == L {
			up = q // the first step new instances serve
		}
		hold = math.Max(hold, q)
	}
	d.Peak = hold
	d.Up, d.Hold = instancesFor(up, per), instancesFor(hold, per)
	d.Desired = d.Up
	if d.Up < current {
		d.Desired = min(current, d.Hold) // scale in only as far as the window allows
	}
	d.Desired = max(d.Desired, d.Reactive)
	p.expect(p.seenEnd.Add(time.Duration(L)*c.Step), p.point[off+L])
	return d
}

// track records, while the strategy falls back, the point forecast of
// the step it would size for: its rolling error keeps following the
// forecast, so that it sizes from it again once it is good again.
func (p *predictor) track() {
	c := p.cfg
	off := int(p.seenEnd.Sub(p.fedEnd) / c.Step)
	L := c.leadSteps()
	p.grow(off + L + 1)
	if err := p.model.Forecast(p.point[:off+L+1], nil, nil); err != nil {
		return
	}
	p.expect(p.seenEnd.Add(time.Duration(L)*c.Step), p.point[off+L])
}

// grow makes the forecast buffers hold at least n steps.
func (p *predictor) grow(n int) {
	if len(p.point) < n {
		p.point = make([]float64, n)
		p.band = make([]float64, n)
	}
}

// expect records the point forecast v for the step starting at at (once).
func (p *predictor) expect(at time.Time, v float64) {
	if k := len(p.preds); k > 0 && !p.preds[k-1].At.Before(at) {
		return
	}
	if len(p.preds) == cap(p.preds) && len(p.preds) > 64 {
		return // never grows without bound (no step was fed for long)
	}
	p.preds = append(p.preds, timedValue{At: at, V: v})
}

// instancesFor is ⌈v / per⌉, 0 for v ≤ 0, capped far below overflow.
func instancesFor(v, per float64) int {
	if !(v > 0) {
		return 0
	}
	return int(math.Min(math.Ceil(v/per), 1<<30))
}

// status reports the predictor's state.
func (p *predictor) status() PredictiveStatus {
	s := PredictiveStatus{Standing: p.standing, MASE: p.mase(), History: p.history, SelectedAt: p.selectAt, FittedAt: p.fitAt}
	for _, k := range p.periods {
		s.Patterns = append(s.Patterns, patternOf(time.Duration(k)*p.cfg.Step))
	}
	if p.model != nil {
		s.Model = p.spec.String()
	}
	if err := p.noModelErr(); err != nil {
		s.Err = err.Error()
	}
	return s
}

// noModelErr is why there is no forecast: the last decision's failed
// forecast (or its fit stopped by ctx before any model was fitted), else
// the failed fit (nil when neither failed).
func (p *predictor) noModelErr() error {
	if p.fcErr != nil {
		return p.fcErr
	}
	return p.fitErr
}

// patternName names the patterns in words ("daily and weekly").
func (p *predictor) patternName() string {
	if len(p.periods) == 0 {
		return "aseasonal"
	}
	names := make([]string, len(p.periods))
	for i, k := range p.periods {
		names[i] = patternOf(time.Duration(k) * p.cfg.Step).Name
	}
	return strings.Join(names, " and ")
}

// gapNote says when the usable history starts after a long gap.
func (p *predictor) gapNote() string {
	if !p.longGap {
		return ""
	}
	return fmt.Sprintf(" (after a gap longer than %d steps)", p.cfg.maxGap())
}

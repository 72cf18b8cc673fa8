package scaling

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/idlescale/idlescale/forecast"
	"github.com/idlescale/idlescale/internal/enumtext"
	"github.com/idlescale/idlescale/provider"
)

// The PredictiveConfig defaults: the seed's predictive policy (60-minute
// horizon, 20 % margin, 30 days of history) with a p90 forecast, refitted
// hourly.
const (
	DefaultPredictiveStep       = 5 * time.Minute
	DefaultPredictiveHorizon    = time.Hour
	DefaultPredictiveQuantile   = 0.9
	DefaultPredictiveMargin     = 0.2
	DefaultTargetUtilization    = 0.6
	DefaultMinHistory           = 30 * 24 * time.Hour
	DefaultRefitInterval        = time.Hour
	DefaultReselectInterval     = 7 * 24 * time.Hour
	DefaultForecastErrorWindow  = 24 * time.Hour
	DefaultMaxForecastError     = 1.0
	maxPredictiveForecastSteps  = 48 // the forecast window in steps, at most
	maxPredictiveHarmonicOrders = 20 // per season, for the short-horizon candidate
)

// PredictiveConfig configures the predictive strategy. The zero value of
// every field but CapacityPerInstance means its default.
//
//	type: predictive
//	predictive:
//	  metric: requests
//	  step: 5m
//	  capacity_per_instance: 120   # requests/s one instance serves at 100 %
//	  target_utilization: 0.6
//	  lead_time: 5m                # a new instance serves after 5 minutes
type PredictiveConfig struct {
	// Metric is the demand to forecast: a load that does not depend on
	// the capacity (requests, connections, queue arrivals), never a
	// utilization, which falls when instances are added. Default:
	// requests.
	Metric provider.Metric `json:"metric,omitempty" yaml:"metric,omitempty"`
	// Statistic reduces the samples of a step. Default: mean.
	Statistic provider.Statistic `json:"statistic,omitempty" yaml:"statistic,omitempty"`
	// Step is the metric's grid step, the forecast's step. Default: 5m.
	Step time.Duration `json:"step,omitempty" yaml:"step,omitempty"`
	// CapacityPerInstance is the demand one instance serves at full
	// utilization, in the metric's unit. Required, > 0.
	CapacityPerInstance float64 `json:"capacity_per_instance" yaml:"capacity_per_instance"`
	// TargetUtilization is the share of CapacityPerInstance each instance
	// is sized to carry, in (0, 1]: a step needs ⌈demand /
	// (CapacityPerInstance × TargetUtilization)⌉ instances. Default: 0.6.
	TargetUtilization float64 `json:"target_utilization,omitempty" yaml:"target_utilization,omitempty"`
	// Horizon is how far beyond the lead time the forecast looks: a scale
	// in goes only as low as every step up to LeadTime + Horizon allows
	// (its stabilization). Default: 60m.
	Horizon time.Duration `json:"horizon,omitempty" yaml:"horizon,omitempty"`
	// LeadTime is the provisioning delay: how long a new instance takes
	// to serve. A scale out covers the demand forecast for then.
	// Default: 0 (instances serve within a step).
	LeadTime time.Duration `json:"lead_time,omitempty" yaml:"lead_time,omitempty"`
	// Quantile is the forecast quantile sized for, in [0.5, 1).
	// Default: 0.9.
	Quantile float64 `json:"quantile,omitempty" yaml:"quantile,omitempty"`
	// Margin is added to the quantile: the capacity serves quantile ×
	// (1 + Margin). ≥ 0; nil means the default, 0.2 (0 is a valid
	// margin).
	Margin *float64 `json:"margin,omitempty" yaml:"margin,omitempty"`
	// MinHistory is the history needed before the strategy forecasts:
	// with less it recommends the reactive capacity with a low fitness,
	// so that the engine picks a reactive strategy, and says so. History
	// is counted back from now to the last gap longer than Gaps allows.
	// Default: 30 days.
	MinHistory time.Duration `json:"min_history,omitempty" yaml:"min_history,omitempty"`
	// FitWindow is how much history the model is fitted on.
	// Default: MinHistory.
	FitWindow time.Duration `json:"fit_window,omitempty" yaml:"fit_window,omitempty"`
	// RefitInterval is how often the model's parameters are estimated
	// again on the latest FitWindow (at times aligned to it); between
	// refits every new step only updates the model's state.
	// Default: 1h.
	RefitInterval time.Duration `json:"refit_interval,omitempty" yaml:"refit_interval,omitempty"`
	// ReselectInterval is how often the model itself is chosen again
	// (forecast.Auto's rolling-origin comparison of candidates), unless
	// Model pins it. Default: 7 days.
	ReselectInterval time.Duration `json:"reselect_interval,omitempty" yaml:"reselect_interval,omitempty"`
	// ErrorWindow is the window of the rolling forecast error: the
	// steps scored in the last ErrorWindow of time, however often the
	// strategy is asked. Default: 24h.
	ErrorWindow time.Duration `json:"error_window,omitempty" yaml:"error_window,omitempty"`
	// MaxError is the bound on the rolling forecast error (MASE, see
	// Predictive) above which the strategy falls back to the reactive
	// capacity; it sizes from its forecast again once the error is at
	// most 0.9 × MaxError (hysteresis). > 0. Default: 1.0 (no better than
	// reacting).
	MaxError float64 `json:"max_error,omitempty" yaml:"max_error,omitempty"`
	// Periods are the seasons to model (e.g. [24h, 168h]). Default:
	// found in the history (forecast.CandidatePeriods: the detected
	// seasons, and the weekly one on a daily season when the history
	// holds two weeks).
	Periods []time.Duration `json:"periods,omitempty" yaml:"periods,omitempty"`
	// Model pins the forecast model. Default: chosen by forecast.Auto
	// among forecast.DefaultCandidates and a harmonic regression on
	// every season.
	Model *forecast.Spec `json:"model,omitempty" yaml:"model,omitempty"`
	// Gaps says which gaps in the history are interpolated; a longer gap
	// ends the usable history (a gap is never read as zero demand).
	// Default: forecast's (3 steps).
	Gaps forecast.GapPolicy `json:"gaps,omitzero" yaml:"gaps,omitempty"`
	// ForecastOnly makes the strategy report what it would do without
	// acting: its recommendation keeps the current capacity with fitness
	// 0, its reason and proposal say what it would recommend.
	ForecastOnly bool `json:"forecast_only,omitempty" yaml:"forecast_only,omitempty"`
}

// Validate returns an error matching provider.ErrInvalid naming the first
// wrong field.
func (c PredictiveConfig) Validate() error {
	if c.Metric != "" {
		if err := c.Metric.Validate(); err != nil {
			return provider.Within("metric", err)
		}
	}
	if err := c.Statistic.Validate(); err != nil {
		return err // it names statistic
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"step", c.Step}, {"horizon", c.Horizon}, {"lead_time", c.LeadTime}, {"min_history", c.MinHistory},
		{"fit_window", c.FitWindow}, {"refit_interval", c.RefitInterval}, {"reselect_interval", c.ReselectInterval},
		{"error_window", c.ErrorWindow},
	} {
		if err := nonNegative(d.name, d.v); err != nil {
			return err
		}
	}
	d := c.withDefaults()
	switch {
	case !finite(c.CapacityPerInstance) || c.CapacityPerInstance <= 0:
		return provider.Invalid("capacity_per_instance", c.CapacityPerInstance, "is required: the demand one instance serves, > 0")
	case !finite(c.TargetUtilization) || c.TargetUtilization < 0 || c.TargetUtilization > 1:
		return provider.Invalid("target_utilization", c.TargetUtilization, "must be in (0, 1]")
	case !finite(c.Quantile) || c.Quantile != 0 && (c.Quantile < 0.5 || c.Quantile >= 1):
		return provider.Invalid("quantile", c.Quantile, "must be in [0.5, 1)")
	case c.Margin != nil && (!finite(*c.Margin) || *c.Margin < 0):
		return provider.Invalid("margin", *c.Margin, "must be a finite number ≥ 0")
	case !finite(c.MaxError) || c.MaxError < 0:
		return provider.Invalid("max_error", c.MaxError, "must be a finite number > 0")
	case d.Horizon < d.Step:
		return provider.Invalid("horizon", d.Horizon, fmt.Sprintf("must be at least one step (%s)", d.Step))
	case d.RefitInterval < d.Step:
		return provider.Invalid("refit_interval", d.RefitInterval, fmt.Sprintf("must be at least one step (%s)", d.Step))
	case d.ErrorWindow < d.Step:
		return provider.Invalid("error_window", d.ErrorWindow, fmt.Sprintf("must be at least one step (%s)", d.Step))
	case d.FitWindow < 8*d.Step:
		return provider.Invalid("fit_window", d.FitWindow, fmt.Sprintf("must be at least 8 steps (%s)", 8*d.Step))
	case d.forecastSteps() > maxPredictiveForecastSteps:
		return provider.Invalid("horizon", d.Horizon, fmt.Sprintf("lead time + horizon must be at most %d steps of %s", maxPredictiveForecastSteps-1, d.Step))
	}
	for i, p := range c.Periods {
		if p < 2*d.Step || p%d.Step != 0 {
			return provider.Invalid(fmt.Sprintf("periods[%d]", i), p, fmt.Sprintf("must be a multiple of the step %s, at least two steps", d.Step))
		}
	}
	if c.Model != nil {
		if _, err := c.Model.New(forecast.IntervalOptions{}); err != nil {
			return provider.Within("model", err)
		}
	}
	if c.Gaps.MaxGap < 0 || c.Gaps.MaxGapDuration < 0 {
		return provider.Invalid("gaps", c.Gaps, "must not be negative")
	}
	return nil
}

func (c PredictiveConfig) withDefaults() PredictiveConfig {
	if c.Metric == "" {
		c.Metric = provider.MetricRequests
	}
	if c.Step == 0 {
		c.Step = DefaultPredictiveStep
	}
	if c.TargetUtilization == 0 {
		c.TargetUtilization = DefaultTargetUtilization
	}
	if c.Horizon == 0 {
		c.Horizon = DefaultPredictiveHorizon
	}
	if c.Quantile == 0 {
		c.Quantile = DefaultPredictiveQuantile
	}
	if c.Margin == nil {
		m := DefaultPredictiveMargin
		c.Margin = &m
	}
	if c.MinHistory == 0 {
		c.MinHistory = DefaultMinHistory
	}
	if c.FitWindow == 0 {
		c.FitWindow = c.MinHistory
	}
	if c.RefitInterval == 0 {
		c.RefitInterval = DefaultRefitInterval
	}
	if c.ReselectInterval == 0 {
		c.ReselectInterval = DefaultReselectInterval
	}
	if c.ErrorWindow == 0 {
		c.ErrorWindow = DefaultForecastErrorWindow
	}
	if c.MaxError == 0 {
		c.MaxError = DefaultMaxForecastError
	}
	return c
}

// steps returns d in whole steps of c, rounded up.
func (c PredictiveConfig) steps(d time.Duration) int {
	return int((d + c.Step - 1) / c.Step)
}

// leadSteps is the provisioning delay in steps.
func (c PredictiveConfig) leadSteps() int { return c.steps(c.LeadTime) }

// forecastSteps is the forecast window in steps: the steps that start
// from now to now + LeadTime + Horizon, both included.
func (c PredictiveConfig) forecastSteps() int { return c.leadSteps() + c.steps(c.Horizon) + 1 }

// Predictive scales ahead of demand in both directions. It forecasts the
// demand metric with package forecast and sizes the group for the
// forecast's Quantile times (1 + Margin), at CapacityPerInstance ×
// TargetUtilization per instance:
//
//   - a scale out covers the first step new instances serve, LeadTime
//     from now (the steps before it are served by what is there and on
//     its way);
//   - a scale in goes only as low as every step up to LeadTime + Horizon
//     allows (stabilization by the forecast: it does not remove capacity
//     the next hour needs again);
//   - it never goes below what the reactive path needs right now,
//     ⌈last step's demand / (CapacityPerInstance × TargetUtilization)⌉.
//
// The model is chosen by forecast.Auto (seasons found by
// forecast.CandidatePeriods unless Periods are given; among forecast.DefaultCandidates and a harmonic regression
// on every season, compared over the forecast window) every
// ReselectInterval, its parameters refitted every RefitInterval on the
// last FitWindow, and its state updated with every new step.
//
// Fallbacks. With less than MinHistory of usable history, or when the
// model cannot be fitted, it recommends the reactive capacity with
// fitness ≤ 0.3, so that the engine picks a reactive strategy of the
// target when it has one, and says why in its reason; when that last
// demand is stale (its step ended five steps or more before Now: a
// metric no longer published), it keeps the capacity instead, as the
// threshold, target-value and step strategies do. It tracks its own
// forecast error: over the last ErrorWindow, the MASE of the point
// forecasts at the sizing horizon h = lead steps + 1,
//
//	MASE = mean |y_t − ŷ_t|  /  max(mean |y_s − y_{s−m}|, mean |y_s − y_{s−h}|)
//
// over s in the fitted history: the error scaled, as MASE is (Hyndman &
// Koehler 2006, "Another look at measures of forecast accuracy"), by the
// larger in-sample error of the two simple forecasts a host would
// otherwise rely on, last season's value (m the shortest season) and
// the value h steps before (what reacting assumes). Above 1 the forecast
// is worse than both; above MaxError it falls back to the
// reactive capacity with fitness 0.4 and says so in its reason, until
// the error is at most 0.9 × MaxError (an error hovering around the
// bound would otherwise flip the capacity between the forecast's and
// the reactive one, scaling in past the forecast's hold and out again,
// at every crossing); its
// Inputs carry "forecast fallback" (1 or 0) and "forecast mase" (the
// engine's Decision.Considered keeps them with the reason), and the
// engine tells its observer when the standing changes: EventForecastFallback
// when it starts sizing from the reactive capacity (for any of the reasons
// above), EventForecastRecovered when it sizes from its forecast again
// (the monitor's forecast_fallback alert follows them). Healthy, its
// fitness is 0.9 to 1 (1 at MASE 0), above the reactive strategies'.
//
// State. Fitting a model on every decision would be far too slow, so
// Predictive keeps a fitted model and its error record per target between
// calls; unlike the other strategies its recommendation depends on the
// States it was given before. Given the States of one target in time
// order it is deterministic; a State earlier than the last one seen, or
// of a series with a different step, starts afresh from that State's
// history. The series must cover MinHistory plus ErrorWindow (Needs asks
// for the longer of FitWindow and MinHistory, plus ErrorWindow +
// RefitInterval). Only complete steps (those
// ending by Now) are read. A target not asked for longer than that
// lookback (by a State of another target that much later than its last)
// is forgotten, up to lookback/8 later, as the engine's History drops
// what its strategies no longer read: its next State, whose series
// starts after the last it saw, would start afresh anyway; so a host
// whose targets come and go keeps the state of those it still asks for.
// Its targets' States are on one clock, as the Autoscaler's are: a host
// that replays last year's demand (package scaling/sim) beside its live
// targets gives the replay a Predictive of its own.
// A fit the decision's context stops (a deadline shorter than a model's
// reselection) is not a failed fit: it is tried again at the next
// decision; meanwhile a target without a model fails the decision with
// the context's error (Status: no_model, and why), and one with a model
// forecasts with it, its reason saying the fit was stopped, rather than
// be left without a decision pass after pass.
// It is safe for concurrent use; calls for one target are serialized.
type Predictive struct {
	cfg PredictiveConfig

	mu      sync.Mutex
	targets map[string]*predictiveTarget
	sweepAt time.Time // when target next looks for targets to forget
}

// predictiveTarget is a target's predictor and the latest Now it was
// asked for at (guarded by Predictive.mu).
type predictiveTarget struct {
	pr   *predictor
	seen time.Time
}

var (
	_ Strategy     = (*Predictive)(nil)
	_ MetricNeeder = (*Predictive)(nil)
)

// NewPredictive returns a Predictive strategy for cfg, or an error
// matching provider.ErrInvalid naming the wrong field.
func NewPredictive(cfg PredictiveConfig) (*Predictive, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("scaling: predictive: %w", err)
	}
	return &Predictive{cfg: cfg.withDefaults(), targets: map[string]*predictiveTarget{}}, nil
}

// Config returns the configuration with its defaults filled in.
func (p *Predictive) Config() PredictiveConfig { return p.cfg }

// Needs implements MetricNeeder: the demand metric over the longer of
// FitWindow and MinHistory, plus ErrorWindow + RefitInterval.
func (p *Predictive) Needs() []Need {
	c := p.cfg
	return []Need{{Metric: c.Metric, Statistic: c.Statistic, Step: c.Step, Lookback: c.lookback()}}
}

// lookback is the history the strategy reads before a decision.
func (c PredictiveConfig) lookback() time.Duration {
	return max(c.FitWindow, c.MinHistory) + c.ErrorWindow + c.RefitInterval
}

// target returns the predictor of a target asked for at now, creating it,
// and forgets the targets not asked for longer than the lookback (and a
// step: the Autoscaler's read window is aligned to the steps) before now.
// It looks for them at most every max(lookback/8, pruneEvery), as
// History.prune does, so that its cost does not grow with every decision.
func (p *Predictive) target(id string, now time.Time) *predictor {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.targets[id]
	if t == nil {
		t = &predictiveTarget{pr: newPredictor(p.cfg)}
		p.targets[id] = t
	}
	if now.After(t.seen) {
		t.seen = now
	}
	if !now.Before(p.sweepAt) {
		lookback := p.cfg.lookback()
		p.sweepAt = now.Add(max(lookback/8, pruneEvery))
		cutoff := now.Add(-lookback - p.cfg.Step)
		for k, o := range p.targets {
			if o.seen.Before(cutoff) {
				delete(p.targets, k)
			}
		}
	}
	return t.pr
}

// Status returns what the strategy knows of a target: its patterns, its
// model, its rolling error and whether it falls back. ok is false before
// the strategy's first recommendation for the target, and once it has
// forgotten the target (see Predictive).
func (p *Predictive) Status(target string) (PredictiveStatus, bool) {
	p.mu.Lock()
	t := p.targets[target]
	p.mu.Unlock()
	if t == nil {
		return PredictiveStatus{}, false
	}
	pr := t.pr
	pr.mu.Lock()
	defer pr.mu.Unlock()
	return pr.status(), true
}

// Recommend implements Strategy.
func (p *Predictive) Recommend(ctx context.Context, st State) (Recommendation, error) {
	c := p.cfg
	t := &st.Target
	if !t.horizontal() {
		return Recommendation{}, provider.Invalid("target.resource.kind", t.Resource.Kind, "the predictive strategy scales groups")
	}
	ser, missing, err := p.series(&st)
	if err != nil {
		return Recommendation{}, fmt.Errorf("scaling: predictive: %w", err)
	}
	if missing != "" {
		return noData(t, c.Metric, missing), nil
	}
	pr := p.target(t.ID, st.Now)
	pr.mu.Lock()
	defer pr.mu.Unlock()
	if err := pr.observe(ctx, ser, st.Now); err != nil {
		return Recommendation{}, err
	}
	d := pr.decide(t.Capacity.Desired)
	if math.IsNaN(d.Last) {
		// Every step read is a gap: no demand to size for.
		return noData(t, c.Metric, fmt.Sprintf("predictive: no %s data: every step of the series is a gap", c.Metric)), nil
	}
	if at, _, ok := ser.Last(); ok && d.Standing != StandingForecast {
		// Sizing from the reactive capacity, which is the last demand
		// known: a metric no longer published leaves it, however old,
		// as the last (the series covers weeks). Stale, it is no demand
		// to size for (fail closed: the capacity is kept), as for the
		// threshold, target-value and step strategies.
		if why := staleReason(st.Now, at, c.Step, c.Metric); why != "" {
			return noData(t, c.Metric, "predictive: "+why), nil
		}
	}
	rec := desired(t, d.Desired, d.reason(c, pr))
	rec.Inputs = d.inputs(c)
	rec.Fitness = d.Fitness
	if c.ForecastOnly {
		// What it would recommend: within the group's bounds, as above.
		n := rec.Capacity.Desired
		rec = keep(t, fmt.Sprintf("forecast only: would recommend %d (%s)", n, rec.Reason))
		rec.Proposal = n
		rec.Inputs = d.inputs(c)
	}
	return rec, nil
}

// series returns the demand series of st, read for the strategy's Need
// (State.SeriesFor), or why there is none, or the error of a State whose
// series cannot be told apart.
func (p *Predictive) series(st *State) (provider.Series, string, error) {
	c := p.cfg
	n := Need{Metric: c.Metric, Statistic: c.Statistic, Step: c.Step}
	s, reason, err := needSeries(st, &n)
	switch {
	case err != nil:
		return s, "", err
	case reason != "":
		return s, "predictive: " + reason, nil
	case s.Step != c.Step: // the only series of the metric, in a State without MetricNeeds
		return provider.Series{}, fmt.Sprintf("predictive: %s is read at %s, the strategy's step is %s", c.Metric, s.Step, c.Step), nil
	}
	return s, "", nil
}

// PredictiveStanding says how a predictive decision was made.
type PredictiveStanding string

// The standings.
const (
	StandingForecast     PredictiveStanding = "forecast"      // sized from the forecast
	StandingShortHistory PredictiveStanding = "short_history" // reactive: less than MinHistory of usable history
	StandingNoModel      PredictiveStanding = "no_model"      // reactive: no model could be fitted
	StandingFallback     PredictiveStanding = "fallback"      // reactive: the rolling forecast error went above MaxError (and is not yet at most 0.9 × MaxError)
)

// String returns the standing's value.
func (s PredictiveStanding) String() string { return string(s) }

// Validate returns an error matching provider.ErrInvalid, naming the
// value, unless s is a known standing.
func (s PredictiveStanding) Validate() error {
	switch s {
	case StandingForecast, StandingShortHistory, StandingNoModel, StandingFallback:
		return nil
	}
	return provider.Invalid("standing", string(s), "must be one of forecast, short_history, no_model, fallback")
}

// MarshalText encodes s as its name (empty when unset); an unknown value
// is an error.
func (s PredictiveStanding) MarshalText() ([]byte, error) {
	return enumtext.Marshal(s, PredictiveStanding.Validate)
}

// UnmarshalText decodes a known name or empty text; other text is an
// error matching provider.ErrInvalid naming it.
func (s *PredictiveStanding) UnmarshalText(b []byte) error {
	return enumtext.Unmarshal(s, b, PredictiveStanding.Validate)
}

// predictiveDecision is the sizing of one decision, without words.
type predictiveDecision struct {
	Standing PredictiveStanding
	Desired  int
	Fitness  float64
	// Reactive is ⌈last / per instance⌉; Last the last step's demand.
	Reactive int
	Last     float64
	// Up is the capacity the first step new instances serve needs, Hold
	// what the whole forecast window needs (the scale in's floor).
	Up, Hold int
	// Peak is the highest sized quantile × (1 + margin) over the window.
	Peak float64
	// MASE is the rolling error (NaN when unknown).
	MASE float64
	// History is the usable history.
	History time.Duration
}

// fitnessFor is the fitness of a standing: healthy forecasts outrank the
// reactive strategies (HPA 0.8, target value 0.7, threshold 0.5), a
// fallback does not.
func fitnessFor(s PredictiveStanding, mase, bound float64, history, need time.Duration) float64 {
	switch s {
	case StandingForecast:
		if math.IsNaN(mase) {
			return 0.9
		}
		return 0.9 + 0.1*math.Max(0, 1-mase/bound)
	case StandingFallback:
		return 0.4
	case StandingShortHistory:
		return 0.3 * math.Min(1, float64(history)/float64(need))
	}
	return 0.2
}

// reason says in words how d was made.
func (d predictiveDecision) reason(c PredictiveConfig, pr *predictor) string {
	per := c.CapacityPerInstance * c.TargetUtilization
	reactive := fmt.Sprintf("reactive ⌈%.4g / %.4g⌉ = %d", d.Last, per, d.Reactive)
	switch d.Standing {
	case StandingShortHistory:
		return fmt.Sprintf("predictive: %s of usable history, needs %s%s: %s", roundDuration(d.History), c.MinHistory, pr.gapNote(), reactive)
	case StandingNoModel:
		return fmt.Sprintf("predictive: no forecast model (%v): %s", pr.noModelErr(), reactive)
	case StandingFallback:
		if !(d.MASE > c.MaxError) {
			return fmt.Sprintf("predictive: forecast error MASE %.2f over the last %s, back below %.2f but not yet at most %.2f since it went above: falling back to %s",
				d.MASE, c.ErrorWindow, c.MaxError, recoverFraction*c.MaxError, reactive)
		}
		return fmt.Sprintf("predictive: forecast error MASE %.2f over the last %s above %.2f: falling back to %s", d.MASE, c.ErrorWindow, c.MaxError, reactive)
	}
	s := fmt.Sprintf("predictive: %s forecast p%g of %s ≤ %.4g within %s (%s, MASE %.2f) × %.2f / %.4g per instance: %d",
		pr.patternName(), 100*c.Quantile, c.Metric, d.Peak/(1+*c.Margin), c.LeadTime+c.Horizon, pr.spec, d.MASE, 1+*c.Margin, per, d.Up)
	if d.Hold > d.Up && d.Desired > d.Up {
		s += fmt.Sprintf("; scale in held at %d for the next %s", d.Desired, c.LeadTime+c.Horizon)
	}
	if d.Reactive > d.Up && d.Desired == d.Reactive {
		s += fmt.Sprintf("; not below the %s", reactive)
	}
	if pr.fitCut != nil {
		s += "; " + pr.fitCut.Error()
	}
	return s
}

// inputs are d's values for the audit trail.
func (d predictiveDecision) inputs(c PredictiveConfig) []Input {
	fallback := 0.0
	if d.Standing != StandingForecast {
		fallback = 1
	}
	mase := d.MASE
	if math.IsNaN(mase) {
		mase = -1
	}
	return []Input{
		{Name: string(c.Metric), Value: d.Last, Unit: string(c.Metric.Unit())},
		{Name: "forecast peak", Value: d.Peak, Unit: string(c.Metric.Unit())},
		{Name: "reactive", Value: float64(d.Reactive), Unit: "instances"},
		{Name: InputForecastMASE, Value: mase},
		{Name: InputForecastFallback, Value: fallback},
	}
}

// The names of the Inputs a predictive recommendation carries for its
// forecast's standing: the rolling MASE (−1 when unknown) and 1 when it
// fell back to the reactive capacity (0 when it forecast).
const (
	InputForecastMASE     = "forecast mase"
	InputForecastFallback = "forecast fallback"
)

func roundDuration(d time.Duration) time.Duration {
	if d >= time.Hour {
		return d.Round(time.Hour)
	}
	return d.Round(time.Minute)
}

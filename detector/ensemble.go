package detector

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// DefaultGracePeriod is how long after launch a resource is never idle.
const DefaultGracePeriod = 24 * time.Hour

// Weights are the ensemble's signal weights. They are renormalised over the
// signals available for each resource, so they need not sum to 1. The zero
// value means the seed's defaults: utilization 0.3, activity 0.3, schedule
// (time) 0.2, model 0.2.
type Weights struct {
	// Utilization weighs the utilization signal. Default: 0.3.
	Utilization float64 `json:"utilization" yaml:"utilization"`
	// Activity weighs the activity signal. Default: 0.3.
	Activity float64 `json:"activity" yaml:"activity"`
	// Schedule weighs the time (hour-of-week) signal. Default: 0.2.
	Schedule float64 `json:"schedule" yaml:"schedule"`
	// Model weighs the trained model's signal. Default: 0.2.
	Model float64 `json:"model" yaml:"model"`
}

// DefaultWeights returns the seed's weights.
func DefaultWeights() Weights {
	return Weights{Utilization: 0.3, Activity: 0.3, Schedule: 0.2, Model: 0.2}
}

// Validate checks that every weight is finite and ≥ 0 and that the sum is
// positive (or every weight is zero, meaning the defaults).
func (w Weights) Validate() error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"utilization", w.Utilization}, {"activity", w.Activity}, {"schedule", w.Schedule}, {"model", w.Model}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) || f.v < 0 {
			return invalid("weights."+f.name, f.v, "must be a finite number ≥ 0")
		}
	}
	return nil
}

func (w Weights) isZero() bool { return w == Weights{} }

// EnsembleConfig configures an Ensemble. The zero value means the defaults.
type EnsembleConfig struct {
	// Weights are the signal weights. Default: DefaultWeights().
	Weights Weights `json:"weights,omitzero" yaml:"weights,omitempty"`
	// Utilization configures the utilization signal.
	Utilization UtilizationConfig `json:"utilization,omitzero" yaml:"utilization,omitempty"`
	// Activity configures the activity signal.
	Activity ActivityConfig `json:"activity,omitzero" yaml:"activity,omitempty"`
	// Schedule configures the time signal.
	Schedule ScheduleConfig `json:"schedule,omitzero" yaml:"schedule,omitempty"`
	// ActThreshold is the confidence an action needs: a verdict
	// recommends an action only when its confidence is strictly greater.
	// In [0, 1). Default: 0.8.
	ActThreshold float64 `json:"act_threshold,omitempty" yaml:"act_threshold,omitempty"`
	// GracePeriod is how long after launch a resource is never idle (its
	// verdict is Unknown). Default: 24h. A negative value turns it off.
	GracePeriod time.Duration `json:"grace_period,omitempty" yaml:"grace_period,omitempty"`
	// AllowWithoutUtilization lets the other signals call a resource idle
	// when its utilization is unknown. Default: false (unknown utilization
	// makes the verdict Unknown).
	AllowWithoutUtilization bool `json:"allow_without_utilization,omitempty" yaml:"allow_without_utilization,omitempty"`
	// DownsizeBelow is the CPU p95 over the utilization window under
	// which a resource that is confidently not idle is recommended a
	// smaller size (half the size then runs below twice this), a
	// fraction. Default: 0.4.
	DownsizeBelow float64 `json:"downsize_below,omitempty" yaml:"downsize_below,omitempty"`
	// DownsizeSaving is the share of the cost a downsize saves, in (0, 1].
	// Default: 0.5 (one size down).
	DownsizeSaving float64 `json:"downsize_saving,omitempty" yaml:"downsize_saving,omitempty"`
	// MinScheduleSaving is the least share of the week an off-hours
	// schedule must save to be recommended, in (0, 1]. Default: 0.25.
	MinScheduleSaving float64 `json:"min_schedule_saving,omitempty" yaml:"min_schedule_saving,omitempty"`
	// StopIdleShare is the share of the week's hours that must be idle for
	// an idle resource with a learned profile to be stopped outright rather
	// than put on a schedule, in (0, 1]. Default: 0.95.
	StopIdleShare float64 `json:"stop_idle_share,omitempty" yaml:"stop_idle_share,omitempty"`
	// MinRegularity is the least Profile.Regularity an off-hours schedule
	// needs: a resource whose busy hours move from week to week gets no
	// schedule. In (0, 1]. Default: 0.9.
	MinRegularity float64 `json:"min_regularity,omitempty" yaml:"min_regularity,omitempty"`
}

func (c EnsembleConfig) withDefaults() EnsembleConfig {
	if c.Weights.isZero() {
		c.Weights = DefaultWeights()
	}
	if c.ActThreshold == 0 {
		c.ActThreshold = 0.8
	}
	if c.GracePeriod == 0 {
		c.GracePeriod = DefaultGracePeriod
	}
	if c.DownsizeBelow == 0 {
		c.DownsizeBelow = 0.4
	}
	if c.DownsizeSaving == 0 {
		c.DownsizeSaving = 0.5
	}
	if c.MinScheduleSaving == 0 {
		c.MinScheduleSaving = 0.25
	}
	if c.StopIdleShare == 0 {
		c.StopIdleShare = 0.95
	}
	if c.MinRegularity == 0 {
		c.MinRegularity = 0.9
	}
	return c
}

// Validate checks every field and the nested strategy configurations; the
// error names the first wrong field.
func (c EnsembleConfig) Validate() error {
	if err := c.Weights.Validate(); err != nil {
		return err
	}
	if err := c.Utilization.Validate(); err != nil {
		return err
	}
	if err := c.Activity.Validate(); err != nil {
		return err
	}
	if err := c.Schedule.Validate(); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"act_threshold", c.ActThreshold}, {"downsize_below", c.DownsizeBelow}, {"downsize_saving", c.DownsizeSaving}, {"min_schedule_saving", c.MinScheduleSaving}, {"stop_idle_share", c.StopIdleShare}, {"min_regularity", c.MinRegularity}} {
		if math.IsNaN(f.v) || f.v < 0 || f.v > 1 {
			return invalid("ensemble."+f.name, f.v, "must be in [0, 1]")
		}
	}
	if c.ActThreshold == 1 {
		return invalid("ensemble.act_threshold", c.ActThreshold, "must be below 1: no confidence exceeds 1")
	}
	return nil
}

// Option configures an Ensemble.
type Option func(*Ensemble)

// WithModel adds a trained model as the model signal, weighed by
// Weights.Model. Without it the model signal is unavailable and the other
// weights are renormalised.
func WithModel(m *Model) Option { return func(e *Ensemble) { e.model = m } }

// WithSignal adds a custom signal with its own weight. Its Detect result's
// State and Score are used; its Reasons are kept.
func WithSignal(name string, weight float64, d Detector) Option {
	return func(e *Ensemble) { e.custom = append(e.custom, member{name: name, weight: weight, d: d}) }
}

type member struct {
	name   string
	weight float64
	d      Detector
}

// Ensemble combines the signals into one verdict: each available signal
// (one whose State is not Unknown) votes idle or not idle and gives an idle
// score; the weights are renormalised over the available signals; the
// verdict is Idle when the weighted score is at least 0.5, a strict
// majority of the available signals vote idle and utilization does not
// vote not idle (measured load vetoes idleness); NotIdle otherwise; and
// Unknown when no signal is available, when utilization is unknown (unless
// AllowWithoutUtilization) or during the grace period. An action is
// recommended only when the confidence exceeds ActThreshold.
//
// An Ensemble is safe for concurrent use. Make one with NewEnsemble; the
// zero value's Detect returns an error.
type Ensemble struct {
	cfg    EnsembleConfig
	util   *Utilization
	act    *Activity
	sched  *Schedule
	model  *Model
	custom []member
}

// NewEnsemble returns an Ensemble for cfg, or an error matching
// provider.ErrInvalid naming the wrong field; when no configured signal has
// a positive weight the error matches both ErrNoSignal and
// provider.ErrInvalid (field "weights").
func NewEnsemble(cfg EnsembleConfig, opts ...Option) (*Ensemble, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	e := &Ensemble{cfg: cfg}
	for _, o := range opts {
		o(e)
	}
	var err error
	if e.util, err = NewUtilization(cfg.Utilization); err != nil {
		return nil, err
	}
	if e.act, err = NewActivity(cfg.Activity); err != nil {
		return nil, err
	}
	if e.sched, err = NewSchedule(cfg.Schedule); err != nil {
		return nil, err
	}
	if e.model != nil && !e.model.Trained() {
		return nil, fmt.Errorf("ensemble: model: %w", ErrNotTrained)
	}
	sum := cfg.Weights.Utilization + cfg.Weights.Activity + cfg.Weights.Schedule
	if e.model != nil {
		sum += cfg.Weights.Model
	}
	for i, m := range e.custom {
		if isNilDetector(m.d) {
			return nil, invalid(fmt.Sprintf("ensemble.signals[%d].detector", i), m.name, "must not be nil")
		}
		if m.name == "" {
			return nil, invalid(fmt.Sprintf("ensemble.signals[%d].name", i), m.name, "must not be empty")
		}
		if math.IsNaN(m.weight) || math.IsInf(m.weight, 0) || m.weight < 0 {
			return nil, invalid("ensemble.signals."+m.name+".weight", m.weight, "must be a finite number ≥ 0")
		}
		sum += m.weight
	}
	if !(sum > 0) {
		return nil, fmt.Errorf("%w: %w", ErrNoSignal, invalid("weights", sum, "must sum to a positive number over the configured signals (the model counts only with WithModel)"))
	}
	return e, nil
}

// Config returns the configuration with defaults filled in.
func (e *Ensemble) Config() EnsembleConfig { return e.cfg }

// Needs describes the data a detector reads, so that a fleet Scan can fetch
// it.
type Needs struct {
	// Metrics are the metrics to query.
	Metrics []provider.Metric
	// History is how far back before now to query them.
	History time.Duration
	// Activity is set when the detector reads activity counts.
	Activity bool
	// ActivityWindow is the window the activity counts should cover.
	ActivityWindow time.Duration
}

// Needs returns the metrics and history the ensemble reads.
func (e *Ensemble) Needs() Needs {
	if e.util == nil {
		return Needs{} // not made by NewEnsemble: Detect fails
	}
	n := Needs{History: e.util.cfg.Window, Activity: true, ActivityWindow: e.act.cfg.Quiet}
	n.Metrics = append(n.Metrics, e.util.metrics...)
	if !containsMetric(n.Metrics, e.sched.cfg.Metric) {
		n.Metrics = append(n.Metrics, e.sched.cfg.Metric)
	}
	n.History = max(n.History, e.sched.cfg.History)
	if e.model != nil {
		n.History = max(n.History, e.model.cfg.Window)
		for _, m := range e.model.metrics() {
			if !containsMetric(n.Metrics, m) {
				n.Metrics = append(n.Metrics, m)
			}
		}
	}
	return n
}

func containsMetric(ms []provider.Metric, m provider.Metric) bool {
	for _, x := range ms {
		if x == m {
			return true
		}
	}
	return false
}

// inGrace reports whether in's resource is younger than grace.
func inGrace(in *Input, grace time.Duration) (bool, Reason) {
	if grace <= 0 || in.Resource.LaunchTime.IsZero() {
		return false, Reason{}
	}
	age := in.Resource.Age(in.Now)
	if in.Now.Before(in.Resource.LaunchTime) || age < grace {
		return true, Reason{Code: ReasonYoung, Duration: age, Limit: float64(grace)}
	}
	return false, Reason{}
}

const maxStackSignals = 6

// Detect implements Detector. It allocates only the verdict's Signals and
// Reasons when every signal is built in.
func (e *Ensemble) Detect(ctx context.Context, in Input) (Verdict, error) {
	if err := ctx.Err(); err != nil {
		return Verdict{}, err
	}
	if e.util == nil {
		return Verdict{}, invalid("ensemble", "detector.Ensemble{}", "was not made with NewEnsemble")
	}
	if err := in.Validate(); err != nil {
		return Verdict{}, err
	}
	var stack [maxStackSignals]result
	n := 3 + len(e.custom)
	if e.model != nil {
		n++
	}
	rs := stack[:0]
	if n > len(stack) {
		rs = make([]result, 0, n)
	}
	rs = rs[:n]
	names := [...]string{SignalUtilization, SignalActivity, SignalSchedule, SignalModel}
	weights := [...]float64{e.cfg.Weights.Utilization, e.cfg.Weights.Activity, e.cfg.Weights.Schedule, e.cfg.Weights.Model}
	if err := e.util.evaluate(&in, &rs[0]); err != nil {
		return Verdict{}, err
	}
	if err := e.act.evaluate(&in, &rs[1]); err != nil {
		return Verdict{}, err
	}
	if err := e.sched.evaluate(&in, &rs[2]); err != nil {
		return Verdict{}, err
	}
	k := 3
	if e.model != nil {
		if err := e.model.evaluate(&in, &rs[3]); err != nil {
			return Verdict{}, err
		}
		k++
	}
	for _, m := range e.custom {
		v, err := m.d.Detect(ctx, in)
		if err != nil {
			return Verdict{}, fmt.Errorf("ensemble: signal %s: %w", m.name, err)
		}
		r := &rs[k]
		r.state, r.score, r.window, r.cpuStat = v.State, clamp01(v.Score), v.Window, math.NaN()
		for _, why := range v.Reasons {
			r.add(why)
		}
		k++
	}
	nameOf := func(i int) string {
		if i < 3 || (i == 3 && e.model != nil) {
			return names[i]
		}
		return e.custom[i-3-b2i(e.model != nil)].name
	}
	weightOf := func(i int) float64 {
		if i < 3 || (i == 3 && e.model != nil) {
			return weights[i]
		}
		return e.custom[i-3-b2i(e.model != nil)].weight
	}

	// Renormalise over the available signals and vote.
	total, votes, avail := 0.0, 0, 0
	nReasons := 1
	for i := range rs {
		nReasons += rs[i].n
		if rs[i].state != Unknown && weightOf(i) > 0 {
			total += weightOf(i)
			avail++
			if rs[i].state == Idle {
				votes++
			}
		}
	}
	v := Verdict{ResourceID: in.Resource.ID, Window: rs[0].window, Action: ActionNone}
	v.Signals = make([]Contribution, n)
	for i := range rs {
		c := Contribution{Signal: nameOf(i), State: rs[i].state}
		if rs[i].state != Unknown {
			c.Score = clamp01(rs[i].score)
			if total > 0 {
				c.Weight = weightOf(i) / total
			}
			c.Value = c.Weight * c.Score
			v.Score += c.Value
		}
		v.Signals[i] = c
		if rs[i].window.From.Before(v.Window.From) {
			v.Window.From = rs[i].window.From
		}
	}
	v.Score = clamp01(v.Score)
	v.Reasons = make([]Reason, 0, nReasons+1)
	switch {
	case avail == 0 || total == 0:
		v.State = Unknown
	case rs[0].state == Unknown && !e.cfg.AllowWithoutUtilization:
		v.State = Unknown
	case rs[0].state == NotIdle:
		// Measured load vetoes idleness: quiet logins and idle hours do not
		// make a busy machine idle.
		v.State = NotIdle
	case 2*votes > avail && v.Score >= 0.5:
		v.State = Idle
	default:
		v.State = NotIdle
	}
	if young, why := inGrace(&in, e.cfg.GracePeriod); young {
		why.Signal = "ensemble"
		v.State = Unknown
		v.Reasons = append(v.Reasons, why)
	}
	if v.State == Unknown {
		v.Score = 0
		for i := range v.Signals {
			v.Signals[i].Weight, v.Signals[i].Value = 0, 0
		}
	}
	v.Confidence = confidenceOf(v.State, v.Score)
	if avail > 0 {
		v.Reasons = append(v.Reasons, Reason{Signal: "ensemble", Code: ReasonVote, Value: float64(votes), Limit: float64(avail)})
	}
	for i := range rs {
		v.Reasons = append(v.Reasons, rs[i].reasons[:rs[i].n]...)
	}
	e.recommend(&in, &v, &rs[0], &rs[2])
	return v, nil
}

// recommend sets the action and savings of v.
func (e *Ensemble) recommend(in *Input, v *Verdict, util, sched *result) {
	if v.State == Unknown {
		return
	}
	if v.Confidence <= e.cfg.ActThreshold {
		v.Reasons = append(v.Reasons, Reason{Signal: "ensemble", Code: ReasonBelowConf, Value: v.Confidence, Limit: e.cfg.ActThreshold})
		return
	}
	monthly := in.Resource.HourlyCost * HoursPerMonth
	var prof *Profile
	if sched.hasProf {
		prof = &sched.prof
	}
	scheduled := func() bool {
		if prof == nil || prof.Regularity() < e.cfg.MinRegularity {
			return false
		}
		off := prof.Propose(e.sched.cfg.MinOff)
		if off.SavedShare < e.cfg.MinScheduleSaving || off.SavedShare >= 1 {
			return false
		}
		v.Action, v.Schedule, v.MonthlySavings = ActionSchedule, &off, monthly*off.SavedShare
		return true
	}
	switch v.State {
	case Idle:
		if prof != nil && float64(prof.IdleSlots())/HoursPerWeek < e.cfg.StopIdleShare && scheduled() {
			return
		}
		switch in.Resource.Kind {
		case provider.KindInstance, provider.KindDatabase:
			v.Action = ActionStop
		case provider.KindGroup:
			v.Action = ActionDownsize
		default:
			v.Action = ActionTerminate
		}
		v.MonthlySavings = monthly
	case NotIdle:
		if scheduled() {
			return
		}
		if !math.IsNaN(util.cpuStat) && util.cpuStat < e.cfg.DownsizeBelow {
			v.Action = ActionDownsize
			v.MonthlySavings = monthly * e.cfg.DownsizeSaving
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

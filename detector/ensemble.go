package detector

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// DefaultGracePeriod is how long after launch a resource is never idle.
const DefaultGracePeriod = 24 * time.Hour

// Weights are the ensemble's signal weights. They are renormalised over the
// signals available for each resource, so they need not sum to 1. The zero
// value means the defaults: utilization 0.3, activity 0.3, schedule (time)
// 0.2, model 0.2. The two signals that measure the present (load and use)
// weigh more than the two inferred from history (the hours learned from
// past weeks, a model trained on other resources), and together (0.6)
// outweigh them.
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

// DefaultWeights returns the default weights: utilization 0.3, activity
// 0.3, schedule 0.2, model 0.2 (see Weights for why).
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
	// recommends an action only when its confidence is strictly greater
	// (and the evidence allows it, see Evidence). In [0, 1). Default: 0.8.
	ActThreshold float64 `json:"act_threshold,omitempty" yaml:"act_threshold,omitempty"`
	// GracePeriod is how long after launch a resource is never idle (its
	// verdict is Unknown). Default: 24h. A negative value turns it off.
	GracePeriod time.Duration `json:"grace_period,omitempty" yaml:"grace_period,omitempty"`
	// AllowWithoutUtilization lets the other signals call a resource idle
	// when its utilization is unknown. Default: false (unknown utilization
	// makes the verdict Unknown).
	AllowWithoutUtilization bool `json:"allow_without_utilization,omitempty" yaml:"allow_without_utilization,omitempty"`
	// Evidence sets the evidence each action needs: how much history,
	// which peaks forbid a stop, how a downsize is sized. Default: see
	// EvidenceConfig.
	Evidence EvidenceConfig `json:"evidence,omitzero" yaml:"evidence,omitempty"`
	// DownsizeSaving is the share of the cost a downsize saves, in (0, 1)
	// (1 is refused: a downsize keeps some capacity);
	// the smaller size is taken to have 1 − DownsizeSaving of the current
	// capacity when the evidence window's peaks are fitted to it.
	// Default: 0.5 (one size down, half the capacity).
	DownsizeSaving float64 `json:"downsize_saving,omitempty" yaml:"downsize_saving,omitempty"`
	// MinScheduleSaving is the least share of the week an off-hours
	// schedule must save to be recommended, in (0, 1]. Default: 0.25.
	MinScheduleSaving float64 `json:"min_schedule_saving,omitempty" yaml:"min_schedule_saving,omitempty"`
	// StopIdleShare is the share of the week's hours that must be idle
	// (see Profile.Idle) for an idle resource to be stopped or terminated
	// rather than put on a schedule, in (0, 1]. Default: 1: any hour of
	// the week that is busy or held a peak makes it a schedule or nothing,
	// never a stop.
	StopIdleShare float64 `json:"stop_idle_share,omitempty" yaml:"stop_idle_share,omitempty"`
	// MinRegularity is the least Profile.Regularity an off-hours schedule
	// needs: a resource whose busy hours move from week to week gets no
	// schedule. In (0, 1]. Default: 0.9.
	MinRegularity float64 `json:"min_regularity,omitempty" yaml:"min_regularity,omitempty"`
	// Kinds maps a resource kind to the utilization and schedule signals
	// that judge resources of that kind instead of Utilization and
	// Schedule: what a resource's load is measured on depends on what it
	// is. A function has no CPU to measure (it is idle when nobody
	// invokes it), a load balancer none either (idle when no request
	// reaches it), a volume none (idle when nothing reads or writes a
	// byte of it). The other settings (weights, activity, evidence,
	// thresholds of confidence) are shared. Default: DefaultKinds(), for
	// functions, load balancers and volumes. A non-nil map replaces the default as
	// a whole (a non-nil empty map judges every kind by Utilization and
	// Schedule); encoded, nil is left out and an empty map is kept
	// ({}), so that a round trip keeps the one from the other.
	Kinds map[provider.Kind]KindConfig `json:"kinds,omitzero" yaml:"kinds,omitempty"`
}

// MarshalYAML encodes c as its fields are tagged, and a non-nil empty
// Kinds as "kinds: {}", which omitempty would leave out: read back, the
// missing key would be nil, the default kinds, instead of none.
func (c EnsembleConfig) MarshalYAML() (any, error) {
	type plain EnsembleConfig // without this method
	return yamlKeepingEmpty(plain(c), emptyMap("kinds", c.Kinds))
}

// clone returns c with copies of its maps and slices, nested ones
// included (nil stays nil, empty stays empty): NewEnsemble keeps one and
// Config hands one out, so that neither the caller's configuration nor
// the one it is given shares a map with the ensemble.
func (c EnsembleConfig) clone() EnsembleConfig {
	c.Utilization = c.Utilization.clone()
	c.Activity = c.Activity.clone()
	c.Evidence = c.Evidence.clone()
	if c.Kinds != nil {
		kinds := make(map[provider.Kind]KindConfig, len(c.Kinds))
		for k, kc := range c.Kinds {
			kinds[k] = kc.clone()
		}
		c.Kinds = kinds
	}
	return c
}

// KindConfig is the part of an EnsembleConfig that depends on the kind of
// resource judged (see EnsembleConfig.Kinds). Each field is a whole
// configuration, with its own defaults: a zero Utilization is the default
// utilization signal (CPU), not the ensemble's Utilization.
type KindConfig struct {
	// Utilization configures the utilization signal for the kind.
	Utilization UtilizationConfig `json:"utilization,omitzero" yaml:"utilization,omitempty"`
	// Schedule configures the time signal for the kind.
	Schedule ScheduleConfig `json:"schedule,omitzero" yaml:"schedule,omitempty"`
}

// clone returns c with copies of its maps and slices (ScheduleConfig has
// none); see EnsembleConfig.clone.
func (c KindConfig) clone() KindConfig {
	c.Utilization = c.Utilization.clone()
	return c
}

// IdleEventRate is the default idle threshold of the counts of
// DefaultKinds, in events (or, for a volume, bytes) per second: half an
// event a day. A function, a load balancer or a volume is idle below it,
// so that one event (one byte read or written) anywhere in the default
// windows (the utilization's day, its hour held, a step of the learned
// week) reads at least twice it, and only a count of none is idle.
const IdleEventRate = 0.5 / (24 * 60 * 60)

// DefaultKinds returns the default per-kind signals (see
// EnsembleConfig.Kinds):
//
//	function       invocations  (provider.MetricInvocations)
//	load_balancer  requests     (provider.MetricRequests), and connections
//	                            (provider.MetricConnections) when the source has them
//	volume         bytes written and read (provider.MetricDiskWrite and
//	                            provider.MetricDiskRead), both required
//
// Each count is the kind's required utilization metric (the first one
// listed also the schedule's metric), with the threshold IdleEventRate:
// one use makes the window, the hold or the step not idle. A volume needs
// both of its counts, since one only ever written to (a log or a backup
// target) or only read is in use; and it is recommended for termination
// only while detached (see Terminable). A load balancer's open
// connections count too, not required (a source that has none reports
// none): a WebSocket or another long-lived connection is one request and
// may stay open for days, so requests alone would call a load balancer
// that serves it idle. Exact zeros are trusted
// (DataQuality.TrustZeros): an event count's zeros are what no event
// reads as, not a dead agent, and the suspect-zero rule would turn the
// weeks after a function's last invocation into missing data. With the
// default EvidenceConfig.PeakBounds the thresholds bound the counts' peaks
// too (DefaultPeakBounds): a step with an event in the terminate window
// forbids a terminate, whatever the activity source counts. A source
// must read a count with no events as zeros, not as gaps, or the count is
// missing and the verdict Unknown: the AWS driver does so for Lambda's
// counts, from the function's last modification on (not for a function
// that may run at Lambda@Edge), for an Application Load Balancer's
// requests, from its creation on, and for an EBS volume's bytes while
// it is detached, from its creation or its last datapoint on (see
// provider/aws).
// Windows, holds and histories are the defaults of UtilizationConfig and
// ScheduleConfig.
func DefaultKinds() map[provider.Kind]KindConfig {
	// counted judges a kind on counts: the required ones first (the
	// first is the schedule's), then the optional ones.
	counted := func(required []provider.Metric, optional ...provider.Metric) KindConfig {
		q := DataQuality{TrustZeros: true}
		th := make(map[provider.Metric]float64, len(required)+len(optional))
		for _, x := range append(slices.Clone(required), optional...) {
			th[x] = IdleEventRate
		}
		return KindConfig{
			Utilization: UtilizationConfig{Thresholds: th, Required: required, Quality: q},
			Schedule:    ScheduleConfig{Metric: required[0], Threshold: IdleEventRate, Quality: q},
		}
	}
	return map[provider.Kind]KindConfig{
		provider.KindFunction:     counted([]provider.Metric{provider.MetricInvocations}),
		provider.KindLoadBalancer: counted([]provider.Metric{provider.MetricRequests}, provider.MetricConnections),
		provider.KindVolume:       counted([]provider.Metric{provider.MetricDiskWrite, provider.MetricDiskRead}),
	}
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
	if c.DownsizeSaving == 0 {
		c.DownsizeSaving = 0.5
	}
	if c.MinScheduleSaving == 0 {
		c.MinScheduleSaving = 0.25
	}
	if c.StopIdleShare == 0 {
		c.StopIdleShare = 1
	}
	if c.MinRegularity == 0 {
		c.MinRegularity = 0.9
	}
	if c.Kinds == nil {
		c.Kinds = DefaultKinds()
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
	if err := c.Evidence.Validate(); err != nil {
		return err
	}
	if c.DownsizeSaving == 1 {
		return invalid("ensemble.downsize_saving", c.DownsizeSaving, "must be below 1: a downsize keeps some capacity")
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"act_threshold", c.ActThreshold}, {"downsize_saving", c.DownsizeSaving}, {"min_schedule_saving", c.MinScheduleSaving}, {"stop_idle_share", c.StopIdleShare}, {"min_regularity", c.MinRegularity}} {
		if math.IsNaN(f.v) || f.v < 0 || f.v > 1 {
			return invalid("ensemble."+f.name, f.v, "must be in [0, 1]")
		}
	}
	if c.ActThreshold == 1 {
		return invalid("ensemble.act_threshold", c.ActThreshold, "must be below 1: no confidence exceeds 1")
	}
	for _, k := range slices.Sorted(maps.Keys(c.Kinds)) {
		if err := k.Validate(); err != nil {
			return provider.Within("ensemble.kinds", err)
		}
		kc := c.Kinds[k]
		if err := kc.Utilization.Validate(); err != nil {
			return provider.Within("ensemble.kinds."+string(k), err)
		}
		if err := kc.Schedule.Validate(); err != nil {
			return provider.Within("ensemble.kinds."+string(k), err)
		}
	}
	return nil
}

// Option configures an Ensemble.
type Option func(*Ensemble)

// WithModel adds a trained model as the model signal, weighed by
// Weights.Model. Without it the model signal is unavailable and the other
// weights are renormalised. The model reads CPU whatever the resource's
// kind: on a function, a load balancer or a volume (the kinds of
// DefaultKinds, which have none) it is unknown, which forbids a stop or
// terminate as any signal that could not tell does, so an ensemble with
// a model never terminates them (ReasonAbstained names the model).
func WithModel(m *Model) Option { return func(e *Ensemble) { e.model = m } }

// WithSignal adds a custom signal with its own weight. Its Detect result's
// State and Score are used and its first eight Reasons kept; its vote of
// not idle, outvoted or not, forbids a stop or terminate, and so does its
// Unknown (see Evidence in the package documentation). An empty State
// counts as Unknown; a State that is none of the State constants makes the
// ensemble's Detect fail with an error naming it, as does a Reason whose
// Code is set but not a snake_case word (see ReasonCode) or whose Value,
// Limit or Stats are infinite, which JSON cannot encode. Its name must be
// non-empty, unique among the custom signals and none of the built-in
// signals' (utilization, activity, schedule, model) nor "ensemble" or
// "evidence", which the ensemble's own reasons carry: NewEnsemble refuses
// it otherwise, and a d that is nil, a nil Func or a nil pointer (whose
// Detect would panic), naming ensemble.signals[i].detector.
func WithSignal(name string, weight float64, d Detector) Option {
	return func(e *Ensemble) { e.custom = append(e.custom, member{name: name, weight: weight, d: d}) }
}

// reservedSignals are the names a custom signal may not take: the
// built-in signals' and the ensemble's own reasons' (Reason.Signal).
var reservedSignals = [...]string{SignalUtilization, SignalActivity, SignalSchedule, SignalModel, "ensemble", "evidence"}

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
// recommended only when the confidence exceeds ActThreshold and the
// evidence allows it (see EvidenceConfig): the reasons then end with the
// evidence checked.
//
// An Ensemble is safe for concurrent use. Make one with NewEnsemble; the
// zero value's Detect returns an error.
type Ensemble struct {
	cfg    EnsembleConfig
	lens   // the default: Utilization and Schedule
	kinds  map[provider.Kind]*lens
	act    *Activity
	model  *Model
	custom []member
}

// lens is what the ensemble judges the resources of one kind by: the
// utilization and schedule strategies, the peak bounds of the evidence and
// the metrics it reads.
type lens struct {
	bounds    map[provider.Metric]PeakBound // EvidenceConfig.PeakBounds, and the kind's own (see newLens)
	evMetrics []provider.Metric             // see evidenceMetrics
	util      *Utilization
	sched     *Schedule
}

// lensOf returns the lens resources of kind k are judged by.
func (e *Ensemble) lensOf(k provider.Kind) *lens {
	if l, ok := e.kinds[k]; ok {
		return l
	}
	return &e.lens
}

// lenses returns every lens, the default first, then the kinds' in the
// order of their names.
func (e *Ensemble) lenses() []*lens {
	out := []*lens{&e.lens}
	for _, k := range slices.Sorted(maps.Keys(e.kinds)) {
		out = append(out, e.kinds[k])
	}
	return out
}

// kindOf returns the kind whose lens l is, or "" for the default.
func (e *Ensemble) kindOf(l *lens) provider.Kind {
	for k, kl := range e.kinds {
		if kl == l {
			return k
		}
	}
	return ""
}

// newLens makes the lens of a utilization and a schedule configuration,
// with evidence (defaults filled in) bounding the peaks. With ownBounds
// (the evidence's PeakBounds are the defaults) the utilization's own
// thresholds bound their metrics' peaks too (DefaultPeakBounds), as the
// ensemble's Utilization's bound a machine's CPU, and where the defaults
// bound a metric already (DefaultDiskBounds a volume's bytes) the
// stricter bound holds: a kind judged on an event count has a step with
// an event in the terminate window as a peak, and a function invoked (a
// volume read) 20 days ago is not terminated on the word of an activity
// source that does not count its invocations (its reads).
func newLens(u UtilizationConfig, s ScheduleConfig, evidence EvidenceConfig, ownBounds bool) (lens, error) {
	var l lens
	var err error
	if l.util, err = NewUtilization(u); err != nil {
		return lens{}, err
	}
	if l.sched, err = NewSchedule(s); err != nil {
		return lens{}, err
	}
	l.bounds = evidence.PeakBounds
	if ownBounds {
		own := false // l.bounds is the lens's own map, not the ensemble's
		for m, b := range DefaultPeakBounds(l.util.cfg.Thresholds) {
			if set, ok := l.bounds[m]; ok {
				// The stricter of the two: a volume's bytes are bounded
				// by the kind's threshold, not by DefaultDiskBounds,
				// which leave a machine room for its logs.
				if b = (PeakBound{P99: min(set.P99, b.P99), Max: min(set.Max, b.Max)}); b == set {
					continue
				}
			}
			if !own {
				l.bounds, own = maps.Clone(evidence.PeakBounds), true
			}
			l.bounds[m] = b
		}
	}
	if b, ok := l.bounds[l.sched.cfg.Metric]; ok {
		l.sched.peak = b.Max
	}
	l.evMetrics = l.evidenceMetrics()
	return l, nil
}

// NewEnsemble returns an Ensemble for cfg, or an error matching
// provider.ErrInvalid naming the wrong field; when no configured signal has
// a positive weight the error matches both ErrNoSignal and
// provider.ErrInvalid (field "weights").
func NewEnsemble(cfg EnsembleConfig, opts ...Option) (*Ensemble, error) {
	cfg = cfg.clone() // the caller's maps stay the caller's
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	e := &Ensemble{cfg: cfg}
	for _, o := range opts {
		o(e)
	}
	var err error
	if e.act, err = NewActivity(cfg.Activity); err != nil {
		return nil, err
	}
	u := cfg.Utilization.withDefaults()
	e.cfg.Evidence = cfg.Evidence.withDefaults(u.Thresholds)
	if e.lens, err = newLens(cfg.Utilization, cfg.Schedule, e.cfg.Evidence, false); err != nil {
		return nil, err
	}
	// The default bounds as Config returns them (filled in, no longer
	// nil) are the default still: an ensemble made from another's Config
	// bounds its kinds' counts as that one does.
	ownBounds := cfg.Evidence.PeakBounds == nil || maps.Equal(cfg.Evidence.PeakBounds, EvidenceConfig{}.withDefaults(u.Thresholds).PeakBounds)
	e.kinds = make(map[provider.Kind]*lens, len(cfg.Kinds))
	for k, kc := range cfg.Kinds {
		l, err := newLens(kc.Utilization, kc.Schedule, e.cfg.Evidence, ownBounds)
		if err != nil {
			return nil, provider.Within("ensemble.kinds."+string(k), err)
		}
		e.kinds[k] = &l
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
			return nil, invalid(fmt.Sprintf("ensemble.signals[%d].detector", i), m.name, "must not be nil, a nil Func or a nil pointer")
		}
		if m.name == "" {
			return nil, invalid(fmt.Sprintf("ensemble.signals[%d].name", i), m.name, "must not be empty")
		}
		if slices.Contains(reservedSignals[:], m.name) {
			// A stop's veto rule and the reasons tell the signals apart
			// by name: a host's signal named "schedule" had its vote of
			// not idle read as the schedule's, explained by the week,
			// and a stop went ahead.
			return nil, invalid(fmt.Sprintf("ensemble.signals[%d].name", i), m.name, "is a built-in signal's or the ensemble's own name")
		}
		for _, prev := range e.custom[:i] {
			if prev.name == m.name {
				return nil, invalid(fmt.Sprintf("ensemble.signals[%d].name", i), m.name, "appears twice")
			}
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

// Config returns the configuration with defaults filled in, a copy, maps
// and slices included (those of Kinds, Utilization, Activity and
// Evidence): changing it does not change e, as changing the
// configuration given to NewEnsemble does not.
func (e *Ensemble) Config() EnsembleConfig { return e.cfg.clone() }

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

// Needs returns the metrics and history the ensemble reads: the
// utilization metrics, the schedule's metric and the metrics with a peak
// bound, over the longest of the utilization window, the schedule's
// history, the terminate window (28 days by default) and, with a model,
// its window and history (and its metrics), for every kind
// (see EnsembleConfig.Kinds; NeedsOf gives one kind's metrics, which is
// what Scan and a Tracker read).
func (e *Ensemble) Needs() Needs {
	if e.util == nil {
		return Needs{} // not made by NewEnsemble: Detect fails
	}
	return e.needs(e.lenses()...)
}

// NeedsOf returns what the ensemble reads of a resource of kind k: Needs,
// with the metrics of the signals that judge the kind only (see
// EnsembleConfig.Kinds). The history and the activity window are Needs',
// whatever the kind.
func (e *Ensemble) NeedsOf(k provider.Kind) Needs {
	if e.util == nil {
		return Needs{}
	}
	n := e.needs(e.lensOf(k))
	n.History = e.Needs().History
	return n
}

// needs returns what the lenses ls read, over their own histories.
func (e *Ensemble) needs(ls ...*lens) Needs {
	n := Needs{History: e.cfg.Evidence.TerminateWindow, Activity: true, ActivityWindow: e.act.cfg.Quiet}
	add := func(m provider.Metric) {
		if !containsMetric(n.Metrics, m) {
			n.Metrics = append(n.Metrics, m)
		}
	}
	for _, l := range ls {
		for _, m := range l.util.metrics {
			add(m)
		}
		add(l.sched.cfg.Metric)
		for _, m := range l.evMetrics {
			if _, bounded := l.bounds[m]; bounded {
				add(m)
			}
		}
		n.History = max(n.History, l.util.cfg.Window, l.sched.cfg.History)
	}
	if e.model != nil {
		n.History = max(n.History, e.model.cfg.Window, e.model.cfg.History) // its week features, as Model.Needs
		for _, m := range e.model.metrics() {
			add(m)
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

// Detect implements Detector in named phases: gather evaluates every
// signal and counts the votes, weigh renormalises the weights over the
// available signals into the score, vote decides the state, grace may
// overrule it, explain lists the reasons and recommend picks the action. It allocates only the verdict's Signals and Reasons when
// every signal is built in.
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
	return e.detect(ctx, &in, metricData{in: &in})
}

// detect is Detect on validated input whose metrics data reads.
func (e *Ensemble) detect(ctx context.Context, in *Input, data metricData) (Verdict, error) {
	var ev evaluation
	v := Verdict{ResourceID: in.Resource.ID, Action: ActionNone}
	if err := e.gather(ctx, in, data, &ev, &v); err != nil {
		return Verdict{}, err
	}
	weigh(&v, ev.tally)
	v.State = e.vote(ev.util.state, ev.tally, v.Score)
	v.Reasons = make([]Reason, 0, ev.tally.reasons+8) // + grace or vote, + the recommendation's (see recommend)
	e.grace(in, &v)
	v.Confidence = confidenceOf(v.State, v.Score)
	ev.explain(&v)
	e.recommend(in, data, &v, &ev.sched)
	return v, nil
}

// grace makes the verdict of a resource younger than the grace period
// Unknown, with the reason, and clears the score and the weights of an
// Unknown verdict.
func (e *Ensemble) grace(in *Input, v *Verdict) {
	if young, why := inGrace(in, e.cfg.GracePeriod); young {
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
}

// evaluation is what the signals of one Detect call found. The built-in
// strategies' results are named fields, so that the vote and the
// recommendation can name them and the evaluation stays on the stack; the
// verdict's Signals list every signal in order.
type evaluation struct {
	util, act, sched, model result
	withModel               bool
	custom                  []result // only with WithSignal
	tally                   tally
}

// tally is the count over the signals that the weights and the vote need.
type tally struct {
	avail   int     // available signals: known, with a positive weight
	votes   int     // available signals that vote idle
	total   float64 // the weight of the available signals
	reasons int     // the signals' reasons
}

// gather evaluates every signal of e on in, in the verdict's order:
// utilization, activity, schedule, the model when the ensemble has one,
// then the custom signals in the order of their options. For each it
// appends a Contribution to v.Signals whose Weight is still the signal's
// configured weight (weigh renormalises it), and it sets v.Window to the
// utilization window stretched back to the earliest signal's start. A
// custom signal's reasons are kept (at most as many as a built-in signal
// keeps) and its empty State counts as Unknown.
func (e *Ensemble) gather(ctx context.Context, in *Input, data metricData, ev *evaluation, v *Verdict) error {
	w := e.cfg.Weights
	n := 3 + len(e.custom) // utilization, activity, schedule, custom
	if e.model != nil {
		n++
	}
	v.Signals = make([]Contribution, 0, n)
	l := e.lensOf(in.Resource.Kind)
	if err := l.util.evaluate(in, data, ev.util.start()); err != nil {
		return err
	}
	v.Window = ev.util.window
	ev.add(v, SignalUtilization, w.Utilization, &ev.util)
	if err := e.act.evaluate(in, ev.act.start()); err != nil {
		return err
	}
	ev.add(v, SignalActivity, w.Activity, &ev.act)
	if err := l.sched.evaluate(in, data, ev.sched.start()); err != nil {
		return err
	}
	ev.add(v, SignalSchedule, w.Schedule, &ev.sched)
	if e.model != nil {
		ev.withModel = true
		if err := e.model.evaluate(in, ev.model.start()); err != nil {
			return err
		}
		ev.add(v, SignalModel, w.Model, &ev.model)
	}
	if len(e.custom) > 0 {
		ev.custom = make([]result, len(e.custom))
	}
	for i, m := range e.custom {
		got, err := m.d.Detect(ctx, *in)
		if err != nil {
			return fmt.Errorf("ensemble: signal %s: %w", m.name, err)
		}
		if got.State == "" {
			got.State = Unknown
		} else if err := got.State.Validate(); err != nil {
			return fmt.Errorf("ensemble: signal %s: %w", m.name, err)
		}
		r := &ev.custom[i]
		r.state, r.score, r.window = got.State, clamp01(got.Score), got.Window
		for j, why := range got.Reasons {
			if err := why.encodable(); err != nil {
				// Kept, it would make the verdict, and a report of the
				// whole fleet, fail to encode.
				return fmt.Errorf("ensemble: signal %s: reasons[%d]: %w", m.name, j, err)
			}
			r.add(why)
		}
		ev.add(v, m.name, m.weight, r)
	}
	return nil
}

// start readies r for a strategy: Unknown until it decides.
func (r *result) start() *result {
	r.state = Unknown
	return r
}

// add counts the signal of r, named name with weight, and appends its
// Contribution to v.Signals.
func (ev *evaluation) add(v *Verdict, name string, weight float64, r *result) {
	c := Contribution{Signal: name, State: r.state, Weight: weight}
	if r.state != Unknown {
		c.Score = clamp01(r.score)
	}
	v.Signals = append(v.Signals, c)
	if !r.window.From.IsZero() && r.window.From.Before(v.Window.From) {
		// A zero From is a window not said (a custom signal's Verdict
		// without one), not one reaching back to the year 1.
		v.Window.From = r.window.From
	}
	ev.tally.reasons += r.n
	if r.state != Unknown && weight > 0 {
		ev.tally.total += weight
		ev.tally.avail++
		if r.state == Idle {
			ev.tally.votes++
		}
	}
}

// weigh renormalises the weights of v's available signals (known ones)
// to sum to 1 and sets each one's Value and v.Score, their sum. An
// unknown signal weighs 0.
func weigh(v *Verdict, t tally) {
	for i := range v.Signals {
		c := &v.Signals[i]
		if c.State == Unknown || t.total <= 0 {
			c.Weight = 0
			continue
		}
		c.Weight /= t.total
		c.Value = c.Weight * c.Score
		v.Score += c.Value
	}
	v.Score = clamp01(v.Score)
}

// vote decides the state from the utilization signal's state, the tally
// and the weighted score.
func (e *Ensemble) vote(util State, t tally, score float64) State {
	switch {
	case t.avail == 0 || t.total == 0:
		return Unknown
	case util == Unknown && !e.cfg.AllowWithoutUtilization:
		return Unknown
	case util == NotIdle:
		// Measured load vetoes idleness: quiet logins and idle hours do not
		// make a busy machine idle.
		return NotIdle
	case 2*t.votes > t.avail && score >= 0.5:
		return Idle
	}
	return NotIdle
}

// explain appends the vote and every signal's reasons, in the verdict's
// order (see gather), to v.Reasons.
func (ev *evaluation) explain(v *Verdict) {
	if ev.tally.avail > 0 {
		v.Reasons = append(v.Reasons, Reason{Signal: "ensemble", Code: ReasonVote, Value: float64(ev.tally.votes), Limit: float64(ev.tally.avail)})
	}
	v.Reasons = append(v.Reasons, ev.util.reasons[:ev.util.n]...)
	v.Reasons = append(v.Reasons, ev.act.reasons[:ev.act.n]...)
	v.Reasons = append(v.Reasons, ev.sched.reasons[:ev.sched.n]...)
	if ev.withModel {
		v.Reasons = append(v.Reasons, ev.model.reasons[:ev.model.n]...)
	}
	for i := range ev.custom {
		v.Reasons = append(v.Reasons, ev.custom[i].reasons[:ev.custom[i].n]...)
	}
}

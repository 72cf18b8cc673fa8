package detector

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/idlescale/idlescale/internal/enumtext"
	"github.com/idlescale/idlescale/internal/nilcheck"
	"github.com/idlescale/idlescale/provider"
)

// Detector decides whether one resource is idle.
//
// Detect is a pure function of its input: it reads in.Now instead of the
// clock, does no I/O and retains nothing from in. It returns an error only
// for invalid input (matching provider.ErrInvalid, naming the field) or
// when ctx has ended; missing, stale or gappy data is not an error but a
// Verdict whose State is Unknown, with the reason. Implementations must be
// safe for concurrent use.
type Detector interface {
	Detect(ctx context.Context, in Input) (Verdict, error)
}

// Func adapts a function to a Detector.
type Func func(ctx context.Context, in Input) (Verdict, error)

// Detect calls f(ctx, in).
func (f Func) Detect(ctx context.Context, in Input) (Verdict, error) { return f(ctx, in) }

// isNilDetector reports whether d is nil, a nil Func or a nil pointer (a
// host's *Ensemble not built, in the interface), whose Detect would panic.
func isNilDetector(d Detector) bool { return nilcheck.Is(d) }

var (
	_ Detector = Func(nil)
	_ Detector = (*Utilization)(nil)
	_ Detector = (*Activity)(nil)
	_ Detector = (*Schedule)(nil)
	_ Detector = (*Model)(nil)
	_ Detector = (*Ensemble)(nil)
	_ Detector = (*Preset)(nil)
)

// Input is what a Detector examines for one resource.
type Input struct {
	// Now is the time of the decision; windows end here. Required.
	Now time.Time
	// Resource is the resource being judged. Its LaunchTime gives the
	// grace period for young resources and the start of the data the
	// evidence, the learned week and the model's features read (a
	// predecessor's series under the same ID is not the resource's), its
	// HourlyCost the savings, its TimeZone the schedule's hours.
	Resource provider.Resource
	// Series holds at most one series per metric, on a regular grid with
	// NaN gaps. A series may reach further back than a strategy's window
	// (the schedule and the model use the history); steps at or after Now
	// are ignored. A metric without a series is unknown, not idle.
	Series []provider.Series
	// MetricErrors records metrics whose source failed; each makes the
	// signals that need that metric unknown.
	MetricErrors []MetricError
	// Activity holds one count per observed activity kind over
	// [ActivityFrom, Now): a kind may appear once. A kind that is absent is
	// unknown; an empty slice means no activity data. Counts must be
	// finite and ≥ 0. A count whose Since is after ActivityFrom covers
	// only [Since, Now): the quiet rule and a terminate's no-use rule read
	// it as that much shorter a window. Since must not be after Now.
	Activity []provider.ActivityCount
	// ActivityFrom is the start of the window Activity covers. Zero means
	// the activity strategy's Quiet period before Now.
	ActivityFrom time.Time
	// ActivityErr, when set, records that the activity source failed; the
	// activity signal is then unknown.
	ActivityErr error
}

// MetricError records that reading one metric failed.
type MetricError struct {
	// Metric is the metric that could not be read.
	Metric provider.Metric
	// Err is the source's error.
	Err error
}

// SeriesFor returns the series of metric m and whether Input has one.
func (in *Input) SeriesFor(m provider.Metric) (provider.Series, bool) {
	for i := range in.Series {
		if in.Series[i].Metric == m {
			return in.Series[i], true
		}
	}
	return provider.Series{}, false
}

func (in *Input) metricErr(m provider.Metric) error {
	for _, e := range in.MetricErrors {
		if e.Metric == m {
			return e.Err
		}
	}
	return nil
}

// Validate checks Now, the resource's kind, cost (finite, ≥ 0, and finite
// times HoursPerMonth) and time zone (an IANA
// name that loads, or none for UTC) and every series and
// activity count: a series must be the resource's (its ResourceID, when
// set, the Resource's ID, when set); the kind must be one of provider.Kinds (an empty or
// misspelled kind is an error, never a default action); steps must be
// positive; values finite or NaN gaps; utilization values fractions in
// [0, 1] (a CPU trace read in percent without its 0.01 scale is an error,
// not a busy machine); other built-in metrics not negative; metrics known
// and not repeated; a metric error's metric known and its error set;
// activity kinds valid and not repeated (two counts of one kind
// contradict each other). The error names the field, for example
// "input.series[cpu].values[7]", "input.activity[1].kind" or
// "input.resource.kind".
func (in *Input) Validate() error {
	if in.Now.IsZero() {
		return invalid("input.now", in.Now, "must be set")
	}
	if err := in.Resource.Kind.Validate(); err != nil {
		return provider.Within("input.resource", err)
	}
	if c := in.Resource.HourlyCost; math.IsNaN(c) || math.IsInf(c, 0) || c < 0 || math.IsInf(c*HoursPerMonth, 0) {
		// A month past the largest float64 would be an infinite
		// MonthlySavings, which a verdict cannot encode in JSON.
		return invalid("input.resource.hourly_cost", c, "must be a finite number ≥ 0 whose month (× HoursPerMonth) is finite")
	}
	if _, err := loadZone(in.Resource.TimeZone); err != nil {
		// Read in UTC, a schedule would stop the machine in hours that
		// are busy where it serves.
		return invalid("input.resource.time_zone", in.Resource.TimeZone, "must be an IANA time zone name such as Europe/Berlin (the machine's Local is refused)")
	}
	for i := range in.Series {
		s := &in.Series[i]
		if err := s.Metric.Validate(); err != nil {
			return provider.Within(fmt.Sprintf("input.series[%d].metric", i), err)
		}
		for j := range i {
			if in.Series[j].Metric == s.Metric {
				return invalid(fmt.Sprintf("input.series[%d].metric", i), string(s.Metric), "appears twice")
			}
		}
		if id := in.Resource.ID; s.ResourceID != "" && id != "" && s.ResourceID != id {
			// Another resource's data (a host's batch reader pairing
			// answers with the wrong queries): judged on it, a busy
			// machine could be stopped on an idle one's series.
			return invalid("input.series["+string(s.Metric)+"].resource_id", s.ResourceID, "is another resource's: the input is for "+id)
		}
		if s.Step <= 0 {
			return invalid("input.series["+string(s.Metric)+"].step", s.Step, "must be > 0")
		}
		if s.Start.IsZero() && len(s.Values) > 0 {
			return invalid("input.series["+string(s.Metric)+"].start", s.Start, "must be set")
		}
		util := s.Metric.IsUtilization()
		hi := math.MaxFloat64
		if util {
			hi = 1
		}
		for k, v := range s.Values {
			if v >= 0 && v <= hi || v != v { // the common case: in range, or a gap (NaN)
				continue
			}
			if math.IsInf(v, 0) {
				return invalid(fmt.Sprintf("input.series[%s].values[%d]", s.Metric, k), v, "must be finite or a gap (NaN)")
			}
			if v < 0 && (util || s.Metric.Unit() != provider.UnitUnknown) {
				return invalid(fmt.Sprintf("input.series[%s].values[%d]", s.Metric, k), v, "must not be negative")
			}
			if util && v > 1 {
				return invalid(fmt.Sprintf("input.series[%s].values[%d]", s.Metric, k), v, "must be in [0, 1]: utilization is a fraction (a trace in percent needs scale 0.01)")
			}
		}
	}
	for i, me := range in.MetricErrors {
		// A failed read blocks every action and is explained by its
		// metric: an empty one read as the activity's.
		if err := me.Metric.Validate(); err != nil {
			return provider.Within(fmt.Sprintf("input.metric_errors[%d].metric", i), err)
		}
		if me.Err == nil {
			return invalid(fmt.Sprintf("input.metric_errors[%d].err", i), nil, "must be set: the error reading "+string(me.Metric))
		}
	}
	for i, a := range in.Activity {
		// Named from the input's root, as every other field here: the
		// provider value's own paths ("activity.kind",
		// "activity.logins.count") say neither.
		if err := a.Kind.Validate(); err != nil {
			return renamed(fmt.Sprintf("input.activity[%d].kind", i), err)
		}
		if err := a.Validate(); err != nil { // the count
			return renamed(fmt.Sprintf("input.activity[%d].count", i), err)
		}
		if a.Since.After(in.Now) {
			return invalid(fmt.Sprintf("input.activity[%d].since", i), a.Since.Format(time.RFC3339), "must not be after now "+in.Now.Format(time.RFC3339))
		}
		for j := range i {
			if in.Activity[j].Kind == a.Kind {
				return invalid(fmt.Sprintf("input.activity[%d].kind", i), string(a.Kind), "appears twice")
			}
		}
	}
	if !in.ActivityFrom.IsZero() && !in.ActivityFrom.Before(in.Now) {
		return invalid("input.activity_from", in.ActivityFrom.Format(time.RFC3339), "must be before now "+in.Now.Format(time.RFC3339))
	}
	return nil
}

// State is the outcome of a detection, a lower-case snake string. The
// zero value "" means no detection was made (a zero Verdict); it counts as
// Unknown (an Ensemble treats a signal with an empty State as Unknown) and
// Validate refuses it.
type State string

// The states. Unknown means the data did not allow a decision (missing,
// stale, gappy, a source error, a resource in its grace period); it is never
// a reason to act.
const (
	Unknown State = "unknown"
	NotIdle State = "not_idle"
	Idle    State = "idle"
)

// String returns "unknown", "not_idle", "idle", or "" for the zero value.
func (s State) String() string { return string(s) }

// Validate returns a *provider.InvalidError unless s is Unknown, NotIdle
// or Idle.
func (s State) Validate() error {
	switch s {
	case Unknown, NotIdle, Idle:
		return nil
	}
	return invalid("state", string(s), `must be "unknown", "not_idle" or "idle"`)
}

// MarshalText implements encoding.TextMarshaler: the State's value, empty
// for the zero value. An unknown value is an error.
func (s State) MarshalText() ([]byte, error) { return enumtext.Marshal(s, State.Validate) }

// UnmarshalText implements encoding.TextUnmarshaler: "unknown",
// "not_idle", "idle" or the empty string (the zero value). Any other text
// is an error naming it.
func (s *State) UnmarshalText(b []byte) error { return enumtext.Unmarshal(s, b, State.Validate) }

// Action is what a Verdict recommends.
type Action string

// The actions, in the order of the evidence they need (see Evidence in the
// package documentation). ActionNone is recommended whenever the
// confidence does not pass the ensemble's threshold or the evidence falls
// short.
const (
	ActionNone      Action = "none"
	ActionStop      Action = "stop"      // stop an idle instance or database, keeping its storage
	ActionTerminate Action = "terminate" // delete an idle resource that cannot be stopped
	ActionDownsize  Action = "downsize"  // move to a smaller size (or lower capacity of a group)
	ActionSchedule  Action = "schedule"  // stop during the learned idle hours
)

// String returns the Action's value: "none", "stop", "terminate",
// "downsize", "schedule", or "" for the zero value.
func (a Action) String() string { return string(a) }

// Validate returns a *provider.InvalidError unless a is one of the actions.
// The zero Action is refused: a Verdict always says what it recommends,
// if only ActionNone.
func (a Action) Validate() error {
	switch a {
	case ActionNone, ActionStop, ActionTerminate, ActionDownsize, ActionSchedule:
		return nil
	}
	return invalid("action", string(a), `must be "none", "stop", "terminate", "downsize" or "schedule"`)
}

// MarshalText implements encoding.TextMarshaler: the Action's value, empty
// for the zero value. An unknown value is an error.
func (a Action) MarshalText() ([]byte, error) { return enumtext.Marshal(a, Action.Validate) }

// UnmarshalText implements encoding.TextUnmarshaler: one of the actions or
// the empty string (the zero value). Any other text is an error naming it;
// decoding is exact ("Stop" is refused).
func (a *Action) UnmarshalText(b []byte) error { return enumtext.Unmarshal(a, b, Action.Validate) }

// HoursPerMonth is the number of hours in an average month (365.25·24/12),
// used to turn an hourly cost into monthly savings: provider.HoursPerMonth,
// the drivers' too.
const HoursPerMonth = provider.HoursPerMonth

// Window is a time range [From, To).
type Window struct {
	// From is the start (inclusive).
	From time.Time `json:"from"`
	// To is the end (exclusive).
	To time.Time `json:"to"`
}

// Duration returns To − From.
func (w Window) Duration() time.Duration { return w.To.Sub(w.From) }

// The signal names of the built-in strategies, used in Contribution.Signal,
// Reason.Signal and Weights.
const (
	SignalUtilization = "utilization"
	SignalActivity    = "activity"
	SignalSchedule    = "schedule"
	SignalModel       = "model"
)

// Contribution is what one signal added to a verdict.
type Contribution struct {
	// Signal names the signal ("utilization", "activity", ...).
	Signal string `json:"signal"`
	// State is the signal's own vote.
	State State `json:"state"`
	// Score is the signal's idle score in [0, 1]: 1 is surely idle, 0
	// surely busy, 0.5 undecided. It is 0 when State is Unknown.
	Score float64 `json:"score"`
	// Weight is the signal's weight renormalised over the available
	// signals; 0 when the signal is Unknown.
	Weight float64 `json:"weight"`
	// Value is Weight·Score, the signal's share of the verdict's Score.
	Value float64 `json:"value"`
}

// Verdict is the outcome of a detection, with its explanation.
type Verdict struct {
	// ResourceID is the resource judged.
	ResourceID string `json:"resource_id"`
	// State is idle, not idle or unknown.
	State State `json:"state"`
	// Score is the weighted idle score in [0, 1] over the available
	// signals (0 when none is available).
	Score float64 `json:"score"`
	// Confidence in [0, 1] is how sure the verdict is of State: Score for
	// Idle, 1 − Score for NotIdle and 0 for Unknown.
	Confidence float64 `json:"confidence"`
	// Signals lists every signal with its vote, score and weight.
	Signals []Contribution `json:"signals"`
	// Reasons explain the verdict, most important first.
	Reasons []Reason `json:"reasons"`
	// Window is the time range examined.
	Window Window `json:"window"`
	// Action is the recommended action; ActionNone unless the confidence
	// passed the threshold and the evidence allowed an action.
	Action Action `json:"action"`
	// MonthlySavings is the estimated saving of Action per month, in the
	// currency of Resource.HourlyCost: HourlyCost · HoursPerMonth times the
	// share of hours saved (1 for stop and terminate, the schedule's share
	// for schedule, DownsizeSaving for downsize). 0 when the cost is unknown.
	MonthlySavings float64 `json:"monthly_savings"`
	// Schedule is the proposed off-hours schedule when Action is
	// ActionSchedule; nil otherwise.
	Schedule *OffHours `json:"schedule,omitempty"`
}

// Explain returns the reasons as human-readable sentences.
func (v Verdict) Explain() []string {
	out := make([]string, len(v.Reasons))
	for i, r := range v.Reasons {
		out[i] = r.String()
	}
	return out
}

func confidenceOf(s State, score float64) float64 {
	switch s {
	case Idle:
		return clamp01(score)
	case NotIdle:
		return clamp01(1 - score)
	}
	return 0
}

func clamp01(x float64) float64 {
	switch {
	case x > 1:
		return 1
	case x >= 0:
		return x
	}
	return 0 // negative or NaN
}

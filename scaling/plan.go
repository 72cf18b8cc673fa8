package scaling

import (
	"fmt"
	"math"
	"time"

	"github.com/idlescale/idlescale/internal/enumtext"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// Plan is how the engine carries out one recommendation: ordered steps
// (a change larger than the gradual limit becomes several), the plan to
// roll it back, the monitoring that verifies each step, and what it is
// expected to take and cost. A plan is a value; its ID is derived from
// its content, so the same recommendation for the same state plans the
// same ID, and executing a plan twice does not change the target twice.
type Plan struct {
	// ID identifies the plan in events, safety proposals (Proposal.Source,
	// and ID + "/" + step in Proposal.ID) and the provider calls'
	// context (PlanFromContext).
	ID string `json:"id"`
	// Target is the target as it was when planned.
	Target Target `json:"target"`
	// Strategy names the strategy whose recommendation this is.
	Strategy string `json:"strategy"`
	// Reason is the recommendation's reason.
	Reason string `json:"reason"`
	// CreatedAt is when it was made.
	CreatedAt time.Time `json:"created_at"`
	// From and To are the group's capacity before and after (groups).
	From provider.CapacitySpec `json:"from,omitzero"`
	// To is the capacity the plan ends at.
	To provider.CapacitySpec `json:"to,omitzero"`
	// FromSize and ToSize are the size before and after (vertical).
	FromSize provider.Size `json:"from_size,omitzero"`
	// ToSize is the size the plan ends at.
	ToSize provider.Size `json:"to_size,omitzero"`
	// Steps are the steps, in order.
	Steps []PlanStep `json:"steps"`
	// Rollback are the steps that undo the whole plan, from To back to
	// From, in order. A rollback after k steps starts from where those
	// left the target.
	Rollback []PlanStep `json:"rollback"`
	// Monitoring is what verifies each step.
	Monitoring MonitoringPlan `json:"monitoring"`
	// ExpectedDuration is how long the plan should take: every step's
	// settling estimate and monitoring window.
	ExpectedDuration time.Duration `json:"expected_duration"`
	// CostPerHour is the change of the target's cost per hour once the
	// plan is done (negative saves), in the resource's currency; 0 when
	// unknown.
	CostPerHour float64 `json:"cost_per_hour"`
}

// PlanStep is one change of a plan.
type PlanStep struct {
	// Index numbers the step from 1.
	Index int `json:"index"`
	// Action is the safety action: scale_out, scale_in or resize.
	Action safety.Action `json:"action"`
	// From and To are the capacity before and after (groups).
	From provider.CapacitySpec `json:"from,omitzero"`
	// To is the capacity after.
	To provider.CapacitySpec `json:"to,omitzero"`
	// FromSize and ToSize are the size before and after (vertical).
	FromSize provider.Size `json:"from_size,omitzero"`
	// ToSize is the size after.
	ToSize provider.Size `json:"to_size,omitzero"`
}

// Units returns how many instances the step changes (1 for a resize).
func (s PlanStep) Units() int {
	if s.Action == safety.ActionResize {
		return 1
	}
	return max(1, abs(s.To.Desired-s.From.Desired))
}

// String describes the step in one line: "2: scale_out 4→6".
func (s PlanStep) String() string {
	if s.Action == safety.ActionResize {
		return fmt.Sprintf("%d: resize %s → %s", s.Index, sizeString(s.FromSize), sizeString(s.ToSize))
	}
	return fmt.Sprintf("%d: %s %s → %s", s.Index, s.Action, specString(s.From), specString(s.To))
}

func specString(c provider.CapacitySpec) string {
	return fmt.Sprintf("%d [%d,%d]", c.Desired, c.Min, c.Max)
}

func sizeString(s provider.Size) string {
	switch {
	case s.InstanceType != "":
		return s.InstanceType
	case s.Timeout > 0:
		return fmt.Sprintf("%dMiB/%s", s.MemoryMiB, s.Timeout)
	}
	return fmt.Sprintf("%gvCPU/%dMiB", s.VCPU, s.MemoryMiB)
}

// validate returns an error matching provider.ErrInvalid, naming the
// field ("steps[1].to.min"), unless p's steps are a change Execute can
// carry out as the plan says, checked before anything is written (a
// host may build a Plan by hand, or change one Engine.Plan made): an ID
// (the journal, the safety proposals and a resume know the plan by it)
// and a target ID; the steps numbered 1, 2, … in order (a duplicate
// shares its proposal's ID and the Fencer's step); each step going from
// where the one before it ends, the first from From and the last to To
// (the rollback returns to From); for a group, valid capacities (0 ≤ Min
// ≤ Desired ≤ Max) everywhere, To's desired capacity within the
// target's policy bounds (Min ≤ desired ≤ Max, Max ≥ 1, as
// Engine.Decide requires), and steps that are scale_out or scale_in the
// way they move (a scale_in must not raise the desired capacity, a
// scale_out must not lower it nor, at the same desired capacity, lower a
// bound), with no size; for a resource, a size valid for its kind
// (provider.Size.ValidateFor: finite vCPUs, a function's memory and
// timeout) to resize to, and from unless it is unknown (zero), in resize
// steps with no capacity. Without it a bad step was found only when the
// gate or the provider refused it, after the steps before it were
// written: the plan stopped or rolled back half done.
func (p *Plan) validate() error {
	if p.ID == "" {
		return provider.Invalid("id", "", "is required: the journal and the safety proposals know the plan by it")
	}
	if p.Target.ID == "" {
		return provider.Invalid("target.id", "", "is required")
	}
	if p.Target.horizontal() {
		return p.validateGroup()
	}
	return p.validateResize()
}

// validateGroup is validate of a group's plan.
func (p *Plan) validateGroup() error {
	t := &p.Target
	if err := p.From.Validate(); err != nil {
		return provider.Within("from", err)
	}
	if err := p.To.Validate(); err != nil {
		return provider.Within("to", err)
	}
	switch {
	case t.Min < 0:
		return provider.Invalid("target.min", t.Min, "must be ≥ 0")
	case t.Max < 1 || t.Max < t.Min:
		return provider.Invalid("target.max", t.Max, fmt.Sprintf("must be ≥ 1 and ≥ min %d", t.Min))
	case p.To.Desired < t.Min || p.To.Desired > t.Max:
		return provider.Invalid("to.desired", p.To.Desired, fmt.Sprintf("must lie within the target's bounds [%d, %d]", t.Min, t.Max))
	}
	prev := p.From
	for i := range p.Steps {
		s := &p.Steps[i]
		field := fmt.Sprintf("steps[%d]", i)
		if err := s.validateHead(i, p.Target.Resource.Kind); err != nil {
			return provider.Within(field, err)
		}
		if err := s.From.Validate(); err != nil {
			return provider.Within(field+".from", err)
		}
		if err := s.To.Validate(); err != nil {
			return provider.Within(field+".to", err)
		}
		switch {
		case s.From != prev:
			return provider.Invalid(field+".from", specString(s.From), fmt.Sprintf("must be %s, where %s ends", specString(prev), previous(i)))
		case !s.FromSize.IsZero() || !s.ToSize.IsZero():
			return provider.Invalid(field+".to_size", sizeString(s.ToSize), "a group's step changes its capacity, not a size")
		case s.Action == safety.ActionScaleIn && s.To.Desired > s.From.Desired:
			return provider.Invalid(field+".action", s.Action, fmt.Sprintf("a scale_in must not raise the desired capacity (%d → %d)", s.From.Desired, s.To.Desired))
		case s.Action == safety.ActionScaleOut && (s.To.Desired < s.From.Desired ||
			s.To.Desired == s.From.Desired && (s.To.Min < s.From.Min || s.To.Max < s.From.Max)):
			return provider.Invalid(field+".action", s.Action, fmt.Sprintf("a scale_out must not lower the desired capacity, nor a bound at the same desired capacity (%s → %s): that is a scale_in", specString(s.From), specString(s.To)))
		}
		prev = s.To
	}
	if prev != p.To {
		return provider.Invalid(fmt.Sprintf("steps[%d].to", len(p.Steps)-1), specString(prev), fmt.Sprintf("must be the plan's to %s", specString(p.To)))
	}
	return nil
}

// validateResize is validate of a resource's plan.
func (p *Plan) validateResize() error {
	kind := p.Target.Resource.Kind
	if err := kind.Validate(); err != nil {
		return provider.Within("target.resource", err)
	}
	if err := p.ToSize.ValidateFor(kind); err != nil {
		return provider.Within("to_size", err)
	}
	if !p.FromSize.IsZero() {
		if err := p.FromSize.ValidateFor(kind); err != nil {
			return provider.Within("from_size", err)
		}
	}
	prev := p.FromSize
	for i := range p.Steps {
		s := &p.Steps[i]
		field := fmt.Sprintf("steps[%d]", i)
		if err := s.validateHead(i, kind); err != nil {
			return provider.Within(field, err)
		}
		if err := s.ToSize.ValidateFor(kind); err != nil {
			return provider.Within(field+".to_size", err)
		}
		switch {
		case s.FromSize != prev:
			return provider.Invalid(field+".from_size", sizeString(s.FromSize), fmt.Sprintf("must be %s, where %s ends", sizeString(prev), previous(i)))
		case s.From != (provider.CapacitySpec{}) || s.To != (provider.CapacitySpec{}):
			return provider.Invalid(field+".to", specString(s.To), "a resize changes a size, not a capacity")
		}
		prev = s.ToSize
	}
	if prev != p.ToSize {
		return provider.Invalid(fmt.Sprintf("steps[%d].to_size", len(p.Steps)-1), sizeString(prev), fmt.Sprintf("must be the plan's to_size %s", sizeString(p.ToSize)))
	}
	return nil
}

// validateHead checks step s, the i-th of its plan, of a target of kind:
// its Index (i + 1) and that its Action is the kind's (a resize of a
// resource, scale_out or scale_in of a group).
func (s *PlanStep) validateHead(i int, kind provider.Kind) error {
	if s.Index != i+1 {
		return provider.Invalid("index", s.Index, fmt.Sprintf("must be %d: steps are numbered from 1 in order (a step's number names its safety proposal and journal record)", i+1))
	}
	if kind == provider.KindGroup {
		if !s.Action.IsScale() {
			return provider.Invalid("action", s.Action, "a group's step is scale_out or scale_in")
		}
		return nil
	}
	if s.Action != safety.ActionResize {
		return provider.Invalid("action", s.Action, fmt.Sprintf("a %s's step is a resize", kind))
	}
	return nil
}

// previous names what step i starts from: the plan's from, or the step
// before it.
func previous(i int) string {
	if i == 0 {
		return "the plan's from"
	}
	return fmt.Sprintf("steps[%d]", i-1)
}

// MonitoringPlan is what verifies each step: the capacity must settle
// (every desired instance present and ready) within Timeout, then every
// signal must be healthy over Window (read in whole minutes from the
// minute the step settled in). A signal without data in the window (read
// again until Timeout has passed since the window ended: metrics are
// published late, CloudWatch's minutes after their period), or read as
// an infinite value, is unknown, which fails the verification (fail
// closed), except after a step to a desired capacity of zero: a
// group's metric is reported by its instances (an Auto Scaling group's
// CloudWatch metrics, a workload's pods), and none is left to report it,
// so a signal without data passes (one with data is checked). A window
// with data not yet published up to its end is read again too, until
// Timeout has passed since it ended, and then checked on the data it
// has: it counts as published when a sample lies at or after its end,
// or when its last sample's period reaches its end (the source's period
// being the shortest spacing of its samples on a one-minute grid from 10
// minutes before the window, one minute for a single sample), so that
// no sample stamped in the window is still to come; the sample of a
// period that starts in the window and ends after it is waited for.
// A signal whose source publishes only when something happens (an error
// count: Signal.MissingIsZero) is read again until its PublishDelay has
// passed since the window ended, at any capacity, and then checked on
// what it has: no data is 0.
type MonitoringPlan struct {
	// Signals are the metrics watched and their healthy ranges.
	Signals []Signal `json:"signals,omitempty"`
	// Window is how long the signals are watched once the capacity
	// settled.
	Window time.Duration `json:"window"`
	// Timeout is the deadline for the capacity (or size) to settle, and
	// for the signals' data of the window to be published, up to its
	// end, once it ended. It bounds a MissingIsZero signal's
	// PublishDelay, and each read of the target and of its signals (in
	// real time: a read that hangs is cut off).
	Timeout time.Duration `json:"timeout"`
}

// validate returns an error matching provider.ErrInvalid, naming the
// field, when m would verify less than it says: a negative Window (no
// signal is read) or Timeout (no step settles), or a signal that
// Signal.Validate refuses (one without Max or Min is healthy whatever
// it reads). A plan made by Engine.Plan takes the host's VerifyConfig as
// it is.
func (m MonitoringPlan) validate() error {
	if err := nonNegative("window", m.Window); err != nil {
		return provider.Within("monitoring", err)
	}
	if err := nonNegative("timeout", m.Timeout); err != nil {
		return provider.Within("monitoring", err)
	}
	for i, s := range m.Signals {
		if err := s.Validate(); err != nil {
			return provider.Within(fmt.Sprintf("monitoring.signals[%d]", i), err)
		}
	}
	return nil
}

// Signal is one metric a monitoring plan watches and its healthy range:
// its Statistic over the window must be at most Max and at least Min.
type Signal struct {
	// Metric is the metric. Required.
	Metric provider.Metric `json:"metric" yaml:"metric"`
	// Statistic reduces the window's samples. Default: max.
	Statistic provider.Statistic `json:"statistic,omitempty" yaml:"statistic,omitempty"`
	// Max is the highest healthy value; nil: no upper bound.
	Max *float64 `json:"max,omitempty" yaml:"max,omitempty"`
	// Min is the lowest healthy value; nil: no lower bound.
	Min *float64 `json:"min,omitempty" yaml:"min,omitempty"`
	// MissingIsZero says that the metric's source publishes a sample only
	// when something happens, so that no data means zero events: an
	// ALB's HTTPCode_Target_5XX_Count, Lambda's Errors and Throttles,
	// most CloudWatch counts (CloudWatch alarms' TreatMissingData). Such
	// a window counts as published once PublishDelay has passed since
	// its end (whatever its samples show, as a quiet window has none),
	// and a window without data reads 0, checked against Max and Min
	// like any value: healthy when 0 is in range, not unknown. A window
	// with data is reduced by Statistic over the samples it has (as an
	// alarm's period is): sum and a CloudWatch counter's mean (its rate)
	// are what zeros would give, a max of counts is too; a mean of a
	// source's samples (a gauge's, as the AWS driver reads a custom
	// metric) is not, but only errs high (the zeros would lower it), and
	// a count of them is the number of periods with events (zeros would
	// count every period), so such a signal should watch a sum or a
	// counter's rate; min, last and percentiles, which the zeros would
	// lower to what no sample shows, are refused (Validate). Without it (the
	// default) no data is unknown, which fails the verification, and
	// the window is waited for until its samples reach its end.
	MissingIsZero bool `json:"missing_is_zero,omitempty" yaml:"missing_is_zero,omitempty"`
	// PublishDelay is how long after the window's end a MissingIsZero
	// signal's data may still be published: the window is read again
	// until it has passed, then checked on what it has. At most the
	// monitoring plan's Timeout (it is cut to it). 0 means
	// DefaultPublishDelay. Only with MissingIsZero: a signal without it
	// is waited for until its samples reach the window's end.
	PublishDelay time.Duration `json:"publish_delay,omitempty" yaml:"publish_delay,omitempty"`
}

// DefaultPublishDelay is a MissingIsZero signal's PublishDelay when it
// sets none: 5 minutes, so that a one-minute CloudWatch metric, which is
// typically published one to three minutes after its minute, is waited
// for with a margin, and a step is held half the default VerifyTimeout
// (10 minutes) at most, where an event count waited all of it.
const DefaultPublishDelay = 5 * time.Minute

// publishDelay is the time after the window's end when a MissingIsZero
// signal's window counts as published, timeout at most.
func (s Signal) publishDelay(timeout time.Duration) time.Duration {
	d := s.PublishDelay
	if d == 0 {
		d = DefaultPublishDelay
	}
	return min(d, timeout)
}

// Validate checks the signal.
func (s Signal) Validate() error {
	if err := s.Metric.Validate(); err != nil {
		return provider.Within("metric", err)
	}
	if err := s.Statistic.Validate(); err != nil {
		return err // it names statistic
	}
	switch {
	case s.Max == nil && s.Min == nil:
		return provider.Invalid("max", nil, "a signal needs max or min")
	case s.Max != nil && !finite(*s.Max):
		return provider.Invalid("max", *s.Max, "must be finite")
	case s.Min != nil && !finite(*s.Min):
		return provider.Invalid("min", *s.Min, "must be finite")
	case s.Max != nil && s.Min != nil && *s.Min > *s.Max:
		return provider.Invalid("min", *s.Min, "must be ≤ max")
	case s.PublishDelay < 0:
		return provider.Invalid("publish_delay", s.PublishDelay, "must be ≥ 0")
	case s.PublishDelay > 0 && !s.MissingIsZero:
		return provider.Invalid("publish_delay", s.PublishDelay, "applies only with missing_is_zero: a signal without it waits until its samples reach the window's end")
	case s.MissingIsZero && !zeroSafe(s.Statistic):
		return provider.Invalid("statistic", s.Statistic, "with missing_is_zero must be sum, max, mean or count: a min, last or percentile of the samples published leaves out the zeros of the quiet periods, and is none of what they would give")
	}
	return nil
}

// zeroSafe reports whether statistic st of a MissingIsZero signal's
// samples can be checked without the zeros of its quiet periods: sum and
// max (of counts, never below 0) are what the zeros would give, a
// counter's mean (its rate) is too, a mean of samples errs high (the
// zeros would lower it), and a count of them counts the periods with
// events. A min, last or percentile of the samples published is none of
// these: the zeros would lower it to what no sample shows (0 for a min
// or a quiet last period).
func zeroSafe(st provider.Statistic) bool {
	if _, ok := st.Percentile(); ok {
		return false
	}
	return st != provider.StatMin && st != provider.StatLast
}

// healthy reports whether v lies in the signal's range.
func (s Signal) healthy(v float64) bool {
	return (s.Max == nil || v <= *s.Max) && (s.Min == nil || v >= *s.Min)
}

// String renders the signal as its metric, statistic and healthy range
// ("cpu max ≤ 0.8", "cpu mean in [0.1, 0.9]", "requests sum ≥ 1"), with
// " (missing is 0)" for a MissingIsZero signal; a signal with neither
// bound, which Validate refuses, reads "cpu max (no range)".
func (s Signal) String() string {
	st := s.Statistic
	if st == "" {
		st = provider.StatMax
	}
	var str string
	switch {
	case s.Max != nil && s.Min != nil:
		str = fmt.Sprintf("%s %s in [%g, %g]", s.Metric, st, *s.Min, *s.Max)
	case s.Max != nil:
		str = fmt.Sprintf("%s %s ≤ %g", s.Metric, st, *s.Max)
	case s.Min != nil:
		str = fmt.Sprintf("%s %s ≥ %g", s.Metric, st, *s.Min)
	default:
		str = fmt.Sprintf("%s %s (no range)", s.Metric, st)
	}
	if s.MissingIsZero {
		str += " (missing is 0)"
	}
	return str
}

// PlanStatus is where a plan's execution stands.
type PlanStatus string

// The plan statuses. Completed, Blocked, RateLimited, Stopped, RolledBack
// and Failed are final; Running and Interrupted are not (an interrupted
// plan is resumed). A plan that ends early keeps the steps it verified;
// the next decision goes on from there.
//
//	planned ─► running ─┬─► completed     every step verified
//	                    ├─► blocked       the safety gate refused a step (or failed: fail closed)
//	                    ├─► rate_limited  the rate limiter denied a step (or failed: fail closed)
//	                    ├─► stopped       fenced, drifted, a read failed, the write could not
//	                    │                 be journaled first, or the first step failed
//	                    │                 without changing anything
//	                    ├─► rolled_back   a step failed or was not verified; undone
//	                    ├─► failed        the rollback did not finish
//	                    └─► interrupted ─► (resume) running   ctx ended; or a resumed
//	                                                          write in flight, or step executed
//	                                                          and not verified, could not be read
//
// A plan interrupted while rolling back (Execution.RollbackCause set)
// resumes its rollback: it ends rolled_back, or failed. A plan too old to
// be resumed (Engine.Resume's maxAge) ends stopped, or failed if it was
// rolling back.
//
// The status says how a plan ended; whether that was a failure is
// Execution.Err (and Engine.Execute's error): nil for a plan completed,
// refused by the gate or denied by the rate limiter, set for a failure of
// the gate, the rate limiter, the fence or the provider, a drift, a
// verification that failed, and a context that ended.
const (
	PlanPlanned     PlanStatus = "planned"
	PlanRunning     PlanStatus = "running"
	PlanCompleted   PlanStatus = "completed"
	PlanBlocked     PlanStatus = "blocked"
	PlanRateLimited PlanStatus = "rate_limited"
	PlanStopped     PlanStatus = "stopped"
	PlanRolledBack  PlanStatus = "rolled_back"
	PlanFailed      PlanStatus = "failed"
	PlanInterrupted PlanStatus = "interrupted"
)

// String returns the status's name.
func (s PlanStatus) String() string { return string(s) }

// Final reports whether the plan will not run again.
func (s PlanStatus) Final() bool {
	switch s {
	case PlanCompleted, PlanBlocked, PlanRateLimited, PlanStopped, PlanRolledBack, PlanFailed:
		return true
	}
	return false
}

// Validate returns an error matching provider.ErrInvalid, naming the
// value, unless s is a known PlanStatus.
func (s PlanStatus) Validate() error {
	switch s {
	case PlanPlanned, PlanRunning, PlanCompleted, PlanBlocked, PlanRateLimited, PlanStopped, PlanRolledBack, PlanFailed, PlanInterrupted:
		return nil
	}
	return provider.Invalid("status", string(s), "is not a known plan status")
}

// MarshalText encodes s as its name (empty when unset); an unknown value is
// an error.
func (s PlanStatus) MarshalText() ([]byte, error) { return enumtext.Marshal(s, PlanStatus.Validate) }

// UnmarshalText decodes a known name or empty text; other text is an error
// matching provider.ErrInvalid naming it.
func (s *PlanStatus) UnmarshalText(b []byte) error {
	return enumtext.Unmarshal(s, b, PlanStatus.Validate)
}

// StepStatus is where one step stands.
type StepStatus string

// The step statuses.
//
//	pending ─► executing ─► executed ─► verified
//	   │            │           └────► failed (not verified) ─► rolled_back
//	   │            └─► failed ─► rolled_back
//	   └─► skipped (the plan stopped before it)
//
// A step an interruption left executing is reconciled with the target's
// state when its plan is resumed: found in effect it is executed, found
// where it started it is pending again (or skipped, in a plan too old to
// be resumed). Rollback steps (Execution.Rollback) go the same way.
const (
	StepPending    StepStatus = "pending"
	StepExecuting  StepStatus = "executing" // the provider was called; whether it changed anything is not known yet
	StepExecuted   StepStatus = "executed"
	StepVerified   StepStatus = "verified"
	StepFailed     StepStatus = "failed"
	StepRolledBack StepStatus = "rolled_back"
	StepSkipped    StepStatus = "skipped"
)

// String returns the status's name.
func (s StepStatus) String() string { return string(s) }

// Validate returns an error matching provider.ErrInvalid, naming the
// value, unless s is a known StepStatus.
func (s StepStatus) Validate() error {
	switch s {
	case StepPending, StepExecuting, StepExecuted, StepVerified, StepFailed, StepRolledBack, StepSkipped:
		return nil
	}
	return provider.Invalid("status", string(s), "is not a known step status")
}

// MarshalText encodes s as its name (empty when unset); an unknown value is
// an error.
func (s StepStatus) MarshalText() ([]byte, error) { return enumtext.Marshal(s, StepStatus.Validate) }

// UnmarshalText decodes a known name or empty text; other text is an error
// matching provider.ErrInvalid naming it.
func (s *StepStatus) UnmarshalText(b []byte) error {
	return enumtext.Unmarshal(s, b, StepStatus.Validate)
}

// planID derives a plan's ID from what it changes and when: the target
// and an FNV-1a (64-bit) digest of the rest, in base 36. The digest is
// computed inline rather than through hash/fnv, whose interface value
// and byte conversions allocated on every plan. The ID is carved from
// slab, or a string of its own when slab is nil.
func planID(slab *stringSlab, target string, now time.Time, from, to provider.CapacitySpec, fromSize, toSize provider.Size, strategy string) string {
	h := fnvDigest(fnvOffset64)
	h.str(strategy)
	h.num(now.UnixNano())
	h.capacity(&from)
	h.capacity(&to)
	h.size(&fromSize)
	h.size(&toSize)
	var buf [96]byte
	b := append(append(buf[:0], target...), '-')
	b = appendBase36(b, uint64(h))
	if slab == nil {
		return string(b)
	}
	return slab.string(b)
}

// The FNV-1a 64-bit parameters (hash/fnv's).
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

// fnvDigest is an FNV-1a 64-bit digest.
type fnvDigest uint64

// str adds the bytes of s.
func (h *fnvDigest) str(s string) {
	for i := 0; i < len(s); i++ {
		*h = (*h ^ fnvDigest(s[i])) * fnvPrime64
	}
}

// num adds v as 8 little-endian bytes. Adding a zero byte multiplies
// the digest by the prime, so the zero bytes above v's highest nonzero
// one (most of them: counts are small, sizes of groups are zero) are
// added at once, times a power of the prime: the same digest in fewer
// dependent multiplications.
func (h *fnvDigest) num(v int64) {
	u := uint64(v)
	if u < 1<<8 { // one byte (maybe zero), then seven zero bytes
		*h = (*h ^ fnvDigest(u)) * fnvPrimePowers[8]
		return
	}
	n := 0
	for ; u != 0; n++ {
		*h = (*h ^ fnvDigest(byte(u))) * fnvPrime64
		u >>= 8
	}
	*h *= fnvPrimePowers[8-n]
}

// capacity adds c's Min, Max and Desired (nums).
func (h *fnvDigest) capacity(c *provider.CapacitySpec) {
	h.num(int64(c.Min))
	h.num(int64(c.Max))
	h.num(int64(c.Desired))
}

// size adds z's InstanceType (str), and its VCPU's bits, MemoryMiB and
// Timeout (nums). A zero size (a group's) is 24 zero bytes, added at once.
func (h *fnvDigest) size(z *provider.Size) {
	if z.InstanceType == "" && math.Float64bits(z.VCPU) == 0 && z.MemoryMiB == 0 && z.Timeout == 0 {
		*h *= fnvPrime24
		return
	}
	h.str(z.InstanceType)
	h.num(int64(math.Float64bits(z.VCPU)))
	h.num(int64(z.MemoryMiB))
	h.num(int64(z.Timeout))
}

// appendBase36 is strconv.AppendUint(b, u, 36) with the divisor a
// constant, which the compiler turns into a multiplication (strconv
// divides by its base argument: a hardware division for every digit).
func appendBase36(b []byte, u uint64) []byte {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	var buf [13]byte // 36¹³ > 2⁶⁴
	i := len(buf)
	for u >= 36 {
		q := u / 36
		i--
		buf[i] = digits[u-q*36]
		u = q
	}
	i--
	buf[i] = digits[u]
	return append(b, buf[i:]...)
}

// fnvPrimePowers[k] is the FNV-1a 64-bit prime to the k-th power (modulo
// 2⁶⁴): adding k zero bytes to a digest multiplies it by it.
var fnvPrimePowers = func() (p [9]fnvDigest) {
	p[0] = 1
	for k := 1; k < len(p); k++ {
		p[k] = p[k-1] * fnvPrime64
	}
	return p
}()

// fnvPrime24 is the FNV-1a 64-bit prime to the 24th power (modulo 2⁶⁴):
// what 24 zero bytes multiply a digest by.
var fnvPrime24 = fnvPrimePowers[8] * fnvPrimePowers[8] * fnvPrimePowers[8]

// gradualSteps splits the change from → to of a group into steps no
// larger than maxStep(current desired) instances each. Intermediate steps
// keep the bounds valid: their Min is at most and their Max at least
// their desired capacity; the last step sets to's bounds.
func gradualSteps(from, to provider.CapacitySpec, maxStep func(int) int) []PlanStep {
	return appendSteps(make([]PlanStep, 0, countSteps(from, to, maxStep)), from, to, maxStep)
}

// countSteps is the number of steps gradualSteps makes.
func countSteps(from, to provider.CapacitySpec, maxStep func(int) int) int {
	n := 0
	for c := from.Desired; c != to.Desired; n++ {
		d := to.Desired - c
		c += min(abs(d), max(1, maxStep(c))) * sign(d)
	}
	if n == 0 && from != to {
		n = 1
	}
	return n
}

// appendSteps appends the steps of gradualSteps to dst.
func appendSteps(dst []PlanStep, from, to provider.CapacitySpec, maxStep func(int) int) []PlanStep {
	first := len(dst)
	cur := from
	for cur != to {
		next := to
		if d := to.Desired - cur.Desired; d != 0 {
			n := max(1, maxStep(cur.Desired))
			if abs(d) > n {
				next.Desired = cur.Desired + n*sign(d)
				next.Min = min(to.Min, next.Desired)
				next.Max = max(to.Max, next.Desired)
			}
		}
		dst = append(dst, PlanStep{Index: len(dst) - first + 1, Action: scaleAction(cur, next), From: cur, To: next})
		cur = next
	}
	return dst
}

// scaleAction is scale_out when a change raises the desired capacity (or,
// at equal desired capacity, only raises bounds), scale_in otherwise.
func scaleAction(from, to provider.CapacitySpec) safety.Action {
	switch {
	case to.Desired > from.Desired:
		return safety.ActionScaleOut
	case to.Desired < from.Desired:
		return safety.ActionScaleIn
	case to.Min >= from.Min && to.Max >= from.Max:
		return safety.ActionScaleOut
	}
	return safety.ActionScaleIn
}

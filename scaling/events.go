package scaling

import (
	"time"

	"github.com/idlescale/idlescale/internal/enumtext"
	"github.com/idlescale/idlescale/provider"
)

// Observer receives every event of the engine and the autoscaler: each
// decision, plan, step, verification and rollback. The monitor package and
// a host's audit trail consume them.
//
// Observe is called synchronously, in the order the events happen for one
// target; events of different targets may be observed concurrently, so it
// must be safe for concurrent use. It must be fast (hand slow work to a
// queue) and must not retain pointers into the event beyond the call
// unless it copies them (events are values; their slices are not shared
// with the engine).
type Observer interface {
	Observe(Event)
}

// ObserverFunc adapts a function to an Observer.
type ObserverFunc func(Event)

// Observe calls f(e).
func (f ObserverFunc) Observe(e Event) { f(e) }

// Event is one thing the engine or autoscaler did.
type Event struct {
	// Time is when it happened (the engine's clock, or the decision's
	// now).
	Time time.Time `json:"time"`
	// Kind says what happened.
	Kind EventKind `json:"kind"`
	// Target is the target's ID.
	Target string `json:"target"`
	// PlanID is the plan's ID (empty for decisions without a plan).
	PlanID string `json:"plan_id,omitempty"`
	// Step is the step's number in the plan (from 1; 0 for the whole
	// plan).
	Step int `json:"step,omitempty"`
	// Strategy names the strategy behind the decision or plan.
	Strategy string `json:"strategy,omitempty"`
	// From and To are the capacity before and after (groups).
	From provider.CapacitySpec `json:"from,omitzero"`
	// To is the capacity after.
	To provider.CapacitySpec `json:"to,omitzero"`
	// FromSize and ToSize are the size before and after (vertical).
	FromSize provider.Size `json:"from_size,omitzero"`
	// ToSize is the size after.
	ToSize provider.Size `json:"to_size,omitzero"`
	// Reason says why, in words: the recommendation's reason, the
	// safety decision's summary, the rate limiter's reason, what a
	// verification found.
	Reason string `json:"reason,omitempty"`
	// Value is a figure of the event: the rolling forecast error (MASE)
	// of a forecast event, −1 when it is unknown; zero otherwise.
	Value float64 `json:"value,omitempty"`
	// Err is the error of a failure, if any: nil for a step the gate
	// refused or the rate limiter denied, and for the plan they stopped,
	// which are decisions (Reason says why), set when the gate, the rate
	// limiter, the fence or the provider failed.
	Err error `json:"-"`
}

// EventKind says what an Event records.
type EventKind string

// The event kinds.
const (
	EventDecision           EventKind = "decision"            // a strategy was chosen and recommended
	EventPlanned            EventKind = "planned"             // a plan was made
	EventPreviewed          EventKind = "previewed"           // a dry run decided a step (no change made)
	EventStepBlocked        EventKind = "step_blocked"        // the safety gate refused a step (or failed, with Err: fail closed)
	EventStepRateLimited    EventKind = "step_rate_limited"   // the rate limiter denied or clamped a step (or failed, with Err)
	EventStepRetried        EventKind = "step_retried"        // the provider throttled; the step is retried
	EventStepExecuted       EventKind = "step_executed"       // the provider accepted a step's change
	EventStepFailed         EventKind = "step_failed"         // the provider refused a step
	EventStepVerified       EventKind = "step_verified"       // the step settled and its signals were healthy
	EventVerificationFailed EventKind = "verification_failed" // the step did not settle or a signal was unhealthy
	EventRollbackStarted    EventKind = "rollback_started"    // the plan is being undone
	EventRollbackStep       EventKind = "rollback_step"       // one rollback step was carried out
	EventRollbackCompleted  EventKind = "rollback_completed"  // the state before the plan is restored
	EventRollbackFailed     EventKind = "rollback_failed"     // the rollback could not finish
	EventPlanCompleted      EventKind = "plan_completed"      // every step verified
	EventPlanStopped        EventKind = "plan_stopped"        // the plan ended early without rolling back: blocked, rate limited (Err nil unless the gate or limiter failed), fenced, drifted or abandoned (Err set)
	EventError              EventKind = "error"               // a target could not be evaluated (inventory, metrics, strategy), or a plan's rate-limit refund failed (PlanID, Step; Err a *StepError of StageRateLimit): the budget stays spent, the plan's outcome is unchanged
	EventForecastFallback   EventKind = "forecast_fallback"   // a predictive strategy sizes from the reactive capacity (too little history, no model, or its rolling forecast error above its bound: Reason says which); Value is the error
	EventForecastRecovered  EventKind = "forecast_recovered"  // a predictive strategy that had fallen back sizes from its forecast again; Value is the error (−1 when its target was forgotten, Engine.Forget, which ends its standing, in fallback still or recovered since)
	EventNoData             EventKind = "no_data"             // the target is not scaled on its load: every strategy of its decision that reads metrics had no data (Recommendation.NoData) or failed (a decision whose context ended tells nothing); Reason says what each lacked. Told once, when it starts
	EventDataRecovered      EventKind = "data_recovered"      // a target told EventNoData is decided on data again (Reason names the strategy that has it), or was forgotten (Engine.Forget, or its policy closed), which ends its standing
)

// String returns the kind's name.
func (k EventKind) String() string { return string(k) }

// Validate returns an error matching provider.ErrInvalid, naming the
// value, unless k is a known EventKind.
func (k EventKind) Validate() error {
	switch k {
	case EventDecision, EventPlanned, EventPreviewed, EventStepBlocked, EventStepRateLimited, EventStepRetried,
		EventStepExecuted, EventStepFailed, EventStepVerified, EventVerificationFailed, EventRollbackStarted,
		EventRollbackStep, EventRollbackCompleted, EventRollbackFailed, EventPlanCompleted, EventPlanStopped, EventError,
		EventForecastFallback, EventForecastRecovered, EventNoData, EventDataRecovered:
		return nil
	}
	return provider.Invalid("kind", string(k), "is not a known event kind")
}

// MarshalText encodes k as its name (empty when unset); an unknown value is
// an error.
func (k EventKind) MarshalText() ([]byte, error) { return enumtext.Marshal(k, EventKind.Validate) }

// UnmarshalText decodes a known name or empty text; other text is an error
// matching provider.ErrInvalid naming it.
func (k *EventKind) UnmarshalText(b []byte) error {
	return enumtext.Unmarshal(k, b, EventKind.Validate)
}

// Stage names where in a plan's execution something failed.
type Stage string

// The stages of a step, in order.
const (
	StageFence     Stage = "fence"     // the leadership fence refused the write
	StageRead      Stage = "read"      // reading the target's capacity or size
	StageSafety    Stage = "safety"    // the safety gate
	StageRateLimit Stage = "ratelimit" // the rate limiter
	StageJournal   Stage = "journal"   // recording the write before it is made
	StageAct       Stage = "act"       // the provider's SetCapacity or Resize
	StageVerify    Stage = "verify"    // settling and the monitoring signals
	StageRollback  Stage = "rollback"  // undoing the plan
)

// String returns the stage's name.
func (s Stage) String() string { return string(s) }

// Validate returns an error matching provider.ErrInvalid, naming the
// value, unless s is a known Stage.
func (s Stage) Validate() error {
	switch s {
	case StageFence, StageRead, StageSafety, StageRateLimit, StageJournal, StageAct, StageVerify, StageRollback:
		return nil
	}
	return provider.Invalid("stage", string(s), "is not a known stage")
}

// MarshalText encodes s as its name (empty when unset); an unknown value is
// an error.
func (s Stage) MarshalText() ([]byte, error) { return enumtext.Marshal(s, Stage.Validate) }

// UnmarshalText decodes a known name or empty text; other text is an error
// matching provider.ErrInvalid naming it.
func (s *Stage) UnmarshalText(b []byte) error { return enumtext.Unmarshal(s, b, Stage.Validate) }

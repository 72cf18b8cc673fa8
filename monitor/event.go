package monitor

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/idlescale/idlescale/internal/enumtext"
	"github.com/idlescale/idlescale/monitor/internal/check"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// Kind names what an Event records. Its values are lower-case snake names
// ("scaling_step"), as JSON shows them. The zero Kind "" is unset; Validate
// refuses it (every event has a kind), and MarshalText and UnmarshalText
// map it to and from empty text.
type Kind string

// The event kinds. Each says which Outcome values it uses.
const (
	// KindVerdict: the detector judged a resource. Outcome is the
	// detector.State ("idle", "not_idle", "unknown"); Confidence, Action
	// (the recommended one, as a safety action) and MonthlySavings are
	// set.
	KindVerdict Kind = "verdict"
	// KindDecision: the safety gate allowed a proposal or asked for an
	// approval. Outcome is the safety.Outcome ("pass",
	// "require_approval"); Risk is set.
	KindDecision Kind = "decision"
	// KindBlocked: the safety gate blocked a proposal. Outcome is "block";
	// Rules names the blocking rules and Reason says why.
	KindBlocked Kind = "blocked"
	// KindApproval: an approval request changed state. Outcome is the new
	// approval.State ("pending", "approved", "denied", "expired",
	// "cancelled", "executed"); ApprovalID and Actor are set.
	KindApproval Kind = "approval"
	// KindRateLimited: the rate limiter deferred an action. Reason says
	// which budget and until when.
	KindRateLimited Kind = "rate_limited"
	// KindAction: an action was carried out, or would be in a dry run.
	// Outcome is OutcomeDone, OutcomeWouldAct, OutcomeDeferred or
	// OutcomeFailed; Cost carries the hourly cost before and after.
	KindAction Kind = "action"
	// KindVerification: the effect of an action was checked. Outcome is
	// OutcomeVerified or OutcomeFailed.
	KindVerification Kind = "verification"
	// KindRollback: a change was undone after a failed verification.
	// Outcome is OutcomeDone or OutcomeFailed; Capacity or Cost give what
	// was restored.
	KindRollback Kind = "rollback"
	// KindScalingPlan: a scaling engine made a plan for a target. Ref is
	// the plan's ID, Capacity the change planned, Outcome OutcomePlanned,
	// OutcomeBlocked or OutcomeRateLimited.
	KindScalingPlan Kind = "scaling_plan"
	// KindScalingStep: one step of a scaling plan was executed. Ref is the
	// plan's ID, Capacity the step's change, Outcome OutcomeDone or
	// OutcomeFailed.
	KindScalingStep Kind = "scaling_step"
	// KindForecast: a predictive strategy's forecast changed standing
	// (from scaling.EventForecastFallback and EventForecastRecovered).
	// Outcome is OutcomeFallback (it sizes from the reactive capacity: too
	// little history, no model, or its forecast error above its bound;
	// Reason says which) or OutcomeRecovered; Value is the rolling forecast
	// error (MASE), −1 when unknown; Strategy names the strategy (a target
	// may have several, each with its own standing and error).
	KindForecast Kind = "forecast"
	// KindScalingData: a scaling target's decisions started or stopped
	// being made without data (from scaling.EventNoData and
	// EventDataRecovered): Outcome is OutcomeNoData (every strategy of
	// the target that reads metrics lacked them or failed, so it is not
	// scaled on its load; Reason says what each lacked) or
	// OutcomeRecovered (Reason names the strategy that has data again, or
	// says the target was forgotten).
	KindScalingData Kind = "scaling_data"
	// KindFailure: a step of a pipeline failed for a resource. Reason
	// names the stage and the error.
	KindFailure Kind = "failure"
	// KindRun: a pipeline run ended. Outcome is OutcomeDone,
	// OutcomeFailed, or OutcomeDeferred for a run its context stopped
	// (the host stopping: the rest of its work deferred to the next run);
	// Reason summarises it and Value counts the resources examined.
	KindRun Kind = "run"
)

// The outcomes the package's own event kinds use, besides the values of
// detector.State, safety.Outcome and approval.State.
const (
	OutcomeDone        = "done"
	OutcomeFailed      = "failed"
	OutcomeWouldAct    = "would_act"
	OutcomeDeferred    = "deferred"
	OutcomeVerified    = "verified"
	OutcomePlanned     = "planned"
	OutcomeBlocked     = "blocked"
	OutcomeRateLimited = "rate_limited"
	OutcomeFallback    = "fallback"
	OutcomeRecovered   = "recovered"
	OutcomeNoData      = "no_data"
)

// The sources of the SDK's own events. Source is an open set: a host may
// record events under its own names.
const (
	SourceReaper   = "reaper"
	SourceSafety   = "safety"
	SourceApproval = "approval"
	SourceScaling  = "scaling"
	SourceForecast = "forecast"
)

// kinds lists the kinds in the order of a pipeline.
var kinds = []Kind{KindVerdict, KindDecision, KindBlocked, KindApproval, KindRateLimited, KindAction,
	KindVerification, KindRollback, KindScalingPlan, KindScalingStep, KindForecast, KindScalingData, KindFailure, KindRun}

// Kinds lists every Kind.
func Kinds() []Kind { return slices.Clone(kinds) }

// String returns k's value, such as "scaling_step" ("" when unset).
func (k Kind) String() string { return string(k) }

// Validate returns a *provider.InvalidError (matching provider.ErrInvalid)
// naming the value unless k is one of the kinds above; it refuses the unset
// Kind.
func (k Kind) Validate() error { return check.OneOf("kind", k, kinds) }

// MarshalText returns k's value (empty text when unset); an unknown value
// returns the error of Validate.
func (k Kind) MarshalText() ([]byte, error) { return enumtext.Marshal(k, Kind.Validate) }

// UnmarshalText sets k from text: empty text (unset) or a value Validate
// accepts; any other text is a *provider.InvalidError naming it, and k is
// left unchanged.
func (k *Kind) UnmarshalText(text []byte) error { return enumtext.Unmarshal(k, text, Kind.Validate) }

// CapacityChange is a change of a group's desired capacity, in instances
// (or replicas).
type CapacityChange struct {
	// From is the capacity before the change.
	From int `json:"from"`
	// To is the capacity after it.
	To int `json:"to"`
}

// CostChange is what a resource costs per hour before and after a change,
// in the currency of provider.Resource.HourlyCost (USD by convention). A
// stop or terminate has After 0; a resize the new type's cost; a scaling
// step the group's cost at the new capacity.
type CostChange struct {
	// Before is the hourly cost before the change.
	Before float64 `json:"before"`
	// After is the hourly cost after it.
	After float64 `json:"after"`
	// RunningSince is when the resource last started, as the inventory
	// listed it before the change (provider.Resource.LaunchTime of a
	// running resource); zero when unknown or not running. A report
	// reads it when an earlier change left the resource costing nothing
	// (a stop) and this one finds it running: it was restarted outside
	// the recorded changes, and costs again from then (see package
	// monitor/report).
	RunningSince time.Time `json:"running_since,omitzero"`
}

// Event is one typed entry of the event log: what happened, when, to which
// resource, from which source and why. Only the fields its Kind uses are
// set (see the Kind constants). Events are plain values; the log stores
// copies.
type Event struct {
	// Seq is the event's position in its Log, from 1, assigned by
	// Log.Record; 0 before it is recorded.
	Seq uint64 `json:"seq,omitempty"`
	// Time is when it happened, on the source's clock (a run's now, a
	// decision's Now). Required.
	Time time.Time `json:"time"`
	// Kind says what happened. Required.
	Kind Kind `json:"kind"`
	// Source names the component that reported it (SourceReaper, ...).
	// Required.
	Source string `json:"source"`
	// ResourceID is the resource or scaling target concerned; empty for
	// events about no single resource (a run).
	ResourceID string `json:"resource_id,omitempty"`
	// Action is the action concerned (stop, scale_out, ...).
	Action safety.Action `json:"action,omitempty"`
	// Outcome is the kind's result (see the Kind constants).
	Outcome string `json:"outcome,omitempty"`
	// Strategy names the scaling strategy concerned (KindForecast: the
	// predictive strategy whose standing changed); empty otherwise.
	Strategy string `json:"strategy,omitempty"`
	// Reason says why, in words.
	Reason string `json:"reason,omitempty"`
	// Actor is who caused it: a requester, an approver, "system".
	Actor string `json:"actor,omitempty"`
	// Ref groups the events of one plan or run (a scaling plan's ID).
	Ref string `json:"ref,omitempty"`
	// ApprovalID names the approval request concerned.
	ApprovalID string `json:"approval_id,omitempty"`
	// Rules names the safety rules that blocked (KindBlocked).
	Rules []string `json:"rules,omitempty"`
	// Risk is the safety decision's or the approval's risk.
	Risk safety.Risk `json:"risk,omitempty"`
	// DryRun reports that nothing was changed.
	DryRun bool `json:"dry_run,omitempty"`
	// Confidence is a verdict's confidence, in [0, 1].
	Confidence float64 `json:"confidence,omitempty"`
	// MonthlySavings is the estimated saving of the action per month.
	MonthlySavings float64 `json:"monthly_savings,omitempty"`
	// Value is a measured quantity: a forecast error, the resources of a
	// run.
	Value float64 `json:"value,omitempty"`
	// Capacity is a scaling change; nil otherwise.
	Capacity *CapacityChange `json:"capacity,omitempty"`
	// Cost is the hourly cost before and after an action; nil otherwise.
	Cost *CostChange `json:"cost,omitempty"`
}

// Validate returns a *provider.InvalidError (matching provider.ErrInvalid)
// naming the first wrong field: a zero time or one JSON cannot encode (a
// year outside 0 to 9999, a zone offset of a day or more), an unknown
// kind, an empty source, an action or risk that is not known, a
// confidence outside [0, 1], or a number that is not finite.
func (e Event) Validate() error {
	switch {
	case e.Time.IsZero():
		return provider.Invalid("time", e.Time, "is required")
	case !jsonTime(e.Time):
		return provider.Invalid("time", e.Time, "must be in the years 0 to 9999 with a zone offset under a day, as JSON encodes times")
	case e.Kind == "":
		return provider.Invalid("kind", "", "is required")
	case strings.TrimSpace(e.Source) == "":
		return provider.Invalid("source", e.Source, "is required")
	}
	if err := e.Kind.Validate(); err != nil {
		return err
	}
	if e.Action != "" {
		if err := e.Action.Validate(); err != nil {
			return err // names "action"
		}
	}
	if e.Risk != "" {
		if err := e.Risk.Validate(); err != nil {
			return err // names "risk"
		}
	}
	if !finite(e.Confidence) || e.Confidence < 0 || e.Confidence > 1 {
		return provider.Invalid("confidence", e.Confidence, "must be in [0, 1]")
	}
	if !finite(e.MonthlySavings) {
		return provider.Invalid("monthly_savings", e.MonthlySavings, "must be finite")
	}
	if !finite(e.Value) {
		return provider.Invalid("value", e.Value, "must be finite")
	}
	if c := e.Cost; c != nil {
		if !finite(c.Before) || c.Before < 0 {
			return provider.Invalid("cost.before", c.Before, "must be finite and ≥ 0")
		}
		if !finite(c.After) || c.After < 0 {
			return provider.Invalid("cost.after", c.After, "must be finite and ≥ 0")
		}
		if t := c.RunningSince; !t.IsZero() && !jsonTime(t) {
			return provider.Invalid("cost.running_since", t, "must be in the years 0 to 9999 with a zone offset under a day, as JSON encodes times")
		}
	}
	if c := e.Capacity; c != nil && (c.From < 0 || c.To < 0) {
		return provider.Invalid("capacity", *c, "must not be negative")
	}
	return nil
}

// IsChange reports whether e changed what a resource costs or how many
// instances a group has: an executed action, scaling step or rollback
// step (Outcome done, not a dry run) that carries a Cost or a Capacity,
// or a failed verification, which says that the change before it did not
// take effect. A report measures realised savings and capacity from them.
func (e Event) IsChange() bool {
	switch e.Kind {
	case KindAction, KindScalingStep, KindRollback:
		return e.Outcome == OutcomeDone && !e.DryRun && (e.Cost != nil || e.Capacity != nil)
	case KindVerification:
		return e.Outcome == OutcomeFailed && !e.DryRun
	}
	return false
}

// clone returns a copy of e that shares no slice or pointer with it.
func (e Event) clone() Event {
	e.Rules = slices.Clone(e.Rules)
	if e.Capacity != nil {
		c := *e.Capacity
		e.Capacity = &c
	}
	if e.Cost != nil {
		c := *e.Cost
		e.Cost = &c
	}
	return e
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// jsonTime reports whether JSON can encode t: a year from 0 to 9999 and
// a zone offset under a day.
func jsonTime(t time.Time) bool {
	_, offset := t.Zone()
	return t.Year() >= 0 && t.Year() <= 9999 && offset > -24*60*60 && offset < 24*60*60
}

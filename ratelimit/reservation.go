package ratelimit

import (
	"fmt"
	"time"
)

// Outcome is what a reservation got, a lower-case snake string. The zero
// value "" means no decision was made; OK reports false for it, so a zero
// Reservation allows nothing.
type Outcome string

// The outcomes. Allowed and Clamped consume budget (one event and the
// granted units); Denied consumes nothing. Cancel refunds an Allowed or
// Clamped reservation completely.
const (
	Denied  Outcome = "denied"  // nothing granted; Next says when to retry
	Allowed Outcome = "allowed" // granted as requested
	Clamped Outcome = "clamped" // granted fewer units than requested (MaxUnits)
)

// Reason says why a reservation was clamped or denied, a lower-case snake
// string. The zero value ReasonNone ("") means there is nothing to
// explain: the reservation was allowed as requested.
type Reason string

// The reasons.
const (
	ReasonNone     Reason = ""                    // allowed as requested
	ReasonUnits    Reason = "max_units_per_event" // clamped to MaxUnits
	ReasonInterval Reason = "min_interval"        // denied: another event is less than MinInterval away
	ReasonWindow   Reason = "events_per_window"   // denied: Events already used in a Window around the time
	ReasonSkew     Reason = "max_skew"            // denied: stamped more than Config.MaxSkew before the bucket's newest reservation
	ReasonStore    Reason = "store_failed"        // denied: the Store failed (fail closed)
	ReasonInvalid  Reason = "invalid_request"     // denied: the request was invalid
)

// Scope says which budget produced a Reason, a lower-case snake string.
// The zero value ScopeNone ("") means no budget was involved.
type Scope string

// The scopes.
const (
	ScopeNone   Scope = ""       // no budget involved
	ScopeTarget Scope = "target" // the target's budget for the direction
	ScopeGlobal Scope = "global" // the global budget
)

// Request asks for one event.
type Request struct {
	// Target names what changes (a group, a function, a resource). Required;
	// see ValidateTarget.
	Target string `json:"target"`
	// Direction is Up, Down, or Both for a change whose direction is not
	// known: one event that must fit the target's Up and Down budgets and
	// counts once in the global budget (see Both). Required.
	Direction Direction `json:"direction"`
	// Units is the size of the change asked for (instances, replicas);
	// must be positive.
	Units int `json:"units"`
}

// Reservation is the limiter's answer to a Request. It is a plain value;
// pass it to (*Limiter).Cancel to refund it.
type Reservation struct {
	// ID identifies the event in the history; zero when denied.
	ID uint64 `json:"id,omitempty"`
	// Request is what was asked.
	Request Request `json:"request"`
	// At is the time the decision was made for.
	At time.Time `json:"at"`
	// Outcome is Allowed, Clamped or Denied; the Limiter always sets it.
	Outcome Outcome `json:"outcome"`
	// Granted is the number of units granted: Request.Units when Allowed,
	// fewer when Clamped, zero when Denied.
	Granted int `json:"granted"`
	// Reason is why the reservation was clamped or denied; ReasonNone when
	// Allowed.
	Reason Reason `json:"reason"`
	// Scope is the budget that gave Reason.
	Scope Scope `json:"scope"`
	// Next is when the next event of the same target and direction is
	// allowed: for a denied reservation, the earliest time the same
	// request can succeed if nothing else happens meanwhile (zero when it
	// never can, as after a store failure); for a granted one, the
	// earliest time of the following event.
	Next time.Time `json:"next,omitzero"`
}

// OK reports whether the reservation was granted (Allowed or Clamped).
func (r Reservation) OK() bool { return r.Outcome == Allowed || r.Outcome == Clamped }

// Delay returns how long after At the next event is allowed (zero if Next
// is not after At).
func (r Reservation) Delay() time.Duration {
	if r.Next.After(r.At) {
		return r.Next.Sub(r.At)
	}
	return 0
}

// String describes r in one line, for logs and audit trails, for example
// "web/up +5: clamped to 3 (target max_units_per_event); next at ...". A
// reservation that was not granted (Denied or the zero Outcome) reads as
// denied.
func (r Reservation) String() string {
	head := fmt.Sprintf("%s/%s %+d", r.Request.Target, r.Request.Direction, r.Request.Units)
	switch r.Request.Direction {
	case Down:
		head = fmt.Sprintf("%s/%s -%d", r.Request.Target, r.Request.Direction, r.Request.Units)
	case Both:
		head = fmt.Sprintf("%s/%s ±%d", r.Request.Target, r.Request.Direction, r.Request.Units)
	}
	next := ""
	if !r.Next.IsZero() {
		next = "; next at " + r.Next.UTC().Format(time.RFC3339)
	}
	switch r.Outcome {
	case Allowed:
		return head + ": allowed" + next
	case Clamped:
		return fmt.Sprintf("%s: clamped to %d (%s %s)%s", head, r.Granted, r.Scope, r.Reason, next)
	}
	if r.Scope == ScopeNone {
		return fmt.Sprintf("%s: denied (%s)%s", head, r.Reason, next)
	}
	return fmt.Sprintf("%s: denied (%s %s)%s", head, r.Scope, r.Reason, next)
}

package ratelimit

import (
	"fmt"
	"time"
)

// Outcome is what a reservation got. The zero value is Denied, so a
// zero Reservation allows nothing.
type Outcome uint8

// The outcomes. Allowed and Clamped consume budget (one event and the
// granted units); Denied consumes nothing. Cancel refunds an Allowed or
// Clamped reservation completely.
const (
	Denied  Outcome = iota // nothing granted; Next says when to retry
	Allowed                // granted as requested
	Clamped                // granted fewer units than requested (MaxUnits)
)

// String returns "denied", "allowed" or "clamped".
func (o Outcome) String() string {
	switch o {
	case Denied:
		return "denied"
	case Allowed:
		return "allowed"
	case Clamped:
		return "clamped"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// Reason says why a reservation was clamped or denied.
type Reason uint8

// The reasons.
const (
	ReasonNone     Reason = iota // allowed as requested
	ReasonUnits                  // clamped to MaxUnits
	ReasonInterval               // denied: MinInterval since the last event has not passed
	ReasonWindow                 // denied: Events already used in the Window
	ReasonStore                  // denied: the Store failed (fail closed)
	ReasonInvalid                // denied: the request was invalid
)

// String returns a short name such as "window".
func (r Reason) String() string {
	switch r {
	case ReasonNone:
		return "none"
	case ReasonUnits:
		return "max units per event"
	case ReasonInterval:
		return "min interval"
	case ReasonWindow:
		return "events per window"
	case ReasonStore:
		return "store failed"
	case ReasonInvalid:
		return "invalid request"
	}
	return fmt.Sprintf("Reason(%d)", uint8(r))
}

// Scope says which budget produced a Reason.
type Scope uint8

// The scopes.
const (
	ScopeNone   Scope = iota // no budget involved
	ScopeTarget              // the target's rule for the direction
	ScopeGlobal              // the global budget
)

// String returns "target", "global" or "none".
func (s Scope) String() string {
	switch s {
	case ScopeTarget:
		return "target"
	case ScopeGlobal:
		return "global"
	}
	return "none"
}

// Request asks for one event.
type Request struct {
	// Target names what changes (a group, a function, a resource). Required;
	// see ValidateTarget.
	Target string `json:"target"`
	// Direction is Up or Down. Required.
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
	// Outcome is Allowed, Clamped or Denied.
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
// "web/up +5: clamped to +3 (target max units per event); next at ...".
func (r Reservation) String() string {
	head := fmt.Sprintf("%s/%s %+d", r.Request.Target, r.Request.Direction, r.Request.Units)
	if r.Request.Direction == Down {
		head = fmt.Sprintf("%s/%s -%d", r.Request.Target, r.Request.Direction, r.Request.Units)
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

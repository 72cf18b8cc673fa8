package ratelimit

import (
	"fmt"
	"strings"

	"github.com/idlescale/idlescale/internal/enumtext"
	"github.com/idlescale/idlescale/provider"
)

// The enums are typed strings. Each has String, MarshalText, UnmarshalText
// and Validate. The text forms accept the zero value "" (unset) so that
// zero values survive a JSON round trip; Validate says whether "" is
// meaningful for the type; every other unknown value is refused with a
// *provider.InvalidError naming it.

var (
	directions = []Direction{Up, Down, Both}
	outcomes   = []Outcome{Denied, Allowed, Clamped}
	reasons    = []Reason{ReasonUnits, ReasonInterval, ReasonWindow, ReasonSkew, ReasonStore, ReasonInvalid}
	scopes     = []Scope{ScopeTarget, ScopeGlobal}
)

// String returns "up", "down", "both", or "" for the zero value.
func (d Direction) String() string { return string(d) }

// Validate returns a *provider.InvalidError unless d is Up, Down or Both
// (the directions of a Request and an Event; a Key's is Up or Down, see
// Key.Validate).
func (d Direction) Validate() error { return validateEnum("direction", d, false, directions) }

// MarshalText encodes d: "up", "down", "both", or empty for the zero
// value (the global bucket's key). An unknown value is an error.
func (d Direction) MarshalText() ([]byte, error) { return enumtext.Marshal(d, Direction.Validate) }

// UnmarshalText decodes "up", "down", "both" or the empty string (the
// zero value); any other text is an error naming it.
func (d *Direction) UnmarshalText(b []byte) error {
	return enumtext.Unmarshal(d, b, Direction.Validate)
}

// rank orders directions for sorting: the zero value, Up, Down, Both.
func (d Direction) rank() int {
	switch d {
	case Up:
		return 1
	case Down:
		return 2
	case Both:
		return 3
	}
	return 0
}

// Validate returns a *provider.InvalidError (field "key.direction") unless
// k is the global bucket's key or a non-empty target's with Up or Down:
// an event of Both is kept in the target's Up and Down buckets, and no
// bucket is Both's.
func (k Key) Validate() error {
	if k.IsGlobal() {
		return nil
	}
	if k.Target == "" {
		return provider.Invalid("key.target", k.Target, "must not be empty (but for the global bucket, whose direction is empty too)")
	}
	if k.Direction != Up && k.Direction != Down {
		return provider.Invalid("key.direction", string(k.Direction), "must be \"up\" or \"down\" (an event of \"both\" is in both buckets)")
	}
	return nil
}

// String returns "denied", "allowed", "clamped", or "" for the zero value.
func (o Outcome) String() string { return string(o) }

// Validate returns a *provider.InvalidError unless o is Denied, Allowed or
// Clamped.
func (o Outcome) Validate() error { return validateEnum("outcome", o, false, outcomes) }

// MarshalText encodes o as its String; an unknown value is an error.
func (o Outcome) MarshalText() ([]byte, error) { return enumtext.Marshal(o, Outcome.Validate) }

// UnmarshalText decodes "denied", "allowed", "clamped" or the empty string
// (the zero value); any other text is an error naming it.
func (o *Outcome) UnmarshalText(b []byte) error { return enumtext.Unmarshal(o, b, Outcome.Validate) }

// String returns the reason's value, such as "events_per_window", or ""
// for ReasonNone.
func (r Reason) String() string { return string(r) }

// Validate returns a *provider.InvalidError unless r is ReasonNone or one
// of the Reason constants.
func (r Reason) Validate() error { return validateEnum("reason", r, true, reasons) }

// MarshalText encodes r as its String; an unknown value is an error.
func (r Reason) MarshalText() ([]byte, error) { return enumtext.Marshal(r, Reason.Validate) }

// UnmarshalText decodes a Reason's String (empty for ReasonNone); any
// other text is an error naming it.
func (r *Reason) UnmarshalText(b []byte) error { return enumtext.Unmarshal(r, b, Reason.Validate) }

// String returns "target", "global", or "" for ScopeNone.
func (s Scope) String() string { return string(s) }

// Validate returns a *provider.InvalidError unless s is ScopeNone,
// ScopeTarget or ScopeGlobal.
func (s Scope) Validate() error { return validateEnum("scope", s, true, scopes) }

// MarshalText encodes s as its String; an unknown value is an error.
func (s Scope) MarshalText() ([]byte, error) { return enumtext.Marshal(s, Scope.Validate) }

// UnmarshalText decodes "target", "global" or the empty string
// (ScopeNone); any other text is an error naming it.
func (s *Scope) UnmarshalText(b []byte) error { return enumtext.Unmarshal(s, b, Scope.Validate) }

func validateEnum[T ~string](field string, v T, emptyOK bool, known []T) error {
	if v == "" && emptyOK {
		return nil
	}
	for _, k := range known {
		if v == k {
			return nil
		}
	}
	return provider.Invalid(field, string(v), "must be "+oneOf(known))
}

// oneOf lists known as `"a", "b" or "c"`.
func oneOf[T ~string](known []T) string {
	q := make([]string, len(known))
	for i, k := range known {
		q[i] = fmt.Sprintf("%q", string(k))
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

package approval

import (
	"github.com/idlescale/idlescale/internal/enumtext"
	"github.com/idlescale/idlescale/provider"
)

// State is the state of a Request.
//
// The state machine (every arrow is one audit event):
//
//	                    Request
//	                       │
//	                       ▼
//	      Cancel     ┌──────────┐       Deny       ┌────────┐
//	 ┌───────────────│ pending  │─────────────────▶│ denied │
//	 │               └──────────┘                  └────────┘
//	 │                │        │   now ≥ expiry
//	 │        Approve │        └─────────────────────┐
//	 │    (approver ≠ │                              ▼
//	 │     requester) ▼                         ┌─────────┐
//	 │               ┌──────────┐ now ≥ expiry  │ expired │
//	 │      Cancel   │ approved │──────────────▶│         │
//	 ├───────────────│          │               └─────────┘
//	 ▼               └──────────┘
//	┌───────────┐          │ Execute (same fingerprint, now < expiry)
//	│ cancelled │          ▼
//	└───────────┘    ┌──────────┐
//	                 │ executed │
//	                 └──────────┘
//
// Denied, expired, cancelled and executed are final. Expiry is checked
// against the now passed to each call: a call that finds a pending or
// approved request at or past its expiry moves it to expired (and says so
// with an error matching ErrExpired) instead of doing what was asked, so
// an expired request never executes. Manager.Expire sweeps the store for
// requests nobody touched.
//
// The empty State is unset; Validate refuses it (every stored request has
// a state). MarshalText and UnmarshalText map it to and from empty text.
type State string

// The approval states.
const (
	Pending   State = "pending"   // waiting for an approver
	Approved  State = "approved"  // granted; may execute once before expiry
	Denied    State = "denied"    // refused by an approver (final)
	Expired   State = "expired"   // expiry passed before execution (final)
	Cancelled State = "cancelled" // withdrawn (final)
	Executed  State = "executed"  // the approved change was carried out (final)
)

// String returns s as text ("pending", ...), or the value as it is when s
// is unset or unknown.
func (s State) String() string { return string(s) }

// Validate returns an error matching provider.ErrInvalid, naming the
// value, unless s is a known state.
func (s State) Validate() error {
	switch s {
	case Pending, Approved, Denied, Expired, Cancelled, Executed:
		return nil
	}
	return provider.Invalid("state", string(s), "must be one of pending, approved, denied, expired, cancelled, executed")
}

// Final reports whether no transition leaves s.
func (s State) Final() bool {
	return s == Denied || s == Expired || s == Cancelled || s == Executed
}

// MarshalText implements encoding.TextMarshaler: a known state as its
// name, unset as empty text. An unknown value returns the error of
// Validate.
func (s State) MarshalText() ([]byte, error) { return enumtext.Marshal(s, State.Validate) }

// UnmarshalText implements encoding.TextUnmarshaler: it accepts the names
// of the known states, and empty text as unset. Any other text returns an
// error matching provider.ErrInvalid naming it, and leaves s unchanged.
func (s *State) UnmarshalText(b []byte) error { return enumtext.Unmarshal(s, b, State.Validate) }

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
//	 ▼               └──────────┘                    ▲
//	┌───────────┐     │   ▲    │                     │ now ≥ expiry
//	│ cancelled │     │   │    │ Claim (same         │ (outcome never
//	└───────────┘     │   │    │ fingerprint,        │  reported)
//	                  │   │    ▼ now < expiry)       │
//	         Execute  │   │  ┌───────────┐           │
//	 (Claim+Complete) │   └──│ executing │───────────┘
//	                  │ Release└───────────┘
//	                  │ (nothing │ Complete (the change
//	                  │ changed) │ happened, or may have)
//	                  ▼          ▼
//	                 ┌──────────┐
//	                 │ executed │
//	                 └──────────┘
//
// An approval is consumed in two steps so that it is spent only with a
// change that happened: Claim takes it right before the host acts
// (approved → executing; nobody else can use it meanwhile), then Complete
// records that the change happened (executing → executed), or Release
// gives it back when the provider says nothing changed (executing →
// approved: provider.ChangedNothing, such as throttled, not found,
// conflict, unsupported, invalid or denied), so that the next attempt
// needs no new approval. Execute does both steps at once for a host that
// does not report back.
//
// A host that crashes between Claim and Complete or Release leaves the
// request executing: it can neither execute twice (only an approved
// request can be claimed) nor be lost silently. It stays visible as
// executing (List, with ClaimedBy and ClaimedAt) until someone who knows
// the outcome calls Complete or Release, or until its expiry, when Expire
// moves it to expired with an audit event saying that its outcome was
// never reported.
//
// Denied, expired, cancelled and executed are final, but for one arrow:
// a request that expired while executing is completed by a late Complete
// (expired → executed), so that the trail says what happened (a late
// Release settles its claim instead, and it stays expired). Expiry is checked
// against the now passed to each call: a call that finds a pending,
// approved or executing request at or past its expiry moves it to expired
// (and says so with an error matching ErrExpired) instead of doing what
// was asked, so an expired request never executes; Complete is the
// exception, since the change it records was started before the expiry.
// Manager.Expire sweeps the store for requests nobody touched.
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
	Executing State = "executing" // claimed: the change is under way, its outcome not yet reported
)

// String returns s as text ("pending", ...), or the value as it is when s
// is unset or unknown.
func (s State) String() string { return string(s) }

// Validate returns an error matching provider.ErrInvalid, naming the
// value, unless s is a known state.
func (s State) Validate() error {
	switch s {
	case Pending, Approved, Denied, Expired, Cancelled, Executed, Executing:
		return nil
	}
	return provider.Invalid("state", string(s), "must be one of pending, approved, denied, expired, cancelled, executed, executing")
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

package safety

import "github.com/idlescale/idlescale/internal/enumtext"

// Outcome is what a rule (or the engine) says about a proposal: Pass,
// RequireApproval or Block. A decision is Block when any rule blocks,
// else RequireApproval when approval is required and not granted, else
// Pass.
//
// The empty Outcome is unset. In a Result it means Pass (a rule that does
// not apply may return Result{}); in a configuration field it means that
// field's default. Validate refuses it; MarshalText and UnmarshalText map
// it to and from empty text.
type Outcome string

// The outcomes.
const (
	Pass            Outcome = "pass"             // the rule has no objection
	RequireApproval Outcome = "require_approval" // the proposal may go ahead with a granted approval
	Block           Outcome = "block"            // the proposal must not go ahead
)

// String returns o as text: "pass", "require_approval", "block", or the
// value as it is when o is unset or unknown.
func (o Outcome) String() string { return string(o) }

// Validate returns an error matching provider.ErrInvalid, naming the
// value, unless o is Pass, RequireApproval or Block.
func (o Outcome) Validate() error {
	switch o {
	case Pass, RequireApproval, Block:
		return nil
	}
	return invalidf("outcome", string(o), "must be pass, require_approval or block")
}

// MarshalText implements encoding.TextMarshaler: a known outcome as its
// name, unset as empty text. An unknown value returns the error of
// Validate.
func (o Outcome) MarshalText() ([]byte, error) { return enumtext.Marshal(o, Outcome.Validate) }

// UnmarshalText implements encoding.TextUnmarshaler: it accepts the names
// String returns for known outcomes, and empty text as unset. Any other
// text returns an error matching provider.ErrInvalid naming it, and
// leaves o unchanged.
func (o *Outcome) UnmarshalText(b []byte) error { return enumtext.Unmarshal(o, b, Outcome.Validate) }

package safety

import "github.com/idlescale/idlescale/internal/enumtext"

// Risk is a risk level: RiskNone, RiskLow, RiskMedium or RiskHigh. Levels
// are ordered by Level (never by their text): a decision's risk is the
// highest of its rules' (at least RiskLow), and Config.ApprovalRisk is
// compared with it by Level.
//
// The empty Risk is unset. In a Result it means RiskNone (the rule adds no
// risk factor); in Config.ApprovalRisk it means the default. Validate
// refuses it; MarshalText and UnmarshalText map it to and from empty text.
type Risk string

// The risk levels, lowest first.
const (
	RiskNone   Risk = "none"   // no risk factor
	RiskLow    Risk = "low"    // routine change, easily undone
	RiskMedium Risk = "medium" // noticeable impact or harder to undo
	RiskHigh   Risk = "high"   // critical workload, irreversible, or unsafe state
)

// Level returns r's rank for comparisons: 0 for RiskNone and for unset
// (which means none), 1 for RiskLow, 2 for RiskMedium, 3 for RiskHigh, and
// -1 for an unknown value.
func (r Risk) Level() int {
	switch r {
	case "", RiskNone:
		return 0
	case RiskLow:
		return 1
	case RiskMedium:
		return 2
	case RiskHigh:
		return 3
	}
	return -1
}

// String returns r as text: "none", "low", "medium", "high", or the
// value as it is when r is unset or unknown.
func (r Risk) String() string { return string(r) }

// Validate returns an error matching provider.ErrInvalid, naming the
// value, unless r is one of the four levels.
func (r Risk) Validate() error {
	if r != "" && r.Level() >= 0 {
		return nil
	}
	return invalidf("risk", string(r), "must be none, low, medium or high")
}

// MarshalText implements encoding.TextMarshaler: a known level as its
// name, unset as empty text. An unknown value returns the error of
// Validate.
func (r Risk) MarshalText() ([]byte, error) { return enumtext.Marshal(r, Risk.Validate) }

// UnmarshalText implements encoding.TextUnmarshaler: it accepts the names
// String returns for known levels, and empty text as unset. Any other
// text returns an error matching provider.ErrInvalid naming it, and
// leaves r unchanged.
func (r *Risk) UnmarshalText(b []byte) error { return enumtext.Unmarshal(r, b, Risk.Validate) }

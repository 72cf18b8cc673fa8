package alert

import (
	"slices"

	"github.com/idlescale/idlescale/internal/enumtext"
	"github.com/idlescale/idlescale/monitor/internal/check"
)

// Severity says how urgent an alert is: SeverityInfo, SeverityWarning or
// SeverityCritical, ordered by Level (never by their text). The zero
// Severity "" is unset: in a Rule it means SeverityWarning; Validate
// refuses it, and MarshalText and UnmarshalText map it to and from empty
// text.
type Severity string

// The severities, lowest first.
const (
	SeverityInfo     Severity = "info"     // worth knowing: an idle resource found
	SeverityWarning  Severity = "warning"  // needs a look: a block, a hot CPU
	SeverityCritical Severity = "critical" // needs action now: a failed scaling step or verification
)

var severities = []Severity{SeverityInfo, SeverityWarning, SeverityCritical}

// Level returns s's rank for comparisons: 1 for info, 2 for warning, 3 for
// critical, 0 when unset and -1 for an unknown value.
func (s Severity) Level() int {
	if s == "" {
		return 0
	}
	i := slices.Index(severities, s)
	if i < 0 {
		return -1
	}
	return i + 1
}

// String returns s's value ("" when unset).
func (s Severity) String() string { return string(s) }

// Validate returns a *provider.InvalidError (matching provider.ErrInvalid)
// naming the value unless s is one of the severities; it refuses unset.
func (s Severity) Validate() error { return check.OneOf("severity", s, severities) }

// MarshalText returns s's value (empty text when unset); an unknown value
// returns the error of Validate.
func (s Severity) MarshalText() ([]byte, error) { return enumtext.Marshal(s, Severity.Validate) }

// UnmarshalText sets s from text: empty text (unset) or a value Validate
// accepts; any other text is a *provider.InvalidError naming it, and s is
// left unchanged.
func (s *Severity) UnmarshalText(text []byte) error {
	return enumtext.Unmarshal(s, text, Severity.Validate)
}

// State is where an alert is: StateFiring or StateResolved. The zero State
// "" is unset; Validate refuses it, and MarshalText and UnmarshalText map
// it to and from empty text.
//
//	         rule matches (notify)          resolve match, quiet for
//	(none) ───────────────────────▶ firing ─────────────────────────▶ resolved
//	                                 │  ▲   ResolveAfter, or metric       (notify)
//	             rule matches again  └──┘   back under its threshold
//	             (Count+1, no notification)
//
// A rule that matches again after its alert resolved opens a new alert.
type State string

// The alert states.
const (
	StateFiring   State = "firing"
	StateResolved State = "resolved"
)

var states = []State{StateFiring, StateResolved}

// String returns s's value ("" when unset).
func (s State) String() string { return string(s) }

// Validate returns a *provider.InvalidError (matching provider.ErrInvalid)
// naming the value unless s is firing or resolved.
func (s State) Validate() error { return check.OneOf("state", s, states) }

// MarshalText returns s's value (empty text when unset); an unknown value
// returns the error of Validate.
func (s State) MarshalText() ([]byte, error) { return enumtext.Marshal(s, State.Validate) }

// UnmarshalText sets s from text: empty text (unset) or a value Validate
// accepts; any other text is a *provider.InvalidError naming it, and s is
// left unchanged.
func (s *State) UnmarshalText(text []byte) error { return enumtext.Unmarshal(s, text, State.Validate) }

package safety

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/idlescale/idlescale/provider"
)

// Rule checks one aspect of a proposal.
//
// Check returns the rule's Result for p. It must not change anything (the
// engine also calls it for dry runs), must be safe for concurrent use, must
// honour ctx (the engine cancels it at its timeout and abandons a rule
// that does not return), and must not retain p. A non-nil error means the
// rule could not decide; the engine then blocks the proposal (fail closed)
// and reports the error. A rule that does not apply to p returns a Result
// with Outcome Pass.
type Rule interface {
	Check(ctx context.Context, p Proposal) (Result, error)
}

// Namer is implemented by rules that have a name. The engine reports a
// rule's results under its name; rules without one are called "rule[i]"
// after their position. Every built-in rule implements Namer.
type Namer interface {
	Name() string
}

// Inliner is implemented by rules that never block: they do no I/O, wait
// on nothing and return promptly (pure computation over the proposal and
// in-memory state). When Inline reports true the engine runs the rule on
// the calling goroutine, without a goroutine and not subject to
// Policy.Timeout (it still recovers panics, turns errors into blocks, and
// checks the context before and after). The
// built-in rules report true when all their sources are in memory.
type Inliner interface {
	Inline() bool
}

// RuleFunc adapts a function to a Rule.
type RuleFunc func(ctx context.Context, p Proposal) (Result, error)

// Check calls f(ctx, p).
func (f RuleFunc) Check(ctx context.Context, p Proposal) (Result, error) { return f(ctx, p) }

// Named returns r with the name name (what Namer reports), for rules
// written as a RuleFunc.
func Named(name string, r Rule) Rule { return namedRule{name: name, Rule: r} }

type namedRule struct {
	name string
	Rule
}

func (n namedRule) Name() string { return n.name }

// isNilFunc reports whether v is nil or one of the package's (or
// provider's) Func adapters holding a nil func: a non-nil interface whose
// call would panic.
func isNilFunc(v any) bool {
	switch f := v.(type) {
	case nil:
		return true
	case RuleFunc:
		return f == nil
	case AuditorFunc:
		return f == nil
	case DependencyGraphFunc:
		return f == nil
	case HealthCheckerFunc:
		return f == nil
	case HolidayCalendarFunc:
		return f == nil
	case ActionHistoryFunc:
		return f == nil
	case RestorerFunc:
		return f == nil
	case provider.BackupCatalogFunc:
		return f == nil
	}
	return false
}

// isNilRule reports whether r is nil, a nil RuleFunc, or Named around one
// of those: a rule whose Check would panic.
func isNilRule(r Rule) bool {
	if r, ok := r.(namedRule); ok {
		return isNilRule(r.Rule)
	}
	return isNilFunc(r)
}

var _ Rule = RuleFunc(nil)

// Outcome is what a rule (or the engine) says about a proposal. Outcomes
// are ordered: Pass < RequireApproval < Block, and the engine's decision
// takes the highest.
type Outcome int

// The outcomes. The zero value is Pass.
const (
	Pass            Outcome = iota // the rule has no objection
	RequireApproval                // the proposal may go ahead with a granted approval
	Block                          // the proposal must not go ahead
)

var outcomeNames = [...]string{"pass", "require_approval", "block"}

// String returns "pass", "require_approval" or "block".
func (o Outcome) String() string {
	if o >= 0 && int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("outcome(%d)", int(o))
}

// Validate returns an error matching provider.ErrInvalid unless o is a
// known Outcome.
func (o Outcome) Validate() error {
	if o >= Pass && o <= Block {
		return nil
	}
	return invalidf("outcome", int(o), "must be pass, require_approval or block")
}

// MarshalText implements encoding.TextMarshaler.
func (o Outcome) MarshalText() ([]byte, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return []byte(o.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; it accepts the names
// String returns.
func (o *Outcome) UnmarshalText(b []byte) error {
	for i, n := range outcomeNames {
		if string(b) == n {
			*o = Outcome(i)
			return nil
		}
	}
	return invalidf("outcome", string(b), "must be pass, require_approval or block")
}

// Risk is a risk level. Levels are ordered: RiskNone < RiskLow <
// RiskMedium < RiskHigh; a decision's risk is the highest of its rules'
// (at least RiskLow).
type Risk int

// The risk levels. The zero value, RiskNone, means a rule has nothing to
// say about risk (and, in a Policy, "use the default").
const (
	RiskNone   Risk = iota // no risk factor
	RiskLow                // routine change, easily undone
	RiskMedium             // noticeable impact or harder to undo
	RiskHigh               // critical workload, irreversible, or unsafe state
)

var riskNames = [...]string{"none", "low", "medium", "high"}

// String returns "none", "low", "medium" or "high".
func (r Risk) String() string {
	if r >= 0 && int(r) < len(riskNames) {
		return riskNames[r]
	}
	return fmt.Sprintf("risk(%d)", int(r))
}

// Validate returns an error matching provider.ErrInvalid unless r is a
// known Risk.
func (r Risk) Validate() error {
	if r >= RiskNone && r <= RiskHigh {
		return nil
	}
	return invalidf("risk", int(r), "must be none, low, medium or high")
}

// MarshalText implements encoding.TextMarshaler.
func (r Risk) MarshalText() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return []byte(r.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; it accepts the names
// String returns.
func (r *Risk) UnmarshalText(b []byte) error {
	for i, n := range riskNames {
		if string(b) == n {
			*r = Risk(i)
			return nil
		}
	}
	return invalidf("risk", string(b), "must be none, low, medium or high")
}

// Result is one rule's answer.
type Result struct {
	// Rule is the rule's name; the engine fills it in.
	Rule string `json:"rule"`
	// Outcome is the rule's verdict. The zero value is Pass.
	Outcome Outcome `json:"outcome"`
	// Risk is the rule's risk assessment; the zero value RiskNone means
	// the rule adds no risk factor.
	Risk Risk `json:"risk"`
	// Reason says why, in words ("production database", "last verified
	// backup 31h ago"). Required for RequireApproval and Block.
	Reason string `json:"reason,omitempty"`
	// Factors are the facts that set Risk ("environment=production",
	// "backup age 31h").
	Factors []string `json:"factors,omitempty"`
	// Recommendations are what the host could do to make the change safe
	// ("take a snapshot first", "schedule for 18:00 Europe/Berlin").
	Recommendations []string `json:"recommendations,omitempty"`
	// Err is set by the engine when the rule failed (error, timeout,
	// panic, cancelled); the Outcome is then Block. It is a *RuleError.
	Err error `json:"-"`
}

// MarshalJSON encodes r, with Err as its message under "error".
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	var msg string
	if r.Err != nil {
		msg = r.Err.Error()
	}
	return json.Marshal(struct {
		plain
		Error string `json:"error,omitempty"`
	}{plain(r), msg})
}

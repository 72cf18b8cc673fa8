package safety

import (
	"context"
	"encoding/json"

	"github.com/idlescale/idlescale/internal/nilcheck"
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
// Config.Timeout (it still recovers panics, turns errors into blocks, and
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

// isNilFunc reports whether v is nil or one of the Func adapters of the
// collaborators it is asked about (the approvals, a limits rule's
// history) holding a nil func: a non-nil interface whose call would panic.
// Rules, the auditor and the rules' other sources use isNilSource.
func isNilFunc(v any) bool {
	switch f := v.(type) {
	case nil:
		return true
	case ApprovalVerifierFunc:
		return f == nil
	case ActionHistoryFunc:
		return f == nil
	}
	return false
}

// isNilSource reports whether v, a rule, the auditor or a rule's source (a
// graph, a backup catalog, a health checker, a calendar, a restorer), is
// nil, a nil Func adapter, or a nil pointer (a typed nil such as a nil
// *StaticGraph): its first call would panic. (The engine's approvals may
// be a nil *approval.Manager, which answers, failing closed: they use
// isNilFunc.)
func isNilSource(v any) bool { return nilcheck.Is(v) }

// isNilRule reports whether r is nil, a nil RuleFunc, a nil pointer (a
// typed nil such as a nil *BackupRule), or Named around one of those: a
// rule whose Check would panic.
func isNilRule(r Rule) bool {
	if r, ok := r.(namedRule); ok {
		return isNilRule(r.Rule)
	}
	return isNilSource(r)
}

var _ Rule = RuleFunc(nil)

// Result is one rule's answer.
type Result struct {
	// Rule is the rule's name; the engine fills it in.
	Rule string `json:"rule"`
	// Outcome is the rule's verdict. Unset ("") means Pass, so a rule
	// that does not apply may return Result{}; the engine reports it as
	// Pass.
	Outcome Outcome `json:"outcome"`
	// Risk is the rule's risk assessment. Unset ("") means RiskNone: the
	// rule adds no risk factor; the engine reports it as RiskNone.
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

package reaper

import (
	"slices"
	"strings"

	"github.com/idlescale/idlescale/internal/enumtext"
	"github.com/idlescale/idlescale/provider"
)

// Outcome is what the pipeline did with one resource. Its values are
// lower-case snake names ("would_act"), as JSON shows them. The zero
// Outcome "" is unset: a Record that has not been through the pipeline;
// Validate refuses it, and MarshalText and UnmarshalText map it to and from
// empty text.
type Outcome string

// The outcomes.
const (
	// OutcomeSkipped: not a candidate (Select passed it over: not idle,
	// unknown, confidence below Config.MinConfidence, an action that is
	// not allowed; or, re-read, not in a state the action applies to).
	// Nothing was asked of the Gate.
	OutcomeSkipped Outcome = "skipped"
	// OutcomeWouldAct: a dry run found the action allowed by the Gate;
	// it would be carried out if Config.Execute were set.
	OutcomeWouldAct Outcome = "would_act"
	// OutcomeNeedsApproval: the Gate requires a human approval; the
	// record's ApprovalID names the pending request when Approvals are
	// wired (WithApprovals).
	OutcomeNeedsApproval Outcome = "needs_approval"
	// OutcomeBlocked: the Gate blocked the action (see Record.Decision),
	// including failed rules, or its approval was denied.
	OutcomeBlocked Outcome = "blocked"
	// OutcomeRateLimited: the Reserver denied the action; it may go
	// ahead on a later run (Record.RateLimit.Next).
	OutcomeRateLimited Outcome = "rate_limited"
	// OutcomeDeferred: not handled in this run, decided again in the
	// next: Config.MaxActions was reached, the provider throttled an
	// earlier action of the run, or the run's context ended before the
	// candidate was reached, while it was re-read or while the Sizer
	// chose its size.
	OutcomeDeferred Outcome = "deferred"
	// OutcomeActed: the action was carried out and verified.
	OutcomeActed Outcome = "acted"
	// OutcomeUnverified: the provider accepted the action (or its call
	// failed without saying that nothing changed) but the resource did
	// not reach its target state within Config.VerifyTimeout (or the
	// context ended first).
	OutcomeUnverified Outcome = "unverified"
	// OutcomeFailed: an error stopped the pipeline for this resource
	// before the action was carried out (see Record.Errors); it fails
	// closed.
	OutcomeFailed Outcome = "failed"
)

// outcomes lists the outcomes in the order of the pipeline.
var outcomes = []Outcome{OutcomeSkipped, OutcomeWouldAct, OutcomeNeedsApproval, OutcomeBlocked,
	OutcomeRateLimited, OutcomeDeferred, OutcomeActed, OutcomeUnverified, OutcomeFailed}

// String returns o's value, such as "would_act" ("" when unset).
func (o Outcome) String() string { return string(o) }

// Validate returns a *provider.InvalidError (matching provider.ErrInvalid)
// naming the value unless o is one of the outcomes above; it refuses the
// unset Outcome.
func (o Outcome) Validate() error { return oneOf("outcome", o, outcomes) }

// MarshalText returns o's value (empty text when unset).
func (o Outcome) MarshalText() ([]byte, error) { return []byte(o), nil }

// UnmarshalText sets o from text: empty text (unset) or a value Validate
// accepts; any other text is a *provider.InvalidError naming it, and o is
// left unchanged.
func (o *Outcome) UnmarshalText(text []byte) error {
	return enumtext.Unmarshal(o, text, Outcome.Validate)
}

// oneOf returns nil when v is one of known, and otherwise a
// *provider.InvalidError for field naming v and the known values.
func oneOf[T ~string](field string, v T, known []T) error {
	if slices.Contains(known, v) {
		return nil
	}
	names := make([]string, len(known))
	for i, k := range known {
		names[i] = string(k)
	}
	return provider.Invalid(field, string(v), "must be one of "+strings.Join(names, ", "))
}

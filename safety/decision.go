package safety

import (
	"strings"
	"time"
)

// Factor is one fact that set a decision's risk.
type Factor struct {
	// Rule is the rule that reported it.
	Rule string `json:"rule"`
	// Risk is the level the rule gave.
	Risk Risk `json:"risk"`
	// Text is the fact in words ("environment=production").
	Text string `json:"text"`
}

// String returns "rule: text (risk)".
func (f Factor) String() string { return f.Rule + ": " + f.Text + " (" + f.Risk.String() + ")" }

// Decision is the engine's combined answer for one proposal.
type Decision struct {
	// ProposalID, ResourceID and Action identify the proposal.
	ProposalID string `json:"proposal_id,omitempty"`
	// ResourceID is the proposal's resource.
	ResourceID string `json:"resource_id"`
	// Action is the proposal's action; unset when that is not a known
	// Action (the proposal is then blocked by the "proposal" result).
	Action Action `json:"action"`
	// Now is the proposal's Now.
	Now time.Time `json:"now"`
	// Allowed reports whether the proposal may go ahead now: nothing
	// blocks it, and it needs no approval or presented a valid one.
	Allowed bool `json:"allowed"`
	// Outcome is Block when a rule blocked or failed, RequireApproval when
	// approval is required and not granted, else Pass.
	Outcome Outcome `json:"outcome"`
	// ApprovalRequired reports whether a rule asked for approval or the
	// risk reached the engine's approval level.
	ApprovalRequired bool `json:"approval_required"`
	// ApprovalReason says why approval is required.
	ApprovalReason string `json:"approval_reason,omitempty"`
	// Approved reports whether the proposal presented an approval that is
	// granted, bound to it and unexpired.
	Approved bool `json:"approved"`
	// Fingerprint is the proposal's Fingerprint when approval is required
	// (empty otherwise): approval.Manager.Request refuses a decision made
	// for another proposal.
	Fingerprint string `json:"fingerprint,omitempty"`
	// ApprovalID is the proposal's ApprovalID.
	ApprovalID string `json:"approval_id,omitempty"`
	// Risk is the highest risk any rule reported (at least RiskLow).
	Risk Risk `json:"risk"`
	// Factors are the facts behind the risk, highest risk first.
	Factors []Factor `json:"factors,omitempty"`
	// Recommendations are the rules' advice, without duplicates: that of
	// blocking rules first, then the rest, each in rule order.
	Recommendations []string `json:"recommendations,omitempty"`
	// Blocking are the results that block (Outcome Block), including
	// failed rules.
	Blocking []Result `json:"blocking,omitempty"`
	// Results are every rule's result, in rule order.
	Results []Result `json:"results"`
}

// BlockingRules returns the names of the blocking rules.
func (d Decision) BlockingRules() []string {
	out := make([]string, len(d.Blocking))
	for i, r := range d.Blocking {
		out[i] = r.Rule
	}
	return out
}

// Err returns nil when the decision is Allowed, else a *BlockedError
// carrying it.
func (d Decision) Err() error {
	if d.Allowed {
		return nil
	}
	return &BlockedError{Decision: d}
}

// Summary returns the decision in one line: "allowed", "approval
// required: ..." or "blocked: rule: reason; ...".
func (d Decision) Summary() string {
	switch {
	case d.Allowed:
		return "allowed"
	case len(d.Blocking) == 0:
		return "approval required: " + d.ApprovalReason
	}
	var b strings.Builder
	b.WriteString("blocked")
	sep := ": "
	for _, r := range d.Blocking {
		b.WriteString(sep)
		b.WriteString(r.Rule)
		b.WriteString(": ")
		b.WriteString(r.Reason)
		sep = "; "
	}
	return b.String()
}

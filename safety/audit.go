package safety

import (
	"context"
	"slices"
	"sync"
	"time"
)

// AuditKind names what an AuditEvent records.
type AuditKind string

// The audit event kinds: one per engine decision (Engine.Check; dry runs
// record nothing) and one per approval state change.
const (
	AuditDecision          AuditKind = "decision"           // Engine.Check decided a proposal
	AuditApprovalRequested AuditKind = "approval.requested" // a request was created (→ pending)
	AuditApprovalApproved  AuditKind = "approval.approved"  // pending → approved
	AuditApprovalDenied    AuditKind = "approval.denied"    // pending → denied
	AuditApprovalExpired   AuditKind = "approval.expired"   // pending or approved → expired
	AuditApprovalCancelled AuditKind = "approval.cancelled" // pending or approved → cancelled
	AuditApprovalExecuted  AuditKind = "approval.executed"  // approved → executed
)

// AuditEvent is one entry of the audit trail. Events are values and carry
// no pointers into the engine's state.
type AuditEvent struct {
	// Time is when it happened: the proposal's Now for decisions, the now
	// passed to the approval call for approval events.
	Time time.Time `json:"time"`
	// Kind says what happened.
	Kind AuditKind `json:"kind"`
	// Actor is who caused it: the requester for decisions and requests,
	// the approver for approvals and denials, the canceller, or "system"
	// for expiry.
	Actor string `json:"actor"`
	// ResourceID and Action identify the proposal.
	ResourceID string `json:"resource_id"`
	// Action is the proposal's action.
	Action Action `json:"action"`
	// ProposalID is the proposal's ID, if it had one.
	ProposalID string `json:"proposal_id,omitempty"`
	// ApprovalID is the approval request's ID (approval events, and
	// decisions that presented one).
	ApprovalID string `json:"approval_id,omitempty"`
	// From and To are the approval states of a transition; From is empty
	// for AuditApprovalRequested.
	From ApprovalState `json:"from,omitempty"`
	// To is the state after the transition.
	To ApprovalState `json:"to,omitempty"`
	// Outcome is the decision's outcome (decision events): Pass when
	// allowed.
	Outcome Outcome `json:"outcome"`
	// Risk is the decision's or the request's risk.
	Risk Risk `json:"risk"`
	// Rules lists the blocking rules of a decision.
	Rules []string `json:"rules,omitempty"`
	// Reason is the decision's summary, the requester's reason, or the
	// approver's comment.
	Reason string `json:"reason,omitempty"`
}

// Auditor records audit events.
//
// Record is called once per event, possibly from several goroutines at
// once, so implementations must be safe for concurrent use. It must honour
// ctx and must not retain ev's slices. A non-nil error means the event was
// not recorded: Engine.Check then blocks the proposal (fail closed), and
// approval calls return an error matching ErrAudit after the state change
// was stored.
type Auditor interface {
	Record(ctx context.Context, ev AuditEvent) error
}

// AuditorFunc adapts a function to an Auditor.
type AuditorFunc func(ctx context.Context, ev AuditEvent) error

// Record calls f(ctx, ev).
func (f AuditorFunc) Record(ctx context.Context, ev AuditEvent) error { return f(ctx, ev) }

// AuditLog is an in-memory Auditor that keeps every event in order. Its
// zero value is ready to use; it is safe for concurrent use.
type AuditLog struct {
	mu     sync.Mutex
	events []AuditEvent
}

var (
	_ Auditor = (*AuditLog)(nil)
	_ Auditor = AuditorFunc(nil)
)

// Record appends a copy of ev. It fails only when ctx has ended.
func (l *AuditLog) Record(ctx context.Context, ev AuditEvent) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ev.Rules = slices.Clone(ev.Rules)
	l.mu.Lock()
	l.events = append(l.events, ev)
	l.mu.Unlock()
	return nil
}

// Events returns a copy of the events recorded so far, oldest first.
func (l *AuditLog) Events() []AuditEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]AuditEvent, len(l.events))
	for i, ev := range l.events {
		ev.Rules = slices.Clone(ev.Rules)
		out[i] = ev
	}
	return out
}

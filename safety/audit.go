package safety

import (
	"github.com/idlescale/idlescale/internal/enumtext"

	"context"
	"slices"
	"sync"
	"time"
)

// AuditKind names what an AuditEvent records: an engine decision, or one
// transition of an approval request (recorded by package
// safety/approval). The empty AuditKind is unset; Validate refuses it.
type AuditKind string

// The audit event kinds: one per engine decision (Engine.Check; Evaluate
// and Preview record nothing) and one per approval state change.
const (
	AuditDecision          AuditKind = "decision"           // Engine.Check decided a proposal
	AuditApprovalRequested AuditKind = "approval.requested" // a request was created (→ pending)
	AuditApprovalApproved  AuditKind = "approval.approved"  // pending → approved
	AuditApprovalDenied    AuditKind = "approval.denied"    // pending → denied
	AuditApprovalExpired   AuditKind = "approval.expired"   // pending, approved or executing → expired
	AuditApprovalCancelled AuditKind = "approval.cancelled" // pending or approved → cancelled
	AuditApprovalExecuted  AuditKind = "approval.executed"  // approved or executing → executed
	AuditApprovalClaimed   AuditKind = "approval.claimed"   // approved → executing: the change is under way
	AuditApprovalReleased  AuditKind = "approval.released"  // executing → approved: nothing was changed
)

// String returns k as text ("decision", "approval.approved", ...), or the
// value as it is when k is unset or unknown.
func (k AuditKind) String() string { return string(k) }

// Validate returns an error matching provider.ErrInvalid, naming the
// value, unless k is one of the audit event kinds.
func (k AuditKind) Validate() error {
	switch k {
	case AuditDecision, AuditApprovalRequested, AuditApprovalApproved, AuditApprovalDenied,
		AuditApprovalExpired, AuditApprovalCancelled, AuditApprovalExecuted,
		AuditApprovalClaimed, AuditApprovalReleased:
		return nil
	}
	return invalidf("kind", string(k), "must be decision or approval.requested, .approved, .denied, .expired, .cancelled, .executed, .claimed or .released")
}

// MarshalText implements encoding.TextMarshaler: a known kind as its name,
// unset as empty text. An unknown value returns the error of Validate.
func (k AuditKind) MarshalText() ([]byte, error) { return enumtext.Marshal(k, AuditKind.Validate) }

// UnmarshalText implements encoding.TextUnmarshaler: it accepts the names
// of the known kinds, and empty text as unset. Any other text returns an
// error matching provider.ErrInvalid naming it, and leaves k unchanged.
func (k *AuditKind) UnmarshalText(b []byte) error {
	return enumtext.Unmarshal(k, b, AuditKind.Validate)
}

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
	// (approval.SystemActor) for expiry.
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
	// From and To are the approval states (approval.State values, such
	// as "pending") of a transition; From is empty for
	// AuditApprovalRequested, both are empty for decisions. They are
	// plain strings because this package does not import safety/approval.
	From string `json:"from,omitempty"`
	// To is the state after the transition.
	To string `json:"to,omitempty"`
	// Outcome is the decision's outcome (decision events): Pass when
	// allowed. It is unset for approval events.
	Outcome Outcome `json:"outcome,omitempty"`
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
// the approval.Manager's calls return an error matching ErrAudit after the
// state change was stored.
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

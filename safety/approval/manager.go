package approval

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/idlescale/idlescale/internal/nilcheck"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// SystemActor is the safety.AuditEvent.Actor of transitions nobody asked
// for (expiry).
const SystemActor = "system"

// Config configures a Manager. The zero value means the defaults.
type Config struct {
	// TTL is how long a request stays valid, from its creation: past it,
	// it can be neither approved nor executed. Must be ≥ 0; 0 means the
	// default. Default: 4h. An approval answers a decision made on the
	// facts of its moment (idle evidence, backup age, business hours);
	// a few hours later those facts may have changed, so a stale request
	// lapses and the proposal is checked and asked for again.
	TTL time.Duration `json:"ttl,omitempty" yaml:"ttl,omitempty"`
}

// DefaultTTL is Config.TTL's default.
const DefaultTTL = 4 * time.Hour

// Validate returns an error matching provider.ErrInvalid naming a wrong
// field and its value.
func (c Config) Validate() error {
	if c.TTL < 0 {
		return provider.Invalid("ttl", c.TTL, "must be ≥ 0 (0 means 4h)")
	}
	return nil
}

// Option wires a collaborator into a Manager: an auditor or an ID
// generator. Behaviour is configured by Config.
type Option func(*Manager)

// WithAuditor sends every state change to au (usually the auditor the
// safety engine records its decisions with). Default: none. New fails for
// a nil safety.AuditorFunc and for a nil pointer.
func WithAuditor(au safety.Auditor) Option {
	return func(m *Manager) { m.auditor = au }
}

// WithIDGenerator sets how request IDs are made. The default is 16 random
// bytes in hex from crypto/rand. IDs must be unique in the store.
func WithIDGenerator(gen func() string) Option {
	return func(m *Manager) { m.newID = gen }
}

// Manager runs the approval state machine (see State) over a Store and
// records every transition with a safety.Auditor. Every method takes the
// time it acts at (a request's Proposal.Now, or now); it never reads a
// clock. A Manager is safe for concurrent use: each transition is one
// atomic Store.Update. Make one with New; every method of the zero value
// (and of a nil *Manager) returns an error.
//
// Manager implements safety.ApprovalVerifier (Verify), so the engine that
// decided a proposal accepts the approvals it grants:
//
//	approvals, _ := approval.New(approval.Config{}, store)
//	engine, _ := safety.New(safety.Config{}, rules, safety.WithApprovals(approvals))
type Manager struct {
	store   Store
	auditor safety.Auditor
	ttl     time.Duration
	newID   func() string
}

var _ safety.ApprovalVerifier = (*Manager)(nil)

// New returns a Manager for cfg over store (required). It fails with an
// error matching provider.ErrInvalid, naming the field, when cfg is
// invalid, store is nil (or a nil pointer), or WithAuditor was given a nil
// safety.AuditorFunc or a nil pointer.
func New(cfg Config, store Store, opts ...Option) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("approval.New: %w", err)
	}
	if nilcheck.Is(store) { // a nil *MemoryStore too: it would panic on first use
		return nil, fmt.Errorf("approval.New: %w", provider.Invalid("store", nil, "must not be nil"))
	}
	m := &Manager{store: store, ttl: cfg.TTL, newID: randomID}
	if m.ttl == 0 {
		m.ttl = DefaultTTL
	}
	for _, o := range opts {
		o(m)
	}
	if f, ok := m.auditor.(safety.AuditorFunc); ok && f == nil {
		return nil, fmt.Errorf("approval.New: %w", provider.Invalid("auditor", nil, "must not be a nil AuditorFunc"))
	}
	if m.auditor != nil && nilcheck.Is(m.auditor) {
		return nil, fmt.Errorf("approval.New: %w", provider.Invalid("auditor", fmt.Sprintf("%T", m.auditor), "must not be a nil pointer"))
	}
	if m.newID == nil {
		m.newID = randomID
	}
	return m, nil
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return hex.EncodeToString(b[:])
}

// made returns an error naming the Manager when it is nil or a zero
// value, not made by New.
func (m *Manager) made() error {
	if m == nil || m.store == nil {
		return provider.Invalid("manager", "approval.Manager{}", "was not made with approval.New")
	}
	return nil
}

// Request turns a proposal whose decision requires approval into a pending
// Request valid until p.Now + TTL, and records
// safety.AuditApprovalRequested. reason is the requester's words, added to
// the decision's. d must be the engine's decision for exactly p (same
// Fingerprint). It fails with provider.ErrInvalid for an invalid proposal
// (including a requester that is not an identity a Manager accepts: not
// UTF-8, with a control character, or empty once normalised; see
// SameIdentity) or a decision that is not for p, is blocked (an approval
// cannot override a block; fix what blocks it first) or does not require
// approval, and with safety.ErrAudit (returning the stored request) when
// the request was stored but not audited.
func (m *Manager) Request(ctx context.Context, p safety.Proposal, d safety.Decision, reason string) (Request, error) {
	if err := m.made(); err != nil {
		return Request{}, err
	}
	if err := checkProposal(p); err != nil {
		return Request{}, fmt.Errorf("approval: request: %w", err)
	}
	if err := requestable(p, d); err != nil {
		return Request{}, err
	}
	why := d.ApprovalReason
	if reason != "" {
		why = strings.TrimPrefix(why+"; "+reason, "; ")
	}
	factors := make([]string, 0, len(d.Factors))
	for _, f := range d.Factors {
		factors = append(factors, f.String())
	}
	req := Request{
		ID:          m.newID(),
		State:       Pending,
		Proposal:    p,
		Fingerprint: p.Fingerprint(),
		Requester:   p.Requester,
		Reason:      why,
		Risk:        d.Risk,
		Factors:     factors,
		CreatedAt:   p.Now,
		ExpiresAt:   p.Now.Add(m.ttl),
	}
	req.Proposal.ApprovalID = ""
	if err := m.store.Create(ctx, req); err != nil {
		return Request{}, fmt.Errorf("approval: request: %w", err)
	}
	err := m.audit(ctx, req, safety.AuditApprovalRequested, p.Requester, "", p.Now, why)
	return req.Clone(), err
}

// checkProposal validates p (safety.Proposal.Validate) and its requester
// as an identity (checkIdentity, field "requester").
func checkProposal(p safety.Proposal) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return checkIdentity("requester", p.Requester, "asked for the change")
}

// requestable returns an error matching provider.ErrInvalid unless d is a
// decision for p that requires approval and is not blocked.
func requestable(p safety.Proposal, d safety.Decision) error {
	switch {
	case d.ResourceID != p.Resource.ID || d.Action != p.Action || d.Fingerprint != p.Fingerprint():
		return provider.Invalid("decision", d.ResourceID+"/"+string(d.Action), "was not made for this proposal "+p.Resource.ID+"/"+string(p.Action)+" (check it with Engine.Check first)")
	case len(d.Blocking) > 0:
		return provider.Invalid("decision", d.Outcome.String(), "is blocked by "+strings.Join(d.BlockingRules(), ", ")+"; an approval cannot override a block")
	case !d.ApprovalRequired:
		return provider.Invalid("decision", d.Outcome.String(), "does not require approval")
	}
	return nil
}

// Approve grants request id on behalf of approver at now, moving it from
// pending to approved. The request keeps approver as given. A now before
// the request was made (the approver's clock behind the requester's) is
// accepted and kept as DecidedAt: the approval then covers the proposals
// judged from the request's CreatedAt on, not before (see Verify). Errors:
// provider.ErrInvalid for an approver that is empty once normalised, not
// UTF-8 or contains a control character (Unicode Cc, tab and newline
// included; see SameIdentity), or for a zero now, ErrUnknown,
// ErrSelfApproval when approver is the requester as SameIdentity compares
// them ("Reaper" is "reaper"), ErrExpired when now is at or past the
// expiry (the request moves to expired), ErrTransition when it is not
// pending, safety.ErrAudit when the transition was stored but not
// audited.
func (m *Manager) Approve(ctx context.Context, id, approver string, now time.Time, comment string) (Request, error) {
	if err := m.made(); err != nil {
		return Request{}, err
	}
	if err := checkIdentity("approver", approver, "approves"); err != nil {
		return Request{}, err
	}
	return m.transition(ctx, id, approver, now, Approved, comment, func(r *Request) error {
		if r.State != Pending {
			return &TransitionError{ID: id, From: r.State, To: Approved}
		}
		if SameIdentity(approver, r.Requester) {
			return fmt.Errorf("%w: %q requested %q", ErrSelfApproval, approver, id)
		}
		r.DecidedBy, r.DecidedAt, r.Comment = approver, now, comment
		return nil
	})
}

// Deny refuses request id on behalf of approver at now (pending → denied).
// A denied request never executes. Errors as for Approve, except that the
// requester may deny (withdraw) their own request.
func (m *Manager) Deny(ctx context.Context, id, approver string, now time.Time, reason string) (Request, error) {
	if err := m.made(); err != nil {
		return Request{}, err
	}
	if err := checkIdentity("approver", approver, "denies"); err != nil {
		return Request{}, err
	}
	return m.transition(ctx, id, approver, now, Denied, reason, func(r *Request) error {
		if r.State != Pending {
			return &TransitionError{ID: id, From: r.State, To: Denied}
		}
		r.DecidedBy, r.DecidedAt, r.Comment, r.ClosedAt = approver, now, reason, now
		return nil
	})
}

// Cancel withdraws request id (pending or approved → cancelled) on behalf
// of by at now. Errors as for Approve (provider.ErrInvalid names "by").
func (m *Manager) Cancel(ctx context.Context, id, by string, now time.Time, reason string) (Request, error) {
	if err := m.made(); err != nil {
		return Request{}, err
	}
	if err := checkIdentity("by", by, "cancels"); err != nil {
		return Request{}, err
	}
	return m.transition(ctx, id, by, now, Cancelled, reason, func(r *Request) error {
		if r.State != Pending && r.State != Approved {
			return &TransitionError{ID: id, From: r.State, To: Cancelled}
		}
		r.DecidedBy, r.DecidedAt, r.Comment, r.ClosedAt = by, now, reason, now
		return nil
	})
}

// Execute consumes the approval of request id for p at p.Now (approved →
// executed): call it immediately before carrying out p. An approval
// executes once. It spends the approval even if the change then fails:
// Claim, then Complete or Release, keeps it when nothing changed.
// Errors: provider.ErrInvalid for an invalid proposal or requester (as
// for Request), ErrUnknown, ErrMismatch when p's fingerprint differs from
// the approved one (a changed target needs a new approval), ErrExpired
// when p.Now is at or past the expiry (the request moves to expired),
// ErrTransition when it is not approved (pending, denied, cancelled,
// executed) or p.Now is before it was approved or requested (the
// approval did not exist at the time p is judged at; nothing changes),
// safety.ErrAudit when not audited.
func (m *Manager) Execute(ctx context.Context, id string, p safety.Proposal) (Request, error) {
	if err := m.made(); err != nil {
		return Request{}, err
	}
	if err := checkProposal(p); err != nil {
		return Request{}, fmt.Errorf("approval: execute %q: %w", id, err)
	}
	fp := p.Fingerprint()
	return m.transition(ctx, id, p.Requester, p.Now, Executed, "", func(r *Request) error {
		if r.State != Approved {
			return &TransitionError{ID: id, From: r.State, To: Executed}
		}
		if r.Fingerprint != fp {
			return mismatch(*r)
		}
		if err := notYetGranted(*r, p.Now); err != nil {
			return err
		}
		r.ClosedAt = p.Now
		return nil
	})
}

// Verify reports, without changing anything, whether request id is an
// approval that p may execute under at p.Now: approved at or before
// p.Now, same fingerprint, not expired. Errors as for Execute; nil means valid. It implements
// safety.ApprovalVerifier: the engine calls it for proposals that carry an
// ApprovalID.
func (m *Manager) Verify(ctx context.Context, id string, p safety.Proposal) error {
	if err := m.made(); err != nil {
		return err
	}
	if err := checkProposal(p); err != nil {
		return fmt.Errorf("approval: verify %q: %w", id, err)
	}
	r, err := m.store.Get(ctx, id)
	if err != nil {
		return err
	}
	switch {
	case r.State == Approved && !p.Now.Before(r.ExpiresAt):
		return &TransitionError{ID: id, From: r.State, To: Executed, Expired: true}
	case r.State != Approved:
		return &TransitionError{ID: id, From: r.State, To: Executed, Expired: r.State == Expired}
	case r.Fingerprint != p.Fingerprint():
		return mismatch(r)
	}
	return notYetGranted(r, p.Now)
}

// Get returns request id, or an error matching ErrUnknown.
func (m *Manager) Get(ctx context.Context, id string) (Request, error) {
	if err := m.made(); err != nil {
		return Request{}, err
	}
	return m.store.Get(ctx, id)
}

// List returns the requests matching f, sorted by CreatedAt then ID, as
// the store has them (a request past its expiry that nobody touched is
// still pending or approved until Expire or a transition moves it).
func (m *Manager) List(ctx context.Context, f Filter) ([]Request, error) {
	if err := m.made(); err != nil {
		return nil, err
	}
	return m.store.List(ctx, f)
}

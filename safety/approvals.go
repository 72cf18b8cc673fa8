package safety

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// SystemActor is the AuditEvent.Actor of transitions nobody asked for
// (expiry).
const SystemActor = "system"

// ApprovalPolicy configures Approvals. The zero value means the defaults.
type ApprovalPolicy struct {
	// TTL is how long a request stays valid, from its creation: past it,
	// it can be neither approved nor executed. Must be ≥ 0. Default: 4h.
	TTL time.Duration `json:"ttl,omitempty" yaml:"ttl,omitempty"`
}

// DefaultApprovalTTL is ApprovalPolicy.TTL's default.
const DefaultApprovalTTL = 4 * time.Hour

// Validate returns an error matching provider.ErrInvalid naming a wrong
// field.
func (p ApprovalPolicy) Validate() error {
	if p.TTL < 0 {
		return invalidf("ttl", p.TTL, "must be ≥ 0 (0 means 4h)")
	}
	return nil
}

func (p ApprovalPolicy) withDefaults() ApprovalPolicy {
	if p.TTL == 0 {
		p.TTL = DefaultApprovalTTL
	}
	return p
}

// ApprovalOption configures Approvals.
type ApprovalOption func(*Approvals)

// WithApprovalPolicy sets the policy (validated by NewApprovals).
func WithApprovalPolicy(p ApprovalPolicy) ApprovalOption {
	return func(a *Approvals) { a.policy = p }
}

// WithApprovalAuditor sends every state change to au. Default: none.
func WithApprovalAuditor(au Auditor) ApprovalOption {
	return func(a *Approvals) { a.auditor = au }
}

// WithIDGenerator sets how request IDs are made. The default is 16 random
// bytes in hex from crypto/rand. IDs must be unique in the store.
func WithIDGenerator(gen func() string) ApprovalOption {
	return func(a *Approvals) { a.newID = gen }
}

// Approvals runs the approval state machine (see ApprovalState) over an
// ApprovalStore and records every transition with an Auditor. Every method
// takes the time it acts at (a request's Proposal.Now, or now); it never
// reads a clock. Approvals is safe for concurrent use: each transition is
// one atomic ApprovalStore.Update. Make one with NewApprovals; every method
// of the zero value returns an error.
type Approvals struct {
	store   ApprovalStore
	auditor Auditor
	policy  ApprovalPolicy
	newID   func() string
}

// made returns an error naming the Approvals when it is a zero value, not
// made by NewApprovals.
func (a *Approvals) made() error {
	if a.store == nil {
		return invalidf("approvals", "safety.Approvals{}", "was not made with NewApprovals")
	}
	return nil
}

// NewApprovals returns Approvals over store. It fails with an error
// matching provider.ErrInvalid when store is nil or the policy is invalid.
func NewApprovals(store ApprovalStore, opts ...ApprovalOption) (*Approvals, error) {
	if store == nil {
		return nil, invalidf("store", nil, "must not be nil")
	}
	a := &Approvals{store: store, newID: randomID}
	for _, o := range opts {
		o(a)
	}
	if err := a.policy.Validate(); err != nil {
		return nil, fmt.Errorf("safety.NewApprovals: %w", err)
	}
	if a.auditor != nil && isNilFunc(a.auditor) {
		return nil, fmt.Errorf("safety.NewApprovals: %w", invalidf("auditor", nil, "must not be a nil AuditorFunc"))
	}
	a.policy = a.policy.withDefaults()
	if a.newID == nil {
		a.newID = randomID
	}
	return a, nil
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return hex.EncodeToString(b[:])
}

// Request turns a proposal whose decision requires approval into a pending
// ApprovalRequest valid until p.Now + TTL, and records
// AuditApprovalRequested. reason is the requester's words, added to the
// decision's. d must be the engine's decision for exactly p (same
// Fingerprint). It fails with provider.ErrInvalid for an invalid proposal
// or a decision that is not for p, is blocked (an approval cannot override
// a block; fix what blocks it first) or does not require approval.
func (a *Approvals) Request(ctx context.Context, p Proposal, d Decision, reason string) (ApprovalRequest, error) {
	if err := a.made(); err != nil {
		return ApprovalRequest{}, err
	}
	if err := p.Validate(); err != nil {
		return ApprovalRequest{}, fmt.Errorf("safety: request approval: %w", err)
	}
	switch {
	case d.ResourceID != p.Resource.ID || d.Action != p.Action || d.Fingerprint != p.Fingerprint():
		return ApprovalRequest{}, invalidf("decision", d.ResourceID+"/"+string(d.Action), "was not made for this proposal "+p.Resource.ID+"/"+string(p.Action)+" (check it with Engine.Check first)")
	case len(d.Blocking) > 0:
		return ApprovalRequest{}, invalidf("decision", d.Outcome.String(), "is blocked by "+strings.Join(d.BlockingRules(), ", ")+"; an approval cannot override a block")
	case !d.ApprovalRequired:
		return ApprovalRequest{}, invalidf("decision", d.Outcome.String(), "does not require approval")
	}
	why := d.ApprovalReason
	if reason != "" {
		why = strings.TrimPrefix(why+"; "+reason, "; ")
	}
	factors := make([]string, 0, len(d.Factors))
	for _, f := range d.Factors {
		factors = append(factors, f.String())
	}
	req := ApprovalRequest{
		ID:          a.newID(),
		State:       ApprovalPending,
		Proposal:    p,
		Fingerprint: p.Fingerprint(),
		Requester:   p.Requester,
		Reason:      why,
		Risk:        d.Risk,
		Factors:     factors,
		CreatedAt:   p.Now,
		ExpiresAt:   p.Now.Add(a.policy.TTL),
	}
	req.Proposal.ApprovalID = ""
	if err := a.store.Create(ctx, req); err != nil {
		return ApprovalRequest{}, fmt.Errorf("safety: request approval: %w", err)
	}
	err := a.audit(ctx, req, AuditApprovalRequested, p.Requester, "", p.Now, why)
	return req.Clone(), err
}

// Approve grants request id on behalf of approver at now, moving it from
// pending to approved. Errors: provider.ErrInvalid for an empty approver,
// ErrUnknownApproval, ErrSelfApproval when approver is the requester,
// ErrApprovalExpired when now is at or past the expiry (the request moves
// to expired), ErrApprovalState when it is not pending, ErrAudit when the
// transition was stored but not audited.
func (a *Approvals) Approve(ctx context.Context, id, approver string, now time.Time, comment string) (ApprovalRequest, error) {
	if err := a.made(); err != nil {
		return ApprovalRequest{}, err
	}
	if approver == "" {
		return ApprovalRequest{}, invalidf("approver", approver, "must name who approves")
	}
	return a.transition(ctx, id, approver, now, ApprovalApproved, comment, func(r *ApprovalRequest) error {
		if r.State != ApprovalPending {
			return &TransitionError{ID: id, From: r.State, To: ApprovalApproved}
		}
		if approver == r.Requester {
			return fmt.Errorf("%w: %q requested %q", ErrSelfApproval, approver, id)
		}
		r.DecidedBy, r.DecidedAt, r.Comment = approver, now, comment
		return nil
	})
}

// Deny refuses request id on behalf of approver at now (pending → denied).
// A denied request never executes. Errors as for Approve, except that the
// requester may deny (withdraw) their own request.
func (a *Approvals) Deny(ctx context.Context, id, approver string, now time.Time, reason string) (ApprovalRequest, error) {
	if err := a.made(); err != nil {
		return ApprovalRequest{}, err
	}
	if approver == "" {
		return ApprovalRequest{}, invalidf("approver", approver, "must name who denies")
	}
	return a.transition(ctx, id, approver, now, ApprovalDenied, reason, func(r *ApprovalRequest) error {
		if r.State != ApprovalPending {
			return &TransitionError{ID: id, From: r.State, To: ApprovalDenied}
		}
		r.DecidedBy, r.DecidedAt, r.Comment, r.ClosedAt = approver, now, reason, now
		return nil
	})
}

// Cancel withdraws request id (pending or approved → cancelled) on behalf
// of by at now. Errors as for Approve.
func (a *Approvals) Cancel(ctx context.Context, id, by string, now time.Time, reason string) (ApprovalRequest, error) {
	if err := a.made(); err != nil {
		return ApprovalRequest{}, err
	}
	if by == "" {
		return ApprovalRequest{}, invalidf("by", by, "must name who cancels")
	}
	return a.transition(ctx, id, by, now, ApprovalCancelled, reason, func(r *ApprovalRequest) error {
		if r.State != ApprovalPending && r.State != ApprovalApproved {
			return &TransitionError{ID: id, From: r.State, To: ApprovalCancelled}
		}
		r.DecidedBy, r.DecidedAt, r.Comment, r.ClosedAt = by, now, reason, now
		return nil
	})
}

// Execute consumes the approval of request id for p at p.Now (approved →
// executed): call it immediately before carrying out p. An approval
// executes once. Errors: ErrUnknownApproval, ErrApprovalMismatch when p's
// fingerprint differs from the approved one (a changed target needs a new
// approval), ErrApprovalExpired when p.Now is at or past the expiry (the
// request moves to expired), ErrApprovalState when it is not approved
// (pending, denied, cancelled, executed), ErrAudit when not audited.
func (a *Approvals) Execute(ctx context.Context, id string, p Proposal) (ApprovalRequest, error) {
	if err := a.made(); err != nil {
		return ApprovalRequest{}, err
	}
	if err := p.Validate(); err != nil {
		return ApprovalRequest{}, fmt.Errorf("safety: execute approval %q: %w", id, err)
	}
	fp := p.Fingerprint()
	return a.transition(ctx, id, p.Requester, p.Now, ApprovalExecuted, "", func(r *ApprovalRequest) error {
		if r.State != ApprovalApproved {
			return &TransitionError{ID: id, From: r.State, To: ApprovalExecuted}
		}
		if r.Fingerprint != fp {
			return fmt.Errorf("%w: %q was approved for %s of %q with another target", ErrApprovalMismatch, id, r.Proposal.Action, r.Proposal.Resource.ID)
		}
		r.ClosedAt = p.Now
		return nil
	})
}

// Verify reports, without changing anything, whether request id is an
// approval that p may execute under at p.Now: approved, same fingerprint,
// not expired. Errors as for Execute; nil means valid. The engine calls it
// for proposals that carry an ApprovalID.
func (a *Approvals) Verify(ctx context.Context, id string, p Proposal) (ApprovalRequest, error) {
	if err := a.made(); err != nil {
		return ApprovalRequest{}, err
	}
	r, err := a.store.Get(ctx, id)
	if err != nil {
		return ApprovalRequest{}, err
	}
	switch {
	case r.State == ApprovalApproved && !p.Now.Before(r.ExpiresAt):
		return r, &TransitionError{ID: id, From: r.State, To: ApprovalExecuted, Expired: true}
	case r.State != ApprovalApproved:
		return r, &TransitionError{ID: id, From: r.State, To: ApprovalExecuted, Expired: r.State == ApprovalExpired}
	case r.Fingerprint != p.Fingerprint():
		return r, fmt.Errorf("%w: %q was approved for %s of %q with another target", ErrApprovalMismatch, id, r.Proposal.Action, r.Proposal.Resource.ID)
	}
	return r, nil
}

// Get returns request id, or an error matching ErrUnknownApproval.
func (a *Approvals) Get(ctx context.Context, id string) (ApprovalRequest, error) {
	if err := a.made(); err != nil {
		return ApprovalRequest{}, err
	}
	return a.store.Get(ctx, id)
}

// Expire moves every pending or approved request whose expiry is at or
// before now to expired, recording each, and returns them. A request
// changed concurrently (approved, executed) is left to that change.
func (a *Approvals) Expire(ctx context.Context, now time.Time) ([]ApprovalRequest, error) {
	if err := a.made(); err != nil {
		return nil, err
	}
	var out []ApprovalRequest
	var errs []error
	for _, st := range []ApprovalState{ApprovalPending, ApprovalApproved} {
		reqs, err := a.store.List(ctx, ApprovalFilter{State: st})
		if err != nil {
			return out, fmt.Errorf("safety: expire approvals: %w", err)
		}
		for _, r := range reqs {
			if now.Before(r.ExpiresAt) {
				continue
			}
			var from ApprovalState
			got, err := a.store.Update(ctx, r.ID, func(r *ApprovalRequest) error {
				if r.State.Final() || now.Before(r.ExpiresAt) {
					return errSkip
				}
				from = r.State
				r.State, r.ClosedAt = ApprovalExpired, now
				return nil
			})
			if errors.Is(err, errSkip) {
				continue
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out = append(out, got)
			if err := a.audit(ctx, got, AuditApprovalExpired, SystemActor, from, now, "expired at "+got.ExpiresAt.Format(time.RFC3339)); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return out, errors.Join(errs...)
}

var errSkip = errors.New("skip")

// transition runs one checked state change: it expires the request first
// when now is at or past its expiry, then applies apply and moves it to
// to, and records the change.
func (a *Approvals) transition(ctx context.Context, id, actor string, now time.Time, to ApprovalState, note string, apply func(*ApprovalRequest) error) (ApprovalRequest, error) {
	if now.IsZero() {
		return ApprovalRequest{}, invalidf("now", now, "must be set")
	}
	var from ApprovalState
	var expired bool
	got, err := a.store.Update(ctx, id, func(r *ApprovalRequest) error {
		from, expired = r.State, false
		if !r.State.Final() && !now.Before(r.ExpiresAt) {
			expired = true
			r.State, r.ClosedAt = ApprovalExpired, now
			return nil
		}
		if err := apply(r); err != nil {
			return err
		}
		r.State = to
		return nil
	})
	if err != nil {
		var te *TransitionError
		if errors.As(err, &te) && te.From == ApprovalExpired {
			te.Expired = true
		}
		return ApprovalRequest{}, fmt.Errorf("safety: %s approval: %w", verb(to), err)
	}
	if expired {
		aerr := a.audit(ctx, got, AuditApprovalExpired, SystemActor, from, now, "expired at "+got.ExpiresAt.Format(time.RFC3339))
		return got, errors.Join(fmt.Errorf("safety: %s approval: %w", verb(to), &TransitionError{ID: id, From: from, To: to, Expired: true}), aerr)
	}
	return got, a.audit(ctx, got, auditKind(to), actor, from, now, note)
}

func verb(s ApprovalState) string {
	switch s {
	case ApprovalApproved:
		return "approve"
	case ApprovalDenied:
		return "deny"
	case ApprovalCancelled:
		return "cancel"
	case ApprovalExecuted:
		return "execute"
	}
	return string(s)
}

func auditKind(s ApprovalState) AuditKind {
	switch s {
	case ApprovalApproved:
		return AuditApprovalApproved
	case ApprovalDenied:
		return AuditApprovalDenied
	case ApprovalCancelled:
		return AuditApprovalCancelled
	case ApprovalExecuted:
		return AuditApprovalExecuted
	case ApprovalExpired:
		return AuditApprovalExpired
	}
	return AuditApprovalRequested
}

func (a *Approvals) audit(ctx context.Context, r ApprovalRequest, kind AuditKind, actor string, from ApprovalState, now time.Time, reason string) error {
	if a.auditor == nil {
		return nil
	}
	err := a.auditor.Record(ctx, AuditEvent{
		Time: now, Kind: kind, Actor: actor,
		ResourceID: r.Proposal.Resource.ID, Action: r.Proposal.Action, ProposalID: r.Proposal.ID,
		ApprovalID: r.ID, From: from, To: r.State, Risk: r.Risk, Reason: reason,
	})
	if err != nil {
		return fmt.Errorf("%w: %s of %q (the transition was stored): %w", ErrAudit, kind, r.ID, err)
	}
	return nil
}

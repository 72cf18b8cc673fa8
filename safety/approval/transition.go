package approval

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// Expire moves every pending or approved request whose expiry is at or
// before now to expired, recording each, and returns them. A request
// changed concurrently (approved, executed) is left to that change. Store
// and audit errors are joined; the requests expired so far are returned
// with them.
func (m *Manager) Expire(ctx context.Context, now time.Time) ([]Request, error) {
	if err := m.made(); err != nil {
		return nil, err
	}
	var out []Request
	var errs []error
	for _, st := range []State{Pending, Approved} {
		reqs, err := m.store.List(ctx, Filter{State: st})
		if err != nil {
			return out, fmt.Errorf("approval: expire: %w", err)
		}
		for _, r := range reqs {
			if now.Before(r.ExpiresAt) {
				continue
			}
			got, expired, err := m.expireOne(ctx, r.ID, now)
			if err != nil {
				errs = append(errs, err)
			}
			if expired {
				out = append(out, got)
			}
		}
	}
	return out, errors.Join(errs...)
}

// expireOne moves request id to expired if it is still due at now, and
// records it. expired reports whether it moved (it may have moved even
// when err, an audit error, is set).
func (m *Manager) expireOne(ctx context.Context, id string, now time.Time) (got Request, expired bool, err error) {
	var from State
	got, err = m.store.Update(ctx, id, func(r *Request) error {
		if r.State.Final() || now.Before(r.ExpiresAt) {
			return errSkip
		}
		from = r.State
		r.State, r.ClosedAt = Expired, now
		return nil
	})
	if errors.Is(err, errSkip) {
		return Request{}, false, nil
	}
	if err != nil {
		return Request{}, false, err
	}
	return got, true, m.audit(ctx, got, safety.AuditApprovalExpired, SystemActor, from, now, "expired at "+got.ExpiresAt.Format(time.RFC3339))
}

// errSkip tells Store.Update to store nothing: the request is no longer
// due.
var errSkip = errors.New("skip")

// transition runs one checked state change: it expires the request first
// when now is at or past its expiry, then applies apply and moves it to
// to, and records the change.
func (m *Manager) transition(ctx context.Context, id, actor string, now time.Time, to State, note string, apply func(*Request) error) (Request, error) {
	if now.IsZero() {
		return Request{}, provider.Invalid("now", now, "must be set")
	}
	var from State
	var expired bool
	got, err := m.store.Update(ctx, id, func(r *Request) error {
		from, expired = r.State, false
		if !r.State.Final() && !now.Before(r.ExpiresAt) {
			expired = true
			r.State, r.ClosedAt = Expired, now
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
		if errors.As(err, &te) && te.From == Expired {
			te.Expired = true
		}
		return Request{}, fmt.Errorf("approval: %s: %w", verb(to), err)
	}
	if expired {
		aerr := m.audit(ctx, got, safety.AuditApprovalExpired, SystemActor, from, now, "expired at "+got.ExpiresAt.Format(time.RFC3339))
		return got, errors.Join(fmt.Errorf("approval: %s: %w", verb(to), &TransitionError{ID: id, From: from, To: to, Expired: true}), aerr)
	}
	return got, m.audit(ctx, got, auditKind(to), actor, from, now, note)
}

func verb(s State) string {
	switch s {
	case Approved:
		return "approve"
	case Denied:
		return "deny"
	case Cancelled:
		return "cancel"
	case Executed:
		return "execute"
	}
	return string(s)
}

func auditKind(s State) safety.AuditKind {
	switch s {
	case Approved:
		return safety.AuditApprovalApproved
	case Denied:
		return safety.AuditApprovalDenied
	case Cancelled:
		return safety.AuditApprovalCancelled
	case Executed:
		return safety.AuditApprovalExecuted
	case Expired:
		return safety.AuditApprovalExpired
	}
	return safety.AuditApprovalRequested
}

// audit records one transition of r (now in r.State) with the auditor, if
// any. An error matches safety.ErrAudit: the transition was stored.
func (m *Manager) audit(ctx context.Context, r Request, kind safety.AuditKind, actor string, from State, now time.Time, reason string) error {
	if m.auditor == nil {
		return nil
	}
	err := m.auditor.Record(ctx, safety.AuditEvent{
		Time: now, Kind: kind, Actor: actor,
		ResourceID: r.Proposal.Resource.ID, Action: r.Proposal.Action, ProposalID: r.Proposal.ID,
		ApprovalID: r.ID, From: string(from), To: string(r.State), Risk: r.Risk, Reason: reason,
	})
	if err != nil {
		return fmt.Errorf("%w: %s of %q (the transition was stored): %w", safety.ErrAudit, kind, r.ID, err)
	}
	return nil
}

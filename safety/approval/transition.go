package approval

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// Expire moves every pending, approved or executing request whose expiry
// is at or before now to expired, recording each, and returns them. An
// executing request is one whose outcome was never reported (Complete or
// Release), as after a crash: its audit event says so. A request changed
// concurrently (approved, executed) is left to that change. Store and
// audit errors are joined (a failed listing of one state does not stop
// the others); the requests expired are returned with them.
func (m *Manager) Expire(ctx context.Context, now time.Time) ([]Request, error) {
	if err := m.made(); err != nil {
		return nil, err
	}
	var out []Request
	var errs []error
	for _, st := range []State{Pending, Approved, Executing} {
		reqs, err := m.store.List(ctx, Filter{State: st})
		if err != nil {
			errs = append(errs, fmt.Errorf("approval: expire: list %s: %w", st, err))
			continue
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
		if r == nil {
			return errNoRequest(id)
		}
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
	return got, true, m.audit(ctx, got, safety.AuditApprovalExpired, SystemActor, from, now, expiredNote(got, from))
}

// expiredNote is the reason of the audit event of r's expiry from from.
func expiredNote(r Request, from State) string {
	note := "expired at " + r.ExpiresAt.Format(time.RFC3339)
	if from == Executing {
		note += " while executing (claimed by " + r.ClaimedBy + " at " + r.ClaimedAt.Format(time.RFC3339) +
			"): its outcome was never reported with Complete or Release; the change may or may not have happened"
	}
	return note
}

// errNoRequest is the error of a broken Store whose Update called fn
// without a request.
func errNoRequest(id string) error {
	return fmt.Errorf("approval: the store's Update passed no request for %q", id)
}

// errSkip tells Store.Update to store nothing: the request is no longer
// due.
var errSkip = errors.New("skip")

// transition runs one checked state change: it expires the request first
// when now is at or past its expiry, then applies apply and moves it to
// to, and records the change.
func (m *Manager) transition(ctx context.Context, id, actor string, now time.Time, to State, note string, apply func(*Request) error) (Request, error) {
	return m.move(ctx, id, actor, now, step{to: to, kind: auditKind(to), verb: verb(to), lapses: true}, note, apply)
}

// step is one arrow of the state machine: the state it leads to, its
// audit kind, its verb in errors, whether a request at or past its
// expiry moves to expired instead, and whether it also leads from a
// request that expired while executing (a late report of its outcome).
type step struct {
	to     State
	kind   safety.AuditKind
	verb   string
	lapses bool
	late   bool
}

// move runs one checked state change: it expires the request first when
// st lapses and now is at or past its expiry, then applies apply, moves it
// to st.to and records the change as st.kind.
func (m *Manager) move(ctx context.Context, id, actor string, now time.Time, st step, note string, apply func(*Request) error) (Request, error) {
	if now.IsZero() {
		return Request{}, provider.Invalid("now", now, "must be set")
	}
	to := st.to
	var from State
	var expired bool
	got, err := m.store.Update(ctx, id, func(r *Request) error {
		if r == nil {
			return errNoRequest(id)
		}
		from, expired = r.State, false
		lapsed := st.lapses && !r.State.Final() && !now.Before(r.ExpiresAt)
		if lapsed || (st.kind == safety.AuditApprovalReleased && expiredExecuting(*r)) {
			// A Release after Expire swept the claim, its outcome
			// unreported, settles it as one at the expiry: the request
			// stays expired, closed at the sweep.
			expired = true
			if lapsed {
				r.State, r.ClosedAt = Expired, now
			}
			if st.kind == safety.AuditApprovalReleased {
				// The claimer reported that nothing changed: the claim is
				// settled, and no late Complete may say otherwise.
				r.ClaimedBy, r.ClaimedAt = "", time.Time{}
			}
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
		return Request{}, fmt.Errorf("approval: %s: %w", st.verb, err)
	}
	if from == Expired && !expired {
		note = "reported after the request expired while executing: " + note
	}
	if expired {
		note := expiredNote(got, from)
		if st.kind == safety.AuditApprovalReleased {
			note = "expired at " + got.ExpiresAt.Format(time.RFC3339) + "; released after it by " + actor + " (nothing was changed)"
		}
		aerr := m.audit(ctx, got, safety.AuditApprovalExpired, SystemActor, from, now, note)
		return got, errors.Join(fmt.Errorf("approval: %s: %w", st.verb, &TransitionError{ID: id, From: from, To: to, Expired: true}), aerr)
	}
	return got, m.audit(ctx, got, st.kind, actor, from, now, note)
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

// auditTimeout bounds the audit of a stored transition, which runs even
// when the caller's context has ended: the transition is in the store
// whether or not its caller is still there, and the shared trail must
// say who made it.
const auditTimeout = 30 * time.Second

// audit records one transition of r (now in r.State) with the auditor, if
// any, under ctx's values but not its end (see auditTimeout). An error
// matches safety.ErrAudit: the transition was stored.
func (m *Manager) audit(ctx context.Context, r Request, kind safety.AuditKind, actor string, from State, now time.Time, reason string) error {
	if m.auditor == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
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

package approval

import (
	"context"
	"fmt"
	"time"

	"github.com/idlescale/idlescale/safety"
)

// Claim takes the approval of request id for p at p.Now, right before the
// host carries out p (approved → executing, recorded as
// safety.AuditApprovalClaimed by p.Requester): from then on nobody else
// can claim or execute it. The host then reports the outcome: Complete
// when the change happened (or may have), Release when the provider says
// that nothing changed, so that the approval is not spent on a change that
// never happened. Errors are those of Execute; with safety.ErrAudit the
// claim was stored but not recorded, and the host should Release it and
// not act (a safety step that errors blocks the action).
func (m *Manager) Claim(ctx context.Context, id string, p safety.Proposal) (Request, error) {
	if err := m.made(); err != nil {
		return Request{}, err
	}
	if err := checkProposal(p); err != nil {
		return Request{}, fmt.Errorf("approval: claim %q: %w", id, err)
	}
	fp := p.Fingerprint()
	st := step{to: Executing, kind: safety.AuditApprovalClaimed, verb: "claim", lapses: true}
	return m.move(ctx, id, p.Requester, p.Now, st, "", func(r *Request) error {
		if r.State != Approved {
			return &TransitionError{ID: id, From: r.State, To: Executing}
		}
		if r.Fingerprint != fp {
			return mismatch(*r)
		}
		if err := notYetGranted(*r, p.Now); err != nil {
			return err
		}
		r.ClaimedBy, r.ClaimedAt = p.Requester, p.Now
		return nil
	})
}

// Complete records on behalf of by at now that the change claimed with
// Claim happened, or may have (the provider failed without saying that
// nothing changed): executing → executed, recorded as
// safety.AuditApprovalExecuted with note. The approval is spent. It
// completes even at or past the expiry, since the change started before
// it, and so even a request that Expire moved from executing to expired
// meanwhile (another replica's sweep, run before the claimer could
// report): expired → executed, its trail then saying that the outcome
// was reported after the expiry, where it said it was never reported.
// Errors: provider.ErrInvalid for a by that Approve refuses as an
// approver (empty once normalised, not UTF-8, a control character) or a
// zero now, ErrUnknown, ErrTransition when the request is not executing
// (never claimed, released, at or past the expiry too, or expired before
// it was claimed),
// safety.ErrAudit when the transition was stored but not recorded.
func (m *Manager) Complete(ctx context.Context, id, by string, now time.Time, note string) (Request, error) {
	st := step{to: Executed, kind: safety.AuditApprovalExecuted, verb: "complete", late: true}
	return m.settle(ctx, id, by, now, note, st, func(r *Request) { r.ClosedAt = now })
}

// Release gives back, on behalf of by at now, an approval claimed with
// Claim whose change did not happen: the provider said nothing changed
// (provider.ChangedNothing: throttled, not found, conflict, unsupported,
// invalid, denied), or the host did not act. The request is approved
// again (executing → approved, recorded as safety.AuditApprovalReleased
// with reason), so the next attempt needs no new approval. At or past the
// expiry it moves to expired instead (ErrExpired), its claim settled:
// nothing changed, and a late Complete is refused. So does a request that
// Expire moved from executing to expired before by could report (another
// replica's sweep): it stays expired, its claim settled, and its trail
// says nothing was changed. Errors as for Complete (provider.ErrInvalid
// names "by").
func (m *Manager) Release(ctx context.Context, id, by string, now time.Time, reason string) (Request, error) {
	st := step{to: Approved, kind: safety.AuditApprovalReleased, verb: "release", lapses: true}
	return m.settle(ctx, id, by, now, reason, st, func(r *Request) { r.ClaimedBy, r.ClaimedAt = "", time.Time{} })
}

// settle reports on behalf of by the outcome of the claim of request id:
// it moves the executing request along st, with apply's changes.
func (m *Manager) settle(ctx context.Context, id, by string, now time.Time, note string, st step, apply func(*Request)) (Request, error) {
	if err := m.made(); err != nil {
		return Request{}, err
	}
	if err := checkIdentity("by", by, st.verb+"s"); err != nil {
		return Request{}, err
	}
	return m.move(ctx, id, by, now, st, note, func(r *Request) error {
		if late := st.late && expiredExecuting(*r); r.State != Executing && !late {
			return &TransitionError{ID: id, From: r.State, To: st.to}
		}
		apply(r)
		return nil
	})
}

// expiredExecuting reports whether r expired while executing: claimed,
// never released (Release clears the claim, at or past the expiry too),
// and swept by Expire before its outcome was reported.
func expiredExecuting(r Request) bool {
	return r.State == Expired && r.ClaimedBy != ""
}

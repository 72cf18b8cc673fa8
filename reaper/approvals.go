package reaper

import (
	"context"
	"fmt"
	"time"

	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/approval"
)

// Approvals is the approval workflow the reaper drives when the Gate asks
// for a human's approval (see approval.State for the state machine). An
// approval is spent only with a change that happened: the reaper claims it
// right before acting, completes it when the provider accepted the action
// (or failed without saying that nothing changed, as the rate-limit budget
// is kept then), and releases it when the provider says nothing changed,
// so that the next run acts without asking a human again.
// *approval.Manager implements it; the reaper calls it only when executing
// (Config.Execute), except List, which dry runs use too to present a
// granted approval. Implementations must be safe for concurrent use; an
// error from any method fails the resource's pipeline (fail closed).
type Approvals interface {
	// Request stores a pending request for p, whose decision d (from the
	// Gate's Check of exactly p) requires approval; reason is added to the
	// decision's. The reaper asks once per proposal: not while a request
	// for it is pending, and not again while a denied one is unexpired.
	// An error returned with a request that has an ID says that the
	// request was stored anyway (safety.ErrAudit: stored but not
	// audited): the record fails and names it.
	Request(ctx context.Context, p safety.Proposal, d safety.Decision, reason string) (approval.Request, error)
	// List returns the requests matching f (the reaper filters by
	// ResourceID), sorted by CreatedAt then ID.
	List(ctx context.Context, f approval.Filter) ([]approval.Request, error)
	// Claim takes the approved request id for p right before the reaper
	// acts (approved → executing), so that nobody else uses it; an error
	// means p is not carried out (and a claim that was stored anyway is
	// released).
	Claim(ctx context.Context, id string, p safety.Proposal) (approval.Request, error)
	// Complete spends a claimed approval once the provider accepted the
	// action, or failed without saying that nothing changed (executing →
	// executed).
	Complete(ctx context.Context, id, by string, now time.Time, note string) (approval.Request, error)
	// Release gives a claimed approval back when the action was not
	// carried out: the provider said nothing changed, or the reaper did
	// not act (executing → approved).
	Release(ctx context.Context, id, by string, now time.Time, reason string) (approval.Request, error)
	// Expire moves the requests whose expiry is at or before now to
	// expired; the reaper calls it at the start of every executing run.
	Expire(ctx context.Context, now time.Time) ([]approval.Request, error)
}

var _ Approvals = (*approval.Manager)(nil)

// expireApprovals expires stale approval requests at the start of an
// executing run. A failure is kept on the report and the run goes on.
func (r *Reaper) expireApprovals(ctx context.Context, now time.Time, rep *Report) {
	if r.approvals == nil || !r.cfg.Execute {
		return
	}
	if _, err := r.approvals.Expire(ctx, now); err != nil {
		rep.fail(fmt.Errorf("reaper: expire approvals: %w", err))
		r.log.WarnContext(ctx, "reaper: expiring approvals failed", "err", err)
	}
}

// findApproval looks up the approval requests of the proposal's resource.
// A granted one bound to p is presented (p.ApprovalID); a pending one, or
// one granted after p.Now (it does not approve p, judged before it), is
// returned so that no second request is made (the newest of several: the
// latest expiry, the one an approver reads last); a denied one, or one that
// is executing (claimed by another run, or by one that stopped before it
// reported the outcome), that has not expired stops the pipeline (stop =
// true), as does a store error.
func (r *Reaper) findApproval(ctx context.Context, rec *Record, p *safety.Proposal) (pendingID string, stop bool) {
	if r.approvals == nil {
		return "", false
	}
	reqs, err := r.approvals.List(ctx, approval.Filter{ResourceID: p.Resource.ID})
	if err != nil && stopped(ctx, err) {
		runEnded(rec, ctx.Err()) // cut short by the run's end, not failed
		return "", true
	}
	if err != nil {
		rec.fail(StageSafety, fmt.Errorf("list approvals: %w", err))
		rec.Outcome, rec.Reason = OutcomeFailed, "reading the approval store failed"
		return "", true
	}
	fp := p.Fingerprint()
	for i := len(reqs) - 1; i >= 0; i-- { // newest first
		q := reqs[i]
		if q.Fingerprint != fp || !p.Now.Before(q.ExpiresAt) {
			continue
		}
		if len(p.Resource.ChangedFrom(q.Proposal.Resource)) > 0 {
			// Approved (or denied) for the resource as it was: protected,
			// retagged or restarted since, it needs a decision of its own.
			continue
		}
		switch q.State {
		case approval.Approved:
			if p.Now.Before(q.DecidedAt) || p.Now.Before(q.CreatedAt) {
				// Granted after the time p is judged at (in the run's
				// first minute, whose checks are made at its now): it
				// did not exist then, so it does not approve p. It is
				// waited for, as a pending one, not asked for again.
				if pendingID == "" {
					pendingID = q.ID
				}
				continue
			}
			p.ApprovalID = q.ID
			return "", false
		case approval.Pending:
			if pendingID == "" {
				pendingID = q.ID
			}
		case approval.Denied:
			if pendingID == "" {
				rec.ApprovalID = q.ID
				rec.Outcome = OutcomeBlocked
				rec.Reason = "approval " + q.ID + " denied by " + q.DecidedBy + ": not asking again before " +
					q.ExpiresAt.Format(time.RFC3339)
				return "", true
			}
		case approval.Executing:
			// Claimed and not reported: another run is acting on it, or
			// one stopped before it knew the outcome. Acting again could
			// do the change twice; asking again could approve it twice.
			rec.ApprovalID = q.ID
			rec.Outcome = OutcomeBlocked
			rec.Reason = "approval " + q.ID + " is executing since " + q.ClaimedAt.Format(time.RFC3339) +
				" (claimed by " + q.ClaimedBy + ") with no outcome reported: not acting or asking again before " +
				q.ExpiresAt.Format(time.RFC3339)
			return "", true
		}
	}
	return pendingID, false
}

// needsApproval records a proposal the Gate sent for approval: it names the
// approval presented (and not accepted) or pending, or, when executing
// with Approvals, requests one.
func (r *Reaper) needsApproval(ctx context.Context, rec *Record, p safety.Proposal, d safety.Decision, pendingID string) {
	rec.Outcome, rec.Reason = OutcomeNeedsApproval, d.Summary()
	switch {
	case p.ApprovalID != "":
		// A granted approval the gate did not accept (an engine without
		// WithApprovals): never ask again for it.
		rec.ApprovalID = p.ApprovalID
		rec.Reason += "; approval " + p.ApprovalID + " was presented but not accepted by the engine"
	case pendingID != "":
		rec.ApprovalID = pendingID
	case r.approvals != nil && r.cfg.Execute:
		// The verdict's state, as the proposal's Source says it: a
		// downsize comes from a not_idle verdict.
		req, err := r.approvals.Request(ctx, p, d, rec.Verdict.State.String()+": "+rec.Reason)
		// A request stored but not audited (safety.ErrAudit) comes back
		// with the error: the record names it, so that some trail does.
		rec.ApprovalID = req.ID
		if err != nil {
			rec.fail(StageApproval, err)
			rec.Outcome = OutcomeFailed
		}
	}
}

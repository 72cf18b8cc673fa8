package reaper

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/safety"
)

// act carries out a proposal the Gate allowed: reserve, claim the
// approval, call the provider, then spend the budget and the approval
// together with a change that happened (or may have), or give both back
// when the provider says nothing changed; record the history. It counts
// in run.planned (Config.MaxActions) only a change that happened or may
// have.
// It reports whether the change happened or may have, so that
// verification says which.
func (r *Reaper) act(ctx context.Context, now time.Time, rec *Record, p safety.Proposal, d safety.Decision, run *runState) bool {
	if d.Approved && (r.approvals == nil || p.ApprovalID == "") {
		// A host Gate approved without an approval to spend: nothing
		// would record its use, so it could be used again.
		rec.fail(StageApproval, provider.Invalid("approval_id", p.ApprovalID,
			"the gate approved the proposal, but no approval was presented (WithApprovals and a claimed approval are required)"))
		rec.Outcome, rec.Reason = OutcomeFailed, "approved without an approval to claim: not acting"
		return false
	}
	resv, ok := r.reserve(ctx, now, rec, p)
	if !ok {
		return false
	}
	if d.Approved {
		if _, err := r.approvals.Claim(ctx, p.ApprovalID, p); err != nil {
			r.refund(ctx, now, rec, resv)
			rec.fail(StageApproval, err)
			rec.Outcome, rec.Reason = OutcomeFailed, "claiming approval "+p.ApprovalID+" failed"
			if errors.Is(err, safety.ErrAudit) {
				// Claimed but not recorded: give it back, do not act.
				r.release(ctx, now, rec, p, "claim not audited: not acting")
			}
			return false
		}
	}
	if err := ctx.Err(); err != nil {
		// The run ends (the host stops): give everything back untouched.
		r.refund(ctx, now, rec, resv)
		if d.Approved {
			r.release(ctx, now, rec, p, "the run ended before "+string(p.Action)+": nothing changed")
		}
		rec.fail(StageAct, err)
		rec.Outcome, rec.Reason = OutcomeFailed, "the run ended before "+string(p.Action)+": not acted"
		return false
	}
	err := r.call(ctx, p)
	if provider.ChangedNothing(err) {
		// By the provider contract nothing changed: the budget is
		// refunded and a claimed approval released. Other errors keep
		// the budget consumed and spend the approval: they may be spent,
		// never exceeded or used twice.
		r.refund(ctx, now, rec, resv)
		if d.Approved {
			r.release(ctx, now, rec, p, string(p.Action)+" changed nothing: "+err.Error())
		}
		rec.fail(StageAct, err)
		rec.Outcome, rec.Reason = OutcomeFailed, string(p.Action)+" failed"
		switch {
		case errors.Is(err, provider.ErrDenied):
			// Fails the same way at every run until someone grants the
			// permission: say so, rather than look like a passing fault.
			rec.Reason = string(p.Action) + " denied by the provider (a missing permission, refused credentials or a policy of the backend): nothing changed"
		case errors.Is(err, provider.ErrThrottled):
			// The backend asks for fewer calls (its retries spent): the
			// rest of the run waits for the next, rather than call it
			// once per candidate.
			run.throttled = p.Resource.ID
			rec.Reason = string(p.Action) + " throttled by the provider: nothing changed; the run's other actions wait for the next run"
		}
		return false
	}
	// Config.MaxActions counts the changes that happened or may have: a
	// call not made, or one that changed nothing, leaves the run's budget
	// to the next candidate, as it refunds the Reserver's.
	run.planned++
	rec.ActedAt = r.clock.Now()
	rec.MonthlySavings = rec.Verdict.MonthlySavings
	if err != nil {
		// The change may have happened (a timeout after the provider
		// took it): spend the approval and the budget, count it against
		// the fleet's limits, and let verification say whether it did.
		if d.Approved {
			r.complete(ctx, now, rec, p, string(p.Action)+" failed, the change may have happened: "+err.Error())
		}
		rec.fail(StageAct, err)
		rec.Outcome, rec.Reason = OutcomeUnverified, string(p.Action)+" failed, the change may have happened; verifying"
		r.remember(now, rec, p, run)
		r.log.WarnContext(ctx, "reaper: action failed, may have happened", "resource", p.Resource.ID, "action", p.Action,
			"approval", p.ApprovalID, "err", err)
		return true
	}
	if d.Approved {
		r.complete(ctx, now, rec, p, string(p.Action)+" accepted")
	}
	rec.Outcome, rec.Reason = OutcomeUnverified, string(p.Action)+" accepted; verifying"
	r.remember(now, rec, p, run)
	r.log.InfoContext(ctx, "reaper: acted", "resource", p.Resource.ID, "action", p.Action, "approval", p.ApprovalID)
	return true
}

// settleTimeout bounds the bookkeeping after a provider call (refunds,
// approvals' outcomes), which runs even when the run's context has ended:
// an approval claimed and left executing blocks its resource until it
// expires.
const settleTimeout = 30 * time.Second

// settling returns the context for that bookkeeping: ctx's values, not
// its end, and settleTimeout.
func settling(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
}

// reserve reserves one Down event of one unit for p's resource, when a
// Reserver is wired. ok is false when the reservation was denied or
// failed (the record says which); a reservation granted together with an
// error, or granting no unit, is refunded. resv is nil when there is no
// Reserver.
func (r *Reaper) reserve(ctx context.Context, now time.Time, rec *Record, p safety.Proposal) (resv *ratelimit.Reservation, ok bool) {
	if r.reserver == nil {
		return nil, true
	}
	got, err := r.reserver.ReserveAt(ctx, now, ratelimit.Request{Target: p.Resource.ID, Direction: ratelimit.Down, Units: 1})
	rec.RateLimit = &got
	switch {
	case err != nil:
		rec.fail(StageRateLimit, err)
		rec.Outcome, rec.Reason = OutcomeFailed, "rate limiter failed"
		if got.OK() {
			// Granted, then a later step of the Reserver's failed (a
			// host's wrapper): nothing will be done with it, so it must
			// not count against the budget.
			r.refund(ctx, now, rec, &got)
		}
		return nil, false
	case !got.OK():
		rec.Outcome, rec.Reason = OutcomeRateLimited, got.String()
		return nil, false
	case got.Granted < 1:
		// Granted, but not the one unit an action changes (Clamped to
		// 0): the Reserver contradicts itself. Fail closed, and give it
		// back, since nothing will be done.
		rec.fail(StageRateLimit, provider.Invalid("reservation.granted", got.Granted,
			"a reservation the reaper acts on must grant the 1 unit asked for ("+got.String()+")"))
		rec.Outcome, rec.Reason = OutcomeFailed, "the rate limiter granted no unit"
		r.refund(ctx, now, rec, &got)
		return nil, false
	}
	return &got, true
}

// refund gives resv back to the Reserver; a nil resv (no Reserver) needs
// nothing. A failed refund is kept on the record.
func (r *Reaper) refund(ctx context.Context, now time.Time, rec *Record, resv *ratelimit.Reservation) {
	if resv == nil {
		return
	}
	ctx, cancel := settling(ctx)
	defer cancel()
	if err := r.reserver.CancelAt(ctx, now, *resv); err != nil {
		rec.fail(StageRateLimit, fmt.Errorf("refund: %w", err))
	}
}

// complete spends p's claimed approval: the change happened, or may
// have. A failure is kept on the record; the approval then stays
// executing until its expiry (never used twice).
func (r *Reaper) complete(ctx context.Context, now time.Time, rec *Record, p safety.Proposal, note string) {
	ctx, cancel := settling(ctx)
	defer cancel()
	if _, err := r.approvals.Complete(ctx, p.ApprovalID, r.cfg.Requester, now, note); err != nil {
		rec.fail(StageApproval, fmt.Errorf("complete approval %s: %w", p.ApprovalID, err))
	}
}

// release gives p's claimed approval back: nothing was changed. A
// failure is kept on the record; the approval then stays executing until
// its expiry (never used twice).
func (r *Reaper) release(ctx context.Context, now time.Time, rec *Record, p safety.Proposal, reason string) {
	ctx, cancel := settling(ctx)
	defer cancel()
	if _, err := r.approvals.Release(ctx, p.ApprovalID, r.cfg.Requester, now, reason); err != nil {
		rec.fail(StageApproval, fmt.Errorf("release approval %s: %w", p.ApprovalID, err))
	}
}

// call asks the provider to carry out p.
func (r *Reaper) call(ctx context.Context, p safety.Proposal) error {
	switch p.Action {
	case safety.ActionStop:
		return r.fleet.Actuator.Stop(ctx, p.Resource.ID)
	case safety.ActionTerminate:
		return r.fleet.Actuator.Terminate(ctx, p.Resource.ID)
	default: // resize: Select chooses no other action
		return r.fleet.Resizer.Resize(ctx, p.Resource.ID, p.TargetSize)
	}
}

// remember records an action that happened, or may have, in the history
// (WithHistory), under the proposal's fleet or, without one, its
// resource. A failure is kept on the record, and the action counted in
// run.unrecorded, so that the rest of the run's proposals of the fleet
// count it (Proposal.FleetPlanned); the action is not undone.
func (r *Reaper) remember(now time.Time, rec *Record, p safety.Proposal, run *runState) {
	if r.history == nil {
		return
	}
	fleet := p.Fleet
	if fleet == "" {
		fleet = p.Resource.ID
	}
	if err := r.history.Record(fleet, now, 1); err != nil {
		rec.fail(StageRecord, err)
		if p.Fleet != "" {
			run.unrecorded[p.Fleet]++
		}
	}
}

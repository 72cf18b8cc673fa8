package reaper

import (
	"context"
	"errors"
	"fmt"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// verify polls the inventory on the clock until every record reached its
// target state, Config.VerifyTimeout passed or ctx ended.
func (r *Reaper) verify(ctx context.Context, recs []*Record) {
	if len(recs) == 0 {
		return
	}
	deadline := r.clock.Now().Add(r.cfg.VerifyTimeout)
	pending := recs
	for {
		next := pending[:0]
		for _, rec := range pending {
			if r.reached(ctx, rec) {
				rec.Verified, rec.VerifiedAt = true, r.clock.Now()
				rec.Outcome, rec.Reason = OutcomeActed, string(rec.Action)+" verified"
				if rec.failedAt(StageAct) {
					rec.Reason += " (the provider's call failed, but the change happened)"
				}
				continue
			}
			next = append(next, rec)
		}
		pending = next
		if len(pending) == 0 {
			return
		}
		left := deadline.Sub(r.clock.Now())
		if left <= 0 || ctx.Err() != nil {
			cause := ctx.Err()
			if cause == nil {
				cause = fmt.Errorf("%w within %v", ErrNotVerified, r.cfg.VerifyTimeout)
			}
			for _, rec := range pending {
				rec.fail(StageVerify, cause)
				how := " accepted"
				if rec.failedAt(StageAct) {
					how = " failed, the change may have happened,"
				}
				rec.Reason = string(rec.Action) + how + " but not verified (state " + string(rec.FinalState) + ")"
			}
			return
		}
		select {
		case <-ctx.Done():
		case <-r.clock.After(min(r.cfg.VerifyInterval, left)):
		}
	}
}

// reached polls one record's resource and reports whether it is in the
// action's target state. Poll errors are kept on the record; a terminated
// resource that is no longer found counts as terminated.
func (r *Reaper) reached(ctx context.Context, rec *Record) bool {
	res, err := r.fleet.Inventory.Get(ctx, rec.ResourceID)
	if err != nil {
		if rec.Action == safety.ActionTerminate && errors.Is(err, provider.ErrNotFound) {
			rec.FinalState = provider.StateTerminated
			return true
		}
		if ctx.Err() == nil {
			rec.fail(StageVerify, err)
		}
		return false
	}
	rec.FinalState = res.State
	switch rec.Action {
	case safety.ActionStop:
		return res.State == provider.StateStopped
	case safety.ActionTerminate:
		return res.State == provider.StateTerminated
	default:
		return sizeMatches(res.Size, rec.TargetSize)
	}
}

// sizeMatches reports whether got has every field that want sets, but
// the vCPUs and memory of an instance type: the type decides them, and a
// driver may report the type alone (the AWS driver does), as the scaling
// engine verifies a resize.
func sizeMatches(got, want provider.Size) bool {
	typed := want.InstanceType != ""
	return (!typed || got.InstanceType == want.InstanceType) &&
		(typed || want.VCPU == 0 || got.VCPU == want.VCPU) &&
		(typed || want.MemoryMiB == 0 || got.MemoryMiB == want.MemoryMiB) &&
		(want.Timeout == 0 || got.Timeout == want.Timeout)
}

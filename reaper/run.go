package reaper

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/approval"
)

// RunOnce runs the pipeline once, deciding for now:
//
//  1. list the resources (Config.Filter) and run the detector over them;
//  2. keep the resources whose verdict recommends an allowed action (stop
//     and terminate need an idle verdict, a downsize a confident not-idle
//     one) with at least Config.MinConfidence, re-read each from the
//     inventory, skip those not in a state the action applies to, and defer
//     those beyond Config.MaxActions;
//  3. ask the safety engine (Engine.Evaluate in a dry run, which records
//     nothing; Engine.Check otherwise), presenting a granted approval when
//     one is bound to the exact proposal, and request an approval when one
//     is required;
//  4. when executing: reserve rate-limit budget, consume the approval once
//     (approval.Manager.Execute), act, record the action in the history;
//  5. poll the inventory on the clock until every action reached its target
//     state or Config.VerifyTimeout passed.
//
// One failing resource never stops the run: each error is kept on its
// Record as a *ResourceError, and a resource whose safety check or provider
// call fails is not acted on (fail closed). RunOnce returns an error only
// when now is zero (provider.ErrInvalid), the inventory listing or the
// detector scan fails, or ctx ends (ctx.Err(), with the partial report).
// It starts no goroutine that outlives it.
func (r *Reaper) RunOnce(ctx context.Context, now time.Time) (Report, error) {
	rep := Report{Now: now, DryRun: !r.cfg.Execute}
	if now.IsZero() {
		return rep, provider.Invalid("now", now, "is required")
	}
	listed, err := r.fleet.Inventory.List(ctx, r.cfg.Filter)
	if err != nil {
		return rep, fmt.Errorf("reaper: list resources: %w", err)
	}
	if r.approvals != nil && r.cfg.Execute {
		if _, err := r.approvals.Expire(ctx, now); err != nil {
			rep.Errors = append(rep.Errors, fmt.Errorf("reaper: expire approvals: %w", err))
			r.log.WarnContext(ctx, "reaper: expiring approvals failed", "err", err)
		}
	}
	scan, err := detector.Scan(ctx, detector.Fleet{
		Inventory: snapshot{resources: listed, inv: r.fleet.Inventory},
		Metrics:   r.fleet.Metrics,
		Activity:  r.fleet.Activity,
	}, r.detector, detector.ScanConfig{Now: now})
	if err != nil {
		return rep, fmt.Errorf("reaper: scan: %w", err)
	}

	rep.Records = make([]Record, len(listed))
	index := make(map[string]int, len(listed))
	fleets := map[string]int{}
	for i, res := range listed {
		rep.Records[i] = Record{ResourceID: res.ID, Resource: res, DryRun: rep.DryRun}
		index[res.ID] = i
		if name := r.fleetOf(res); name != "" {
			fleets[name]++
		}
	}
	for i := range scan.Verdicts {
		if j, ok := index[scan.Verdicts[i].ResourceID]; ok {
			rep.Records[j].Verdict = &scan.Verdicts[i]
		}
	}
	for _, e := range scan.Errors {
		if j, ok := index[e.ResourceID]; ok {
			rep.Records[j].fail(StageDetect, e)
		}
	}

	planned := 0
	var acted []*Record
	for i := range rep.Records {
		rec := &rep.Records[i]
		if r.process(ctx, now, rec, fleets, &planned) {
			acted = append(acted, rec)
		}
	}
	r.verify(ctx, acted)

	for _, rec := range rep.Records {
		rep.Totals.add(rec)
		r.log.DebugContext(ctx, "reaper: record", "resource", rec.ResourceID, "outcome", rec.Outcome, "reason", rec.Reason)
		if r.observer != nil {
			r.observer(rec)
		}
	}
	rep.Totals.Resources = len(rep.Records)
	return rep, ctx.Err()
}

// Run calls RunOnce at the clock's now, and again Config.Interval (on the
// clock) after each run ends, until ctx ends; it then returns ctx.Err(). A failed run is logged
// and passed to the report observer, and the loop goes on. Run starts no
// goroutine.
func (r *Reaper) Run(ctx context.Context) error {
	for {
		rep, err := r.RunOnce(ctx, r.clock.Now())
		if err != nil && ctx.Err() == nil {
			r.log.ErrorContext(ctx, "reaper: run failed", "err", err)
		} else {
			r.log.InfoContext(ctx, "reaper: run done", "dry_run", rep.DryRun, "resources", rep.Totals.Resources,
				"acted", rep.Totals.Acted, "would_act", rep.Totals.WouldAct, "errors", rep.Totals.Errors)
		}
		if r.reportObserver != nil {
			r.reportObserver(rep, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.clock.After(r.cfg.Interval):
		}
	}
}

// fleetOf returns the fleet name of res under Config.FleetTag.
func (r *Reaper) fleetOf(res provider.Resource) string {
	if r.cfg.FleetTag == "" {
		return ""
	}
	return res.Tags[r.cfg.FleetTag]
}

// safetyAction maps a detector action to the safety action that carries it
// out; ok is false for actions the reaper does not carry out.
func safetyAction(a detector.Action) (safety.Action, bool) {
	switch a {
	case detector.ActionStop:
		return safety.ActionStop, true
	case detector.ActionTerminate:
		return safety.ActionTerminate, true
	case detector.ActionDownsize:
		return safety.ActionResize, true
	}
	return "", false
}

// applies reports whether action makes sense for a resource in state s.
func applies(action safety.Action, s provider.State) bool {
	switch action {
	case safety.ActionStop:
		return s == provider.StateRunning
	case safety.ActionTerminate:
		return s != provider.StateTerminated
	default: // resize
		return s == provider.StateRunning || s == provider.StateStopped
	}
}

// process takes one record through detection, safety, the rate limit and
// the action. It reports whether an action was carried out (and must be
// verified).
func (r *Reaper) process(ctx context.Context, now time.Time, rec *Record, fleets map[string]int, planned *int) bool {
	v := rec.Verdict
	switch {
	case v == nil:
		rec.Outcome, rec.Reason = OutcomeFailed, "no verdict: detection failed"
		return false
	case v.Action == detector.ActionNone:
		rec.Outcome, rec.Reason = OutcomeSkipped, "verdict "+v.State.String()+", no action recommended (confidence "+ftoa(v.Confidence)+")"
		return false
	case v.State != detector.Idle && v.Action != detector.ActionDownsize:
		// Stop and terminate need an idle verdict; a downsize comes with a
		// confident not-idle one.
		rec.Outcome, rec.Reason = OutcomeSkipped, "verdict "+v.State.String()+": not idle"
		return false
	case v.Confidence < r.cfg.MinConfidence:
		rec.Outcome, rec.Reason = OutcomeSkipped, "confidence "+ftoa(v.Confidence)+" below "+ftoa(r.cfg.MinConfidence)
		return false
	}
	action, ok := safetyAction(v.Action)
	if !ok {
		rec.Outcome, rec.Reason = OutcomeSkipped, "action "+string(v.Action)+" is not carried out by the reaper"
		return false
	}
	if !r.cfg.allows(v.Action) {
		rec.Outcome, rec.Reason = OutcomeSkipped, "action "+string(v.Action)+" not allowed by config"
		return false
	}
	rec.Action = action
	res, err := r.fleet.Inventory.Get(ctx, rec.ResourceID)
	if err != nil {
		rec.fail(StageInventory, err)
		rec.Outcome, rec.Reason = OutcomeFailed, "re-reading the resource failed"
		return false
	}
	if !applies(action, res.State) {
		rec.Outcome, rec.Reason = OutcomeSkipped, "state "+string(res.State)+": nothing to "+string(action)
		return false
	}
	p := safety.Proposal{
		ID:        "reaper:" + res.ID,
		Action:    action,
		Resource:  res,
		Requester: r.cfg.Requester,
		Source:    "detector: idle, confidence " + ftoa(v.Confidence),
		Reason:    strings.Join(v.Explain(), "; "),
		Now:       now,
	}
	if name := r.fleetOf(res); name != "" {
		p.Fleet, p.FleetSize = name, fleets[name]
	}
	if action == safety.ActionResize {
		size, err := r.sizer.TargetSize(ctx, res)
		if err == nil {
			err = size.ValidateFor(res.Kind)
		}
		if err != nil {
			rec.fail(StageSize, err)
			rec.Outcome, rec.Reason = OutcomeFailed, "choosing the target size failed"
			return false
		}
		p.CurrentSize, p.TargetSize, rec.TargetSize = res.Size, size, size
	}
	if *planned >= r.cfg.MaxActions {
		rec.Outcome, rec.Reason = OutcomeDeferred, "max_actions "+strconv.Itoa(r.cfg.MaxActions)+" reached in this run"
		return false
	}

	pendingID, stop := r.findApproval(ctx, rec, &p)
	if stop {
		return false
	}
	d, err := r.decide(ctx, p)
	rec.Decision = &d
	if rules := d.BlockingRules(); len(rules) > 0 {
		rec.BlockedBy = rules
	}
	switch {
	case err == nil:
	case errors.Is(err, safety.ErrApprovalRequired):
		rec.Outcome, rec.Reason = OutcomeNeedsApproval, d.Summary()
		switch {
		case p.ApprovalID != "":
			// A granted approval the engine did not accept (an engine
			// without WithApprovals): never ask again for it.
			rec.ApprovalID = p.ApprovalID
			rec.Reason += "; approval " + p.ApprovalID + " was presented but not accepted by the engine"
		case pendingID != "":
			rec.ApprovalID = pendingID
		case r.approvals != nil && r.cfg.Execute:
			req, err := r.approvals.Request(ctx, p, d, "idle: "+rec.Reason)
			if err != nil {
				rec.fail(StageApproval, err)
				rec.Outcome = OutcomeFailed
				return false
			}
			rec.ApprovalID = req.ID
		}
		return false
	default:
		rec.Outcome, rec.Reason = OutcomeBlocked, d.Summary()
		if errors.Is(err, safety.ErrRuleFailed) || errors.Is(err, provider.ErrInvalid) ||
			errors.Is(err, safety.ErrAudit) || ctx.Err() != nil {
			rec.fail(StageSafety, err)
		}
		return false
	}
	if d.Approved {
		rec.ApprovalID = p.ApprovalID
	}
	if !r.cfg.Execute {
		*planned++
		rec.Outcome, rec.Reason = OutcomeWouldAct, "dry run: would "+string(action)
		rec.MonthlySavings = v.MonthlySavings
		return false
	}
	return r.act(ctx, now, rec, p, d, planned)
}

// decide asks the engine: Evaluate (records nothing) in a dry run, Check
// otherwise. A dry run whose context has ended fails even when the engine
// allowed the proposal.
func (r *Reaper) decide(ctx context.Context, p safety.Proposal) (safety.Decision, error) {
	if r.cfg.Execute {
		return r.engine.Check(ctx, p)
	}
	d, err := r.engine.Evaluate(ctx, p)
	if cerr := ctx.Err(); cerr != nil {
		return d, errors.Join(err, cerr)
	}
	return d, err
}

// findApproval looks up the approval requests of the proposal's resource.
// A granted one bound to p is presented (p.ApprovalID); a pending one is
// returned so that no second request is made; a denied one that has not
// expired stops the pipeline (stop = true), as does a store error.
func (r *Reaper) findApproval(ctx context.Context, rec *Record, p *safety.Proposal) (pendingID string, stop bool) {
	if r.approvals == nil {
		return "", false
	}
	reqs, err := r.approvalStore.List(ctx, approval.Filter{ResourceID: p.Resource.ID})
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
		switch q.State {
		case approval.Approved:
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
		}
	}
	return pendingID, false
}

// act carries out an allowed proposal: rate limit, approval, provider call,
// history. It reports whether the provider accepted the action.
func (r *Reaper) act(ctx context.Context, now time.Time, rec *Record, p safety.Proposal, d safety.Decision, planned *int) bool {
	var resv ratelimit.Reservation
	if r.limiter != nil {
		var err error
		resv, err = r.limiter.ReserveAt(ctx, now, ratelimit.Request{Target: p.Resource.ID, Direction: ratelimit.Down, Units: 1})
		rec.RateLimit = &resv
		if err != nil {
			rec.fail(StageRateLimit, err)
			rec.Outcome, rec.Reason = OutcomeFailed, "rate limiter failed"
			return false
		}
		if !resv.OK() {
			rec.Outcome, rec.Reason = OutcomeRateLimited, resv.String()
			return false
		}
	}
	*planned++
	refund := func() {
		if r.limiter == nil {
			return
		}
		if err := r.limiter.CancelAt(ctx, now, resv); err != nil {
			rec.fail(StageRateLimit, fmt.Errorf("refund: %w", err))
		}
	}
	if d.Approved {
		if _, err := r.approvals.Execute(ctx, p.ApprovalID, p); err != nil {
			refund()
			rec.fail(StageApproval, err)
			rec.Outcome, rec.Reason = OutcomeFailed, "consuming approval "+p.ApprovalID+" failed"
			return false
		}
	}
	var err error
	switch p.Action {
	case safety.ActionStop:
		err = r.fleet.Actuator.Stop(ctx, p.Resource.ID)
	case safety.ActionTerminate:
		err = r.fleet.Actuator.Terminate(ctx, p.Resource.ID)
	case safety.ActionResize:
		err = r.fleet.Resizer.Resize(ctx, p.Resource.ID, p.TargetSize)
	}
	if err != nil {
		if untouched(err) {
			refund()
		}
		rec.fail(StageAct, err)
		rec.Outcome, rec.Reason = OutcomeFailed, string(p.Action)+" failed"
		return false
	}
	rec.ActedAt = r.clock.Now()
	rec.MonthlySavings = rec.Verdict.MonthlySavings
	rec.Outcome, rec.Reason = OutcomeUnverified, string(p.Action)+" accepted; verifying"
	if r.history != nil {
		fleet := p.Fleet
		if fleet == "" {
			fleet = p.Resource.ID
		}
		if err := r.history.Record(fleet, now, 1); err != nil {
			rec.fail(StageRecord, err)
		}
	}
	r.log.InfoContext(ctx, "reaper: acted", "resource", p.Resource.ID, "action", p.Action, "approval", p.ApprovalID)
	return true
}

// untouched reports whether a provider error means, by the provider
// contract, that nothing was changed, so the rate-limit budget is refunded.
// Other errors keep the budget consumed: it may be spent, never exceeded.
func untouched(err error) bool {
	for _, e := range []error{provider.ErrThrottled, provider.ErrNotFound, provider.ErrConflict,
		provider.ErrUnsupported, provider.ErrInvalid} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

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
				rec.Reason = string(rec.Action) + " accepted but not verified (state " + string(rec.FinalState) + ")"
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

// sizeMatches reports whether got has every field that want sets.
func sizeMatches(got, want provider.Size) bool {
	return (want.InstanceType == "" || got.InstanceType == want.InstanceType) &&
		(want.VCPU == 0 || got.VCPU == want.VCPU) &&
		(want.MemoryMiB == 0 || got.MemoryMiB == want.MemoryMiB) &&
		(want.Timeout == 0 || got.Timeout == want.Timeout)
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

// snapshot serves the resources listed at the start of a run to the
// detector's Scan, so that the scan and the pipeline see the same fleet.
type snapshot struct {
	resources []provider.Resource
	inv       provider.Inventory
}

var _ provider.Inventory = snapshot{}

// List returns copies of the listed resources that match f.
func (s snapshot) List(ctx context.Context, f provider.Filter) ([]provider.Resource, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]provider.Resource, 0, len(s.resources))
	for _, r := range s.resources {
		if f.Match(r) {
			out = append(out, r.Clone())
		}
	}
	return out, nil
}

// Get reads the resource from the inventory.
func (s snapshot) Get(ctx context.Context, id string) (provider.Resource, error) {
	return s.inv.Get(ctx, id)
}

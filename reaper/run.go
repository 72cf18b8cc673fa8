package reaper

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// RunOnce runs the pipeline once, deciding for now. Its phases:
//
//  1. detect: list the resources (Config.Filter) and run the detector
//     over them;
//  2. select: keep the resources Select chooses (an allowed action
//     recommended with at least Config.MinConfidence), re-read each from
//     the inventory, skip those not in a state the action applies to, those
//     changed since they were listed and, for a stop or terminate, those
//     with activity since now (read again for the time the run has taken,
//     and at least the detector's quiet period: see detector.Recheck),
//     for a downsize a group's (a lower capacity, not a resize) and those
//     that already have the size the Sizer chose,
//     and defer those beyond Config.MaxActions;
//  3. approve and gate: present a granted approval when one is bound to
//     the exact proposal, ask the Gate (Gate.Evaluate in a dry run, which
//     records nothing, with the run's would-act decisions in the fleet as
//     Proposal.FleetPlanned; Gate.Check otherwise), and request an
//     approval when the Gate requires one;
//  4. when executing: reserve rate-limit budget (Reserver), claim the
//     approval (Approvals.Claim), act, then complete the approval, or
//     release it and refund the budget when the provider says nothing
//     changed; record the action in the history;
//  5. verify: poll the inventory on the clock until every action reached
//     its target state or Config.VerifyTimeout passed;
//  6. record: count the records and pass each to the Observer.
//
// One failing resource never stops the run: each error is kept on its
// Record as a *ResourceError, and a resource whose Gate check fails is
// not acted on (fail closed). A provider call that fails without saying
// that nothing changed may have acted: it counts in the history and is
// verified like an accepted one. A resource ID the inventory
// lists more than once gets one failed record whose error
// (provider.ErrInvalid, StageInventory) names the ID; it is neither
// detected nor acted on, since its copies may disagree, nor is one that
// provider.Resource.Validate refuses (a cost of NaN, an unknown state):
// its record fails at StageInventory with the *provider.InvalidError
// naming the field ("resource.hourly_cost"). A verdict whose
// Confidence is outside [0, 1] or not a number, whose MonthlySavings is
// not a finite number ≥ 0, or with another figure JSON cannot hold (a
// host's detector's NaN or infinity: no JSON report holds one, and a
// NaN saving would make every total NaN) is refused the same way: the
// record keeps no verdict, fails at StageDetect with a
// *provider.InvalidError naming the field ("verdict.monthly_savings",
// "verdict.signals[0].score"), and the resource is not acted on. RunOnce returns an error only
// when now is zero (provider.ErrInvalid), the inventory listing or the
// detector scan fails, or ctx ends (ctx.Err(), with the partial report:
// the candidates the run had not reached are deferred, OutcomeDeferred,
// with no error of their own, and so is one whose re-read (its resource,
// its activity or its approval requests) or whose Sizer call the
// context's end cut short;
// another one in hand is not acted on, and its record keeps the
// context's error).
// It starts no goroutine that outlives it.
func (r *Reaper) RunOnce(ctx context.Context, now time.Time) (Report, error) {
	rep := Report{Now: now, DryRun: !r.cfg.Execute}
	if now.IsZero() {
		return rep, provider.Invalid("now", now, "is required")
	}
	start := r.clock.Now() // to judge each proposal when it is made (see propose)
	listed, err := r.fleet.Inventory.List(ctx, r.cfg.Filter)
	if err != nil {
		return rep, fmt.Errorf("reaper: list resources: %w", err)
	}
	r.expireApprovals(ctx, now, &rep)
	records, err := r.detect(ctx, now, listed, rep.DryRun)
	if err != nil {
		return rep, err
	}
	rep.Records = records
	run := runState{fleets: r.fleetSizes(records), unrecorded: map[string]int{}}
	var acted []*Record
	for i := range rep.Records {
		rec := &rep.Records[i]
		if rec.Outcome == "" && r.process(ctx, now, start, rec, &run) {
			acted = append(acted, rec)
		}
	}
	r.verify(ctx, acted)
	r.record(ctx, &rep)
	return rep, ctx.Err()
}

// Run calls RunOnce at the clock's now, and again Config.Interval (on the
// clock) after each run ends, until ctx ends. Run returns nil when ctx
// ends; it returns no other error: a failed run is logged and passed to
// the Observer (ObserveReport), and the loop goes on. Run starts no
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
		r.observer.ObserveReport(rep, err)
		if ctx.Err() != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.clock.After(r.cfg.Interval):
		}
	}
}

// detect runs the detector over the listed resources and returns one
// record per resource ID, in listing order, with its verdict or its
// detection errors. An ID listed more than once is refused, not detected:
// its record fails with a *provider.InvalidError naming it (the copies
// may disagree on state, tags or labels, and the safety rules would judge
// one of them), and the resource is not acted on. So is a resource that
// provider.Resource.Validate refuses (the field is "resource." and
// Validate's; a cost or vCPUs that are not finite read 0 on the record,
// whose error names them, as on a repeated ID's), and a verdict that checkVerdict refuses: the record
// keeps no verdict and fails at StageDetect with the
// *provider.InvalidError naming the field.
func (r *Reaper) detect(ctx context.Context, now time.Time, listed []provider.Resource, dryRun bool) ([]Record, error) {
	once, repeated := provider.ListedOnce(listed)
	// A resource that is not valid (provider.Resource.Validate: a cost
	// of NaN, an unknown state) is refused as a repeated one is: no
	// decision rests on it, and its record says why.
	var invalid map[string]error
	valid := once
	for i, res := range once {
		if err := res.Validate(); err != nil {
			if invalid == nil {
				invalid = map[string]error{}
				valid = slices.Clone(once[:i]) // once may be listed itself
			}
			invalid[res.ID] = provider.Within("resource", err)
		} else if invalid != nil {
			valid = append(valid, res)
		}
	}
	scan, err := r.scan(ctx, now, valid)
	if err != nil {
		return nil, fmt.Errorf("reaper: scan: %w", err)
	}
	records := make([]Record, 0, len(once)+len(repeated))
	index := make(map[string]int, len(once)+len(repeated))
	for _, res := range listed {
		if _, seen := index[res.ID]; seen {
			continue
		}
		index[res.ID] = len(records)
		rec := Record{ResourceID: res.ID, Resource: res, DryRun: dryRun}
		if n := repeated[res.ID]; n > 1 {
			rec.fail(StageInventory, provider.Invalid("resource.id", res.ID,
				"listed "+strconv.Itoa(n)+" times by the inventory; a resource listed more than once is not acted on"))
			rec.Outcome, rec.Reason = OutcomeFailed, "listed "+strconv.Itoa(n)+" times by the inventory"
			rec.Resource = finiteFigures(res)
		} else if err := invalid[res.ID]; err != nil {
			rec.fail(StageInventory, err)
			rec.Outcome, rec.Reason = OutcomeFailed, "listed invalid by the inventory: not acted on"
			rec.Resource = finiteFigures(res)
		}
		records = append(records, rec)
	}
	for i := range scan.Verdicts {
		j, ok := index[scan.Verdicts[i].ResourceID]
		if !ok {
			continue
		}
		if err := checkVerdict(scan.Verdicts[i]); err != nil {
			// A host's detector gave a figure no decision or report can
			// use: fail the resource (no verdict, not acted on) rather
			// than act on it, sum it into the totals or break the
			// report's JSON.
			records[j].fail(StageDetect, err)
			records[j].Outcome, records[j].Reason = OutcomeFailed, "the detector's verdict is unusable: "+err.Error()
			continue
		}
		records[j].Verdict = &scan.Verdicts[i]
	}
	for _, e := range scan.Errors {
		if j, ok := index[e.ResourceID]; ok {
			records[j].fail(StageDetect, e)
		}
	}
	return records, nil
}

// scan runs the detector over resources at now. When Config.Actions
// allows terminate and the detector is a detector.TerminateReporter (a
// *detector.Ensemble, or a type that embeds one), the resources it would
// terminate rather than stop (detector.Terminable) are scanned apart,
// with their activity read over its TerminateWindow (the ensemble's
// EvidenceConfig.TerminateWindow): a terminate needs activity data over
// all of it showing no use, and the detector's own activity window (its
// 30-minute quiet period) never holds that evidence, so that terminate
// could not be recommended. The others are read as without terminate, so
// that an instance's stop is not judged on weeks of activity. The two
// scans are merged into one report sorted by resource ID, as
// detector.Report's.
func (r *Reaper) scan(ctx context.Context, now time.Time, resources []provider.Resource) (detector.Report, error) {
	on := func(rs []provider.Resource) detector.Fleet {
		return detector.Fleet{Inventory: snapshot{resources: rs, inv: r.fleet.Inventory}, Metrics: r.fleet.Metrics, Activity: r.fleet.Activity}
	}
	var window time.Duration
	if tr, ok := r.detector.(detector.TerminateReporter); ok {
		window = tr.TerminateWindow()
	}
	if window <= 0 || !slices.Contains(r.cfg.Actions, detector.ActionTerminate) {
		return detector.Scan(ctx, on(resources), r.detector, detector.ScanConfig{Now: now})
	}
	var rest, terminable []provider.Resource
	for _, res := range resources {
		if detector.Terminable(res.Kind) {
			terminable = append(terminable, res)
		} else {
			rest = append(rest, res)
		}
	}
	rep, err := detector.Scan(ctx, on(rest), r.detector, detector.ScanConfig{Now: now})
	if err != nil || len(terminable) == 0 {
		return rep, err
	}
	long, err := detector.Scan(ctx, on(terminable), r.detector, detector.ScanConfig{Now: now, ActivityWindow: window})
	if err != nil {
		return rep, err
	}
	// One report in detector.Report's order, by resource ID: the two
	// scans are each sorted, their concatenation is not. A resource is in
	// one of them, so the stable sort keeps each one's errors in order.
	rep.Verdicts = append(rep.Verdicts, long.Verdicts...)
	slices.SortFunc(rep.Verdicts, func(a, b detector.Verdict) int { return strings.Compare(a.ResourceID, b.ResourceID) })
	rep.Errors = append(rep.Errors, long.Errors...)
	slices.SortStableFunc(rep.Errors, func(a, b *detector.ResourceError) int { return strings.Compare(a.ResourceID, b.ResourceID) })
	rep.Resources += long.Resources
	return rep, nil
}

// checkVerdict returns a *provider.InvalidError naming the first field
// of v that no decision or report can use: a Confidence outside [0, 1]
// or not a number (an infinity from a division by zero would pass every
// minimum), a MonthlySavings that is not a finite number ≥ 0 (a negative
// saving says acting costs), or a figure JSON cannot hold (the Score, a
// signal's, a schedule's share that is not finite; a reason's value,
// limit or statistic that is infinite: the reasons write NaN, unknown,
// as null), which would make the run's report fail to marshal and, for
// the savings, every total NaN.
func checkVerdict(v detector.Verdict) error {
	finite := func(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
	if c := v.Confidence; !(c >= 0 && c <= 1) {
		return provider.Invalid("verdict.confidence", c, "must be in [0, 1]")
	}
	if s := v.MonthlySavings; !finite(s) || s < 0 {
		return provider.Invalid("verdict.monthly_savings", s, "must be a finite number ≥ 0 (the detector's estimate of the action's monthly saving)")
	}
	if !finite(v.Score) {
		return provider.Invalid("verdict.score", v.Score, "must be a finite number")
	}
	for i, c := range v.Signals {
		for _, f := range []struct {
			name string
			v    float64
		}{{"score", c.Score}, {"weight", c.Weight}, {"value", c.Value}} {
			if !finite(f.v) {
				return provider.Invalid("verdict.signals["+strconv.Itoa(i)+"]."+f.name, f.v, "must be a finite number")
			}
		}
	}
	for i, r := range v.Reasons {
		for _, f := range []struct {
			name string
			v    float64
		}{{"value", r.Value}, {"limit", r.Limit}, {"stats.mean", r.Stats.Mean}, {"stats.p95", r.Stats.P95},
			{"stats.p99", r.Stats.P99}, {"stats.max", r.Stats.Max}} {
			if math.IsInf(f.v, 0) {
				return provider.Invalid("verdict.reasons["+strconv.Itoa(i)+"]."+f.name, f.v, "must be a finite number, or NaN for one not known")
			}
		}
	}
	if v.Schedule != nil && !finite(v.Schedule.SavedShare) {
		return provider.Invalid("verdict.schedule.saved_share", v.Schedule.SavedShare, "must be a finite number")
	}
	return nil
}

// fleetSizes counts the listed resources of each fleet (Config.FleetTag),
// each resource once.
func (r *Reaper) fleetSizes(records []Record) map[string]int {
	fleets := map[string]int{}
	for i := range records {
		if name := r.fleetOf(records[i].Resource); name != "" {
			fleets[name]++
		}
	}
	return fleets
}

// untaggedFleet is the fleet, under a Config.FleetTag, of the resources
// without that tag (or with an empty value).
const untaggedFleet = "(untagged)"

// fleetOf returns the fleet name of res under Config.FleetTag: its tag's
// value, or untaggedFleet when it has none. Without a FleetTag it is "".
// (A resource without the tag was its own fleet, not share-limited: with
// a FleetTag the host asks for the limit, and a tag never set must not
// let every such resource escape it.)
func (r *Reaper) fleetOf(res provider.Resource) string {
	if r.cfg.FleetTag == "" {
		return ""
	}
	if name := res.Tags[r.cfg.FleetTag]; name != "" {
		return name
	}
	return untaggedFleet
}

// runState is what one run counts as it goes.
type runState struct {
	fleets  map[string]int // listed resources per fleet (Config.FleetTag)
	planned int            // actions carried out, or would be in a dry run (MaxActions)
	// unrecorded counts, per fleet, the actions of this run that the
	// history does not hold: a dry run's would-act decisions, an
	// executing run's actions whose record failed. The Gate counts them
	// as acted on (Proposal.FleetPlanned).
	unrecorded map[string]int
	// throttled is the resource whose action the provider refused as
	// throttled (provider.ErrThrottled, its retries spent) in this run;
	// the candidates after it are deferred.
	throttled string
}

// process takes one record through the phases after detection: select,
// propose (re-read, state, size), the MaxActions budget, approve (look
// up), gate and, when executing, act. It reports whether an action was
// carried out (and must be verified). Each phase that stops the record
// sets its Outcome and Reason.
//
// A dry run records nothing in the history, so it tells the Gate what it
// would have acted on in the proposal's fleet so far in this run
// (Proposal.FleetPlanned): the fleet-share limit then counts them as an
// executing run's recorded actions, and the dry run reports what that
// run would do. An executing run tells it, likewise, the actions of this
// run that the history failed to record.
func (r *Reaper) process(ctx context.Context, now, start time.Time, rec *Record, run *runState) bool {
	if rec.Verdict == nil {
		rec.Outcome, rec.Reason = OutcomeFailed, "no verdict: detection failed"
		return false
	}
	if rec.failedAt(StageDetect) {
		// A metric or activity read failed: what it hid could show use.
		// (The ensemble already recommends nothing then; a host's own
		// detector might not.)
		rec.Outcome, rec.Reason = OutcomeSkipped, "a read failed during detection: not acted on"
		return false
	}
	sel := selectAction(r.cfg, *rec.Verdict)
	if sel.Skip != "" {
		rec.Outcome, rec.Reason = OutcomeSkipped, sel.Skip
		return false
	}
	rec.Action = sel.Action
	if err := ctx.Err(); err != nil {
		// The run ends (the host stops) before this candidate was
		// handled: nothing of its own failed, and the next run decides
		// it. The run returns the context's error.
		runEnded(rec, err)
		return false
	}
	p, ok := r.propose(ctx, now, start, rec, run.fleets)
	if !ok {
		return false
	}
	if p.Fleet != "" {
		p.FleetPlanned = run.unrecorded[p.Fleet]
	}
	if run.planned >= r.cfg.MaxActions {
		rec.Outcome, rec.Reason = OutcomeDeferred, "max_actions "+strconv.Itoa(r.cfg.MaxActions)+" reached in this run"
		return false
	}
	if run.throttled != "" {
		rec.Outcome, rec.Reason = OutcomeDeferred, "the provider throttled the action on "+run.throttled+" in this run: deferred to the next run"
		return false
	}
	pendingID, stop := r.findApproval(ctx, rec, &p)
	if stop {
		return false
	}
	d, ok := r.gateCheck(ctx, rec, p, pendingID)
	if !ok {
		return false
	}
	if !r.cfg.Execute {
		run.planned++
		if p.Fleet != "" {
			run.unrecorded[p.Fleet]++
		}
		rec.Outcome, rec.Reason = OutcomeWouldAct, "dry run: would "+string(rec.Action)
		rec.MonthlySavings = rec.Verdict.MonthlySavings
		return false
	}
	return r.act(ctx, p.Now, rec, p, d, run) // one time for the gate, the budget, the approval and the history
}

// runEnded defers rec, which the run did not finish handling because its
// context ended (err, the context's): nothing of its own failed, and the
// next run decides it.
func runEnded(rec *Record, err error) {
	rec.Outcome, rec.Reason = OutcomeDeferred, "the run ended before it was handled ("+err.Error()+"): decided again next run"
}

// stopped reports whether err is the end of ctx (the host stopping the
// run) rather than a failure of the call that returned it.
func stopped(ctx context.Context, err error) bool {
	cerr := ctx.Err()
	return cerr != nil && errors.Is(err, cerr)
}

// propose re-reads a selected record's resource (and, for a stop or
// terminate, its activity since now) and builds the proposal for
// rec.Action: it fails the record when the inventory, the activity source
// or the Sizer fails (or the Sizer's size has more vCPUs or memory than
// the resource's: see notLarger), and skips it when the action does not
// apply to the resource's state, it is the downsize of a group (a
// scale-in, not a resize), the Actuator says it would refuse a terminate
// (provider.TerminateChecker) or a stop (provider.StopChecker), the
// resource changed, it was used since
// now, or it already has the size the Sizer chose.
func (r *Reaper) propose(ctx context.Context, now, start time.Time, rec *Record, fleets map[string]int) (safety.Proposal, bool) {
	res, err := r.fleet.Inventory.Get(ctx, rec.ResourceID)
	if err != nil && stopped(ctx, err) {
		// Cut short by the run's end, not failed: deferred (as
		// coord/shardsweep records no failed read then).
		runEnded(rec, ctx.Err())
		return safety.Proposal{}, false
	}
	if err != nil {
		rec.fail(StageInventory, err)
		rec.Outcome, rec.Reason = OutcomeFailed, "re-reading the resource failed"
		return safety.Proposal{}, false
	}
	if !applies(rec.Action, res) {
		rec.Outcome, rec.Reason = OutcomeSkipped, "state "+string(res.State)+": nothing to "+string(rec.Action)
		if res.Kind == provider.KindVolume && res.State == provider.StateRunning {
			rec.Reason = "attached to an instance (running): a volume is terminated only when detached"
		}
		return safety.Proposal{}, false
	}
	if rec.Action == safety.ActionResize && res.Kind == provider.KindGroup {
		// The detector's downsize of a group lowers its capacity
		// (detector.ActionDownsize), the scaling package's work; a
		// Resizer changes the size of instances and functions.
		rec.Outcome, rec.Reason = OutcomeSkipped, "a group's downsize is a lower capacity (a scale-in), not a resize: not carried out by the reaper"
		return safety.Proposal{}, false
	}
	if tc, ok := r.fleet.Actuator.(provider.TerminateChecker); ok && rec.Action == safety.ActionTerminate {
		// The driver would refuse it whatever a person approved (the AWS
		// driver deletes no function or load balancer): ask no one.
		if err := tc.CanTerminate(res); err != nil {
			rec.Outcome, rec.Reason = OutcomeSkipped, "the provider does not terminate it: "+err.Error()
			return safety.Proposal{}, false
		}
	}
	if sc, ok := r.fleet.Actuator.(provider.StopChecker); ok && rec.Action == safety.ActionStop {
		// Likewise for a stop (a volume, which a driver does not stop:
		// its state follows its attachment).
		if err := sc.CanStop(res); err != nil {
			rec.Outcome, rec.Reason = OutcomeSkipped, "the provider does not stop it: "+err.Error()
			return safety.Proposal{}, false
		}
	}
	if changed := res.ChangedFrom(rec.Resource); len(changed) > 0 {
		// Restarted (a new launch time, which the grace period may
		// cover), retagged (critical, protected, another zone) or
		// resized since it was listed: the verdict is not about it.
		rec.Outcome, rec.Reason = OutcomeSkipped, "changed since it was listed ("+strings.Join(changed, ", ")+"): decided again next run"
		return safety.Proposal{}, false
	}
	if rec.Action == safety.ActionStop || rec.Action == safety.ActionTerminate {
		used, err := r.usedSince(ctx, now, r.clock.Now().Sub(start), res.ID, rec.Verdict)
		switch {
		case err != nil && stopped(ctx, err):
			runEnded(rec, ctx.Err()) // cut short by the run's end, not failed
			return safety.Proposal{}, false
		case err != nil:
			rec.fail(StageDetect, err) // reading activity (see Stage)
			rec.Outcome, rec.Reason = OutcomeFailed, "re-reading the resource's activity failed"
			return safety.Proposal{}, false
		case used != "":
			// A login or a query since the verdict's activity was read (a
			// run over a large fleet takes minutes): in use now.
			rec.Outcome, rec.Reason = OutcomeSkipped, "in use since it was judged ("+used+"): decided again next run"
			return safety.Proposal{}, false
		}
	}
	v := rec.Verdict
	p := safety.Proposal{
		ID:        "reaper:" + res.ID,
		Action:    rec.Action,
		Resource:  res,
		Requester: r.cfg.Requester,
		Source:    "detector: " + v.State.String() + ", confidence " + ftoa(v.Confidence), // a downsize's verdict is not_idle
		Reason:    strings.Join(v.Explain(), "; "),
		// The gate judges the proposal when it is made, not when the run
		// started (business hours, approvals' expiry): see judgedAt.
		Now: judgedAt(now, r.clock.Now().Sub(start)),
	}
	if name := r.fleetOf(res); name != "" {
		p.Fleet, p.FleetSize = name, fleets[name]
	}
	if rec.Action == safety.ActionResize {
		size, err := r.sizer.TargetSize(ctx, res)
		if err != nil && stopped(ctx, err) {
			runEnded(rec, ctx.Err()) // cut short by the run's end, not failed
			return safety.Proposal{}, false
		}
		if err == nil {
			err = size.ValidateFor(res.Kind)
		}
		if err == nil {
			err = notLarger(res.Size, size)
		}
		if err != nil {
			rec.fail(StageSize, err)
			rec.Outcome, rec.Reason = OutcomeFailed, "choosing the target size failed"
			return safety.Proposal{}, false
		}
		if sizeMatches(res.Size, size) {
			// The size verification would find at once: the resize would
			// change nothing, and would be reported verified, its saving
			// realised.
			rec.Outcome, rec.Reason = OutcomeSkipped, "already at the target size "+size.String()+": nothing to resize"
			return safety.Proposal{}, false
		}
		p.CurrentSize, p.TargetSize, rec.TargetSize = res.Size, size, size
	}
	return p, true
}

// notLarger returns a *provider.InvalidError naming the field of want
// that is larger than cur's, where both sizes give it: a downsize
// must not grow the resource (it would cost more, and be reserved as a
// Down event). A field either size leaves unset (a driver that reports
// an instance's type alone) is not compared.
func notLarger(cur, want provider.Size) error {
	switch {
	case cur.VCPU > 0 && want.VCPU > cur.VCPU:
		return provider.Invalid("vcpu", want.VCPU, "is more than the resource's "+strconv.FormatFloat(cur.VCPU, 'f', -1, 64)+": a downsize must not grow it")
	case cur.MemoryMiB > 0 && want.MemoryMiB > cur.MemoryMiB:
		return provider.Invalid("memory_mib", want.MemoryMiB, "is more than the resource's "+strconv.Itoa(cur.MemoryMiB)+": a downsize must not grow it")
	}
	return nil
}

// usedSince reads the activity of resource id again (detector.Recheck)
// from now, the end of the window the detector read it over, to now plus
// elapsed (the time the run has taken on the clock, as judgedAt counts
// it), and at least the detector's quiet period before that, however
// little time passed. It names the kinds used in it ("logins 2"), or
// returns "" when none was or the fleet has no activity source (nor has
// the detector). It counts the kinds the detector counts, over its quiet
// period, when it is a detector.Rechecker (a *detector.Ensemble, or a type
// that embeds one); every kind over 30 minutes otherwise. When v, the
// verdict acted on, read the resource's activity (detector.ReadActivity),
// a source that no longer reads it is an error: its use since is unknown.
func (r *Reaper) usedSince(ctx context.Context, now time.Time, elapsed time.Duration, id string, v *detector.Verdict) (string, error) {
	src := r.fleet.Activity
	if src == nil {
		src, _ = r.fleet.Metrics.(provider.ActivitySource)
	}
	rc := detector.Recheck{Source: src}
	if rr, ok := r.detector.(detector.Rechecker); ok {
		rc = rr.Recheck(src)
	}
	rc.Known = v != nil && detector.ReadActivity(*v)
	counts, err := rc.Used(ctx, id, now, now.Add(max(elapsed, 0)))
	if err != nil {
		return "", fmt.Errorf("reaper: %w", err)
	}
	used := make([]string, len(counts))
	for i, c := range counts {
		used[i] = string(c.Kind) + " " + strconv.FormatFloat(c.Count, 'f', -1, 64)
	}
	return strings.Join(used, ", "), nil
}

// gateCheck asks the Gate about p and keeps the decision on rec. ok
// reports that the Gate allowed p; otherwise the record needs an approval
// (requested here when executing with Approvals) or is blocked.
func (r *Reaper) gateCheck(ctx context.Context, rec *Record, p safety.Proposal, pendingID string) (d safety.Decision, ok bool) {
	d, err := r.decide(ctx, p)
	rec.Decision = &d
	if rules := d.BlockingRules(); len(rules) > 0 {
		rec.BlockedBy = rules
	}
	switch {
	case err == nil && d.Allowed:
		if d.Approved {
			rec.ApprovalID = p.ApprovalID
		}
		return d, true
	case err == nil:
		rec.Outcome, rec.Reason = OutcomeBlocked, "not allowed by the gate (no error given): "+d.Summary()
	case errors.Is(err, safety.ErrApprovalRequired):
		r.needsApproval(ctx, rec, p, d, pendingID)
	default:
		rec.Outcome, rec.Reason = OutcomeBlocked, d.Summary()
		if safety.IsFailure(d, err) || ctx.Err() != nil {
			// Anything but a plain refusal is a failure: a rule, the
			// input, the audit, or a host Gate that could not decide.
			rec.fail(StageSafety, err)
		}
	}
	return d, false
}

// decide asks the Gate: Evaluate (records nothing) in a dry run, Check
// otherwise. A dry run whose context has ended fails even when the Gate
// allowed the proposal.
func (r *Reaper) decide(ctx context.Context, p safety.Proposal) (safety.Decision, error) {
	if r.cfg.Execute {
		return r.gate.Check(ctx, p)
	}
	d, err := r.gate.Evaluate(ctx, p)
	if cerr := ctx.Err(); cerr != nil {
		return d, errors.Join(err, cerr)
	}
	return d, err
}

// record counts the final records into the report's totals and passes
// each to the Observer.
func (r *Reaper) record(ctx context.Context, rep *Report) {
	for _, rec := range rep.Records {
		rep.Totals.add(rec)
		r.log.DebugContext(ctx, "reaper: record", "resource", rec.ResourceID, "outcome", rec.Outcome, "reason", rec.Reason)
		r.observer.ObserveRecord(rec)
	}
	rep.Totals.Resources = len(rep.Records)
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

// judgedAt is the time a proposal is judged at, given the run's now and
// the time the run has taken so far on the reaper's clock: now during the
// run's first minute, then now plus that time rounded up to the minute,
// so that a run slowed by its metrics source (a scan of many minutes) is
// never judged earlier than it acts. Within the first minute the check
// may be up to a minute early, as it may be by the time a provider's stop
// takes: a business-hours rule that must hold to the second wants a
// margin of its own.
func judgedAt(now time.Time, elapsed time.Duration) time.Time {
	if elapsed < time.Minute {
		return now
	}
	if r := elapsed % time.Minute; r != 0 {
		elapsed += time.Minute - r
	}
	return now.Add(elapsed)
}

// finiteFigures returns res with each figure JSON cannot hold (an hourly
// cost or vCPUs of NaN or ±Inf, which provider.Resource.Validate
// refuses) read as 0, for the record of a resource refused at
// StageInventory: the run's report must marshal, and the record's error
// names the value (a repeated ID's copies are not validated, so its
// record is read so too).
func finiteFigures(res provider.Resource) provider.Resource {
	if c := res.HourlyCost; math.IsNaN(c) || math.IsInf(c, 0) {
		res.HourlyCost = 0
	}
	if v := res.Size.VCPU; math.IsNaN(v) || math.IsInf(v, 0) {
		res.Size.VCPU = 0
	}
	return res
}

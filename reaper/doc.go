// Package reaper is the idle-reaping pipeline: it finds idle resources and,
// when told to, stops (or terminates, or downsizes) them safely. It runs dry
// by default.
//
// # Pipeline
//
// One run (Reaper.RunOnce) takes every listed resource through the same
// phases; a resource leaves the pipeline at the first phase that says no,
// with a Record saying which and why:
//
//	detect ─────► select ─────► gate ───────────────► reserve ───► act ─────► verify ────► record
//	List(filter)  Select(cfg,v) Gate.Check          Reserver     Stop       poll Get     Report,
//	Scan(now)     idle, action  (Evaluate if dry)   .ReserveAt   Terminate  on the       Observer,
//	              allowed,        │       │         (optional)   Resize     Clock        history
//	              conf ≥ min;     │block  │approval     │ denied
//	              re-read:        ▼       ▼ required    ▼
//	              right state,  blocked  Approvals   rate_limited
//	              as listed
//	                 │ no                .Request ─► needs_approval ──(human approves)──►
//	                 ▼                                next run: Check with ApprovalID,
//	              skipped                             Approvals.Claim, act, Complete
//	                                                  (or Release: nothing changed)
//
// The selection is a pure function, Select, of the Config and one verdict,
// as the Kubernetes HPA's replica calculator is to its controller; the
// controller around it (RunOnce) reads the clock and calls the providers,
// the Gate, the Approvals and the Reserver.
//
// A dry run (the default; Config.Execute false) stops after the gate: it
// uses Gate.Evaluate, which records nothing, creates no approval request,
// reserves no rate-limit budget and calls no mutating provider method, and
// reports what it would do (OutcomeWouldAct) with the estimated savings.
// Since it records nothing in the history, it tells the Gate how many of
// a fleet it would already have acted on in this run
// (safety.Proposal.FleetPlanned), so that the fleet-share limit stops it
// where it would stop an executing run.
//
// Decisions are pure functions of the fleet's data and the now passed to
// RunOnce; only verification and Run wait, on the clock.Clock given with
// WithClock. The gate judges each proposal at that now during the run's
// first minute on the clock, then at now plus the time the run has taken
// so far rounded up to the minute (a check made 90 s into the run is at
// now + 2m), so that a run slowed by its metrics source does not stop a
// machine at 09:06 on a check of business hours made at 08:50.
//
// With terminate in Config.Actions and the detector's Ensemble (a
// *detector.Ensemble, or a type that embeds one and so implements
// detector.TerminateReporter), the resources the ensemble terminates
// rather than stops (functions, volumes, load balancers:
// detector.Terminable) are scanned with their activity read over its
// terminate window (28 days), since a terminate needs activity data over
// all of it showing no use; the others are read as without terminate
// (the 30-minute quiet period), so that an instance's stop is not judged
// on weeks of activity. A source that keeps
// less than the terminate window (Prometheus keeps 15 days by default)
// says so in each count's Since, and the detector then recommends no
// terminate: the part it does not keep is not known to be quiet.
//
// A resource is acted on only when nothing says it might be at work: a
// record with any detection error (a metric or activity read that
// failed) is skipped, whatever the detector recommended, and so is a
// resource that, read again just before the gate, is in a state the
// action does not apply to (a volume attached to an instance, running,
// or being attached or detached, pending or stopping, is never
// terminated, whatever a host's own detector says), whose terminate or
// stop the Actuator says it would refuse (provider.TerminateChecker: the
// AWS driver deletes no function or load balancer, so no one is asked to
// approve one; provider.StopChecker, likewise for a stop), or differs
// from the listed copy the verdict was made on
// (provider.Resource.ChangedFrom: a restart, new tags or labels, another
// size), or, for a stop or a terminate, whose activity read again then
// shows use (a login, a query)
// since the run's now: a run over a large fleet takes minutes, and the
// detector read the activity before them. That read (detector.Recheck)
// covers the run's now to the time of acting and, however little time
// the run took on the clock (a fake clock that does not move, a run of
// a few milliseconds), at least the detector's quiet period before it:
// an event published late by its source is found, and a source's least
// window (2 ms for the Prometheus source) never fails a fast run. With a
// *detector.Ensemble, or a type that embeds one (a detector.Rechecker),
// it counts the kinds the ensemble counts, over its quiet period; with a
// host's own detector that is no Rechecker, every kind over 30 minutes
// (detector.DefaultRecheckQuiet). A read that fails blocks the action
// (OutcomeFailed), as does one whose count begins after the window's
// start (detector.ErrPartialActivity).
//
// # Collaborators
//
// The reaper depends on small interfaces declared here, not on concrete
// engines, so that a host can put its own in: a Gate (*safety.Engine), a
// Reserver (*ratelimit.Limiter, WithReserver), Approvals
// (*approval.Manager, WithApprovals), a HistoryRecorder
// (*safety.MemoryHistory, WithHistory), a Sizer (WithSizer) and an
// Observer (WithObserver). Everything that configures behaviour is in
// Config; options only wire these.
//
// # Failures
//
// One failing resource never stops the run. Every error (a metric source, the
// inventory, the Gate, the approvals, the Reserver, the provider's Stop, a
// verification poll) is kept on the resource's Record as a *ResourceError
// naming the Stage, and counted in Totals.Errors; Report.Err joins them. A
// resource whose Gate check fails is not acted on (fail closed), and
// neither is one whose run's context ended before its provider call, nor
// one whose verdict has a confidence outside [0, 1], a saving that is not
// a finite number ≥ 0 or another figure JSON cannot hold (a host's
// detector's NaN or infinity): it fails at StageDetect, naming the field,
// with no verdict on its Record.
// Rate-limit budget is refunded, and a claimed approval released, when the
// provider says nothing changed (provider.ChangedNothing: throttled, not
// found, conflict, unsupported, invalid, denied) or the call was not made;
// this bookkeeping runs even after the run's context ended. A call the
// provider denied (provider.ErrDenied: a missing IAM permission, refused
// credentials, a policy of the backend) says so in the Record's Reason: it fails the same way at
// every run until someone grants the permission. Neither counts in
// Config.MaxActions; a throttled call (provider.ErrThrottled, the
// driver's retries spent) defers the run's other candidates to the next
// run, so that a backend asking for fewer calls is not called once per
// candidate. A provider call that fails without
// saying that nothing changed (a timeout after the provider took the
// stop) may have changed it: its budget and approval are spent, it counts
// in the history against the fleet's limits at once, and verification
// says whether it happened (OutcomeActed, the call's error kept, or
// OutcomeUnverified).
//
// # Approvals
//
// With WithApprovals, a proposal the Gate sends for approval becomes a
// pending approval request (when executing); its ID is on the Record. The
// reaper does not ask twice for the same proposal while a request is
// pending. Once a human approves it, the next run presents it to the Gate
// (a run whose proposal is judged before the approval was granted, as
// in its first minute, waits for it as for a pending one),
// claims it (Approvals.Claim: nobody else can use it), acts, and then
// completes it when the provider accepted the action (or failed without
// saying that nothing changed) or releases it when the provider says
// nothing changed, so that a throttled stop does not spend the approval
// and the next run acts without asking again. A claim left without an
// outcome (the process stopped in between) blocks the resource, without a
// new request, until the approval's expiry moves it to expired. An
// approval is bound
// to the proposal's fingerprint (resource, action, sizes); stale requests
// are expired at the start of every executing run, and a denied request is not asked
// again until its expiry.
//
// # Usage
//
//	history := &safety.MemoryHistory{} // the fleet-share limit reads what the reaper records
//	rules, _ := safety.Builtin(safety.BuiltinConfig{}, safety.BuiltinSources{Backups: cloud, History: history})
//	engine, _ := safety.New(safety.Config{}, rules)
//	ens, _ := detector.NewEnsemble(detector.EnsembleConfig{})
//	limiter, _ := ratelimit.New(ratelimit.Config{})
//	r, err := reaper.New(reaper.Config{Execute: true, FleetTag: "fleet"},
//		reaper.Fleet{Inventory: cloud, Metrics: cloud, Actuator: cloud},
//		ens, engine, reaper.WithHistory(history), reaper.WithReserver(limiter), reaper.WithLogger(logger))
//	if err != nil { ... }
//	rep, err := r.RunOnce(ctx, time.Now())
//	for _, rec := range rep.Records {
//		fmt.Println(rec) // "i-1: acted (stop): stop verified"
//	}
//	fmt.Println(rep.Totals.RealisedMonthlySavings)
//
// or r.Run(ctx) to run every Config.Interval until ctx ends (Run returns
// nil then).
//
// A Reaper is safe for concurrent use; runs should not overlap.
package reaper

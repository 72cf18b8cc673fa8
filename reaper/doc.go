// Package reaper is the idle-reaping pipeline: it finds idle resources and,
// when told to, stops (or terminates, or downsizes) them safely. It runs dry
// by default.
//
// # Pipeline
//
// One run (Reaper.RunOnce) takes every listed resource through the same
// steps; a resource leaves the pipeline at the first step that says no, with
// a Record saying which and why:
//
//	inventory ──► detect ──► candidate? ──► safety ──────────► rate limit ──► act ──► verify ──► record
//	List(filter)  Scan(now)  idle, action   Engine.Check       ReserveAt     Stop     poll Get   Report,
//	                         allowed,       (Evaluate if dry)  (optional)    Terminate on the    observer,
//	                         conf ≥ min,      │       │            │         Resize   Clock      history
//	                         right state      │       │ approval   │ denied
//	                            │ no          │block  ▼ required   ▼
//	                            ▼             ▼     Manager     rate_limited
//	                         skipped       blocked  .Request ─► needs_approval ──(human approves)──►
//	                                                             next run: Check with ApprovalID,
//	                                                             Manager.Execute (once), act
//
// A dry run (the default; Config.Execute false) stops after safety: it uses
// Engine.Evaluate, which records nothing, creates no approval request, reserves
// no rate-limit budget and calls no mutating provider method, and reports
// what it would do (OutcomeWouldAct) with the estimated savings.
//
// Decisions are pure functions of the fleet's data and the now passed to
// RunOnce; only verification and Run wait, on the Clock given with
// WithClock.
//
// # Failures
//
// One failing resource never stops the run. Every error (a metric source, the
// inventory, a safety rule, the approval store, the rate limiter, the
// provider's Stop, a verification poll) is kept on the resource's Record as a
// *ResourceError naming the Stage, and counted in Totals.Errors; Report.Err
// joins them. A resource whose safety check or provider call fails is not
// acted on (fail closed). Rate-limit budget is refunded when the provider
// says nothing changed (throttled, not found, conflict, unsupported,
// invalid).
//
// # Approvals
//
// With WithApprovals, a proposal the engine sends for approval becomes a
// pending approval.Request (when executing); its ID is on the Record.
// The reaper does not ask twice for the same proposal while a request is
// pending. Once a human approves it, the next run presents it to the engine,
// consumes it with approval.Manager.Execute (once) and acts. An approval is bound to
// the proposal's fingerprint (resource, action, sizes); stale requests are
// expired at the start of every run, and a denied request is not asked again
// until its expiry.
//
// # Usage
//
//	rules, _ := safety.Builtin(safety.BuiltinConfig{}, safety.BuiltinSources{Backups: cloud})
//	engine, _ := safety.New(safety.Config{}, rules)
//	ens, _ := detector.NewEnsemble(detector.EnsembleConfig{})
//	r, err := reaper.New(reaper.Config{Execute: true},
//		reaper.Fleet{Inventory: cloud, Metrics: cloud, Actuator: cloud},
//		ens, engine, reaper.WithLogger(logger))
//	if err != nil { ... }
//	rep, err := r.RunOnce(ctx, time.Now())
//	for _, rec := range rep.Records {
//		fmt.Println(rec) // "i-1: acted (stop): stop verified"
//	}
//	fmt.Println(rep.Totals.RealisedMonthlySavings)
//
// or r.Run(ctx) to run every Config.Interval until ctx ends.
//
// A Reaper is safe for concurrent use; runs should not overlap.
package reaper

// Package safety is the gate every mutation passes: rules, risk levels and
// approvals, failing closed on any error.
//
// Every stop, terminate, resize and capacity change a host makes through
// idlescale is described as a Proposal and decided by an Engine before it
// happens. A decision is a pure function of the proposal (including its
// Now) and the rules' sources; the engine never reads the clock.
//
//	rules, err := safety.Builtin(rulesCfg, safety.BuiltinSources{Backups: catalog, Graph: graph, History: history})
//	eng, err := safety.New(safety.Config{Timeout: 2 * time.Second}, rules,
//		safety.WithApprovals(approvals), safety.WithAuditor(auditLog))
//
//	p := safety.Proposal{Action: safety.ActionStop, Resource: res, Requester: "reaper", Now: now}
//	d, err := eng.Check(ctx, p)
//	switch {
//	case err == nil:
//		// allowed: act now (and record it in the ActionHistory)
//	case errors.Is(err, safety.ErrApprovalRequired):
//		// ask a human: see package safety/approval
//	default:
//		// blocked: d.Blocking names the rules and their reasons,
//		// d.Recommendations says what would make it safe
//	}
//
// # Rules, results and decisions
//
// A Rule checks one aspect of a proposal and returns a Result: an Outcome
// (Pass, RequireApproval or Block), a Risk (none, low, medium, high,
// ordered by Risk.Level) with the factors that set it, and
// recommendations ("take a snapshot first", "schedule for Mon 2026-03-30
// 18:00 Europe/Berlin"). The Engine runs its rules, at most
// Config.Concurrency at once and within Config.Timeout, and combines the
// results into a Decision:
//
//   - blocked when any rule blocks;
//   - otherwise approval required when a rule asks for it or the highest
//     risk reaches Config.ApprovalRisk (default high), unless the proposal
//     carries an approval that the ApprovalVerifier (WithApprovals)
//     accepts;
//   - otherwise allowed.
//
// An engine without rules would allow everything, so New refuses an empty
// rule set (a rule list that failed to load must not open the gate) unless
// Config.AllowNoRules says that is meant.
//
// The engine fails closed: a rule that returns an error, does not answer
// within the timeout, panics, returns an invalid outcome or risk, or sees
// its context end blocks the proposal, and the decision says which rule
// and why (a *RuleError, matching ErrRuleFailed, in the chain). So does an
// invalid proposal (provider.ErrInvalid) and an auditor that cannot record
// the decision or panics (ErrAudit). An approval verifier that errors or
// panics leaves the proposal waiting for approval. The engine returns a
// *BlockedError, matching ErrBlocked, for every proposal that may not go
// ahead.
//
// The engine decides in three ways. Engine.Evaluate decides one proposal
// with no side effect (nothing recorded, no approval consumed): "would
// this be allowed?". Engine.Check is Evaluate plus an audit record, the
// gate right before a mutation. Engine.Preview is a dry run over a batch
// (policy preview): it reports what would be allowed, need approval or be
// blocked, and by which rules, recording nothing.
//
// The enums (Action, Outcome, Risk, AuditKind) are typed strings that
// encode as their names in JSON and YAML; the empty value means unset,
// and decoding refuses unknown names with an error matching
// provider.ErrInvalid.
//
// # Built-in rules
//
// Builtin builds them all from one BuiltinConfig and the BuiltinSources
// they read; each rule also has its own constructor taking its XxxConfig
// first and its sources after it. A zero configuration gets the defaults
// below: conservative values, so that a host that configures nothing is
// refused rather than surprised (each is a Config field):
//
//   - critical (CriticalRule): production (and its aliases prod, prd,
//     live), roles database, load balancer and monitoring (and db, lb,
//     loadbalancer, monitor), standby and replica (idle by design: the
//     detector finds them idle, and their loss shows only at a failover),
//     criticality high or critical, a protection tag, matched whatever
//     the case, spacing or separators; per action block or require
//     approval (terminate blocks, stop/resize/scale in need approval);
//   - dependencies (DependencyRule): blocks while live dependents exist in
//     a DependencyGraph, directly or through other dependents up to 8
//     levels deep, and fails on a cycle or a deeper graph;
//   - backup (BackupRule): a complete backup taken within 24 h (one
//     daily backup cycle) before the proposal's Now and verified by then,
//     from a provider.BackupCatalog, reporting its age;
//   - business_hours (BusinessHoursRule): Mon–Fri 09:00–18:00 (an office
//     day, when an interruption hurts most) in the resource's IANA time
//     zone (DST-correct), holidays (dates and HolidayCalendar), blackout
//     windows; the spec is parsed by ParseSchedule;
//   - gradual (GradualRule): at most 50 % change of desired capacity per
//     step, so one wrong decision costs at most half the capacity;
//   - limits (LimitsRule): desired capacity in [1, 10] (never to zero, and
//     a low ceiling against a runaway scale-out), and no group's Min
//     lowered below 1 or Max raised above 10, at most half of a fleet
//     acted on per hour, counted in an ActionHistory that is required
//     (BuiltinSources.History) unless LimitsConfig.NoFleetShare turns the
//     share limit off;
//   - health (HealthRule): host-supplied checks of databases, load
//     balancers and external services;
//   - rollback (RollbackRule): the previous state is recorded and
//     restorable; terminate, which cannot be undone, needs approval.
//
// # Adding a rule
//
// A host adds its own rule by implementing Rule, or by writing a function
// and adapting it with RuleFunc, and passing it to New next to the
// built-in ones. Give it a name with Named (or a Name method) so decisions
// report it. The contract is short:
//
//   - return a Result with Outcome Pass (and no risk) when the rule does
//     not apply;
//   - give a Reason for RequireApproval and Block, a Risk, and Factors and
//     Recommendations where they help a human decide;
//   - return an error when the rule cannot decide (a source is down):
//     the engine blocks, so never "pass on error";
//   - change nothing (Evaluate and Preview call rules too), honour ctx, be
//     safe for concurrent use;
//   - if the rule never blocks on I/O, implement Inliner (or list it in
//     WithInline) so the engine runs it without a goroutine.
//
// See ExampleRuleFunc, and examples/safety-rule for a runnable program.
//
// # Approvals
//
// A proposal that needs approval goes ahead only when it carries the ID of
// an approval (Proposal.ApprovalID) that the engine's ApprovalVerifier
// accepts: granted by the proposal's Now, bound to exactly this proposal
// (Proposal.Fingerprint) and unexpired. Package safety/approval provides the requests, their
// state machine, stores and audit; its approval.Manager is the usual
// verifier. A host may plug in its own with ApprovalVerifierFunc.
//
// Everything here is safe for concurrent use. Constructors take their
// configuration first (a zero Config means the defaults), validate it, and
// return errors matching provider.ErrInvalid that name the field and
// value; options and later arguments only wire collaborators.
package safety

// Package safety is the gate every mutation passes: rules, risk levels and
// approvals, failing closed on any error.
//
// Every stop, terminate, resize and capacity change a host makes through
// idlescale is described as a Proposal and decided by an Engine before it
// happens. A decision is a pure function of the proposal (including its
// Now) and the rules' sources; the engine never reads the clock.
//
//	rules, err := safety.Builtin(cfg, safety.BuiltinSources{Backups: catalog, Graph: graph, History: history})
//	eng, err := safety.New(rules, safety.WithApprovals(approvals), safety.WithAuditor(auditLog))
//
//	p := safety.Proposal{Action: safety.ActionStop, Resource: res, Requester: "reaper", Now: now}
//	d, err := eng.Check(ctx, p)
//	switch {
//	case err == nil:
//		// allowed: act now (and record it in the ActionHistory)
//	case errors.Is(err, safety.ErrApprovalRequired):
//		req, err := approvals.Request(ctx, p, d, "idle for 3 days")
//		// ... a human approves (approvals.Approve); later:
//		p.ApprovalID, p.Now = req.ID, later
//		if _, err := eng.Check(ctx, p); err == nil {
//			if _, err := approvals.Execute(ctx, req.ID, p); err == nil {
//				// act now
//			}
//		}
//	default:
//		// blocked: d.Blocking names the rules and their reasons,
//		// d.Recommendations says what would make it safe
//	}
//
// # Rules, results and decisions
//
// A Rule checks one aspect of a proposal and returns a Result: an Outcome
// (Pass, RequireApproval or Block), a Risk with the factors that set it,
// and recommendations ("take a snapshot first", "schedule for Mon
// 2026-03-30 18:00 Europe/Berlin"). The Engine runs its rules, at most
// Policy.Concurrency at once and within Policy.Timeout, and combines the
// results into a Decision:
//
//   - blocked when any rule blocks;
//   - otherwise approval required when a rule asks for it or the highest
//     risk reaches Policy.ApprovalRisk (default high), unless the proposal
//     carries a granted approval bound to it;
//   - otherwise allowed.
//
// The engine fails closed: a rule that returns an error, does not answer
// within the timeout, panics, returns an invalid outcome or risk, or sees
// its context end blocks the proposal, and the decision says which rule
// and why (a *RuleError, matching ErrRuleFailed, in the chain). So does an
// invalid proposal (provider.ErrInvalid) and an auditor that cannot record
// the decision (ErrAudit). Engine.Check returns a *BlockedError, matching
// ErrBlocked, for every proposal that may not go ahead.
//
// Engine.Preview is a dry run (policy preview): it decides a batch of
// proposals without recording anything and reports what would be allowed,
// need approval or be blocked, and by which rules.
//
// # Built-in rules
//
// Builtin builds them all from one BuiltinConfig, with the seed's
// defaults:
//
//   - critical (CriticalRule): production, roles database, load balancer
//     and monitoring, criticality high or critical, a protection tag; per
//     action block or require approval (terminate blocks, stop/resize/scale
//     in need approval);
//   - dependencies (DependencyRule): blocks while live dependents exist in
//     a DependencyGraph, and fails on a cycle;
//   - backup (BackupRule): a complete, verified backup within 24 h from a
//     provider.BackupCatalog, reporting its age;
//   - business_hours (BusinessHoursRule): Mon–Fri 09:00–18:00 in the
//     resource's IANA time zone (DST-correct), holidays (dates and
//     HolidayCalendar), blackout windows; the spec is parsed by
//     ParseSchedule;
//   - gradual (GradualRule): at most 50 % change of desired capacity per
//     step;
//   - limits (LimitsRule): desired capacity in [1, 10], at most half of a
//     fleet acted on per hour;
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
//   - change nothing (Preview calls rules too), honour ctx, be safe for
//     concurrent use;
//   - if the rule never blocks on I/O, implement Inliner (or list it in
//     WithInline) so the engine runs it without a goroutine.
//
// See ExampleRuleFunc, and examples/safety-rule for a runnable program.
//
// # Approvals
//
// A proposal that needs approval becomes an ApprovalRequest
// (Approvals.Request) with an ID, the requester, the reason, the risk and
// an expiry (ApprovalPolicy.TTL, default 4 h). Approve and Deny take the
// approver's identity; self-approval is refused; an approval is bound to
// the proposal's Fingerprint (action, resource, current and target
// capacity or size), so a changed target needs a new approval; expired,
// denied and cancelled requests never execute; Execute consumes an
// approval once. The state machine is drawn on ApprovalState. Requests
// live in an ApprovalStore (MemoryApprovalStore here; the coordination
// package adds a shared one), and every state change is an AuditEvent
// sent to an Auditor. Package safetytest checks any ApprovalStore against
// the contract.
//
// Everything here is safe for concurrent use. Constructors validate their
// policies (a zero policy means the defaults) and return errors matching
// provider.ErrInvalid that name the field and value.
package safety

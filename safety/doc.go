// Package safety is the gate every mutation passes: rules, risk levels and
// approvals, failing closed on any error.
//
// Every stop, terminate, resize and capacity change a host makes through
// idlescale is described as a Proposal and checked by an Engine before it
// happens:
//
//	eng, err := safety.New(rules, safety.WithApprovals(approvals), safety.WithAuditor(auditLog))
//	...
//	d, err := eng.Check(ctx, safety.Proposal{
//		Action:    safety.ActionStop,
//		Resource:  res,
//		Requester: "reaper",
//		Reason:    verdict.Reason,
//		Now:       now,
//	})
//	switch {
//	case err == nil:
//		// allowed: act now
//	case errors.Is(err, safety.ErrApprovalRequired):
//		req, _ := approvals.Request(ctx, p, d, "idle for 3 days")
//		// ask a human; once approved, set p.ApprovalID = req.ID, Check
//		// again and call approvals.Execute right before acting
//	default:
//		// blocked: d.Blocking says which rules and why
//	}
//
// # Rules and the engine
//
// A Rule looks at one aspect of a proposal and returns a Result: an
// Outcome (Pass, RequireApproval or Block), a Risk with the factors that
// set it, and recommendations. The Engine runs its rules concurrently (at
// most Policy.Concurrency at once, within Policy.Timeout) and combines
// their results into a Decision: blocked when any rule blocks; approval
// required when a rule asks for it or the risk reaches
// Policy.ApprovalRisk; allowed otherwise. The engine fails closed: a rule
// that returns an error, does not answer in time, panics, or sees its
// context cancelled blocks the proposal, and the Decision says so.
// Engine.Check returns a *BlockedError (matching ErrBlocked) for every
// proposal that may not go ahead. Engine.Preview is a dry run over a batch.
//
// # Approvals
//
// A proposal that needs approval becomes an ApprovalRequest (Approvals.
// Request) kept in an ApprovalStore; the state machine is drawn on
// ApprovalState. Approvers are never the requester, an approval is bound to
// the proposal's Fingerprint, expired and denied requests never execute,
// and every state change is an AuditEvent sent to an Auditor. The
// safetytest package checks any ApprovalStore against the contract.
package safety

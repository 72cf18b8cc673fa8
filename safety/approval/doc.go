// Package approval is the human approval step of the safety gate: a
// proposal the engine will only let through with a granted approval
// becomes a Request that a different person approves or denies, that
// expires, and that executes once.
//
// A Manager runs the state machine (drawn on State) over a Store and
// records every transition as a safety.AuditEvent with a safety.Auditor,
// the same auditor the engine records its decisions with. The engine sees
// approvals only through safety.ApprovalVerifier, which a Manager
// implements (Verify); package safety does not import this one.
//
//	store := approval.NewMemoryStore() // or a shared one (etcd) for several replicas
//	approvals, err := approval.New(approval.Config{TTL: 2 * time.Hour}, store, approval.WithAuditor(auditLog))
//	eng, err := safety.New(safety.Config{}, rules, safety.WithApprovals(approvals), safety.WithAuditor(auditLog))
//
//	d, err := eng.Check(ctx, p)
//	if errors.Is(err, safety.ErrApprovalRequired) {
//		req, err := approvals.Request(ctx, p, d, "idle for 3 days")
//		// ... a human approves: approvals.Approve(ctx, req.ID, "alice", now, "ok")
//		// later, before acting:
//		p.ApprovalID, p.Now = req.ID, later
//		if _, err := eng.Check(ctx, p); err == nil {
//			if _, err := approvals.Execute(ctx, req.ID, p); err == nil {
//				// act now
//			}
//		}
//	}
//
// # The rules an approval follows
//
//   - A request is made from the engine's decision for exactly that
//     proposal (Manager.Request refuses a decision that is blocked, does
//     not need approval, or was made for another proposal).
//   - Approve and Deny take the approver's identity; self-approval is
//     refused (ErrSelfApproval). Identities are compared after
//     normalisation (SameIdentity: white space, case, invisible
//     characters and compatibility forms do not matter), so "Reaper"
//     cannot approve what "reaper" asked for.
//   - Every identity a Manager is given (the proposal's requester in
//     Request, Claim, Execute and Verify, the approver, who cancels,
//     completes or releases) must name someone: one that is empty once normalised, is
//     not UTF-8 or contains a control character (NUL, DEL, a C1 control,
//     tab, newline; most interfaces show none of them, so
//     "autoscaler\x00" would pass for "autoscaler") is refused with
//     provider.ErrInvalid naming the field.
//   - An approval is bound to the proposal's Fingerprint (action,
//     resource, current and target capacity or size): a changed target
//     needs a new approval (ErrMismatch).
//   - An approval covers the proposals judged from the time it was
//     granted (and its request made) to its expiry: Verify, Claim and
//     Execute refuse one whose Now is before it (ErrTransition).
//   - A request lapses Config.TTL after it was made (default 4h); expired,
//     denied and cancelled requests never execute (ErrExpired,
//     ErrTransition).
//   - An approval is consumed once: Claim takes it right before the host
//     acts, and Complete spends it when the change happened, or Release
//     gives it back when the provider says nothing changed (Execute does
//     Claim and Complete at once). A claim whose outcome is never reported
//     (a crash) stays visible as executing until its expiry.
//
// Every method takes the time it acts at; nothing reads a clock. A
// transition that was stored is audited even when the caller's context
// ends just after the write (within 30 s), so that the shared trail says
// who made every transition a replica may act on.
//
// # Stores
//
// Requests live in a Store: MemoryStore in one process, or a shared store
// (package safety/approval/etcdstore, on etcd) so that a request made on
// one replica can be approved on another and still executes once. Package
// approvaltest checks any Store against the contract written on Store.
//
// Everything here is safe for concurrent use.
package approval

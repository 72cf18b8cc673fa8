// Package etcdaudit is a safety.Auditor on etcd: one audit trail of
// safety decisions and approval transitions, shared by every replica of a
// host.
//
// Each event is one key, Config.Prefix + "audit/" + the event time (Unix
// nanoseconds, 19 digits) + "-" + a random suffix, holding the
// safety.AuditEvent as JSON. Log.Events reads the events back in the
// order etcd committed them, so every replica sees the same trail.
// Log.EventsAfter reads those committed after a revision, for a reader
// that follows the trail (monitor.ImportAuditAfter): an event's time is
// its proposal's, not its commit's, so one committed after a read may be
// stamped before the newest event that read returned. An event a newer
// version recorded, of a kind, action, outcome or risk this one does not
// know, is returned with those values as stored (their Validate refuses
// them), so that a rolling upgrade does not fail the older replicas'
// reads; monitor.ImportAudit leaves such an event out and names it.
//
// Events are written with a lease so that they disappear Config.Retention
// after they were recorded (30 days by default): the log keeps a bounded
// amount of history without a clean-up job. One lease serves all events
// recorded within Retention/30 of each other, so an event lives between
// Retention and Retention + Retention/30.
//
// Record retries failed requests briefly (Config.RequestTimeout,
// Config.MaxRetries) and then fails with ErrStore. An auditor that fails
// makes the safety gate fail closed: safety.Engine.Check blocks the
// proposal, and the approval.Manager's call reports safety.ErrAudit.
//
//	cli, _ := clientv3.New(clientv3.Config{Endpoints: endpoints})
//	audit, err := etcdaudit.New(etcdaudit.Config{Prefix: "myhost/"}, cli)
//	...
//	eng, err := safety.New(safety.Config{}, rules, safety.WithAuditor(audit), ...)
//	approvals, err := approval.New(approval.Config{}, store, approval.WithAuditor(audit))
//
// The approval requests shared by the replicas are in package
// safety/approval/etcdstore; it may use the same Prefix (its keys live
// under Prefix + "approvals/").
package etcdaudit

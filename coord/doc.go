// Package coord runs several replicas of a host on etcd: leader election
// per scope, fencing of the leader's writes, and shared state.
//
// # Leader election
//
// An Elector campaigns for one scope, the whole fleet ("fleet") or one
// shard of targets (ShardScope), with etcd's concurrency.Election. Each
// candidate holds a session (a lease of Options.SessionTTL, kept alive in
// the background): a replica that resigns hands the leadership over at
// once; one that crashes loses it when its lease expires.
//
//	el, err := coord.NewElector(cli, "fleet", hostname, coord.Options{SessionTTL: 5 * time.Second})
//	...
//	err = el.Run(ctx, func(ctx context.Context, l *coord.Leadership) error {
//		// The leader's loop. ctx ends when the leadership is lost.
//		for ctx.Err() == nil {
//			plan := decide(...)
//			_, err := l.Fence().Do(ctx, cli, nil, clientv3.OpPut(actionKey, plan))
//			if errors.Is(err, coord.ErrFenced) {
//				return err // deposed: another replica leads now
//			}
//			...
//		}
//		return nil
//	})
//
// # Fencing
//
// Leadership can end between a leader's decision and its write (a long GC
// pause, a partition). A Fence (the leader key and its create revision)
// makes such a write conditional: Fence.Do commits only while the term's
// key exists, so a deposed leader's in-flight action is refused with
// ErrFenced. Fence.Cmp gives the comparison to add to any transaction.
//
// A term ends like this:
//
//	Campaign ──▶ leader ──┬── Resign ──────────────────▶ key deleted
//	                      ├── lease revoked ───────────▶ key deleted
//	                      └── crash / partition ── TTL ─▶ key deleted
//	                                                          │
//	            fenced writes of the term fail (ErrFenced) ◀──┘
//	            the next candidate is elected
//
// Run keeps campaigning, calls the leader's function with a context that
// ends with the term, resigns when it returns, and stops cleanly when its
// context ends.
//
// # Shared state
//
// ApprovalStore is an approval.Store (package safety/approval) on etcd
// (one key per request, create-if-absent and compare-and-swap updates),
// so that a request made on one replica can be approved on another and
// executes once. AuditLog
// is a safety.Auditor on etcd (one key per event, read back in commit
// order, expired after StoreOptions.AuditRetention). Both retry failed
// requests briefly and then fail with ErrStore, which the safety package
// treats as a failure (fail closed). The rate-limit history shared by the
// replicas is ratelimit/etcdstore.
//
//	store, _ := coord.NewApprovalStore(cli, coord.StoreOptions{})
//	audit, _ := coord.NewAuditLog(cli, coord.StoreOptions{})
//	approvals, _ := approval.New(approval.Config{}, store, approval.WithAuditor(audit))
//
// All types are safe for concurrent use.
package coord

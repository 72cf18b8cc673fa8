// Package etcdstore is an approval.Store on etcd, so that several
// replicas of a host share one set of approval requests: a request made on
// one replica can be approved on another, and it executes once.
//
// Every request is one key, Config.Prefix + "approvals/" + the escaped
// request ID, holding the request as JSON with one more member,
// "etcdstore_write": a random token that each write (a Create, or one
// round of an Update) draws for itself. A value without it, as written
// before it existed, reads the same, and approval.Request ignores it, so
// replicas of an earlier version read the new values too. Create is a
// put-if-absent transaction. Update is a compare-and-swap loop: it reads
// the request, applies the change, and writes it back in a transaction
// conditioned on the key's ModRevision; when another replica wrote in
// between, the change is applied again to the fresh value. Two replicas
// racing to approve and to deny one request therefore never both succeed:
// both need it pending, and only the first write commits. The same holds
// when both make the identical change (two replicas executing or
// claiming one approval for the same proposal at the same time): the
// loser's change is applied again to the request as the winner left it,
// which the approval.Manager refuses (approval.ErrTransition), so the
// approval is used once.
//
// etcd's client does not retry a Put or Txn when a member dies, so every
// request has a short timeout (Config.RequestTimeout) and the store
// retries failed requests (Config.MaxRetries). A write whose reply was
// lost may have been applied: the store recognises its own write by its
// token when it reads the key again, so a retried Create does not report
// ErrExists for its own request, nor a retried Update lose to itself. The
// token, not the value, tells: a request another replica wrote is never
// taken for this one's, even when it is byte for byte the same. (A write
// that was applied and then overwritten by another replica before the
// retry read it is not recognised: the Update applies its change again
// to the newer value, which usually fails, closed.) A write whose request
// failed for good (its retries exhausted, or its caller's context ended
// while etcd committed it) is looked up once more, for one
// RequestTimeout and past the caller's end: found, it succeeded, so that
// the approval.Manager records a transition that was stored. Otherwise
// the store returns an error matching ErrStore (or the context's), and
// the approval.Manager's call fails (fail closed: nothing is approved or
// executed on a guess).
//
// The store passes the approvaltest conformance suite against a real
// etcd. It never deletes a request (approval.Store has no delete), and
// List reads every request under the prefix: a host that makes many
// requests removes closed ones under Prefix + "approvals/" itself.
//
//	cli, _ := clientv3.New(clientv3.Config{Endpoints: endpoints})
//	store, err := etcdstore.New(etcdstore.Config{Prefix: "myhost/"}, cli)
//	...
//	approvals, err := approval.New(approval.Config{}, store, approval.WithAuditor(audit))
//
// The audit trail shared by the replicas is package safety/etcdaudit; it
// may use the same Prefix (its keys live under Prefix + "audit/").
package etcdstore

// Package etcdstore is an approval.Store on etcd, so that several
// replicas of a host share one set of approval requests: a request made on
// one replica can be approved on another, and it executes once.
//
// Every request is one key, Config.Prefix + "approvals/" + the escaped
// request ID, holding the request as JSON. Create is a put-if-absent
// transaction. Update is a compare-and-swap loop: it reads the request,
// applies the change, and writes it back in a transaction conditioned on
// the key's ModRevision; when another replica wrote in between, the
// change is applied again to the fresh value. Two replicas racing to
// approve and to deny one request therefore never both succeed: both need
// it pending, and only the first write commits.
//
// etcd's client does not retry a Put or Txn when a member dies, so every
// request has a short timeout (Config.RequestTimeout) and the store
// retries failed requests (Config.MaxRetries). A write whose reply was
// lost may have been applied: the store recognises its own value when it
// reads the key again, so a retried Create does not report ErrExists for
// its own request. When the retries are exhausted the store returns an
// error matching ErrStore, and the approval.Manager's call fails (fail
// closed: nothing is approved or executed on a guess).
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

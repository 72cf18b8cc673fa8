// Package etcdstore is a ratelimit.Store on etcd, so that several
// replicas of a host share one budget.
//
// Every bucket (a target and direction, or the global budget) is one key,
// prefix + "b/" + escaped target + "/" + direction, or prefix + "global",
// holding the bucket's ratelimit.History as JSON: its events of the last
// Config.History and its horizon, the time of its newest reservation
// ({"events":[...],"horizon":"..."}; a value written by an earlier version,
// a JSON array of events, is still read, and the horizon is then its
// newest event). Only these keys are read (Snapshot too), so keys of
// another store under the same prefix are left alone. A replica of an
// earlier version cannot read the new
// form: it denies its reservations (ErrCorrupt, fail closed) until it is
// upgraded too. An event's direction is read as text: one this version
// does not know (a newer replica's, during a rolling upgrade) counts in
// the bucket that holds it, as every event does, and is written back
// unchanged. A
// reservation reads its keys, decides, and writes them back in a
// transaction that compares each key's ModRevision with what it read; when
// another replica wrote in between, the transaction fails and the
// reservation is decided again on fresh data. N replicas therefore never
// exceed the budget together.
//
// etcd's client does not retry a Put or Txn when a member dies, so every
// request has a short timeout (Config.RequestTimeout) and the store
// retries failed requests (Config.MaxRetries). A write whose answer was
// lost may have been applied: the limiter recognises its own event (by its
// random ID) when it runs again, so a retry never counts an event twice.
// When the retries are exhausted, the error is returned and the limiter
// denies the event (fail closed).
//
// A bucket's value holds its events of the last Config.History: with the
// default rules at most 120 events (about 10 KB); the global bucket keeps
// only its own window plus the limiter's Config.MaxSkew. Rules that allow thousands of events per target per
// day approach etcd's request size limit (1.5 MiB by default).
//
// Key growth is bounded: every update prunes the history; a key whose
// history is empty (no events and no horizon) is deleted; and every write
// attaches a lease that expires Config.LeaseTTL (25 h) after it was
// granted, so buckets of targets that are never touched again disappear
// (with a negative LeaseTTL, no leases, they stay until deleted by hand:
// a host whose targets come and go grows the prefix by theirs).
// The lease must outlast the limiters' Config.History, and every budget's
// window plus Config.MaxSkew (Store.Retention): ratelimit.New refuses a
// limiter whose events the store would forget,
// since a bucket that disappeared with events its windows still count
// would let the budget be exceeded.
// (A bucket whose events were all cancelled keeps its horizon until then,
// so that reservations stamped long before it stay denied.) Only a handful of keys
// are rewritten, which keeps etcd's auto-compaction effective.
//
//	cli, _ := clientv3.New(clientv3.Config{Endpoints: endpoints})
//	store, err := etcdstore.New(etcdstore.Config{Prefix: "myhost/ratelimit/"}, cli, etcdstore.WithLogger(logger))
//	...
//	check, err := etcdstore.NewConfigCheck(podName, cfg, store, cli)
//	...
//	go check.Run(ctx) // until ctx ends; check.Status() for a health endpoint
//	lim, err := ratelimit.New(cfg, ratelimit.WithStore(store), ratelimit.WithPeers(check))
//
// # Replicas that disagree
//
// Every limiter on a store must run the same ratelimit.Config: each
// enforces its own budget on the shared history, so a replica with a
// looser one (more events, a shorter window or interval, larger units)
// makes the fleet's real limit its own, silently. A ConfigCheck tells:
// each replica publishes the fingerprint of its limiter's Config (the
// SHA-256 of the canonical JSON of ratelimit.Config.Resolved, so that a
// default left zero and one written out agree, with the JSON as the
// readable form) under Prefix+"replicas/"+its ID, bound to a lease of
// ConfigTTL (deleted when Run returns), reads the others' on start and
// follows them with a watch. A replica whose Config differs, or whose
// fingerprint is unreadable (an error matching ErrConfigFingerprint that
// names the key), is logged (a warning through WithLogger naming the
// replica, its key and the fields that differ, with both values, once
// per change) and listed by Status, whose Conflict method makes it an
// error matching ErrConfigMismatch for a health check or an alert; it
// clears when that replica leaves or is redeployed alike. The store's own
// Config (timeouts, retries, lease) may differ per replica and is not
// compared.
//
// A mismatch does not stop the limiters: a rolling deploy that changes
// the budgets runs old and new replicas side by side for minutes, and
// denying every reservation then would stop all scaling. Given the check
// (ratelimit.WithPeers), a limiter holds to the strictest of its own
// Config and the others' instead, rule by rule (see "Replicas that
// disagree" in package ratelimit), so that, when every replica gives its
// limiter its check, the fleet runs at no looser budget than its
// strictest live replica's (from the moment the checks have read each
// other: a watch delivers a new replica's fingerprint within moments). An
// unreadable fingerprint is reported but adds no rule. Without WithPeers
// each limiter keeps deciding on its own Config, and the check only
// reports. The store's LeaseTTL is checked (ratelimit.New) against the
// replica's own History only: give every replica a lease that covers
// the longest History any of them runs.
package etcdstore

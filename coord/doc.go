// Package coord lets several replicas of a host take turns on etcd: leader
// election per scope, and fencing of the leader's writes so that a
// deposed leader cannot act.
//
// # Leader election
//
// An Elector campaigns for one scope, the whole fleet ("fleet") or one
// shard of targets (ShardScope), with etcd's concurrency.Election. Each
// candidate holds a session (a lease of ElectorConfig.SessionTTL, kept
// alive in the background): a replica that resigns hands the leadership
// over at once; one that crashes loses it when its lease expires.
//
//	el, err := coord.NewElector(coord.ElectorConfig{Scope: "fleet", ID: hostname, SessionTTL: 5 * time.Second}, cli)
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
// Every request of a leader lookup or a resignation, and a campaign's
// lease grant, is bounded by ElectorConfig.RequestTimeout (default 1s)
// and retried up to ElectorConfig.MaxRetries times (default 4), so that a
// request that times out on a loaded host, or meets an etcd leader
// election, does not fail a leadership operation. A campaign's write and
// its wait for the candidates before it run under the caller's context,
// as in etcd's concurrency.Election (the wait has no bound): a write that
// fails is retried, but one whose connection dies without an error waits
// until the client finds the connection dead. When the context ends, the
// campaign ends with it: the candidate's key goes with its session's
// lease, revoked with bounded requests, also when etcd is unreachable. Give the
// client gRPC keepalives (clientv3.Config's DialKeepAliveTime and
// DialKeepAliveTimeout, as examples/replicas does) so that it finds out
// in seconds.
//
// Run keeps campaigning, calls the leader's function with a context that
// ends with the term, resigns when it returns, and campaigns again. Run
// returns nil when ctx ends; failed campaigns and the leader function's
// errors are logged (WithLogger), not returned.
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
// # Shards
//
// A large fleet is split into shards so that its work spreads over the
// replicas. ShardOf hashes a resource ID to one of N shards (32-bit FNV-1a
// modulo N: stable across replicas, releases and restarts, allocation
// free). A Shards runner makes one replica's part of the cluster:
//
//	sh, err := coord.NewShards(coord.ShardsConfig{ID: hostname, Shards: 64}, cli)
//	...
//	err = sh.Run(ctx, func(ctx context.Context, shard int, l *coord.Leadership) error {
//		// Lead one shard; ctx ends when the shard moves or the term ends.
//		...
//	})
//
// Each replica registers a membership key bound to its lease and watches
// the others; Assign (rendezvous hashing with bounded load) gives each live
// member ⌊N/m⌋ or ⌈N/m⌉ shards, and the replica campaigns, with one
// Elector per shard scope (ShardName), only for the shards it owns. When
// a replica joins, the others resign the shards it now owns; when one
// leaves, it resigns and revokes its membership, so that the others take
// over at once; when one crashes, its membership and leader keys expire
// after SessionTTL and the others take its shards then. A replica whose
// membership fails (its lease is lost, its watch ends, its key is
// deleted) stops every shard and joins again after RetryDelay; a members
// watch that meets a compaction (it resumed, after its connection was
// lost, from a revision etcd has compacted since) reads the members again
// instead and goes on. The shard count
// is recorded in etcd by the first replica: a replica configured with
// another count fails with ErrShardCount rather than remap the fleet. A
// replica started with a live one's ID is not let in (ErrDuplicateID,
// logged): it waits for the other's lease to end, as a restarted pod waits
// for its crashed predecessor's.
// Package coord/shardsweep runs the hourly idle evaluation of each shard
// on it.
//
// # State the replicas share
//
// What the replicas share lives beside what it is for: the rate-limit
// history in ratelimit/etcdstore, approval requests in
// safety/approval/etcdstore, the audit trail in safety/etcdaudit, the
// actions the fleet-share limit counts in safety/etcdhistory. A
// leader typically reserves budget there, then makes its fenced write,
// and refunds the reservation when the write is refused.
//
// All types are safe for concurrent use.
package coord

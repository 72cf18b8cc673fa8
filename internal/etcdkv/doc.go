// Package etcdkv is the plumbing the library's etcd-backed parts share
// (ratelimit/etcdstore, safety/approval/etcdstore, safety/etcdaudit,
// safety/etcdhistory and coord), so that each of them holds only what it
// stores and how:
//
//   - Config: the settings every one of them has (key prefix, per-request
//     timeout, retries, lost compare-and-swap rounds), validated and
//     defaulted in one place; each public package copies the fields it
//     uses into its own exported Config.
//   - Retrier: a request bounded by a per-request timeout (etcd's client
//     does not retry a Put or Txn when a member dies), retried with a
//     jittered exponential backoff on a clock.Clock while the error says
//     another attempt may succeed (Retryable).
//   - CAS: the optimistic-concurrency loop: read, decide, write
//     conditioned on what was read, and start again after a short backoff
//     when another writer won.
//   - Leases: one lease for a store's writes, granted again once per
//     renewal period, so that written keys expire on their own; with a
//     Ledger (detector/etcdstore only) the leases granted longer than
//     their TTL ago on the store's clock are revoked, since etcd restarts
//     a lease's countdown at each leader change.
//   - ErrStore: the one sentinel for "etcd failed after the retries",
//     which the public packages export under their own name.
package etcdkv

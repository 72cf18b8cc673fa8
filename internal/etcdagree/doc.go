// Package etcdagree tells replicas that share state on etcd but run
// different shared configurations. Each replica publishes a fingerprint
// of its shared configuration (the SHA-256 of its canonical JSON, with
// the JSON itself as the readable form) under Prefix + its ID, bound to a
// lease, so that it disappears with the replica; it reads the others' on
// start and follows them with a watch, and its Status lists every live
// replica whose configuration differs, with the fields that differ, or
// whose fingerprint is unreadable (an error naming the key).
//
// The public packages (coord/shardsweep, ratelimit/etcdstore) choose what
// goes into the fingerprint (never what legitimately differs per replica:
// IDs, timeouts, tuning) and what a mismatch stops.
package etcdagree

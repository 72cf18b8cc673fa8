// Package etcdhistory is a safety.ActionHistory on etcd: the actions that
// the limits rule's fleet share counts (safety.LimitsRule), shared by
// every replica of a host and kept across restarts.
//
// safety.MemoryHistory lives and dies with its process: a reaper restarted
// half an hour after stopping half a fleet starts counting from zero and
// may stop the other half, and four replicas each stop their own share. A
// History keeps the records in etcd instead, so the limit counts what every
// replica did, before a restart too. Pass the same *History to the limits
// rule, which reads it, and to the reaper and the scaling engine, which
// record their actions in it:
//
//	hist, err := etcdhistory.New(etcdhistory.Config{Prefix: "myhost/"}, cli)
//	...
//	limits, err := safety.NewLimitsRule(safety.LimitsConfig{}, hist)
//	reaper.New(cfg, fleet, ensemble, gate, reaper.WithHistory(hist), ...)
//	scaling.NewEngine(..., scaling.WithActionHistory(hist))
//
// Each record is one key, Config.Prefix + "history/" + the fleet
// (path-escaped, so that fleet "web" never counts fleet "web/canary") +
// "/" + the action's time (Unix nanoseconds, 19 digits) + "-" + a random
// suffix, holding the number of instances acted on. Records are written
// with a lease, so that they disappear Config.Keep after they were
// written (between Keep + Keep/30 and Keep + Keep/15; one lease serves
// the records written within Keep/30 of each other), without a clean-up
// job. ActedOn refuses to answer for a time it may have forgotten (before
// now − Keep − Keep/30), so a Keep shorter than the limits window fails
// the rule instead of letting it count too few, while a Keep equal to it
// answers a proposal whose Now lags the history's clock by up to Keep/30
// (the reaper's may be a minute old).
//
// Replicas that share a history must use the same Keep: a record outlives
// its writer's Keep only, so a replica with a longer one would count too
// few once another's records expire. Each Keep that records is marked
// (Config.Prefix + "history-keep/" + the Keep in nanoseconds, holding the
// time of its latest record, without a lease), and ActedOn refuses, with
// an error matching provider.ErrInvalid that names the other Keep, to
// answer for a since that a shorter Keep, which recorded at or after it,
// may have forgotten: the limits rule fails and the action is blocked
// until the replicas agree, or until the window no longer reaches that
// Keep's latest record. The marker is one per Keep, not per fleet: a
// shorter Keep that recorded for any fleet blocks the rule for every
// fleet whose window reaches its latest record, which is broader than
// needed and fails closed. Replicas of a version before the markers
// write none, so the check cannot see them: upgrade every replica before
// giving any of them another Keep.
//
// Every request is retried briefly (Config.RequestTimeout,
// Config.MaxRetries) and then fails with ErrStore. A history that fails
// makes the limits rule fail, and the safety engine blocks the action
// (fail closed); a record that fails is reported by the reaper on the
// action's record (reaper.StageRecord) and by the scaling engine as an
// error of the change.
//
// The count is read, then acted on: two replicas that check the same fleet
// at the same moment may both act, and exceed the share by the actions
// decided at once. A hard bound across replicas is a rate limit on etcd
// (package ratelimit/etcdstore), whose reservations are atomic.
package etcdhistory

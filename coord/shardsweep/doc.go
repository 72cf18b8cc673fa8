// Package shardsweep runs a large fleet's hourly idle evaluation over
// several replicas of a host: the resources hash to shards
// (coord.ShardOf), each shard is led by one replica at a time
// (coord.Shards: membership on leases, one election per shard, balanced
// ownership), and the leader of a shard sweeps its resources once per
// period with a detector.Tracker whose states live in etcd, then acts on
// the verdicts through the host's Actor.
//
// # Usage
//
//	cli, _ := clientv3.New(clientv3.Config{Endpoints: endpoints})
//	ens, _ := detector.NewEnsemble(detector.EnsembleConfig{})
//	r, err := shardsweep.New(shardsweep.Config{
//		Shards: coord.ShardsConfig{ID: podName, Shards: 64},
//		Period: time.Hour,
//	}, cli, ens, detector.Fleet{Inventory: cloud, Metrics: quotaSource}, actor)
//	...
//	err = r.Run(ctx) // until ctx ends
//
// Every replica runs the same configuration except Shards.ID (and its
// own timings and tuning: see "Replicas that disagree"). The shard
// count is fixed for the life of the cluster: the first replica records
// it, and a replica with another count fails with coord.ErrShardCount
// instead of hashing the fleet differently. Use several times more shards
// than replicas (64 for up to a dozen replicas), so that ownership can be
// balanced and a lost replica's work spreads over the others.
//
// # Replicas that disagree
//
// A replica whose shared configuration differs from the others' would
// sweep its shards on another schedule, over other resources or with
// other thresholds, and nothing else would tell. So each running replica
// publishes a fingerprint of it under Shards.Prefix+"config/"+Shards.ID,
// bound to a lease of Shards.SessionTTL (deleted when Run returns): the
// SHA-256 of the canonical JSON of its shared fields, with the JSON as
// the readable form. The shared fields are Shards.Shards, Period, Delay,
// Prefix, Filter and Tracker (defaults filled in) and the ensemble's
// configuration (detector.Ensemble.Config); what may differ per replica
// is left out: Shards.ID, the timings of its etcd requests and lease,
// and Chunk, Concurrency and ActTimeout (its memory and time, not what
// it sweeps). Each replica reads the others' fingerprints on start and
// follows them with a watch. One that differs is logged (a warning naming
// the replica, its key and the fields that differ, with both values,
// once per change), listed by Runner.ConfigStatus, and in every pass's
// Report.Mismatches, so that an Observer (a metric, an alert) sees it at
// every period while it lasts; when the replica leaves or is redeployed
// alike, it clears (and that is logged).
//
// What differs decides what stops. A replica with another Period, Delay,
// Filter, Tracker or ensemble sweeps some resources twice, late, never or
// with other verdicts, but each act is still claimed once for its
// period: the passes go on, so that a rolling deploy changing one of
// them, which runs old and new replicas side by side for minutes, does
// not stop the fleet's evaluation. A replica with another Prefix keeps
// its claims and progress in another key space, so that a resource could
// be acted on twice in a period: while a live replica differs in Prefix,
// or its fingerprint is unreadable (an error naming the key, matching
// ErrConfigFingerprint), no pass runs, on any replica: each refused pass
// is logged (an error) and reported (Report.Err matching
// ErrConfigMismatch, naming the replicas, keys and fields) once per
// change and once per period, and sweeping resumes when they agree. So
// are the passes while this replica's own check is down (etcd failed, the
// watch ended, its lease or key was lost: ConfigStatus.Err): its
// fingerprint is unpublished then, so the others cannot read it, and a
// replica that joined since is not known; each refused pass reports the
// check's error (matching coord.ErrStore), and sweeping resumes when the
// check has published and read them again (Shards.RetryDelay after the
// failure, in real time, as coord campaigns again). A pass started before the
// other replica's fingerprint arrived (a watch delivers it within
// moments) finishes. (A replica with another shard
// count is reported, but coord.Shards refuses to run it: it leads no
// shard, and the others sweep on.)
//
// # A pass
//
// The leader of shard k, at Period boundary p plus Delay, runs:
//
//	list inventory ─► keep ShardOf(id) = k ─► leave out the IDs listed
//	                                          more than once
//	                                          (Report.Duplicated)
//	                                             ▼
//	                                          for each chunk (Config.Chunk
//	                                          resources):
//	                                          Tracker.Sweep(now = p)
//	                                           states: Load, and Save only
//	                                           under the term's fence
//	                                             │ a save refused: deposed,
//	                                             │ stop (coord.ErrFenced)
//	                                             ▼
//	for each verdict with an action:  read it again: changed since the
//	                                  listing or unreadable: skip
//	                                  (Report.Changed), decided next period
//	                                  a stop or terminate: read its activity
//	                                  again, since p: used (Report.InUse) or
//	                                  unreadable (Report.Unchecked): skip,
//	                                  decided next period
//	                                  claim (resource, p) under the fence
//	                                    ├─ refused: deposed, stop
//	                                    ├─ claimed before: skip
//	                                    └─ ours: Actor.Act on the fresh copy,
//	                                             record outcome
//	                                  the chunk's verdicts to WithVerdicts
//	                                             ▼
//	                                  mark p done for k (under the fence)
//
// A verdict is made at p, and acted on Delay and the sweep's time later:
// a stop or a terminate is claimed only when its resource's activity,
// read again just before the claim (detector.Recheck with the ensemble's
// kinds, from p to the pass's time on the runner's clock, and at least
// the ensemble's quiet period), shows no use. A login since p keeps the
// machine running (Report.InUse); a read that fails does too
// (Report.Unchecked: it could have shown use). The Actor is not called
// for either, and the VerdictObserver gets its verdict with no action and
// a reason of the "recheck" signal saying why. A fleet without an
// activity source (neither Fleet.Activity nor a Metrics that reads
// activity) has nothing to read again, as the Tracker had nothing to
// read.
//
// # Terminate
//
// A runner does not terminate, and none of its own settings makes it:
// Config has no list of actions (the runner hands the Actor every
// verdict with an action, and the Actor decides what it carries out), and
// its verdicts do not recommend a terminate. The ensemble terminates
// rather than stops the kinds detector.Terminable names (functions,
// volumes, load balancers), and only on activity data over its
// EvidenceConfig.TerminateWindow (28 days by default) showing no use; the
// Tracker reads the activity over the ensemble's quiet period
// (ActivityConfig.Quiet, 30 minutes by default) before the period's
// start, so such a resource, however idle, gets no action: its verdict is
// idle with a reason "no activity data covering 28d"
// (detector.ReasonNoUse for the terminate, its Duration the 30 minutes
// read), and the Actor is not called for it. (Only an ensemble whose
// Quiet is at least its TerminateWindow would recommend one, and it would
// then judge every stop on that quiet period too.) To terminate idle
// functions, volumes and load balancers, run the reaper with terminate in
// its Config.Actions: its scan reads their activity over the terminate
// window.
//
// A resource ID the inventory lists more than once (a cloud API paging
// while an instance restarts lists a stale copy with the current one) is
// neither swept nor acted on in that pass: its copies may disagree (a
// launch time inside the grace period on one, long ago on the other), and
// a stop must rest on the evidence of one resource. The pass reports it
// (Report.Duplicated, and a warning in the log), goes on with the others,
// and the resource is decided again in the next period, when listed once.
//
// A pass holds one chunk's verdicts at a time, not its shard's: its
// Report counts the verdicts, and a host that keeps or shows them (an
// audit trail, a dashboard) receives them through WithVerdicts. A replica's
// memory then grows with its chunks in flight (shards led × Chunk), not
// with the fleet.
//
// The shards a replica leads share one listing of the inventory per
// period: the first pass of p lists it, split by shard, and the passes of
// p that start within Delay of it (in steady state all of them: they start
// together) take their shard's part, so that a replica lists the fleet
// once a period, not once per shard (64 shards over 4 replicas: 4 lists
// of the fleet an hour instead of 64). A listing keeps the parts of the
// shards the replica leads, so a replica holds its share of the fleet,
// and is forgotten as soon as it is older than Delay (Run forgets it on
// its clock, whether or not a pass starts then), so that a replica does
// not hold the fleet's listing between its sweeps. A later pass of p (a new
// leader finishing it, a shard led since the listing) lists again; a
// listing that fails serves no one, and the passes waiting for it list on
// their own.
//
// # Guarantees
//
// No resource is acted on twice for a period: the claim is one etcd
// transaction that commits only while the leader's term lasts (its Fence)
// and only if no claim exists, and Act is called only after it commits. A
// deposed leader's claim (its lease expired during a GC pause, say) is
// refused with coord.ErrFenced, it acts on nothing more, and what it did
// not act on is not counted (Report.Fenced, not Report.Acted). A claim is
// the claiming leader's to finish: Act runs with a context that the end of
// the term does not cancel; a leader that sees its session's lease lost
// (its context ends) tries nothing more, and its pass ends with an error
// matching coord.ErrFenced. A leader that dies between a claim and the
// end of its Act leaves the claim "claimed": at most once, so that
// resource is not acted on in that period.
//
// No resource is skipped for more than one period across a replica loss:
// a period is recorded as done for a shard only after its pass, so the
// next leader of the shard (elected when the dead replica's leases expire,
// SessionTTL after its last keep-alive) first finishes the period left
// undone, skipping the resources already claimed in it, then goes on with
// the next. When no replica led a shard for more than a period (the whole
// cluster was down), the next leader sweeps the latest period, which reads
// every step since the stored states (the Tracker reads what is new), not
// each missed period in turn.
//
// The new leader resumes from the stored states: the states of the
// shard's resources are in etcd (detector/etcdstore, under
// Prefix+"state/"), so it reads only the steps since the last sweep
// (Report.Sweep.Incremental), not each resource's whole history.
//
// # Failures
//
// Anything that needs etcd fails closed: when etcd is unreachable the
// progress cannot be read and nothing can be claimed, so nothing is acted
// on; the pass stops with an error matching coord.ErrStore, which is
// logged (WithLogger) and reported (WithObserver), and the shard is
// resigned and campaigned for again. A state that cannot be loaded makes
// the Tracker read that resource in full (never "idle" by default). An
// inventory that fails ends the pass without acting; the leader keeps the
// shard and tries again after a backoff (Shards.RetryDelay, doubling, at
// most Delay), not at once, so that a failing cloud API is not listed in
// a loop. Invalid configuration
// (zero or negative shards, an empty replica ID, a zero period, …) is an
// error naming the field from New, as is a missing collaborator or a typed
// nil one that would fail on first use (a nil ActorFunc or
// provider.MetricsSourceFunc): a replica fails to start rather than panic
// in a shard's goroutine.
//
// # At scale
//
// TestScale (make scale in the repository) runs a million generated
// resources over 64 shards and 4 replicas on one embedded etcd, on 2
// cores, with a replica killed in the second hour. Measured: the
// onboarding hour (every resource read in full) took 13 minutes and
// 22.6 hours' worth of the region's GetMetricData quota; each later hour
// 8,028 calls and 48 million points (7.4 % of the quota) in 4.7 to 6.8
// minutes, with every resource read from its state, none acted on twice
// and none skipped past the hour after the kill. The killed replica
// stopped 35 seconds after its client was closed (the chunks in flight).
// States take 1,592 bytes a resource; etcd's database 5.4 KB a resource
// in use. The largest live heap of the process (the etcd member, the four
// replicas and the test's records) was 3.2 GB, 1.3 GB between peaks: the
// replicas' listings (0.3 GB, their shares of the fleet), etcd's index
// (0.4 GB) and the chunks in flight (loaded states, about 13 KB each:
// shards led × Chunk) are most of it.
//
// # Keys
//
// Under Config.Shards.Prefix: the shard count, the members and the
// elections (see coord.Shards), and "config/" + replica ID, each running
// replica's configuration fingerprint. Under Config.Prefix: "state/" + resource
// ID, the states (bound to detector/etcdstore's 30-day lease, so that those
// of resources gone from the fleet disappear), and "state.leases/" + lease
// ID, the ledger of those leases (see detector/etcdstore); ShardName + "/done", the last period done; ShardName +
// "/claims/" + period + "/" + resource ID, the claims of the current and
// the previous period (older ones are deleted after each pass).
//
// A Runner is safe for concurrent use; a replica runs one Run.
package shardsweep

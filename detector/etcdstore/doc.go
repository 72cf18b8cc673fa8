// Package etcdstore is a detector.StateStore on etcd, so that the
// replicas that share a fleet share the Tracker's per-resource states: the
// replica that takes over a resource resumes from its stored state instead
// of reading its whole history again.
//
// Every resource's state is one key, prefix + the path-escaped resource
// ID, holding the state's bytes as the Tracker encodes them (checksummed:
// a corrupt value makes the Tracker read the resource in full), bound to
// a lease (Config.LeaseTTL, 30 days by default): nothing deletes the
// state of a resource that leaves the fleet (terminated, deleted,
// replaced under a new ID), so it disappears on its own once it has not
// been saved for that long, and the prefix holds the states of the
// resources of about the last LeaseTTL, not of every resource the fleet
// ever had (which would, in time, fill etcd's quota and stop every
// write of the cluster: elections, rate limits, approvals).
//
// etcd counts a lease down only while its leader stays: by default a new
// etcd leader (a member restarted or upgraded, a network blip) gives
// every lease its whole TTL again (unless etcd runs with lease
// checkpoints, --feature-gates=LeaseCheckpoint=true,LeaseCheckpointPersist=true
// on etcd 3.6 and later), so with a leader change more often than
// monthly etcd alone would never drop a state. The store therefore keeps
// a ledger of the leases it grants, next to the states: the key
// Prefix without its trailing "/" + ".leases/" + the lease ID in
// hexadecimal ("idlescale/detector/state.leases/694d7b1c2a5e3f04" for the
// default prefix; outside the states' prefix when it ends in "/", so a
// listing of the states never sees it), attached to the lease itself and
// holding its grant time on the store's clock (WithClock) and its TTL.
// At each grant (a store grants a lease at a save, at most once per
// LeaseTTL/25, and at its first save after a restart) it lists the ledger
// and revokes every lease granted longer than its TTL ago, which deletes
// the states still bound to it and its entry; any replica does it for
// the leases of the others and of processes that are gone, so a state
// not saved again disappears at most LeaseTTL+LeaseTTL/25 after its last
// save while any replica on the prefix saves states, leader changes or
// not. (A state saved again is bound to a newer lease and stays.) A
// replica whose clock runs ahead by d revokes leases d early: a state up
// to d younger than LeaseTTL may go, which costs its resource a full read
// (fail safe), never a wrong decision. The ledger holds one entry per
// replica and LeaseTTL/25 (26 a replica, and one per restart). Its
// requests never fail a Save: a failed ledger write leaves that lease to
// etcd's countdown, and a failed listing or revoke waits for the next
// grant. An etcd role for the store must grant the ledger's key range
// too, or the ledger silently does nothing. Deleting the states of
// resources that left the fleet (Store.Delete, with the inventory the
// host lists) frees them at once.
//
// Each request has a short timeout (Config.RequestTimeout) and failed
// requests are retried (Config.MaxRetries); after that Load and Save return an
// error matching ErrStore. A failed Load makes the Tracker read the
// resource in full (a bounded read of its history, never "idle" by
// default); a failed Save is one of the evaluation's errors ("state
// save"), and the next evaluation resumes from the state saved before.
//
// Replicas that split a fleet into shards (coord.ShardScope) and lead each
// shard through a coord.Elector give each shard's Tracker the view
// store.Guarded(leadership.Fence().Cmp()): its saves commit only while the
// term lasts, so a deposed leader never overwrites the state the new
// leader resumes from. Package coord/shardsweep runs exactly this: shards
// over replicas, each shard's Tracker on this store under its fence.
//
// A state is about 1.5 KB per resource with the defaults (at most 7.8 KB
// per metric; see detector.Tracker), so a million resources take about
// 1.5 GB: within etcd's default 2 GB quota only just, so raise
// --quota-backend-bytes (etcd suggests at most 8 GB) and let etcd compact
// its history (--auto-compaction-retention=1h): every hourly save of a
// state writes a new revision of its key.
//
//	cli, _ := clientv3.New(clientv3.Config{Endpoints: endpoints})
//	store, err := etcdstore.New(etcdstore.Config{Prefix: "myhost/state/"}, cli)
//	...
//	tr, err := detector.NewTracker(ens, detector.TrackerConfig{}, store)
package etcdstore

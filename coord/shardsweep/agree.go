package shardsweep

import (
	"time"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/internal/etcdagree"
	"github.com/idlescale/idlescale/provider"
)

// ConfigStatus is what a Runner knows of the other live replicas' shared
// configurations (see "Replicas that disagree" in the package doc):
// whether it has read them (Checked), its own fingerprint (Fingerprint:
// the ID, the "sha256:…" hash and the canonical JSON), how many others it
// read (Peers), those that differ (Mismatches, sorted by key) and why the
// check is not current (Err: etcd failed; the Mismatches are then those
// last read). Its Conflict(fields...) method returns an error matching
// ErrConfigMismatch that names the replicas, their keys and the fields
// that differ, or nil.
type ConfigStatus = etcdagree.Status

// ConfigMismatch is one live replica whose shared configuration differs
// from this one's: its ID (Replica), its key, its fingerprint and the
// fields that differ (Fields, ConfigDiff values), or, when its
// fingerprint could not be read, Err (matching ErrConfigFingerprint and
// naming the key).
type ConfigMismatch = etcdagree.Mismatch

// ConfigDiff is one field whose value differs between two replicas'
// shared configurations: its path in the Config's JSON, as "period" or
// "tracker.step" (or "ensemble.…" for the ensemble's configuration), and
// its JSON values here (Mine) and on the other replica (Theirs); a
// duration is a Go duration ("5m0s"), and "" means absent (the zero
// value).
type ConfigDiff = etcdagree.Diff

// failClosed are the shared fields a pass refuses to run on while a live
// replica differs in them: with another Prefix, the claims and the
// progress live in another key space, so that a resource could be acted
// on twice in one period (by each key space's leader). A replica with
// another shard count is not among them: coord.Shards refuses to run it
// (ErrShardCount), so that it leads no shard, and stopping the others'
// passes for it would let a replica crash-looping on that error stop
// the fleet's.
var failClosed = []string{"prefix"}

// shared is the part of a Runner's configuration that every replica must
// run alike, with the defaults filled in: what its fingerprint hashes.
// What may differ per replica is left out: the replica's ID, the timings
// of its etcd requests and of its lease (Shards.SessionTTL,
// RequestTimeout, MaxRetries, RetryDelay), and its own tuning (Chunk,
// Concurrency, ActTimeout: memory and time, not what is swept or acted
// on). Shards.Prefix is where the fingerprints live, the same for every
// replica that reads them.
type shared struct {
	Shards struct {
		Shards int `json:"shards"`
	} `json:"shards"`
	Period   time.Duration           `json:"period"`
	Delay    time.Duration           `json:"delay"`
	Prefix   string                  `json:"prefix"`
	Filter   provider.Filter         `json:"filter"`
	Tracker  detector.TrackerConfig  `json:"tracker"`
	Ensemble detector.EnsembleConfig `json:"ensemble"`
}

// sharedOf returns the shared part of cfg (defaults filled in) run with
// an ensemble configured as ens.
func sharedOf(cfg Config, ens detector.EnsembleConfig) shared {
	var s shared
	s.Shards.Shards = cfg.Shards.Shards
	s.Period, s.Delay, s.Prefix, s.Filter, s.Tracker, s.Ensemble = cfg.Period, cfg.Delay, cfg.Prefix, cfg.Filter, cfg.Tracker, ens
	if s.Tracker.Step == 0 {
		s.Tracker.Step = 5 * time.Minute
	}
	if s.Tracker.Statistic == "" {
		s.Tracker.Statistic = provider.StatMean
	}
	return s
}

// ConfigStatus returns what the runner knows now of the other live
// replicas' shared configurations. Before Run has read them, its
// Checked is false.
func (r *Runner) ConfigStatus() ConfigStatus { return r.agree.Status() }

// ConfigKey returns the etcd key this replica publishes its fingerprint
// under while it runs: Shards.Prefix + "config/" + Shards.ID.
func (r *Runner) ConfigKey() string { return r.agree.Key() }

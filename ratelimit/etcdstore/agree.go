package etcdstore

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/internal/etcdagree"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/ratelimit"
)

// ErrConfigMismatch means another live replica's limiter, on the same
// store, runs another ratelimit.Config (see ConfigCheck). It is the same
// value as coord/shardsweep's.
var ErrConfigMismatch = etcdagree.ErrMismatch

// ErrConfigFingerprint means another replica's configuration fingerprint
// (its key under Prefix+"replicas/") could not be read: not JSON, no id
// or config, or a hash that is not its config's. The error names the
// key. It is the same value as coord/shardsweep's.
var ErrConfigFingerprint = etcdagree.ErrMalformed

// ConfigStatus is what a ConfigCheck knows of the other live replicas'
// limiter configurations: whether it has read them (Checked), its own
// fingerprint (Fingerprint: the replica's ID, the "sha256:…" hash and the
// canonical JSON of ratelimit.Config.Resolved), how many others it read
// (Peers), those that differ (Mismatches, sorted by key) and why the
// check is not current (Err: etcd failed; the Mismatches are then those
// last read). Its Conflict() method returns an error matching
// ErrConfigMismatch naming the replicas, their keys and the fields that
// differ, or nil.
type ConfigStatus = etcdagree.Status

// ConfigMismatch is one live replica whose limiter configuration differs:
// its ID (Replica), its key, its fingerprint and the fields that differ
// (Fields, ConfigDiff values), or, when its fingerprint could not be
// read, Err (matching ErrConfigFingerprint and naming the key).
type ConfigMismatch = etcdagree.Mismatch

// ConfigDiff is one field whose value differs between two replicas'
// resolved ratelimit.Config: its path in the Config's JSON, as
// "down.events" or `targets["web-1"].up.min_interval`, and its JSON
// values here (Mine) and on the other replica (Theirs); a duration is a
// Go duration ("5m0s"), -1 means no limit, and "" absent.
type ConfigDiff = etcdagree.Diff

// ConfigTTL is the lease of a replica's fingerprint key: it disappears
// this long after the replica's last keep-alive (at once when its Run
// returns).
const ConfigTTL = 10 * time.Second

// ConfigCheck compares the ratelimit.Config of this replica's limiter
// with those of the other replicas that share the store: each publishes
// the fingerprint of its Config (ratelimit.Config.Resolved, so that a
// default left zero and one written out agree) under Prefix+"replicas/"+
// its ID, bound to a lease of ConfigTTL, and reads the others' on start
// and on every change. A mismatch is logged (a warning through the
// store's WithLogger, naming the replica, its key and the fields) and
// listed by Status. It is a ratelimit.Peers: a limiter given it
// (ratelimit.WithPeers) holds to the strictest of its own Config and the
// others' (see "Replicas that disagree" in the package doc). It is safe
// for concurrent use.
type ConfigCheck struct {
	c     *etcdagree.Check
	peers atomic.Pointer[peerConfigs]
}

var _ ratelimit.Peers = (*ConfigCheck)(nil)

// peerConfigs is the others' Configs as of one version of the Status.
type peerConfigs struct {
	version uint64
	cfgs    []ratelimit.Config
}

// NewConfigCheck returns the ConfigCheck of replica id, whose limiter runs
// limits on s, watching with cli (the client s was made with, usually).
// Every live replica needs its own id: two under one overwrite each
// other's fingerprint.
// It returns a *provider.InvalidError naming the field when id is empty,
// longer than 256 bytes or has a "/" or a control character, when limits
// is invalid, or when cli or s is nil. It makes no request and starts no
// goroutine; Run publishes and compares.
func NewConfigCheck(id string, limits ratelimit.Config, s *Store, cli *clientv3.Client) (*ConfigCheck, error) {
	switch {
	case s == nil:
		return nil, fmt.Errorf("etcdstore: config check: %w", provider.Invalid("store", nil, "must not be nil"))
	case cli == nil:
		return nil, fmt.Errorf("etcdstore: config check: %w", provider.Invalid("client", nil, "must not be nil"))
	case id == "" || len(id) > 256:
		return nil, fmt.Errorf("etcdstore: config check: %w", provider.Invalid("id", id, "must be 1 to 256 bytes"))
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x20 || c == 0x7f || c == '/' {
			return nil, fmt.Errorf("etcdstore: config check: %w", provider.Invalid("id", id, `must not contain "/" or control characters`))
		}
	}
	res, err := limits.Resolved()
	if err != nil {
		return nil, fmt.Errorf("etcdstore: config check: %w", err)
	}
	fp, err := etcdagree.NewFingerprint(id, res)
	if err != nil {
		return nil, fmt.Errorf("etcdstore: config check: %w", err)
	}
	// The check's requests are retried, and Run publishes again, after
	// backoffs of etcd calls: in real time, as coord campaigns again,
	// whatever the store's clock (on a mock clock nobody moves, a backoff
	// would never end).
	r := s.r
	r.Clock = clock.Real{}
	c, err := etcdagree.New(cli, etcdagree.Config{
		Name: "ratelimit/etcdstore", Prefix: s.cfg.Prefix + "replicas/", ID: id, TTL: ConfigTTL, RetryDelay: time.Second, Retrier: r,
		Shared: reflect.TypeFor[ratelimit.Config](),
	}, fp, clock.Real{}, s.logger)
	if err != nil {
		return nil, fmt.Errorf("etcdstore: config check: %w", err)
	}
	return &ConfigCheck{c: c}, nil
}

// Run publishes this replica's fingerprint and compares it with the
// others' until ctx ends, then deletes it (its lease revoked) and returns
// nil. A failure (etcd unreachable, the lease lost) is logged and kept in
// Status().Err, and Run publishes again a second later, in real time
// whatever the store's clock (a backoff of etcd calls: on a mock clock,
// one lost lease left the fingerprint unpublished, so that the others
// did not hold to this replica's limits, until the clock moved on); so
// are its failed requests retried (the store's Config.MaxRetries), after
// a backoff in real time too.
func (c *ConfigCheck) Run(ctx context.Context) error { return c.c.Run(ctx) }

// Status returns what the check knows now. Before Run has read the
// others' fingerprints, its Checked is false.
func (c *ConfigCheck) Status() ConfigStatus { return c.c.Status() }

// Changed returns a channel closed at the next change of the Status.
func (c *ConfigCheck) Changed() <-chan struct{} { return c.c.Changed() }

// PeerConfigs implements ratelimit.Peers: the resolved Configs of the
// live replicas whose limiters' differ from this one's (the unreadable
// ones are left out: they are in Status), and the version of the Status
// they come from. Give the check to the limiter with ratelimit.WithPeers
// so that it decides by the strictest of them and its own while they
// differ. While Run is not running (or before it has read the others)
// there are none.
func (c *ConfigCheck) PeerConfigs() ([]ratelimit.Config, uint64) {
	v := c.c.Version()
	if p := c.peers.Load(); p != nil && p.version == v {
		return p.cfgs, v
	}
	st := c.c.Status()
	p := &peerConfigs{version: v}
	for _, m := range st.Mismatches {
		var cfg ratelimit.Config
		if m.Err != nil || json.Unmarshal(m.Config, &cfg) != nil {
			continue
		}
		p.cfgs = append(p.cfgs, cfg)
	}
	c.peers.Store(p)
	return p.cfgs, v
}

// Key returns the etcd key of this replica's fingerprint.
func (c *ConfigCheck) Key() string { return c.c.Key() }

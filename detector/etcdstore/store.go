package etcdstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/internal/etcdkv"
	"github.com/idlescale/idlescale/provider"
)

// ErrGuard means a guarded Save was refused because its condition no
// longer holds: the replica is no longer the leader of the resource's
// shard (see Guarded).
var ErrGuard = errors.New("etcdstore: guarded save refused")

// ErrStore means etcd failed (unreachable, timed out, refused the
// request) after the retries; it is the value coord and the library's
// other etcd stores export under the same name.
var ErrStore = etcdkv.ErrStore

// Client is the part of *clientv3.Client the store uses: key-value
// requests, and leases for the states it saves (see Config.LeaseTTL).
type Client interface {
	clientv3.KV
	clientv3.Lease
}

var _ Client = (*clientv3.Client)(nil)

// DefaultLeaseTTL is the default of Config.LeaseTTL: 30 days, longer
// than the Tracker's default history (28 days) by more than a renewal
// period (LeaseTTL/25).
const DefaultLeaseTTL = 30 * 24 * time.Hour

// Config configures a Store. The zero value means the defaults. All
// replicas that share a fleet use the same Prefix.
type Config struct {
	// Prefix is prepended to every key. Default: "idlescale/detector/state/".
	// A state's key is Prefix + the escaped resource ID, with nothing
	// between them, so the prefix must be the store's own: under a prefix
	// that another of the library's stores uses too, a resource named
	// "global" or "count" would be ratelimit/etcdstore's global bucket or
	// coord.Shards' shard count.
	Prefix string `json:"prefix,omitempty"`
	// RequestTimeout bounds every etcd request. Default: 500ms.
	RequestTimeout time.Duration `json:"request_timeout,omitempty"`
	// MaxRetries is how many times a failed request is retried (with a
	// random backoff of up to 40ms, 80ms, … 500ms). Default: 4. Negative:
	// none.
	MaxRetries int `json:"max_retries,omitempty"`
	// LeaseTTL is the lease attached to saved states: a state that is not
	// saved again (that of a resource gone from the fleet: terminated,
	// deleted, replaced under a new ID) disappears between
	// LeaseTTL-LeaseTTL/25 and LeaseTTL+LeaseTTL/25 after its last save
	// (on the store's clock, while any replica on the prefix saves
	// states: the store's lease ledger revokes a lease at the first grant
	// after its TTL, even where etcd restarted the lease's countdown at a
	// leader change; see the package doc). A Tracker saves a resource's
	// state at every evaluation, and reads a state older than its history
	// in full anyway, so a lease that outlasts the history by LeaseTTL/25
	// loses no state a Tracker would use; a shorter one costs a full read
	// of a resource not evaluated for that long (as does a replica whose
	// clock runs ahead by more than LeaseTTL/25). Rounded down to whole
	// seconds; at least 25s. Default: 30 days (the Tracker's default
	// history, 28 days, plus LeaseTTL/25). Negative: no leases and no
	// ledger (states stay until deleted: the prefix grows by a state for
	// every resource the fleet ever had).
	LeaseTTL time.Duration `json:"lease_ttl,omitempty"`
}

func (c Config) kv() etcdkv.Config {
	return etcdkv.Config{Prefix: c.Prefix, RequestTimeout: c.RequestTimeout, MaxRetries: c.MaxRetries}
}

// Validate checks c and returns a *provider.InvalidError naming the field.
func (c Config) Validate() error {
	if err := c.kv().Validate(); err != nil {
		return err
	}
	if c.LeaseTTL > 0 && c.LeaseTTL < 25*time.Second {
		return provider.Invalid("lease_ttl", c.LeaseTTL, "must be at least 25s")
	}
	return nil
}

// Store is a detector.StateStore on etcd. It is safe for concurrent use.
type Store struct {
	cli    Client
	cfg    etcdkv.Config
	r      etcdkv.Retrier
	leases *etcdkv.Leases
}

var _ detector.StateStore = (*Store)(nil)

// Option configures a Store's wiring.
type Option func(*options)

type options struct{ clock clock.Clock }

// WithClock sets the clock that paces retries and lease renewal and dates
// the lease ledger's entries (see Config.LeaseTTL). Default (also for
// nil): the real clock; a nil pointer is an error of New.
func WithClock(c clock.Clock) Option { return func(o *options) { o.clock = c } }

// New returns a Store for cfg using cli (usually a *clientv3.Client, which
// the caller keeps and closes). It returns a *provider.InvalidError when
// cfg is invalid, cli is nil or WithClock was given a nil pointer. It
// makes no request.
func New(cfg Config, cli Client, opts ...Option) (*Store, error) {
	if err := etcdkv.CheckNew("etcdstore", cli, cfg); err != nil {
		return nil, err
	}
	var o options
	for _, f := range opts {
		f(&o)
	}
	var err error
	if o.clock, err = etcdkv.ClockOf("etcdstore", o.clock); err != nil {
		return nil, err
	}
	kv := cfg.kv().WithDefaults(etcdkv.Config{Prefix: "idlescale/detector/state/", RequestTimeout: 500 * time.Millisecond, MaxRetries: 4})
	ttl := cfg.LeaseTTL
	if ttl == 0 {
		ttl = DefaultLeaseTTL
	}
	ledger := etcdkv.Ledger(cli, ledgerPrefix(kv.Prefix))
	return &Store{cli: cli, cfg: kv, r: kv.Retrier(o.clock), leases: etcdkv.NewLeases(cli, ttl, ttl/25, o.clock, ledger)}, nil
}

// ledgerPrefix returns the prefix of the ledger of the leases of a store
// whose states are under prefix (see Config.LeaseTTL).
func ledgerPrefix(prefix string) string { return strings.TrimSuffix(prefix, "/") + ".leases/" }

// Key returns the etcd key of a resource's state.
func (s *Store) Key(id string) string { return s.cfg.Prefix + url.PathEscape(id) }

// Load returns id's state, detector.ErrNoState when it has none, or an
// error matching ErrStore when etcd failed.
func (s *Store) Load(ctx context.Context, id string) ([]byte, error) {
	var out []byte
	found := false
	err := s.r.Op(ctx, "etcdstore: load state", func(ctx context.Context) error {
		resp, err := s.cli.Get(ctx, s.Key(id))
		if err != nil {
			return err
		}
		found = len(resp.Kvs) > 0
		if found {
			out = resp.Kvs[0].Value
		}
		return nil
	})
	switch {
	case err != nil:
		return nil, err
	case !found:
		return nil, detector.ErrNoState
	}
	return out, nil
}

// Save writes state as id's, bound to the store's lease (see
// Config.LeaseTTL); an error matches ErrStore when etcd failed.
func (s *Store) Save(ctx context.Context, id string, state []byte) error {
	return s.r.Op(ctx, "etcdstore: save state", func(ctx context.Context) error {
		return s.leases.With(ctx, func(lease clientv3.LeaseID) error {
			_, err := s.cli.Put(ctx, s.Key(id), string(state), clientv3.WithLease(lease))
			return err
		})
	})
}

// Delete removes id's state (a resource that is gone); deleting a missing
// state succeeds.
func (s *Store) Delete(ctx context.Context, id string) error {
	return s.r.Op(ctx, "etcdstore: delete state", func(ctx context.Context) error {
		_, err := s.cli.Delete(ctx, s.Key(id))
		return err
	})
}

// Guarded returns a view of s whose Save commits only while cond holds, in
// one transaction: with cond the Cmp of a coord.Leadership's Fence, only
// the current leader of a shard writes its resources' states, and a
// deposed leader's Save (even one in flight) fails with ErrGuard. Load
// and Delete are s's.
func (s *Store) Guarded(cond clientv3.Cmp) *GuardedStore { return &GuardedStore{s: s, cond: cond} }

// GuardedStore is a Store whose Save is conditioned; see Store.Guarded.
type GuardedStore struct {
	s    *Store
	cond clientv3.Cmp
}

var _ detector.StateStore = (*GuardedStore)(nil)

// Load is Store.Load.
func (g *GuardedStore) Load(ctx context.Context, id string) ([]byte, error) { return g.s.Load(ctx, id) }

// Delete is Store.Delete: not conditioned, since the state of a resource
// that is gone is of no use to any leader.
func (g *GuardedStore) Delete(ctx context.Context, id string) error { return g.s.Delete(ctx, id) }

// Save writes state as id's if the condition holds; otherwise it returns
// an error matching ErrGuard (not retried).
func (g *GuardedStore) Save(ctx context.Context, id string, state []byte) error {
	refused := false
	err := g.s.r.Op(ctx, "etcdstore: save state", func(ctx context.Context) error {
		return g.s.leases.With(ctx, func(lease clientv3.LeaseID) error {
			resp, err := g.s.cli.Txn(ctx).If(g.cond).Then(clientv3.OpPut(g.s.Key(id), string(state), clientv3.WithLease(lease))).Commit()
			if err != nil {
				return err
			}
			refused = !resp.Succeeded
			return nil
		})
	})
	if err != nil {
		return err
	}
	if refused {
		return fmt.Errorf("etcdstore: save state of %q: %w", id, ErrGuard)
	}
	return nil
}

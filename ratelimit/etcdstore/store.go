package etcdstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/internal/etcdretry"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/ratelimit"
)

// Client is the part of *clientv3.Client the store uses.
type Client interface {
	clientv3.KV
	clientv3.Lease
}

var _ Client = (*clientv3.Client)(nil)

// Config configures a Store: where its keys live and how hard it tries.
// The zero value means the defaults. All replicas that share a budget use
// the same Prefix.
type Config struct {
	// Prefix is prepended to every key. Default: "idlescale/ratelimit/".
	Prefix string `json:"prefix,omitempty"`
	// RequestTimeout bounds every etcd request. Default: 500ms.
	RequestTimeout time.Duration `json:"request_timeout,omitempty"`
	// MaxRetries is how many times a failed request is retried (with a
	// random backoff of up to 40ms, 80ms, … 500ms) before the store gives
	// up. Default: 4, so that with the default RequestTimeout the attempts
	// span up to about 3 s, longer than an etcd leader election (1 s
	// election timeout by default). Negative: none.
	MaxRetries int `json:"max_retries,omitempty"`
	// MaxConflicts is how many lost compare-and-swap transactions an
	// update tolerates before it fails with ErrConflict. Default: 200.
	MaxConflicts int `json:"max_conflicts,omitempty"`
	// LeaseTTL is the lease attached to written keys: a key that is not
	// written again disappears between LeaseTTL-LeaseTTL/25 and LeaseTTL
	// after its last write. It must exceed the limiters' Config.History by
	// at least LeaseTTL/25. Default: 25h (the default 24h history plus an
	// hour). Negative: no leases.
	LeaseTTL time.Duration `json:"lease_ttl,omitempty"`
}

// Validate checks c and returns a *provider.InvalidError naming the field.
func (c Config) Validate() error {
	if c.RequestTimeout < 0 {
		return provider.Invalid("request_timeout", c.RequestTimeout, "must not be negative")
	}
	if c.MaxConflicts < 0 {
		return provider.Invalid("max_conflicts", c.MaxConflicts, "must not be negative")
	}
	if c.LeaseTTL > 0 && c.LeaseTTL < 25*time.Second {
		return provider.Invalid("lease_ttl", c.LeaseTTL, "must be at least 25s")
	}
	if strings.ContainsRune(c.Prefix, 0) {
		return provider.Invalid("prefix", c.Prefix, "must not contain NUL")
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Prefix == "" {
		c.Prefix = "idlescale/ratelimit/"
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 500 * time.Millisecond
	}
	switch {
	case c.MaxRetries == 0:
		c.MaxRetries = 4
	case c.MaxRetries < 0:
		c.MaxRetries = 0
	}
	if c.MaxConflicts == 0 {
		c.MaxConflicts = 200
	}
	if c.LeaseTTL == 0 {
		c.LeaseTTL = 25 * time.Hour
	}
	return c
}

// Store is a ratelimit.Store on etcd. It is safe for concurrent use, by
// any number of limiters in any number of processes that use the same
// prefix and the same ratelimit.Config.
type Store struct {
	cli   Client
	cfg   Config
	clock clock.Clock

	mu      sync.Mutex
	lease   clientv3.LeaseID
	leaseAt time.Time
}

var _ ratelimit.Store = (*Store)(nil)

// Option configures a Store's wiring.
type Option func(*Store)

// WithClock sets the clock that paces retries and lease renewal. Default
// (also for nil): the real clock.
func WithClock(c clock.Clock) Option { return func(s *Store) { s.clock = c } }

// New returns a Store for cfg using cli (usually a *clientv3.Client, which
// the caller keeps and closes). It returns a *provider.InvalidError when
// cfg is invalid or cli is nil. It makes no request and starts no
// goroutine.
func New(cfg Config, cli Client, opts ...Option) (*Store, error) {
	if c, ok := cli.(*clientv3.Client); cli == nil || (ok && c == nil) {
		return nil, fmt.Errorf("etcdstore: %w", provider.Invalid("client", nil, "must not be nil"))
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("etcdstore: config: %w", err)
	}
	s := &Store{cli: cli, cfg: cfg.withDefaults()}
	for _, o := range opts {
		o(s)
	}
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	return s, nil
}

// Key returns the etcd key of a bucket.
func (s *Store) Key(k ratelimit.Key) string {
	if k.IsGlobal() {
		return s.cfg.Prefix + "global"
	}
	return s.cfg.Prefix + "b/" + url.PathEscape(k.Target) + "/" + k.Direction.String()
}

func (s *Store) parseKey(key string) (ratelimit.Key, error) {
	rest, ok := strings.CutPrefix(key, s.cfg.Prefix)
	if !ok {
		return ratelimit.Key{}, fmt.Errorf("%w: key %q outside prefix", ratelimit.ErrCorrupt, key)
	}
	if rest == "global" {
		return ratelimit.GlobalKey, nil
	}
	rest, ok = strings.CutPrefix(rest, "b/")
	i := strings.LastIndexByte(rest, '/')
	if !ok || i < 0 {
		return ratelimit.Key{}, fmt.Errorf("%w: unknown key %q", ratelimit.ErrCorrupt, key)
	}
	target, err := url.PathUnescape(rest[:i])
	if err != nil {
		return ratelimit.Key{}, fmt.Errorf("%w: key %q: %w", ratelimit.ErrCorrupt, key, err)
	}
	d := ratelimit.Direction(rest[i+1:])
	if err := d.Validate(); err != nil {
		return ratelimit.Key{}, fmt.Errorf("%w: key %q: %w", ratelimit.ErrCorrupt, key, err)
	}
	return ratelimit.Key{Target: target, Direction: d}, nil
}

func decode(key string, val []byte) (ratelimit.History, error) {
	var h ratelimit.History
	if err := json.Unmarshal(val, &h.Events); err != nil {
		return h, fmt.Errorf("%w: key %q: %w", ratelimit.ErrCorrupt, key, err)
	}
	for i, e := range h.Events {
		if e.ID == 0 || e.Units <= 0 || e.At.Year() < 1900 || e.At.Year() >= 2200 || (i > 0 && e.At.Before(h.Events[i-1].At)) {
			return h, fmt.Errorf("%w: key %q: event %d %+v: want a non-zero id, positive units and sorted times in 1900..2200",
				ratelimit.ErrCorrupt, key, i, e)
		}
	}
	return h, nil
}

// Update implements ratelimit.Store with a compare-and-swap loop: read the
// keys in one transaction, call fn, and write them back in a transaction
// conditioned on their ModRevisions. It returns fn's error unchanged,
// ErrConflict after Config.MaxConflicts lost transactions, ErrCorrupt
// for undecodable data, and the last etcd error (or ctx's) when the
// retries are exhausted.
func (s *Store) Update(ctx context.Context, keys []ratelimit.Key, fn func([]*ratelimit.History) (bool, error)) error {
	b := newBatch(s, keys)
	retries, conflicts := 0, 0
	for {
		resp, err := s.txn(ctx, nil, b.gets)
		if err != nil {
			if err = s.retry(ctx, "update", b.names, err, &retries); err != nil {
				return err
			}
			continue
		}
		if err := b.read(resp); err != nil {
			return err
		}
		write, err := fn(b.ptrs)
		if err != nil || !write {
			return err
		}
		lease, err := s.leaseID(ctx)
		if err != nil {
			if err = s.retry(ctx, "update", b.names, err, &retries); err != nil {
				return err
			}
			continue
		}
		cmps, puts, err := b.writes(lease)
		if err != nil {
			return err
		}
		tresp, err := s.txn(ctx, cmps, puts)
		if err != nil {
			// The write may have been applied anyway; fn recognises its
			// own event on the next round.
			if errors.Is(err, rpctypes.ErrLeaseNotFound) {
				s.dropLease(lease)
			}
			if err = s.retry(ctx, "update", b.names, err, &retries); err != nil {
				return err
			}
			continue
		}
		if tresp.Succeeded {
			return nil
		}
		conflicts++
		if conflicts >= s.cfg.MaxConflicts {
			return fmt.Errorf("%w: %d lost transactions on %v", ErrConflict, conflicts, b.names)
		}
		if err := etcdretry.Backoff(ctx, s.clock, conflicts, time.Millisecond, 20*time.Millisecond); err != nil {
			return fmt.Errorf("etcdstore: %w", err)
		}
	}
}

// batch is the keys of one Update with the histories and revisions it
// last read.
type batch struct {
	names []string
	gets  []clientv3.Op
	hs    []ratelimit.History
	ptrs  []*ratelimit.History
	revs  []int64
}

func newBatch(s *Store, keys []ratelimit.Key) *batch {
	b := &batch{
		names: make([]string, len(keys)),
		gets:  make([]clientv3.Op, len(keys)),
		hs:    make([]ratelimit.History, len(keys)),
		ptrs:  make([]*ratelimit.History, len(keys)),
		revs:  make([]int64, len(keys)),
	}
	for i, k := range keys {
		b.names[i] = s.Key(k)
		b.gets[i] = clientv3.OpGet(b.names[i])
	}
	return b
}

// read decodes the histories and revisions of the keys from the answer to
// b.gets; an absent key is an empty history at revision 0.
func (b *batch) read(resp *clientv3.TxnResponse) error {
	for i, r := range resp.Responses {
		b.hs[i], b.revs[i] = ratelimit.History{}, 0
		if kvs := r.GetResponseRange().Kvs; len(kvs) > 0 {
			h, err := decode(b.names[i], kvs[0].Value)
			if err != nil {
				return err
			}
			b.hs[i], b.revs[i] = h, kvs[0].ModRevision
		}
		b.ptrs[i] = &b.hs[i]
	}
	return nil
}

// writes returns the transaction that stores the histories: each key's
// ModRevision must still be the one read; an empty history deletes its
// key, the others are written with lease (unless NoLease).
func (b *batch) writes(lease clientv3.LeaseID) ([]clientv3.Cmp, []clientv3.Op, error) {
	cmps := make([]clientv3.Cmp, len(b.names))
	puts := make([]clientv3.Op, len(b.names))
	var opts []clientv3.OpOption
	if lease != clientv3.NoLease {
		opts = append(opts, clientv3.WithLease(lease))
	}
	for i, name := range b.names {
		cmps[i] = clientv3.Compare(clientv3.ModRevision(name), "=", b.revs[i])
		if len(b.hs[i].Events) == 0 {
			puts[i] = clientv3.OpDelete(name)
			continue
		}
		val, err := json.Marshal(b.hs[i].Events)
		if err != nil {
			return nil, nil, fmt.Errorf("etcdstore: encode %q: %w", name, err)
		}
		puts[i] = clientv3.OpPut(name, string(val), opts...)
	}
	return cmps, puts, nil
}

// Snapshot implements ratelimit.Store: every bucket under the prefix.
func (s *Store) Snapshot(ctx context.Context) ([]ratelimit.Bucket, error) {
	retries := 0
	for {
		rctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
		resp, err := s.cli.Get(rctx, s.cfg.Prefix, clientv3.WithPrefix())
		cancel()
		if err != nil {
			if err = s.retry(ctx, "snapshot", []string{s.cfg.Prefix + "*"}, err, &retries); err != nil {
				return nil, err
			}
			continue
		}
		out := make([]ratelimit.Bucket, 0, len(resp.Kvs))
		for _, kv := range resp.Kvs {
			k, err := s.parseKey(string(kv.Key))
			if err != nil {
				return nil, err
			}
			h, err := decode(string(kv.Key), kv.Value)
			if err != nil {
				return nil, err
			}
			out = append(out, ratelimit.Bucket{Key: k, History: h})
		}
		return out, nil
	}
}

func (s *Store) txn(ctx context.Context, cmps []clientv3.Cmp, ops []clientv3.Op) (*clientv3.TxnResponse, error) {
	rctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	return s.cli.Txn(rctx).If(cmps...).Then(ops...).Commit()
}

// retry returns nil when err is worth another attempt (after a backoff),
// or the error to give up with.
func (s *Store) retry(ctx context.Context, op string, keys []string, err error, retries *int) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("etcdstore: %s %v: context ended after %d attempts: %w (last error: %w)", op, keys, *retries+1, cerr, err)
	}
	if !etcdretry.Retryable(err) {
		return fmt.Errorf("etcdstore: %s %v: %w", op, keys, err)
	}
	*retries++
	if *retries > s.cfg.MaxRetries {
		return fmt.Errorf("etcdstore: %s %v: gave up after %d attempts of %v each: %w", op, keys, *retries, s.cfg.RequestTimeout, err)
	}
	if err := etcdretry.Backoff(ctx, s.clock, *retries, 20*time.Millisecond, 500*time.Millisecond); err != nil {
		return fmt.Errorf("etcdstore: %w", err)
	}
	return nil
}

// leaseID returns the lease to attach to writes, granting a new one every
// LeaseTTL/25.
func (s *Store) leaseID(ctx context.Context) (clientv3.LeaseID, error) {
	if s.cfg.LeaseTTL < 0 {
		return clientv3.NoLease, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	if s.lease != clientv3.NoLease && now.Sub(s.leaseAt) < s.cfg.LeaseTTL/25 {
		return s.lease, nil
	}
	rctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	resp, err := s.cli.Grant(rctx, int64(s.cfg.LeaseTTL/time.Second))
	if err != nil {
		return clientv3.NoLease, fmt.Errorf("etcdstore: grant lease: %w", err)
	}
	s.lease, s.leaseAt = resp.ID, now
	return s.lease, nil
}

func (s *Store) dropLease(id clientv3.LeaseID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lease == id {
		s.lease = clientv3.NoLease
	}
}

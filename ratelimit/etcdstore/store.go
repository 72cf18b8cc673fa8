package etcdstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/internal/etcdkv"
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
	// RequestTimeout bounds every etcd request. Default: 1s, like the
	// library's other etcd parts: a request on a loaded host (load
	// average 4× the cores) can take several hundred milliseconds.
	RequestTimeout time.Duration `json:"request_timeout,omitempty"`
	// MaxRetries is how many times a failed request is retried (with a
	// random backoff of up to 40ms, 80ms, … 500ms) before the store gives
	// up. Default: 4, so that with the default RequestTimeout the attempts
	// span up to about 6 s, longer than an etcd leader election (1 s
	// election timeout by default). Negative: none.
	MaxRetries int `json:"max_retries,omitempty"`
	// MaxConflicts is how many lost compare-and-swap transactions an
	// update tolerates before it fails with ErrConflict. Default: 200.
	MaxConflicts int `json:"max_conflicts,omitempty"`
	// LeaseTTL is the lease attached to written keys: a key that is not
	// written again disappears between LeaseTTL-LeaseTTL/25 and LeaseTTL
	// after its last write. It must exceed how long the limiters keep a
	// bucket's events (Config.History, or a budget's window plus MaxSkew
	// when longer) by at least LeaseTTL/25: ratelimit.New refuses a
	// limiter whose events this store would forget (see Retention). Default: 25h (the default
	// 24h history plus an hour). Negative: no leases.
	LeaseTTL time.Duration `json:"lease_ttl,omitempty"`
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

// kv returns the settings c shares with the library's other etcd stores.
func (c Config) kv() etcdkv.Config {
	return etcdkv.Config{Prefix: c.Prefix, RequestTimeout: c.RequestTimeout, MaxRetries: c.MaxRetries, MaxConflicts: c.MaxConflicts}
}

func (c Config) withDefaults() Config {
	kv := c.kv().WithDefaults(etcdkv.Config{
		Prefix: "idlescale/ratelimit/", RequestTimeout: time.Second, MaxRetries: 4, MaxConflicts: 200,
	})
	c.Prefix, c.RequestTimeout, c.MaxRetries, c.MaxConflicts = kv.Prefix, kv.RequestTimeout, kv.MaxRetries, kv.MaxConflicts
	if c.LeaseTTL == 0 {
		c.LeaseTTL = 25 * time.Hour
	}
	return c
}

// Store is a ratelimit.Store on etcd. It is safe for concurrent use, by
// any number of limiters in any number of processes that use the same
// prefix and the same ratelimit.Config.
type Store struct {
	cli    Client
	cfg    Config
	clock  clock.Clock
	r      etcdkv.Retrier
	leases *etcdkv.Leases
	logger *slog.Logger
}

var _ ratelimit.Store = (*Store)(nil)

// Option configures a Store's wiring.
type Option func(*Store)

// WithClock sets the clock that paces the store's retries and lease
// renewal (a ConfigCheck of the store waits in real time). Default
// (also for nil): the real clock; a nil pointer is an error of New.
func WithClock(c clock.Clock) Option { return func(s *Store) { s.clock = c } }

// WithLogger sets the logger a ConfigCheck of the store warns through
// (another replica's limiter runs another Config). Default (also for
// nil): discard.
func WithLogger(lg *slog.Logger) Option { return func(s *Store) { s.logger = lg } }

// New returns a Store for cfg using cli (usually a *clientv3.Client, which
// the caller keeps and closes). It returns a *provider.InvalidError when
// cfg is invalid, cli is nil or WithClock was given a nil pointer. It
// makes no request and starts no goroutine.
func New(cfg Config, cli Client, opts ...Option) (*Store, error) {
	if err := etcdkv.CheckNew("etcdstore", cli, cfg); err != nil {
		return nil, err
	}
	s := &Store{cli: cli, cfg: cfg.withDefaults()}
	for _, o := range opts {
		o(s)
	}
	var err error
	if s.clock, err = etcdkv.ClockOf("etcdstore", s.clock); err != nil {
		return nil, err
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	s.r = s.cfg.kv().Retrier(s.clock)
	s.leases = etcdkv.NewLeases(cli, s.cfg.LeaseTTL, s.cfg.LeaseTTL/25, s.clock)
	return s, nil
}

// Retention is how long a bucket is surely kept after its last write:
// the lease (Config.LeaseTTL, whole seconds) less a renewal period
// (LeaseTTL/25), since a write may attach a lease granted that long
// before it; 0 when there are no leases (kept until deleted).
// ratelimit.New refuses a Config.History longer than this, and a
// budget's window plus MaxSkew: a bucket not written for longer would
// disappear with events its windows still count, and the budget would
// be exceeded.
func (s *Store) Retention() time.Duration {
	if s.cfg.LeaseTTL < 0 {
		return 0
	}
	return s.cfg.LeaseTTL.Truncate(time.Second) - s.cfg.LeaseTTL/25
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
	k := ratelimit.Key{Target: target, Direction: ratelimit.Direction(rest[i+1:])}
	if err := k.Validate(); err != nil {
		return ratelimit.Key{}, fmt.Errorf("%w: key %q: %w", ratelimit.ErrCorrupt, key, err)
	}
	return k, nil
}

// wireEvent is a ratelimit.Event as stored, its direction as text: a
// direction this version does not know (a newer replica's, during a
// rolling upgrade) is read and written back as it is, and the event
// counts in its bucket as any other.
type wireEvent struct {
	ID        uint64    `json:"id"`
	At        time.Time `json:"at"`
	Units     int       `json:"units"`
	Target    string    `json:"target"`
	Direction string    `json:"dir"`
}

// wireHistory is a ratelimit.History as stored.
type wireHistory struct {
	Events  []wireEvent `json:"events"`
	Horizon time.Time   `json:"horizon,omitzero"`
}

// toWire returns h as stored.
func toWire(h *ratelimit.History) wireHistory {
	w := wireHistory{Horizon: h.Horizon}
	if h.Events != nil {
		w.Events = make([]wireEvent, len(h.Events))
	}
	for i, e := range h.Events {
		w.Events[i] = wireEvent{ID: e.ID, At: e.At, Units: e.Units, Target: e.Target, Direction: string(e.Direction)}
	}
	return w
}

// fromWire returns the events as read.
func fromWire(evs []wireEvent) []ratelimit.Event {
	if evs == nil {
		return nil
	}
	out := make([]ratelimit.Event, len(evs))
	for i, e := range evs {
		out[i] = ratelimit.Event{ID: e.ID, At: e.At, Units: e.Units, Target: e.Target, Direction: ratelimit.Direction(e.Direction)}
	}
	return out
}

// decode reads a bucket's value: a JSON object with the events and the
// horizon (ratelimit.History), or, as written before the horizon existed,
// a JSON array of events. An object without the "events" member, which
// every replica writes, is not a bucket's (null, {}, another program's
// value): read as an empty history, it would reset the budget. An event's
// direction is not checked (see wireEvent).
func decode(key string, val []byte) (ratelimit.History, error) {
	var h ratelimit.History
	var evs []wireEvent
	var err error
	if v := bytes.TrimLeft(val, " \t\r\n"); len(v) > 0 && v[0] == '[' {
		err = json.Unmarshal(val, &evs)
	} else {
		// The outer Events shadows the History's, so that its absence
		// shows; the other members go to h.
		w := struct {
			*ratelimit.History
			Events json.RawMessage `json:"events"`
		}{History: &h}
		if err = json.Unmarshal(val, &w); err == nil {
			if w.Events == nil {
				return h, fmt.Errorf("%w: key %q: %.40q is not a bucket's history (no \"events\")", ratelimit.ErrCorrupt, key, val)
			}
			err = json.Unmarshal(w.Events, &evs)
		}
	}
	h.Events = fromWire(evs)
	if err != nil {
		return h, fmt.Errorf("%w: key %q: %w", ratelimit.ErrCorrupt, key, err)
	}
	if !h.Horizon.IsZero() && !inRange(h.Horizon) {
		return h, fmt.Errorf("%w: key %q: horizon %v: want a time in 1900..2200", ratelimit.ErrCorrupt, key, h.Horizon)
	}
	for i, e := range h.Events {
		if e.ID == 0 || e.Units <= 0 || !inRange(e.At) || (i > 0 && e.At.Before(h.Events[i-1].At)) {
			return h, fmt.Errorf("%w: key %q: event %d %+v: want a non-zero id, positive units and sorted times in 1900..2200",
				ratelimit.ErrCorrupt, key, i, e)
		}
	}
	return h, nil
}

// The times a limiter reserves at: from the first instant of 1900 to
// before the first of 2200, in UTC (a stored time keeps its zone's
// offset, whose local year may be another).
var (
	minTime = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// inRange reports whether t is a time a limiter reserves at.
func inRange(t time.Time) bool { return !t.Before(minTime) && t.Before(maxTime) }

// Update implements ratelimit.Store with a compare-and-swap loop: read the
// keys in one transaction, call fn, and write them back in a transaction
// conditioned on their ModRevisions; when another replica wrote in
// between, decide again on fresh data. It returns fn's error unchanged,
// ErrConflict after Config.MaxConflicts lost transactions, ErrCorrupt
// for undecodable data, an error matching ErrStore (and the last etcd
// error, or ctx's) when the retries are exhausted, and ctx's error alone
// when ctx had ended before the first request.
func (s *Store) Update(ctx context.Context, keys []ratelimit.Key, fn func([]*ratelimit.History) (bool, error)) error {
	b := newBatch(s, keys)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("etcdstore: update %v: %w", b.names, err)
	}
	// One retry budget for the whole update: a failed request starts the
	// round again from the read, since a write whose reply was lost may
	// have been applied (fn recognises its own event on the next read).
	failures := 0
	return etcdkv.CAS(ctx, s.clock, s.cfg.MaxConflicts, func() (bool, error) {
		for {
			committed, err := s.round(ctx, b, fn)
			var rerr *requestError
			if !errors.As(err, &rerr) {
				return committed, err
			}
			if err := s.r.Retry(ctx, rerr.err, &failures); err != nil {
				return false, fmt.Errorf("etcdstore: update %v: %w: %w", b.names, ErrStore, err)
			}
		}
	}, func(lost int, cause error) error {
		if cause != nil {
			return fmt.Errorf("etcdstore: update %v: %w", b.names, cause)
		}
		return fmt.Errorf("%w: %d lost transactions on %v", ErrConflict, lost, b.names)
	})
}

// requestError marks a failed etcd request in a round of Update, as
// opposed to fn's error or corrupt data.
type requestError struct{ err error }

func (e *requestError) Error() string { return e.err.Error() }

// round is one read, decide, write of Update. It reports whether the
// write committed (or fn wanted none); a failed request is returned as a
// *requestError.
func (s *Store) round(ctx context.Context, b *batch, fn func([]*ratelimit.History) (bool, error)) (bool, error) {
	var resp *clientv3.TxnResponse
	if err := s.r.Call(ctx, func(ctx context.Context) (err error) {
		resp, err = s.cli.Txn(ctx).Then(b.gets...).Commit()
		return err
	}); err != nil {
		return false, &requestError{err}
	}
	if err := b.read(resp); err != nil {
		return false, err
	}
	write, err := fn(b.ptrs)
	if err != nil || !write {
		return true, err
	}
	vals, err := b.encode()
	if err != nil {
		return false, err
	}
	var committed bool
	if err := s.r.Call(ctx, func(ctx context.Context) error {
		return s.leases.With(ctx, func(lease clientv3.LeaseID) error {
			cmps, ops := b.writes(vals, lease)
			resp, err := s.cli.Txn(ctx).If(cmps...).Then(ops...).Commit()
			committed = err == nil && resp.Succeeded
			return err
		})
	}); err != nil {
		return false, &requestError{err}
	}
	return committed, nil
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

// encode returns the values to write: the JSON of each history (its
// events and horizon), empty for an Empty one (its key is deleted).
func (b *batch) encode() ([]string, error) {
	vals := make([]string, len(b.names))
	for i := range b.hs {
		h := &b.hs[i]
		if h.Empty() {
			continue
		}
		val, err := json.Marshal(toWire(h))
		if err != nil {
			return nil, fmt.Errorf("etcdstore: encode %q: %w", b.names[i], err)
		}
		vals[i] = string(val)
	}
	return vals, nil
}

// writes returns the transaction that stores vals: each key's ModRevision
// must still be the one read; an empty value deletes its key, the others
// are written with lease (NoLease: none).
func (b *batch) writes(vals []string, lease clientv3.LeaseID) ([]clientv3.Cmp, []clientv3.Op) {
	cmps := make([]clientv3.Cmp, len(b.names))
	ops := make([]clientv3.Op, len(b.names))
	for i, name := range b.names {
		cmps[i] = clientv3.Compare(clientv3.ModRevision(name), "=", b.revs[i])
		if vals[i] == "" {
			ops[i] = clientv3.OpDelete(name)
			continue
		}
		ops[i] = clientv3.OpPut(name, vals[i], clientv3.WithLease(lease))
	}
	return cmps, ops
}

// Snapshot implements ratelimit.Store: every bucket of the store that
// has events. It reads the store's own keys, prefix + "global" and
// prefix + "b/...", in one transaction; other keys under the prefix (of
// another store that shares it) are not read. It returns an error
// matching ErrStore when etcd fails, ErrCorrupt for undecodable data.
func (s *Store) Snapshot(ctx context.Context) ([]ratelimit.Bucket, error) {
	var resp *clientv3.TxnResponse
	if err := s.r.Op(ctx, "etcdstore: snapshot "+s.cfg.Prefix+"*", func(ctx context.Context) (err error) {
		resp, err = s.cli.Txn(ctx).Then(clientv3.OpGet(s.Key(ratelimit.GlobalKey)),
			clientv3.OpGet(s.cfg.Prefix+"b/", clientv3.WithPrefix())).Commit()
		return err
	}); err != nil {
		return nil, err
	}
	n := 0
	for _, r := range resp.Responses {
		n += len(r.GetResponseRange().Kvs)
	}
	out := make([]ratelimit.Bucket, 0, n)
	for _, r := range resp.Responses {
		for _, kv := range r.GetResponseRange().Kvs {
			k, err := s.parseKey(string(kv.Key))
			if err != nil {
				return nil, err
			}
			h, err := decode(string(kv.Key), kv.Value)
			if err != nil {
				return nil, err
			}
			if len(h.Events) > 0 {
				out = append(out, ratelimit.Bucket{Key: k, History: h})
			}
		}
	}
	return out, nil
}

package etcdagree

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/internal/etcdkv"
)

// Config configures a Check.
type Config struct {
	// Name prefixes its log messages and errors ("shardsweep").
	Name string
	// Prefix is where the fingerprints live: Prefix + ID for each replica.
	Prefix string
	// ID is this replica's ID.
	ID string
	// TTL is the lease the replica's key is bound to: it disappears this
	// long after the replica's last keep-alive. Whole seconds, at least 1s.
	TTL time.Duration
	// RetryDelay is how long Run waits before it publishes again after a
	// failure.
	RetryDelay time.Duration
	// Retrier bounds and retries each request.
	Retrier etcdkv.Retrier
	// Shared is the Go type of the shared configuration the fingerprint
	// encodes, whose time.Duration fields a Diff prints as durations
	// (CompareAs); nil: every value as its JSON.
	Shared reflect.Type
}

// Mismatch is another live replica whose shared configuration differs
// from this one's, or whose fingerprint could not be read.
type Mismatch struct {
	// Replica is the other replica's ID (its key without the prefix).
	Replica string `json:"replica"`
	// Key is the etcd key of its fingerprint.
	Key string `json:"key"`
	// Fingerprint is its fingerprint ("sha256:…"); empty when unreadable.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Fields are the fields that differ, sorted by path.
	Fields []Diff `json:"fields,omitempty"`
	// Config is its shared configuration, canonical JSON; nil when
	// unreadable.
	Config json.RawMessage `json:"config,omitempty"`
	// Err is set when its fingerprint could not be read (it matches
	// ErrMalformed and names the key); Fields is then empty.
	Err error `json:"-"`
}

// String describes m on one line.
func (m Mismatch) String() string {
	if m.Err != nil {
		return fmt.Sprintf("replica %s: %v", m.Replica, m.Err)
	}
	fs := make([]string, len(m.Fields))
	for i, d := range m.Fields {
		fs[i] = d.String()
	}
	return fmt.Sprintf("replica %s (key %q): %s", m.Replica, m.Key, strings.Join(fs, "; "))
}

// touches reports whether m is about one of fields (a Diff whose path is
// one of them or under one of them), or unreadable; with no fields,
// whether it is a mismatch at all.
func (m Mismatch) touches(fields []string) bool {
	if m.Err != nil || len(fields) == 0 {
		return true
	}
	for _, d := range m.Fields {
		for _, f := range fields {
			if d.Field == f || strings.HasPrefix(d.Field, f+".") || strings.HasPrefix(d.Field, f+"[") {
				return true
			}
		}
	}
	return false
}

// Status is what a Check knows of the other replicas' configurations.
type Status struct {
	// Checked is set once the others' fingerprints have been read since
	// Run started; until then Mismatches says nothing.
	Checked bool
	// Fingerprint is this replica's own.
	Fingerprint Fingerprint
	// Peers is how many other replicas' fingerprints were read, agreeing
	// or not.
	Peers int
	// Mismatches are the other replicas that disagree, sorted by key.
	Mismatches []Mismatch
	// Err is why the check is not current (etcd failed, its lease was
	// lost): the Mismatches are those last read. Nil while it runs.
	Err error
}

// Conflict returns an error matching ErrMismatch that names every
// replica (and its key) whose configuration differs from this one's in
// one of fields (a field path or the path of an object above it), or
// whose fingerprint is unreadable (matching ErrMalformed too), with the
// fields that differ; with no fields, in any field. It returns nil when
// there is none.
func (s Status) Conflict(fields ...string) error {
	var parts []string
	var errs []error
	for _, m := range s.Mismatches {
		if m.touches(fields) {
			parts = append(parts, m.String())
			if m.Err != nil {
				errs = append(errs, m.Err)
			}
		}
	}
	if len(parts) == 0 {
		return nil
	}
	err := fmt.Errorf("%w: %s", ErrMismatch, strings.Join(parts, "; "))
	if len(errs) > 0 {
		return errors.Join(append([]error{err}, errs...)...)
	}
	return err
}

// Check publishes this replica's fingerprint under its key, bound to a
// lease, and compares it with every other replica's, on start and on
// every change (a watch). It is safe for concurrent use.
type Check struct {
	cli    *clientv3.Client
	cfg    Config
	own    Fingerprint
	val    string
	clock  clock.Clock
	logger *slog.Logger

	mu      sync.Mutex
	st      Status
	changed chan struct{}
	version atomic.Uint64 // counts the changes of st
}

// New returns a Check of fp (see NewFingerprint) under cfg. It makes no
// request and starts no goroutine.
func New(cli *clientv3.Client, cfg Config, fp Fingerprint, c clock.Clock, logger *slog.Logger) (*Check, error) {
	val, err := fpJSON(fp)
	if err != nil {
		return nil, err
	}
	if c == nil {
		c = clock.Real{}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Check{cli: cli, cfg: cfg, own: fp, val: val, clock: c, logger: logger,
		st: Status{Fingerprint: fp}, changed: make(chan struct{})}, nil
}

func fpJSON(fp Fingerprint) (string, error) {
	b, err := json.Marshal(fp)
	if err != nil {
		return "", fmt.Errorf("encode the fingerprint: %w", err)
	}
	return string(b), nil
}

// Key returns this replica's key.
func (c *Check) Key() string { return c.cfg.Prefix + c.cfg.ID }

// Status returns what the check knows now.
func (c *Check) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.st
	st.Mismatches = slices.Clone(st.Mismatches)
	return st
}

// Version returns a number that changes whenever the Status does.
func (c *Check) Version() uint64 { return c.version.Load() }

// Changed returns a channel closed at the next change of the Status.
func (c *Check) Changed() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changed
}

// Run publishes and compares until ctx ends, and returns nil then, after
// deleting this replica's key (its lease revoked) and clearing the Status
// (Checked false, no Mismatches). A failure (etcd
// unreachable, the lease lost, the watch ended) is logged and kept in
// Status.Err, and Run publishes again after RetryDelay on its clock. A
// watch that meets a compaction is no failure: the fingerprints are read
// again and followed from there.
func (c *Check) Run(ctx context.Context) error {
	for {
		err := c.session(ctx)
		if ctx.Err() != nil {
			c.update(func(st *Status) { *st = Status{Fingerprint: c.own} })
			return nil
		}
		c.logger.LogAttrs(ctx, slog.LevelWarn, c.cfg.Name+": configuration check failed; trying again",
			slog.String("id", c.cfg.ID), slog.Any("error", err))
		c.update(func(st *Status) { st.Err = err })
		select {
		case <-ctx.Done():
			c.update(func(st *Status) { *st = Status{Fingerprint: c.own} })
			return nil
		case <-c.clock.After(c.cfg.RetryDelay):
		}
	}
}

// session publishes the fingerprint under a new lease and follows the
// others' until ctx ends (nil) or something fails.
func (c *Check) session(ctx context.Context) error {
	r := c.cfg.Retrier
	var grant *clientv3.LeaseGrantResponse
	if err := r.Do(ctx, func(ctx context.Context) (err error) {
		grant, err = c.cli.Grant(ctx, int64(c.cfg.TTL/time.Second))
		return err
	}); err != nil {
		return fmt.Errorf("%s: configuration check: grant lease: %w: %w", c.cfg.Name, etcdkv.ErrStore, err)
	}
	sctx, scancel := context.WithCancel(context.WithoutCancel(ctx))
	defer func() {
		scancel()
		// Leave at once, so that the others stop counting this replica.
		_ = r.Do(context.WithoutCancel(ctx), func(ctx context.Context) error {
			_, err := c.cli.Revoke(ctx, grant.ID)
			if errors.Is(err, rpctypes.ErrLeaseNotFound) {
				return nil
			}
			return err
		})
	}()
	sess, err := concurrency.NewSession(c.cli, concurrency.WithLease(grant.ID), concurrency.WithContext(sctx))
	if err != nil {
		return fmt.Errorf("%s: configuration check: session: %w: %w", c.cfg.Name, etcdkv.ErrStore, err)
	}
	if err := r.Do(ctx, func(ctx context.Context) error {
		_, err := c.cli.Put(ctx, c.Key(), c.val, clientv3.WithLease(grant.ID))
		return err
	}); err != nil {
		return fmt.Errorf("%s: configuration check: publish %q: %w: %w", c.cfg.Name, c.Key(), etcdkv.ErrStore, err)
	}
	peers, wch, wcancel, err := c.follow(ctx)
	defer func() { wcancel() }()
	if err != nil {
		return err
	}
	c.compare(ctx, peers)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-sess.Done():
			return fmt.Errorf("%s: configuration check: the lease of %q was lost: %w", c.cfg.Name, c.Key(), etcdkv.ErrStore)
		case resp, ok := <-wch:
			if werr := etcdkv.WatchEnded(resp, ok); werr != nil {
				if ctx.Err() != nil {
					return nil
				}
				if !errors.Is(werr, rpctypes.ErrCompacted) {
					return fmt.Errorf("%s: configuration check: watch %q: %w: %w", c.cfg.Name, c.cfg.Prefix, etcdkv.ErrStore, werr)
				}
				// The watch resumed (on another member, after its
				// connection was lost) from a revision etcd has
				// compacted since: the changes in between are lost, not
				// the fingerprint. Read them again and follow them from
				// there.
				wcancel()
				if peers, wch, wcancel, err = c.follow(ctx); err != nil {
					return err
				}
				if _, ok := peers[c.Key()]; !ok {
					return fmt.Errorf("%s: configuration check: the key %q was deleted: %w", c.cfg.Name, c.Key(), etcdkv.ErrStore)
				}
				c.compare(ctx, peers)
				continue
			}
			for _, ev := range resp.Events {
				key := string(ev.Kv.Key)
				if ev.Type == clientv3.EventTypePut {
					peers[key] = ev.Kv.Value
				} else {
					delete(peers, key)
				}
			}
			if _, ok := peers[c.Key()]; !ok {
				return fmt.Errorf("%s: configuration check: the key %q was deleted: %w", c.cfg.Name, c.Key(), etcdkv.ErrStore)
			}
			c.compare(ctx, peers)
		}
	}
}

// follow reads the fingerprints under the prefix (key → value) and
// watches them from that read on, until cancel is called.
func (c *Check) follow(ctx context.Context) (peers map[string][]byte, wch clientv3.WatchChan, cancel context.CancelFunc, err error) {
	cancel = func() {}
	var list *clientv3.GetResponse
	if err := c.cfg.Retrier.Do(ctx, func(ctx context.Context) (err error) {
		list, err = c.cli.Get(ctx, c.cfg.Prefix, clientv3.WithPrefix())
		return err
	}); err != nil {
		return nil, nil, cancel, fmt.Errorf("%s: configuration check: read %q: %w: %w", c.cfg.Name, c.cfg.Prefix, etcdkv.ErrStore, err)
	}
	peers = map[string][]byte{}
	for _, kv := range list.Kvs {
		peers[string(kv.Key)] = kv.Value
	}
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	return peers, c.cli.Watch(wctx, c.cfg.Prefix, clientv3.WithPrefix(), clientv3.WithRev(list.Header.Revision+1)), cancel, nil
}

// compare sets the Status from the fingerprints read (peers: key →
// value, this replica's own among them) and logs what changed.
func (c *Check) compare(ctx context.Context, peers map[string][]byte) {
	var ms []Mismatch
	n := 0
	for _, key := range slices.Sorted(maps.Keys(peers)) {
		if key == c.Key() {
			continue
		}
		n++
		m := Mismatch{Replica: strings.TrimPrefix(key, c.cfg.Prefix), Key: key}
		fp, err := Parse(key, peers[key])
		switch {
		case err != nil:
			m.Err = fmt.Errorf("%s: %w", c.cfg.Name, err)
		case fp.Hash == c.own.Hash:
			continue
		default:
			m.Fingerprint, m.Fields, m.Config = fp.Hash, CompareAs(c.cfg.Shared, c.own.Config, fp.Config), fp.Config
		}
		ms = append(ms, m)
	}
	var before []Mismatch
	c.update(func(st *Status) {
		before = st.Mismatches
		st.Checked, st.Peers, st.Mismatches, st.Err = true, n, ms, nil
	})
	c.log(ctx, before, ms)
}

// log warns of every mismatch that is new or changed, and says when the
// last one cleared.
func (c *Check) log(ctx context.Context, before, now []Mismatch) {
	old := map[string]string{}
	for _, m := range before {
		old[m.Key] = m.String()
	}
	for _, m := range now {
		if old[m.Key] == m.String() {
			continue
		}
		fields := make([]string, len(m.Fields))
		for i, d := range m.Fields {
			fields[i] = d.String()
		}
		attrs := []slog.Attr{slog.String("id", c.cfg.ID), slog.String("replica", m.Replica), slog.String("key", m.Key)}
		if m.Err != nil {
			attrs = append(attrs, slog.Any("error", m.Err))
			c.logger.LogAttrs(ctx, slog.LevelWarn, c.cfg.Name+": another replica's configuration fingerprint is unreadable", attrs...)
			continue
		}
		attrs = append(attrs, slog.Any("fields", fields), slog.String("fingerprint", m.Fingerprint), slog.String("mine", c.own.Hash))
		c.logger.LogAttrs(ctx, slog.LevelWarn, c.cfg.Name+": another replica runs another shared configuration", attrs...)
	}
	if len(before) > 0 && len(now) == 0 {
		c.logger.LogAttrs(ctx, slog.LevelInfo, c.cfg.Name+": every live replica runs the same shared configuration again",
			slog.String("id", c.cfg.ID), slog.String("fingerprint", c.own.Hash))
	}
}

// update changes the Status under the lock and wakes Changed's waiters.
func (c *Check) update(f func(st *Status)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(&c.st)
	c.version.Add(1)
	close(c.changed)
	c.changed = make(chan struct{})
}

package etcdaudit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/internal/etcdkv"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// Client is the part of *clientv3.Client the log uses: key-value requests
// and leases.
type Client interface {
	clientv3.KV
	clientv3.Lease
}

var _ Client = (*clientv3.Client)(nil)

// Log is a safety.Auditor on etcd, shared by every replica that uses the
// same Config.Prefix. It is safe for concurrent use.
type Log struct {
	cli    Client
	cfg    Config
	clock  clock.Clock
	r      etcdkv.Retrier
	leases *etcdkv.Leases
}

var _ safety.Auditor = (*Log)(nil)

// Option configures a Log's wiring.
type Option func(*Log)

// WithClock sets the clock that paces retries and times lease renewal (a
// new lease every Retention/30). Default (also for nil): the real clock; a
// nil pointer is an error of New.
func WithClock(c clock.Clock) Option { return func(l *Log) { l.clock = c } }

// New returns a Log for cfg using cli (usually a *clientv3.Client, which
// the caller keeps and closes). It returns a *provider.InvalidError when
// cfg is invalid, cli is nil or WithClock was given a nil pointer. It
// makes no request and starts no goroutine.
func New(cfg Config, cli Client, opts ...Option) (*Log, error) {
	if err := etcdkv.CheckNew("etcdaudit", cli, cfg); err != nil {
		return nil, err
	}
	l := &Log{cli: cli, cfg: cfg.withDefaults()}
	for _, o := range opts {
		o(l)
	}
	var err error
	if l.clock, err = etcdkv.ClockOf("etcdaudit", l.clock); err != nil {
		return nil, err
	}
	l.r = l.cfg.kv().Retrier(l.clock)
	ret := l.cfg.Retention
	l.leases = etcdkv.NewLeases(cli, ret+ret/30, ret/30, l.clock)
	return l, nil
}

// The range of event times Record accepts: the times in Unix nanoseconds.
var (
	minTime = time.Unix(0, math.MinInt64).UTC()
	maxTime = time.Unix(0, math.MaxInt64).UTC()
)

func (l *Log) dir() string { return l.cfg.Prefix + "audit/" }

// Record writes ev; see safety.Auditor. A retried write reuses its key,
// so an event whose first reply was lost is stored once. It returns an
// error matching provider.ErrInvalid when ev has no time or one outside
// the range of Unix nanoseconds (1677-09-21 to 2262-04-11), and one
// matching ErrStore (and ctx's error) when etcd fails: then the event may
// or may not be stored.
func (l *Log) Record(ctx context.Context, ev safety.AuditEvent) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("etcdaudit: record: %w", err)
	}
	if ev.Time.IsZero() {
		return fmt.Errorf("etcdaudit: record: %w", provider.Invalid("event.time", ev.Time, "must be set"))
	}
	ev.Time = ev.Time.UTC()
	if ev.Time.Before(minTime) || ev.Time.After(maxTime) {
		// The key holds the time in Unix nanoseconds, which wrap around
		// outside this range: Events would misplace or miss the event.
		return fmt.Errorf("etcdaudit: record: %w", provider.Invalid("event.time", ev.Time.Format(time.RFC3339Nano),
			"must be between "+minTime.Format(time.RFC3339Nano)+" and "+maxTime.Format(time.RFC3339Nano)+", the range of Unix nanoseconds"))
	}
	val, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("etcdaudit: record: encode: %w", err)
	}
	key := fmt.Sprintf("%s%019d-%016x", l.dir(), max(ev.Time.UnixNano(), 0), rand.Uint64())
	return l.r.Op(ctx, "etcdaudit: record", func(ctx context.Context) error {
		return l.leases.With(ctx, func(lease clientv3.LeaseID) error {
			_, err := l.cli.Put(ctx, key, string(val), clientv3.WithLease(lease))
			return err
		})
	})
}

// Events returns the events with Time at or after since (all events for
// the zero time), in the order they were committed. It returns ErrStore
// when etcd fails or a stored event cannot be decoded or has no time. An
// event of a kind, action, outcome or risk this version does not know (a
// newer replica's, during a rolling upgrade) is returned as stored, with
// those values as their text (their Validate refuses them): it does not
// fail the read, and a reader skips what it does not know.
func (l *Log) Events(ctx context.Context, since time.Time) ([]safety.AuditEvent, error) {
	from := l.dir()
	switch {
	case since.After(maxTime):
		// After every key's time: the keys' 19 digits are at most
		// math.MaxInt64's.
		from = l.dir() + "9223372036854775808"
	case since.After(time.Unix(0, 0)):
		from = fmt.Sprintf("%s%019d", l.dir(), since.UnixNano())
	}
	var resp *clientv3.GetResponse
	err := l.r.Op(ctx, "etcdaudit: events", func(ctx context.Context) (err error) {
		resp, err = l.cli.Get(ctx, from, clientv3.WithRange(clientv3.GetPrefixRangeEnd(l.dir())),
			clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend))
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]safety.AuditEvent, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		ev, err := decode(kv.Value)
		if err != nil {
			return nil, fmt.Errorf("etcdaudit: events: key %q: %w: %w", kv.Key, ErrStore, err)
		}
		if ev.Time.Before(since) {
			continue // before 1970: every such event has the key time 0
		}
		out = append(out, ev)
	}
	return out, nil
}

// EventsAfter returns the events committed after revision rev (all of
// them for 0), in the order they were committed, and the revision to pass
// next time. Unlike Events' since, a revision follows the commit order,
// not the events' times: an event committed after the last call but
// stamped earlier (a run's now taken at its start, another replica's
// clock) is read, and none is read twice (an event's key is created once;
// a retried write only rewrites it). It returns an error matching
// provider.ErrInvalid for a negative rev, and ErrStore when etcd fails, a
// stored event cannot be decoded or has no time, or rev is ahead of the
// store's revision (etcd restored from an older snapshot, or a revision
// another cluster returned: the events committed until the store reached
// it would be skipped), an error that also matches ErrRevisionAhead,
// since retrying it with the same rev does not help; next is then rev.
// An event of a newer version is returned as Events returns it.
func (l *Log) EventsAfter(ctx context.Context, rev int64) (evs []safety.AuditEvent, next int64, err error) {
	if rev < 0 {
		return nil, rev, fmt.Errorf("etcdaudit: events after: %w", provider.Invalid("rev", rev, "must not be negative (0: from the start)"))
	}
	var resp *clientv3.GetResponse
	err = l.r.Op(ctx, "etcdaudit: events after", func(ctx context.Context) (err error) {
		resp, err = l.cli.Get(ctx, l.dir(), clientv3.WithPrefix(), clientv3.WithMinCreateRev(rev+1),
			clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend))
		return err
	})
	if err != nil {
		return nil, rev, err
	}
	if rev > resp.Header.Revision {
		// The events the store commits until it reaches rev would be
		// skipped, silently and for good.
		return nil, rev, fmt.Errorf("etcdaudit: events after: %w (%w): revision %d is ahead of the store's, %d (etcd restored from an older snapshot, or a revision of another cluster): read again from 0, or from a revision this store returned",
			ErrStore, ErrRevisionAhead, rev, resp.Header.Revision)
	}
	out := make([]safety.AuditEvent, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		ev, err := decode(kv.Value)
		if err != nil {
			return nil, rev, fmt.Errorf("etcdaudit: events after: key %q: %w: %w", kv.Key, ErrStore, err)
		}
		out = append(out, ev)
	}
	return out, resp.Header.Revision, nil
}

// errNoTime is decode's error for a value without an event's time.
var errNoTime = errors.New("not an audit event: no time")

// decode reads a stored event. A value without a time (null, {}, another
// program's object) is not one Record wrote, since Record refuses an
// event without one. The kind, action, outcome and risk are read as text,
// unchecked: a newer replica's event may hold values this version does
// not know, and is returned with them as stored.
func decode(val []byte) (safety.AuditEvent, error) {
	var ev safety.AuditEvent
	// The outer fields shadow the event's, so that their text is not
	// checked against this version's values.
	w := struct {
		*safety.AuditEvent
		Kind    string `json:"kind"`
		Action  string `json:"action"`
		Outcome string `json:"outcome"`
		Risk    string `json:"risk"`
	}{AuditEvent: &ev}
	if err := json.Unmarshal(val, &w); err != nil {
		return ev, err
	}
	ev.Kind, ev.Action, ev.Outcome, ev.Risk = safety.AuditKind(w.Kind), safety.Action(w.Action), safety.Outcome(w.Outcome), safety.Risk(w.Risk)
	if ev.Time.IsZero() {
		return ev, errNoTime
	}
	return ev, nil
}

package etcdhistory

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/internal/etcdkv"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// Client is the part of *clientv3.Client the history uses: key-value
// requests and leases.
type Client interface {
	clientv3.KV
	clientv3.Lease
}

var _ Client = (*clientv3.Client)(nil)

// History is a safety.ActionHistory on etcd, shared by every replica that
// uses the same Config.Prefix, and the recorder of the reaper
// (reaper.WithHistory) and the scaling engine (scaling.WithActionHistory).
// It is safe for concurrent use.
type History struct {
	cli    Client
	cfg    Config
	clock  clock.Clock
	r      etcdkv.Retrier
	leases *etcdkv.Leases
}

var _ safety.ActionHistory = (*History)(nil)

// Option configures a History's wiring.
type Option func(*History)

// WithClock sets the clock that paces retries, times lease renewal (a new
// lease every Keep/30) and tells ActedOn what it may have forgotten (a
// time before now − Keep − Keep/30). A host or test that decides on a
// mock clock passes it here too. Default (also for nil): the real clock;
// a nil pointer is an error of New.
func WithClock(c clock.Clock) Option { return func(h *History) { h.clock = c } }

// New returns a History for cfg using cli (usually a *clientv3.Client,
// which the caller keeps and closes). It returns a *provider.InvalidError
// when cfg is invalid, cli is nil or WithClock was given a nil pointer. It
// makes no request and starts no goroutine.
func New(cfg Config, cli Client, opts ...Option) (*History, error) {
	if err := etcdkv.CheckNew("etcdhistory", cli, cfg); err != nil {
		return nil, err
	}
	h := &History{cli: cli, cfg: cfg.withDefaults()}
	for _, o := range opts {
		o(h)
	}
	var err error
	if h.clock, err = etcdkv.ClockOf("etcdhistory", h.clock); err != nil {
		return nil, err
	}
	h.r = h.cfg.kv().Retrier(h.clock)
	// A new lease every Keep/30, each Keep + 2·Keep/30 long (rounded up to
	// whole seconds: NewLeases rounds down): a record lives at least
	// Keep + Keep/30 after it is written, the grace ActedOn allows.
	keep := h.cfg.Keep
	ttl := etcdkv.MaxTTL // a Keep of centuries: the longest lease
	if extra := 2 * (keep / 30); keep < etcdkv.MaxTTL-extra-time.Second {
		ttl = (keep + extra + time.Second - 1).Truncate(time.Second)
	}
	h.leases = etcdkv.NewLeases(cli, ttl, keep/30, h.clock)
	return h, nil
}

// back returns how far back ActedOn answers for a history that records
// with keep: keep and a grace of keep/30, which the records live longer
// than keep (see New), so that a Keep equal to the limits window answers a
// proposal whose Now is a little behind the history's clock (the reaper's
// may be up to a minute old). It saturates rather than wrap around for a
// keep near the longest Duration.
func back(keep time.Duration) time.Duration {
	if b := keep + keep/30; b > 0 {
		return b
	}
	return math.MaxInt64
}

// Config returns the configuration with the defaults filled in.
func (h *History) Config() Config { return h.cfg }

// dir returns the directory of fleet's records.
func (h *History) dir(fleet string) string {
	return h.cfg.Prefix + "history/" + url.PathEscape(fleet) + "/"
}

// keeps returns the directory of the Keep markers: one key per Keep that
// a replica recorded with, Prefix + "history-keep/" + the Keep in
// nanoseconds (19 digits), holding the stamp of the latest record
// written with it (the largest, whatever the order of the writes). It
// has no lease: it must outlive the records, so that a replica with a
// longer Keep learns that records it would count may be gone (see
// ActedOn). There is one per Keep ever used, not per record.
func (h *History) keeps() string { return h.cfg.Prefix + "history-keep/" }

// stamp returns the part of a record's key that orders it: its time in
// Unix nanoseconds, 19 digits (see inRange).
func stamp(at time.Time) string { return fmt.Sprintf("%019d", at.UnixNano()) }

// The times a key can hold in order: Unix nanoseconds from 0 (before
// 1970 they are negative, and sort wrongly as text) to the largest int64
// (after it they wrap around).
var (
	minTime = time.Unix(0, 0).UTC()
	maxTime = time.Unix(0, math.MaxInt64).UTC()
)

// inRange returns an error naming field when t is outside the times a key
// holds.
func inRange(field string, t time.Time) error {
	if t.Before(minTime) || t.After(maxTime) {
		return provider.Invalid(field, t.UTC().Format(time.RFC3339Nano), "must be between "+minTime.Format(time.RFC3339)+" and "+
			maxTime.Format(time.RFC3339Nano)+", the times in Unix nanoseconds a record's key holds")
	}
	return nil
}

// Record notes that units instances of fleet were acted on at at, as
// safety.MemoryHistory.Record does; the reaper and the scaling engine call
// it after each action. Its requests run without a caller's context (the
// recorders' interface has none), bounded by RequestTimeout and
// MaxRetries. See RecordContext.
func (h *History) Record(fleet string, at time.Time, units int) error {
	return h.RecordContext(context.Background(), fleet, at, units)
}

// RecordContext is Record under ctx. A retried write reuses its key, so a
// record whose first reply was lost is stored once. The same transaction
// raises the marker of the history's Keep to at (see ActedOn). It returns an error
// matching provider.ErrInvalid for units below 1 or a time that is zero or
// outside 1970 to 2262 (Unix nanoseconds, which the key holds), and one
// matching ErrStore (and ctx's error) when etcd fails: then the record may
// or may not be stored.
func (h *History) RecordContext(ctx context.Context, fleet string, at time.Time, units int) error {
	switch {
	case units < 1:
		return fmt.Errorf("etcdhistory: record: %w", provider.Invalid("units", units, "must be ≥ 1"))
	case at.IsZero():
		return fmt.Errorf("etcdhistory: record: %w", provider.Invalid("at", at, "must be set"))
	}
	if err := inRange("at", at); err != nil {
		return fmt.Errorf("etcdhistory: record: %w", err)
	}
	key := fmt.Sprintf("%s%s-%016x", h.dir(fleet), stamp(at), rand.Uint64())
	val := strconv.Itoa(units)
	// The record, and its Keep's marker raised to at when it is older.
	mark, st := h.keeps()+fmt.Sprintf("%019d", int64(h.cfg.Keep)), stamp(at)
	raise := clientv3.OpTxn([]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(mark), "=", 0)},
		[]clientv3.Op{clientv3.OpPut(mark, st)},
		[]clientv3.Op{clientv3.OpTxn([]clientv3.Cmp{clientv3.Compare(clientv3.Value(mark), "<", st)},
			[]clientv3.Op{clientv3.OpPut(mark, st)}, nil)})
	return h.r.Op(ctx, "etcdhistory: record", func(ctx context.Context) error {
		return h.leases.With(ctx, func(lease clientv3.LeaseID) error {
			_, err := h.cli.Txn(ctx).Then(clientv3.OpPut(key, val, clientv3.WithLease(lease)), raise).Commit()
			return err
		})
	})
}

// ActedOn implements safety.ActionHistory: the instances of fleet acted on
// at or after since, by every replica. It returns an error matching
// provider.ErrInvalid when since is before now − Keep − Keep/30 on the
// history's clock (records of that time may be gone: the count would be
// too low; the Keep/30 of grace lets a proposal's Now lag the history's
// clock with a Keep equal to the limits window) or outside 1970 to 2262,
// or when another replica with a shorter Keep recorded at or after a
// since that Keep does not cover (its records may be gone; see the
// package doc), and one matching ErrStore when etcd fails or a stored
// record cannot be read. A sum beyond math.MaxInt is math.MaxInt.
func (h *History) ActedOn(ctx context.Context, fleet string, since time.Time) (int, error) {
	if err := inRange("since", since); err != nil {
		return 0, fmt.Errorf("etcdhistory: acted on %q: %w", fleet, err)
	}
	if from := h.clock.Now().Add(-back(h.cfg.Keep)); since.Before(from) {
		return 0, fmt.Errorf("etcdhistory: acted on %q: %w", fleet, provider.Invalid("since", since,
			fmt.Sprintf("is before %s: the history keeps %s (Config.Keep), so it may have forgotten actions since then; keep at least the limits window",
				from.UTC().Format(time.RFC3339), h.cfg.Keep)))
	}
	dir := h.dir(fleet)
	var resp *clientv3.TxnResponse
	err := h.r.Op(ctx, "etcdhistory: acted on", func(ctx context.Context) (err error) {
		resp, err = h.cli.Txn(ctx).Then(clientv3.OpGet(dir+stamp(since), clientv3.WithRange(clientv3.GetPrefixRangeEnd(dir))),
			clientv3.OpGet(h.keeps(), clientv3.WithPrefix())).Commit()
		return err
	})
	if err != nil {
		return 0, err
	}
	if err := h.checkKeeps(resp.Responses[1].GetResponseRange().Kvs, fleet, since); err != nil {
		return 0, err
	}
	n := 0
	for _, kv := range resp.Responses[0].GetResponseRange().Kvs {
		units, err := strconv.Atoi(string(kv.Value))
		if err != nil || units < 1 {
			return 0, fmt.Errorf("etcdhistory: acted on %q: record %q holds %q, not a count of instances: %w", fleet, kv.Key, kv.Value, ErrStore)
		}
		if n > math.MaxInt-units {
			return math.MaxInt, nil
		}
		n += units
	}
	return n, nil
}

// checkKeeps returns an error when a replica that records with a Keep
// shorter than since needs (since is before now − that Keep − Keep/30)
// recorded at or after since: some of its records that ActedOn would
// count may be gone, and the count would be too low. The error matches
// provider.ErrInvalid (the replicas' configurations disagree), or
// ErrStore for a marker it cannot read.
func (h *History) checkKeeps(marks []*mvccpb.KeyValue, fleet string, since time.Time) error {
	now := h.clock.Now()
	for _, kv := range marks {
		keep, err1 := strconv.ParseInt(strings.TrimPrefix(string(kv.Key), h.keeps()), 10, 64)
		last, err2 := strconv.ParseInt(string(kv.Value), 10, 64)
		if err1 != nil || err2 != nil || keep <= 0 {
			return fmt.Errorf("etcdhistory: acted on %q: Keep marker %q holds %q, not a record's time: %w", fleet, kv.Key, kv.Value, ErrStore)
		}
		k := time.Duration(keep)
		from := now.Add(-back(k)) // long before 1970 for a Keep of centuries: it forgets nothing ActedOn answers for
		if since.Before(from) && last >= since.UnixNano() {
			return fmt.Errorf("etcdhistory: acted on %q: %w", fleet, provider.Invalid("keep", k, fmt.Sprintf(
				"is another replica's Keep (this one's is %s), and it recorded at %s, after since %s: its records since %s may be gone, and the count would be too low; give every replica that shares the history the same Keep, at least the limits window",
				h.cfg.Keep, time.Unix(0, last).UTC().Format(time.RFC3339), since.UTC().Format(time.RFC3339), from.UTC().Format(time.RFC3339))))
		}
	}
	return nil
}

package etcdstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/ratelimit/etcdstore"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func up(target string, units int) ratelimit.Request {
	return ratelimit.Request{Target: target, Direction: ratelimit.Up, Units: units}
}

// The limiter's rules hold with the history on etcd.
func TestLimiterSemanticsOnEtcd(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store := newStore(t, newClient(t), etcdstore.Config{})
	lim, err := ratelimit.New(ratelimit.Config{Global: ratelimit.Budget{Events: 3, Window: time.Hour}},
		ratelimit.WithStore(store))
	require.NoError(t, err)

	r, err := lim.ReserveAt(ctx, t0, up("web/a b", 5)) // a target that needs escaping
	require.NoError(t, err)
	assert.Equal(t, ratelimit.Clamped, r.Outcome)
	assert.Equal(t, 3, r.Granted)

	r, err = lim.ReserveAt(ctx, t0.Add(time.Minute), up("web/a b", 1))
	require.NoError(t, err)
	assert.Equal(t, ratelimit.Denied, r.Outcome)
	assert.Equal(t, ratelimit.ReasonInterval, r.Reason)
	assert.Equal(t, t0.Add(5*time.Minute), r.Next)

	r2, err := lim.ReserveAt(ctx, t0.Add(time.Minute), up("db", 1))
	require.NoError(t, err)
	require.True(t, r2.OK())
	r3, err := lim.ReserveAt(ctx, t0.Add(2*time.Minute), ratelimit.Request{Target: "db", Direction: ratelimit.Down, Units: 1})
	require.NoError(t, err)
	require.True(t, r3.OK())
	r, err = lim.ReserveAt(ctx, t0.Add(3*time.Minute), up("queue", 1))
	require.NoError(t, err)
	assert.Equal(t, ratelimit.ReasonWindow, r.Reason)
	assert.Equal(t, ratelimit.ScopeGlobal, r.Scope)

	require.NoError(t, lim.CancelAt(ctx, t0.Add(3*time.Minute), r3))
	r, err = lim.ReserveAt(ctx, t0.Add(3*time.Minute), up("queue", 1))
	require.NoError(t, err)
	assert.True(t, r.OK(), "the refund frees a global slot: %s", r)

	st, err := lim.StatsAt(ctx, t0.Add(4*time.Minute))
	require.NoError(t, err)
	var keys []string
	for _, b := range st.Buckets {
		keys = append(keys, b.Key.String())
		require.GreaterOrEqual(t, b.Remaining, 0)
	}
	assert.Equal(t, []string{"global", "db/up", "queue/up", "web/a b/up"}, keys, "db/down was refunded and deleted")
	assert.Equal(t, 0, st.Buckets[0].Remaining)
}

// A CAS loop loses nothing: every granted event of concurrent writers is
// in the history exactly once.
func TestConcurrentWritersLoseNothing(t *testing.T) {
	t.Parallel()
	cfg := ratelimit.Config{Up: ratelimit.Budget{Events: -1, MinInterval: -1, MaxUnits: -1}}
	pfx := prefix(t)
	const writers, each = 2, 200
	var granted sync.Map
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range writers {
		store := newStore(t, newClient(t), etcdstore.Config{Prefix: pfx})
		lim, err := ratelimit.New(cfg, ratelimit.WithStore(store))
		require.NoError(t, err)
		wg.Go(func() {
			<-start
			for i := range each {
				r, err := lim.ReserveAt(context.Background(), t0.Add(time.Duration(i*writers+w)*time.Millisecond), up("web", 1))
				if !assert.NoError(t, err) || !assert.True(t, r.OK()) { //nolint:testifylint // not the test goroutine
					return
				}
				granted.Store(r.ID, true)
			}
		})
	}
	close(start)
	wg.Wait()
	n, recorded := grantedRecordedOnce(t.Context(), t, newStore(t, newClient(t), etcdstore.Config{Prefix: pfx}), &granted)
	events := 0
	for _, k := range recorded {
		events += k
	}
	t.Logf("%d writers × %d events: %d granted, %d recorded", writers, each, n, events)
	assert.Equal(t, writers*each, n)
	assert.Equal(t, writers*each, events)
}

// unsafeStore is the naive get-then-put the CAS loop replaces. It exists
// to show that the concurrency test above can fail.
type unsafeStore struct {
	cli *clientv3.Client
	key string
}

func (s unsafeStore) Update(ctx context.Context, _ []ratelimit.Key, fn func([]*ratelimit.History) (bool, error)) error {
	resp, err := s.cli.Get(ctx, s.key)
	if err != nil {
		return err
	}
	var h ratelimit.History
	if len(resp.Kvs) > 0 {
		if err := json.Unmarshal(resp.Kvs[0].Value, &h.Events); err != nil {
			return err
		}
	}
	write, err := fn([]*ratelimit.History{&h})
	if err != nil || !write {
		return err
	}
	val, err := json.Marshal(h.Events)
	if err != nil {
		return err
	}
	_, err = s.cli.Put(ctx, s.key, string(val))
	return err
}

func (s unsafeStore) Snapshot(context.Context) ([]ratelimit.Bucket, error) { return nil, nil }

func TestGetThenPutLosesEvents(t *testing.T) {
	t.Parallel()
	cfg := ratelimit.Config{Up: ratelimit.Budget{Events: -1, MinInterval: -1, MaxUnits: -1}}
	key := prefix(t) + "naive"
	const writers, each = 4, 100
	var wg sync.WaitGroup
	var granted atomic.Int64
	start := make(chan struct{})
	for w := range writers {
		lim, err := ratelimit.New(cfg, ratelimit.WithStore(unsafeStore{cli: newClient(t), key: key}))
		require.NoError(t, err)
		wg.Go(func() {
			<-start
			for i := range each {
				r, err := lim.ReserveAt(context.Background(), t0.Add(time.Duration(i*writers+w)*time.Millisecond), up("web", 1))
				if err == nil && r.OK() {
					granted.Add(1)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	resp, err := newClient(t).Get(t.Context(), key)
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1)
	var events []ratelimit.Event
	require.NoError(t, json.Unmarshal(resp.Kvs[0].Value, &events))
	t.Logf("naive get-then-put: %d granted, %d recorded (%.0f%% lost)", granted.Load(), len(events),
		100*float64(granted.Load()-int64(len(events)))/float64(granted.Load()))
	assert.Less(t, len(events), int(granted.Load()), "a get-then-put under contention must lose events")
}

// Several limiters on separate clients share one budget under load.
func TestReplicasShareOneBudget(t *testing.T) {
	t.Parallel()
	cfg := ratelimit.Config{
		Up:     ratelimit.Budget{Events: 4, MinInterval: time.Second},
		Global: ratelimit.Budget{Events: 10, Window: time.Hour},
	}
	pfx := prefix(t)
	targets := []string{"web", "api", "db"}
	const clients, perClient, each = 4, 2, 30
	var tried, ok atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for c := range clients {
		store := newStore(t, newClient(t), etcdstore.Config{Prefix: pfx})
		for g := range perClient {
			lim, err := ratelimit.New(cfg, ratelimit.WithStore(store))
			require.NoError(t, err)
			wg.Go(func() {
				<-start
				for i := range each {
					now := t0.Add(time.Duration(i) * 2 * time.Second)
					r, err := lim.ReserveAt(context.Background(), now, up(targets[(c+g+i)%len(targets)], 2))
					if !assert.NoError(t, err) { //nolint:testifylint // not the test goroutine
						return
					}
					tried.Add(1)
					if r.OK() {
						ok.Add(1)
					}
				}
			})
		}
	}
	close(start)
	wg.Wait()
	t.Logf("%d limiters on %d clients: %d reservations tried, %d granted (global budget 10, 4 per target)",
		clients*perClient, clients, tried.Load(), ok.Load())
	assert.Equal(t, int64(clients*perClient*each), tried.Load())
	assert.Equal(t, int64(10), ok.Load(), "exactly the global budget: never more, and the load is enough to use it all")

	lim, err := ratelimit.New(cfg, ratelimit.WithStore(newStore(t, newClient(t), etcdstore.Config{Prefix: pfx})))
	require.NoError(t, err)
	st, err := lim.StatsAt(t.Context(), t0.Add(time.Minute))
	require.NoError(t, err)
	total := 0
	for _, b := range st.Buckets {
		if b.Key.IsGlobal() {
			assert.Equal(t, 10, b.InWindow)
			assert.Equal(t, 0, b.Remaining)
			continue
		}
		assert.LessOrEqual(t, b.InWindow, 4, b.Key.String())
		total += b.InWindow
	}
	assert.Equal(t, 10, total)
}

// flakyKV loses the answer of the first write transactions after applying
// them, as when a member dies between commit and reply.
type flakyKV struct {
	*clientv3.Client
	lose atomic.Int32
}

func (f *flakyKV) Txn(ctx context.Context) clientv3.Txn {
	return &flakyTxn{Txn: f.Client.Txn(ctx), kv: f}
}

type flakyTxn struct {
	clientv3.Txn
	kv    *flakyKV
	write bool
}

func (t *flakyTxn) If(cs ...clientv3.Cmp) clientv3.Txn {
	t.write = len(cs) > 0
	t.Txn = t.Txn.If(cs...)
	return t
}

func (t *flakyTxn) Then(ops ...clientv3.Op) clientv3.Txn { t.Txn = t.Txn.Then(ops...); return t }

func (t *flakyTxn) Commit() (*clientv3.TxnResponse, error) {
	resp, err := t.Txn.Commit()
	if err == nil && t.write && t.kv.lose.Add(-1) >= 0 {
		return nil, context.DeadlineExceeded
	}
	return resp, err
}

func TestLostReplyIsNotCountedTwice(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	kv := &flakyKV{Client: newClient(t)}
	kv.lose.Store(1)
	store := newStore(t, kv, etcdstore.Config{})
	lim, err := ratelimit.New(ratelimit.Config{}, ratelimit.WithStore(store))
	require.NoError(t, err)
	r, err := lim.ReserveAt(ctx, t0, up("web", 1))
	require.NoError(t, err, "the store retries the lost reply")
	require.True(t, r.OK())
	assert.Zero(t, kv.lose.Load(), "the reply of the applied write was lost")

	bs, err := store.Snapshot(ctx)
	require.NoError(t, err)
	require.Len(t, bs, 1)
	require.Len(t, bs[0].History.Events, 1, "the event is recorded once")
	assert.Equal(t, r.ID, bs[0].History.Events[0].ID)
}

func deadEndpoint(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return "http://" + addr
}

func TestStoreFailuresDeny(t *testing.T) {
	t.Parallel()
	dead, err := clientv3.New(clientv3.Config{Endpoints: []string{deadEndpoint(t)}, Logger: zap.NewNop()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = dead.Close() })
	live := newClient(t)
	expired, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-expired.Done()

	tests := []struct {
		name  string
		cli   etcdstore.Client
		ctx   context.Context
		cause error
	}{
		{"etcd unreachable", dead, context.Background(), context.DeadlineExceeded},
		{"context deadline", live, expired, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store := newStore(t, tt.cli, etcdstore.Config{RequestTimeout: 100 * time.Millisecond, MaxRetries: 2})
			lim, err := ratelimit.New(ratelimit.Config{}, ratelimit.WithStore(store))
			require.NoError(t, err)
			r, err := lim.ReserveAt(tt.ctx, t0, up("web", 1))
			require.ErrorIs(t, err, ratelimit.ErrStore)
			require.ErrorIs(t, err, tt.cause)
			t.Log(err)
			assert.Equal(t, ratelimit.Denied, r.Outcome)
			assert.Equal(t, ratelimit.ReasonStore, r.Reason)
			_, err = lim.StatsAt(tt.ctx, t0)
			require.ErrorIs(t, err, ratelimit.ErrStore)
		})
	}
}

func TestCorruptHistoryDenies(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cli := newClient(t)
	store := newStore(t, cli, etcdstore.Config{})
	lim, err := ratelimit.New(ratelimit.Config{}, ratelimit.WithStore(store))
	require.NoError(t, err)
	for _, val := range []string{"not json", `[{"id":0,"at":"2026-03-02T10:00:00Z","units":1}]`,
		`[{"id":1,"at":"2026-03-02T10:00:00Z","units":1},{"id":2,"at":"2026-03-02T09:00:00Z","units":1}]`,
		`[{"id":1,"at":"9999-03-02T10:00:00Z","units":1}]`, `[{"id":1,"at":"2026-03-02T10:00:00Z","units":0}]`,
		`{"events":[],"horizon":"9999-03-02T10:00:00Z"}`, `{"events":{}}`,
		`{"events":[{"id":1,"at":"2026-03-02T10:00:00Z","units":1},{"id":2,"at":"2026-03-02T09:00:00Z","units":1}]}`} {
		_, err = cli.Put(ctx, store.Key(ratelimit.Key{Target: "web", Direction: ratelimit.Up}), val)
		require.NoError(t, err)
		r, err := lim.ReserveAt(ctx, t0, up("web", 1))
		require.ErrorIs(t, err, ratelimit.ErrStore)
		require.ErrorIs(t, err, ratelimit.ErrCorrupt, val)
		assert.False(t, r.OK())
	}
}

func TestKeysAreBounded(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cli := newClient(t)
	store := newStore(t, cli, etcdstore.Config{})
	lim, err := ratelimit.New(ratelimit.Config{History: 2 * time.Hour}, ratelimit.WithStore(store))
	require.NoError(t, err)
	now := t0
	for range 60 {
		now = now.Add(13 * time.Minute)
		r, err := lim.ReserveAt(ctx, now, up("web", 1))
		require.NoError(t, err)
		require.True(t, r.OK())
	}
	bs, err := store.Snapshot(ctx)
	require.NoError(t, err)
	require.Len(t, bs, 1)
	assert.Len(t, bs[0].History.Events, 10, "2 h of events 13 min apart: the rest was pruned")

	// The key carries a lease of about 25 h.
	resp, err := cli.Get(ctx, store.Key(ratelimit.Key{Target: "web", Direction: ratelimit.Up}))
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1)
	require.NotZero(t, resp.Kvs[0].Lease)
	ttl, err := cli.TimeToLive(ctx, clientv3.LeaseID(resp.Kvs[0].Lease))
	require.NoError(t, err)
	assert.InDelta(t, float64(25*3600), float64(ttl.GrantedTTL), 1)

	// A cancelled only event leaves its horizon behind, under the lease,
	// and no bucket in the snapshot.
	r, err := lim.ReserveAt(ctx, now, up("once", 1))
	require.NoError(t, err)
	require.NoError(t, lim.CancelAt(ctx, now, r))
	resp, err = cli.Get(ctx, store.Key(ratelimit.Key{Target: "once", Direction: ratelimit.Up}))
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1)
	var h ratelimit.History
	require.NoError(t, json.Unmarshal(resp.Kvs[0].Value, &h))
	assert.Empty(t, h.Events)
	assert.True(t, now.Equal(h.Horizon), "horizon %v", h.Horizon)
	assert.NotZero(t, resp.Kvs[0].Lease)
	bs, err = store.Snapshot(ctx)
	require.NoError(t, err)
	assert.Len(t, bs, 1, "only web has events")
}

// A value written before the horizon existed, a JSON array of events, is
// read: its newest event is the horizon, and the next write stores the
// object form.
func TestReadsEventArrays(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cli := newClient(t)
	store := newStore(t, cli, etcdstore.Config{})
	lim, err := ratelimit.New(ratelimit.Config{MaxSkew: 10 * time.Minute}, ratelimit.WithStore(store))
	require.NoError(t, err)
	key := store.Key(ratelimit.Key{Target: "web", Direction: ratelimit.Up})
	_, err = cli.Put(ctx, key, `[{"id":7,"at":"2026-03-02T10:00:00Z","units":2,"target":"web","dir":"up"}]`)
	require.NoError(t, err)

	r, err := lim.ReserveAt(ctx, t0.Add(-11*time.Minute), up("web", 1))
	require.NoError(t, err)
	assert.Equal(t, ratelimit.ReasonSkew, r.Reason, "the array's newest event is the horizon: %s", r)
	r, err = lim.ReserveAt(ctx, t0.Add(time.Minute), up("web", 1))
	require.NoError(t, err)
	assert.Equal(t, ratelimit.ReasonInterval, r.Reason, "the array's event counts: %s", r)
	r, err = lim.ReserveAt(ctx, t0.Add(5*time.Minute), up("web", 1))
	require.NoError(t, err)
	require.True(t, r.OK(), r.String())

	resp, err := cli.Get(ctx, key)
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1)
	var h ratelimit.History
	require.NoError(t, json.Unmarshal(resp.Kvs[0].Value, &h))
	require.Len(t, h.Events, 2)
	assert.Equal(t, uint64(7), h.Events[0].ID)
	assert.True(t, t0.Add(5*time.Minute).Equal(h.Horizon))
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give  etcdstore.Config
		field string
	}{
		{etcdstore.Config{RequestTimeout: -1}, "request_timeout"},
		{etcdstore.Config{MaxConflicts: -1}, "max_conflicts"},
		{etcdstore.Config{LeaseTTL: time.Second}, "lease_ttl"},
		{etcdstore.Config{Prefix: "a\x00"}, "prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			t.Parallel()
			_, err := etcdstore.New(tt.give, newClient(t))
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
		})
	}
	_, err := etcdstore.New(etcdstore.Config{}, nil)
	require.ErrorIs(t, err, provider.ErrInvalid)
}

func TestConflictLimit(t *testing.T) {
	t.Parallel()
	// Two stores that allow a single conflict each, hammering one key:
	// some updates must give up with ErrConflict, and those are denied.
	cfg := ratelimit.Config{Up: ratelimit.Budget{Events: -1, MinInterval: -1}}
	pfx := prefix(t)
	var conflicts atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 4 {
		lim, err := ratelimit.New(cfg, ratelimit.WithStore(newStore(t, newClient(t), etcdstore.Config{Prefix: pfx, MaxConflicts: 1})))
		require.NoError(t, err)
		wg.Go(func() {
			<-start
			for i := range 50 {
				r, err := lim.ReserveAt(context.Background(), t0.Add(time.Duration(i)*time.Millisecond), up("web", 1))
				if errors.Is(err, etcdstore.ErrConflict) {
					conflicts.Add(1)
					assert.False(t, r.OK())
				}
			}
		})
	}
	close(start)
	wg.Wait()
	t.Logf("%d of 200 reservations gave up after one lost transaction", conflicts.Load())
	assert.Positive(t, conflicts.Load())
}

func TestSnapshotSorted(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store := newStore(t, newClient(t), etcdstore.Config{})
	lim, err := ratelimit.New(ratelimit.Config{}, ratelimit.WithStore(store))
	require.NoError(t, err)
	for i, target := range []string{"c", "a", "b"} {
		_, err := lim.ReserveAt(ctx, t0.Add(time.Duration(i)*time.Second), up(target, 1))
		require.NoError(t, err)
	}
	bs, err := store.Snapshot(ctx)
	require.NoError(t, err)
	ratelimit.SortBuckets(bs)
	var got []string
	for _, b := range bs {
		got = append(got, fmt.Sprint(b.Key))
	}
	assert.True(t, slices.Equal([]string{"a/up", "b/up", "c/up"}, got), "%v", got)
}

// WithClock wires the clock that times lease renewal: while the clock
// stands still every write reuses one lease; once LeaseTTL/25 (1 h of the
// default 25 h) has passed on it, the next write grants a new one.
func TestWithClockTimesLeases(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cli := newClient(t)
	mock := clock.NewMock()
	// A long request timeout: a retry would wait for its backoff on the
	// mock clock, which this test moves only once.
	store, err := etcdstore.New(etcdstore.Config{Prefix: prefix(t), RequestTimeout: time.Minute}, cli, etcdstore.WithClock(mock))
	require.NoError(t, err)
	lim, err := ratelimit.New(ratelimit.Config{}, ratelimit.WithStore(store))
	require.NoError(t, err)
	leaseOf := func(target string) int64 {
		t.Helper()
		r, err := lim.ReserveAt(ctx, t0, up(target, 1))
		require.NoError(t, err)
		require.True(t, r.OK())
		resp, err := cli.Get(ctx, store.Key(ratelimit.Key{Target: target, Direction: ratelimit.Up}))
		require.NoError(t, err)
		require.Len(t, resp.Kvs, 1)
		require.NotZero(t, resp.Kvs[0].Lease)
		return resp.Kvs[0].Lease
	}
	first := leaseOf("a")
	assert.Equal(t, first, leaseOf("b"), "the clock did not move: same lease")
	mock.Add(time.Hour - time.Nanosecond)
	assert.Equal(t, first, leaseOf("c"), "just under LeaseTTL/25: same lease")
	mock.Add(time.Nanosecond)
	assert.NotEqual(t, first, leaseOf("d"), "LeaseTTL/25 passed on the store's clock: a new lease")
}

// A LeaseTTL beyond etcd's longest lease (9e9 s, about 285 years), such
// as math.MaxInt64 for "practically forever", is granted as the longest
// lease. It was asked for as it was: etcd refused the grant ("lease TTL
// is too large", not retryable), so every reservation was denied with a
// store error.
func TestLeaseTTLAboveEtcdMaximum(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cli := newClient(t)
	store := newStore(t, cli, etcdstore.Config{LeaseTTL: math.MaxInt64})
	lim, err := ratelimit.New(ratelimit.Config{}, ratelimit.WithStore(store))
	require.NoError(t, err)
	r, err := lim.ReserveAt(ctx, t0, up("web", 1))
	require.NoError(t, err)
	require.True(t, r.OK(), r.String())
	resp, err := cli.Get(ctx, store.Key(ratelimit.Key{Target: "web", Direction: ratelimit.Up}))
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1)
	ttl, err := cli.TimeToLive(ctx, clientv3.LeaseID(resp.Kvs[0].Lease))
	require.NoError(t, err)
	assert.Equal(t, int64(9_000_000_000), ttl.GrantedTTL)
}

// Snapshot (and so the limiter's Stats) reads the store's own keys,
// prefix + "global" and prefix + "b/...", not every key under the prefix:
// another store may share it, as safety/etcdaudit (prefix + "audit/")
// and safety/approval/etcdstore (prefix + "approvals/") share theirs.
// Snapshot read the whole prefix and failed with ErrCorrupt on the first
// key that was not a bucket's, so Stats always failed beside them. A bad
// key in the store's own space is still corrupt.
func TestSnapshotReadsOnlyItsKeys(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cli := newClient(t)
	store := newStore(t, cli, etcdstore.Config{})
	pfx := strings.TrimSuffix(store.Key(ratelimit.GlobalKey), "global")
	for key, val := range map[string]string{
		pfx + "audit/1772445600000000000-0123456789abcdef": `{"time":"2026-03-02T10:00:00Z","kind":"decision"}`,
		pfx + "approvals/r-1":                              `{"id":"r-1"}`,
		pfx + "globalx":                                    "another store's",
	} {
		_, err := cli.Put(ctx, key, val)
		require.NoError(t, err)
	}
	lim, err := ratelimit.New(ratelimit.Config{Global: ratelimit.Budget{Events: 3, Window: time.Hour}}, ratelimit.WithStore(store))
	require.NoError(t, err)
	r, err := lim.ReserveAt(ctx, t0, up("web", 1))
	require.NoError(t, err)
	require.True(t, r.OK())
	bs, err := store.Snapshot(ctx)
	require.NoError(t, err)
	ratelimit.SortBuckets(bs)
	require.Len(t, bs, 2)
	assert.True(t, bs[0].Key.IsGlobal())
	assert.Equal(t, ratelimit.Key{Target: "web", Direction: ratelimit.Up}, bs[1].Key)
	st, err := lim.StatsAt(ctx, t0)
	require.NoError(t, err)
	assert.Len(t, st.Buckets, 2)

	_, err = cli.Put(ctx, pfx+"b/web/sideways", `{"events":[]}`)
	require.NoError(t, err)
	_, err = store.Snapshot(ctx)
	require.ErrorIs(t, err, ratelimit.ErrCorrupt, "a bucket key with no direction")
}

// What the limiter accepts, the store reads back: a reservation at the
// last instants it allows, in a zone whose offset puts the local year
// across 1900 or 2200, and at the first instant of 2200. decode checked
// the local year, so an event at 23:00 UTC on 31 December 2199 written
// at +05:00 read as corrupt and every later reservation of its bucket
// failed; the limiter accepted 2200-01-01T00:00:00Z, which decode
// refuses.
func TestTimesAtTheBoundsReadBack(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store := newStore(t, newClient(t), etcdstore.Config{})
	lim, err := ratelimit.New(ratelimit.Config{}, ratelimit.WithStore(store))
	require.NoError(t, err)
	east, west := time.FixedZone("+05", 5*3600), time.FixedZone("-05", -5*3600)
	for i, at := range []time.Time{
		time.Date(2199, 12, 31, 23, 0, 0, 0, time.UTC).In(east),
		time.Date(1900, 1, 1, 1, 0, 0, 0, time.UTC).In(west),
	} {
		req := up(fmt.Sprintf("edge-%d", i), 1)
		r, err := lim.ReserveAt(ctx, at, req)
		require.NoError(t, err, "%v", at)
		require.True(t, r.OK(), "%v: %s", at, r)
		r, err = lim.ReserveAt(ctx, at.Add(time.Minute), req)
		require.NoError(t, err, "%v: the bucket reads back", at)
		assert.Equal(t, ratelimit.ReasonInterval, r.Reason, "%v", at)
	}
	_, err = lim.StatsAt(ctx, t0)
	require.NoError(t, err)

	r, err := lim.ReserveAt(ctx, time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC), up("edge-2200", 1))
	require.ErrorIs(t, err, provider.ErrInvalid, "the first instant of 2200 is out, as decode has it")
	assert.False(t, r.OK())
	r, err = lim.ReserveAt(ctx, time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Nanosecond), up("edge-2200", 1))
	require.NoError(t, err)
	require.True(t, r.OK(), "the last instant before 2200 is in")
	_, err = lim.StatsAt(ctx, t0)
	require.NoError(t, err)
}

package coord_test

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/coord"
	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/internal/syncbuf"
	"github.com/idlescale/idlescale/provider"
)

// leaders counts, per shard, the lead functions running at once, and the
// most ever seen.
type leaders struct {
	mu      sync.Mutex
	running map[int]int
	most    int
	terms   map[int]int
}

func (l *leaders) lead(ctx context.Context, shard int, _ *coord.Leadership) error {
	l.mu.Lock()
	l.running[shard]++
	l.terms[shard]++
	l.most = max(l.most, l.running[shard])
	l.mu.Unlock()
	<-ctx.Done()
	l.mu.Lock()
	l.running[shard]--
	l.mu.Unlock()
	return nil
}

type shardsReplica struct {
	s      *coord.Shards
	cancel context.CancelFunc
	done   chan error
}

func startShards(t *testing.T, cfg coord.ShardsConfig, ls *leaders) *shardsReplica {
	t.Helper()
	s, err := coord.NewShards(cfg, client(t))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	r := &shardsReplica{s: s, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- s.Run(ctx, ls.lead) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *shardsReplica) stop(t *testing.T) {
	r.cancel()
	select {
	case err, ok := <-r.done:
		if ok {
			require.NoError(t, err)
			close(r.done)
		}
	case <-time.After(30 * time.Second):
		t.Error("Run did not return")
	}
}

// settled waits until the replicas lead exactly the shards Assign gives
// them.
func settled(t *testing.T, d time.Duration, shards int, rs map[string]*shardsReplica) bool {
	t.Helper()
	ids := make([]string, 0, len(rs))
	for id := range rs {
		ids = append(ids, id)
	}
	owners, err := coord.Assign(shards, ids)
	require.NoError(t, err)
	return etcdtest.Within(t, d, func() bool {
		for id, r := range rs {
			var want []int
			for k, o := range owners {
				if o == id {
					want = append(want, k)
				}
			}
			if !slices.Equal(r.s.Leading(), want) {
				return false
			}
		}
		return true
	})
}

// TestShardsRebalance: replicas that join take their shards from the
// others, a replica that leaves hands its shards over at once (it
// resigns and revokes its membership: the others do not wait for its
// 30s lease), and no shard ever has two leaders at once.
func TestShardsRebalance(t *testing.T) {
	t.Parallel()
	ls := &leaders{running: map[int]int{}, terms: map[int]int{}}
	cfg := coord.ShardsConfig{Shards: 10, Prefix: prefix(t), SessionTTL: 30 * time.Second, RetryDelay: 20 * time.Millisecond}
	with := func(id string) coord.ShardsConfig { c := cfg; c.ID = id; return c }
	rs := map[string]*shardsReplica{"a": startShards(t, with("a"), ls)}
	require.True(t, settled(t, 30*time.Second, 10, rs), "a leads every shard")
	rs["b"] = startShards(t, with("b"), ls)
	require.True(t, settled(t, 30*time.Second, 10, rs), "b takes its half")
	rs["c"] = startShards(t, with("c"), ls)
	require.True(t, settled(t, 30*time.Second, 10, rs), "c takes its third")
	b := rs["b"]
	delete(rs, "b")
	b.stop(t)
	require.True(t, settled(t, 15*time.Second, 10, rs), "b's shards are taken well before its lease would expire")
	ls.mu.Lock()
	defer ls.mu.Unlock()
	assert.Equal(t, 1, ls.most, "never two leaders of a shard at once")
}

// TestShardsCountMismatch: a replica configured with another shard count
// than the cluster's returns ErrShardCount from Run without leading.
func TestShardsCountMismatch(t *testing.T) {
	t.Parallel()
	ls := &leaders{running: map[int]int{}, terms: map[int]int{}}
	cfg := coord.ShardsConfig{ID: "a", Shards: 4, Prefix: prefix(t), SessionTTL: 5 * time.Second}
	a := startShards(t, cfg, ls)
	require.True(t, settled(t, 30*time.Second, 4, map[string]*shardsReplica{"a": a}))
	cfg.ID, cfg.Shards = "b", 5
	s, err := coord.NewShards(cfg, client(t))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	err = s.Run(ctx, ls.lead)
	require.ErrorIs(t, err, coord.ErrShardCount)
	require.NoError(t, ctx.Err(), "refused at once")
	assert.Empty(t, s.Leading())
}

// TestShardsUnreachable: with etcd unreachable Run leads nothing, logs the
// failure, tries again, and returns nil when its context ends (not
// before).
func TestShardsUnreachable(t *testing.T) {
	t.Parallel()
	s, err := coord.NewShards(coord.ShardsConfig{ID: "a", Shards: 2, RequestTimeout: 50 * time.Millisecond, MaxRetries: -1, RetryDelay: 10 * time.Millisecond},
		client(t, "http://127.0.0.1:1"))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	var led atomic.Bool
	require.NoError(t, s.Run(ctx, func(context.Context, int, *coord.Leadership) error { led.Store(true); return nil }))
	require.Error(t, ctx.Err(), "Run retried until its context ended")
	assert.False(t, led.Load())
}

func TestShardsConfigValidate(t *testing.T) {
	t.Parallel()
	valid := coord.ShardsConfig{ID: "replica-1", Shards: 8}
	require.NoError(t, valid.Validate())
	tests := []struct {
		name  string
		give  func(c *coord.ShardsConfig)
		field string
	}{
		{"empty id", func(c *coord.ShardsConfig) { c.ID = "" }, "id"},
		{"id with a slash", func(c *coord.ShardsConfig) { c.ID = "a/b" }, "id"},
		{"zero shards", func(c *coord.ShardsConfig) { c.Shards = 0 }, "shards"},
		{"negative shards", func(c *coord.ShardsConfig) { c.Shards = -1 }, "shards"},
		{"too many shards", func(c *coord.ShardsConfig) { c.Shards = coord.MaxShards + 1 }, "shards"},
		{"session ttl below 1s", func(c *coord.ShardsConfig) { c.SessionTTL = 500 * time.Millisecond }, "session_ttl"},
		{"negative request timeout", func(c *coord.ShardsConfig) { c.RequestTimeout = -time.Second }, "request_timeout"},
		{"negative retry delay", func(c *coord.ShardsConfig) { c.RetryDelay = -time.Second }, "retry_delay"},
	}
	for _, tt := range tests {
		c := valid
		tt.give(&c)
		var ie *provider.InvalidError
		require.ErrorAs(t, c.Validate(), &ie, tt.name)
		assert.Equal(t, tt.field, ie.Field, tt.name)
		_, err := coord.NewShards(c, client(t))
		require.ErrorIs(t, err, provider.ErrInvalid, tt.name)
	}
	c := valid
	c.Shards = coord.MaxShards
	require.NoError(t, c.Validate(), "the boundary")
	_, err := coord.NewShards(valid, nil)
	require.ErrorIs(t, err, provider.ErrInvalid)
	s, err := coord.NewShards(valid, client(t))
	require.NoError(t, err)
	assert.Equal(t, 10*time.Second, s.Config().SessionTTL, "default")
	assert.Equal(t, "idlescale/coord/shards/", s.Config().Prefix, "default")
	require.ErrorIs(t, s.Run(t.Context(), nil), provider.ErrInvalid)
}

// TestShardsRefuseADuplicateID: a second replica started with a live
// one's ID is not let in: it logs an error naming the duplicate and leads
// nothing, and the first keeps its membership. Before, the second
// overwrote the membership key with its own lease, and stopping it
// deleted the first's membership (the first then stopped every shard).
// Once the first is gone, the second joins (a restarted pod whose
// predecessor's lease expires).
func TestShardsRefuseADuplicateID(t *testing.T) {
	t.Parallel()
	ls := &leaders{running: map[int]int{}, terms: map[int]int{}}
	cfg := coord.ShardsConfig{ID: "a", Shards: 4, Prefix: prefix(t), SessionTTL: 2 * time.Second, RetryDelay: time.Minute}
	first := startShards(t, cfg, ls)
	require.True(t, settled(t, 30*time.Second, 4, map[string]*shardsReplica{"a": first}))

	var logs syncbuf.Buffer
	s, err := coord.NewShards(cfg, client(t), coord.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	second := &shardsReplica{s: s, cancel: cancel, done: make(chan error, 1)}
	go func() { second.done <- s.Run(ctx, ls.lead) }()
	t.Cleanup(func() { second.stop(t) })
	require.True(t, etcdtest.Within(t, 30*time.Second, func() bool {
		return strings.Contains(logs.String(), "duplicate replica ID")
	}), "the duplicate is logged: %s", logs.String())
	assert.Contains(t, logs.String(), "level=ERROR")
	assert.Contains(t, logs.String(), "another replica is registered as a")
	assert.Empty(t, second.s.Leading())
	assert.Equal(t, []int{0, 1, 2, 3}, first.s.Leading())

	// The duplicate leaves: the first's membership stays.
	second.stop(t)
	got, err := client(t).Get(t.Context(), cfg.Prefix+"members/a")
	require.NoError(t, err)
	require.Len(t, got.Kvs, 1, "the first replica's membership survives the duplicate")

	// The first leaves: a replica under its ID joins.
	third := startShards(t, cfg, ls)
	first.stop(t)
	require.True(t, settled(t, 30*time.Second, 4, map[string]*shardsReplica{"a": third}))
	ls.mu.Lock()
	defer ls.mu.Unlock()
	assert.Equal(t, 1, ls.most, "never two leaders of a shard at once")
}

// TestShardsRegistration pins register's three cases: a key under the
// replica's own lease (a retried write that had landed) is kept, a key
// under its last membership's lease (whose revoke failed as it left) is
// taken over, and a key under another lease is another replica's
// (ErrDuplicateID).
func TestShardsRegistration(t *testing.T) {
	t.Parallel()
	cli := client(t)
	cfg := coord.ShardsConfig{ID: "a", Shards: 2, Prefix: prefix(t)}
	s, err := coord.NewShards(cfg, cli)
	require.NoError(t, err)
	lease := func() clientv3.LeaseID {
		g, err := cli.Grant(t.Context(), 60)
		require.NoError(t, err)
		t.Cleanup(func() { _, _ = cli.Revoke(context.Background(), g.ID) })
		return g.ID
	}
	holder := func() clientv3.LeaseID {
		got, err := cli.Get(t.Context(), cfg.Prefix+"members/a")
		require.NoError(t, err)
		require.Len(t, got.Kvs, 1)
		return clientv3.LeaseID(got.Kvs[0].Lease)
	}
	old, mine, other := lease(), lease(), lease()
	_, err = cli.Put(t.Context(), cfg.Prefix+"members/a", "2", clientv3.WithLease(old))
	require.NoError(t, err)

	err = s.Register(t.Context(), mine, 0)
	require.ErrorIs(t, err, coord.ErrDuplicateID, "a key under a lease not its own")
	assert.Equal(t, old, holder())

	require.NoError(t, s.Register(t.Context(), mine, old), "its last membership's key")
	assert.Equal(t, mine, holder())

	require.NoError(t, s.Register(t.Context(), mine, old), "a write that had landed")
	assert.Equal(t, mine, holder())

	err = s.Register(t.Context(), other, old)
	require.ErrorIs(t, err, coord.ErrDuplicateID)
	assert.Equal(t, mine, holder())
}

package coord_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/idlescale/idlescale/coord"
	"github.com/idlescale/idlescale/internal/etcdtest"
)

// flaky holds the first few calls of some etcd methods until their
// context ends, as a request that times out on a loaded host (the etcd
// client returns that without retrying, since the deadline is the
// caller's).
type flaky struct {
	mu   sync.Mutex
	skip map[string]int // full gRPC method name → calls to let through before the failures
	left map[string]int // full gRPC method name → failures to inject
	hit  map[string]int
}

func (f *flaky) intercept(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	f.mu.Lock()
	fail := f.left[method] > 0 && f.skip[method] == 0
	if f.skip[method] > 0 {
		f.skip[method]--
	}
	if fail {
		f.left[method]--
		f.hit[method]++
	}
	f.mu.Unlock()
	if fail {
		<-ctx.Done()
		return status.FromContextError(ctx.Err()).Err()
	}
	return invoker(ctx, method, req, reply, cc, opts...)
}

// An elector whose requests time out now and then (a loaded host: the
// failures of TestFailover and TestOneLeaderPerScope under load, "grant
// session lease: context deadline exceeded" and "resign fleet: context
// deadline exceeded") still campaigns, finds the leader and resigns: each
// request is retried up to MaxRetries. (Issue 13, item 9.)
func TestElectorRetriesTimedOutRequests(t *testing.T) {
	t.Parallel()
	f := &flaky{hit: map[string]int{}, left: map[string]int{
		"/etcdserverpb.Lease/LeaseGrant": 2,
	}}
	cli, err := clientv3.New(clientv3.Config{Endpoints: cluster.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop(),
		DialOptions: []grpc.DialOption{grpc.WithChainUnaryInterceptor(f.intercept)}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cli.Close() })
	const timeout = 200 * time.Millisecond
	e, err := coord.NewElector(coord.ElectorConfig{Scope: "fleet", ID: "a", Prefix: prefix(t), SessionTTL: 2 * time.Second,
		RequestTimeout: timeout}, cli)
	require.NoError(t, err)

	ctx := t.Context()
	l, err := e.Campaign(ctx)
	require.NoError(t, err)
	f.mu.Lock()
	// Set only now: the campaign waits for its turn with reads bounded by
	// the caller's context, not by RequestTimeout.
	f.left["/etcdserverpb.KV/Range"] = 2
	f.left["/etcdserverpb.Lease/LeaseRevoke"] = 2
	f.mu.Unlock()
	got, err := e.Leader(ctx)
	require.NoError(t, err)
	assert.Equal(t, "a", got)
	f.mu.Lock()
	f.left["/etcdserverpb.KV/Txn"] = 1 // resign's delete times out: the revoke removes the key
	f.mu.Unlock()
	require.NoError(t, l.Resign(ctx))
	_, err = e.Leader(ctx)
	require.ErrorIs(t, err, coord.ErrNoLeader, "the key went with the lease")

	f.mu.Lock()
	defer f.mu.Unlock()
	for m, n := range f.left {
		assert.Zero(t, n, "%s: every injected failure was met", m)
	}
	assert.Equal(t, 2, f.hit["/etcdserverpb.Lease/LeaseGrant"])
	assert.Equal(t, 2, f.hit["/etcdserverpb.Lease/LeaseRevoke"])

	// With retries turned off the first timed-out grant fails the
	// campaign, as it did before.
	f.left["/etcdserverpb.Lease/LeaseGrant"] = 1
	f.mu.Unlock()
	once, err := coord.NewElector(coord.ElectorConfig{Scope: "fleet", ID: "b", Prefix: prefix(t), SessionTTL: 2 * time.Second,
		RequestTimeout: timeout, MaxRetries: -1}, cli)
	require.NoError(t, err)
	_, err = once.Campaign(ctx)
	f.mu.Lock()
	require.ErrorIs(t, err, coord.ErrStore)
	assert.Contains(t, err.Error(), "grant session lease")
}

// A membership whose lease grant or registration times out fails as a
// whole (no retries here); Run stops every shard, waits RetryDelay and
// joins again, and then leads its shards.
func TestShardsRejoinAfterAFailedMembership(t *testing.T) {
	t.Parallel()
	// The registration is the membership's second transaction, after
	// the shard count's; it is the third Txn, after a failed grant.
	f := &flaky{hit: map[string]int{}, skip: map[string]int{"/etcdserverpb.KV/Txn": 2}, left: map[string]int{
		"/etcdserverpb.Lease/LeaseGrant": 1,
		"/etcdserverpb.KV/Txn":           1,
	}}
	cli, err := clientv3.New(clientv3.Config{Endpoints: cluster.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop(),
		DialOptions: []grpc.DialOption{grpc.WithChainUnaryInterceptor(f.intercept)}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cli.Close() })
	s, err := coord.NewShards(coord.ShardsConfig{ID: "a", Shards: 2, Prefix: prefix(t), SessionTTL: 5 * time.Second,
		RequestTimeout: 200 * time.Millisecond, MaxRetries: -1, RetryDelay: 10 * time.Millisecond}, cli)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	ls := &leaders{running: map[int]int{}, terms: map[int]int{}}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, ls.lead) }()
	led := etcdtest.Within(t, 30*time.Second, func() bool { return len(s.Leading()) == 2 })
	cancel()
	require.NoError(t, <-done)
	require.True(t, led, "a leads both shards once it has joined")
	f.mu.Lock()
	defer f.mu.Unlock()
	assert.Equal(t, 1, f.hit["/etcdserverpb.Lease/LeaseGrant"], "the grant timed out once")
	assert.Equal(t, 1, f.hit["/etcdserverpb.KV/Txn"], "the registration timed out once")
}

// A Shards runner configured without retries (MaxRetries negative) runs
// its shards' elections without retries too: a shard's timed-out session
// grant fails its campaign, logged, and the next campaign leads. (The
// defaults turned -1 into 0, which each shard's Elector took for "the
// default", 4 retries; Config reported 0.)
func TestShardsWithoutRetriesCampaignWithoutRetries(t *testing.T) {
	t.Parallel()
	// The membership's grant goes through; the shard's is held.
	f := &flaky{hit: map[string]int{}, skip: map[string]int{"/etcdserverpb.Lease/LeaseGrant": 1}, left: map[string]int{
		"/etcdserverpb.Lease/LeaseGrant": 1,
	}}
	cli, err := clientv3.New(clientv3.Config{Endpoints: cluster.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop(),
		DialOptions: []grpc.DialOption{grpc.WithChainUnaryInterceptor(f.intercept)}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cli.Close() })
	var logs bytes.Buffer // read once Run has returned
	s, err := coord.NewShards(coord.ShardsConfig{ID: "a", Shards: 1, Prefix: prefix(t), SessionTTL: 5 * time.Second,
		RequestTimeout: 200 * time.Millisecond, MaxRetries: -1, RetryDelay: 10 * time.Millisecond}, cli,
		coord.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, err)
	assert.Negative(t, s.Config().MaxRetries, "no retries, not the default")
	ctx, cancel := context.WithCancel(t.Context())
	ls := &leaders{running: map[int]int{}, terms: map[int]int{}}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, ls.lead) }()
	led := etcdtest.Within(t, 30*time.Second, func() bool { return len(s.Leading()) == 1 })
	cancel()
	require.NoError(t, <-done)
	require.True(t, led, "a leads its shard at its next campaign")
	f.mu.Lock()
	defer f.mu.Unlock()
	assert.Equal(t, 1, f.hit["/etcdserverpb.Lease/LeaseGrant"], "the shard's grant timed out once")
	assert.Contains(t, logs.String(), "coord: campaign failed", "the timed-out grant failed the campaign")
	assert.Contains(t, logs.String(), "grant session lease")
}

// A campaign whose write fails with a transient error is retried: the
// write is create-if-absent on the session's own key, and the elector
// leads.
func TestCampaignRetriesAFailedWrite(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	left, hit := 1, 0
	busy := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		mu.Lock()
		fail := method == "/etcdserverpb.KV/Txn" && left > 0
		if fail {
			left--
			hit++
		}
		mu.Unlock()
		if fail {
			return status.Error(codes.ResourceExhausted, "injected: too many requests")
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: cluster.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop(),
		DialOptions: []grpc.DialOption{grpc.WithChainUnaryInterceptor(busy)}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cli.Close() })
	e, err := coord.NewElector(coord.ElectorConfig{Scope: "fleet", ID: "a", Prefix: prefix(t), SessionTTL: 2 * time.Second,
		RequestTimeout: 200 * time.Millisecond}, cli)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	l, err := e.Campaign(ctx)
	require.NoError(t, err)
	defer func() { _ = l.Resign(context.Background()) }()
	got, err := e.Leader(ctx)
	require.NoError(t, err, "the campaign's key is in etcd")
	assert.Equal(t, "a", got)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 1, hit, "the campaign's write failed once")
}

// noLeaderWatch ends the first watch stream it sees, after its first
// reply and once end is closed, with etcd's "no leader" (what a member cut
// off from its cluster answers a watch that requires a leader, as the
// members watch does).
type noLeaderWatch struct {
	end  chan struct{}
	mu   sync.Mutex
	seen int
}

func (n *noLeaderWatch) intercept(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	cs, err := streamer(ctx, desc, cc, method, opts...)
	if err != nil || method != "/etcdserverpb.Watch/Watch" {
		return cs, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.seen++; n.seen > 1 {
		return cs, nil
	}
	return &endingStream{ClientStream: cs, end: n.end}, nil
}

type endingStream struct {
	grpc.ClientStream
	end     chan struct{}
	replies int
}

func (s *endingStream) RecvMsg(m any) error {
	if s.replies++; s.replies == 1 {
		return s.ClientStream.RecvMsg(m)
	}
	select {
	case <-s.end:
		return status.Error(codes.Unavailable, "etcdserver: no leader")
	case <-s.Context().Done():
		return status.FromContextError(s.Context().Err()).Err()
	}
}

// rejoin runs replica "a" of a two-shard cluster under prefix pre on
// cli until it leads both shards, calls fail to end its membership, and
// waits until it leads both shards again, in a second term of each. It
// returns the replica's log, once Run has returned.
func rejoin(t *testing.T, cli *clientv3.Client, pre string, fail func()) string {
	t.Helper()
	var logs bytes.Buffer // read once Run has returned
	s, err := coord.NewShards(coord.ShardsConfig{ID: "a", Shards: 2, Prefix: pre, SessionTTL: 5 * time.Second,
		RetryDelay: 10 * time.Millisecond}, cli, coord.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	ls := &leaders{running: map[int]int{}, terms: map[int]int{}}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, ls.lead) }()
	termsOf := func(want int) func() bool {
		return func() bool {
			ls.mu.Lock()
			defer ls.mu.Unlock()
			return ls.terms[0] == want && ls.terms[1] == want && ls.running[0] == 1 && ls.running[1] == 1 && len(s.Leading()) == 2
		}
	}
	first := etcdtest.Within(t, 30*time.Second, termsOf(1))
	if first {
		fail()
	}
	again := first && etcdtest.Within(t, 30*time.Second, termsOf(2))
	cancel()
	require.NoError(t, <-done)
	require.True(t, first, "a leads both shards: %s", logs.String())
	require.True(t, again, "a leads both shards again once it has joined again: %s", logs.String())
	ls.mu.Lock()
	defer ls.mu.Unlock()
	assert.Equal(t, 1, ls.most, "never two terms of a shard at once")
	return logs.String()
}

// A members watch that etcd ends with an error fails the membership: Run
// stops every shard, says why, joins again and leads them again.
func TestShardsRejoinAfterTheMembersWatchFails(t *testing.T) {
	t.Parallel()
	n := &noLeaderWatch{end: make(chan struct{})}
	cli, err := clientv3.New(clientv3.Config{Endpoints: cluster.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop(),
		DialOptions: []grpc.DialOption{grpc.WithChainStreamInterceptor(n.intercept)}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cli.Close() })
	logs := rejoin(t, cli, prefix(t), func() { close(n.end) })
	assert.Contains(t, logs, "membership failed; every shard stopped")
	assert.Contains(t, logs, "watch members")
	assert.Contains(t, logs, "no leader")
	n.mu.Lock()
	defer n.mu.Unlock()
	assert.Equal(t, 2, n.seen, "a second membership, with its own watch")
}

// A replica whose membership key is deleted (by hand, or by another
// replica started with the same ID leaving) joins again: before, it kept
// running with no shards while the others took them all.
func TestShardsRejoinWhenTheirMembershipKeyIsDeleted(t *testing.T) {
	t.Parallel()
	cli := client(t)
	pre := prefix(t)
	logs := rejoin(t, cli, pre, func() {
		_, err := cli.Delete(t.Context(), pre+"members/a")
		require.NoError(t, err)
	})
	assert.Contains(t, logs, "the membership key of a was deleted")
	key, err := cli.Get(t.Context(), pre+"members/a")
	require.NoError(t, err)
	assert.Empty(t, key.Kvs, "revoked when Run returned")
}

// blackhole holds every unary etcd request, once on, until the request's
// context ends: what the etcd client does (it waits for a connection)
// when etcd is unreachable.
type blackhole struct{ on atomic.Bool }

func (b *blackhole) intercept(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if b.on.Load() {
		<-ctx.Done()
		return status.FromContextError(ctx.Err()).Err()
	}
	return invoker(ctx, method, req, reply, cc, opts...)
}

// TestRunReturnsWhenContextEndsWithEtcdUnreachable: a replica waiting
// behind another leader loses etcd, and its host shuts down: Run returns
// when its context ends, as documented. (etcd's Election.Campaign, ended
// by its context, deletes its key with a request under the client's own
// context, bounded by nothing: with etcd unreachable it held Campaign, and
// Run, until the client was closed.)
func TestRunReturnsWhenContextEndsWithEtcdUnreachable(t *testing.T) {
	t.Parallel()
	cli := client(t)
	holder := elector(t, cli, "fleet", "holder")
	l, err := holder.Campaign(t.Context())
	require.NoError(t, err)
	defer func() { _ = l.Resign(context.Background()) }()

	bh := &blackhole{}
	cut, err := clientv3.New(clientv3.Config{Endpoints: cluster.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop(),
		DialOptions: []grpc.DialOption{grpc.WithChainUnaryInterceptor(bh.intercept)}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cut.Close() })
	b, err := coord.NewElector(coord.ElectorConfig{Scope: "fleet", ID: "b", Prefix: prefix(t), SessionTTL: 10 * time.Second,
		RequestTimeout: 100 * time.Millisecond, MaxRetries: 1, RetryDelay: 10 * time.Millisecond}, cut)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- b.Run(ctx, func(context.Context, *coord.Leadership) error { return errors.New("b must not lead") })
	}()
	require.True(t, etcdtest.Within(t, 10*time.Second, func() bool {
		resp, err := cli.Get(t.Context(), prefix(t)+"fleet/", clientv3.WithPrefix())
		if err != nil {
			return false
		}
		for _, kv := range resp.Kvs {
			if string(kv.Value) == "b" {
				return true
			}
		}
		return false
	}), "b waits behind the holder")

	bh.on.Store(true) // etcd is gone for b
	cancel()          // and its host shuts down
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second): // a safety net: Run returns within b's bounded requests
		t.Fatal("Run did not return when its context ended with etcd unreachable")
	}
}

// A takeover of the replica's last membership key (left by a failed
// revoke) that another writer beats between the read and the takeover's
// compare-and-swap writes nothing and fails with ErrStore; the key keeps
// the other writer's lease, and Run registers again after RetryDelay.
// A failed registration request is ErrStore too.
func TestShardsTakeoverThatLosesItsRaceWritesNothing(t *testing.T) {
	t.Parallel()
	admin := client(t)
	cfg := coord.ShardsConfig{ID: "a", Shards: 2, Prefix: prefix(t), MaxRetries: -1, RequestTimeout: 5 * time.Second}
	key := cfg.Prefix + "members/a"
	lease := func() clientv3.LeaseID {
		g, err := admin.Grant(t.Context(), 60)
		require.NoError(t, err)
		t.Cleanup(func() { _, _ = admin.Revoke(context.Background(), g.ID) })
		return g.ID
	}
	old, mine, other := lease(), lease(), lease()
	_, err := admin.Put(t.Context(), key, "2", clientv3.WithLease(old))
	require.NoError(t, err)

	var txns atomic.Int32
	race := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if method == "/etcdserverpb.KV/Txn" && txns.Add(1) == 2 {
			// The takeover's compare-and-swap: another writer first.
			if _, err := admin.Put(ctx, key, "2", clientv3.WithLease(other)); err != nil {
				return err
			}
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: cluster.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop(),
		DialOptions: []grpc.DialOption{grpc.WithChainUnaryInterceptor(race)}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cli.Close() })
	s, err := coord.NewShards(cfg, cli)
	require.NoError(t, err)
	err = s.Register(t.Context(), mine, old)
	require.ErrorIs(t, err, coord.ErrStore)
	assert.Contains(t, err.Error(), "changed as it registered")
	got, err := admin.Get(t.Context(), key)
	require.NoError(t, err)
	require.Len(t, got.Kvs, 1)
	assert.Equal(t, other, clientv3.LeaseID(got.Kvs[0].Lease), "the other writer's key stays")

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	dead, err := coord.NewShards(coord.ShardsConfig{ID: "a", Shards: 2, Prefix: cfg.Prefix, MaxRetries: -1, RequestTimeout: 50 * time.Millisecond},
		client(t, "http://127.0.0.1:1"))
	require.NoError(t, err)
	err = dead.Register(ctx, mine, 0)
	require.ErrorIs(t, err, coord.ErrStore)
	assert.Contains(t, err.Error(), "register a")
}

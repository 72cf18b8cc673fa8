package coord_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bclock "github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/coord"
	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/provider"
)

func elector(t testing.TB, cli *clientv3.Client, scope, id string) *coord.Elector {
	t.Helper()
	e, err := coord.NewElector(coord.ElectorConfig{Scope: scope, ID: id, Prefix: prefix(t), SessionTTL: 2 * time.Second, RetryDelay: 20 * time.Millisecond}, cli)
	require.NoError(t, err)
	return e
}

func TestOneLeaderPerScope(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cli := client(t)
	a := elector(t, cli, "fleet", "a")
	b := elector(t, client(t), "fleet", "b")
	other := elector(t, cli, "shard-1-of-2", "b")

	_, err := a.Leader(ctx)
	require.ErrorIs(t, err, coord.ErrNoLeader)

	la, err := a.Campaign(ctx)
	require.NoError(t, err)
	// Another scope has its own leader.
	lo, err := other.Campaign(ctx)
	require.NoError(t, err)
	defer func() { _ = lo.Resign(context.Background()) }()

	got, err := b.Leader(ctx)
	require.NoError(t, err)
	assert.Equal(t, "a", got)

	// b waits while a leads.
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err = b.Campaign(short)
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded)

	elected := make(chan *coord.Leadership, 1)
	go func() {
		lb, err := b.Campaign(ctx)
		assert.NoError(t, err) //nolint:testifylint // not the test goroutine
		elected <- lb
	}()
	start := time.Now()
	require.NoError(t, la.Resign(ctx))
	lb := <-elected
	require.NotNil(t, lb)
	t.Logf("handover after Resign: %v", time.Since(start))
	assert.Greater(t, lb.Fence().Rev, la.Fence().Rev)
	got, err = a.Leader(ctx)
	require.NoError(t, err)
	assert.Equal(t, "b", got)
	select {
	case <-la.Done():
	default:
		t.Error("a's leadership is not Done after Resign")
	}
	require.NoError(t, la.Resign(ctx), "a second Resign does nothing")
	require.NoError(t, lb.Resign(ctx))
}

func TestFenceRefusesDeposedLeader(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cli := client(t)
	a := elector(t, cli, "fleet", "a")
	b := elector(t, cli, "fleet", "b")
	la, err := a.Campaign(ctx)
	require.NoError(t, err)
	key := prefix(t) + "action"

	resp, err := la.Fence().Do(ctx, cli, nil, clientv3.OpPut(key, "a1"))
	require.NoError(t, err)
	assert.True(t, resp.Succeeded)

	// Extra comparisons that fail leave the write undone without ErrFenced.
	resp, err = la.Fence().Do(ctx, cli, []clientv3.Cmp{clientv3.Compare(clientv3.Value(key), "=", "other")}, clientv3.OpPut(key, "a2"))
	require.NoError(t, err)
	assert.False(t, resp.Succeeded)

	// An operator (or etcd, on expiry) kills a's session.
	_, err = cli.Revoke(ctx, la.Lease())
	require.NoError(t, err)
	lb, err := b.Campaign(ctx)
	require.NoError(t, err)
	defer func() { _ = lb.Resign(context.Background()) }()

	_, err = la.Fence().Do(ctx, cli, nil, clientv3.OpPut(key, "a3"))
	require.ErrorIs(t, err, coord.ErrFenced)
	_, err = lb.Fence().Do(ctx, cli, nil, clientv3.OpPut(key, "b1"))
	require.NoError(t, err)
	got, err := cli.Get(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, "b1", string(got.Kvs[0].Value))
	require.True(t, etcdtest.Within(t, 5*time.Second, func() bool {
		select {
		case <-la.Done():
			return true
		default:
			return false
		}
	}), "a's Done closes once its lease is gone")

	_, err = coord.Fence{}.Do(ctx, cli, nil, clientv3.OpPut(key, "zero"))
	require.ErrorIs(t, err, coord.ErrFenced)
}

func TestRunHandsOver(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	var mu sync.Mutex
	var leaders []string
	var current atomic.Int32
	overlap := atomic.Bool{}
	cancels := map[string]context.CancelFunc{}
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for _, id := range []string{"a", "b", "c"} {
		e := elector(t, client(t), "fleet", id)
		rctx, cancel := context.WithCancel(ctx)
		cancels[id] = cancel
		wg.Go(func() {
			errs <- e.Run(rctx, func(lctx context.Context, l *coord.Leadership) error {
				if current.Add(1) > 1 {
					overlap.Store(true)
				}
				mu.Lock()
				leaders = append(leaders, l.ID)
				mu.Unlock()
				<-lctx.Done()
				current.Add(-1)
				return lctx.Err()
			})
		})
	}
	leaderAt := func(n int) string {
		var got string
		require.True(t, etcdtest.Within(t, 5*time.Second, func() bool {
			mu.Lock()
			defer mu.Unlock()
			if len(leaders) >= n {
				got = leaders[n-1]
				return true
			}
			return false
		}), "leader #%d elected", n)
		return got
	}
	first := leaderAt(1)
	cancels[first]() // stop the leader's Run: it resigns and returns
	second := leaderAt(2)
	assert.NotEqual(t, first, second)
	cancels[second]()
	third := leaderAt(3)
	assert.NotEqual(t, second, third)
	assert.NotEqual(t, first, third)
	for _, c := range cancels {
		c()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err, "Run stops cleanly")
	}
	assert.False(t, overlap.Load(), "two leaders at once")
	assert.Zero(t, current.Load())
}

func TestRunEndsLeadershipWhenSessionIsLost(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cli := client(t)
	e := elector(t, cli, "fleet", "a")
	terms := make(chan *coord.Leadership, 4)
	ended := make(chan error, 4)
	done := make(chan error, 1)
	go func() {
		done <- e.Run(ctx, func(lctx context.Context, l *coord.Leadership) error {
			terms <- l
			<-lctx.Done()
			ended <- lctx.Err()
			return nil
		})
	}()
	l1 := <-terms
	_, err := cli.Revoke(ctx, l1.Lease()) // kill the session
	require.NoError(t, err)
	require.ErrorIs(t, <-ended, context.Canceled, "lead's context ends with the session")
	l2 := <-terms // and Run campaigns again
	assert.Greater(t, l2.Fence().Rev, l1.Fence().Rev)
	cancel()
	require.NoError(t, <-done)
}

func TestElectorValidation(t *testing.T) {
	t.Parallel()
	cli := client(t)
	valid := coord.ElectorConfig{Scope: "fleet", ID: "a"}
	with := func(f func(*coord.ElectorConfig)) coord.ElectorConfig {
		c := valid
		f(&c)
		return c
	}
	tests := []struct {
		name  string
		give  coord.ElectorConfig
		field string
	}{
		{"empty scope", with(func(c *coord.ElectorConfig) { c.Scope = "" }), "scope"},
		{"slash in scope", with(func(c *coord.ElectorConfig) { c.Scope = "a/b" }), "scope"},
		{"long scope", with(func(c *coord.ElectorConfig) { c.Scope = strings.Repeat("s", 257) }), "scope"},
		{"empty id", with(func(c *coord.ElectorConfig) { c.ID = "" }), "id"},
		{"control char id", with(func(c *coord.ElectorConfig) { c.ID = "a\tb" }), "id"},
		{"fractional ttl", with(func(c *coord.ElectorConfig) { c.SessionTTL = 1500 * time.Millisecond }), "session_ttl"},
		{"sub-second ttl", with(func(c *coord.ElectorConfig) { c.SessionTTL = 500 * time.Millisecond }), "session_ttl"},
		{"negative ttl", with(func(c *coord.ElectorConfig) { c.SessionTTL = -time.Second }), "session_ttl"},
		// Longer than etcd grants (9e9 s): every campaign would fail, forever.
		{"ttl over etcd's maximum", with(func(c *coord.ElectorConfig) { c.SessionTTL = 9_000_000_001 * time.Second }), "session_ttl"},
		{"negative timeout", with(func(c *coord.ElectorConfig) { c.RequestTimeout = -1 }), "request_timeout"},
		{"negative retry", with(func(c *coord.ElectorConfig) { c.RetryDelay = -1 }), "retry_delay"},
		{"NUL in prefix", with(func(c *coord.ElectorConfig) { c.Prefix = "a\x00" }), "prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := coord.NewElector(tt.give, cli)
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
			require.ErrorAs(t, tt.give.Validate(), &ie, "Validate names the same field")
			assert.Equal(t, tt.field, ie.Field)
		})
	}
	require.NoError(t, with(func(c *coord.ElectorConfig) { c.Scope = strings.Repeat("s", 256); c.SessionTTL = time.Second }).Validate(),
		"the boundaries: 256 bytes, 1s")
	require.NoError(t, with(func(c *coord.ElectorConfig) { c.SessionTTL = 9_000_000_000 * time.Second }).Validate(), "etcd's maximum")
	_, err := coord.NewElector(valid, nil)
	require.ErrorIs(t, err, provider.ErrInvalid)
}

func TestShardScope(t *testing.T) {
	t.Parallel()
	counts := map[string]int{}
	for _, target := range []string{"web", "api", "db", "queue", "cache", "search", "auth", "billing"} {
		s, err := coord.ShardScope(target, 3)
		require.NoError(t, err)
		again, err := coord.ShardScope(target, 3)
		require.NoError(t, err)
		assert.Equal(t, s, again, "stable")
		counts[s]++
	}
	assert.Len(t, counts, 3, "8 targets spread over the 3 shards: %v", counts)
	_, err := coord.ShardScope("web", 0)
	require.ErrorIs(t, err, provider.ErrInvalid)
}

// A nil *clock.Mock is not a nil Clock (which means the real one):
// NewElector and NewShards refuse it, naming the clock. They took it, and
// Run panicked at its first wait between campaigns.
func TestNilClockPointerRefused(t *testing.T) {
	t.Parallel()
	cli := client(t, "http://127.0.0.1:1") // never reached
	var ie *provider.InvalidError
	_, err := coord.NewElector(coord.ElectorConfig{Scope: "fleet", ID: "a"}, cli, coord.WithClock((*bclock.Mock)(nil)))
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "clock", ie.Field)
	_, err = coord.NewShards(coord.ShardsConfig{ID: "a", Shards: 2}, cli, coord.WithClock((*bclock.Mock)(nil)))
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "clock", ie.Field)
}

func TestCampaignFailsWhenEtcdIsUnreachable(t *testing.T) {
	t.Parallel()
	dead := client(t, "http://127.0.0.1:1")
	e, err := coord.NewElector(coord.ElectorConfig{Scope: "fleet", ID: "a", RequestTimeout: 100 * time.Millisecond}, dead)
	require.NoError(t, err)
	_, err = e.Campaign(t.Context())
	require.ErrorIs(t, err, coord.ErrStore)
	_, err = e.Leader(t.Context())
	require.ErrorIs(t, err, coord.ErrStore)
}

func TestCampaignEndsWhenItsSessionIsLost(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cli := client(t)
	a := elector(t, cli, "fleet", "a")
	b := elector(t, cli, "fleet", "b")
	la, err := a.Campaign(ctx)
	require.NoError(t, err)
	defer func() { _ = la.Resign(context.Background()) }()

	// b waits behind a; an operator revokes b's candidate lease.
	done := make(chan error, 1)
	go func() { _, err := b.Campaign(ctx); done <- err }()
	var bLease clientv3.LeaseID
	require.True(t, etcdtest.Within(t, 5*time.Second, func() bool {
		resp, err := cli.Get(ctx, prefix(t)+"fleet/", clientv3.WithPrefix())
		if err != nil || len(resp.Kvs) < 2 {
			return false
		}
		for _, kv := range resp.Kvs {
			if string(kv.Value) == "b" {
				bLease = clientv3.LeaseID(kv.Lease)
				return true
			}
		}
		return false
	}), "b's candidate key appears")
	_, err = cli.Revoke(ctx, bLease)
	require.NoError(t, err)
	select {
	case err := <-done:
		require.ErrorIs(t, err, coord.ErrStore)
		require.ErrorContains(t, err, "session lost while waiting", "the cause named, not the campaign's own error")
	case <-time.After(5 * time.Second):
		t.Fatal("b's campaign did not end with its session")
	}
	got, err := a.Leader(ctx)
	require.NoError(t, err)
	assert.Equal(t, "a", got)
}

// Run returns nil when ctx ends, also by its deadline, whatever it was
// doing: waiting behind another leader, or campaigning against an etcd
// it cannot reach (each failed campaign is logged and retried).
func TestRunReturnsNilWhenContextEnds(t *testing.T) {
	t.Parallel()
	cli := client(t)
	holder := elector(t, cli, "fleet", "holder")
	l, err := holder.Campaign(t.Context())
	require.NoError(t, err)
	defer func() { _ = l.Resign(context.Background()) }()

	var logs bytes.Buffer // written only while Run runs
	unreachable, err := coord.NewElector(coord.ElectorConfig{Scope: "fleet", ID: "b", RequestTimeout: 50 * time.Millisecond,
		MaxRetries: -1, RetryDelay: 10 * time.Millisecond}, client(t, "http://127.0.0.1:1"),
		coord.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, err)
	for _, tt := range []struct {
		name string
		e    *coord.Elector
	}{
		{"behind a leader", elector(t, cli, "fleet", "b")},
		{"etcd unreachable", unreachable},
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		led := false
		err := tt.e.Run(ctx, func(context.Context, *coord.Leadership) error { led = true; return nil })
		cancel()
		require.NoError(t, err, tt.name)
		assert.False(t, led, tt.name)
	}
	assert.Contains(t, logs.String(), "coord: campaign failed", "the failed campaigns are logged, not returned")
}

// TestEndedContextIsNotAStoreFailure: Campaign and Leader with a context
// that has ended return its error, not coord.ErrStore: etcd did not fail
// (a host that alerts on ErrStore must not page on its own shutdown). (The
// session grant's retries, given up for the ended context, were reported
// as "etcd failed".)
func TestEndedContextIsNotAStoreFailure(t *testing.T) {
	t.Parallel()
	e := elector(t, client(t), "fleet", "a")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := e.Campaign(ctx)
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, coord.ErrStore)
	_, err = e.Leader(ctx)
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, coord.ErrStore)
}

// TestRunRefusesANilLead: Elector.Run refuses a nil lead function, as
// Shards.Run does, before it campaigns. (It campaigned, and once elected
// called nil: the replica crashed while it led, its key left for
// SessionTTL.)
func TestRunRefusesANilLead(t *testing.T) {
	t.Parallel()
	cli := client(t)
	e := elector(t, cli, "fleet", "a")
	err := e.Run(t.Context(), nil)
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "lead", ie.Field)
	_, err = e.Leader(t.Context())
	require.ErrorIs(t, err, coord.ErrNoLeader, "no campaign")
}

package etcdstore_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/ratelimit/etcdstore"
)

// TestMemberLossUnderLoad stops the raft leader while four limiters on
// their own clients reserve concurrently. The store retries through the
// election: every granted event is in the history exactly once, and the
// only events in the history that were not reported granted are those
// whose reservation failed with a store error after its write was
// applied (fail closed: budget consumed, never exceeded).
func TestMemberLossUnderLoad(t *testing.T) {
	t.Parallel()
	c := etcdtest.New(t, etcdtest.Options{Members: 3, NoFsync: true})
	ctx := t.Context()
	pfx := prefix(t)
	cfg := ratelimit.Config{Up: ratelimit.Budget{Events: -1, MinInterval: -1, MaxUnits: -1}}

	newCli := func(endpoints ...string) *clientv3.Client {
		cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
		require.NoError(t, err)
		t.Cleanup(func() { _ = cli.Close() })
		return cli
	}
	// Find the raft leader.
	admin := newCli(c.Endpoints()...)
	var leader *etcdtest.Member
	for _, m := range c.Members {
		st, err := admin.Status(ctx, m.ClientURL)
		require.NoError(t, err)
		if st.Header.MemberId == st.Leader {
			leader = m
		}
	}
	require.NotNil(t, leader)

	const limiters, each = 4, 40
	var granted sync.Map
	var tried, failed atomic.Int64
	var wg sync.WaitGroup
	halfway := make(chan struct{})
	var once sync.Once
	for w := range limiters {
		store := newStore(t, newCli(c.Endpoints()...), etcdstore.Config{Prefix: pfx, RequestTimeout: 300 * time.Millisecond, MaxRetries: 8})
		lim, err := ratelimit.New(cfg, ratelimit.WithStore(store))
		require.NoError(t, err)
		wg.Go(func() {
			for i := range each {
				if i == each/4 {
					once.Do(func() { close(halfway) })
				}
				r, err := lim.ReserveAt(context.Background(), t0.Add(time.Duration(i*limiters+w)*time.Millisecond), up("web", 1))
				tried.Add(1)
				if err != nil {
					assert.ErrorIs(t, err, ratelimit.ErrStore) //nolint:testifylint // not the test goroutine
					assert.False(t, r.OK())
					failed.Add(1)
					continue
				}
				assert.True(t, r.OK())
				granted.Store(r.ID, true)
			}
		})
	}
	<-halfway
	stopped := time.Now()
	leader.Stop() // graceful: it drains the clients' streams for a few seconds
	wg.Wait()
	took := time.Since(stopped)

	survivors := newCli(c.Endpoints()...)
	n, seen := grantedRecordedOnce(ctx, t, newStore(t, survivors, etcdstore.Config{Prefix: pfx}), &granted)
	extra := len(seen) - n
	t.Logf("raft leader %s stopped a quarter into the load (load done %v after the stop began): %d reservations tried, %d granted, %d failed with a store error, %d of those recorded anyway",
		leader.Name, took.Round(time.Millisecond), tried.Load(), n, failed.Load(), extra)
	for id, k := range seen {
		assert.Equal(t, 1, k, "event %d recorded once", id)
	}
	assert.Equal(t, int64(limiters*each), tried.Load())
	assert.GreaterOrEqual(t, extra, 0)
	assert.LessOrEqual(t, int64(extra), failed.Load())
	assert.Greater(t, n, limiters*each/2, "the store rides through the election for most reservations")
}

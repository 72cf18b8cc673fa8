package etcdstore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/ratelimit/etcdstore"
)

// TestLimiterRefusesAHistoryTheLeasesForget: a budget over two days (one
// scale-down per 48h, History 72h) on a store with the default 25h
// leases would lose its bucket a day after its last write, and a
// replica (or the same one, restarted) would then grant a second
// scale-down inside the window: the budget silently exceeded. ratelimit.New
// refuses the pair, naming the history and the store's lease; a store
// whose leases cover the history is accepted, and the lease on the
// bucket's key is then at least the history.
func TestLimiterRefusesAHistoryTheLeasesForget(t *testing.T) {
	t.Parallel()
	cli := newClient(t)
	cfg := ratelimit.Config{History: 72 * time.Hour, Down: ratelimit.Budget{Events: 1, Window: 48 * time.Hour}}

	short := newStore(t, cli, etcdstore.Config{}) // LeaseTTL 25h: keys live 24h after their last write
	_, err := ratelimit.New(cfg, ratelimit.WithStore(short))
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie, "a history longer than the store keeps a bucket")
	assert.Equal(t, "history", ie.Field)
	assert.Contains(t, err.Error(), "lease")

	// Exactly at the bound: History = LeaseTTL - LeaseTTL/25.
	_, err = ratelimit.New(ratelimit.Config{History: 24 * time.Hour}, ratelimit.WithStore(short))
	require.NoError(t, err, "the default history on the default lease")

	long := newStore(t, cli, etcdstore.Config{LeaseTTL: 75 * time.Hour})
	lim, err := ratelimit.New(cfg, ratelimit.WithStore(long))
	require.NoError(t, err)
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	res, err := lim.ReserveAt(t.Context(), now, ratelimit.Request{Target: "web", Direction: ratelimit.Down, Units: 1})
	require.NoError(t, err)
	require.True(t, res.OK())
	key := long.Key(ratelimit.Key{Target: "web", Direction: ratelimit.Down})
	got, err := cli.Get(t.Context(), key)
	require.NoError(t, err)
	require.Len(t, got.Kvs, 1)
	ttl, err := cli.TimeToLive(t.Context(), clientv3.LeaseID(got.Kvs[0].Lease))
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Duration(ttl.GrantedTTL)*time.Second, cfg.History, "the bucket outlives the history")

	none := newStore(t, cli, etcdstore.Config{LeaseTTL: -1}) // no leases: kept until deleted
	_, err = ratelimit.New(cfg, ratelimit.WithStore(none))
	require.NoError(t, err)
}

// TestLimiterRefusesAKeepTheLeasesForget: a budget whose window is the
// whole history (one scale-down per 24h, History 24h) keeps its events
// for the window and MaxSkew (24h15m by default), so that a replica whose
// clock is up to MaxSkew behind still counts them. On the default 25h
// lease a bucket left alone is gone 24h after its last write: such a
// replica would then grant a second scale-down inside the window.
// ratelimit.New refuses the pair, naming the store's lease; with MaxSkew
// taken off the window (or a longer lease) it is accepted. (A review
// found New compared the store's retention with History alone.)
func TestLimiterRefusesAKeepTheLeasesForget(t *testing.T) {
	t.Parallel()
	cli := newClient(t)
	short := newStore(t, cli, etcdstore.Config{}) // LeaseTTL 25h: keys live 24h after their last write
	cfg := ratelimit.Config{History: 24 * time.Hour, Down: ratelimit.Budget{Events: 1, Window: 24 * time.Hour}}
	_, err := ratelimit.New(cfg, ratelimit.WithStore(short))
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie, "the window and the skew outlast the store's leases")
	assert.Contains(t, err.Error(), "lease")

	global := ratelimit.Config{History: 24 * time.Hour, Global: ratelimit.Budget{Events: 5, Window: 24 * time.Hour}}
	_, err = ratelimit.New(global, ratelimit.WithStore(short))
	require.ErrorAs(t, err, &ie, "the global bucket's too")

	cfg.Down.Window = 24*time.Hour - ratelimit.DefaultMaxSkew
	_, err = ratelimit.New(cfg, ratelimit.WithStore(short))
	require.NoError(t, err, "the window and the skew within the lease")
	cfg.Down.Window = 24 * time.Hour
	long := newStore(t, cli, etcdstore.Config{LeaseTTL: 26 * time.Hour})
	_, err = ratelimit.New(cfg, ratelimit.WithStore(long))
	require.NoError(t, err)
}

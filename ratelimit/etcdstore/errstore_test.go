package etcdstore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/idlescale/idlescale/coord"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/ratelimit/etcdstore"
	"github.com/idlescale/idlescale/safety/etcdhistory"
)

// TestEtcdFailureMatchesTheSharedErrStore: coord.ErrStore is documented
// as the one sentinel of "etcd failed" for every etcd-backed part of a
// host, so that a host waits out an etcd outage with one errors.Is check.
// The limiter on this store, with etcd unreachable, reported only
// ratelimit.ErrStore and etcd's own error: a host telling an outage from
// a corrupt bucket with coord.ErrStore took the rate limiter's outage for
// something else. Now the store's etcd failures match coord.ErrStore (as
// the fleet-share history's do) as well as ratelimit.ErrStore.
func TestEtcdFailureMatchesTheSharedErrStore(t *testing.T) {
	t.Parallel()
	dead, err := clientv3.New(clientv3.Config{Endpoints: []string{deadEndpoint(t)}, Logger: zap.NewNop()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = dead.Close() })
	store := newStore(t, dead, etcdstore.Config{RequestTimeout: 100 * time.Millisecond, MaxRetries: 1})
	lim, err := ratelimit.New(ratelimit.Config{}, ratelimit.WithStore(store))
	require.NoError(t, err)
	r, err := lim.ReserveAt(t.Context(), t0, up("web", 1))
	require.ErrorIs(t, err, ratelimit.ErrStore)
	require.ErrorIs(t, err, coord.ErrStore, "the limiter's etcd outage")
	assert.False(t, r.OK())
	_, err = lim.StatsAt(t.Context(), t0)
	require.ErrorIs(t, err, coord.ErrStore, "a snapshot's etcd outage")

	// The fleet-share history on the same dead client: the same sentinel.
	hist, err := etcdhistory.New(etcdhistory.Config{Prefix: prefix(t), RequestTimeout: 100 * time.Millisecond, MaxRetries: -1}, dead)
	require.NoError(t, err)
	require.ErrorIs(t, hist.Record("web", t0, 1), coord.ErrStore)
}

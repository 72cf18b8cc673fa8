package etcdstore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/detector/etcdstore"
	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/provider"
)

// leaseOf returns the lease a key is bound to and the TTL it was granted
// with (0, 0 for none).
func leaseOf(t *testing.T, cli *clientv3.Client, key string) (clientv3.LeaseID, int64) {
	t.Helper()
	resp, err := cli.Get(t.Context(), key)
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1, key)
	id := clientv3.LeaseID(resp.Kvs[0].Lease)
	if id == clientv3.NoLease {
		return id, 0
	}
	ttl, err := cli.TimeToLive(t.Context(), id)
	require.NoError(t, err)
	return id, ttl.GrantedTTL
}

// TestStatesExpire: a saved state, guarded or not, is bound to a lease of
// Config.LeaseTTL (default 30 days, above the Tracker's 28-day history),
// so that the states of resources that are gone (terminated, deleted,
// replaced under new IDs) disappear on their own. (Nothing deletes them:
// the Tracker and shardsweep save a state per resource and never delete
// one, so the prefix grew by 1.5 KB for every resource the fleet ever had,
// until etcd's quota ran out and the whole cluster, elections and rate
// limits with it, refused writes.) A negative LeaseTTL keeps them.
func TestStatesExpire(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cli := etcdtest.Dial(t, cluster.Endpoints()...)
	tests := []struct {
		name    string
		give    time.Duration
		wantTTL int64 // seconds; 0: no lease
	}{
		{"default", 0, 30 * 24 * 3600},
		{"set", time.Hour, 3600},
		{"off", -1, 0},
	}
	for _, tt := range tests {
		pfx := etcdtest.KeyPrefix(t) + tt.name + "/"
		s, err := etcdstore.New(etcdstore.Config{Prefix: pfx, LeaseTTL: tt.give}, cli)
		require.NoError(t, err, tt.name)
		require.NoError(t, s.Save(ctx, "i-1", []byte("one")), tt.name)
		// A guarded save (a shard leader's) too, under a condition that
		// holds.
		g := s.Guarded(clientv3.Compare(clientv3.CreateRevision(pfx+"none"), "=", 0))
		require.NoError(t, g.Save(ctx, "i-2", []byte("two")), tt.name)
		for _, id := range []string{"i-1", "i-2"} {
			lease, ttl := leaseOf(t, cli, s.Key(id))
			assert.Equal(t, tt.wantTTL, ttl, "%s: %s", tt.name, id)
			if tt.wantTTL == 0 {
				assert.Equal(t, clientv3.NoLease, lease, "%s: %s", tt.name, id)
			}
		}
	}
	_, err := etcdstore.New(etcdstore.Config{LeaseTTL: time.Second}, cli)
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "lease_ttl", ie.Field)
}

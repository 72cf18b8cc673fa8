package etcdstore_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/ratelimit/etcdstore"
)

// cluster is one embedded etcd member shared by every test, benchmark and
// example of the package; each test uses its own key prefix.
var cluster *etcdtest.Cluster

func TestMain(m *testing.M) {
	etcdtest.RunShared(m, "etcdstore-test", etcdtest.Options{NoFsync: true}, &cluster)
}

// newClient returns a client of the shared member, closed when t ends.
func newClient(t testing.TB) *clientv3.Client { return etcdtest.Dial(t, cluster.Endpoints()...) }

// prefix returns a key prefix of t's own.
func prefix(t testing.TB) string { return etcdtest.KeyPrefix(t) }

// newStore returns a store with t's own prefix on cli.
func newStore(t testing.TB, cli etcdstore.Client, cfg etcdstore.Config) *etcdstore.Store {
	t.Helper()
	if cfg.Prefix == "" {
		cfg.Prefix = prefix(t)
	}
	s, err := etcdstore.New(cfg, cli)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// grantedRecordedOnce reads the store's single bucket and asserts that
// every event ID in granted (a set of uint64 keys) is recorded exactly
// once. It returns how many events were granted and how often each
// recorded event ID occurs.
func grantedRecordedOnce(ctx context.Context, t *testing.T, s *etcdstore.Store, granted *sync.Map) (int, map[uint64]int) {
	t.Helper()
	bs, err := s.Snapshot(ctx)
	require.NoError(t, err)
	require.Len(t, bs, 1)
	seen := map[uint64]int{}
	for _, e := range bs[0].History.Events {
		seen[e.ID]++
	}
	n := 0
	granted.Range(func(k, _ any) bool {
		n++
		assert.Equal(t, 1, seen[k.(uint64)], "granted event %d recorded once", k)
		return true
	})
	return n, seen
}

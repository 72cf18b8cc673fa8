package coord_test

import (
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/internal/etcdtest"
)

// cluster is one embedded member shared by the package's tests; the
// failover tests start their own three members.
var cluster *etcdtest.Cluster

func TestMain(m *testing.M) {
	etcdtest.RunChildIfRequested() // a crash test runs a member in a copy of this binary
	etcdtest.RunShared(m, "coord-test", etcdtest.Options{NoFsync: true}, &cluster)
}

func client(t testing.TB, endpoints ...string) *clientv3.Client {
	t.Helper()
	if len(endpoints) == 0 {
		endpoints = cluster.Endpoints()
	}
	return etcdtest.Dial(t, endpoints...)
}

func prefix(t testing.TB) string { return etcdtest.KeyPrefix(t) }

package etcdhistory_test

import (
	"testing"

	"github.com/idlescale/idlescale/internal/etcdtest"
)

// cluster is one embedded etcd member shared by every test and example of
// the package; each test uses its own key prefix (etcdtest.KeyPrefix).
var cluster *etcdtest.Cluster

func TestMain(m *testing.M) {
	etcdtest.RunShared(m, "etcdhistory-test", etcdtest.Options{NoFsync: true}, &cluster)
}

package etcdstore_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/ratelimit/etcdstore"
)

// TestConfigCheckRetriesInRealTime: a check that failed (here its key was
// deleted; a lost lease does the same) publishes its fingerprint again a
// second later in real time, whatever the store's clock. On a mock clock
// nobody moved, it stayed unpublished, so that the other replicas did not
// hold to this one's limits.
func TestConfigCheckRetriesInRealTime(t *testing.T) {
	t.Parallel()
	cli := newClient(t)
	c, _ := runCheck(t, cli, prefix(t), "replica-a", ratelimit.Config{Up: ratelimit.Budget{Events: 2, Window: time.Hour}}, nil,
		etcdstore.WithClock(clock.NewMock()))
	waitStatus(t, c, "published and read", func(st etcdstore.ConfigStatus) bool { return st.Checked && st.Err == nil })
	del, err := cli.Delete(t.Context(), c.Key())
	require.NoError(t, err)
	// The check fails and, a second later in real time, publishes again:
	// a key created after the delete (the failure itself lasts too short
	// a time to be waited for on a loaded machine).
	ok := etcdtest.Within(t, 60*time.Second, func() bool {
		resp, err := cli.Get(t.Context(), c.Key())
		return err == nil && len(resp.Kvs) == 1 && resp.Kvs[0].CreateRevision > del.Header.Revision
	})
	require.True(t, ok, "the fingerprint is published again, the mock clock unmoved")
	waitStatus(t, c, "read again", func(st etcdstore.ConfigStatus) bool { return st.Checked && st.Err == nil })
}

// TestConfigCheckRetriesItsRequestsInRealTime: a request of the check that
// fails (here its first publish: etcd busy) is sent again after a backoff
// in real time, whatever the store's clock, as Run's wait before it
// publishes again is. (The check's requests were retried on the store's
// Retrier, whose backoff runs on the store's clock: on a mock clock
// nobody moved, one failed request held the check in its backoff for
// good, its fingerprint unpublished and its Status never read.)
func TestConfigCheckRetriesItsRequestsInRealTime(t *testing.T) {
	t.Parallel()
	var failed atomic.Bool
	failFirstPut := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if method == "/etcdserverpb.KV/Put" && failed.CompareAndSwap(false, true) {
			return status.Error(codes.ResourceExhausted, "injected: etcd too busy")
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: cluster.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop(),
		DialOptions: []grpc.DialOption{grpc.WithChainUnaryInterceptor(failFirstPut)}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cli.Close() })
	c, _ := runCheck(t, cli, prefix(t), "replica-a", ratelimit.Config{Up: ratelimit.Budget{Events: 2, Window: time.Hour}}, nil,
		etcdstore.WithClock(clock.NewMock()))
	waitStatus(t, c, "published and read, the mock clock unmoved", func(st etcdstore.ConfigStatus) bool { return st.Checked && st.Err == nil })
	assert.True(t, failed.Load(), "the first publish failed")
}

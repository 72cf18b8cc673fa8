package coord_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"

	"github.com/idlescale/idlescale/coord"
)

// unreachable returns a leadership campaigned through a client whose
// requests the returned blackhole can cut off, with short requests.
func unreachable(t *testing.T) (*coord.Leadership, *blackhole) {
	t.Helper()
	bh := &blackhole{}
	cut, err := clientv3.New(clientv3.Config{Endpoints: cluster.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop(),
		DialOptions: []grpc.DialOption{grpc.WithChainUnaryInterceptor(bh.intercept)}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cut.Close() })
	e, err := coord.NewElector(coord.ElectorConfig{Scope: "fleet", ID: "a", Prefix: prefix(t), SessionTTL: 60 * time.Second,
		RequestTimeout: 200 * time.Millisecond, MaxRetries: 1}, cut)
	require.NoError(t, err)
	l, err := e.Campaign(t.Context())
	require.NoError(t, err)
	return l, bh
}

// TestResignAfterItSucceededDoesNothingMore: Resign's doc says a Resign
// after one that succeeded does nothing more and returns nil. One made
// while etcd is out of reach (a host's own defer after Run's Resign)
// must not try the revoke again and fail.
func TestResignAfterItSucceededDoesNothingMore(t *testing.T) {
	t.Parallel()
	l, bh := unreachable(t)
	require.NoError(t, l.Resign(t.Context()))
	bh.on.Store(true)
	require.NoError(t, l.Resign(t.Context()), "the lease is already revoked: nothing more to do")
}

// TestResignAfterTheLeaseWasLostReturnsNil: Resign's doc says a Resign
// after the lease was lost does nothing more and returns nil: the term
// ended with the lease, whether or not etcd answers the revoke.
func TestResignAfterTheLeaseWasLostReturnsNil(t *testing.T) {
	t.Parallel()
	l, bh := unreachable(t)
	_, err := client(t).Revoke(t.Context(), l.Lease()) // the lease is lost
	require.NoError(t, err)
	select {
	case <-l.Done():
	case <-time.After(30 * time.Second):
		require.FailNow(t, "the session did not end when its lease was revoked")
	}
	bh.on.Store(true)
	require.NoError(t, l.Resign(context.Background()), "the lease was lost: no failure to report")
	require.NoError(t, l.Resign(t.Context()), "nor the second time")
}

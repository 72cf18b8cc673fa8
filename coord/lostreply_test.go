package coord_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/idlescale/idlescale/coord"
)

// TestCampaignAfterALostReply: a campaign's write that etcd applied but
// whose reply was lost is retried, finds the candidate's own key, and
// leads with the key's own create revision as its fence. The retry's
// revision is a later one (another key was written in between): taken as
// the candidate's, the campaign would wait for its own key to be deleted,
// for ever.
func TestCampaignAfterALostReply(t *testing.T) {
	t.Parallel()
	pre := prefix(t)
	admin := client(t)
	var mu sync.Mutex
	lost := 0
	drop := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		err := invoker(ctx, method, req, reply, cc, opts...)
		mu.Lock()
		defer mu.Unlock()
		if err != nil || method != "/etcdserverpb.KV/Txn" || lost > 0 {
			return err
		}
		lost++
		// Another write, so that the retry reads a later revision than
		// the key's.
		if _, err := admin.Put(ctx, pre+"/unrelated", "x"); err != nil {
			return err
		}
		return status.Error(codes.ResourceExhausted, "injected: the write was applied, its reply lost")
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: cluster.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop(),
		DialOptions: []grpc.DialOption{grpc.WithChainUnaryInterceptor(drop)}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cli.Close() })
	e, err := coord.NewElector(coord.ElectorConfig{Scope: "fleet", ID: "a", Prefix: pre, SessionTTL: 5 * time.Second,
		RequestTimeout: 2 * time.Second}, cli)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second) // a safety net
	defer cancel()
	l, err := e.Campaign(ctx)
	require.NoError(t, err, "the campaign leads once it finds its own key")
	defer func() { _ = l.Resign(context.Background()) }()
	mu.Lock()
	assert.Equal(t, 1, lost, "the campaign's write lost its reply once")
	mu.Unlock()
	resp, err := admin.Get(ctx, l.Fence().Key)
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1, "the candidate's key")
	assert.Equal(t, resp.Kvs[0].CreateRevision, l.Fence().Rev, "the fence is the key's create revision")
	got, err := e.Leader(ctx)
	require.NoError(t, err)
	assert.Equal(t, "a", got)
}

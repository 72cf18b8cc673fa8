package coord_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/idlescale/idlescale/coord"
	"github.com/idlescale/idlescale/internal/etcdtest"
)

// deniedStream ends a watch stream with permission denied after its
// first reply (the watch's creation).
type deniedStream struct {
	grpc.ClientStream
	replies int
}

func (s *deniedStream) RecvMsg(m any) error {
	if s.replies++; s.replies == 1 {
		return s.ClientStream.RecvMsg(m)
	}
	return status.Error(codes.PermissionDenied, "etcdserver: permission denied")
}

// TestCampaignWatchErrorIsReturned: a candidate whose watch on the key
// before it ends with an error other than a compaction (permission
// denied) fails its campaign with that error, not with one that names a
// lost watch.
func TestCampaignWatchErrorIsReturned(t *testing.T) {
	t.Parallel()
	c := etcdtest.New(t, etcdtest.Options{NoFsync: true})
	admin := c.Client(t)
	pre := prefix(t)
	cfg := coord.ElectorConfig{Scope: "fleet", Prefix: pre, SessionTTL: 5 * time.Second, RetryDelay: 10 * time.Millisecond}
	cfg.ID = "a"
	a, err := coord.NewElector(cfg, admin)
	require.NoError(t, err)
	la, err := a.Campaign(t.Context())
	require.NoError(t, err)
	defer func() { _ = la.Resign(context.Background()) }()

	deny := func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		cs, err := streamer(ctx, desc, cc, method, opts...)
		if err != nil || method != "/etcdserverpb.Watch/Watch" {
			return cs, err
		}
		return &deniedStream{ClientStream: cs}, nil
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop(),
		DialOptions: []grpc.DialOption{grpc.WithChainStreamInterceptor(deny)}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cli.Close() })
	cfg.ID = "b"
	b, err := coord.NewElector(cfg, cli)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second) // a safety net
	defer cancel()
	_, err = b.Campaign(ctx)
	require.ErrorIs(t, err, rpctypes.ErrPermissionDenied, "%v", err)
}

package coord_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"

	"github.com/idlescale/idlescale/coord"
	"github.com/idlescale/idlescale/internal/etcdtest"
)

// TestCampaignWaitsThroughACompaction: a candidate whose watch on the
// key before it starts at a revision etcd has compacted meanwhile (its
// history compacted between the read and the watch, or its watch resumed
// on another member after a compaction) reads the keys again and goes on
// waiting, and leads once the leader resigns. (The watch's ErrCompacted
// ended the campaign: Campaign failed with ErrStore, the candidate's key
// was revoked, and Run campaigned again from the back of the queue.)
func TestCampaignWaitsThroughACompaction(t *testing.T) {
	t.Parallel()
	c := etcdtest.New(t, etcdtest.Options{NoFsync: true}) // a compaction of its own
	admin := c.Client(t)
	pre := prefix(t)
	cfg := coord.ElectorConfig{Scope: "fleet", Prefix: pre, SessionTTL: 5 * time.Second, RetryDelay: 20 * time.Millisecond}
	cfg.ID = "a"
	a, err := coord.NewElector(cfg, admin)
	require.NoError(t, err)
	la, err := a.Campaign(t.Context())
	require.NoError(t, err)
	defer func() { _ = la.Resign(context.Background()) }()

	// b's first watch is opened after its read: compact past that read.
	var compacted atomic.Bool
	compact := func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		if method == "/etcdserverpb.Watch/Watch" && compacted.CompareAndSwap(false, true) {
			put, err := admin.Put(ctx, pre+"unrelated", "x")
			if err != nil {
				return nil, err
			}
			if _, err := admin.Compact(ctx, put.Header.Revision); err != nil {
				return nil, err
			}
		}
		return streamer(ctx, desc, cc, method, opts...)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop(),
		DialOptions: []grpc.DialOption{grpc.WithChainStreamInterceptor(compact)}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cli.Close() })
	cfg.ID = "b"
	b, err := coord.NewElector(cfg, cli)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second) // a safety net
	defer cancel()
	type result struct {
		l   *coord.Leadership
		err error
	}
	done := make(chan result, 1)
	go func() {
		l, err := b.Campaign(ctx)
		done <- result{l, err}
	}()
	// b waits behind a once its watch met the compaction.
	require.True(t, etcdtest.Within(t, 30*time.Second, compacted.Load), "b watched")
	select {
	case r := <-done:
		require.NoError(t, r.err, "b's campaign ended while a led")
		t.Fatal("b was elected while a led")
	case <-time.After(500 * time.Millisecond):
	}
	require.NoError(t, la.Resign(t.Context()))
	r := <-done
	require.NoError(t, r.err, "b leads once a resigns")
	defer func() { _ = r.l.Resign(context.Background()) }()
	got, err := b.Leader(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "b", got)
}

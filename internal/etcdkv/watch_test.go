package etcdkv_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/internal/etcdkv"
)

func TestWatchEnded(t *testing.T) {
	t.Parallel()
	require.NoError(t, etcdkv.WatchEnded(clientv3.WatchResponse{}, true), "events: the watch goes on")

	err := etcdkv.WatchEnded(clientv3.WatchResponse{}, false)
	require.EqualError(t, err, "watch ended", "the channel closed")

	err = etcdkv.WatchEnded(clientv3.WatchResponse{CompactRevision: 5}, true)
	require.ErrorIs(t, err, rpctypes.ErrCompacted, "etcd's reason is kept")
	assert.Contains(t, err.Error(), "watch ended")

	err = etcdkv.WatchEnded(clientv3.WatchResponse{Canceled: true}, true)
	require.Error(t, err, "cancelled by etcd")
	assert.Contains(t, err.Error(), "watch ended")
}

package coord_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/coord"
)

// TestFencedWriteWithAnEndedContextIsNotAStoreFailure: a fenced write
// whose context has ended (the term's context in the leader's loop, at
// shutdown or once the leadership is lost) returns the context's error,
// not coord.ErrStore, as Campaign and Leader do: etcd did not fail, and a
// host that alerts on ErrStore must not page on its own shutdown. (Do
// wrapped every failed Txn in ErrStore.)
func TestFencedWriteWithAnEndedContextIsNotAStoreFailure(t *testing.T) {
	t.Parallel()
	cli := client(t)
	l, err := elector(t, cli, "fleet", "a").Campaign(t.Context())
	require.NoError(t, err)
	defer func() { _ = l.Resign(context.Background()) }()
	key := prefix(t) + "action"

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = l.Fence().Do(ctx, cli, nil, clientv3.OpPut(key, "late"))
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, coord.ErrStore)
	require.NotErrorIs(t, err, coord.ErrFenced)
	got, err := cli.Get(t.Context(), key)
	require.NoError(t, err)
	assert.Empty(t, got.Kvs, "nothing written")

}

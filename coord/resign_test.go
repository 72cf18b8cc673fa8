package coord_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/coord"
)

// TestResignWithAnEndedContextHandsOver: a leader that resigns with the
// context its loop ran under, ended as it leaves (a defer l.Resign(ctx)
// on shutdown), still deletes its key, so that the next candidate is
// elected at once, and reports no etcd failure. (Every request failed at
// once with the ended context: the key stayed until the lease expired,
// SessionTTL after the keep-alive stopped, with Done already closed, and
// Resign returned an error matching ErrStore though etcd had not failed.)
func TestResignWithAnEndedContextHandsOver(t *testing.T) {
	t.Parallel()
	cli := client(t)
	e := elector(t, cli, "fleet", "a")
	ctx, cancel := context.WithCancel(t.Context())
	l, err := e.Campaign(ctx)
	require.NoError(t, err)
	cancel()
	err = l.Resign(ctx)
	require.NotErrorIs(t, err, coord.ErrStore, "etcd did not fail")
	require.NoError(t, err)
	resp, err := cli.Get(t.Context(), l.Fence().Key)
	require.NoError(t, err)
	assert.Empty(t, resp.Kvs, "the leader key is gone")
	_, err = e.Leader(t.Context())
	require.ErrorIs(t, err, coord.ErrNoLeader, "no one leads: the next candidate is elected at once")
	select {
	case <-l.Done():
	default:
		t.Fatal("Done is not closed after Resign")
	}
}

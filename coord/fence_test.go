package coord_test

import (
	"context"
	"sync"
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

// TestConcurrentResign: a Leadership is safe for concurrent use, so
// Resigns at once (a leader's worker on its way out with the term's ended
// context, and Run's once lead returns) race on nothing, and a Resign
// after them still ends the term. (Each wrote the leader key and session
// of etcd's Election, which has no lock: the race detector failed the
// test.)
func TestConcurrentResign(t *testing.T) {
	t.Parallel()
	cli := client(t)
	e := elector(t, cli, "fleet", "a")
	ended, cancel := context.WithCancel(t.Context())
	cancel()
	for range 30 {
		l, err := e.Campaign(t.Context())
		require.NoError(t, err)
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = l.Resign(ended)
			}()
		}
		wg.Wait()
		require.NoError(t, l.Resign(context.Background()))
		resp, err := cli.Get(t.Context(), l.Fence().Key)
		require.NoError(t, err)
		assert.Empty(t, resp.Kvs, "the leader key is gone")
		select {
		case <-l.Done():
		default:
			t.Fatal("Done is not closed after Resign")
		}
	}
	_, err := e.Leader(t.Context())
	require.ErrorIs(t, err, coord.ErrNoLeader)
}

// TestFencedWriteHasItsHeader: the response of a fenced write carries the
// transaction's header, as every etcd response does, so that a leader can
// read the revision its write committed at (resp.Header.Revision). (Do
// returned the nested transaction's response, whose header etcd leaves
// empty: Revision 0, and no cluster or member ID.)
func TestFencedWriteHasItsHeader(t *testing.T) {
	t.Parallel()
	cli := client(t)
	l, err := elector(t, cli, "fleet", "a").Campaign(t.Context())
	require.NoError(t, err)
	defer func() { _ = l.Resign(context.Background()) }()
	key := prefix(t) + "action"
	resp, err := l.Fence().Do(t.Context(), cli, nil, clientv3.OpPut(key, "a"))
	require.NoError(t, err)
	require.True(t, resp.Succeeded)
	require.NotNil(t, resp.Header)
	got, err := cli.Get(t.Context(), key)
	require.NoError(t, err)
	require.Len(t, got.Kvs, 1)
	written := got.Kvs[0].ModRevision
	assert.Equal(t, written, resp.Header.Revision, "the revision the write committed at")

	// Only a cmp failed: nothing written, the store's revision since.
	resp, err = l.Fence().Do(t.Context(), cli, []clientv3.Cmp{clientv3.Compare(clientv3.Value(key), "=", "other")}, clientv3.OpPut(key, "b"))
	require.NoError(t, err)
	require.False(t, resp.Succeeded)
	require.NotNil(t, resp.Header)
	assert.GreaterOrEqual(t, resp.Header.Revision, written)
}

// TestDoneMayCloseWhileTheFenceStillHolds: a leader that resigns while
// etcd is out of its reach stops its keep-alive, so Done is closed when
// Resign returns (with ErrStore), but its key stays until the lease
// expires: a fenced write of the term (through another client, or once
// etcd is back) still commits, and no other candidate leads meanwhile.
// Done's doc said the fence never refuses writes later than Done is
// closed; a host that took Done for the end of its fenced writes was
// wrong for up to SessionTTL.
func TestDoneMayCloseWhileTheFenceStillHolds(t *testing.T) {
	t.Parallel()
	l, bh := unreachable(t)

	bh.on.Store(true) // etcd is out of the leader's reach
	require.ErrorIs(t, l.Resign(t.Context()), coord.ErrStore, "the lease could not be revoked")
	select {
	case <-l.Done():
	default:
		t.Fatal("Done is not closed when Resign returns")
	}
	cli := client(t)
	resp, err := l.Fence().Do(t.Context(), cli, nil, clientv3.OpPut(prefix(t)+"action", "a"))
	require.NoError(t, err, "the term's key stays until its lease expires: its fenced writes still commit")
	require.True(t, resp.Succeeded)
	leader, err := elector(t, cli, "fleet", "b").Leader(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "a", leader, "and no other candidate leads before then")
	_, err = cli.Revoke(t.Context(), l.Lease()) // end the test's term now
	require.NoError(t, err)
}

// TestResignAgainAfterItFailedSaysSo: a Resign that could not revoke the
// term's lease fails with ErrStore, and the key stays until the lease
// expires. A host that calls Resign again (a retry, or its own defer after
// Run's) was told nil, though the revoke failed again and the key was
// still there: the first Resign had ended the session, which the second
// took for a lease lost. It fails again while etcd is out of reach, and
// succeeds, the key gone, once it can revoke.
func TestResignAgainAfterItFailedSaysSo(t *testing.T) {
	t.Parallel()
	l, bh := unreachable(t)
	cli := client(t)
	defer func() { _, _ = cli.Revoke(context.Background(), l.Lease()) }()

	bh.on.Store(true) // etcd is out of the leader's reach
	require.ErrorIs(t, l.Resign(t.Context()), coord.ErrStore, "the lease could not be revoked")
	require.ErrorIs(t, l.Resign(t.Context()), coord.ErrStore, "nor can it be now: the key stays")
	resp, err := cli.Get(t.Context(), l.Fence().Key)
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1, "the term's key is still there")

	bh.on.Store(false)
	require.NoError(t, l.Resign(t.Context()), "etcd is back: the lease is revoked")
	resp, err = cli.Get(t.Context(), l.Fence().Key)
	require.NoError(t, err)
	assert.Empty(t, resp.Kvs, "and the key with it")
	require.NoError(t, l.Resign(t.Context()), "a Resign after one that succeeded does nothing more")
}

package etcdkv_test

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/internal/etcdkv"
	"github.com/idlescale/idlescale/internal/etcdtest"
)

// TestLedger: Leases with a Ledger records each lease it grants, attached
// to the lease, and at the next grant revokes the leases granted longer
// than their own TTL ago (on its clock), whoever granted them: not one
// granted with a longer TTL (a replica configured so), nor an entry it
// cannot read, and it deletes the entry of a lease already gone.
func TestLedger(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cli := etcdtest.New(t, etcdtest.Options{NoFsync: true}).Client(t)
	pfx := etcdtest.KeyPrefix(t)
	ledger := pfx + "ledger/"
	mock := clock.NewMock()
	mock.Set(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	put := func(l *etcdkv.Leases, key string) clientv3.LeaseID {
		t.Helper()
		var id clientv3.LeaseID
		require.NoError(t, l.With(ctx, func(lease clientv3.LeaseID) error {
			id = lease
			_, err := cli.Put(ctx, key, "v", clientv3.WithLease(lease))
			return err
		}))
		return id
	}
	exists := func(key string) bool {
		t.Helper()
		resp, err := cli.Get(ctx, key)
		require.NoError(t, err)
		return len(resp.Kvs) > 0
	}
	entryKey := func(id clientv3.LeaseID) string { return ledger + strconv.FormatInt(int64(id), 16) }

	short := etcdkv.NewLeases(cli, time.Hour, time.Minute, mock, etcdkv.Ledger(cli, ledger))
	long := etcdkv.NewLeases(cli, 2*time.Hour, time.Minute, mock, etcdkv.Ledger(cli, ledger))
	first := put(short, pfx+"short")
	longID := put(long, pfx+"long")

	resp, err := cli.Get(ctx, entryKey(first))
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1, "a grant writes its entry")
	assert.Equal(t, int64(first), resp.Kvs[0].Lease, "attached to its lease")
	var e struct {
		Granted time.Time `json:"granted"`
		TTL     int64     `json:"ttl_s"`
	}
	require.NoError(t, json.Unmarshal(resp.Kvs[0].Value, &e))
	assert.True(t, mock.Now().Equal(e.Granted), "the grant time on the clock: %v", e.Granted)
	assert.Equal(t, int64(3600), e.TTL)

	// An entry that names a lease it is not attached to, and one whose
	// lease is gone (written without one: etcd would have deleted it with
	// its lease).
	other, err := cli.Grant(ctx, 3600)
	require.NoError(t, err)
	bogus := entryKey(other.ID + 1)
	_, err = cli.Put(ctx, bogus, string(resp.Kvs[0].Value), clientv3.WithLease(other.ID))
	require.NoError(t, err)
	gone, err := cli.Grant(ctx, 3600)
	require.NoError(t, err)
	_, err = cli.Revoke(ctx, gone.ID)
	require.NoError(t, err)
	_, err = cli.Put(ctx, entryKey(gone.ID), string(resp.Kvs[0].Value))
	require.NoError(t, err)

	mock.Add(time.Hour)
	put(short, pfx+"at-ttl")
	assert.True(t, exists(pfx+"short"), "granted exactly TTL ago: kept")
	mock.Add(time.Minute) // the next grant
	put(short, pfx+"after-ttl")
	assert.False(t, exists(pfx+"short"), "granted more than TTL ago: revoked")
	assert.False(t, exists(entryKey(first)), "its entry with it")
	assert.True(t, exists(pfx+"long"), "a lease of a longer TTL is kept")
	assert.True(t, exists(entryKey(longID)))
	assert.True(t, exists(bogus), "an entry not attached to its lease is left alone")
	assert.False(t, exists(entryKey(gone.ID)), "the entry of a lease gone is deleted")
	live, err := cli.TimeToLive(ctx, other.ID)
	require.NoError(t, err)
	assert.Positive(t, live.TTL, "the lease of an entry not its own is not revoked")

	// Without a Ledger nothing is recorded or revoked (a rate limit's
	// history keeps etcd's countdown).
	plain := etcdkv.NewLeases(cli, time.Hour, time.Minute, mock)
	plainID := put(plain, pfx+"plain")
	assert.False(t, exists(entryKey(plainID)))
	mock.Add(2 * time.Hour)
	put(plain, pfx+"plain2")
	assert.True(t, exists(pfx+"long"), "a Leases without a Ledger sweeps nothing")
}

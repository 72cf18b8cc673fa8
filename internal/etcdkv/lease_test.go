package etcdkv_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/internal/etcdkv"
)

// fakeLease grants leases 1, 2, 3, ... and records the TTLs asked for.
// Only Grant is implemented.
type fakeLease struct {
	clientv3.Lease
	ttls []int64
	err  error
}

func (f *fakeLease) Grant(_ context.Context, ttl int64) (*clientv3.LeaseGrantResponse, error) {
	if f.err != nil {
		return nil, f.err
	}
	f.ttls = append(f.ttls, ttl)
	return &clientv3.LeaseGrantResponse{ID: clientv3.LeaseID(len(f.ttls)), TTL: ttl}, nil
}

// leaseOf runs one write through l and returns the lease it attached
// (NoLease for none).
func leaseOf(t *testing.T, l *etcdkv.Leases, werr error) (clientv3.LeaseID, error) {
	t.Helper()
	var got clientv3.LeaseID
	err := l.With(t.Context(), func(lease clientv3.LeaseID) error {
		got = lease
		return werr
	})
	return got, err
}

func TestLeasesRenewOncePerPeriod(t *testing.T) {
	t.Parallel()
	mock := clock.NewMock()
	cli := &fakeLease{}
	l := etcdkv.NewLeases(cli, 25*time.Hour+1500*time.Millisecond, time.Hour, mock)

	first, err := leaseOf(t, l, nil)
	require.NoError(t, err)
	require.NotEqual(t, clientv3.NoLease, first)
	assert.Equal(t, []int64{25*3600 + 1}, cli.ttls, "TTL rounded down to whole seconds")
	mock.Add(time.Hour - time.Nanosecond)
	again, err := leaseOf(t, l, nil)
	require.NoError(t, err)
	assert.Equal(t, first, again, "within Renew: the same lease")
	mock.Add(time.Nanosecond)
	next, err := leaseOf(t, l, nil)
	require.NoError(t, err)
	assert.NotEqual(t, first, next, "Renew passed: a new lease")
	assert.Len(t, cli.ttls, 2)
}

func TestLeasesDropALostLease(t *testing.T) {
	t.Parallel()
	cli := &fakeLease{}
	l := etcdkv.NewLeases(cli, time.Hour, time.Minute, clock.NewMock())
	first, err := leaseOf(t, l, rpctypes.ErrLeaseNotFound)
	require.ErrorIs(t, err, rpctypes.ErrLeaseNotFound)
	second, err := leaseOf(t, l, nil)
	require.NoError(t, err)
	assert.NotEqual(t, first, second, "a lease the write found gone is granted again")
	third, err := leaseOf(t, l, errors.New("other failure"))
	require.Error(t, err)
	assert.Equal(t, second, third, "other failures keep the lease")
}

func TestLeasesOff(t *testing.T) {
	t.Parallel()
	cli := &fakeLease{}
	l := etcdkv.NewLeases(cli, -1, time.Minute, nil)
	got, err := leaseOf(t, l, nil)
	require.NoError(t, err)
	assert.Equal(t, clientv3.NoLease, got)
	assert.Empty(t, cli.ttls, "no grant")
}

func TestLeasesGrantFails(t *testing.T) {
	t.Parallel()
	cli := &fakeLease{err: rpctypes.ErrNoLeader}
	l := etcdkv.NewLeases(cli, time.Hour, time.Minute, nil)
	wrote := false
	err := l.With(t.Context(), func(clientv3.LeaseID) error { wrote = true; return nil })
	require.ErrorIs(t, err, rpctypes.ErrNoLeader)
	assert.False(t, wrote)
}

// A TTL beyond etcd's longest lease is asked for as the longest one (etcd
// refuses a longer one, so every write failed).
func TestLeasesCapTTL(t *testing.T) {
	t.Parallel()
	cli := &fakeLease{}
	l := etcdkv.NewLeases(cli, math.MaxInt64, time.Hour, clock.NewMock())
	_, err := leaseOf(t, l, nil)
	require.NoError(t, err)
	assert.Equal(t, []int64{9_000_000_000}, cli.ttls)
	assert.Equal(t, 9_000_000_000*time.Second, etcdkv.MaxTTL)
}

package etcdstore_test

import (
	"testing"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/ratelimit/etcdstore"
)

// A nil *clientv3.Client in the Client interface is not a nil interface,
// but every request on it panics: New refuses it like nil.
func TestNewRefusesNilClientPointer(t *testing.T) {
	t.Parallel()
	var cli *clientv3.Client
	_, err := etcdstore.New(etcdstore.Config{}, cli)
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "client", ie.Field)
}

// A nil *clock.Mock passed to WithClock is not a nil Clock, but the first
// write read it and panicked: New refuses it, naming it.
func TestNewRefusesNilClockPointer(t *testing.T) {
	t.Parallel()
	var err error
	require.NotPanics(t, func() {
		var store *etcdstore.Store
		store, err = etcdstore.New(etcdstore.Config{Prefix: prefix(t)}, newClient(t), etcdstore.WithClock((*clock.Mock)(nil)))
		if err != nil {
			return
		}
		lim, lerr := ratelimit.New(ratelimit.Config{}, ratelimit.WithStore(store))
		require.NoError(t, lerr)
		_, err = lim.ReserveAt(t.Context(), t0, up("web", 1))
	})
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "clock", ie.Field)
}

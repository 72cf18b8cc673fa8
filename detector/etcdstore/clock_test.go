package etcdstore_test

import (
	"testing"

	benclock "github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector/etcdstore"
	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/provider"
)

// TestNewRefusesANilClockPointer: a nil *clock.Mock given to WithClock is
// not a nil interface, and the first retry's backoff would panic on it
// (the state of a resource Loaded while etcd elects a leader), as it is
// refused by New in the library's other etcd stores. New refuses it,
// naming the field; WithClock(nil) is the real clock.
func TestNewRefusesANilClockPointer(t *testing.T) {
	t.Parallel()
	cli := etcdtest.Dial(t, cluster.Endpoints()...)
	_, err := etcdstore.New(etcdstore.Config{Prefix: etcdtest.KeyPrefix(t)}, cli, etcdstore.WithClock((*benclock.Mock)(nil)))
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "clock", ie.Field)
	assert.Contains(t, err.Error(), "etcdstore: ")

	s, err := etcdstore.New(etcdstore.Config{Prefix: etcdtest.KeyPrefix(t)}, cli, etcdstore.WithClock(nil))
	require.NoError(t, err)
	require.NoError(t, s.Save(t.Context(), "i-1", []byte("x")))
}

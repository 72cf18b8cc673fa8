package etcdstore_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/provider"
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

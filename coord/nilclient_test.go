package coord_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/coord"
	"github.com/idlescale/idlescale/provider"
)

// A nil *clientv3.Client in the Client interface is not a nil interface,
// but every request on it panics: the constructors refuse it like nil.
func TestConstructorsRefuseNilClientPointer(t *testing.T) {
	t.Parallel()
	var cli *clientv3.Client
	_, err := coord.NewApprovalStore(cli, coord.StoreOptions{})
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "client", ie.Field)
	_, err = coord.NewAuditLog(cli, coord.StoreOptions{})
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "client", ie.Field)
}

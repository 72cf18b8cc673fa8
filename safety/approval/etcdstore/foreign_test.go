package etcdstore_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/safety/approval"
	"github.com/idlescale/idlescale/safety/approval/approvaltest"
	"github.com/idlescale/idlescale/safety/approval/etcdstore"
)

// A request's key holds that request: a value that is not one (null,
// {}) or is another request's (copied under the wrong key) is corrupt,
// an error matching ErrStore that names the key. Get returned it as the
// request asked for, with no error: an empty request, or request "b"
// approved under the ID "a", which Manager.Verify then accepted for b's
// proposal although no one approved "a".
func TestValueOfAnotherRequestIsCorrupt(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pfx := etcdtest.KeyPrefix(t)
	cli := cluster.Dial(t)
	store, err := etcdstore.New(etcdstore.Config{Prefix: pfx}, cli)
	require.NoError(t, err)
	ap, err := approval.New(approval.Config{}, store)
	require.NoError(t, err)

	b := approvaltest.Request("b", "i-1", 0)
	b.State, b.DecidedBy, b.DecidedAt = approval.Approved, "alice", b.CreatedAt
	other, err := json.Marshal(b)
	require.NoError(t, err)
	p := b.Proposal
	p.ApprovalID = "a"
	for _, val := range []string{`null`, `{}`, string(other)} {
		_, err = cli.Put(ctx, pfx+"approvals/a", val)
		require.NoError(t, err)
		_, err = store.Get(ctx, "a")
		require.ErrorIs(t, err, etcdstore.ErrStore, val)
		assert.Contains(t, err.Error(), `"a"`, val)
		_, err = store.Update(ctx, "a", func(*approval.Request) error { return nil })
		require.ErrorIs(t, err, etcdstore.ErrStore, val)
		_, err = store.List(ctx, approval.Filter{})
		require.ErrorIs(t, err, etcdstore.ErrStore, val)
		require.ErrorIs(t, ap.Verify(ctx, "a", p), etcdstore.ErrStore, val)
	}
}

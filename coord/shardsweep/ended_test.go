package shardsweep_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/coord"
	"github.com/idlescale/idlescale/coord/shardsweep"
	"github.com/idlescale/idlescale/detector/etcdstore"
	"github.com/idlescale/idlescale/internal/etcdtest"
)

// TestEndedKeepsAFenceRefusal: a pass that stopped on a refused fenced
// write (an error matching coord.ErrFenced, here a refused state save)
// reports that error as it is, its cause still wrapped, also when the
// leader's session has ended meanwhile; any other error of a pass whose
// session ended is replaced by one matching coord.ErrFenced, which does
// not wrap it (the symptom of the ended context, not an etcd failure).
func TestEndedKeepsAFenceRefusal(t *testing.T) {
	t.Parallel()
	cli := etcdtest.Dial(t, cluster.Endpoints()...)
	el, err := coord.NewElector(coord.ElectorConfig{Scope: "ended", ID: "a", Prefix: etcdtest.KeyPrefix(t)}, cli)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second) // a safety net
	defer cancel()
	l, err := el.Campaign(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Resign(context.Background()) })
	_, err = cli.Revoke(ctx, l.Lease())
	require.NoError(t, err)
	select {
	case <-l.Done():
	case <-ctx.Done():
		t.Fatal("the session did not end once its lease was revoked")
	}

	refused := fmt.Errorf("shardsweep: shard 3: %w: %w", coord.ErrFenced, etcdstore.ErrGuard)
	got := shardsweep.Ended(3, l, refused)
	assert.Equal(t, refused, got, "a fence refusal is reported as it is")
	require.ErrorIs(t, got, etcdstore.ErrGuard)

	other := shardsweep.Ended(3, l, context.Canceled)
	require.ErrorIs(t, other, coord.ErrFenced)
	require.NotErrorIs(t, other, context.Canceled, "the ended context is the symptom")
	assert.Contains(t, other.Error(), "lease is gone")
}

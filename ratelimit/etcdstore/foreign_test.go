package etcdstore_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/ratelimit/etcdstore"
)

// A bucket's key holding JSON that no replica writes, without the
// "events" member that every value of the object form has (null, {},
// another program's object), is corrupt: it was read as an empty bucket,
// so a foreign or clobbered value reset the budget and the limiter
// granted what the bucket's events denied.
func TestForeignValueDenies(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cli := newClient(t)
	store := newStore(t, cli, etcdstore.Config{})
	lim, err := ratelimit.New(ratelimit.Config{}, ratelimit.WithStore(store))
	require.NoError(t, err)
	key := store.Key(ratelimit.Key{Target: "web", Direction: ratelimit.Up})
	for _, val := range []string{`null`, ` null`, `{}`, `{"id":"replica-a","fingerprint":"sha256:0"}`,
		`{"evnts":[{"id":1,"at":"2026-03-02T10:00:00Z","units":1}]}`} {
		_, err = cli.Put(ctx, key, val)
		require.NoError(t, err)
		r, err := lim.ReserveAt(ctx, t0, up("web", 1))
		require.ErrorIs(t, err, ratelimit.ErrCorrupt, val)
		assert.False(t, r.OK(), val)
		_, err = store.Snapshot(ctx)
		require.ErrorIs(t, err, ratelimit.ErrCorrupt, val)
	}
	// What replicas write still reads: an empty event list with a horizon
	// (all cancelled), and events null beside a horizon.
	for _, val := range []string{`{"events":[],"horizon":"2026-03-02T09:00:00Z"}`, `{"events":null,"horizon":"2026-03-02T09:00:00Z"}`} {
		_, err = cli.Put(ctx, key, val)
		require.NoError(t, err)
		r, err := lim.ReserveAt(ctx, t0, up("web", 1))
		require.NoError(t, err, val)
		require.True(t, r.OK(), val)
		require.NoError(t, lim.CancelAt(ctx, t0, r))
	}
}

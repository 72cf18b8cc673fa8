package etcdstore_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/ratelimit/etcdstore"
)

// A request of ratelimit.Both (a change of unknown direction) is one
// event on etcd too: written in one transaction to the target's up and
// down buckets and once to the global one, stored as "dir":"both" and
// read back so (a second limiter on the same keys sees it), denied by
// either direction's budget, and refunded from all three. A bucket key
// of "both" is corrupt, naming key.direction: no limiter writes one.
func TestBothOnEtcd(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cli := newClient(t)
	store := newStore(t, cli, etcdstore.Config{})
	cfg := ratelimit.Config{Global: ratelimit.Budget{MinInterval: time.Minute}}
	lim, err := ratelimit.New(cfg, ratelimit.WithStore(store))
	require.NoError(t, err)

	r, err := lim.ReserveAt(ctx, t0, ratelimit.Request{Target: "vm", Direction: ratelimit.Both, Units: 1})
	require.NoError(t, err)
	require.Equal(t, ratelimit.Allowed, r.Outcome, "%s", r)

	bs, err := store.Snapshot(ctx)
	require.NoError(t, err)
	ratelimit.SortBuckets(bs)
	want := []ratelimit.Event{{ID: r.ID, At: t0, Units: 1, Target: "vm", Direction: ratelimit.Both}}
	require.Len(t, bs, 3)
	for i, k := range []ratelimit.Key{ratelimit.GlobalKey, {Target: "vm", Direction: ratelimit.Up}, {Target: "vm", Direction: ratelimit.Down}} {
		assert.Equal(t, k, bs[i].Key)
		assert.Equal(t, want, bs[i].History.Events, k.String())
	}
	got, err := cli.Get(ctx, store.Key(ratelimit.Key{Target: "vm", Direction: ratelimit.Down}))
	require.NoError(t, err)
	require.Len(t, got.Kvs, 1)
	assert.Contains(t, string(got.Kvs[0].Value), `"dir":"both"`)

	// Another replica's limiter on the same keys decides by the event.
	other, err := ratelimit.New(cfg, ratelimit.WithStore(newStore(t, newClient(t), etcdstore.Config{Prefix: strings.TrimSuffix(store.Key(ratelimit.GlobalKey), "global")})))
	require.NoError(t, err)
	for _, d := range []ratelimit.Direction{ratelimit.Up, ratelimit.Down} {
		q, err := other.ReserveAt(ctx, t0.Add(2*time.Minute), ratelimit.Request{Target: "vm", Direction: d, Units: 1})
		require.NoError(t, err)
		assert.Equal(t, []any{ratelimit.Denied, ratelimit.ReasonInterval, ratelimit.ScopeTarget, t0.Add(ratelimit.DefaultMinInterval)},
			[]any{q.Outcome, q.Reason, q.Scope, q.Next}, "%s", q)
	}
	q, err := other.ReserveAt(ctx, t0.Add(30*time.Second), up("db", 1))
	require.NoError(t, err)
	assert.Equal(t, []any{ratelimit.Denied, ratelimit.ReasonInterval, ratelimit.ScopeGlobal, t0.Add(time.Minute)},
		[]any{q.Outcome, q.Reason, q.Scope, q.Next}, "%s: one global event", q)
	st, err := other.StatsAt(ctx, t0.Add(2*time.Minute))
	require.NoError(t, err)
	require.Len(t, st.Buckets, 3)
	for _, b := range st.Buckets {
		assert.Equal(t, 1, b.Kept, b.Key.String())
	}

	require.NoError(t, other.CancelAt(ctx, t0.Add(2*time.Minute), r))
	st, err = lim.StatsAt(ctx, t0.Add(2*time.Minute))
	require.NoError(t, err)
	assert.Empty(t, st.Buckets, "refunded from every bucket")
	q, err = lim.ReserveAt(ctx, t0.Add(2*time.Minute), ratelimit.Request{Target: "vm", Direction: ratelimit.Both, Units: 1})
	require.NoError(t, err)
	assert.True(t, q.OK(), "%s", q)

	_, err = cli.Put(ctx, strings.TrimSuffix(store.Key(ratelimit.GlobalKey), "global")+"b/vm/both", `{"events":[]}`)
	require.NoError(t, err)
	_, err = store.Snapshot(ctx)
	require.ErrorIs(t, err, ratelimit.ErrCorrupt, "a bucket key of both")
	assert.Contains(t, err.Error(), "key.direction")
}

package etcdstore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/ratelimit/etcdstore"
)

// An event whose direction this version does not know (written by a
// newer replica during a rolling upgrade, as "both" was by the version
// that added it) counts against the bucket that holds it, as any event
// does: it is no corrupt history that denies every reservation of the
// target (ReasonStore), it is never dropped from the count (a reservation
// within its interval is denied by the interval), and it is written back
// as it was read when the bucket is next written, so that the newer
// replica still finds it.
func TestEventOfANewerDirectionCounts(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cli := newClient(t)
	store := newStore(t, cli, etcdstore.Config{})
	key := store.Key(ratelimit.Key{Target: "vm", Direction: ratelimit.Up})
	_, err := cli.Put(ctx, key, `{"events":[{"id":7,"at":"2026-03-02T10:00:00Z","units":1,"target":"vm","dir":"sideways"}],"horizon":"2026-03-02T10:00:00Z"}`)
	require.NoError(t, err)
	lim, err := ratelimit.New(ratelimit.Config{}, ratelimit.WithStore(store))
	require.NoError(t, err)

	r, err := lim.ReserveAt(ctx, t0.Add(time.Minute), up("vm", 1))
	require.NoError(t, err, "an event of an unknown direction is no corrupt history")
	assert.Equal(t, []any{ratelimit.Denied, ratelimit.ReasonInterval, t0.Add(ratelimit.DefaultMinInterval)},
		[]any{r.Outcome, r.Reason, r.Next}, "%s: the event counts", r)

	st, err := lim.StatsAt(ctx, t0.Add(time.Minute))
	require.NoError(t, err)
	require.Len(t, st.Buckets, 1)
	assert.Equal(t, 1, st.Buckets[0].InWindow)

	r, err = lim.ReserveAt(ctx, t0.Add(ratelimit.DefaultMinInterval), up("vm", 1))
	require.NoError(t, err)
	require.True(t, r.OK(), "%s", r)
	got, err := cli.Get(ctx, key)
	require.NoError(t, err)
	require.Len(t, got.Kvs, 1)
	assert.Contains(t, string(got.Kvs[0].Value), `"dir":"sideways"`, "written back as read")
	assert.Contains(t, string(got.Kvs[0].Value), `"dir":"up"`)
}

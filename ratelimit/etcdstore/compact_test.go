package etcdstore_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/internal/syncbuf"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/ratelimit/etcdstore"
)

// TestConfigCheckFollowsThroughACompaction: a ConfigCheck whose watch of
// the others' fingerprints starts (or resumes, on another member after
// its connection was lost) at a revision etcd has compacted reads them
// again and follows them from there: its fingerprint stays published
// and it sees the replicas that come after. (ErrCompacted failed the
// check: its fingerprint was revoked, so that the others no longer held
// to its limits, and its Status said etcd failed, until it published
// again a second later; shardsweep refuses every pass meanwhile.)
func TestConfigCheckFollowsThroughACompaction(t *testing.T) {
	t.Parallel()
	c := etcdtest.New(t, etcdtest.Options{NoFsync: true}) // a compaction of its own
	admin := c.Client(t)
	pre := prefix(t)
	// a's watch is opened after its read: compact past that read.
	cli, compacted := c.CompactingClient(t, admin, pre+"unrelated")
	var logs syncbuf.Buffer
	a, _ := runCheck(t, cli, pre, "replica-a", ratelimit.Config{Up: ratelimit.Budget{Events: 2, Window: time.Hour}},
		slog.New(slog.NewTextHandler(&logs, nil)))
	st := waitStatus(t, a, "a published and read", func(st etcdstore.ConfigStatus) bool { return st.Checked && st.Err == nil })
	require.True(t, compacted(), "a's watch met the compaction")
	key, err := admin.Get(t.Context(), a.Key())
	require.NoError(t, err)
	require.Len(t, key.Kvs, 1, "a's fingerprint is published: %+v", st)

	// b comes with another budget: a sees it (its watch goes on).
	runCheck(t, admin, pre, "replica-b", ratelimit.Config{Up: ratelimit.Budget{Events: 3, Window: time.Hour}}, nil)
	waitStatus(t, a, "a reads b", disagreeing("replica-b"))
	assert.NotContains(t, logs.String(), "check failed", "a's check went on")
	again, err := admin.Get(t.Context(), a.Key())
	require.NoError(t, err)
	require.Len(t, again.Kvs, 1)
	assert.Equal(t, key.Kvs[0].CreateRevision, again.Kvs[0].CreateRevision, "a's fingerprint stayed, not published again")
}

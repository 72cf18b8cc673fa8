package etcdstore_test

import (
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/ratelimit/etcdstore"
)

// TestConfigCheckRetriesInRealTime: a check that failed (here its key was
// deleted; a lost lease does the same) publishes its fingerprint again a
// second later in real time, whatever the store's clock. On a mock clock
// nobody moved, it stayed unpublished, so that the other replicas did not
// hold to this one's limits.
func TestConfigCheckRetriesInRealTime(t *testing.T) {
	t.Parallel()
	cli := newClient(t)
	c, _ := runCheck(t, cli, prefix(t), "replica-a", ratelimit.Config{Up: ratelimit.Budget{Events: 2, Window: time.Hour}}, nil,
		etcdstore.WithClock(clock.NewMock()))
	waitStatus(t, c, "published and read", func(st etcdstore.ConfigStatus) bool { return st.Checked && st.Err == nil })
	del, err := cli.Delete(t.Context(), c.Key())
	require.NoError(t, err)
	// The check fails and, a second later in real time, publishes again:
	// a key created after the delete (the failure itself lasts too short
	// a time to be waited for on a loaded machine).
	ok := etcdtest.Within(t, 60*time.Second, func() bool {
		resp, err := cli.Get(t.Context(), c.Key())
		return err == nil && len(resp.Kvs) == 1 && resp.Kvs[0].CreateRevision > del.Header.Revision
	})
	require.True(t, ok, "the fingerprint is published again, the mock clock unmoved")
	waitStatus(t, c, "read again", func(st etcdstore.ConfigStatus) bool { return st.Checked && st.Err == nil })
}

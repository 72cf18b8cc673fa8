package etcdstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/require"

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
	mock := clock.NewMock()
	s, err := etcdstore.New(etcdstore.Config{Prefix: prefix(t)}, cli, etcdstore.WithClock(mock))
	require.NoError(t, err)
	c, err := etcdstore.NewConfigCheck("replica-a", ratelimit.Config{Up: ratelimit.Budget{Events: 2, Window: time.Hour}}, s, cli)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(30 * time.Second):
			t.Error("Run did not return")
		}
	})
	waitStatus(t, c, "published and read", func(st etcdstore.ConfigStatus) bool { return st.Checked && st.Err == nil })
	_, err = cli.Delete(t.Context(), c.Key())
	require.NoError(t, err)
	waitStatus(t, c, "the check failed", func(st etcdstore.ConfigStatus) bool { return st.Err != nil })
	waitStatus(t, c, "published again, the mock clock unmoved", func(st etcdstore.ConfigStatus) bool { return st.Checked && st.Err == nil })
	resp, err := cli.Get(t.Context(), c.Key())
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1, "the fingerprint is published again")
}

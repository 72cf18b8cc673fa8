package etcdagree_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/etcdagree"
	"github.com/idlescale/idlescale/internal/etcdkv"
	"github.com/idlescale/idlescale/internal/etcdtest"
)

// cluster is one embedded etcd member shared by the package's tests.
var cluster *etcdtest.Cluster

func TestMain(m *testing.M) {
	etcdtest.RunShared(m, "etcdagree-test", etcdtest.Options{NoFsync: true}, &cluster)
}

// start runs a Check of id (whose shared configuration is period) under
// prefix until the test ends; the returned function stops it and waits
// for Run to return nil.
func start(t *testing.T, prefix, id string, period int, cfg etcdagree.Config) (*etcdagree.Check, func()) {
	t.Helper()
	cli := etcdtest.Dial(t, cluster.Endpoints()...)
	fp, err := etcdagree.NewFingerprint(id, conf{Period: period})
	require.NoError(t, err)
	cfg.Name, cfg.Prefix, cfg.ID = "test", prefix, id
	if cfg.TTL == 0 {
		cfg.TTL = 2 * time.Second
	}
	c, err := etcdagree.New(cli, cfg, fp, nil, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(30 * time.Second):
			t.Errorf("Run of %s did not return", id)
		}
	}
	t.Cleanup(stop)
	return c, stop
}

// within waits until cond holds of c's Status and returns it.
func within(t *testing.T, c *etcdagree.Check, what string, cond func(st etcdagree.Status) bool) etcdagree.Status {
	t.Helper()
	var st etcdagree.Status
	require.True(t, etcdtest.Within(t, 60*time.Second, func() bool {
		st = c.Status()
		return cond(st)
	}), "%s: %+v", what, st)
	return st
}

// TestOwnKeyDeletedIsPublishedAgain: a replica whose key is deleted
// under it (by hand, or its lease revoked) publishes it again, rather
// than stay invisible to the others, and says why in the meantime.
func TestOwnKeyDeletedIsPublishedAgain(t *testing.T) {
	t.Parallel()
	prefix := etcdtest.KeyPrefix(t)
	a, _ := start(t, prefix, "a", 1, etcdagree.Config{RetryDelay: 10 * time.Millisecond})
	b, _ := start(t, prefix, "b", 2, etcdagree.Config{RetryDelay: 10 * time.Millisecond})
	within(t, b, "a read", func(st etcdagree.Status) bool { return st.Checked && len(st.Mismatches) == 1 })
	cli := etcdtest.Dial(t, cluster.Endpoints()...)
	_, err := cli.Delete(t.Context(), a.Key())
	require.NoError(t, err)
	var lease int64
	require.True(t, etcdtest.Within(t, 60*time.Second, func() bool {
		resp, err := cli.Get(t.Context(), a.Key())
		if err != nil || len(resp.Kvs) == 0 {
			return false
		}
		lease = resp.Kvs[0].Lease
		return true
	}), "a's key is published again")
	assert.NotZero(t, lease, "under a lease")
	within(t, a, "current again", func(st etcdagree.Status) bool { return st.Checked && st.Err == nil })
	st := within(t, b, "a read again", func(st etcdagree.Status) bool { return st.Checked && len(st.Mismatches) == 1 })
	assert.Equal(t, []etcdagree.Diff{{Field: "period", Mine: "2", Theirs: "1"}}, st.Mismatches[0].Fields)
}

// TestEtcdFailureReported: a check whose client cannot reach etcd keeps
// the failure in Status.Err (matching ErrStore) and tries again; it
// returns nil when its context ends, its Status cleared.
func TestEtcdFailureReported(t *testing.T) {
	t.Parallel()
	cli := etcdtest.Dial(t, cluster.Endpoints()...)
	require.NoError(t, cli.Close())
	fp, err := etcdagree.NewFingerprint("a", conf{Period: 1})
	require.NoError(t, err)
	c, err := etcdagree.New(cli, etcdagree.Config{Name: "test", Prefix: etcdtest.KeyPrefix(t), ID: "a", TTL: 2 * time.Second,
		RetryDelay: 10 * time.Millisecond, Retrier: etcdkv.Retrier{Timeout: time.Second}}, fp, nil, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	st := within(t, c, "the failure reported", func(st etcdagree.Status) bool { return st.Err != nil })
	require.ErrorIs(t, st.Err, etcdkv.ErrStore)
	assert.False(t, st.Checked)
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return")
	}
	assert.Equal(t, etcdagree.Status{Fingerprint: fp}, c.Status())
}

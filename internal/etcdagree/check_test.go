package etcdagree_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/etcdagree"
	"github.com/idlescale/idlescale/internal/etcdkv"
	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/internal/syncbuf"
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

// TestWatchFollowsTheOthers: a check counts the other live replicas,
// agreeing or not (Status.Peers), follows them as they come and go
// through its watch (no new session for an event: no failure logged),
// warns once of a replica that runs another configuration, and says
// when they all agree again.
func TestWatchFollowsTheOthers(t *testing.T) {
	t.Parallel()
	prefix := etcdtest.KeyPrefix(t)
	var logs syncbuf.Buffer
	cli := etcdtest.Dial(t, cluster.Endpoints()...)
	fp, err := etcdagree.NewFingerprint("a", conf{Period: 1})
	require.NoError(t, err)
	// Leases of 10 s: a loaded machine's pause must not expire one and
	// start a new session (logged as a failure) in a test that counts
	// the log's lines. A check that stops revokes its lease at once.
	a, err := etcdagree.New(cli, etcdagree.Config{Name: "test", Prefix: prefix, ID: "a", TTL: 10 * time.Second, RetryDelay: 10 * time.Millisecond},
		fp, nil, slog.New(slog.NewTextHandler(&logs, nil)))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(30 * time.Second):
			t.Error("Run did not return")
		}
	}()
	within(t, a, "read", func(st etcdagree.Status) bool { return st.Checked })

	_, stopB := start(t, prefix, "b", 1, etcdagree.Config{TTL: 10 * time.Second})
	st := within(t, a, "b agrees", func(st etcdagree.Status) bool { return st.Peers == 1 })
	assert.Empty(t, st.Mismatches)
	_, stopC := start(t, prefix, "c", 2, etcdagree.Config{TTL: 10 * time.Second})
	st = within(t, a, "c differs", func(st etcdagree.Status) bool { return st.Peers == 2 && len(st.Mismatches) == 1 })
	assert.Equal(t, "c", st.Mismatches[0].Replica)
	// The Status is set before the log line is written: wait for it.
	require.True(t, etcdtest.Within(t, 60*time.Second, func() bool {
		return strings.Contains(logs.String(), "another replica runs another shared configuration")
	}), "warned when c came:\n%s", logs.String())
	stopB()
	st = within(t, a, "b left", func(st etcdagree.Status) bool { return st.Peers == 1 })
	require.Len(t, st.Mismatches, 1, "c still differs")
	assert.NotContains(t, logs.String(), "every live replica runs the same shared configuration again", "c still differs")
	stopC()
	st = within(t, a, "c left", func(st etcdagree.Status) bool { return st.Peers == 0 })
	assert.Empty(t, st.Mismatches)
	require.NoError(t, st.Err)
	require.True(t, etcdtest.Within(t, 60*time.Second, func() bool {
		return strings.Contains(logs.String(), "every live replica runs the same shared configuration again")
	}), "said when they agree again:\n%s", logs.String())

	// An unreadable fingerprint is warned of as such.
	_, err = cli.Put(t.Context(), prefix+"z", "{not json")
	require.NoError(t, err)
	st = within(t, a, "z unreadable", func(st etcdagree.Status) bool { return len(st.Mismatches) == 1 })
	require.ErrorIs(t, st.Mismatches[0].Err, etcdagree.ErrMalformed)
	require.True(t, etcdtest.Within(t, 60*time.Second, func() bool {
		return strings.Contains(logs.String(), "another replica's configuration fingerprint is unreadable")
	}), "warned of z:\n%s", logs.String())

	out := logs.String()
	assert.Equal(t, 1, strings.Count(out, "another replica runs another shared configuration"), "warned once, not again when b left, nor for z:\n%s", out)
	assert.Equal(t, 1, strings.Count(out, "every live replica runs the same shared configuration again"), out)
	assert.NotContains(t, out, "configuration check failed", "events are followed by the watch, not by a new session")
}

package coord_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/coord"
	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/internal/syncbuf"
)

// TestCampaignWaitsThroughACompaction: a candidate whose watch on the
// key before it starts at a revision etcd has compacted meanwhile (its
// history compacted between the read and the watch, or its watch resumed
// on another member after a compaction) reads the keys again and goes on
// waiting, and leads once the leader resigns. (The watch's ErrCompacted
// ended the campaign: Campaign failed with ErrStore, the candidate's key
// was revoked, and Run campaigned again from the back of the queue.)
func TestCampaignWaitsThroughACompaction(t *testing.T) {
	t.Parallel()
	c := etcdtest.New(t, etcdtest.Options{NoFsync: true}) // a compaction of its own
	admin := c.Client(t)
	pre := prefix(t)
	cfg := coord.ElectorConfig{Scope: "fleet", Prefix: pre, SessionTTL: 5 * time.Second, RetryDelay: 20 * time.Millisecond}
	cfg.ID = "a"
	a, err := coord.NewElector(cfg, admin)
	require.NoError(t, err)
	la, err := a.Campaign(t.Context())
	require.NoError(t, err)
	defer func() { _ = la.Resign(context.Background()) }()

	// b's first watch is opened after its read: compact past that read.
	cli, compacted := c.CompactingClient(t, admin, pre+"unrelated")
	cfg.ID = "b"
	b, err := coord.NewElector(cfg, cli)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second) // a safety net
	defer cancel()
	type result struct {
		l   *coord.Leadership
		err error
	}
	done := make(chan result, 1)
	go func() {
		l, err := b.Campaign(ctx)
		done <- result{l, err}
	}()
	// b waits behind a once its watch met the compaction.
	require.True(t, etcdtest.Within(t, 30*time.Second, compacted), "b watched")
	select {
	case r := <-done:
		require.NoError(t, r.err, "b's campaign ended while a led")
		t.Fatal("b was elected while a led")
	case <-time.After(500 * time.Millisecond):
	}
	require.NoError(t, la.Resign(t.Context()))
	r := <-done
	require.NoError(t, r.err, "b leads once a resigns")
	defer func() { _ = r.l.Resign(context.Background()) }()
	got, err := b.Leader(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "b", got)
}

// TestShardsFollowTheMembersThroughACompaction: a members watch that
// starts (or resumes, on another member after its connection was lost)
// at a revision etcd has compacted reads the members again and follows
// them from there: the replica keeps its membership and its shards, and
// sees the members that join after. (ErrCompacted failed the membership:
// every shard of the replica was stopped, its membership revoked, so that
// the others took its shards, and it joined again to take them back, at
// every compaction a watch met.)
func TestShardsFollowTheMembersThroughACompaction(t *testing.T) {
	t.Parallel()
	c := etcdtest.New(t, etcdtest.Options{NoFsync: true}) // a compaction of its own
	admin := c.Client(t)
	pre := prefix(t)
	// a's members watch is opened after its read: compact past that read.
	cli, compacted := c.CompactingClient(t, admin, pre+"unrelated")
	var logs syncbuf.Buffer
	cfg := coord.ShardsConfig{ID: "a", Shards: 2, Prefix: pre, SessionTTL: 5 * time.Second, RetryDelay: 10 * time.Millisecond}
	a, err := coord.NewShards(cfg, cli, coord.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, err)
	ls := &leaders{running: map[int]int{}, terms: map[int]int{}}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, ls.lead) }()
	defer func() {
		cancel()
		require.NoError(t, <-done)
	}()
	require.True(t, etcdtest.Within(t, 30*time.Second, func() bool { return compacted() && len(a.Leading()) == 2 }),
		"a leads both shards: %s", logs.String())

	// b joins: a sees it (its watch goes on) and hands one shard over.
	cfg.ID = "b"
	b, err := coord.NewShards(cfg, admin)
	require.NoError(t, err)
	bctx, bcancel := context.WithCancel(t.Context())
	bdone := make(chan error, 1)
	go func() { bdone <- b.Run(bctx, ls.lead) }()
	defer func() {
		bcancel()
		require.NoError(t, <-bdone)
	}()
	require.True(t, etcdtest.Within(t, 30*time.Second, func() bool { return len(a.Leading()) == 1 && len(b.Leading()) == 1 }),
		"a and b lead a shard each: %s", logs.String())
	assert.NotContains(t, logs.String(), "membership failed", "a kept its membership")
	ls.mu.Lock()
	defer ls.mu.Unlock()
	assert.Equal(t, 1, ls.most, "never two terms of a shard at once")
	kept := a.Leading()[0]
	assert.Equal(t, 1, ls.terms[kept], "a led the shard it kept in one term")
}

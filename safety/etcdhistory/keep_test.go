package etcdhistory_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/etcdhistory"
)

// TestRefusesAShorterKeepOfAnotherReplica: replica A keeps records for
// an hour (its limits window is an hour), replica B for a day (its window
// a day). A stops 2 of the 4 instances of fleet "web"; an hour later its
// records expire (their lease: here revoked, as etcd does at its end), and
// B, whose window still covers A's stops, counted 0 and let a third stop
// through: 3 of 4 in a day, limit half. B now refuses to count while a
// replica with a shorter Keep has recorded the fleet within B's window
// (its records may be gone), whatever the fleet: the limits rule fails
// and the engine blocks.
// A, whose window is within every Keep, and B once its window no longer
// reaches A's last record, count as before.
func TestRefusesAShorterKeepOfAnotherReplica(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pfx := etcdtest.KeyPrefix(t)
	a, aClock := newHistory(t, etcdhistory.Config{Prefix: pfx, Keep: time.Hour})
	b, bClock := newHistory(t, etcdhistory.Config{Prefix: pfx, Keep: 24 * time.Hour})
	require.NoError(t, a.Record("web", t0, 2))
	require.NoError(t, b.Record("db", t0, 1))

	// A's records expire.
	cli := cluster.Dial(t)
	resp, err := cli.Get(ctx, pfx+"history/web/", clientv3.WithPrefix())
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1)
	_, err = cli.Revoke(ctx, clientv3.LeaseID(resp.Kvs[0].Lease))
	require.NoError(t, err)

	aClock.Set(t0.Add(2 * time.Hour))
	bClock.Set(t0.Add(2 * time.Hour))
	p := safety.Proposal{
		ID: "p-3", Action: safety.ActionStop, Requester: "reaper", Reason: "idle", Now: t0.Add(2 * time.Hour),
		Resource: provider.Resource{ID: "i-3", Kind: provider.KindInstance, State: provider.StateRunning},
		Fleet:    "web", FleetSize: 4,
	}
	rule, err := safety.NewLimitsRule(safety.LimitsConfig{MaxFleetShare: 0.5, Window: 24 * time.Hour}, b)
	require.NoError(t, err)
	eng, err := safety.New(safety.Config{}, []safety.Rule{rule})
	require.NoError(t, err)
	d, err := eng.Evaluate(ctx, p)
	require.Error(t, err, "B cannot count A's stops: they may be gone")
	require.ErrorIs(t, err, safety.ErrBlocked)
	require.ErrorIs(t, err, provider.ErrInvalid)
	assert.False(t, d.Allowed)
	assert.Contains(t, err.Error(), "1h0m0s")
	// A's records before now − (Keep + Keep/30) may be gone.
	assert.Contains(t, err.Error(), "its records since "+t0.Add(58*time.Minute).Format(time.RFC3339)+" may be gone")

	// The markers are per Keep, not per fleet: B counts no fleet until
	// the replicas agree (or its window no longer reaches A's records).
	_, err = b.ActedOn(ctx, "db", t0.Add(-22*time.Hour))
	require.ErrorIs(t, err, provider.ErrInvalid)
	// B's window within A's Keep: counted.
	n, err := b.ActedOn(ctx, "db", t0.Add(time.Hour))
	require.NoError(t, err)
	assert.Zero(t, n)
	_, err = b.ActedOn(ctx, "db", t0)
	require.ErrorIs(t, err, provider.ErrInvalid, "a minute before what A's Keep covers")
	// A's window is within its own Keep and B's: it counts (nothing left).
	n, err = a.ActedOn(ctx, "web", t0.Add(time.Hour))
	require.NoError(t, err)
	assert.Zero(t, n)
	n, err = a.ActedOn(ctx, "db", t0.Add(time.Hour))
	require.NoError(t, err)
	assert.Zero(t, n)
	// A day after A's last record, B's window no longer reaches it.
	bClock.Set(t0.Add(25 * time.Hour))
	n, err = b.ActedOn(ctx, "web", t0.Add(time.Hour+time.Nanosecond))
	require.NoError(t, err)
	assert.Zero(t, n)
	n, err = b.ActedOn(ctx, "db", t0.Add(time.Hour+time.Nanosecond))
	require.NoError(t, err)
	assert.Zero(t, n, "B's own record at t0 is before since")

	// The marker holds the latest record's time, whatever the order of
	// the writes.
	mark := pfx + "history-keep/" + fmt.Sprintf("%019d", int64(time.Hour))
	marked := func() string {
		got, err := cli.Get(ctx, mark)
		require.NoError(t, err)
		require.Len(t, got.Kvs, 1)
		return string(got.Kvs[0].Value)
	}
	assert.Equal(t, fmt.Sprintf("%019d", t0.UnixNano()), marked())
	require.NoError(t, a.Record("x", t0.Add(-time.Minute), 1))
	assert.Equal(t, fmt.Sprintf("%019d", t0.UnixNano()), marked(), "an older record does not lower it")
	require.NoError(t, a.Record("x", t0.Add(3*time.Hour), 1))
	assert.Equal(t, fmt.Sprintf("%019d", t0.Add(3*time.Hour).UnixNano()), marked())
}

// TestUnreadableKeepMarkerIsAStoreError: a Keep marker whose key holds no
// positive duration, or whose value no record's time, cannot say which
// records may be gone: ActedOn fails with ErrStore (the limits rule then
// blocks) rather than skip it. (Kills the mutants of checkKeeps' marker
// checks: a marker of Keep 0 was skipped as one of centuries.)
func TestUnreadableKeepMarkerIsAStoreError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, keep, value string }{
		{"a Keep of 0", "0000000000000000000", fmt.Sprintf("%019d", t0.UnixNano())},
		{"a negative Keep", "-000000000000000001", fmt.Sprintf("%019d", t0.UnixNano())},
		{"a Keep that is no number", "an-hour", fmt.Sprintf("%019d", t0.UnixNano())},
		{"a time that is no number", fmt.Sprintf("%019d", int64(time.Hour)), "yesterday"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pfx := etcdtest.KeyPrefix(t)
			h, _ := newHistory(t, etcdhistory.Config{Prefix: pfx, Keep: 24 * time.Hour})
			_, err := cluster.Dial(t).Put(t.Context(), pfx+"history-keep/"+tc.keep, tc.value)
			require.NoError(t, err)
			_, err = h.ActedOn(t.Context(), "web", t0.Add(-time.Hour))
			require.ErrorIs(t, err, etcdhistory.ErrStore)
			assert.Contains(t, err.Error(), "history-keep/"+tc.keep)
		})
	}
}

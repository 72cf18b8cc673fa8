package etcdstore_test

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/internal/syncbuf"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/ratelimit/etcdstore"
)

// runCheck runs the ConfigCheck of replica id with limits on a store of
// prefix p, logging to lg (nil: discard), with the store's options opts
// besides; stop stops it and waits for its Run to return nil (also done
// when the test ends).
func runCheck(t *testing.T, cli *clientv3.Client, p, id string, limits ratelimit.Config, lg *slog.Logger, opts ...etcdstore.Option) (c *etcdstore.ConfigCheck, stop func()) {
	t.Helper()
	s, err := etcdstore.New(etcdstore.Config{Prefix: p}, cli, append([]etcdstore.Option{etcdstore.WithLogger(lg)}, opts...)...)
	require.NoError(t, err)
	c, err = etcdstore.NewConfigCheck(id, limits, s, cli)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	stopped := false
	stop = func() {
		t.Helper()
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err, "Run of %s", id)
		case <-time.After(30 * time.Second):
			t.Errorf("Run of %s did not return", id)
		}
	}
	t.Cleanup(stop)
	return c, stop
}

// waitStatus waits until c's Status satisfies cond and returns it.
func waitStatus(t *testing.T, c *etcdstore.ConfigCheck, what string, cond func(st etcdstore.ConfigStatus) bool) etcdstore.ConfigStatus {
	t.Helper()
	var st etcdstore.ConfigStatus
	ok := etcdtest.Within(t, 60*time.Second, func() bool {
		st = c.Status()
		return cond(st)
	})
	require.True(t, ok, "%s: status %+v", what, st)
	return st
}

// disagreeing reports whether st was read and lists exactly ids as
// disagreeing.
func disagreeing(ids ...string) func(st etcdstore.ConfigStatus) bool {
	return func(st etcdstore.ConfigStatus) bool {
		got := make([]string, len(st.Mismatches))
		for i, m := range st.Mismatches {
			got[i] = m.Replica
		}
		return st.Checked && slices.Equal(got, ids)
	}
}

// TestConfigCheckReportsAnotherBudget: two replicas on one store whose
// limiters allow another number of scale-downs an hour each enforce their
// own budget on the shared history, so that the fleet's limit is the
// looser one's; this used to go unnoticed. Each names the other, its key
// and the field with both values, a warning is logged, and when the
// other leaves the mismatch clears (and that is logged too). The bucket
// data is unaffected (Snapshot reads only the buckets).
func TestConfigCheckReportsAnotherBudget(t *testing.T) {
	t.Parallel()
	cli := newClient(t)
	p := prefix(t)
	var logs syncbuf.Buffer
	lg := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	a, _ := runCheck(t, cli, p, "replica-a", ratelimit.Config{}, lg)
	b, stopB := runCheck(t, cli, p, "replica-b", ratelimit.Config{Down: ratelimit.Budget{Events: 10}}, nil)

	st := waitStatus(t, a, "replica-b disagrees", disagreeing("replica-b"))
	m := st.Mismatches[0]
	assert.Equal(t, p+"replicas/replica-b", m.Key)
	assert.Equal(t, p+"replicas/replica-b", b.Key())
	require.NoError(t, m.Err)
	assert.Equal(t, []etcdstore.ConfigDiff{{Field: "down.events", Mine: "5", Theirs: "10"}}, m.Fields)
	err := st.Conflict()
	require.ErrorIs(t, err, etcdstore.ErrConfigMismatch)
	require.ErrorContains(t, err, `replica replica-b (key "`+p+`replicas/replica-b"): down.events: 5 (here) vs 10`)
	stB := waitStatus(t, b, "replica-a disagrees", disagreeing("replica-a"))
	assert.Equal(t, []etcdstore.ConfigDiff{{Field: "down.events", Mine: "10", Theirs: "5"}}, stB.Mismatches[0].Fields)
	assert.True(t, etcdtest.Within(t, 60*time.Second, func() bool {
		return contains(logs.String(), "level=WARN", "another replica runs another shared configuration", p+"replicas/replica-b", "down.events: 5 (here) vs 10")
	}), "the mismatch is logged: %s", logs.String())

	s := newStore(t, cli, etcdstore.Config{Prefix: p})
	bs, err := s.Snapshot(t.Context())
	require.NoError(t, err, "the fingerprints are not read as buckets")
	assert.Empty(t, bs)

	stopB()
	st = waitStatus(t, a, "replica-b left", func(st etcdstore.ConfigStatus) bool { return st.Checked && st.Peers == 0 })
	assert.Empty(t, st.Mismatches)
	require.NoError(t, st.Conflict())
	assert.True(t, etcdtest.Within(t, 60*time.Second, func() bool {
		return contains(logs.String(), "level=INFO", "every live replica runs the same shared configuration again")
	}), "the agreement is logged: %s", logs.String())
}

func contains(s string, subs ...string) bool {
	for _, line := range strings.Split(s, "\n") {
		ok := true
		for _, sub := range subs {
			if !strings.Contains(line, sub) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// TestConfigCheckSameBudgetsAgree: a limiter of the zero Config and one
// with every default written out limit alike: no mismatch. The store's
// own settings (its timeouts, its lease) may differ per replica.
func TestConfigCheckSameBudgetsAgree(t *testing.T) {
	t.Parallel()
	cli := newClient(t)
	p := prefix(t)
	explicit := ratelimit.Budget{Events: ratelimit.DefaultEvents, Window: ratelimit.DefaultWindow, MaxUnits: ratelimit.DefaultMaxUnits, MinInterval: ratelimit.DefaultMinInterval}
	a, _ := runCheck(t, cli, p, "replica-a", ratelimit.Config{}, nil)
	s, err := etcdstore.New(etcdstore.Config{Prefix: p, RequestTimeout: 3 * time.Second, MaxRetries: 1, LeaseTTL: 30 * time.Hour}, cli)
	require.NoError(t, err)
	b, err := etcdstore.NewConfigCheck("replica-b", ratelimit.Config{
		Up: explicit, Down: explicit, History: ratelimit.DefaultHistory, MaxSkew: ratelimit.DefaultMaxSkew,
	}, s, cli)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() { cancel(); assert.NoError(t, <-done) })
	for _, c := range []*etcdstore.ConfigCheck{a, b} {
		st := waitStatus(t, c, "the other read", func(st etcdstore.ConfigStatus) bool { return st.Checked && st.Peers == 1 })
		assert.Empty(t, st.Mismatches)
	}
	assert.Equal(t, a.Status().Fingerprint.Hash, b.Status().Fingerprint.Hash)
}

// TestConfigCheckUnreadableFingerprint: a fingerprint another replica
// wrote that cannot be read is reported with an error naming its key,
// not a panic, and clears when the key goes.
func TestConfigCheckUnreadableFingerprint(t *testing.T) {
	t.Parallel()
	cli := newClient(t)
	p := prefix(t)
	key := p + "replicas/broken"
	_, err := cli.Put(t.Context(), key, `{"id":"broken","fingerprint":"sha256:1","config":`)
	require.NoError(t, err)
	a, _ := runCheck(t, cli, p, "replica-a", ratelimit.Config{}, nil)
	st := waitStatus(t, a, "broken read", disagreeing("broken"))
	require.ErrorIs(t, st.Mismatches[0].Err, etcdstore.ErrConfigFingerprint)
	require.ErrorContains(t, st.Mismatches[0].Err, `"`+key+`"`)
	err = st.Conflict()
	require.ErrorIs(t, err, etcdstore.ErrConfigMismatch)
	require.ErrorIs(t, err, etcdstore.ErrConfigFingerprint)

	_, err = cli.Delete(t.Context(), key)
	require.NoError(t, err)
	waitStatus(t, a, "broken gone", disagreeing())
}

// TestNewConfigCheckInvalid: a bad ID, limits or collaborator is an
// error naming the field.
func TestNewConfigCheckInvalid(t *testing.T) {
	t.Parallel()
	cli := newClient(t)
	s := newStore(t, cli, etcdstore.Config{})
	tests := []struct {
		name   string
		id     string
		limits ratelimit.Config
		s      *etcdstore.Store
		cli    *clientv3.Client
		field  string
	}{
		{"empty id", "", ratelimit.Config{}, s, cli, "id"},
		{"id with a slash", "a/b", ratelimit.Config{}, s, cli, "id"},
		{"id with a newline", "a\n", ratelimit.Config{}, s, cli, "id"},
		{"negative window", "a", ratelimit.Config{Up: ratelimit.Budget{Window: -time.Second}}, s, cli, "up.window"},
		{"no store", "a", ratelimit.Config{}, nil, cli, "store"},
		{"no client", "a", ratelimit.Config{}, s, nil, "client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := etcdstore.NewConfigCheck(tt.id, tt.limits, tt.s, tt.cli)
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
		})
	}
}

// TestConfigCheckStrictestBudget: a replica whose limiter allows 10
// scale-downs an hour, beside one that allows 2 on the same store, used
// to grant its 10 on the shared history; given its ConfigCheck
// (ratelimit.WithPeers), it holds the fleet to the stricter 2 while the
// other runs, and to its own once the other leaves.
func TestConfigCheckStrictestBudget(t *testing.T) {
	t.Parallel()
	cli := newClient(t)
	p := prefix(t)
	strict := ratelimit.Config{Down: ratelimit.Budget{Events: 2, MinInterval: -1}}
	loose := ratelimit.Config{Down: ratelimit.Budget{Events: 10, MinInterval: -1}}
	_, stopA := runCheck(t, cli, p, "replica-a", strict, nil)
	b, _ := runCheck(t, cli, p, "replica-b", loose, nil)
	waitStatus(t, b, "replica-a disagrees", disagreeing("replica-a"))
	lim, err := ratelimit.New(loose, ratelimit.WithStore(newStore(t, cli, etcdstore.Config{Prefix: p})), ratelimit.WithPeers(b))
	require.NoError(t, err)
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	req := ratelimit.Request{Target: "web", Direction: ratelimit.Down, Units: 1}
	var got []ratelimit.Outcome
	for i := range 3 {
		r, err := lim.ReserveAt(t.Context(), t0.Add(time.Duration(i)*time.Minute), req)
		require.NoError(t, err)
		got = append(got, r.Outcome)
	}
	assert.Equal(t, []ratelimit.Outcome{ratelimit.Allowed, ratelimit.Allowed, ratelimit.Denied}, got, "the strictest budget: 2 an hour")

	stopA()
	waitStatus(t, b, "replica-a left", disagreeing())
	r, err := lim.ReserveAt(t.Context(), t0.Add(3*time.Minute), req)
	require.NoError(t, err)
	assert.Equal(t, ratelimit.Allowed, r.Outcome, "its own budget again: 10 an hour")
}

// TestConfigCheckPrintsDurations: a budget's window or interval that
// differs is shown as a Go duration, as a host writes it, not in
// nanoseconds (3600000000000), and a rule that sets no limit as -1.
func TestConfigCheckPrintsDurations(t *testing.T) {
	t.Parallel()
	cli := newClient(t)
	p := prefix(t)
	a, _ := runCheck(t, cli, p, "replica-a", ratelimit.Config{}, nil)
	_, _ = runCheck(t, cli, p, "replica-b", ratelimit.Config{Global: ratelimit.Budget{MinInterval: time.Minute},
		Targets: map[string]ratelimit.TargetBudgets{"web-1": {Up: ratelimit.Budget{Window: 30 * time.Minute}}}}, nil)

	st := waitStatus(t, a, "replica-b disagrees", disagreeing("replica-b"))
	assert.Contains(t, st.Mismatches[0].Fields, etcdstore.ConfigDiff{Field: `targets["web-1"].up.window`, Theirs: "30m0s"})
	assert.Contains(t, st.Mismatches[0].Fields, etcdstore.ConfigDiff{Field: "global.min_interval", Mine: "-1", Theirs: "1m0s"})
	require.ErrorContains(t, st.Conflict(), `targets["web-1"].up.window: absent (here) vs 30m0s`)
}

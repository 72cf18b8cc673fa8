package etcdhistory_test

import (
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/idlescale/idlescale/internal/etcdkv"
	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/reaper"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/etcdhistory"
	"github.com/idlescale/idlescale/scaling"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// newHistory returns a History under the test's prefix on a new client,
// on a mock clock at t0.
func newHistory(t *testing.T, cfg etcdhistory.Config) (*etcdhistory.History, *clock.Mock) {
	t.Helper()
	if cfg.Prefix == "" {
		cfg.Prefix = etcdtest.KeyPrefix(t)
	}
	mock := clock.NewMock()
	mock.Set(t0)
	h, err := etcdhistory.New(cfg, cluster.Dial(t), etcdhistory.WithClock(mock))
	require.NoError(t, err)
	return h, mock
}

// TestHistory: ActedOn counts the units of a fleet's records at or after
// since (a record exactly at since counts, one a nanosecond before does
// not), fleets are apart (fleet "web" does not count "web/canary"), and
// records carry a lease of Keep + 2·Keep/30.
func TestHistory(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	h, _ := newHistory(t, etcdhistory.Config{Keep: time.Hour})
	require.NoError(t, h.Record("web", t0.Add(-40*time.Minute), 1))
	require.NoError(t, h.Record("web", t0.Add(-30*time.Minute), 2))
	require.NoError(t, h.Record("web", t0.Add(-30*time.Minute-time.Nanosecond), 4))
	require.NoError(t, h.Record("web/canary", t0.Add(-10*time.Minute), 8))
	require.NoError(t, h.RecordContext(ctx, "", t0.Add(-10*time.Minute), 16))

	for _, tt := range []struct {
		fleet string
		since time.Time
		want  int
	}{
		{"web", t0.Add(-time.Hour), 7},
		{"web", t0.Add(-30 * time.Minute), 2},
		{"web", t0.Add(-30*time.Minute - time.Nanosecond), 6},
		{"web", t0, 0},
		{"web/canary", t0.Add(-time.Hour), 8},
		{"web/", t0.Add(-time.Hour), 0},
		{"", t0.Add(-time.Hour), 16},
		{"db", t0.Add(-time.Hour), 0},
	} {
		got, err := h.ActedOn(ctx, tt.fleet, tt.since)
		require.NoError(t, err, tt.fleet)
		assert.Equal(t, tt.want, got, "fleet %q since %s", tt.fleet, tt.since)
	}

	resp, err := cluster.Dial(t).Get(ctx, h.Config().Prefix+"history/", clientv3.WithPrefix())
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 5)
	ttl, err := cluster.Dial(t).TimeToLive(ctx, clientv3.LeaseID(resp.Kvs[0].Lease))
	require.NoError(t, err)
	assert.Equal(t, int64(3840), ttl.GrantedTTL)
}

// TestSharedAndKeptAcrossRestarts: what one replica recorded, another
// counts, and so does a History made after a restart (a new client): the
// point of keeping the history outside the process.
func TestSharedAndKeptAcrossRestarts(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a, _ := newHistory(t, etcdhistory.Config{})
	b, _ := newHistory(t, etcdhistory.Config{})
	require.NoError(t, a.Record("web", t0.Add(-time.Minute), 3))
	require.NoError(t, b.Record("web", t0.Add(-time.Second), 2))
	for _, h := range []*etcdhistory.History{a, b} {
		n, err := h.ActedOn(ctx, "web", t0.Add(-time.Hour))
		require.NoError(t, err)
		assert.Equal(t, 5, n)
	}
	restarted, _ := newHistory(t, etcdhistory.Config{})
	n, err := restarted.ActedOn(ctx, "web", t0.Add(-time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 5, n)
}

// TestLimitsRuleHoldsAcrossReplicasAndRestarts: with the fleet share at
// half of a fleet of 10, a reaper that stopped 5 instances and restarted
// (or another replica) is blocked from a sixth, which a MemoryHistory
// per process allowed.
func TestLimitsRuleHoldsAcrossReplicasAndRestarts(t *testing.T) {
	t.Parallel()
	first, _ := newHistory(t, etcdhistory.Config{})
	for i := range 5 {
		require.NoError(t, first.Record("web", t0.Add(-time.Duration(i+1)*time.Minute), 1))
	}
	p := safety.Proposal{
		ID: "p-6", Action: safety.ActionStop, Requester: "reaper", Reason: "idle", Now: t0,
		Resource: provider.Resource{ID: "i-6", Kind: provider.KindInstance, State: provider.StateRunning},
		Fleet:    "web", FleetSize: 10,
	}
	check := func(h safety.ActionHistory) safety.Decision {
		rule, err := safety.NewLimitsRule(safety.LimitsConfig{}, h)
		require.NoError(t, err)
		eng, err := safety.New(safety.Config{}, []safety.Rule{rule})
		require.NoError(t, err)
		d, _ := eng.Evaluate(t.Context(), p)
		return d
	}
	restarted, _ := newHistory(t, etcdhistory.Config{})
	d := check(restarted)
	require.False(t, d.Allowed)
	assert.Equal(t, []string{"limits"}, d.BlockingRules())
	assert.Contains(t, d.Summary(), `fleet "web": 5 of 10 acted on in the last 1h0m0s, 1 more would make 60% (limit 50%)`)

	// The same stop in another fleet, or with the process's own memory,
	// is allowed.
	assert.True(t, check(&safety.MemoryHistory{}).Allowed)
	p.Fleet = "db"
	assert.True(t, check(restarted).Allowed)
}

// TestFailsClosed: with etcd unreachable, ActedOn and Record fail with
// ErrStore, and the limits rule blocks.
func TestFailsClosed(t *testing.T) {
	t.Parallel()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{"127.0.0.1:1"}, DialTimeout: 50 * time.Millisecond, Logger: zap.NewNop()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cli.Close() })
	h, err := etcdhistory.New(etcdhistory.Config{RequestTimeout: 50 * time.Millisecond, MaxRetries: -1}, cli)
	require.NoError(t, err)
	_, err = h.ActedOn(t.Context(), "web", time.Now().Add(-time.Hour))
	require.ErrorIs(t, err, etcdhistory.ErrStore)
	require.ErrorIs(t, h.Record("web", time.Now(), 1), etcdhistory.ErrStore)

	rule, err := safety.NewLimitsRule(safety.LimitsConfig{}, h)
	require.NoError(t, err)
	eng, err := safety.New(safety.Config{}, []safety.Rule{rule})
	require.NoError(t, err)
	d, err := eng.Evaluate(t.Context(), safety.Proposal{
		ID: "p", Action: safety.ActionStop, Requester: "reaper", Reason: "idle", Now: time.Now(),
		Resource: provider.Resource{ID: "i-1", Kind: provider.KindInstance, State: provider.StateRunning},
		Fleet:    "web", FleetSize: 10,
	})
	require.ErrorIs(t, err, safety.ErrBlocked)
	assert.Equal(t, []string{"limits"}, d.BlockingRules())
	require.ErrorIs(t, err, etcdhistory.ErrStore)
}

// TestBadInput: every bad input gets an error naming it, never a silent
// default: units below 1, a zero time, a since the history may have
// forgotten (before now − Keep: a Keep shorter than the limits window),
// a record that does not hold a count, and an invalid config or client.
func TestBadInput(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	h, mock := newHistory(t, etcdhistory.Config{Keep: time.Hour})
	for _, tt := range []struct {
		name  string
		err   error
		field string
	}{
		{"zero units", h.Record("web", t0, 0), "units"},
		{"negative units", h.Record("web", t0, -1), "units"},
		{"zero time", h.Record("web", time.Time{}, 1), "at"},
		{"before 1970", h.Record("web", time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC), 1), "at"},
		{"after 2262", h.Record("web", time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), 1), "at"},
	} {
		var ie *provider.InvalidError
		require.ErrorAs(t, tt.err, &ie, tt.name)
		assert.Equal(t, tt.field, ie.Field, tt.name)
	}

	_, err := h.ActedOn(ctx, "web", mock.Now().Add(-time.Hour))
	require.NoError(t, err, "exactly Keep back")
	_, err = h.ActedOn(ctx, "web", mock.Now().Add(-time.Hour-2*time.Minute))
	require.NoError(t, err, "exactly Keep + Keep/30 back")
	_, err = h.ActedOn(ctx, "web", mock.Now().Add(-time.Hour-2*time.Minute-time.Nanosecond))
	require.ErrorIs(t, err, provider.ErrInvalid)
	assert.Contains(t, err.Error(), "the history keeps 1h0m0s (Config.Keep)")
	_, err = h.ActedOn(ctx, "web", time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC))
	require.ErrorIs(t, err, provider.ErrInvalid, "past the times a key holds")
	rule, err := safety.NewLimitsRule(safety.LimitsConfig{Window: 2 * time.Hour}, h)
	require.NoError(t, err)
	eng, err := safety.New(safety.Config{}, []safety.Rule{rule})
	require.NoError(t, err)
	d, _ := eng.Evaluate(ctx, safety.Proposal{
		ID: "p", Action: safety.ActionStop, Requester: "reaper", Reason: "idle", Now: mock.Now(),
		Resource: provider.Resource{ID: "i-1", Kind: provider.KindInstance, State: provider.StateRunning},
		Fleet:    "web", FleetSize: 10,
	})
	assert.Equal(t, []string{"limits"}, d.BlockingRules(), "a window longer than Keep blocks")

	cli := cluster.Dial(t)
	_, err = cli.Put(ctx, h.Config().Prefix+"history/bad/"+strconv.FormatInt(t0.UnixNano(), 10)+"-x", "two")
	require.NoError(t, err)
	_, err = h.ActedOn(ctx, "bad", mock.Now().Add(-time.Minute))
	require.ErrorIs(t, err, etcdhistory.ErrStore)
	assert.Contains(t, err.Error(), `holds "two", not a count of instances`)

	for _, cfg := range []etcdhistory.Config{{Keep: time.Minute}, {}} {
		_, err := etcdhistory.New(cfg, cli)
		require.NoError(t, err, "%+v", cfg)
	}
	for _, cfg := range []etcdhistory.Config{{Keep: -time.Hour}, {Keep: time.Minute - time.Nanosecond}, {Keep: time.Second}, {RequestTimeout: -1}, {Prefix: "a\x00b"}} {
		_, err := etcdhistory.New(cfg, cli)
		require.ErrorIs(t, err, provider.ErrInvalid, "%+v", cfg)
	}
	_, err = etcdhistory.New(etcdhistory.Config{}, nil)
	require.ErrorIs(t, err, provider.ErrInvalid)
	var nilClient *clientv3.Client
	_, err = etcdhistory.New(etcdhistory.Config{}, nilClient)
	require.ErrorIs(t, err, provider.ErrInvalid)
}

// TestKeepEqualToWindow: a Keep equal to the limits window, which Keep's
// doc allows, answers a proposal whose Now lags the history's clock (the
// reaper's is up to a minute old when the rule reads the history; on a
// real clock it always lags): ActedOn refused every such since, and the
// rule blocked every disruptive action.
func TestKeepEqualToWindow(t *testing.T) {
	t.Parallel()
	h, mock := newHistory(t, etcdhistory.Config{Keep: time.Hour})
	require.NoError(t, h.Record("web", t0.Add(-30*time.Minute), 2))
	rule, err := safety.NewLimitsRule(safety.LimitsConfig{Window: time.Hour, MaxFleetShare: 0.5}, h)
	require.NoError(t, err)
	eng, err := safety.New(safety.Config{}, []safety.Rule{rule})
	require.NoError(t, err)
	p := safety.Proposal{
		ID: "p", Action: safety.ActionStop, Requester: "reaper", Reason: "idle", Now: t0,
		Resource: provider.Resource{ID: "i-1", Kind: provider.KindInstance, State: provider.StateRunning},
		Fleet:    "web", FleetSize: 10,
	}
	mock.Add(time.Minute) // the proposal was made a minute ago
	d, err := eng.Evaluate(t.Context(), p)
	require.NoError(t, err)
	assert.True(t, d.Allowed, "2 of 10 acted on, 1 more is 30%%: %s", d.Summary())
	p.FleetPlanned = 3 // the count is read: 2 recorded + 3 + 1 is 60%
	d, _ = eng.Evaluate(t.Context(), p)
	assert.Equal(t, []string{"limits"}, d.BlockingRules())
	assert.Contains(t, d.Summary(), `fleet "web": 5 of 10 acted on in the last 1h0m0s (3 of them planned, not yet recorded), 1 more would make 60% (limit 50%)`)
}

// TestKeepOfCenturies: a Keep near the longest Duration (a host that
// means "forever") answers, its grace not wrapping around to refuse every
// since, and records get etcd's longest lease.
func TestKeepOfCenturies(t *testing.T) {
	t.Parallel()
	for i, keep := range []time.Duration{math.MaxInt64, etcdkv.MaxTTL, etcdkv.MaxTTL - time.Hour} {
		h, _ := newHistory(t, etcdhistory.Config{Keep: keep, Prefix: etcdtest.KeyPrefix(t) + strconv.Itoa(i) + "/"})
		require.NoError(t, h.Record("web", t0.Add(-time.Minute), 3), keep)
		n, err := h.ActedOn(t.Context(), "web", t0.Add(-time.Hour))
		require.NoError(t, err, keep)
		assert.Equal(t, 3, n, keep)
	}
}

// TestSumSaturates: a count beyond math.MaxInt is math.MaxInt, not a
// negative number that would let the rule act.
func TestSumSaturates(t *testing.T) {
	t.Parallel()
	h, _ := newHistory(t, etcdhistory.Config{})
	require.NoError(t, h.Record("web", t0.Add(-time.Minute), math.MaxInt))
	require.NoError(t, h.Record("web", t0.Add(-time.Second), 2))
	n, err := h.ActedOn(t.Context(), "web", t0.Add(-time.Hour))
	require.NoError(t, err)
	assert.Equal(t, math.MaxInt, n)
}

// A History is what the reaper and the scaling engine record in.
var (
	_ reaper.HistoryRecorder = (*etcdhistory.History)(nil)
	_ scaling.ActionRecorder = (*etcdhistory.History)(nil)
)

// TestWithClockTimesLeases: records share one lease until Keep/30 has
// passed on the history's clock, and then get a new one; the lease is
// Keep + 2·Keep/30 long, so that a record lives Keep + Keep/30 at least.
func TestWithClockTimesLeases(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cli := cluster.Dial(t)
	// A long request timeout: a retry would wait for its backoff on the
	// mock clock, which this test moves only twice.
	h, mock := newHistory(t, etcdhistory.Config{Keep: 30 * time.Hour, RequestTimeout: time.Minute})
	n := 0
	leaseOfNext := func() clientv3.LeaseID {
		t.Helper()
		n++
		require.NoError(t, h.Record("web", t0.Add(time.Duration(n)*time.Second), 1))
		resp, err := cli.Get(ctx, h.Config().Prefix+"history/", clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortDescend))
		require.NoError(t, err)
		require.Len(t, resp.Kvs, n)
		require.NotZero(t, resp.Kvs[0].Lease)
		return clientv3.LeaseID(resp.Kvs[0].Lease)
	}
	first := leaseOfNext()
	assert.Equal(t, first, leaseOfNext(), "the clock did not move: same lease")
	mock.Add(time.Hour - time.Nanosecond)
	assert.Equal(t, first, leaseOfNext(), "just under Keep/30: same lease")
	mock.Add(time.Nanosecond)
	second := leaseOfNext()
	assert.NotEqual(t, first, second, "Keep/30 passed on the history's clock: a new lease")
	ttl, err := cli.TimeToLive(ctx, second)
	require.NoError(t, err)
	assert.Equal(t, int64(32*3600), ttl.GrantedTTL)
}

// TestNewRefusesNilClockPointer: a nil *clock.Mock is not a nil Clock,
// and the first Record would panic on it; New refuses it, naming it, as
// the library's other etcd stores do.
func TestNewRefusesNilClockPointer(t *testing.T) {
	t.Parallel()
	var err error
	require.NotPanics(t, func() {
		var h *etcdhistory.History
		h, err = etcdhistory.New(etcdhistory.Config{Prefix: etcdtest.KeyPrefix(t)}, cluster.Dial(t), etcdhistory.WithClock((*clock.Mock)(nil)))
		if err == nil {
			err = h.Record("web", time.Now(), 1)
		}
	})
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "clock", ie.Field)
}

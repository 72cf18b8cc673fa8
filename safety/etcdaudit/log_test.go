package etcdaudit_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/approval"
	"github.com/idlescale/idlescale/safety/approval/approvaltest"
	"github.com/idlescale/idlescale/safety/etcdaudit"
)

func TestLog(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cli := cluster.Dial(t)
	log, err := etcdaudit.New(etcdaudit.Config{Prefix: etcdtest.KeyPrefix(t), Retention: time.Hour}, cli)
	require.NoError(t, err)
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for i, kind := range []safety.AuditKind{safety.AuditDecision, safety.AuditApprovalRequested, safety.AuditApprovalDenied} {
		require.NoError(t, log.Record(ctx, safety.AuditEvent{Time: t0.Add(time.Duration(i) * time.Minute), Kind: kind,
			Actor: "reaper", ResourceID: "i-1", Rules: []string{"critical"}}))
	}
	all, err := log.Events(ctx, time.Time{})
	require.NoError(t, err)
	require.Len(t, all, 3)
	assert.Equal(t, safety.AuditApprovalDenied, all[2].Kind)
	assert.Equal(t, []string{"critical"}, all[0].Rules)
	assert.True(t, all[1].Time.Equal(t0.Add(time.Minute)))
	since, err := log.Events(ctx, t0.Add(time.Minute))
	require.NoError(t, err)
	assert.Len(t, since, 2)

	// Events carry a lease of the retention (+1/30).
	resp, err := cli.Get(ctx, etcdtest.KeyPrefix(t)+"audit/", clientv3.WithPrefix())
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 3)
	ttl, err := cli.TimeToLive(ctx, clientv3.LeaseID(resp.Kvs[0].Lease))
	require.NoError(t, err)
	assert.Equal(t, int64(3720), ttl.GrantedTTL)

	require.ErrorIs(t, log.Record(ctx, safety.AuditEvent{Kind: safety.AuditDecision}), provider.ErrInvalid)
}

// Events come back in commit order, not in the order of their times: a
// replica whose clock lags records an event stamped earlier, after.
func TestEventsInCommitOrder(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	log, err := etcdaudit.New(etcdaudit.Config{Prefix: etcdtest.KeyPrefix(t)}, cluster.Dial(t))
	require.NoError(t, err)
	other, err := etcdaudit.New(etcdaudit.Config{Prefix: etcdtest.KeyPrefix(t)}, cluster.Dial(t))
	require.NoError(t, err)
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	require.NoError(t, log.Record(ctx, safety.AuditEvent{Time: t0, Kind: safety.AuditDecision, ResourceID: "first"}))
	require.NoError(t, other.Record(ctx, safety.AuditEvent{Time: t0.Add(-time.Second), Kind: safety.AuditDecision, ResourceID: "second"}))
	for _, l := range []*etcdaudit.Log{log, other} {
		evs, err := l.Events(ctx, time.Time{})
		require.NoError(t, err)
		require.Len(t, evs, 2)
		assert.Equal(t, "first", evs[0].ResourceID)
		assert.Equal(t, "second", evs[1].ResourceID)
	}
}

func TestFailsClosed(t *testing.T) {
	t.Parallel()
	dead := etcdtest.Dial(t, "http://127.0.0.1:1")
	log, err := etcdaudit.New(etcdaudit.Config{RequestTimeout: 50 * time.Millisecond, MaxRetries: 1}, dead)
	require.NoError(t, err)
	err = log.Record(t.Context(), safety.AuditEvent{Time: time.Now(), Kind: safety.AuditDecision})
	require.ErrorIs(t, err, etcdaudit.ErrStore)
	_, err = log.Events(t.Context(), time.Time{})
	require.ErrorIs(t, err, etcdaudit.ErrStore)

	// An approval manager whose auditor cannot record fails closed
	// (safety's contract): the approval call reports ErrAudit.
	ap, err := approval.New(approval.Config{}, approval.NewMemoryStore(), approval.WithAuditor(log))
	require.NoError(t, err)
	p := approvaltest.Request("z", "i-3", 0).Proposal
	_, err = ap.Request(t.Context(), p, safety.Decision{ResourceID: p.Resource.ID, Action: p.Action, Now: p.Now, Fingerprint: p.Fingerprint(),
		ApprovalRequired: true, Risk: safety.RiskHigh}, "")
	require.ErrorIs(t, err, safety.ErrAudit)
	require.ErrorIs(t, err, etcdaudit.ErrStore)

	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	err = log.Record(cancelled, safety.AuditEvent{Time: time.Now()})
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, etcdaudit.ErrStore, "an ended context is not an etcd failure")
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		give  etcdaudit.Config
		field string
	}{
		{"negative timeout", etcdaudit.Config{RequestTimeout: -1}, "request_timeout"},
		{"NUL in prefix", etcdaudit.Config{Prefix: "a\x00"}, "prefix"},
		{"retention under 1m", etcdaudit.Config{Retention: time.Minute - time.Second}, "retention"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := etcdaudit.New(tt.give, cluster.Dial(t))
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
		})
	}
	require.NoError(t, etcdaudit.Config{Retention: time.Minute}.Validate(), "1m is the minimum")
	require.NoError(t, etcdaudit.Config{Retention: -1}.Validate(), "negative: kept until deleted")
	var nilCli *clientv3.Client
	for _, cli := range []etcdaudit.Client{nil, nilCli} {
		_, err := etcdaudit.New(etcdaudit.Config{}, cli)
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, "client", ie.Field)
	}
}

// A negative Retention writes events without a lease.
func TestNoRetention(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cli := cluster.Dial(t)
	log, err := etcdaudit.New(etcdaudit.Config{Prefix: etcdtest.KeyPrefix(t), Retention: -1}, cli)
	require.NoError(t, err)
	require.NoError(t, log.Record(ctx, safety.AuditEvent{Time: time.Now(), Kind: safety.AuditDecision}))
	resp, err := cli.Get(ctx, etcdtest.KeyPrefix(t)+"audit/", clientv3.WithPrefix())
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1)
	assert.Zero(t, resp.Kvs[0].Lease)
}

// WithClock wires the clock that times lease renewal: while the clock
// stands still every event reuses one lease; once Retention/30 (1 day of
// the default 30) has passed on it, the next event gets a new one.
func TestWithClockTimesLeases(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cli := cluster.Dial(t)
	mock := clock.NewMock()
	// A long request timeout: a retry would wait for its backoff on the
	// mock clock, which this test moves only twice.
	log, err := etcdaudit.New(etcdaudit.Config{Prefix: etcdtest.KeyPrefix(t), RequestTimeout: time.Minute}, cli, etcdaudit.WithClock(mock))
	require.NoError(t, err)
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	n := 0
	leaseOfNext := func() int64 {
		t.Helper()
		n++
		require.NoError(t, log.Record(ctx, safety.AuditEvent{Time: t0.Add(time.Duration(n) * time.Second), Kind: safety.AuditDecision}))
		resp, err := cli.Get(ctx, etcdtest.KeyPrefix(t)+"audit/", clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortDescend))
		require.NoError(t, err)
		require.Len(t, resp.Kvs, n)
		require.NotZero(t, resp.Kvs[0].Lease)
		return resp.Kvs[0].Lease
	}
	first := leaseOfNext()
	assert.Equal(t, first, leaseOfNext(), "the clock did not move: same lease")
	mock.Add(24*time.Hour - time.Nanosecond)
	assert.Equal(t, first, leaseOfNext(), "just under Retention/30: same lease")
	mock.Add(time.Nanosecond)
	assert.NotEqual(t, first, leaseOfNext(), "Retention/30 passed on the log's clock: a new lease")
}

// An event's key holds its time in Unix nanoseconds, which wrap around
// outside 1677-09-21 .. 2262-04-11: an event stamped in 2300 (a clock
// far off) was stored under a key before 1970 and Events since any
// later time left it out; one stamped in 1600 came back as if it were
// later than 2026. Such times are refused (the gate then fails closed),
// and every event Record stores is returned by Events since its time.
func TestEventTimeOutsideUnixNanoseconds(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	log, err := etcdaudit.New(etcdaudit.Config{Prefix: etcdtest.KeyPrefix(t)}, cluster.Dial(t))
	require.NoError(t, err)
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{
		time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(0, math.MaxInt64).Add(time.Nanosecond),
		time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		err := log.Record(ctx, safety.AuditEvent{Time: at, Kind: safety.AuditDecision, ResourceID: "far"})
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, "%v", at)
		assert.Equal(t, "event.time", ie.Field)
	}
	last := time.Unix(0, math.MaxInt64)
	require.NoError(t, log.Record(ctx, safety.AuditEvent{Time: last, Kind: safety.AuditDecision, ResourceID: "last"}))
	evs, err := log.Events(ctx, t0)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	assert.Equal(t, "last", evs[0].ResourceID)
	assert.True(t, evs[0].Time.Equal(last))
}

// Events since a time outside the range of Unix nanoseconds: since 1600
// is every event (its nanoseconds wrapped to 2184, and Events returned
// none), since 2300 is none (they wrapped to before 1970, and Events
// returned all).
func TestEventsSinceOutsideUnixNanoseconds(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	log, err := etcdaudit.New(etcdaudit.Config{Prefix: etcdtest.KeyPrefix(t)}, cluster.Dial(t))
	require.NoError(t, err)
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	last := time.Unix(0, math.MaxInt64)
	require.NoError(t, log.Record(ctx, safety.AuditEvent{Time: t0, Kind: safety.AuditDecision, ResourceID: "now"}))
	require.NoError(t, log.Record(ctx, safety.AuditEvent{Time: last, Kind: safety.AuditDecision, ResourceID: "last"}))
	for _, tt := range []struct {
		since time.Time
		want  int
	}{
		{time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC), 2},
		{time.Unix(0, math.MinInt64), 2},
		{t0, 2},
		{last, 1},
		{last.Add(time.Nanosecond), 0},
		{time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), 0},
	} {
		evs, err := log.Events(ctx, tt.since)
		require.NoError(t, err)
		assert.Len(t, evs, tt.want, "since %v", tt.since)
	}
}

// A nil *clock.Mock passed to WithClock is not a nil Clock, but the first
// Record read it and panicked: New refuses it, naming it.
func TestNewRefusesNilClockPointer(t *testing.T) {
	t.Parallel()
	var err error
	require.NotPanics(t, func() {
		var log *etcdaudit.Log
		log, err = etcdaudit.New(etcdaudit.Config{Prefix: etcdtest.KeyPrefix(t)}, cluster.Dial(t), etcdaudit.WithClock((*clock.Mock)(nil)))
		if err == nil {
			err = log.Record(t.Context(), safety.AuditEvent{Time: time.Now(), Kind: safety.AuditDecision})
		}
	})
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "clock", ie.Field)
}

// Events before 1970 share the key time 0: Events since a time before
// 1970 returned them all, also those before since.
func TestEventsSinceBefore1970(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	log, err := etcdaudit.New(etcdaudit.Config{Prefix: etcdtest.KeyPrefix(t)}, cluster.Dial(t))
	require.NoError(t, err)
	for _, y := range []int{1960, 1969, 2026} {
		at := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
		require.NoError(t, log.Record(ctx, safety.AuditEvent{Time: at, Kind: safety.AuditDecision, ResourceID: fmt.Sprint(y)}))
	}
	for _, tt := range []struct {
		since time.Time
		want  []string
	}{
		{time.Time{}, []string{"1960", "1969", "2026"}},
		{time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), []string{"1960", "1969", "2026"}},
		{time.Date(1965, 1, 1, 0, 0, 0, 0, time.UTC), []string{"1969", "2026"}},
		{time.Date(1969, 1, 1, 0, 0, 0, 1, time.UTC), []string{"2026"}},
	} {
		evs, err := log.Events(ctx, tt.since)
		require.NoError(t, err)
		var got []string
		for _, ev := range evs {
			got = append(got, ev.ResourceID)
		}
		assert.Equal(t, tt.want, got, "since %v", tt.since)
	}
}

// TestEventsAfterARevisionAheadOfTheStore: a revision the store has not
// reached (etcd restored from an older snapshot, another cluster's) is
// ErrStore naming both revisions, never an empty read that would skip
// the events committed until the store reaches it.
func TestEventsAfterARevisionAheadOfTheStore(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	log, err := etcdaudit.New(etcdaudit.Config{Prefix: etcdtest.KeyPrefix(t)}, cluster.Dial(t))
	require.NoError(t, err)
	require.NoError(t, log.Record(ctx, safety.AuditEvent{Time: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), Kind: safety.AuditDecision, ResourceID: "i-1"}))
	evs, next, err := log.EventsAfter(ctx, 0)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	ahead := next + 1_000_000_000
	evs, got, err := log.EventsAfter(ctx, ahead)
	require.ErrorIs(t, err, etcdaudit.ErrStore)
	require.ErrorContains(t, err, fmt.Sprintf("revision %d is ahead of the store's", ahead))
	// Told apart from etcd failing, which a follower retries with the
	// same revision: retried so, this one reads nothing until the store
	// reaches it, and then skips what was committed meanwhile.
	require.ErrorIs(t, err, etcdaudit.ErrRevisionAhead)
	_, _, err = log.EventsAfter(ctx, next)
	require.NotErrorIs(t, err, etcdaudit.ErrRevisionAhead)
	assert.Empty(t, evs)
	assert.Equal(t, ahead, got, "next is rev on an error")
	evs, got, err = log.EventsAfter(ctx, next)
	require.NoError(t, err, "the store's own revision is no error")
	assert.Empty(t, evs)
	assert.GreaterOrEqual(t, got, next)
}

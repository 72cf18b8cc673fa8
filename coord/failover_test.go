package coord_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/coord"
	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/ratelimit/etcdstore"
)

// replica is one copy of a host: an etcd client, an elector and a limiter
// on the shared etcd history.
type replica struct {
	name string
	cli  *clientv3.Client
	el   *coord.Elector
	lim  *ratelimit.Limiter
}

var failoverCfg = ratelimit.Config{Up: ratelimit.Budget{Events: 10, MinInterval: time.Second}}

func newReplica(t *testing.T, name, pfx string, endpoints ...string) *replica {
	t.Helper()
	cli := client(t, endpoints...)
	el, err := coord.NewElector(coord.ElectorConfig{Scope: "fleet", ID: name, Prefix: pfx + "election/", SessionTTL: 2 * time.Second,
		RequestTimeout: 300 * time.Millisecond}, cli)
	require.NoError(t, err)
	// The store's default timeouts and retries: a loaded host must not
	// fail the test (make stress).
	store, err := etcdstore.New(etcdstore.Config{Prefix: pfx + "ratelimit/"}, cli)
	require.NoError(t, err)
	lim, err := ratelimit.New(failoverCfg, ratelimit.WithStore(store))
	require.NoError(t, err)
	return &replica{name: name, cli: cli, el: el, lim: lim}
}

// runUntilElected runs the replica's elector in the background and sends
// each leadership term on the returned channel; stop ends the Run loop and
// waits for it.
func (r *replica) runUntilElected(t *testing.T) (<-chan *coord.Leadership, func()) {
	t.Helper()
	elected := make(chan *coord.Leadership, 1)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- r.el.Run(ctx, func(lctx context.Context, l *coord.Leadership) error {
			select {
			case elected <- l:
			case <-lctx.Done():
				return nil
			}
			<-lctx.Done()
			return nil
		})
	}()
	return elected, func() {
		cancel()
		assert.NoError(t, <-done)
	}
}

// actAsLeader waits for r's leadership and acts once under it: reserve
// budget, then the fenced write. A term that ends before the write (r's
// own session can lapse while the cluster elects a new raft leader) is
// handled as the protocol says: refund, and act in the next term. It
// returns the reservation acted on and how many terms it took.
func (r *replica) actAsLeader(t *testing.T, elected <-chan *coord.Leadership, pfx string, now time.Time, timeout time.Duration) (ratelimit.Reservation, *coord.Leadership, int) {
	t.Helper()
	deadline := time.After(timeout)
	for terms := 1; ; terms++ {
		var l *coord.Leadership
		select {
		case l = <-elected:
		case <-deadline:
			t.Fatalf("%s did not act as leader within %v", r.name, timeout)
		}
		res := r.reserve(t, now)
		err := r.write(t.Context(), l, pfx, res)
		if err == nil {
			return res, l, terms
		}
		require.ErrorIs(t, err, coord.ErrFenced)
		require.NoError(t, r.lim.CancelAt(t.Context(), now, res))
		t.Logf("%s: term %d ended before its write; refunded and waiting for the next", r.name, terms)
	}
}

// act is a leader's scaling action: reserve budget, then write the
// action fenced by the leadership; a refused write refunds the budget.
func (r *replica) reserve(t *testing.T, now time.Time) ratelimit.Reservation {
	t.Helper()
	res, err := r.lim.ReserveAt(t.Context(), now, ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 1})
	require.NoError(t, err)
	require.True(t, res.OK(), "%s: %s", r.name, res)
	return res
}

// write is the leader's fenced action for res. A member change can fail a
// request without a retry by the client (ErrStore); the put is idempotent
// (same key, same value), so it is retried for up to 10s. ErrFenced and
// success are final.
func (r *replica) write(ctx context.Context, l *coord.Leadership, pfx string, res ratelimit.Reservation) error {
	key := fmt.Sprintf("%sactions/%d", pfx, res.ID)
	var err error
	deadline := time.Now().Add(10 * time.Second)
	for {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err = l.Fence().Do(rctx, r.cli, nil, clientv3.OpPut(key, r.name))
		cancel()
		if !errors.Is(err, coord.ErrStore) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// retry calls f until it succeeds or 10s pass: requests that meet a raft
// election fail and the client does not retry them.
func retry(t *testing.T, f func(ctx context.Context) error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		err := f(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still failing after 10s: %v", err)
		}
		select {
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// checkLedger asserts that the limiter history and the actions hold the
// same events, each once.
func checkLedger(t *testing.T, cli *clientv3.Client, pfx string, want ...ratelimit.Reservation) {
	t.Helper()
	ctx := t.Context()
	store, err := etcdstore.New(etcdstore.Config{Prefix: pfx + "ratelimit/"}, cli)
	require.NoError(t, err)
	bs, err := store.Snapshot(ctx)
	require.NoError(t, err)
	var history []string
	for _, b := range bs {
		for _, e := range b.History.Events {
			history = append(history, fmt.Sprint(e.ID))
		}
	}
	resp, err := cli.Get(ctx, pfx+"actions/", clientv3.WithPrefix())
	require.NoError(t, err)
	var actions []string
	for _, kv := range resp.Kvs {
		actions = append(actions, string(kv.Key[len(pfx+"actions/"):]))
	}
	var wantIDs []string
	for _, r := range want {
		wantIDs = append(wantIDs, fmt.Sprint(r.ID))
	}
	slices.Sort(history)
	slices.Sort(actions)
	slices.Sort(wantIDs)
	assert.Equal(t, wantIDs, history, "limiter history: every acted event once, the refused one refunded")
	assert.Equal(t, wantIDs, actions, "actions: the fenced one refused")
}

// TestFailover stops the member the leader is connected to and kills the
// leader's session: the other replica leads within a bounded time, the
// deposed leader's in-flight action is refused, and the budget history
// matches the actions exactly.
func TestFailover(t *testing.T) {
	t.Parallel()
	c := etcdtest.New(t, etcdtest.Options{Members: 3})
	pfx := prefix(t)
	m := c.Members
	a := newReplica(t, "a", pfx, m[0].ClientURL)
	b := newReplica(t, "b", pfx, m[1].ClientURL, m[2].ClientURL)
	ctx := t.Context()
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

	la, err := a.el.Campaign(ctx)
	require.NoError(t, err)
	r1 := a.reserve(t, now)
	require.NoError(t, a.write(ctx, la, pfx, r1))

	// b waits for the leadership.
	elected, stopB := b.runUntilElected(t)
	defer stopB()

	// a reserves for its next action; before it writes, its member dies
	// and its session is killed.
	r2 := a.reserve(t, now.Add(2*time.Second))
	start := time.Now()
	stopped := make(chan struct{})
	go func() { // a graceful stop takes seconds while a's streams drain
		defer close(stopped)
		m[0].Stop()
	}()
	retry(t, func(ctx context.Context) error {
		_, err := b.cli.Revoke(ctx, la.Lease())
		if errors.Is(err, rpctypes.ErrLeaseNotFound) {
			return nil // an earlier attempt went through
		}
		return err
	})

	r3, _, terms := b.actAsLeader(t, elected, pfx, now.Add(4*time.Second), 10*time.Second)
	took := time.Since(start)
	t.Logf("failover: b elected and acted %v after a's member stopped and its session was revoked (%d term(s))", took, terms)
	assert.Less(t, took, 5*time.Second)

	<-stopped
	// a reconnects to the surviving members and tries its in-flight
	// action: the fence refuses it, and a refunds the reservation.
	a2 := newReplica(t, "a", pfx, m[1].ClientURL, m[2].ClientURL)
	err = a2.write(ctx, la, pfx, r2)
	require.ErrorIs(t, err, coord.ErrFenced)
	require.NoError(t, a2.lim.CancelAt(ctx, now.Add(5*time.Second), r2))

	// a's session ends on its side too, within its TTL.
	require.True(t, etcdtest.Within(t, 5*time.Second, func() bool {
		select {
		case <-la.Done():
			return true
		default:
			return false
		}
	}), "a's leadership ends")

	checkLedger(t, b.cli, pfx, r1, r3)
}

// TestCrashedLeaderMember moves raft leadership to a member running in a
// child process, puts the replica leader on it, and kills it with
// SIGKILL: the cluster elects a new raft leader, the replica's session
// expires after its TTL, the other replica leads, and nothing committed
// before the crash is lost.
func TestCrashedLeaderMember(t *testing.T) {
	t.Parallel()
	c := etcdtest.New(t, etcdtest.Options{Members: 3, Child: []int{0}})
	pfx := prefix(t)
	m := c.Members
	ctx := t.Context()
	require.NotZero(t, m[0].Pid())

	// Move raft leadership to the child member: MoveLeader must be sent
	// to the current leader.
	admin := client(t, m[1].ClientURL, m[2].ClientURL, m[0].ClientURL)
	childID, err := m[0].ID(ctx, admin)
	require.NoError(t, err)
	direct := make([]*clientv3.Client, len(m))
	for i, mm := range m {
		direct[i] = client(t, mm.ClientURL)
	}
	moved := etcdtest.Within(t, 10*time.Second, func() bool {
		for i, mm := range m {
			st, err := admin.Status(ctx, mm.ClientURL)
			if err != nil {
				return false
			}
			if st.Leader == childID {
				return true
			}
			if st.Header.MemberId == st.Leader {
				mctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				_, _ = direct[i].MoveLeader(mctx, childID)
				cancel()
				return false
			}
		}
		return false
	})
	require.True(t, moved, "raft leadership moved to the child member")

	a := newReplica(t, "a", pfx, m[0].ClientURL)
	b := newReplica(t, "b", pfx, m[1].ClientURL, m[2].ClientURL)
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	la, err := a.el.Campaign(ctx)
	require.NoError(t, err)
	r1 := a.reserve(t, now)
	require.NoError(t, a.write(ctx, la, pfx, r1))
	r2 := a.reserve(t, now.Add(2*time.Second)) // in flight at the crash

	elected, stopB := b.runUntilElected(t)
	defer stopB()
	start := time.Now()
	require.NoError(t, m[0].Kill())

	r3, _, terms := b.actAsLeader(t, elected, pfx, now.Add(4*time.Second), 20*time.Second)
	took := time.Since(start)
	t.Logf("crash: b elected and acted %v after SIGKILL of the raft leader (session TTL 2s, %d term(s))", took, terms)
	assert.Less(t, took, 15*time.Second)

	a2 := newReplica(t, "a", pfx, m[1].ClientURL, m[2].ClientURL)
	require.ErrorIs(t, a2.write(ctx, la, pfx, r2), coord.ErrFenced)
	require.NoError(t, a2.lim.CancelAt(ctx, now.Add(5*time.Second), r2))
	checkLedger(t, b.cli, pfx, r1, r3)
}

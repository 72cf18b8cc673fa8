package etcdstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	benclock "github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/detector/etcdstore"
	"github.com/idlescale/idlescale/internal/etcdtest"
)

// retryingMock is a mock clock for a store whose backoffs do not wait:
// Now is the mock's, which the test moves to date the ledger's grants,
// and After fires at once. A request that times out on a loaded machine
// (RequestTimeout is on the real clock) is retried after a backoff on the
// store's clock, and on a *benclock.Mock alone, which only the test
// moves, that backoff never ended: the Save hung until the test's
// deadline ("context ended after 1 attempts: context deadline exceeded
// (last error: grant lease: context deadline exceeded)").
type retryingMock struct{ *benclock.Mock }

func (c retryingMock) After(time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	ch <- c.Now()
	return ch
}

// moveLeader makes another member etcd's leader and waits until the
// cluster reports the new one: etcd gives every lease its whole TTL again
// at a leader change (without lease checkpoints).
func moveLeader(ctx context.Context, t *testing.T, c *etcdtest.Cluster, cli *clientv3.Client) {
	t.Helper()
	direct := make([]*clientv3.Client, len(c.Members))
	for i, m := range c.Members {
		direct[i] = c.Client(t, m.ClientURL)
	}
	var from uint64
	moved := etcdtest.Within(t, 20*time.Second, func() bool {
		for i, m := range c.Members {
			sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			st, err := cli.Status(sctx, m.ClientURL)
			cancel()
			if err != nil {
				return false
			}
			if from != 0 && st.Leader != 0 && st.Leader != from {
				return true
			}
			if st.Header.MemberId == st.Leader {
				from = st.Leader
				mctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				defer cancel()
				to, err := c.Members[(i+1)%len(c.Members)].ID(mctx, cli)
				if err != nil {
					return false
				}
				_, _ = direct[i].MoveLeader(mctx, to)
				return false
			}
		}
		return false
	})
	require.True(t, moved, "the leader did not move")
}

// TestStatesExpireAcrossLeaderChanges: etcd gives every lease its whole
// TTL again at each leader change (unless it runs with lease
// checkpoints, off by default), so with a leader change more often than
// LeaseTTL a state bound only to etcd's countdown never disappeared. The
// store keeps a ledger of the leases it grants (their grant time on the
// store's clock) and, at each grant, any replica (here a restarted one)
// revokes the leases granted more than LeaseTTL before: a state not saved
// again disappears once LeaseTTL has passed on the store's clock though
// etcd's lease was reset; one saved again since stays.
func TestStatesExpireAcrossLeaderChanges(t *testing.T) {
	t.Parallel()
	c := etcdtest.New(t, etcdtest.Options{Members: 3, NoFsync: true})
	// A generous bound, so that a stuck request fails the test.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cli := c.Client(t)
	mock := benclock.NewMock()
	mock.Set(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	pfx := etcdtest.KeyPrefix(t)
	const ttl = time.Hour // etcd's own countdown never ends during the test
	cfg := etcdstore.Config{Prefix: pfx, LeaseTTL: ttl}
	a, err := etcdstore.New(cfg, cli, etcdstore.WithClock(retryingMock{mock}))
	require.NoError(t, err)
	require.NoError(t, a.Save(ctx, "i-gone", []byte("gone")))
	require.NoError(t, a.Save(ctx, "i-kept", []byte("kept")))

	moveLeader(ctx, t, c, cli)
	resp, err := cli.Get(ctx, a.Key("i-gone"))
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1)
	first := clientv3.LeaseID(resp.Kvs[0].Lease)

	// Just before LeaseTTL: i-kept is saved again (under a new lease) and
	// nothing is revoked yet.
	mock.Add(ttl - ttl/50)
	require.NoError(t, a.Save(ctx, "i-kept", []byte("kept again")))
	_, err = a.Load(ctx, "i-gone")
	require.NoError(t, err, "revoked before LeaseTTL passed")

	// LeaseTTL has passed since i-gone's save: a restarted replica (a new
	// store on the same prefix) saves a state, and its grant revokes the
	// first lease, though etcd still counts it alive.
	mock.Add(ttl / 25)
	live, err := cli.TimeToLive(ctx, first)
	require.NoError(t, err)
	require.Positive(t, live.TTL, "etcd's own countdown has not ended")
	b, err := etcdstore.New(cfg, cli, etcdstore.WithClock(retryingMock{mock}))
	require.NoError(t, err)
	require.NoError(t, b.Save(ctx, "i-new", []byte("new")))

	_, err = b.Load(ctx, "i-gone")
	require.ErrorIs(t, err, detector.ErrNoState, "a state not saved for LeaseTTL is gone")
	got, err := b.Load(ctx, "i-kept")
	require.NoError(t, err, "a state saved again stays")
	assert.Equal(t, "kept again", string(got))
	got, err = b.Load(ctx, "i-new")
	require.NoError(t, err)
	assert.Equal(t, "new", string(got))

	// The ledger is outside the states' prefix: listing the states sees
	// states only.
	states, err := cli.Get(ctx, pfx, clientv3.WithPrefix())
	require.NoError(t, err)
	var keys []string
	for _, kv := range states.Kvs {
		keys = append(keys, string(kv.Key))
	}
	assert.ElementsMatch(t, []string{a.Key("i-kept"), a.Key("i-new")}, keys)
	ledger, err := cli.Get(ctx, strings.TrimSuffix(pfx, "/")+".leases/", clientv3.WithPrefix())
	require.NoError(t, err)
	assert.Len(t, ledger.Kvs, 2, "the ledger holds the two leases still in use")
}

// ledgerDenied is a client whose requests on the ledger fail, as under an
// etcd role that grants the states' prefix only.
type ledgerDenied struct {
	*clientv3.Client
	ledger string
}

func (c ledgerDenied) Put(ctx context.Context, key, val string, opts ...clientv3.OpOption) (*clientv3.PutResponse, error) {
	if strings.HasPrefix(key, c.ledger) {
		return nil, rpctypes.ErrPermissionDenied
	}
	return c.Client.Put(ctx, key, val, opts...)
}

func (c ledgerDenied) Get(ctx context.Context, key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	if strings.HasPrefix(key, c.ledger) {
		return nil, rpctypes.ErrPermissionDenied
	}
	return c.Client.Get(ctx, key, opts...)
}

// TestLedgerFailuresDoNotFailSaves: the ledger (see
// TestStatesExpireAcrossLeaderChanges) is a best effort: when its writes
// and listings fail, saves still succeed and the states keep their lease.
func TestLedgerFailuresDoNotFailSaves(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pfx := etcdtest.KeyPrefix(t)
	cli := etcdtest.Dial(t, cluster.Endpoints()...)
	denied := ledgerDenied{Client: cli, ledger: strings.TrimSuffix(pfx, "/") + ".leases/"}
	mock := benclock.NewMock()
	s, err := etcdstore.New(etcdstore.Config{Prefix: pfx, LeaseTTL: time.Hour}, denied, etcdstore.WithClock(retryingMock{mock}))
	require.NoError(t, err)
	for range 3 {
		require.NoError(t, s.Save(ctx, "i-1", []byte("one")))
		mock.Add(time.Hour / 25) // a grant, a ledger write and a sweep at each
	}
	got, err := s.Load(ctx, "i-1")
	require.NoError(t, err)
	assert.Equal(t, "one", string(got))
	_, granted := leaseOf(t, cli, s.Key("i-1"))
	assert.Equal(t, int64(3600), granted)
	ledger, err := cli.Get(ctx, denied.ledger, clientv3.WithPrefix())
	require.NoError(t, err)
	assert.Empty(t, ledger.Kvs)
}

package etcdstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/approval"
	"github.com/idlescale/idlescale/safety/approval/approvaltest"
	"github.com/idlescale/idlescale/safety/approval/etcdstore"
	"github.com/idlescale/idlescale/safety/etcdaudit"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	cli := cluster.Dial(t)
	var n atomic.Int64
	approvaltest.Run(t, func(t *testing.T) approval.Store {
		s, err := etcdstore.New(etcdstore.Config{Prefix: fmt.Sprintf("%s%d/", etcdtest.KeyPrefix(t), n.Add(1))}, cli)
		require.NoError(t, err)
		return s
	})
}

// Two replicas, each with its own client, share approvals and the audit
// log: one requests, the other approves, the first executes; a race
// between an approval and a cancellation has exactly one winner.
func TestApprovalsAcrossReplicas(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pfx := etcdtest.KeyPrefix(t)
	replica := func() (*approval.Manager, *etcdaudit.Log) {
		cli := cluster.Dial(t)
		store, err := etcdstore.New(etcdstore.Config{Prefix: pfx}, cli)
		require.NoError(t, err)
		audit, err := etcdaudit.New(etcdaudit.Config{Prefix: pfx}, cli)
		require.NoError(t, err)
		ap, err := approval.New(approval.Config{}, store, approval.WithAuditor(audit))
		require.NoError(t, err)
		return ap, audit
	}
	apA, auditA := replica()
	apB, auditB := replica()

	p := approvaltest.Request("x", "i-1", 0).Proposal
	d := safety.Decision{ResourceID: p.Resource.ID, Action: p.Action, Now: p.Now, Fingerprint: p.Fingerprint(), Outcome: safety.RequireApproval,
		ApprovalRequired: true, ApprovalReason: "critical: production", Risk: safety.RiskHigh}
	req, err := apA.Request(ctx, p, d, "nightly clean-up")
	require.NoError(t, err)

	got, err := apB.Get(ctx, req.ID)
	require.NoError(t, err)
	assert.Equal(t, approval.Pending, got.State)
	_, err = apB.Approve(ctx, req.ID, p.Requester, p.Now.Add(time.Minute), "")
	require.ErrorIs(t, err, approval.ErrSelfApproval)
	_, err = apB.Approve(ctx, req.ID, "alice", p.Now.Add(time.Minute), "ok")
	require.NoError(t, err)

	p.ApprovalID, p.Now = req.ID, p.Now.Add(2*time.Minute) // after the approval
	done, err := apA.Execute(ctx, req.ID, p)
	require.NoError(t, err)
	assert.Equal(t, approval.Executed, done.State)
	_, err = apB.Execute(ctx, req.ID, p)
	require.ErrorIs(t, err, approval.ErrTransition, "an approval executes once across replicas")

	// An approval and a denial race from the two replicas: both need the
	// request pending, so exactly one wins.
	p2 := approvaltest.Request("y", "i-2", 0).Proposal
	d2 := d
	d2.ResourceID, d2.Action, d2.Fingerprint = p2.Resource.ID, p2.Action, p2.Fingerprint()
	req2, err := apA.Request(ctx, p2, d2, "")
	require.NoError(t, err)
	var wg sync.WaitGroup
	var okApprove, okDeny atomic.Bool
	start := make(chan struct{})
	wg.Go(func() {
		<-start
		_, err := apB.Approve(ctx, req2.ID, "bob", p2.Now.Add(time.Minute), "")
		okApprove.Store(err == nil)
	})
	wg.Go(func() {
		<-start
		_, err := apA.Deny(ctx, req2.ID, "carol", p2.Now.Add(time.Minute), "not now")
		okDeny.Store(err == nil)
	})
	close(start)
	wg.Wait()
	final, err := apB.Get(ctx, req2.ID)
	require.NoError(t, err)
	t.Logf("race: approve won=%v deny won=%v final=%s", okApprove.Load(), okDeny.Load(), final.State)
	require.NotEqual(t, okApprove.Load(), okDeny.Load(), "exactly one of the racing transitions succeeds")
	if okApprove.Load() {
		assert.Equal(t, approval.Approved, final.State)
	} else {
		assert.Equal(t, approval.Denied, final.State)
	}

	// Both replicas read the same audit trail, in commit order.
	evA, err := auditA.Events(ctx, time.Time{})
	require.NoError(t, err)
	evB, err := auditB.Events(ctx, time.Time{})
	require.NoError(t, err)
	assert.Equal(t, evA, evB)
	var kinds []safety.AuditKind
	for _, ev := range evA {
		kinds = append(kinds, ev.Kind)
	}
	require.Len(t, kinds, 5, "%v", kinds)
	assert.Equal(t, []safety.AuditKind{safety.AuditApprovalRequested, safety.AuditApprovalApproved,
		safety.AuditApprovalExecuted, safety.AuditApprovalRequested}, kinds[:4])
	assert.Contains(t, []safety.AuditKind{safety.AuditApprovalApproved, safety.AuditApprovalDenied}, kinds[4])
	assert.Equal(t, "alice", evA[1].Actor)

	// The keys: one per request under Prefix + "approvals/", the events
	// under Prefix + "audit/", so that both may share one Prefix.
	resp, err := cluster.Dial(t).Get(ctx, pfx+"approvals/", clientv3.WithPrefix(), clientv3.WithKeysOnly())
	require.NoError(t, err)
	var keys []string
	for _, kv := range resp.Kvs {
		keys = append(keys, string(kv.Key))
	}
	assert.ElementsMatch(t, []string{pfx + "approvals/" + req.ID, pfx + "approvals/" + req2.ID}, keys)
}

func TestFailsClosed(t *testing.T) {
	t.Parallel()
	dead := etcdtest.Dial(t, "http://127.0.0.1:1")
	store, err := etcdstore.New(etcdstore.Config{RequestTimeout: 50 * time.Millisecond, MaxRetries: 1}, dead)
	require.NoError(t, err)
	err = store.Create(t.Context(), approvaltest.Request("a1", "i-1", 0))
	require.ErrorIs(t, err, etcdstore.ErrStore)
	require.ErrorIs(t, err, context.DeadlineExceeded, "etcd's own error is kept")
	_, err = store.Get(t.Context(), "a1")
	require.ErrorIs(t, err, etcdstore.ErrStore)
	_, err = store.Update(t.Context(), "a1", func(*approval.Request) error { return nil })
	require.ErrorIs(t, err, etcdstore.ErrStore)
	_, err = store.List(t.Context(), approval.Filter{})
	require.ErrorIs(t, err, etcdstore.ErrStore)

	// A Manager on a failing store fails: nothing is approved on a guess.
	ap, err := approval.New(approval.Config{}, store)
	require.NoError(t, err)
	_, err = ap.Approve(t.Context(), "a1", "alice", approvaltest.T0, "")
	require.ErrorIs(t, err, etcdstore.ErrStore)
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		give  etcdstore.Config
		field string
	}{
		{"negative timeout", etcdstore.Config{RequestTimeout: -1}, "request_timeout"},
		{"negative conflicts", etcdstore.Config{MaxConflicts: -1}, "max_conflicts"},
		{"NUL in prefix", etcdstore.Config{Prefix: "a\x00"}, "prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := etcdstore.New(tt.give, cluster.Dial(t))
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
		})
	}
	require.NoError(t, etcdstore.Config{MaxRetries: -1}.Validate(), "negative retries: none")
	// A nil *clientv3.Client in the Client interface is not a nil
	// interface, but every request on it panics: New refuses it like nil.
	var nilCli *clientv3.Client
	for _, cli := range []etcdstore.Client{nil, nilCli} {
		_, err := etcdstore.New(etcdstore.Config{}, cli)
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, "client", ie.Field)
	}
}

// afterCounter is a clock whose After fires at once and counts the waits.
type afterCounter struct {
	clock.Real
	n atomic.Int64
}

func (c *afterCounter) After(time.Duration) <-chan time.Time {
	c.n.Add(1)
	ch := make(chan time.Time, 1)
	ch <- c.Now()
	return ch
}

// WithClock wires the clock the retries wait on: against an unreachable
// etcd with MaxRetries 3, each failed request of Create waits once on it
// before being sent again.
func TestWithClockPacesRetries(t *testing.T) {
	t.Parallel()
	clk := &afterCounter{}
	store, err := etcdstore.New(etcdstore.Config{RequestTimeout: 50 * time.Millisecond, MaxRetries: 3},
		etcdtest.Dial(t, "http://127.0.0.1:1"), etcdstore.WithClock(clk))
	require.NoError(t, err)
	err = store.Create(t.Context(), approvaltest.Request("a1", "i-1", 0))
	require.ErrorIs(t, err, etcdstore.ErrStore)
	assert.Equal(t, int64(3), clk.n.Load(), "three backoffs between four attempts")
}

// hookKV runs hook (once) right before its next Txn: it lets another
// replica commit between this replica's read and its compare-and-swap,
// deterministically.
type hookKV struct {
	clientv3.KV
	hook atomic.Pointer[func()]
}

func (k *hookKV) Txn(ctx context.Context) clientv3.Txn {
	if h := k.hook.Swap(nil); h != nil {
		(*h)()
	}
	return k.KV.Txn(ctx)
}

// twoReplicas returns the Managers of replicas A and B sharing a fresh
// prefix, B's client wrapped in a hookKV, with a request for an approved
// proposal, and that proposal as it is executed two minutes later.
func twoReplicas(t *testing.T) (apA, apB *approval.Manager, kvB *hookKV, req approval.Request, p safety.Proposal) {
	t.Helper()
	pfx := etcdtest.KeyPrefix(t)
	kvB = &hookKV{KV: cluster.Dial(t)}
	storeA, err := etcdstore.New(etcdstore.Config{Prefix: pfx}, cluster.Dial(t))
	require.NoError(t, err)
	storeB, err := etcdstore.New(etcdstore.Config{Prefix: pfx}, kvB)
	require.NoError(t, err)
	apA, err = approval.New(approval.Config{}, storeA)
	require.NoError(t, err)
	apB, err = approval.New(approval.Config{}, storeB)
	require.NoError(t, err)

	p = approvaltest.Request("x", "i-1", 0).Proposal
	d := safety.Decision{ResourceID: p.Resource.ID, Action: p.Action, Now: p.Now, Fingerprint: p.Fingerprint(),
		Outcome: safety.RequireApproval, ApprovalRequired: true, ApprovalReason: "critical", Risk: safety.RiskHigh}
	req, err = apA.Request(t.Context(), p, d, "")
	require.NoError(t, err)
	_, err = apA.Approve(t.Context(), req.ID, "alice", p.Now.Add(time.Minute), "ok")
	require.NoError(t, err)
	p.ApprovalID = req.ID
	p.Now = p.Now.Add(2 * time.Minute)
	return apA, apB, kvB, req, p
}

// Two replicas that make the identical change to one request (execute,
// or claim, one approval for the same proposal, same requester, same
// Now) do not both succeed: replica B reads the approved request, replica
// A changes it before B's compare-and-swap, and B's lost transaction,
// which reads back byte for byte the value B meant to write, is not taken
// for B's own earlier write (the store compares write tokens, not
// values). B applies its change again and is refused, so the approval is
// used once.
func TestIdenticalConcurrentChangeHasOneWinner(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		call func(ap *approval.Manager, ctx context.Context, id string, p safety.Proposal) (approval.Request, error)
		want approval.State
	}{
		{"execute", (*approval.Manager).Execute, approval.Executed},
		{"claim", (*approval.Manager).Claim, approval.Executing},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			apA, apB, kvB, req, p := twoReplicas(t)
			var errA error
			h := func() { _, errA = tt.call(apA, ctx, req.ID, p) }
			kvB.hook.Store(&h)
			_, errB := tt.call(apB, ctx, req.ID, p)
			require.Nil(t, kvB.hook.Load(), "A ran between B's read and B's write")
			require.NoError(t, errA, "A changed it first")
			require.ErrorIs(t, errB, approval.ErrTransition, "the approval is used once across replicas")
			got, err := apB.Get(ctx, req.ID)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.State)
		})
	}
}

// Two replicas that create the identical request (same ID, same value,
// as with a deterministic approval.WithIDGenerator) do not both believe
// they created it: the second Create reports approval.ErrExists, as does
// the same store creating it twice.
func TestIdenticalCreateFromTwoReplicas(t *testing.T) {
	t.Parallel()
	pfx := etcdtest.KeyPrefix(t)
	storeA, err := etcdstore.New(etcdstore.Config{Prefix: pfx}, cluster.Dial(t))
	require.NoError(t, err)
	storeB, err := etcdstore.New(etcdstore.Config{Prefix: pfx}, cluster.Dial(t))
	require.NoError(t, err)
	req := approvaltest.Request("a1", "i-1", 0)
	require.NoError(t, storeA.Create(t.Context(), req))
	require.ErrorIs(t, storeB.Create(t.Context(), req), approval.ErrExists, "another replica")
	require.ErrorIs(t, storeA.Create(t.Context(), req), approval.ErrExists, "the same replica again")
}

// lostReplyKV applies its next transaction but reports it failed, as when
// etcd committed a write and the reply was lost (a member died).
type lostReplyKV struct {
	clientv3.KV
	lose atomic.Bool
}

func (k *lostReplyKV) Txn(ctx context.Context) clientv3.Txn {
	return &lostReplyTxn{Txn: k.KV.Txn(ctx), kv: k}
}

type lostReplyTxn struct {
	clientv3.Txn
	kv *lostReplyKV
}

func (t *lostReplyTxn) If(cs ...clientv3.Cmp) clientv3.Txn   { t.Txn = t.Txn.If(cs...); return t }
func (t *lostReplyTxn) Then(ops ...clientv3.Op) clientv3.Txn { t.Txn = t.Txn.Then(ops...); return t }
func (t *lostReplyTxn) Else(ops ...clientv3.Op) clientv3.Txn { t.Txn = t.Txn.Else(ops...); return t }

func (t *lostReplyTxn) Commit() (*clientv3.TxnResponse, error) {
	resp, err := t.Txn.Commit()
	if err == nil && t.kv.lose.CompareAndSwap(true, false) {
		return nil, errors.New("reply lost")
	}
	return resp, err
}

// A write that etcd applied but whose reply was lost is retried, and the
// retry, which loses its compare-and-swap to that very write, recognises
// it as its own (same token on every retry of one write): a Create does
// not report approval.ErrExists for its own request, an Update does not
// apply its change a second time (an approval would be refused as no
// longer pending).
func TestRetriedWriteRecognisesItsOwnLostReply(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	kv := &lostReplyKV{KV: cluster.Dial(t)}
	store, err := etcdstore.New(etcdstore.Config{Prefix: etcdtest.KeyPrefix(t)}, kv)
	require.NoError(t, err)
	ap, err := approval.New(approval.Config{}, store)
	require.NoError(t, err)

	req := approvaltest.Request("a1", "i-1", 0)
	kv.lose.Store(true)
	require.NoError(t, store.Create(ctx, req))
	require.False(t, kv.lose.Load(), "the reply of the create was lost")

	kv.lose.Store(true)
	got, err := ap.Approve(ctx, req.ID, "alice", req.CreatedAt.Add(time.Minute), "ok")
	require.NoError(t, err)
	require.False(t, kv.lose.Load(), "the reply of the approval was lost")
	assert.Equal(t, approval.Approved, got.State)
	stored, err := store.Get(ctx, req.ID)
	require.NoError(t, err)
	assert.Equal(t, got, stored)
}

// A request stored as plain JSON, as before the store added the write
// token, still loads and can be changed; every write stores a token of
// its own, and the request reads back without it, unchanged.
func TestReadsRequestsWithoutWriteToken(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pfx := etcdtest.KeyPrefix(t)
	cli := cluster.Dial(t)
	store, err := etcdstore.New(etcdstore.Config{Prefix: pfx}, cli)
	require.NoError(t, err)
	ap, err := approval.New(approval.Config{}, store)
	require.NoError(t, err)

	req := approvaltest.Request("old", "i-1", 0)
	old, err := json.Marshal(req)
	require.NoError(t, err)
	key := pfx + "approvals/old"
	_, err = cli.Put(ctx, key, string(old))
	require.NoError(t, err)
	got, err := store.Get(ctx, "old")
	require.NoError(t, err)
	assert.Equal(t, req, got)
	listed, err := store.List(ctx, approval.Filter{})
	require.NoError(t, err)
	assert.Equal(t, []approval.Request{req}, listed)

	approved, err := ap.Approve(ctx, "old", "alice", req.CreatedAt.Add(time.Minute), "ok")
	require.NoError(t, err)
	assert.Equal(t, approval.Approved, approved.State)

	var tokens []string
	for range 2 {
		resp, err := cli.Get(ctx, key)
		require.NoError(t, err)
		require.Len(t, resp.Kvs, 1)
		var raw map[string]any
		require.NoError(t, json.Unmarshal(resp.Kvs[0].Value, &raw))
		tok, _ := raw["etcdstore_write"].(string)
		require.NotEmpty(t, tok, "every write stores its token")
		tokens = append(tokens, tok)
		var plain approval.Request
		require.NoError(t, json.Unmarshal(resp.Kvs[0].Value, &plain), "an earlier version reads the new form")
		assert.Equal(t, approved.State, plain.State)
		_, err = store.Update(ctx, "old", func(r *approval.Request) error { return nil })
		require.NoError(t, err)
	}
	assert.NotEqual(t, tokens[0], tokens[1], "an unchanged request written again has a new token")
}

// A nil pointer passed to WithClock is not a nil Clock, but the first
// retry read it and panicked: New refuses it, naming it.
func TestNewRefusesNilClockPointer(t *testing.T) {
	t.Parallel()
	dead := etcdtest.Dial(t, "http://127.0.0.1:1")
	var err error
	require.NotPanics(t, func() {
		var s *etcdstore.Store
		s, err = etcdstore.New(etcdstore.Config{RequestTimeout: 50 * time.Millisecond, MaxRetries: 1}, dead,
			etcdstore.WithClock((*afterCounter)(nil)))
		if err == nil {
			err = s.Create(t.Context(), approvaltest.Request("a1", "i-1", 0))
		}
	})
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "clock", ie.Field)
}

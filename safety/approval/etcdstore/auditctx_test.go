package etcdstore_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/approval"
	"github.com/idlescale/idlescale/safety/approval/approvaltest"
	"github.com/idlescale/idlescale/safety/approval/etcdstore"
	"github.com/idlescale/idlescale/safety/etcdaudit"
)

// endingStore is the etcd store of a caller whose context ends right
// after a write commits (an approver's HTTP request cut off, a replica
// stopping): it cancels once the Update has been stored.
type endingStore struct {
	*etcdstore.Store
	cancel context.CancelFunc
}

func (s endingStore) Update(ctx context.Context, id string, fn func(*approval.Request) error) (approval.Request, error) {
	r, err := s.Store.Update(ctx, id, fn)
	s.cancel()
	return r, err
}

// TestTransitionStoredIsAudited: an approval stored on etcd whose
// caller's context ended just after the write was never recorded in the
// shared audit trail: the Manager audited it under the ended context,
// and the trail showed no approver for an approval that another replica
// then executed. The audit of a stored transition now outlives the
// caller's context (bounded), as the reaper's bookkeeping does.
func TestTransitionStoredIsAudited(t *testing.T) {
	t.Parallel()
	pfx := etcdtest.KeyPrefix(t)
	cli := cluster.Dial(t)
	store, err := etcdstore.New(etcdstore.Config{Prefix: pfx}, cli)
	require.NoError(t, err)
	audit, err := etcdaudit.New(etcdaudit.Config{Prefix: pfx}, cli)
	require.NoError(t, err)
	plain, err := approval.New(approval.Config{}, store, approval.WithAuditor(audit))
	require.NoError(t, err)

	p := approvaltest.Request("x", "i-1", 0).Proposal
	d := safety.Decision{ResourceID: p.Resource.ID, Action: p.Action, Now: p.Now, Fingerprint: p.Fingerprint(), Outcome: safety.RequireApproval,
		ApprovalRequired: true, ApprovalReason: "critical: production", Risk: safety.RiskHigh}
	req, err := plain.Request(t.Context(), p, d, "")
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ending, err := approval.New(approval.Config{}, endingStore{Store: store, cancel: cancel}, approval.WithAuditor(audit))
	require.NoError(t, err)
	got, err := ending.Approve(ctx, req.ID, "alice", p.Now.Add(time.Minute), "ok")
	require.NoError(t, err, "stored and audited")
	assert.Equal(t, approval.Approved, got.State)

	evs, err := audit.Events(t.Context(), time.Time{})
	require.NoError(t, err)
	var kinds []safety.AuditKind
	for _, ev := range evs {
		kinds = append(kinds, ev.Kind)
	}
	assert.Equal(t, []safety.AuditKind{safety.AuditApprovalRequested, safety.AuditApprovalApproved}, kinds)
	if assert.Len(t, evs, 2) {
		assert.Equal(t, "alice", evs[1].Actor)
	}
}

// cutOffKV applies its next transaction, then ends its caller's context
// and reports the transaction failed with the context's error, as when
// an approver's HTTP request is cut off while etcd commits the write:
// the reply is lost with the context, the write is stored.
type cutOffKV struct {
	clientv3.KV
	cancel context.CancelFunc
	armed  atomic.Bool
}

func (k *cutOffKV) Txn(ctx context.Context) clientv3.Txn {
	return &cutOffTxn{Txn: k.KV.Txn(ctx), kv: k}
}

type cutOffTxn struct {
	clientv3.Txn
	kv *cutOffKV
}

func (t *cutOffTxn) If(cs ...clientv3.Cmp) clientv3.Txn   { t.Txn = t.Txn.If(cs...); return t }
func (t *cutOffTxn) Then(ops ...clientv3.Op) clientv3.Txn { t.Txn = t.Txn.Then(ops...); return t }
func (t *cutOffTxn) Else(ops ...clientv3.Op) clientv3.Txn { t.Txn = t.Txn.Else(ops...); return t }

func (t *cutOffTxn) Commit() (*clientv3.TxnResponse, error) {
	resp, err := t.Txn.Commit()
	if err == nil && t.kv.armed.CompareAndSwap(true, false) {
		t.kv.cancel()
		return nil, context.Canceled
	}
	return resp, err
}

// TestWriteCutOffByItsContextIsAudited: an approval whose caller's
// context ended while etcd committed it (the approver's request cut off)
// was stored, but the store reported the ended context, so the Manager
// recorded nothing: another replica then executed an approval the shared
// trail showed no one granting. A write whose reply is lost is now looked
// up once more (bounded, past the caller's end) and, found, succeeds.
func TestWriteCutOffByItsContextIsAudited(t *testing.T) {
	t.Parallel()
	pfx := etcdtest.KeyPrefix(t)
	cli := cluster.Dial(t)
	audit, err := etcdaudit.New(etcdaudit.Config{Prefix: pfx}, cli)
	require.NoError(t, err)
	kv := &cutOffKV{KV: cli}
	store, err := etcdstore.New(etcdstore.Config{Prefix: pfx}, kv)
	require.NoError(t, err)
	m, err := approval.New(approval.Config{}, store, approval.WithAuditor(audit))
	require.NoError(t, err)

	p := approvaltest.Request("x", "i-1", 0).Proposal
	d := safety.Decision{ResourceID: p.Resource.ID, Action: p.Action, Now: p.Now, Fingerprint: p.Fingerprint(), Outcome: safety.RequireApproval,
		ApprovalRequired: true, ApprovalReason: "critical: production", Risk: safety.RiskHigh}
	ctx, cancel := context.WithCancel(t.Context())
	kv.cancel = cancel
	kv.armed.Store(true)
	req, err := m.Request(ctx, p, d, "")
	require.NoError(t, err, "the create was stored")
	require.False(t, kv.armed.Load(), "the create's reply was lost")

	ctx, cancel = context.WithCancel(t.Context())
	kv.cancel = cancel
	kv.armed.Store(true)
	got, err := m.Approve(ctx, req.ID, "alice", p.Now.Add(time.Minute), "ok")
	require.NoError(t, err, "the approval was stored")
	require.False(t, kv.armed.Load(), "the approval's reply was lost")
	assert.Equal(t, approval.Approved, got.State)
	stored, err := store.Get(t.Context(), req.ID)
	require.NoError(t, err)
	assert.Equal(t, got, stored)

	evs, err := audit.Events(t.Context(), time.Time{})
	require.NoError(t, err)
	var kinds []safety.AuditKind
	for _, ev := range evs {
		kinds = append(kinds, ev.Kind)
	}
	assert.Equal(t, []safety.AuditKind{safety.AuditApprovalRequested, safety.AuditApprovalApproved}, kinds)

	// A write whose context ended before it was sent is not sent.
	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	_, err = m.Deny(ctx, req.ID, "bob", p.Now.Add(2*time.Minute), "no")
	require.ErrorIs(t, err, context.Canceled)
	stored, err = store.Get(t.Context(), req.ID)
	require.NoError(t, err)
	assert.Equal(t, approval.Approved, stored.State)
}

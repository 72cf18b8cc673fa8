package etcdstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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

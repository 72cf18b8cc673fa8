package coord_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/coord"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/approval"
	"github.com/idlescale/idlescale/safety/approval/approvaltest"
)

func TestApprovalStoreConformance(t *testing.T) {
	t.Parallel()
	cli := client(t)
	var n atomic.Int64
	approvaltest.Run(t, func(t *testing.T) approval.Store {
		s, err := coord.NewApprovalStore(cli, coord.StoreOptions{Prefix: fmt.Sprintf("%s%d/", prefix(t), n.Add(1))})
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
	opts := coord.StoreOptions{Prefix: prefix(t)}
	replica := func() (*approval.Manager, *coord.AuditLog) {
		cli := client(t)
		store, err := coord.NewApprovalStore(cli, opts)
		require.NoError(t, err)
		audit, err := coord.NewAuditLog(cli, opts)
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
	p.ApprovalID = req.ID
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
}

func TestAuditLog(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cli := client(t)
	log, err := coord.NewAuditLog(cli, coord.StoreOptions{Prefix: prefix(t), AuditRetention: time.Hour})
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
	resp, err := cli.Get(ctx, prefix(t)+"audit/", clientv3.WithPrefix())
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 3)
	ttl, err := cli.TimeToLive(ctx, clientv3.LeaseID(resp.Kvs[0].Lease))
	require.NoError(t, err)
	assert.Equal(t, int64(3720), ttl.GrantedTTL)

	require.ErrorIs(t, log.Record(ctx, safety.AuditEvent{Kind: safety.AuditDecision}), provider.ErrInvalid)
}

func TestSharedStateFailsClosed(t *testing.T) {
	t.Parallel()
	dead := client(t, "http://127.0.0.1:1")
	opts := coord.StoreOptions{RequestTimeout: 50 * time.Millisecond, MaxRetries: 1}
	store, err := coord.NewApprovalStore(dead, opts)
	require.NoError(t, err)
	err = store.Create(t.Context(), approvaltest.Request("a1", "i-1", 0))
	require.ErrorIs(t, err, coord.ErrStore)
	_, err = store.Get(t.Context(), "a1")
	require.ErrorIs(t, err, coord.ErrStore)
	_, err = store.List(t.Context(), approval.Filter{})
	require.ErrorIs(t, err, coord.ErrStore)

	log, err := coord.NewAuditLog(dead, opts)
	require.NoError(t, err)
	err = log.Record(t.Context(), safety.AuditEvent{Time: time.Now(), Kind: safety.AuditDecision})
	require.ErrorIs(t, err, coord.ErrStore)

	// An engine whose auditor cannot record fails closed (safety's
	// contract): the approval call reports ErrAudit.
	ap, err := approval.New(approval.Config{}, approval.NewMemoryStore(), approval.WithAuditor(log))
	require.NoError(t, err)
	p := approvaltest.Request("z", "i-3", 0).Proposal
	_, err = ap.Request(t.Context(), p, safety.Decision{ResourceID: p.Resource.ID, Action: p.Action, Now: p.Now, Fingerprint: p.Fingerprint(),
		ApprovalRequired: true, Risk: safety.RiskHigh}, "")
	require.ErrorIs(t, err, safety.ErrAudit)
	require.ErrorIs(t, err, coord.ErrStore)

	_, err = coord.NewApprovalStore(nil, coord.StoreOptions{})
	require.ErrorIs(t, err, provider.ErrInvalid)
	_, err = coord.NewAuditLog(dead, coord.StoreOptions{AuditRetention: time.Second})
	require.ErrorIs(t, err, provider.ErrInvalid)
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, log.Record(cancelled, safety.AuditEvent{Time: time.Now()}), context.Canceled)
}

package etcdhistory_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/ratelimit"
	rlstore "github.com/idlescale/idlescale/ratelimit/etcdstore"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/approval"
	"github.com/idlescale/idlescale/safety/approval/approvaltest"
	apstore "github.com/idlescale/idlescale/safety/approval/etcdstore"
	"github.com/idlescale/idlescale/safety/etcdaudit"
	"github.com/idlescale/idlescale/safety/etcdhistory"
)

// TestStoresShareOnePrefix: a host gives the history, the audit trail,
// the approvals and the rate budget one client and one prefix. Each
// reads only its own keys: the history's records and Keep markers are
// not approvals, audit events nor buckets, and the others' keys are not
// records.
func TestStoresShareOnePrefix(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pfx := etcdtest.KeyPrefix(t)
	cli := cluster.Dial(t)
	hist, _ := newHistory(t, etcdhistory.Config{Prefix: pfx})
	audit, err := etcdaudit.New(etcdaudit.Config{Prefix: pfx}, cli)
	require.NoError(t, err)
	aps, err := apstore.New(apstore.Config{Prefix: pfx}, cli)
	require.NoError(t, err)
	rls, err := rlstore.New(rlstore.Config{Prefix: pfx}, cli)
	require.NoError(t, err)
	lim, err := ratelimit.New(ratelimit.Config{}, ratelimit.WithStore(rls))
	require.NoError(t, err)
	mgr, err := approval.New(approval.Config{}, aps, approval.WithAuditor(audit))
	require.NoError(t, err)

	require.NoError(t, hist.Record("global", t0, 2))
	require.NoError(t, hist.Record("approvals", t0, 1))
	res, err := lim.ReserveAt(ctx, t0, ratelimit.Request{Target: "history", Direction: ratelimit.Down, Units: 1})
	require.NoError(t, err)
	require.True(t, res.OK())
	p := approvaltest.Request("x", "audit", 0).Proposal
	d := safety.Decision{ResourceID: p.Resource.ID, Action: p.Action, Now: p.Now, Fingerprint: p.Fingerprint(),
		Outcome: safety.RequireApproval, ApprovalRequired: true, Risk: safety.RiskHigh}
	_, err = mgr.Request(ctx, p, d, "")
	require.NoError(t, err)

	n, err := hist.ActedOn(ctx, "global", t0.Add(-time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	reqs, err := aps.List(ctx, approval.Filter{})
	require.NoError(t, err)
	assert.Len(t, reqs, 1)
	evs, err := audit.Events(ctx, time.Time{})
	require.NoError(t, err)
	assert.Len(t, evs, 1)
	bs, err := rls.Snapshot(ctx)
	require.NoError(t, err)
	assert.Len(t, bs, 1)
}

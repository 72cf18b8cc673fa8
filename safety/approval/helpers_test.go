package approval_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/approval"
)

// t0 is a Monday, 03:00 UTC.
var t0 = time.Date(2026, 3, 2, 3, 0, 0, 0, time.UTC)

func scale(id string, from, to int) safety.Proposal {
	a := safety.ActionScaleOut
	if to < from {
		a = safety.ActionScaleIn
	}
	return safety.Proposal{
		Action:    a,
		Resource:  provider.Resource{ID: id, Kind: provider.KindGroup, State: provider.StateRunning},
		Current:   provider.CapacitySpec{Min: 0, Max: 100, Desired: from},
		Target:    provider.CapacitySpec{Min: 0, Max: 100, Desired: to},
		Requester: "autoscaler",
		Now:       t0,
	}
}

// fixed returns a rule that always answers res.
func fixed(name string, res safety.Result) safety.Rule {
	return safety.Named(name, safety.RuleFunc(func(_ context.Context, _ safety.Proposal) (safety.Result, error) {
		return res, nil
	}))
}

// setup wires an engine whose only rule requires approval to a Manager
// over a memory store, with a mock clock for the times passed in.
type setup struct {
	clock     *clock.Mock
	log       *safety.AuditLog
	store     *approval.MemoryStore
	approvals *approval.Manager
	engine    *safety.Engine
}

func newSetup(t *testing.T) *setup {
	t.Helper()
	s := &setup{clock: clock.NewMock(), log: &safety.AuditLog{}, store: approval.NewMemoryStore()}
	s.clock.Set(t0)
	var n atomic.Int32
	var err error
	s.approvals, err = approval.New(approval.Config{TTL: time.Hour}, s.store,
		approval.WithAuditor(s.log),
		approval.WithIDGenerator(func() string { return fmt.Sprintf("apr-%d", n.Add(1)) }))
	require.NoError(t, err)
	s.engine, err = safety.New(safety.Config{}, []safety.Rule{fixed("owner", safety.Result{
		Outcome: safety.RequireApproval, Risk: safety.RiskMedium, Reason: "owner must agree",
	})}, safety.WithApprovals(s.approvals))
	require.NoError(t, err)
	return s
}

// request checks p (which must need approval) and files a request.
func (s *setup) request(t *testing.T, p safety.Proposal) approval.Request {
	t.Helper()
	d, err := s.engine.Check(t.Context(), p)
	require.ErrorIs(t, err, safety.ErrApprovalRequired)
	req, err := s.approvals.Request(t.Context(), p, d, "idle for 3 days")
	require.NoError(t, err)
	return req
}

// approved files a request for a fresh proposal and has alice approve it.
func (s *setup) approved(t *testing.T) (safety.Proposal, approval.Request) {
	t.Helper()
	p := s.proposal()
	req := s.request(t, p)
	_, err := s.approvals.Approve(t.Context(), req.ID, "alice", s.clock.Now(), "")
	require.NoError(t, err)
	return p, req
}

func (s *setup) proposal() safety.Proposal {
	p := scale("g-1", 6, 4)
	p.Now = s.clock.Now()
	return p
}

func kinds(evs []safety.AuditEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, fmt.Sprintf("%s %s→%s by %s", e.Kind, e.From, e.To, e.Actor))
	}
	return out
}

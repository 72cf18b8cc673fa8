package approval_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/approval"
)

func TestApprovalHappyPath(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	p := s.proposal()
	req := s.request(t, p)
	assert.Equal(t, approval.Pending, req.State)
	assert.Equal(t, "apr-1", req.ID)
	assert.Equal(t, "autoscaler", req.Requester)
	assert.Equal(t, t0.Add(time.Hour), req.ExpiresAt)
	assert.Equal(t, safety.RiskMedium, req.Risk)
	assert.Equal(t, "owner: owner must agree; idle for 3 days", req.Reason)
	assert.Equal(t, p.Fingerprint(), req.Fingerprint)

	// A pending approval does not let the proposal through.
	p.ApprovalID = req.ID
	d, err := s.engine.Check(t.Context(), p)
	require.ErrorIs(t, err, safety.ErrApprovalRequired)
	assert.Contains(t, d.ApprovalReason, "pending")

	s.clock.Add(10 * time.Minute)
	got, err := s.approvals.Approve(t.Context(), req.ID, "alice", s.clock.Now(), "ok for tonight")
	require.NoError(t, err)
	assert.Equal(t, approval.Approved, got.State)
	assert.Equal(t, "alice", got.DecidedBy)
	assert.Equal(t, s.clock.Now(), got.DecidedAt)

	s.clock.Add(10 * time.Minute)
	p.Now = s.clock.Now()
	d, err = s.engine.Check(t.Context(), p)
	require.NoError(t, err)
	assert.True(t, d.Allowed)
	assert.True(t, d.Approved)
	assert.True(t, d.ApprovalRequired)

	got, err = s.approvals.Execute(t.Context(), req.ID, p)
	require.NoError(t, err)
	assert.Equal(t, approval.Executed, got.State)
	assert.Equal(t, p.Now, got.ClosedAt)

	// An approval executes once.
	_, err = s.approvals.Execute(t.Context(), req.ID, p)
	require.ErrorIs(t, err, approval.ErrTransition)
	d, err = s.engine.Check(t.Context(), p)
	require.ErrorIs(t, err, safety.ErrApprovalRequired)
	assert.False(t, d.Approved)

	assert.Equal(t, []string{
		"approval.requested →pending by autoscaler",
		"approval.approved pending→approved by alice",
		"approval.executed approved→executed by autoscaler",
	}, kinds(s.log.Events()))
}

// step is one call on the Manager (or the clock) in a transition test.
type step func(s *setup, t *testing.T, id string, p safety.Proposal) error

func stepApprove(who string) step {
	return func(s *setup, t *testing.T, id string, _ safety.Proposal) error {
		_, err := s.approvals.Approve(t.Context(), id, who, s.clock.Now(), "")
		return err
	}
}

func stepDeny(s *setup, t *testing.T, id string, _ safety.Proposal) error {
	_, err := s.approvals.Deny(t.Context(), id, "bob", s.clock.Now(), "not now")
	return err
}

func stepCancel(s *setup, t *testing.T, id string, _ safety.Proposal) error {
	_, err := s.approvals.Cancel(t.Context(), id, "autoscaler", s.clock.Now(), "plan changed")
	return err
}

func stepExecute(s *setup, t *testing.T, id string, p safety.Proposal) error {
	p.Now = s.clock.Now()
	_, err := s.approvals.Execute(t.Context(), id, p)
	return err
}

func stepClaim(s *setup, t *testing.T, id string, p safety.Proposal) error {
	p.Now = s.clock.Now()
	_, err := s.approvals.Claim(t.Context(), id, p)
	return err
}

func stepComplete(s *setup, t *testing.T, id string, _ safety.Proposal) error {
	_, err := s.approvals.Complete(t.Context(), id, "autoscaler", s.clock.Now(), "scaled in")
	return err
}

func stepRelease(s *setup, t *testing.T, id string, _ safety.Proposal) error {
	_, err := s.approvals.Release(t.Context(), id, "autoscaler", s.clock.Now(), "throttled: nothing changed")
	return err
}

func stepWait(d time.Duration) step {
	return func(s *setup, _ *testing.T, _ string, _ safety.Proposal) error {
		s.clock.Add(d)
		return nil
	}
}

func TestApprovalTransitions(t *testing.T) {
	t.Parallel()
	approve, deny, cancel, execute, wait := stepApprove, stepDeny, stepCancel, stepExecute, stepWait
	claim, complete, release := stepClaim, stepComplete, stepRelease
	const (
		approved  = "approval.approved pending→approved by alice"
		claimed   = "approval.claimed approved→executing by autoscaler"
		released  = "approval.released executing→approved by autoscaler"
		completed = "approval.executed executing→executed by autoscaler"
	)
	tests := []struct {
		name      string
		steps     []step
		wantErr   error // of the last step
		wantState approval.State
		wantLog   []string
	}{
		{name: "pending → approved", steps: []step{approve("alice")}, wantState: approval.Approved,
			wantLog: []string{"approval.approved pending→approved by alice"}},
		{name: "pending → denied", steps: []step{deny}, wantState: approval.Denied,
			wantLog: []string{"approval.denied pending→denied by bob"}},
		{name: "pending → cancelled", steps: []step{cancel}, wantState: approval.Cancelled,
			wantLog: []string{"approval.cancelled pending→cancelled by autoscaler"}},
		{name: "approved → cancelled", steps: []step{approve("alice"), cancel}, wantState: approval.Cancelled,
			wantLog: []string{"approval.approved pending→approved by alice", "approval.cancelled approved→cancelled by autoscaler"}},
		{name: "approved → executed", steps: []step{approve("alice"), execute}, wantState: approval.Executed,
			wantLog: []string{"approval.approved pending→approved by alice", "approval.executed approved→executed by autoscaler"}},
		{name: "pending → expired on approve", steps: []step{wait(time.Hour), approve("alice")},
			wantErr: approval.ErrExpired, wantState: approval.Expired,
			wantLog: []string{"approval.expired pending→expired by system"}},
		{name: "approved → expired on execute", steps: []step{approve("alice"), wait(61 * time.Minute), execute},
			wantErr: approval.ErrExpired, wantState: approval.Expired,
			wantLog: []string{"approval.approved pending→approved by alice", "approval.expired approved→expired by system"}},
		{name: "approve just before expiry", steps: []step{wait(time.Hour - time.Nanosecond), approve("alice")},
			wantState: approval.Approved, wantLog: []string{"approval.approved pending→approved by alice"}},
		{name: "self-approval refused", steps: []step{approve("autoscaler")}, wantErr: approval.ErrSelfApproval,
			wantState: approval.Pending},
		{name: "execute pending refused", steps: []step{execute}, wantErr: approval.ErrTransition,
			wantState: approval.Pending},
		{name: "denied never executes", steps: []step{deny, execute}, wantErr: approval.ErrTransition,
			wantState: approval.Denied, wantLog: []string{"approval.denied pending→denied by bob"}},
		{name: "denied cannot be approved", steps: []step{deny, approve("alice")}, wantErr: approval.ErrTransition,
			wantState: approval.Denied, wantLog: []string{"approval.denied pending→denied by bob"}},
		{name: "approved cannot be denied", steps: []step{approve("alice"), deny}, wantErr: approval.ErrTransition,
			wantState: approval.Approved, wantLog: []string{"approval.approved pending→approved by alice"}},
		{name: "approved twice refused", steps: []step{approve("alice"), approve("carol")}, wantErr: approval.ErrTransition,
			wantState: approval.Approved, wantLog: []string{"approval.approved pending→approved by alice"}},
		{name: "cancelled never executes", steps: []step{approve("alice"), cancel, execute}, wantErr: approval.ErrTransition,
			wantState: approval.Cancelled,
			wantLog:   []string{"approval.approved pending→approved by alice", "approval.cancelled approved→cancelled by autoscaler"}},
		{name: "expired stays expired", steps: []step{wait(2 * time.Hour), approve("alice"), approve("alice")},
			wantErr: approval.ErrExpired, wantState: approval.Expired,
			wantLog: []string{"approval.expired pending→expired by system"}},
		{name: "executed cannot be cancelled", steps: []step{approve("alice"), execute, cancel}, wantErr: approval.ErrTransition,
			wantState: approval.Executed,
			wantLog:   []string{"approval.approved pending→approved by alice", "approval.executed approved→executed by autoscaler"}},
		{name: "approved → executing", steps: []step{approve("alice"), claim}, wantState: approval.Executing,
			wantLog: []string{approved, claimed}},
		{name: "executing → executed", steps: []step{approve("alice"), claim, complete}, wantState: approval.Executed,
			wantLog: []string{approved, claimed, completed}},
		{name: "executing → approved", steps: []step{approve("alice"), claim, release}, wantState: approval.Approved,
			wantLog: []string{approved, claimed, released}},
		{name: "released claims again", steps: []step{approve("alice"), claim, release, claim, complete}, wantState: approval.Executed,
			wantLog: []string{approved, claimed, released, claimed, completed}},
		{name: "claimed cannot be claimed again", steps: []step{approve("alice"), claim, claim}, wantErr: approval.ErrTransition,
			wantState: approval.Executing, wantLog: []string{approved, claimed}},
		{name: "claimed cannot be executed", steps: []step{approve("alice"), claim, execute}, wantErr: approval.ErrTransition,
			wantState: approval.Executing, wantLog: []string{approved, claimed}},
		{name: "claimed cannot be cancelled", steps: []step{approve("alice"), claim, cancel}, wantErr: approval.ErrTransition,
			wantState: approval.Executing, wantLog: []string{approved, claimed}},
		{name: "pending cannot be claimed", steps: []step{claim}, wantErr: approval.ErrTransition, wantState: approval.Pending},
		{name: "approved cannot be completed", steps: []step{approve("alice"), complete}, wantErr: approval.ErrTransition,
			wantState: approval.Approved, wantLog: []string{approved}},
		{name: "approved cannot be released", steps: []step{approve("alice"), release}, wantErr: approval.ErrTransition,
			wantState: approval.Approved, wantLog: []string{approved}},
		{name: "completed cannot be released", steps: []step{approve("alice"), claim, complete, release}, wantErr: approval.ErrTransition,
			wantState: approval.Executed, wantLog: []string{approved, claimed, completed}},
		{name: "claim after expiry expires", steps: []step{approve("alice"), wait(time.Hour), claim}, wantErr: approval.ErrExpired,
			wantState: approval.Expired, wantLog: []string{approved, "approval.expired approved→expired by system"}},
		{name: "complete after expiry completes", steps: []step{approve("alice"), wait(59 * time.Minute), claim, wait(time.Hour), complete},
			wantState: approval.Executed, wantLog: []string{approved, claimed, completed}},
		{name: "release after expiry expires", steps: []step{approve("alice"), wait(59 * time.Minute), claim, wait(time.Minute), release},
			wantErr: approval.ErrExpired, wantState: approval.Expired,
			wantLog: []string{approved, claimed, "approval.expired executing→expired by system"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSetup(t)
			p := s.proposal()
			req := s.request(t, p)
			var err error
			for _, st := range tt.steps {
				err = st(s, t, req.ID, p)
			}
			if tt.wantErr == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tt.wantErr)
			}
			got, gerr := s.approvals.Get(t.Context(), req.ID)
			require.NoError(t, gerr)
			assert.Equal(t, tt.wantState, got.State)
			assert.Equal(t, tt.wantState.Final(), !got.ClosedAt.IsZero(), "final states record when they closed")
			assert.Equal(t, append([]string{"approval.requested →pending by autoscaler"}, tt.wantLog...), kinds(s.log.Events()))
		})
	}
}

func TestApprovalBoundToProposal(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	p, req := s.approved(t)
	tests := []struct {
		name string
		give func(*safety.Proposal)
	}{
		{"changed target", func(p *safety.Proposal) { p.Target.Desired = 3; p.Action = safety.ActionScaleIn }},
		{"changed bounds", func(p *safety.Proposal) { p.Target.Min = 2 }},
		{"other resource", func(p *safety.Proposal) { p.Resource.ID = "g-2" }},
		{"other action", func(p *safety.Proposal) { p.Target.Desired = 6; p.Action = safety.ActionScaleOut }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := p
			tt.give(&q)
			q.ApprovalID = req.ID
			d, err := s.engine.Check(t.Context(), q)
			require.ErrorIs(t, err, safety.ErrApprovalRequired)
			assert.False(t, d.Approved)
			assert.Contains(t, d.ApprovalReason, "another target")
			_, err = s.approvals.Execute(t.Context(), req.ID, q)
			require.ErrorIs(t, err, approval.ErrMismatch)
		})
	}
	t.Run("unchanged but restated", func(t *testing.T) {
		t.Parallel()
		q := p
		q.Reason, q.Now, q.ApprovalID = "restated", p.Now.Add(time.Minute), req.ID
		err := s.approvals.Verify(t.Context(), req.ID, q)
		require.NoError(t, err, "requester's words and time are not part of the binding")
	})
}

func TestApprovalBadInput(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	p := s.proposal()
	req := s.request(t, p)
	now := s.clock.Now()
	ctx := t.Context()

	_, err := s.approvals.Approve(ctx, "nope", "alice", now, "")
	require.ErrorIs(t, err, approval.ErrUnknown)
	_, err = s.approvals.Deny(ctx, "nope", "alice", now, "")
	require.ErrorIs(t, err, approval.ErrUnknown)
	_, err = s.approvals.Execute(ctx, "nope", p)
	require.ErrorIs(t, err, approval.ErrUnknown)
	q := p
	q.ApprovalID = "nope"
	d, err := s.engine.Check(ctx, q)
	require.ErrorIs(t, err, safety.ErrApprovalRequired)
	assert.Contains(t, d.ApprovalReason, "unknown approval")

	var ie *provider.InvalidError
	_, err = s.approvals.Approve(ctx, req.ID, "", now, "")
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "approver", ie.Field)
	_, err = s.approvals.Approve(ctx, req.ID, "alice", time.Time{}, "")
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "now", ie.Field)
	_, err = s.approvals.Cancel(ctx, req.ID, "", now, "")
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "by", ie.Field)

	// Only the engine's decision for exactly this proposal, needing
	// approval and not blocked, becomes a request.
	fp := p.Fingerprint()
	tests := []struct {
		name   string
		give   safety.Decision
		reason string
	}{
		{"allowed", safety.Decision{ResourceID: p.Resource.ID, Action: p.Action, Outcome: safety.Pass, Allowed: true, Fingerprint: fp},
			"does not require approval"},
		{"blocked", safety.Decision{ResourceID: p.Resource.ID, Action: p.Action, Outcome: safety.Block, ApprovalRequired: true, Fingerprint: fp,
			Blocking: []safety.Result{{Rule: "backup", Outcome: safety.Block}}}, "is blocked by backup"},
		{"other resource", safety.Decision{ResourceID: "g-9", Action: p.Action, Outcome: safety.RequireApproval, ApprovalRequired: true, Fingerprint: fp},
			"was not made for this proposal"},
	}
	for _, tt := range tests {
		_, err = s.approvals.Request(ctx, p, tt.give, "")
		require.ErrorAs(t, err, &ie, tt.name)
		assert.Contains(t, ie.Reason, tt.reason, tt.name)
	}
	checked, err := s.engine.Check(ctx, p)
	require.ErrorIs(t, err, safety.ErrApprovalRequired)
	changed := p
	changed.Target.Desired = 5
	_, err = s.approvals.Request(ctx, changed, checked, "")
	require.ErrorAs(t, err, &ie, "a decision about another target")
	assert.Contains(t, ie.Reason, "was not made for this proposal")
	bad := p
	bad.Requester = ""
	_, err = s.approvals.Request(ctx, bad, checked, "")
	require.ErrorIs(t, err, provider.ErrInvalid)

	_, err = approval.New(approval.Config{}, nil)
	require.ErrorIs(t, err, provider.ErrInvalid)
	_, err = approval.New(approval.Config{TTL: -time.Minute}, s.store)
	require.ErrorIs(t, err, provider.ErrInvalid)

	// Nothing above changed the request.
	got, err := s.approvals.Get(ctx, req.ID)
	require.NoError(t, err)
	assert.Equal(t, approval.Pending, got.State)
	assert.Len(t, s.log.Events(), 1)
}

func TestApprovalExpireSweep(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	a := s.request(t, s.proposal())
	s.clock.Add(30 * time.Minute)
	p := s.proposal()
	p.Resource.ID = "g-2"
	b := s.request(t, p)
	_, err := s.approvals.Approve(t.Context(), a.ID, "alice", s.clock.Now(), "")
	require.NoError(t, err)

	s.clock.Add(30 * time.Minute) // a is due, b is not
	got, err := s.approvals.Expire(t.Context(), s.clock.Now())
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, a.ID, got[0].ID)
	assert.Equal(t, approval.Expired, got[0].State)

	s.clock.Add(30 * time.Minute)
	got, err = s.approvals.Expire(t.Context(), s.clock.Now())
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, b.ID, got[0].ID)

	got, err = s.approvals.Expire(t.Context(), s.clock.Now())
	require.NoError(t, err)
	assert.Empty(t, got, "expiring is idempotent")
	evs := kinds(s.log.Events())
	assert.Equal(t, []string{
		"approval.requested →pending by autoscaler",
		"approval.requested →pending by autoscaler",
		"approval.approved pending→approved by alice",
		"approval.expired approved→expired by system",
		"approval.expired pending→expired by system",
	}, evs)
}

func TestApprovalAuditFailure(t *testing.T) {
	t.Parallel()
	down := errors.New("audit down")
	var fail atomic.Bool
	au := safety.AuditorFunc(func(context.Context, safety.AuditEvent) error {
		if fail.Load() {
			return down
		}
		return nil
	})
	store := approval.NewMemoryStore()
	apps, err := approval.New(approval.Config{}, store, approval.WithAuditor(au))
	require.NoError(t, err)
	p := scale("g-1", 6, 4)
	d := safety.Decision{ResourceID: p.Resource.ID, Action: p.Action, Outcome: safety.RequireApproval, ApprovalRequired: true,
		Fingerprint: p.Fingerprint()}
	req, err := apps.Request(t.Context(), p, d, "")
	require.NoError(t, err)
	assert.Len(t, req.ID, 32, "default IDs are 16 random bytes in hex")
	fail.Store(true)
	got, err := apps.Approve(t.Context(), req.ID, "alice", t0, "")
	require.ErrorIs(t, err, safety.ErrAudit)
	require.ErrorIs(t, err, down)
	assert.Equal(t, approval.Approved, got.State, "the transition was stored and is reported with the error")
}

// The engine only verifies approvals: Evaluate and Check leave a granted
// approval granted, however often they are asked; Execute consumes it.
func TestEngineConsumesNoApproval(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	p, req := s.approved(t)
	p.ApprovalID = req.ID
	for range 3 {
		d, err := s.engine.Evaluate(t.Context(), p)
		require.NoError(t, err)
		assert.True(t, d.Approved)
		d, err = s.engine.Check(t.Context(), p)
		require.NoError(t, err)
		assert.True(t, d.Approved)
	}
	got, err := s.approvals.Get(t.Context(), req.ID)
	require.NoError(t, err)
	assert.Equal(t, approval.Approved, got.State)
	_, err = s.approvals.Execute(t.Context(), req.ID, p)
	require.NoError(t, err)
	_, err = s.engine.Evaluate(t.Context(), p)
	require.ErrorIs(t, err, safety.ErrApprovalRequired, "once executed, the approval is spent")
}

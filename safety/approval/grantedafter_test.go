package approval_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/approval"
)

// TestApprovalDoesNotCoverAProposalBeforeIt: an approval exists from the
// time it was granted (and its request made) to its expiry, so a
// proposal judged before either is not approved by it: Verify refuses
// it (the engine keeps the proposal waiting for approval), and so do
// Claim and Execute, which change nothing; at or after the grant it is
// accepted as before. (All three checked only the expiry: a claim was
// stored at the proposal's now, before the approval in the audit trail.)
func TestApprovalDoesNotCoverAProposalBeforeIt(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	p := s.proposal()
	req := s.request(t, p)
	granted := t0.Add(10 * time.Minute)
	_, err := s.approvals.Approve(t.Context(), req.ID, "alice", granted, "ok")
	require.NoError(t, err)

	for _, now := range []time.Time{granted.Add(-30 * time.Second), t0.Add(-time.Minute)} {
		early := p
		early.Now, early.ApprovalID = now, req.ID
		err := s.approvals.Verify(t.Context(), req.ID, early)
		require.ErrorIs(t, err, approval.ErrTransition, "%s", now)
		assert.Contains(t, err.Error(), "granted at", "%s", now)
		d, err := s.engine.Evaluate(t.Context(), early)
		require.ErrorIs(t, err, safety.ErrApprovalRequired, "%s", now)
		assert.False(t, d.Approved, "%s", now)
		_, err = s.approvals.Claim(t.Context(), req.ID, early)
		require.ErrorIs(t, err, approval.ErrTransition, "%s", now)
		_, err = s.approvals.Execute(t.Context(), req.ID, early)
		require.ErrorIs(t, err, approval.ErrTransition, "%s", now)
		got, err := s.approvals.Get(t.Context(), req.ID)
		require.NoError(t, err)
		assert.Equal(t, approval.Approved, got.State, "%s: nothing changed", now)
	}

	at := p
	at.Now, at.ApprovalID = granted, req.ID
	require.NoError(t, s.approvals.Verify(t.Context(), req.ID, at))
	got, err := s.approvals.Claim(t.Context(), req.ID, at)
	require.NoError(t, err)
	assert.Equal(t, approval.Executing, got.State)
}

// TestApprovalDecidedBeforeItsRequestCoversFromTheRequest: an approval
// whose decision is stamped before its request was made (the approver's
// clock behind the requester's) exists only from the request on, so a
// proposal judged between the two is not approved by it: Verify, Claim
// and Execute refuse it, and at the request's time it is accepted.
func TestApprovalDecidedBeforeItsRequestCoversFromTheRequest(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	p := s.proposal()
	req := s.request(t, p)
	require.Equal(t, t0, req.CreatedAt)
	got, err := s.approvals.Approve(t.Context(), req.ID, "alice", t0.Add(-5*time.Minute), "ok")
	require.NoError(t, err)
	require.True(t, got.DecidedAt.Before(got.CreatedAt))

	early := p
	early.Now, early.ApprovalID = t0.Add(-2*time.Minute), req.ID
	err = s.approvals.Verify(t.Context(), req.ID, early)
	require.ErrorIs(t, err, approval.ErrTransition)
	assert.Contains(t, err.Error(), t0.Format(time.RFC3339Nano), "the request's time is the grant's")
	_, err = s.approvals.Claim(t.Context(), req.ID, early)
	require.ErrorIs(t, err, approval.ErrTransition)
	_, err = s.approvals.Execute(t.Context(), req.ID, early)
	require.ErrorIs(t, err, approval.ErrTransition)
	got, err = s.approvals.Get(t.Context(), req.ID)
	require.NoError(t, err)
	assert.Equal(t, approval.Approved, got.State, "nothing changed")

	at := p
	at.Now, at.ApprovalID = t0, req.ID
	require.NoError(t, s.approvals.Verify(t.Context(), req.ID, at))
}

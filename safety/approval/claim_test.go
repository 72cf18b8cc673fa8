package approval_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/approval"
)

// claimed files a request for a fresh proposal, has alice approve it and
// claims it.
func (s *setup) claimed(t *testing.T) (safety.Proposal, approval.Request) {
	t.Helper()
	p, req := s.approved(t)
	req, err := s.approvals.Claim(t.Context(), req.ID, p)
	require.NoError(t, err)
	return p, req
}

// A claim records who took the approval and when; Release clears it and
// the approval can be used again; Complete keeps it with the close time.
func TestClaimCompleteRelease(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	p, req := s.approved(t)
	p.Now = s.clock.Now().Add(time.Minute)

	got, err := s.approvals.Claim(t.Context(), req.ID, p)
	require.NoError(t, err)
	assert.Equal(t, approval.Executing, got.State)
	assert.Equal(t, "autoscaler", got.ClaimedBy)
	assert.Equal(t, p.Now, got.ClaimedAt)
	assert.True(t, got.ClosedAt.IsZero())

	// While claimed, the engine does not accept the approval: nobody else
	// acts on it.
	q := p
	q.ApprovalID = req.ID
	_, err = s.engine.Check(t.Context(), q)
	require.ErrorIs(t, err, safety.ErrApprovalRequired)
	require.ErrorIs(t, s.approvals.Verify(t.Context(), req.ID, p), approval.ErrTransition)

	got, err = s.approvals.Release(t.Context(), req.ID, "autoscaler", p.Now, "throttled")
	require.NoError(t, err)
	assert.Equal(t, approval.Approved, got.State)
	assert.Empty(t, got.ClaimedBy)
	assert.True(t, got.ClaimedAt.IsZero())
	assert.Equal(t, "alice", got.DecidedBy, "the approval is the one alice gave")
	require.NoError(t, s.approvals.Verify(t.Context(), req.ID, p), "released: usable again")

	p.Now = p.Now.Add(time.Minute)
	_, err = s.approvals.Claim(t.Context(), req.ID, p)
	require.NoError(t, err)
	got, err = s.approvals.Complete(t.Context(), req.ID, "autoscaler", p.Now.Add(time.Second), "stop accepted")
	require.NoError(t, err)
	assert.Equal(t, approval.Executed, got.State)
	assert.Equal(t, p.Now, got.ClaimedAt)
	assert.Equal(t, p.Now.Add(time.Second), got.ClosedAt)

	evs := s.log.Events()
	require.Len(t, evs, 6)
	assert.Equal(t, safety.AuditApprovalReleased, evs[3].Kind)
	assert.Equal(t, "throttled", evs[3].Reason)
	assert.Equal(t, safety.AuditApprovalExecuted, evs[5].Kind)
	assert.Equal(t, "stop accepted", evs[5].Reason)
}

// A claim is for exactly the approved proposal.
func TestClaimBoundToProposal(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	p, req := s.approved(t)
	other := p
	other.Target.Desired = 3
	_, err := s.approvals.Claim(t.Context(), req.ID, other)
	require.ErrorIs(t, err, approval.ErrMismatch)
	got, err := s.approvals.Get(t.Context(), req.ID)
	require.NoError(t, err)
	assert.Equal(t, approval.Approved, got.State)
}

// Only one of many concurrent claims wins.
func TestClaimOnce(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	p, req := s.approved(t)
	var won atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := s.approvals.Claim(context.Background(), req.ID, p); err == nil {
				won.Add(1)
			} else if !errors.Is(err, approval.ErrTransition) {
				t.Errorf("claim: %v", err)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), won.Load())
}

// A claim whose outcome is never reported (the host crashed) stays
// executing until its expiry, then Expire moves it to expired and says
// why; it never becomes usable again.
func TestExpireSweepsUnreportedClaims(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	_, req := s.claimed(t)

	expired, err := s.approvals.Expire(t.Context(), req.ExpiresAt.Add(-time.Nanosecond))
	require.NoError(t, err)
	assert.Empty(t, expired, "before its expiry a claim is left to its owner")
	listed, err := s.approvals.List(t.Context(), approval.Filter{State: approval.Executing})
	require.NoError(t, err)
	require.Len(t, listed, 1, "an unreported claim is visible")

	expired, err = s.approvals.Expire(t.Context(), req.ExpiresAt)
	require.NoError(t, err)
	require.Len(t, expired, 1)
	assert.Equal(t, approval.Expired, expired[0].State)
	evs := s.log.Events()
	last := evs[len(evs)-1]
	assert.Equal(t, safety.AuditApprovalExpired, last.Kind)
	assert.Equal(t, "executing", last.From)
	assert.Contains(t, last.Reason, "never reported")
	assert.Contains(t, last.Reason, "claimed by autoscaler")

	// The claimer reports after the sweep (another replica's, run just
	// as the claim was taken): the change happened, and the trail says so
	// after saying it was never reported. Refused, the report was lost
	// and the trail kept "the change may or may not have happened".
	got, err := s.approvals.Complete(t.Context(), req.ID, "autoscaler", req.ExpiresAt.Add(time.Second), "stop accepted")
	require.NoError(t, err)
	assert.Equal(t, approval.Executed, got.State)
	assert.Equal(t, req.ExpiresAt.Add(time.Second), got.ClosedAt)
	evs = s.log.Events()
	last = evs[len(evs)-1]
	assert.Equal(t, safety.AuditApprovalExecuted, last.Kind)
	assert.Equal(t, "expired", last.From)
	assert.Equal(t, "reported after the request expired while executing: stop accepted", last.Reason)
	_, err = s.approvals.Complete(t.Context(), req.ID, "autoscaler", req.ExpiresAt.Add(time.Minute), "")
	require.ErrorIs(t, err, approval.ErrTransition, "reported once")
	_, err = s.approvals.Release(t.Context(), req.ID, "autoscaler", req.ExpiresAt.Add(time.Minute), "")
	require.ErrorIs(t, err, approval.ErrTransition)

	// An approval that expired unclaimed, or after its claim was
	// released, has no outcome to report.
	_, unclaimed := s.approved(t)
	_, err = s.approvals.Expire(t.Context(), unclaimed.ExpiresAt)
	require.NoError(t, err)
	_, err = s.approvals.Complete(t.Context(), unclaimed.ID, "autoscaler", unclaimed.ExpiresAt, "")
	require.ErrorIs(t, err, approval.ErrTransition, "never claimed")
	p, released := s.approved(t)
	_, err = s.approvals.Claim(t.Context(), released.ID, p)
	require.NoError(t, err)
	_, err = s.approvals.Release(t.Context(), released.ID, "autoscaler", p.Now, "throttled")
	require.NoError(t, err)
	_, err = s.approvals.Expire(t.Context(), released.ExpiresAt)
	require.NoError(t, err)
	_, err = s.approvals.Complete(t.Context(), released.ID, "autoscaler", released.ExpiresAt, "")
	require.ErrorIs(t, err, approval.ErrTransition, "released, then expired")
}

// A claim stored but not audited is reported with safety.ErrAudit; the
// host releases it (audited when the auditor works again).
func TestClaimNotAudited(t *testing.T) {
	t.Parallel()
	var failing atomic.Bool
	boom := errors.New("audit sink down")
	log := &safety.AuditLog{}
	au := safety.AuditorFunc(func(ctx context.Context, ev safety.AuditEvent) error {
		if failing.Load() {
			return boom
		}
		return log.Record(ctx, ev)
	})
	store := approval.NewMemoryStore()
	m, err := approval.New(approval.Config{TTL: time.Hour}, store, approval.WithAuditor(au))
	require.NoError(t, err)
	p := scale("g-1", 6, 4)
	d := safety.Decision{ResourceID: p.Resource.ID, Action: p.Action, Outcome: safety.RequireApproval,
		ApprovalRequired: true, Fingerprint: p.Fingerprint()}
	req, err := m.Request(t.Context(), p, d, "")
	require.NoError(t, err)
	_, err = m.Approve(t.Context(), req.ID, "alice", t0, "")
	require.NoError(t, err)

	failing.Store(true)
	got, err := m.Claim(t.Context(), req.ID, p)
	require.ErrorIs(t, err, safety.ErrAudit)
	require.ErrorIs(t, err, boom)
	assert.Equal(t, approval.Executing, got.State, "the claim was stored")
	failing.Store(false)
	got, err = m.Release(t.Context(), req.ID, "autoscaler", t0, "claim not audited: not acting")
	require.NoError(t, err)
	assert.Equal(t, approval.Approved, got.State)
	assert.Equal(t, safety.AuditApprovalReleased, log.Events()[len(log.Events())-1].Kind)
}

func TestCompleteReleaseInvalid(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	p, req := s.claimed(t)
	for name, call := range map[string]func() error{
		"complete without by":  func() error { _, err := s.approvals.Complete(t.Context(), req.ID, "", t0, ""); return err },
		"release without by":   func() error { _, err := s.approvals.Release(t.Context(), req.ID, "", t0, ""); return err },
		"complete at zero now": func() error { _, err := s.approvals.Complete(t.Context(), req.ID, "x", time.Time{}, ""); return err },
		"release at zero now":  func() error { _, err := s.approvals.Release(t.Context(), req.ID, "x", time.Time{}, ""); return err },
		"claim invalid proposal": func() error {
			q := p
			q.Resource.ID = ""
			_, err := s.approvals.Claim(t.Context(), req.ID, q)
			return err
		},
	} {
		require.ErrorIs(t, call(), provider.ErrInvalid, name)
	}
	_, err := s.approvals.Release(t.Context(), "nope", "x", t0, "")
	require.ErrorIs(t, err, approval.ErrUnknown)
	var zero approval.Manager
	_, err = zero.Claim(t.Context(), req.ID, p)
	require.ErrorIs(t, err, provider.ErrInvalid)
	_, err = zero.Complete(t.Context(), req.ID, "x", t0, "")
	require.ErrorIs(t, err, provider.ErrInvalid)
	_, err = zero.Release(t.Context(), req.ID, "x", t0, "")
	require.ErrorIs(t, err, provider.ErrInvalid)
}

// A claim released at or after its expiry is expired instead, and the
// audit says it was released too late with nothing changed.
func TestReleaseAfterExpiry(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	_, req := s.claimed(t)
	got, err := s.approvals.Release(t.Context(), req.ID, "autoscaler", req.ExpiresAt, "host restarted")
	require.ErrorIs(t, err, approval.ErrExpired)
	var te *approval.TransitionError
	require.ErrorAs(t, err, &te)
	assert.True(t, te.Expired)
	assert.Equal(t, approval.Expired, got.State)
	evs := s.log.Events()
	last := evs[len(evs)-1]
	assert.Equal(t, safety.AuditApprovalExpired, last.Kind)
	assert.Equal(t, "expired at "+req.ExpiresAt.Format(time.RFC3339)+"; released after it by autoscaler (nothing was changed)", last.Reason)

	// Completed after it, the change is recorded: it started before.
	_, req = s.claimed(t)
	got, err = s.approvals.Complete(t.Context(), req.ID, "autoscaler", req.ExpiresAt, "")
	require.NoError(t, err)
	assert.Equal(t, approval.Executed, got.State)
}

// Complete and Release refuse an identity that is empty once normalised
// (only white space or invisible characters), as Approve, Deny and Cancel
// do: a settled claim is never recorded as done by nobody. The claim
// stays executing and nothing is audited.
func TestCompleteReleaseRefuseBlankIdentity(t *testing.T) {
	t.Parallel()
	for _, who := range []string{" ", "\t\u00a0", "\u200b"} {
		for name, settle := range map[string]func(*approval.Manager, context.Context, string, string, time.Time, string) (approval.Request, error){
			"complete": (*approval.Manager).Complete,
			"release":  (*approval.Manager).Release,
		} {
			s := newSetup(t)
			_, req := s.claimed(t)
			events := len(s.log.Events())
			_, err := settle(s.approvals, t.Context(), req.ID, who, s.clock.Now(), "")
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie, "%s by %q", name, who)
			assert.Equal(t, "by", ie.Field)
			got, err := s.approvals.Get(t.Context(), req.ID)
			require.NoError(t, err)
			assert.Equal(t, approval.Executing, got.State, "%s by %q", name, who)
			assert.Len(t, s.log.Events(), events, "%s by %q: nothing audited", name, who)
		}
	}
}

// Verify checks the proposal as Execute does ("Errors as for Execute"):
// a proposal without a time was checked against the zero time, which is
// before every expiry, so an expired approval verified as valid; a
// requester with a control character verified too.
func TestVerifyRefusesAnInvalidProposal(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	p, req := s.approved(t)
	ctx := t.Context()

	noTime := p
	noTime.Now = time.Time{}
	require.ErrorIs(t, s.approvals.Verify(ctx, req.ID, noTime), provider.ErrInvalid, "no time")
	_, err := s.approvals.Execute(ctx, req.ID, noTime)
	require.ErrorIs(t, err, provider.ErrInvalid, "as Execute")

	hidden := p
	hidden.Requester = "autoscaler\x00"
	require.ErrorIs(t, s.approvals.Verify(ctx, req.ID, hidden), provider.ErrInvalid, "control character")

	require.NoError(t, s.approvals.Verify(ctx, req.ID, p), "the valid proposal still verifies")
	late := p
	late.Now = req.ExpiresAt
	require.ErrorIs(t, s.approvals.Verify(ctx, req.ID, late), approval.ErrExpired)
}

// A claim released at or past its expiry (the provider said nothing
// changed) moves to expired with the trail saying nothing was changed:
// its outcome was reported, so a Complete after it is refused, and the
// trail never says that the change happened. (A review found the late
// Complete of ae9b4cc took it for a claim that expired unreported, since
// the lapsed Release kept the claim, and moved it to executed.)
func TestReleasedAtItsExpiryIsNotCompletedLate(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	_, req := s.claimed(t)
	got, err := s.approvals.Release(t.Context(), req.ID, "autoscaler", req.ExpiresAt, "throttled")
	require.ErrorIs(t, err, approval.ErrExpired)
	assert.Equal(t, approval.Expired, got.State)
	evs := s.log.Events()
	assert.Contains(t, evs[len(evs)-1].Reason, "nothing was changed")

	_, err = s.approvals.Complete(t.Context(), req.ID, "autoscaler", req.ExpiresAt.Add(time.Second), "stop accepted")
	require.ErrorIs(t, err, approval.ErrTransition, "its outcome was reported: nothing changed")
	stored, err := s.approvals.Get(t.Context(), req.ID)
	require.NoError(t, err)
	assert.Equal(t, approval.Expired, stored.State)
	evs = s.log.Events()
	assert.NotEqual(t, safety.AuditApprovalExecuted, evs[len(evs)-1].Kind)
}

// A claim that another replica's sweep expired before its claimer could
// report (Expire, then Release: the provider said nothing changed) is
// settled by the late Release as by one at its expiry: the trail says
// nothing was changed, and a Complete after it is refused. The Release
// was refused and recorded nothing, so the claim stayed, the trail kept
// saying that the outcome was never reported (the change may have
// happened), and a Complete after it moved the request to executed: the
// trail then said that a change happened that never did.
func TestReleasedAfterTheSweepIsNotCompletedLate(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	_, req := s.claimed(t)
	swept, err := s.approvals.Expire(t.Context(), req.ExpiresAt)
	require.NoError(t, err)
	require.Len(t, swept, 1)
	require.Equal(t, approval.Expired, swept[0].State)

	got, err := s.approvals.Release(t.Context(), req.ID, "autoscaler", req.ExpiresAt.Add(time.Second), "throttled")
	require.ErrorIs(t, err, approval.ErrExpired, "as a release at the expiry")
	assert.Equal(t, approval.Expired, got.State)
	assert.Empty(t, got.ClaimedBy, "the claim is settled")
	evs := s.log.Events()
	last := evs[len(evs)-1]
	assert.Equal(t, safety.AuditApprovalExpired, last.Kind)
	assert.Equal(t, "expired at "+req.ExpiresAt.Format(time.RFC3339)+"; released after it by autoscaler (nothing was changed)", last.Reason)

	_, err = s.approvals.Complete(t.Context(), req.ID, "autoscaler", req.ExpiresAt.Add(2*time.Second), "stop accepted")
	require.ErrorIs(t, err, approval.ErrTransition, "its outcome was reported: nothing changed")
	stored, err := s.approvals.Get(t.Context(), req.ID)
	require.NoError(t, err)
	assert.Equal(t, approval.Expired, stored.State)
	assert.Equal(t, req.ExpiresAt, stored.ClosedAt, "closed by the sweep")
	evs = s.log.Events()
	assert.NotEqual(t, safety.AuditApprovalExecuted, evs[len(evs)-1].Kind)

	// Released again, it is refused and records nothing more.
	n := len(evs)
	_, err = s.approvals.Release(t.Context(), req.ID, "autoscaler", req.ExpiresAt.Add(3*time.Second), "throttled")
	require.ErrorIs(t, err, approval.ErrExpired)
	assert.Len(t, s.log.Events(), n)
}

package reaper_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/reaper"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/approval"
)

// An approval granted after the time a run judges its proposal at (a
// human approves in the run's first minute, whose checks are all made at
// the run's now) did not exist then: the run does not act on it nor ask
// again, and the next run acts on it. (The run presented it, the gate
// accepted it and the claim was stamped before the approval, so the
// audit trail showed the stop claimed 30 s before anyone approved it.)
func TestApprovalGrantedAfterTheProposalIsNotUsedForIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	r := e.reaper(t, reaper.Config{Execute: true})
	e.add(t, vm{id: "i-prod", cpu: 0.02, env: "production"})
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	id := record(t, rep, "i-prod").ApprovalID
	require.NotEmpty(t, id)
	run := t0.Add(10 * time.Minute)
	_, err = e.approvals.Approve(t.Context(), id, "alice", run.Add(30*time.Second), "ok")
	require.NoError(t, err)

	rep, err = e.run(t.Context(), t, r, run)
	require.NoError(t, err)
	rec := record(t, rep, "i-prod")
	assert.Equal(t, reaper.OutcomeNeedsApproval, rec.Outcome, rec.Reason)
	assert.Equal(t, id, rec.ApprovalID, "no second request")
	assert.Empty(t, e.actions())
	reqs, err := e.approvals.List(t.Context(), approval.Filter{ResourceID: "i-prod"})
	require.NoError(t, err)
	assert.Len(t, reqs, 1, "no second request")

	rep, err = e.run(t.Context(), t, r, run.Add(time.Minute))
	require.NoError(t, err)
	rec = record(t, rep, "i-prod")
	assert.Equal(t, reaper.OutcomeActed, rec.Outcome, rec.Reason)
	assert.Equal(t, id, rec.ApprovalID)
	res, err := e.cloud.Get(t.Context(), "i-prod")
	require.NoError(t, err)
	assert.Equal(t, provider.StateStopped, res.State)
}

// TestApprovalGrantedAfterTheProposalWithAHostsVerifier: the run itself
// waits for an approval granted after the time it judges its proposal at,
// or before its request was made, whatever verifier the safety engine
// uses: a host's own (ApprovalVerifierFunc, here one that checks only
// the state, the binding and the expiry) accepts it, and the run then
// failed on the claim instead of waiting for the approval.
func TestApprovalGrantedAfterTheProposalWithAHostsVerifier(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		granted time.Duration // after the run's now
		run     time.Duration // after t0, the first run's now and the request's
	}{
		{name: "granted after the run's now", granted: 30 * time.Second, run: 10 * time.Minute},
		{name: "granted before the request, judged before it", granted: -time.Minute, run: -30 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, memory.Config{})
			rules, err := safety.Builtin(safety.BuiltinConfig{}, safety.BuiltinSources{Backups: e.cloud, History: e.history})
			require.NoError(t, err)
			e.engine, err = safety.New(safety.Config{}, rules, safety.WithAuditor(e.audit),
				safety.WithApprovals(safety.ApprovalVerifierFunc(func(ctx context.Context, id string, p safety.Proposal) error {
					q, err := e.approvals.Get(ctx, id)
					if err != nil {
						return err
					}
					if q.State != approval.Approved || q.Fingerprint != p.Fingerprint() || !p.Now.Before(q.ExpiresAt) {
						return errors.New("not approved")
					}
					return nil
				})))
			require.NoError(t, err)
			r := e.reaper(t, reaper.Config{Execute: true})
			e.add(t, vm{id: "i-prod", cpu: 0.02, env: "production"})
			rep, err := e.run(t.Context(), t, r, t0)
			require.NoError(t, err)
			id := record(t, rep, "i-prod").ApprovalID
			require.NotEmpty(t, id)
			run := t0.Add(tc.run)
			_, err = e.approvals.Approve(t.Context(), id, "alice", run.Add(tc.granted), "ok")
			require.NoError(t, err)

			rep, err = e.run(t.Context(), t, r, run)
			require.NoError(t, err)
			rec := record(t, rep, "i-prod")
			assert.Equal(t, reaper.OutcomeNeedsApproval, rec.Outcome, rec.Reason)
			assert.Equal(t, id, rec.ApprovalID)
			assert.Empty(t, e.actions())
		})
	}
}

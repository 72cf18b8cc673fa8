package safety_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/approval"
)

// countingVerifier counts the Verify calls it forwards to m.
type countingVerifier struct {
	m     *approval.Manager
	calls atomic.Int32
}

func (v *countingVerifier) Verify(ctx context.Context, id string, p safety.Proposal) error {
	v.calls.Add(1)
	return v.m.Verify(ctx, id, p)
}

// A granted approval answers "may this go ahead although it needs
// approval?", never "although a rule blocks it": a proposal carrying a
// valid approval is still blocked by a rule that blocks, errors, panics,
// times out or is cancelled (fail closed), whether the failing rule asks
// for approval itself or not. The verifier is not even asked.
func TestApprovalNeverLiftsABlock(t *testing.T) {
	t.Parallel()
	owner := fixed("owner", safety.Result{Outcome: safety.RequireApproval, Risk: safety.RiskMedium, Reason: "owner must agree"})
	failing := map[string]safety.Rule{
		"blocks": fixed("gate", safety.Result{Outcome: safety.Block, Risk: safety.RiskLow, Reason: "blackout"}),
		"errors": safety.Named("gate", safety.RuleFunc(func(context.Context, safety.Proposal) (safety.Result, error) {
			return safety.Result{}, errors.New("backup catalog unreachable")
		})),
		"panics": safety.Named("gate", safety.RuleFunc(func(context.Context, safety.Proposal) (safety.Result, error) {
			panic("boom")
		})),
		"times out": safety.Named("gate", safety.RuleFunc(func(ctx context.Context, _ safety.Proposal) (safety.Result, error) {
			<-ctx.Done()
			return safety.Result{}, ctx.Err()
		})),
		"answers after its deadline": safety.Named("gate", safety.RuleFunc(func(ctx context.Context, _ safety.Proposal) (safety.Result, error) {
			<-ctx.Done()
			return safety.Result{}, nil // a pass given too late is not trusted
		})),
	}
	for name, gate := range failing {
		for _, withOwner := range []bool{true, false} {
			sub := name + ", no approval rule"
			if withOwner {
				sub = name + ", with approval rule"
			}
			t.Run(sub, func(t *testing.T) {
				t.Parallel()
				synctest.Test(t, func(t *testing.T) {
					mgr, err := approval.New(approval.Config{}, approval.NewMemoryStore())
					require.NoError(t, err)
					v := &countingVerifier{m: mgr}
					cfg := safety.Config{Timeout: time.Second}
					p := stop("i-1")

					// The approval is granted while only the owner rule
					// speaks: it is valid for p.
					asks, err := safety.New(cfg, []safety.Rule{owner}, safety.WithApprovals(v))
					require.NoError(t, err)
					d, err := asks.Evaluate(t.Context(), p)
					require.ErrorIs(t, err, safety.ErrApprovalRequired)
					req, err := mgr.Request(t.Context(), p, d, "nightly stop")
					require.NoError(t, err)
					_, err = mgr.Approve(t.Context(), req.ID, "owner@example.com", p.Now, "ok")
					require.NoError(t, err)
					p.ApprovalID = req.ID
					d, err = asks.Evaluate(t.Context(), p)
					require.NoError(t, err, "the approval is valid on its own")
					require.True(t, d.Approved)
					v.calls.Store(0)

					// Later a rule blocks or fails: the approval does not
					// carry the proposal through it.
					rules := []safety.Rule{gate}
					if withOwner {
						rules = append(rules, owner)
					}
					eng, err := safety.New(cfg, rules, safety.WithApprovals(v))
					require.NoError(t, err)
					for _, check := range []func(context.Context, safety.Proposal) (safety.Decision, error){eng.Evaluate, eng.Check} {
						d, err := check(t.Context(), p)
						require.ErrorIs(t, err, safety.ErrBlocked)
						require.NotErrorIs(t, err, safety.ErrApprovalRequired)
						assert.False(t, d.Allowed)
						assert.False(t, d.Approved)
						assert.Equal(t, safety.Block, d.Outcome)
						assert.Equal(t, []string{"gate"}, d.BlockingRules())
						assert.Empty(t, d.Fingerprint, "a blocked decision cannot be approved, so it has no fingerprint to approve")
					}
					rep, err := eng.Preview(t.Context(), []safety.Proposal{p})
					require.NoError(t, err)
					assert.Equal(t, 1, rep.Blocked)
					assert.Zero(t, rep.Allowed)

					// A cancelled check fails the same way.
					ctx, cancel := context.WithCancel(t.Context())
					cancel()
					d, err = eng.Evaluate(ctx, p)
					require.ErrorIs(t, err, safety.ErrBlocked)
					assert.False(t, d.Approved)
					assert.Equal(t, int32(0), v.calls.Load(), "the verifier is not asked about a blocked proposal")
				})
			})
		}
	}
}

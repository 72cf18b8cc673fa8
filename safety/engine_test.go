package safety_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

func TestEngineCombines(t *testing.T) {
	t.Parallel()
	ok := fixed("ok", safety.Result{})
	low := fixed("low", safety.Result{Risk: safety.RiskLow, Reason: "fine", Recommendations: []string{"r1"}})
	med := fixed("med", safety.Result{Risk: safety.RiskMedium, Factors: []string{"f1", "f2"}, Recommendations: []string{"r1", "r2"}})
	appr := fixed("appr", safety.Result{Outcome: safety.RequireApproval, Risk: safety.RiskMedium, Reason: "owner must agree"})
	high := fixed("high", safety.Result{Risk: safety.RiskHigh, Reason: "risky"})
	block := fixed("block", safety.Result{Outcome: safety.Block, Risk: safety.RiskMedium, Reason: "no"})
	tests := []struct {
		name         string
		give         []safety.Rule
		policy       safety.Config
		wantOutcome  safety.Outcome
		wantRisk     safety.Risk
		wantApproval bool
		wantBlocking []string
		wantRecs     []string
		wantFactors  []string
	}{
		{name: "no rules", policy: safety.Config{AllowNoRules: true}, wantOutcome: safety.Pass, wantRisk: safety.RiskLow},
		{name: "all pass", give: []safety.Rule{ok, low}, wantOutcome: safety.Pass, wantRisk: safety.RiskLow,
			wantRecs: []string{"r1"}, wantFactors: []string{"low: fine (low)"}},
		{name: "medium risk", give: []safety.Rule{low, med}, wantOutcome: safety.Pass, wantRisk: safety.RiskMedium,
			wantRecs: []string{"r1", "r2"}, wantFactors: []string{"med: f1 (medium)", "med: f2 (medium)", "low: fine (low)"}},
		{name: "rule asks approval", give: []safety.Rule{ok, appr}, wantOutcome: safety.RequireApproval, wantRisk: safety.RiskMedium, wantApproval: true,
			wantFactors: []string{"appr: owner must agree (medium)"}},
		{name: "high risk needs approval", give: []safety.Rule{ok, high}, wantOutcome: safety.RequireApproval, wantRisk: safety.RiskHigh, wantApproval: true,
			wantFactors: []string{"high: risky (high)"}},
		{name: "approval level medium", give: []safety.Rule{med}, policy: safety.Config{ApprovalRisk: safety.RiskMedium},
			wantOutcome: safety.RequireApproval, wantRisk: safety.RiskMedium, wantApproval: true,
			wantRecs: []string{"r1", "r2"}, wantFactors: []string{"med: f1 (medium)", "med: f2 (medium)"}},
		{name: "block wins over approval", give: []safety.Rule{appr, block, ok}, wantOutcome: safety.Block, wantRisk: safety.RiskMedium, wantApproval: true,
			wantBlocking: []string{"block"}, wantFactors: []string{"appr: owner must agree (medium)", "block: no (medium)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			eng, err := safety.New(tt.policy, tt.give)
			require.NoError(t, err)
			d, err := eng.Check(t.Context(), stop("i-1"))
			assert.Equal(t, tt.wantOutcome, d.Outcome)
			assert.Equal(t, tt.wantOutcome == safety.Pass, d.Allowed)
			assert.Equal(t, tt.wantRisk, d.Risk)
			assert.Equal(t, tt.wantApproval, d.ApprovalRequired)
			assert.Equal(t, tt.wantRecs, d.Recommendations)
			assert.Len(t, d.Results, len(tt.give))
			var factors []string
			for _, f := range d.Factors {
				factors = append(factors, f.String())
			}
			assert.Equal(t, tt.wantFactors, factors)
			if tt.wantBlocking == nil {
				assert.Empty(t, d.Blocking)
			} else {
				assert.Equal(t, tt.wantBlocking, d.BlockingRules())
			}
			if d.Allowed {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, safety.ErrBlocked)
			var be *safety.BlockedError
			require.ErrorAs(t, err, &be)
			assert.Equal(t, d.Outcome, be.Decision.Outcome)
			assert.Equal(t, tt.wantOutcome == safety.RequireApproval, errors.Is(err, safety.ErrApprovalRequired))
		})
	}
}

func TestEngineFailsClosed(t *testing.T) {
	t.Parallel()
	boom := errors.New("catalog down")
	tests := []struct {
		name      string
		rule      safety.RuleFunc
		wantCause error
		wantPanic bool
	}{
		{name: "error", rule: func(context.Context, safety.Proposal) (safety.Result, error) {
			return safety.Result{}, boom
		}, wantCause: boom},
		{name: "error with a pass result", rule: func(context.Context, safety.Proposal) (safety.Result, error) {
			return safety.Result{Outcome: safety.Pass}, boom
		}, wantCause: boom},
		{name: "panic", rule: func(context.Context, safety.Proposal) (safety.Result, error) {
			panic("nil map")
		}, wantPanic: true},
		{name: "invalid outcome", rule: func(context.Context, safety.Proposal) (safety.Result, error) {
			return safety.Result{Outcome: "maybe"}, nil
		}, wantCause: provider.ErrInvalid},
		{name: "invalid risk", rule: func(context.Context, safety.Proposal) (safety.Result, error) {
			return safety.Result{Risk: "extreme"}, nil
		}, wantCause: provider.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			eng, err := safety.New(safety.Config{}, []safety.Rule{fixed("ok", safety.Result{}), safety.Named("bad", tt.rule)})
			require.NoError(t, err)
			d, err := eng.Check(t.Context(), stop("i-1"))
			require.ErrorIs(t, err, safety.ErrBlocked)
			require.ErrorIs(t, err, safety.ErrRuleFailed)
			assert.False(t, d.Allowed)
			assert.Equal(t, safety.Block, d.Outcome)
			assert.Equal(t, safety.RiskHigh, d.Risk)
			require.Equal(t, []string{"bad"}, d.BlockingRules())
			var re *safety.RuleError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, "bad", re.Rule)
			if tt.wantPanic {
				assert.Equal(t, "nil map", re.Panic)
				assert.Contains(t, d.Blocking[0].Reason, "panicked")
			} else {
				require.ErrorIs(t, err, tt.wantCause)
			}
		})
	}
}

func TestEngineTimeout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var started atomic.Int32
		// hung ignores its context entirely; polite honours it.
		hung := safety.Named("hung", safety.RuleFunc(func(context.Context, safety.Proposal) (safety.Result, error) {
			started.Add(1)
			<-release
			return safety.Result{}, nil
		}))
		polite := safety.Named("polite", safety.RuleFunc(func(ctx context.Context, _ safety.Proposal) (safety.Result, error) {
			<-ctx.Done()
			return safety.Result{}, ctx.Err()
		}))
		eng, err := safety.New(safety.Config{Timeout: 3 * time.Second}, []safety.Rule{fixed("ok", safety.Result{}), hung, polite})
		require.NoError(t, err)
		start := time.Now()
		d, err := eng.Check(t.Context(), stop("i-1"))
		assert.Equal(t, 3*time.Second, time.Since(start), "the check returns at its timeout, not when the hung rule does")
		require.ErrorIs(t, err, safety.ErrBlocked)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, []string{"hung", "polite"}, d.BlockingRules())
		assert.Contains(t, d.Blocking[0].Reason, "timed out after 3s")
		assert.Equal(t, safety.Pass, d.Results[0].Outcome)
		assert.Equal(t, int32(1), started.Load())
		close(release) // let the abandoned goroutine end inside the bubble
	})
}

func TestEngineStartsNoRuleAfterTimeout(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		var late atomic.Int32
		// With one worker, "slow" holds it past the timeout; "late" must
		// then be failed without ever running.
		slow := safety.Named("slow", safety.RuleFunc(func(context.Context, safety.Proposal) (safety.Result, error) {
			<-release
			return safety.Result{}, nil
		}))
		lateRule := safety.Named("late", safety.RuleFunc(func(context.Context, safety.Proposal) (safety.Result, error) {
			late.Add(1)
			return safety.Result{}, nil
		}))
		eng, err := safety.New(safety.Config{Timeout: time.Second, Concurrency: 1}, []safety.Rule{slow, lateRule})
		require.NoError(t, err)
		d, err := eng.Check(t.Context(), stop("i-1"))
		require.ErrorIs(t, err, safety.ErrBlocked)
		assert.Equal(t, []string{"slow", "late"}, d.BlockingRules())
		close(release) // the worker returns from "slow" after the check
		synctest.Wait()
		assert.Zero(t, late.Load(), "a rule is not started once the check has timed out")
	})
}

func TestEngineCancelled(t *testing.T) {
	t.Parallel()
	t.Run("before the check", func(t *testing.T) {
		t.Parallel()
		var ran atomic.Int32
		r := safety.Named("counted", safety.RuleFunc(func(context.Context, safety.Proposal) (safety.Result, error) {
			ran.Add(1)
			return safety.Result{}, nil
		}))
		eng, err := safety.New(safety.Config{}, []safety.Rule{r})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		d, err := eng.Check(ctx, stop("i-1"))
		require.ErrorIs(t, err, safety.ErrBlocked)
		require.ErrorIs(t, err, context.Canceled)
		assert.False(t, d.Allowed)
		assert.Equal(t, int32(0), ran.Load(), "no rule runs on a cancelled context")
	})
	t.Run("during the check", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		started := make(chan struct{})
		waiting := safety.Named("waiting", safety.RuleFunc(func(ctx context.Context, _ safety.Proposal) (safety.Result, error) {
			close(started)
			<-ctx.Done()
			return safety.Result{}, nil // claiming success after cancellation still fails
		}))
		eng, err := safety.New(safety.Config{}, []safety.Rule{fixed("ok", safety.Result{}), waiting})
		require.NoError(t, err)
		go func() {
			<-started
			cancel()
		}()
		d, err := eng.Check(ctx, stop("i-1"))
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, []string{"waiting"}, d.BlockingRules())
		assert.Contains(t, d.Blocking[0].Reason, "cancelled")
	})
}

// TestRuleFailureReasonSaysWhatStoppedIt: a failed rule's reason names
// what stopped it. Only the engine's own timeout is "timed out after"
// Config.Timeout; the caller's deadline, shorter than it, ends the check
// (and keeps an inline rule, subject to no timeout, from running); a rule
// whose own source ran out of time failed with that error, the engine's
// timeout far away.
func TestRuleFailureReasonSaysWhatStoppedIt(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		polite := safety.Named("polite", safety.RuleFunc(func(ctx context.Context, _ safety.Proposal) (safety.Result, error) {
			<-ctx.Done()
			return safety.Result{}, ctx.Err()
		}))
		var ran atomic.Int32
		inline := safety.Named("inline", safety.RuleFunc(func(context.Context, safety.Proposal) (safety.Result, error) {
			ran.Add(1)
			return safety.Result{}, nil
		}))
		sourceTimeout := fmt.Errorf("backup catalog: %w", context.DeadlineExceeded)
		own := safety.Named("own", safety.RuleFunc(func(context.Context, safety.Proposal) (safety.Result, error) {
			return safety.Result{}, sourceTimeout
		}))
		eng, err := safety.New(safety.Config{Timeout: 3 * time.Second}, []safety.Rule{polite, inline, own}, safety.WithInline("inline", "own"))
		require.NoError(t, err)

		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		defer cancel()
		start := time.Now()
		d, err := eng.Check(ctx, stop("i-1"))
		assert.Equal(t, 500*time.Millisecond, time.Since(start), "the caller's deadline ends the check")
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, []string{"polite", "own"}, d.BlockingRules())
		assert.Equal(t, "the check's deadline passed before the rule answered", d.Blocking[0].Reason)
		assert.Equal(t, "rule failed: backup catalog: context deadline exceeded", d.Blocking[1].Reason)

		d, err = eng.Check(ctx, stop("i-1")) // the deadline has passed
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, []string{"polite", "inline", "own"}, d.BlockingRules())
		for _, r := range d.Blocking {
			assert.Equal(t, "the check's deadline passed before the rule answered", r.Reason, r.Rule)
		}
		assert.Equal(t, int32(1), ran.Load(), "the inline rule ran in the first check only")
	})
}

func TestEngineBoundsConcurrency(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const rules, limit = 7, 3
		release := make(chan struct{})
		var active, peak, done atomic.Int32
		var rs []safety.Rule
		for i := range rules {
			rs = append(rs, safety.Named(string(rune('a'+i)), safety.RuleFunc(func(context.Context, safety.Proposal) (safety.Result, error) {
				n := active.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				<-release
				active.Add(-1)
				done.Add(1)
				return safety.Result{}, nil
			})))
		}
		eng, err := safety.New(safety.Config{Concurrency: limit}, rs)
		require.NoError(t, err)
		result := make(chan error, 1)
		go func() {
			_, err := eng.Check(t.Context(), stop("i-1"))
			result <- err
		}()
		synctest.Wait()
		assert.Equal(t, int32(limit), active.Load(), "exactly the limit runs while all are blocked")
		close(release)
		require.NoError(t, <-result)
		assert.Equal(t, int32(rules), done.Load())
		assert.Equal(t, int32(limit), peak.Load())
	})
}

func TestEngineRejectsInvalidProposals(t *testing.T) {
	t.Parallel()
	base := stop("i-1")
	tests := []struct {
		name      string
		give      func(p *safety.Proposal)
		wantField string
	}{
		{"unknown action", func(p *safety.Proposal) { p.Action = "reboot" }, "action"},
		{"empty id", func(p *safety.Proposal) { p.Resource.ID = "" }, "resource.id"},
		{"id with space", func(p *safety.Proposal) { p.Resource.ID = "i 1" }, "resource.id"},
		{"unknown kind", func(p *safety.Proposal) { p.Resource.Kind = "bucket" }, "resource.kind"},
		{"unknown criticality", func(p *safety.Proposal) { p.Resource.Criticality = "extreme" }, "resource.criticality"},
		{"no requester", func(p *safety.Proposal) { p.Requester = "" }, "requester"},
		{"no now", func(p *safety.Proposal) { p.Now = time.Time{} }, "now"},
		{"negative fleet", func(p *safety.Proposal) { p.FleetSize = -1 }, "fleet_size"},
		{"scale without capacity", func(p *safety.Proposal) {
			p.Action = safety.ActionScaleIn
			p.Target = provider.CapacitySpec{Min: 2, Max: 1, Desired: 1}
		}, "target.min"},
		{"bounds-only scale_in with max below desired", func(p *safety.Proposal) {
			// Lowering Max below the desired capacity scales in: a target
			// that keeps desired above its own Max is refused, so that no
			// rule (the gradual one reads desired) sees it as no change.
			*p = scale("g-1", 6, 5)
			p.Current = provider.CapacitySpec{Min: 1, Max: 10, Desired: 6}
			p.Target = provider.CapacitySpec{Min: 1, Max: 2, Desired: 6}
		}, "target.desired"},
		{"scale_in that raises", func(p *safety.Proposal) {
			*p = scale("g-1", 4, 3)
			p.Target.Desired = 5
		}, "target.desired"},
		{"scale_out that lowers", func(p *safety.Proposal) {
			*p = scale("g-1", 4, 5)
			p.Target.Desired = 3
		}, "target.desired"},
		{"resize without size", func(p *safety.Proposal) { p.Action = safety.ActionResize }, "target_size.size"},
		{"resize with NaN vcpu", func(p *safety.Proposal) {
			p.Action = safety.ActionResize
			p.TargetSize = provider.Size{InstanceType: "m5.large", VCPU: math.NaN()}
		}, "target_size.vcpu"},
		{"resize from a NaN vcpu", func(p *safety.Proposal) {
			p.Action = safety.ActionResize
			p.TargetSize = provider.Size{InstanceType: "m5.large"}
			p.CurrentSize = provider.Size{InstanceType: "m5.xlarge", VCPU: math.NaN()}
		}, "current_size.vcpu"},
	}
	var ran atomic.Int32
	counted := safety.Named("counted", safety.RuleFunc(func(context.Context, safety.Proposal) (safety.Result, error) {
		ran.Add(1)
		return safety.Result{}, nil
	}))
	eng, err := safety.New(safety.Config{}, []safety.Rule{counted})
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := base
			tt.give(&p)
			d, err := eng.Check(t.Context(), p)
			require.ErrorIs(t, err, safety.ErrBlocked)
			require.ErrorIs(t, err, provider.ErrInvalid)
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.wantField, ie.Field)
			assert.Equal(t, []string{"proposal"}, d.BlockingRules())
		})
	}
	t.Cleanup(func() { assert.Equal(t, int32(0), ran.Load(), "no rule sees an invalid proposal") })
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	ok := fixed("same", safety.Result{})
	tests := []struct {
		name  string
		cfg   safety.Config
		rules []safety.Rule
		opts  []safety.Option
		field string
	}{
		{"nil rule", safety.Config{}, []safety.Rule{nil}, nil, "rules[0]"},
		{"nil RuleFunc", safety.Config{}, []safety.Rule{ok, safety.RuleFunc(nil)}, nil, "rules[1]"},
		{"named nil rule", safety.Config{}, []safety.Rule{safety.Named("custom", nil)}, nil, "rules[0]"},
		{"named nil RuleFunc", safety.Config{}, []safety.Rule{safety.Named("custom", safety.RuleFunc(nil))}, nil, "rules[0]"},
		{"duplicate names", safety.Config{}, []safety.Rule{ok, ok}, nil, "rules[1].name"},
		{"negative timeout", safety.Config{Timeout: -time.Second}, nil, nil, "timeout"},
		{"negative concurrency", safety.Config{Concurrency: -1}, nil, nil, "concurrency"},
		{"unknown risk", safety.Config{ApprovalRisk: "extreme"}, nil, nil, "approval_risk"},
		{"risk none", safety.Config{ApprovalRisk: safety.RiskNone}, nil, nil, "approval_risk"},
		{"nil approval verifier func", safety.Config{}, nil, []safety.Option{safety.WithApprovals(safety.ApprovalVerifierFunc(nil))}, "approvals"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := safety.New(tt.cfg, tt.rules, tt.opts...)
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
		})
	}
}

// TestConfigApprovalRiskLevels: every real risk level is a valid
// ApprovalRisk, low (the lowest) included; none and unknown names are not.
func TestConfigApprovalRiskLevels(t *testing.T) {
	t.Parallel()
	for _, r := range []safety.Risk{"", safety.RiskLow, safety.RiskMedium, safety.RiskHigh} {
		require.NoError(t, safety.Config{ApprovalRisk: r}.Validate(), "%q", r)
	}
	for _, r := range []safety.Risk{safety.RiskNone, "extreme", "Low"} {
		require.ErrorIs(t, safety.Config{ApprovalRisk: r}.Validate(), provider.ErrInvalid, "%q", r)
	}
}

func TestEngineUnnamedRules(t *testing.T) {
	t.Parallel()
	anon := safety.RuleFunc(func(context.Context, safety.Proposal) (safety.Result, error) {
		return safety.Result{Outcome: safety.Block}, nil
	})
	eng, err := safety.New(safety.Config{}, []safety.Rule{fixed("named", safety.Result{}), anon})
	require.NoError(t, err)
	assert.Equal(t, []string{"named", "rule[1]"}, eng.Rules())
	d, err := eng.Check(t.Context(), stop("i-1"))
	require.ErrorIs(t, err, safety.ErrBlocked)
	require.Len(t, d.Blocking, 1)
	assert.Equal(t, "rule[1]", d.Blocking[0].Rule)
	assert.Equal(t, "no reason given", d.Blocking[0].Reason)
}

func TestEngineAuditsDecisions(t *testing.T) {
	t.Parallel()
	log := &safety.AuditLog{}
	eng, err := safety.New(safety.Config{}, []safety.Rule{fixed("block", safety.Result{Outcome: safety.Block, Risk: safety.RiskMedium, Reason: "no"})},
		safety.WithAuditor(log))
	require.NoError(t, err)
	p := stop("i-1")
	p.ID = "plan-7"
	_, err = eng.Check(t.Context(), p)
	require.ErrorIs(t, err, safety.ErrBlocked)
	_, err = eng.Preview(t.Context(), []safety.Proposal{p})
	require.NoError(t, err)
	evs := log.Events()
	require.Len(t, evs, 1, "Check records one event; Preview none")
	assert.Equal(t, safety.AuditEvent{
		Time: t0, Kind: safety.AuditDecision, Actor: "reaper", ResourceID: "i-1", Action: safety.ActionStop,
		ProposalID: "plan-7", Outcome: safety.Block, Risk: safety.RiskMedium, Rules: []string{"block"},
		Reason: "blocked: block: no",
	}, evs[0])

	t.Run("audit failure blocks", func(t *testing.T) {
		t.Parallel()
		down := errors.New("audit log down")
		eng, err := safety.New(safety.Config{}, []safety.Rule{fixed("ok", safety.Result{})},
			safety.WithAuditor(safety.AuditorFunc(func(context.Context, safety.AuditEvent) error { return down })))
		require.NoError(t, err)
		d, err := eng.Check(t.Context(), stop("i-1"))
		require.ErrorIs(t, err, safety.ErrBlocked)
		require.ErrorIs(t, err, safety.ErrAudit)
		require.ErrorIs(t, err, down)
		assert.Equal(t, []string{"audit"}, d.BlockingRules())
	})
}

func TestPreview(t *testing.T) {
	t.Parallel()
	blockOdd := safety.Named("odd", safety.RuleFunc(func(_ context.Context, p safety.Proposal) (safety.Result, error) {
		if p.Target.Desired%2 == 1 {
			return safety.Result{Outcome: safety.Block, Reason: "odd"}, nil
		}
		return safety.Result{}, nil
	}))
	askBig := safety.Named("big", safety.RuleFunc(func(_ context.Context, p safety.Proposal) (safety.Result, error) {
		if p.Target.Desired >= 8 {
			return safety.Result{Outcome: safety.RequireApproval, Reason: "big"}, nil
		}
		return safety.Result{}, nil
	}))
	eng, err := safety.New(safety.Config{}, []safety.Rule{blockOdd, askBig})
	require.NoError(t, err)
	var ps []safety.Proposal
	for to := 1; to <= 10; to++ {
		ps = append(ps, scale("g", 5, to))
	}
	ps = append(ps, safety.Proposal{Action: "bogus"})
	rep, err := eng.Preview(t.Context(), ps)
	require.NoError(t, err)
	require.Len(t, rep.Decisions, len(ps))
	// 1..10: odd 1,3,5,7,9 blocked; 8 and 10 need approval; 2,4,6 allowed.
	assert.Equal(t, 3, rep.Allowed)
	assert.Equal(t, 2, rep.NeedApproval)
	assert.Equal(t, 6, rep.Blocked)
	assert.Equal(t, map[string]int{"odd": 5, "proposal": 1}, rep.BlockedBy)
	for i, d := range rep.Decisions[:10] {
		assert.Equal(t, ps[i].Target.Desired%2 == 0 && ps[i].Target.Desired < 8, d.Allowed, "proposal %d", i)
	}

	t.Run("cancelled", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		rep, err := eng.Preview(ctx, ps[:3])
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, 3, rep.Blocked)
		assert.Zero(t, rep.Allowed)
	})
}

// inlineRule is a named rule that declares itself non-blocking.
type inlineRule struct {
	name string
	fn   safety.RuleFunc
}

func (r inlineRule) Name() string { return r.name }
func (r inlineRule) Inline() bool { return true }
func (r inlineRule) Check(ctx context.Context, p safety.Proposal) (safety.Result, error) {
	return r.fn(ctx, p)
}

func TestEngineInlineRules(t *testing.T) {
	t.Parallel()
	t.Run("panic and error still fail closed", func(t *testing.T) {
		t.Parallel()
		eng, err := safety.New(safety.Config{}, []safety.Rule{
			inlineRule{"boom", func(context.Context, safety.Proposal) (safety.Result, error) { panic("inline") }},
			inlineRule{"err", func(context.Context, safety.Proposal) (safety.Result, error) { return safety.Result{}, errors.New("x") }},
			inlineRule{"ok", func(context.Context, safety.Proposal) (safety.Result, error) { return safety.Result{}, nil }},
		})
		require.NoError(t, err)
		d, err := eng.Check(t.Context(), stop("i-1"))
		require.ErrorIs(t, err, safety.ErrRuleFailed)
		assert.Equal(t, []string{"boom", "err"}, d.BlockingRules())
	})
	t.Run("cancelled context", func(t *testing.T) {
		t.Parallel()
		var ran atomic.Int32
		eng, err := safety.New(safety.Config{}, []safety.Rule{
			inlineRule{"ok", func(context.Context, safety.Proposal) (safety.Result, error) { ran.Add(1); return safety.Result{}, nil }},
		})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err = eng.Check(ctx, stop("i-1"))
		require.ErrorIs(t, err, context.Canceled)
		assert.Zero(t, ran.Load())
	})
	t.Run("timeout applies to the others", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			release := make(chan struct{})
			eng, err := safety.New(safety.Config{Timeout: time.Second}, []safety.Rule{
				inlineRule{"fast", func(context.Context, safety.Proposal) (safety.Result, error) { return safety.Result{}, nil }},
				safety.Named("hung", safety.RuleFunc(func(context.Context, safety.Proposal) (safety.Result, error) {
					<-release
					return safety.Result{}, nil
				})),
			})
			require.NoError(t, err)
			d, err := eng.Check(t.Context(), stop("i-1"))
			require.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Equal(t, []string{"hung"}, d.BlockingRules())
			close(release)
		})
	})
	t.Run("WithInline", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			// A rule marked inline runs on the caller's goroutine without
			// a timeout of its own: the host vouches that it does not block.
			slow := safety.Named("slow", safety.RuleFunc(func(context.Context, safety.Proposal) (safety.Result, error) {
				<-time.After(5 * time.Second) // fake time inside the bubble
				return safety.Result{}, nil
			}))
			eng, err := safety.New(safety.Config{Timeout: time.Second}, []safety.Rule{slow}, safety.WithInline("slow"))
			require.NoError(t, err)
			start := time.Now()
			d, err := eng.Check(t.Context(), stop("i-1"))
			require.NoError(t, err)
			assert.True(t, d.Allowed)
			assert.Equal(t, 5*time.Second, time.Since(start))

			// Without WithInline the same rule is cut off at the timeout.
			eng, err = safety.New(safety.Config{Timeout: time.Second}, []safety.Rule{slow})
			require.NoError(t, err)
			_, err = eng.Check(t.Context(), stop("i-1"))
			require.ErrorIs(t, err, context.DeadlineExceeded)
			<-time.After(5 * time.Second) // let the abandoned rule finish inside the bubble
		})
	})
	t.Run("inline rules are not cut off next to async ones", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			eng, err := safety.New(safety.Config{Timeout: time.Second}, []safety.Rule{
				inlineRule{"slow_inline", func(context.Context, safety.Proposal) (safety.Result, error) {
					<-time.After(3 * time.Second)
					return safety.Result{}, nil
				}},
				fixed("fast_async", safety.Result{}),
			})
			require.NoError(t, err)
			d, err := eng.Check(t.Context(), stop("i-1"))
			require.NoError(t, err)
			assert.True(t, d.Allowed)
		})
	})
	t.Run("WithInline unknown name", func(t *testing.T) {
		t.Parallel()
		_, err := safety.New(safety.Config{}, []safety.Rule{fixed("a", safety.Result{})}, safety.WithInline("b"))
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, "inline[0]", ie.Field)
	})
}

func TestEngineLogsRuleFailures(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	eng, err := safety.New(safety.Config{}, []safety.Rule{safety.Named("flaky", safety.RuleFunc(func(context.Context, safety.Proposal) (safety.Result, error) {
		return safety.Result{}, errors.New("catalog down")
	}))}, safety.WithLogger(logger))
	require.NoError(t, err)
	_, err = eng.Check(t.Context(), stop("i-1"))
	require.ErrorIs(t, err, safety.ErrRuleFailed)
	assert.Contains(t, buf.String(), "rule=flaky")
	assert.Contains(t, buf.String(), "catalog down")
}

// Evaluate decides exactly as Check does, but records nothing: the auditor
// is never called, so even a failing auditor does not block it.
func TestEvaluate(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	down := errors.New("audit log down")
	auditor := safety.AuditorFunc(func(context.Context, safety.AuditEvent) error {
		calls.Add(1)
		return down
	})
	rules := []safety.Rule{
		fixed("low", safety.Result{Risk: safety.RiskLow, Reason: "fine"}),
		safety.Named("odd", safety.RuleFunc(func(_ context.Context, p safety.Proposal) (safety.Result, error) {
			if p.Target.Desired%2 == 1 {
				return safety.Result{Outcome: safety.Block, Risk: safety.RiskMedium, Reason: "odd"}, nil
			}
			return safety.Result{}, nil
		})),
		safety.Named("big", safety.RuleFunc(func(_ context.Context, p safety.Proposal) (safety.Result, error) {
			if p.Target.Desired >= 8 {
				return safety.Result{Outcome: safety.RequireApproval, Reason: "big"}, nil
			}
			return safety.Result{}, nil
		})),
	}
	quiet, err := safety.New(safety.Config{}, rules)
	require.NoError(t, err)
	audited, err := safety.New(safety.Config{}, rules, safety.WithAuditor(auditor))
	require.NoError(t, err)
	tests := []struct {
		name        string
		give        safety.Proposal
		wantOutcome safety.Outcome
		wantErr     error
	}{
		{"allowed", scale("g-1", 5, 4), safety.Pass, nil},
		{"blocked", scale("g-1", 5, 3), safety.Block, safety.ErrBlocked},
		{"needs approval", scale("g-1", 5, 8), safety.RequireApproval, safety.ErrApprovalRequired},
		{"invalid", safety.Proposal{Action: "reboot"}, safety.Block, provider.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := audited.Evaluate(t.Context(), tt.give)
			assert.Equal(t, tt.wantOutcome, d.Outcome)
			assert.Equal(t, tt.wantOutcome == safety.Pass, d.Allowed)
			if tt.wantErr == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tt.wantErr)
				var be *safety.BlockedError
				require.ErrorAs(t, err, &be)
				assert.Equal(t, d.Outcome, be.Decision.Outcome)
			}
			require.NotErrorIs(t, err, safety.ErrAudit)
			// The same decision as Check on an engine without an auditor.
			want, wantErr := quiet.Check(t.Context(), tt.give)
			assert.Equal(t, want, d)
			assert.Equal(t, wantErr == nil, err == nil)
		})
	}
	t.Cleanup(func() { assert.Equal(t, int32(1), calls.Load(), "Evaluate records nothing; the one Check below does") })

	t.Run("Check on the same engine records and fails closed", func(t *testing.T) {
		t.Parallel()
		d, err := audited.Check(t.Context(), scale("g-2", 5, 4))
		require.ErrorIs(t, err, safety.ErrAudit)
		assert.Equal(t, []string{"audit"}, d.BlockingRules())
	})
}

// A decision about a proposal whose action is not a known Action still
// encodes: its Action is unset, and the "proposal" result names the value.
func TestEvaluateUnknownActionEncodes(t *testing.T) {
	t.Parallel()
	log := &safety.AuditLog{}
	eng, err := safety.New(safety.Config{}, []safety.Rule{fixed("ok", safety.Result{})}, safety.WithAuditor(log))
	require.NoError(t, err)
	p := stop("i-1")
	p.Action = "reboot"
	d, err := eng.Check(t.Context(), p)
	require.ErrorIs(t, err, provider.ErrInvalid)
	assert.Empty(t, d.Action)
	assert.Contains(t, err.Error(), `safety: blocked proposal of "i-1": proposal: `)
	assert.Contains(t, d.Blocking[0].Reason, `"reboot"`)
	b, err := json.Marshal(d)
	require.NoError(t, err)
	var back safety.Decision
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, d.Outcome, back.Outcome)
	evs := log.Events()
	require.Len(t, evs, 1)
	assert.Empty(t, evs[0].Action)
	_, err = json.Marshal(evs[0])
	require.NoError(t, err)
}

// A host plugs in its own approval verifier: a proposal that needs
// approval goes ahead exactly when the verifier accepts the ID it carries.
func TestApprovalVerifierFunc(t *testing.T) {
	t.Parallel()
	var seen atomic.Value
	verifier := safety.ApprovalVerifierFunc(func(_ context.Context, id string, p safety.Proposal) error {
		seen.Store(p.Resource.ID + "/" + id)
		if id != "CHG-1" {
			return errors.New("no such change ticket")
		}
		return nil
	})
	rules := []safety.Rule{fixed("owner", safety.Result{Outcome: safety.RequireApproval, Reason: "owner must agree"})}
	eng, err := safety.New(safety.Config{}, rules, safety.WithApprovals(verifier))
	require.NoError(t, err)

	p := stop("i-1")
	d, err := eng.Evaluate(t.Context(), p)
	require.ErrorIs(t, err, safety.ErrApprovalRequired)
	assert.Equal(t, p.Fingerprint(), d.Fingerprint)
	assert.Nil(t, seen.Load(), "no ID, nothing to verify")

	p.ApprovalID = "CHG-2"
	d, err = eng.Evaluate(t.Context(), p)
	require.ErrorIs(t, err, safety.ErrApprovalRequired)
	assert.False(t, d.Approved)
	assert.Contains(t, d.ApprovalReason, `approval "CHG-2" not valid: no such change ticket`)
	assert.Equal(t, "i-1/CHG-2", seen.Load())

	p.ApprovalID = "CHG-1"
	d, err = eng.Evaluate(t.Context(), p)
	require.NoError(t, err)
	assert.True(t, d.Allowed)
	assert.True(t, d.Approved)
	assert.Equal(t, safety.Pass, d.Outcome)

	// An approval never lifts a block, and is not even asked.
	blocked, err := safety.New(safety.Config{}, append(rules, fixed("no", safety.Result{Outcome: safety.Block, Reason: "no"})),
		safety.WithApprovals(verifier))
	require.NoError(t, err)
	seen.Store("")
	d, err = blocked.Evaluate(t.Context(), p)
	require.ErrorIs(t, err, safety.ErrBlocked)
	require.NotErrorIs(t, err, safety.ErrApprovalRequired)
	assert.False(t, d.Approved)
	assert.Empty(t, seen.Load())

	// Without a verifier the ID is not checked, and the proposal waits.
	bare, err := safety.New(safety.Config{}, rules)
	require.NoError(t, err)
	d, err = bare.Evaluate(t.Context(), p)
	require.ErrorIs(t, err, safety.ErrApprovalRequired)
	assert.Contains(t, d.ApprovalReason, "not checked")
}

// TestPanickingCollaboratorsFailClosed: an approval verifier or an
// auditor that panics is a safety check that failed, as a rule that panics
// is: the proposal waits for an approval or is blocked, saying why, and
// the caller (a reaper's run) does not crash.
func TestPanickingCollaboratorsFailClosed(t *testing.T) {
	t.Parallel()
	rules := []safety.Rule{fixed("owner", safety.Result{Outcome: safety.RequireApproval, Reason: "owner must agree"})}
	verifier := safety.ApprovalVerifierFunc(func(context.Context, string, safety.Proposal) error { panic("ticket index corrupt") })
	eng, err := safety.New(safety.Config{}, rules, safety.WithApprovals(verifier))
	require.NoError(t, err)
	p := stop("i-1")
	p.ApprovalID = "CHG-1"
	d, err := eng.Check(t.Context(), p)
	require.ErrorIs(t, err, safety.ErrApprovalRequired)
	assert.False(t, d.Allowed)
	assert.False(t, d.Approved)
	assert.Contains(t, d.ApprovalReason, `approval "CHG-1" not valid: the approval verifier panicked: ticket index corrupt`)

	auditor := safety.AuditorFunc(func(context.Context, safety.AuditEvent) error { panic("log full") })
	eng, err = safety.New(safety.Config{}, []safety.Rule{fixed("ok", safety.Result{})}, safety.WithAuditor(auditor))
	require.NoError(t, err)
	d, err = eng.Check(t.Context(), stop("i-1"))
	require.ErrorIs(t, err, safety.ErrBlocked)
	require.ErrorIs(t, err, safety.ErrAudit)
	assert.Equal(t, []string{"audit"}, d.BlockingRules())
	assert.Contains(t, d.Blocking[0].Err.Error(), "auditor panicked: log full")
}

// TestCheckReturnsWhenEveryRuleAnswered: the engine waits for its rules,
// not for its timeout. With a one-hour timeout and three rules that answer
// at once, Check returns at once (the test allows a minute of real time
// for a loaded host; waiting for the timeout would take the hour).
func TestCheckReturnsWhenEveryRuleAnswered(t *testing.T) {
	t.Parallel()
	eng, err := safety.New(safety.Config{Timeout: time.Hour, Concurrency: 2},
		[]safety.Rule{fixed("a", safety.Result{}), fixed("b", safety.Result{}), fixed("c", safety.Result{})})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		_, err := eng.Check(t.Context(), stop("i-1"))
		done <- err
	}()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(time.Minute):
		t.Fatal("Check did not return within a minute of its rules answering")
	}
}

// TestFailedRuleWrappingApprovalRequiredBlocks: a rule that fails with an
// error wrapping ErrApprovalRequired (a host's rule that asks another
// engine and returns its error) blocks the proposal, like every failed
// rule, and the engine's error says so: it matched ErrApprovalRequired,
// whose doc says it matches when only an approval is missing, because
// BlockedError unwraps to the rules' errors. The reaper took such a
// proposal for one that needs approval: a dry run reported
// needs_approval instead of the rule's failure, and an executing run
// asked for an approval of a blocked proposal. The rule's error is still
// in the chain: its text, ErrRuleFailed, and what else it wraps.
func TestFailedRuleWrappingApprovalRequiredBlocks(t *testing.T) {
	t.Parallel()
	inner := errors.New("inner gate")
	delegate := safety.Named("delegate", safety.RuleFunc(func(context.Context, safety.Proposal) (safety.Result, error) {
		return safety.Result{}, fmt.Errorf("asked the other engine: %w", errors.Join(inner, safety.ErrApprovalRequired, context.Canceled))
	}))
	eng, err := safety.New(safety.Config{}, []safety.Rule{delegate})
	require.NoError(t, err)
	d, err := eng.Evaluate(t.Context(), stop("i-1"))
	require.Equal(t, safety.Block, d.Outcome)
	require.ErrorIs(t, err, safety.ErrBlocked)
	require.NotErrorIs(t, err, safety.ErrApprovalRequired, "a failed rule blocks: no approval lets it through")
	require.ErrorIs(t, err, safety.ErrRuleFailed)
	require.ErrorIs(t, err, inner, "the rule's own error is kept")
	require.ErrorIs(t, err, context.Canceled, "and what it wraps")
	assert.True(t, safety.IsFailure(d, err))
	var re *safety.RuleError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "delegate", re.Rule)
	assert.Contains(t, err.Error(), "asked the other engine: inner gate")
}

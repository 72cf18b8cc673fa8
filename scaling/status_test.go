package scaling_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/scaling"
)

// gateFunc is a host's Gate answering every proposal with f.
type gateFunc func(ctx context.Context, p safety.Proposal) (safety.Decision, error)

func (g gateFunc) Check(ctx context.Context, p safety.Proposal) (safety.Decision, error) {
	return g(ctx, p)
}

func (g gateFunc) Evaluate(ctx context.Context, p safety.Proposal) (safety.Decision, error) {
	return g(ctx, p)
}

// ruleGate is a safety engine of one rule answering r (or failing with
// err).
func ruleGate(t *testing.T, r safety.Result, err error) *safety.Engine {
	t.Helper()
	rule := safety.Named("host", safety.RuleFunc(func(context.Context, safety.Proposal) (safety.Result, error) { return r, err }))
	g, gerr := safety.New(safety.Config{}, []safety.Rule{rule})
	require.NoError(t, gerr)
	return g
}

// TestExecuteStopsWithoutError pins how a plan ends when the gate or the
// rate limiter stops it: a refusal or a denial is a status with its
// decision and no error; a gate or limiter that fails stops the plan too
// (fail closed), with the failure as the error. Nothing is written in any
// case.
func TestExecuteStopsWithoutError(t *testing.T) {
	t.Parallel()
	cmdb := errors.New("cmdb unreachable")
	store := &ratelimit.StoreError{Op: "reserve", Err: errors.New("etcd down")}
	tests := []struct {
		name       string
		gate       func(t *testing.T) scaling.Gate
		reserver   scaling.Reserver
		wantStatus scaling.PlanStatus
		wantErr    []error // nil: no error
		wantStage  scaling.Stage
		check      func(t *testing.T, x scaling.Execution)
	}{
		{
			name: "a rule blocks: blocked, no error",
			gate: func(t *testing.T) scaling.Gate {
				return ruleGate(t, safety.Result{Outcome: safety.Block, Reason: "frozen"}, nil)
			},
			wantStatus: scaling.PlanBlocked,
			check: func(t *testing.T, x scaling.Execution) {
				require.NotNil(t, x.Gate)
				assert.Equal(t, []string{"host"}, x.Gate.BlockingRules())
				assert.Contains(t, x.Reason, "frozen")
			},
		},
		{
			name: "an approval is required: blocked, no error, the decision says so",
			gate: func(t *testing.T) scaling.Gate {
				return ruleGate(t, safety.Result{Outcome: safety.RequireApproval, Reason: "change board"}, nil)
			},
			wantStatus: scaling.PlanBlocked,
			check: func(t *testing.T, x scaling.Execution) {
				require.NotNil(t, x.Gate)
				assert.True(t, x.Gate.ApprovalRequired)
				assert.NotEmpty(t, x.Gate.Fingerprint, "what approval.Manager.Request needs")
				assert.ErrorIs(t, x.Gate.Err(), safety.ErrApprovalRequired)
			},
		},
		{
			name: "a host gate's decision not allowed, without an error: blocked (fail closed), no error",
			gate: func(*testing.T) scaling.Gate {
				return gateFunc(func(_ context.Context, p safety.Proposal) (safety.Decision, error) {
					return safety.Decision{ProposalID: p.ID, Outcome: safety.Block}, nil
				})
			},
			wantStatus: scaling.PlanBlocked,
		},
		{
			name:       "a rule fails: blocked (fail closed), with the failure",
			gate:       func(t *testing.T) scaling.Gate { return ruleGate(t, safety.Result{}, cmdb) },
			wantStatus: scaling.PlanBlocked,
			wantErr:    []error{cmdb, safety.ErrRuleFailed, safety.ErrBlocked},
			wantStage:  scaling.StageSafety,
		},
		{
			name: "a host gate's own error: blocked (fail closed), with the failure",
			gate: func(*testing.T) scaling.Gate {
				return gateFunc(func(context.Context, safety.Proposal) (safety.Decision, error) { return safety.Decision{}, cmdb })
			},
			wantStatus: scaling.PlanBlocked,
			wantErr:    []error{cmdb},
			wantStage:  scaling.StageSafety,
		},
		{
			name: "a host gate that allows with an error: blocked (fail closed), with the failure",
			gate: func(*testing.T) scaling.Gate {
				return gateFunc(func(context.Context, safety.Proposal) (safety.Decision, error) {
					return safety.Decision{Allowed: true, Outcome: safety.Pass}, cmdb
				})
			},
			wantStatus: scaling.PlanBlocked,
			wantErr:    []error{cmdb},
			wantStage:  scaling.StageSafety,
		},
		{
			name:       "the rate limiter denies: rate_limited, no error",
			gate:       func(*testing.T) scaling.Gate { return allowAll{} },
			reserver:   denyAll{},
			wantStatus: scaling.PlanRateLimited,
			check: func(t *testing.T, x scaling.Execution) {
				require.NotNil(t, x.RateLimit)
				assert.Equal(t, ratelimit.ReasonInterval, x.RateLimit.Reason)
				assert.Equal(t, t0.Add(time.Hour), x.RateLimit.Next)
				assert.Contains(t, x.Reason, "rate limited")
			},
		},
		{
			name:       "the rate limiter's store fails: rate_limited (fail closed), with the failure",
			gate:       func(*testing.T) scaling.Gate { return allowAll{} },
			reserver:   denyAll{err: store},
			wantStatus: scaling.PlanRateLimited,
			wantErr:    []error{store},
			wantStage:  scaling.StageRateLimit,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				c := newCloud(t, 4, memory.Config{})
				rec := &recorder{}
				opts := []scaling.EngineOption{scaling.WithObserver(rec)}
				if tt.reserver != nil {
					opts = append(opts, scaling.WithReserver(tt.reserver))
				}
				e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, tt.gate(t), opts...)
				require.NoError(t, err)
				x, err := e.Execute(t.Context(), e.Plan(decide(t, e, c, 6), scaling.PlanOptions{}))
				assert.Equal(t, tt.wantStatus, x.Status)
				assert.True(t, x.Status.Final())
				assert.Empty(t, setCapacityOps(c), "nothing is written")
				assert.Equal(t, scaling.StepSkipped, x.Steps[0].Status)
				if tt.wantErr == nil {
					require.NoError(t, err)
					require.NoError(t, x.Err)
					for _, ev := range rec.events {
						require.NoError(t, ev.Err, "%s: a stop is no failure", ev.Kind)
					}
				} else {
					for _, want := range tt.wantErr {
						require.ErrorIs(t, err, want)
					}
					var serr *scaling.StepError
					require.ErrorAs(t, err, &serr)
					assert.Equal(t, tt.wantStage, serr.Stage)
					assert.Equal(t, 1, serr.Step)
					assert.Equal(t, err, x.Err)
				}
				assert.Equal(t, 1, rec.count(scaling.EventPlanStopped))
				if tt.check != nil {
					tt.check(t, x)
				}
			})
		})
	}
}

// denyAll is a Reserver that denies every request (min interval, next in
// an hour), or fails with err as a limiter whose store fails does.
type denyAll struct{ err error }

func (d denyAll) ReserveAt(_ context.Context, now time.Time, req ratelimit.Request) (ratelimit.Reservation, error) {
	if d.err != nil {
		return ratelimit.Reservation{Request: req, At: now, Outcome: ratelimit.Denied, Reason: ratelimit.ReasonStore}, d.err
	}
	return ratelimit.Reservation{Request: req, At: now, Outcome: ratelimit.Denied, Reason: ratelimit.ReasonInterval, Next: t0.Add(time.Hour)}, nil
}

func (denyAll) CancelAt(context.Context, time.Time, ratelimit.Reservation) error { return nil }

// TestGateInterrupted: a context that ends while the gate decides leaves
// the plan interrupted (not stopped), and the next Execute carries it out.
func TestGateInterrupted(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		ctx, cancel := context.WithCancel(t.Context())
		calls := 0
		gate := gateFunc(func(ctx context.Context, p safety.Proposal) (safety.Decision, error) {
			calls++
			if calls == 1 {
				cancel()
				return safety.Decision{}, ctx.Err()
			}
			return allowAll{}.Check(ctx, p)
		})
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, gate)
		require.NoError(t, err)
		p := e.Plan(decide(t, e, c, 6), scaling.PlanOptions{})
		x, err := e.Execute(ctx, p)
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, scaling.PlanInterrupted, x.Status)
		assert.Empty(t, setCapacityOps(c))

		x, err = e.Execute(t.Context(), p)
		require.NoError(t, err)
		assert.Equal(t, scaling.PlanCompleted, x.Status)
		assert.Len(t, setCapacityOps(c), 1, "4→6 once")
	})
}

// TestDryRunRefusalIsNoError: in a dry run, a step the gate would refuse
// is a decision in the report, not an error; a gate that fails is one.
func TestDryRunRefusalIsNoError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		rule    safety.Result
		ruleErr error
		wantErr bool
	}{
		{name: "refused", rule: safety.Result{Outcome: safety.Block, Reason: "frozen"}},
		{name: "allowed", rule: safety.Result{}},
		{name: "gate failed", ruleErr: errors.New("cmdb unreachable"), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				c := newCloud(t, 2, memory.Config{})
				setCPU(t, c, "web", 0.95)
				rec := &recorder{}
				e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, ruleGate(t, tt.rule, tt.ruleErr), scaling.WithObserver(rec))
				require.NoError(t, err)
				a, err := scaling.NewAutoscaler(scaling.Config{Targets: []scaling.TargetConfig{{ID: "web", Strategies: []scaling.StrategySpec{{Type: scaling.StrategyThreshold}}}}},
					e, scaling.Fleet{Inventory: c, Metrics: c})
				require.NoError(t, err)
				rep := a.RunOnce(t.Context(), time.Now())
				tr := rep.Targets[0]
				require.NotNil(t, tr.Plan)
				require.Len(t, tr.Preview, len(tr.Plan.Steps), "one decision per step")
				allowed := tt.rule.Outcome == "" && tt.ruleErr == nil
				for _, d := range tr.Preview {
					assert.Equal(t, allowed, d.Allowed)
				}
				if tt.wantErr {
					require.ErrorIs(t, rep.Err(), safety.ErrRuleFailed)
					var serr *scaling.StepError
					require.ErrorAs(t, tr.Err, &serr)
					assert.Equal(t, scaling.StageSafety, serr.Stage)
				} else {
					require.NoError(t, rep.Err())
				}
				assert.Equal(t, len(tr.Plan.Steps), rec.count(scaling.EventPreviewed))
				assert.Empty(t, setCapacityOps(c), "a dry run changes nothing")
			})
		})
	}
}

// TestPlanStatusText pins the statuses' names, which are final, and the
// text round trip.
func TestPlanStatusText(t *testing.T) {
	t.Parallel()
	final := map[scaling.PlanStatus]bool{
		scaling.PlanPlanned: false, scaling.PlanRunning: false, scaling.PlanInterrupted: false,
		scaling.PlanCompleted: true, scaling.PlanBlocked: true, scaling.PlanRateLimited: true,
		scaling.PlanStopped: true, scaling.PlanRolledBack: true, scaling.PlanFailed: true,
	}
	names := map[scaling.PlanStatus]string{
		scaling.PlanPlanned: "planned", scaling.PlanRunning: "running", scaling.PlanInterrupted: "interrupted",
		scaling.PlanCompleted: "completed", scaling.PlanBlocked: "blocked", scaling.PlanRateLimited: "rate_limited",
		scaling.PlanStopped: "stopped", scaling.PlanRolledBack: "rolled_back", scaling.PlanFailed: "failed",
	}
	for s, want := range final {
		assert.Equal(t, want, s.Final(), s.String())
		require.NoError(t, s.Validate())
		b, err := s.MarshalText()
		require.NoError(t, err)
		assert.Equal(t, names[s], string(b))
		var back scaling.PlanStatus
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, s, back)
	}
	var s scaling.PlanStatus
	err := s.UnmarshalText([]byte("stopped_by_gate"))
	require.ErrorIs(t, err, provider.ErrInvalid)
}

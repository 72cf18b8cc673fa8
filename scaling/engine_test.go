package scaling_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
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

// The engine tests run in a synctest bubble: the memory cloud and the
// engine use the real clock, whose time there is fake and advances
// whenever every goroutine waits (verification polls take no real time).

// newCloud is an in-memory cloud with a group "web" of desired capacity n
// within [0, 50], launch and drain delays of a minute and 30 s, and a
// healthy CPU of 0.5 reported every minute for the next day.
func newCloud(t *testing.T, n int, cfg memory.Config) *memory.Cloud {
	t.Helper()
	c, err := memory.New(cfg)
	require.NoError(t, err)
	require.NoError(t, c.AddGroup(provider.Resource{ID: "web", Kind: provider.KindGroup, HourlyCost: float64(n) * 0.1},
		provider.CapacitySpec{Min: 0, Max: 50, Desired: n}))
	setCPU(t, c, "web", 0.5)
	return c
}

// web4 is an in-memory cloud with a group "web" of desired capacity 4
// within [1, 50], and nothing else: no delays, no metrics.
func web4(t *testing.T) *memory.Cloud {
	t.Helper()
	c, err := memory.New(memory.Config{})
	require.NoError(t, err)
	require.NoError(t, c.AddGroup(provider.Resource{ID: "web"}, provider.CapacitySpec{Min: 1, Max: 50, Desired: 4}))
	return c
}

// setCPU reports v as the CPU of id every minute from a minute ago for a
// day.
func setCPU(t *testing.T, c *memory.Cloud, id string, v float64) {
	t.Helper()
	now := time.Now()
	vals := make([]float64, 24*60+1)
	for i := range vals {
		vals[i] = v
	}
	require.NoError(t, c.SetSeries(provider.Series{ResourceID: id, Metric: provider.MetricCPU, Start: now.Add(-time.Minute), Step: time.Minute, Values: vals}))
}

// recorder collects events.
type recorder struct {
	mu     sync.Mutex
	events []scaling.Event
}

func (r *recorder) Observe(e scaling.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) kinds() []scaling.EventKind {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []scaling.EventKind
	for _, e := range r.events {
		out = append(out, e.Kind)
	}
	return out
}

// matching returns the events whose Err matches target.
func (r *recorder) matching(target error) []scaling.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []scaling.Event
	for _, e := range r.events {
		if errors.Is(e.Err, target) {
			out = append(out, e)
		}
	}
	return out
}

func (r *recorder) count(k scaling.EventKind) int {
	n := 0
	for _, kk := range r.kinds() {
		if kk == k {
			n++
		}
	}
	return n
}

// safetyGate is a safety engine with the built-in gradual and limits rules
// (capacity within [0, 50]).
func safetyGate(t *testing.T) *safety.Engine {
	t.Helper()
	gradual, err := safety.NewGradualRule(safety.GradualConfig{})
	require.NoError(t, err)
	limits, err := safety.NewLimitsRule(safety.LimitsConfig{AllowZero: true, MaxCapacity: 50, NoFleetShare: true}, nil)
	require.NoError(t, err)
	eng, err := safety.New(safety.Config{}, []safety.Rule{gradual, limits})
	require.NoError(t, err)
	return eng
}

// webTarget is the target of c's group "web", read from c, within [0, 50].
func webTarget(t *testing.T, c *memory.Cloud) scaling.Target {
	t.Helper()
	res, err := c.Get(t.Context(), "web")
	require.NoError(t, err)
	capa, err := c.Capacity(t.Context(), "web")
	require.NoError(t, err)
	return scaling.Target{ID: "web", Resource: res, Capacity: capa, Min: 0, Max: 50}
}

// fixedStrategy recommends desired instances with the given fitness.
func fixedStrategy(desired int, fitness float64) scaling.Strategy {
	return scaling.StrategyFunc(func(_ context.Context, s scaling.State) (scaling.Recommendation, error) {
		spec := s.Target.Capacity.CapacitySpec
		spec.Desired = desired
		return scaling.Recommendation{Capacity: spec, Proposal: desired, Reason: "test", Fitness: fitness}, nil
	})
}

// decide builds the engine's decision to move web to desired.
func decide(t *testing.T, e *scaling.Engine, c *memory.Cloud, desired int) scaling.Decision {
	t.Helper()
	target := webTarget(t, c)
	d, err := e.Decide(t.Context(), scaling.State{Now: time.Now(), Target: target}, []scaling.Candidate{{Name: "fixed", Strategy: fixedStrategy(desired, 1)}}, "")
	require.NoError(t, err)
	return d
}

func setCapacityOps(c *memory.Cloud) []memory.Mutation {
	var out []memory.Mutation
	for _, m := range c.Mutations() {
		if m.Op == memory.OpSetCapacity {
			out = append(out, m)
		}
	}
	return out
}

func TestPlan(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 2, memory.Config{})
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t))
		require.NoError(t, err)
		p := e.Plan(decide(t, e, c, 9), scaling.PlanOptions{})
		var to []int
		for _, s := range p.Steps {
			to = append(to, s.To.Desired)
			assert.Equal(t, safety.ActionScaleOut, s.Action)
		}
		assert.Equal(t, []int{3, 4, 6, 9}, to, "each step at most half the current capacity (at least one)")
		var back []int
		for _, s := range p.Rollback {
			back = append(back, s.To.Desired)
			assert.Equal(t, safety.ActionScaleIn, s.Action)
		}
		assert.Equal(t, []int{5, 3, 2}, back)
		assert.Empty(t, p.Monitoring.Signals, "a scale out needs no signal by default")
		assert.Equal(t, 4*(scaling.DefaultSettleEstimate+scaling.DefaultVerifyWindow), p.ExpectedDuration)
		assert.InDelta(t, 7*0.1, p.CostPerHour, 1e-9, "seven instances at the group's $0.2/h over two instances")
		assert.Equal(t, p.ID, e.Plan(decide(t, e, c, 9), scaling.PlanOptions{}).ID, "the same change at the same time is the same plan")

		down := e.Plan(decide(t, e, c, 1), scaling.PlanOptions{InstanceHourlyCost: 0.5})
		require.Len(t, down.Steps, 1)
		assert.Equal(t, safety.ActionScaleIn, down.Steps[0].Action)
		assert.Equal(t, []scaling.Signal{scaling.DefaultScaleInSignal()}, down.Monitoring.Signals)
		assert.InDelta(t, -0.5, down.CostPerHour, 1e-9)
		// Each plan's default signal is its own: a host that changes one
		// changes no other plan's.
		*down.Monitoring.Signals[0].Max = 0.5
		again := e.Plan(decide(t, e, c, 1), scaling.PlanOptions{InstanceHourlyCost: 0.5})
		assert.Equal(t, []scaling.Signal{scaling.DefaultScaleInSignal()}, again.Monitoring.Signals, "another plan's signal changed")

		// A group at zero instances whose resource still reports a price
		// has no price per instance to go by: the cost is not known (0),
		// never the price divided by zero instances.
		empty := provider.CapacitySpec{Max: 50}
		three := empty
		three.Desired = 3
		fromZero := e.Plan(scaling.Decision{Now: c.Now(), Change: true,
			Target: scaling.Target{ID: "web", Resource: provider.Resource{ID: "web", Kind: provider.KindGroup, HourlyCost: 0.3},
				Capacity: provider.Capacity{CapacitySpec: empty}, Max: 50},
			Chosen: scaling.Recommendation{Strategy: "s", Capacity: three}}, scaling.PlanOptions{})
		require.NotEmpty(t, fromZero.Steps)
		assert.Zero(t, fromZero.CostPerHour)

		// Configured signals guard scale ins; a scale out watches only
		// its own.
		errRate := scaling.Signal{Metric: "custom/5xx_rate", Max: new(0.01)}
		cpu := scaling.Signal{Metric: provider.MetricCPU, Max: new(0.8), Statistic: provider.StatMean}
		verify := scaling.VerifyConfig{Signals: []scaling.Signal{cpu}}
		assert.Empty(t, e.Plan(decide(t, e, c, 9), scaling.PlanOptions{Verify: verify}).Monitoring.Signals, "a CPU signal never rolls back a scale out")
		assert.Equal(t, []scaling.Signal{cpu}, e.Plan(decide(t, e, c, 1), scaling.PlanOptions{Verify: verify}).Monitoring.Signals)
		verify.ScaleOutSignals = []scaling.Signal{errRate}
		assert.Equal(t, []scaling.Signal{errRate}, e.Plan(decide(t, e, c, 9), scaling.PlanOptions{Verify: verify}).Monitoring.Signals)
	})
}

// TestPlanHugeMaxStepFraction pins that a MaxStepFraction large enough
// to mean "no gradual limit" plans the change in one step: the product
// with the capacity overflowed the int conversion, and the plan moved one
// instance a step.
func TestPlanHugeMaxStepFraction(t *testing.T) {
	t.Parallel()
	for _, fraction := range []float64{1e6, 1e18, 1e300} {
		c, err := memory.New(memory.Config{})
		require.NoError(t, err)
		e, err := scaling.NewEngine(scaling.EngineConfig{MaxStepFraction: fraction}, scaling.Cloud{Scaler: c}, allowAll{})
		require.NoError(t, err)
		from := provider.CapacitySpec{Min: 1, Max: 100, Desired: 10}
		to := from
		to.Desired = 100
		p := e.Plan(scaling.Decision{Now: t0, Change: true,
			Target: scaling.Target{ID: "web", Resource: provider.Resource{ID: "web", Kind: provider.KindGroup}, Capacity: provider.Capacity{CapacitySpec: from}, Min: 1, Max: 100},
			Chosen: scaling.Recommendation{Strategy: "s", Capacity: to}}, scaling.PlanOptions{})
		require.Len(t, p.Steps, 1, "fraction %g", fraction)
		assert.Equal(t, to, p.Steps[0].To)
		assert.Len(t, p.Rollback, 1, "fraction %g", fraction)
	}
}

// TestExecuteGatedVerified carries out a scale out through the real
// safety engine and the rate limiter: every step is gated, reserved,
// executed, settled and verified, in order, and recorded.
func TestExecuteGatedVerified(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 2, memory.Config{})
		lim, err := ratelimit.New(ratelimit.Config{Up: ratelimit.Budget{MinInterval: -1, Events: 10}})
		require.NoError(t, err)
		rec := &recorder{}
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t),
			scaling.WithReserver(lim), scaling.WithObserver(rec))
		require.NoError(t, err)
		start := time.Now()
		p := e.Plan(decide(t, e, c, 6), scaling.PlanOptions{Verify: scaling.VerifyConfig{Window: time.Minute}})
		x, err := e.Execute(t.Context(), p)
		require.NoError(t, err)
		assert.Equal(t, scaling.PlanCompleted, x.Status)
		capa, err := c.Capacity(t.Context(), "web")
		require.NoError(t, err)
		assert.Equal(t, 6, capa.Desired)
		assert.True(t, capa.Settled())
		var desired []string
		for _, m := range setCapacityOps(c) {
			desired = append(desired, m.To)
		}
		assert.Len(t, desired, 3, "2→3→4→6")
		for _, s := range x.Steps {
			assert.Equal(t, scaling.StepVerified, s.Status)
		}
		assert.Equal(t, []scaling.EventKind{
			scaling.EventPlanned,
			scaling.EventStepExecuted, scaling.EventStepVerified,
			scaling.EventStepExecuted, scaling.EventStepVerified,
			scaling.EventStepExecuted, scaling.EventStepVerified,
			scaling.EventPlanCompleted,
		}, rec.kinds())
		assert.GreaterOrEqual(t, time.Since(start), 3*time.Minute, "each step waited for its instances (a minute) and its window")
		h := e.History("web")
		require.Len(t, h.Changes, 3)
		assert.Equal(t, p.ID, h.Changes[0].PlanID)
		stats, err := lim.Stats(t.Context())
		require.NoError(t, err)
		require.NotEmpty(t, stats.Buckets)
		assert.Equal(t, 3, stats.Buckets[0].InWindow, "one event per step")
	})
	_ = context.Background
}

// TestExecuteIdempotent executes the same plan twice: the second call
// returns the record and changes nothing.
func TestExecuteIdempotent(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 2, memory.Config{})
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t))
		require.NoError(t, err)
		p := e.Plan(decide(t, e, c, 4), scaling.PlanOptions{})
		_, err = e.Execute(t.Context(), p)
		require.NoError(t, err)
		n := len(setCapacityOps(c))
		x, err := e.Execute(t.Context(), p)
		require.NoError(t, err)
		assert.Equal(t, scaling.PlanCompleted, x.Status)
		assert.Len(t, setCapacityOps(c), n, "no second change")
	})
}

// TestFaultScalerErrorMidPlan: a Scaler error on the second step (of
// 4→6→9) rolls back the first.
func TestFaultScalerErrorMidPlan(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		boom := errors.New("api down")
		_, err := c.InjectFault(memory.Fault{Op: memory.OpSetCapacity, ResourceID: "web", Nth: 2, Err: boom})
		require.NoError(t, err)
		rec := &recorder{}
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t), scaling.WithObserver(rec))
		require.NoError(t, err)
		x, err := e.Execute(t.Context(), e.Plan(decide(t, e, c, 9), scaling.PlanOptions{}))
		require.ErrorIs(t, err, boom)
		var serr *scaling.StepError
		require.ErrorAs(t, err, &serr)
		assert.Equal(t, 2, serr.Step)
		assert.Equal(t, scaling.StageAct, serr.Stage)
		assert.Equal(t, scaling.PlanRolledBack, x.Status)
		require.Len(t, x.Steps, 2, "4→6→9")
		assert.Equal(t, scaling.StepRolledBack, x.Steps[0].Status)
		assert.Equal(t, scaling.StepRolledBack, x.Steps[1].Status, "the failed step is rolled back too")
		require.Len(t, x.Rollback, 1, "6→4")
		capa, err := c.Capacity(t.Context(), "web")
		require.NoError(t, err)
		assert.Equal(t, 4, capa.Desired, "back where the plan started")
		assert.Equal(t, 1, rec.count(scaling.EventRollbackStarted))
		assert.Equal(t, 1, rec.count(scaling.EventRollbackCompleted))
		h := e.History("web")
		require.Len(t, h.Changes, 2)
		assert.True(t, h.Changes[1].Rollback)
	})
}

// TestFaultPartial: a partial failure applies half of a change: the
// rollback starts from where it left the group.
func TestFaultPartial(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		_, err := c.InjectFault(memory.Fault{Op: memory.OpSetCapacity, ResourceID: "web", Partial: true, Times: 1})
		require.NoError(t, err)
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t))
		require.NoError(t, err)
		x, err := e.Execute(t.Context(), e.Plan(decide(t, e, c, 6), scaling.PlanOptions{}))
		require.ErrorIs(t, err, memory.ErrPartial)
		assert.Equal(t, scaling.PlanRolledBack, x.Status)
		capa, err := c.Capacity(t.Context(), "web")
		require.NoError(t, err)
		assert.Equal(t, 4, capa.Desired)
	})
}

// TestFaultThrottling: a throttled Scaler is retried with backoff within
// the deadline; past it the step fails.
func TestFaultThrottling(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 2, memory.Config{})
		_, err := c.InjectFault(memory.Fault{Op: memory.OpSetCapacity, Throttle: true, Times: 3})
		require.NoError(t, err)
		rec := &recorder{}
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t), scaling.WithObserver(rec))
		require.NoError(t, err)
		start := time.Now()
		x, err := e.Execute(t.Context(), e.Plan(decide(t, e, c, 3), scaling.PlanOptions{}))
		require.NoError(t, err)
		assert.Equal(t, scaling.PlanCompleted, x.Status)
		assert.Equal(t, 3, rec.count(scaling.EventStepRetried))
		assert.GreaterOrEqual(t, time.Since(start), (1+2+4)*time.Second, "backoff 1s, 2s, 4s")

		c.ClearFaults()
		_, err = c.InjectFault(memory.Fault{Op: memory.OpSetCapacity, Throttle: true})
		require.NoError(t, err)
		x, err = e.Execute(t.Context(), e.Plan(decide(t, e, c, 4), scaling.PlanOptions{}))
		require.ErrorIs(t, err, provider.ErrThrottled)
		assert.Equal(t, scaling.PlanStopped, x.Status, "the first step changed nothing: nothing to roll back")
		capa, err := c.Capacity(t.Context(), "web")
		require.NoError(t, err)
		assert.Equal(t, 3, capa.Desired)
	})
}

// TestRetryBackoffAboveTheCap: a first backoff longer than the 30 s cap
// of its doubling is never shortened: it was halved after the first
// retry (1m, then 30s), retrying a throttled provider faster than asked.
func TestRetryBackoffAboveTheCap(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 2, memory.Config{})
		_, err := c.InjectFault(memory.Fault{Op: memory.OpSetCapacity, Throttle: true, Times: 3})
		require.NoError(t, err)
		rec := &recorder{}
		e, err := scaling.NewEngine(scaling.EngineConfig{RetryBackoff: time.Minute, RetryDeadline: 10 * time.Minute}, scaling.Cloud{Scaler: c, Metrics: c},
			safetyGate(t), scaling.WithObserver(rec))
		require.NoError(t, err)
		x, err := e.Execute(t.Context(), e.Plan(decide(t, e, c, 3), scaling.PlanOptions{}))
		require.NoError(t, err)
		assert.Equal(t, scaling.PlanCompleted, x.Status)
		var waits []string
		for _, ev := range rec.events {
			if ev.Kind == scaling.EventStepRetried {
				waits = append(waits, ev.Reason)
			}
		}
		assert.Equal(t, []string{"throttled; retrying in 1m0s", "throttled; retrying in 1m0s", "throttled; retrying in 1m0s"}, waits)
	})
}

// TestFaultSafetyError: a rule that errors blocks (fail closed): nothing
// changes.
func TestFaultSafetyError(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 2, memory.Config{})
		broken := safety.Named("cmdb", safety.RuleFunc(func(context.Context, safety.Proposal) (safety.Result, error) {
			return safety.Result{}, errors.New("cmdb unreachable")
		}))
		gate, err := safety.New(safety.Config{}, []safety.Rule{broken})
		require.NoError(t, err)
		rec := &recorder{}
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, gate, scaling.WithObserver(rec))
		require.NoError(t, err)
		x, err := e.Execute(t.Context(), e.Plan(decide(t, e, c, 3), scaling.PlanOptions{}))
		require.ErrorIs(t, err, safety.ErrBlocked)
		require.ErrorIs(t, err, safety.ErrRuleFailed, "a rule that fails is a failure, not a refusal")
		var serr *scaling.StepError
		require.ErrorAs(t, err, &serr)
		assert.Equal(t, scaling.StageSafety, serr.Stage)
		assert.Equal(t, scaling.PlanBlocked, x.Status, "fail closed: the gate stopped the plan")
		assert.Equal(t, err, x.Err)
		require.NotNil(t, x.Gate)
		assert.False(t, x.Gate.Allowed)
		assert.Empty(t, setCapacityOps(c))
		assert.Equal(t, 1, rec.count(scaling.EventStepBlocked))
		for _, ev := range rec.events {
			if ev.Kind == scaling.EventStepBlocked || ev.Kind == scaling.EventPlanStopped {
				require.ErrorIs(t, ev.Err, safety.ErrRuleFailed, "%s carries the failure", ev.Kind)
			}
		}
	})
}

// TestFaultNeverSettles: capacity that never becomes ready fails
// verification; the rollback is recorded.
func TestFaultNeverSettles(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{LaunchDelay: 24 * time.Hour})
		rec := &recorder{}
		e, err := scaling.NewEngine(scaling.EngineConfig{VerifyTimeout: 5 * time.Minute}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t), scaling.WithObserver(rec))
		require.NoError(t, err)
		x, err := e.Execute(t.Context(), e.Plan(decide(t, e, c, 6), scaling.PlanOptions{}))
		require.ErrorIs(t, err, scaling.ErrNotVerified)
		assert.Equal(t, scaling.PlanRolledBack, x.Status)
		assert.Contains(t, x.Reason, "did not settle within 5m0s")
		assert.Equal(t, 1, rec.count(scaling.EventVerificationFailed))
		assert.Equal(t, 1, rec.count(scaling.EventRollbackCompleted))
		capa, err := c.Capacity(t.Context(), "web")
		require.NoError(t, err)
		assert.Equal(t, 4, capa.Desired)
		assert.True(t, capa.Settled())
	})
}

// TestSignalUnhealthy: a scale in that drives CPU above 0.9 (the default
// signal) is rolled back.
func TestSignalUnhealthy(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		setCPU(t, c, "web", 0.95)
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t))
		require.NoError(t, err)
		x, err := e.Execute(t.Context(), e.Plan(decide(t, e, c, 3), scaling.PlanOptions{}))
		require.ErrorIs(t, err, scaling.ErrNotVerified)
		assert.Contains(t, x.Reason, "cpu mean ≤ 0.9 unhealthy: 0.95")
		capa, err := c.Capacity(t.Context(), "web")
		require.NoError(t, err)
		assert.Equal(t, 4, capa.Desired)
	})
}

// TestSignalInfinite: a signal read as an infinite value is unknown, not
// healthy (fail closed): −Inf passed the default signal's "≤ 0.9" and
// +Inf a signal's "≥ min", and the scale in was verified on garbage.
func TestSignalInfinite(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		value  float64
		verify scaling.VerifyConfig
	}{
		{"-Inf under the default max", math.Inf(-1), scaling.VerifyConfig{}},
		{"+Inf over a min", math.Inf(1), scaling.VerifyConfig{Signals: []scaling.Signal{{Metric: provider.MetricRequests, Min: new(10.0)}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCloud(t, 4, memory.Config{})
				metrics := provider.MetricsSourceFunc(func(ctx context.Context, q provider.Query) (provider.Series, error) {
					ser, err := c.QueryMetric(ctx, q)
					for i := range ser.Values {
						ser.Values[i] = tc.value
					}
					return ser, err
				})
				e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: metrics}, safetyGate(t))
				require.NoError(t, err)
				x, err := e.Execute(t.Context(), e.Plan(decide(t, e, c, 3), scaling.PlanOptions{Verify: tc.verify}))
				require.ErrorIs(t, err, scaling.ErrNotVerified)
				assert.Equal(t, scaling.PlanRolledBack, x.Status, x.Reason)
				capa, err := c.Capacity(t.Context(), "web")
				require.NoError(t, err)
				assert.Equal(t, 4, capa.Desired)
			})
		})
	}
}

// TestCancelBetweenSteps: a context cancelled after the first step leaves
// the plan interrupted; resuming it continues with the second step, and
// the first is not repeated.
func TestCancelBetweenSteps(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		ctx, cancel := context.WithCancel(t.Context())
		stopAfterFirst := scaling.ObserverFunc(func(ev scaling.Event) {
			if ev.Kind == scaling.EventStepVerified && ev.Step == 1 {
				cancel()
			}
		})
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t), scaling.WithObserver(stopAfterFirst))
		require.NoError(t, err)
		p := e.Plan(decide(t, e, c, 9), scaling.PlanOptions{})
		x, err := e.Execute(ctx, p)
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, scaling.PlanInterrupted, x.Status)
		require.Len(t, setCapacityOps(c), 1)

		xs, err := e.Resume(t.Context(), "web", time.Now(), time.Hour)
		require.NoError(t, err)
		require.Len(t, xs, 1)
		assert.Equal(t, scaling.PlanCompleted, xs[0].Status)
		var to []string
		for _, m := range setCapacityOps(c) {
			to = append(to, m.To)
		}
		assert.Len(t, to, 2, "4→6 once, then 6→9: %v", to)
		capa, err := c.Capacity(t.Context(), "web")
		require.NoError(t, err)
		assert.Equal(t, 9, capa.Desired)
	})
}

// TestCancelDuringWrite: a context cancelled while the provider call is in
// flight leaves the step's outcome unknown; resuming reads the capacity
// and verifies the step instead of repeating it.
func TestCancelDuringWrite(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		_, err := c.InjectFault(memory.Fault{Op: memory.OpSetCapacity, Latency: time.Minute, Times: 1})
		require.NoError(t, err)
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t))
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		p := e.Plan(decide(t, e, c, 6), scaling.PlanOptions{})
		x, err := e.Execute(ctx, p)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, scaling.PlanInterrupted, x.Status)
		assert.Equal(t, scaling.StepExecuting, x.Steps[0].Status)
		xs, err := e.Resume(t.Context(), "web", time.Now(), time.Hour)
		require.NoError(t, err)
		require.Len(t, xs, 1)
		assert.Equal(t, scaling.PlanCompleted, xs[0].Status)
		capa, err := c.Capacity(t.Context(), "web")
		require.NoError(t, err)
		assert.Equal(t, 6, capa.Desired)
	})
}

// TestCancelAtFence: a context that ends while a step is fenced (the
// fence's etcd write cut off) interrupts the plan, as at the gate and the
// rate limiter: it is resumed, not stopped for good as if the fence had
// refused.
func TestCancelAtFence(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		ctx, cancel := context.WithCancel(t.Context())
		fencer := scaling.FencerFunc(func(ctx context.Context, _ string, step int) error {
			if step == 2 {
				cancel()
			}
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("fence: %w", err)
			}
			return nil
		})
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t), scaling.WithFencer(fencer))
		require.NoError(t, err)
		p := e.Plan(decide(t, e, c, 9), scaling.PlanOptions{})
		require.Len(t, p.Steps, 2, "4→6→9")
		x, err := e.Execute(ctx, p)
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, scaling.PlanInterrupted, x.Status, x.Reason)
		assert.Equal(t, scaling.StepPending, x.Steps[1].Status)

		xs, err := e.Resume(t.Context(), "web", time.Now(), time.Hour)
		require.NoError(t, err)
		require.Len(t, xs, 1, "the interrupted plan is resumed")
		assert.Equal(t, scaling.PlanCompleted, xs[0].Status, xs[0].Reason)
		capa, err := c.Capacity(t.Context(), "web")
		require.NoError(t, err)
		assert.Equal(t, 9, capa.Desired)
	})
}

// TestDrift: someone else changes the capacity between steps: the plan
// stops without fighting the change.
func TestDrift(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		ctx := t.Context()
		meddle := scaling.ObserverFunc(func(ev scaling.Event) {
			if ev.Kind == scaling.EventStepVerified && ev.Step == 1 {
				assert.NoError(t, c.SetCapacity(ctx, "web", provider.CapacitySpec{Max: 50, Desired: 20}))
			}
		})
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t), scaling.WithObserver(meddle))
		require.NoError(t, err)
		x, err := e.Execute(ctx, e.Plan(decide(t, e, c, 9), scaling.PlanOptions{}))
		require.ErrorIs(t, err, scaling.ErrDrift)
		assert.Equal(t, scaling.PlanStopped, x.Status)
		capa, err := c.Capacity(ctx, "web")
		require.NoError(t, err)
		assert.Equal(t, 20, capa.Desired)
	})
}

// TestRateLimit: a clamped step is shortened and the rest re-split; a
// denied step stops the plan, keeping the steps done.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 10, memory.Config{})
		lim, err := ratelimit.New(ratelimit.Config{Up: ratelimit.Budget{MaxUnits: 2, Events: 2, MinInterval: -1}})
		require.NoError(t, err)
		rec := &recorder{}
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t),
			scaling.WithReserver(lim), scaling.WithObserver(rec))
		require.NoError(t, err)
		x, err := e.Execute(t.Context(), e.Plan(decide(t, e, c, 15), scaling.PlanOptions{}))
		require.NoError(t, err, "a denial stops the plan; it is not a failure")
		assert.Equal(t, scaling.PlanRateLimited, x.Status)
		require.NoError(t, x.Err)
		assert.Nil(t, x.Gate)
		require.NotNil(t, x.RateLimit)
		assert.Equal(t, ratelimit.Denied, x.RateLimit.Outcome)
		assert.Equal(t, ratelimit.ReasonWindow, x.RateLimit.Reason, "two events per window were used")
		assert.Equal(t, ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 1}, x.RateLimit.Request, "the denied step 14→15")
		assert.False(t, x.RateLimit.Next.IsZero(), "when the step could go ahead")
		var to []int
		for _, s := range x.Steps {
			to = append(to, s.Step.To.Desired)
		}
		assert.Equal(t, []int{12, 14, 15}, to, "10→15 clamped to 10→12, re-split 12→15, clamped to 12→14")
		assert.Equal(t, scaling.StepVerified, x.Steps[1].Status)
		assert.Equal(t, scaling.StepSkipped, x.Steps[2].Status)
		capa, err := c.Capacity(t.Context(), "web")
		require.NoError(t, err)
		assert.Equal(t, 14, capa.Desired, "the verified steps stay")
		assert.Equal(t, 3, rec.count(scaling.EventStepRateLimited), "two clamps and a denial")
		for _, ev := range rec.events {
			require.NoError(t, ev.Err, "%s: a denial is no failure", ev.Kind)
		}
		assert.Equal(t, 1, rec.count(scaling.EventPlanStopped))

		// Executing the stopped plan again returns its record and acts not.
		again, err := e.Execute(t.Context(), x.Plan)
		require.NoError(t, err)
		assert.Equal(t, scaling.PlanRateLimited, again.Status)
		assert.Equal(t, 3, rec.count(scaling.EventStepRateLimited))
	})
}

// TestRateLimitRefund: a step the provider refuses without changing
// anything gets its rate-limit budget back.
func TestRateLimitRefund(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 2, memory.Config{})
		_, err := c.InjectFault(memory.Fault{Op: memory.OpSetCapacity, Err: provider.ErrConflict})
		require.NoError(t, err)
		lim, err := ratelimit.New(ratelimit.Config{})
		require.NoError(t, err)
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t), scaling.WithReserver(lim))
		require.NoError(t, err)
		_, err = e.Execute(t.Context(), e.Plan(decide(t, e, c, 3), scaling.PlanOptions{}))
		require.ErrorIs(t, err, provider.ErrConflict)
		stats, err := lim.Stats(t.Context())
		require.NoError(t, err)
		for _, b := range stats.Buckets {
			assert.Zero(t, b.InWindow, "refunded: %v", b.Key)
		}
	})
}

// hostReserver is a host's own rate limiter: it grants one unit per
// request and records refunds.
type hostReserver struct {
	mu       sync.Mutex
	reserved []ratelimit.Request
	refunds  int
}

func (r *hostReserver) ReserveAt(_ context.Context, now time.Time, req ratelimit.Request) (ratelimit.Reservation, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reserved = append(r.reserved, req)
	granted := min(req.Units, 1)
	out := ratelimit.Allowed
	if granted < req.Units {
		out = ratelimit.Clamped
	}
	return ratelimit.Reservation{ID: uint64(len(r.reserved)), Request: req, At: now, Outcome: out, Granted: granted}, nil
}

func (r *hostReserver) CancelAt(context.Context, time.Time, ratelimit.Reservation) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refunds++
	return nil
}

// TestHostGateAndReserver passes a host's own Gate and Reserver: the
// engine uses them through the small interfaces only.
func TestHostGateAndReserver(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 2, memory.Config{})
		seen := make(chan safety.Proposal, 10)
		res := &hostReserver{}
		var gate scaling.Gate = allowAll{seen: seen}
		var reserver scaling.Reserver = res
		e, err := scaling.NewEngine(scaling.EngineConfig{Requester: "my-host"}, scaling.Cloud{Scaler: c, Metrics: c}, gate, scaling.WithReserver(reserver))
		require.NoError(t, err)
		p := e.Plan(decide(t, e, c, 4), scaling.PlanOptions{})
		x, err := e.Execute(t.Context(), p)
		require.NoError(t, err)
		assert.Equal(t, scaling.PlanCompleted, x.Status)
		close(seen)
		var ids []string
		for prop := range seen {
			ids = append(ids, prop.ID)
			assert.Equal(t, "my-host", prop.Requester)
			assert.Equal(t, p.ID, prop.Source)
			assert.Equal(t, safety.ActionScaleOut, prop.Action)
		}
		assert.Equal(t, []string{p.ID + "/1", p.ID + "/2"}, ids, "2→3, 3→4: one unit each, as granted")
		assert.Len(t, res.reserved, 2)
		assert.Equal(t, ratelimit.Up, res.reserved[0].Direction)
		assert.Equal(t, "web", res.reserved[0].Target)
	})
}

// TestPlanIDInProviderContext: the provider sees the plan step it acts
// for.
func TestPlanIDInProviderContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 2, memory.Config{})
		var got []scaling.PlanStepRef
		scaler := struct{ provider.Scaler }{provider.Scaler(scalerFunc{c, func(ctx context.Context) {
			ref, ok := scaling.PlanFromContext(ctx)
			assert.True(t, ok)
			got = append(got, ref)
		}})}
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: scaler, Metrics: c}, allowAll{})
		require.NoError(t, err)
		p := e.Plan(decide(t, e, c, 3), scaling.PlanOptions{})
		_, err = e.Execute(t.Context(), p)
		require.NoError(t, err)
		assert.Equal(t, []scaling.PlanStepRef{{PlanID: p.ID, Step: 1}}, got)
	})
}

// scalerFunc wraps a Scaler, calling hook on every SetCapacity.
type scalerFunc struct {
	provider.Scaler
	hook func(ctx context.Context)
}

func (s scalerFunc) SetCapacity(ctx context.Context, id string, want provider.CapacitySpec) error {
	s.hook(ctx)
	return s.Scaler.SetCapacity(ctx, id, want)
}

func TestEngineConfigErrors(t *testing.T) {
	t.Parallel()
	c, err := memory.New(memory.Config{})
	require.NoError(t, err)
	_, err = scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c}, nil)
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "gate", inv.Field)
	_, err = scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{}, allowAll{})
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "cloud", inv.Field)
	for field, cfg := range map[string]scaling.EngineConfig{
		"max_step_fraction": {MaxStepFraction: -0.5},
		"poll_interval":     {PollInterval: -time.Second},
		"history_retention": {HistoryRetention: time.Minute},
		"min_step":          {MinStep: -1},
		"requester":         {Requester: "auto\x7fscaler"},
		"write_timeout":     {WriteTimeout: -time.Millisecond},
	} {
		_, err = scaling.NewEngine(cfg, scaling.Cloud{Scaler: c}, allowAll{})
		require.ErrorAs(t, err, &inv, field)
		assert.Equal(t, field, inv.Field)
	}
}

// TestTypedNilCollaborators: a nil *safety.Engine is no gate; a nil
// *ratelimit.Limiter is no reserver.
func TestTypedNilCollaborators(t *testing.T) {
	t.Parallel()
	c, err := memory.New(memory.Config{})
	require.NoError(t, err)
	var gate *safety.Engine
	_, err = scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c}, gate)
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "gate", inv.Field)
	var lim *ratelimit.Limiter
	_, err = scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c}, allowAll{}, scaling.WithReserver(lim))
	require.NoError(t, err, "a nil limiter is no rate limit")
}

// TestExecuteResize carries out the vertical strategy's plans on the
// in-memory cloud: a function's timeout shrinks to its durations and is
// verified once applied (a function has no CPU signal), an instance moves
// to a cheaper type and is verified on its CPU.
func TestExecuteResize(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, err := memory.New(memory.Config{})
		require.NoError(t, err)
		require.NoError(t, c.Add(
			provider.Resource{ID: "fn", Kind: provider.KindFunction, Size: provider.Size{MemoryMiB: 1024, Timeout: 300 * time.Second}},
			provider.Resource{ID: "vm", Kind: provider.KindInstance, State: provider.StateRunning, Size: provider.Size{InstanceType: "m5.2xlarge"}},
		))
		now := time.Now()
		day := make([]float64, 24*60+1)
		for i := range day {
			day[i] = 2
		}
		require.NoError(t, c.SetSeries(provider.Series{ResourceID: "fn", Metric: provider.MetricDuration, Start: now.Add(-24 * time.Hour), Step: time.Minute, Values: day}))
		setCPU(t, c, "vm", 0.1)
		mem := make([]float64, 24*60+1)
		for i := range mem {
			mem[i] = 0.2
		}
		require.NoError(t, c.SetSeries(provider.Series{ResourceID: "vm", Metric: provider.MetricMemory, Start: now.Add(-24 * time.Hour), Step: time.Minute, Values: mem}))
		rec := &recorder{}
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Resizer: c, Inventory: c, Metrics: c}, allowAll{}, scaling.WithObserver(rec))
		require.NoError(t, err)
		vertical := []scaling.StrategySpec{{Type: scaling.StrategyVertical, Vertical: &scaling.VerticalConfig{InstanceTypes: catalogue(), Lookback: 24 * time.Hour}}}
		a, err := scaling.NewAutoscaler(scaling.Config{Execute: true, Targets: []scaling.TargetConfig{
			{ID: "fn", Strategies: vertical}, {ID: "vm", Strategies: vertical},
		}}, e, scaling.Fleet{Inventory: c, Metrics: c})
		require.NoError(t, err)
		rep := a.RunOnce(t.Context(), time.Now())
		require.NoError(t, rep.Err())

		fn := rep.Targets[0]
		require.NotNil(t, fn.Execution)
		assert.Equal(t, scaling.PlanCompleted, fn.Execution.Status)
		assert.Empty(t, fn.Plan.Monitoring.Signals, "a function has no CPU to watch")
		r, err := c.Get(t.Context(), "fn")
		require.NoError(t, err)
		assert.Equal(t, 3*time.Second, r.Size.Timeout, "p99 of 2 s with 50 % headroom")
		assert.Equal(t, 1024, r.Size.MemoryMiB, "no memory data: memory kept")

		vm := rep.Targets[1]
		require.NotNil(t, vm.Execution)
		assert.Equal(t, scaling.PlanCompleted, vm.Execution.Status)
		assert.Equal(t, []scaling.Signal{scaling.DefaultScaleInSignal()}, vm.Plan.Monitoring.Signals)
		r, err = c.Get(t.Context(), "vm")
		require.NoError(t, err)
		assert.Equal(t, "m5.large", r.Size.InstanceType, "the cheapest with 0.92 vCPU and 7.4 GiB")
		assert.Equal(t, 2, rec.count(scaling.EventStepVerified))
	})
}

// TestDecideFitnessTie: of two strategies equally fit, the first listed is
// chosen; a fitter later one wins.
func TestDecideFitnessTie(t *testing.T) {
	t.Parallel()
	c := newCloud(t, 4, memory.Config{})
	e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{})
	require.NoError(t, err)
	target := webTarget(t, c)
	d, err := e.Decide(t.Context(), scaling.State{Now: time.Now(), Target: target},
		[]scaling.Candidate{{Name: "first", Strategy: fixedStrategy(6, 0.5)}, {Name: "second", Strategy: fixedStrategy(8, 0.5)}}, "")
	require.NoError(t, err)
	assert.Equal(t, "first", d.Chosen.Strategy)
	d, err = e.Decide(t.Context(), scaling.State{Now: time.Now(), Target: target},
		[]scaling.Candidate{{Name: "first", Strategy: fixedStrategy(6, 0.5)}, {Name: "second", Strategy: fixedStrategy(8, 0.6)}}, "")
	require.NoError(t, err)
	assert.Equal(t, "second", d.Chosen.Strategy)
}

// TestDecidePinnedUnknown: a pinned name that names no candidate (a
// typo) is an error naming it, before any strategy is asked: it was
// reported as "no strategy recommended" after every strategy had
// recommended and been recorded.
func TestDecidePinnedUnknown(t *testing.T) {
	t.Parallel()
	c := newCloud(t, 4, memory.Config{})
	e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{})
	require.NoError(t, err)
	target := webTarget(t, c)
	_, err = e.Decide(t.Context(), scaling.State{Now: time.Now(), Target: target},
		[]scaling.Candidate{{Name: "first", Strategy: fixedStrategy(6, 0.5)}, {Name: "second", Strategy: fixedStrategy(8, 0.6)}}, "frist")
	require.ErrorIs(t, err, provider.ErrInvalid)
	require.ErrorIs(t, err, scaling.ErrNoStrategy)
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "pinned", inv.Field)
	assert.Contains(t, err.Error(), "frist")
	assert.Empty(t, e.History("web").Recommendations, "nothing was decided")
}

// TestDecideRequiresNowAndTargetID: a State without its required time or
// target ID is an error naming the field: a decision at the zero time was
// recorded in the History at year 1 (its plan then too old to resume at
// once), and one without an ID shared the History of every other.
func TestDecideRequiresNowAndTargetID(t *testing.T) {
	t.Parallel()
	c := newCloud(t, 4, memory.Config{})
	e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{})
	require.NoError(t, err)
	target := webTarget(t, c)
	noID := target
	noID.ID = ""
	for _, tt := range []struct {
		name  string
		give  scaling.State
		field string
	}{
		{"no now", scaling.State{Target: target}, "now"},
		{"no target id", scaling.State{Now: time.Now(), Target: noID}, "target.id"},
	} {
		_, err := e.Decide(t.Context(), tt.give, []scaling.Candidate{{Name: "fixed", Strategy: fixedStrategy(6, 1)}}, "")
		var inv *provider.InvalidError
		require.ErrorAs(t, err, &inv, tt.name)
		assert.Equal(t, tt.field, inv.Field, tt.name)
	}
	assert.Empty(t, e.History("web").Recommendations)
	assert.Empty(t, e.History("").Recommendations)
}

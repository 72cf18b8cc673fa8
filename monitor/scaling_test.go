package monitor_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/stepclock"
	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/scaling"
)

func TestScalingEvents(t *testing.T) {
	t.Parallel()
	spec := func(d int) provider.CapacitySpec { return provider.CapacitySpec{Min: 1, Max: 10, Desired: d} }
	base := scaling.Event{Time: t0, Target: "web", PlanID: "p-1", From: spec(2), To: spec(4), Reason: "cpu 0.95 above 0.8"}
	tests := []struct {
		kind    scaling.EventKind
		want    monitor.Kind
		outcome string
	}{
		{scaling.EventPlanned, monitor.KindScalingPlan, monitor.OutcomePlanned},
		{scaling.EventPreviewed, monitor.KindScalingStep, monitor.OutcomeWouldAct},
		{scaling.EventStepExecuted, monitor.KindScalingStep, monitor.OutcomeDone},
		{scaling.EventStepFailed, monitor.KindScalingStep, monitor.OutcomeFailed},
		{scaling.EventStepBlocked, monitor.KindBlocked, "block"},
		{scaling.EventStepRateLimited, monitor.KindRateLimited, monitor.OutcomeRateLimited},
		{scaling.EventStepVerified, monitor.KindVerification, monitor.OutcomeVerified},
		{scaling.EventVerificationFailed, monitor.KindVerification, monitor.OutcomeFailed},
		{scaling.EventRollbackStarted, monitor.KindRollback, monitor.OutcomeStarted},
		{scaling.EventRollbackStep, monitor.KindRollback, monitor.OutcomeDone},
		{scaling.EventRollbackFailed, monitor.KindRollback, monitor.OutcomeFailed},
		{scaling.EventPlanCompleted, monitor.KindScalingPlan, monitor.OutcomeDone},
		{scaling.EventPlanStopped, monitor.KindScalingPlan, monitor.OutcomeStopped},
		{scaling.EventError, monitor.KindFailure, monitor.OutcomeFailed},
		{scaling.EventForecastFallback, monitor.KindForecast, monitor.OutcomeFallback},
		{scaling.EventForecastRecovered, monitor.KindForecast, monitor.OutcomeRecovered},
		{scaling.EventNoData, monitor.KindScalingData, monitor.OutcomeNoData},
		{scaling.EventDataRecovered, monitor.KindScalingData, monitor.OutcomeRecovered},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			t.Parallel()
			e := base
			e.Kind, e.Value, e.Strategy = tt.kind, 1.25, "threshold"
			evs := monitor.ScalingEvents(e, 0.1)
			require.Len(t, evs, 1)
			got := evs[0]
			require.NoError(t, got.Validate())
			assert.Equal(t, tt.want, got.Kind)
			assert.Equal(t, tt.outcome, got.Outcome)
			assert.Equal(t, monitor.SourceScaling, got.Source)
			assert.Equal(t, "web", got.ResourceID)
			assert.Equal(t, "p-1", got.Ref)
			assert.Equal(t, safety.ActionScaleOut, got.Action)
			if tt.want == monitor.KindForecast {
				assert.InDelta(t, 1.25, got.Value, 0, "a forecast event carries its error")
				assert.Equal(t, "threshold", got.Strategy, "a forecast standing is a strategy's")
			} else {
				assert.Zero(t, got.Value)
				// A target's want of data is not a strategy's: a
				// recovery naming one would not resolve an alert whose
				// match named none.
				assert.Empty(t, got.Strategy)
			}
			switch tt.kind {
			case scaling.EventStepExecuted, scaling.EventRollbackStep:
				require.NotNil(t, got.Cost)
				assert.InDelta(t, 0.2, got.Cost.Before, 1e-12)
				assert.InDelta(t, 0.4, got.Cost.After, 1e-12)
			default:
				assert.Nil(t, got.Cost, "only changes that took effect carry costs")
			}
		})
	}
	for _, k := range []scaling.EventKind{scaling.EventDecision, scaling.EventStepRetried, scaling.EventRollbackCompleted} {
		e := base
		e.Kind = k
		assert.Empty(t, monitor.ScalingEvents(e, 0.1), k)
	}
	// A plan stopped by a failure (here a gate whose rule failed) is a
	// failed plan; one the gate refused is only stopped.
	e := base
	e.Kind, e.Err = scaling.EventPlanStopped, errors.New("cmdb unreachable")
	got := monitor.ScalingEvents(e, 0)[0]
	assert.Equal(t, monitor.OutcomeFailed, got.Outcome)
	assert.Contains(t, got.Reason, "cmdb unreachable")
	e = base
	e.Kind, e.Err, e.From, e.To = scaling.EventError, errors.New("metrics down"), provider.CapacitySpec{}, provider.CapacitySpec{}
	got = monitor.ScalingEvents(e, 0)[0]
	assert.Contains(t, got.Reason, "metrics down")
	assert.Empty(t, got.Action)
	assert.Nil(t, got.Capacity)
	e = base
	e.Kind, e.To = scaling.EventStepExecuted, spec(1)
	got = monitor.ScalingEvents(e, 0)[0]
	assert.Equal(t, safety.ActionScaleIn, got.Action)
	assert.Nil(t, got.Cost, "unknown instance cost")
}

const policy = `
interval: 1m
execute: true
targets:
  - id: web
    min: 1
    max: 10
    instance_hourly_cost: 0.096
    verify: {timeout: 5m, window: 1m}
    strategies:
      - type: threshold
`

// The real scaling engine and autoscaler on a memory cloud, observed: a
// hot group is scaled out, and the plan, its step with costs and the
// verification are in the log.
func TestScalingObserverWithEngine(t *testing.T) {
	t.Parallel()
	clk := stepclock.New(t0)
	cloud, err := memory.New(memory.Config{LaunchDelay: time.Minute}, memory.WithClock(clk))
	require.NoError(t, err)
	require.NoError(t, cloud.AddGroup(provider.Resource{ID: "web", Kind: provider.KindGroup}, provider.CapacitySpec{Min: 1, Max: 10, Desired: 2}))
	var samples []provider.Sample
	for at := t0.Add(-time.Hour); at.Before(t0.Add(time.Hour)); at = at.Add(time.Minute) {
		samples = append(samples, provider.Sample{Time: at, Value: 0.95})
	}
	require.NoError(t, cloud.AddSamples("web", provider.MetricCPU, samples...))
	cfg, err := scaling.ParseConfig(strings.NewReader(policy))
	require.NoError(t, err)
	l, err := monitor.NewLog(monitor.LogConfig{})
	require.NoError(t, err)
	obs := monitor.NewScalingObserver(l, monitor.WithInstanceCost(monitor.InstanceCosts(cfg)), monitor.WithObserverClock(clk))
	gradual, err := safety.NewGradualRule(safety.GradualConfig{})
	require.NoError(t, err)
	gate, err := safety.New(safety.Config{}, []safety.Rule{gradual})
	require.NoError(t, err)
	engine, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: cloud, Metrics: cloud}, gate,
		scaling.WithObserver(obs), scaling.WithEngineClock(clk))
	require.NoError(t, err)
	a, err := scaling.NewAutoscaler(cfg, engine, scaling.Fleet{Inventory: cloud, Metrics: cloud}, scaling.WithClock(clk))
	require.NoError(t, err)
	a.RunOnce(t.Context(), t0)
	require.NoError(t, obs.Err())

	evs, err := l.Query(monitor.Query{ResourceID: "web", Source: monitor.SourceScaling})
	require.NoError(t, err)
	kinds := map[monitor.Kind][]monitor.Event{}
	for _, e := range evs {
		kinds[e.Kind] = append(kinds[e.Kind], e)
	}
	require.NotEmpty(t, kinds[monitor.KindScalingPlan], "events: %v", evs)
	plan := kinds[monitor.KindScalingPlan][0]
	assert.Equal(t, monitor.OutcomePlanned, plan.Outcome)
	require.NotNil(t, plan.Capacity)
	assert.Equal(t, monitor.CapacityChange{From: 2, To: 4}, *plan.Capacity, "threshold: ×2 above 0.8")
	steps := kinds[monitor.KindScalingStep]
	require.NotEmpty(t, steps)
	for _, s := range steps {
		assert.Equal(t, monitor.OutcomeDone, s.Outcome)
		assert.Equal(t, safety.ActionScaleOut, s.Action)
		assert.Equal(t, plan.Ref, s.Ref, "one plan")
		require.NotNil(t, s.Cost)
		require.NotNil(t, s.Capacity)
		assert.InDelta(t, float64(s.Capacity.From)*0.096, s.Cost.Before, 1e-12)
		assert.InDelta(t, float64(s.Capacity.To)*0.096, s.Cost.After, 1e-12)
	}
	assert.Equal(t, 2, steps[0].Capacity.From)
	assert.Equal(t, 4, steps[len(steps)-1].Capacity.To)
	require.Len(t, kinds[monitor.KindVerification], len(steps), "each step verified")
	assert.Equal(t, monitor.OutcomeVerified, kinds[monitor.KindVerification][0].Outcome)
}

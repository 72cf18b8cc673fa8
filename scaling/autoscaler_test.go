package scaling_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	bclock "github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/scaling/hpa"
)

const policyYAML = `
interval: 30s
concurrency: 4
execute: true
targets:
  - id: web
    min: 2
    max: 20
    instance_hourly_cost: 0.096
    verify:
      timeout: 5m
      window: 1m
      signals:
        - {metric: cpu, max: 0.9}
    strategies:
      - type: hpa
        hpa:
          metrics:
            - type: resource
              resource: {name: cpu, target: {type: utilization, average_utilization: 60}}
            - type: external
              external:
                metric: {name: custom/queue_depth}
                target: {type: average_value, average_value: 30}
          behavior:
            scale_down:
              stabilization_window: 10m
              policies: [{type: percent, value: 50, period: 1m}]
      - type: threshold
        threshold: {up: 0.85, down: 0.25}
      - type: target_value
        target_value: {metric: requests, target: 100, max_scale_up: 4}
      - type: step
        step:
          policies:
            - threshold: 0.8
              comparison: greater_or_equal
              adjustment_type: percent_change_in_capacity
              min_adjustment_magnitude: 2
              steps: [{lower_bound: 0, adjustment: 50}]
  - id: nightly
    resource: reports-asg
    strategy: schedule
    strategies:
      - name: schedule
        type: scheduled
        scheduled:
          time_zone: Europe/Berlin
          actions:
            - {name: night, schedule: "0 20 * * *", desired: 1}
            - {name: day, schedule: "0 7 * * 1-5", min: 2, desired: 6}
  - id: thumbnails
    resource: arn:aws:lambda:eu-west-1:123456789012:function:thumbnails
    strategies:
      - type: vertical
        vertical: {percentile: 0.95, margin: 0.2}
`

func TestParseConfig(t *testing.T) {
	t.Parallel()
	c, err := scaling.ParseConfig(strings.NewReader(policyYAML))
	require.NoError(t, err)
	assert.Equal(t, 30*time.Second, c.Interval)
	assert.True(t, c.Execute)
	require.Len(t, c.Targets, 3)
	web := c.Targets[0]
	assert.Equal(t, 2, *web.Min)
	assert.Equal(t, time.Minute, web.Verify.Window)
	require.Len(t, web.Strategies, 4)
	h := web.Strategies[0].HPA
	require.NotNil(t, h)
	assert.Equal(t, int32(60), h.Metrics[0].Resource.Target.AverageUtilization)
	assert.Equal(t, hpa.SourceExternal, h.Metrics[1].Type)
	assert.Equal(t, 10*time.Minute, *h.Behavior.ScaleDown.StabilizationWindow)
	assert.Equal(t, time.Minute, h.Behavior.ScaleDown.Policies[0].Period)
	assert.Equal(t, scaling.PercentChangeInCapacity, web.Strategies[3].Step.Policies[0].AdjustmentType)
	assert.Equal(t, "schedule", c.Targets[1].Strategy)

	// JSON is YAML: the same policy in JSON, with durations as strings.
	j := `{"targets": [{"id": "q", "max": 3, "strategies": [{"type": "target_value", "target_value": {"metric": "custom/queue", "target": 0, "threshold": 0.05}}]}], "interval": "10s"}`
	c, err = scaling.ParseConfig(strings.NewReader(j))
	require.NoError(t, err)
	assert.Equal(t, 10*time.Second, c.Interval)
	assert.InDelta(t, 0.0, *c.Targets[0].Strategies[0].TargetValue.Target, 0)
}

// TestConfigErrors pins the errors of bad policies: each names the field,
// at load, long before a Run.
func TestConfigErrors(t *testing.T) {
	t.Parallel()
	target := func(body string) string { return "targets:\n  - id: t\n" + body }
	tests := []struct {
		name  string
		yaml  string
		field string // "" for the decoder's own errors (they give a line instead)
	}{
		{"min > max", target("    min: 5\n    max: 2\n    strategies: [{type: threshold}]\n"), "targets[0].max"},
		{"negative min", target("    min: -1\n    strategies: [{type: threshold}]\n"), "targets[0].min"},
		{"target value below zero", target("    strategies: [{type: target_value, target_value: {metric: cpu, target: -1}}]\n"), "targets[0].strategies[0].target_value.target"},
		{"threshold up ≤ 0", target("    strategies: [{type: threshold, threshold: {up: -0.5}}]\n"), "targets[0].strategies[0].threshold.up"},
		{"NaN threshold", target("    strategies: [{type: threshold, threshold: {up: .nan}}]\n"), "targets[0].strategies[0].threshold.up"},
		{"utilization target 0", target("    strategies: [{type: hpa, hpa: {metrics: [{type: resource, resource: {name: cpu, target: {type: utilization, average_utilization: 0}}}]}}]\n"),
			"targets[0].strategies[0].hpa.metrics[0].resource.target.average_utilization"},
		{"negative instance cost", target("    instance_hourly_cost: -0.01\n    strategies: [{type: threshold}]\n"), "targets[0].instance_hourly_cost"},
		{"NaN instance cost", target("    instance_hourly_cost: .nan\n    strategies: [{type: threshold}]\n"), "targets[0].instance_hourly_cost"},
		{"negative interval", "interval: -5s\n" + target("    strategies: [{type: threshold}]\n"), "interval"},
		{"negative batch size", "batch_size: -1\n" + target("    strategies: [{type: threshold}]\n"), "batch_size"},
		{"negative policy period", target("    strategies: [{type: hpa, hpa: {behavior: {scale_up: {policies: [{type: pods, value: 1, period: -15s}]}}}}]\n"),
			"targets[0].strategies[0].hpa.behavior.scale_up.policies[0].period"},
		{"unknown metric source type", target("    strategies: [{type: hpa, hpa: {metrics: [{type: cheddar_cheese}]}}]\n"), "targets[0].strategies[0].hpa.metrics[0].type"},
		{"unknown strategy type", target("    strategies: [{type: magic}]\n"), "targets[0].strategies[0].type"},
		{"unknown metric", target("    strategies: [{type: target_value, target_value: {metric: cpux, target: 0.5}}]\n"), "targets[0].strategies[0].target_value.metric"},
		{"unknown statistic", target("    strategies:\n      - type: threshold\n        threshold: {statistic: p100}\n"), "targets[0].strategies[0].threshold.statistic"},
		{"unknown adjustment type", target("    strategies: [{type: step, step: {policies: [{adjustment_type: Lots}]}}]\n"), "targets[0].strategies[0].step.policies[0].adjustment_type"},
		{"unknown policy type", target("    strategies: [{type: hpa, hpa: {behavior: {scale_up: {policies: [{type: lots, value: 1, period: 15s}]}}}}]\n"),
			"targets[0].strategies[0].hpa.behavior.scale_up.policies[0].type"},
		{"schedule in the machine's zone", target("    strategies: [{type: scheduled, scheduled: {time_zone: Local, actions: [{name: x, schedule: \"0 9 * * *\", desired: 1}]}}]\n"),
			"targets[0].strategies[0].scheduled.time_zone"},
		{"schedule that does not parse", target("    strategies: [{type: scheduled, scheduled: {actions: [{name: x, schedule: \"0 25 * * *\", desired: 1}]}}]\n"),
			"targets[0].strategies[0].scheduled.actions[0].schedule"},
		{"duplicate target IDs", "targets:\n  - {id: a, strategies: [{type: threshold}]}\n  - {id: a, strategies: [{type: threshold}]}\n", "targets[1].id"},
		{"two executing targets of one resource", "execute: true\ntargets:\n  - {id: a, strategies: [{type: threshold}]}\n  - {id: b, resource: a, strategies: [{type: threshold}]}\n",
			"targets[1].resource"},
		{"two executing targets of one named resource", "execute: true\ntargets:\n  - {id: a, resource: asg-1, strategies: [{type: threshold}]}\n  - {id: b, resource: asg-1, strategies: [{type: threshold}]}\n",
			"targets[1].resource"},
		{"no strategy", target("    strategies: []\n"), "targets[0].strategies"},
		{"pinned strategy missing", target("    strategy: hpa\n    strategies: [{type: threshold}]\n"), "targets[0].strategy"},
		{"duplicate strategy name", target("    strategies: [{type: threshold}, {type: threshold}]\n"), "targets[0].strategies[1].name"},
		{"block of another type", target("    strategies: [{type: threshold, hpa: {}}]\n"), "targets[0].strategies[0].hpa"},
		{"required block missing", target("    strategies: [{type: step}]\n"), "targets[0].strategies[0].step"},
		{"unknown field", target("    strategies: [{type: threshold}]\n    colour: blue\n"), ""},
		{"no targets", "interval: 15s\n", "targets"},
		{"bad signal", target("    verify: {signals: [{metric: cpu}]}\n    strategies: [{type: threshold}]\n"), "targets[0].verify.signals[0].max"},
		{"bad scale-out signal", target("    verify: {scale_out_signals: [{metric: \"\"}]}\n    strategies: [{type: threshold}]\n"), "targets[0].verify.scale_out_signals[0].metric"},
		// A bare number in a duration would read as nanoseconds ("interval:
		// 60", a pass every 60 ns): the YAML decoder refuses it, naming
		// the line.
		{"a duration without its unit", "interval: 60\n" + target("    strategies: [{type: threshold}]\n"), ""},
		{"a nested duration without its unit", target("    verify: {window: 90}\n    strategies: [{type: threshold}]\n"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := scaling.ParseConfig(strings.NewReader(tt.yaml))
			require.ErrorIs(t, err, provider.ErrInvalid)
			if tt.field == "" {
				return
			}
			var inv *provider.InvalidError
			require.ErrorAs(t, err, &inv)
			assert.Equal(t, tt.field, inv.Field)
		})
	}
	// A preview may compare two policies of one resource.
	_, err := scaling.ParseConfig(strings.NewReader("targets:\n  - {id: a, strategies: [{type: threshold}]}\n  - {id: b, resource: a, strategies: [{type: threshold}]}\n"))
	require.NoError(t, err)
	// A value refused while the file is decoded (an enum's UnmarshalText)
	// is named with its field and its place in the file.
	_, err = scaling.ParseConfig(strings.NewReader(target("    strategies:\n      - type: target_value\n        target_value: {metric: cpux, target: 0.5}\n")))
	require.ErrorIs(t, err, provider.ErrUnknownMetric)
	require.EqualError(t, err, `scaling: parse config: line 5, column 32: invalid targets[0].strategies[0].target_value.metric "cpux": `+
		`unknown metric: want a built-in name (cpu, memory, network_in, ...) or custom/NAME`)
	_, err = scaling.ParseConfig(strings.NewReader(target("    instance_hourly_cost: 0\n    strategies: [{type: threshold}]\n")))
	require.NoError(t, err, "a free instance")
	_, err = scaling.ParseConfig(nil)
	require.ErrorIs(t, err, provider.ErrInvalid)
	_, err = scaling.ParseConfig(strings.NewReader(""))
	require.ErrorIs(t, err, provider.ErrInvalid)
	_, err = scaling.ParseConfig(strings.NewReader(target("    strategies: [{type: threshold}]\n") + "---\ntargets: []\n"))
	require.ErrorIs(t, err, provider.ErrInvalid)
}

func TestNewAutoscalerErrors(t *testing.T) {
	t.Parallel()
	c, err := memory.New(memory.Config{})
	require.NoError(t, err)
	e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c}, allowAll{})
	require.NoError(t, err)
	custom := scaling.Config{Targets: []scaling.TargetConfig{{ID: "a", Strategies: []scaling.StrategySpec{{Type: scaling.StrategyCustom, Name: "mine"}}}}}
	require.NoError(t, custom.Validate(), "a custom strategy is resolved by NewAutoscaler")
	_, err = scaling.NewAutoscaler(custom, e, scaling.Fleet{Inventory: c})
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "targets[0].strategies[0].name", inv.Field)
	_, err = scaling.NewAutoscaler(custom, e, scaling.Fleet{Inventory: c}, scaling.WithStrategy("mine", scaling.StrategyFunc(
		func(_ context.Context, s scaling.State) (scaling.Recommendation, error) {
			return scaling.Recommendation{}, nil
		})))
	require.NoError(t, err)
	reads := scaling.Config{Targets: []scaling.TargetConfig{{ID: "a", Strategies: []scaling.StrategySpec{{Type: scaling.StrategyThreshold}}}}}
	_, err = scaling.NewAutoscaler(reads, e, scaling.Fleet{Inventory: c})
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "fleet.metrics", inv.Field)
	_, err = scaling.NewAutoscaler(reads, nil, scaling.Fleet{Inventory: c, Metrics: c})
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "engine", inv.Field)
	// A custom strategy's Needs are checked as the built-ins' are: one of
	// step 0 was accepted, and its reads failed at every pass.
	_, err = scaling.NewAutoscaler(custom, e, scaling.Fleet{Inventory: c, Metrics: c}, scaling.WithStrategy("mine", badNeeds{}))
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "targets[0].strategies[0].needs[1].step", inv.Field)

	// A clock that is not the engine's is refused: a host's test whose
	// mock drove the decisions found the engine waiting and recording
	// changes on the real clock, and the strategies' windows compared the
	// two. The engine's own clock, given again, is its clock.
	none := scaling.Config{Targets: []scaling.TargetConfig{{ID: "a", Strategies: []scaling.StrategySpec{{Type: scaling.StrategyCustom, Name: "mine"}}}}}
	keep := scaling.WithStrategy("mine", scaling.StrategyFunc(badNeeds{}.Recommend))
	mock := bclock.NewMock()
	_, err = scaling.NewAutoscaler(none, e, scaling.Fleet{Inventory: c}, keep, scaling.WithClock(mock))
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "clock", inv.Field)
	assert.Contains(t, inv.Reason, "WithEngineClock")
	_, err = scaling.NewAutoscaler(none, e, scaling.Fleet{Inventory: c}, keep, scaling.WithClock(clock.Real{}))
	require.NoError(t, err, "the real clock, which the engine has by default")
	mocked, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c}, allowAll{}, scaling.WithEngineClock(mock))
	require.NoError(t, err)
	_, err = scaling.NewAutoscaler(none, mocked, scaling.Fleet{Inventory: c}, keep, scaling.WithClock(mock))
	require.NoError(t, err)
	_, err = scaling.NewAutoscaler(none, mocked, scaling.Fleet{Inventory: c}, keep, scaling.WithClock(bclock.NewMock()))
	require.ErrorAs(t, err, &inv, "another mock")
	// A nil *clock.Mock is refused by name, by the Autoscaler and the
	// engine: taken for the real clock (the engine's), it ran a host's
	// test on real time. A nil Clock is the default.
	_, err = scaling.NewAutoscaler(none, mocked, scaling.Fleet{Inventory: c}, keep, scaling.WithClock((*bclock.Mock)(nil)))
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "clock", inv.Field)
	_, err = scaling.NewAutoscaler(none, mocked, scaling.Fleet{Inventory: c}, keep, scaling.WithClock(nil))
	require.NoError(t, err)
	_, err = scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c}, allowAll{}, scaling.WithEngineClock((*bclock.Mock)(nil)))
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "clock", inv.Field)
	_, err = scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c}, allowAll{}, scaling.WithEngineClock(nil))
	require.NoError(t, err)
}

// badNeeds is a custom strategy whose second Need has no step.
type badNeeds struct{}

func (badNeeds) Recommend(_ context.Context, s scaling.State) (scaling.Recommendation, error) {
	return scaling.Recommendation{Capacity: s.Target.Capacity.CapacitySpec, Fitness: 1}, nil
}

func (badNeeds) Needs() []scaling.Need {
	return []scaling.Need{{Metric: provider.MetricCPU, Step: time.Minute, Lookback: time.Hour}, {Metric: provider.MetricCPU, Lookback: time.Hour}}
}

// loadTrace sets a per-minute CPU trace of web: from→v for each segment.
func loadTrace(t *testing.T, c *memory.Cloud, segments ...struct {
	minutes int
	cpu     float64
}) {
	t.Helper()
	var vals []float64
	for _, s := range segments {
		for range s.minutes {
			vals = append(vals, s.cpu)
		}
	}
	require.NoError(t, c.SetSeries(provider.Series{ResourceID: "web", Metric: provider.MetricCPU, Start: time.Now(), Step: time.Minute, Values: vals}))
}

type seg = struct {
	minutes int
	cpu     float64
}

// executed returns the (time since start, desired) of every executed step.
func executed(r *recorder, start time.Time) (at []time.Duration, to []int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e.Kind == scaling.EventStepExecuted {
			at = append(at, e.Time.Sub(start))
			to = append(to, e.To.Desired)
		}
	}
	return at, to
}

// TestAutoscalerScenario runs the autoscaler for 70 simulated minutes on
// a fake clock (a synctest bubble) over a group whose CPU is 50 % for 10
// minutes, 95 % for 20, then 20 %: an HPA strategy at a 60 % target with
// the legacy 5-minute scale-down stabilization, the default rate limits
// (300 s between events, at most 3 instances each) and the safety gate's
// gradual rule.
func TestAutoscalerScenario(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		c := newCloud(t, 2, memory.Config{})
		loadTrace(t, c, seg{10, 0.5}, seg{20, 0.95}, seg{60, 0.2})
		lim, err := ratelimit.New(ratelimit.Config{})
		require.NoError(t, err)
		rec := &recorder{}
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t),
			scaling.WithReserver(lim), scaling.WithObserver(rec))
		require.NoError(t, err)
		a, err := scaling.NewAutoscaler(scaling.Config{Execute: true, Targets: []scaling.TargetConfig{{
			ID: "web", Min: ip(1), Max: 10, Verify: scaling.VerifyConfig{Window: 30 * time.Second},
			Strategies: []scaling.StrategySpec{{Type: scaling.StrategyHPA, HPA: &scaling.HPAConfig{Metrics: []hpa.MetricSpec{{
				Type: hpa.SourceResource, Resource: &hpa.ResourceMetricSource{Name: hpa.ResourceCPU,
					Target: hpa.MetricTarget{Type: hpa.TargetUtilization, AverageUtilization: 60}}}}}}},
		}}}, e, scaling.Fleet{Inventory: c, Metrics: c})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx) }()
		<-clock.Real{}.After(70 * time.Minute)
		cancel()
		require.NoError(t, <-done, "Run returns nil when ctx ends")

		at, to := executed(rec, start)
		t.Logf("steps: %v %v", at, to)
		require.NotEmpty(t, at)
		assert.GreaterOrEqual(t, at[0], 10*time.Minute, "nothing before the load rises")
		assert.Less(t, at[0], 10*time.Minute+time.Minute, "the first scale up within a minute of the rise")
		assert.Equal(t, 3, to[0], "2→3: the gradual rule allows one instance from 2")
		peak, peakAt := 0, 0
		for i, n := range to {
			if n > peak {
				peak, peakAt = n, i
			}
		}
		assert.Equal(t, 10, peak, "the static 95 % load drives the group to its max")
		for i := 1; i <= peakAt; i++ {
			assert.GreaterOrEqual(t, at[i]-at[i-1], 5*time.Minute, "scale ups at least 300 s apart (the rate limiter)")
		}
		require.Greater(t, len(to), peakAt+1, "it scales down after the load drops")
		firstDown := at[peakAt+1]
		assert.GreaterOrEqual(t, firstDown, 35*time.Minute, "held by the 5-minute stabilization after the drop at 30m")
		for i := peakAt + 1; i < len(to); i++ {
			assert.Less(t, to[i], to[i-1], "only scale downs after the peak")
			assert.GreaterOrEqual(t, 2*to[i], to[i-1], "each step at most halves the group (gradual)")
			if i > peakAt+1 {
				assert.GreaterOrEqual(t, at[i]-at[i-1], 5*time.Minute, "scale downs at least 300 s apart")
			}
		}
		capa, err := c.Capacity(t.Context(), "web")
		require.NoError(t, err)
		assert.LessOrEqual(t, capa.Desired, 5, "well down from 10 by the end")
		assert.Zero(t, rec.count(scaling.EventRollbackStarted))
	})
}

// TestAutoscalerDryRun decides and previews without changing anything.
func TestAutoscalerDryRun(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 2, memory.Config{})
		setCPU(t, c, "web", 0.95)
		rec := &recorder{}
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t), scaling.WithObserver(rec))
		require.NoError(t, err)
		a, err := scaling.NewAutoscaler(scaling.Config{Targets: []scaling.TargetConfig{{ID: "web", Strategies: []scaling.StrategySpec{{Type: scaling.StrategyThreshold}}}}},
			e, scaling.Fleet{Inventory: c, Metrics: c})
		require.NoError(t, err)
		rep := a.RunOnce(t.Context(), time.Now())
		require.NoError(t, rep.Err())
		require.NotNil(t, rep.Targets[0].Plan)
		assert.Equal(t, 4, rep.Targets[0].Plan.To.Desired)
		assert.Nil(t, rep.Targets[0].Execution)
		assert.Empty(t, setCapacityOps(c), "a dry run changes nothing")
		assert.Equal(t, 2, rec.count(scaling.EventPreviewed), "2→3→4, each asked of the gate")
	})
}

// TestMetricErrorNoScaleDown: with one of two HPA metrics unreadable, the
// autoscaler does not scale down, but scales up on the metric it has.
func TestMetricErrorNoScaleDown(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		down := errors.New("requests source down")
		src := provider.MetricsSourceFunc(func(ctx context.Context, q provider.Query) (provider.Series, error) {
			if q.Metric == provider.MetricRequests {
				return provider.Series{}, down
			}
			return c.QueryMetric(ctx, q)
		})
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{})
		require.NoError(t, err)
		cpu := hpa.MetricSpec{Type: hpa.SourceResource, Resource: &hpa.ResourceMetricSource{Name: hpa.ResourceCPU,
			Target: hpa.MetricTarget{Type: hpa.TargetUtilization, AverageUtilization: 60}}}
		req := hpa.MetricSpec{Type: hpa.SourcePods, Pods: &hpa.PodsMetricSource{Metric: hpa.MetricIdentifier{Name: "requests"},
			Target: hpa.MetricTarget{Type: hpa.TargetAverageValue, AverageValue: 100}}}
		a, err := scaling.NewAutoscaler(scaling.Config{Targets: []scaling.TargetConfig{{ID: "web", Strategies: []scaling.StrategySpec{{Type: scaling.StrategyHPA,
			HPA: &scaling.HPAConfig{Metrics: []hpa.MetricSpec{cpu, req}}}}}}}, e, scaling.Fleet{Inventory: c, Metrics: src})
		require.NoError(t, err)

		setCPU(t, c, "web", 0.1) // CPU alone would scale 4 → 1
		rep := a.Evaluate(t.Context(), time.Now())
		require.NoError(t, rep.Err())
		d := rep.Targets[0].Decision
		assert.False(t, d.Change, "no scale down while a metric is invalid: %s", d.Chosen.Reason)
		assert.Contains(t, d.Chosen.Reason, "requests source down")

		setCPU(t, c, "web", 0.9) // CPU scales up: 4 × 1.5 = 6
		rep = a.Evaluate(t.Context(), time.Now())
		require.NoError(t, rep.Err())
		d = rep.Targets[0].Decision
		assert.Equal(t, 6, d.Chosen.Capacity.Desired, d.Chosen.Reason)
	})
}

// TestAutoscalerFitness picks the fittest strategy unless one is pinned.
func TestAutoscalerFitness(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		setCPU(t, c, "web", 0.95)
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{})
		require.NoError(t, err)
		both := []scaling.StrategySpec{{Type: scaling.StrategyThreshold}, {Type: scaling.StrategyTargetValue, TargetValue: &scaling.TargetValueConfig{Metric: provider.MetricCPU, Target: fp(0.6)}}}
		a, err := scaling.NewAutoscaler(scaling.Config{Targets: []scaling.TargetConfig{
			{ID: "web", Max: 20, Strategies: both},
			{ID: "pinned", Resource: "web", Max: 20, Strategy: "threshold", Strategies: both},
		}}, e, scaling.Fleet{Inventory: c, Metrics: c})
		require.NoError(t, err)
		rep := a.Evaluate(t.Context(), time.Now())
		require.NoError(t, rep.Err())
		fittest := rep.Targets[0].Decision
		assert.Equal(t, "target_value", fittest.Chosen.Strategy, "0.7 beats the threshold's 0.5")
		assert.Equal(t, 7, fittest.Chosen.Capacity.Desired, "⌈4 × 0.95/0.6⌉")
		assert.False(t, fittest.Pinned)
		require.Len(t, fittest.Considered, 2)
		pinned := rep.Targets[1].Decision
		assert.True(t, pinned.Pinned)
		assert.Equal(t, "threshold", pinned.Chosen.Strategy)
		assert.Equal(t, 8, pinned.Chosen.Capacity.Desired)
		h := e.History("web")
		assert.Len(t, h.Recommendations, 2, "both strategies' recommendations are recorded")
	})
}

// blocking is a strategy that blocks until released, to hold a target
// busy.
type blocking struct {
	entered chan struct{}
	release chan struct{}
}

func (b blocking) Recommend(ctx context.Context, s scaling.State) (scaling.Recommendation, error) {
	b.entered <- struct{}{}
	select {
	case <-b.release:
	case <-ctx.Done():
	}
	return scaling.Recommendation{Capacity: s.Target.Capacity.CapacitySpec, Fitness: 1}, nil
}

// TestNoOverlappingEvaluations: a target still being evaluated is skipped,
// not evaluated twice at once.
func TestNoOverlappingEvaluations(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 2, memory.Config{})
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c}, allowAll{})
		require.NoError(t, err)
		b := blocking{entered: make(chan struct{}, 1), release: make(chan struct{})}
		a, err := scaling.NewAutoscaler(scaling.Config{Targets: []scaling.TargetConfig{{ID: "web", Strategies: []scaling.StrategySpec{{Type: scaling.StrategyCustom, Name: "slow"}}}}},
			e, scaling.Fleet{Inventory: c}, scaling.WithStrategy("slow", b))
		require.NoError(t, err)
		var wg sync.WaitGroup
		wg.Go(func() { a.RunOnce(t.Context(), time.Now()) })
		<-b.entered
		rep := a.RunOnce(t.Context(), time.Now())
		assert.True(t, rep.Targets[0].Skipped)
		close(b.release)
		wg.Wait()
		rep = a.Evaluate(t.Context(), time.Now())
		assert.False(t, rep.Targets[0].Skipped)
	})
}

// TestRunReturnsNilOnCancel: Run returns nil when its context ends, with
// nothing in flight left behind.
func TestRunReturnsNilOnCancel(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 2, memory.Config{})
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{})
		require.NoError(t, err)
		a, err := scaling.NewAutoscaler(scaling.Config{Targets: []scaling.TargetConfig{{ID: "web", Strategies: []scaling.StrategySpec{{Type: scaling.StrategyThreshold}}}}},
			e, scaling.Fleet{Inventory: c, Metrics: c})
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		require.NoError(t, a.Run(ctx))
		synctest.Wait()
	})
}

// TestSafetyBlockInRunner: a business-hours rule blocks a scale in during
// office hours; the runner reports it and changes nothing.
func TestSafetyBlockInRunner(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 6, memory.Config{})
		setCPU(t, c, "web", 0.05)
		hours, err := safety.NewBusinessHoursRule(safety.BusinessHoursConfig{Hours: "Mon-Sun 00:00-24:00", Actions: []safety.Action{safety.ActionScaleIn}})
		require.NoError(t, err)
		gate, err := safety.New(safety.Config{}, []safety.Rule{hours})
		require.NoError(t, err)
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, gate)
		require.NoError(t, err)
		a, err := scaling.NewAutoscaler(scaling.Config{Execute: true, Targets: []scaling.TargetConfig{{ID: "web", Strategies: []scaling.StrategySpec{{Type: scaling.StrategyThreshold}}}}},
			e, scaling.Fleet{Inventory: c, Metrics: c})
		require.NoError(t, err)
		rep := a.RunOnce(t.Context(), time.Now())
		require.NoError(t, rep.Err(), "a plan the gate refused is not a failure")
		x := rep.Targets[0].Execution
		require.NotNil(t, x)
		assert.Equal(t, scaling.PlanBlocked, x.Status)
		require.NoError(t, x.Err)
		require.NotNil(t, x.Gate)
		assert.Equal(t, []string{"business_hours"}, x.Gate.BlockingRules())
		assert.Contains(t, x.Reason, "business_hours")
		assert.Empty(t, setCapacityOps(c))
	})
}

// TestRecordChange: a change the host applied itself, once recorded, counts
// against an HPA's scale-down policy like the engine's own steps.
func TestRecordChange(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 12, memory.Config{})
		setCPU(t, c, "web", 0.1)
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{})
		require.NoError(t, err)
		a, err := scaling.NewAutoscaler(scaling.Config{Targets: []scaling.TargetConfig{{ID: "web", Max: 50,
			Strategies: []scaling.StrategySpec{{Type: scaling.StrategyHPA, HPA: &scaling.HPAConfig{
				Metrics: []hpa.MetricSpec{{Type: hpa.SourceResource, Resource: &hpa.ResourceMetricSource{Name: hpa.ResourceCPU,
					Target: hpa.MetricTarget{Type: hpa.TargetUtilization, AverageUtilization: 60}}}},
				Behavior: &hpa.Behavior{ScaleDown: &hpa.ScalingRules{StabilizationWindow: new(time.Duration(0)),
					Policies: []hpa.ScalingPolicy{{Type: hpa.PolicyPercent, Value: 20, Period: 5 * time.Minute}}}},
			}}}}}}, e, scaling.Fleet{Inventory: c, Metrics: c})
		require.NoError(t, err)
		now := time.Now()
		d := a.Evaluate(t.Context(), now).Targets[0].Decision
		require.Equal(t, 9, d.Chosen.Capacity.Desired, "12 less 20 %, truncated")
		require.NoError(t, c.SetCapacity(t.Context(), "web", d.Chosen.Capacity))
		before := e.History("web")

		// Unrecorded, the change is invisible: the next minute goes
		// from 9 as if it were the period's start.
		<-clock.Real{}.After(time.Minute)
		assert.Equal(t, 7, a.Evaluate(t.Context(), now.Add(time.Minute)).Targets[0].Decision.Chosen.Capacity.Desired)

		e.SetHistory("web", before)
		e.RecordChange("web", scaling.Change{At: now, Strategy: d.Chosen.Strategy, From: provider.CapacitySpec{Min: 0, Max: 50, Desired: 12}, To: d.Chosen.Capacity})
		assert.Equal(t, 9, a.Evaluate(t.Context(), now.Add(time.Minute)).Targets[0].Decision.Chosen.Capacity.Desired,
			"recorded, the period started at 12: 9 is all 20 % allows")
		<-clock.Real{}.After(4 * time.Minute)
		assert.Equal(t, 7, a.Evaluate(t.Context(), now.Add(5*time.Minute)).Targets[0].Decision.Chosen.Capacity.Desired,
			"a period later, 9 less 20 %")
	})
}

// TestAutoscalerReadsPods: an HPA target reads its pods from the fleet's
// PodSource (with the target, the HPA's metrics and the evaluation time)
// and decides on them rather than on the group's series; a target without
// an HPA strategy does not ask for pods; a pod source that fails fails
// the target's evaluation with the cause.
func TestAutoscalerReadsPods(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		setCPU(t, c, "web", 0.9) // the series alone would scale 4 → 6
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{})
		require.NoError(t, err)
		cpu := hpa.MetricSpec{Type: hpa.SourceResource, Resource: &hpa.ResourceMetricSource{Name: hpa.ResourceCPU,
			Target: hpa.MetricTarget{Type: hpa.TargetUtilization, AverageUtilization: 60}}}
		var calls []string
		var fail error
		pods := scaling.PodSourceFunc(func(_ context.Context, target provider.Resource, metrics []hpa.MetricSpec, now time.Time) (scaling.PodObservation, error) {
			calls = append(calls, target.ID)
			assert.Equal(t, []hpa.MetricSpec{cpu}, metrics)
			assert.True(t, now.Equal(time.Now()), "the evaluation time")
			if fail != nil {
				return scaling.PodObservation{}, fail
			}
			started := now.Add(-time.Hour)
			obs := scaling.PodObservation{StatusReplicas: 4, Metrics: []hpa.MetricValues{{}}}
			for _, name := range []string{"a", "b", "c", "d"} {
				obs.Pods = append(obs.Pods, hpa.Pod{Name: name, Phase: hpa.PhaseRunning, Ready: hpa.ConditionTrue, StartTime: started, ReadyTransition: started,
					Containers: []hpa.Container{{Name: "app", Requests: hpa.ResourceList{hpa.ResourceCPU: 1000}}}})
				obs.Metrics[0].Samples = append(obs.Metrics[0].Samples, hpa.Sample{Pod: name, Value: 300, Timestamp: now, Window: time.Minute})
			}
			return obs, nil
		})
		a, err := scaling.NewAutoscaler(scaling.Config{Targets: []scaling.TargetConfig{
			{ID: "web", Strategies: []scaling.StrategySpec{{Type: scaling.StrategyHPA, HPA: &scaling.HPAConfig{Metrics: []hpa.MetricSpec{cpu}}}}},
			{ID: "plain", Resource: "web", Strategies: []scaling.StrategySpec{{Type: scaling.StrategyThreshold}}},
		}}, e, scaling.Fleet{Inventory: c, Metrics: c, Pods: pods})
		require.NoError(t, err)

		rep := a.Evaluate(t.Context(), time.Now())
		require.NoError(t, rep.Err())
		d := rep.Targets[0].Decision
		require.NotNil(t, d)
		// The proposal is the pods' (the series would propose 6); the
		// five-minute downscale stabilization then keeps 4.
		assert.Equal(t, 2, d.Chosen.Proposal, "⌈4 × 30 %% / 60 %%⌉ from the pods: %s", d.Chosen.Reason)
		assert.Equal(t, []string{"web"}, calls, "only the HPA target asks for pods")

		fail = errors.New("metrics server down")
		rep = a.Evaluate(t.Context(), time.Now())
		require.Error(t, rep.Targets[0].Err)
		require.ErrorIs(t, rep.Targets[0].Err, fail)
		assert.Contains(t, rep.Targets[0].Err.Error(), "scaling: target web: pods: ")
		assert.Nil(t, rep.Targets[0].Decision, "no decision without the pods")
		require.NoError(t, rep.Targets[1].Err, "the other target is decided")
	})
}

// LoadConfigFile parses a policy file, names the file in a parse error, and
// wraps the error of a file it cannot open.
func TestLoadConfigFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	require.NoError(t, os.WriteFile(good, []byte("targets:\n  - id: web\n    strategies: [{type: threshold}]\n"), 0o600))
	c, err := scaling.LoadConfigFile(good)
	require.NoError(t, err)
	require.Len(t, c.Targets, 1)
	assert.Equal(t, "web", c.Targets[0].ID)

	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("targets:\n  - id: web\n    min: -1\n    strategies: [{type: threshold}]\n"), 0o600))
	_, err = scaling.LoadConfigFile(bad)
	require.ErrorIs(t, err, provider.ErrInvalid)
	assert.True(t, strings.HasPrefix(err.Error(), bad+": "), err.Error())

	_, err = scaling.LoadConfigFile(filepath.Join(dir, "missing.yaml"))
	require.ErrorIs(t, err, fs.ErrNotExist)
	assert.Contains(t, err.Error(), "scaling: load config: ")
}

// TestGroupScaledByAnotherAutoscaler: a group that another autoscaler
// scales (provider.Resource.ScaledBy, a Kubernetes HPA) gets no plan to
// change its desired capacity, in a dry run and an executing run alike:
// the target's report carries ErrScaledByAnother naming the other and the
// change decided, and nothing is written. The same group without it is
// planned and scaled.
func TestGroupScaledByAnotherAutoscaler(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 2, memory.Config{})
		setCPU(t, c, "web", 0.95)
		r, err := c.Get(t.Context(), "web")
		require.NoError(t, err)
		r.ScaledBy = "HorizontalPodAutoscaler shop/web"
		require.NoError(t, c.Update(r))
		rec := &recorder{}
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t), scaling.WithObserver(rec))
		require.NoError(t, err)
		for _, execute := range []bool{false, true} {
			a, err := scaling.NewAutoscaler(scaling.Config{Execute: execute, Targets: []scaling.TargetConfig{{ID: "web", Strategies: []scaling.StrategySpec{{Type: scaling.StrategyThreshold}}}}},
				e, scaling.Fleet{Inventory: c, Metrics: c})
			require.NoError(t, err)
			rep := a.RunOnce(t.Context(), time.Now())
			tr := rep.Targets[0]
			require.ErrorIs(t, tr.Err, scaling.ErrScaledByAnother, "execute %v", execute)
			assert.Contains(t, tr.Err.Error(), "HorizontalPodAutoscaler shop/web scales it, so no change of its desired capacity from 2 to 4 is planned")
			require.NotNil(t, tr.Decision, "the decision is reported")
			assert.Nil(t, tr.Plan)
			assert.Nil(t, tr.Execution)
			assert.Empty(t, setCapacityOps(c), "nothing written")
		}
		assert.Zero(t, rec.count(scaling.EventPreviewed))
		assert.Equal(t, 2, rec.count(scaling.EventError), "one error event a pass")

		// New bounds with the desired capacity it has move nothing the
		// other autoscaler scales: planned.
		a, err := scaling.NewAutoscaler(scaling.Config{Targets: []scaling.TargetConfig{{ID: "web", Strategies: []scaling.StrategySpec{{
			Type: scaling.StrategyScheduled, Scheduled: &scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{{Name: "floor", Schedule: "* * * * *", Min: ip(2)}}},
		}}}}}, e, scaling.Fleet{Inventory: c, Metrics: c})
		require.NoError(t, err)
		rep := a.RunOnce(t.Context(), time.Now().Add(2*time.Minute))
		require.NoError(t, rep.Err())
		require.NotNil(t, rep.Targets[0].Plan, "min 0 to 2")
		assert.Equal(t, provider.CapacitySpec{Min: 2, Max: 50, Desired: 2}, rep.Targets[0].Plan.To)

		// To zero is a change of the desired capacity like any other (the
		// reaper's Stop is what takes an HPA's workload to zero).
		a, err = scaling.NewAutoscaler(scaling.Config{Targets: []scaling.TargetConfig{{ID: "web", Strategies: []scaling.StrategySpec{{
			Type: scaling.StrategyScheduled, Scheduled: &scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{{Name: "night", Schedule: "* * * * *", Desired: ip(0)}}},
		}}}}}, e, scaling.Fleet{Inventory: c, Metrics: c})
		require.NoError(t, err)
		rep = a.RunOnce(t.Context(), time.Now().Add(2*time.Minute))
		require.ErrorIs(t, rep.Targets[0].Err, scaling.ErrScaledByAnother, "2 to 0")
		assert.Nil(t, rep.Targets[0].Plan)

		setCPU(t, c, "web", 0.95)
		r.ScaledBy = ""
		require.NoError(t, c.Update(r))
		a, err = scaling.NewAutoscaler(scaling.Config{Execute: true, Targets: []scaling.TargetConfig{{ID: "web", Strategies: []scaling.StrategySpec{{Type: scaling.StrategyThreshold}}}}},
			e, scaling.Fleet{Inventory: c, Metrics: c})
		require.NoError(t, err)
		rep = a.RunOnce(t.Context(), time.Now())
		require.NoError(t, rep.Err())
		require.NotNil(t, rep.Targets[0].Plan)
		assert.NotEmpty(t, setCapacityOps(c), "no other autoscaler: scaled")
	})
}

// funcClock is a host's clock that is not comparable (a func field, held
// by value), given to the engine and the Autoscaler alike.
type funcClock struct{ now func() time.Time }

func (c funcClock) Now() time.Time                         { return c.now() }
func (c funcClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// TestNewAutoscalerTakesAnUncomparableClock: the check that the
// Autoscaler's clock is the engine's compared the two interfaces with
// ==, which panics on a dynamic type that is not comparable: NewAutoscaler
// panicked on a host's clock held by value with a func field, given to
// both. Of one type and not comparable, it is taken; of another type it is
// refused, naming the clock.
func TestNewAutoscalerTakesAnUncomparableClock(t *testing.T) {
	t.Parallel()
	c, err := memory.New(memory.Config{})
	require.NoError(t, err)
	clk := funcClock{now: time.Now}
	e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c}, allowAll{}, scaling.WithEngineClock(clk))
	require.NoError(t, err)
	none := scaling.Config{Targets: []scaling.TargetConfig{{ID: "a", Strategies: []scaling.StrategySpec{{Type: scaling.StrategyCustom, Name: "mine"}}}}}
	keep := scaling.WithStrategy("mine", scaling.StrategyFunc(badNeeds{}.Recommend))
	var a *scaling.Autoscaler
	require.NotPanics(t, func() {
		a, err = scaling.NewAutoscaler(none, e, scaling.Fleet{Inventory: c}, keep, scaling.WithClock(clk))
	})
	require.NoError(t, err)
	require.NotNil(t, a)
	_, err = scaling.NewAutoscaler(none, e, scaling.Fleet{Inventory: c}, keep, scaling.WithClock(bclock.NewMock()))
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv, "another clock")
	assert.Equal(t, "clock", inv.Field)
}

package scaling_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	bclock "github.com/benbjohnson/clock"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/scaling/hpa"
)

// at is the time of the examples.
var at = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

// webGroup is a group of n instances, ready, bounded by the policy to
// [1, 20].
func webGroup(n int) scaling.Target {
	return scaling.Target{
		ID:       "web",
		Resource: provider.Resource{ID: "web", Kind: provider.KindGroup},
		Capacity: provider.Capacity{CapacitySpec: provider.CapacitySpec{Min: 1, Max: 20, Desired: n}, Current: n, Ready: n},
		Min:      1, Max: 20,
	}
}

// cpuAt is a one-minute CPU series ending at at.
func cpuAt(values ...float64) provider.Series {
	return provider.Series{Metric: provider.MetricCPU, Start: at.Add(-time.Duration(len(values)) * time.Minute), Step: time.Minute, Values: values}
}

func ExampleNewThreshold() {
	s, err := scaling.NewThreshold(scaling.ThresholdConfig{}) // the seed's: ×2 above 0.8, ÷2 below 0.3
	if err != nil {
		fmt.Println(err)
		return
	}
	rec, _ := s.Recommend(context.Background(), scaling.State{Now: at, Target: webGroup(3), Metrics: []provider.Series{cpuAt(0.91)}})
	fmt.Println(rec.Capacity.Desired, rec.Reason)
	// Output: 6 cpu 0.91 above 0.8: ×2
}

func ExampleNewTargetValue() {
	target, threshold := 5.0, 0.01
	s, err := scaling.NewTargetValue(scaling.TargetValueConfig{Metric: provider.CustomMetric("queue_depth"), Target: &target, Threshold: &threshold})
	if err != nil {
		fmt.Println(err)
		return
	}
	queue := provider.Series{Metric: provider.CustomMetric("queue_depth"), Start: at.Add(-time.Minute), Step: time.Minute, Values: []float64{12}}
	rec, _ := s.Recommend(context.Background(), scaling.State{Now: at, Target: webGroup(4), Metrics: []provider.Series{queue}})
	fmt.Println(rec.Capacity.Desired, rec.Reason)
	// Output: 10 scaling up because factor is 2.400000
}

func ExampleNewHPA() {
	s, err := scaling.NewHPA(scaling.HPAConfig{Metrics: []hpa.MetricSpec{{Type: hpa.SourceResource, Resource: &hpa.ResourceMetricSource{
		Name: hpa.ResourceCPU, Target: hpa.MetricTarget{Type: hpa.TargetUtilization, AverageUtilization: 60},
	}}}}, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	// Three instances at 90 % of a 60 % target: ⌈3 × 1.5⌉.
	rec, _ := s.Recommend(context.Background(), scaling.State{Now: at, Target: webGroup(3), Metrics: []provider.Series{cpuAt(0.9)}})
	fmt.Println(rec.Capacity.Desired)
	fmt.Println(rec.Reason)
	// Output:
	// 5
	// cpu resource utilization (percentage of request) above target: 3 → 5 (ReadyForNewScale, DesiredWithinRange)
}

func ExampleNewStep() {
	zero := 0.0
	s, err := scaling.NewStep(scaling.StepConfig{Policies: []scaling.StepPolicy{{
		Name: "scale out", Threshold: 0.7, Comparison: scaling.GreaterOrEqual, AdjustmentType: scaling.PercentChangeInCapacity,
		MinAdjustmentMagnitude: 2, Steps: []scaling.StepAdjustment{{LowerBound: &zero, Adjustment: 30}},
	}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	rec, _ := s.Recommend(context.Background(), scaling.State{Now: at, Target: webGroup(4), Metrics: []provider.Series{cpuAt(0.75)}})
	fmt.Println(rec.Capacity.Desired) // 30 % of 4 is 1.2, at least 2
	// Output: 6
}

func ExampleNewVertical() {
	s, err := scaling.NewVertical(scaling.VerticalConfig{Lookback: time.Hour})
	if err != nil {
		fmt.Println(err)
		return
	}
	fn := scaling.Target{ID: "thumbnails", Resource: provider.Resource{ID: "thumbnails", Kind: provider.KindFunction,
		Size: provider.Size{MemoryMiB: 2048, Timeout: 5 * time.Minute}}}
	mem := provider.Series{Metric: provider.MetricMemory, Start: at.Add(-time.Hour), Step: 5 * time.Minute, Values: []float64{0.2, 0.22, 0.25, 0.21, 0.2, 0.19, 0.24, 0.23, 0.2, 0.21, 0.22, 0.2}}
	dur := provider.Series{Metric: provider.MetricDuration, Start: at.Add(-time.Hour), Step: 5 * time.Minute, Values: []float64{3, 4, 3.5, 6, 4, 3, 3, 4, 5, 3, 3, 4}}
	rec, _ := s.Recommend(context.Background(), scaling.State{Now: at, Target: fn, Metrics: []provider.Series{mem, dur}})
	fmt.Println(rec.Reason)
	// Output: memory 2048 → 576 MiB, timeout 5m0s → 9s
}

func ExampleNewScheduled() {
	s, err := scaling.NewScheduled(scaling.ScheduledConfig{TimeZone: "Europe/Berlin", Actions: []scaling.ScheduledAction{
		{Name: "office", Schedule: "0 8 * * 1-5", Min: ptr(4), Desired: ptr(6)},
		{Name: "night", Schedule: "0 19 * * *", Min: ptr(1), Desired: ptr(1)},
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Monday 2 March 2026, 13:00 in Berlin.
	rec, _ := s.Recommend(context.Background(), scaling.State{Now: at, Target: webGroup(2)})
	fmt.Println(rec.Capacity.Min, rec.Capacity.Desired, rec.Reason)
	// Output: 4 6 scheduled: office since Mon 2026-03-02 08:00 CET
}

func ptr[T any](v T) *T { return &v }

func ExampleStrategyFunc() {
	// A host's own strategy: one instance per 100 open connections.
	perConnections := scaling.StrategyFunc(func(_ context.Context, s scaling.State) (scaling.Recommendation, error) {
		conns, ok := s.Series(provider.MetricConnections)
		_, v, has := conns.Last()
		if !ok || !has {
			return scaling.Recommendation{Capacity: s.Target.Capacity.CapacitySpec, Reason: "no data"}, nil
		}
		want := s.Target.Capacity.CapacitySpec
		want.Desired = int(v+99) / 100
		return scaling.Recommendation{Capacity: want, Proposal: want.Desired, Reason: fmt.Sprintf("%.0f connections", v), Fitness: 0.9}, nil
	})
	conns := provider.Series{Metric: provider.MetricConnections, Start: at.Add(-time.Minute), Step: time.Minute, Values: []float64{730}}
	rec, _ := perConnections.Recommend(context.Background(), scaling.State{Now: at, Target: webGroup(3), Metrics: []provider.Series{conns}})
	fmt.Println(rec.Capacity.Desired, rec.Reason)
	// Output: 8 730 connections
}

// ExampleNewEngine plans and executes a scale out on the in-memory cloud:
// two steps (the gradual limit), each gated, written and verified.
func ExampleNewEngine() {
	cloud, _ := memory.New(memory.Config{LaunchDelay: time.Nanosecond})
	_ = cloud.AddGroup(provider.Resource{ID: "web", Kind: provider.KindGroup}, provider.CapacitySpec{Min: 1, Max: 20, Desired: 2})
	observer := scaling.ObserverFunc(func(e scaling.Event) {
		if e.Kind == scaling.EventStepVerified {
			fmt.Printf("step %d verified: %d → %d\n", e.Step, e.From.Desired, e.To.Desired)
		}
	})
	engine, err := scaling.NewEngine(scaling.EngineConfig{PollInterval: time.Millisecond}, scaling.Cloud{Scaler: cloud},
		allowAll{}, scaling.WithObserver(observer)) // allowAll stands in for a *safety.Engine
	if err != nil {
		fmt.Println(err)
		return
	}
	res, _ := cloud.Get(context.Background(), "web")
	capa, _ := cloud.Capacity(context.Background(), "web")
	fixed := scaling.StrategyFunc(func(_ context.Context, s scaling.State) (scaling.Recommendation, error) {
		want := s.Target.Capacity.CapacitySpec
		want.Desired = 4
		return scaling.Recommendation{Capacity: want, Reason: "test", Fitness: 1}, nil
	})
	d, _ := engine.Decide(context.Background(), scaling.State{Now: cloud.Now(), Target: scaling.Target{ID: "web", Resource: res, Capacity: capa, Min: 1, Max: 20}},
		[]scaling.Candidate{{Name: "fixed", Strategy: fixed}}, "")
	plan := engine.Plan(d, scaling.PlanOptions{})
	for _, s := range plan.Steps {
		fmt.Println(s)
	}
	x, err := engine.Execute(context.Background(), plan)
	fmt.Println(x.Status, err)
	// Output:
	// 1: scale_out 2 [1,20] → 3 [1,20]
	// 2: scale_out 3 [1,20] → 4 [1,20]
	// step 1 verified: 2 → 3
	// step 2 verified: 3 → 4
	// completed <nil>
}

// ExampleEngine_Execute_blocked is a plan the safety gate refuses: the
// plan stops with status blocked and the gate's decision, and that is not
// an error (an error is a failure: of the gate, the provider, a
// verification).
func ExampleEngine_Execute_blocked() {
	cloud, _ := memory.New(memory.Config{})
	_ = cloud.AddGroup(provider.Resource{ID: "web", Kind: provider.KindGroup}, provider.CapacitySpec{Min: 1, Max: 20, Desired: 4})
	freeze := safety.Named("change_freeze", safety.RuleFunc(func(context.Context, safety.Proposal) (safety.Result, error) {
		return safety.Result{Outcome: safety.Block, Reason: "release week"}, nil
	}))
	gate, _ := safety.New(safety.Config{}, []safety.Rule{freeze})
	engine, _ := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: cloud}, gate)
	res, _ := cloud.Get(context.Background(), "web")
	capa, _ := cloud.Capacity(context.Background(), "web")
	fixed := scaling.StrategyFunc(func(_ context.Context, s scaling.State) (scaling.Recommendation, error) {
		want := s.Target.Capacity.CapacitySpec
		want.Desired = 3
		return scaling.Recommendation{Capacity: want, Reason: "quiet", Fitness: 1}, nil
	})
	d, _ := engine.Decide(context.Background(), scaling.State{Now: cloud.Now(), Target: scaling.Target{ID: "web", Resource: res, Capacity: capa, Min: 1, Max: 20}},
		[]scaling.Candidate{{Name: "fixed", Strategy: fixed}}, "")
	x, err := engine.Execute(context.Background(), engine.Plan(d, scaling.PlanOptions{}))
	fmt.Println(x.Status, err)
	fmt.Println(x.Gate.BlockingRules(), x.Reason)
	// Output:
	// blocked <nil>
	// [change_freeze] step 1: blocked: change_freeze: release week
}

// ExampleNewAutoscaler loads a policy and evaluates it once, without
// acting: what the autoscaler would do.
func ExampleNewAutoscaler() {
	policy, err := scaling.ParseConfig(strings.NewReader(`
targets:
  - id: web
    max: 20
    strategies:
      - type: target_value
        target_value: {metric: cpu, target: 0.6}
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	cloud, _ := memory.New(memory.Config{}, memory.WithClock(bclock.NewMock()))
	_ = cloud.AddGroup(provider.Resource{ID: "web", Kind: provider.KindGroup}, provider.CapacitySpec{Min: 1, Max: 20, Desired: 4})
	_ = cloud.AddSamples("web", provider.MetricCPU, provider.Sample{Time: cloud.Now(), Value: 0.9})
	engine, _ := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: cloud, Metrics: cloud}, allowAll{})
	a, err := scaling.NewAutoscaler(policy, engine, scaling.Fleet{Inventory: cloud, Metrics: cloud})
	if err != nil {
		fmt.Println(err)
		return
	}
	rep := a.Evaluate(context.Background(), cloud.Now())
	d, p := rep.Targets[0].Decision, rep.Targets[0].Plan
	fmt.Println(d.Chosen.Strategy, d.Chosen.Reason)
	for _, s := range p.Steps {
		fmt.Println(s)
	}
	// Output:
	// target_value scaling up because factor is 1.500000
	// 1: scale_out 4 [1,20] → 6 [1,20]
}

// ExampleAutoscaler_EvaluateEach streams the decisions of a pass to a
// sink (here, a count of the groups that would change) instead of
// holding a Report of every target.
func ExampleAutoscaler_EvaluateEach() {
	policy := scaling.Config{}
	cloud, _ := memory.New(memory.Config{}, memory.WithClock(bclock.NewMock()))
	for i, cpu := range []float64{0.9, 0.6, 0.2, 0.603} {
		id := fmt.Sprintf("web-%d", i)
		_ = cloud.AddGroup(provider.Resource{ID: id, Kind: provider.KindGroup}, provider.CapacitySpec{Min: 1, Max: 20, Desired: 4})
		_ = cloud.AddSamples(id, provider.MetricCPU, provider.Sample{Time: cloud.Now(), Value: cpu})
		policy.Targets = append(policy.Targets, scaling.TargetConfig{ID: id, Max: 20, Strategies: []scaling.StrategySpec{{
			Type: scaling.StrategyTargetValue, TargetValue: &scaling.TargetValueConfig{Metric: provider.MetricCPU, Target: ptr(0.6)}}}})
	}
	engine, _ := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: cloud, Metrics: cloud}, allowAll{})
	a, err := scaling.NewAutoscaler(policy, engine, scaling.Fleet{Inventory: cloud, Metrics: cloud})
	if err != nil {
		fmt.Println(err)
		return
	}
	changes := map[string]int{} // target → desired; fn is never called concurrently
	a.EvaluateEach(context.Background(), cloud.Now(), func(r *scaling.TargetReport) {
		if r.Err == nil && r.Decision.Change {
			changes[r.Target] = r.Decision.Chosen.Capacity.Desired // copy what you keep
		}
	})
	fmt.Println(changes)
	// Output:
	// map[web-0:6 web-2:2]
}

// Example_mockClock is a host unit-testing its own scaling policy on a
// *clock.Mock: a table of load steps (the work, in instances' worth)
// and the capacity the policy gives each minute. The load becomes CPU
// over the current capacity; the test applies each decision itself.
func Example_mockClock() {
	policy := scaling.Config{Targets: []scaling.TargetConfig{{ID: "web", Min: ptr(2), Max: 12, Strategies: []scaling.StrategySpec{{
		Type: scaling.StrategyHPA, HPA: &scaling.HPAConfig{Metrics: []hpa.MetricSpec{{Type: hpa.SourceResource, Resource: &hpa.ResourceMetricSource{
			Name: hpa.ResourceCPU, Target: hpa.MetricTarget{Type: hpa.TargetUtilization, AverageUtilization: 60}}}}},
	}}}}}
	mock := bclock.NewMock()
	mock.Set(at)
	cloud, _ := memory.New(memory.Config{LaunchDelay: time.Nanosecond, DrainDelay: time.Nanosecond}, memory.WithClock(mock))
	_ = cloud.AddGroup(provider.Resource{ID: "web", Kind: provider.KindGroup}, provider.CapacitySpec{Min: 1, Max: 12, Desired: 4})
	engine, _ := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: cloud, Metrics: cloud}, allowAll{})
	a, _ := scaling.NewAutoscaler(policy, engine, scaling.Fleet{Inventory: cloud, Metrics: cloud})
	ctx := context.Background()
	for minute, load := range []float64{2.4, 5.4, 5.4, 5.4, 1.8, 1.8, 1.8, 1.8, 1.8, 1.8, 1.8} {
		capa, _ := cloud.Capacity(ctx, "web")
		cpu := min(1, load/float64(capa.Ready))
		_ = cloud.AddSamples("web", provider.MetricCPU, provider.Sample{Time: mock.Now(), Value: cpu})
		d := a.Evaluate(ctx, mock.Now()).Targets[0].Decision
		fmt.Printf("minute %2d: load %.1f on %d at %3.0f%% CPU → %d\n", minute, load, capa.Desired, 100*cpu, d.Chosen.Capacity.Desired)
		_ = cloud.SetCapacity(ctx, "web", d.Chosen.Capacity)
		mock.Add(time.Minute)
	}
	// Output:
	// minute  0: load 2.4 on 4 at  60% CPU → 4
	// minute  1: load 5.4 on 4 at 100% CPU → 7
	// minute  2: load 5.4 on 7 at  77% CPU → 9
	// minute  3: load 5.4 on 9 at  60% CPU → 9
	// minute  4: load 1.8 on 9 at  20% CPU → 9
	// minute  5: load 1.8 on 9 at  20% CPU → 9
	// minute  6: load 1.8 on 9 at  20% CPU → 9
	// minute  7: load 1.8 on 9 at  20% CPU → 9
	// minute  8: load 1.8 on 9 at  20% CPU → 9
	// minute  9: load 1.8 on 9 at  20% CPU → 3
	// minute 10: load 1.8 on 3 at  60% CPU → 3
}

// ExampleEventNoData: a group whose CPU is not published (an agent down,
// a metrics outage) keeps its capacity pass after pass, which no error
// reports; the engine tells its observer once the target's strategies
// have lacked data for five minutes (EngineConfig.NoDataAfter), and once
// when they have it again.
func ExampleEventNoData() {
	clk := bclock.NewMock()
	cloud, _ := memory.New(memory.Config{}, memory.WithClock(clk))
	_ = cloud.AddGroup(provider.Resource{ID: "web", Kind: provider.KindGroup}, provider.CapacitySpec{Min: 1, Max: 20, Desired: 4})
	observer := scaling.ObserverFunc(func(e scaling.Event) {
		if e.Kind == scaling.EventNoData || e.Kind == scaling.EventDataRecovered {
			fmt.Printf("%s after %s: %s %s\n", e.Kind, e.Time.Sub(time.Unix(0, 0)), e.Target, e.Reason)
		}
	})
	engine, _ := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: cloud, Metrics: cloud}, allowAll{}, scaling.WithObserver(observer))
	policy := scaling.Config{Targets: []scaling.TargetConfig{{ID: "web", Max: 20, Strategies: []scaling.StrategySpec{{Type: scaling.StrategyThreshold}}}}}
	a, err := scaling.NewAutoscaler(policy, engine, scaling.Fleet{Inventory: cloud, Metrics: cloud})
	if err != nil {
		fmt.Println(err)
		return
	}
	for range 8 { // a pass a minute, no cpu
		a.Evaluate(context.Background(), cloud.Now())
		clk.Add(time.Minute)
	}
	_ = cloud.AddSamples("web", provider.MetricCPU, provider.Sample{Time: cloud.Now().Add(-time.Minute), Value: 0.5})
	a.Evaluate(context.Background(), cloud.Now())
	// Output:
	// no_data after 5m0s: web no data to scale on: threshold: no cpu data in the last 3m0s
	// data_recovered after 8m0s: web threshold lacks no data: cpu 0.5 within [0.3, 0.8]
}

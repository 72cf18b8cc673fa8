package scaling_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/scaling/hpa"
)

// fixedClock is a clock stopped at one time, for a cloud built outside a
// synctest bubble.
type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time                       { return c.t }
func (c fixedClock) After(time.Duration) <-chan time.Time { return make(chan time.Time) }

var _ clock.Clock = fixedClock{}

// BenchmarkEvaluateFleet is one pass of the autoscaler's decisions over
// 10,000 groups of the in-memory cloud: read each group and its capacity,
// query its CPU, decide and plan, with no actuation, on two workers.
// Goal: ≤ 10 ms on 2 cores. Two strategies: nomad-autoscaler's target
// value on CPU, and the HPA strategy on CPU (the Kubernetes-exact
// calculation over the group's instances as pods).
func BenchmarkEvaluateFleet(b *testing.B) {
	tv := []scaling.StrategySpec{{Type: scaling.StrategyTargetValue, TargetValue: &scaling.TargetValueConfig{Metric: provider.MetricCPU, Target: fp(0.6)}}}
	hp := []scaling.StrategySpec{{Type: scaling.StrategyHPA, HPA: &scaling.HPAConfig{Metrics: []hpa.MetricSpec{{Type: hpa.SourceResource,
		Resource: &hpa.ResourceMetricSource{Name: hpa.ResourceCPU, Target: hpa.MetricTarget{Type: hpa.TargetUtilization, AverageUtilization: 60}}}}}}}
	b.Run("target_value", func(b *testing.B) { benchmarkFleet(b, tv) })
	b.Run("hpa", func(b *testing.B) { benchmarkFleet(b, hp) })
}

func benchmarkFleet(b *testing.B, strategy []scaling.StrategySpec) {
	const n = 10_000
	now := t0
	cloud, err := memory.New(memory.Config{}, memory.WithClock(fixedClock{now}))
	if err != nil {
		b.Fatal(err)
	}
	cfg := scaling.Config{Concurrency: 2}
	for i := range n {
		id := fmt.Sprintf("group-%05d", i)
		if err := cloud.AddGroup(provider.Resource{ID: id, Kind: provider.KindGroup}, provider.CapacitySpec{Min: 1, Max: 50, Desired: 2 + i%8}); err != nil {
			b.Fatal(err)
		}
		vals := make([]float64, 60)
		for j := range vals {
			vals[j] = 0.1 + 0.8*float64((i+j)%10)/10
		}
		if err := cloud.SetSeries(provider.Series{ResourceID: id, Metric: provider.MetricCPU, Start: now.Add(-time.Hour), Step: time.Minute, Values: vals}); err != nil {
			b.Fatal(err)
		}
		cfg.Targets = append(cfg.Targets, scaling.TargetConfig{ID: id, Max: 50, Strategies: strategy})
	}
	e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: cloud, Metrics: cloud}, allowAll{})
	if err != nil {
		b.Fatal(err)
	}
	a, err := scaling.NewAutoscaler(cfg, e, scaling.Fleet{Inventory: cloud, Metrics: cloud})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		rep := a.Evaluate(b.Context(), now)
		if err := rep.Err(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n), "targets/op")
}

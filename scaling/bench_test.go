package scaling_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/scaling/hpa"
)

// stepClock is a clock that a benchmark sets (never waited on), for a
// cloud built outside a synctest bubble.
type stepClock struct{ ns atomic.Int64 }

func (c *stepClock) Now() time.Time                       { return time.Unix(0, c.ns.Load()).UTC() }
func (c *stepClock) After(time.Duration) <-chan time.Time { return make(chan time.Time) }
func (c *stepClock) set(t time.Time)                      { c.ns.Store(t.UnixNano()) }

var _ clock.Clock = (*stepClock)(nil)

// BenchmarkEvaluateFleet is one pass of the autoscaler's decisions over
// 10,000 groups of the in-memory cloud: read the groups, their capacities
// and their CPU (a batch of targets at a time, through the cloud's batch
// reads), decide and plan, with no actuation, on two workers.
// Goal: ≤ 10 ms on 2 cores. Two strategies: nomad-autoscaler's target
// value on CPU, and the HPA strategy on CPU (the Kubernetes-exact
// calculation over the group's instances as pods).
//
// Each pass is the next one of a running autoscaler: 15 s (the default
// interval) after the previous one, after 10 minutes of passes (twice
// the HPA's scale-down stabilization window, the longest History either
// strategy keeps) before the timer starts, so that every target's
// history holds what a running autoscaler's does. cpu-ms/op is the
// process's CPU time (user + system, all threads, the GC's too) per
// pass; ns/op is the wall time.
//
// runner/ is the pass Run makes (EvaluateEach: each batch's decisions
// and plans in buffers reused from batch to batch); report/ is Evaluate,
// which returns a Report holding every target's decision and plan.
func BenchmarkEvaluateFleet(b *testing.B) {
	tv := []scaling.StrategySpec{{Type: scaling.StrategyTargetValue, TargetValue: &scaling.TargetValueConfig{Metric: provider.MetricCPU, Target: fp(0.6)}}}
	hp := []scaling.StrategySpec{{Type: scaling.StrategyHPA, HPA: &scaling.HPAConfig{Metrics: []hpa.MetricSpec{{Type: hpa.SourceResource,
		Resource: &hpa.ResourceMetricSource{Name: hpa.ResourceCPU, Target: hpa.MetricTarget{Type: hpa.TargetUtilization, AverageUtilization: 60}}}}}}}
	for _, report := range []bool{false, true} {
		mode := "runner"
		if report {
			mode = "report"
		}
		b.Run(mode+"/target_value", func(b *testing.B) { benchmarkFleet(b, tv, false, report) })
		b.Run(mode+"/hpa", func(b *testing.B) { benchmarkFleet(b, hp, false, report) })
		// Steady: every group at its target, so that no decision changes
		// anything and nothing is planned (most targets, most passes).
		b.Run(mode+"/target_value_steady", func(b *testing.B) { benchmarkFleet(b, tv, true, report) })
		b.Run(mode+"/hpa_steady", func(b *testing.B) { benchmarkFleet(b, hp, true, report) })
	}
}

// benchmarkFleet evaluates 10,000 groups whose CPU cycles between 10 % and
// 82 % (so that about nine in ten change and are planned), or, steady,
// stays at the 60 % target; through Evaluate (report) or EvaluateEach.
func benchmarkFleet(b *testing.B, strategy []scaling.StrategySpec, steady, report bool) {
	const (
		n        = 10_000
		interval = scaling.DefaultInterval
		warmUp   = 10 * time.Minute
		days     = 2 // of data, ahead of the passes (11,500 of them)
	)
	start := t0
	clk := &stepClock{}
	clk.set(start)
	cloud, err := memory.New(memory.Config{}, memory.WithClock(clk))
	if err != nil {
		b.Fatal(err)
	}
	// Ten patterns, one a minute from an hour before start: group i
	// reports pattern i%10, so the fleet shares ten slices of values.
	var patterns [10][]float64
	for p := range patterns {
		vals := make([]float64, (days*24+1)*60)
		for j := range vals {
			vals[j] = 0.1 + 0.8*float64((p+j)%10)/10
			if steady {
				vals[j] = 0.6
			}
		}
		patterns[p] = vals
	}
	dataEnd := start.Add(-time.Hour + time.Duration(len(patterns[0]))*time.Minute)
	cfg := scaling.Config{Concurrency: 2, Interval: interval}
	for i := range n {
		id := fmt.Sprintf("group-%05d", i)
		if err := cloud.AddGroup(provider.Resource{ID: id, Kind: provider.KindGroup}, provider.CapacitySpec{Min: 1, Max: 50, Desired: 2 + i%8}); err != nil {
			b.Fatal(err)
		}
		if err := cloud.SetSeries(provider.Series{ResourceID: id, Metric: provider.MetricCPU, Start: start.Add(-time.Hour), Step: time.Minute, Values: patterns[i%10]}); err != nil {
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
	now := start
	var decided, planned int
	each := func(r *scaling.TargetReport) {
		if r.Err != nil {
			b.Fatal(r.Err)
		}
		if r.Decision != nil {
			decided++
		}
		if r.Plan != nil {
			planned++
		}
	}
	pass := func() {
		clk.set(now)
		decided, planned = 0, 0
		if report {
			rep := a.Evaluate(b.Context(), now)
			for i := range rep.Targets {
				each(&rep.Targets[i])
			}
		} else {
			a.EvaluateEach(b.Context(), now, each)
		}
		if decided != n || steady != (planned == 0) {
			b.Fatalf("a pass decided %d targets and planned %d, want %d decided and %s", decided, planned, n, map[bool]string{true: "none planned", false: "some planned"}[steady])
		}
		now = now.Add(interval)
		if now.After(dataEnd) {
			b.Fatalf("the benchmark ran past its %d days of data", days)
		}
	}
	for now.Before(start.Add(warmUp)) {
		pass()
	}
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		pass()
	}
	if cpu > 0 {
		b.ReportMetric(float64(cpuTime()-cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
	}
	b.ReportMetric(float64(n), "targets/op")
}

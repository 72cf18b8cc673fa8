package hpa_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/idlescale/idlescale/scaling/hpa"
)

// BenchmarkTargetTrackingDecision is one HPA decision for 10 pods and one
// CPU utilization metric: the replica calculator, the normalization with a
// behavior (stabilization and rate policies over the history) and the
// history's update, every 15 seconds as the controller's sync period.
// Goal: ≤ 1 µs and no allocation per decision.
func BenchmarkTargetTrackingDecision(b *testing.B) {
	calc, err := hpa.NewCalculator(hpa.Config{}, hpa.Spec{
		MaxReplicas: 50,
		Metrics:     []hpa.MetricSpec{cpuUtilization(60, "")},
		Behavior:    &hpa.Behavior{ScaleDown: &hpa.ScalingRules{StabilizationWindow: dur(5 * time.Minute)}},
	})
	if err != nil {
		b.Fatal(err)
	}
	in := hpa.Input{Now: now, SpecReplicas: 10, StatusReplicas: 10, Metrics: []hpa.MetricValues{{}}}
	for i := range 10 {
		name := fmt.Sprintf("web-7d9f8b-%05d", i)
		in.Pods = append(in.Pods, hpa.Pod{
			Name: name, Phase: hpa.PhaseRunning, Ready: hpa.ConditionTrue, StartTime: longAgo, ReadyTransition: longAgo,
			Containers: []hpa.Container{{Name: "app", Requests: hpa.ResourceList{hpa.ResourceCPU: 500}}},
		})
		in.Metrics[0].Samples = append(in.Metrics[0].Samples, hpa.Sample{Pod: name, Value: int64(250 + 37*i), Timestamp: now, Window: time.Minute})
	}
	var h hpa.History
	b.ReportAllocs()
	for b.Loop() {
		in.Now = in.Now.Add(15 * time.Second)
		for j := range in.Metrics[0].Samples {
			in.Metrics[0].Samples[j].Timestamp = in.Now
		}
		d, err := calc.Decide(in, h)
		if err != nil {
			b.Fatal(err)
		}
		h.Record(d)
		if d.Rescale {
			h.RecordScale(d, in.Now)
		}
	}
}

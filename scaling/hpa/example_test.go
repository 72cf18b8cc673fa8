package hpa_test

import (
	"fmt"
	"time"

	"github.com/idlescale/idlescale/scaling/hpa"
)

// Example computes one HPA decision for three pods at 90 % of a 60 %
// CPU target, then the next one, 15 seconds later, after the rescale.
func Example() {
	calc, err := hpa.NewCalculator(hpa.Config{}, hpa.Spec{
		MaxReplicas: 10,
		Metrics: []hpa.MetricSpec{{Type: hpa.SourceResource, Resource: &hpa.ResourceMetricSource{
			Name:   hpa.ResourceCPU,
			Target: hpa.MetricTarget{Type: hpa.TargetUtilization, AverageUtilization: 60},
		}}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	started := now.Add(-time.Hour)
	in := hpa.Input{Now: now, SpecReplicas: 3, StatusReplicas: 3, Metrics: []hpa.MetricValues{{}}}
	for i, usage := range []int64{450, 460, 440} { // millicores, against 500m requests
		name := fmt.Sprintf("web-%d", i)
		in.Pods = append(in.Pods, hpa.Pod{
			Name: name, Phase: hpa.PhaseRunning, Ready: hpa.ConditionTrue, ReadyTransition: started, StartTime: started,
			Containers: []hpa.Container{{Name: "app", Requests: hpa.ResourceList{hpa.ResourceCPU: 500}}},
		})
		in.Metrics[0].Samples = append(in.Metrics[0].Samples, hpa.Sample{Pod: name, Value: usage, Timestamp: now, Window: time.Minute})
	}
	var h hpa.History
	d, err := calc.Decide(in, h)
	if err != nil {
		fmt.Println(err)
		return
	}
	h.Record(d)
	fmt.Printf("utilization %d%%: %d → %d (%s)\n", d.Metrics[0].Utilization, in.SpecReplicas, d.Replicas, d.Reason)
	if d.Rescale {
		h.RecordScale(d, now)
	}
	// Output:
	// utilization 90%: 3 → 5 (cpu resource utilization (percentage of request) above target)
}

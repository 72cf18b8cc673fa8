package hpa_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/idlescale/idlescale/scaling/hpa"
)

// FuzzDecide feeds arbitrary pods, samples and replica counts through a
// decision with every metric type: it must never panic, never propose a
// negative replica count, and stay within the spec's bounds whenever it
// rescales on metrics.
func FuzzDecide(f *testing.F) {
	f.Add(int32(3), int32(3), []byte{1, 2, 3, 200, 100, 0}, int64(500), int64(1000))
	f.Add(int32(0), int32(0), []byte{}, int64(0), int64(-1))
	f.Add(int32(7), int32(2), []byte{255, 0, 17, 9, 3}, int64(1<<62), int64(1<<62))
	f.Fuzz(func(t *testing.T, spec, status int32, podBytes []byte, value, external int64) {
		calc, err := hpa.NewCalculator(hpa.Config{}, hpa.Spec{MinReplicas: i32(0), MaxReplicas: 20, Metrics: []hpa.MetricSpec{
			cpuUtilization(60, ""), podsMetric(1500), objectMetric(hpa.TargetAverageValue, 2000), externalMetric(hpa.TargetValue, 3000),
		}})
		if err != nil {
			t.Fatal(err)
		}
		phases := []hpa.PodPhase{hpa.PhaseRunning, hpa.PhasePending, hpa.PhaseFailed, hpa.PhaseSucceeded, hpa.PhaseUnknown}
		readies := []hpa.ConditionStatus{"", hpa.ConditionTrue, hpa.ConditionFalse, hpa.ConditionUnknown}
		in := hpa.Input{Now: now, SpecReplicas: spec, StatusReplicas: status, Metrics: make([]hpa.MetricValues, 4)}
		for i, b := range podBytes {
			name := fmt.Sprintf("p%d", i)
			p := hpa.Pod{Name: name, Phase: phases[int(b)%len(phases)], Ready: readies[int(b>>3)%len(readies)], Deleting: b&0x80 != 0,
				StartTime: now.Add(-time.Duration(b) * 7 * time.Second), ReadyTransition: now.Add(-time.Duration(b) * 3 * time.Second)}
			if b&0x40 == 0 {
				p.Containers = []hpa.Container{{Name: "c", Requests: hpa.ResourceList{hpa.ResourceCPU: int64(b) * 10}}}
			}
			in.Pods = append(in.Pods, p)
			if b&0x20 == 0 {
				s := hpa.Sample{Pod: name, Value: value * int64(b), Timestamp: now.Add(-time.Duration(b) * time.Second), Window: time.Minute}
				in.Metrics[0].Samples = append(in.Metrics[0].Samples, s)
				in.Metrics[1].Samples = append(in.Metrics[1].Samples, s)
			}
		}
		in.Metrics[2].Value = value
		in.Metrics[3].Values = []int64{external, value}
		d, err := calc.Decide(in, hpa.History{})
		if err != nil {
			if d.Rescale || d.Replicas != spec {
				t.Fatalf("a failed decision changes the replicas: %+v (%v)", d, err)
			}
			return
		}
		if d.Replicas < 0 {
			t.Fatalf("negative replicas %d", d.Replicas)
		}
		if d.Rescale && (d.Replicas > 20 || d.Replicas < 0) {
			t.Fatalf("rescale to %d outside [0, 20]", d.Replicas)
		}
	})
}

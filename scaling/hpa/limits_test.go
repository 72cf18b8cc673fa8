package hpa_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/scaling/hpa"
)

// TestCPUInitializationAtTheEndOfTime pins the initialization period as
// upstream computes it, StartTime + period after now, where Add saturates:
// a pod started a minute before the last representable second is past a
// five-minute period (its end saturates to now), and its sample counts.
// (Found by a review: now − period compared with StartTime differs here.)
func TestCPUInitializationAtTheEndOfTime(t *testing.T) {
	t.Parallel()
	const unixToInternal = 62135596800
	last := time.Unix(math.MaxInt64-unixToInternal, 0).UTC()
	start := last.Add(-time.Minute)
	calc, err := hpa.NewCalculator(hpa.Config{CPUInitializationPeriod: 5 * time.Minute}, hpa.Spec{MaxReplicas: 10,
		Metrics: []hpa.MetricSpec{cpuUtilization(50, "")}})
	require.NoError(t, err)
	pod := hpa.Pod{Name: "p", Phase: hpa.PhaseRunning, Ready: hpa.ConditionTrue, StartTime: start, ReadyTransition: start,
		Containers: []hpa.Container{{Name: "c", Requests: hpa.ResourceList{hpa.ResourceCPU: 1000}}}}
	in := hpa.MetricInput{Now: last, SpecReplicas: 1, StatusReplicas: 1, Tolerances: defaultTolerances,
		Pods: []hpa.Pod{pod}, Values: hpa.MetricValues{Samples: []hpa.Sample{{Pod: "p", Value: 900, Timestamp: start, Window: time.Minute}}}}
	res, err := calc.Metric(0, in)
	require.NoError(t, err)
	require.Equal(t, int32(2), res.Replicas)
}

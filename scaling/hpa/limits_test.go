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

// TestCPUInitializationAcrossDecisions checks that a Calculator deciding
// again at another time reads the CPU initialization period afresh (it
// remembers the last answer for a start time, at a time): a pod started
// at T, not ready since T+30 s (set aside during the 2-minute period, then
// counted: its readiness changed after the initial readiness delay),
// decided every 20 s through the period and past it, by one Calculator
// and by a new one each time.
func TestCPUInitializationAcrossDecisions(t *testing.T) {
	t.Parallel()
	spec := hpa.Spec{MaxReplicas: 10, Metrics: []hpa.MetricSpec{cpuUtilization(50, "")}}
	shared, err := hpa.NewCalculator(testConfig, spec)
	require.NoError(t, err)
	start := now.Add(-10 * time.Minute)
	pods := []hpa.Pod{
		{Name: "new", Phase: hpa.PhaseRunning, Ready: hpa.ConditionFalse, StartTime: start, ReadyTransition: start.Add(30 * time.Second),
			Containers: []hpa.Container{{Name: "c", Requests: hpa.ResourceList{hpa.ResourceCPU: 1000}}}},
	}
	seen := map[bool]bool{}
	for at := start.Add(10 * time.Second); at.Before(start.Add(4 * time.Minute)); at = at.Add(20 * time.Second) {
		in := hpa.MetricInput{Now: at, SpecReplicas: 2, StatusReplicas: 2, Tolerances: defaultTolerances, Pods: pods,
			Values: hpa.MetricValues{Samples: []hpa.Sample{{Pod: "new", Value: 1000, Timestamp: at, Window: time.Minute}}}}
		fresh, err := hpa.NewCalculator(testConfig, spec)
		require.NoError(t, err)
		want, werr := fresh.Metric(0, in)
		got, gerr := shared.Metric(0, in)
		require.Equal(t, werr, gerr, "at %s", at.Sub(start))
		require.Equal(t, want, got, "at %s", at.Sub(start))
		seen[werr == nil] = true
	}
	require.Len(t, seen, 2, "the pod's sample is set aside (no ready metrics), then counted")
}

// TestScaleUpLimitsSaturate pins the scale-up limits of a count above
// MaxInt32/2, twice which is beyond int32: the limit saturates at
// MaxInt32, so that MaxReplicas bounds the scale up. (Go's conversion of
// the out-of-range float is platform-defined: on amd64 it was MinInt32, and
// the legacy normalization returned a negative replica count, the
// policies' limit refused to scale up at all.)
func TestScaleUpLimitsSaturate(t *testing.T) {
	t.Parallel()
	percent := &hpa.ScalingRules{Policies: []hpa.ScalingPolicy{{Type: hpa.PolicyPercent, Value: 100, Period: time.Minute}}}
	for _, tc := range []struct {
		name     string
		behavior *hpa.Behavior
	}{
		{"legacy", nil},
		{"default behavior", &hpa.Behavior{}},
		{"percent policy", &hpa.Behavior{ScaleUp: percent}},
	} {
		got, err := testConfig.Normalize(hpa.NormalizeInput{Now: now, Current: 1_500_000_000, Desired: 2_000_000_000,
			Min: 1, Max: math.MaxInt32, Behavior: tc.behavior})
		require.NoError(t, err, tc.name)
		require.Equal(t, int32(2_000_000_000), got.Replicas, tc.name)
		require.Equal(t, hpa.ReasonDesiredWithinRange, got.ScalingLimited, tc.name)
	}
}

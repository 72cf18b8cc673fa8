package hpa_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/scaling/hpa"
)

// TestPodCountIsExpandedPods checks that an entry with a Count of n is
// decided exactly as n entries that differ only in their names (the first
// keeps the entry's name, so that errors naming it are the same): random
// pods of every phase, readiness, start, deletion and request, with and
// without samples, with samples of unlisted pods, under every metric type
// and target, including values that overflow their sums. The whole
// Proposal (every metric's replicas, utilization, usage, reason and error)
// and the Decision of a fresh history must be equal.
func TestPodCountIsExpandedPods(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 23))
	specs := [][]hpa.MetricSpec{
		{cpuUtilization(60, "")},
		{cpuUtilization(80, "c")},
		{{Type: hpa.SourceResource, Resource: &hpa.ResourceMetricSource{Name: hpa.ResourceCPU,
			Target: hpa.MetricTarget{Type: hpa.TargetAverageValue, AverageValue: 0.3}}}},
		{podsMetric(1500)},
		{objectMetric(hpa.TargetValue, 2000), objectMetric(hpa.TargetAverageValue, 700)},
		{externalMetric(hpa.TargetValue, 3000), externalMetric(hpa.TargetAverageValue, 900)},
		{cpuUtilization(50, ""), podsMetric(800), objectMetric(hpa.TargetValue, 5000)},
	}
	calcs := make([]*hpa.Calculator, len(specs))
	for i, m := range specs {
		var err error
		calcs[i], err = hpa.NewCalculator(testConfig, hpa.Spec{MinReplicas: i32(1), MaxReplicas: 1000, Metrics: m})
		require.NoError(t, err)
	}
	phases := []hpa.PodPhase{hpa.PhaseRunning, hpa.PhaseRunning, hpa.PhaseRunning, hpa.PhasePending, hpa.PhaseFailed, hpa.PhaseSucceeded}
	readies := []hpa.ConditionStatus{hpa.ConditionTrue, hpa.ConditionTrue, hpa.ConditionFalse, hpa.ConditionUnknown, ""}
	starts := []time.Time{longAgo, hot, cool, {}}
	counts := []int32{0, 1, 1, 2, 3, 7, 40}
	for round := range 20_000 {
		k := rng.IntN(len(specs))
		entries := 1 + rng.IntN(5)
		grouped := hpa.Input{Now: now, SpecReplicas: int32(rng.IntN(60)), StatusReplicas: int32(rng.IntN(60)), Metrics: make([]hpa.MetricValues, len(specs[k]))}
		expanded := grouped
		expanded.Metrics = make([]hpa.MetricValues, len(specs[k]))
		big := rng.IntN(10) == 0 // values whose sums wrap around
		for e := range entries {
			name := fmt.Sprintf("pod-%d", e)
			p := hpa.Pod{Name: name, Phase: phases[rng.IntN(len(phases))], Ready: readies[rng.IntN(len(readies))],
				Deleting: rng.IntN(8) == 0, StartTime: starts[rng.IntN(len(starts))], ReadyTransition: starts[rng.IntN(len(starts))],
				Count: counts[rng.IntN(len(counts))]}
			switch rng.IntN(6) {
			case 0: // no request
			case 1:
				p.Containers = []hpa.Container{{Name: "c", Requests: hpa.ResourceList{hpa.ResourceCPU: 0}}}
			default:
				p.Containers = []hpa.Container{{Name: "c", Requests: hpa.ResourceList{hpa.ResourceCPU: 100 + rng.Int64N(900)}}}
			}
			hasSample := rng.IntN(5) != 0
			value := rng.Int64N(3000)
			if big {
				value = 1<<62 + rng.Int64N(1<<61)
			}
			at := now.Add(-time.Duration(rng.IntN(240)) * time.Second)
			grouped.Pods = append(grouped.Pods, p)
			for m := range specs[k] {
				if hasSample {
					grouped.Metrics[m].Samples = append(grouped.Metrics[m].Samples, hpa.Sample{Pod: name, Value: value, Timestamp: at, Window: time.Minute})
				}
			}
			for j := range max(p.Count, 1) {
				q := p
				q.Count = 0
				if j > 0 {
					q.Name = fmt.Sprintf("%s-%d", name, j)
				}
				expanded.Pods = append(expanded.Pods, q)
				for m := range specs[k] {
					if hasSample {
						expanded.Metrics[m].Samples = append(expanded.Metrics[m].Samples, hpa.Sample{Pod: q.Name, Value: value, Timestamp: at, Window: time.Minute})
					}
				}
			}
		}
		for m := range specs[k] {
			if rng.IntN(3) == 0 { // a sample of a pod that is not listed
				s := hpa.Sample{Pod: "unlisted", Value: rng.Int64N(3000), Timestamp: now, Window: time.Minute}
				grouped.Metrics[m].Samples = append(grouped.Metrics[m].Samples, s)
				expanded.Metrics[m].Samples = append(expanded.Metrics[m].Samples, s)
			}
			v, vs := rng.Int64N(20_000), []int64{rng.Int64N(9000), rng.Int64N(9000)}
			grouped.Metrics[m].Value, expanded.Metrics[m].Value = v, v
			grouped.Metrics[m].Values, expanded.Metrics[m].Values = vs, vs
			grouped.Metrics[m].Timestamp, expanded.Metrics[m].Timestamp = now, now
		}
		c := calcs[k]
		want, werr := c.Replicas(expanded)
		wantMetrics := append([]hpa.MetricResult(nil), want.Metrics...)
		got, gerr := c.Replicas(grouped)
		require.Equal(t, fmt.Sprint(werr), fmt.Sprint(gerr), "round %d", round)
		require.Equal(t, want.Replicas, got.Replicas, "round %d: %+v", round, grouped)
		require.Equal(t, want.Metric, got.Metric, "round %d", round)
		require.True(t, want.Timestamp.Equal(got.Timestamp), "round %d", round)
		require.Len(t, got.Metrics, len(wantMetrics))
		for i := range wantMetrics {
			w, g := wantMetrics[i], got.Metrics[i]
			require.Equal(t, fmt.Sprint(w.Err), fmt.Sprint(g.Err), "round %d metric %d", round, i)
			w.Err, g.Err = nil, nil
			require.Equal(t, w, g, "round %d metric %d: %+v", round, i, grouped)
		}
		wd, werr := c.Decide(expanded, hpa.History{})
		gd, gerr := c.Decide(grouped, hpa.History{})
		require.Equal(t, fmt.Sprint(werr), fmt.Sprint(gerr), "round %d", round)
		wd.Metrics, gd.Metrics = nil, nil
		require.Equal(t, wd, gd, "round %d", round)
	}
}

// TestPodCountNegative refuses a negative Count, naming it.
func TestPodCountNegative(t *testing.T) {
	t.Parallel()
	in := hpa.Input{Now: now, SpecReplicas: 1, Pods: []hpa.Pod{{Name: "a", Phase: hpa.PhaseRunning, Ready: hpa.ConditionTrue, Count: -1}}}
	err := in.Validate()
	require.ErrorContains(t, err, "pods[0].count")
}

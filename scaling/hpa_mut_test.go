package scaling_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/scaling/hpa"
)

// TestHPAStrategyInputsAndFitness pins what an HPA recommendation
// reports: a utilization metric in percent and a value metric in its own
// unit (milli-units / 1000), each metric's proposal, a failed metric as
// NaN, the fitness 0.8 × the share of metrics with values, and the raw
// proposal 0 of a scale to zero (not the current count).
func TestHPAStrategyInputsAndFitness(t *testing.T) {
	t.Parallel()
	queue := provider.Metric("custom/queue_depth")
	s, err := scaling.NewHPA(scaling.HPAConfig{Metrics: []hpa.MetricSpec{
		{Type: hpa.SourceResource, Resource: &hpa.ResourceMetricSource{Name: hpa.ResourceCPU, Target: hpa.MetricTarget{Type: hpa.TargetUtilization, AverageUtilization: 60}}},
		{Type: hpa.SourceExternal, External: &hpa.ExternalMetricSource{Metric: hpa.MetricIdentifier{Name: string(queue)}, Target: hpa.MetricTarget{Type: hpa.TargetAverageValue, AverageValue: 10}}},
	}}, "hpa")
	require.NoError(t, err)
	inputs := func(r scaling.Recommendation) map[string]float64 {
		out := map[string]float64{}
		for _, in := range r.Inputs {
			out[in.Name] = in.Value
		}
		return out
	}
	g := group(4, 0, 20)
	rec, err := s.Recommend(t.Context(), stateWith(g, series(provider.MetricCPU, t0, time.Minute, 0.9), series(queue, t0, time.Minute, 50)))
	require.NoError(t, err)
	in := inputs(rec)
	assert.InDelta(t, 90, in["cpu resource utilization (percentage of request)"], 1e-9, "%v", rec.Inputs)
	assert.InDelta(t, 6, in["cpu resource utilization (percentage of request) proposal"], 1e-9, "⌈4 × 90/60⌉")
	assert.InDelta(t, 12.5, in["external metric custom/queue_depth"], 1e-9, "the queue per instance, in its own unit (50 / 4)")
	assert.InDelta(t, 5, in["external metric custom/queue_depth proposal"], 1e-9, "⌈50/10⌉")
	assert.InDelta(t, 0.8, rec.Fitness, 1e-9)

	// The queue cannot be read: scale up on CPU, fitness halved, the
	// failed metric NaN.
	st := stateWith(g, series(provider.MetricCPU, t0, time.Minute, 0.9))
	st.MetricErrors = map[provider.Metric]error{queue: errors.New("backend down")}
	rec, err = s.Recommend(t.Context(), st)
	require.NoError(t, err)
	in = inputs(rec)
	assert.True(t, math.IsNaN(in["external metric custom/queue_depth (failed)"]), "%v", rec.Inputs)
	assert.InDelta(t, 0.4, rec.Fitness, 1e-9)
	assert.Equal(t, 6, rec.Capacity.Desired, rec.Reason)

	// An empty queue and idle CPU with min 0: the raw proposal is 0.
	ext, err := scaling.NewHPA(scaling.HPAConfig{Metrics: []hpa.MetricSpec{
		{Type: hpa.SourceExternal, External: &hpa.ExternalMetricSource{Metric: hpa.MetricIdentifier{Name: string(queue)}, Target: hpa.MetricTarget{Type: hpa.TargetAverageValue, AverageValue: 10}}},
	}}, "hpa")
	require.NoError(t, err)
	rec, err = ext.Recommend(t.Context(), stateWith(g, series(queue, t0, time.Minute, 0)))
	require.NoError(t, err)
	assert.Equal(t, 0, rec.Proposal, rec.Reason)
}

// TestHPAStrategyFewerPodMetrics pins a pod source that returns fewer
// metric values than the HPA has metrics: the missing ones are errors
// (no scale down, lower fitness), not a panic.
func TestHPAStrategyFewerPodMetrics(t *testing.T) {
	t.Parallel()
	s, err := scaling.NewHPA(scaling.HPAConfig{Metrics: []hpa.MetricSpec{
		{Type: hpa.SourceResource, Resource: &hpa.ResourceMetricSource{Name: hpa.ResourceCPU, Target: hpa.MetricTarget{Type: hpa.TargetUtilization, AverageUtilization: 80}}},
		{Type: hpa.SourceResource, Resource: &hpa.ResourceMetricSource{Name: hpa.ResourceMemory, Target: hpa.MetricTarget{Type: hpa.TargetUtilization, AverageUtilization: 80}}},
	}}, "hpa")
	require.NoError(t, err)
	started := t0.Add(-time.Hour)
	obs := &scaling.PodObservation{StatusReplicas: 4, Metrics: []hpa.MetricValues{{}}}
	for _, name := range []string{"a", "b", "c", "d"} {
		obs.Pods = append(obs.Pods, hpa.Pod{Name: name, Phase: hpa.PhaseRunning, Ready: hpa.ConditionTrue, StartTime: started, ReadyTransition: started,
			Containers: []hpa.Container{{Name: "app", Requests: hpa.ResourceList{hpa.ResourceCPU: 1000, hpa.ResourceMemory: 1000}}}})
		obs.Metrics[0].Samples = append(obs.Metrics[0].Samples, hpa.Sample{Pod: name, Value: 100, Timestamp: t0, Window: time.Minute})
	}
	rec, err := s.Recommend(t.Context(), scaling.State{Now: t0, Target: group(4, 1, 10), Pods: obs})
	require.NoError(t, err)
	assert.Equal(t, 4, rec.Capacity.Desired, "CPU at 10 %% would scale down, but memory has no values: %s", rec.Reason)
	assert.InDelta(t, 0.4, rec.Fitness, 1e-9)

	// Both metrics observed: full fitness, and the scale down.
	obs.Metrics = append(obs.Metrics, obs.Metrics[0])
	rec, err = s.Recommend(t.Context(), scaling.State{Now: t0, Target: group(4, 1, 10), Pods: obs})
	require.NoError(t, err)
	assert.InDelta(t, 0.8, rec.Fitness, 1e-9)
	assert.Less(t, rec.Proposal, 4, rec.Reason)
}

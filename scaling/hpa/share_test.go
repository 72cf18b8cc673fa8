package hpa_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/scaling/hpa"
)

// TestSharedContainerSlices checks that pods sharing their containers'
// slices (as the scaling package synthesizes them) are read exactly as
// pods with copies of their own: the calculator reads a shared slice's
// requests once, and must not carry them over to a pod whose pod-level
// requests, containers or init containers differ. Random pods from a few
// templates, some with pod-level requests, a container name or none, CPU
// and memory, utilization and average value targets.
func TestSharedContainerSlices(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(17, 29))
	templates := [][]hpa.Container{
		{{Name: "app", Requests: hpa.ResourceList{hpa.ResourceCPU: 500, hpa.ResourceMemory: 1 << 20}}},
		{{Name: "app", Requests: hpa.ResourceList{hpa.ResourceCPU: 250, hpa.ResourceMemory: 2 << 20}}, {Name: "side", Requests: hpa.ResourceList{hpa.ResourceCPU: 100, hpa.ResourceMemory: 1 << 19}}},
		{{Name: "app", Requests: hpa.ResourceList{hpa.ResourceCPU: 1000}}}, // no memory request
		{},
	}
	inits := [][]hpa.Container{nil, {{Name: "proxy", RestartAlways: true, Requests: hpa.ResourceList{hpa.ResourceCPU: 50, hpa.ResourceMemory: 1 << 18}}}}
	deep := func(cs []hpa.Container) []hpa.Container {
		if cs == nil {
			return nil
		}
		out := make([]hpa.Container, len(cs))
		for i, c := range cs {
			out[i] = hpa.Container{Name: c.Name, RestartAlways: c.RestartAlways, Requests: hpa.ResourceList{}}
			for k, v := range c.Requests {
				out[i].Requests[k] = v
			}
		}
		return out
	}
	for round := range 400 {
		n := 1 + rng.IntN(8)
		shared, copied := make([]hpa.Pod, n), make([]hpa.Pod, n)
		var samples []hpa.Sample
		for i := range n {
			p := hpa.Pod{
				Name: fmt.Sprintf("pod-%d", i), Phase: hpa.PhaseRunning, Ready: hpa.ConditionTrue,
				ReadyTransition: now.Add(-time.Hour), StartTime: now.Add(-time.Hour),
				Containers: templates[rng.IntN(len(templates))], InitContainers: inits[rng.IntN(len(inits))],
			}
			if rng.IntN(5) == 0 {
				p.Requests = hpa.ResourceList{hpa.ResourceCPU: 100 * (1 + int64(rng.IntN(9))), hpa.ResourceMemory: 1 << 20}
			}
			if rng.IntN(2) == 0 && i > 0 {
				p.Containers, p.InitContainers = shared[i-1].Containers, shared[i-1].InitContainers // the previous pod's slices
			}
			shared[i] = p
			c := p
			c.Containers, c.InitContainers = deep(p.Containers), deep(p.InitContainers)
			copied[i] = c
			samples = append(samples, hpa.Sample{Pod: p.Name, Value: int64(rng.IntN(2000)), Timestamp: now, Window: time.Minute})
		}
		resource := []hpa.ResourceName{hpa.ResourceCPU, hpa.ResourceMemory}[rng.IntN(2)]
		container := []string{"", "app", "side"}[rng.IntN(3)]
		target := hpa.MetricTarget{Type: hpa.TargetUtilization, AverageUtilization: 60}
		if rng.IntN(2) == 0 {
			target = hpa.MetricTarget{Type: hpa.TargetAverageValue, AverageValue: 400}
		}
		spec := hpa.MetricSpec{Type: hpa.SourceResource, Resource: &hpa.ResourceMetricSource{Name: resource, Target: target}}
		if container != "" {
			spec = hpa.MetricSpec{Type: hpa.SourceContainerResource, ContainerResource: &hpa.ContainerResourceMetricSource{Name: resource, Container: container, Target: target}}
		}
		calc, err := hpa.NewCalculator(testConfig, hpa.Spec{MaxReplicas: 100, Metrics: []hpa.MetricSpec{spec}})
		require.NoError(t, err)
		in := func(pods []hpa.Pod) hpa.MetricInput {
			return hpa.MetricInput{Now: now, SpecReplicas: int32(n), StatusReplicas: int32(n), Tolerances: defaultTolerances, Pods: pods, Values: hpa.MetricValues{Samples: samples}}
		}
		want, wantErr := calc.Metric(0, in(copied))
		got, err := calc.Metric(0, in(shared))
		if wantErr != nil {
			require.EqualError(t, err, wantErr.Error(), "round %d", round)
			continue
		}
		require.NoError(t, err, "round %d", round)
		require.Equal(t, want, got, "round %d", round)
	}
}

package scaling

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling/hpa"
)

// TestRecommendLeavesStateAlone checks that the built-in strategies the
// engine hands the State by pointer (Engine.decide) change nothing of
// it, deeply: a group without pods and with pods, with a history, with a
// metric that failed; and that recommend answers as Recommend.
func TestRecommendLeavesStateAlone(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	cpu := hpa.MetricSpec{Type: hpa.SourceResource, Resource: &hpa.ResourceMetricSource{Name: hpa.ResourceCPU,
		Target: hpa.MetricTarget{Type: hpa.TargetUtilization, AverageUtilization: 60}}}
	h, err := NewHPA(HPAConfig{Metrics: []hpa.MetricSpec{cpu}}, "hpa")
	require.NoError(t, err)
	tv, err := NewTargetValue(TargetValueConfig{Metric: provider.MetricCPU, Target: new(0.6)})
	require.NoError(t, err)
	states := map[string]func() State{
		"group": func() State {
			return State{Now: now, Target: Target{ID: "web", Resource: provider.Resource{ID: "web", Kind: provider.KindGroup, Tags: map[string]string{"a": "b"}},
				Capacity: provider.Capacity{CapacitySpec: provider.CapacitySpec{Min: 1, Max: 20, Desired: 5}, Current: 6, Ready: 4}, Min: 1, Max: 20},
				Metrics: []provider.Series{{ResourceID: "web", Metric: provider.MetricCPU, Start: now.Add(-5 * time.Minute), Step: time.Minute, Values: []float64{0.5, 0.7, 0.9, 0.95, 0.97}}},
				History: History{Recommendations: []RecommendationRecord{{At: now.Add(-time.Minute), Strategy: "hpa", Current: 5, Desired: 6, Proposal: 6, First: true}},
					Changes: []Change{{At: now.Add(-2 * time.Minute), PlanID: "p", Step: 1, Strategy: "hpa", From: provider.CapacitySpec{Min: 1, Max: 20, Desired: 4}, To: provider.CapacitySpec{Min: 1, Max: 20, Desired: 5}}}}}
		},
		"pods": func() State {
			st := State{Now: now, Target: Target{ID: "web", Resource: provider.Resource{ID: "web", Kind: provider.KindGroup},
				Capacity: provider.Capacity{CapacitySpec: provider.CapacitySpec{Min: 1, Max: 20, Desired: 3}, Current: 3, Ready: 3}, Min: 1, Max: 20},
				Pods: &PodObservation{StatusReplicas: 3, Metrics: []hpa.MetricValues{{}}}}
			for _, name := range []string{"a", "b", "c"} {
				st.Pods.Pods = append(st.Pods.Pods, hpa.Pod{Name: name, Phase: hpa.PhaseRunning, Ready: hpa.ConditionTrue, StartTime: now.Add(-time.Hour),
					ReadyTransition: now.Add(-time.Hour), Containers: []hpa.Container{{Name: "app", Requests: hpa.ResourceList{hpa.ResourceCPU: 500}}}})
				st.Pods.Metrics[0].Samples = append(st.Pods.Metrics[0].Samples, hpa.Sample{Pod: name, Value: 450, Timestamp: now, Window: time.Minute})
			}
			return st
		},
		"failed metric": func() State {
			return State{Now: now, Target: Target{ID: "web", Resource: provider.Resource{ID: "web", Kind: provider.KindGroup},
				Capacity: provider.Capacity{CapacitySpec: provider.CapacitySpec{Min: 1, Max: 20, Desired: 2}, Current: 2, Ready: 2}, Min: 1, Max: 20},
				MetricErrors: map[provider.Metric]error{provider.MetricCPU: errors.New("throttled")}}
		},
	}
	for name, state := range states {
		for _, s := range []interface {
			Strategy
			recommend(ctx context.Context, st *State, bs *decideScratch) (Recommendation, error)
		}{h, tv} {
			// With the strategy's own working space and inputs, with a
			// batch's, and with a batch's inputs arena.
			for _, bs := range []*decideScratch{nil, {}, {inputs: &inputArena{}}} {
				st := state()
				got, gerr := s.recommend(t.Context(), &st, bs)
				assert.Equal(t, state(), st, "%s: %T changed the State", name, s)
				want, werr := s.Recommend(t.Context(), state())
				assert.Equal(t, werr, gerr, name)
				assert.Equal(t, fmt.Sprintf("%+v", want), fmt.Sprintf("%+v", got), "%s: %T (printed: a failed input is NaN)", name, s)
				if bs != nil {
					bs.release() // the HPA's working space back to its pool, as a batch's end does
				}
			}
		}
	}
}

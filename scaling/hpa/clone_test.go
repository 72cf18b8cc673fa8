package hpa_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/idlescale/idlescale/scaling/hpa"
)

// MetricSpec.Clone shares neither the source nor its metric selector
// with the original, for every source type: changing the original's
// target and selector afterwards leaves the clone as it was built.
func TestMetricSpecClone(t *testing.T) {
	t.Parallel()
	target := func() hpa.MetricTarget { return hpa.MetricTarget{Type: hpa.TargetAverageValue, AverageValue: 10} }
	metric := func() hpa.MetricIdentifier {
		return hpa.MetricIdentifier{Name: "queue", Selector: map[string]string{"q": "jobs"}}
	}
	tests := []struct {
		name   string
		give   func() hpa.MetricSpec
		change func(m hpa.MetricSpec) // of the original, after Clone
	}{
		{"resource", func() hpa.MetricSpec {
			return hpa.MetricSpec{Type: hpa.SourceResource, Resource: &hpa.ResourceMetricSource{Name: hpa.ResourceCPU, Target: target()}}
		}, func(m hpa.MetricSpec) { m.Resource.Target.AverageValue = 99 }},
		{"container resource", func() hpa.MetricSpec {
			return hpa.MetricSpec{Type: hpa.SourceContainerResource, ContainerResource: &hpa.ContainerResourceMetricSource{
				Name: hpa.ResourceCPU, Container: "app", Target: target()}}
		}, func(m hpa.MetricSpec) {
			m.ContainerResource.Container, m.ContainerResource.Target.AverageValue = "sidecar", 99
		}},
		{"pods", func() hpa.MetricSpec {
			return hpa.MetricSpec{Type: hpa.SourcePods, Pods: &hpa.PodsMetricSource{Metric: metric(), Target: target()}}
		}, func(m hpa.MetricSpec) { m.Pods.Target.AverageValue, m.Pods.Metric.Selector["q"] = 99, "other" }},
		{"object", func() hpa.MetricSpec {
			return hpa.MetricSpec{Type: hpa.SourceObject, Object: &hpa.ObjectMetricSource{
				DescribedObject: hpa.ObjectReference{Kind: "Ingress", Name: "web"}, Metric: metric(), Target: target()}}
		}, func(m hpa.MetricSpec) { m.Object.DescribedObject.Name, m.Object.Metric.Selector["q"] = "api", "other" }},
		{"external", func() hpa.MetricSpec {
			return hpa.MetricSpec{Type: hpa.SourceExternal, External: &hpa.ExternalMetricSource{Metric: metric(), Target: target()}}
		}, func(m hpa.MetricSpec) { m.External.Target.AverageValue, m.External.Metric.Selector["q"] = 99, "other" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := tt.give()
			c := m.Clone()
			tt.change(m)
			assert.Equal(t, tt.give(), c, "the clone is as the original was")
			assert.NotEqual(t, tt.give(), m, "the change reached the original")
		})
	}
}

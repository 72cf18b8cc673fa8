package hpa_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/idlescale/idlescale/scaling/hpa"
)

// MetricSpec.Clone shares neither the source nor its metric selector
// with the original: changing either afterwards leaves the clone as it
// was.
func TestMetricSpecClone(t *testing.T) {
	t.Parallel()
	pods := hpa.MetricSpec{Type: hpa.SourcePods, Pods: &hpa.PodsMetricSource{
		Metric: hpa.MetricIdentifier{Name: "queue", Selector: map[string]string{"q": "jobs"}},
		Target: hpa.MetricTarget{Type: hpa.TargetAverageValue, AverageValue: 10},
	}}
	c := pods.Clone()
	pods.Pods.Target.AverageValue = 99
	pods.Pods.Metric.Selector["q"] = "other"
	assert.InDelta(t, 10, c.Pods.Target.AverageValue, 0)
	assert.Equal(t, map[string]string{"q": "jobs"}, c.Pods.Metric.Selector)

	cpu := hpa.DefaultMetric()
	c = cpu.Clone()
	cpu.Resource.Target.AverageUtilization = 1
	assert.Equal(t, hpa.DefaultMetric(), c)
}

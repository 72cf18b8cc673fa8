package hpa_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling/hpa"
)

// perPodExternal is an external metric named name with an average-value
// target of 10 per replica: at 4 replicas, a total of 50 proposes
// ⌈50/10⌉ = 5, 30 proposes 3, and 40 is on target (4).
func perPodExternal(name string) hpa.MetricSpec {
	return hpa.MetricSpec{Type: hpa.SourceExternal, External: &hpa.ExternalMetricSource{
		Metric: hpa.MetricIdentifier{Name: name}, Target: hpa.MetricTarget{Type: hpa.TargetAverageValue, AverageValue: 10}}}
}

// twoMetrics returns a calculator over the external metrics a and b
// (within [minR, maxR], with behavior b when not nil) and an input at
// replicas whose metrics total va and vb (milli-units; a negative total
// is an unreadable metric).
func twoMetrics(t *testing.T, minR, maxR, replicas int32, behavior *hpa.Behavior, va, vb int64) (*hpa.Calculator, hpa.Input) {
	t.Helper()
	calc, err := hpa.NewCalculator(testConfig, hpa.Spec{MinReplicas: i32(minR), MaxReplicas: maxR, Behavior: behavior,
		Metrics: []hpa.MetricSpec{perPodExternal("a"), perPodExternal("b")}})
	require.NoError(t, err)
	in := hpa.Input{Now: now, SpecReplicas: replicas, StatusReplicas: replicas}
	for _, v := range []int64{va, vb} {
		if v < 0 {
			in.Metrics = append(in.Metrics, unreadable)
			continue
		}
		in.Metrics = append(in.Metrics, hpa.MetricValues{Values: []int64{v}, Timestamp: now})
	}
	return calc, in
}

// TestReplicasCombinesMetrics pins computeReplicasForMetrics' combination:
// the largest proposal wins and names its metric (the first of equal
// ones); a failed metric gives no proposal when the valid ones would scale
// down (at the current count they still count), nor when every metric
// failed, even at zero replicas; invalid input gives none.
func TestReplicasCombinesMetrics(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		replicas   int32
		va, vb     int64
		want       int32
		wantMetric string
		wantErr    error
	}{
		{"the first is larger", 4, 50_000, 30_000, 5, "external metric a", nil},
		{"the second is larger", 4, 30_000, 50_000, 5, "external metric b", nil},
		{"equal: the first", 4, 50_000, 50_000, 5, "external metric a", nil},
		{"one failed, the other at the current count", 4, -1, 40_000, 4, "external metric b", hpa.ErrInvalidMetrics},
		{"one failed, the other scales down", 4, -1, 30_000, -1, "", hpa.ErrInvalidMetrics},
		{"one failed, the other scales up", 4, 50_000, -1, 5, "external metric a", hpa.ErrInvalidMetrics},
		{"both failed at zero replicas", 0, -1, -1, -1, "", hpa.ErrInvalidMetrics},
		{"invalid input", -1, 40_000, 40_000, -1, "", provider.ErrInvalid},
	} {
		calc, in := twoMetrics(t, 1, 100, tc.replicas, nil, tc.va, tc.vb)
		p, err := calc.Replicas(in)
		if tc.wantErr == nil {
			require.NoError(t, err, tc.name)
		} else {
			require.ErrorIs(t, err, tc.wantErr, tc.name)
		}
		assert.Equal(t, tc.want, p.Replicas, tc.name)
		assert.Equal(t, tc.wantMetric, p.Metric, tc.name)
	}
}

// TestDecideReasonsAndBounds pins a decision's reason (the metric above
// target on a scale up, "All metrics below target" on a scale down, none
// without a change), a target exactly at its maximum decided on its
// metrics, and the proposal -1 of a decision that computed none.
func TestDecideReasonsAndBounds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		maxR        int32
		va          int64
		wantRescale bool
		want        int32
		wantReason  string
	}{
		{"up", 100, 50_000, true, 5, "external metric a above target"},
		{"down", 100, 30_000, true, 3, hpa.RescaleBelow},
		{"no change", 100, 40_000, false, 4, ""},
		{"no change at the maximum", 4, 40_000, false, 4, ""},
	} {
		noWindow := &hpa.Behavior{ScaleDown: &hpa.ScalingRules{StabilizationWindow: dur(0)}}
		calc, in := twoMetrics(t, 1, tc.maxR, 4, noWindow, tc.va, 0)
		d, err := calc.Decide(in, hpa.History{})
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.wantRescale, d.Rescale, tc.name)
		assert.Equal(t, tc.want, d.Replicas, tc.name)
		assert.Equal(t, tc.wantReason, d.Reason, tc.name)
	}

	calc, in := twoMetrics(t, 1, 10, 0, nil, 50_000, 0)
	d, err := calc.Decide(in, hpa.History{})
	require.NoError(t, err)
	assert.Equal(t, hpa.ReasonScalingDisabled, d.ScalingActive, "zero replicas not scaled to zero by the autoscaler")
	assert.Equal(t, int32(-1), d.Proposal)
	assert.False(t, d.Rescale)
}

// TestDecideFromZeroToTheMinimum: an autoscaler that scaled its target to
// zero scales it up from zero on an external metric; a proposal below
// the minimum (which the normalization leaves at zero when it does not
// change the count) is raised to it, "below Spec.MinReplicas", and one
// above it is kept.
func TestDecideFromZeroToTheMinimum(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		va         int64
		want       int32
		wantReason string
	}{
		{"nothing to do", 0, 2, hpa.RescaleBelowMin},
		{"above the minimum", 30_000, 3, "external metric a above target"},
	} {
		calc, in := twoMetrics(t, 2, 10, 0, &hpa.Behavior{}, tc.va, 0)
		d, err := calc.Decide(in, hpa.History{ScaledToZero: true})
		require.NoError(t, err, tc.name)
		assert.True(t, d.Rescale, tc.name)
		assert.Equal(t, tc.want, d.Replicas, tc.name)
		assert.Equal(t, tc.wantReason, d.Reason, tc.name)
	}
}

// TestDecideZeroReplicasScaledToZeroOnCPU: a target at zero replicas that
// this autoscaler scaled to zero, with a minimum above zero, is decided on
// its metrics even without an object or external one (here CPU, which has
// no pods to read: the decision fails on its metric, it is not "scaling
// disabled").
func TestDecideZeroReplicasScaledToZeroOnCPU(t *testing.T) {
	t.Parallel()
	spec, in := controller{min: 2, max: 10, cpuTarget: 50}.specAndInput()
	calc, err := hpa.NewCalculator(testConfig, spec)
	require.NoError(t, err)
	d, err := calc.Decide(in, hpa.History{ScaledToZero: true})
	require.ErrorIs(t, err, hpa.ErrInvalidMetrics)
	assert.Equal(t, "FailedGetResourceMetric", d.ScalingActive)
	assert.False(t, d.Rescale)
}

// TestSpecValidateEdges pins the spec's checks at their bounds, as the API
// server's validation draws them: each bound itself is valid, one step
// past it is refused naming the field.
func TestSpecValidateEdges(t *testing.T) {
	t.Parallel()
	cpu := cpuUtilization(50, "")
	ext := func(tt hpa.MetricTarget) hpa.Spec {
		return hpa.Spec{MaxReplicas: 2, Metrics: []hpa.MetricSpec{{Type: hpa.SourceExternal, External: &hpa.ExternalMetricSource{Metric: hpa.MetricIdentifier{Name: "q"}, Target: tt}}}}
	}
	rulesWith := func(r hpa.ScalingRules) hpa.Spec {
		return hpa.Spec{MaxReplicas: 2, Metrics: []hpa.MetricSpec{cpu}, Behavior: &hpa.Behavior{ScaleUp: &r}}
	}
	policy := func(p time.Duration) hpa.Spec {
		return rulesWith(hpa.ScalingRules{Policies: []hpa.ScalingPolicy{{Type: hpa.PolicyPods, Value: 1, Period: p}}})
	}
	largest := float64(math.MaxInt64) / 1000 // its milli-value is 2^63, one past the int64 range
	for _, tc := range []struct {
		name  string
		spec  hpa.Spec
		field string // "" when valid
	}{
		{"max 1", hpa.Spec{MaxReplicas: 1, Metrics: []hpa.MetricSpec{cpu}}, ""},
		{"min equal to max", hpa.Spec{MinReplicas: i32(3), MaxReplicas: 3, Metrics: []hpa.MetricSpec{cpu}}, ""},
		{"utilization 1 %", hpa.Spec{MaxReplicas: 2, Metrics: []hpa.MetricSpec{cpuUtilization(1, "")}}, ""},
		{"value 0", ext(hpa.MetricTarget{Type: hpa.TargetValue}), "metrics[0].external.target.value"},
		{"value too large", ext(hpa.MetricTarget{Type: hpa.TargetValue, Value: largest}), "metrics[0].external.target.value"},
		{"value 1e17", ext(hpa.MetricTarget{Type: hpa.TargetValue, Value: 1e17}), "metrics[0].external.target.value"},
		{"value within range", ext(hpa.MetricTarget{Type: hpa.TargetValue, Value: 1e15}), ""},
		{"average value 0", ext(hpa.MetricTarget{Type: hpa.TargetAverageValue}), "metrics[0].external.target.average_value"},
		{"average value NaN", ext(hpa.MetricTarget{Type: hpa.TargetAverageValue, AverageValue: math.NaN()}), "metrics[0].external.target.average_value"},
		{"object without a described object", hpa.Spec{MaxReplicas: 2, Metrics: []hpa.MetricSpec{{Type: hpa.SourceObject, Object: &hpa.ObjectMetricSource{
			Metric: hpa.MetricIdentifier{Name: "q"}, Target: hpa.MetricTarget{Type: hpa.TargetValue, Value: 1}}}}}, "metrics[0].object.described_object"},
		{"an object", hpa.Spec{MaxReplicas: 2, Metrics: []hpa.MetricSpec{objectMetric(hpa.TargetValue, 1000)}}, ""},
		{"stabilization window of an hour", rulesWith(hpa.ScalingRules{StabilizationWindow: dur(hpa.MaxStabilizationWindow)}), ""},
		{"tolerance 0", rulesWith(hpa.ScalingRules{Tolerance: f64(0)}), ""},
		{"policy period of a second", policy(time.Second), ""},
		{"policy period of the maximum", policy(hpa.MaxPolicyPeriod), ""},
		{"policy period past the maximum", policy(hpa.MaxPolicyPeriod + time.Second), "behavior.scale_up.policies[0].period"},
	} {
		_, err := hpa.NewCalculator(hpa.Config{}, tc.spec)
		if tc.field == "" {
			require.NoError(t, err, tc.name)
			continue
		}
		var inv *providerInvalid
		require.ErrorAs(t, err, &inv, tc.name)
		assert.Equal(t, tc.field, inv.Field, tc.name)
	}
	// A select policy that is set survives the defaults.
	calc, err := hpa.NewCalculator(hpa.Config{}, rulesWith(hpa.ScalingRules{SelectPolicy: hpa.SelectMin}))
	require.NoError(t, err)
	assert.Equal(t, hpa.SelectMin, calc.Spec().Behavior.ScaleUp.SelectPolicy)
	calc, err = hpa.NewCalculator(hpa.Config{}, rulesWith(hpa.ScalingRules{}))
	require.NoError(t, err)
	assert.Equal(t, hpa.SelectMax, calc.Spec().Behavior.ScaleUp.SelectPolicy, "the default")
}

// TestMilli pins the milli-value of a quantity: rounded up as
// resource.Quantity.MilliValue, except within 1e-9 (relative) of a whole
// milli-unit, which a decimal fraction in a policy file may miss by a
// float error.
func TestMilli(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		give float64
		want int64
	}{
		{0.1, 100}, {0.3, 300}, {0.0005, 1}, {0.0001, 1}, {1.0015, 1002}, {2.0000000000001, 2000}, {2.000001, 2001}, {0, 0}, {-0.5, -500},
	} {
		assert.Equal(t, tc.want, hpa.Milli(tc.give), "%v", tc.give)
	}
}

// TestMetricSpecNames pins the metric names this package reports, per
// source and target type, in the controller's words (its quirk included:
// an object metric with an average-value target is named as an external
// one); the controller appends an external metric's selector, "(%+v)",
// which these names leave out.
func TestMetricSpecNames(t *testing.T) {
	t.Parallel()
	avg := hpa.MetricTarget{Type: hpa.TargetAverageValue, AverageValue: 1}
	util := hpa.MetricTarget{Type: hpa.TargetUtilization, AverageUtilization: 50}
	for _, tc := range []struct {
		spec hpa.MetricSpec
		want string
	}{
		{hpa.MetricSpec{Type: hpa.SourceResource, Resource: &hpa.ResourceMetricSource{Name: hpa.ResourceCPU, Target: util}}, "cpu resource utilization (percentage of request)"},
		{hpa.MetricSpec{Type: hpa.SourceResource, Resource: &hpa.ResourceMetricSource{Name: hpa.ResourceCPU, Target: avg}}, "cpu resource"},
		{hpa.MetricSpec{Type: hpa.SourceContainerResource, ContainerResource: &hpa.ContainerResourceMetricSource{Name: hpa.ResourceCPU, Container: "c", Target: util}}, "cpu container resource utilization (percentage of request)"},
		{hpa.MetricSpec{Type: hpa.SourceContainerResource, ContainerResource: &hpa.ContainerResourceMetricSource{Name: hpa.ResourceCPU, Container: "c", Target: avg}}, "cpu resource"},
		{objectMetric(hpa.TargetValue, 1000), "Deployment metric qps"},
		{objectMetric(hpa.TargetAverageValue, 1000), "external metric qps"},
		{externalMetric(hpa.TargetValue, 1000), "external metric qps"},
		{podsMetric(1000), "pods metric qps"},
	} {
		assert.Equal(t, tc.want, tc.spec.Name())
	}
}

// TestMilliOfATinyTarget pins the milli-value of a positive quantity
// within 1e-9 of 0: 1, as Quantity rounds it up, not 0. (A target of
// 1e-13 passed validation as positive and was 0 milli-units, a division
// by zero: two pods on target proposed MaxInt32 replicas.)
func TestMilliOfATinyTarget(t *testing.T) {
	t.Parallel()
	assert.Equal(t, int64(1), hpa.Milli(1e-13))
	assert.Equal(t, int64(1), hpa.Milli(math.SmallestNonzeroFloat64))
	spec := podsMetric(1)
	spec.Pods.Target.AverageValue = 1e-13
	calc, err := hpa.NewCalculator(hpa.Config{}, hpa.Spec{MaxReplicas: 10, Metrics: []hpa.MetricSpec{spec}})
	require.NoError(t, err)
	var pods []hpa.Pod
	var samples []hpa.Sample
	for _, name := range []string{"a", "b"} {
		pods = append(pods, hpa.Pod{Name: name, Phase: running, Ready: hpa.ConditionTrue})
		samples = append(samples, hpa.Sample{Pod: name, Value: 1, Timestamp: now})
	}
	p, err := calc.Replicas(hpa.Input{Now: now, SpecReplicas: 2, StatusReplicas: 2, Pods: pods, Metrics: []hpa.MetricValues{{Samples: samples}}})
	require.NoError(t, err)
	assert.Equal(t, int32(2), p.Replicas, "1 milli-unit each, on a target of 1")
}

// TestMilliSaturates pins the milli-value of a value beyond the int64
// range: its bound, with its sign. (Go's conversion is platform-defined: on
// amd64 a metric value of 1e19 was math.MinInt64, so an external metric far
// above its value target proposed no replica at all, from zero.)
func TestMilliSaturates(t *testing.T) {
	t.Parallel()
	assert.Equal(t, int64(math.MaxInt64), hpa.Milli(1e19))
	assert.Equal(t, int64(math.MaxInt64), hpa.Milli(math.Inf(1)))
	assert.Equal(t, int64(math.MinInt64), hpa.Milli(-1e19))
	calc, err := hpa.NewCalculator(hpa.Config{}, hpa.Spec{MaxReplicas: 10, Metrics: []hpa.MetricSpec{externalMetric(hpa.TargetValue, 1000)}})
	require.NoError(t, err)
	res, err := calc.Metric(0, hpa.MetricInput{Now: now, Tolerances: calc.Tolerances(),
		Values: hpa.MetricValues{Values: []int64{hpa.Milli(1e19)}}})
	require.NoError(t, err)
	assert.Equal(t, int32(math.MaxInt32), res.Replicas)
}

// TestMetricSpecNameWithoutSource pins that Name does not panic on a
// metric whose source is not set (Validate refuses it, but Name is
// public): it is named by its type. (It dereferenced the nil source.)
func TestMetricSpecNameWithoutSource(t *testing.T) {
	t.Parallel()
	for _, typ := range []hpa.SourceType{hpa.SourceResource, hpa.SourceContainerResource, hpa.SourcePods, hpa.SourceObject, hpa.SourceExternal} {
		m := hpa.MetricSpec{Type: typ, Pods: &hpa.PodsMetricSource{Metric: hpa.MetricIdentifier{Name: "qps"}}}
		if typ == hpa.SourcePods {
			m = hpa.MetricSpec{Type: typ, Resource: &hpa.ResourceMetricSource{Name: hpa.ResourceCPU}}
		}
		assert.NotPanics(t, func() { assert.Equal(t, string(typ), m.Name()) }, typ)
	}
}

// TestMilliAtTheInt64Bounds pins Milli where it starts to saturate: a
// value whose milli-value is exactly 2⁶³ (one past math.MaxInt64, which
// int64() would turn into math.MinInt64 on amd64) is math.MaxInt64, the
// float just below it converts exactly, and −2⁶³ is math.MinInt64.
func TestMilliAtTheInt64Bounds(t *testing.T) {
	t.Parallel()
	edge := math.Ldexp(1, 63) / 1000
	require.InDelta(t, math.Ldexp(1, 63), edge*1000, 0, "the fixture: exactly 2⁶³ milli-units")
	assert.Equal(t, int64(math.MaxInt64), hpa.Milli(edge))
	below := math.Nextafter(edge, 0)
	assert.Equal(t, int64(9223372036854773760), hpa.Milli(below))
	assert.Equal(t, int64(math.MinInt64), hpa.Milli(-edge))
}

// TestDecideFromZeroToTheMinimumLegacy: without a Behavior, the legacy
// normalization itself raises a proposal of zero, from zero, to the
// minimum (TooFewReplicas), so the decision rescales to it with the
// controller's reason for an unchanged proposal: none (with a Behavior
// the normalization leaves zero and Decide raises it, "below
// Spec.MinReplicas": TestDecideFromZeroToTheMinimum). A proposal above
// the minimum keeps its metric's reason.
func TestDecideFromZeroToTheMinimumLegacy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		va          int64
		want        int32
		wantReason  string
		wantLimited string
	}{
		{"nothing to do", 0, 2, "", hpa.ReasonTooFewReplicas},
		{"above the minimum", 30_000, 3, "external metric a above target", hpa.ReasonDesiredWithinRange},
	} {
		calc, in := twoMetrics(t, 2, 10, 0, nil, tc.va, 0)
		d, err := calc.Decide(in, hpa.History{ScaledToZero: true})
		require.NoError(t, err, tc.name)
		assert.True(t, d.Rescale, tc.name)
		assert.Equal(t, tc.want, d.Replicas, tc.name)
		assert.Equal(t, tc.wantReason, d.Reason, tc.name)
		assert.Equal(t, tc.wantLimited, d.ScalingLimited, tc.name)
	}
}

package hpa_test

import (
	"testing"

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

package hpa_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling/hpa"
)

// Config.Validate refuses each negative field by name and accepts zeros
// (the defaults).
func TestConfigValidateFields(t *testing.T) {
	t.Parallel()
	require.NoError(t, hpa.Config{}.Validate())
	for field, c := range map[string]hpa.Config{
		"tolerance":                      {Tolerance: -0.1},
		"cpu_initialization_period":      {CPUInitializationPeriod: -time.Second},
		"initial_readiness_delay":        {InitialReadinessDelay: -time.Second},
		"downscale_stabilization_window": {DownscaleStabilizationWindow: -time.Second},
	} {
		err := c.Validate()
		require.ErrorIs(t, err, provider.ErrInvalid, field)
		var inv *provider.InvalidError
		require.ErrorAs(t, err, &inv, field)
		assert.Equal(t, field, inv.Field)
	}
}

// Tolerances: Config.Tolerance (0.1 by default) in both directions, each
// replaced by its behavior rules' own; Within includes both ends of
// [1 − ScaleDown, 1 + ScaleUp] (upstream: |1 − ratio| ≤ tolerance means no
// change).
func TestTolerancesPerDirection(t *testing.T) {
	t.Parallel()
	down, up := 0.25, 0.5
	c := hpa.Config{}
	assert.Equal(t, hpa.Tolerances{ScaleDown: 0.1, ScaleUp: 0.1}, c.Tolerances(nil))
	assert.Equal(t, hpa.Tolerances{ScaleDown: 0.1, ScaleUp: 0.1}, c.Tolerances(&hpa.Behavior{ScaleUp: &hpa.ScalingRules{}, ScaleDown: &hpa.ScalingRules{}}))
	assert.Equal(t, hpa.Tolerances{ScaleDown: 0.25, ScaleUp: 0.1}, c.Tolerances(&hpa.Behavior{ScaleDown: &hpa.ScalingRules{Tolerance: &down}}))
	assert.Equal(t, hpa.Tolerances{ScaleDown: 0.1, ScaleUp: 0.5}, c.Tolerances(&hpa.Behavior{ScaleUp: &hpa.ScalingRules{Tolerance: &up}}))
	assert.Equal(t, hpa.Tolerances{ScaleDown: 0.2, ScaleUp: 0.2}, hpa.Config{Tolerance: 0.2}.Tolerances(nil))
	// No tolerance, as Config.Tolerance's doc says to ask for it (0 there
	// means the default).
	zero := 0.0
	assert.Equal(t, hpa.Tolerances{}, c.Tolerances(&hpa.Behavior{ScaleUp: &hpa.ScalingRules{Tolerance: &zero}, ScaleDown: &hpa.ScalingRules{Tolerance: &zero}}))

	tol := hpa.Tolerances{ScaleDown: down, ScaleUp: up}
	const tiny = 1.0 / 1024
	assert.True(t, tol.Within(0.75), "1 − ScaleDown")
	assert.True(t, tol.Within(1.5), "1 + ScaleUp")
	assert.True(t, tol.Within(1))
	assert.False(t, tol.Within(0.75-tiny))
	assert.False(t, tol.Within(1.5+tiny))
}

// SetBounds changes the spec's bounds when they are valid (and the same
// bounds change nothing), and refuses invalid ones leaving the spec as it
// was.
func TestCalculatorSetBounds(t *testing.T) {
	t.Parallel()
	calc, err := hpa.NewCalculator(hpa.Config{}, hpa.Spec{MinReplicas: i32(1), MaxReplicas: 10, Metrics: []hpa.MetricSpec{cpuUtilization(50, "")}})
	require.NoError(t, err)
	require.NoError(t, calc.SetBounds(1, 10), "the same bounds")
	require.NoError(t, calc.SetBounds(2, 10))
	assert.Equal(t, int32(2), *calc.Spec().MinReplicas)
	require.NoError(t, calc.SetBounds(2, 20))
	assert.Equal(t, int32(20), calc.Spec().MaxReplicas)
	err = calc.SetBounds(5, 4)
	require.ErrorIs(t, err, provider.ErrInvalid)
	assert.Contains(t, err.Error(), "hpa: bounds: ")
	assert.Equal(t, int32(2), *calc.Spec().MinReplicas, "unchanged")
	assert.Equal(t, int32(20), calc.Spec().MaxReplicas, "unchanged")
	spec := calc.Spec()
	require.NoError(t, calc.SetBounds(3, 20))
	assert.Equal(t, int32(2), *spec.MinReplicas, "a Spec returned before keeps its bounds")
}

// A strategy shares one Calculator across targets and sets the bounds
// before every decision: the same bounds cost no allocation (the parameter
// whose address a change takes used to escape on every call: 10,000
// allocations in a pass of BenchmarkEvaluateFleet). Not parallel, as
// AllocsPerRun requires.
func TestCalculatorSetSameBoundsAllocatesNothing(t *testing.T) {
	calc, err := hpa.NewCalculator(hpa.Config{}, hpa.Spec{MinReplicas: i32(1), MaxReplicas: 10, Metrics: []hpa.MetricSpec{cpuUtilization(50, "")}})
	require.NoError(t, err)
	assert.Zero(t, testing.AllocsPerRun(100, func() { _ = calc.SetBounds(1, 10) }), "allocations setting the same bounds")
}

// Metric refuses an index outside the spec's metrics and negative replica
// counts (0 is a group scaled to zero), and reports the first sample's time
// for per-pod samples, the value's own time otherwise.
func TestCalculatorMetricInput(t *testing.T) {
	t.Parallel()
	calc, err := hpa.NewCalculator(hpa.Config{}, hpa.Spec{MaxReplicas: 10, Metrics: []hpa.MetricSpec{externalMetric(hpa.TargetValue, 1000)}})
	require.NoError(t, err)
	at := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	var pods []hpa.Pod
	for _, name := range []string{"a", "b"} {
		pods = append(pods, hpa.Pod{Name: name, Phase: hpa.PhaseRunning, Ready: hpa.ConditionTrue, StartTime: at.Add(-time.Hour), ReadyTransition: at.Add(-time.Hour)})
	}
	in := hpa.MetricInput{Now: at, SpecReplicas: 2, StatusReplicas: 2, Tolerances: calc.Tolerances(), Pods: pods, Values: hpa.MetricValues{Values: []int64{3000}, Timestamp: at}}
	for _, i := range []int{-1, 1} {
		_, err := calc.Metric(i, in)
		require.ErrorIs(t, err, provider.ErrInvalid, "metric %d", i)
	}
	res, err := calc.Metric(0, in)
	require.NoError(t, err)
	assert.Equal(t, int32(6), res.Replicas, "2 × 3000/1000")
	assert.True(t, res.Timestamp.Equal(at))
	zero := in
	zero.SpecReplicas, zero.StatusReplicas = 0, 0
	_, err = calc.Metric(0, zero)
	require.NoError(t, err, "a group at zero")
	for _, bad := range []hpa.MetricInput{{SpecReplicas: -1}, {StatusReplicas: -1}} {
		bad.Values, bad.Pods = in.Values, pods
		_, err = calc.Metric(0, bad)
		require.ErrorIs(t, err, provider.ErrInvalid)
	}
}

// A metric that cannot be read fails with the upstream reason of its
// source; SetBounds works on a spec without a minimum.
func TestCalculatorFailureReasons(t *testing.T) {
	t.Parallel()
	down := errors.New("metrics server down")
	for _, tt := range []struct {
		spec   hpa.MetricSpec
		reason string
	}{
		{cpuUtilization(50, ""), "FailedGetResourceMetric"},
		{cpuUtilization(50, "app"), "FailedGetContainerResourceMetric"},
		{externalMetric(hpa.TargetValue, 1000), "FailedGetExternalMetric"},
	} {
		calc, err := hpa.NewCalculator(hpa.Config{}, hpa.Spec{MaxReplicas: 10, Metrics: []hpa.MetricSpec{tt.spec}})
		require.NoError(t, err)
		res, err := calc.Metric(0, hpa.MetricInput{SpecReplicas: 1, StatusReplicas: 1, Values: hpa.MetricValues{Err: down}})
		require.ErrorIs(t, err, down)
		assert.Equal(t, tt.reason, res.Reason)
		require.NoError(t, calc.SetBounds(2, 5), "a spec without a minimum")
		assert.Equal(t, int32(2), *calc.Spec().MinReplicas)
	}
}

// TestPodsMetricSecondPass pins the second pass of a pods metric (upstream
// calcPlainMetricReplicas) at its edges, beyond upstream's own cases:
// missing pods count at the target on a scale down and at 0 on a scale
// up, not at all when the ready ones are exactly on target; pending pods
// count at 0 on a scale up; a second pass that crosses the target, or
// would move the count the other way, keeps the current count.
func TestPodsMetricSecondPass(t *testing.T) {
	t.Parallel()
	runMetricRows(t, []metricRow{
		{upstream: "idlescale: a missing pod at the target on a scale down", give: scenario{replicas: 4, custom: []int64{5000, 5000, 5000}},
			spec: podsMetric(15000), wantReplicas: 2, wantUsage: 5000}, // (15000 + 15000)/4 = 7500: ⌈0.5 × 4⌉
		{upstream: "idlescale: a missing pod at 0 on a scale up", give: scenario{replicas: 4, custom: []int64{30000, 30000, 30000}},
			spec: podsMetric(15000), wantReplicas: 6, wantUsage: 30000}, // 90000/4 = 22500: ⌈1.5 × 4⌉
		{upstream: "idlescale: a missing pod while the others are on target", give: scenario{replicas: 3, custom: []int64{15000, 15000}},
			spec: podsMetric(15000), wantReplicas: 3, wantUsage: 15000},
		{upstream: "idlescale: a pending pod at 0 turns a scale up into none", give: scenario{replicas: 3, phase: []hpa.PodPhase{running, running, pending},
			custom: []int64{16000, 16000}}, spec: podsMetric(15000), wantReplicas: 3, wantUsage: 16000}, // 32000/3 < 15000
		{upstream: "idlescale: a pending pod at 0 on a scale up", give: scenario{replicas: 3, phase: []hpa.PodPhase{running, running, pending},
			custom: []int64{40000, 40000}}, spec: podsMetric(15000), wantReplicas: 6, wantUsage: 40000}, // 80000/3 = 26666: ⌈1.78 × 3⌉
		{upstream: "idlescale: a pending pod while the others are exactly on target", give: scenario{replicas: 3, phase: []hpa.PodPhase{running, running, pending},
			custom: []int64{15000, 15000}}, spec: podsMetric(15000), wantReplicas: 3, wantUsage: 15000},
		{upstream: "idlescale: only the pending pod is added", give: scenario{replicas: 3, phase: []hpa.PodPhase{running, running, pending},
			custom: []int64{30000, 30000}}, spec: podsMetric(15000), wantReplicas: 4, wantUsage: 30000}, // 60000/3 = 20000: ⌈1.33 × 3⌉
		{upstream: "idlescale: a pending pod brings the ratio within tolerance", give: scenario{replicas: 4, phase: []hpa.PodPhase{running, running, running, pending},
			custom: []int64{22000, 22000, 22000}}, spec: podsMetric(15000), wantReplicas: 4, wantUsage: 22000}, // 66000/4 = 16500: 1.1
		{upstream: "idlescale: a scale down that would grow the count", give: scenario{replicas: 2, phase: []hpa.PodPhase{running, running, running, running},
			custom: []int64{3000}}, spec: podsMetric(15000), wantReplicas: 2, wantUsage: 3000}, // 48000/4 = 12000: ⌈0.8 × 4⌉ = 4 > 2
		// pod-2 is not listed: its sample counts in the average, but the
		// count scales the ready pods (the second pass, which would scale
		// every sample, is not taken without unready or missing pods).
		{upstream: "idlescale: a sample of an unlisted pod on a scale up", give: scenario{replicas: 2, custom: []int64{30000, 30000, 30000}},
			spec: podsMetric(15000), wantReplicas: 4, wantUsage: 30000}, // ⌈2.0 × 2⌉, not ⌈2.0 × 3⌉
	})
}

// TestResourceSecondPassEdges pins the resource calculation's second pass
// beyond upstream's rows: unready (pending) pods count at 0 only on a
// scale up, so with the ready pods exactly on target the count stays.
func TestResourceSecondPassEdges(t *testing.T) {
	t.Parallel()
	runResourceRows(t, []resourceRow{
		{upstream: "idlescale: a pending pod while the ready ones are exactly on target", give: scenario{replicas: 3, phase: []hpa.PodPhase{running, running, pending},
			requests: reqs(3, 500), levels: levels(250, 250)}, target: 50, wantReplica: 3, wantUtil: 50, wantRaw: 500}, // not ⌈0.66 × 3⌉ = 2
		{upstream: "idlescale: a pending pod at 0 on a scale up", give: scenario{replicas: 3, phase: []hpa.PodPhase{running, running, pending},
			requests: reqs(3, 500), levels: levels(500, 500)}, target: 50, wantReplica: 4, wantUtil: 100, wantRaw: 1000}, // 2000/3000 = 66 %: ⌈1.32 × 3⌉
	})
}

// An external metric without any series fails with ErrNoMetrics, as the
// controller's metrics client does ("no metrics returned from external
// metrics API"), whatever its target: it is invalid, so the valid metrics
// may not scale down. (It was read as a value of 0, which scaled down, to
// zero with MinReplicas 0.)
func TestExternalMetricWithoutSeries(t *testing.T) {
	t.Parallel()
	for _, typ := range []hpa.TargetType{hpa.TargetValue, hpa.TargetAverageValue} {
		calc, err := hpa.NewCalculator(hpa.Config{}, hpa.Spec{MinReplicas: new(int32(0)), MaxReplicas: 10,
			Metrics: []hpa.MetricSpec{externalMetric(typ, 1000)}})
		require.NoError(t, err)
		res, err := calc.Metric(0, hpa.MetricInput{Now: now, SpecReplicas: 4, StatusReplicas: 4, Tolerances: calc.Tolerances()})
		require.ErrorIs(t, err, hpa.ErrNoMetrics, typ)
		assert.Equal(t, "FailedGetExternalMetric", res.Reason, typ)
		d, err := calc.Decide(hpa.Input{Now: now, SpecReplicas: 4, StatusReplicas: 4, Metrics: []hpa.MetricValues{{}}}, hpa.History{})
		require.ErrorIs(t, err, hpa.ErrNoMetrics, typ)
		assert.False(t, d.Rescale, typ)
		assert.Equal(t, int32(4), d.Replicas, typ)
	}
}

// Metric names the negative replica count and its value: a negative
// StatusReplicas was reported as "replicas" with the SpecReplicas value
// (2 "must be ≥ 0").
func TestCalculatorMetricNegativeReplicas(t *testing.T) {
	t.Parallel()
	calc, err := hpa.NewCalculator(hpa.Config{}, hpa.Spec{MaxReplicas: 10, Metrics: []hpa.MetricSpec{externalMetric(hpa.TargetValue, 1000)}})
	require.NoError(t, err)
	for _, tc := range []struct {
		in    hpa.MetricInput
		field string
	}{
		{hpa.MetricInput{SpecReplicas: -1, StatusReplicas: 2}, "spec_replicas"},
		{hpa.MetricInput{SpecReplicas: 2, StatusReplicas: -1}, "status_replicas"},
	} {
		tc.in.Now, tc.in.Values = now, hpa.MetricValues{Values: []int64{1000}}
		_, err := calc.Metric(0, tc.in)
		var inv *providerInvalid
		require.ErrorAs(t, err, &inv, tc.field)
		assert.Equal(t, tc.field, inv.Field)
		assert.Equal(t, int32(-1), inv.Value, tc.field)
	}
}

// Metric refuses a negative or non-finite tolerance, naming it, instead of
// deciding with it: a NaN tolerance was never within (every ratio moved
// the count), a negative one moved the count on target.
func TestCalculatorMetricTolerances(t *testing.T) {
	t.Parallel()
	calc, err := hpa.NewCalculator(hpa.Config{}, hpa.Spec{MaxReplicas: 10, Metrics: []hpa.MetricSpec{externalMetric(hpa.TargetValue, 1000)}})
	require.NoError(t, err)
	for _, tc := range []struct {
		tol   hpa.Tolerances
		field string
	}{
		{hpa.Tolerances{ScaleDown: math.NaN(), ScaleUp: 0.1}, "tolerances.scale_down"},
		{hpa.Tolerances{ScaleDown: 0.1, ScaleUp: -0.5}, "tolerances.scale_up"},
		{hpa.Tolerances{ScaleDown: 0.1, ScaleUp: math.Inf(1)}, "tolerances.scale_up"},
	} {
		_, err := calc.Metric(0, hpa.MetricInput{Now: now, SpecReplicas: 0, Tolerances: tc.tol, Values: hpa.MetricValues{Values: []int64{1000}}})
		var inv *providerInvalid
		require.ErrorAs(t, err, &inv, tc.field)
		assert.Equal(t, tc.field, inv.Field)
	}
}

// TestCalculatorKeepsItsSpec pins that a Calculator keeps its own copy of
// the spec it validated: the caller changing its spec afterwards (its
// minimum, a metric's source) changes nothing. (The Calculator shared the
// caller's metrics slice, sources and minimum: a target of 0 set after
// NewCalculator divided by zero, past the validation that refuses it.)
func TestCalculatorKeepsItsSpec(t *testing.T) {
	t.Parallel()
	ext := externalMetric(hpa.TargetValue, 1000)
	spec := hpa.Spec{MinReplicas: i32(2), MaxReplicas: 10, Metrics: []hpa.MetricSpec{cpuUtilization(50, ""), ext}}
	calc, err := hpa.NewCalculator(hpa.Config{}, spec)
	require.NoError(t, err)
	*spec.MinReplicas = 0
	spec.Metrics[0].Resource.Target.AverageUtilization = 0
	spec.Metrics[1].External.Target.Value = 0
	spec.Metrics[1].External.Metric.Selector["label"] = "other"
	spec.Metrics[1] = podsMetric(1)
	got := calc.Spec()
	assert.Equal(t, int32(2), got.Min())
	assert.Equal(t, int32(50), got.Metrics[0].Resource.Target.AverageUtilization)
	require.Equal(t, hpa.SourceExternal, got.Metrics[1].Type)
	assert.Equal(t, int64(1000), hpa.Milli(got.Metrics[1].External.Target.Value))
	assert.Equal(t, "value", got.Metrics[1].External.Metric.Selector["label"])
}

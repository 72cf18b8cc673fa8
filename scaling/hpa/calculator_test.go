package hpa_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling/hpa"
)

// resourceRow restates one case of upstream's resource tests
// (TestReplicaCalcResourceScale, TestReplicaCalcResourceTolerance,
// TestReplicaCalcResourceMissingMetrics): GetResourceReplicas with a CPU
// utilization target.
type resourceRow struct {
	upstream    string // the upstream test and case name
	give        scenario
	target      int32
	tolerances  *hpa.Tolerances
	wantReplica int32
	wantUtil    int32
	wantRaw     int64
	wantErr     error
}

func runResourceRows(t *testing.T, rows []resourceRow) {
	t.Helper()
	for _, tt := range rows {
		t.Run(tt.upstream, func(t *testing.T) {
			t.Parallel()
			calc, err := hpa.NewCalculator(testConfig, hpa.Spec{MaxReplicas: 1000, Metrics: []hpa.MetricSpec{cpuUtilization(tt.target, tt.give.container)}})
			require.NoError(t, err)
			tol := defaultTolerances
			if tt.tolerances != nil {
				tol = *tt.tolerances
			}
			got, err := calc.Metric(0, hpa.MetricInput{
				Now: now, SpecReplicas: tt.give.replicas, StatusReplicas: tt.give.replicas, Tolerances: tol,
				Pods: tt.give.pods(), Values: hpa.MetricValues{Samples: tt.give.cpuSamples()},
			})
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.ErrorIs(t, got.Err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantReplica, got.Replicas, "replicas")
			assert.Equal(t, tt.wantUtil, got.Utilization, "utilization")
			assert.Equal(t, tt.wantRaw, got.Usage, "raw average")
		})
	}
}

// TestResourceScale restates every case of upstream
// TestReplicaCalcResourceScale (replica_calculator_test.go, v1.37.2).
// Requests are 1000m per container unless said otherwise; values are the
// sums Kubernetes reports (raw values per pod are two containers' worth).
func TestResourceScale(t *testing.T) {
	t.Parallel()
	runResourceRows(t, []resourceRow{
		{upstream: "scale up", give: scenario{replicas: 3, requests: reqs(3, 1000), levels: levels(300, 500, 700)},
			target: 30, wantReplica: 5, wantUtil: 50, wantRaw: 2 * 500},
		{upstream: "scale up: container metric", give: scenario{replicas: 3, container: "container2", requests: reqs(3, 1000),
			levels: [][]int64{{1000, 300}, {1000, 500}, {1000, 700}}},
			target: 30, wantReplica: 5, wantUtil: 50, wantRaw: 500},
		{upstream: "scale up: unready pod scales less", give: scenario{replicas: 3, ready: statuses(F, T, T), requests: reqs(3, 1000), levels: levels(300, 500, 700)},
			target: 30, wantReplica: 4, wantUtil: 60, wantRaw: 2 * 600},
		{upstream: "scale up: hot-CPU container scales less", give: scenario{replicas: 3, start: []timeT{hot, cool, cool}, container: "container2",
			requests: reqs(3, 1000), levels: [][]int64{{0, 300}, {0, 500}, {0, 700}}},
			target: 30, wantReplica: 4, wantUtil: 60, wantRaw: 600},
		{upstream: "scale up: hot-CPU pod scales less", give: scenario{replicas: 3, start: []timeT{hot, cool, cool}, requests: reqs(3, 1000), levels: levels(300, 500, 700)},
			target: 30, wantReplica: 4, wantUtil: 60, wantRaw: 2 * 600},
		{upstream: "no scale: unready pods ignored", give: scenario{replicas: 3, ready: statuses(T, F, F), requests: reqs(3, 1000), levels: levels(400, 500, 700)},
			target: 30, wantReplica: 3, wantUtil: 40, wantRaw: 2 * 400},
		{upstream: "no scale: hot-CPU pods ignored", give: scenario{replicas: 3, ready: statuses(T, F, F), start: []timeT{cool, hot, hot},
			requests: reqs(3, 1000), levels: levels(400, 500, 700)},
			target: 30, wantReplica: 3, wantUtil: 40, wantRaw: 2 * 400},
		{upstream: "scale up: failed pods ignored", give: scenario{replicas: 2, ready: statuses(T, T, F, F), phase: []hpa.PodPhase{running, running, failed, failed},
			requests: reqs(4, 1000), levels: levels(500, 700)},
			target: 30, wantReplica: 4, wantUtil: 60, wantRaw: 2 * 600},
		{upstream: "scale up: failed pods ignored with missing container metric", give: scenario{replicas: 2, ready: statuses(T, T, F, F),
			phase: []hpa.PodPhase{running, running, failed, failed}, container: "container2", requests: reqs(4, 1000),
			levels: [][]int64{{1000, 500}, {9000, 700}, {1000}, {9000}}},
			target: 30, wantReplica: 4, wantUtil: 60, wantRaw: 600},
		{upstream: "scale up: container metrics with failed pods ignored", give: scenario{replicas: 2, ready: statuses(T, T, F, F),
			phase: []hpa.PodPhase{running, running, failed, failed}, container: "container2", requests: reqs(4, 1000),
			levels: [][]int64{{1000, 500}, {9000, 700}}},
			target: 30, wantReplica: 4, wantUtil: 60, wantRaw: 600},
		{upstream: "scale up: pods being deleted are ignored", give: scenario{replicas: 2, ready: statuses(T, T, F, F),
			phase: []hpa.PodPhase{running, running, running, running}, deleting: []bool{false, false, true, true},
			requests: reqs(4, 1000), levels: levels(500, 700)},
			target: 30, wantReplica: 4, wantUtil: 60, wantRaw: 2 * 600},
		{upstream: "scale up: container metrics with pods being deleted ignored", give: scenario{replicas: 2, ready: statuses(T, T, F, F),
			phase: []hpa.PodPhase{running, running, running, running}, deleting: []bool{false, false, true, true}, container: "container1",
			requests: reqs(4, 1000), levels: levels(500, 700)},
			target: 30, wantReplica: 4, wantUtil: 60, wantRaw: 600},
		{upstream: "scale down", give: scenario{replicas: 5, requests: reqs(5, 1000), levels: levels(100, 300, 500, 250, 250)},
			target: 50, wantReplica: 3, wantUtil: 28, wantRaw: 2 * 280},
		{upstream: "scale down: container metric", give: scenario{replicas: 5, container: "container2", requests: reqs(5, 1000),
			levels: [][]int64{{1000, 100}, {1000, 300}, {1000, 500}, {1000, 250}, {1000, 250}}},
			target: 50, wantReplica: 3, wantUtil: 28, wantRaw: 280},
		{upstream: "scale down: exclude unready pods", give: scenario{replicas: 5, ready: statuses(T, T, T, F, F), requests: reqs(5, 1000),
			levels: levels(100, 300, 500, 250, 250)},
			target: 50, wantReplica: 2, wantUtil: 30, wantRaw: 2 * 300},
		{upstream: "scale down: container metric excludes unready pods", give: scenario{replicas: 5, ready: statuses(T, T, T, F, F),
			container: "container2", requests: reqs(5, 1000), levels: [][]int64{{1000, 100}, {1000, 300}, {1000, 500}, {1000, 250}, {1000, 250}}},
			target: 50, wantReplica: 2, wantUtil: 30, wantRaw: 300},
		{upstream: "scale down: exclude unscheduled pods", give: scenario{replicas: 5, ready: statuses(T, F, F, F, F),
			phase: []hpa.PodPhase{running, pending, pending, pending, pending}, requests: reqs(5, 1000), levels: levels(100)},
			target: 50, wantReplica: 1, wantUtil: 10, wantRaw: 2 * 100},
		{upstream: "scale down: container metric excludes unscheduled pods", give: scenario{replicas: 5, ready: statuses(T, F, F, F, F),
			phase: []hpa.PodPhase{running, pending, pending, pending, pending}, container: "container2", requests: reqs(5, 1000),
			levels: [][]int64{{1000, 100}, {1000, 300}, {1000, 500}, {1000, 250}, {1000, 250}}},
			target: 50, wantReplica: 1, wantUtil: 10, wantRaw: 100},
		{upstream: "scale down: ignore hot-CPU pods", give: scenario{replicas: 5, start: []timeT{cool, cool, cool, hot, hot},
			requests: reqs(5, 1000), levels: levels(100, 300, 500, 250, 250)},
			target: 50, wantReplica: 2, wantUtil: 30, wantRaw: 2 * 300},
		{upstream: "scale down: container metric ignores hot-CPU pods", give: scenario{replicas: 5, start: []timeT{cool, cool, cool, hot, hot},
			container: "container2", requests: reqs(5, 1000), levels: [][]int64{{1000, 100}, {1000, 300}, {1000, 500}, {1000, 1000}, {1000, 1000}}},
			target: 50, wantReplica: 2, wantUtil: 30, wantRaw: 300},
		{upstream: "scale down: failed pods ignored", give: scenario{replicas: 5, ready: statuses(T, T, T, T, T, F, F),
			phase: []hpa.PodPhase{running, running, running, running, running, failed, failed}, requests: reqs(7, 1000),
			levels: levels(100, 300, 500, 250, 250)},
			target: 50, wantReplica: 3, wantUtil: 28, wantRaw: 2 * 280},
		{upstream: "scale down: container metric with failed pods ignored", give: scenario{replicas: 5, ready: statuses(T, T, T, T, T, F, F),
			phase: []hpa.PodPhase{running, running, running, running, running, failed, failed}, container: "container2", requests: reqs(7, 1000),
			levels: [][]int64{{1000, 100}, {1000, 300}, {1000, 500}, {1000, 250}, {1000, 250}}},
			target: 50, wantReplica: 3, wantUtil: 28, wantRaw: 280},
		{upstream: "scale down: pods being deleted are ignored", give: scenario{replicas: 5, ready: statuses(T, T, T, T, T, F, F),
			phase: []hpa.PodPhase{running, running, running, running, running, running, running}, deleting: []bool{false, false, false, false, false, true, true},
			requests: reqs(7, 1000), levels: levels(100, 300, 500, 250, 250)},
			target: 50, wantReplica: 3, wantUtil: 28, wantRaw: 2 * 280},
		{upstream: "scale down: still-running pods being deleted are ignored (kubernetes#83561)", give: scenario{replicas: 5, ready: statuses(T, T, T, T, T, F, F),
			phase: []hpa.PodPhase{running, running, running, running, running, running, running}, deleting: []bool{false, false, false, false, false, true, true},
			container: "container2", requests: reqs(7, 1000), levels: [][]int64{{1000, 100}, {1000, 300}, {1000, 500}, {1000, 250}, {1000, 250}}},
			target: 50, wantReplica: 3, wantUtil: 28, wantRaw: 280},
	})
}

// TestResourceTolerance restates every case of upstream
// TestReplicaCalcResourceTolerance: requests of 900m, 1000m and 1100m per
// container and a 100 % target.
func TestResourceTolerance(t *testing.T) {
	t.Parallel()
	mixed := []int64{900, 1000, 1100}
	runResourceRows(t, []resourceRow{
		{upstream: "within default tolerance", give: scenario{replicas: 3, requests: mixed, levels: levels(1010, 1030, 1020)},
			target: 100, wantReplica: 3, wantUtil: 102, wantRaw: 2 * 1020},
		{upstream: "outside 0% tolerance", tolerances: &hpa.Tolerances{}, give: scenario{replicas: 3, requests: mixed, levels: levels(909, 1010, 1111)},
			target: 100, wantReplica: 4, wantUtil: 101, wantRaw: 2 * 1010},
		{upstream: "within 200% scale-up tolerance", tolerances: &hpa.Tolerances{ScaleDown: 0.1, ScaleUp: 2},
			give:   scenario{replicas: 3, requests: mixed, levels: levels(1890, 1910, 1900)},
			target: 100, wantReplica: 3, wantUtil: 190, wantRaw: 2 * 1900},
		{upstream: "outside 8% scale-up tolerance (superfluous scale-down tolerance)", tolerances: &hpa.Tolerances{ScaleDown: 2, ScaleUp: 0.08},
			give:   scenario{replicas: 3, requests: mixed, levels: levels(1100, 1080, 1090)},
			target: 100, wantReplica: 4, wantUtil: 109, wantRaw: 2 * 1090},
		{upstream: "within 36% scale-down tolerance", tolerances: &hpa.Tolerances{ScaleDown: 0.36, ScaleUp: 0.1},
			give:   scenario{replicas: 3, requests: mixed, levels: levels(660, 640, 650)},
			target: 100, wantReplica: 3, wantUtil: 65, wantRaw: 2 * 650},
		{upstream: "outside 34% scale-down tolerance", tolerances: &hpa.Tolerances{ScaleDown: 0.34, ScaleUp: 0.1},
			give:   scenario{replicas: 3, requests: mixed, levels: levels(660, 640, 650)},
			target: 100, wantReplica: 2, wantUtil: 65, wantRaw: 2 * 650},
	})
}

// TestResourceMissingMetrics restates every case of upstream
// TestReplicaCalcResourceMissingMetrics.
func TestResourceMissingMetrics(t *testing.T) {
	t.Parallel()
	runResourceRows(t, []resourceRow{
		{upstream: "superfluous metrics counted", give: scenario{replicas: 4, requests: reqs(4, 1000), levels: levels(4000, 9500, 3000, 7000, 3200, 2000)},
			target: 100, wantReplica: 24, wantUtil: 587, wantRaw: 2 * 5875},
		{upstream: "some pods missing metrics scales down", give: scenario{replicas: 4, requests: reqs(4, 1000), levels: levels(400, 95)},
			target: 100, wantReplica: 3, wantUtil: 24, wantRaw: 495},
		{upstream: "no change: metric equal to target", give: scenario{replicas: 2, requests: reqs(2, 1000), levels: levels(1000)},
			target: 100, wantReplica: 2, wantUtil: 100, wantRaw: 2 * 1000},
		{upstream: "no change: metric above target", give: scenario{replicas: 2, requests: reqs(2, 1000), levels: levels(1900)},
			target: 100, wantReplica: 2, wantUtil: 190, wantRaw: 2 * 1900},
		{upstream: "no change: metric below target", give: scenario{replicas: 2, requests: reqs(2, 1000), levels: levels(600)},
			target: 100, wantReplica: 2, wantUtil: 60, wantRaw: 2 * 600},
		{upstream: "no change: unready pod metric missing", give: scenario{replicas: 3, ready: statuses(F, T, T), requests: reqs(3, 1000), levels: levels(100, 450)},
			target: 50, wantReplica: 3, wantUtil: 45, wantRaw: 2 * 450},
		{upstream: "no change: hot-CPU pod metric missing", give: scenario{replicas: 3, start: []timeT{hot, cool, cool}, requests: reqs(3, 1000), levels: levels(100, 450)},
			target: 50, wantReplica: 3, wantUtil: 45, wantRaw: 2 * 450},
		{upstream: "scale up: unready pod metric missing", give: scenario{replicas: 3, ready: statuses(F, T, T), requests: reqs(3, 1000), levels: levels(100, 2000)},
			target: 50, wantReplica: 4, wantUtil: 200, wantRaw: 2 * 2000},
		{upstream: "scale up: hot-CPU pod metric missing", give: scenario{replicas: 3, ready: statuses(F, T, T), start: []timeT{hot, cool, cool},
			requests: reqs(3, 1000), levels: levels(100, 2000)},
			target: 50, wantReplica: 4, wantUtil: 200, wantRaw: 2 * 2000},
		{upstream: "scale down: unready pod metric missing", give: scenario{replicas: 4, ready: statuses(F, T, T, T), requests: reqs(4, 1000), levels: levels(100, 100, 100)},
			target: 50, wantReplica: 3, wantUtil: 10, wantRaw: 2 * 100},
		{upstream: "scale down: target over 100", give: scenario{replicas: 4, ready: statuses(F, T, T, T), requests: []int64{1000, 1000, 2000, 2000},
			levels: levels(200, 100, 100)},
			target: 300, wantReplica: 2, wantUtil: 6, wantRaw: 2 * 100},
		{upstream: "rolling update with maxSurge: extra pod missing metric", give: scenario{replicas: 2, phase: []hpa.PodPhase{running, running, running},
			requests: reqs(3, 1000), levels: levels(100, 100)},
			target: 50, wantReplica: 2, wantUtil: 10, wantRaw: 2 * 100},
		{upstream: "disjoint pod and metric names", give: scenario{replicas: 1, requests: reqs(1, 1000), levels: levels(100), names: []string{"an-older-pod-name"}},
			target: 100, wantErr: hpa.ErrNoMatchingMetrics},
		{upstream: "no metrics returned from metrics API", give: scenario{replicas: 4, requests: reqs(3, 1000)},
			target: 100, wantErr: hpa.ErrNoMetrics},
		{upstream: "missing CPU request on container", give: scenario{replicas: 1, levels: levels(200)},
			target: 100, wantErr: hpa.ErrMissingRequest},
	})
}

// TestComputedTolerance restates upstream
// TestReplicaCalcComputedToleranceAlgImplementation: ten pods using half of
// what they request, with targets just outside and just inside the
// tolerance.
func TestComputedTolerance(t *testing.T) {
	t.Parallel()
	const startPods = 10
	totalUsed := int64(startPods * 150)
	totalRequested := int32(2 * totalUsed)
	requestedToUsed := float64(totalRequested / int32(totalUsed))
	perPod := int64(totalRequested / startPods)
	give := scenario{
		replicas: startPods,
		levels:   levels(150, 150, 150, 150, 150, 150, 150, 150, 150, 150),
		requests: []int64{perPod + 100, perPod - 100, perPod + 10, perPod - 10, perPod + 2, perPod - 2, perPod + 1, perPod - 1, perPod, perPod},
	}
	wantUtil := int32(totalUsed*100) / totalRequested
	wantRaw := 2 * totalUsed / 10

	// Just outside the tolerance: a minimal scale down.
	target := math.Abs(1/(requestedToUsed*(1-0.1))) + .01
	usedRatio := float64(totalUsed) / (float64(totalRequested) * target)
	runResourceRows(t, []resourceRow{
		{upstream: "breach the tolerance by 0.01", give: give, target: int32(target * 100),
			wantReplica: int32(math.Ceil(usedRatio * startPods)), wantUtil: wantUtil, wantRaw: wantRaw},
		{upstream: "within the tolerance by 0.004", give: give, target: int32((math.Abs(1/(requestedToUsed*(1-0.1))) + .004) * 100),
			wantReplica: startPods, wantUtil: wantUtil, wantRaw: wantRaw},
	})
}

// metricRow restates one case of upstream's pods, object and external
// metric tests.
type metricRow struct {
	upstream     string
	give         scenario
	spec         hpa.MetricSpec
	tolerances   *hpa.Tolerances
	wantReplicas int32
	wantUsage    int64
}

func runMetricRows(t *testing.T, rows []metricRow) {
	t.Helper()
	for _, tt := range rows {
		t.Run(tt.upstream, func(t *testing.T) {
			t.Parallel()
			calc, err := hpa.NewCalculator(testConfig, hpa.Spec{MaxReplicas: 1000, Metrics: []hpa.MetricSpec{tt.spec}})
			require.NoError(t, err)
			tol := defaultTolerances
			if tt.tolerances != nil {
				tol = *tt.tolerances
			}
			in := hpa.MetricInput{Now: now, SpecReplicas: tt.give.replicas, StatusReplicas: tt.give.replicas, Tolerances: tol, Pods: tt.give.pods()}
			switch tt.spec.Type {
			case hpa.SourcePods:
				in.Values.Samples = tt.give.customSamples()
			case hpa.SourceObject:
				in.Values.Value = tt.give.custom[0]
			case hpa.SourceExternal:
				in.Values.Values = tt.give.custom
			}
			got, err := calc.Metric(0, in)
			require.NoError(t, err)
			assert.Equal(t, tt.wantReplicas, got.Replicas, "replicas")
			assert.Equal(t, tt.wantUsage, got.Usage, "usage")
		})
	}
}

// upTolerance1 is upstream's "configurable 1% tolerance": 10 % down, 1 % up.
var upTolerance1 = &hpa.Tolerances{ScaleDown: 0.1, ScaleUp: 0.01}

// maxTargetMilli is the largest target a Spec holds (a float64 of the
// metric's unit whose milli-value fits an int64): upstream's math.MaxInt64
// milli-unit target cannot be written, this is the closest that can.
const maxTargetMilli = 9_000_000_000_000_000_000

// TestPodsMetric restates every case of upstream TestReplicaCalcPodMetric
// (a pods metric "qps", values in milli-units).
func TestPodsMetric(t *testing.T) {
	t.Parallel()
	runMetricRows(t, []metricRow{
		{upstream: "scale up", give: scenario{replicas: 3, custom: []int64{20000, 10000, 30000}}, spec: podsMetric(15000),
			wantReplicas: 4, wantUsage: 20000},
		{upstream: "scale up: unready hot-CPU pod scales less", give: scenario{replicas: 3, ready: statuses(T, T, F), start: []timeT{cool, cool, hot},
			custom: []int64{50000, 10000, 30000}}, spec: podsMetric(15000), wantReplicas: 6, wantUsage: 30000},
		{upstream: "scale up: unready hot-CPU pods avoid scale-down", give: scenario{replicas: 3, ready: statuses(F, T, F), start: []timeT{hot, cool, hot},
			custom: []int64{50000, 15000, 30000}}, spec: podsMetric(15000), wantReplicas: 7, wantUsage: 31666},
		{upstream: "scale down", give: scenario{replicas: 5, custom: []int64{12000, 12000, 12000, 12000, 12000}}, spec: podsMetric(20000),
			wantReplicas: 3, wantUsage: 12000},
		{upstream: "within default tolerance", give: scenario{replicas: 3, custom: []int64{20000, 21000, 21000}}, spec: podsMetric(20000),
			wantReplicas: 3, wantUsage: 20666},
		{upstream: "outside configurable 1% tolerance", tolerances: upTolerance1, give: scenario{replicas: 3, custom: []int64{20000, 21000, 21000}},
			spec: podsMetric(20000), wantReplicas: 4, wantUsage: 20666},
		{upstream: "no change: missing metrics", give: scenario{replicas: 5, custom: []int64{20000, 19000, 21000}}, spec: podsMetric(20000),
			wantReplicas: 5, wantUsage: 20000},
		{upstream: "rolling update with maxSurge: extra pod missing metric", give: scenario{replicas: 2, phase: []hpa.PodPhase{running, running, running},
			custom: []int64{10000, 10000}}, spec: podsMetric(17000), wantReplicas: 2, wantUsage: 10000},
	})
}

// TestObjectMetric restates every case of upstream
// TestReplicaCalcObjectMetric (an object metric with a value target).
func TestObjectMetric(t *testing.T) {
	t.Parallel()
	runMetricRows(t, []metricRow{
		{upstream: "scale up", give: scenario{replicas: 3, custom: []int64{20000}}, spec: objectMetric(hpa.TargetValue, 15000),
			wantReplicas: 4, wantUsage: 20000},
		{upstream: "scale up: very large metric saturates replicas to MaxInt32", give: scenario{replicas: 3, custom: []int64{math.MaxInt64}},
			spec: objectMetric(hpa.TargetValue, 1), wantReplicas: math.MaxInt32, wantUsage: math.MaxInt64},
		{upstream: "scale up: ignores unready pods", give: scenario{replicas: 3, ready: statuses(F, T, F), custom: []int64{50000}},
			spec: objectMetric(hpa.TargetValue, 10000), wantReplicas: 5, wantUsage: 50000},
		{upstream: "scale down", give: scenario{replicas: 5, custom: []int64{12000}}, spec: objectMetric(hpa.TargetValue, 20000),
			wantReplicas: 3, wantUsage: 12000},
		{upstream: "within default tolerance", give: scenario{replicas: 3, custom: []int64{20666}}, spec: objectMetric(hpa.TargetValue, 20000),
			wantReplicas: 3, wantUsage: 20666},
		{upstream: "outside configurable 1% tolerance", tolerances: upTolerance1, give: scenario{replicas: 3, custom: []int64{20666}},
			spec: objectMetric(hpa.TargetValue, 20000), wantReplicas: 4, wantUsage: 20666},
	})
}

// TestObjectPerPodMetric restates every case of upstream
// TestReplicaCalcObjectPerPodMetric (an object metric with an average
// value target, divided by the status replicas).
func TestObjectPerPodMetric(t *testing.T) {
	t.Parallel()
	runMetricRows(t, []metricRow{
		{upstream: "scale up", give: scenario{replicas: 3, custom: []int64{20000}}, spec: objectMetric(hpa.TargetAverageValue, 5000),
			wantReplicas: 4, wantUsage: 6667},
		{upstream: "scale down", give: scenario{replicas: 5, custom: []int64{6000}}, spec: objectMetric(hpa.TargetAverageValue, 2000),
			wantReplicas: 3, wantUsage: 1200},
		{upstream: "within default tolerance", give: scenario{replicas: 4, custom: []int64{20166}}, spec: objectMetric(hpa.TargetAverageValue, 5000),
			wantReplicas: 4, wantUsage: 5042},
		{upstream: "outside configurable 1% tolerance", tolerances: upTolerance1, give: scenario{replicas: 4, custom: []int64{20208}},
			spec: objectMetric(hpa.TargetAverageValue, 5000), wantReplicas: 5, wantUsage: 5052},
	})
}

// TestExternalMetric restates every case of upstream
// TestReplicaCalcExternalMetric (an external metric with a value target).
func TestExternalMetric(t *testing.T) {
	t.Parallel()
	runMetricRows(t, []metricRow{
		{upstream: "scale down: ignores unready pods (would otherwise scale up)", give: scenario{replicas: 3, ready: statuses(F, T, F), custom: []int64{8600}},
			spec: externalMetric(hpa.TargetValue, 4400), wantReplicas: 2, wantUsage: 8600},
		{upstream: "scale down", give: scenario{replicas: 5, custom: []int64{8600}}, spec: externalMetric(hpa.TargetValue, 14334),
			wantReplicas: 3, wantUsage: 8600},
		{upstream: "within default tolerance", give: scenario{replicas: 3, custom: []int64{8600}}, spec: externalMetric(hpa.TargetValue, 8888),
			wantReplicas: 3, wantUsage: 8600},
		{upstream: "outside configurable 1% tolerance", tolerances: upTolerance1, give: scenario{replicas: 3, custom: []int64{8900}},
			spec: externalMetric(hpa.TargetValue, 8800), wantReplicas: 4, wantUsage: 8900},
		{upstream: "usage overflow caps at MaxInt64 (target: the largest a Spec holds)", give: scenario{replicas: 3,
			custom: []int64{math.MaxInt64/2 + 1, math.MaxInt64/2 + 1}}, spec: externalMetric(hpa.TargetValue, maxTargetMilli),
			wantReplicas: 3, wantUsage: math.MaxInt64},
	})
}

// TestExternalPerPodMetric restates every case of upstream
// TestReplicaCalcExternalPerPodMetric (an external metric with an average
// value target).
func TestExternalPerPodMetric(t *testing.T) {
	t.Parallel()
	runMetricRows(t, []metricRow{
		{upstream: "replica count overflow saturates to MaxInt32", give: scenario{replicas: 1, custom: []int64{math.MaxInt64}},
			spec: externalMetric(hpa.TargetAverageValue, 1), wantReplicas: math.MaxInt32, wantUsage: math.MaxInt64},
		{upstream: "usage overflow with huge target leaves replicas unchanged (target: the largest a Spec holds)", give: scenario{replicas: 1,
			custom: []int64{math.MaxInt64}}, spec: externalMetric(hpa.TargetAverageValue, maxTargetMilli), wantReplicas: 1, wantUsage: math.MaxInt64},
		{upstream: "scale up", give: scenario{replicas: 3, custom: []int64{8600}}, spec: externalMetric(hpa.TargetAverageValue, 2150),
			wantReplicas: 4, wantUsage: 2867},
		{upstream: "scale down", give: scenario{replicas: 5, custom: []int64{8600}}, spec: externalMetric(hpa.TargetAverageValue, 2867),
			wantReplicas: 3, wantUsage: 1720},
		{upstream: "within default tolerance", give: scenario{replicas: 3, custom: []int64{8600}}, spec: externalMetric(hpa.TargetAverageValue, 2900),
			wantReplicas: 3, wantUsage: 2867},
		{upstream: "outside configurable 1% tolerance", tolerances: upTolerance1, give: scenario{replicas: 3, custom: []int64{8600}},
			spec: externalMetric(hpa.TargetAverageValue, 2800), wantReplicas: 4, wantUsage: 2867},
	})
}

// TestMetricErrors pins the errors of the metric types the upstream rows
// do not reach: a source error, no pods, a container the pods lack.
func TestMetricErrors(t *testing.T) {
	t.Parallel()
	sourceDown := fmt.Errorf("metrics API unreachable")
	tests := []struct {
		name string
		spec hpa.MetricSpec
		in   hpa.MetricInput
		want error
	}{
		{"source error", cpuUtilization(50, ""), hpa.MetricInput{Now: now, SpecReplicas: 1, Values: hpa.MetricValues{Err: sourceDown}}, sourceDown},
		{"no pods", cpuUtilization(50, ""), hpa.MetricInput{Now: now, SpecReplicas: 1, Values: hpa.MetricValues{Samples: scenario{levels: levels(1)}.cpuSamples()}}, hpa.ErrNoPods},
		{"no ready metrics", cpuUtilization(50, ""), hpa.MetricInput{Now: now, SpecReplicas: 1,
			Pods:   scenario{replicas: 1, ready: statuses(F), requests: reqs(1, 1)}.pods(),
			Values: hpa.MetricValues{Samples: scenario{levels: levels(1)}.cpuSamples()}}, hpa.ErrNoReadyMetrics},
		{"container not found", cpuUtilization(50, "sidecar"), hpa.MetricInput{Now: now, SpecReplicas: 1,
			Pods:   scenario{replicas: 1, requests: reqs(1, 1000)}.pods(),
			Values: hpa.MetricValues{Samples: []hpa.Sample{{Pod: "pod-0", Value: 100, Timestamp: longAgo, Window: 60e9}}}}, hpa.ErrContainerNotFound},
		{"pods metric: no samples", podsMetric(1000), hpa.MetricInput{Now: now, SpecReplicas: 1, Pods: scenario{replicas: 1}.pods()}, hpa.ErrNoMetrics},
		{"object value: no pods to count", objectMetric(hpa.TargetValue, 1000), hpa.MetricInput{Now: now, SpecReplicas: 2, Values: hpa.MetricValues{Value: 5000}}, hpa.ErrNoPods},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			calc, err := hpa.NewCalculator(testConfig, hpa.Spec{MaxReplicas: 10, Metrics: []hpa.MetricSpec{tt.spec}})
			require.NoError(t, err)
			tt.in.Tolerances = defaultTolerances
			_, err = calc.Metric(0, tt.in)
			require.ErrorIs(t, err, tt.want)
		})
	}
}

// TestResourceMetricRefusesNegativeUsage pins that a negative sample of a
// resource metric (a usage, which no metrics API reports below 0) makes
// the metric invalid with an error naming the pod, for a utilization and
// an average value target and for a container's usage. Kubernetes sums it
// into the utilization: with pod-1's −800m the pods use 2000m of the
// 3000m they request (66 %) and scale to 4, a decision taken on a broken
// reading (a larger negative value scales them in). A pods metric may be
// negative, as in Kubernetes.
func TestResourceMetricRefusesNegativeUsage(t *testing.T) {
	t.Parallel()
	s := scenario{replicas: 3, requests: reqs(3, 500), levels: [][]int64{{700, 700}, {-400, -400}, {700, 700}}}
	cpuAverage := hpa.MetricSpec{Type: hpa.SourceResource, Resource: &hpa.ResourceMetricSource{
		Name: hpa.ResourceCPU, Target: hpa.MetricTarget{Type: hpa.TargetAverageValue, AverageValue: 0.5},
	}}
	for name, tt := range map[string]struct {
		spec      hpa.MetricSpec
		container string
	}{
		"utilization":             {cpuUtilization(50, ""), ""},
		"average value":           {cpuAverage, ""},
		"container's utilization": {cpuUtilization(50, "container2"), "container2"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			calc, err := hpa.NewCalculator(testConfig, hpa.Spec{MaxReplicas: 10, Metrics: []hpa.MetricSpec{tt.spec}})
			require.NoError(t, err)
			sc := s
			sc.container = tt.container
			in := hpa.Input{Now: now, SpecReplicas: 3, StatusReplicas: 3, Pods: sc.pods(), Metrics: []hpa.MetricValues{{Samples: sc.cpuSamples()}}}
			p, err := calc.Replicas(in)
			require.ErrorIs(t, err, provider.ErrInvalid, "proposal %+v", p)
			require.ErrorIs(t, err, hpa.ErrInvalidMetrics)
			require.ErrorContains(t, err, "pod pod-1")
			assert.Equal(t, int32(-1), p.Replicas, "no proposal from an invalid metric")
			_, err = calc.Metric(0, hpa.MetricInput{Now: now, SpecReplicas: 3, StatusReplicas: 3, Pods: in.Pods, Values: in.Metrics[0], Tolerances: defaultTolerances})
			require.ErrorIs(t, err, provider.ErrInvalid)
			require.ErrorContains(t, err, "samples[1].value -")
		})
	}
	t.Run("pods metric", func(t *testing.T) {
		t.Parallel()
		calc, err := hpa.NewCalculator(testConfig, hpa.Spec{MaxReplicas: 10, Metrics: []hpa.MetricSpec{podsMetric(1000)}})
		require.NoError(t, err)
		sc := scenario{replicas: 3, custom: []int64{-500, 1500, 1500}}
		_, err = calc.Metric(0, hpa.MetricInput{Now: now, SpecReplicas: 3, StatusReplicas: 3, Pods: sc.pods(),
			Values: hpa.MetricValues{Samples: sc.customSamples()}, Tolerances: defaultTolerances})
		require.NoError(t, err, "a pods metric may be negative")
	})
}

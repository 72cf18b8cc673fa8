package hpa_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/scaling/hpa"
)

// controller restates upstream's horizontalScenario/testCase: pods with
// two containers each requesting half of reportedCPURequests, reporting
// half of reportedLevels each, running and ready since long ago.
type controller struct {
	min, max       int32
	minZero        bool // MinReplicas is 0 (nil min means 1)
	spec, status   int32
	cpuTarget      int32 // 0: no CPU metric
	levels         []int64
	requests       []int64 // per pod, millicores; nil: one 1000m pod per status replica
	extra          []hpa.MetricSpec
	extraValues    []hpa.MetricValues
	behavior       *hpa.Behavior
	recommendation []hpa.TimedReplicas // nil: the first decision (an initial recommendation is made)
	scaledToZero   bool
}

func (c controller) specAndInput() (hpa.Spec, hpa.Input) {
	s := hpa.Spec{MaxReplicas: c.max, Behavior: c.behavior}
	switch {
	case c.minZero:
		s.MinReplicas = i32(0)
	case c.min != 0:
		s.MinReplicas = i32(c.min)
	}
	in := hpa.Input{Now: now, SpecReplicas: c.spec, StatusReplicas: c.status}
	requests := c.requests
	if requests == nil {
		requests = reqs(int(c.status), 1000)
	}
	for i, r := range requests {
		in.Pods = append(in.Pods, hpa.Pod{
			Name: fmt.Sprintf("pod-%d", i), Phase: running, Ready: T, StartTime: longAgo, ReadyTransition: longAgo,
			Containers: []hpa.Container{
				{Name: "container1", Requests: hpa.ResourceList{hpa.ResourceCPU: r / 2}},
				{Name: "container2", Requests: hpa.ResourceList{hpa.ResourceCPU: r / 2}},
			},
		})
	}
	if c.cpuTarget != 0 {
		s.Metrics = append(s.Metrics, cpuUtilization(c.cpuTarget, ""))
		var mv hpa.MetricValues
		for i, l := range c.levels {
			mv.Samples = append(mv.Samples, hpa.Sample{Pod: fmt.Sprintf("pod-%d", i), Value: 2 * (l / 2), Timestamp: now, Window: time.Minute})
		}
		in.Metrics = append(in.Metrics, mv)
	}
	s.Metrics = append(s.Metrics, c.extra...)
	in.Metrics = append(in.Metrics, c.extraValues...)
	return s, in
}

// unreadable is a metric that could not be read: how the restated rows
// stand in for upstream's invalid metric type "CheddarCheese", which a
// validated Spec cannot hold, and for metrics whose source errs.
var unreadable = hpa.MetricValues{Err: errors.New("something went wrong")}

// qpsExternal is an external value metric (target 100m, as upstream's).
var qpsExternal = externalMetric(hpa.TargetValue, 100)

// TestDecide restates the cases of upstream horizontal_test.go that
// exercise the controller's bounds, scale-to-zero rules, the combination
// of several metrics and the normalization end to end: TestUpscaleCap,
// TestUpscaleCapGreaterThanMaxReplicas, TestStabilizeDownscale,
// TestScaleDownStabilizeInitialSize, TestScaleUpOneMetricEmpty,
// TestNoScaleDownOneMetricInvalid, TestNoScaleDownOneMetricEmpty,
// TestScaleWithOneInvalidMetric, TestReplicaLimits and
// TestScaleToZeroBehavior (whose HPAScaleToZero-disabled cases expect
// what the enabled ones do, or differ only by the gate, which is always on
// here).
func TestDecide(t *testing.T) {
	t.Parallel()
	upCap := &hpa.Behavior{ScaleUp: rules(0, 0, 700, 60, 0)}
	objectQPS := objectMetric(hpa.TargetValue, 15000)
	tests := []struct {
		upstream      string
		give          controller
		wantReplicas  int32
		wantRescale   bool
		wantLimited   string
		wantAble      string
		wantActive    string
		wantUtil      int32
		wantErr       error // the decision failed
		wantDecideErr error // the decision stands, with this error
		wantZero      bool
	}{
		{upstream: "TestUpscaleCap", give: controller{min: 1, max: 100, spec: 3, status: 3, behavior: upCap, cpuTarget: 10,
			levels: []int64{100, 200, 300}, requests: []int64{100, 100, 100}},
			wantReplicas: 24, wantRescale: true, wantLimited: hpa.ReasonScaleUpLimit, wantActive: hpa.ReasonValidMetricFound},
		{upstream: "TestUpscaleCapGreaterThanMaxReplicas", give: controller{min: 1, max: 20, spec: 3, status: 3, behavior: upCap, cpuTarget: 10,
			levels: []int64{100, 200, 300}, requests: []int64{100, 100, 100}},
			wantReplicas: 20, wantRescale: true, wantLimited: hpa.ReasonTooManyReplicas},
		{upstream: "TestStabilizeDownscale", give: controller{min: 1, max: 5, spec: 4, status: 4, cpuTarget: 100, levels: []int64{50, 50, 50},
			requests: []int64{100, 100, 100}, recommendation: []hpa.TimedReplicas{{Replicas: 10, At: now.Add(-10 * time.Minute)}, {Replicas: 4, At: now.Add(-time.Minute)}}},
			wantReplicas: 4, wantAble: hpa.ReasonScaleDownStabilized},
		{upstream: "TestScaleDownStabilizeInitialSize", give: controller{min: 2, max: 6, spec: 5, status: 5, cpuTarget: 50, levels: []int64{100, 300, 500, 250, 250}},
			wantReplicas: 5, wantAble: hpa.ReasonScaleDownStabilized, wantUtil: 28},
		{upstream: "TestScaleUpOneMetricEmpty", give: controller{min: 2, max: 6, spec: 3, status: 3, cpuTarget: 30, levels: []int64{300, 400, 500},
			extra: []hpa.MetricSpec{qpsExternal}, extraValues: []hpa.MetricValues{unreadable}},
			wantReplicas: 4, wantRescale: true, wantUtil: 40, wantDecideErr: hpa.ErrInvalidMetrics},
		{upstream: "TestNoScaleDownOneMetricInvalid", give: controller{min: 2, max: 6, spec: 5, status: 5, cpuTarget: 50, levels: []int64{100, 300, 500, 250, 250},
			recommendation: []hpa.TimedReplicas{}, extra: []hpa.MetricSpec{qpsExternal}, extraValues: []hpa.MetricValues{unreadable}},
			wantReplicas: 5, wantActive: "FailedGetExternalMetric", wantErr: hpa.ErrInvalidMetrics},
		{upstream: "TestNoScaleDownOneMetricEmpty", give: controller{min: 2, max: 6, spec: 5, status: 5, cpuTarget: 50, levels: []int64{100, 300, 500, 250, 250},
			recommendation: []hpa.TimedReplicas{}, extra: []hpa.MetricSpec{externalMetric(hpa.TargetValue, 1000)}, extraValues: []hpa.MetricValues{unreadable}},
			wantReplicas: 5, wantActive: "FailedGetExternalMetric", wantErr: hpa.ErrInvalidMetrics},
		{upstream: "TestScaleWithOneInvalidMetric: scale up with one invalid metric", give: controller{min: 2, max: 6, spec: 3, status: 3, cpuTarget: 30,
			levels: []int64{300, 400, 500}, extra: []hpa.MetricSpec{qpsExternal}, extraValues: []hpa.MetricValues{unreadable}},
			wantReplicas: 4, wantRescale: true, wantUtil: 40, wantDecideErr: hpa.ErrInvalidMetrics},
		{upstream: "TestScaleWithOneInvalidMetric: from zero with invalid metric (gate enabled and disabled)", give: controller{minZero: true, max: 6, spec: 0, status: 0,
			cpuTarget: 30, levels: []int64{300, 400, 500}, requests: []int64{1000, 1000, 1000}, recommendation: []hpa.TimedReplicas{},
			extra: []hpa.MetricSpec{qpsExternal}, extraValues: []hpa.MetricValues{unreadable}},
			wantReplicas: 0, wantActive: hpa.ReasonScalingDisabled},
		{upstream: "TestReplicaLimits: scale down clamped to min replicas", give: controller{min: 2, max: 5, spec: 3, status: 3, cpuTarget: 90,
			levels: []int64{10, 95, 10}, requests: []int64{900, 1000, 1100}, recommendation: []hpa.TimedReplicas{}},
			wantReplicas: 2, wantRescale: true, wantLimited: hpa.ReasonTooFewReplicas},
		{upstream: "TestReplicaLimits: scale down clamped to min when desired is zero", give: controller{min: 2, max: 5, spec: 3, status: 3, cpuTarget: 90,
			levels: []int64{0, 0, 0}, requests: []int64{900, 1000, 1100}, recommendation: []hpa.TimedReplicas{}},
			wantReplicas: 2, wantRescale: true, wantLimited: hpa.ReasonTooFewReplicas},
		{upstream: "TestReplicaLimits: no scaling when spec replicas is zero", give: controller{min: 3, max: 5, spec: 0, status: 0, cpuTarget: 90, requests: []int64{}},
			wantReplicas: 0, wantActive: hpa.ReasonScalingDisabled},
		{upstream: "TestReplicaLimits: scale up to min when below min replicas", give: controller{min: 3, max: 5, spec: 2, status: 2, cpuTarget: 90, requests: []int64{}},
			wantReplicas: 3, wantRescale: true},
		{upstream: "TestReplicaLimits: scale down to max when above max replicas", give: controller{min: 3, max: 5, spec: 10, status: 10, cpuTarget: 90, requests: []int64{}},
			wantReplicas: 5, wantRescale: true},
		{upstream: "TestReplicaLimits: scale up clamped to max replicas", give: controller{min: 2, max: 5, spec: 3, status: 3, cpuTarget: 90,
			levels: []int64{8000, 9500, 1000}, requests: []int64{900, 1000, 1100}},
			wantReplicas: 5, wantRescale: true, wantLimited: hpa.ReasonTooManyReplicas},
		{upstream: "TestReplicaLimits: scale up to min immediately even with recent scale time", give: controller{min: 2, max: 6, spec: 1, status: 1,
			cpuTarget: 80, levels: []int64{0, 0, 0, 0}, requests: []int64{1000, 1000, 1000, 1000}},
			wantReplicas: 2, wantRescale: true},
		{upstream: "TestReplicaLimits: scale down to max immediately even with recent scale time", give: controller{min: 2, max: 5, spec: 6, status: 6,
			cpuTarget: 50, levels: []int64{8000, 9500, 1000}, requests: []int64{900, 1000, 1100}},
			wantReplicas: 5, wantRescale: true},
		{upstream: "TestScaleToZeroBehavior: from zero without condition", give: controller{minZero: true, max: 5, spec: 0, status: 0,
			extra: []hpa.MetricSpec{objectMetric(hpa.TargetValue, 15000)}, extraValues: []hpa.MetricValues{{Value: 20000}}},
			wantReplicas: 0, wantActive: hpa.ReasonScalingDisabled},
		{upstream: "TestScaleToZeroBehavior: minReplicas increased with ScaledToZero condition", give: controller{min: 2, max: 5, spec: 0, status: 0,
			scaledToZero: true, extra: []hpa.MetricSpec{objectQPS}, extraValues: []hpa.MetricValues{{Value: 10000}}},
			wantReplicas: 2, wantRescale: true, wantLimited: hpa.ReasonTooFewReplicas, wantActive: hpa.ReasonValidMetricFound},
		{upstream: "TestScaleToZeroBehavior: stale ScaledToZero condition cleared on normal rescale", give: controller{min: 1, max: 5, spec: 3, status: 3,
			scaledToZero: true, cpuTarget: 30, levels: []int64{300, 500, 700}},
			wantReplicas: 5, wantRescale: true, wantLimited: hpa.ReasonDesiredWithinRange},
		{upstream: "TestScaleToZeroBehavior: manual scale to zero disables HPA", give: controller{min: 1, max: 5, spec: 0, status: 0, cpuTarget: 50, requests: []int64{}},
			wantReplicas: 0, wantActive: hpa.ReasonScalingDisabled},
	}
	for _, tt := range tests {
		t.Run(tt.upstream, func(t *testing.T) {
			t.Parallel()
			spec, in := tt.give.specAndInput()
			calc, err := hpa.NewCalculator(testConfig, spec)
			require.NoError(t, err)
			h := hpa.History{Recommendations: tt.give.recommendation, ScaledToZero: tt.give.scaledToZero}
			d, err := calc.Decide(in, h)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			if tt.wantDecideErr != nil {
				require.ErrorIs(t, d.Err, tt.wantDecideErr)
			} else {
				require.NoError(t, d.Err)
			}
			assert.Equal(t, tt.wantReplicas, d.Replicas, "replicas")
			assert.Equal(t, tt.wantRescale, d.Rescale, "rescale")
			if tt.wantLimited != "" {
				assert.Equal(t, tt.wantLimited, d.ScalingLimited, "ScalingLimited")
			}
			if tt.wantAble != "" {
				assert.Equal(t, tt.wantAble, d.AbleToScale, "AbleToScale")
			}
			if tt.wantActive != "" {
				assert.Equal(t, tt.wantActive, d.ScalingActive, "ScalingActive")
			}
			if tt.wantUtil != 0 {
				require.NotEmpty(t, d.Metrics)
				assert.Equal(t, tt.wantUtil, d.Metrics[0].Utilization, "CPU utilization")
			}
			assert.Equal(t, tt.wantZero, d.ScaledToZero, "ScaledToZero")
		})
	}
}

// TestSpecMinZeroRequiresObjectOrExternal restates upstream's
// TestReplicaLimits case "scale down to zero when min replicas is zero"
// as what the API server says of its spec: minReplicas 0 with only a CPU
// metric is refused (upstream's controller test bypasses the API
// server's validation; a Calculator validates like it).
func TestSpecMinZeroRequiresObjectOrExternal(t *testing.T) {
	t.Parallel()
	_, err := hpa.NewCalculator(testConfig, hpa.Spec{MinReplicas: i32(0), MaxReplicas: 5, Metrics: []hpa.MetricSpec{cpuUtilization(90, "")}})
	var inv *providerInvalid
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "min_replicas", inv.Field)
}

// TestScaleToZeroAndBack drives one autoscaler through a sequence of
// decisions with an external queue metric: it scales to zero when the
// queue empties (ScaledToZero set), and back up from zero when work
// arrives, which only the ScaledToZero condition allows.
func TestScaleToZeroAndBack(t *testing.T) {
	t.Parallel()
	calc, err := hpa.NewCalculator(testConfig, hpa.Spec{MinReplicas: i32(0), MaxReplicas: 10,
		Metrics:  []hpa.MetricSpec{externalMetric(hpa.TargetAverageValue, 10_000)},
		Behavior: &hpa.Behavior{ScaleDown: &hpa.ScalingRules{StabilizationWindow: dur(0)}}})
	require.NoError(t, err)
	var h hpa.History
	at := now
	step := func(replicas int32, queue int64) hpa.Decision {
		t.Helper()
		in := hpa.Input{Now: at, SpecReplicas: replicas, StatusReplicas: replicas, Metrics: []hpa.MetricValues{{Values: []int64{queue}}}}
		d, err := calc.Decide(in, h)
		require.NoError(t, err)
		h.Record(d)
		if d.Rescale {
			h.RecordScale(d, at)
		}
		at = at.Add(15 * time.Second)
		return d
	}
	d := step(2, 0)
	assert.Equal(t, int32(0), d.Replicas, "an empty queue scales to zero")
	assert.True(t, h.ScaledToZero)
	d = step(0, 0)
	assert.False(t, d.Rescale, "stays at zero while the queue is empty")
	d = step(0, 25_000)
	assert.Equal(t, int32(3), d.Replicas, "25 items at 10 per replica")
	assert.False(t, h.ScaledToZero, "the condition clears on the rescale up")
	require.Len(t, h.ScaleDownEvents, 1)
	require.Len(t, h.ScaleUpEvents, 1)
	assert.Equal(t, int32(2), h.ScaleDownEvents[0].Change)
	assert.Equal(t, int32(3), h.ScaleUpEvents[0].Change)
}

// TestDecideHistory pins the recommendation log across decisions: the
// first decision records the current count and its own proposal; a
// scale-down proposal is held for the 5-minute window and goes through
// once the higher recommendation has left it (is older than the window).
func TestDecideHistory(t *testing.T) {
	t.Parallel()
	give := controller{min: 1, max: 10, spec: 4, status: 4, cpuTarget: 50, levels: []int64{250, 250, 250, 250}}
	spec, in := give.specAndInput()
	calc, err := hpa.NewCalculator(testConfig, spec)
	require.NoError(t, err)
	var h hpa.History
	for i := range 22 {
		in.Now = now.Add(time.Duration(i) * 15 * time.Second)
		d, err := calc.Decide(in, h)
		require.NoError(t, err)
		h.Record(d)
		if i == 0 {
			require.Len(t, h.Recommendations, 2, "the initial recommendation and the first proposal")
			assert.Equal(t, int32(4), h.Recommendations[0].Replicas)
			assert.Equal(t, int32(2), h.Recommendations[1].Replicas)
		}
		if i <= 20 {
			// The initial recommendation of 4 counts while it is not older
			// than the window (at exactly 5 minutes it still counts).
			assert.False(t, d.Rescale, "step %d: held by the initial recommendation", i)
			continue
		}
		// Once it has left the window, every recommendation in it is 2.
		assert.True(t, d.Rescale, "step %d", i)
		assert.Equal(t, int32(2), d.Replicas)
	}
	assert.LessOrEqual(t, len(h.Recommendations), 22, "old entries are reused, not kept forever")
}

// TestDecideInvalidInput pins the errors of malformed input: they name the
// field, and the decision keeps the current replicas.
func TestDecideInvalidInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    hpa.Input
		field string
	}{
		{"no time", hpa.Input{SpecReplicas: 1, Metrics: []hpa.MetricValues{{}}}, "now"},
		{"negative replicas", hpa.Input{Now: now, SpecReplicas: -1, Metrics: []hpa.MetricValues{{}}}, "spec_replicas"},
		{"duplicate pod", hpa.Input{Now: now, SpecReplicas: 1, Pods: []hpa.Pod{{Name: "a", Phase: running}, {Name: "a", Phase: running}}, Metrics: []hpa.MetricValues{{}}}, "pods[1].name"},
		{"unknown phase", hpa.Input{Now: now, SpecReplicas: 1, Pods: []hpa.Pod{{Name: "a", Phase: "crashing"}}, Metrics: []hpa.MetricValues{{}}}, "pods[0].phase"},
		{"negative request", hpa.Input{Now: now, SpecReplicas: 1, Pods: []hpa.Pod{{Name: "a", Phase: running, Ready: T, StartTime: longAgo,
			Containers: []hpa.Container{{Name: "c", Requests: hpa.ResourceList{hpa.ResourceCPU: -1}}}}},
			Metrics: []hpa.MetricValues{{Samples: []hpa.Sample{{Pod: "a", Value: 5}}}}}, "requests"},
		{"duplicate sample", hpa.Input{Now: now, SpecReplicas: 1, Metrics: []hpa.MetricValues{{Samples: []hpa.Sample{{Pod: "a"}, {Pod: "a"}}}}}, "metrics[0].samples[1].pod"},
		{"one metric too few", hpa.Input{Now: now, SpecReplicas: 1}, "metrics"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			calc, err := hpa.NewCalculator(testConfig, hpa.Spec{MaxReplicas: 10})
			require.NoError(t, err)
			d, err := calc.Decide(tt.in, hpa.History{})
			var inv *providerInvalid
			require.ErrorAs(t, err, &inv)
			assert.Equal(t, tt.field, inv.Field)
			assert.Equal(t, tt.in.SpecReplicas, d.Replicas)
			assert.False(t, d.Rescale)
		})
	}
}

// TestSpecValidate pins the API server's validation that NewCalculator
// applies, field by field.
func TestSpecValidate(t *testing.T) {
	t.Parallel()
	ok := cpuUtilization(50, "")
	tests := []struct {
		name  string
		spec  hpa.Spec
		field string
	}{
		{"max unset", hpa.Spec{}, "max_replicas"},
		{"min above max", hpa.Spec{MinReplicas: i32(5), MaxReplicas: 2}, "max_replicas"},
		{"negative min", hpa.Spec{MinReplicas: i32(-1), MaxReplicas: 2}, "min_replicas"},
		{"unknown type", hpa.Spec{MaxReplicas: 2, Metrics: []hpa.MetricSpec{{Type: "cheddar_cheese"}}}, "metrics[0].type"},
		{"source missing", hpa.Spec{MaxReplicas: 2, Metrics: []hpa.MetricSpec{{Type: hpa.SourcePods}}}, "metrics[0].pods"},
		{"two sources", hpa.Spec{MaxReplicas: 2, Metrics: []hpa.MetricSpec{{Type: hpa.SourceResource, Resource: ok.Resource, Pods: &hpa.PodsMetricSource{}}}}, "metrics[0].resource"},
		{"zero utilization", hpa.Spec{MaxReplicas: 2, Metrics: []hpa.MetricSpec{cpuUtilization(0, "")}}, "metrics[0].resource.target.average_utilization"},
		{"value target on pods", hpa.Spec{MaxReplicas: 2, Metrics: []hpa.MetricSpec{{Type: hpa.SourcePods, Pods: &hpa.PodsMetricSource{
			Metric: hpa.MetricIdentifier{Name: "qps"}, Target: hpa.MetricTarget{Type: hpa.TargetValue, Value: 1}}}}}, "metrics[0].pods.target.type"},
		{"negative value", hpa.Spec{MaxReplicas: 2, Metrics: []hpa.MetricSpec{externalMetric(hpa.TargetValue, -1000)}}, "metrics[0].external.target.value"},
		{"container missing", hpa.Spec{MaxReplicas: 2, Metrics: []hpa.MetricSpec{{Type: hpa.SourceContainerResource,
			ContainerResource: &hpa.ContainerResourceMetricSource{Name: hpa.ResourceCPU, Target: ok.Resource.Target}}}}, "metrics[0].container_resource.container"},
		{"window too long", hpa.Spec{MaxReplicas: 2, Behavior: &hpa.Behavior{ScaleDown: &hpa.ScalingRules{StabilizationWindow: dur(2 * time.Hour)}}}, "behavior.scale_down.stabilization_window"},
		{"window fraction of a second", hpa.Spec{MaxReplicas: 2, Behavior: &hpa.Behavior{ScaleDown: &hpa.ScalingRules{StabilizationWindow: dur(1500 * time.Millisecond)}}}, "behavior.scale_down.stabilization_window"},
		{"unknown select policy", hpa.Spec{MaxReplicas: 2, Behavior: &hpa.Behavior{ScaleUp: &hpa.ScalingRules{SelectPolicy: "most"}}}, "behavior.scale_up.select_policy"},
		{"policy value zero", hpa.Spec{MaxReplicas: 2, Behavior: &hpa.Behavior{ScaleUp: &hpa.ScalingRules{Policies: []hpa.ScalingPolicy{{Type: hpa.PolicyPods, Period: time.Minute}}}}}, "behavior.scale_up.policies[0].value"},
		{"negative tolerance", hpa.Spec{MaxReplicas: 2, Behavior: &hpa.Behavior{ScaleUp: &hpa.ScalingRules{Tolerance: f64(-0.1)}}}, "behavior.scale_up.tolerance"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := hpa.NewCalculator(hpa.Config{}, tt.spec)
			var inv *providerInvalid
			require.ErrorAs(t, err, &inv)
			assert.Equal(t, tt.field, inv.Field)
		})
	}
	_, err := hpa.NewCalculator(hpa.Config{Tolerance: -1}, hpa.Spec{MaxReplicas: 1})
	var inv *providerInvalid
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "tolerance", inv.Field)
}

// TestDefaults pins the API and controller defaults.
func TestDefaults(t *testing.T) {
	t.Parallel()
	calc, err := hpa.NewCalculator(hpa.Config{}, hpa.Spec{MaxReplicas: 3, Behavior: &hpa.Behavior{}})
	require.NoError(t, err)
	cfg, spec := calc.Config(), calc.Spec()
	assert.InDelta(t, 0.1, cfg.Tolerance, 0)
	assert.Equal(t, 5*time.Minute, cfg.CPUInitializationPeriod)
	assert.Equal(t, 30*time.Second, cfg.InitialReadinessDelay)
	assert.Equal(t, 5*time.Minute, cfg.DownscaleStabilizationWindow)
	assert.Equal(t, int32(1), spec.Min())
	require.Len(t, spec.Metrics, 1)
	assert.Equal(t, hpa.DefaultMetric(), spec.Metrics[0])
	assert.Equal(t, int32(80), spec.Metrics[0].Resource.Target.AverageUtilization)
	up, down := spec.Behavior.ScaleUp, spec.Behavior.ScaleDown
	assert.Equal(t, time.Duration(0), *up.StabilizationWindow)
	assert.Equal(t, hpa.SelectMax, up.SelectPolicy)
	assert.Equal(t, []hpa.ScalingPolicy{{Type: hpa.PolicyPods, Value: 4, Period: 15 * time.Second}, {Type: hpa.PolicyPercent, Value: 100, Period: 15 * time.Second}}, up.Policies)
	assert.Equal(t, 5*time.Minute, *down.StabilizationWindow, "the controller's window fills an unset scale-down window")
	assert.Equal(t, []hpa.ScalingPolicy{{Type: hpa.PolicyPercent, Value: 100, Period: 15 * time.Second}}, down.Policies)
	assert.Equal(t, hpa.Tolerances{ScaleDown: 0.1, ScaleUp: 0.1}, calc.Tolerances())
	assert.Equal(t, int64(100), hpa.Milli(0.1))
	assert.Equal(t, int64(1), hpa.Milli(0.0005))
	assert.Equal(t, int64(2150), hpa.Milli(2.15))
}

// TestInputValidate pins the full validation of Input.Validate, which also
// checks the requests that a decision does not read.
func TestInputValidate(t *testing.T) {
	t.Parallel()
	in := hpa.Input{Now: now, Pods: []hpa.Pod{{Name: "a", Phase: running,
		InitContainers: []hpa.Container{{Name: "i", Requests: hpa.ResourceList{hpa.ResourceMemory: -5}}}}}}
	var inv *providerInvalid
	require.ErrorAs(t, in.Validate(), &inv)
	assert.Equal(t, "pods[0].init_containers[0].requests[memory]", inv.Field)
	in.Pods[0].InitContainers = nil
	require.NoError(t, in.Validate())
}

// TestDecideInvalidHistory pins that Decide refuses a scale event with a
// negative change, naming it, and keeps the current replicas: it was
// counted, and widened the rate limit (−100 pods added in the period let
// a scale up from 2 by 4 pods go to 10).
func TestDecideInvalidHistory(t *testing.T) {
	t.Parallel()
	give := controller{min: 1, max: 10, spec: 2, status: 2, cpuTarget: 50, levels: []int64{2000, 2000}}
	spec, in := give.specAndInput()
	spec.Behavior = &hpa.Behavior{ScaleUp: &hpa.ScalingRules{Policies: []hpa.ScalingPolicy{{Type: hpa.PolicyPods, Value: 4, Period: time.Minute}}}}
	calc, err := hpa.NewCalculator(testConfig, spec)
	require.NoError(t, err)
	h := hpa.History{ScaleUpEvents: []hpa.ScaleEvent{{Change: -100, At: now.Add(-time.Second)}}}
	d, err := calc.Decide(in, h)
	var inv *providerInvalid
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "history.scale_up_events[0].change", inv.Field)
	assert.Equal(t, int32(2), d.Replicas)
	assert.False(t, d.Rescale)
	h.ScaleUpEvents[0].Change = 0
	d, err = calc.Decide(in, h)
	require.NoError(t, err)
	assert.Equal(t, int32(6), d.Replicas, "2 + 4 pods")
}

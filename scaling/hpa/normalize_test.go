package hpa_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/scaling/hpa"
)

// TestNormalizeLegacy restates every case of upstream
// TestConvertDesiredReplicasWithRules (horizontal_test.go, v1.37.2): the
// normalization without a Behavior, with no recent recommendation.
func TestNormalizeLegacy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		upstream                    string
		current, desired, min, maxR int32
		wantReplicas                int32
		wantLimited                 string
	}{
		{"prenormalized desired replicas within range", 5, 7, 3, 8, 7, hpa.ReasonDesiredWithinRange},
		{"prenormalized desired replicas < minReplicas", 3, 1, 2, 8, 2, hpa.ReasonTooFewReplicas},
		{"prenormalized desired zeroed replicas within range", 1, 0, 0, 10, 0, hpa.ReasonDesiredWithinRange},
		{"maxReplicas is the limit because maxReplicas < scaleUpLimit", 20, 1000, 1, 10, 10, hpa.ReasonTooManyReplicas},
		{"scaleUpLimit is the limit because scaleUpLimit < maxReplicas", 3, 1000, 1, 2000, 6, hpa.ReasonScaleUpLimit},
		{"idlescale: maxReplicas exactly the scale-up limit", 5, 12, 1, 10, 10, hpa.ReasonTooManyReplicas},
	}
	for _, tt := range tests {
		t.Run(tt.upstream, func(t *testing.T) {
			t.Parallel()
			got, err := testConfig.Normalize(hpa.NormalizeInput{Now: now, Current: tt.current, Desired: tt.desired, Min: tt.min, Max: tt.maxR})
			require.NoError(t, err)
			assert.Equal(t, tt.wantReplicas, got.Replicas)
			assert.Equal(t, tt.wantLimited, got.ScalingLimited)
		})
	}
}

// rules restates upstream's generateScalingRules: a pods policy and a
// percent policy (each left out when its value is 0) with the max select
// policy and a stabilization window in seconds.
func rules(pods, podsPeriod, percent, percentPeriod, window int32) *hpa.ScalingRules {
	r := &hpa.ScalingRules{StabilizationWindow: dur(time.Duration(window) * time.Second), SelectPolicy: hpa.SelectMax}
	if pods != 0 {
		r.Policies = append(r.Policies, hpa.ScalingPolicy{Type: hpa.PolicyPods, Value: pods, Period: time.Duration(podsPeriod) * time.Second})
	}
	if percent != 0 {
		r.Policies = append(r.Policies, hpa.ScalingPolicy{Type: hpa.PolicyPercent, Value: percent, Period: time.Duration(percentPeriod) * time.Second})
	}
	return r
}

// uniform restates upstream's generateEventsUniformDistribution: the
// events spread evenly over the last period seconds, each in the middle
// of its segment.
func uniform(changes []int32, period int) []hpa.ScaleEvent {
	out := make([]hpa.ScaleEvent, len(changes))
	seg := float64(period) / float64(len(changes))
	for i, c := range changes {
		ago := time.Duration(float64(period) - seg*float64(i+1) + seg/2)
		out[i] = hpa.ScaleEvent{Change: c, At: now.Add(-time.Second * ago)}
	}
	return out
}

// TestNormalizeWithRules restates every case of upstream
// TestScalingWithRules: the rate policies of a Behavior, with the scale
// events of both directions in their periods (and no recent
// recommendation, so stabilization keeps the proposal).
func TestNormalizeWithRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		upstream     string
		upEvents     []hpa.ScaleEvent
		downEvents   []hpa.ScaleEvent
		min, maxR    int32
		up, down     *hpa.ScalingRules
		current      int32
		desired      int32
		wantReplicas int32
		wantLimited  string
	}{
		{upstream: "prenormalized desired replicas within range", current: 5, desired: 7, min: 3, maxR: 8, wantReplicas: 7, wantLimited: hpa.ReasonDesiredWithinRange},
		{upstream: "prenormalized desired replicas < minReplicas", current: 3, desired: 1, min: 2, maxR: 8, wantReplicas: 2, wantLimited: hpa.ReasonTooFewReplicas},
		{upstream: "prenormalized desired replicas within range when minReplicas is 0", current: 1, desired: 0, min: 0, maxR: 10, wantReplicas: 0, wantLimited: hpa.ReasonDesiredWithinRange},
		{upstream: "maxReplicas is the limit because maxReplicas < scaleUpLimit", current: 20, desired: 1000, min: 1, maxR: 10, wantReplicas: 10, wantLimited: hpa.ReasonTooManyReplicas},
		{upstream: "desired replica count is more than the maximum replica count", current: 100, desired: 1000, min: 100, maxR: 150, wantReplicas: 150, wantLimited: hpa.ReasonTooManyReplicas},
		{upstream: "scaleUpLimit is the limit because scaleUpLimit < maxReplicas with user policies", current: 3, desired: 1000, min: 1, maxR: 2000,
			up: rules(0, 0, 1, 60, 0), wantReplicas: 4, wantLimited: hpa.ReasonScaleUpLimit},
		{upstream: "scaleUp with default behavior", min: 1, maxR: 1000, current: 10, desired: 50, wantReplicas: 20, wantLimited: hpa.ReasonScaleUpLimit},
		{upstream: "scaleUp with pods policy larger than percent policy", min: 1, maxR: 1000, up: rules(100, 60, 100, 60, 0), current: 10, desired: 500,
			wantReplicas: 110, wantLimited: hpa.ReasonScaleUpLimit},
		{upstream: "scaleUp with percent policy larger than pods policy", min: 1, maxR: 1000, up: rules(2, 60, 100, 60, 0), current: 10, desired: 500,
			wantReplicas: 20, wantLimited: hpa.ReasonScaleUpLimit},
		{upstream: "scaleUp with spec MaxReplicas limitation with large pod policy", min: 1, maxR: 1000, up: rules(100, 60, 0, 0, 0), current: 10, desired: 50,
			wantReplicas: 50, wantLimited: hpa.ReasonDesiredWithinRange},
		{upstream: "scaleUp with spec MaxReplicas limitation with large percent policy", min: 1, maxR: 1000, up: rules(10000, 60, 0, 0, 0), current: 10, desired: 50,
			wantReplicas: 50, wantLimited: hpa.ReasonDesiredWithinRange},
		{upstream: "scaleUp with pod policy limitation", min: 1, maxR: 1000, up: rules(30, 60, 0, 0, 0), current: 10, desired: 50,
			wantReplicas: 40, wantLimited: hpa.ReasonScaleUpLimit},
		{upstream: "scaleUp with percent policy limitation", min: 1, maxR: 1000, up: rules(0, 0, 200, 60, 0), current: 10, desired: 50,
			wantReplicas: 30, wantLimited: hpa.ReasonScaleUpLimit},
		{upstream: "scaleDown with percent policy larger than pod policy", min: 1, maxR: 1000, down: rules(20, 60, 1, 60, 300), current: 100, desired: 2,
			wantReplicas: 80, wantLimited: hpa.ReasonScaleDownLimit},
		{upstream: "scaleDown with pod policy larger than percent policy", min: 1, maxR: 1000, down: rules(2, 60, 1, 60, 300), current: 100, desired: 2,
			wantReplicas: 98, wantLimited: hpa.ReasonScaleDownLimit},
		{upstream: "scaleDown with spec MinReplicas limitation with large pod policy", min: 1, maxR: 1000, down: rules(100, 60, 0, 0, 300), current: 10, desired: 0,
			wantReplicas: 1, wantLimited: hpa.ReasonTooFewReplicas},
		{upstream: "scaleDown with spec MinReplicas limitation with large percent policy", min: 5, maxR: 1000, down: rules(0, 0, 100, 60, 300), current: 10, desired: 2,
			wantReplicas: 5, wantLimited: hpa.ReasonTooFewReplicas},
		{upstream: "scaleDown with pod policy limitation", min: 1, maxR: 1000, down: rules(5, 60, 0, 0, 300), current: 10, desired: 2,
			wantReplicas: 5, wantLimited: hpa.ReasonScaleDownLimit},
		{upstream: "scaleDown with percent policy limitation", min: 1, maxR: 1000, down: rules(0, 0, 50, 60, 300), current: 10, desired: 5,
			wantReplicas: 5, wantLimited: hpa.ReasonDesiredWithinRange},
		{upstream: "scaleUp with spec MaxReplicas limitation with large pod policy and events", upEvents: uniform([]int32{1, 5, 9}, 120), min: 1, maxR: 200,
			up: rules(300, 60, 0, 0, 0), current: 100, desired: 500, wantReplicas: 200, wantLimited: hpa.ReasonTooManyReplicas},
		{upstream: "scaleUp with spec MaxReplicas limitation with large percent policy and events", upEvents: uniform([]int32{1, 5, 9}, 120), min: 1, maxR: 200,
			up: rules(0, 0, 10000, 60, 0), current: 100, desired: 500, wantReplicas: 200, wantLimited: hpa.ReasonTooManyReplicas},
		{upstream: "scaleUp with currentReplicas limitation with rate.PeriodSeconds with a lot of recent scale up events", upEvents: uniform([]int32{1, 5, 9}, 120),
			min: 1, maxR: 1000, up: rules(5, 120, 0, 0, 0), current: 100, desired: 500, wantReplicas: 100, wantLimited: hpa.ReasonScaleUpLimit},
		{upstream: "scaleUp with pod policy and previous scale up events", upEvents: uniform([]int32{1, 5, 9}, 120), min: 1, maxR: 1000,
			up: rules(150, 120, 0, 0, 0), current: 100, desired: 500, wantReplicas: 235, wantLimited: hpa.ReasonScaleUpLimit},
		{upstream: "scaleUp with percent policy and previous scale up events", upEvents: uniform([]int32{1, 5, 9}, 120), min: 1, maxR: 1000,
			up: rules(0, 0, 200, 120, 0), current: 100, desired: 500, wantReplicas: 255, wantLimited: hpa.ReasonScaleUpLimit},
		{upstream: "scaleUp with percent policy and previous scale up and down events", upEvents: uniform([]int32{4}, 120), downEvents: uniform([]int32{2}, 120),
			min: 1, maxR: 1000, up: rules(0, 0, 300, 300, 0), current: 6, desired: 24, wantReplicas: 16, wantLimited: hpa.ReasonScaleUpLimit},
		{upstream: "scaleDown with default policy and previous events", downEvents: uniform([]int32{1, 5, 9}, 120), min: 1, maxR: 1000, current: 10, desired: 5,
			wantReplicas: 5, wantLimited: hpa.ReasonDesiredWithinRange},
		{upstream: "scaleDown with spec MinReplicas=nil limitation with large pod policy and previous events", downEvents: uniform([]int32{1, 5, 9}, 120),
			min: 1, maxR: 1000, down: rules(115, 120, 0, 0, 300), current: 100, desired: 0, wantReplicas: 1, wantLimited: hpa.ReasonTooFewReplicas},
		{upstream: "scaleDown with spec MinReplicas limitation with large pod policy and previous events", downEvents: uniform([]int32{1, 5, 9}, 120),
			min: 5, maxR: 1000, down: rules(130, 120, 0, 0, 300), current: 100, desired: 0, wantReplicas: 5, wantLimited: hpa.ReasonTooFewReplicas},
		{upstream: "scaleDown with spec MinReplicas limitation with large percent policy and previous events", downEvents: uniform([]int32{1, 5, 9}, 120),
			min: 5, maxR: 1000, down: rules(0, 0, 100, 120, 300), current: 100, desired: 2, wantReplicas: 5, wantLimited: hpa.ReasonTooFewReplicas},
		{upstream: "scaleDown with pod policy limitation and previous events", downEvents: uniform([]int32{1, 5, 9}, 120), min: 1, maxR: 1000,
			down: rules(5, 120, 0, 0, 300), current: 100, desired: 2, wantReplicas: 100, wantLimited: hpa.ReasonScaleDownLimit},
		{upstream: "scaleDown with percent policy limitation and previous events", downEvents: uniform([]int32{2, 4, 6}, 120), min: 1, maxR: 1000,
			down: rules(0, 0, 50, 120, 300), current: 100, desired: 0, wantReplicas: 56, wantLimited: hpa.ReasonScaleDownLimit},
		{upstream: "scaleDown with percent policy and previous scale up and down events", upEvents: uniform([]int32{2}, 120), downEvents: uniform([]int32{4}, 120),
			min: 1, maxR: 1000, down: rules(0, 0, 50, 180, 0), current: 10, desired: 1, wantReplicas: 6, wantLimited: hpa.ReasonScaleDownLimit},
		{upstream: "scaleDown with previous events preventing further scale down", downEvents: uniform([]int32{10, 10, 10}, 120), min: 1, maxR: 1000,
			down: rules(0, 0, 10, 120, 300), current: 100, desired: 0, wantReplicas: 100, wantLimited: hpa.ReasonScaleDownLimit},
		{upstream: "scaleDown with with previous events still allowing more scale down", downEvents: uniform([]int32{10, 10, 10}, 120), min: 1, maxR: 1000,
			down: rules(0, 0, 1000, 120, 300), current: 10, desired: 5, wantReplicas: 5, wantLimited: hpa.ReasonDesiredWithinRange},
		{upstream: "check 'outdated' flag for events for one behavior for up", upEvents: uniform([]int32{8, 12, 9, 11}, 120), min: 1, maxR: 1000,
			up: rules(1000, 60, 0, 0, 0), current: 100, desired: 200, wantReplicas: 200, wantLimited: hpa.ReasonDesiredWithinRange},
		{upstream: "check that events were not marked 'outdated' for two different policies in the behavior for up", upEvents: uniform([]int32{8, 12, 9, 11}, 120),
			min: 1, maxR: 1000, up: rules(1000, 120, 100, 60, 0), current: 100, desired: 200, wantReplicas: 200, wantLimited: hpa.ReasonDesiredWithinRange},
		{upstream: "check that events were marked 'outdated' for two different policies in the behavior for up", upEvents: uniform([]int32{8, 12, 9, 11}, 120),
			min: 1, maxR: 1000, up: rules(1000, 30, 100, 60, 0), current: 100, desired: 200, wantReplicas: 200, wantLimited: hpa.ReasonDesiredWithinRange},
		{upstream: "check 'outdated' flag for events for one behavior for down", downEvents: uniform([]int32{8, 12, 9, 11}, 120), min: 1, maxR: 1000,
			down: rules(1000, 60, 0, 0, 300), current: 100, desired: 5, wantReplicas: 5, wantLimited: hpa.ReasonDesiredWithinRange},
		{upstream: "check that events were not marked 'outdated' for two different policies in the behavior for down", downEvents: uniform([]int32{8, 12, 9, 11}, 120),
			min: 1, maxR: 1000, down: rules(1000, 120, 100, 60, 300), current: 100, desired: 5, wantReplicas: 5, wantLimited: hpa.ReasonDesiredWithinRange},
		{upstream: "check that events were marked 'outdated' for two different policies in the behavior for down", downEvents: uniform([]int32{8, 12, 9, 11}, 120),
			min: 1, maxR: 1000, down: rules(1000, 30, 100, 60, 300), current: 100, desired: 5, wantReplicas: 5, wantLimited: hpa.ReasonDesiredWithinRange},
		// Beyond upstream's rows: each comparison of
		// convertDesiredReplicasWithBehaviorRate at equality (the default
		// scale-up limit from 5 replicas is max(5+4, 2×5) = 10).
		{upstream: "idlescale: desired exactly the scale-up limit", min: 1, maxR: 10, current: 5, desired: 10, wantReplicas: 10, wantLimited: hpa.ReasonDesiredWithinRange},
		{upstream: "idlescale: maxReplicas exactly the scale-up limit", min: 1, maxR: 10, current: 5, desired: 12, wantReplicas: 10, wantLimited: hpa.ReasonTooManyReplicas},
		{upstream: "idlescale: no change above maxReplicas is left as it is", min: 1, maxR: 10, current: 12, desired: 12, wantReplicas: 12, wantLimited: hpa.ReasonDesiredWithinRange},
		{upstream: "idlescale: no change below minReplicas is left as it is", min: 2, maxR: 10, current: 1, desired: 1, wantReplicas: 1, wantLimited: hpa.ReasonDesiredWithinRange},
		{upstream: "idlescale: minReplicas exactly the scale-down limit", min: 5, maxR: 1000, down: rules(0, 0, 50, 60, 300), current: 10, desired: 2,
			wantReplicas: 5, wantLimited: hpa.ReasonTooFewReplicas},
	}
	for _, tt := range tests {
		t.Run(tt.upstream, func(t *testing.T) {
			t.Parallel()
			got, err := testConfig.Normalize(hpa.NormalizeInput{
				Now: now, Current: tt.current, Desired: tt.desired, Min: tt.min, Max: tt.maxR,
				Behavior: &hpa.Behavior{ScaleUp: tt.up, ScaleDown: tt.down},
				History:  hpa.History{ScaleUpEvents: tt.upEvents, ScaleDownEvents: tt.downEvents},
			})
			require.NoError(t, err)
			assert.Equal(t, tt.wantReplicas, got.Replicas)
			assert.Equal(t, tt.wantLimited, got.ScalingLimited)
		})
	}
}

// TestNormalizeInvalid pins that Normalize refuses a behavior the API
// server would refuse.
func TestNormalizeInvalid(t *testing.T) {
	t.Parallel()
	_, err := testConfig.Normalize(hpa.NormalizeInput{Now: now, Current: 1, Desired: 2, Min: 1, Max: 5,
		Behavior: &hpa.Behavior{ScaleUp: &hpa.ScalingRules{Policies: []hpa.ScalingPolicy{{Type: hpa.PolicyPods, Value: 1, Period: 0}}}}})
	var inv *providerInvalid
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "behavior.scale_up.policies[0].period", inv.Field)
}

// TestNormalizeAbleToScale pins the AbleToScale reason of a normalization
// with a behavior: the direction whose stabilization window held the
// recommendation, or ready when none did.
func TestNormalizeAbleToScale(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name             string
		up               *hpa.ScalingRules
		log              []hpa.TimedReplicas
		current, desired int32
		wantStabilized   int32
		want             string
	}{
		{"a scale down held by its window", nil, []hpa.TimedReplicas{{Replicas: 8, At: now.Add(-time.Minute)}}, 10, 5, 8, hpa.ReasonScaleDownStabilized},
		{"a scale up held by its window", rules(4, 15, 100, 15, 300), []hpa.TimedReplicas{{Replicas: 6, At: now.Add(-time.Minute)}}, 5, 10, 6, hpa.ReasonScaleUpStabilized},
		{"not held", nil, nil, 5, 7, 7, hpa.ReasonReadyForNewScale},
	} {
		got, err := testConfig.Normalize(hpa.NormalizeInput{Now: now, Current: tc.current, Desired: tc.desired, Min: 1, Max: 100,
			Behavior: &hpa.Behavior{ScaleUp: tc.up}, History: hpa.History{Recommendations: tc.log}})
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.wantStabilized, got.Stabilized, tc.name)
		assert.Equal(t, tc.want, got.AbleToScale, tc.name)
	}
}

// TestNormalizeInvalidInput pins that Normalize refuses an input no HPA
// has, naming the field, instead of bounding a proposal by it: a minimum
// above the maximum gave a count above MaxReplicas, a negative count or
// change a negative count or a looser rate limit.
func TestNormalizeInvalidInput(t *testing.T) {
	t.Parallel()
	valid := hpa.NormalizeInput{Now: now, Current: 3, Desired: 4, Min: 1, Max: 5, Behavior: &hpa.Behavior{}}
	_, err := testConfig.Normalize(valid)
	require.NoError(t, err)
	for _, tc := range []struct {
		field  string
		change func(*hpa.NormalizeInput)
	}{
		{"now", func(in *hpa.NormalizeInput) { in.Now = time.Time{} }},
		{"current", func(in *hpa.NormalizeInput) { in.Current = -1 }},
		{"desired", func(in *hpa.NormalizeInput) { in.Desired = -1 }},
		{"min", func(in *hpa.NormalizeInput) { in.Min = -1 }},
		{"max", func(in *hpa.NormalizeInput) { in.Min, in.Max = 6, 5 }},
		{"max", func(in *hpa.NormalizeInput) { in.Min, in.Max = 0, 0 }},
		{"history.scale_up_events[1].change", func(in *hpa.NormalizeInput) {
			in.History.ScaleUpEvents = []hpa.ScaleEvent{{Change: 1, At: now}, {Change: -4, At: now}}
		}},
		{"history.scale_down_events[0].change", func(in *hpa.NormalizeInput) {
			in.History.ScaleDownEvents = []hpa.ScaleEvent{{Change: -1, At: now}}
		}},
	} {
		in := valid
		tc.change(&in)
		_, err := testConfig.Normalize(in)
		var inv *providerInvalid
		require.ErrorAs(t, err, &inv, tc.field)
		assert.Equal(t, tc.field, inv.Field)
	}
}

// TestBehaviorDownscaleWindowInWholeSeconds pins the scale-down window a
// Behavior without one takes from the Config: whole seconds, as the
// controller converts it to stabilizationWindowSeconds (90.5 s is 90 s),
// while the legacy normalization keeps the duration. A recommendation
// 90.2 s old has left the window of 90 s. (The duration was used as is.)
func TestBehaviorDownscaleWindowInWholeSeconds(t *testing.T) {
	t.Parallel()
	cfg := hpa.Config{DownscaleStabilizationWindow: 90500 * time.Millisecond}
	log := []hpa.TimedReplicas{{Replicas: 10, At: now.Add(-90200 * time.Millisecond)}}
	got, err := cfg.Normalize(hpa.NormalizeInput{Now: now, Current: 10, Desired: 5, Min: 1, Max: 10,
		Behavior: &hpa.Behavior{}, History: hpa.History{Recommendations: log}})
	require.NoError(t, err)
	assert.Equal(t, int32(5), got.Stabilized, "with a behavior: a window of 90 s")
	got, err = cfg.Normalize(hpa.NormalizeInput{Now: now, Current: 10, Desired: 5, Min: 1, Max: 10, History: hpa.History{Recommendations: log}})
	require.NoError(t, err)
	assert.Equal(t, int32(10), got.Stabilized, "without: the window of 90.5 s")
	calc, err := hpa.NewCalculator(cfg, hpa.Spec{MaxReplicas: 10, Behavior: &hpa.Behavior{}})
	require.NoError(t, err)
	assert.Equal(t, 90*time.Second, *calc.Spec().Behavior.ScaleDown.StabilizationWindow)
}

// TestNormalizeValidInputAtItsBounds pins what Normalize accepts at the
// edges its validation draws: a current count of 0 (a target scaled to
// zero), a maximum of 1 and a maximum equal to the minimum, and scale
// events of no change in either direction are valid input, normalized,
// not refused.
func TestNormalizeValidInputAtItsBounds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   hpa.NormalizeInput
		want int32
	}{
		{"current 0", hpa.NormalizeInput{Now: now, Current: 0, Desired: 2, Min: 0, Max: 5, Behavior: &hpa.Behavior{}}, 2},
		{"current 0 without a behavior", hpa.NormalizeInput{Now: now, Current: 0, Desired: 0, Min: 0, Max: 5}, 0},
		{"max 1", hpa.NormalizeInput{Now: now, Current: 1, Desired: 3, Min: 0, Max: 1}, 1},
		{"max equal to min", hpa.NormalizeInput{Now: now, Current: 3, Desired: 1, Min: 3, Max: 3, Behavior: &hpa.Behavior{}}, 3},
		{"min = max = 1", hpa.NormalizeInput{Now: now, Current: 1, Desired: 1, Min: 1, Max: 1}, 1},
		{"scale events of no change", hpa.NormalizeInput{Now: now, Current: 3, Desired: 4, Min: 1, Max: 5, Behavior: &hpa.Behavior{},
			History: hpa.History{ScaleUpEvents: []hpa.ScaleEvent{{Change: 0, At: now}}, ScaleDownEvents: []hpa.ScaleEvent{{Change: 0, At: now}}}}, 4},
	} {
		got, err := testConfig.Normalize(tc.in)
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.want, got.Replicas, tc.name)
	}
}

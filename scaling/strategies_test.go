package scaling_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
)

func TestThreshold(t *testing.T) {
	t.Parallel()
	s, err := scaling.NewThreshold(scaling.ThresholdConfig{})
	require.NoError(t, err)
	cpu := func(v ...float64) provider.Series { return series(provider.MetricCPU, t0, time.Minute, v...) }
	tests := []struct {
		name        string
		desired     int
		give        provider.Series
		want        int
		wantFitness float64
	}{
		{name: "above 0.8 doubles", desired: 3, give: cpu(0.5, 0.85), want: 6, wantFitness: 0.5},
		{name: "exactly 0.8 stays (strictly above)", desired: 3, give: cpu(0.8), want: 3, wantFitness: 0.5},
		{name: "below 0.3 halves, rounded down", desired: 5, give: cpu(0.29), want: 2, wantFitness: 0.5},
		{name: "exactly 0.3 stays (strictly below)", desired: 5, give: cpu(0.3), want: 5, wantFitness: 0.5},
		{name: "between stays", desired: 4, give: cpu(0.5), want: 4, wantFitness: 0.5},
		{name: "from zero up goes to one", desired: 0, give: cpu(0.95), want: 1, wantFitness: 0.5},
		{name: "the latest step with data counts, one step old", desired: 4, give: cpu(0.95, gap), want: 8, wantFitness: 0.5 * 0.8},
		{name: "no data keeps the capacity with no fitness", desired: 4, give: cpu(gap, gap), want: 4, wantFitness: 0},
		{name: "stale data lowers fitness", desired: 4, give: cpu(0.95, gap, gap, gap, gap), want: 8, wantFitness: 0.5 * 0.2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec, err := s.Recommend(t.Context(), stateWith(group(tt.desired, 0, 100), tt.give))
			require.NoError(t, err)
			assert.Equal(t, tt.want, rec.Capacity.Desired, rec.Reason)
			assert.InDelta(t, tt.wantFitness, rec.Fitness, 1e-9)
		})
	}
	// No series at all: kept, and the reason says why.
	rec, err := s.Recommend(t.Context(), scaling.State{Now: t0, Target: group(4, 0, 100)})
	require.NoError(t, err)
	assert.Equal(t, 4, rec.Capacity.Desired)
	assert.Contains(t, rec.Reason, "no cpu data")
}

func TestThresholdWindow(t *testing.T) {
	t.Parallel()
	s, err := scaling.NewThreshold(scaling.ThresholdConfig{Window: 3 * time.Minute, Up: 0.7, Down: 0.2, UpFactor: 1.5, DownFactor: 4})
	require.NoError(t, err)
	rec, err := s.Recommend(t.Context(), stateWith(group(4, 0, 100), series(provider.MetricCPU, t0, time.Minute, 0.1, 0.9, 0.8, 0.7)))
	require.NoError(t, err)
	assert.Equal(t, 6, rec.Capacity.Desired, "mean of the last three 0.8 > 0.7: ⌈4 × 1.5⌉")
	rec, err = s.Recommend(t.Context(), stateWith(group(9, 0, 100), series(provider.MetricCPU, t0, time.Minute, 0.1, 0.1, 0.15)))
	require.NoError(t, err)
	assert.Equal(t, 2, rec.Capacity.Desired, "⌊9 / 4⌋")
}

// TestTargetValueNomad restates every case of nomad-autoscaler's
// target-value strategy tests (plugins/builtin/strategy/target-value/
// plugin/plugin_test.go at hashicorp/nomad-autoscaler ede4e617):
// TestStrategyPlugin_Run's calculation cases and
// TestStrategyPlugin_calculateDirection's rows. Its config-parsing cases
// are in TestTargetValueConfigErrors.
func TestTargetValueNomad(t *testing.T) {
	t.Parallel()
	tests := []struct {
		upstream      string
		count         int
		values        []float64 // the metric's samples, oldest first
		target        float64
		threshold     *float64
		maxUp         *int
		maxDown       *int
		wantCount     int
		wantDirection int
		wantReason    string
	}{
		{upstream: "factor equals 1 with non-zero count", count: 2, values: []float64{13}, target: 13, wantCount: 2},
		{upstream: "factor greater than 1 with non-zero count", count: 2, values: []float64{26}, target: 13, wantCount: 4, wantDirection: 1,
			wantReason: "scaling up because factor is 2.000000"},
		{upstream: "scale from 0 with non-zero target", count: 0, values: []float64{20}, target: 10, wantCount: 2, wantDirection: 1,
			wantReason: "scaling up because factor is 2.000000"},
		{upstream: "no scaling based on small target/metric difference", count: 1, values: []float64{9}, target: 10, wantCount: 1},
		{upstream: "scale from 0 with 0 target eg. build queue with 0 running build agents", count: 0, values: []float64{1}, target: 10, wantCount: 1,
			wantDirection: 1, wantReason: "scaling up because factor is 0.100000"},
		{upstream: "scale to 0 with 0 target eg. idle build agents", count: 5, values: []float64{0}, target: 0, wantCount: 0, wantDirection: -1,
			wantReason: "scaling down because factor is 0.000000"},
		{upstream: "don't scale when the factor change is small", count: 8, values: []float64{5.00001}, target: 5, wantCount: 8},
		{upstream: "scale up on small changes if threshold is small", count: 8, values: []float64{5.00001}, target: 5, threshold: fp(0.000001),
			wantCount: 9, wantDirection: 1, wantReason: "scaling up because factor is 1.000002"},
		{upstream: "properly handle multiple input", count: 2, values: []float64{13, 14, 15, 16}, target: 16, wantCount: 2},
		{upstream: "scale up limited to max_scale_up", count: 1, values: []float64{210}, target: 50, maxUp: ip(2), wantCount: 3, wantDirection: 1,
			wantReason: "scaling up because factor is 4.200000"},
		{upstream: "scale down limited to max_scale_down", count: 5, values: []float64{10}, target: 210, maxDown: ip(1), wantCount: 4, wantDirection: -1,
			wantReason: "scaling down because factor is 0.047619"},
		// calculateDirection (target 1, so the factor is the value).
		{upstream: "calculateDirection: count 0, factor 1 → up", count: 0, values: []float64{1}, target: 1, threshold: fp(0), wantCount: 1, wantDirection: 1},
		{upstream: "calculateDirection: count 5, factor 1 → none", count: 5, values: []float64{1}, target: 1, threshold: fp(0), wantCount: 5},
		{upstream: "calculateDirection: count 4, factor 0.5 → down", count: 4, values: []float64{0.5}, target: 1, threshold: fp(0), wantCount: 2, wantDirection: -1},
		{upstream: "calculateDirection: count 5, factor 2 → up", count: 5, values: []float64{2}, target: 1, threshold: fp(0), wantCount: 10, wantDirection: 1},
		{upstream: "calculateDirection: count 5, factor 1.0001, threshold 0.01 → none", count: 5, values: []float64{1.0001}, target: 1, threshold: fp(0.01), wantCount: 5},
		{upstream: "calculateDirection: count 5, factor 1.02, threshold 0.01 → up", count: 5, values: []float64{1.02}, target: 1, threshold: fp(0.01), wantCount: 6, wantDirection: 1},
		{upstream: "calculateDirection: count 5, factor 0.99, threshold 0.01 → none", count: 5, values: []float64{0.99}, target: 1, threshold: fp(0.01), wantCount: 5},
		// nomad's calculateDirection says down; Run then finds ⌈5 × 0.98⌉ = 5
		// unchanged and takes no action, which is what a decision reports.
		{upstream: "calculateDirection: count 5, factor 0.98, threshold 0.01 → down (Run: no change)", count: 5, values: []float64{0.98}, target: 1,
			threshold: fp(0.01), wantCount: 5},
		// Not upstream: a limit as large as an int is no limit (count +
		// max_scale_up overflowed, and a scale up went to the group's min).
		{upstream: "max_scale_up of math.MaxInt", count: 2, values: []float64{26}, target: 13, maxUp: ip(math.MaxInt), wantCount: 4, wantDirection: 1},
		{upstream: "max_scale_down of math.MaxInt", count: 5, values: []float64{10}, target: 210, maxDown: ip(math.MaxInt), wantCount: 1, wantDirection: -1},
	}
	for _, tt := range tests {
		t.Run(tt.upstream, func(t *testing.T) {
			t.Parallel()
			s, err := scaling.NewTargetValue(scaling.TargetValueConfig{Metric: provider.MetricRequests, Target: fp(tt.target), Threshold: tt.threshold,
				MaxScaleUp: tt.maxUp, MaxScaleDown: tt.maxDown})
			require.NoError(t, err)
			rec, err := s.Recommend(t.Context(), stateWith(group(tt.count, 0, 100), series(provider.MetricRequests, t0, time.Minute, tt.values...)))
			require.NoError(t, err)
			assert.Equal(t, tt.wantCount, rec.Capacity.Desired)
			if tt.wantReason != "" {
				assert.Equal(t, tt.wantReason, rec.Reason)
			}
			th := scaling.DefaultTargetValueThreshold
			if tt.threshold != nil {
				th = *tt.threshold
			}
			n, _, dir := scaling.TargetValueCount(tt.count, tt.values[len(tt.values)-1], tt.target, th, tt.maxUp, tt.maxDown)
			assert.Equal(t, tt.wantCount, n)
			assert.Equal(t, tt.wantDirection, dir)
		})
	}
}

// TestTargetValueEmptyMetrics restates nomad's "empty metrics" case: no
// data, no action.
func TestTargetValueEmptyMetrics(t *testing.T) {
	t.Parallel()
	s, err := scaling.NewTargetValue(scaling.TargetValueConfig{Metric: provider.MetricRequests, Target: fp(13)})
	require.NoError(t, err)
	rec, err := s.Recommend(t.Context(), stateWith(group(2, 0, 100), series(provider.MetricRequests, t0, time.Minute, gap, gap)))
	require.NoError(t, err)
	assert.Equal(t, 2, rec.Capacity.Desired)
	assert.Zero(t, rec.Fitness)
}

// TestTargetValueConfigErrors restates nomad's configuration cases: a
// missing target, and values that do not parse, as policy-file errors.
func TestTargetValueConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		upstream string
		block    string
	}{
		{"incorrect strategy input config (missing target)", "{metric: requests}"},
		{"incorrect input strategy config target value", "{metric: requests, target: not-the-float-you're-looking-for}"},
		{"incorrect input strategy config threshold value", "{metric: requests, target: 0, threshold: not-the-float-you're-looking-for}"},
		{"incorrect input strategy config max_scale_up value", "{metric: requests, target: 0, max_scale_up: not-the-int-you're-looking-for}"},
		{"incorrect input strategy config max_scale_down value", "{metric: requests, target: 0, max_scale_down: not-the-int-you're-looking-for}"},
	}
	for _, tt := range tests {
		t.Run(tt.upstream, func(t *testing.T) {
			t.Parallel()
			_, err := scaling.ParseConfig(strings.NewReader("targets:\n  - id: q\n    strategies:\n      - type: target_value\n        target_value: " + tt.block + "\n"))
			require.ErrorIs(t, err, provider.ErrInvalid)
		})
	}
}

func TestStepScaling(t *testing.T) {
	t.Parallel()
	out := scaling.StepPolicy{Name: "out", Threshold: 0.6, Comparison: scaling.GreaterOrEqual, AdjustmentType: scaling.ChangeInCapacity, Steps: []scaling.StepAdjustment{
		{LowerBound: fp(0), UpperBound: fp(0.15), Adjustment: 1},
		{LowerBound: fp(0.15), UpperBound: fp(0.25), Adjustment: 3},
		{LowerBound: fp(0.25), Adjustment: 4},
	}}
	in := scaling.StepPolicy{Name: "in", Threshold: 0.3, Comparison: scaling.LessOrEqual, AdjustmentType: scaling.PercentChangeInCapacity, MinAdjustmentMagnitude: 2,
		Steps: []scaling.StepAdjustment{{UpperBound: fp(0), Adjustment: -25}}}
	s, err := scaling.NewStep(scaling.StepConfig{Policies: []scaling.StepPolicy{out, in}})
	require.NoError(t, err)
	tests := []struct {
		name    string
		desired int
		value   float64
		want    int
	}{
		{"at the threshold: lower bound inclusive", 10, 0.6, 11},
		{"just under a step's upper bound (exclusive above)", 10, 0.7499, 11},
		{"at the next step's lower bound", 10, 0.75, 13},
		{"open upper step", 10, 0.99, 14},
		{"no alarm between", 10, 0.45, 10},
		{"scale in by 25 %, at least 2", 4, 0.2, 2},
		{"scale in by 25 % of 10 rounds toward zero", 10, 0.3, 8},
		{"scale in by 25 % of 20", 20, 0.1, 15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec, err := s.Recommend(t.Context(), stateWith(group(tt.desired, 0, 100), series(provider.MetricCPU, t0, time.Minute, tt.value)))
			require.NoError(t, err)
			assert.Equal(t, tt.want, rec.Capacity.Desired, rec.Reason)
		})
	}
}

func TestStepAdjustmentTypes(t *testing.T) {
	t.Parallel()
	pol := func(typ scaling.AdjustmentType, adj int, minMag int) scaling.StepPolicy {
		return scaling.StepPolicy{Threshold: 0.5, Comparison: scaling.Greater, AdjustmentType: typ, MinAdjustmentMagnitude: minMag,
			Steps: []scaling.StepAdjustment{{LowerBound: fp(0), Adjustment: adj}}}
	}
	tests := []struct {
		name    string
		pol     scaling.StepPolicy
		desired int
		want    int
	}{
		{"exact capacity", pol(scaling.ExactCapacity, 7, 0), 3, 7},
		{"change in capacity", pol(scaling.ChangeInCapacity, 2, 0), 3, 5},
		{"percent: 12.7 rounds down to 12", pol(scaling.PercentChangeInCapacity, 127, 0), 10, 22},
		{"percent: 0.67 rounds up to 1", pol(scaling.PercentChangeInCapacity, 67, 0), 1, 2},
		{"percent with a minimum magnitude", pol(scaling.PercentChangeInCapacity, 25, 2), 4, 6},
		{"percent: -0.58 rounds to -1", pol(scaling.PercentChangeInCapacity, -58, 0), 1, 0},
		{"percent: -6.67 rounds to -6", pol(scaling.PercentChangeInCapacity, -67, 0), 10, 4},
		{"percent: 0 % changes nothing", pol(scaling.PercentChangeInCapacity, 0, 0), 5, 5},
		{"percent of 0 instances changes nothing", pol(scaling.PercentChangeInCapacity, 50, 0), 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := scaling.NewStep(scaling.StepConfig{Policies: []scaling.StepPolicy{tt.pol}})
			require.NoError(t, err)
			rec, err := s.Recommend(t.Context(), stateWith(group(tt.desired, 0, 100), series(provider.MetricCPU, t0, time.Minute, 0.9)))
			require.NoError(t, err)
			assert.Equal(t, tt.want, rec.Capacity.Desired, rec.Reason)
		})
	}
}

func TestStepEvaluationPeriodsAndLargestCapacity(t *testing.T) {
	t.Parallel()
	a := scaling.StepPolicy{Name: "a", Threshold: 0.5, Comparison: scaling.Greater, EvaluationPeriods: 3, AdjustmentType: scaling.ChangeInCapacity,
		Steps: []scaling.StepAdjustment{{LowerBound: fp(0), Adjustment: 5}}}
	b := scaling.StepPolicy{Name: "b", Threshold: 0.5, Comparison: scaling.Greater, AdjustmentType: scaling.ChangeInCapacity,
		Steps: []scaling.StepAdjustment{{LowerBound: fp(0), Adjustment: 1}}}
	s, err := scaling.NewStep(scaling.StepConfig{Policies: []scaling.StepPolicy{a, b}})
	require.NoError(t, err)
	rec, err := s.Recommend(t.Context(), stateWith(group(2, 0, 100), series(provider.MetricCPU, t0, time.Minute, 0.2, 0.9, 0.9)))
	require.NoError(t, err)
	assert.Equal(t, 3, rec.Capacity.Desired, "a needs three breaching periods; b fires")
	rec, err = s.Recommend(t.Context(), stateWith(group(2, 0, 100), series(provider.MetricCPU, t0, time.Minute, 0.9, 0.9, 0.9)))
	require.NoError(t, err)
	assert.Equal(t, 7, rec.Capacity.Desired, "both fire: the largest capacity wins")
}

func TestStepConfigErrors(t *testing.T) {
	t.Parallel()
	base := func(steps ...scaling.StepAdjustment) scaling.StepConfig {
		return scaling.StepConfig{Policies: []scaling.StepPolicy{{Threshold: 1, Comparison: scaling.Greater, AdjustmentType: scaling.ChangeInCapacity, Steps: steps}}}
	}
	tests := []struct {
		name  string
		give  scaling.StepConfig
		field string
	}{
		{"no policies", scaling.StepConfig{}, "policies"},
		{"both bounds open", base(scaling.StepAdjustment{Adjustment: 1}), "policies[0].steps[0]"},
		{"gap", base(scaling.StepAdjustment{LowerBound: fp(0), UpperBound: fp(1)}, scaling.StepAdjustment{LowerBound: fp(2)}), "policies[0].steps"},
		{"overlap", base(scaling.StepAdjustment{LowerBound: fp(0), UpperBound: fp(2)}, scaling.StepAdjustment{LowerBound: fp(1)}), "policies[0].steps"},
		{"an empty range", base(scaling.StepAdjustment{LowerBound: fp(0), UpperBound: fp(0)}, scaling.StepAdjustment{LowerBound: fp(0)}), "policies[0].steps[0].upper_bound"},
		{"a negative exact capacity", scaling.StepConfig{Policies: []scaling.StepPolicy{{Threshold: 1, Comparison: scaling.Greater, AdjustmentType: scaling.ExactCapacity,
			Steps: []scaling.StepAdjustment{{LowerBound: fp(0), Adjustment: -1}}}}}, "policies[0].steps[0].adjustment"},
		{"positive upper bound without an open one", base(scaling.StepAdjustment{LowerBound: fp(0), UpperBound: fp(2)}), "policies[0].steps"},
		{"unknown comparison", scaling.StepConfig{Policies: []scaling.StepPolicy{{Comparison: "above", AdjustmentType: scaling.ExactCapacity,
			Steps: []scaling.StepAdjustment{{LowerBound: fp(0)}}}}}, "policies[0].comparison"},
		{"magnitude without percent", scaling.StepConfig{Policies: []scaling.StepPolicy{{Comparison: scaling.Less, AdjustmentType: scaling.ExactCapacity,
			MinAdjustmentMagnitude: 2, Steps: []scaling.StepAdjustment{{UpperBound: fp(0)}}}}}, "policies[0].min_adjustment_magnitude"},
		// Adjustments are EC2 Auto Scaling's int32s: a larger one
		// overflowed the new capacity, and a scale out of math.MaxInt
		// instances scaled the group in to 0.
		{"an adjustment beyond int32", base(scaling.StepAdjustment{LowerBound: fp(0), Adjustment: math.MaxInt}), "policies[0].steps[0].adjustment"},
		{"a negative adjustment beyond int32", scaling.StepConfig{Policies: []scaling.StepPolicy{{Threshold: 1, Comparison: scaling.Less, AdjustmentType: scaling.ChangeInCapacity,
			Steps: []scaling.StepAdjustment{{UpperBound: fp(0), Adjustment: math.MinInt}}}}}, "policies[0].steps[0].adjustment"},
		{"a magnitude beyond int32", scaling.StepConfig{Policies: []scaling.StepPolicy{{Threshold: 1, Comparison: scaling.Greater, AdjustmentType: scaling.PercentChangeInCapacity,
			MinAdjustmentMagnitude: math.MaxInt, Steps: []scaling.StepAdjustment{{LowerBound: fp(0), Adjustment: 10}}}}}, "policies[0].min_adjustment_magnitude"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := scaling.NewStep(tt.give)
			var inv *provider.InvalidError
			require.ErrorAs(t, err, &inv)
			assert.Equal(t, tt.field, inv.Field)
		})
	}
	// An exact capacity of 0 is one.
	_, err := scaling.NewStep(scaling.StepConfig{Policies: []scaling.StepPolicy{{Threshold: 1, Comparison: scaling.Greater, AdjustmentType: scaling.ExactCapacity,
		Steps: []scaling.StepAdjustment{{LowerBound: fp(0), Adjustment: 0}}}}})
	require.NoError(t, err)
	// A metric that is not one names itself; ranges that start at the
	// same bound overlap at the end of the first one given.
	bad := base(scaling.StepAdjustment{LowerBound: fp(0)})
	bad.Metric = "no such metric"
	_, err = scaling.NewStep(bad)
	require.ErrorIs(t, err, provider.ErrUnknownMetric)
	_, err = scaling.NewStep(base(scaling.StepAdjustment{LowerBound: fp(0), UpperBound: fp(10)}, scaling.StepAdjustment{LowerBound: fp(0), UpperBound: fp(20)}))
	require.ErrorIs(t, err, provider.ErrInvalid)
	assert.Contains(t, err.Error(), "the ranges overlap or leave a gap at 10")
}

package scaling_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/scaling/hpa"
)

// TestHPAStrategyInputsAndFitness pins what an HPA recommendation
// reports: a utilization metric in percent and a value metric in its own
// unit (milli-units / 1000), each metric's proposal, a failed metric as
// NaN, the fitness 0.8 × the share of metrics with values, and the raw
// proposal 0 of a scale to zero (not the current count).
func TestHPAStrategyInputsAndFitness(t *testing.T) {
	t.Parallel()
	queue := provider.Metric("custom/queue_depth")
	s, err := scaling.NewHPA(scaling.HPAConfig{Metrics: []hpa.MetricSpec{
		{Type: hpa.SourceResource, Resource: &hpa.ResourceMetricSource{Name: hpa.ResourceCPU, Target: hpa.MetricTarget{Type: hpa.TargetUtilization, AverageUtilization: 60}}},
		{Type: hpa.SourceExternal, External: &hpa.ExternalMetricSource{Metric: hpa.MetricIdentifier{Name: string(queue)}, Target: hpa.MetricTarget{Type: hpa.TargetAverageValue, AverageValue: 10}}},
	}}, "hpa")
	require.NoError(t, err)
	inputs := func(r scaling.Recommendation) map[string]float64 {
		out := map[string]float64{}
		for _, in := range r.Inputs {
			out[in.Name] = in.Value
		}
		return out
	}
	g := group(4, 0, 20)
	rec, err := s.Recommend(t.Context(), stateWith(g, series(provider.MetricCPU, t0, time.Minute, 0.9), series(queue, t0, time.Minute, 50)))
	require.NoError(t, err)
	in := inputs(rec)
	assert.InDelta(t, 90, in["cpu resource utilization (percentage of request)"], 1e-9, "%v", rec.Inputs)
	assert.InDelta(t, 6, in["cpu resource utilization (percentage of request) proposal"], 1e-9, "⌈4 × 90/60⌉")
	assert.InDelta(t, 12.5, in["external metric custom/queue_depth"], 1e-9, "the queue per instance, in its own unit (50 / 4)")
	assert.InDelta(t, 5, in["external metric custom/queue_depth proposal"], 1e-9, "⌈50/10⌉")
	assert.InDelta(t, 0.8, rec.Fitness, 1e-9)

	// The queue cannot be read: scale up on CPU, fitness halved, the
	// failed metric NaN.
	st := stateWith(g, series(provider.MetricCPU, t0, time.Minute, 0.9))
	st.MetricErrors = map[provider.Metric]error{queue: errors.New("backend down")}
	rec, err = s.Recommend(t.Context(), st)
	require.NoError(t, err)
	in = inputs(rec)
	assert.True(t, math.IsNaN(in["external metric custom/queue_depth (failed)"]), "%v", rec.Inputs)
	assert.InDelta(t, 0.4, rec.Fitness, 1e-9)
	assert.Equal(t, 6, rec.Capacity.Desired, rec.Reason)

	// An empty queue and idle CPU with min 0: the raw proposal is 0.
	ext, err := scaling.NewHPA(scaling.HPAConfig{Metrics: []hpa.MetricSpec{
		{Type: hpa.SourceExternal, External: &hpa.ExternalMetricSource{Metric: hpa.MetricIdentifier{Name: string(queue)}, Target: hpa.MetricTarget{Type: hpa.TargetAverageValue, AverageValue: 10}}},
	}}, "hpa")
	require.NoError(t, err)
	rec, err = ext.Recommend(t.Context(), stateWith(g, series(queue, t0, time.Minute, 0)))
	require.NoError(t, err)
	assert.Equal(t, 0, rec.Proposal, rec.Reason)
}

// TestHPAStrategyFewerPodMetrics pins a pod source that returns fewer
// metric values than the HPA has metrics: the missing ones are errors
// (no scale down, lower fitness), not a panic.
func TestHPAStrategyFewerPodMetrics(t *testing.T) {
	t.Parallel()
	s, err := scaling.NewHPA(scaling.HPAConfig{Metrics: []hpa.MetricSpec{
		{Type: hpa.SourceResource, Resource: &hpa.ResourceMetricSource{Name: hpa.ResourceCPU, Target: hpa.MetricTarget{Type: hpa.TargetUtilization, AverageUtilization: 80}}},
		{Type: hpa.SourceResource, Resource: &hpa.ResourceMetricSource{Name: hpa.ResourceMemory, Target: hpa.MetricTarget{Type: hpa.TargetUtilization, AverageUtilization: 80}}},
	}}, "hpa")
	require.NoError(t, err)
	started := t0.Add(-time.Hour)
	obs := &scaling.PodObservation{StatusReplicas: 4, Metrics: []hpa.MetricValues{{}}}
	for _, name := range []string{"a", "b", "c", "d"} {
		obs.Pods = append(obs.Pods, hpa.Pod{Name: name, Phase: hpa.PhaseRunning, Ready: hpa.ConditionTrue, StartTime: started, ReadyTransition: started,
			Containers: []hpa.Container{{Name: "app", Requests: hpa.ResourceList{hpa.ResourceCPU: 1000, hpa.ResourceMemory: 1000}}}})
		obs.Metrics[0].Samples = append(obs.Metrics[0].Samples, hpa.Sample{Pod: name, Value: 100, Timestamp: t0, Window: time.Minute})
	}
	rec, err := s.Recommend(t.Context(), scaling.State{Now: t0, Target: group(4, 1, 10), Pods: obs})
	require.NoError(t, err)
	assert.Equal(t, 4, rec.Capacity.Desired, "CPU at 10 %% would scale down, but memory has no values: %s", rec.Reason)
	assert.InDelta(t, 0.4, rec.Fitness, 1e-9)

	// Both metrics observed: full fitness, and the scale down.
	obs.Metrics = append(obs.Metrics, obs.Metrics[0])
	rec, err = s.Recommend(t.Context(), scaling.State{Now: t0, Target: group(4, 1, 10), Pods: obs})
	require.NoError(t, err)
	assert.InDelta(t, 0.8, rec.Fitness, 1e-9)
	assert.Less(t, rec.Proposal, 4, rec.Reason)
}

// TestHPAScaleFromZero pins when an HPA strategy scales a group up from
// zero instances (Kubernetes' HPAScaleToZero): only when its own last
// change, not a rollback, took the group from some instances to zero,
// with min 0 and an object or external metric; otherwise scaling stays
// disabled at zero.
func TestHPAScaleFromZero(t *testing.T) {
	t.Parallel()
	queue := provider.Metric("custom/queue_depth")
	s, err := scaling.NewHPA(scaling.HPAConfig{Metrics: []hpa.MetricSpec{
		{Type: hpa.SourceExternal, External: &hpa.ExternalMetricSource{Metric: hpa.MetricIdentifier{Name: string(queue)}, Target: hpa.MetricTarget{Type: hpa.TargetAverageValue, AverageValue: 10}}},
	}}, "hpa")
	require.NoError(t, err)
	cpuOnly, err := scaling.NewHPA(scaling.HPAConfig{}, "hpa")
	require.NoError(t, err)
	zeroed := scaling.Change{At: t0.Add(-time.Hour), Strategy: "hpa", From: provider.CapacitySpec{Max: 100, Desired: 2}, To: provider.CapacitySpec{Max: 100}}
	for _, tc := range []struct {
		name     string
		strategy *scaling.HPA
		change   func(*scaling.Change)
		min      int
		up       bool
	}{
		{"its own scale to zero", s, func(*scaling.Change) {}, 0, true},
		{"another strategy's", s, func(c *scaling.Change) { c.Strategy = "threshold" }, 0, false},
		{"a rollback", s, func(c *scaling.Change) { c.Rollback = true }, 0, false},
		{"not to zero", s, func(c *scaling.Change) { c.To.Desired = 1 }, 0, false},
		{"from zero", s, func(c *scaling.Change) { c.From.Desired = 0 }, 0, false},
		{"a resource metric only", cpuOnly, func(*scaling.Change) {}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := zeroed
			tc.change(&c)
			g := group(0, tc.min, 20)
			st := stateWith(g, series(queue, t0, time.Minute, 50), series(provider.MetricCPU, t0, time.Minute, 0.5))
			st.History = scaling.History{Changes: []scaling.Change{c},
				Recommendations: []scaling.RecommendationRecord{{At: c.At, Strategy: "hpa", Current: 2, Desired: 0, Proposal: 0, First: true}}}
			rec, err := tc.strategy.Recommend(t.Context(), st)
			require.NoError(t, err)
			if tc.up { // ⌈50/10⌉ = 5, within the legacy scale-up limit max(2 × 0, 4)
				assert.Equal(t, 4, rec.Capacity.Desired, rec.Reason)
				assert.Contains(t, rec.Reason, hpa.ReasonScaleUpLimit)
				return
			}
			assert.Equal(t, 0, rec.Capacity.Desired, rec.Reason)
			assert.Contains(t, rec.Reason, string(hpa.ReasonScalingDisabled))
		})
	}
}

// TestHPAScaleDownPolicyCountsChanges pins how the target's changes feed
// an HPA's scale-down policy: a one-instance-per-10-minutes policy after
// a scale in of one 5 minutes ago holds the group, and lets it go down by
// one once the change is older than the period.
func TestHPAScaleDownPolicyCountsChanges(t *testing.T) {
	t.Parallel()
	zero := time.Duration(0)
	s, err := scaling.NewHPA(scaling.HPAConfig{Behavior: &hpa.Behavior{ScaleDown: &hpa.ScalingRules{StabilizationWindow: &zero,
		Policies: []hpa.ScalingPolicy{{Type: hpa.PolicyPods, Value: 1, Period: 10 * time.Minute}}}}}, "hpa")
	require.NoError(t, err)
	for _, tc := range []struct {
		ago  time.Duration
		want int
	}{{5 * time.Minute, 5}, {10 * time.Minute, 4}, {11 * time.Minute, 4}} {
		st := stateWith(group(5, 1, 20), series(provider.MetricCPU, t0, time.Minute, 0.1))
		st.History = scaling.History{Changes: []scaling.Change{{At: t0.Add(-tc.ago), Strategy: "hpa",
			From: provider.CapacitySpec{Max: 100, Desired: 6}, To: provider.CapacitySpec{Max: 100, Desired: 5}}},
			Recommendations: []scaling.RecommendationRecord{{At: t0.Add(-tc.ago), Strategy: "hpa", Current: 6, Desired: 5, Proposal: 1, First: true}}}
		rec, err := s.Recommend(t.Context(), st)
		require.NoError(t, err)
		assert.Equal(t, tc.want, rec.Capacity.Desired, "a scale in %s ago: %s", tc.ago, rec.Reason)
	}
	// Two instances per 10 minutes: one more may go.
	two, err := scaling.NewHPA(scaling.HPAConfig{Behavior: &hpa.Behavior{ScaleDown: &hpa.ScalingRules{StabilizationWindow: &zero,
		Policies: []hpa.ScalingPolicy{{Type: hpa.PolicyPods, Value: 2, Period: 10 * time.Minute}}}}}, "hpa")
	require.NoError(t, err)
	st := stateWith(group(5, 1, 20), series(provider.MetricCPU, t0, time.Minute, 0.1))
	st.History = scaling.History{Changes: []scaling.Change{{At: t0.Add(-5 * time.Minute), Strategy: "hpa",
		From: provider.CapacitySpec{Max: 100, Desired: 6}, To: provider.CapacitySpec{Max: 100, Desired: 5}}},
		Recommendations: []scaling.RecommendationRecord{{At: t0.Add(-5 * time.Minute), Strategy: "hpa", Current: 6, Desired: 5, Proposal: 1, First: true}}}
	rec, err := two.Recommend(t.Context(), st)
	require.NoError(t, err)
	assert.Equal(t, 4, rec.Capacity.Desired, rec.Reason)
}

// TestHPAStabilizesOnTheOldestRecord pins that the first record of the
// History counts: a recommendation of 8 a minute ago holds a scale down
// of a group someone else brought to 6.
func TestHPAStabilizesOnTheOldestRecord(t *testing.T) {
	t.Parallel()
	s, err := scaling.NewHPA(scaling.HPAConfig{}, "hpa")
	require.NoError(t, err)
	st := stateWith(group(6, 1, 20), series(provider.MetricCPU, t0, time.Minute, 0.1))
	st.History = scaling.History{Recommendations: []scaling.RecommendationRecord{{At: t0.Add(-time.Minute), Strategy: "hpa", Current: 8, Desired: 8, Proposal: 8}}}
	rec, err := s.Recommend(t.Context(), st)
	require.NoError(t, err)
	assert.Equal(t, 8, rec.Capacity.Desired, rec.Reason)
	assert.Contains(t, rec.Reason, hpa.ReasonScaleDownStabilized)
}

// TestScheduledFindsTheLastFire pins the scheduled strategy's search for
// the action in effect: a midnight action found at 00:30, a day-of-month
// action found on its day and not on the days after, a weekday action on
// its weekday only, both day fields restricted matching either (cron's
// rule).
func TestScheduledFindsTheLastFire(t *testing.T) {
	t.Parallel()
	thu := time.Date(2026, 3, 19, 0, 30, 0, 0, time.UTC) // a Thursday
	for _, tc := range []struct {
		schedule string
		now      time.Time
		since    string
	}{
		{"0 0 * * *", thu, "Thu 2026-03-19 00:00 UTC"},
		{"0 8 15 * *", thu.Add(10 * time.Hour), "Sun 2026-03-15 08:00 UTC"},
		{"0 8 * * 1", thu.Add(10 * time.Hour), "Mon 2026-03-16 08:00 UTC"},
		{"0 8 19 * 1", thu.Add(10 * time.Hour), "Thu 2026-03-19 08:00 UTC"}, // the 19th, though not a Monday
		{"0 8 18 * 1", thu.Add(10 * time.Hour), "Wed 2026-03-18 08:00 UTC"}, // the 18th, though not a Monday
	} {
		s, err := scaling.NewScheduled(scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{{Name: "a", Schedule: tc.schedule, Desired: ip(3)}}})
		require.NoError(t, err)
		st := stateWith(group(5, 1, 20))
		st.Now = tc.now
		rec, err := s.Recommend(t.Context(), st)
		require.NoError(t, err)
		assert.Equal(t, "scheduled: a since "+tc.since, rec.Reason[:min(len(rec.Reason), len("scheduled: a since ")+len(tc.since))], "%s at %s: %s", tc.schedule, tc.now, rec.Reason)
		assert.Equal(t, 3, rec.Capacity.Desired)
	}
}

// TestStepComparisons pins the step policies' comparisons at their
// threshold: greater_or_equal and less_or_equal hold at it, greater and
// less do not.
func TestStepComparisons(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cmp  scaling.Comparison
		want bool
	}{{scaling.GreaterOrEqual, true}, {scaling.Greater, false}, {scaling.LessOrEqual, true}, {scaling.Less, false}} {
		s, err := scaling.NewStep(scaling.StepConfig{Policies: []scaling.StepPolicy{{Threshold: 0.8, Comparison: tc.cmp,
			AdjustmentType: scaling.ChangeInCapacity, Steps: []scaling.StepAdjustment{{LowerBound: fp(0), UpperBound: nil, Adjustment: 1}, {LowerBound: nil, UpperBound: fp(0), Adjustment: 1}}}}})
		require.NoError(t, err, tc.cmp)
		rec, err := s.Recommend(t.Context(), stateWith(group(4, 1, 20), series(provider.MetricCPU, t0, time.Minute, 0.8)))
		require.NoError(t, err)
		assert.Equal(t, tc.want, rec.Capacity.Desired == 5, "%s at the threshold: %s", tc.cmp, rec.Reason)
	}
}

// TestHPAStrategyPendingInstances pins the instances of a group that are
// not ready yet: they are the HPA's unready pods, at 0 % for a scale up,
// so 2 ready instances at 90 % of a 60 % target and 2 pending do not
// scale up (the ratio with the pending ones, 0.75, turns the direction).
func TestHPAStrategyPendingInstances(t *testing.T) {
	t.Parallel()
	s, err := scaling.NewHPA(scaling.HPAConfig{Metrics: []hpa.MetricSpec{cpuUtilization(60)}}, "")
	require.NoError(t, err)
	g := group(4, 1, 20)
	g.Capacity.Ready = 2
	rec, err := s.Recommend(t.Context(), stateWith(g, series(provider.MetricCPU, t0, time.Minute, 0.9)))
	require.NoError(t, err)
	assert.Equal(t, 4, rec.Capacity.Desired, rec.Reason)
	// The proposal itself, before the downscale stabilization that would
	// also keep 4: without the pending instances, ⌈2 × 1.5⌉ = 3.
	assert.Equal(t, 4, rec.Proposal, rec.Reason)
	// Every pending instance counts: 3 ready at 110 % and 2 pending are
	// 66 % of their 5 requests, within the tolerance of 60 %; with one
	// pending it would be 82 %, and ⌈4 × 82/60⌉ = 6.
	g = group(5, 1, 20)
	g.Capacity.Ready = 3
	rec, err = s.Recommend(t.Context(), stateWith(g, series(provider.MetricCPU, t0, time.Minute, 1.1)))
	require.NoError(t, err)
	assert.Equal(t, 5, rec.Proposal, rec.Reason)
	g.Capacity.Ready = 4
	rec, err = s.Recommend(t.Context(), stateWith(g, series(provider.MetricCPU, t0, time.Minute, 0.9)))
	require.NoError(t, err)
	assert.Equal(t, 6, rec.Capacity.Desired, "all ready: ⌈4 × 1.5⌉: %s", rec.Reason)
}

// TestStepDetails pins the step strategy's details: an open lower bound
// below a negative one is valid; an unnamed policy is named by its
// index in the reason, with the breach; of two policies giving the same
// capacity the first is reported; one sample is enough; the fitness is
// 0.6 when the newest sample is fresh.
func TestStepDetails(t *testing.T) {
	t.Parallel()
	_, err := scaling.NewStep(scaling.StepConfig{Policies: []scaling.StepPolicy{{Threshold: 0.5, Comparison: scaling.LessOrEqual,
		AdjustmentType: scaling.ChangeInCapacity, Steps: []scaling.StepAdjustment{{UpperBound: fp(-0.1), Adjustment: -2}, {LowerBound: fp(-0.1), Adjustment: -1}}}}})
	require.NoError(t, err, "an open lower bound below -0.1")
	up := func(name string) scaling.StepPolicy {
		return scaling.StepPolicy{Name: name, Threshold: 0.8, Comparison: scaling.GreaterOrEqual, AdjustmentType: scaling.ChangeInCapacity,
			Steps: []scaling.StepAdjustment{{LowerBound: fp(0), Adjustment: 1}}}
	}
	s, err := scaling.NewStep(scaling.StepConfig{Policies: []scaling.StepPolicy{up(""), up("second")}})
	require.NoError(t, err)
	rec, err := s.Recommend(t.Context(), stateWith(group(4, 1, 20), series(provider.MetricCPU, t0, time.Minute, 0.5, 0.6, 0.7, 0.9)))
	require.NoError(t, err)
	assert.Equal(t, "policy 0: cpu 0.9 greater_or_equal 0.8, breach 0.1: change_in_capacity 1 → 5", rec.Reason)
	assert.Equal(t, 5, rec.Capacity.Desired)
	assert.InDelta(t, 0.6, rec.Fitness, 1e-12, "the newest sample is fresh")
	rec, err = s.Recommend(t.Context(), stateWith(group(4, 1, 20), series(provider.MetricCPU, t0, time.Minute, 0.95)))
	require.NoError(t, err)
	assert.Equal(t, 5, rec.Capacity.Desired, "one sample: %s", rec.Reason)
}

// TestTargetValueLimitsAndZero pins nomad's target-value calculation at
// its limits: max scale down and up clamp the new count to count ∓ the
// limit; from zero, a factor above 0 scales up to ⌈factor⌉ and a factor
// of exactly 0 stays; the reasons say the direction.
func TestTargetValueLimitsAndZero(t *testing.T) {
	t.Parallel()
	n, _, dir := scaling.TargetValueCount(10, 0.2, 1, 0.01, nil, ip(3))
	assert.Equal(t, 7, n)
	assert.Equal(t, -1, dir)
	n, _, _ = scaling.TargetValueCount(10, 0.2, 1, 0.01, nil, ip(8))
	assert.Equal(t, 2, n, "within the limit")
	n, _, _ = scaling.TargetValueCount(10, 0.85, 1, 0.01, nil, ip(3))
	assert.Equal(t, 9, n, "⌈8.5⌉, within the limit")
	n, _, dir = scaling.TargetValueCount(2, 3, 1, 0.01, ip(2), nil)
	assert.Equal(t, 4, n)
	assert.Equal(t, 1, dir)
	n, _, _ = scaling.TargetValueCount(2, 3, 1, 0.01, ip(5), nil)
	assert.Equal(t, 6, n, "within the limit")
	n, _, dir = scaling.TargetValueCount(0, 2.5, 0, 0.01, nil, nil)
	assert.Equal(t, 3, n, "from zero, target 0: ⌈2.5⌉")
	assert.Equal(t, 1, dir)
	n, _, dir = scaling.TargetValueCount(0, 0, 0, 0.01, nil, nil)
	assert.Equal(t, 0, n)
	assert.Equal(t, 0, dir)

	s, err := scaling.NewTargetValue(scaling.TargetValueConfig{Metric: provider.MetricCPU, Target: fp(0.6)})
	require.NoError(t, err)
	rec, err := s.Recommend(t.Context(), stateWith(group(10, 1, 20), series(provider.MetricCPU, t0, time.Minute, 0.3)))
	require.NoError(t, err)
	assert.Equal(t, "scaling down because factor is 0.500000", rec.Reason)
	assert.InDelta(t, 0.7, rec.Fitness, 1e-12, "fresh data")
	st := stateWith(group(10, 1, 20), series(provider.MetricCPU, t0.Add(-2*time.Minute), time.Minute, 0.3, 0.3))
	rec, err = s.Recommend(t.Context(), st)
	require.NoError(t, err)
	assert.InDelta(t, 0.7*0.6, rec.Fitness, 1e-12, "data two steps old: freshness 1 − 2/5")
	rec, err = s.Recommend(t.Context(), stateWith(group(10, 1, 20), series(provider.MetricCPU, t0, time.Minute, gap, gap)))
	require.NoError(t, err)
	assert.Equal(t, "no cpu data in the last 5m0s", rec.Reason)
}

// TestThresholdNeeds pins the threshold strategy's window: the data it
// needs (window + 2 steps), and the words when none is there.
func TestThresholdNeeds(t *testing.T) {
	t.Parallel()
	s, err := scaling.NewThreshold(scaling.ThresholdConfig{Window: 5 * time.Minute, Step: time.Minute})
	require.NoError(t, err)
	assert.Equal(t, 7*time.Minute, s.Needs()[0].Lookback)
	rec, err := s.Recommend(t.Context(), stateWith(group(4, 1, 10), series(provider.MetricCPU, t0, time.Minute, gap, gap, gap)))
	require.NoError(t, err)
	assert.Equal(t, "no cpu data in the last 7m0s", rec.Reason)
	short, err := scaling.NewThreshold(scaling.ThresholdConfig{Window: 30 * time.Second, Step: time.Minute})
	require.NoError(t, err)
	assert.Equal(t, 3*time.Minute, short.Needs()[0].Lookback, "a window shorter than a step is one step")
}

// TestVerticalPicksAtTheBoundaries pins the vertical strategy's choice
// where the needs are met exactly (2.5 vCPU and 5,120 MiB: p90 25 % of
// 8 vCPU and 16 GiB × 1.25): a type with exactly that is eligible, one
// MiB or a quarter vCPU less is not; of equal costs the fewer vCPU, then
// the name, wins; the current type when it is the best "fits".
func TestVerticalPicksAtTheBoundaries(t *testing.T) {
	t.Parallel()
	catalogue := []scaling.InstanceType{
		{Name: "a.x", VCPU: 2.5, MemoryMiB: 5120, HourlyCost: 0.10},
		{Name: "z.x", VCPU: 2.5, MemoryMiB: 5120, HourlyCost: 0.10},
		{Name: "w.x", VCPU: 3, MemoryMiB: 6144, HourlyCost: 0.10},
		{Name: "b.x", VCPU: 2.5, MemoryMiB: 5119, HourlyCost: 0.05},
		{Name: "c.x", VCPU: 2.25, MemoryMiB: 8192, HourlyCost: 0.01},
		{Name: "d.x", VCPU: 8, MemoryMiB: 16384, HourlyCost: 0.40},
	}
	s, err := scaling.NewVertical(scaling.VerticalConfig{InstanceTypes: catalogue, Margin: 0.25, Lookback: time.Hour, Step: 5 * time.Minute})
	require.NoError(t, err)
	flat := func(m provider.Metric, v float64) provider.Series { return flatSeries(m, 5*time.Minute, 12, v) }
	inst := func(typ string) scaling.Target {
		return scaling.Target{ID: "db", Resource: provider.Resource{ID: "i-1", Kind: provider.KindInstance, Size: provider.Size{InstanceType: typ}}}
	}
	rec, err := s.Recommend(t.Context(), stateWith(inst("d.x"), flat(provider.MetricCPU, 0.25), flat(provider.MetricMemory, 0.25)))
	require.NoError(t, err)
	assert.Equal(t, "d.x → a.x: needs 2.50 vCPU, 5120 MiB (p90 × (1 + 0.25))", rec.Reason)
	assert.Equal(t, provider.Size{InstanceType: "a.x", VCPU: 2.5, MemoryMiB: 5120}, rec.Size)
	in := map[string]float64{}
	for _, x := range rec.Inputs {
		in[x.Name] = x.Value
	}
	assert.InDelta(t, 0.25, in["cpu p90"], 0)
	assert.InDelta(t, 0.25, in["memory p90"], 0)
	assert.InDelta(t, 2.5, in["vcpu needed"], 0)
	assert.InDelta(t, 5120, in["memory needed"], 0)
	assert.InDelta(t, -0.30, in["cost per hour change"], 1e-12)
	assert.InDelta(t, 0.9, rec.Fitness, 1e-12, "a full hour of data")

	rec, err = s.Recommend(t.Context(), stateWith(inst("a.x"), flat(provider.MetricCPU, 0.8), flat(provider.MetricMemory, 0.8)))
	require.NoError(t, err)
	assert.Equal(t, "a.x fits: needs 2.50 vCPU, 5120 MiB", rec.Reason, "80 %% of a.x × 1.25 is a.x")
	assert.True(t, rec.Size.IsZero())

	// Without memory data the current memory is kept as the need.
	rec, err = s.Recommend(t.Context(), stateWith(inst("d.x"), flat(provider.MetricCPU, 0.25)))
	require.NoError(t, err)
	assert.Equal(t, "d.x fits: needs 2.50 vCPU, 16384 MiB", rec.Reason)

	// A current type of unknown size keeps its size; so does one whose
	// vCPUs the provider reported but not its memory (a smaller type could
	// not hold what it uses).
	rec, err = s.Recommend(t.Context(), stateWith(inst("q.x"), flat(provider.MetricCPU, 0.25)))
	require.NoError(t, err)
	assert.Equal(t, `the size of "q.x" is unknown`, rec.Reason)
	assert.Zero(t, rec.Fitness)
	vcpuOnly := inst("q.x")
	vcpuOnly.Resource.Size.VCPU = 8
	rec, err = s.Recommend(t.Context(), stateWith(vcpuOnly, flat(provider.MetricCPU, 0.25), flat(provider.MetricMemory, 0.9)))
	require.NoError(t, err)
	assert.Equal(t, `the memory of "q.x" is unknown`, rec.Reason)
	assert.True(t, rec.Size.IsZero())
	known := vcpuOnly
	known.Resource.Size.MemoryMiB = 16384
	rec, err = s.Recommend(t.Context(), stateWith(known, flat(provider.MetricCPU, 0.25), flat(provider.MetricMemory, 0.25)))
	require.NoError(t, err)
	assert.Equal(t, "a.x", rec.Size.InstanceType, "a type outside the catalogue, with its size reported, is sized: %s", rec.Reason)
}

// TestHPAScaleUpPolicyCountsChanges pins that a scale-up policy counts
// the replicas the target's own changes added within its period: 4 pods a
// minute, 3 added 30 seconds ago (2 → 5), allow 2 + 4 = 6; added 2
// minutes ago, they no longer count (5 + 4 caps nothing: the HPA's 7).
func TestHPAScaleUpPolicyCountsChanges(t *testing.T) {
	t.Parallel()
	zero := time.Duration(0)
	s, err := scaling.NewHPA(scaling.HPAConfig{Behavior: &hpa.Behavior{ScaleUp: &hpa.ScalingRules{StabilizationWindow: &zero,
		Policies: []hpa.ScalingPolicy{{Type: hpa.PolicyPods, Value: 4, Period: time.Minute}}}}}, "hpa")
	require.NoError(t, err)
	for _, tc := range []struct {
		ago  time.Duration
		want int
	}{{30 * time.Second, 6}, {2 * time.Minute, 7}} {
		st := stateWith(group(5, 1, 20), series(provider.MetricCPU, t0, time.Minute, 1.0))
		st.History = scaling.History{Changes: []scaling.Change{{At: t0.Add(-tc.ago), Strategy: "hpa",
			From: provider.CapacitySpec{Max: 100, Desired: 2}, To: provider.CapacitySpec{Max: 100, Desired: 5}}}}
		rec, err := s.Recommend(t.Context(), st)
		require.NoError(t, err)
		assert.Equal(t, tc.want, rec.Capacity.Desired, "a scale up %s ago: %s", tc.ago, rec.Reason)
	}
}

// TestStepIntervalsAtTheirBounds pins which step a breach exactly at a
// step boundary falls in, as EC2 Auto Scaling defines it: above the
// threshold a step is [lower, upper) — a breach of exactly 0.25 is in
// [0.25, +∞), not [0, 0.25) — and below it (lower, upper] — exactly
// −0.25 is in (−∞, −0.25], not (−0.25, 0]. Values in binary fractions
// keep the breach exact.
func TestStepIntervalsAtTheirBounds(t *testing.T) {
	t.Parallel()
	up, err := scaling.NewStep(scaling.StepConfig{Policies: []scaling.StepPolicy{{Threshold: 0.5, Comparison: scaling.GreaterOrEqual,
		AdjustmentType: scaling.ChangeInCapacity, Steps: []scaling.StepAdjustment{
			{LowerBound: fp(0), UpperBound: fp(0.25), Adjustment: 1},
			{LowerBound: fp(0.25), Adjustment: 3},
		}}}})
	require.NoError(t, err)
	down, err := scaling.NewStep(scaling.StepConfig{Policies: []scaling.StepPolicy{{Threshold: 0.5, Comparison: scaling.LessOrEqual,
		AdjustmentType: scaling.ChangeInCapacity, Steps: []scaling.StepAdjustment{
			{LowerBound: fp(-0.25), UpperBound: fp(0), Adjustment: -1}, // first: a boundary breach must not match it
			{UpperBound: fp(-0.25), Adjustment: -3},
		}}}})
	require.NoError(t, err)
	for _, tc := range []struct {
		s    *scaling.Step
		cpu  float64
		want int
	}{
		{up, 0.75, 13},   // breach 0.25: [0.25, +∞)
		{up, 0.625, 11},  // breach 0.125: [0, 0.25)
		{up, 0.5, 11},    // breach 0: [0, 0.25)
		{down, 0.25, 7},  // breach −0.25: (−∞, −0.25]
		{down, 0.375, 9}, // breach −0.125: (−0.25, 0]
		{down, 0.5, 9},   // breach 0: (−0.25, 0]
		{down, 0.125, 7}, // breach −0.375: (−∞, −0.25]
	} {
		rec, err := tc.s.Recommend(t.Context(), stateWith(group(10, 1, 20), series(provider.MetricCPU, t0, time.Minute, tc.cpu)))
		require.NoError(t, err)
		assert.Equal(t, tc.want, rec.Capacity.Desired, "cpu %v: %s", tc.cpu, rec.Reason)
	}
}

// TestStepFitnessFallsWithStaleData: the step strategy's fitness is 0.6
// while its latest sample is in the last step, and falls linearly with
// the sample's age to 0 at five steps: a sample two steps older than the
// last (its step ended two steps ago) scores 0.6 × (1 − 2/5).
func TestStepFitnessFallsWithStaleData(t *testing.T) {
	t.Parallel()
	s, err := scaling.NewStep(scaling.StepConfig{Step: time.Minute, Policies: []scaling.StepPolicy{{Threshold: 0.8, Comparison: scaling.GreaterOrEqual,
		AdjustmentType: scaling.ChangeInCapacity, Steps: []scaling.StepAdjustment{{LowerBound: fp(0), Adjustment: 1}}}}})
	require.NoError(t, err)
	for _, tc := range []struct {
		give []float64
		want float64
	}{
		{[]float64{0.9, 0.9}, 0.6},
		{[]float64{0.9, gap, gap}, 0.6 * (1 - 2.0/5)},
		{[]float64{0.9, gap, gap, gap, gap, gap}, 0},
	} {
		rec, err := s.Recommend(t.Context(), stateWith(group(4, 1, 20), series(provider.MetricCPU, t0, time.Minute, tc.give...)))
		require.NoError(t, err)
		assert.InDelta(t, tc.want, rec.Fitness, 1e-12, "%v", tc.give)
	}
}

// TestTargetValueConfigValidate pins the target-value settings' bounds,
// each refused naming its field, and zero allowed for every one.
func TestTargetValueConfigValidate(t *testing.T) {
	t.Parallel()
	ok := func(c scaling.TargetValueConfig) scaling.TargetValueConfig {
		c.Metric = provider.MetricCPU
		if c.Target == nil {
			c.Target = fp(0.6)
		}
		return c
	}
	for _, tc := range []struct {
		name  string
		give  scaling.TargetValueConfig
		field string // "" when valid
	}{
		{"no target", scaling.TargetValueConfig{Metric: provider.MetricCPU}, "target"},
		{"target NaN", ok(scaling.TargetValueConfig{Target: fp(math.NaN())}), "target"},
		{"target negative", ok(scaling.TargetValueConfig{Target: fp(-0.1)}), "target"},
		{"target 0", ok(scaling.TargetValueConfig{Target: fp(0)}), ""},
		{"threshold infinite", ok(scaling.TargetValueConfig{Threshold: fp(math.Inf(1))}), "threshold"},
		{"threshold negative", ok(scaling.TargetValueConfig{Threshold: fp(-0.01)}), "threshold"},
		{"threshold 0", ok(scaling.TargetValueConfig{Threshold: fp(0)}), ""},
		{"max scale up negative", ok(scaling.TargetValueConfig{MaxScaleUp: ip(-1)}), "max_scale_up"},
		{"max scale up 0", ok(scaling.TargetValueConfig{MaxScaleUp: ip(0)}), ""},
		{"max scale down negative", ok(scaling.TargetValueConfig{MaxScaleDown: ip(-1)}), "max_scale_down"},
		{"max scale down 0", ok(scaling.TargetValueConfig{MaxScaleDown: ip(0)}), ""},
	} {
		requireField(t, tc.give.Validate(), tc.field, tc.name)
	}
}

// TestTargetValueBandIsClosed: a factor exactly at 1 ± threshold is inside
// nomad-autoscaler's band and keeps the count (values exact in binary).
func TestTargetValueBandIsClosed(t *testing.T) {
	t.Parallel()
	for _, value := range []float64{0.75, 1.25} {
		n, factor, dir := scaling.TargetValueCount(4, value, 1, 0.25, nil, nil)
		assert.Equal(t, 4, n, "factor %g", factor)
		assert.Zero(t, dir)
	}
	n, _, _ := scaling.TargetValueCount(4, math.Nextafter(0.75, 0), 1, 0.25, nil, nil)
	assert.Equal(t, 3, n, "just below the band: ⌈4 × 0.74…⌉")
	n, _, _ = scaling.TargetValueCount(4, math.Nextafter(1.25, 2), 1, 0.25, nil, nil)
	assert.Equal(t, 6, n, "just above the band: ⌈4 × 1.25…⌉")
}

// TestThresholdConfigValidate pins the threshold strategy's bounds: each
// refused naming its field; zero means the default; down below up after
// defaults; factors above 1.
func TestThresholdConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		give  scaling.ThresholdConfig
		field string // "" when valid
	}{
		{"defaults", scaling.ThresholdConfig{}, ""},
		{"up NaN", scaling.ThresholdConfig{Up: math.NaN()}, "up"},
		{"up negative", scaling.ThresholdConfig{Up: -0.1}, "up"},
		{"down infinite", scaling.ThresholdConfig{Down: math.Inf(1)}, "down"},
		{"down negative", scaling.ThresholdConfig{Down: -0.1}, "down"},
		{"down equal to up", scaling.ThresholdConfig{Up: 0.5, Down: 0.5}, "down"},
		{"down above the default up", scaling.ThresholdConfig{Down: 0.9}, "down"},
		{"down just below up", scaling.ThresholdConfig{Up: 0.5, Down: 0.49}, ""},
		{"up factor 1", scaling.ThresholdConfig{UpFactor: 1}, "up_factor"},
		{"up factor below 1", scaling.ThresholdConfig{UpFactor: 0.5}, "up_factor"},
		{"up factor NaN", scaling.ThresholdConfig{UpFactor: math.NaN()}, "up_factor"},
		{"up factor just above 1", scaling.ThresholdConfig{UpFactor: 1.0001}, ""},
		{"down factor 1", scaling.ThresholdConfig{DownFactor: 1}, "down_factor"},
		{"down factor infinite", scaling.ThresholdConfig{DownFactor: math.Inf(1)}, "down_factor"},
		{"down factor just above 1", scaling.ThresholdConfig{DownFactor: 1.0001}, ""},
		{"step negative", scaling.ThresholdConfig{Step: -time.Second}, "step"},
		{"window negative", scaling.ThresholdConfig{Window: -time.Second}, "window"},
	} {
		requireField(t, tc.give.Validate(), tc.field, tc.name)
	}
}

// requireField requires err to be nil when field is empty, else an
// *provider.InvalidError naming field.
func requireField(t *testing.T, err error, field, name string) {
	t.Helper()
	if field == "" {
		require.NoError(t, err, name)
		return
	}
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv, name)
	assert.Equal(t, field, inv.Field, name)
}

// TestHPAStrategyGroupIsPerInstancePods checks the HPA strategy on a group
// without pods against the calculator over one pod per instance: its
// ready instances running and Ready with the group's CPU as each one's
// sample, its launching ones pending, all started long ago with a 1000m
// request (the strategy describes them as two entries of identical pods,
// hpa.Pod.Count). Random groups, loads and bounds, a first decision each;
// the recommendation has NoProposal exactly when the calculator made no
// proposal.
func TestHPAStrategyGroupIsPerInstancePods(t *testing.T) {
	t.Parallel()
	metrics := []hpa.MetricSpec{cpuUtilization(60)}
	s, err := scaling.NewHPA(scaling.HPAConfig{Metrics: metrics}, "")
	require.NoError(t, err)
	long := time.Unix(0, 0).UTC()
	rng := rand.New(rand.NewPCG(5, 8))
	for round := range 3000 {
		current := rng.IntN(40)
		ready := rng.IntN(current + 1)
		desired := max(current+rng.IntN(5)-2, 0)
		g := group(desired, 1, 60)
		g.Capacity.Current, g.Capacity.Ready = current, ready
		cpu := float64(rng.IntN(2500)) / 1000
		ser := series(provider.MetricCPU, t0, time.Minute, cpu)
		rec, err := s.Recommend(t.Context(), stateWith(g, ser))
		require.NoError(t, err)

		calc, err := hpa.NewCalculator(hpa.Config{}, hpa.Spec{MinReplicas: new(int32(1)), MaxReplicas: 60, Metrics: metrics})
		require.NoError(t, err)
		in := hpa.Input{Now: t0, SpecReplicas: int32(desired), StatusReplicas: int32(current), Metrics: make([]hpa.MetricValues, 1)}
		containers := []hpa.Container{{Requests: hpa.ResourceList{hpa.ResourceCPU: 1000}}}
		for i := range current {
			p := hpa.Pod{Name: fmt.Sprintf("i-%d", i), Phase: hpa.PhasePending, StartTime: long, ReadyTransition: long, Containers: containers}
			if i < ready {
				p.Phase, p.Ready = hpa.PhaseRunning, hpa.ConditionTrue
				in.Metrics[0].Samples = append(in.Metrics[0].Samples, hpa.Sample{Pod: p.Name, Value: hpa.Milli(cpu), Timestamp: t0, Window: time.Minute})
			}
			in.Pods = append(in.Pods, p)
		}
		if ready == 0 {
			in.Metrics[0].Err = errors.New("no ready instance")
		}
		d, derr := calc.Decide(in, hpa.History{})
		if derr != nil && !errors.Is(derr, hpa.ErrInvalidMetrics) {
			require.Contains(t, rec.Reason, "no decision", "round %d: %v", round, derr)
			continue
		}
		want := int(d.Proposal)
		if d.Proposal < 0 {
			want = desired
		}
		require.Equal(t, want, rec.Proposal, "round %d: desired %d, current %d, ready %d, cpu %v: %s", round, desired, current, ready, cpu, rec.Reason)
		require.Equal(t, d.Proposal < 0, rec.NoProposal, "round %d: a proposal only when the calculator made one", round)
		require.Equal(t, int(d.Replicas), rec.Capacity.Desired, "round %d: %s", round, rec.Reason)
	}
}

// TestHPAStrategySynthesizedPodNames pins the names an error about a
// group's instances gives them: those of the first of its pending
// instances (pending-<n−1>, counting down) or of its ready ones
// (instance-0), as when the strategy listed one pod per instance. Two
// container metrics on different containers make the first metric fail
// naming the first pod (found by a review of the change to entries of
// identical pods, which had named them "pending" and "instance").
func TestHPAStrategySynthesizedPodNames(t *testing.T) {
	t.Parallel()
	cr := func(name hpa.ResourceName, c string) hpa.MetricSpec {
		return hpa.MetricSpec{Type: hpa.SourceContainerResource, ContainerResource: &hpa.ContainerResourceMetricSource{
			Name: name, Container: c, Target: hpa.MetricTarget{Type: hpa.TargetUtilization, AverageUtilization: 60}}}
	}
	s, err := scaling.NewHPA(scaling.HPAConfig{Metrics: []hpa.MetricSpec{cr(hpa.ResourceCPU, "a"), cr(hpa.ResourceMemory, "b")}}, "")
	require.NoError(t, err)
	for _, c := range []struct {
		current, ready int
		pod            string
	}{{3, 3, "instance-0"}, {5, 3, "pending-1"}, {2, 1, "pending-0"}, {65, 1, "pending-63"}, {71, 1, "pending-69"}} {
		g := group(c.current, 1, 100)
		g.Capacity.Ready = c.ready
		rec, err := s.Recommend(t.Context(), stateWith(g, series(provider.MetricCPU, t0, time.Minute, 0.9), series(provider.MetricMemory, t0, time.Minute, 0.2)))
		require.NoError(t, err)
		assert.Contains(t, rec.Reason, "container a not found in Pod "+c.pod+"", "%+v", c)
		assert.NotContains(t, rec.Reason, "Pod "+c.pod+"0", "%+v", c)
	}
}

// TestHPAStrategyImpossibleCapacity: a capacity with fewer than no ready
// instances (one provider.Capacity.Validate refuses) is a decision that
// keeps the capacity, saying why, not a panic (slicing the synthesized
// pods panicked before they became entries of identical pods).
func TestHPAStrategyImpossibleCapacity(t *testing.T) {
	t.Parallel()
	s, err := scaling.NewHPA(scaling.HPAConfig{Metrics: []hpa.MetricSpec{cpuUtilization(60)}}, "")
	require.NoError(t, err)
	g := group(3, 1, 20)
	g.Capacity.Ready = -2
	rec, err := s.Recommend(t.Context(), stateWith(g, series(provider.MetricCPU, t0, time.Minute, 0.9)))
	require.NoError(t, err)
	assert.Equal(t, 3, rec.Capacity.Desired)
	assert.Contains(t, rec.Reason, "no ready instance reports cpu")
}

// TestHPAStrategyAcrossTimes checks that one HPA strategy deciding at
// times back and forth (it remembers the window's cutoff for a time)
// answers as a new strategy each time: a history whose high proposal
// leaves the 5-minute downscale stabilization window as time passes.
// Once it has left, the decision is not a first one (which would keep
// the current count): a new strategy's empty working space once read a
// history of only old records as none, and kept 10 where a used one
// scaled down to 5.
func TestHPAStrategyAcrossTimes(t *testing.T) {
	t.Parallel()
	cfg := scaling.HPAConfig{Metrics: []hpa.MetricSpec{cpuUtilization(60)}}
	shared, err := scaling.NewHPA(cfg, "hpa")
	require.NoError(t, err)
	hist := scaling.History{Recommendations: []scaling.RecommendationRecord{{At: t0.Add(-time.Minute), Strategy: "hpa", Current: 10, Desired: 10, Proposal: 10, First: true}}}
	kept := map[int]bool{}
	for _, min := range []int{9, 0, 6, 2, 1, 4, 5, 3, 8} {
		now := t0.Add(time.Duration(min) * time.Minute)
		st := scaling.State{Now: now, Target: group(10, 1, 20), Metrics: []provider.Series{series(provider.MetricCPU, now, time.Minute, 0.3)}, History: hist}
		fresh, err := scaling.NewHPA(cfg, "hpa")
		require.NoError(t, err)
		want, err := fresh.Recommend(t.Context(), st)
		require.NoError(t, err)
		got, err := shared.Recommend(t.Context(), st)
		require.NoError(t, err)
		require.Equal(t, want.Capacity, got.Capacity, "at +%d min: %s / %s", min, want.Reason, got.Reason)
		require.Equal(t, want.Reason, got.Reason, "at +%d min", min)
		kept[want.Capacity.Desired] = true
	}
	require.Len(t, kept, 2, "10 while the proposal of 10 is within the window, 5 after")
}

// overriddenHPA and overriddenTargetValue are a host's strategies that
// embed a built-in one and override its Recommend.
type overriddenHPA struct{ *scaling.HPA }

func (p overriddenHPA) Recommend(ctx context.Context, st scaling.State) (scaling.Recommendation, error) {
	rec, err := p.HPA.Recommend(ctx, st)
	rec.Capacity.Desired, rec.Proposal, rec.Reason = 7, 7, "overridden"
	return rec, err
}

type overriddenTargetValue struct{ *scaling.TargetValue }

func (p overriddenTargetValue) Recommend(ctx context.Context, st scaling.State) (scaling.Recommendation, error) {
	rec, err := p.TargetValue.Recommend(ctx, st)
	rec.Capacity.Desired, rec.Proposal, rec.Reason = 7, 7, "overridden"
	return rec, err
}

// TestEmbeddedStrategyOverride checks that the engine calls a host's
// Recommend on a type embedding a built-in strategy (whose own State is
// read through a pointer, an unexported method the embedding promotes;
// found by a review: the engine called the embedded one).
func TestEmbeddedStrategyOverride(t *testing.T) {
	t.Parallel()
	h, err := scaling.NewHPA(scaling.HPAConfig{}, "hpa")
	require.NoError(t, err)
	tv, err := scaling.NewTargetValue(scaling.TargetValueConfig{Metric: provider.MetricCPU, Target: fp(0.6)})
	require.NoError(t, err)
	for name, s := range map[string]scaling.Strategy{"hpa": overriddenHPA{h}, "target_value": overriddenTargetValue{tv}} {
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: emptyCloud(t)}, allowAll{})
		require.NoError(t, err)
		st := scaling.State{Now: t0, Target: group(10, 1, 20), Metrics: []provider.Series{series(provider.MetricCPU, t0, time.Minute, 0.3)}}
		d, err := e.Decide(t.Context(), st, []scaling.Candidate{{Name: name, Strategy: s}}, "")
		require.NoError(t, err)
		assert.Equal(t, "overridden", d.Chosen.Reason, name)
		assert.Equal(t, 7, d.Chosen.Capacity.Desired, name)
	}
}

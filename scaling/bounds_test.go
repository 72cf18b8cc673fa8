package scaling_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/scaling/hpa"
)

// groupIn is a target group of desired instances whose own bounds are
// [gmin, gmax] and whose policy allows [pmin, pmax].
func groupIn(desired, gmin, gmax, pmin, pmax int) scaling.Target {
	t := group(desired, pmin, pmax)
	t.Capacity.Min, t.Capacity.Max = gmin, gmax
	return t
}

// TestStrategiesAtGroupBounds pins every horizontal strategy at the
// group's minimum and maximum: a change that would cross the group's own
// bounds is clamped to them (the seed's threshold strategy clamps to
// [min, max]), never an invalid recommendation that the engine refuses,
// and the engine then decides the clamped capacity without error.
func TestStrategiesAtGroupBounds(t *testing.T) {
	t.Parallel()
	cpu := func(v float64) provider.Series { return series(provider.MetricCPU, t0, time.Minute, v, v, v, v, v) }
	threshold := scaling.StrategySpec{Type: scaling.StrategyThreshold}
	targetValue := scaling.StrategySpec{Type: scaling.StrategyTargetValue, TargetValue: &scaling.TargetValueConfig{Metric: provider.MetricCPU, Target: fp(0.5)}}
	noWindow := time.Duration(0) // no scale-down stabilization: the first decision may scale down
	hpaCPU := scaling.StrategySpec{Type: scaling.StrategyHPA, HPA: &scaling.HPAConfig{Metrics: []hpa.MetricSpec{{Type: hpa.SourceResource,
		Resource: &hpa.ResourceMetricSource{Name: hpa.ResourceCPU, Target: hpa.MetricTarget{Type: hpa.TargetUtilization, AverageUtilization: 50}}}},
		Behavior: &hpa.Behavior{ScaleDown: &hpa.ScalingRules{StabilizationWindow: &noWindow}}}}
	step := func(typ scaling.AdjustmentType, adj int) scaling.StrategySpec {
		cmp, s := scaling.Greater, scaling.StepAdjustment{LowerBound: fp(0), Adjustment: adj} // above 0.5
		if adj < 0 {
			cmp, s = scaling.Less, scaling.StepAdjustment{UpperBound: fp(0), Adjustment: adj} // below 0.5
		}
		return scaling.StrategySpec{Type: scaling.StrategyStep, Step: &scaling.StepConfig{Policies: []scaling.StepPolicy{{Threshold: 0.5,
			Comparison: cmp, AdjustmentType: typ, Steps: []scaling.StepAdjustment{s}}}}}
	}
	scheduled := func(desired int) scaling.StrategySpec {
		return scaling.StrategySpec{Type: scaling.StrategyScheduled, Scheduled: &scaling.ScheduledConfig{
			Actions: []scaling.ScheduledAction{{Name: "a", Schedule: "0 * * * *", Desired: ip(desired)}}}}
	}
	tests := []struct {
		name     string
		strategy scaling.StrategySpec
		give     scaling.Target
		cpu      float64
		want     int
	}{
		// The group allows [3, 8]; the policy [1, 20] is wider.
		{name: "threshold halves 4 to 2, below the group's min 3", strategy: threshold, give: groupIn(4, 3, 8, 1, 20), cpu: 0.1, want: 3},
		{name: "threshold at the group's min stays", strategy: threshold, give: groupIn(3, 3, 8, 1, 20), cpu: 0.1, want: 3},
		{name: "threshold doubles 5 to 10, above the group's max 8", strategy: threshold, give: groupIn(5, 3, 8, 1, 20), cpu: 0.9, want: 8},
		{name: "threshold at the group's max stays", strategy: threshold, give: groupIn(8, 3, 8, 1, 20), cpu: 0.9, want: 8},
		{name: "target value 6 × 0.2 = 2, below the group's min 3", strategy: targetValue, give: groupIn(6, 3, 8, 1, 20), cpu: 0.1, want: 3},
		{name: "target value 6 × 1.8 = 11, above the group's max 8", strategy: targetValue, give: groupIn(6, 3, 8, 1, 20), cpu: 0.9, want: 8},
		{name: "hpa 6 × 0.2 = 2, below the group's min 3", strategy: hpaCPU, give: groupIn(6, 3, 8, 1, 20), cpu: 0.1, want: 3},
		{name: "hpa 6 × 1.8 = 11, above the group's max 8", strategy: hpaCPU, give: groupIn(6, 3, 8, 1, 20), cpu: 0.9, want: 8},
		{name: "step change −3 from 4, below the group's min 3", strategy: step(scaling.ChangeInCapacity, -3), give: groupIn(4, 3, 8, 1, 20), cpu: 0.1, want: 3},
		{name: "step change +5 from 6, above the group's max 8", strategy: step(scaling.ChangeInCapacity, 5), give: groupIn(6, 3, 8, 1, 20), cpu: 0.9, want: 8},
		{name: "step exact 1, below the group's min 3", strategy: step(scaling.ExactCapacity, 1), give: groupIn(6, 3, 8, 1, 20), cpu: 0.9, want: 3},
		{name: "step −50 % of 4, below the group's min 3", strategy: step(scaling.PercentChangeInCapacity, -50), give: groupIn(4, 3, 8, 1, 20), cpu: 0.1, want: 3},
		{name: "step +200 % of 4, above the group's max 8", strategy: step(scaling.PercentChangeInCapacity, 200), give: groupIn(4, 3, 8, 1, 20), cpu: 0.9, want: 8},
		{name: "scheduled desired 1, below the group's min 3", strategy: scheduled(1), give: groupIn(5, 3, 8, 1, 20), want: 3},
		{name: "scheduled desired 12, above the group's max 8", strategy: scheduled(12), give: groupIn(5, 3, 8, 1, 20), want: 8},
		// The policy is narrower than the group: the engine bounds the
		// recommendation by the policy (the seed's min 1, max 10).
		{name: "threshold doubles 8 to 16, above the policy's max 10", strategy: threshold, give: groupIn(8, 0, 100, 1, 10), cpu: 0.9, want: 10},
		{name: "threshold halves 1 to 0, below the policy's min 1", strategy: threshold, give: groupIn(1, 0, 100, 1, 10), cpu: 0.1, want: 1},
		{name: "target value 6 × 0.2 = 2, below the policy's min 4", strategy: targetValue, give: groupIn(6, 0, 100, 4, 10), cpu: 0.1, want: 4},
		{name: "step change +5 from 6, above the policy's max 9", strategy: step(scaling.ChangeInCapacity, 5), give: groupIn(6, 0, 100, 1, 9), cpu: 0.9, want: 9},
		{name: "scheduled desired 12, above the policy's max 10", strategy: scheduled(12), give: groupIn(5, 0, 100, 1, 10), want: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st := stateWith(tt.give, cpu(tt.cpu))
			cfg := scaling.Config{Targets: []scaling.TargetConfig{{ID: "web", Min: ip(tt.give.Min), Max: tt.give.Max, Strategies: []scaling.StrategySpec{tt.strategy}}}}
			require.NoError(t, cfg.Validate())
			s := strategyOf(t, tt.strategy)

			rec, err := s.Recommend(t.Context(), st)
			require.NoError(t, err)
			require.NoError(t, rec.Validate(tt.give), "a strategy's recommendation stays within the group's bounds: %s", rec.Reason)
			assert.GreaterOrEqual(t, rec.Capacity.Desired, rec.Capacity.Min, rec.Reason)
			assert.LessOrEqual(t, rec.Capacity.Desired, rec.Capacity.Max, rec.Reason)

			e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: nopScaler{}}, allowAll{})
			require.NoError(t, err)
			d, err := e.Decide(t.Context(), st, []scaling.Candidate{{Name: string(tt.strategy.Type), Strategy: s}}, "")
			require.NoError(t, err)
			assert.Equal(t, tt.want, d.Chosen.Capacity.Desired, d.Chosen.Reason)
			require.NoError(t, d.Chosen.Capacity.Validate())
			assert.Equal(t, tt.want != tt.give.Capacity.Desired, d.Change)
			if tt.want == tt.give.Capacity.Min || tt.want == tt.give.Capacity.Max {
				assert.Contains(t, rec.Reason, "by the group's", "the reason says the group's bounds clamped it")
			}
		})
	}
}

// TestVerticalAtLambdaBounds pins the vertical strategy at Lambda's
// limits: memory in [128, 10240] MiB, timeout at most 900 s.
func TestVerticalAtLambdaBounds(t *testing.T) {
	t.Parallel()
	s, err := scaling.NewVertical(scaling.VerticalConfig{Lookback: time.Hour, Step: 5 * time.Minute})
	require.NoError(t, err)
	fn := fnTarget
	tests := []struct {
		name     string
		give     scaling.Target
		mem, dur float64 // memory used (fraction of the current memory) and duration (s)
		want     provider.Size
	}{
		{name: "memory below the minimum: 128 MiB", give: fn(256, 10*time.Second), mem: 0.01, dur: 5, want: provider.Size{MemoryMiB: 128, Timeout: 8 * time.Second}},
		{name: "memory above the maximum: 10240 MiB", give: fn(8192, 10*time.Second), mem: 1.5, dur: 5, want: provider.Size{MemoryMiB: 10240, Timeout: 8 * time.Second}},
		{name: "timeout above the maximum: 900 s", give: fn(1024, 600*time.Second), mem: 0.5, dur: 700, want: provider.Size{MemoryMiB: 640, Timeout: 900 * time.Second}},
		// Beyond an int, the sizes saturate: they wrapped to the minimums.
		{name: "memory and duration beyond an int: the maximums", give: fn(1024, 600*time.Second), mem: 1e300, dur: 1e300, want: provider.Size{MemoryMiB: 10240, Timeout: 900 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mem := series(provider.MetricMemory, t0, 5*time.Minute, tt.mem, tt.mem, tt.mem)
			dur := series(provider.MetricDuration, t0, 5*time.Minute, tt.dur, tt.dur, tt.dur)
			rec, err := s.Recommend(t.Context(), stateWith(tt.give, mem, dur))
			require.NoError(t, err)
			require.NoError(t, rec.Validate(tt.give), rec.Reason)
			assert.Equal(t, tt.want, rec.Size, rec.Reason)
		})
	}
}

// strategyOf builds the strategy of spec as a policy would.
func strategyOf(t *testing.T, spec scaling.StrategySpec) scaling.Strategy {
	t.Helper()
	var (
		s   scaling.Strategy
		err error
	)
	switch spec.Type {
	case scaling.StrategyThreshold:
		s, err = scaling.NewThreshold(scaling.ThresholdConfig{})
	case scaling.StrategyTargetValue:
		s, err = scaling.NewTargetValue(*spec.TargetValue)
	case scaling.StrategyHPA:
		s, err = scaling.NewHPA(*spec.HPA, "")
	case scaling.StrategyStep:
		s, err = scaling.NewStep(*spec.Step)
	case scaling.StrategyScheduled:
		s, err = scaling.NewScheduled(*spec.Scheduled)
	default:
		t.Fatalf("no strategy of type %s", spec.Type)
	}
	require.NoError(t, err)
	return s
}

// nopScaler is a Scaler that is never called (an engine that only
// decides).
type nopScaler struct{}

func (nopScaler) Capacity(context.Context, string) (provider.Capacity, error) {
	return provider.Capacity{}, provider.ErrUnsupported
}

func (nopScaler) SetCapacity(context.Context, string, provider.CapacitySpec) error {
	return provider.ErrUnsupported
}

// TestHPABoundsBeyondInt32 pins an HPA strategy whose policy bounds do
// not fit an int32 (the HPA's replica counts): they saturate at
// math.MaxInt32. They wrapped: a max of 2³¹ was an error ("max_replicas
// −2147483648") and one of 2³² + 10 a max of 10.
func TestHPABoundsBeyondInt32(t *testing.T) {
	t.Parallel()
	s, err := scaling.NewHPA(scaling.HPAConfig{}, "")
	require.NoError(t, err)
	for _, maxR := range []int{math.MaxInt32, math.MaxInt32 + 1, 1<<32 + 10} {
		g := groupIn(20, 0, maxR, 1, maxR)
		rec, err := s.Recommend(t.Context(), stateWith(g, series(provider.MetricCPU, t0, time.Minute, 0.99)))
		require.NoError(t, err, "max %d", maxR)
		assert.Equal(t, 25, rec.Capacity.Desired, "max %d: ⌈20 × 0.99 / 0.8⌉: %s", maxR, rec.Reason)
	}
}

// TestVerticalRefusesNegativeUsage: a negative utilization or duration is
// no usage: an error naming the metric, not a size. It sized a function
// at Lambda's minimums (128 MiB, a 1 s timeout) and an instance at the
// cheapest type.
func TestVerticalRefusesNegativeUsage(t *testing.T) {
	t.Parallel()
	s, err := scaling.NewVertical(scaling.VerticalConfig{Lookback: time.Hour, Step: 5 * time.Minute, InstanceTypes: []scaling.InstanceType{
		{Name: "m5.large", VCPU: 2, MemoryMiB: 8192, HourlyCost: 0.096}, {Name: "m5.xlarge", VCPU: 4, MemoryMiB: 16384, HourlyCost: 0.192}}})
	require.NoError(t, err)
	five := func(m provider.Metric, v float64) provider.Series { return series(m, t0, 5*time.Minute, v, v, v) }
	vm := scaling.Target{ID: "vm", Resource: provider.Resource{ID: "vm", Kind: provider.KindInstance, Size: provider.Size{InstanceType: "m5.xlarge"}}}
	for _, tt := range []struct {
		name   string
		state  scaling.State
		metric string
	}{
		{"function memory", stateWith(fnTarget(1024, time.Minute), five(provider.MetricMemory, -0.5), five(provider.MetricDuration, 10)), "metrics.memory["},
		{"function duration", stateWith(fnTarget(1024, time.Minute), five(provider.MetricMemory, 0.5), five(provider.MetricDuration, -1)), "metrics.duration["},
		{"instance cpu", stateWith(vm, five(provider.MetricCPU, -0.2), five(provider.MetricMemory, 0.5)), "metrics.cpu["},
	} {
		rec, err := s.Recommend(t.Context(), tt.state)
		require.ErrorIs(t, err, provider.ErrInvalid, "%s: %+v %s", tt.name, rec.Size, rec.Reason)
		assert.Contains(t, err.Error(), tt.metric, tt.name)
	}
}

// TestDefaultMaxNeverScalesIn: the default ceiling (Max unset: 10) bounds
// a scale out; a group someone else sized above it is
// an error naming max, and is left as it is, instead of being scaled in
// to the ceiling. At the ceiling, or with Max set, the group is scaled as
// usual.
func TestDefaultMaxNeverScalesIn(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		for _, tt := range []struct {
			name    string
			desired int
			min     *int
			max     int
			fails   bool
			want    int // the plan's desired capacity when it does not fail
		}{
			{name: "30 above the default 10", desired: 30, fails: true},
			{name: "11 above the default 10", desired: 11, fails: true},
			{name: "10 at the default 10", desired: 10, want: 5},
			{name: "11 above the default 10, min 5", desired: 11, min: ip(5), fails: true},
			{name: "10 at the default 10, min 10", desired: 10, min: ip(10)},
			{name: "30 with max 40", desired: 30, max: 40, want: 15},
		} {
			c := newCloud(t, tt.desired, memory.Config{})
			setCPU(t, c, "web", 0.1)
			e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t))
			require.NoError(t, err)
			a, err := scaling.NewAutoscaler(scaling.Config{Execute: true, Targets: []scaling.TargetConfig{{ID: "web", Min: tt.min, Max: tt.max,
				Strategies: []scaling.StrategySpec{{Type: scaling.StrategyThreshold}}}}}, e, scaling.Fleet{Inventory: c, Metrics: c})
			require.NoError(t, err)
			rep := a.Evaluate(t.Context(), time.Now())
			if !tt.fails {
				require.NoError(t, rep.Err(), tt.name)
				if tt.want == 0 {
					assert.Nil(t, rep.Targets[0].Plan, "%s: at the floor, nothing to change", tt.name)
					continue
				}
				require.NotNil(t, rep.Targets[0].Plan, tt.name)
				assert.Equal(t, tt.want, rep.Targets[0].Plan.To.Desired, "%s: the threshold strategy halves an idle group", tt.name)
				continue
			}
			err = rep.Err()
			require.ErrorIs(t, err, provider.ErrInvalid, tt.name)
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie, tt.name)
			assert.Equal(t, "max", ie.Field, tt.name)
			require.ErrorContains(t, err, fmt.Sprintf("the group's desired capacity %d is above the default ceiling", tt.desired), tt.name)
			assert.Nil(t, rep.Targets[0].Plan, tt.name)
			rep = a.RunOnce(t.Context(), time.Now())
			require.ErrorIs(t, rep.Err(), provider.ErrInvalid, tt.name)
			assert.Empty(t, setCapacityOps(c), "%s: nothing written", tt.name)
		}
	})
}

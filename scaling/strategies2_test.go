package scaling_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/scaling/hpa"
)

func berlin(t *testing.T, y int, m time.Month, d, hh, mm int) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	return time.Date(y, m, d, hh, mm, 0, 0, loc)
}

func TestScheduled(t *testing.T) {
	t.Parallel()
	s, err := scaling.NewScheduled(scaling.ScheduledConfig{TimeZone: "Europe/Berlin", Actions: []scaling.ScheduledAction{
		{Name: "day", Schedule: "0 7 * * 1-5", Min: ip(4), Desired: ip(6)},
		{Name: "night", Schedule: "0 20 * * *", Min: ip(1), Desired: ip(2)},
		{Name: "peak", Schedule: "30 2 * * *", Max: ip(30)},
	}})
	require.NoError(t, err)
	tests := []struct {
		name        string
		now         time.Time
		wantMin     int
		wantDesired int
		wantMax     int
	}{
		{"Monday 07:00 sharp: day", berlin(t, 2026, 3, 2, 7, 0), 4, 6, 30},
		{"Monday 06:59: Sunday night's", berlin(t, 2026, 3, 2, 6, 59), 1, 2, 30},
		{"Saturday noon: Friday night's (day is weekdays only)", berlin(t, 2026, 3, 7, 12, 0), 1, 2, 30},
		{"Tuesday 21:00: night", berlin(t, 2026, 3, 3, 21, 0), 1, 2, 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := group(3, 1, 50)
			rec, err := s.Recommend(t.Context(), scaling.State{Now: tt.now, Target: g})
			require.NoError(t, err)
			assert.Equal(t, tt.wantMin, rec.Capacity.Min, rec.Reason)
			assert.Equal(t, tt.wantDesired, rec.Capacity.Desired, rec.Reason)
			assert.Equal(t, tt.wantMax, rec.Capacity.Max, rec.Reason)
			assert.InDelta(t, 1.0, rec.Fitness, 0)
		})
	}
}

// TestScheduledDST pins the daylight-saving behaviour in Europe/Berlin: on
// 29 March 2026 the clocks jump from 02:00 to 03:00, so a 02:30 action
// fires at 03:30; on 25 October 2026 they go back from 03:00 to 02:00, and
// a 02:30 action fires once, at the second 02:30.
func TestScheduledDST(t *testing.T) {
	t.Parallel()
	s, err := scaling.NewScheduled(scaling.ScheduledConfig{TimeZone: "Europe/Berlin", Actions: []scaling.ScheduledAction{
		{Name: "early", Schedule: "30 2 * * *", Desired: ip(9)},
		{Name: "evening", Schedule: "0 22 * * *", Desired: ip(3)},
	}})
	require.NoError(t, err)
	desiredAt := func(now time.Time) int {
		rec, err := s.Recommend(t.Context(), scaling.State{Now: now, Target: group(5, 0, 50)})
		require.NoError(t, err)
		return rec.Capacity.Desired
	}
	spring := time.Date(2026, 3, 29, 1, 29, 0, 0, time.UTC) // 03:29 CEST
	assert.Equal(t, 3, desiredAt(spring), "02:30 does not exist; it becomes 03:30 CEST")
	assert.Equal(t, 9, desiredAt(spring.Add(time.Minute)), "03:30 CEST")
	autumnFirst := time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC) // the first 02:30 (CEST)
	assert.Equal(t, 3, desiredAt(autumnFirst), "fires once, at the second 02:30")
	autumnSecond := time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC) // 02:30 CET
	assert.Equal(t, 9, desiredAt(autumnSecond))
	assert.Equal(t, autumnSecond, s.Next(autumnFirst).UTC(), "Next agrees")
	assert.Equal(t, time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC), s.Next(spring).UTC())
}

func TestScheduledNothingFired(t *testing.T) {
	t.Parallel()
	s, err := scaling.NewScheduled(scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{{Name: "leap", Schedule: "0 0 29 2 *", Desired: ip(1)}}})
	require.NoError(t, err)
	// 29 February last came in 2024, more than a year before.
	rec, err := s.Recommend(t.Context(), scaling.State{Now: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), Target: group(5, 0, 50)})
	require.NoError(t, err)
	assert.Equal(t, 5, rec.Capacity.Desired)
	assert.Zero(t, rec.Fitness)
}

func TestScheduledConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		give  scaling.ScheduledConfig
		field string
	}{
		{"no actions", scaling.ScheduledConfig{}, "actions"},
		{"unknown zone", scaling.ScheduledConfig{TimeZone: "Mars/Olympus", Actions: []scaling.ScheduledAction{{Name: "a", Schedule: "@daily", Desired: ip(1)}}}, "time_zone"},
		{"does not parse", scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{{Name: "a", Schedule: "61 * * * *", Desired: ip(1)}}}, "actions[0].schedule"},
		{"six fields", scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{{Name: "a", Schedule: "0 0 0 * * *", Desired: ip(1)}}}, "actions[0].schedule"},
		{"every", scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{{Name: "a", Schedule: "@every 1h", Desired: ip(1)}}}, "actions[0].schedule"},
		{"sets nothing", scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{{Name: "a", Schedule: "@daily"}}}, "actions[0]"},
		{"min above max", scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{{Name: "a", Schedule: "@daily", Min: ip(5), Max: ip(2)}}}, "actions[0].max"},
		{"duplicate name", scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{{Name: "a", Schedule: "@daily", Min: ip(1)}, {Name: "a", Schedule: "@hourly", Min: ip(1)}}}, "actions[1].name"},
		{"action zone", scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{{Name: "a", Schedule: "@daily", TimeZone: "Nowhere/Else", Min: ip(1)}}}, "actions[0].time_zone"},
		{"no name", scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{{Schedule: "@daily", Min: ip(1)}}}, "actions[0].name"},
		{"negative min", scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{{Name: "a", Schedule: "@daily", Min: ip(-1)}}}, "actions[0]"},
		{"negative max", scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{{Name: "a", Schedule: "@daily", Max: ip(-1)}}}, "actions[0]"},
		{"negative desired", scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{{Name: "a", Schedule: "@daily", Desired: ip(-1)}}}, "actions[0]"},
		// A schedule that parses but names no date never fires: the
		// action was silently never in effect.
		{"never fires: 30 February", scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{{Name: "a", Schedule: "0 0 30 2 *", Desired: ip(1)}}}, "actions[0].schedule"},
		// Local (the machine's zone) is refused in a CRON_TZ prefix as in
		// time_zone: it was read as no prefix, the config's zone.
		{"CRON_TZ=Local", scaling.ScheduledConfig{TimeZone: "Europe/Berlin", Actions: []scaling.ScheduledAction{{Name: "a", Schedule: "CRON_TZ=Local 0 20 * * *", Desired: ip(1)}}}, "actions[0].schedule"},
		{"TZ=Local", scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{{Name: "a", Schedule: "TZ=Local 0 20 * * *", Desired: ip(1)}}}, "actions[0].schedule"},
		{"never fires: 31 April and June", scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{{Name: "a", Schedule: "0 8 31 4,6 *", Desired: ip(1)}}}, "actions[0].schedule"},
	}
	// Zero is a valid bound and desired capacity, and min may equal max;
	// 29 February is a date (every four years).
	for _, a := range []scaling.ScheduledAction{
		{Name: "a", Schedule: "0 0 29 2 *", Min: ip(0)},
		{Name: "a", Schedule: "@daily", Min: ip(0)},
		{Name: "a", Schedule: "@daily", Max: ip(0)},
		{Name: "a", Schedule: "@daily", Desired: ip(0)},
		{Name: "a", Schedule: "@daily", Min: ip(3), Max: ip(3)},
	} {
		_, err := scaling.NewScheduled(scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{a}})
		require.NoError(t, err, "%+v", a)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := scaling.NewScheduled(tt.give)
			var inv *provider.InvalidError
			require.ErrorAs(t, err, &inv)
			assert.Equal(t, tt.field, inv.Field)
		})
	}
}

func catalogue() []scaling.InstanceType {
	return []scaling.InstanceType{
		{Name: "m5.large", VCPU: 2, MemoryMiB: 8192, HourlyCost: 0.096},
		{Name: "m5.xlarge", VCPU: 4, MemoryMiB: 16384, HourlyCost: 0.192},
		{Name: "m5.2xlarge", VCPU: 8, MemoryMiB: 32768, HourlyCost: 0.384},
		{Name: "c5.large", VCPU: 2, MemoryMiB: 4096, HourlyCost: 0.085},
		{Name: "t3.medium", VCPU: 2, MemoryMiB: 4096, HourlyCost: 0.0416},
		{Name: "t3.small", VCPU: 2, MemoryMiB: 2048, HourlyCost: 0.0208},
	}
}

func TestVerticalInstance(t *testing.T) {
	t.Parallel()
	s, err := scaling.NewVertical(scaling.VerticalConfig{InstanceTypes: catalogue(), Lookback: time.Hour, Step: 5 * time.Minute})
	require.NoError(t, err)
	inst := scaling.Target{ID: "db", Resource: provider.Resource{ID: "i-1", Kind: provider.KindInstance, Size: provider.Size{InstanceType: "m5.2xlarge"}}}
	flat := func(m provider.Metric, v float64) provider.Series { return flatSeries(m, 5*time.Minute, 12, v) }
	// 8 vCPU at 20 % → 1.6 × 1.15 = 1.84 vCPU; 32 GiB at 10 % → 3.3 × 1.15 = 3.8 GiB:
	// the cheapest type with 2 vCPU and 4 GiB is t3.medium.
	rec, err := s.Recommend(t.Context(), stateWith(inst, flat(provider.MetricCPU, 0.2), flat(provider.MetricMemory, 0.1)))
	require.NoError(t, err)
	assert.Equal(t, "t3.medium", rec.Size.InstanceType, rec.Reason)
	assert.InDelta(t, 0.9, rec.Fitness, 1e-9)
	var costChange float64
	for _, in := range rec.Inputs {
		if in.Name == "cost per hour change" {
			costChange = in.Value
		}
	}
	assert.InDelta(t, 0.0416-0.384, costChange, 1e-9)

	// Same family only: m5.large.
	sf, err := scaling.NewVertical(scaling.VerticalConfig{InstanceTypes: catalogue(), Lookback: time.Hour, Step: 5 * time.Minute, SameFamily: true})
	require.NoError(t, err)
	rec, err = sf.Recommend(t.Context(), stateWith(inst, flat(provider.MetricCPU, 0.2), flat(provider.MetricMemory, 0.1)))
	require.NoError(t, err)
	assert.Equal(t, "m5.large", rec.Size.InstanceType, rec.Reason)

	// Busy: 8 vCPU at 95 % needs 8.74 vCPU: nothing fits, the size stays.
	rec, err = s.Recommend(t.Context(), stateWith(inst, flat(provider.MetricCPU, 0.95)))
	require.NoError(t, err)
	assert.True(t, rec.Size.IsZero(), rec.Reason)
	assert.Contains(t, rec.Reason, "no catalogue type")
}

// TestVerticalHalfLife pins the weighting: a week-old burst weighs little
// against recent quiet samples.
func TestVerticalHalfLife(t *testing.T) {
	t.Parallel()
	s, err := scaling.NewVertical(scaling.VerticalConfig{InstanceTypes: catalogue(), HalfLife: time.Hour, Lookback: 8 * 24 * time.Hour, Step: time.Hour})
	require.NoError(t, err)
	vals := make([]float64, 8*24)
	for i := range vals {
		vals[i] = gap
	}
	for i := range 24 { // the first day: a burst
		vals[i] = 0.9
	}
	for i := 8*24 - 6; i < 8*24; i++ { // the last six hours: quiet
		vals[i] = 0.1
	}
	inst := scaling.Target{ID: "i", Resource: provider.Resource{ID: "i-1", Kind: provider.KindInstance, Size: provider.Size{InstanceType: "m5.xlarge"}}}
	cpu := series(provider.MetricCPU, t0, time.Hour, vals...)
	mem := cpu
	mem.Metric = provider.MetricMemory
	rec, err := s.Recommend(t.Context(), stateWith(inst, cpu, mem))
	require.NoError(t, err)
	// Unweighted, p90 would be the burst's 0.9 (4.1 vCPU: m5.2xlarge);
	// weighted, it is the recent 0.1: 0.46 vCPU and 1884 MiB fit t3.small.
	assert.Equal(t, "t3.small", rec.Size.InstanceType, rec.Reason)
}

func TestVerticalFunction(t *testing.T) {
	t.Parallel()
	s, err := scaling.NewVertical(scaling.VerticalConfig{Lookback: time.Hour, Step: 5 * time.Minute})
	require.NoError(t, err)
	fn := scaling.Target{ID: "fn", Resource: provider.Resource{ID: "fn", Kind: provider.KindFunction, Size: provider.Size{MemoryMiB: 1024, Timeout: 60 * time.Second}}}
	mem := series(provider.MetricMemory, t0, 5*time.Minute, 0.3, 0.35, 0.4, 0.32, 0.31, 0.33, 0.3, 0.36, 0.34, 0.3, 0.3, 0.3)
	dur := series(provider.MetricDuration, t0, 5*time.Minute, 1.2, 2.5, 1.0, 1.1, 3.9, 1.3, 1.2, 1.1, 1.0, 1.2, 1.1, 1.3)
	rec, err := s.Recommend(t.Context(), stateWith(fn, mem, dur))
	require.NoError(t, err)
	// p90 memory 0.36 × 1024 × 1.15 = 424 MiB → 448 (64 MiB steps);
	// p99 duration 3.9 s × 1.5 = 5.85 → 6 s.
	assert.Equal(t, provider.Size{MemoryMiB: 448, Timeout: 6 * time.Second}, rec.Size, rec.Reason)
	require.NoError(t, rec.Size.ValidateFor(provider.KindFunction))

	// Lambda's limits bound the size.
	tiny := scaling.Target{ID: "fn", Resource: provider.Resource{ID: "fn", Kind: provider.KindFunction, Size: provider.Size{MemoryMiB: 128, Timeout: time.Second}}}
	rec, err = s.Recommend(t.Context(), stateWith(tiny, series(provider.MetricMemory, t0, 5*time.Minute, 0.01), series(provider.MetricDuration, t0, 5*time.Minute, 2000)))
	require.NoError(t, err)
	assert.Equal(t, provider.Size{MemoryMiB: 128, Timeout: 900 * time.Second}, rec.Size, rec.Reason)

	// Once resized, the same usage is a larger share of the smaller memory,
	// and the size stays.
	steady := scaling.Target{ID: "fn", Resource: provider.Resource{ID: "fn", Kind: provider.KindFunction, Size: provider.Size{MemoryMiB: 448, Timeout: 6 * time.Second}}}
	used := mem.Clone()
	for i := range used.Values {
		used.Values[i] *= 1024.0 / 448
	}
	rec, err = s.Recommend(t.Context(), stateWith(steady, used, dur))
	require.NoError(t, err)
	assert.True(t, rec.Size.IsZero(), rec.Reason)
}

func TestVerticalConfigErrors(t *testing.T) {
	t.Parallel()
	require.NoError(t, scaling.VerticalConfig{Step: time.Hour, Lookback: time.Hour}.Validate(), "a step as long as the lookback")
	for _, tt := range []struct {
		give  scaling.VerticalConfig
		field string
	}{
		{scaling.VerticalConfig{Percentile: 1.5}, "percentile"},
		{scaling.VerticalConfig{Margin: math.NaN()}, "margin"},
		{scaling.VerticalConfig{HalfLife: -time.Hour}, "half_life"},
		{scaling.VerticalConfig{InstanceTypes: []scaling.InstanceType{{Name: "x", VCPU: 1, MemoryMiB: 1}, {Name: "x", VCPU: 1, MemoryMiB: 1}}}, "instance_types[1].name"},
		{scaling.VerticalConfig{InstanceTypes: []scaling.InstanceType{{Name: "x", VCPU: 0, MemoryMiB: 1}}}, "instance_types[0].vcpu"},
		{scaling.VerticalConfig{Step: 9 * 24 * time.Hour}, "step"},
		{scaling.VerticalConfig{Step: time.Hour + 1, Lookback: time.Hour}, "step"},
		{scaling.VerticalConfig{Percentile: -0.1}, "percentile"},
		{scaling.VerticalConfig{Percentile: math.NaN()}, "percentile"},
		{scaling.VerticalConfig{Margin: -0.1}, "margin"},
		{scaling.VerticalConfig{Lookback: -time.Hour}, "lookback"},
		{scaling.VerticalConfig{Step: -time.Minute}, "step"},
		{scaling.VerticalConfig{MinChange: -0.01}, "min_change"},
		{scaling.VerticalConfig{MinChange: math.Inf(1)}, "min_change"},
		{scaling.VerticalConfig{MemoryStepMiB: -1}, "memory_step_mib"},
		{scaling.VerticalConfig{TimeoutPercentile: -0.1}, "timeout_percentile"},
		{scaling.VerticalConfig{TimeoutPercentile: 1.1}, "timeout_percentile"},
		{scaling.VerticalConfig{TimeoutPercentile: math.NaN()}, "timeout_percentile"},
		{scaling.VerticalConfig{TimeoutHeadroom: -0.1}, "timeout_headroom"},
		{scaling.VerticalConfig{TimeoutHeadroom: math.Inf(1)}, "timeout_headroom"},
		{scaling.VerticalConfig{InstanceTypes: []scaling.InstanceType{{VCPU: 1, MemoryMiB: 1}}}, "instance_types[0].name"},
		{scaling.VerticalConfig{InstanceTypes: []scaling.InstanceType{{Name: "x", VCPU: math.NaN(), MemoryMiB: 1}}}, "instance_types[0].vcpu"},
		{scaling.VerticalConfig{InstanceTypes: []scaling.InstanceType{{Name: "x", VCPU: 1}}}, "instance_types[0].memory_mib"},
		{scaling.VerticalConfig{InstanceTypes: []scaling.InstanceType{{Name: "x", VCPU: 1, MemoryMiB: 1, HourlyCost: -0.01}}}, "instance_types[0].hourly_cost"},
		{scaling.VerticalConfig{InstanceTypes: []scaling.InstanceType{{Name: "x", VCPU: 1, MemoryMiB: 1, HourlyCost: math.NaN()}}}, "instance_types[0].hourly_cost"},
	} {
		_, err := scaling.NewVertical(tt.give)
		var inv *provider.InvalidError
		require.ErrorAs(t, err, &inv, tt.field)
		assert.Equal(t, tt.field, inv.Field)
	}
	// Each bound itself is valid (zero meaning the default where there is one).
	for _, c := range []scaling.VerticalConfig{
		{Percentile: 1}, {Percentile: 0}, {Margin: 0}, {HalfLife: 0}, {Lookback: 0}, {MinChange: 0}, {MemoryStepMiB: 0},
		{TimeoutPercentile: 1}, {TimeoutHeadroom: 0},
		{InstanceTypes: []scaling.InstanceType{{Name: "x", VCPU: 0.25, MemoryMiB: 1, HourlyCost: 0}}},
	} {
		require.NoError(t, c.Validate(), "%+v", c)
	}
}

// TestHPAStrategyOnGroup pins the HPA strategy on a group without pods:
// each ready instance reports the group's CPU, so 3 instances at 90 % of a
// 60 % target scale to ⌈3 × 1.5⌉ = 5, and the legacy 5-minute
// stabilization then holds a scale down.
func TestHPAStrategyOnGroup(t *testing.T) {
	t.Parallel()
	s, err := scaling.NewHPA(scaling.HPAConfig{Metrics: []hpa.MetricSpec{cpuUtilization(60)}}, "")
	require.NoError(t, err)
	g := group(3, 1, 10)
	rec, err := s.Recommend(t.Context(), stateWith(g, series(provider.MetricCPU, t0, time.Minute, 0.9)))
	require.NoError(t, err)
	assert.Equal(t, 5, rec.Capacity.Desired, rec.Reason)
	assert.Equal(t, 5, rec.Proposal)
	assert.InDelta(t, 0.8, rec.Fitness, 1e-9)

	// A minute after scaling to 5, CPU is low: the recommendation of 5 a
	// minute ago holds the scale down (stabilization).
	g = group(5, 1, 10)
	st := stateWith(g, series(provider.MetricCPU, t0.Add(time.Minute), time.Minute, 0.2))
	st.Now = t0.Add(time.Minute)
	st.History = scaling.History{
		Recommendations: []scaling.RecommendationRecord{{At: t0, Strategy: "hpa", Current: 3, Desired: 5, Proposal: 5, First: true}},
		Changes:         []scaling.Change{{At: t0, Strategy: "hpa", From: provider.CapacitySpec{Max: 100, Desired: 3}, To: provider.CapacitySpec{Max: 100, Desired: 5}}},
	}
	rec, err = s.Recommend(t.Context(), st)
	require.NoError(t, err)
	assert.Equal(t, 5, rec.Capacity.Desired, rec.Reason)
	assert.Equal(t, 2, rec.Proposal, "the unstabilized proposal: ⌈5 × 20/60⌉")
	assert.Contains(t, rec.Reason, hpa.ReasonScaleDownStabilized)

	// Six minutes later the high recommendation has left the window.
	st.Now = t0.Add(6 * time.Minute)
	st.Metrics = []provider.Series{series(provider.MetricCPU, st.Now, time.Minute, 0.2)}
	st.History.Recommendations = append(st.History.Recommendations, scaling.RecommendationRecord{At: t0.Add(time.Minute), Strategy: "hpa", Current: 5, Desired: 5, Proposal: 2})
	rec, err = s.Recommend(t.Context(), st)
	require.NoError(t, err)
	assert.Equal(t, 2, rec.Capacity.Desired, rec.Reason)

	// A metric that cannot be read: no decision, the capacity stays.
	st.Metrics = nil
	rec, err = s.Recommend(t.Context(), st)
	require.NoError(t, err)
	assert.Equal(t, 5, rec.Capacity.Desired, rec.Reason)
	assert.Zero(t, rec.Fitness)
}

// TestHPAStrategyPods pins the HPA strategy on a Kubernetes target: the
// pods and samples a PodSource observed go to the calculator as they are.
func TestHPAStrategyPods(t *testing.T) {
	t.Parallel()
	s, err := scaling.NewHPA(scaling.HPAConfig{}, "hpa")
	require.NoError(t, err)
	started := t0.Add(-time.Hour)
	obs := &scaling.PodObservation{StatusReplicas: 2, Metrics: []hpa.MetricValues{{}}}
	for i, use := range []int64{950, 850} { // of 500m requests: 180 %
		name := []string{"a", "b"}[i]
		obs.Pods = append(obs.Pods, hpa.Pod{Name: name, Phase: hpa.PhaseRunning, Ready: hpa.ConditionTrue, StartTime: started, ReadyTransition: started,
			Containers: []hpa.Container{{Name: "app", Requests: hpa.ResourceList{hpa.ResourceCPU: 500}}}})
		obs.Metrics[0].Samples = append(obs.Metrics[0].Samples, hpa.Sample{Pod: name, Value: use, Timestamp: t0, Window: time.Minute})
	}
	st := scaling.State{Now: t0, Target: group(2, 1, 10), Pods: obs}
	rec, err := s.Recommend(t.Context(), st)
	require.NoError(t, err)
	// 180 % of an 80 % default target: ⌈2 × 2.25⌉ = 5, within the legacy
	// scale-up limit max(2×2, 4) = 4: 4.
	assert.Equal(t, 4, rec.Capacity.Desired, rec.Reason)
	assert.Contains(t, rec.Reason, hpa.ReasonScaleUpLimit)
}

func TestHPAConfigErrors(t *testing.T) {
	t.Parallel()
	_, err := scaling.NewHPA(scaling.HPAConfig{Metrics: []hpa.MetricSpec{{Type: hpa.SourcePods, Pods: &hpa.PodsMetricSource{
		Metric: hpa.MetricIdentifier{Name: "no such metric!"}, Target: hpa.MetricTarget{Type: hpa.TargetAverageValue, AverageValue: 1}}}}}, "")
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "metrics[0].metric.name", inv.Field)
	_, err = scaling.NewHPA(scaling.HPAConfig{Controller: hpa.Config{Tolerance: -1}}, "")
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "controller.tolerance", inv.Field)
}

// TestStrategiesRefuseInfiniteMetrics pins that a series holding an
// infinite value (a provider's garbage: no load is infinite, a step
// without data is a gap) is an error naming the metric, not a load: it
// doubled a threshold group, took a target-value group to its max, made
// an HPA propose 0 and shrank a function to 128 MiB and a 1 s timeout.
func TestStrategiesRefuseInfiniteMetrics(t *testing.T) {
	t.Parallel()
	threshold, targetValue, hpaS, step := cpuStrategies(t)
	vertical, err := scaling.NewVertical(scaling.VerticalConfig{})
	require.NoError(t, err)
	for _, inf := range []float64{math.Inf(1), math.Inf(-1)} {
		cpu := series(provider.MetricCPU, t0, time.Minute, 0.5, inf)
		fn := scaling.State{Now: t0, Target: fnTarget(1024, time.Minute), Metrics: []provider.Series{
			series(provider.MetricMemory, t0, 5*time.Minute, 0.5, inf, 0.5),
			series(provider.MetricDuration, t0, 5*time.Minute, 10, 10, 10),
		}}
		for _, tt := range []struct {
			name   string
			give   scaling.Strategy
			state  scaling.State
			metric string
		}{
			{"threshold", threshold, stateWith(group(4, 1, 100), cpu), "metrics.cpu["},
			{"target value", targetValue, stateWith(group(4, 1, 100), cpu), "metrics.cpu["},
			{"hpa", hpaS, stateWith(group(4, 1, 100), cpu), "metrics.cpu["},
			{"step", step, stateWith(group(4, 1, 100), cpu), "metrics.cpu["},
			{"vertical", vertical, fn, "metrics.memory["},
		} {
			rec, err := tt.give.Recommend(t.Context(), tt.state)
			require.ErrorIs(t, err, provider.ErrInvalid, "%s at %g: %s", tt.name, inf, rec.Reason)
			assert.Contains(t, err.Error(), tt.metric, tt.name)
		}
	}
}

// TestStrategiesCheckOnlyTheValuesTheyRead pins that an infinite value a
// strategy does not read (weeks back in a series it shares with the
// predictive strategy, which asked for more history at the same step)
// fails no decision: the strategies read the last values of a series
// (target value and HPA the last, threshold its window, step its
// periods), and it was the whole series they refused, scanning all of it
// on every decision.
func TestStrategiesCheckOnlyTheValuesTheyRead(t *testing.T) {
	t.Parallel()
	threshold, targetValue, hpaS, step := cpuStrategies(t)
	for _, inf := range []float64{math.Inf(1), math.Inf(-1)} {
		vals := make([]float64, 1000) // a long history, shared
		for i := range vals {
			vals[i] = 0.9
		}
		vals[0] = inf // long before any window the four read
		cpu := series(provider.MetricCPU, t0, time.Minute, vals...)
		for _, tt := range []struct {
			name string
			give scaling.Strategy
		}{
			{"threshold", threshold},
			{"target value", targetValue},
			{"hpa", hpaS},
			{"step", step},
		} {
			rec, err := tt.give.Recommend(t.Context(), stateWith(group(4, 1, 100), cpu))
			require.NoError(t, err, "%s: %g at %s is not read", tt.name, inf, cpu.Start)
			assert.Greater(t, rec.Proposal, 4, "%s scales up on 90 %% CPU: %s", tt.name, rec.Reason)
		}
	}
}

// cpuStrategies returns a threshold, a target-value (CPU at 50 %), an HPA
// and a step strategy (+2 above 80 %) with their defaults otherwise: the
// strategies that read the latest CPU values.
func cpuStrategies(t *testing.T) (threshold, targetValue, hpaS, step scaling.Strategy) {
	t.Helper()
	var err error
	threshold, err = scaling.NewThreshold(scaling.ThresholdConfig{})
	require.NoError(t, err)
	targetValue, err = scaling.NewTargetValue(scaling.TargetValueConfig{Metric: provider.MetricCPU, Target: fp(0.5)})
	require.NoError(t, err)
	hpaS, err = scaling.NewHPA(scaling.HPAConfig{}, "")
	require.NoError(t, err)
	step, err = scaling.NewStep(scaling.StepConfig{Policies: []scaling.StepPolicy{{Threshold: 0.8, Comparison: scaling.Greater,
		AdjustmentType: scaling.ChangeInCapacity, Steps: []scaling.StepAdjustment{{LowerBound: fp(0), Adjustment: 2}}}}})
	require.NoError(t, err)
	return threshold, targetValue, hpaS, step
}

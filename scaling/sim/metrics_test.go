package sim_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/scaling/sim"
)

// script recommends the capacities of its list, one per call (the last
// one after the list ends).
func script(capacities ...int) scaling.Strategy {
	i := 0
	return scaling.StrategyFunc(func(_ context.Context, st scaling.State) (scaling.Recommendation, error) {
		spec := st.Target.Capacity.CapacitySpec
		spec.Desired = capacities[min(i, len(capacities)-1)]
		i++
		return scaling.Recommendation{Capacity: spec, Proposal: spec.Desired}, nil
	})
}

// TestRunMetricsByHandHalfHours: the metrics on half-hour steps at a
// price of 2 an instance-hour, with an over-provisioned step needing
// more than one instance (θ_O divides by the oracle's capacity).
func TestRunMetricsByHandHalfHours(t *testing.T) {
	t.Parallel()
	cfg := handConfig()
	cfg.CostPerInstanceHour = 2
	d := hand()
	d.Step = 30 * time.Minute
	cfg.From = start.Add(30 * time.Minute)
	s, err := sim.New(cfg)
	require.NoError(t, err)
	rep, err := s.Run(t.Context(), d, sim.Policy{Name: "four", Strategy: script(4)})
	require.NoError(t, err)

	o := rep.Oracle.Metrics // 1, 3, 3, 1, 5
	assert.InDelta(t, 6.5, o.CapacityHours, 1e-12)
	assert.InDelta(t, 13, o.Cost, 1e-12)
	assert.InDelta(t, 2/(5*0.5), o.ReversalsPerHour, 1e-12, "2 reversals in 2.5 hours")

	r, _ := rep.Result("four")
	m := r.Metrics // 4 against 1, 3, 3, 1, 5
	assert.InDelta(t, 10, m.CapacityHours, 1e-12)
	assert.InDelta(t, 20, m.Cost, 1e-12)
	assert.InDelta(t, 20.0/13, m.CostRatio, 1e-12)
	assert.InDelta(t, 0.2, m.TauU, 1e-12)
	assert.InDelta(t, 0.8, m.TauO, 1e-12)
	assert.InDelta(t, (1.0/5)/5, m.ThetaU, 1e-12)
	assert.InDelta(t, (3+1.0/3+1.0/3+3)/5, m.ThetaO, 1e-12)
	assert.Equal(t, 1, m.Changes, "asked for 4 at the first step (from 1, the capacity before it), then kept")

	var table strings.Builder
	require.NoError(t, rep.WriteTable(&table))
	// The reactive baseline as in TestRunMetricsByHand, on half hours:
	// 4.5 capacity-hours, 9/13 of the oracle's cost, 1 reversal in 2.5 h.
	assert.Equal(t, `    policy  τ_U %  θ_U %  θ_O %  τ_O %  cost × oracle  capacity-h  changes  reversals/h
    oracle    0.0    0.0    0.0    0.0          1.000           6        3         0.80
      four   20.0    4.0  133.3   80.0          1.538          10        1         0.00
  reactive   40.0   29.3   40.0   20.0          0.692           4        2         0.40
`, table.String())
}

// TestRunScaleInCancelsLaunches: a scale in first cancels the instances
// still launching, the newest first, then stops serving ones.
func TestRunScaleInCancelsLaunches(t *testing.T) {
	t.Parallel()
	cfg := handConfig()
	cfg.LeadTime = 2 * time.Hour
	s, err := sim.New(cfg)
	require.NoError(t, err)
	rep, err := s.Run(t.Context(), hand(), sim.Policy{Name: "p", Strategy: script(5, 8, 3)})
	require.NoError(t, err)
	r, _ := rep.Result("p")
	actual, desired, _ := actualsOf(r)
	// Step 0: 1 serving, 4 launching (serving at step 2). Step 1: 3 more
	// launching (at step 3). Step 2: the 4 serve (5), and 3 is 5 fewer
	// than the 8 asked for: the 3 launching are cancelled, then 2 of the
	// serving stop.
	assert.Equal(t, []int{5, 8, 3, 3, 3}, desired)
	assert.Equal(t, []int{1, 1, 3, 3, 3}, actual)

	rep, err = s.Run(t.Context(), hand(), sim.Policy{Name: "p", Strategy: script(5, 2)})
	require.NoError(t, err)
	r, _ = rep.Result("p")
	actual, desired, _ = actualsOf(r)
	assert.Equal(t, []int{5, 2, 2, 2, 2}, desired)
	assert.Equal(t, []int{1, 1, 2, 2, 2}, actual, "3 of the 4 launching cancelled; one arrives")
}

// TestRunStartsFromTheHistory: the capacity serving before the first
// replayed step is the one the step before it needs.
func TestRunStartsFromTheHistory(t *testing.T) {
	t.Parallel()
	cfg := handConfig()
	cfg.LeadTime = time.Hour
	s, err := sim.New(cfg)
	require.NoError(t, err)
	d := hand()
	d.Values[0] = 50 // 5 instances before the replay; the first step needs 1
	rep, err := s.Run(t.Context(), d, sim.Policy{Name: "five", Strategy: script(5)})
	require.NoError(t, err)
	r, _ := rep.Result("five")
	actual, _, _ := actualsOf(r)
	assert.Equal(t, []int{5, 5, 5, 5, 5}, actual, "5 already serve: nothing to launch")

	// Without history (From the series' start), the oracle's first.
	cfg.From = time.Time{}
	s, err = sim.New(cfg)
	require.NoError(t, err)
	rep, err = s.Run(t.Context(), d, sim.Policy{Name: "five", Strategy: script(5)})
	require.NoError(t, err)
	r, _ = rep.Result("five")
	actual, _, _ = actualsOf(r)
	assert.Equal(t, []int{5, 5, 5, 5, 5, 5}, actual)
	rep, err = s.Run(t.Context(), d, sim.Policy{Name: "six", Strategy: script(6)})
	require.NoError(t, err)
	r, _ = rep.Result("six")
	actual, _, _ = actualsOf(r)
	assert.Equal(t, []int{5, 6, 6, 6, 6, 6}, actual, "the one more arrives a step later")
}

// TestBaselineTolerance: a reactive baseline keeps its capacity while
// the last demand times (1 + headroom) is within the tolerance of what
// it carries at the target utilization (Kubernetes' HPA band).
func TestBaselineTolerance(t *testing.T) {
	t.Parallel()
	desired := func(b sim.Baseline, v ...float64) []int {
		cfg := handConfig() // 10 an instance at full utilization
		cfg.Baselines = []sim.Baseline{b}
		s, err := sim.New(cfg)
		require.NoError(t, err)
		rep, err := s.Run(t.Context(), provider.Series{Metric: provider.MetricRequests, Start: start, Step: time.Hour, Values: v})
		require.NoError(t, err)
		r, _ := rep.Result(b.Name)
		_, d, _ := actualsOf(r)
		return d
	}
	// Each step sees the one before: 50 on 5 (1.0), 54 (1.08: kept), 56
	// (1.12: 6), 55 on 6 (0.92: kept), 50 (0.83: 5).
	assert.Equal(t, []int{5, 5, 6, 6, 5}, desired(sim.Baseline{Name: "band", Tolerance: 0.1}, 50, 54, 56, 55, 50, 50))
	// With 10 % headroom, from 5 for the history's 45: 45 → 49.5 (0.99:
	// kept), 47 → 51.7 (1.03: kept), 54 → 59.4 (1.19: 6), 40 → 44 on 6
	// (0.73: 5), 40 → 44 on 5 (0.88: 5 again).
	assert.Equal(t, []int{5, 5, 6, 5, 5}, desired(sim.Baseline{Name: "headroom", Tolerance: 0.1, Headroom: 0.1}, 45, 47, 54, 40, 40, 40))
	// No tolerance: every change of the need.
	assert.Equal(t, []int{5, 6, 6, 6, 5}, desired(sim.Baseline{Name: "exact"}, 50, 54, 56, 55, 50, 50))
}

func TestRunProgressCadence(t *testing.T) {
	t.Parallel()
	v := make([]float64, 251)
	for i := range v {
		v[i] = 10
	}
	var got []sim.Progress
	s, err := sim.New(sim.Config{CapacityPerInstance: 10, From: start.Add(time.Hour)}, sim.WithProgress(func(p sim.Progress) { got = append(got, p) }))
	require.NoError(t, err)
	_, err = s.Run(t.Context(), provider.Series{Metric: provider.MetricRequests, Start: start, Step: time.Hour, Values: v})
	require.NoError(t, err)
	// 250 steps: every 2 (1 %), and the last.
	var done []int
	for _, p := range got {
		require.Equal(t, "reactive", p.Policy)
		require.Equal(t, 250, p.Total)
		done = append(done, p.Done)
	}
	want := []int{}
	for i := 0; i < 250; i += 2 {
		want = append(want, i+1)
	}
	want = append(want, 250)
	assert.Equal(t, want, done)
}

func TestConfigBounds(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		min *int
		max int
		ok  bool
	}{
		{new(2), 0, true}, // no bound
		{new(2), 2, true},
		{new(3), 2, false},
		{new(0), 0, true}, // scales to zero
		{new(-1), 0, false},
		{new(0), -1, false},
		{nil, 1, true}, // the default min, 1
		{nil, 0, true},
	} {
		err := sim.Config{CapacityPerInstance: 1, Min: tt.min, Max: tt.max}.Validate()
		if tt.ok {
			assert.NoError(t, err, "min %v max %d", tt.min, tt.max)
		} else {
			assert.ErrorIs(t, err, provider.ErrInvalid, "min %v max %d", tt.min, tt.max)
		}
	}
}

// TestRunLimiterScaleIn: a scale in reserves its units downwards.
func TestRunLimiterScaleIn(t *testing.T) {
	t.Parallel()
	s, err := sim.New(handConfig())
	require.NoError(t, err)
	lim, err := ratelimit.New(ratelimit.Config{
		Up:   ratelimit.Budget{Events: 100, Window: time.Hour, MaxUnits: 100, MinInterval: -1},
		Down: ratelimit.Budget{Events: 1, Window: 90 * time.Minute, MaxUnits: 2, MinInterval: -1},
	})
	require.NoError(t, err)
	rep, err := s.Run(t.Context(), hand(), sim.Policy{Name: "p", Strategy: script(5, 1), Limiter: lim})
	require.NoError(t, err)
	r, _ := rep.Result("p")
	actual, _, _ := actualsOf(r)
	// Up to 5; down 2 (of 4), then nothing within 90 minutes, then 2 more.
	assert.Equal(t, []int{5, 3, 3, 1, 1}, actual)
}

// TestRunUtilizationForAnyStrategy: a strategy that does not say what it
// reads gets the whole demand and the utilization; none when the demand
// is the CPU itself.
func TestRunUtilizationForAnyStrategy(t *testing.T) {
	t.Parallel()
	var metrics [][]provider.Metric
	spy := scaling.StrategyFunc(func(_ context.Context, st scaling.State) (scaling.Recommendation, error) {
		var ms []provider.Metric
		for _, m := range st.Metrics {
			ms = append(ms, m.Metric)
		}
		metrics = append(metrics, ms)
		return scaling.Recommendation{Capacity: st.Target.Capacity.CapacitySpec, Proposal: st.Target.Capacity.Desired}, nil
	})
	for _, tt := range []struct {
		metric provider.Metric
		want   []provider.Metric
	}{
		{"", []provider.Metric{provider.MetricRequests, provider.MetricCPU}},
		{provider.MetricCPU, []provider.Metric{provider.MetricCPU}},
	} {
		cfg := handConfig()
		cfg.Metric = tt.metric
		s, err := sim.New(cfg)
		require.NoError(t, err)
		metrics = nil
		_, err = s.Run(t.Context(), hand(), sim.Policy{Name: "spy", Strategy: spy})
		require.NoError(t, err)
		require.Len(t, metrics, 5)
		assert.Equal(t, tt.want, metrics[4], "metric %q", tt.metric)
	}
}

// TestConfigRefusesACapacityThatUnderflows: a capacity per instance whose
// product with the target utilization is 0 in float64 (1e-320 × 0.6) is
// refused, naming capacity_per_instance: every demand would need
// infinitely many instances. The smallest product that is not 0 passes
// (5e-324 × 0.6 rounds to 5e-324).
func TestConfigRefusesACapacityThatUnderflows(t *testing.T) {
	t.Parallel()
	for _, c := range []sim.Config{
		{CapacityPerInstance: 5e-324, TargetUtilization: 0.4},
		{CapacityPerInstance: 1e-320, TargetUtilization: 1e-10},
	} {
		err := c.Validate()
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, "%+v", c)
		assert.Equal(t, "capacity_per_instance", ie.Field)
	}
	require.NoError(t, sim.Config{CapacityPerInstance: 5e-324, TargetUtilization: 1}.Validate())
	require.NoError(t, sim.Config{CapacityPerInstance: 5e-324}.Validate(), "the default 0.6")
}

// reserver is a host's own scaling.Reserver: it answers every request
// with outcome, granting granted(units).
type reserver struct {
	outcome ratelimit.Outcome
	granted func(units int) int
}

func (r reserver) ReserveAt(_ context.Context, now time.Time, req ratelimit.Request) (ratelimit.Reservation, error) {
	return ratelimit.Reservation{ID: 1, Request: req, At: now, Outcome: r.outcome, Granted: r.granted(req.Units)}, nil
}

func (reserver) CancelAt(context.Context, time.Time, ratelimit.Reservation) error { return nil }

// TestRunLimiterGrantsAsTheEngineReads: a host's Reserver is read as the
// engine reads it when it carries out a change: an allowed reservation
// changes what was asked, a denied one nothing, and a clamped one that
// grants none or more than asked is the limiter failing, which stops the
// replay (fail closed). The simulator took Granted as it came: a scale
// in from 5 to 1 granted 9 units left the group at -4 instances (its
// τ_U and capacity-hours counted them), a denial that named units
// changed them. (An allowance of no unit, which the engine refuses as
// the limiter failing, stops the replay too:
// TestRunAllowedGrantOfFewerUnitsIsFollowed.)
func TestRunLimiterGrantsAsTheEngineReads(t *testing.T) {
	t.Parallel()
	s, err := sim.New(handConfig())
	require.NoError(t, err)
	replay := func(r reserver) ([]int, error) {
		rep, err := s.Run(t.Context(), hand(), sim.Policy{Name: "p", Strategy: script(5, 1), Limiter: r})
		if err != nil {
			return nil, err
		}
		res, _ := rep.Result("p")
		actual, _, _ := actualsOf(res)
		return actual, nil
	}
	actual, err := replay(reserver{outcome: ratelimit.Allowed, granted: func(u int) int { return u }})
	require.NoError(t, err)
	assert.Equal(t, []int{5, 1, 1, 1, 1}, actual, "allowed: the change asked for")

	actual, err = replay(reserver{outcome: ratelimit.Denied, granted: func(u int) int { return u }})
	require.NoError(t, err)
	assert.Equal(t, []int{1, 1, 1, 1, 1}, actual, "denied: no change")

	actual, err = replay(reserver{outcome: ratelimit.Clamped, granted: func(u int) int { return max(1, u-1) }})
	require.NoError(t, err)
	assert.Equal(t, []int{4, 2, 1, 1, 1}, actual, "clamped: up 3 of 4, down 2 of 3, then the last 1")

	for _, bad := range []func(int) int{func(u int) int { return u + 5 }, func(int) int { return 0 }, func(int) int { return -1 }} {
		actual, err = replay(reserver{outcome: ratelimit.Clamped, granted: bad})
		var inv *provider.InvalidError
		require.ErrorAs(t, err, &inv, "replayed %v", actual)
		assert.Equal(t, "reservation.granted", inv.Field)
	}
}

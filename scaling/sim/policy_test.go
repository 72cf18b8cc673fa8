package sim_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/scaling/sim"
)

// fixed recommends desired at every step, with fitness (or fit(now)
// when set), and keeps copies of the States it saw.
type fixed struct {
	desired int
	fitness float64
	fit     func(now time.Time) float64
	needs   []scaling.Need
	seen    []scaling.State // copies of its History and Metrics: a State is not to be kept
}

func (f *fixed) Recommend(_ context.Context, st scaling.State) (scaling.Recommendation, error) {
	st.History = scaling.History{
		Recommendations: append([]scaling.RecommendationRecord(nil), st.History.Recommendations...),
		Changes:         append([]scaling.Change(nil), st.History.Changes...),
	}
	ms := make([]provider.Series, len(st.Metrics))
	for i, m := range st.Metrics {
		m.Values = append([]float64(nil), m.Values...)
		ms[i] = m
	}
	st.Metrics = ms
	f.seen = append(f.seen, st)
	spec := st.Target.Capacity.CapacitySpec
	spec.Desired = f.desired
	fit := f.fitness
	if f.fit != nil {
		fit = f.fit(st.Now)
	}
	return scaling.Recommendation{Capacity: spec, Proposal: f.desired, Fitness: fit, Reason: fmt.Sprintf("always %d", f.desired)}, nil
}

// fixedNeeder is fixed with needs.
type fixedNeeder struct{ *fixed }

func (f fixedNeeder) Needs() []scaling.Need { return f.needs }

func actualsOf(r sim.Result) (actual, desired []int, strategies []string) {
	for _, st := range r.Steps {
		actual = append(actual, st.Actual)
		desired = append(desired, st.Desired)
		strategies = append(strategies, st.Strategy)
	}
	return actual, desired, strategies
}

func TestRunCandidatesChooseAsTheEngine(t *testing.T) {
	t.Parallel()
	s, err := sim.New(handConfig())
	require.NoError(t, err)
	// "high" is the fittest on the first, third and fifth replayed hours.
	oddHour := func(now time.Time) float64 {
		if now.Hour()%2 == 1 {
			return 0.9
		}
		return 0.1
	}
	low, high := &fixed{desired: 1, fitness: 0.5}, &fixed{desired: 5, fit: oddHour}
	cands := []scaling.Candidate{{Name: "low", Strategy: low}, {Name: "high", Strategy: high}}
	rep, err := s.Run(t.Context(), hand(), sim.Policy{Name: "fittest", Candidates: cands})
	require.NoError(t, err)
	r, ok := rep.Result("fittest")
	require.True(t, ok)
	_, desired, strategies := actualsOf(r)
	assert.Equal(t, []string{"high", "low", "high", "low", "high"}, strategies)
	assert.Equal(t, []int{5, 1, 5, 1, 5}, desired)
	assert.Equal(t, map[string]int{"high": 3, "low": 2}, r.Chosen)
	var table strings.Builder
	require.NoError(t, rep.WriteTable(&table))
	assert.True(t, strings.HasSuffix(table.String(), "\nfittest: high 60.0 %, low 40.0 %\n"), "the shares after the table:\n%s", table.String())

	// Each candidate saw the History as the engine keeps it: every
	// candidate's recommendations under its own name, and the changes
	// the chosen ones made.
	require.Len(t, high.seen, 5)
	st := high.seen[2] // the third replayed hour
	var names []string
	for _, rec := range st.History.Recommendations {
		names = append(names, rec.Strategy)
	}
	// These strategies do not say how much History they read
	// (HistoryWindower): the engine keeps its HistoryRetention, 2 h.
	assert.Equal(t, []string{"low", "high", "low", "high"}, names, "the first and second hours' recommendations")
	assert.Equal(t, start.Add(time.Hour), st.History.Recommendations[0].At)
	require.NotEmpty(t, st.History.Changes)
	last := st.History.Changes[len(st.History.Changes)-1]
	assert.Equal(t, "low", last.Strategy, "the change of the second hour was low's")
	assert.Equal(t, 5, last.From.Desired)
	assert.Equal(t, 1, last.To.Desired)
	assert.Equal(t, start.Add(2*time.Hour), last.At)

	// A second Run starts afresh: its own engine and History.
	again, err := s.Run(t.Context(), hand(), sim.Policy{Name: "fittest", Candidates: cands})
	require.NoError(t, err)
	assert.Equal(t, rep.Results, again.Results)
	assert.Equal(t, high.seen[0].History, high.seen[5].History, "the first step of each Run sees an empty History")

	// Two policies of candidates: a line each after the table.
	two, err := s.Run(t.Context(), hand(), sim.Policy{Name: "fittest", Candidates: cands},
		sim.Policy{Name: "lowest", Candidates: []scaling.Candidate{{Name: "low", Strategy: low}}})
	require.NoError(t, err)
	table.Reset()
	require.NoError(t, two.WriteTable(&table))
	assert.True(t, strings.HasSuffix(table.String(), "\nfittest: high 60.0 %, low 40.0 %\nlowest: low 100.0 %\n"), table.String())

	// Pinned: low's recommendation whatever the fitness.
	low.seen, high.seen = nil, nil
	rep, err = s.Run(t.Context(), hand(), sim.Policy{Name: "pinned", Candidates: cands, Pinned: "low"})
	require.NoError(t, err)
	r, _ = rep.Result("pinned")
	_, desired, strategies = actualsOf(r)
	assert.Equal(t, []int{1, 1, 1, 1, 1}, desired)
	assert.Equal(t, []string{"low", "low", "low", "low", "low"}, strategies)
	assert.Equal(t, map[string]int{"low": 5, "high": 0}, r.Chosen, "one never chosen counts 0")
	assert.Len(t, high.seen, 5, "a pinned policy still asks every candidate, as the engine does")
}

func TestRunCandidatesSkipFailures(t *testing.T) {
	t.Parallel()
	s, err := sim.New(handConfig())
	require.NoError(t, err)
	boom := errors.New("boom")
	failing := scaling.StrategyFunc(func(context.Context, scaling.State) (scaling.Recommendation, error) {
		return scaling.Recommendation{}, boom
	})
	rep, err := s.Run(t.Context(), hand(), sim.Policy{Name: "p", Candidates: []scaling.Candidate{
		{Name: "broken", Strategy: failing}, {Name: "three", Strategy: &fixed{desired: 3}},
	}})
	require.NoError(t, err, "a failing candidate is skipped while another recommends")
	r, _ := rep.Result("p")
	assert.Equal(t, map[string]int{"broken": 0, "three": 5}, r.Chosen)

	_, err = s.Run(t.Context(), hand(), sim.Policy{Name: "p", Candidates: []scaling.Candidate{
		{Name: "broken", Strategy: failing}, {Name: "also", Strategy: failing},
	}})
	require.ErrorIs(t, err, boom)
	require.ErrorIs(t, err, scaling.ErrNoStrategy)
	assert.Contains(t, err.Error(), start.Add(time.Hour).Format(time.RFC3339), "names the step")

	// A pinned candidate that fails is not replaced by another.
	_, err = s.Run(t.Context(), hand(), sim.Policy{Name: "p", Pinned: "broken", Candidates: []scaling.Candidate{
		{Name: "broken", Strategy: failing}, {Name: "three", Strategy: &fixed{desired: 3}},
	}})
	require.ErrorIs(t, err, boom)
	require.ErrorIs(t, err, scaling.ErrNoStrategy)
}

// A policy of one strategy replays exactly as a policy of that one
// candidate.
func TestRunStrategyIsOneCandidate(t *testing.T) {
	t.Parallel()
	cfg := handConfig()
	cfg.LeadTime = time.Hour
	s, err := sim.New(cfg)
	require.NoError(t, err)
	follow := scaling.StrategyFunc(func(_ context.Context, st scaling.State) (scaling.Recommendation, error) {
		ser, _ := st.Series(provider.MetricRequests)
		spec := st.Target.Capacity.CapacitySpec
		spec.Desired = max(1, int(ser.Values[len(ser.Values)-1]/10)+len(st.History.Changes))
		return scaling.Recommendation{Capacity: spec, Proposal: spec.Desired}, nil
	})
	rep, err := s.Run(t.Context(), hand(), sim.Policy{Name: "a", Strategy: follow},
		sim.Policy{Name: "b", Candidates: []scaling.Candidate{{Name: "a", Strategy: follow}}})
	require.NoError(t, err)
	a, _ := rep.Result("a")
	b, _ := rep.Result("b")
	assert.Equal(t, a.Metrics, b.Metrics)
	assert.Equal(t, a.Steps, b.Steps)
	assert.Nil(t, a.Chosen, "counted for candidates only")
	assert.Equal(t, map[string]int{"a": 5}, b.Chosen)
}

func TestRunStateOfTheGroup(t *testing.T) {
	t.Parallel()
	cfg := handConfig() // 10 per instance at full utilization
	cfg.TargetUtilization = 0.5
	cfg.LeadTime = 2 * time.Hour
	s, err := sim.New(cfg)
	require.NoError(t, err)
	four := fixedNeeder{&fixed{desired: 4, needs: []scaling.Need{
		{Metric: provider.MetricRequests, Lookback: time.Hour, Step: time.Hour},
		{Metric: provider.MetricCPU, Lookback: 2 * time.Hour, Step: time.Hour},
	}}}
	_, err = s.Run(t.Context(), hand(), sim.Policy{Name: "four", Strategy: four})
	require.NoError(t, err)
	require.Len(t, four.seen, 5)

	// Capacity: 2 before the replay (the oracle's for the history's 10 at
	// 5 an instance); asked for 4 at the first step, serving two steps
	// later.
	var desired, current, ready, lookback []int
	var cpu [][]float64
	for _, st := range four.seen {
		desired = append(desired, st.Target.Capacity.Desired)
		current = append(current, st.Target.Capacity.Current)
		ready = append(ready, st.Target.Capacity.Ready)
		ser, ok := st.Series(provider.MetricCPU)
		require.True(t, ok, "the utilization is there for a strategy that reads it")
		cpu = append(cpu, ser.Values)
		req, ok := st.Series(provider.MetricRequests)
		require.True(t, ok)
		lookback = append(lookback, len(req.Values))
		assert.Equal(t, st.Now, req.End(), "the demand up to the step before")
	}
	assert.Equal(t, []int{1, 2, 2, 2, 2}, lookback, "the longest lookback of its needs, 2 h")
	assert.Equal(t, []int{2, 4, 4, 4, 4}, desired)
	assert.Equal(t, []int{2, 4, 4, 4, 4}, current, "launching instances exist")
	assert.Equal(t, []int{2, 2, 2, 4, 4}, ready, "serving two steps later, measured from the step after")
	// The utilization is of the instances' full capacity (10), not of the
	// target utilization: demand 10 | 10, 30, 30, 10 on 2 | 2, 2, 4, 4
	// instances is 0.5 | 0.5, 1.5 capped at 1 (a saturated group), 0.75,
	// 0.25; two steps of it at a time.
	assert.Equal(t, [][]float64{{0.5}, {0.5, 0.5}, {0.5, 1}, {1, 0.75}, {0.75, 0.25}}, cpu)

	// At once: the instances asked for serve during the step, and count
	// as ready from the next.
	cfg.LeadTime = 0
	s, err = sim.New(cfg)
	require.NoError(t, err)
	four.seen = nil
	_, err = s.Run(t.Context(), hand(), sim.Policy{Name: "four", Strategy: four})
	require.NoError(t, err)
	ready = nil
	for _, st := range four.seen {
		ready = append(ready, st.Target.Capacity.Ready)
	}
	assert.Equal(t, []int{2, 4, 4, 4, 4}, ready)
	ser, _ := four.seen[2].Series(provider.MetricCPU)
	assert.Equal(t, []float64{10.0 / 40, 30.0 / 40}, ser.Values)

	// A strategy that reads no utilization does not get it.
	reqOnly := fixedNeeder{&fixed{desired: 2, needs: []scaling.Need{{Metric: provider.MetricRequests, Lookback: time.Hour, Step: time.Hour}}}}
	_, err = s.Run(t.Context(), hand(), sim.Policy{Name: "req", Strategy: reqOnly})
	require.NoError(t, err)
	_, ok := reqOnly.seen[0].Series(provider.MetricCPU)
	assert.False(t, ok)
}

// TestRunUtilizationGaps: with SkipGaps a gap in the demand is a gap in
// the utilization too, never a zero, and Chosen leaves it out as the
// metrics do.
func TestRunUtilizationGaps(t *testing.T) {
	t.Parallel()
	cfg := handConfig()
	cfg.SkipGaps = true
	s, err := sim.New(cfg)
	require.NoError(t, err)
	d := hand()
	d.Values[3] = math.NaN()
	two := fixedNeeder{&fixed{desired: 2, needs: []scaling.Need{{Metric: provider.MetricCPU, Lookback: 5 * time.Hour, Step: time.Hour}}}}
	rep, err := s.Run(t.Context(), d, sim.Policy{Name: "two", Candidates: []scaling.Candidate{{Name: "two", Strategy: two}}})
	require.NoError(t, err)
	ser, _ := two.seen[4].Series(provider.MetricCPU)
	// 10 on the oracle's 1 before the replay, then 10, 30, gap, 10 on 2.
	require.Len(t, ser.Values, 5)
	assert.True(t, math.IsNaN(ser.Values[3]), "%v", ser.Values)
	ser.Values[3] = -1
	assert.Equal(t, []float64{1, 0.5, 1, -1, 0.5}, ser.Values)
	r, _ := rep.Result("two")
	assert.Equal(t, 4, r.Metrics.Steps)
	assert.Equal(t, map[string]int{"two": 4}, r.Chosen)
}

func TestRunPolicyValidation(t *testing.T) {
	t.Parallel()
	s, err := sim.New(handConfig())
	require.NoError(t, err)
	ok := &fixed{desired: 1}
	hpaS, err := scaling.NewHPA(scaling.HPAConfig{Step: time.Hour}, "") // named "hpa", at the demand's step
	require.NoError(t, err)
	memory := fixedNeeder{&fixed{desired: 1, needs: []scaling.Need{{Metric: provider.MetricMemory, Lookback: time.Hour, Step: time.Hour}}}}
	var nilHPA *scaling.HPA
	tests := []struct {
		name   string
		policy sim.Policy
		field  string
	}{
		{"neither", sim.Policy{Name: "p"}, "policies[0].strategy"},
		{"both", sim.Policy{Name: "p", Strategy: ok, Candidates: []scaling.Candidate{{Name: "a", Strategy: ok}}}, "policies[0].candidates"},
		{"typed nil strategy", sim.Policy{Name: "p", Strategy: nilHPA}, "policies[0].strategy"},
		{"unnamed candidate", sim.Policy{Name: "p", Candidates: []scaling.Candidate{{Strategy: ok}}}, "policies[0].candidates[0].name"},
		{"candidate named twice", sim.Policy{Name: "p", Candidates: []scaling.Candidate{{Name: "a", Strategy: ok}, {Name: "a", Strategy: ok}}}, "policies[0].candidates[1].name"},
		{"candidate without strategy", sim.Policy{Name: "p", Candidates: []scaling.Candidate{{Name: "a"}}}, "policies[0].candidates[0].strategy"},
		{"pinned unknown", sim.Policy{Name: "p", Candidates: []scaling.Candidate{{Name: "a", Strategy: ok}}, Pinned: "b"}, "policies[0].pinned"},
		{"pinned other than the strategy", sim.Policy{Name: "p", Strategy: ok, Pinned: "q"}, "policies[0].pinned"},
		{"hpa named otherwise", sim.Policy{Name: "p", Candidates: []scaling.Candidate{{Name: "web", Strategy: hpaS}}}, "policies[0].candidates[0].name"},
		{"hpa policy named otherwise", sim.Policy{Name: "p", Strategy: hpaS}, "policies[0].name"},
		{"metric not replayed", sim.Policy{Name: "p", Strategy: memory}, "policies[0].strategy.needs[0].metric"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Run(t.Context(), hand(), tt.policy)
			require.ErrorIs(t, err, provider.ErrInvalid)
			var inv *provider.InvalidError
			require.ErrorAs(t, err, &inv)
			assert.Equal(t, tt.field, inv.Field, err.Error())
		})
	}
	// The HPA named as its candidate, and as its policy, is accepted.
	_, err = s.Run(t.Context(), hand(), sim.Policy{Name: "p", Candidates: []scaling.Candidate{{Name: "hpa", Strategy: hpaS}}},
		sim.Policy{Name: "hpa", Strategy: hpaS})
	require.NoError(t, err)

	// The utilization metric: none when the demand is CPU itself.
	cpuDemand, err := sim.New(sim.Config{CapacityPerInstance: 10, TargetUtilization: 1, From: start.Add(time.Hour), Metric: provider.MetricCPU})
	require.NoError(t, err)
	assert.Empty(t, cpuDemand.Config().Utilization)
	_, err = cpuDemand.Run(t.Context(), hand(), sim.Policy{Name: "p", Strategy: memory})
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "policies[0].strategy.needs[0].metric", inv.Field)
	for _, bad := range []sim.Config{
		{CapacityPerInstance: 1, Metric: provider.MetricCPU, Utilization: provider.MetricCPU},
		{CapacityPerInstance: 1, Utilization: provider.MetricRequests},
		{CapacityPerInstance: 1, Utilization: provider.MetricRequests, Metric: provider.MetricConnections},
		{CapacityPerInstance: 1, Utilization: "no such metric!"},
	} {
		_, err = sim.New(bad)
		require.ErrorAs(t, err, &inv, "%+v", bad)
		assert.Equal(t, "utilization", inv.Field)
	}
	for _, good := range []sim.Config{
		{CapacityPerInstance: 1, Metric: provider.MetricCPU, Utilization: provider.MetricMemory},
		{CapacityPerInstance: 1, Utilization: provider.CustomMetric("busy")},
	} {
		_, err = sim.New(good)
		require.NoError(t, err, "%+v", good)
	}
}

// hpaPolicy is a policy file's target: an HPA on CPU at 60 % (the
// simulator's target utilization), scaling down after a stabilization
// window of window.
func hpaPolicy(t *testing.T, window string) scaling.TargetConfig {
	t.Helper()
	cfg, err := scaling.ParseConfig(strings.NewReader(`
targets:
  - id: web
    min: 1
    max: 50
    strategies:
      - type: hpa
        hpa:
          step: 5m
          metrics:
            - type: resource
              resource: {name: cpu, target: {type: utilization, average_utilization: 60}}
          behavior:
            scale_down: {stabilization_window: ` + window + `}
`))
	require.NoError(t, err)
	return cfg.Targets[0]
}

// TestRunPolicyFileHPA replays a policy file's HPA target: the engine's
// History reaches the HPA, whose scale-down stabilization window holds the
// capacity after the demand falls.
func TestRunPolicyFileHPA(t *testing.T) {
	t.Parallel()
	// 5-minute steps of 60 (10 instances of 10 at 60 %), then 12 (2).
	v := make([]float64, 0, 30)
	for range 12 {
		v = append(v, 60)
	}
	for range 18 {
		v = append(v, 12)
	}
	demand := provider.Series{Metric: provider.MetricRequests, Start: start, Step: 5 * time.Minute, Values: v}
	s, err := sim.New(sim.Config{CapacityPerInstance: 10, From: start.Add(30 * time.Minute), KeepSteps: true, Baselines: []sim.Baseline{}})
	require.NoError(t, err)
	firstBelow := func(window string) (int, []int) {
		cands, err := hpaPolicy(t, window).Candidates(nil)
		require.NoError(t, err)
		rep, err := s.Run(t.Context(), demand, sim.Policy{Name: "web", Candidates: cands})
		require.NoError(t, err)
		r, _ := rep.Result("web")
		_, desired, strategies := actualsOf(r)
		for _, name := range strategies {
			require.Equal(t, "hpa", name)
		}
		for i, d := range desired {
			if d < 10 {
				return i, desired
			}
		}
		return -1, desired
	}
	// Replayed from step 6. The demand falls at step 12 (replayed step 6):
	// the HPA sees it at step 13 and proposes 2.
	at, desired := firstBelow("0s")
	assert.Equal(t, 7, at, "%v", desired)
	assert.Equal(t, 2, desired[at])
	// With 15 minutes of stabilization, the recommendations of 10 made at
	// steps 11 and 12 are within the window at steps 13 and 14 (upstream
	// keeps those after now − window): two steps later.
	at, desired = firstBelow("15m")
	assert.Equal(t, 9, at, "%v", desired)
	assert.Equal(t, 2, desired[at])
}

// TestRunRefusesSharedState: a Predictive or a Limiter in two policies of
// one Run would carry the first replay's state (its model, its budget)
// into the second, as both replay the same target.
func TestRunRefusesSharedState(t *testing.T) {
	t.Parallel()
	s, err := sim.New(handConfig())
	require.NoError(t, err)
	pred, err := scaling.NewPredictive(scaling.PredictiveConfig{CapacityPerInstance: 10, Step: time.Hour})
	require.NoError(t, err)
	lim, err := ratelimit.New(ratelimit.Config{})
	require.NoError(t, err)
	one := &fixed{desired: 1}
	tests := []struct {
		name     string
		policies []sim.Policy
		field    string
		names    string
	}{
		{"predictive", []sim.Policy{{Name: "a", Strategy: pred}, {Name: "b", Strategy: pred}}, "policies[1].strategy", "policies[0].strategy"},
		{"predictive as a candidate", []sim.Policy{
			{Name: "a", Candidates: []scaling.Candidate{{Name: "one", Strategy: one}, {Name: "p", Strategy: pred}}},
			{Name: "b", Strategy: pred},
		}, "policies[1].strategy", "policies[0].candidates[1].strategy"},
		{"limiter", []sim.Policy{{Name: "a", Strategy: one, Limiter: lim}, {Name: "b", Strategy: one, Limiter: lim}}, "policies[1].limiter", "policies[0].limiter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Run(t.Context(), hand(), tt.policies...)
			var inv *provider.InvalidError
			require.ErrorAs(t, err, &inv)
			assert.Equal(t, tt.field, inv.Field)
			assert.Contains(t, err.Error(), tt.names)
		})
	}
	// A strategy that keeps nothing of a target may serve both.
	_, err = s.Run(t.Context(), hand(), sim.Policy{Name: "a", Strategy: one}, sim.Policy{Name: "b", Strategy: one})
	require.NoError(t, err)
}

// TestRunPolicyFileScalesToZero: a policy's min: 0 reaches the replay
// through TargetConfig.Bounds, and its target-value strategy takes the
// group to zero and back as nomad-autoscaler's does; without min the
// group keeps one instance.
func TestRunPolicyFileScalesToZero(t *testing.T) {
	t.Parallel()
	demand := provider.Series{Metric: provider.MetricRequests, Start: start, Step: 5 * time.Minute,
		Values: []float64{300, 300, 0, 0, 0, 300, 300}}
	for _, tt := range []struct {
		min  string
		want []int // desired and serving: no lead time
	}{
		// Each step sees the step before. From 5 (⌈300/60⌉, the oracle's),
		// the value at its target holds 5; the value 0 takes it to
		// ⌈5·0⌉ = 0, where a value of 0 holds it; then ⌈300/300⌉ = 1 from
		// zero. At min 1, the value 300 at its target holds 1.
		{min: "min: 0", want: []int{5, 5, 0, 0, 0, 1}},
		{min: "", want: []int{5, 5, 1, 1, 1, 1}},
	} {
		policy, err := scaling.ParseConfig(strings.NewReader(`
targets:
  - id: web
    ` + tt.min + `
    max: 20
    strategies:
      - type: target_value
        target_value: {metric: requests, step: 5m, target: 300}
`))
		require.NoError(t, err)
		web := policy.Targets[0]
		cands, err := web.Candidates(nil)
		require.NoError(t, err)
		cfg := sim.Config{CapacityPerInstance: 100, From: start.Add(5 * time.Minute), KeepSteps: true, Baselines: []sim.Baseline{}}
		lo, hi := web.Bounds()
		cfg.Min, cfg.Max = &lo, hi
		s, err := sim.New(cfg)
		require.NoError(t, err)
		rep, err := s.Run(t.Context(), demand, sim.Policy{Name: "web", Candidates: cands})
		require.NoError(t, err)
		r, _ := rep.Result("web")
		actual, desired, _ := actualsOf(r)
		assert.Equal(t, tt.want, desired, "%q", tt.min)
		assert.Equal(t, tt.want, actual, "%q", tt.min)
	}
}

// TestRunLongestLookback: a strategy that asks for the longest lookback
// (math.MaxInt64, all there is) gets every step before the decision, as
// one asking for more than the trace does. Rounding it up to steps
// overflowed into a negative count, and the strategy saw no demand at
// all (0 values at every step).
func TestRunLongestLookback(t *testing.T) {
	t.Parallel()
	s, err := sim.New(handConfig())
	require.NoError(t, err)
	for _, lb := range []time.Duration{math.MaxInt64, math.MaxInt64 - time.Hour + 1, 1000 * time.Hour} {
		all := fixedNeeder{&fixed{desired: 2, needs: []scaling.Need{{Metric: provider.MetricRequests, Lookback: lb, Step: time.Hour}}}}
		_, err := s.Run(t.Context(), hand(), sim.Policy{Name: "all", Strategy: all})
		require.NoError(t, err)
		var got []int
		for _, st := range all.seen {
			ser, ok := st.Series(provider.MetricRequests)
			require.True(t, ok)
			got = append(got, len(ser.Values))
		}
		assert.Equal(t, []int{1, 2, 3, 4, 5}, got, "lookback %v: the whole demand before each step", lb)
	}
}

// TestRunRefusesInvalidNeeds: a strategy's need that the Autoscaler
// refuses (scaling.Need.Validate: TargetConfig.Candidates checks a
// custom strategy's) is refused by name. A need of no lookback was
// replayed with no demand at all, every step (an empty series: the
// strategy decided blind, silently), and a negative one the same.
func TestRunRefusesInvalidNeeds(t *testing.T) {
	t.Parallel()
	s, err := sim.New(handConfig())
	require.NoError(t, err)
	for _, tt := range []struct {
		name  string
		give  scaling.Need
		field string
	}{
		{"no lookback", scaling.Need{Metric: provider.MetricRequests, Step: time.Hour}, "policies[0].strategy.needs[0].lookback"},
		{"negative lookback", scaling.Need{Metric: provider.MetricRequests, Lookback: -time.Hour, Step: time.Hour}, "policies[0].strategy.needs[0].lookback"},
		{"no step", scaling.Need{Metric: provider.MetricRequests, Lookback: time.Hour}, "policies[0].strategy.needs[0].step"},
		{"lookback shorter than its step", scaling.Need{Metric: provider.MetricRequests, Lookback: time.Minute, Step: time.Hour}, "policies[0].strategy.needs[0].step"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := fixedNeeder{&fixed{desired: 2, needs: []scaling.Need{tt.give}}}
			_, err := s.Run(t.Context(), hand(), sim.Policy{Name: "p", Strategy: f})
			var inv *provider.InvalidError
			require.ErrorAs(t, err, &inv, "seen %d States", len(f.seen))
			assert.Equal(t, tt.field, inv.Field)
			assert.Empty(t, f.seen, "nothing replayed")
		})
	}
}

// TestRunRefusesNilGateAndLimiter: a Gate or a Limiter that is a nil
// pointer (a *safety.Engine or *ratelimit.Limiter a host left unbuilt)
// is refused by name before anything is replayed. A nil *safety.Engine
// passed the Gate's nil check and the replay panicked at its first
// change; a nil *ratelimit.Limiter stopped it there with the limiter's
// error, naming no field of the policy.
func TestRunRefusesNilGateAndLimiter(t *testing.T) {
	t.Parallel()
	s, err := sim.New(handConfig())
	require.NoError(t, err)
	var gate *safety.Engine
	var lim *ratelimit.Limiter
	for _, tt := range []struct {
		name   string
		policy sim.Policy
		field  string
	}{
		{"gate", sim.Policy{Name: "p", Strategy: script(3, 1), Gate: gate}, "policies[0].gate"},
		{"limiter", sim.Policy{Name: "p", Strategy: script(3, 1), Limiter: lim}, "policies[0].limiter"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := s.Run(t.Context(), hand(), tt.policy)
			var inv *provider.InvalidError
			require.ErrorAs(t, err, &inv)
			assert.Equal(t, tt.field, inv.Field)
		})
	}
}

// TestRunRefusesAPredictiveOfAnotherStep: a Predictive whose Step is not
// the demand's is refused by name: it reads its demand at its own step
// only, and the simulator gives the demand at the trace's, so it kept the
// capacity at every step (its reason said why, nothing else did) and the
// replay reported a policy that never scales. A predictive candidate of a
// policy file's target is refused the same; at the demand's step it
// replays.
func TestRunRefusesAPredictiveOfAnotherStep(t *testing.T) {
	t.Parallel()
	s, err := sim.New(handConfig())
	require.NoError(t, err)
	fiveMinutes, err := scaling.NewPredictive(scaling.PredictiveConfig{CapacityPerInstance: 10}) // the default Step, 5m
	require.NoError(t, err)
	_, err = s.Run(t.Context(), hand(), sim.Policy{Name: "p", Strategy: fiveMinutes})
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "policies[0].strategy.needs[0].step", inv.Field)
	assert.Contains(t, err.Error(), "1h0m0s", "names the demand's step")

	other, err := scaling.NewPredictive(scaling.PredictiveConfig{CapacityPerInstance: 10, Step: 30 * time.Minute})
	require.NoError(t, err)
	_, err = s.Run(t.Context(), hand(), sim.Policy{Name: "p", Candidates: []scaling.Candidate{
		{Name: "one", Strategy: &fixed{desired: 1}}, {Name: "predictive", Strategy: other},
	}})
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "policies[0].candidates[1].needs[0].step", inv.Field)

	hourly, err := scaling.NewPredictive(scaling.PredictiveConfig{CapacityPerInstance: 10, Step: time.Hour})
	require.NoError(t, err)
	_, err = s.Run(t.Context(), hand(), sim.Policy{Name: "p", Strategy: hourly})
	require.NoError(t, err)
}

package scaling_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
)

func TestTargetConfigCandidates(t *testing.T) {
	t.Parallel()
	cfg, err := scaling.ParseConfig(strings.NewReader(`
targets:
  - id: web
    strategy: mine
    strategies:
      - type: hpa
      - name: peaks
        type: threshold
      - name: mine
        type: custom
`))
	require.NoError(t, err)
	tc := cfg.Targets[0]
	mine := scaling.StrategyFunc(func(_ context.Context, st scaling.State) (scaling.Recommendation, error) {
		return scaling.Recommendation{Capacity: st.Target.Capacity.CapacitySpec, Fitness: 1}, nil
	})

	cands, err := tc.Candidates(map[string]scaling.Strategy{"mine": mine})
	require.NoError(t, err)
	require.Len(t, cands, 3)
	assert.Equal(t, []string{"hpa", "peaks", "mine"}, []string{cands[0].Name, cands[1].Name, cands[2].Name}, "in policy order, named as the policy names them")
	h, ok := cands[0].Strategy.(*scaling.HPA)
	require.True(t, ok)
	assert.Equal(t, "hpa", h.Name(), "an HPA finds its records under its candidate's name")
	assert.IsType(t, &scaling.Threshold{}, cands[1].Strategy)

	// The engine decides with them as the Autoscaler does: the pinned one.
	e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: nopScaler{}}, allowAll{})
	require.NoError(t, err)
	st := scaling.State{Now: time.Unix(1e9, 0), Target: scaling.Target{ID: "web", Resource: provider.Resource{ID: "web", Kind: provider.KindGroup},
		Min: 1, Max: 10, Capacity: provider.Capacity{CapacitySpec: provider.CapacitySpec{Min: 1, Max: 10, Desired: 3}}}}
	d, err := e.Decide(t.Context(), st, cands, tc.Strategy)
	require.NoError(t, err)
	assert.Equal(t, "mine", d.Chosen.Strategy)
	assert.True(t, d.Pinned)

	// Each call builds its own strategies.
	again, err := tc.Candidates(map[string]scaling.Strategy{"mine": mine})
	require.NoError(t, err)
	assert.NotSame(t, cands[0].Strategy, again[0].Strategy)

	// A custom strategy that is not registered, or registered as nil.
	for _, custom := range []map[string]scaling.Strategy{nil, {}, {"mine": nil}, {"other": mine}} {
		_, err := tc.Candidates(custom)
		require.ErrorIs(t, err, provider.ErrInvalid)
		var inv *provider.InvalidError
		require.ErrorAs(t, err, &inv)
		assert.Equal(t, "strategies[2].name", inv.Field)
	}
	// An invalid strategy names its field.
	tc.Strategies[1].Threshold = &scaling.ThresholdConfig{Up: -1}
	_, err = tc.Candidates(map[string]scaling.Strategy{"mine": mine})
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.True(t, strings.HasPrefix(inv.Field, "strategies[1].threshold."), inv.Field)
}

func TestTargetConfigBounds(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		min    *int
		max    int
		lo, hi int
	}{
		{nil, 0, scaling.DefaultMin, scaling.DefaultMax},
		{new(0), 5, 0, 5},
		{new(3), 0, 3, scaling.DefaultMax},
		{new(12), 0, 12, 12}, // invalid (max must be set), but what it says
		{nil, 40, 1, 40},
	} {
		lo, hi := scaling.TargetConfig{Min: tt.min, Max: tt.max}.Bounds()
		assert.Equal(t, [2]int{tt.lo, tt.hi}, [2]int{lo, hi}, "min %v max %d", tt.min, tt.max)
	}
	// The Autoscaler keeps a group within them: a target of min 12 and
	// no max is refused, naming max.
	err := scaling.Config{Targets: []scaling.TargetConfig{{ID: "web", Min: new(12), Strategies: []scaling.StrategySpec{{Type: scaling.StrategyThreshold}}}}}.Validate()
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "targets[0].max", inv.Field)
}

// TestDecideReadsTheEnginesHistory: a State without a History gets the
// engine's, as the Autoscaler's strategies do (an HPA given none would
// take every decision for its first and never scale in); a State with
// one keeps it.
func TestDecideReadsTheEnginesHistory(t *testing.T) {
	t.Parallel()
	e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: nopScaler{}}, allowAll{})
	require.NoError(t, err)
	var seen []scaling.History
	spy := scaling.StrategyFunc(func(_ context.Context, st scaling.State) (scaling.Recommendation, error) {
		seen = append(seen, scaling.History{ // a copy: st is not to be kept
			Recommendations: append([]scaling.RecommendationRecord(nil), st.History.Recommendations...),
			Changes:         append([]scaling.Change(nil), st.History.Changes...),
		})
		spec := st.Target.Capacity.CapacitySpec
		spec.Desired = 4
		return scaling.Recommendation{Capacity: spec, Proposal: 4, Fitness: 1}, nil
	})
	cands := []scaling.Candidate{{Name: "spy", Strategy: spy}}
	now := time.Unix(1e9, 0)
	st := scaling.State{Now: now, Target: scaling.Target{ID: "web", Resource: provider.Resource{ID: "web", Kind: provider.KindGroup},
		Min: 1, Max: 10, Capacity: provider.Capacity{CapacitySpec: provider.CapacitySpec{Min: 1, Max: 10, Desired: 3}}}}
	_, err = e.Decide(t.Context(), st, cands, "")
	require.NoError(t, err)
	e.RecordChange("web", scaling.Change{At: now, PlanID: "p", Step: 1, Strategy: "spy", From: provider.CapacitySpec{Min: 1, Max: 10, Desired: 3}, To: provider.CapacitySpec{Min: 1, Max: 10, Desired: 4}})
	st.Now = now.Add(time.Minute)
	_, err = e.Decide(t.Context(), st, cands, "")
	require.NoError(t, err)
	require.Len(t, seen, 2)
	assert.Empty(t, seen[0].Recommendations)
	require.Len(t, seen[1].Recommendations, 1, "the first decision's recommendation")
	assert.Equal(t, now, seen[1].Recommendations[0].At)
	assert.Equal(t, 4, seen[1].Recommendations[0].Proposal)
	require.Len(t, seen[1].Changes, 1)
	assert.Equal(t, "p", seen[1].Changes[0].PlanID)

	// A History in the State is the host's: used as it is.
	own := scaling.History{Changes: []scaling.Change{{At: now, PlanID: "host", Strategy: "spy"}}}
	st.Now, st.History = now.Add(2*time.Minute), own
	_, err = e.Decide(t.Context(), st, cands, "")
	require.NoError(t, err)
	assert.Equal(t, own, seen[2])
	assert.Len(t, e.History("web").Recommendations, 3, "each decision recorded in the engine's")
}

// TestDecideRefusesAnHPANamedOtherwise: an HPA strategy whose candidate
// bears another name would not find its own recommendations in the
// History (no stabilization, silently): the candidate fails, naming it.
func TestDecideRefusesAnHPANamedOtherwise(t *testing.T) {
	t.Parallel()
	e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: nopScaler{}}, allowAll{})
	require.NoError(t, err)
	h, err := scaling.NewHPA(scaling.HPAConfig{}, "") // "hpa"
	require.NoError(t, err)
	st := scaling.State{Now: time.Unix(1e9, 0), Target: scaling.Target{ID: "web", Resource: provider.Resource{ID: "web", Kind: provider.KindGroup},
		Min: 1, Max: 10, Capacity: provider.Capacity{CapacitySpec: provider.CapacitySpec{Min: 1, Max: 10, Desired: 3}, Current: 3, Ready: 3}},
		Metrics: []provider.Series{series(provider.MetricCPU, time.Unix(1e9, 0), time.Minute, 0.5)}}
	_, err = e.Decide(t.Context(), st, []scaling.Candidate{{Name: "cpu", Strategy: h}}, "")
	require.ErrorIs(t, err, scaling.ErrNoStrategy)
	require.ErrorIs(t, err, provider.ErrInvalid)
	assert.Contains(t, err.Error(), `"hpa"`)

	// Beside another candidate it is skipped, and says why.
	d, err := e.Decide(t.Context(), st, []scaling.Candidate{{Name: "cpu", Strategy: h}, {Name: "t", Strategy: mustThreshold(t)}}, "")
	require.NoError(t, err)
	assert.Equal(t, "t", d.Chosen.Strategy)
	assert.Contains(t, d.Considered[0].Reason, "failed: ")

	d, err = e.Decide(t.Context(), st, []scaling.Candidate{{Name: "hpa", Strategy: h}}, "")
	require.NoError(t, err, "named as its candidate")
	assert.Equal(t, "hpa", d.Chosen.Strategy)
}

func mustThreshold(t *testing.T) scaling.Strategy {
	t.Helper()
	s, err := scaling.NewThreshold(scaling.ThresholdConfig{})
	require.NoError(t, err)
	return s
}

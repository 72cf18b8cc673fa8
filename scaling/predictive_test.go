package scaling_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/forecast"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
)

// seasonal returns n hourly demand values with a daily cycle between
// about 200 and 1800 and a little noise (deterministic).
func seasonal(n int, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	y := make([]float64, n)
	for t := range y {
		y[t] = 1000 + 800*math.Sin(2*math.Pi*float64(t)/24) + 20*r.NormFloat64()
	}
	return y
}

var predStart = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// hourlyConfig is a predictive configuration for hourly test series: 100
// per instance at 0.5 (50 per instance), 14 days of history.
func hourlyConfig() scaling.PredictiveConfig {
	return scaling.PredictiveConfig{
		Step: time.Hour, CapacityPerInstance: 100, TargetUtilization: 0.5, Horizon: time.Hour,
		MinHistory: 14 * 24 * time.Hour, Periods: []time.Duration{24 * time.Hour},
	}
}

// stateAt is the State at the end of step k of y (the first k values read).
func stateAt(y []float64, k, desired int) scaling.State {
	t := group(desired, 1, 1000)
	t.Capacity.Max = 1000
	return scaling.State{
		Now:    predStart.Add(time.Duration(k) * time.Hour),
		Target: t,
		Metrics: []provider.Series{{
			Metric: provider.MetricRequests, Start: predStart, Step: time.Hour, Values: y[:k:k],
		}},
	}
}

func inputValue(t *testing.T, r scaling.Recommendation, name string) float64 {
	t.Helper()
	for _, in := range r.Inputs {
		if in.Name == name {
			return in.Value
		}
	}
	t.Fatalf("no input %q in %+v", name, r.Inputs)
	return 0
}

func TestPredictiveDefaults(t *testing.T) {
	t.Parallel()
	p, err := scaling.NewPredictive(scaling.PredictiveConfig{CapacityPerInstance: 10})
	require.NoError(t, err)
	c := p.Config()
	assert.Equal(t, provider.MetricRequests, c.Metric)
	assert.Equal(t, 5*time.Minute, c.Step)
	assert.Equal(t, time.Hour, c.Horizon)
	assert.Equal(t, time.Duration(0), c.LeadTime)
	assert.InDelta(t, 0.9, c.Quantile, 0)
	require.NotNil(t, c.Margin)
	assert.InDelta(t, 0.2, *c.Margin, 0)
	assert.InDelta(t, 0.6, c.TargetUtilization, 0)
	assert.Equal(t, 30*24*time.Hour, c.MinHistory)
	assert.Equal(t, c.MinHistory, c.FitWindow)
	assert.Equal(t, time.Hour, c.RefitInterval)
	assert.Equal(t, 7*24*time.Hour, c.ReselectInterval)
	assert.Equal(t, 24*time.Hour, c.ErrorWindow)
	assert.InDelta(t, 1.0, c.MaxError, 0)
	assert.False(t, c.ForecastOnly)
	needs := p.Needs()
	require.Len(t, needs, 1)
	assert.Equal(t, c.FitWindow+c.ErrorWindow+c.RefitInterval, needs[0].Lookback)
	assert.Equal(t, 5*time.Minute, needs[0].Step)
	require.NoError(t, needs[0].Validate())

	zero := 0.0
	p, err = scaling.NewPredictive(scaling.PredictiveConfig{CapacityPerInstance: 10, Margin: &zero})
	require.NoError(t, err)
	assert.InDelta(t, 0, *p.Config().Margin, 0, "an explicit 0 margin stays 0")
}

func TestPredictiveConfigInvalid(t *testing.T) {
	t.Parallel()
	neg := -0.1
	nan := math.NaN()
	tests := []struct {
		name  string
		give  scaling.PredictiveConfig
		field string
	}{
		{"no capacity", scaling.PredictiveConfig{}, "capacity_per_instance"},
		{"zero capacity", scaling.PredictiveConfig{CapacityPerInstance: 0}, "capacity_per_instance"},
		{"NaN capacity", scaling.PredictiveConfig{CapacityPerInstance: nan}, "capacity_per_instance"},
		{"negative capacity", scaling.PredictiveConfig{CapacityPerInstance: -1}, "capacity_per_instance"},
		{"utilization above 1", scaling.PredictiveConfig{CapacityPerInstance: 1, TargetUtilization: 1.01}, "target_utilization"},
		{"quantile below 0.5", scaling.PredictiveConfig{CapacityPerInstance: 1, Quantile: 0.49}, "quantile"},
		{"quantile 1", scaling.PredictiveConfig{CapacityPerInstance: 1, Quantile: 1}, "quantile"},
		{"negative margin", scaling.PredictiveConfig{CapacityPerInstance: 1, Margin: &neg}, "margin"},
		{"NaN margin", scaling.PredictiveConfig{CapacityPerInstance: 1, Margin: &nan}, "margin"},
		{"negative max error", scaling.PredictiveConfig{CapacityPerInstance: 1, MaxError: -1}, "max_error"},
		{"horizon shorter than a step", scaling.PredictiveConfig{CapacityPerInstance: 1, Horizon: time.Minute}, "horizon"},
		{"negative horizon", scaling.PredictiveConfig{CapacityPerInstance: 1, Horizon: -time.Hour}, "horizon"},
		{"negative lead time", scaling.PredictiveConfig{CapacityPerInstance: 1, LeadTime: -time.Minute}, "lead_time"},
		{"window too long", scaling.PredictiveConfig{CapacityPerInstance: 1, Horizon: 5 * time.Hour}, "horizon"},
		{"refit shorter than a step", scaling.PredictiveConfig{CapacityPerInstance: 1, RefitInterval: time.Minute}, "refit_interval"},
		{"error window shorter than a step", scaling.PredictiveConfig{CapacityPerInstance: 1, ErrorWindow: time.Minute}, "error_window"},
		{"fit window too short", scaling.PredictiveConfig{CapacityPerInstance: 1, FitWindow: 30 * time.Minute}, "fit_window"},
		{"period not a multiple", scaling.PredictiveConfig{CapacityPerInstance: 1, Periods: []time.Duration{7 * time.Minute}}, "periods[0]"},
		{"unknown model", scaling.PredictiveConfig{CapacityPerInstance: 1, Model: &forecast.Spec{Kind: "nope"}}, ""},
		{"unknown metric", scaling.PredictiveConfig{CapacityPerInstance: 1, Metric: "Not A Metric"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := scaling.NewPredictive(tt.give)
			require.ErrorIs(t, err, provider.ErrInvalid)
			if tt.field == "" {
				return
			}
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Contains(t, ie.Field, tt.field)
		})
	}
}

func TestPredictiveShortHistory(t *testing.T) {
	t.Parallel()
	p, err := scaling.NewPredictive(hourlyConfig())
	require.NoError(t, err)
	y := seasonal(10*24, 1)
	rec, err := p.Recommend(t.Context(), stateAt(y, len(y), 5))
	require.NoError(t, err)
	want := int(math.Ceil(y[len(y)-1] / 50))
	assert.Equal(t, want, rec.Capacity.Desired, "the reactive capacity")
	assert.LessOrEqual(t, rec.Fitness, 0.3)
	assert.Greater(t, rec.Fitness, 0.0)
	assert.InDelta(t, 1, inputValue(t, rec, scaling.InputForecastFallback), 0)
	assert.Contains(t, rec.Reason, "usable history")
	st, ok := p.Status("web")
	require.True(t, ok)
	assert.Equal(t, scaling.StandingShortHistory, st.Standing)
	assert.Equal(t, 10*24*time.Hour, st.History)

	_, ok = p.Status("other")
	assert.False(t, ok)
}

// walk replays y from step from to the end through p, each decision's
// desired capacity the next one's current, and returns the desired
// capacities and the recommendations.
func walk(t *testing.T, p scaling.Strategy, y []float64, from, start int) ([]int, []scaling.Recommendation) {
	t.Helper()
	cur := start
	var ds []int
	var recs []scaling.Recommendation
	for k := from; k < len(y); k++ {
		rec, err := p.Recommend(t.Context(), stateAt(y, k, cur))
		require.NoError(t, err)
		require.NoError(t, rec.Validate(stateAt(y, k, cur).Target))
		cur = rec.Capacity.Desired
		ds = append(ds, cur)
		recs = append(recs, rec)
	}
	return ds, recs
}

func TestPredictiveScalesAheadInBothDirections(t *testing.T) {
	t.Parallel()
	p, err := scaling.NewPredictive(hourlyConfig())
	require.NoError(t, err)
	y := seasonal(18*24, 2)
	from := 15 * 24
	ds, recs := walk(t, p, y, from, 20)
	late, ups, downs, over := 0, 0, 0, 0.0
	reactiveLate := 0
	for i, d := range ds {
		need := int(math.Ceil(y[from+i] / 50))
		if d < need {
			late++
		}
		if int(math.Ceil(y[from+i-1]/50)) < need {
			reactiveLate++
		}
		over += float64(d) / float64(need)
		if i > 0 && d > ds[i-1] {
			ups++
		}
		if i > 0 && d < ds[i-1] {
			downs++
		}
		assert.GreaterOrEqual(t, recs[i].Fitness, 0.9, "a healthy forecast outranks the reactive strategies")
	}
	n := float64(len(ds))
	assert.LessOrEqual(t, float64(late)/n, 0.1, "capacity is ready for the demand (reactive: %d of %d late)", reactiveLate, len(ds))
	assert.Greater(t, reactiveLate, len(ds)/3, "the reactive capacity is late on the rising half")
	assert.Less(t, over/n, 1.35, "mean capacity over need")
	assert.Greater(t, ups, 10)
	assert.Greater(t, downs, 10, "it scales in too")
	st, ok := p.Status("web")
	require.True(t, ok)
	assert.Equal(t, scaling.StandingForecast, st.Standing)
	require.NotEmpty(t, st.Patterns)
	assert.Equal(t, "daily", st.Patterns[0].Name)
	assert.NotEmpty(t, st.Model)
	assert.False(t, math.IsNaN(st.MASE))
	assert.Less(t, st.MASE, 1.0)
	assert.Contains(t, recs[len(recs)-1].Reason, "daily forecast p90")
}

func TestPredictiveDetectsPatternsWithoutHints(t *testing.T) {
	t.Parallel()
	cfg := hourlyConfig()
	cfg.Periods = nil
	cfg.MinHistory = 21 * 24 * time.Hour
	p, err := scaling.NewPredictive(cfg)
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(7, 7))
	y := make([]float64, 28*24)
	for k := range y {
		weekend := 1.0
		if d := (k / 24) % 7; d >= 5 {
			weekend = 0.4
		}
		y[k] = weekend*(1000+800*math.Sin(2*math.Pi*float64(k)/24)) + 20*r.NormFloat64() + 100
	}
	_, err = p.Recommend(t.Context(), stateAt(y, len(y), 10))
	require.NoError(t, err)
	st, ok := p.Status("web")
	require.True(t, ok)
	var names []string
	for _, pt := range st.Patterns {
		names = append(names, pt.Name)
	}
	assert.Equal(t, []string{"daily", "weekly"}, names)
}

func TestPredictiveNeverBelowReactive(t *testing.T) {
	t.Parallel()
	p, err := scaling.NewPredictive(hourlyConfig())
	require.NoError(t, err)
	y := seasonal(16*24, 3)
	_, _ = walk(t, p, y[:15*24+2], 15*24, 20)
	y[15*24+2] = 9000 // a burst the forecast cannot know
	rec, err := p.Recommend(t.Context(), stateAt(y, 15*24+3, 20))
	require.NoError(t, err)
	assert.Equal(t, 180, rec.Capacity.Desired, "⌈9000 / 50⌉")
	assert.Contains(t, rec.Reason, "not below the reactive")
}

func TestPredictiveFallsBackWhenTheForecastIsBad(t *testing.T) {
	t.Parallel()
	cfg := hourlyConfig()
	cfg.ErrorWindow = 12 * time.Hour
	cfg.RefitInterval = 24 * time.Hour
	cfg.ReselectInterval = 30 * 24 * time.Hour
	p, err := scaling.NewPredictive(cfg)
	require.NoError(t, err)
	y := seasonal(18*24, 4)
	from := 15 * 24
	// From here the cycle turns upside down: the daily forecast is wrong.
	for k := from; k < len(y); k++ {
		y[k] = 2000 - y[k]
	}
	_, recs := walk(t, p, y, from, 20)
	fell := -1
	for i, r := range recs {
		if inputValue(t, r, scaling.InputForecastFallback) == 1 {
			fell = i
			assert.InDelta(t, 0.4, r.Fitness, 1e-9)
			assert.Contains(t, r.Reason, "falling back")
			assert.Equal(t, int(math.Ceil(y[from+i-1]/50)), r.Capacity.Desired, "the reactive capacity")
			break
		}
	}
	require.GreaterOrEqual(t, fell, 0, "it falls back")
	assert.Less(t, fell, 18, "within the error window and a half")
	assert.Greater(t, inputValue(t, recs[fell], scaling.InputForecastMASE), 1.0)
}

func TestPredictiveForecastOnly(t *testing.T) {
	t.Parallel()
	cfg := hourlyConfig()
	cfg.ForecastOnly = true
	p, err := scaling.NewPredictive(cfg)
	require.NoError(t, err)
	act, err := scaling.NewPredictive(hourlyConfig())
	require.NoError(t, err)
	y := seasonal(16*24, 5)
	k := 15*24 + 5
	rec, err := p.Recommend(t.Context(), stateAt(y, k, 3))
	require.NoError(t, err)
	want, err := act.Recommend(t.Context(), stateAt(y, k, 3))
	require.NoError(t, err)
	assert.Equal(t, 3, rec.Capacity.Desired, "keeps the capacity")
	assert.InDelta(t, 0, rec.Fitness, 0)
	assert.Equal(t, want.Capacity.Desired, rec.Proposal, "says what it would do")
	assert.NotEqual(t, 3, want.Capacity.Desired)
	assert.Contains(t, rec.Reason, "forecast only")
}

func TestPredictiveBadInput(t *testing.T) {
	t.Parallel()
	p, err := scaling.NewPredictive(hourlyConfig())
	require.NoError(t, err)
	y := seasonal(15*24, 6)

	t.Run("negative demand", func(t *testing.T) {
		t.Parallel()
		q, err := scaling.NewPredictive(hourlyConfig())
		require.NoError(t, err)
		z := append([]float64(nil), y...)
		z[100] = -1
		_, err = q.Recommend(t.Context(), stateAt(z, len(z), 3))
		require.ErrorIs(t, err, provider.ErrInvalid)
	})
	t.Run("infinite demand", func(t *testing.T) {
		t.Parallel()
		q, err := scaling.NewPredictive(hourlyConfig())
		require.NoError(t, err)
		z := append([]float64(nil), y...)
		z[len(z)-1] = math.Inf(1)
		_, err = q.Recommend(t.Context(), stateAt(z, len(z), 3))
		require.ErrorIs(t, err, provider.ErrInvalid)
	})
	t.Run("vertical target", func(t *testing.T) {
		t.Parallel()
		st := stateAt(y, len(y), 3)
		st.Target.Resource.Kind = provider.KindInstance
		_, err := p.Recommend(t.Context(), st)
		require.ErrorIs(t, err, provider.ErrInvalid)
	})
	t.Run("no series", func(t *testing.T) {
		t.Parallel()
		st := stateAt(y, len(y), 3)
		st.Metrics = nil
		rec, err := p.Recommend(t.Context(), st)
		require.NoError(t, err)
		assert.Equal(t, 3, rec.Capacity.Desired)
		assert.InDelta(t, 0, rec.Fitness, 0)
		assert.Contains(t, rec.Reason, "no requests data")
	})
	t.Run("wrong step", func(t *testing.T) {
		t.Parallel()
		st := stateAt(y, len(y), 3)
		st.Metrics[0].Step = 30 * time.Minute
		rec, err := p.Recommend(t.Context(), st)
		require.NoError(t, err)
		assert.Equal(t, 3, rec.Capacity.Desired)
		assert.Contains(t, rec.Reason, "30m0s")
	})
	t.Run("long gap restarts the history", func(t *testing.T) {
		t.Parallel()
		q, err := scaling.NewPredictive(hourlyConfig())
		require.NoError(t, err)
		z := append([]float64(nil), y...)
		for k := 200; k < 205; k++ {
			z[k] = math.NaN() // 5 steps > the 3 interpolated
		}
		rec, err := q.Recommend(t.Context(), stateAt(z, len(z), 3))
		require.NoError(t, err)
		assert.Contains(t, rec.Reason, "after a gap")
		st, _ := q.Status("web")
		assert.Equal(t, scaling.StandingShortHistory, st.Standing)
		assert.Equal(t, time.Duration(len(z)-205)*time.Hour, st.History, "counted from after the gap, never read as zero demand")
	})
	t.Run("short gap is interpolated", func(t *testing.T) {
		t.Parallel()
		q, err := scaling.NewPredictive(hourlyConfig())
		require.NoError(t, err)
		z := append([]float64(nil), y...)
		z[200], z[201], z[202] = math.NaN(), math.NaN(), math.NaN()
		_, err = q.Recommend(t.Context(), stateAt(z, len(z), 3))
		require.NoError(t, err)
		st, _ := q.Status("web")
		assert.Equal(t, scaling.StandingForecast, st.Standing)
	})
}

func TestPredictiveStandingText(t *testing.T) {
	t.Parallel()
	for _, s := range []scaling.PredictiveStanding{scaling.StandingForecast, scaling.StandingShortHistory, scaling.StandingNoModel, scaling.StandingFallback} {
		b, err := json.Marshal(s)
		require.NoError(t, err)
		var got scaling.PredictiveStanding
		require.NoError(t, json.Unmarshal(b, &got))
		assert.Equal(t, s, got)
		assert.Equal(t, string(s), s.String())
	}
	var got scaling.PredictiveStanding
	require.ErrorIs(t, json.Unmarshal([]byte(`"sometimes"`), &got), provider.ErrInvalid)
	_, err := json.Marshal(scaling.PredictiveStanding("sometimes"))
	require.Error(t, err)
}

func ExampleNewPredictive() {
	p, err := scaling.NewPredictive(scaling.PredictiveConfig{
		Step:                time.Hour,
		CapacityPerInstance: 100, // requests/s one instance serves at 100 %
		TargetUtilization:   0.5,
		MinHistory:          14 * 24 * time.Hour,
	})
	if err != nil {
		panic(err)
	}
	y := seasonal(15*24, 9)
	rec, err := p.Recommend(context.Background(), stateAt(y, len(y), 10))
	if err != nil {
		panic(err)
	}
	st, _ := p.Status("web")
	fmt.Println(st.Standing, st.Patterns[0].Name, rec.Capacity.Desired > 10)
	// Output: forecast daily true
}

func TestPredictiveLeadTimeSizesForLater(t *testing.T) {
	t.Parallel()
	// The same model for both, so that only the lead time differs.
	cfg := hourlyConfig()
	cfg.Model = &forecast.Spec{Kind: forecast.KindHarmonic, Periods: []int{24}, Harmonics: []int{6}}
	now, err := scaling.NewPredictive(cfg)
	require.NoError(t, err)
	cfg.LeadTime = time.Hour
	later, err := scaling.NewPredictive(cfg)
	require.NoError(t, err)
	y := seasonal(17*24, 8)
	from := 16 * 24
	a, _ := walk(t, now, y, from, 20)
	b, _ := walk(t, later, y, from, 20)
	higher, lower := 0, 0
	for i := 0; i+1 < len(a); i++ {
		rising := y[from+i+1] > y[from+i]+100
		falling := y[from+i+1] < y[from+i]-100
		if rising && b[i] > a[i] {
			higher++
		}
		if falling && b[i] < a[i] {
			lower++
		}
	}
	assert.GreaterOrEqual(t, higher, 3, "on the rise, sized for the step an hour later: more")
	assert.Equal(t, 0, lower, "on the fall, scale in still covers the step now")
}

// The engine picks the reactive strategy while the predictive one lacks
// history, and the predictive one once its forecast is healthy; the
// considered recommendations say why.
func TestEnginePicksPredictiveByFitness(t *testing.T) {
	t.Parallel()
	cloud, err := memory.New(memory.Config{})
	require.NoError(t, err)
	engine, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: cloud}, allowAll{})
	require.NoError(t, err)
	pred, err := scaling.NewPredictive(hourlyConfig())
	require.NoError(t, err)
	reactive, err := scaling.NewTargetValue(scaling.TargetValueConfig{Metric: provider.MetricRequests, Target: fp(50), Step: time.Hour})
	require.NoError(t, err)
	cands := []scaling.Candidate{{Name: "predictive", Strategy: pred}, {Name: "reactive", Strategy: reactive}}
	y := seasonal(16*24, 10)

	d, err := engine.Decide(t.Context(), stateAt(y, 10*24, 20), cands, "")
	require.NoError(t, err)
	assert.Equal(t, "reactive", d.Chosen.Strategy, "10 days of history, 14 needed")
	assert.Contains(t, d.Considered[0].Reason, "usable history")

	d, err = engine.Decide(t.Context(), stateAt(y, 15*24, 20), cands, "")
	require.NoError(t, err)
	assert.Equal(t, "predictive", d.Chosen.Strategy)
	assert.Contains(t, d.Chosen.Reason, "forecast p90")
}

func TestParseConfigPredictive(t *testing.T) {
	t.Parallel()
	c, err := scaling.ParseConfig(strings.NewReader(`
targets:
  - id: web
    resource: web
    min: 1
    max: 20
    strategies:
      - type: predictive
        predictive:
          metric: requests
          step: 5m
          capacity_per_instance: 120
          lead_time: 5m
`))
	require.NoError(t, err)
	s := c.Targets[0].Strategies[0]
	require.NotNil(t, s.Predictive)
	assert.InDelta(t, 120, s.Predictive.CapacityPerInstance, 0)
	assert.Equal(t, 5*time.Minute, s.Predictive.LeadTime)

	_, err = scaling.ParseConfig(strings.NewReader(`
targets:
  - id: web
    resource: web
    min: 1
    max: 20
    strategies:
      - type: predictive
`))
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Contains(t, ie.Field, "predictive")
}

// TestPredictiveConfigBoundaries pins each bound of the predictive
// configuration at its edge (5-minute steps): what is allowed exactly
// there, and the nearest value that is not.
func TestPredictiveConfigBoundaries(t *testing.T) {
	t.Parallel()
	zero, step := 0.0, 5*time.Minute
	c := func(edit func(*scaling.PredictiveConfig)) scaling.PredictiveConfig {
		cfg := scaling.PredictiveConfig{CapacityPerInstance: 1}
		edit(&cfg)
		return cfg
	}
	for _, tc := range []struct {
		name  string
		give  scaling.PredictiveConfig
		field string // "" when valid
	}{
		{"utilization 1", c(func(c *scaling.PredictiveConfig) { c.TargetUtilization = 1 }), ""},
		{"utilization just above 1", c(func(c *scaling.PredictiveConfig) { c.TargetUtilization = math.Nextafter(1, 2) }), "target_utilization"},
		{"negative utilization", c(func(c *scaling.PredictiveConfig) { c.TargetUtilization = -0.5 }), "target_utilization"},
		{"quantile 0.5", c(func(c *scaling.PredictiveConfig) { c.Quantile = 0.5 }), ""},
		{"quantile just below 0.5", c(func(c *scaling.PredictiveConfig) { c.Quantile = math.Nextafter(0.5, 0) }), "quantile"},
		{"quantile just below 1", c(func(c *scaling.PredictiveConfig) { c.Quantile = math.Nextafter(1, 0) }), ""},
		{"margin 0", c(func(c *scaling.PredictiveConfig) { c.Margin = &zero }), ""},
		{"horizon of one step", c(func(c *scaling.PredictiveConfig) { c.Horizon = step }), ""},
		{"refit every step", c(func(c *scaling.PredictiveConfig) { c.RefitInterval = step }), ""},
		{"error window of one step", c(func(c *scaling.PredictiveConfig) { c.ErrorWindow = step }), ""},
		{"fit window of 8 steps", c(func(c *scaling.PredictiveConfig) { c.FitWindow = 8 * step }), ""},
		{"fit window of 8 steps less a second", c(func(c *scaling.PredictiveConfig) { c.FitWindow = 8*step - time.Second }), "fit_window"},
		{"lead + horizon of 47 steps", c(func(c *scaling.PredictiveConfig) { c.LeadTime, c.Horizon = 7*step, 40*step }), ""},
		{"lead + horizon of 48 steps", c(func(c *scaling.PredictiveConfig) { c.LeadTime, c.Horizon = 8*step, 40*step }), "horizon"},
		{"period of two steps", c(func(c *scaling.PredictiveConfig) { c.Periods = []time.Duration{2 * step} }), ""},
		{"period of one step", c(func(c *scaling.PredictiveConfig) { c.Periods = []time.Duration{step} }), "periods[0]"},
	} {
		_, err := scaling.NewPredictive(tc.give)
		if tc.field == "" {
			require.NoError(t, err, tc.name)
			continue
		}
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, tc.name)
		assert.Equal(t, tc.field, ie.Field, tc.name)
	}
}

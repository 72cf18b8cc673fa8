package sim_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/scaling/sim"
)

var start = time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)

// hand is a small hourly trace: one step of history (10), then 10, 30,
// 30, 10, 50 replayed.
func hand() provider.Series {
	return provider.Series{Metric: provider.MetricRequests, Start: start, Step: time.Hour, Values: []float64{10, 10, 30, 30, 10, 50}}
}

// handConfig serves 10 per instance at full utilization.
func handConfig() sim.Config {
	return sim.Config{CapacityPerInstance: 10, TargetUtilization: 1, From: start.Add(time.Hour), KeepSteps: true,
		Baselines: []sim.Baseline{{Name: "reactive"}}}
}

func TestRunMetricsByHand(t *testing.T) {
	t.Parallel()
	s, err := sim.New(handConfig())
	require.NoError(t, err)
	rep, err := s.Run(t.Context(), hand())
	require.NoError(t, err)
	assert.Equal(t, 5, rep.Steps)
	assert.Equal(t, start.Add(time.Hour), rep.Start)

	o := rep.Oracle.Metrics
	assert.Equal(t, 5, o.Steps)
	assert.InDelta(t, 13, o.CapacityHours, 1e-9, "1+3+3+1+5")
	assert.InDelta(t, 13, o.Cost, 1e-9, "1 per instance-hour by default")
	assert.InDelta(t, 0, o.TauU, 0)
	assert.InDelta(t, 0, o.TauO, 0)
	assert.Equal(t, 3, o.Changes)
	assert.Equal(t, 2, o.Reversals)
	assert.InDelta(t, 0.4, o.ReversalsPerHour, 1e-9)

	r, ok := rep.Result("reactive")
	require.True(t, ok)
	m := r.Metrics
	// Capacity 1, 1, 3, 3, 1 against the oracle's 1, 3, 3, 1, 5.
	assert.InDelta(t, 9, m.CapacityHours, 1e-9)
	assert.InDelta(t, 9.0/13, m.CostRatio, 1e-9)
	assert.InDelta(t, 0.4, m.TauU, 1e-9)
	assert.InDelta(t, 0.2, m.TauO, 1e-9)
	assert.InDelta(t, (2.0/3+4.0/5)/5, m.ThetaU, 1e-9)
	assert.InDelta(t, 2.0/5, m.ThetaO, 1e-9)
	assert.Equal(t, 2, m.Changes)
	assert.Equal(t, 1, m.Reversals)
	actual, _, _ := actualsOf(r)
	assert.Equal(t, []int{1, 1, 3, 3, 1}, actual)
	assert.InDelta(t, 50.0, r.Steps[4].Demand, 0)
	assert.Equal(t, 5, r.Steps[4].Oracle)
}

func TestRunLeadTimeDelaysScaleOut(t *testing.T) {
	t.Parallel()
	cfg := handConfig()
	cfg.LeadTime = 30 * time.Minute // rounded up to one step
	s, err := sim.New(cfg)
	require.NoError(t, err)
	rep, err := s.Run(t.Context(), hand())
	require.NoError(t, err)
	r, _ := rep.Result("reactive")
	actual, desired, _ := actualsOf(r)
	assert.Equal(t, []int{1, 1, 3, 3, 1}, desired)
	assert.Equal(t, []int{1, 1, 1, 3, 1}, actual, "added at step 2, serving at step 3; removed at once")
	assert.InDelta(t, 0.6, r.Metrics.TauU, 1e-9)
}

// TestRunLeadTimeLongerThanTheTrace: instances that take longer to arrive
// than the trace lasts never serve, up to the longest LeadTime (it
// overflowed when rounded up to steps and served after one step).
func TestRunLeadTimeLongerThanTheTrace(t *testing.T) {
	t.Parallel()
	for _, lead := range []time.Duration{6 * time.Hour, 1000 * time.Hour, math.MaxInt64 - 1, math.MaxInt64} {
		cfg := handConfig()
		cfg.LeadTime = lead
		s, err := sim.New(cfg)
		require.NoError(t, err)
		rep, err := s.Run(t.Context(), hand())
		require.NoError(t, err)
		r, _ := rep.Result("reactive")
		actual, desired, _ := actualsOf(r)
		assert.Equal(t, []int{1, 1, 1, 1, 1}, actual, "lead time %v: nothing added arrives", lead)
		assert.Equal(t, []int{1, 1, 3, 3, 1}, desired, "lead time %v", lead)
	}
}

// TestRunOracleNeedIsStrict: a step violates the SLO when its demand is
// above what the capacity carries at the target utilization, strictly:
// demand exactly at it needs no more, demand above it by any amount
// beyond the rounding of the division needs one more, and any demand > 0
// needs an instance (a group at zero serves nothing). A tiny demand was
// sized at zero instances and a demand a billionth above a multiple at
// the multiple.
func TestRunOracleNeedIsStrict(t *testing.T) {
	t.Parallel()
	cfg := sim.Config{CapacityPerInstance: 1, TargetUtilization: 0.6, Min: new(0), KeepSteps: true, Baselines: []sim.Baseline{}}
	s, err := sim.New(cfg)
	require.NoError(t, err)
	demand := provider.Series{Start: start, Step: time.Hour, Values: []float64{0, 1e-12, 1e-300, 1.8, 0.6 * 3, 1.8 * (1 + 1e-10), 0.6 + 1e-9}}
	rep, err := s.Run(t.Context(), demand)
	require.NoError(t, err)
	var oracle []int
	for _, st := range rep.Oracle.Steps {
		oracle = append(oracle, st.Oracle)
	}
	assert.Equal(t, []int{0, 1, 1, 3, 3, 4, 2}, oracle)
	assert.InDelta(t, 0, rep.Oracle.Metrics.TauU, 0)
}

func TestRunBounds(t *testing.T) {
	t.Parallel()
	cfg := handConfig()
	cfg.Min, cfg.Max = new(2), 4
	s, err := sim.New(cfg)
	require.NoError(t, err)
	rep, err := s.Run(t.Context(), hand())
	require.NoError(t, err)
	var oracle []int
	for _, st := range rep.Oracle.Steps {
		oracle = append(oracle, st.Actual)
	}
	assert.Equal(t, []int{2, 3, 3, 2, 4}, oracle)
}

// TestRunMinAboveTheLargestDemand: a Min above the capacity any demand
// is sized at (2^30 instances) without a Max replays every step at Min.
// The engine's target had a Max of 2^30 below its Min, so it refused
// every recommendation and the replay failed with "no strategy
// recommended".
func TestRunMinAboveTheLargestDemand(t *testing.T) {
	t.Parallel()
	for _, lo := range []int{1<<30 + 1, math.MaxInt32, math.MaxInt} {
		cfg := handConfig()
		cfg.Min = &lo
		s, err := sim.New(cfg)
		require.NoError(t, err)
		keep := scaling.StrategyFunc(func(_ context.Context, st scaling.State) (scaling.Recommendation, error) {
			return scaling.Recommendation{Capacity: st.Target.Capacity.CapacitySpec, Proposal: st.Target.Capacity.Desired}, nil
		})
		rep, err := s.Run(t.Context(), hand(), sim.Policy{Name: "keep", Strategy: keep})
		require.NoError(t, err, "min %d", lo)
		for _, r := range append([]sim.Result{rep.Oracle}, rep.Results...) {
			actual, desired, _ := actualsOf(r)
			assert.Equal(t, []int{lo, lo, lo, lo, lo}, actual, "min %d: %s", lo, r.Name)
			assert.Equal(t, []int{lo, lo, lo, lo, lo}, desired, "min %d: %s", lo, r.Name)
			assert.Zero(t, r.Metrics.TauU, "min %d: %s", lo, r.Name)
		}
	}
}

// TestRunDemandBeyondTheInstancesCounted: a replayed step needing more
// than 2^30 instances (a capacity per instance in another unit than the
// demand's) is an error naming it; the need was capped at 2^30, so the
// oracle and every policy at 2^30 instances counted no SLO violation
// where 10^10 instances were needed. Exactly 2^30 replays.
func TestRunDemandBeyondTheInstancesCounted(t *testing.T) {
	t.Parallel()
	cfg := handConfig()
	cfg.CapacityPerInstance = 1e-9 // 10 needs 10^10 instances
	s, err := sim.New(cfg)
	require.NoError(t, err)
	_, err = s.Run(t.Context(), hand())
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "demand.values[1]", inv.Field)
	_, _, err = s.HeadroomFor(t.Context(), hand(), "r", 0.1, 0.5)
	require.ErrorIs(t, err, provider.ErrInvalid)

	d := hand()
	d.Values[5] = float64(1<<30) * 10 // exactly 2^30 instances of 10
	s, err = sim.New(handConfig())
	require.NoError(t, err)
	rep, err := s.Run(t.Context(), d)
	require.NoError(t, err)
	assert.Equal(t, 1<<30, rep.Oracle.Steps[4].Oracle)
}

// TestRunMaxDoesNotHideViolations: a step whose demand is above what Max
// instances carry violates the SLO whatever the policy, the oracle
// included (it counted as met when the capacity reached the oracle's,
// Max), and HeadroomFor says that no headroom meets τ_U = 0.
func TestRunMaxDoesNotHideViolations(t *testing.T) {
	t.Parallel()
	cfg := handConfig()
	cfg.Min, cfg.Max = new(2), 4
	s, err := sim.New(cfg)
	require.NoError(t, err)
	rep, err := s.Run(t.Context(), hand())
	require.NoError(t, err)
	o := rep.Oracle.Metrics
	assert.InDelta(t, 0.2, o.TauU, 1e-12, "the last step's 50 needs 5 instances of 10, Max is 4")
	assert.InDelta(t, 1.0/5/5, o.ThetaU, 1e-12)
	assert.InDelta(t, 0, o.TauO, 0, "the oracle is never above what the bounds allow")
	assert.InDelta(t, 0, o.ThetaO, 0)
	r, _ := rep.Result("reactive")
	// Capacity 2, 2, 3, 3, 2 against the need 1, 3, 3, 1, 5 and the
	// oracle's 2, 3, 3, 2, 4.
	assert.InDelta(t, 0.4, r.Metrics.TauU, 1e-12)
	assert.InDelta(t, (1.0/3+3.0/5)/5, r.Metrics.ThetaU, 1e-12)
	assert.InDelta(t, 0.2, r.Metrics.TauO, 1e-12)
	assert.InDelta(t, (1.0/2)/5, r.Metrics.ThetaO, 1e-12)

	_, _, err = s.HeadroomFor(t.Context(), hand(), "safe", 0, 0)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no headroom")
}

func TestRunPolicyWithLimiter(t *testing.T) {
	t.Parallel()
	s, err := sim.New(handConfig())
	require.NoError(t, err)
	oracleLike := scaling.StrategyFunc(func(_ context.Context, st scaling.State) (scaling.Recommendation, error) {
		spec := st.Target.Capacity.CapacitySpec
		spec.Desired = 5
		return scaling.Recommendation{Capacity: spec, Proposal: 5}, nil
	})
	lim, err := ratelimit.New(ratelimit.Config{Up: ratelimit.Budget{Events: 1, Window: 90 * time.Minute, MaxUnits: 2, MinInterval: -1}})
	require.NoError(t, err)
	rep, err := s.Run(t.Context(), hand(), sim.Policy{Name: "five", Strategy: oracleLike}, sim.Policy{Name: "limited", Strategy: oracleLike, Limiter: lim})
	require.NoError(t, err)
	five, _ := rep.Result("five")
	limited, _ := rep.Result("limited")
	var a, b []int
	for i := range five.Steps {
		a = append(a, five.Steps[i].Actual)
		b = append(b, limited.Steps[i].Actual)
	}
	assert.Equal(t, []int{5, 5, 5, 5, 5}, a)
	assert.Equal(t, []int{3, 3, 5, 5, 5}, b, "two units per event, one event per 90 minutes")
}

func TestRunProgress(t *testing.T) {
	t.Parallel()
	var got []sim.Progress
	s, err := sim.New(handConfig(), sim.WithProgress(func(p sim.Progress) { got = append(got, p) }))
	require.NoError(t, err)
	_, err = s.Run(t.Context(), hand())
	require.NoError(t, err)
	require.NotEmpty(t, got)
	last := got[len(got)-1]
	assert.Equal(t, sim.Progress{Policy: "reactive", Done: 5, Total: 5}, last)
}

func TestReportOutputs(t *testing.T) {
	t.Parallel()
	s, err := sim.New(handConfig())
	require.NoError(t, err)
	rep, err := s.Run(t.Context(), hand())
	require.NoError(t, err)

	var table bytes.Buffer
	require.NoError(t, rep.WriteTable(&table))
	lines := strings.Split(strings.TrimSpace(table.String()), "\n")
	require.Len(t, lines, 3)
	assert.Contains(t, lines[0], "τ_U %")
	assert.Contains(t, lines[1], "oracle")
	assert.Contains(t, lines[2], "40.0")

	b, err := json.Marshal(rep)
	require.NoError(t, err)
	var back sim.Report
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, rep.Results[0].Metrics, back.Results[0].Metrics)
	assert.Equal(t, rep.Oracle.Steps, back.Oracle.Steps)

	var svg bytes.Buffer
	require.NoError(t, rep.WriteSVG(&svg, time.Time{}, time.Time{}, 0, 0))
	assert.True(t, strings.HasPrefix(svg.String(), "<svg"))
	assert.Contains(t, svg.String(), "reactive")
	require.Error(t, rep.WriteSVG(&svg, time.Time{}, time.Time{}, 0, 0, "nobody"))
	// A size that is no length is refused by name, nothing written (a NaN
	// or infinite one drew a chart of that size, −∞ the default).
	for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		svg.Reset()
		var ie *provider.InvalidError
		require.ErrorAs(t, rep.WriteSVG(&svg, time.Time{}, time.Time{}, vg.Length(bad), 0), &ie, "%g", bad)
		assert.Equal(t, "width", ie.Field)
		require.ErrorAs(t, rep.WriteSVG(&svg, time.Time{}, time.Time{}, 0, vg.Length(bad)), &ie, "%g", bad)
		assert.Equal(t, "height", ie.Field)
		assert.Zero(t, svg.Len())
	}

	cfg := handConfig()
	cfg.KeepSteps = false
	s, err = sim.New(cfg)
	require.NoError(t, err)
	rep, err = s.Run(t.Context(), hand())
	require.NoError(t, err)
	require.ErrorIs(t, rep.WriteSVG(&svg, time.Time{}, time.Time{}, 0, 0), sim.ErrNoSteps)
}

// svgClockLabels returns the hh:mm tick labels of an SVG chart, in order.
func svgClockLabels(svg string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`>(\d\d:\d\d)</text>`).FindAllStringSubmatch(svg, -1) {
		out = append(out, m[1])
	}
	return out
}

// The chart's time axis is in the zone of the trace's times: a host's
// series in Tokyo time shows its steps at Tokyo hours. It was drawn in
// UTC whatever the trace's zone, so that daily peaks read nine hours off.
func TestWriteSVGTimeAxisInTheTracesZone(t *testing.T) {
	t.Parallel()
	s, err := sim.New(handConfig())
	require.NoError(t, err)
	labels := func(tr provider.Series) []string {
		rep, err := s.Run(t.Context(), tr)
		require.NoError(t, err)
		var svg bytes.Buffer
		require.NoError(t, rep.WriteSVG(&svg, time.Time{}, time.Time{}, 0, 0))
		return svgClockLabels(svg.String())
	}
	utc := labels(hand())
	tokyo := hand()
	tokyo.Start = tokyo.Start.In(time.FixedZone("JST", 9*3600))
	local := labels(tokyo)
	require.NotEmpty(t, utc)
	require.Len(t, local, len(utc), "the same instants, the same ticks")
	for i, u := range utc {
		at, err := time.Parse("15:04", u)
		require.NoError(t, err)
		assert.Equal(t, at.Add(9*time.Hour).Format("15:04"), local[i], "tick %d", i)
	}
}

func TestHeadroomFor(t *testing.T) {
	t.Parallel()
	s, err := sim.New(handConfig())
	require.NoError(t, err)
	b, r, err := s.HeadroomFor(t.Context(), hand(), "safe", 0, 0)
	require.NoError(t, err)
	// The last step needs 5 from a last demand of 10: (1+h)·10/10 > 4.
	assert.InDelta(t, 3, b.Headroom, 0.002)
	assert.Greater(t, b.Headroom, 3.0)
	assert.InDelta(t, 0, r.Metrics.TauU, 0)
	assert.Equal(t, "safe", r.Name)

	b, _, err = s.HeadroomFor(t.Context(), hand(), "loose", 0, 0.5)
	require.NoError(t, err)
	assert.InDelta(t, 0, b.Headroom, 0, "no headroom already reaches 40 %")
	// At the bounds: exactly the 40 % of no headroom, and 100 %.
	for _, maxTauU := range []float64{0.4, 1} {
		b, r, err = s.HeadroomFor(t.Context(), hand(), "loose", 0, maxTauU)
		require.NoError(t, err)
		assert.InDelta(t, 0, b.Headroom, 0, "no headroom reaches %g", maxTauU)
		assert.InDelta(t, 0.4, r.Metrics.TauU, 1e-12)
	}

	for _, bad := range []float64{math.NaN(), -0.01, 1.01} {
		_, _, err = s.HeadroomFor(t.Context(), hand(), "x", 0, bad)
		require.ErrorIs(t, err, provider.ErrInvalid, "%g", bad)
	}
}

// TestHeadroomForBadInput: a tolerance or a name the baselines of Config
// would refuse is refused by name, and a trace whose replayed steps are
// all gaps is ErrGap as in Run, not a baseline with NaN shares.
func TestHeadroomForBadInput(t *testing.T) {
	t.Parallel()
	s, err := sim.New(handConfig())
	require.NoError(t, err)
	for _, tt := range []struct {
		name      string
		tolerance float64
		field     string
	}{
		{"x", math.NaN(), "tolerance"},
		{"x", -0.1, "tolerance"},
		{"x", 1, "tolerance"},
		{"x", math.Inf(1), "tolerance"},
		{"", 0.1, "name"},
		{sim.OracleName, 0.1, "name"},
	} {
		_, _, err := s.HeadroomFor(t.Context(), hand(), tt.name, tt.tolerance, 0.05)
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, "%q %g", tt.name, tt.tolerance)
		assert.Equal(t, tt.field, ie.Field)
	}

	cfg := handConfig()
	cfg.SkipGaps = true
	s, err = sim.New(cfg)
	require.NoError(t, err)
	gaps := hand()
	for i := 1; i < len(gaps.Values); i++ {
		gaps.Values[i] = math.NaN()
	}
	b, r, err := s.HeadroomFor(t.Context(), gaps, "x", 0.1, 0.05)
	require.ErrorIs(t, err, sim.ErrGap, "%+v %+v", b, r.Metrics)
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	okStrategy := scaling.StrategyFunc(func(_ context.Context, st scaling.State) (scaling.Recommendation, error) {
		return scaling.Recommendation{Capacity: st.Target.Capacity.CapacitySpec}, nil
	})
	boom := errors.New("boom")
	failing := scaling.StrategyFunc(func(context.Context, scaling.State) (scaling.Recommendation, error) {
		return scaling.Recommendation{}, boom
	})
	tests := []struct {
		name     string
		cfg      func(*sim.Config)
		demand   func(*provider.Series)
		policies []sim.Policy
		want     error
		field    string // the field an invalid input names, when set
	}{
		{name: "zero capacity", cfg: func(c *sim.Config) { c.CapacityPerInstance = 0 }, want: provider.ErrInvalid},
		{name: "NaN capacity", cfg: func(c *sim.Config) { c.CapacityPerInstance = math.NaN() }, want: provider.ErrInvalid},
		{name: "utilization above 1", cfg: func(c *sim.Config) { c.TargetUtilization = 1.5 }, want: provider.ErrInvalid},
		{name: "negative lead", cfg: func(c *sim.Config) { c.LeadTime = -time.Second }, want: provider.ErrInvalid},
		{name: "max below min", cfg: func(c *sim.Config) { c.Min, c.Max = new(3), 2 }, want: provider.ErrInvalid},
		{name: "negative price", cfg: func(c *sim.Config) { c.CostPerInstanceHour = -1 }, want: provider.ErrInvalid},
		// A cost of +Inf: the report's JSON failed to encode and the table
		// showed the cost ratio Inf/Inf as "-", as for a free oracle.
		{name: "price whose cost overflows", cfg: func(c *sim.Config) { c.CostPerInstanceHour = math.MaxFloat64 / 2 }, want: provider.ErrInvalid, field: "cost_per_instance_hour"},
		{name: "baseline named oracle", cfg: func(c *sim.Config) { c.Baselines = []sim.Baseline{{Name: "oracle"}} }, want: provider.ErrInvalid},
		{name: "baseline tolerance 1", cfg: func(c *sim.Config) { c.Baselines = []sim.Baseline{{Name: "r", Tolerance: 1}} }, want: provider.ErrInvalid},
		{name: "gap in the replay", demand: func(s *provider.Series) { s.Values[3] = math.NaN() }, want: sim.ErrGap},
		{name: "gap at the first replayed step", demand: func(s *provider.Series) { s.Values[1] = math.NaN() }, want: sim.ErrGap},
		{name: "negative demand", demand: func(s *provider.Series) { s.Values[0] = -1 }, want: provider.ErrInvalid},
		{name: "infinite demand", demand: func(s *provider.Series) { s.Values[2] = math.Inf(1) }, want: provider.ErrInvalid},
		{name: "no step", demand: func(s *provider.Series) { s.Step = 0 }, want: provider.ErrInvalid, field: "demand.step"},
		{name: "negative step", demand: func(s *provider.Series) { s.Step = -time.Hour }, want: provider.ErrInvalid, field: "demand.step"},
		{name: "from after the end", cfg: func(c *sim.Config) { c.From = start.Add(6 * time.Hour) }, want: provider.ErrInvalid},
		{name: "from off the grid", cfg: func(c *sim.Config) { c.From = start.Add(90 * time.Minute) }, want: provider.ErrInvalid},
		{name: "unnamed policy", policies: []sim.Policy{{Strategy: okStrategy}}, want: provider.ErrInvalid},
		{name: "duplicate policy", policies: []sim.Policy{{Name: "reactive", Strategy: okStrategy}}, want: provider.ErrInvalid},
		{name: "no strategy", policies: []sim.Policy{{Name: "p"}}, want: provider.ErrInvalid},
		{name: "strategy fails", policies: []sim.Policy{{Name: "p", Strategy: failing}}, want: boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := handConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			d := hand()
			if tt.demand != nil {
				tt.demand(&d)
			}
			s, err := sim.New(cfg)
			if err == nil {
				_, err = s.Run(t.Context(), d, tt.policies...)
			}
			require.ErrorIs(t, err, tt.want)
			if tt.field != "" {
				var inv *provider.InvalidError
				require.ErrorAs(t, err, &inv)
				assert.Equal(t, tt.field, inv.Field)
			}
		})
	}
}

func TestRunSkipGaps(t *testing.T) {
	t.Parallel()
	cfg := handConfig()
	cfg.SkipGaps = true
	s, err := sim.New(cfg)
	require.NoError(t, err)
	d := hand()
	d.Values[3] = math.NaN()
	rep, err := s.Run(t.Context(), d)
	require.NoError(t, err)
	assert.Equal(t, 4, rep.Oracle.Metrics.Steps, "the gap is not counted")
	r, _ := rep.Result("reactive")
	assert.Equal(t, 4, r.Metrics.Steps)

	// Reversals per hour are over the replayed hours, as the reversals
	// counted: 1, 3, 1, 3, 1 reverses three times in 5 hours, two of the
	// changes during the gaps (it was per hour of the 3 steps with data,
	// 1 an hour).
	d.Values[2] = math.NaN()
	rep, err = s.Run(t.Context(), d, sim.Policy{Name: "zigzag", Strategy: script(1, 3, 1, 3, 1)})
	require.NoError(t, err)
	r, _ = rep.Result("zigzag")
	assert.Equal(t, 3, r.Metrics.Steps)
	assert.Equal(t, 3, r.Metrics.Reversals)
	assert.InDelta(t, 3.0/5, r.Metrics.ReversalsPerHour, 1e-12)
}

func TestRunHonoursContext(t *testing.T) {
	t.Parallel()
	s, err := sim.New(handConfig())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = s.Run(ctx, hand())
	require.ErrorIs(t, err, context.Canceled)
}

// noScaleIn is a gate that refuses every scale in, or fails.
type noScaleIn struct{ err error }

func (g noScaleIn) Evaluate(_ context.Context, p safety.Proposal) (safety.Decision, error) {
	if g.err != nil {
		return safety.Decision{}, g.err
	}
	return safety.Decision{Action: p.Action, Now: p.Now, Allowed: p.Action != safety.ActionScaleIn}, nil
}

func (g noScaleIn) Check(ctx context.Context, p safety.Proposal) (safety.Decision, error) {
	return g.Evaluate(ctx, p)
}

func TestRunPolicyWithGate(t *testing.T) {
	t.Parallel()
	cfg := handConfig()
	s, err := sim.New(cfg)
	require.NoError(t, err)
	follow := scaling.StrategyFunc(func(_ context.Context, st scaling.State) (scaling.Recommendation, error) {
		ser, _ := st.Series(provider.MetricRequests)
		spec := st.Target.Capacity.CapacitySpec
		spec.Desired = int(math.Ceil(ser.Values[len(ser.Values)-1] / 10))
		return scaling.Recommendation{Capacity: spec, Proposal: spec.Desired}, nil
	})
	rep, err := s.Run(t.Context(), hand(), sim.Policy{Name: "gated", Strategy: follow, Gate: noScaleIn{}})
	require.NoError(t, err)
	r, _ := rep.Result("gated")
	actual, _, _ := actualsOf(r)
	assert.Equal(t, []int{1, 1, 3, 3, 3}, actual, "the scale in from 3 to 1 is refused")

	boom := errors.New("rule failed")
	_, err = s.Run(t.Context(), hand(), sim.Policy{Name: "gated", Strategy: follow, Gate: noScaleIn{err: boom}})
	require.ErrorIs(t, err, boom, "a gate that errors stops the replay")
}

// TestRunScalesToZero: Min 0 replays a group that scales to zero, as a
// policy's min: 0 does; the default Min is 1.
func TestRunScalesToZero(t *testing.T) {
	t.Parallel()
	demand := provider.Series{Metric: provider.MetricRequests, Start: start, Step: time.Hour, Values: []float64{10, 0, 0, 20, 0}}
	for _, tt := range []struct {
		min              *int
		oracle, reactive []int
		tauU             float64
	}{
		{min: new(0), oracle: []int{0, 0, 2, 0}, reactive: []int{1, 0, 0, 2}, tauU: 0.25},
		{min: nil, oracle: []int{1, 1, 2, 1}, reactive: []int{1, 1, 1, 2}, tauU: 0.25},
	} {
		cfg := handConfig()
		cfg.Min = tt.min
		s, err := sim.New(cfg)
		require.NoError(t, err)
		rep, err := s.Run(t.Context(), demand)
		require.NoError(t, err)
		var oracle, reactive []int
		for _, st := range rep.Oracle.Steps {
			oracle = append(oracle, st.Actual)
		}
		r, _ := rep.Result("reactive")
		for _, st := range r.Steps {
			reactive = append(reactive, st.Actual)
		}
		assert.Equal(t, tt.oracle, oracle, "min %v", tt.min)
		assert.Equal(t, tt.reactive, reactive, "min %v", tt.min)
		assert.InDelta(t, tt.tauU, r.Metrics.TauU, 1e-12, "min %v", tt.min)
		assert.Equal(t, cmp.Or(tt.min, new(1)), s.Config().Min)
	}
}

// TestConfigIsCopied: the simulator keeps its own Min and Baselines; what
// a caller changes after New, or in what Config returns, changes nothing.
func TestConfigIsCopied(t *testing.T) {
	t.Parallel()
	cfg := handConfig()
	cfg.Min = new(2)
	s, err := sim.New(cfg)
	require.NoError(t, err)
	*cfg.Min, cfg.Baselines[0].Headroom = 0, 1
	got := s.Config()
	*got.Min, got.Baselines[0].Headroom = 0, 1
	assert.Equal(t, 2, *s.Config().Min)
	assert.Zero(t, s.Config().Baselines[0].Headroom)
	rep, err := s.Run(t.Context(), hand())
	require.NoError(t, err)
	r, _ := rep.Result("reactive")
	assert.Equal(t, 2, r.Steps[0].Actual, "the min in force")
	assert.Equal(t, 3, r.Steps[2].Actual, "the headroom in force: ⌈30/10⌉, not ⌈30·2/10⌉")
	*rep.Config.Min, rep.Config.Baselines[0].Headroom = 0, 1
	assert.Equal(t, 2, *s.Config().Min, "the report holds a copy too")
	assert.Zero(t, s.Config().Baselines[0].Headroom)
}

// At Min 0 a window of no demand costs the oracle nothing: a replay that
// costs something has no cost ratio (NaN: null in JSON, "-" in the
// table), and one that costs nothing too has 1.
func TestCostRatioOfAFreeOracle(t *testing.T) {
	t.Parallel()
	cfg := handConfig()
	cfg.Min = new(0)
	s, err := sim.New(cfg)
	require.NoError(t, err)
	demand := provider.Series{Metric: provider.MetricRequests, Start: start, Step: time.Hour, Values: []float64{10, 0, 0, 0}}
	rep, err := s.Run(t.Context(), demand)
	require.NoError(t, err)
	r, _ := rep.Result("reactive")
	assert.True(t, math.IsNaN(r.Metrics.CostRatio), "it kept one instance a step: %v", r.Metrics.Cost)
	assert.InDelta(t, 1, rep.Oracle.Metrics.CostRatio, 0)
	b, err := json.Marshal(rep)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"cost_ratio":null`)
	var back sim.Report
	require.NoError(t, json.Unmarshal(b, &back))
	got, _ := back.Result("reactive")
	assert.True(t, math.IsNaN(got.Metrics.CostRatio), "null reads back as NaN")
	assert.InDelta(t, 1, back.Oracle.Metrics.CostRatio, 0)
	assert.InDelta(t, r.Metrics.Cost, got.Metrics.Cost, 0)
	var table bytes.Buffer
	require.NoError(t, rep.WriteTable(&table))
	assert.Regexp(t, `reactive +0\.0 +0\.0 +33\.3 +33\.3 +- `, table.String())

	free, err := s.Run(t.Context(), provider.Series{Metric: provider.MetricRequests, Start: start, Step: time.Hour, Values: []float64{0, 0, 0}})
	require.NoError(t, err)
	r, _ = free.Result("reactive")
	assert.InDelta(t, 1, r.Metrics.CostRatio, 0, "nothing for nothing")
}

// A group scaled to zero is saturated while there is demand and reports
// no utilization (a gap) while there is none.
func TestUtilizationAtZero(t *testing.T) {
	t.Parallel()
	cfg := handConfig()
	cfg.Min, cfg.Baselines = new(0), []sim.Baseline{}
	s, err := sim.New(cfg)
	require.NoError(t, err)
	var seen []float64
	zero := scaling.StrategyFunc(func(_ context.Context, st scaling.State) (scaling.Recommendation, error) {
		cpu, ok := st.Series(provider.MetricCPU)
		require.True(t, ok)
		seen = append(seen, cpu.Values[len(cpu.Values)-1])
		spec := st.Target.Capacity.CapacitySpec
		spec.Desired = 0
		return scaling.Recommendation{Capacity: spec, Proposal: 0}, nil
	})
	demand := provider.Series{Metric: provider.MetricRequests, Start: start, Step: time.Hour, Values: []float64{0, 0, 3, 0, 5}}
	_, err = s.Run(t.Context(), demand, sim.Policy{Name: "zero", Strategy: zero})
	require.NoError(t, err)
	require.Len(t, seen, 4)
	assert.True(t, provider.IsGap(seen[0]), "no demand, no instance: %v", seen)
	assert.True(t, provider.IsGap(seen[1]))
	assert.InDelta(t, 1, seen[2], 0, "demand 3 at zero instances: saturated")
	assert.True(t, provider.IsGap(seen[3]))
}

// TestConfigJSONKeepsNoBaselines: a Config (and a Report's) with no
// baselines, an empty non-nil slice, reads back from its JSON as none:
// the field was left out of the JSON when empty, and read back as nil,
// the default HPA-like baseline, so a replay set up again from a saved
// Config replayed a baseline it had been told not to. nil still reads
// back as the default.
func TestConfigJSONKeepsNoBaselines(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		give []sim.Baseline
		want []sim.Baseline
	}{
		{name: "none", give: []sim.Baseline{}, want: []sim.Baseline{}},
		{name: "default", give: nil, want: []sim.Baseline{sim.DefaultBaseline}},
		{name: "one", give: []sim.Baseline{{Name: "r", Headroom: 0.2}}, want: []sim.Baseline{{Name: "r", Headroom: 0.2}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := handConfig()
			cfg.Baselines = tt.give
			b, err := json.Marshal(cfg)
			require.NoError(t, err)
			var back sim.Config
			require.NoError(t, json.Unmarshal(b, &back))
			s, err := sim.New(back)
			require.NoError(t, err)
			assert.Equal(t, tt.want, s.Config().Baselines, "%s", b)

			// A report's Config, defaults filled in, reads back the same.
			s, err = sim.New(cfg)
			require.NoError(t, err)
			rep, err := s.Run(t.Context(), hand(), sim.Policy{Name: "p", Strategy: script(2)})
			require.NoError(t, err)
			b, err = json.Marshal(rep)
			require.NoError(t, err)
			var again sim.Report
			require.NoError(t, json.Unmarshal(b, &again))
			assert.Equal(t, rep.Config, again.Config)
			s, err = sim.New(again.Config)
			require.NoError(t, err)
			assert.Equal(t, tt.want, s.Config().Baselines)
		})
	}
}

// TestRunCancelledLateIsAnError: a context that ends during the last
// steps of a replay (ctx was read every 64 steps) ends Run with its
// error. Run returned a report, with no error, in which a fallback
// candidate had carried the steps after the cancellation, for the
// predictive candidate failed with the context's error: a host that
// stopped a replay printed the table of decisions it never asked for.
func TestRunCancelledLateIsAnError(t *testing.T) {
	t.Parallel()
	cfg := handConfig()
	cfg.Baselines = []sim.Baseline{} // the policy is the last replay
	s, err := sim.New(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	calls := 0
	aware := scaling.StrategyFunc(func(ctx context.Context, st scaling.State) (scaling.Recommendation, error) {
		calls++
		if calls == 3 {
			cancel() // a host's interrupt, during the third step's decision
		}
		if err := ctx.Err(); err != nil {
			return scaling.Recommendation{}, err
		}
		spec := st.Target.Capacity.CapacitySpec
		spec.Desired = 4
		return scaling.Recommendation{Capacity: spec, Proposal: 4, Fitness: 1}, nil
	})
	rep, err := s.Run(ctx, hand(), sim.Policy{Name: "p", Candidates: []scaling.Candidate{
		{Name: "aware", Strategy: aware}, {Name: "fallback", Strategy: &fixed{desired: 2, fitness: 0.1}},
	}})
	require.ErrorIs(t, err, context.Canceled)
	assert.Nil(t, rep)
}

// TestConfigRefusesABadTargetID: a TargetID that a Limiter refuses as a
// target (a control character, more bytes than a target may have) is
// refused by New, naming target_id. It was accepted, and a replay with a
// Limiter then stopped at its first change with an error naming the
// limiter's request.target.
func TestConfigRefusesABadTargetID(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"web\n1", "web\x7f", strings.Repeat("w", 1<<12)} {
		cfg := handConfig()
		cfg.TargetID = id
		_, err := sim.New(cfg)
		var inv *provider.InvalidError
		require.ErrorAs(t, err, &inv, "%q", id)
		assert.Equal(t, "target_id", inv.Field)
	}
	cfg := handConfig()
	cfg.TargetID = "web/eu-west-1 (blue)"
	s, err := sim.New(cfg)
	require.NoError(t, err)
	lim, err := ratelimit.New(ratelimit.Config{})
	require.NoError(t, err)
	_, err = s.Run(t.Context(), hand(), sim.Policy{Name: "p", Strategy: &fixed{desired: 3}, Limiter: lim})
	require.NoError(t, err)
}

// svgLines returns the points of the SVG chart's lines drawn in the
// color of plotutil.Color(i), in order (the legend's sample included).
func svgLines(t *testing.T, svg string, i int) [][][2]float64 {
	t.Helper()
	r, g, b, _ := plotutil.Color(i).RGBA()
	color := fmt.Sprintf("stroke:#%02X%02X%02X", r>>8, g>>8, b>>8)
	var lines [][][2]float64
	for _, m := range regexp.MustCompile(`<path d="([^"]*)" style="([^"]*)"`).FindAllStringSubmatch(svg, -1) {
		if !strings.Contains(m[2], color) {
			continue
		}
		var line [][2]float64
		for _, p := range regexp.MustCompile(`[ML]([-\d.]+),([-\d.]+)`).FindAllStringSubmatch(m[1], -1) {
			x, err := strconv.ParseFloat(p[1], 64)
			require.NoError(t, err)
			y, err := strconv.ParseFloat(p[2], 64)
			require.NoError(t, err)
			line = append(line, [2]float64{x, y})
		}
		lines = append(lines, line)
	}
	return lines
}

// TestWriteSVGDrawsTheLastStep: the chart draws every step as long as it
// lasts, the last one too: a capacity is a level held for the step. The
// line ended at the last step's start, so the last step's capacity (the
// peak of the hand trace) was a vertical tick at the right edge, and a
// replay of one step drew no line at all, only its legend.
func TestWriteSVGDrawsTheLastStep(t *testing.T) {
	t.Parallel()
	cfg := handConfig()
	cfg.From = time.Time{}
	s, err := sim.New(cfg)
	require.NoError(t, err)
	chart := func(d provider.Series) string {
		rep, err := s.Run(t.Context(), d)
		require.NoError(t, err)
		var svg bytes.Buffer
		require.NoError(t, rep.WriteSVG(&svg, time.Time{}, time.Time{}, 0, 0))
		return svg.String()
	}
	one := chart(provider.Series{Metric: provider.MetricRequests, Start: start, Step: time.Hour, Values: []float64{30}})
	lines := svgLines(t, one, 0) // the oracle's
	require.Len(t, lines, 2, "the oracle's line and its legend's sample")
	data := lines[0]
	require.GreaterOrEqual(t, len(data), 2, "%v", data)
	assert.Greater(t, data[len(data)-1][0], data[0][0], "the step is drawn across its hour: %v", data)
	for _, p := range data {
		assert.InDelta(t, data[0][1], p[1], 1e-9, "at one level: %v", data)
	}

	hand := chart(hand()) // the oracle: 1, 1, 3, 3, 1, 5
	lines = svgLines(t, hand, 0)
	require.Len(t, lines, 2)
	data = slices.Compact(lines[0]) // a step line repeats its corners
	n := len(data)
	require.GreaterOrEqual(t, n, 4, "%v", data)
	assert.InDelta(t, data[n-2][1], data[n-1][1], 1e-9, "the last step is a level, not a tick: %v", data)
	assert.InDelta(t, data[n-3][0], data[n-2][0], 1e-9, "the rise to 5 at the last step's start: %v", data)
	assert.NotEqual(t, data[n-3][1], data[n-2][1], "%v", data)
	// The steps are equally wide: the last as wide as the first.
	assert.InDelta(t, data[1][0]-data[0][0], data[n-1][0]-data[n-2][0], 0.02, "%v", data)
}

// TestRunPolicyWithSafetyEngine: a *safety.Engine as the Gate, whose
// Evaluate returns a refusal as a *safety.BlockedError (scaling.Gate's
// contract): a change a rule blocks is not made and the replay goes on,
// as with a gate that refuses without an error; a rule that fails stops
// it. The simulator took every error for a failure, so the first scale
// in the rule blocked stopped the replay with "blocked".
func TestRunPolicyWithSafetyEngine(t *testing.T) {
	t.Parallel()
	s, err := sim.New(handConfig())
	require.NoError(t, err)
	follow := scaling.StrategyFunc(func(_ context.Context, st scaling.State) (scaling.Recommendation, error) {
		ser, _ := st.Series(provider.MetricRequests)
		spec := st.Target.Capacity.CapacitySpec
		spec.Desired = int(math.Ceil(ser.Values[len(ser.Values)-1] / 10))
		return scaling.Recommendation{Capacity: spec, Proposal: spec.Desired}, nil
	})
	noScaleInRule := safety.RuleFunc(func(_ context.Context, p safety.Proposal) (safety.Result, error) {
		if p.Action == safety.ActionScaleIn {
			return safety.Result{Outcome: safety.Block, Risk: safety.RiskHigh, Reason: "no scale in"}, nil
		}
		return safety.Result{}, nil
	})
	gate, err := safety.New(safety.Config{}, []safety.Rule{noScaleInRule})
	require.NoError(t, err)
	rep, err := s.Run(t.Context(), hand(), sim.Policy{Name: "gated", Strategy: follow, Gate: gate})
	require.NoError(t, err, "a refusal is no failure")
	r, _ := rep.Result("gated")
	actual, _, _ := actualsOf(r)
	assert.Equal(t, []int{1, 1, 3, 3, 3}, actual, "the scale in from 3 to 1 is refused")

	boom := errors.New("rule failed")
	failing := safety.RuleFunc(func(context.Context, safety.Proposal) (safety.Result, error) { return safety.Result{}, boom })
	gate, err = safety.New(safety.Config{}, []safety.Rule{failing})
	require.NoError(t, err)
	_, err = s.Run(t.Context(), hand(), sim.Policy{Name: "gated", Strategy: follow, Gate: gate})
	require.ErrorIs(t, err, safety.ErrRuleFailed, "a rule that fails stops the replay (fail closed)")
}

// TestWriteSVGWithoutAStepLength: a report whose Step is 0 (one decoded
// from JSON without it) has no step length to draw the last step across:
// the line ends at the last step's start, as the steps give it, with no
// point added there (a segment of no length).
func TestWriteSVGWithoutAStepLength(t *testing.T) {
	t.Parallel()
	cfg := handConfig()
	cfg.From = time.Time{}
	s, err := sim.New(cfg)
	require.NoError(t, err)
	rep, err := s.Run(t.Context(), hand())
	require.NoError(t, err)
	rep.Step = 0
	var svg bytes.Buffer
	require.NoError(t, rep.WriteSVG(&svg, time.Time{}, time.Time{}, 0, 0))
	lines := svgLines(t, svg.String(), 0) // the oracle's
	require.Len(t, lines, 2, "the oracle's line and its legend's sample")
	data := lines[0]
	n := len(data)
	require.GreaterOrEqual(t, n, 2, "%v", data)
	assert.NotEqual(t, data[n-2], data[n-1], "the line ends with the rise to the last step's capacity: %v", data)
	assert.InDelta(t, data[n-2][0], data[n-1][0], 1e-9, "at the last step's start: %v", data)
}

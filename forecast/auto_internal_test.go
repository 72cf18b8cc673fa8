package forecast

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
)

// TestAutoPlanDefaults pins how Auto resolves its defaults for a series
// of n values: the horizon is the shortest period, at most 48 (24 without
// a period); the validation window max(n/4, 2·horizon), which must leave
// at least one value to fit on.
func TestAutoPlanDefaults(t *testing.T) {
	t.Parallel()
	y := synthetic(1000, 3)
	for _, tt := range []struct {
		name         string
		cfg          AutoConfig
		n            int
		periods      []int
		horizon, fit int // fit: t0, the values fitted before the validation window
	}{
		{"daily and weekly", AutoConfig{Periods: []int{168, 24}}, 1000, []int{24, 168}, 24, 750},
		{"a long period: 48 at most", AutoConfig{Periods: []int{96}}, 1000, []int{96}, 48, 750},
		{"a period of 48", AutoConfig{Periods: []int{48}}, 1000, []int{48}, 48, 750},
		{"short: two horizons", AutoConfig{Periods: []int{24}}, 100, []int{24}, 24, 52},
		{"one value left to fit", AutoConfig{Periods: []int{24}}, 49, []int{24}, 24, 1},
		{"configured", AutoConfig{Periods: []int{24}, Horizon: 6, Validation: 10}, 1000, []int{24}, 6, 990},
		{"a period of 1", AutoConfig{Periods: []int{1}}, 1000, []int{1}, 1, 750},
	} {
		a, err := NewAuto(tt.cfg)
		require.NoError(t, err, tt.name)
		p, err := a.plan(y[:tt.n])
		require.NoError(t, err, tt.name)
		assert.Equal(t, tt.periods, p.periods, tt.name)
		assert.Equal(t, tt.horizon, p.H, tt.name)
		assert.Equal(t, tt.fit, p.t0, tt.name)
	}
	a, err := NewAuto(AutoConfig{Periods: []int{24}})
	require.NoError(t, err)
	_, err = a.plan(y[:48])
	require.ErrorIs(t, err, ErrInsufficientData, "a validation window of 48 leaves nothing to fit on 48 values")
	require.ErrorContains(t, err, "has 48 values, needs at least 49")
	// The largest horizon or validation window is too long for any y, an
	// error (twice the horizon overflowed: a negative window, and Fit
	// panicked; the window's need overflowed to a negative count).
	for _, cfg := range []AutoConfig{
		{Periods: []int{24}, Horizon: math.MaxInt}, {Periods: []int{24}, Horizon: math.MaxInt/2 + 1}, {Periods: []int{24}, Horizon: 1 << 40},
	} {
		a, err := NewAuto(cfg)
		require.NoError(t, err)
		require.ErrorIs(t, a.Fit(y[:500]), ErrInsufficientData, "horizon %d", cfg.Horizon)
	}
	// A horizon longer than y needs 2·H + 1 values, not 2·len(y) + 1 (the
	// horizon clamped to y for the overflow): 1001 values would not do.
	for _, tt := range []struct{ h, need int }{{1000, 2001}, {math.MaxInt, math.MaxInt}} {
		a, err := NewAuto(AutoConfig{Periods: []int{24}, Horizon: tt.h})
		require.NoError(t, err)
		_, err = a.plan(y[:500])
		require.ErrorContains(t, err, fmt.Sprintf("has 500 values, needs at least %d", tt.need), "horizon %d", tt.h)
	}
	a, err = NewAuto(AutoConfig{Periods: []int{24}, Validation: math.MaxInt})
	require.NoError(t, err)
	_, err = a.plan(y[:500])
	require.ErrorIs(t, err, ErrInsufficientData)
	require.ErrorContains(t, err, fmt.Sprintf("has 500 values, needs at least %d", math.MaxInt))

	// Without a period (a concave trend has none) the horizon is 24.
	trend := make([]float64, 200)
	for i := range trend {
		trend[i] = math.Sqrt(float64(i))
	}
	a, err = NewAuto(AutoConfig{})
	require.NoError(t, err)
	p, err := a.plan(trend)
	require.NoError(t, err)
	assert.Empty(t, p.periods)
	assert.Equal(t, 24, p.H)
	assert.Equal(t, 150, p.t0)

	_, err = NewAuto(AutoConfig{Periods: []int{0}})
	require.Error(t, err, "a period of 0")
}

// TestAutoCombinesTwoCandidates pins that two scored candidates are
// enough for Auto to score their combinations too (and NoCombinations
// turns that off).
func TestAutoCombinesTwoCandidates(t *testing.T) {
	t.Parallel()
	y := synthetic(600, 4)
	two := []Spec{{Kind: KindSeasonalNaive, Period: 24}, {Kind: KindHoltWinters, Period: 24}}
	for _, noComb := range []bool{false, true} {
		a, err := NewAuto(AutoConfig{Periods: []int{24}, Candidates: two, NoCombinations: noComb})
		require.NoError(t, err)
		require.NoError(t, a.Fit(y))
		if noComb {
			assert.Len(t, a.Scores(), 2)
		} else {
			assert.Greater(t, len(a.Scores()), 2, "the two candidates' combinations are scored")
		}
	}
}

// TestAutoSkipsMultiplicativeOnZeros pins that a multiplicative season is
// skipped, with the reason, on a series with a value of 0 (it divides by
// the level), and scored on one whose values are all above 0.
func TestAutoSkipsMultiplicativeOnZeros(t *testing.T) {
	t.Parallel()
	y := synthetic(600, 5)
	mult := Spec{Kind: KindHoltWinters, Period: 24, Multiplicative: true}
	cands := []Spec{{Kind: KindSeasonalNaive, Period: 24}, mult}
	for _, zero := range []bool{false, true} {
		z := slices.Clone(y)
		if zero {
			z[100] = 0
		}
		a, err := NewAuto(AutoConfig{Periods: []int{24}, Candidates: cands, NoCombinations: true})
		require.NoError(t, err)
		require.NoError(t, a.Fit(z))
		var found *Score
		for _, s := range a.Scores() {
			if s.Spec.Multiplicative {
				found = &s
			}
		}
		require.NotNil(t, found, "the multiplicative candidate is in the table")
		if zero {
			assert.Equal(t, "multiplicative season needs data > 0", found.Skipped)
		} else {
			assert.Empty(t, found.Skipped)
			assert.False(t, math.IsNaN(found.MASE), "scored")
		}
	}
}

// TestAutoScoresAndFitWindow pins two figures of Auto's score table: a
// candidate's MASE is its MAE over the seasonal scale of the part fitted
// before validation, and a candidate is scored when exactly the values it
// needs precede the validation window (a seasonal naive of period 24
// needs 24), skipped with one fewer.
func TestAutoScoresAndFitWindow(t *testing.T) {
	t.Parallel()
	y := synthetic(600, 6)
	a, err := NewAuto(AutoConfig{Periods: []int{24}, Candidates: []Spec{{Kind: KindSeasonalNaive, Period: 24}, {Kind: KindHoltWinters, Period: 24}}})
	require.NoError(t, err)
	require.NoError(t, a.Fit(y))
	scale := seasonalScale(y[:450], []int{24})
	require.Len(t, a.Scores(), 3, "two candidates and their mean")
	for _, s := range a.Scores() {
		require.Empty(t, s.Skipped, s.Name)
		assert.InDelta(t, s.MAE/scale, s.MASE, 1e-12, s.Name)
	}

	naive := Spec{Kind: KindSeasonalNaive, Period: 24}
	m, err := naive.New(IntervalOptions{})
	require.NoError(t, err)
	need := cvNeed(m.(core))
	require.Equal(t, 24, need)
	for _, tt := range []struct {
		before  int
		skipped bool
	}{{need, false}, {need - 1, true}} {
		p := autoPlan{periods: []int{24}, specs: []Spec{naive}, H: 24, t0: tt.before}
		cands, err := p.validate(t.Context(), y[:tt.before+48], IntervalOptions{})
		require.NoError(t, err)
		require.Len(t, cands, 1)
		assert.Equal(t, tt.skipped, cands[0].skip != "", "%d values before the window: %q", tt.before, cands[0].skip)
	}
}

// naivePinball is sequentialPinball written plainly: at each origin i and
// horizon h, the errors known there are those of the origins j (among the
// last pitOrigins) with j + h + 1 ≤ i, recomputed and sorted from scratch.
func naivePinball(preds, y []float64, t0, H int, floor float64) float64 {
	r := residuals{Floor: floor}
	origins := len(preds) / H
	first := max(0, origins-pitOrigins)
	var loss float64
	for h := range H {
		for i := first; i < origins; i++ {
			var past []float64
			for j := first; j+h+1 <= i; j++ {
				if p := preds[j*H+h]; !math.IsNaN(p) {
					past = append(past, r.scaled(y[t0+j+h]-p, p))
				}
			}
			slices.Sort(past)
			p := preds[i*H+h]
			if len(past) < minPast || math.IsNaN(p) {
				continue
			}
			for _, tau := range scoredLevels {
				q := conformalQuantile(past, tau)
				if floor > 0 {
					q *= math.Abs(p) + floor
				}
				d := y[t0+i+h] - (p + q)
				if d >= 0 {
					loss += tau * d
				} else {
					loss += (tau - 1) * d
				}
			}
		}
	}
	return loss
}

// TestSequentialPinballAsWritten compares sequentialPinball with
// naivePinball on random predictions with gaps, for absolute and
// relative errors, with fewer and more origins than pitOrigins; and pins
// mergeResiduals on tables of different lengths.
func TestSequentialPinballAsWritten(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 8))
	for _, tt := range []struct{ origins, H int }{{30, 3}, {21, 1}, {20, 2}, {450, 2}} {
		t0 := 5
		y := make([]float64, t0+tt.origins+tt.H)
		for i := range y {
			y[i] = 100 + 20*r.NormFloat64()
		}
		preds := make([]float64, tt.origins*tt.H)
		for i := range preds {
			preds[i] = 100 + 10*r.NormFloat64()
			if r.IntN(10) == 0 {
				preds[i] = math.NaN()
			}
		}
		for _, floor := range []float64{0, 3} {
			want := naivePinball(preds, y, t0, tt.H, floor)
			got := sequentialPinball(preds, y, t0, tt.H, floor)
			assert.InDelta(t, want, got, 1e-9*math.Max(1, want), "%d origins, H %d, floor %v", tt.origins, tt.H, floor)
		}
	}

	a := residuals{Sorted: [][]float64{{3, 1}, {5}}, Floor: 2}
	b := residuals{Sorted: [][]float64{{2}}}
	m := mergeResiduals(a, b)
	assert.Equal(t, [][]float64{{1, 2, 3}, {5}}, m.Sorted)
	assert.InDelta(t, 2, m.Floor, 0)
	m = mergeResiduals(b, a)
	assert.Equal(t, [][]float64{{1, 2, 3}, {5}}, m.Sorted)
}

// TestSeasonalScale pins MASE's denominator: the seasonal naive MAE at
// the shortest period (1 without one), NaN for a series it cannot scale.
func TestSeasonalScale(t *testing.T) {
	t.Parallel()
	y := synthetic(300, 9)
	assert.InDelta(t, Scale(y, 24), seasonalScale(y, []int{24, 168}), 0)
	assert.InDelta(t, Scale(y, 1), seasonalScale(y, nil), 0)
	assert.NotEqual(t, Scale(y, 1), Scale(y, 24))
	assert.True(t, math.IsNaN(seasonalScale(make([]float64, 50), []int{24})), "constant")
}

// TestCheckBacktestEdges pins Backtest's argument checks at their edges:
// a horizon and a seasonal period of 1, a window and a stride of 0 (the
// defaults) are accepted; quantiles must be strictly inside (0, 1).
func TestCheckBacktestEdges(t *testing.T) {
	t.Parallel()
	y := synthetic(100, 1)
	newModel := func() (Model, error) { return NewSeasonalNaive(1) }
	require.NoError(t, checkBacktest(y, newModel, BacktestOptions{Horizon: 1, SeasonalPeriod: 1, Quantiles: []float64{math.Nextafter(0, 1), math.Nextafter(1, 0)}}))
	for _, tt := range []struct {
		opts  BacktestOptions
		field string
	}{
		{BacktestOptions{Horizon: 0, SeasonalPeriod: 1}, "horizon"},
		{BacktestOptions{Horizon: 1, SeasonalPeriod: 0}, "seasonal_period"},
		{BacktestOptions{Horizon: 1, SeasonalPeriod: 1, Window: -1}, "window"},
		{BacktestOptions{Horizon: 1, SeasonalPeriod: 1, Stride: -1}, "stride"},
		{BacktestOptions{Horizon: 1, SeasonalPeriod: 1, Quantiles: []float64{0.5, 0}}, "quantiles[1]"},
		{BacktestOptions{Horizon: 1, SeasonalPeriod: 1, Quantiles: []float64{1}}, "quantiles[0]"},
	} {
		var ie *provider.InvalidError
		require.ErrorAs(t, checkBacktest(y, newModel, tt.opts), &ie, tt.field)
		assert.Equal(t, tt.field, ie.Field)
	}
}

// TestBacktestShortLastOrigin pins that an origin closer to the end than
// the horizon scores the steps that remain.
func TestBacktestShortLastOrigin(t *testing.T) {
	t.Parallel()
	y := synthetic(200, 2)
	newModel := func() (Model, error) { return NewSeasonalNaive(24) }
	res, err := Backtest(t.Context(), y, newModel, BacktestOptions{Horizon: 5, SeasonalPeriod: 24, Origins: []int{100, 198}, Quantiles: []float64{0.9}})
	require.NoError(t, err)
	require.Len(t, res.Origins, 2)
	assert.Equal(t, 5, res.Origins[0].Steps)
	assert.Equal(t, 2, res.Origins[1].Steps)
}

// TestScoreOrigin pins one origin's scores: the pinball loss per quantile
// summed over the steps with data and divided by their number and the
// scale, and an actual value equal to the quantile forecast counted as
// below it.
func TestScoreOrigin(t *testing.T) {
	t.Parallel()
	actual := []float64{10, 20, math.NaN(), 30}
	point := []float64{12, 18, 0, 33}
	bands := [][]float64{{10, 25, 0, 28}, {15, 20, 0, 40}}
	or, ok := scoreOrigin(7, actual, point, bands, []float64{0.5, 0.9}, 2)
	require.True(t, ok)
	assert.Equal(t, 7, or.Origin)
	assert.Equal(t, 3, or.Steps)
	// τ 0.5: d = 0, −5, 2 → 0 + 2.5 + 1; τ 0.9: d = −5, 0, −10 → 0.5 + 0 + 1.
	assert.InDelta(t, 3.5/6, or.Pinball[0], 1e-12)
	assert.InDelta(t, 1.5/6, or.Pinball[1], 1e-12)
	assert.Equal(t, []int{2, 3}, or.Below)
	assert.InDelta(t, 7.0/6, or.MASE, 1e-12, "mean |error| 7/3 over the scale 2")
	_, ok = scoreOrigin(0, []float64{math.NaN()}, []float64{1}, [][]float64{{1}}, []float64{0.5}, 1)
	assert.False(t, ok, "no step with data")
}

// TestEnsembleCombines pins the ensembles' point forecasts against their
// members' own: the median of two members is their mean, of three the
// middle one; and the mean |error| over every horizon that
// inverse_error weighs members by.
func TestEnsembleCombines(t *testing.T) {
	t.Parallel()
	y := synthetic(24*20, 11)
	member := func(p int) Model {
		m, err := NewSeasonalNaive(p)
		require.NoError(t, err)
		return m
	}
	fc := func(m Model) []float64 {
		require.NoError(t, m.Fit(y))
		out := make([]float64, 6)
		require.NoError(t, m.Forecast(out, nil, nil))
		return out
	}
	a, b, c := fc(member(24)), fc(member(48)), fc(member(168))
	med2, err := NewEnsemble(CombineMedian, member(24), member(48))
	require.NoError(t, err)
	got := fc(med2)
	for h := range got {
		assert.InDelta(t, (a[h]+b[h])/2, got[h], 1e-9, "median of two at %d", h)
	}
	med3, err := NewEnsemble(CombineMedian, member(24), member(48), member(168))
	require.NoError(t, err)
	got = fc(med3)
	for h := range got {
		v := []float64{a[h], b[h], c[h]}
		slices.Sort(v)
		assert.InDelta(t, v[1], got[h], 1e-9, "median of three at %d", h)
	}

	// The replay's mean |error| in the series' unit (base.mae, which
	// replaced meanAbsResidual, the mean of the stored, by default
	// relative, errors): seasonal naive 24 replayed from origin
	// t0 = max(24, 480 − 400 − 48 + 1) = 33 forecasts y[t+h] as
	// y[t + h mod 24 − 24].
	sn := member(24).(*SeasonalNaive)
	require.NoError(t, sn.Fit(y))
	var sum float64
	n := 0
	for t0 := 33; t0 < len(y); t0++ {
		for h := 0; h < 48 && t0+h < len(y); h++ {
			sum += math.Abs(y[t0+h] - y[t0+h%24-24])
			n++
		}
	}
	assert.InDelta(t, sum/float64(n), sn.b.mae, 1e-9)
	f, err := NewFunc(1, func(_, dst []float64) { clear(dst) }, IntervalOptions{})
	require.NoError(t, err)
	f.b.mae = 1
	_ = replayResiduals(f, []float64{1}, IntervalOptions{}.withDefaults(), 0)
	assert.True(t, math.IsNaN(f.b.mae), "no origin to replay: no error")
}

// TestFuncModelEdges pins a Func model's window bounds (1 and 2^22 steps)
// and that Fit needs window+1 values.
func TestFuncModelEdges(t *testing.T) {
	t.Parallel()
	last := func(w []float64, dst []float64) {
		for i := range dst {
			dst[i] = w[len(w)-1]
		}
	}
	_, err := NewFunc(1<<22, last, IntervalOptions{})
	require.NoError(t, err)
	_, err = NewFunc(1<<22+1, last, IntervalOptions{})
	require.Error(t, err)
	_, err = NewFunc(0, last, IntervalOptions{})
	require.Error(t, err)
	m, err := NewFunc(3, last, IntervalOptions{})
	require.NoError(t, err)
	require.ErrorIs(t, m.Fit([]float64{1, 2, 3}), ErrInsufficientData, "3 values for a window of 3")
	require.NoError(t, m.Fit([]float64{1, 2, 3, 4}))
}

// TestPrepareMaxGapDuration pins the gap policy's duration form: 15
// minutes of 5-minute steps bridge 3 missing steps, not 4; a negative
// MaxGap bridges none.
func TestPrepareMaxGapDuration(t *testing.T) {
	t.Parallel()
	series := func(gaps int) provider.Series {
		v := []float64{1, 2, 3}
		for range gaps {
			v = append(v, math.NaN())
		}
		v = append(v, 7, 8)
		return provider.Series{Metric: provider.MetricRequests, Start: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), Step: 5 * time.Minute, Values: v}
	}
	p := GapPolicy{MaxGapDuration: 15 * time.Minute}
	y, err := Prepare(series(3), p)
	require.NoError(t, err)
	assert.Equal(t, []float64{1, 2, 3, 4, 5, 6, 7, 8}, y)
	_, err = Prepare(series(4), p)
	require.ErrorIs(t, err, ErrLongGap)
	_, err = Prepare(series(1), GapPolicy{MaxGap: -1})
	require.ErrorIs(t, err, ErrLongGap)

	// A negative duration is an error naming it: it was ignored, and the
	// default of 3 steps bridged a gap the caller meant to refuse.
	_, err = Prepare(series(3), GapPolicy{MaxGapDuration: -time.Minute})
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "gaps.max_gap_duration", ie.Field)
}

// TestHarmonicConfigEdges pins the harmonic model's validation at its
// edges: periods in [2, 2^20], harmonics in [1, period/2], at most
// maxHarmonicColumns columns with the intercept and the trend; the default
// of min(period/2, 10) harmonics; and the values its fit needs: two of the
// longest period, or the columns plus two.
func TestHarmonicConfigEdges(t *testing.T) {
	t.Parallel()
	ok := []HarmonicConfig{
		{Periods: []int{2}},
		{Periods: []int{1 << 20}, Harmonics: []int{1}},
		{Periods: []int{24}, Harmonics: []int{12}},
		{Periods: []int{200}, Harmonics: []int{(maxHarmonicColumns - 2) / 2}},
	}
	for _, c := range ok {
		require.NoError(t, c.Validate(), "%+v", c)
	}
	for _, tt := range []struct {
		c     HarmonicConfig
		field string
	}{
		{HarmonicConfig{Periods: []int{1}}, "periods[0]"},
		{HarmonicConfig{Periods: []int{1<<20 + 1}}, "periods[0]"},
		{HarmonicConfig{Periods: []int{24}, Harmonics: []int{13}}, "harmonics[0]"},
		{HarmonicConfig{Periods: []int{24}, Harmonics: []int{0}}, "harmonics[0]"},
		{HarmonicConfig{Periods: []int{200}, Harmonics: []int{(maxHarmonicColumns-2)/2 + 1}}, "harmonics"},
	} {
		var ie *provider.InvalidError
		require.ErrorAs(t, tt.c.Validate(), &ie, "%+v", tt.c)
		assert.Equal(t, tt.field, ie.Field)
	}
	m, err := NewHarmonic(HarmonicConfig{Periods: []int{24, 6}})
	require.NoError(t, err)
	assert.Equal(t, []int{10, 3}, m.cfg.Harmonics, "min(period/2, 10)")
	assert.Equal(t, 48, m.need(), "two of the longest period")
	wide, err := NewHarmonic(HarmonicConfig{Periods: []int{7, 11, 13}, Harmonics: []int{3, 5, 6}})
	require.NoError(t, err)
	assert.Equal(t, 2+2*14+2, wide.need(), "the columns plus two (32 > 26)")
}

// TestHarmonicOrdersDropDuplicates pins that a later period's harmonic at
// a frequency an earlier period already has is dropped, up to and
// including the earlier period's last harmonic: with one daily harmonic,
// the weekly 7th (= daily 1st) goes, the 14th (= daily 2nd) stays.
func TestHarmonicOrdersDropDuplicates(t *testing.T) {
	t.Parallel()
	got := harmonicOrders([]int{24, 168}, []int{1, 14})
	assert.Equal(t, [][]int{{1}, {1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14}}, got)
}

// TestHarmonicRefitMatchesFresh pins that a harmonic model fitted again on
// a longer series (its XᵀX cache then stale) forecasts as one fitted once.
func TestHarmonicRefitMatchesFresh(t *testing.T) {
	t.Parallel()
	y := synthetic(24*30, 12)
	cfg := HarmonicConfig{Periods: []int{24, 168}, Harmonics: []int{4, 3}}
	reused, err := NewHarmonic(cfg)
	require.NoError(t, err)
	require.NoError(t, reused.Fit(y[:24*25]))
	require.NoError(t, reused.Fit(y))
	fresh, err := NewHarmonic(cfg)
	require.NoError(t, err)
	require.NoError(t, fresh.Fit(y))
	a, b := make([]float64, 12), make([]float64, 12)
	require.NoError(t, reused.Forecast(a, nil, nil))
	require.NoError(t, fresh.Forecast(b, nil, nil))
	for h := range a {
		assert.InDelta(t, b[h], a[h], 1e-9*math.Abs(b[h]), "h=%d", h)
	}
}

// TestBacktestOriginBounds pins which explicit origins Backtest accepts:
// one with exactly Window steps before it, not one step earlier; none at
// or past the end of y; and the harmonic model's message names the
// largest order a period allows.
func TestBacktestOriginBounds(t *testing.T) {
	t.Parallel()
	y := synthetic(100, 3)
	newModel := func() (Model, error) { return NewSeasonalNaive(4) }
	opts := func(origins ...int) BacktestOptions {
		return BacktestOptions{Horizon: 2, SeasonalPeriod: 4, Window: 20, Origins: origins}
	}
	_, err := Backtest(t.Context(), y, newModel, opts(20))
	require.NoError(t, err, "exactly Window steps before the origin")
	for _, bad := range []int{19, 100, 101} {
		var ie *provider.InvalidError
		require.ErrorAs(t, func() error { _, err := Backtest(t.Context(), y, newModel, opts(bad)); return err }(), &ie, "origin %d", bad)
		assert.Equal(t, "origins[0]", ie.Field)
	}
	_, err = Backtest(t.Context(), y, newModel, opts(99))
	require.NoError(t, err, "the last step")
	require.ErrorContains(t, HarmonicConfig{Periods: []int{24}, Harmonics: []int{13}}.Validate(), "must be in [1, 12] (period/2)")
}

// TestPredMAE pins the validation MAE: the mean |y − prediction| over
// every origin and horizon whose prediction exists and whose step is in
// y (predictions laid out origin by origin, H per origin).
func TestPredMAE(t *testing.T) {
	t.Parallel()
	y := []float64{0, 0, 10, 20, 30}
	// t0 = 2, H = 2: origin 2 predicts steps 2 and 3, origin 3 steps 3
	// and 4, origin 4 steps 4 and 5 (past the end: NaN).
	preds := []float64{11, 18, 21, math.NaN(), 27, math.NaN()}
	// |10−11| + |20−18| + |20−21| + |30−27| = 7 over 4.
	assert.InDelta(t, 7.0/4, predMAE(preds, y, 2, 2), 1e-12)
	assert.True(t, math.IsNaN(predMAE([]float64{math.NaN()}, y, 4, 1)))
}

// combinePreds combines the candidates' validation predictions step by
// step: the mean of two or three, the median of three (the middle one) or
// four (the mean of the middle two); a NaN (a horizon past the end) stays
// NaN.
func TestCombinePreds(t *testing.T) {
	t.Parallel()
	cand := func(p ...float64) *candidate { return &candidate{preds: p} }
	a, b, c, d := cand(1, 10, math.NaN()), cand(4, -2, math.NaN()), cand(10, 3, math.NaN()), cand(0, 7, math.NaN())
	tests := []struct {
		rule Combine
		cs   []*candidate
		want []float64
	}{
		{CombineMean, []*candidate{a, b}, []float64{2.5, 4}},
		{CombineMean, []*candidate{a, b, c}, []float64{5, 11.0 / 3}},
		{CombineMedian, []*candidate{a, b, c}, []float64{4, 3}},
		{CombineMedian, []*candidate{a, b, c, d}, []float64{2.5, 5}},
	}
	for _, tt := range tests {
		got := combinePreds(tt.cs, tt.rule)
		require.Len(t, got, 3)
		assert.InDeltaSlice(t, tt.want, got[:2], 1e-12, "%s of %d", tt.rule, len(tt.cs))
		assert.True(t, math.IsNaN(got[2]), "%s of %d: NaN stays NaN", tt.rule, len(tt.cs))
	}
	assert.Equal(t, []float64{1, 10, math.NaN()}[:2], a.preds[:2], "the candidates' predictions are not reordered")
}

// poolResiduals widens the refitted model's in-sample replay errors so
// that their 90th percentile of |error| reaches the out-of-sample one (at
// most threefold; never narrowing them, and not at all when they are all
// zero), then pools both tables with the validation table's floor and
// levels.
func TestPoolResiduals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		cv, replay []float64
		want       []float64
	}{
		{"widened twofold", []float64{-4, 4}, []float64{-2, 1, 2}, []float64{-4, -4, 2, 4, 4}},
		{"widened at most threefold", []float64{9}, []float64{1, -1}, []float64{-3, 3, 9}},
		{"never narrowed", []float64{1}, []float64{2, -2}, []float64{-2, 1, 2}},
		{"zero replay errors stay zero", []float64{1}, []float64{0, 0}, []float64{0, 0, 1}},
	}
	for _, tt := range tests {
		b := &base{Residuals: residuals{Sorted: [][]float64{tt.replay}, Floor: 1}}
		poolResiduals(b, residuals{Sorted: [][]float64{tt.cv}, Floor: 5, Levels: []float64{0, 0.4, 1}})
		assert.Equal(t, [][]float64{tt.want}, b.Residuals.Sorted, tt.name)
		assert.InDelta(t, 5.0, b.Residuals.Floor, 0, tt.name)
		assert.Equal(t, []float64{0, 0.4, 1}, b.Residuals.Levels, tt.name)
	}
}

// predResiduals turns validation predictions (origins × H, NaN past the
// end) into a table of sorted errors per horizon, scaled by the floor, and
// stops at the first horizon no origin reached.
func TestPredResiduals(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	y := []float64{100, 100, 10, 20, 30}
	// t0 = 2, H = 4: three origins predict from steps 2, 3 and 4.
	preds := []float64{
		12, 18, 33, nan,
		19, 27, nan, nan,
		31, nan, nan, nan,
	}
	r := predResiduals(preds, y, 2, 4, 0, false)
	assert.Equal(t, [][]float64{{-2, -1, 1}, {2, 3}, {-3}}, r.Sorted, "absolute errors, the empty fourth horizon dropped")
	assert.Nil(t, r.Levels, "no recalibration asked")
	r = predResiduals(preds, y, 2, 4, 10, false)
	assert.InDelta(t, 10.0, r.Floor, 0)
	assert.InDeltaSlice(t, []float64{-2.0 / 22, -1.0 / 41, 1.0 / 29}, r.Sorted[0], 1e-12, "errors over |ŷ| + floor")
}

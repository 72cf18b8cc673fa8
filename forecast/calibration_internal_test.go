package forecast

import (
	"cmp"
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
)

// errorsInOrder returns H horizons of n errors each, in origin order, with
// standard deviation sd(i) at origin i.
func errorsInOrder(H, n int, seed uint64, sd func(i int) float64) [][]float64 {
	r := rand.New(rand.NewPCG(seed, 3))
	errs := make([][]float64, H)
	for h := range errs {
		errs[h] = make([]float64, n)
		for i := range errs[h] {
			errs[h][i] = sd(i) * r.NormFloat64()
		}
	}
	return errs
}

func TestRecalibrate(t *testing.T) {
	t.Parallel()
	t.Run("exchangeable errors give about the identity", func(t *testing.T) {
		t.Parallel()
		// 48 horizons: the transforms of every 4th are computed.
		levels := recalibrate(errorsInOrder(48, 400, 1, func(int) float64 { return 1 }))
		require.Len(t, levels, levelGrid)
		assert.Zero(t, levels[0])
		assert.InDelta(t, 1.0, levels[levelGrid-1], 0)
		for k := 1; k < levelGrid-1; k++ {
			require.GreaterOrEqual(t, levels[k], levels[k-1], "non-decreasing at %d", k)
			assert.InDelta(t, float64(k)/100, levels[k], 0.03, "level %d %%", k)
		}
	})
	t.Run("growing spread widens both tails", func(t *testing.T) {
		t.Parallel()
		// The spread triples over the window: later errors fall in the
		// tails of the earlier ones more often than nominal.
		levels := recalibrate(errorsInOrder(8, 400, 2, func(i int) float64 { return 1 + 2*float64(i)/400 }))
		require.Len(t, levels, levelGrid)
		r := residuals{Levels: levels}
		assert.Greater(t, levels[90], 0.93)
		assert.Less(t, levels[5], 0.03)
		assert.Greater(t, r.level(0.9), 0.93)
		assert.Less(t, r.level(0.05), 0.03)
	})
	t.Run("too few transforms", func(t *testing.T) {
		t.Parallel()
		// One horizon of n origins: origin i knows the i before it, so
		// origins 20 … n−1 give n − 20 transforms: 40 and 47 are too few,
		// 48 are enough.
		assert.Nil(t, recalibrate(errorsInOrder(1, 60, 3, func(int) float64 { return 1 })))
		assert.Nil(t, recalibrate(errorsInOrder(1, 67, 3, func(int) float64 { return 1 })))
		assert.NotNil(t, recalibrate(errorsInOrder(1, 68, 3, func(int) float64 { return 1 })))
	})
	t.Run("ties", func(t *testing.T) {
		t.Parallel()
		// All errors equal: every transform is exactly 1/2, all in bin
		// 1000 of 2000, and level k is interpolated linearly inside it.
		errs := [][]float64{make([]float64, 200)}
		levels := recalibrate(errs)
		require.Len(t, levels, levelGrid)
		for k := 1; k < levelGrid-1; k++ {
			assert.InDelta(t, (1000+float64(k)/100)/pitBins, levels[k], 1e-15, "level %d %%", k)
		}
	})
}

// lowerBound agrees with slices.BinarySearch, ties and ends included.
func TestLowerBound(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 1))
	for n := range 60 {
		e := make([]float64, n)
		for i := range e {
			e[i] = float64(r.IntN(10))
		}
		slices.Sort(e)
		for v := -1.0; v <= 11; v += 0.5 {
			want, _ := slices.BinarySearch(e, v)
			require.Equal(t, want, lowerBound(e, v), "n=%d v=%v e=%v", n, v, e)
		}
	}
}

func TestLevel(t *testing.T) {
	t.Parallel()
	grid := func(f func(p float64) float64) []float64 {
		l := make([]float64, levelGrid)
		for k := range l {
			l[k] = f(float64(k) / float64(levelGrid-1))
		}
		return l
	}
	tests := []struct {
		name   string
		levels []float64
		tau    float64
		want   float64
	}{
		{"no table", nil, 0.9, 0.9},
		{"identity", grid(func(p float64) float64 { return p }), 0.37, 0.37},
		{"interpolated between grid points", grid(func(p float64) float64 { return math.Sqrt(p) }), 0.905, (math.Sqrt(0.9) + math.Sqrt(0.91)) / 2},
		{"upper tail widened", grid(func(p float64) float64 { return math.Min(1, p+0.03) }), 0.9, 0.93},
		{"lower tail widened", grid(func(p float64) float64 { return math.Max(0, p-0.02) }), 0.05, 0.03},
		// A table that would narrow is ignored: the split-conformal
		// quantile is kept.
		{"upper tail not narrowed", grid(func(p float64) float64 { return 0.5 + (p-0.5)/2 }), 0.9, 0.9},
		{"lower tail not narrowed", grid(func(p float64) float64 { return 0.5 + (p-0.5)/2 }), 0.1, 0.1},
		// The nominal miss rate is at most halved.
		{"upper cap", grid(func(p float64) float64 { return math.Min(1, 2*p) }), 0.9, 0.95},
		{"lower cap", grid(func(p float64) float64 { return math.Max(0, 2*p-1) }), 0.1, 0.05},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := residuals{Levels: tt.levels}
			assert.InDelta(t, tt.want, r.level(tt.tau), 1e-12)
		})
	}
}

func TestResidualsValidateLevels(t *testing.T) {
	t.Parallel()
	sorted := [][]float64{{-1, 0, 1}}
	tests := []struct {
		name    string
		levels  []float64
		wantErr string
	}{
		{"empty", nil, ""},
		{"two", []float64{0, 1}, ""},
		{"flat steps", []float64{0, 0, 0.5, 0.5, 1, 1}, ""},
		{"one", []float64{0.5}, "residuals.levels"},
		{"NaN", []float64{0, math.NaN(), 1}, "residuals.levels[1]"},
		{"negative", []float64{-0.1, 1}, "residuals.levels[0]"},
		{"above 1", []float64{0, 1.1}, "residuals.levels[1]"},
		{"decreasing", []float64{0, 0.6, 0.5, 1}, "residuals.levels[2]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := residuals{Sorted: sorted, Levels: tt.levels}
			err := r.validate()
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, provider.ErrInvalid)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

// heteroscedastic returns n hourly values with a daily cycle from about 10
// to 1,000 and errors whose spread is relative (multiplicative) or
// constant (additive), and the noiseless cycle.
func heteroscedastic(n int, multiplicative bool, seed uint64) (y, mean []float64) {
	r := rand.New(rand.NewPCG(seed, 5))
	y, mean = make([]float64, n), make([]float64, n)
	for t := range y {
		mean[t] = 505 + 495*math.Sin(2*math.Pi*float64(t)/24)
		if multiplicative {
			y[t] = mean[t] * (1 + 0.2*r.NormFloat64())
		} else {
			y[t] = mean[t] + 60*r.NormFloat64()
		}
		y[t] = math.Max(y[t], 0)
	}
	return y, mean
}

// sequentialPinball prefers level-scaled errors when the spread grows with
// the level and absolute errors when it does not.
func TestSequentialPinball(t *testing.T) {
	t.Parallel()
	const H, t0, n = 6, 200, 600
	for _, multiplicative := range []bool{true, false} {
		y, mean := heteroscedastic(n, multiplicative, 9)
		// Oracle predictions: the noiseless cycle.
		origins := n - t0
		preds := make([]float64, origins*H)
		for i := range origins {
			for h := range H {
				preds[i*H+h] = math.NaN()
				if t0+i+h < n {
					preds[i*H+h] = mean[t0+i+h]
				}
			}
		}
		abs := sequentialPinball(preds, y, t0, H, 0)
		scaled := sequentialPinball(preds, y, t0, H, floorFor(y))
		require.Positive(t, abs)
		require.Positive(t, scaled)
		if multiplicative {
			assert.Less(t, scaled, 0.9*abs, "relative spread: scaled errors are sharper")
		} else {
			assert.Less(t, abs, 0.9*scaled, "constant spread: absolute errors are sharper")
		}
	}
}

// Auto keeps the error scale that scored better on its validation window
// unless IntervalOptions.Absolute forces absolute errors.
func TestAutoChoosesErrorScale(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name           string
		multiplicative bool
		opts           IntervalOptions
		wantScaled     bool
	}{
		{"relative spread", true, IntervalOptions{}, true},
		{"constant spread", false, IntervalOptions{}, false},
		{"forced absolute", true, IntervalOptions{Absolute: true}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			y, _ := heteroscedastic(24*28, tt.multiplicative, 11)
			a, err := NewAuto(AutoConfig{Periods: []int{24}, Intervals: tt.opts})
			require.NoError(t, err)
			require.NoError(t, a.Fit(y))
			assert.Equal(t, tt.wantScaled, a.chosen.base().Residuals.Floor > 0)
		})
	}
}

// driftingSpread is a daily cycle whose noise grows fourfold over n
// steps.
func driftingSpread(n int, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 13))
	y := make([]float64, n)
	for t := range y {
		y[t] = 100 + 30*math.Sin(2*math.Pi*float64(t)/24) + (2+6*float64(t)/float64(n))*r.NormFloat64()
	}
	return y
}

// Under a growing spread the recalibrated intervals are wider than the
// plain split-conformal ones, and cover the continuation better; with
// Empirical they are the plain ones.
func TestRecalibratedIntervalsUnderDrift(t *testing.T) {
	t.Parallel()
	const n, test = 24 * 40, 24 * 10
	y := driftingSpread(n+test, 17)
	fit := func(opts IntervalOptions) *SeasonalNaive {
		m, err := NewSeasonal(SeasonalConfig{Period: 24, Seasons: 3, Intervals: opts})
		require.NoError(t, err)
		require.NoError(t, m.Fit(y[:n]))
		return m
	}
	recal, plain := fit(IntervalOptions{Absolute: true}), fit(IntervalOptions{Absolute: true, Empirical: true})
	require.NotNil(t, recal.b.Residuals.Levels)
	require.Nil(t, plain.b.Residuals.Levels)
	quantiles := []float64{0.05, 0.95}
	inside := func(m *SeasonalNaive) (share, width float64) {
		point := make([]float64, 24)
		bands := [][]float64{make([]float64, 24), make([]float64, 24)}
		in := 0
		for i := n; i < n+test; i++ {
			require.NoError(t, m.Forecast(point[:1], quantiles, [][]float64{bands[0][:1], bands[1][:1]}))
			if y[i] >= bands[0][0] && y[i] <= bands[1][0] {
				in++
			}
			width += bands[1][0] - bands[0][0]
			require.NoError(t, m.Update(y[i]))
		}
		return float64(in) / test, width / test
	}
	recalShare, recalWidth := inside(recal)
	plainShare, plainWidth := inside(plain)
	t.Logf("90%% interval one step ahead: recalibrated %.3f (width %.1f), plain %.3f (width %.1f)", recalShare, recalWidth, plainShare, plainWidth)
	assert.Greater(t, recalWidth, 1.05*plainWidth)
	assert.Greater(t, recalShare, plainShare)
}

// Sorting from the order a model's last replay left (errorOrder) must give
// the sorted errors and the recalibration table that sorting from scratch
// gives, whatever the start: the window slid with the parameters nearly
// unchanged (the insertion sort finishes it), moved so far that the
// insertion sort gives up, no overlap with the last series, ties, and a
// shorter replay than the last.
func TestSortErrorsFromOrder(t *testing.T) {
	t.Parallel()
	const H, n = 6, 413
	r := rand.New(rand.NewPCG(7, 7))
	series := make([]float64, n+500)
	for i := range series {
		series[i] = float64(i) + r.Float64() // distinct, so the shift is found by value
	}
	base := errorsInOrder(H, n+500, 8, func(int) float64 { return 1 })
	// window returns the errors of the origins from off on (len n − h at
	// horizon h), each moved by jitter·N(0, 1) drawn from r.
	window := func(r *rand.Rand, off int, jitter float64, round bool) [][]float64 {
		errs := make([][]float64, H)
		for h := range errs {
			for i := range n - h {
				v := base[h][off+i] + jitter*r.NormFloat64()
				if round {
					v = math.Round(v*2) / 2 // many ties, zeros of both signs
					if v == 0 && i%2 == 0 {
						v = math.Copysign(0, -1)
					}
				}
				errs[h] = append(errs[h], v)
			}
		}
		return errs
	}
	check := func(t *testing.T, ord *errorOrder, off int, errs [][]float64) {
		t.Helper()
		want := make([][]float64, len(errs))
		for h := range errs {
			want[h] = slices.Clone(errs[h])
		}
		wantLevels := sortErrors(want, true, nil, nil)
		gotLevels := sortErrors(errs, true, ord, series[off:off+n])
		assert.Equal(t, wantLevels, gotLevels, "levels")
		assert.Equal(t, want, errs, "sorted errors")
		for h, p := range ord.perm[:len(errs)] {
			require.Len(t, p, len(errs[h]), "horizon %d: the kept order", h)
		}
	}
	tests := []struct {
		name   string
		off    int     // the second window's offset (the first is at 0)
		jitter float64 // how far the second window's errors move
		round  bool
	}{
		{name: "slid by an hour, parameters nearly unchanged", off: 12, jitter: 1e-3},
		{name: "slid by an hour, ties and signed zeros", off: 12, jitter: 1e-3, round: true},
		{name: "same window", off: 0, jitter: 0},
		{name: "parameters moved: the insertion sort gives up", off: 12, jitter: 3},
		{name: "no overlap with the last series", off: 450, jitter: 1e-3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewPCG(9, uint64(tt.off)))
			var ord errorOrder
			check(t, &ord, 0, window(r, 0, 0, tt.round))
			check(t, &ord, tt.off, window(r, tt.off, tt.jitter, tt.round))
			// A shorter replay (fewer horizons and origins) after it.
			short := window(r, tt.off, tt.jitter, tt.round)[:3]
			for h := range short {
				short[h] = short[h][:300-h]
			}
			var want [][]float64
			for _, e := range short {
				want = append(want, slices.Clone(e))
			}
			wantLevels := sortErrors(want, true, nil, nil)
			assert.Equal(t, wantLevels, sortErrors(short, true, &ord, series[tt.off:tt.off+300]))
			assert.Equal(t, want, short)
		})
	}
	t.Run("empirical intervals: sorted, no table", func(t *testing.T) {
		t.Parallel()
		r := rand.New(rand.NewPCG(9, 1))
		var ord errorOrder
		for _, off := range []int{0, 12} {
			errs := window(r, off, 1e-3, false)
			var want [][]float64
			for _, e := range errs {
				want = append(want, slices.Clone(e))
				slices.Sort(want[len(want)-1])
			}
			assert.Nil(t, sortErrors(errs, false, &ord, series[off:off+n]))
			assert.Equal(t, want, errs)
		}
	})
	assert.Equal(t, -1, (*errorOrder)(nil).shift(series[:n]))
	assert.Equal(t, -1, (&errorOrder{}).shift(series[:n]))
	ord := errorOrder{y: series[:n]}
	assert.Equal(t, 12, ord.shift(series[12:12+n]))
	assert.Equal(t, 206, ord.shift(series[206:206+n]), "an overlap of half")
	assert.Equal(t, -1, ord.shift(series[207:207+n]), "an overlap of less than half")
}

// insertionSort sorts, or gives up past its budget leaving a permutation.
func TestInsertionSortBudget(t *testing.T) {
	t.Parallel()
	a := []errorAt{{3, 0}, {1, 1}, {2, 2}, {0, 3}}
	b := slices.Clone(a)
	assert.True(t, insertionSort(a, 5), "5 moves are needed")
	assert.True(t, slices.IsSortedFunc(a, func(x, y errorAt) int { return cmp.Compare(x.v, y.v) }))
	assert.False(t, insertionSort(b, 4))
	assert.ElementsMatch(t, []errorAt{{3, 0}, {1, 1}, {2, 2}, {0, 3}}, b)
}

// A tie between the error scales (here no origin of the validation
// window has enough past errors to be scored, so both losses are 0) keeps
// the configured relative errors: absolute errors are chosen only when
// they score strictly lower.
func TestIntervalsForTieKeepsRelative(t *testing.T) {
	t.Parallel()
	a, err := NewAuto(AutoConfig{Periods: []int{24}})
	require.NoError(t, err)
	y := make([]float64, 48)
	for i := range y {
		y[i] = 10 + float64(i%24)
	}
	const H, t0 = 6, 24
	c := &candidate{preds: make([]float64, (len(y)-t0)*H)}
	for i := range c.preds {
		c.preds[i] = math.NaN()
	}
	require.Positive(t, floorFor(y))
	require.Zero(t, sequentialPinball(c.preds, y, t0, H, 0))
	require.Zero(t, sequentialPinball(c.preds, y, t0, H, floorFor(y)))
	assert.False(t, a.intervalsFor(c, y, autoPlan{H: H, t0: t0}).Absolute)
}

// When no candidate can be validated, Fit says so with every candidate and
// the reason it was skipped.
func TestAutoNoCandidateListsReasons(t *testing.T) {
	t.Parallel()
	a, err := NewAuto(AutoConfig{Periods: []int{24}, Horizon: 24})
	require.NoError(t, err)
	y := make([]float64, 60)
	for i := range y {
		y[i] = 10 + float64(i%24)
	}
	err = a.Fit(y)
	require.ErrorIs(t, err, ErrInsufficientData)
	for _, s := range DefaultCandidates([]int{24}) {
		assert.Contains(t, err.Error(), s.String()+": needs ", "%s", s)
	}
	assert.Contains(t, err.Error(), "no candidate could be validated on 60 steps")
}

// ranked orders the scored candidates by MAE, lowest first, and keeps the
// candidates' order on a tie; skipped and unscored ones are left out.
func TestRankedKeepsOrderOnTies(t *testing.T) {
	t.Parallel()
	c := func(name string, mae float64, skip string) *candidate {
		return &candidate{spec: Spec{Kind: KindSeasonalNaive, Period: len(name)}, mae: mae, skip: skip}
	}
	a, b, x, d, e := c("a", 2, ""), c("bb", 1, ""), c("ccc", 0.5, "too short"), c("dddd", 1, ""), c("eeeee", math.NaN(), "")
	got := ranked(nil, []*candidate{a, b, x, d, e})
	assert.Equal(t, []*candidate{b, d, a}, got)
}

// originsFor's default: from the first full window (or, without one, two
// seasons) to the last origin with a full horizon, every Stride steps
// (Horizon when unset); explicit Origins as given.
func TestBacktestDefaultOrigins(t *testing.T) {
	t.Parallel()
	assert.Equal(t, []int{48, 54, 60}, BacktestOptions{Horizon: 6, SeasonalPeriod: 24}.originsFor(66))
	assert.Equal(t, []int{48, 54}, BacktestOptions{Horizon: 6, SeasonalPeriod: 24}.originsFor(65))
	assert.Equal(t, []int{30, 34, 38}, BacktestOptions{Horizon: 6, SeasonalPeriod: 24, Window: 30, Stride: 4}.originsFor(44))
	assert.Equal(t, []int{7, 3}, BacktestOptions{Horizon: 6, SeasonalPeriod: 24, Origins: []int{7, 3}}.originsFor(66))
}

// Without a window, the first step is a valid origin (one value before
// it: the model, which needs two, says it has too few); step 0 and the end
// of y are not origins, and the error says which.
func TestBacktestFirstOrigin(t *testing.T) {
	t.Parallel()
	y := synthetic(50, 2)
	newModel := func() (Model, error) { return NewSeasonalNaive(1) }
	_, err := Backtest(t.Context(), y, newModel, BacktestOptions{Horizon: 1, SeasonalPeriod: 1, Origins: []int{1}})
	require.ErrorIs(t, err, ErrInsufficientData)
	var notOrigin *provider.InvalidError
	assert.NotErrorAs(t, err, &notOrigin, "origin 1 is in bounds")
	_, err = Backtest(t.Context(), y, newModel, BacktestOptions{Horizon: 1, SeasonalPeriod: 1, Origins: []int{2}})
	require.NoError(t, err)
	for _, bad := range []int{0, len(y)} {
		_, err := Backtest(t.Context(), y, newModel, BacktestOptions{Horizon: 1, SeasonalPeriod: 1, Origins: []int{2, bad}})
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, "origin %d", bad)
		assert.Equal(t, "origins[1]", ie.Field)
	}
}

// TestResidualLevel pins the recalibrated level: no table (fewer than two
// levels) keeps τ; two levels are interpolated; a level is only ever
// widened, by at most half the miss rate, on the side of τ: τ = 0.5
// counts as an upper level.
func TestResidualLevel(t *testing.T) {
	t.Parallel()
	assert.InDelta(t, 0.9, (&residuals{Levels: []float64{0.99}}).level(0.9), 0)
	two := &residuals{Levels: []float64{0.5, 1}}
	assert.InDelta(t, 0.95, two.level(0.9), 1e-12) // 0.5 + 0.9·0.5, capped at (1+0.9)/2
	assert.InDelta(t, 0.2, two.level(0.2), 1e-12)  // 0.5 + 0.2·0.5 = 0.6 > τ: kept at τ
	three := &residuals{Levels: []float64{0, 0.5, 1}}
	assert.InDelta(t, 0.9, three.level(0.9), 1e-12) // between the 2nd and 3rd levels: 0.5 + 0.8·0.5
	grid := &residuals{Levels: []float64{0, 0.6, 0.6}}
	assert.InDelta(t, 0.6, grid.level(0.5), 1e-12) // 0.6 ≥ 0.5: the upper rule, within [0.5, 0.75]
	low := &residuals{Levels: []float64{0, 0.05, 0.1}}
	assert.InDelta(t, 0.2, low.level(0.4), 1e-12)    // 0.08 < 0.4/2: at most halved
	assert.InDelta(t, 0.075, low.level(0.15), 1e-12) // 0.3·0.05 = 0.015: halved, 0.075
}

// TestSeasonalConfigBounds: period × seasons may reach 2^22 steps, not
// more; a seasonal mean needs at least one season.
func TestSeasonalConfigBounds(t *testing.T) {
	t.Parallel()
	require.NoError(t, SeasonalConfig{Period: 1 << 22}.Validate())
	require.NoError(t, SeasonalConfig{Period: 1 << 21, Seasons: 2}.Validate())
	for _, c := range []SeasonalConfig{{Period: 1<<22 + 1}, {Period: 1 << 21, Seasons: 3}, {Period: 3, Seasons: 1<<21 + 1}} {
		var ie *provider.InvalidError
		require.ErrorAs(t, c.Validate(), &ie, "%+v", c)
		assert.Equal(t, "period", ie.Field)
	}
	_, err := NewSeasonalMean(24, 1)
	require.NoError(t, err)
	_, err = NewSeasonalMean(24, 0)
	require.ErrorIs(t, err, provider.ErrInvalid)
}

// TestSeasonalConfigOverflow: a period and a number of seasons whose
// product overflows int are refused, not fitted: {2^62, 3} passed (the
// product wrapped negative) and Fit panicked slicing a negative length.
func TestSeasonalConfigOverflow(t *testing.T) {
	t.Parallel()
	for _, c := range []SeasonalConfig{
		{Period: 1 << 62, Seasons: 3}, {Period: 1 << 32, Seasons: 1 << 32}, {Period: 1 << 40, Seasons: 1 << 30},
		{Period: 2, Seasons: math.MaxInt}, {Period: math.MaxInt, Seasons: 2}, {Period: 1 << 62},
	} {
		var ie *provider.InvalidError
		require.ErrorAs(t, c.Validate(), &ie, "%+v", c)
		assert.Equal(t, "period", ie.Field)
		_, err := NewSeasonal(c)
		require.ErrorIs(t, err, provider.ErrInvalid, "%+v", c)
		_, err = Spec{Kind: KindSeasonalNaive, Period: c.Period, Seasons: c.Seasons}.New(IntervalOptions{})
		require.ErrorIs(t, err, provider.ErrInvalid, "%+v", c)
	}
	// Auto's default candidates for a huge period (the mean of its last
	// two seasons overflowed) are skipped, not a panic.
	y := synthetic(24*14, 1)
	for _, p := range []int{1 << 62, 3 << 61} {
		a, err := NewAuto(AutoConfig{Periods: []int{24, p}})
		require.NoError(t, err)
		require.NoError(t, a.Fit(y), "period %d", p)
	}
}

// TestIntervalOptionsLargest: the largest Horizon or Origins keeps every
// horizon or origin, as any value past the data does (n − Origins −
// Horizon overflowed, so the model kept no errors and refused quantiles
// as if the data were too short).
func TestIntervalOptionsLargest(t *testing.T) {
	t.Parallel()
	y := synthetic(24*14, 2)
	fit := func(o IntervalOptions) ([]float64, error) {
		m, err := NewHoltWinters(HoltWintersConfig{Period: 24, MaxEvaluations: 30, Intervals: o})
		require.NoError(t, err)
		require.NoError(t, m.Fit(y))
		q := make([]float64, 5)
		return q, m.Forecast(make([]float64, 5), []float64{0.9}, [][]float64{q})
	}
	want, err := fit(IntervalOptions{Horizon: 1 << 40, Origins: 1 << 40})
	require.NoError(t, err)
	for _, o := range []IntervalOptions{{Horizon: math.MaxInt, Origins: 1 << 40}, {Horizon: 1 << 40, Origins: math.MaxInt}, {Horizon: math.MaxInt, Origins: math.MaxInt}} {
		got, err := fit(o)
		require.NoError(t, err, "%+v", o)
		assert.Equal(t, want, got, "%+v", o)
	}
}

// A stored state's counters must be within their bounds: a Holt-Winters
// position within its season (0 and period−1 decode, −1 and period do
// not), a harmonic model's step count in [0, 2^50].
func TestUnmarshalStateBounds(t *testing.T) {
	t.Parallel()
	hw, err := NewHoltWinters(HoltWintersConfig{Period: 4})
	require.NoError(t, err)
	require.NoError(t, hw.Fit(synthetic(64, 1)))
	hm, err := NewHarmonic(HarmonicConfig{Periods: []int{24}})
	require.NoError(t, err)
	require.NoError(t, hm.Fit(synthetic(200, 3)))
	for _, tt := range []struct {
		name     string
		m        json.Marshaler
		set      func(int)
		decode   func([]byte) (int, error)
		ok, fail []int
	}{
		{"holt-winters state.pos", hw, func(v int) { hw.st.Pos = v }, func(b []byte) (int, error) {
			var back HoltWinters
			err := back.UnmarshalJSON(b)
			return back.st.Pos, err
		}, []int{0, 3}, []int{-1, 4}},
		{"harmonic params.t", hm, func(v int) { hm.fit.T = v }, func(b []byte) (int, error) {
			var back Harmonic
			err := back.UnmarshalJSON(b)
			return back.fit.T, err
		}, []int{0, 1 << 50}, []int{-1, 1<<50 + 1}},
	} {
		for _, v := range append(tt.ok, tt.fail...) {
			tt.set(v)
			data, err := json.Marshal(tt.m)
			require.NoError(t, err)
			got, err := tt.decode(data)
			if slices.Contains(tt.ok, v) {
				require.NoError(t, err, "%s %d", tt.name, v)
				assert.Equal(t, v, got, tt.name)
				continue
			}
			require.ErrorIs(t, err, provider.ErrInvalid, "%s %d", tt.name, v)
		}
	}
}

// recalibrate's table is, to its resolution of 1/pitBins, the empirical
// quantiles of the transforms its doc defines, counted here the plain way:
// for every stride-th horizon h of 24 (stride 2) and each of the last
// pitOrigins origins i with at least minPast errors known before it (those
// of the same origins up to i − h − 1), u = (#below + (#equal + 1)/2) /
// (k + 1). The errors are rounded to quarters, so ties are frequent, and
// their spread grows so that the table is far from the identity.
func TestRecalibrateIsTheTransformsQuantiles(t *testing.T) {
	t.Parallel()
	errs := errorsInOrder(24, 520, 4, func(i int) float64 { return 1 + 3*float64(i)/520 })
	for _, e := range errs {
		for i := range e {
			e[i] = math.Round(e[i]*4) / 4
		}
	}
	var us []float64
	stride := (len(errs) + pitHorizons - 1) / pitHorizons
	require.Equal(t, 2, stride)
	for h, e := range errs {
		if h%stride != 0 {
			continue
		}
		from := max(0, len(e)-pitOrigins)
		for i := from; i < len(e); i++ {
			below, equal, known := 0, 0, 0
			for j := from; j <= i-h-1; j++ {
				known++
				switch {
				case e[j] < e[i]:
					below++
				case e[j] == e[i]:
					equal++
				}
			}
			if known >= minPast {
				us = append(us, (float64(below)+(float64(equal)+1)/2)/float64(known+1))
			}
		}
	}
	slices.Sort(us)
	levels := recalibrate(errs)
	require.Len(t, levels, levelGrid)
	assert.Zero(t, levels[0])
	assert.InDelta(t, 1.0, levels[levelGrid-1], 0)
	for k := 1; k < levelGrid-1; k++ {
		// The table's level k is in the bin of the transform at rank
		// ⌈k/100 · n⌉ (of n, from 1).
		want := us[int(math.Ceil(float64(k)/float64(levelGrid-1)*float64(len(us))))-1]
		assert.InDelta(t, want, levels[k], 1.0/pitBins, "level %d %% of %d transforms", k, len(us))
	}
	assert.Greater(t, levels[95], 0.97, "a growing spread widens the upper tail")
}

// conformalQuantile is the ⌈(n+1)τ⌉-th smallest error for τ ≥ 0.5 (τ = 0.5
// included) and the ⌊(n+1)τ⌋-th below, clamped to the sample.
func TestConformalQuantile(t *testing.T) {
	t.Parallel()
	e := []float64{1, 2, 3, 4}
	for _, tt := range []struct{ tau, want float64 }{
		{0.05, 1}, // ⌊0.25⌋ = 0: clamped to the first
		{0.3, 1},  // ⌊1.5⌋ = 1
		{0.45, 2}, // ⌊2.25⌋ = 2
		{0.5, 3},  // ⌈2.5⌉ = 3 (⌊2.5⌋ would be 2)
		{0.7, 4},  // ⌈3.5⌉ = 4
		{0.9, 4},  // ⌈4.5⌉ = 5: clamped to the last
	} {
		assert.InDelta(t, tt.want, conformalQuantile(e, tt.tau), 0, "τ = %v", tt.tau)
	}
	assert.Zero(t, conformalQuantile(nil, 0.9), "no errors")
}

// floorFor is the mean of a non-negative series (zeros included) with a
// positive sum, and 0 (absolute errors) when any value is negative or all
// are zero.
func TestFloorFor(t *testing.T) {
	t.Parallel()
	assert.InDelta(t, 2.0, floorFor([]float64{0, 2, 4}), 0)
	assert.InDelta(t, 1.0, floorFor([]float64{1}), 0)
	assert.Zero(t, floorFor([]float64{-1, 5, 8}))
	assert.Zero(t, floorFor([]float64{0, 0, 0}))
}

package forecast_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/forecast"
	"github.com/idlescale/idlescale/provider"
)

// seasonal returns n hourly values: level + trend·t + a daily sine of the
// given amplitude + a weekly sine of a third of it + Gaussian noise.
func seasonal(n int, level, trend, amp, noise float64, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 7))
	y := make([]float64, n)
	for t := range y {
		y[t] = level + trend*float64(t) + amp*math.Sin(2*math.Pi*float64(t)/24) +
			amp/3*math.Sin(2*math.Pi*float64(t)/168) + noise*r.NormFloat64()
	}
	return y
}

// truth is seasonal without noise at step t.
func truth(t int, level, trend, amp float64) float64 {
	return level + trend*float64(t) + amp*math.Sin(2*math.Pi*float64(t)/24) + amp/3*math.Sin(2*math.Pi*float64(t)/168)
}

func TestSeasonalNaiveForecastAndUpdate(t *testing.T) {
	t.Parallel()
	m, err := forecast.NewSeasonalNaive(3)
	require.NoError(t, err)
	require.NoError(t, m.Fit([]float64{5, 6, 7, 1, 2, 3}))
	point := make([]float64, 5)
	require.NoError(t, m.Forecast(point, nil, nil))
	assert.Equal(t, []float64{1, 2, 3, 1, 2}, point)

	require.NoError(t, m.Update(10))
	require.NoError(t, m.Forecast(point, nil, nil))
	assert.Equal(t, []float64{2, 3, 10, 2, 3}, point)

	// A gap is filled with the model's own forecast (2), never 0.
	require.NoError(t, m.Update(math.NaN()))
	require.NoError(t, m.Forecast(point[:3], nil, nil))
	assert.Equal(t, []float64{3, 10, 2}, point[:3])
	require.ErrorIs(t, m.Update(math.Inf(1)), provider.ErrInvalid)
}

func TestSeasonalMeanAveragesSeasons(t *testing.T) {
	t.Parallel()
	m, err := forecast.NewSeasonalMean(2, 3)
	require.NoError(t, err)
	require.NoError(t, m.Fit([]float64{0, 0, 1, 10, 3, 20, 5, 30}))
	point := make([]float64, 4)
	require.NoError(t, m.Forecast(point, nil, nil))
	// Phase 0: mean(1, 3, 5) = 3; phase 1: mean(10, 20, 30) = 20.
	assert.InDeltaSlice(t, []float64{3, 20, 3, 20}, point, 1e-12)
}

func TestModelsForecastSeasonalSeries(t *testing.T) {
	t.Parallel()
	const n, level, trend, amp = 1344, 100.0, 0.01, 30.0
	y := seasonal(n, level, trend, amp, 2, 11)
	tests := []struct {
		name    string
		give    func() (forecast.Model, error)
		maxMAE  float64 // against the noise-free truth over 24 steps
		wantErr error
	}{
		{"seasonal naive 168", func() (forecast.Model, error) { return forecast.NewSeasonalNaive(168) }, 4, nil},
		{"holt-winters additive damped", func() (forecast.Model, error) {
			return forecast.NewHoltWinters(forecast.HoltWintersConfig{Period: 24, Damped: true})
		}, 12, nil},
		{"holt-winters multiplicative", func() (forecast.Model, error) {
			return forecast.NewHoltWinters(forecast.HoltWintersConfig{Period: 24, Multiplicative: true, Damped: true})
		}, 12, nil},
		{"harmonic", func() (forecast.Model, error) {
			return forecast.NewHarmonic(forecast.HarmonicConfig{Periods: []int{24, 168}})
		}, 1.5, nil},
		{"ensemble median", func() (forecast.Model, error) {
			a, _ := forecast.NewSeasonalNaive(168)
			b, _ := forecast.NewHarmonic(forecast.HarmonicConfig{Periods: []int{24, 168}})
			c, _ := forecast.NewHoltWinters(forecast.HoltWintersConfig{Period: 24})
			return forecast.NewEnsemble(forecast.CombineMedian, a, b, c)
		}, 5, nil},
		{"auto", func() (forecast.Model, error) { return forecast.NewAuto(forecast.AutoConfig{}) }, 3, nil},
		{"func (last value)", func() (forecast.Model, error) {
			return forecast.NewFunc(1, func(h, dst []float64) {
				for i := range dst {
					dst[i] = h[len(h)-1]
				}
			}, forecast.IntervalOptions{})
		}, 60, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := tt.give()
			require.NoError(t, err)
			require.NoError(t, m.Fit(y))
			point := make([]float64, 24)
			lo, hi := make([]float64, 24), make([]float64, 24)
			require.NoError(t, m.Forecast(point, []float64{0.05, 0.95}, [][]float64{lo, hi}))
			var mae float64
			for h, p := range point {
				mae += math.Abs(p - truth(n+h, level, trend, amp))
				assert.LessOrEqual(t, lo[h], p, "step %d: q0.05 ≤ point", h+1)
				assert.GreaterOrEqual(t, hi[h], p, "step %d: q0.95 ≥ point", h+1)
				assert.Less(t, hi[h]-lo[h], 20*2.0*1.645*4, "step %d: interval width is bounded", h+1)
			}
			assert.Less(t, mae/24, tt.maxMAE)
		})
	}
}

// The 0.9 quantile of a model fitted on a stationary noisy seasonal series
// covers about 90 % of held-out values: here 40 origins × 24 steps.
func TestQuantilesCalibratedOnHeldOutData(t *testing.T) {
	t.Parallel()
	y := seasonal(1344+40*24, 100, 0, 30, 5, 21)
	tests := []struct {
		name string
		give func() (forecast.Model, error)
	}{
		{"holt-winters", func() (forecast.Model, error) {
			return forecast.NewHoltWinters(forecast.HoltWintersConfig{Period: 24, Damped: true})
		}},
		{"harmonic", func() (forecast.Model, error) {
			return forecast.NewHarmonic(forecast.HarmonicConfig{Periods: []int{24, 168}})
		}},
		{"seasonal naive", func() (forecast.Model, error) { return forecast.NewSeasonalNaive(24) }},
		{"auto", func() (forecast.Model, error) { return forecast.NewAuto(forecast.AutoConfig{Periods: []int{24, 168}}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			below, inside, total := 0, 0, 0
			point := make([]float64, 24)
			q := [][]float64{make([]float64, 24), make([]float64, 24), make([]float64, 24)}
			for o := 1344; o+24 <= len(y); o += 24 {
				m, err := tt.give()
				require.NoError(t, err)
				require.NoError(t, m.Fit(y[o-1344:o]))
				require.NoError(t, m.Forecast(point, []float64{0.05, 0.9, 0.95}, q))
				for h := range point {
					if y[o+h] <= q[1][h] {
						below++
					}
					if y[o+h] >= q[0][h] && y[o+h] <= q[2][h] {
						inside++
					}
					total++
				}
			}
			assert.InDelta(t, 0.9, float64(below)/float64(total), 0.05, "share ≤ q0.9")
			assert.InDelta(t, 0.9, float64(inside)/float64(total), 0.06, "share inside [q0.05, q0.95]")
		})
	}
}

func TestHoltWintersParamsInBounds(t *testing.T) {
	t.Parallel()
	m, err := forecast.NewHoltWinters(forecast.HoltWintersConfig{Period: 24, Damped: true})
	require.NoError(t, err)
	require.NoError(t, m.Fit(seasonal(2000, 50, 0.02, 10, 1, 3)))
	a, b, g, phi := m.Params()
	assert.Greater(t, a, 0.0)
	assert.Less(t, a, 1.0)
	assert.Greater(t, b, 0.0)
	assert.Less(t, b, a)
	assert.Greater(t, g, 0.0)
	assert.Less(t, g, 1-a)
	assert.GreaterOrEqual(t, phi, 0.8)
	assert.LessOrEqual(t, phi, 0.98)
	assert.Positive(t, m.Evaluations())
	assert.Equal(t, 24, m.Config().Period)
	assert.Equal(t, 150, m.Config().MaxEvaluations, "default")
}

func TestEnsembleCombines(t *testing.T) {
	t.Parallel()
	y := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	constant := func(v float64) forecast.Model {
		m, err := forecast.NewFunc(1, func(_, dst []float64) {
			for i := range dst {
				dst[i] = v
			}
		}, forecast.IntervalOptions{})
		require.NoError(t, err)
		return m
	}
	tests := []struct {
		name string
		rule forecast.Combine
		want float64
	}{
		{"mean", forecast.CombineMean, 4},
		{"median", forecast.CombineMedian, 2},
		{"default is mean", "", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, err := forecast.NewEnsemble(tt.rule, constant(1), constant(2), constant(9))
			require.NoError(t, err)
			require.NoError(t, e.Fit(y))
			point := make([]float64, 3)
			require.NoError(t, e.Forecast(point, nil, nil))
			assert.InDeltaSlice(t, []float64{tt.want, tt.want, tt.want}, point, 1e-12)
			assert.Len(t, e.Members(), 3)
		})
	}
	t.Run("inverse error weights favour the better member", func(t *testing.T) {
		t.Parallel()
		lin := make([]float64, 100)
		for i := range lin {
			lin[i] = float64(i % 10)
		}
		good, err := forecast.NewSeasonalNaive(10)
		require.NoError(t, err)
		e, err := forecast.NewEnsemble(forecast.CombineInverseError, good, constant(100))
		require.NoError(t, err)
		require.NoError(t, e.Fit(lin))
		w := e.Weights()
		require.Len(t, w, 2)
		assert.InDelta(t, 1, w[0]+w[1], 1e-12)
		assert.Greater(t, w[0], 0.99)
	})
}

func TestAutoSelectsAndReports(t *testing.T) {
	t.Parallel()
	// An exactly periodic series: seasonal naive 24 has zero error.
	y := make([]float64, 24*30)
	for i := range y {
		y[i] = float64(i%24) * float64(i%24)
	}
	a, err := forecast.NewAuto(forecast.AutoConfig{Periods: []int{24}})
	require.NoError(t, err)
	require.NoError(t, a.Fit(y))
	assert.InDelta(t, 0, a.Scores()[0].MAE, 1e-9, "the best score is exact")
	chosen := 0
	for _, s := range a.Scores() {
		if s.Chosen {
			chosen++
			assert.Equal(t, a.Chosen().String(), s.Name)
		}
	}
	assert.Equal(t, 1, chosen)
	point := make([]float64, 48)
	require.NoError(t, a.Forecast(point, nil, nil))
	for h, p := range point {
		assert.InDelta(t, float64(h%24)*float64(h%24), p, 1e-6, "step %d", h+1)
	}
	require.NotNil(t, a.Model())

	t.Run("candidates too long are skipped with a reason", func(t *testing.T) {
		t.Parallel()
		a, err := forecast.NewAuto(forecast.AutoConfig{Periods: []int{24, 168}})
		require.NoError(t, err)
		require.NoError(t, a.Fit(seasonal(168, 10, 0, 3, 0.5, 5)))
		skipped := 0
		for _, s := range a.Scores() {
			if s.Skipped != "" {
				skipped++
				assert.True(t, math.IsNaN(s.MAE))
			}
		}
		assert.Positive(t, skipped)
	})
	t.Run("detects periods when none are given", func(t *testing.T) {
		t.Parallel()
		a, err := forecast.NewAuto(forecast.AutoConfig{})
		require.NoError(t, err)
		require.NoError(t, a.Fit(seasonal(1344, 100, 0, 30, 2, 9)))
		assert.NotEqual(t, "snaive(1)", a.Chosen().String())
	})
}

func TestNotFitted(t *testing.T) {
	t.Parallel()
	sn, _ := forecast.NewSeasonalNaive(2)
	hw, _ := forecast.NewHoltWinters(forecast.HoltWintersConfig{Period: 2})
	hr, _ := forecast.NewHarmonic(forecast.HarmonicConfig{Periods: []int{4}})
	au, _ := forecast.NewAuto(forecast.AutoConfig{})
	en, _ := forecast.NewEnsemble(forecast.CombineMean, sn)
	for _, m := range []forecast.Model{sn, hw, hr, au, en} {
		require.ErrorIs(t, m.Forecast(make([]float64, 1), nil, nil), forecast.ErrNotFitted)
		require.ErrorIs(t, m.Update(1), forecast.ErrNotFitted)
	}
}

func TestAutoScoresSortedAndChosenBest(t *testing.T) {
	t.Parallel()
	a, err := forecast.NewAuto(forecast.AutoConfig{})
	require.NoError(t, err)
	require.NoError(t, a.Fit(seasonal(1344, 100, 0.01, 30, 2, 11)))
	scores := a.Scores()
	require.NotEmpty(t, scores)
	assert.True(t, scores[0].Chosen, "the best score is the chosen model")
	assert.Equal(t, a.Chosen().String(), scores[0].Name)
	for i := 1; i < len(scores); i++ {
		if scores[i].Skipped != "" {
			continue
		}
		assert.LessOrEqual(t, scores[i-1].MAE, scores[i].MAE, "scores sorted by MAE")
		assert.False(t, scores[i].Chosen)
	}
	// The seasonal naive is among the candidates, and the choice beats it
	// on validation.
	naive := math.Inf(1)
	for _, s := range scores {
		if s.Spec.Kind == forecast.KindSeasonalNaive && s.Spec.Seasons <= 1 && s.Skipped == "" {
			naive = math.Min(naive, s.MAE)
		}
	}
	assert.Less(t, scores[0].MAE, naive)
}

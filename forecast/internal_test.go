package forecast

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/optimize"
)

func synthetic(n int, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 2))
	y := make([]float64, n)
	for i := range y {
		y[i] = 100 + 0.002*float64(i) + 30*math.Sin(2*math.Pi*float64(i)/24) + 10*math.Sin(2*math.Pi*float64(i)/168) + 5*r.NormFloat64()
	}
	return y
}

// The periodic accumulation of the normal equations must give the same
// coefficients as the blocked rank-k accumulation.
func TestHarmonicPeriodicMatchesBlocked(t *testing.T) {
	y := synthetic(3000, 1)
	fit := func(periodic bool) harmonicFit {
		harmonicPeriodic = periodic
		defer func() { harmonicPeriodic = true }()
		m, err := NewHarmonic(HarmonicConfig{Periods: []int{24, 168}, Harmonics: []int{8, 11}})
		require.NoError(t, err)
		require.NoError(t, m.Fit(y))
		return m.fit
	}
	a, b := fit(true), fit(false)
	assert.InDelta(t, b.Intercept, a.Intercept, 1e-6)
	assert.InDelta(t, b.Slope, a.Slope, 1e-9)
	assert.InDelta(t, b.Rho, a.Rho, 1e-9)
	for i := range a.Curves {
		assert.InDeltaSlice(t, b.Curves[i], a.Curves[i], 1e-6)
	}
	assert.InDelta(t, 30, a.Curves[0][6], 2, "daily amplitude at the peak (phase 6 of 24)")
}

// The two-stage Holt-Winters search must land within 0.1 % of the SSE a
// long Nelder-Mead run finds, on short and long series.
func TestHoltWintersFitNearOptimum(t *testing.T) {
	for _, n := range []int{1344, 10000} {
		y := synthetic(n, 3)
		m, err := NewHoltWinters(HoltWintersConfig{Period: 24, Damped: true})
		require.NoError(t, err)
		require.NoError(t, m.Fit(y))
		s := make([]float64, 24)
		sse, _, _ := m.filter(m.par, y, s)
		obj := func(x []float64) float64 { v, _, _ := m.filter(m.params(x), y, s); return v }
		res, err := optimize.Minimize(optimize.Problem{Func: obj}, []float64{0, 0, 0, 0},
			&optimize.Settings{FuncEvaluations: 3000, Converger: &optimize.FunctionConverge{Relative: 1e-10, Iterations: 50}}, &optimize.NelderMead{})
		require.NoError(t, err)
		assert.Less(t, sse, res.F*1.001, "n=%d: %d evaluations", n, m.Evaluations())
		assert.LessOrEqual(t, m.Evaluations(), 150+hwPolish+2)
	}
}

// A refit on as many steps reuses the factorised normal matrix, the
// working memory of the last fit and Xᵀy built straight from the basis
// tables; it must give the very model a fresh fit gives, to the bit (with
// and without the trend column).
func TestHarmonicRefitMatchesFreshFit(t *testing.T) {
	y := synthetic(3400, 5)
	for _, noTrend := range []bool{false, true} {
		cfg := HarmonicConfig{Periods: []int{24, 168}, Harmonics: []int{8, 11}, NoTrend: noTrend, Intervals: IntervalOptions{Horizon: 6}}
		refit, err := NewHarmonic(cfg)
		require.NoError(t, err)
		require.NoError(t, refit.Fit(y[:3000]))
		require.NoError(t, refit.Fit(y[400:3400]), "the refit, on the window 400 steps later")
		require.NotNil(t, refit.normal)
		fresh, err := NewHarmonic(cfg)
		require.NoError(t, err)
		require.NoError(t, fresh.Fit(y[400:3400]))
		assert.Equal(t, fresh.fit, refit.fit, "no_trend=%v", noTrend)
		assert.Equal(t, fresh.b.Residuals, refit.b.Residuals, "no_trend=%v", noTrend)
	}
}

// predict and the fit's AR(1) estimate count the seasons' phases instead
// of dividing; they must give what reg gives, for one to five seasons
// (predict takes reg's path for five).
func TestHarmonicPhasesMatchReg(t *testing.T) {
	y := synthetic(2000, 6)
	for _, periods := range [][]int{{24}, {24, 168}, {7, 12, 24, 60}, {5, 7, 12, 24, 60}} {
		m, err := NewHarmonic(HarmonicConfig{Periods: periods, Harmonics: make([]int, 0)})
		require.NoError(t, err)
		fitted := y[:1700+len(periods)]
		require.NoError(t, m.Fit(fitted))
		var num, den, prev float64
		for i, v := range fitted {
			r := v - m.reg(i)
			if i > 0 {
				num += r * prev
				den += prev * prev
			}
			prev = r
		}
		require.InDelta(t, math.Max(-0.98, math.Min(0.98, num/den)), m.fit.Rho, 0, "periods %v: ρ, to the bit", periods)
		got := make([]float64, 200)
		m.predict(got)
		r := m.fit.Resid
		for i := range got {
			r *= m.fit.Rho
			require.InDelta(t, m.reg(m.fit.T+i)+r, got[i], 0, "periods %v, step %d, to the bit", periods, i+1)
		}
	}
}

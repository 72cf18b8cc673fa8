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

package forecast

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
)

// hwTextbook runs the ETS recursions of the HoltWinters doc comment the
// plain way, one array per component indexed by time, from the documented
// start (ℓ₀ = mean of the first season; b₀ = the change between the first
// two season means over m for a damped model, 0 otherwise; s = the first
// season's deviations or ratios), and returns the sum of squared one-step
// errors over y[m:] and the forecasts for the h steps after y.
func hwTextbook(y []float64, m int, mult, damped bool, a, b, g, phi float64, h int) (sse float64, fc []float64) {
	n := len(y)
	level := make([]float64, n)
	trend := make([]float64, n)
	season := make([]float64, n)
	var mean1, mean2 float64
	for t := range m {
		mean1 += y[t] / float64(m)
		mean2 += y[m+t] / float64(m)
	}
	level[m-1] = mean1
	if damped {
		trend[m-1] = (mean2 - mean1) / float64(m)
	}
	for t := range m {
		if mult {
			season[t] = y[t] / mean1
		} else {
			season[t] = y[t] - mean1
		}
	}
	for t := m; t < n; t++ {
		prev := level[t-1] + phi*trend[t-1]
		var e float64
		if mult {
			e = y[t] - prev*season[t-m]
			level[t] = a*y[t]/season[t-m] + (1-a)*prev
			season[t] = g*y[t]/prev + (1-g)*season[t-m]
		} else {
			e = y[t] - prev - season[t-m]
			level[t] = a*(y[t]-season[t-m]) + (1-a)*prev
			season[t] = g*(y[t]-prev) + (1-g)*season[t-m]
		}
		trend[t] = b*(level[t]-level[t-1]) + (1-b)*phi*trend[t-1]
		sse += e * e
	}
	T := n - 1
	for k := 1; k <= h; k++ {
		var damp float64
		for i := 1; i <= k; i++ {
			damp += math.Pow(phi, float64(i))
		}
		s := season[T+k-m*((k-1)/m+1)]
		if mult {
			fc = append(fc, (level[T]+damp*trend[T])*s)
		} else {
			fc = append(fc, level[T]+damp*trend[T]+s)
		}
	}
	return sse, fc
}

// The fitted model's filter, forecasts and Update must be the recursions of
// its doc comment, for the four variants, on a series with a trend and a
// season whose shape changes (so every term of every update matters), for
// horizons beyond one season.
func TestHoltWintersIsItsRecursions(t *testing.T) {
	t.Parallel()
	const p, n, h = 7, 150, 17
	y := make([]float64, n+6)
	for i := range y {
		f := float64(i)
		y[i] = 40 + 0.3*f + (6+0.05*f)*math.Sin(2*math.Pi*f/p) + 3*math.Cos(f*1.3)
	}
	for _, mult := range []bool{false, true} {
		for _, damped := range []bool{false, true} {
			t.Run(fmt.Sprintf("mult=%v,damped=%v", mult, damped), func(t *testing.T) {
				t.Parallel()
				m, err := NewHoltWinters(HoltWintersConfig{Period: p, Multiplicative: mult, Damped: damped})
				require.NoError(t, err)
				require.NoError(t, m.Fit(y[:n]))
				a, b, g, phi := m.Params()
				if !damped {
					assert.InDelta(t, 1.0, phi, 0, "φ without Damped")
				}
				wantSSE, want := hwTextbook(y[:n], p, mult, damped, a, b, g, phi, h)
				gotSSE, _, _ := m.filter(m.par, y[:n], make([]float64, p))
				assert.InEpsilon(t, wantSSE, gotSSE, 1e-9, "sum of squared one-step errors")
				got := make([]float64, h)
				require.NoError(t, m.Forecast(got, nil, nil))
				assert.InDeltaSlice(t, want, got, 1e-9, "forecasts after Fit")
				// The fit is not at its start (α = 0.3, β = 0.03, γ = 0.07),
				// and it is better there than at the start.
				startSSE, _ := hwTextbook(y[:n], p, mult, damped, 0.3, 0.03, 0.07, map[bool]float64{false: 1, true: 0.94}[damped], 1)
				assert.Less(t, wantSSE, startSSE, "the search improves on its start")
				for k := n; k < len(y); k++ {
					require.NoError(t, m.Update(y[k]))
					_, want = hwTextbook(y[:k+1], p, mult, damped, a, b, g, phi, h)
					require.NoError(t, m.Forecast(got, nil, nil))
					assert.InDeltaSlice(t, want, got, 1e-9, "forecasts after updating with y[%d]", k)
				}
			})
		}
	}
}

// A series longer than twice the search's sample (max(2016, 20·m)) is
// searched on its last sample and polished on the whole of it with at most
// hwPolish more evaluations; a series of exactly twice the sample is
// searched whole.
func TestHoltWintersSearchStages(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		period, n int
		twoStages bool
	}{
		{24, 2 * 2016, false},
		{24, 2*2016 + 1, true},
		{110, 2 * 2200, false},
		{110, 2*2200 + 1, true},
	} {
		y := synthetic(tt.n, 9)
		m, err := NewHoltWinters(HoltWintersConfig{Period: tt.period, MaxEvaluations: 20})
		require.NoError(t, err)
		require.NoError(t, m.Fit(y))
		if tt.twoStages {
			assert.Greater(t, m.Evaluations(), 20+2, "period %d, %d steps: two stages", tt.period, tt.n)
		} else {
			assert.LessOrEqual(t, m.Evaluations(), 20+2, "period %d, %d steps: one stage", tt.period, tt.n)
		}
	}
}

// A Holt-Winters season is 2 to 2^20 steps; a multiplicative one refuses a
// zero as it refuses a negative value, in Fit and in Update.
func TestHoltWintersBounds(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		period int
		ok     bool
	}{{1, false}, {2, true}, {1 << 20, true}, {1<<20 + 1, false}} {
		_, err := NewHoltWinters(HoltWintersConfig{Period: tt.period})
		if tt.ok {
			require.NoError(t, err, "period %d", tt.period)
		} else {
			require.ErrorIs(t, err, provider.ErrInvalid, "period %d", tt.period)
		}
	}
	m, err := NewHoltWinters(HoltWintersConfig{Period: 4, Multiplicative: true})
	require.NoError(t, err)
	y := synthetic(64, 2)
	y[7] = 0
	err = m.Fit(y)
	require.ErrorIs(t, err, ErrNonPositive)
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "y[7]", ie.Field)
	y[7] = 1e-9
	require.NoError(t, m.Fit(y), "a tiny positive value is accepted")
	require.ErrorIs(t, m.Update(0), ErrNonPositive)
	require.NoError(t, m.Update(1e-9))
}

// lcmPeriods is the least common multiple of the periods, or 0 when it
// exceeds the limit (the limit itself is allowed).
func TestLCMPeriods(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		periods     []int
		limit, want int
	}{
		{[]int{24, 168}, 1000, 168},
		{[]int{24, 36}, 1000, 72},
		{[]int{7, 12, 24}, 168, 168},
		{[]int{7, 12, 24}, 167, 0},
		{[]int{5}, 4, 0},
		{[]int{5}, 5, 5},
	} {
		assert.Equal(t, tt.want, lcmPeriods(tt.periods, tt.limit), "%v up to %d", tt.periods, tt.limit)
	}
}

// The search starts at α = 0.3 (mapped into [0.001, 0.999]), β = 0.1α,
// γ = 0.1(1−α) and φ = 0.94 (1 without Damped): a search that cannot
// improve on its start within its evaluations (here one) keeps it.
func TestHoltWintersSearchStart(t *testing.T) {
	t.Parallel()
	for _, damped := range []bool{false, true} {
		m, err := NewHoltWinters(HoltWintersConfig{Period: 24, Damped: damped, MaxEvaluations: 1})
		require.NoError(t, err)
		require.NoError(t, m.Fit(synthetic(24*10, 4)))
		a, b, g, phi := m.Params()
		wantA := 0.001 + 0.998*0.3
		assert.InDelta(t, wantA, a, 1e-12, "damped=%v", damped)
		assert.InDelta(t, 0.1*wantA, b, 1e-12, "damped=%v", damped)
		assert.InDelta(t, 0.1*(1-wantA), g, 1e-12, "damped=%v", damped)
		wantPhi := 1.0
		if damped {
			wantPhi = 0.94
		}
		assert.InDelta(t, wantPhi, phi, 1e-12, "damped=%v", damped)
	}
}

package forecast_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/forecast"
	"github.com/idlescale/idlescale/internal/forecasteval"
	"github.com/idlescale/idlescale/provider"
)

func TestDetectPeriodsSynthetic(t *testing.T) {
	t.Parallel()
	noise := make([]float64, 1344)
	r := rand.New(rand.NewPCG(4, 4))
	for i := range noise {
		noise[i] = r.NormFloat64()
	}
	tests := []struct {
		name string
		give []float64
		want []int
	}{
		{"daily and weekly with trend", seasonal(1344, 100, 0.01, 30, 2, 11), []int{24, 168}},
		{"daily only", seasonal(1344, 100, 0, 30, 2, 12)[:24*20], []int{24}},
		{"white noise", noise, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := forecast.DetectPeriods(tt.give, 0)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// On the hourly real traces the daily and weekly seasons are found in an
// 8-week window (app-server-traffic/traffic_stats_HOURLY_CHs.csv,
// nab/nyc_taxi.csv), and the daily one in NASA's 2-week window
// (nasa-http/nasa_traffic_5m.csv).
func TestDetectSeasonsRealTraces(t *testing.T) {
	t.Parallel()
	traces, err := forecasteval.Load("../testdata")
	require.NoError(t, err)
	want := map[string][]time.Duration{
		"app-server": {24 * time.Hour, 168 * time.Hour},
		"nyc-taxi":   {24 * time.Hour, 168 * time.Hour},
		"nasa-http":  {24 * time.Hour},
	}
	checked := 0
	for _, tr := range traces {
		w, ok := want[tr.Name]
		if !ok {
			continue
		}
		checked++
		o := tr.Origins[len(tr.Origins)/2]
		s := provider.Series{Start: tr.Start.Add(time.Duration(o-tr.Window) * time.Hour), Step: time.Hour, Values: tr.Values[o-tr.Window : o]}
		got, err := forecast.DetectSeasons(s, 0)
		require.NoError(t, err, tr.Name)
		assert.Equal(t, w, got, tr.Name)
	}
	require.Equal(t, len(want), checked, "Load must return every trace named in want")
}

func TestDetectPeriodsBadInput(t *testing.T) {
	t.Parallel()
	_, err := forecast.DetectPeriods([]float64{1, 2, 3}, 0)
	require.ErrorIs(t, err, forecast.ErrInsufficientData)
	_, err = forecast.DetectPeriods(make([]float64, 50), 0)
	require.ErrorIs(t, err, forecast.ErrInsufficientData, "constant")
	_, err = forecast.DetectPeriods(seasonal(100, 1, 0, 1, 0, 1), -1)
	require.ErrorIs(t, err, provider.ErrInvalid)
	y := seasonal(100, 1, 0, 1, 0, 1)
	y[3] = posInf()
	_, err = forecast.DetectPeriods(y, 0)
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "y[3]", ie.Field)
}

// TestConstantHasNoPeriods: a constant series is an error for ACF,
// DetectPeriods and CandidatePeriods whatever the constant: one whose mean
// rounds away from it (0.1) had an autocorrelation of its rounding, with
// no error.
func TestConstantHasNoPeriods(t *testing.T) {
	t.Parallel()
	for _, v := range []float64{0, 0.1, 0.3, 1.1, -7.7, 1e12 + 0.1, 1e-12, 3e-300, 1e300} {
		for _, n := range []int{8, 10, 100, 1000, 4321} {
			y := make([]float64, n)
			for i := range y {
				y[i] = v
			}
			_, err := forecast.DetectPeriods(y, 0)
			require.ErrorIs(t, err, forecast.ErrInsufficientData, "DetectPeriods: %d × %v", n, v)
			_, err = forecast.CandidatePeriods(y)
			require.ErrorIs(t, err, forecast.ErrInsufficientData, "CandidatePeriods: %d × %v", n, v)
			require.ErrorIs(t, forecast.ACF(make([]float64, 4), y), forecast.ErrInsufficientData, "ACF: %d × %v", n, v)
		}
	}
}

// TestStraightLineHasNoPeriods: a straight line has no season, whatever
// its slope, offset and length; removing its trend leaves the rounding of
// the arithmetic, whose peaks were taken for seasons (5 and 35 steps on
// 3 + 0.1·t), and on large values all of it rounded to zero, an error
// calling the line constant. A season small beside the level is still
// found.
func TestStraightLineHasNoPeriods(t *testing.T) {
	t.Parallel()
	for _, ab := range [][2]float64{{0.1, 3}, {1e9, 1e12}, {-7.3, 1e-12}, {3, -1e6}, {1e-6, 1e9}, {0.7, 0}, {1e-300, 1e-290}, {1e290, 1e300}} {
		for _, n := range []int{8, 10, 100, 1000, 10000} {
			y := make([]float64, n)
			for i := range y {
				y[i] = ab[1] + ab[0]*float64(i)
			}
			p, err := forecast.DetectPeriods(y, 0)
			require.NoError(t, err, "DetectPeriods: %g + %g·t, %d steps", ab[1], ab[0], n)
			assert.Empty(t, p, "DetectPeriods: %g + %g·t, %d steps", ab[1], ab[0], n)
			p, err = forecast.CandidatePeriods(y)
			require.NoError(t, err, "CandidatePeriods: %g + %g·t, %d steps", ab[1], ab[0], n)
			assert.Empty(t, p, "CandidatePeriods: %g + %g·t, %d steps", ab[1], ab[0], n)
		}
	}
	for _, tt := range []struct {
		level, slope, amplitude float64
	}{{1e12, 1e3, 10}, {1e12, 0, 1}, {1e12, 1e-3, 1}, {1e9, 0, 1e-3}} {
		y := make([]float64, 24*20)
		for i := range y {
			y[i] = tt.level + tt.slope*float64(i) + tt.amplitude*math.Sin(2*math.Pi*float64(i)/24)
		}
		p, err := forecast.DetectPeriods(y, 0)
		require.NoError(t, err)
		assert.Equal(t, []int{24}, p, "a daily season of ±%g on a level of %g and a trend of %g", tt.amplitude, tt.level, tt.slope)
	}
}

func TestACF(t *testing.T) {
	t.Parallel()
	y := []float64{1, -1, 1, -1, 1, -1, 1, -1}
	r := make([]float64, 10)
	require.NoError(t, forecast.ACF(r, y))
	assert.InDelta(t, 1, r[0], 1e-12)
	assert.InDelta(t, -7.0/8, r[1], 1e-12)
	assert.InDelta(t, 6.0/8, r[2], 1e-12)
	assert.InDelta(t, 0, r[9], 1e-12, "lags ≥ n are 0")
}

func TestPeriodSteps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		period, step time.Duration
		want         int
		wantErr      bool
	}{
		{"day in 5 minutes", 24 * time.Hour, 5 * time.Minute, 288, false},
		{"week in hours", 168 * time.Hour, time.Hour, 168, false},
		{"one step", time.Hour, time.Hour, 1, false},
		{"negative step", time.Hour, -time.Minute, 0, true},
		{"not a multiple", 25 * time.Minute, 10 * time.Minute, 0, true},
		{"zero step", time.Hour, 0, 0, true},
		{"shorter than step", time.Minute, time.Hour, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := forecast.PeriodSteps(tt.period, tt.step)
			if tt.wantErr {
				require.ErrorIs(t, err, provider.ErrInvalid)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestCandidatePeriods(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	daily := func(n int, weekend float64) []float64 {
		y := make([]float64, n)
		for k := range y {
			w := 1.0
			if (k/24)%7 >= 5 {
				w = weekend
			}
			y[k] = w*(100+60*math.Sin(2*math.Pi*float64(k)/24)) + 5*r.NormFloat64()
		}
		return y
	}
	tests := []struct {
		name string
		give []float64
		want []int
	}{
		{"two weeks hold the weekly season", daily(14*24, 0.5), []int{24, 168}},
		{"less than two weeks do not", daily(13*24, 0.5), []int{24}},
		{"weekly tried on a daily season alone", daily(21*24, 1), []int{24, 168}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := forecast.CandidatePeriods(tt.give)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	_, err := forecast.CandidatePeriods([]float64{1, 1, 1, 1, 1, 1, 1, 1, 1})
	require.ErrorIs(t, err, forecast.ErrInsufficientData)
	_, err = forecast.CandidatePeriods([]float64{1, 2})
	require.Error(t, err)
	_, err = forecast.CandidatePeriods([]float64{1, 2, 3, 4, 5, 6, 7, math.NaN()})
	require.ErrorIs(t, err, provider.ErrInvalid)
}

// ACF is the textbook sum r_k = Σ (y_t−ȳ)(y_{t+k}−ȳ) / Σ (y_t−ȳ)², here
// computed the plain O(n²) way on an odd-length series (so that its FFT
// size, the next power of two ≥ 2n, is not 2n), and exactly 0 at lags ≥ n.
func TestACFIsTheTextbookSum(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(8, 9))
	for _, n := range []int{2, 37, 64} {
		y := make([]float64, n)
		for i := range y {
			y[i] = 5 + math.Sin(float64(i)) + r.NormFloat64()
		}
		var mean float64
		for _, v := range y {
			mean += v / float64(n)
		}
		var den float64
		for _, v := range y {
			den += (v - mean) * (v - mean)
		}
		got := make([]float64, n+9)
		require.NoError(t, forecast.ACF(got, y))
		for k := range got {
			if k >= n {
				assert.InDelta(t, 0, got[k], 0, "n=%d: lag %d ≥ n is exactly 0", n, k)
				continue
			}
			var num float64
			for i := 0; i+k < n; i++ {
				num += (y[i] - mean) * (y[i+k] - mean)
			}
			assert.InDelta(t, num/den, got[k], 1e-12, "n=%d: lag %d", n, k)
		}
	}
}

// DetectPeriods looks up to maxPeriod when it is at most half the series
// (a season of 40 steps in 110 is found with maxPeriod 55), and up to a
// third of it otherwise or when unset (36 steps: not found); eight values
// are enough (the shortest season, 2).
func TestDetectPeriodsMaxPeriod(t *testing.T) {
	t.Parallel()
	y := make([]float64, 110)
	for i := range y {
		y[i] = math.Sin(2 * math.Pi * float64(i) / 40)
	}
	for _, tt := range []struct {
		maxPeriod int
		want      []int
	}{{0, nil}, {36, nil}, {40, []int{40}}, {55, []int{40}}, {56, nil}} {
		got, err := forecast.DetectPeriods(y, tt.maxPeriod)
		require.NoError(t, err)
		assert.Equal(t, tt.want, got, "max period %d", tt.maxPeriod)
	}
	got, err := forecast.DetectPeriods([]float64{1, 5, 1, 5, 1, 5, 1, 5}, 0)
	require.NoError(t, err)
	assert.Equal(t, []int{2}, got, "eight values")
}

// DetectSeasons converts its longest season into steps: a daily season of
// hourly steps is found up to 24 h (and by default, a third of the
// series), not up to 23 h.
func TestDetectSeasonsMaxPeriod(t *testing.T) {
	t.Parallel()
	s := provider.Series{Metric: provider.MetricCPU, Start: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), Step: time.Hour, Values: seasonal(10*24, 100, 0, 30, 1, 4)}
	for _, tt := range []struct {
		max  time.Duration
		want []time.Duration
	}{
		{0, []time.Duration{24 * time.Hour}}, {24 * time.Hour, []time.Duration{24 * time.Hour}}, {23 * time.Hour, []time.Duration{}},
		// Bounds shorter than two steps leave no season (one shorter than
		// a step was read as 0, the default, and found the daily one).
		{90 * time.Minute, []time.Duration{}}, {time.Hour, []time.Duration{}}, {30 * time.Minute, []time.Duration{}}, {1, []time.Duration{}},
	} {
		got, err := forecast.DetectSeasons(s, tt.max)
		require.NoError(t, err)
		assert.Equal(t, tt.want, got, "up to %s", tt.max)
	}
	// A negative bound is an error, as DetectPeriods' (it was read as 0).
	_, err := forecast.DetectSeasons(s, -time.Hour)
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "max_period", ie.Field)
}

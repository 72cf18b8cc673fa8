package forecast

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// acfPeaks at each of its edges, on hand-made autocorrelations of n = 64
// values: the threshold max(0.2, 2/√64) = 0.25, the prominence 0.25 and
// the margin max(0.01, 1/√64) = 0.125 are exact binary fractions, so every
// comparison below is exact.
func TestACFPeaks(t *testing.T) {
	t.Parallel()
	const tiny = 1.0 / 1024
	acf := func(size int, at map[int]float64) []float64 {
		r := make([]float64, size)
		r[0] = 1
		for k, v := range at {
			r[k] = v
		}
		return r
	}
	tests := []struct {
		name      string
		r         []float64
		maxPeriod int
		want      []int
	}{
		{"at the threshold: not a season", acf(4, map[int]float64{2: 0.25}), 2, nil},
		{"just above it", acf(4, map[int]float64{2: 0.25 + tiny}), 2, []int{2}},
		{"rises exactly the prominence", acf(4, map[int]float64{1: 0.125, 2: 0.375}), 2, []int{2}},
		{"rises a little less", acf(4, map[int]float64{1: 0.125 + tiny, 2: 0.375}), 2, nil},
		{"a plateau: both lags are peaks", acf(5, map[int]float64{2: 0.5, 3: 0.5}), 3, []int{2, 3}},
		// A season p = 20 is found; lags within p/10 = 2 of its multiples
		// are seasons only when they stand out by the margin.
		{"2 after a multiple is near it", acf(64, map[int]float64{20: 0.5, 22: 0.5, 42: 0.5}), 42, []int{20}},
		{"2 before a multiple is near it", acf(64, map[int]float64{20: 0.5, 38: 0.5, 58: 0.5}), 40, []int{20}},
		{"3 after a multiple is not", acf(64, map[int]float64{20: 0.5, 23: 0.5, 43: 0.5}), 43, []int{20, 23, 43}},
		{"a multiple exactly the margin above its neighbours", acf(64, map[int]float64{20: 0.5, 40: 0.625}), 40, []int{20}},
		{"a multiple a little more above them", acf(64, map[int]float64{20: 0.5, 40: 0.625 + tiny}), 40, []int{20, 40}},
		{"the next multiple is the last lag", acf(61, map[int]float64{20: 0.5, 40: 1}), 40, []int{20, 40}},
		{"the next multiple is past the end", acf(60, map[int]float64{20: 0.5, 40: 1}), 40, []int{20}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, acfPeaks(tt.r, 64, tt.maxPeriod), tt.name)
	}
}

// detrend removes the least-squares line: a line leaves zeros, and on any
// series the residuals satisfy the normal equations (they sum to 0 and are
// orthogonal to t); a single value leaves 0.
func TestDetrend(t *testing.T) {
	t.Parallel()
	line := make([]float64, 50)
	for i := range line {
		line[i] = 3 + 2*float64(i)
	}
	assert.InDeltaSlice(t, make([]float64, 50), detrend(line), 1e-12)
	y := synthetic(301, 7)
	out := detrend(y)
	var sum, dot float64
	for i, v := range out {
		sum += v
		dot += float64(i) * v
	}
	assert.InDelta(t, 0, sum, 1e-8, "Σ residuals")
	assert.InDelta(t, 0, dot, 1e-5, "Σ t · residuals")
	assert.Equal(t, []float64{0}, detrend([]float64{7}))
}

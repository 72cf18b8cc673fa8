package forecast

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
)

// handACF returns a hand-made autocorrelation of size lags: 1 at lag 0,
// the given values at their lags and 0 elsewhere.
func handACF(size int, at map[int]float64) []float64 {
	r := make([]float64, size)
	r[0] = 1
	for k, v := range at {
		r[k] = v
	}
	return r
}

// acfPeaks at each of its edges, on hand-made autocorrelations of n = 64
// values: the threshold max(0.2, 2/√64) = 0.25, the prominence 0.25 and
// the margin max(0.01, 1/√64) = 0.125 are exact binary fractions, so every
// comparison below is exact.
func TestACFPeaks(t *testing.T) {
	t.Parallel()
	const tiny = 1.0 / 1024
	tests := []struct {
		name      string
		r         []float64
		maxPeriod int
		want      []int
	}{
		{"at the threshold: not a season", handACF(4, map[int]float64{2: 0.25}), 2, nil},
		{"just above it", handACF(4, map[int]float64{2: 0.25 + tiny}), 2, []int{2}},
		{"rises exactly the prominence", handACF(4, map[int]float64{1: 0.125, 2: 0.375}), 2, []int{2}},
		{"rises a little less", handACF(4, map[int]float64{1: 0.125 + tiny, 2: 0.375}), 2, nil},
		{"a plateau: both lags are peaks", handACF(5, map[int]float64{2: 0.5, 3: 0.5}), 3, []int{2, 3}},
		// A season p = 20 is found; lags within p/10 = 2 of its multiples
		// are seasons only when they stand out by the margin.
		{"2 after a multiple is near it", handACF(64, map[int]float64{20: 0.5, 22: 0.5, 42: 0.5}), 42, []int{20}},
		{"2 before a multiple is near it", handACF(64, map[int]float64{20: 0.5, 38: 0.5, 58: 0.5}), 40, []int{20}},
		{"3 after a multiple is not", handACF(64, map[int]float64{20: 0.5, 23: 0.5, 43: 0.5}), 43, []int{20, 23, 43}},
		{"a multiple exactly the margin above its neighbours", handACF(64, map[int]float64{20: 0.5, 40: 0.625}), 40, []int{20}},
		{"a multiple a little more above them", handACF(64, map[int]float64{20: 0.5, 40: 0.625 + tiny}), 40, []int{20, 40}},
		{"the next multiple is the last lag", handACF(61, map[int]float64{20: 0.5, 40: 1}), 40, []int{20, 40}},
		{"the next multiple is past the end", handACF(60, map[int]float64{20: 0.5, 40: 1}), 40, []int{20}},
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

// candidatesFrom at each of its edges, on hand-made autocorrelations of
// n = len(r) values (n = 64: the fallback's threshold 2/√64 = 0.25 is
// exact, the comb reads the lags below 2n/3 = 42, the fallback looks below
// n/3 = 21).
func TestCandidatesFrom(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		found []int
		r     []float64
		want  []int
	}{
		{"a tie keeps the season found", []int{10}, handACF(64, nil), []int{10}},
		{"moved to the lag within 2 whose multiples correlate most", []int{10}, handACF(64, map[int]float64{12: 0.5, 24: 0.5, 36: 0.5}), []int{12}},
		{"by the mean of the multiples, not their sum", []int{10}, handACF(64, map[int]float64{10: 0.3, 20: 0.3, 30: 0.3, 40: 0.3, 12: 0.4, 24: 0.4, 36: 0.4}), []int{12}},
		{"not to a lag 3 away", []int{10}, handACF(64, map[int]float64{13: 0.9, 26: 0.9, 39: 0.9}), []int{10}},
		{"the comb stops below 2n/3", []int{21}, handACF(64, map[int]float64{21: 0.5, 22: 0.6, 42: 1}), []int{22}},
		{"no season and no peak", nil, handACF(64, nil), nil},
		{"a peak exactly at the threshold is none", nil, handACF(64, map[int]float64{5: 0.25}), nil},
		{"the highest peak and the one that rises most", nil, handACF(64, map[int]float64{1: 0.5, 2: 0.5, 3: 0.9, 20: 0.6}), []int{3, 20, 21}},
		{"a later peak that rises as much is not preferred", nil, handACF(64, map[int]float64{1: 0.5, 2: 0.5, 3: 0.875, 4: 0.125, 5: 0.125, 6: 0.125, 7: 0.125, 8: 0.125, 9: 0.125, 10: 0.5}), []int{3, 21}},
		{"a plateau's first lag", nil, handACF(64, map[int]float64{5: 0.5, 6: 0.5}), []int{5}},
		{"of two equal peaks, the first", nil, handACF(64, map[int]float64{5: 0.5, 12: 0.5}), []int{5}},
		{"a peak at n/3 is not looked at", nil, handACF(64, map[int]float64{21: 0.9}), nil},
		{"twice the shortest is its echo", []int{10, 20}, handACF(64, nil), []int{10}},
		{"within 10 % of twice it too", []int{10, 22}, handACF(64, nil), []int{10}},
		{"beyond 10 % it is a season", []int{10, 23}, handACF(64, nil), []int{10, 23}},
		{"six times it is an echo", []int{10, 61}, handACF(64, nil), []int{10}},
		{"seven times it is not", []int{10, 70}, handACF(64, nil), []int{10, 70}},
		{"weekly added when two of it fit", []int{4}, handACF(56, nil), []int{4, 28}},
		{"not when they do not", []int{4}, handACF(55, nil), []int{4}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, candidatesFrom(tt.found, tt.r, len(tt.r)), tt.name)
	}
}

// CandidatePeriods hands candidatesFrom the autocorrelation DetectPeriods
// computed, at the lags below 2·max(n/3, 2)+2 only: candidatesFrom reads
// none beyond them, so it chooses as it would from every lag. Random
// autocorrelations with peaks at random lags and seasons found among
// them, for every n from 8 to 400; a read past the shorter r panics, a
// read of a lag that r lacks changes the choice.
func TestCandidatesFromReadsOnlyTheDetectedLags(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 11))
	for n := 8; n <= 400; n++ {
		for range 20 {
			full := make([]float64, n)
			full[0] = 1
			for k := 1; k < n; k++ {
				full[k] = 2*rng.Float64() - 1
			}
			var found []int
			for range rng.IntN(3) {
				found = append(found, 2+rng.IntN(max(n/3-1, 1)))
			}
			slices.Sort(found)
			found = slices.Compact(found)
			short := full[:min(n, 2*max(n/3, 2)+2)]
			// What it reads beyond short, if anything, is gone.
			want := candidatesFrom(found, full, n)
			for k := len(short); k < n; k++ {
				full[k] = 9
			}
			if !assert.Equal(t, want, candidatesFrom(found, short, n), "n %d, found %v", n, found) ||
				!assert.Equal(t, want, candidatesFrom(found, full, n), "n %d, found %v: lags past 2·max(n/3, 2)+1 read", n, found) {
				return
			}
		}
	}
}

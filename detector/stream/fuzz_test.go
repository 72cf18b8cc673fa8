package stream_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector/stream"
	"github.com/idlescale/idlescale/internal/fuzzfloat"
	"github.com/idlescale/idlescale/provider"
)

// FuzzSketch checks that the sketch never panics and that its quantiles
// lie within 4.2 % of the range the exact quantile's neighbours span.
func FuzzSketch(f *testing.F) {
	f.Add(fuzzfloat.Bytes(0.1, 0.2, 0.3), 0.5)
	f.Add(fuzzfloat.Bytes(math.NaN(), -1, math.Inf(1), 1e-300, 5), 0.99)
	f.Fuzz(func(t *testing.T, raw []byte, q float64) {
		k, err := stream.NewSketch(1)
		require.NoError(t, err)
		lo, hi := math.Inf(1), math.Inf(-1)
		n := 0
		for _, v := range fuzzfloat.Floats(raw) {
			k.Add(v)
			if !math.IsNaN(v) {
				n++
				lo, hi = min(lo, v), max(hi, v)
			}
		}
		got := k.Quantile(q)
		if n == 0 || !(q >= 0 && q <= 1) {
			assert.True(t, math.IsNaN(got))
			return
		}
		require.False(t, math.IsNaN(got))
		// Values below the range read as 0, above it as the top bucket (2).
		clampLo := math.Max(0, math.Min(lo, 2))
		if lo < 1.0/4096 {
			clampLo = 0
		}
		assert.GreaterOrEqual(t, got, clampLo*(1-0.042)-1e-12)
		assert.LessOrEqual(t, got, math.Min(math.Max(hi, 0), 2)*(1+0.042)+1e-12)
	})
}

// FuzzBatchScan compares BatchScan with the naive reduction.
func FuzzBatchScan(f *testing.F) {
	f.Add(fuzzfloat.Bytes(0.01, 0.5, math.NaN(), 0.02, 0.03, 0.04), uint8(3), 0.1)
	f.Add(fuzzfloat.Bytes(-1, math.Inf(1), 0), uint8(1), 0.0)
	f.Fuzz(func(t *testing.T, raw []byte, width uint8, thr float64) {
		values := fuzzfloat.Floats(raw)
		w := int(width)
		for i, v := range values {
			switch {
			case math.IsInf(v, 0):
				values[i] = math.NaN() // refused: TestBatchScanRefusesInfiniteValues
			case math.Abs(v) > 1e300:
				// No sum of a window (at most 255 values) overflows,
				// which BatchScan refuses too.
				values[i] = math.Copysign(1e300, v)
			}
		}
		got, err := stream.BatchScan(t.Context(), values, w, stream.BatchConfig{Threshold: thr, Runs: true, Workers: 2}, nil)
		if w == 0 || len(values)%w != 0 || math.IsNaN(thr) || math.IsInf(thr, 0) {
			require.ErrorIs(t, err, provider.ErrInvalid)
			return
		}
		require.NoError(t, err)
		for r := range got {
			want := naive(values[r*w:(r+1)*w], thr)
			assert.Equal(t, want.Count, got[r].Count)
			assert.Equal(t, want.Below, got[r].Below)
			assert.Equal(t, want.TrailingRun, got[r].TrailingRun)
			assert.Equal(t, want.LongestRun, got[r].LongestRun)
			if want.Count > 0 {
				assert.InDelta(t, want.Max, got[r].Max, 0)
			}
		}
	})
}

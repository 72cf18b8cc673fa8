package stream_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector/stream"
)

// BatchScan matches the naive reduction on small windows of every width
// (the unrolled loops' tails), with values exactly at the threshold (not
// below it), gaps anywhere, and rows spread over more workers than divide
// them.
func TestBatchScanEdgesMatchNaive(t *testing.T) {
	t.Parallel()
	const thr = 0.5
	rng := rand.New(rand.NewPCG(7, 11))
	choices := []float64{0, 0.25, thr, thr, 0.75, math.NaN()}
	for width := 1; width <= 9; width++ {
		for rows := 1; rows <= 7; rows++ {
			values := make([]float64, width*rows)
			for i := range values {
				values[i] = choices[rng.IntN(len(choices))]
			}
			for _, workers := range []int{1, 2, 3, 4} {
				for _, runs := range []bool{false, true} {
					got, err := stream.BatchScan(t.Context(), values, width, stream.BatchConfig{Threshold: thr, Runs: runs, Workers: workers}, nil)
					require.NoError(t, err)
					require.Len(t, got, rows)
					for r := range got {
						want := naive(values[r*width:(r+1)*width], thr)
						if !runs {
							want.TrailingRun, want.LongestRun = 0, 0
						}
						mean, mx := want.Mean, want.Max
						want.Mean, want.Max = 0, 0
						g := got[r]
						assert.InDelta(t, mean, g.Mean, 1e-12, "width %d row %d", width, r)
						if want.Count > 0 {
							assert.InDelta(t, mx, g.Max, 0, "width %d row %d", width, r)
						}
						g.Mean, g.Max = 0, 0
						assert.Equal(t, want, g, "width %d row %d workers %d runs %v: %v", width, r, workers, runs, values[r*width:(r+1)*width])
					}
				}
			}
		}
	}
}

// BatchStats.Idle at each of its boundaries.
func TestBatchStatsIdle(t *testing.T) {
	t.Parallel()
	base := stream.BatchStats{Count: 8, Gaps: 2, Mean: 0.05, TrailingRun: 6}
	for _, tt := range []struct {
		name string
		give func(*stream.BatchStats)
		hold int
		want bool
	}{
		{"idle", func(*stream.BatchStats) {}, 6, true},
		{"coverage exactly 0.8", func(*stream.BatchStats) {}, 0, true},
		{"coverage below 0.8", func(s *stream.BatchStats) { s.Count, s.Gaps = 7, 3 }, 0, false},
		{"mean at the threshold", func(s *stream.BatchStats) { s.Mean = 0.1 }, 0, false},
		{"trailing run one short", func(*stream.BatchStats) {}, 7, false},
		{"no run asked", func(s *stream.BatchStats) { s.TrailingRun = 0 }, 0, true},
		{"hold 0 reads no run, whatever it holds", func(s *stream.BatchStats) { s.TrailingRun = -1 }, 0, true},
		{"no values (the zero BatchStats)", func(s *stream.BatchStats) { *s = stream.BatchStats{} }, 0, false},
		{"only gaps", func(s *stream.BatchStats) { s.Count, s.Gaps, s.Mean = 0, 10, math.NaN() }, 0, false},
	} {
		s := base
		tt.give(&s)
		assert.Equal(t, tt.want, s.Idle(0.1, 0.8, tt.hold), tt.name)
	}
}

// The summary's weighted variance, a value at the threshold (not below
// it), and Idle's boundaries.
func TestSummaryEdges(t *testing.T) {
	t.Parallel()
	s, err := stream.NewSummary(stream.SummaryConfig{Threshold: 0.5, Alpha: 0.5})
	require.NoError(t, err)
	// v = 1: mean 1, var 0. v = 3: d 2, mean 2, var ½(0 + ½·4) = 1.
	// v = 2: d 0, mean 2, var ½(1 + 0) = ½.
	s.Update(1)
	assert.InDelta(t, 0, s.StdDev(), 0)
	s.Update(3)
	assert.InDelta(t, 2, s.Mean(), 0)
	assert.InDelta(t, 1, s.StdDev(), 1e-15)
	s.Update(2)
	assert.InDelta(t, math.Sqrt(0.5), s.StdDev(), 1e-15)
	assert.InDelta(t, 3, s.Max(), 0)

	at, err := stream.NewSummary(stream.SummaryConfig{Threshold: 0.5, Alpha: 0.5})
	require.NoError(t, err)
	at.Update(0.25)
	at.Update(0.5)
	assert.Zero(t, at.Run(), "a value at the threshold is not below it")

	// Mean exactly at the threshold: 0.75 then 0.25 at α ½ is 0.5.
	edge, err := stream.NewSummary(stream.SummaryConfig{Threshold: 0.5, Alpha: 0.5})
	require.NoError(t, err)
	edge.Update(0.75)
	edge.Update(0.25)
	assert.Equal(t, 1, edge.Run())
	assert.InDelta(t, 0.5, edge.Mean(), 0)
	assert.False(t, edge.Idle(1), "a mean at the threshold is not below it")
	edge.Update(0.25)
	assert.True(t, edge.Idle(2), "a run of exactly hold")
	assert.True(t, edge.Idle(0), "hold 0 means 1")
	assert.False(t, edge.Idle(3))
}

// Quantiles 0 and 1 are valid, outside [0, 1] NaN; a value at the low end
// of the range is counted in its bucket, not as zero.
func TestSketchEdges(t *testing.T) {
	t.Parallel()
	k, err := stream.NewSketch(1)
	require.NoError(t, err)
	low := math.Ldexp(1, -12)
	k.Add(low)
	mid := math.Ldexp(1+0.5/12, -12)
	assert.InDelta(t, mid, k.Quantile(0.5), 0, "the first bucket's midpoint")
	k.Add(0)
	assert.InDelta(t, 0, k.Quantile(0), 0)
	assert.InDelta(t, mid, k.Quantile(1), 0)
	assert.True(t, math.IsNaN(k.Quantile(-0.01)))
	assert.True(t, math.IsNaN(k.Quantile(1.01)))
	below := math.Nextafter(low, 0)
	z, err := stream.NewSketch(1)
	require.NoError(t, err)
	z.Add(below)
	assert.InDelta(t, 0, z.Quantile(0.5), 0, "below the range counts as zero")
}

// PercentileSummary.Observe adds what the summary accepts to the sketch,
// and nothing it refuses; Alpha 1 (only the last value) is valid.
func TestPercentileSummaryObserve(t *testing.T) {
	t.Parallel()
	p, err := stream.NewPercentileSummary(stream.SummaryConfig{Threshold: 0.5, Alpha: 1}, 1)
	require.NoError(t, err)
	require.NoError(t, p.Observe(t0, 0.25))
	require.Error(t, p.Observe(t0, 0.75), "the same time again")
	require.Error(t, p.Observe(t0.Add(time.Minute), math.Inf(1)))
	assert.Equal(t, 1, p.Count())
	assert.InDelta(t, 0.25, p.Quantile(1), 0.25*0.05, "only the value accepted")
	require.NoError(t, p.Observe(t0.Add(time.Minute), 0.75))
	assert.InDelta(t, 0.75, p.Mean(), 0, "alpha 1: the last value")
	assert.InDelta(t, 0.75, p.Quantile(1), 0.75*0.05)
}

// A negative zero is not below a zero threshold (−0 < 0 is false), with
// run lengths or without. The run loop read "below" from the sign bit of
// x − thr, which is set for −0 − 0 = −0: a row of −0 values at the zero
// value's threshold counted as all below it, in one long run.
func TestBatchScanNegativeZeroIsNotBelowZero(t *testing.T) {
	t.Parallel()
	nz := math.Copysign(0, -1)
	values := []float64{nz, nz, nz, -0.5, nz}
	want := naive(values, 0)
	for _, runs := range []bool{false, true} {
		got, err := stream.BatchScan(t.Context(), values, len(values), stream.BatchConfig{Runs: runs}, nil)
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, 1, got[0].Below, "runs %v: only -0.5 is below 0", runs)
		if runs {
			assert.Equal(t, want.TrailingRun, got[0].TrailingRun)
			assert.Equal(t, want.LongestRun, got[0].LongestRun)
		}
	}
}

package stream_test

import (
	"context"
	"math"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector/stream"
	"github.com/idlescale/idlescale/provider"
)

// naive is the obvious reference implementation of BatchScan for one row.
func naive(v []float64, thr float64) stream.BatchStats {
	var st stream.BatchStats
	sum, mx, run := 0.0, math.Inf(-1), 0
	for _, x := range v {
		if math.IsNaN(x) {
			st.Gaps++
			run = 0
			continue
		}
		st.Count++
		sum += x
		mx = max(mx, x)
		if x < thr {
			st.Below++
			run++
			st.LongestRun = max(st.LongestRun, run)
		} else {
			run = 0
		}
	}
	st.TrailingRun = run
	if st.Count == 0 {
		st.Mean, st.Max = math.NaN(), math.NaN()
	} else {
		st.Mean, st.Max = sum/float64(st.Count), mx
	}
	return st
}

func TestBatchScanMatchesNaive(t *testing.T) {
	t.Parallel()
	// Rows: the NAB traces' first 4000 values plus synthetic edge cases.
	const width = 4000
	var values []float64
	for _, id := range []string{"c6585a", "825cc2", "77c1ca", "ac20cd"} {
		values = append(values, nabCPU(t, id).Values[:width]...)
	}
	edge := make([]float64, width)
	for i := range edge {
		edge[i] = 0.05
		if i%7 == 0 {
			edge[i] = math.NaN()
		}
		if i == 3999 {
			edge[i] = 0.9
		}
	}
	values = append(values, edge...)
	allGaps := make([]float64, width)
	for i := range allGaps {
		allGaps[i] = math.NaN()
	}
	values = append(values, allGaps...)
	for _, workers := range []int{1, 2, 3} {
		for _, runs := range []bool{false, true} {
			got, err := stream.BatchScan(t.Context(), values, width, stream.BatchConfig{Threshold: 0.1, Runs: runs, Workers: workers}, nil)
			require.NoError(t, err)
			require.Len(t, got, len(values)/width)
			for r := range got {
				want := naive(values[r*width:(r+1)*width], 0.1)
				if !runs {
					want.TrailingRun, want.LongestRun = 0, 0
				}
				assert.Equal(t, want.Count, got[r].Count, "row %d", r)
				assert.Equal(t, want.Gaps, got[r].Gaps, "row %d", r)
				assert.Equal(t, want.Below, got[r].Below, "row %d", r)
				assert.Equal(t, want.TrailingRun, got[r].TrailingRun, "row %d", r)
				assert.Equal(t, want.LongestRun, got[r].LongestRun, "row %d", r)
				if want.Count == 0 {
					assert.True(t, math.IsNaN(got[r].Mean))
					continue
				}
				assert.InDelta(t, want.Mean, got[r].Mean, 1e-12, "row %d", r)
				assert.InDelta(t, want.Max, got[r].Max, 0, "row %d", r)
			}
			hold := 0
			if runs {
				hold = 12
			}
			assert.True(t, got[0].Idle(0.1, 0.8, hold), "c6585a is idle")
			assert.False(t, got[1].Idle(0.1, 0.8, 0), "825cc2 is not")
			assert.False(t, got[5].Idle(0.1, 0.8, 0), "all gaps is not idle")
		}
	}
}

func TestBatchScanBadInput(t *testing.T) {
	t.Parallel()
	var ie *provider.InvalidError
	_, err := stream.BatchScan(t.Context(), make([]float64, 10), 3, stream.BatchConfig{}, nil)
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "batch.width", ie.Field)
	_, err = stream.BatchScan(t.Context(), make([]float64, 10), 0, stream.BatchConfig{}, nil)
	require.ErrorAs(t, err, &ie)
	_, err = stream.BatchScan(t.Context(), make([]float64, 10), 5, stream.BatchConfig{Threshold: math.Inf(1)}, nil)
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "batch.threshold", ie.Field)
	_, err = stream.BatchScan(t.Context(), make([]float64, 10), 5, stream.BatchConfig{Workers: -1}, nil)
	require.ErrorAs(t, err, &ie)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = stream.BatchScan(ctx, make([]float64, 1000), 10, stream.BatchConfig{}, nil)
	require.ErrorIs(t, err, context.Canceled)
}

// An infinite value is refused by its index, as a window whose sum
// overflows is: a −∞ (a broken exporter's reading) counted as far below
// the threshold, and the window's mean of −∞ read as idle.
func TestBatchScanRefusesInfiniteValues(t *testing.T) {
	t.Parallel()
	inf := math.Inf(1)
	for _, tt := range []struct {
		name   string
		values []float64
		field  string
	}{
		{"−∞", []float64{0.5, 0.5, 0.5, 0.5, 0.01, -inf, 0.01, 0.01}, "values[5]"},
		{"+∞", []float64{0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, inf}, "values[7]"},
		{"both, with a gap", []float64{0.01, 0.01, 0.01, 0.01, inf, math.NaN(), -inf, 0.01}, "values[4]"},
		{"an overflowing sum", []float64{0.01, 0.01, 0.01, 0.01, math.MaxFloat64, math.MaxFloat64, 0, 0}, "values[4:8]"},
	} {
		for _, runs := range []bool{false, true} {
			for _, workers := range []int{1, 2} {
				_, err := stream.BatchScan(t.Context(), tt.values, 4, stream.BatchConfig{Threshold: 0.1, Runs: runs, Workers: workers}, nil)
				var ie *provider.InvalidError
				require.ErrorAs(t, err, &ie, "%s, runs %v, workers %d", tt.name, runs, workers)
				assert.Equal(t, tt.field, ie.Field, tt.name)
			}
		}
	}
	// The largest finite values whose sum does not overflow are read.
	got, err := stream.BatchScan(t.Context(), []float64{math.MaxFloat64 / 2, math.MaxFloat64 / 2, -math.MaxFloat64, 0}, 4, stream.BatchConfig{}, nil)
	require.NoError(t, err)
	assert.Equal(t, 4, got[0].Count)
}

// BatchScan writes into dst when it holds the rows, a capacity of exactly
// the row count included, and allocates only for a shorter one.
func TestBatchScanReusesDst(t *testing.T) {
	t.Parallel()
	values := []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6}
	for _, c := range []int{3, 5} {
		dst := make([]stream.BatchStats, 0, c)
		got, err := stream.BatchScan(t.Context(), values, 2, stream.BatchConfig{Workers: 1}, dst)
		require.NoError(t, err)
		require.Len(t, got, 3)
		assert.Same(t, &dst[:1][0], &got[0], "capacity %d: dst's memory", c)
		assert.Equal(t, 2, got[2].Count, "capacity %d: the last row written", c)
	}
	dst := make([]stream.BatchStats, 2)
	got, err := stream.BatchScan(t.Context(), values, 2, stream.BatchConfig{Workers: 1}, dst)
	require.NoError(t, err)
	require.Len(t, got, 3)
	assert.NotSame(t, &dst[0], &got[0], "too short: new memory")
}

// endsAfter is a context whose Err is nil for its first n calls and
// context.Canceled after: a context that ends while BatchScan runs,
// without a timer.
type endsAfter struct {
	context.Context
	n atomic.Int32
}

func (c *endsAfter) Err() error {
	if c.n.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

// BatchScan returns ctx.Err() when the context has ended before it
// starts, even for a single window, and when it ends during the scan
// (noticed within 64 windows).
func TestBatchScanNoticesTheContextEnding(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := stream.BatchScan(ctx, []float64{0.1, 0.2, 0.3}, 3, stream.BatchConfig{}, nil)
	require.ErrorIs(t, err, context.Canceled, "one window")

	values := make([]float64, 1000)
	late := &endsAfter{Context: t.Context()}
	late.n.Store(1)
	_, err = stream.BatchScan(late, values, 1, stream.BatchConfig{Workers: 1}, nil)
	require.ErrorIs(t, err, context.Canceled, "ended after the first check")
	_, err = stream.BatchScan(t.Context(), values, 1, stream.BatchConfig{Workers: 1}, nil)
	require.NoError(t, err)
}

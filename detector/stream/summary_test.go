package stream_test

import (
	"math"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector/stream"
	"github.com/idlescale/idlescale/provider"
)

func TestSummarySizes(t *testing.T) {
	t.Parallel()
	assert.LessOrEqual(t, unsafe.Sizeof(stream.Summary{}), uintptr(64))
	assert.LessOrEqual(t, unsafe.Sizeof(stream.PercentileSummary{}), uintptr(512))
	assert.LessOrEqual(t, unsafe.Sizeof(stream.ResourceSummaries{}), uintptr(2048))
	t.Logf("Summary %d B, Sketch %d B, PercentileSummary %d B, ResourceSummaries %d B",
		unsafe.Sizeof(stream.Summary{}), unsafe.Sizeof(stream.Sketch{}), unsafe.Sizeof(stream.PercentileSummary{}), unsafe.Sizeof(stream.ResourceSummaries{}))
}

func TestSummaryState(t *testing.T) {
	t.Parallel()
	s, err := stream.NewSummary(stream.SummaryConfig{Threshold: 0.1, Alpha: 0.5})
	require.NoError(t, err)
	assert.True(t, math.IsNaN(s.Mean()))
	assert.False(t, s.Idle(1))
	for _, v := range []float64{0.5, 0.05, math.NaN(), 0.02, 0.03} {
		s.Update(v)
	}
	assert.Equal(t, 4, s.Count())
	assert.Equal(t, 2, s.Run(), "a gap ends the run (TestGapEndsTheRun)")
	assert.InDelta(t, 0.5, s.Max(), 0)
	// EW mean with alpha 0.5: 0.5 → 0.275 → 0.1475 → 0.08875
	assert.InDelta(t, 0.08875, s.Mean(), 1e-12)
	assert.True(t, s.Idle(2))
	assert.False(t, s.Idle(3), "the gap is among the last three steps")
	s.Update(0.2)
	assert.Zero(t, s.Run())
	assert.Greater(t, s.StdDev(), 0.0)
}

func TestSummaryObserveRejectsBadInput(t *testing.T) {
	t.Parallel()
	s, err := stream.NewSummary(stream.SummaryConfig{Threshold: 0.1})
	require.NoError(t, err)
	require.NoError(t, s.Observe(t0, 0.01))
	var ie *provider.InvalidError
	require.ErrorAs(t, s.Observe(t0, 0.01), &ie, "duplicate timestamp")
	assert.Equal(t, "stream.time", ie.Field)
	require.ErrorAs(t, s.Observe(t0.Add(-time.Minute), 0.01), &ie, "unsorted")
	require.ErrorAs(t, s.Observe(t0.Add(time.Minute), math.Inf(1)), &ie)
	assert.Equal(t, "stream.value", ie.Field)
	require.NoError(t, s.Observe(t0.Add(time.Minute), math.NaN()))
	assert.Equal(t, 1, s.Count())
	_, err = stream.NewSummary(stream.SummaryConfig{Threshold: math.NaN()})
	require.ErrorIs(t, err, provider.ErrInvalid)
	_, err = stream.NewSummary(stream.SummaryConfig{Alpha: 2})
	require.ErrorIs(t, err, provider.ErrInvalid)
	_, err = stream.NewSketch(0)
	require.ErrorIs(t, err, provider.ErrInvalid)
}

// TestSketchAccuracyNAB checks the percentile sketch against exact
// percentiles (type 7, provider.Quantile) on every NAB EC2 CPU trace:
// relative error ≤ 5 % at p50, p90, p95 and p99.
func TestSketchAccuracyNAB(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"24ae8d", "53ea38", "5f5533", "77c1ca", "825cc2", "ac20cd", "c6585a", "fe7f93"} {
		t.Run(id, func(t *testing.T) {
			t.Parallel()
			s := nabCPU(t, id)
			p, err := stream.NewPercentileSummary(stream.SummaryConfig{Threshold: 0.1}, 1)
			require.NoError(t, err)
			var exact []float64
			for _, v := range s.Values {
				p.Update(v)
				if !provider.IsGap(v) {
					exact = append(exact, v)
				}
			}
			slices.Sort(exact)
			worst := 0.0
			for _, q := range []float64{0.5, 0.9, 0.95, 0.99} {
				want := provider.Quantile(exact, q)
				got := p.Quantile(q)
				rel := math.Abs(got-want) / want
				worst = max(worst, rel)
				assert.LessOrEqual(t, rel, 0.05, "p%.0f: got %.5f want %.5f", 100*q, got, want)
			}
			t.Logf("%s: worst relative error %.2f%%", id, 100*worst)
		})
	}
}

func TestSketchOverflowKeepsShares(t *testing.T) {
	t.Parallel()
	k, err := stream.NewSketch(1)
	require.NoError(t, err)
	for i := range 300_000 {
		v := 0.01
		if i%4 == 0 {
			v = 0.5
		}
		k.Add(v)
	}
	assert.Less(t, k.Count(), 300_000, "counts were halved")
	assert.InDelta(t, 0.01, k.Quantile(0.5), 0.01/24+1e-12)
	assert.InDelta(t, 0.5, k.Quantile(0.9), 0.5/24+1e-12)
	assert.True(t, math.IsNaN(k.Quantile(1.5)))
}

// The Unix epoch is a time like any other: a value observed at it is
// followed only by later ones. Observe used last = 0 to mean "nothing
// observed yet", so after a value at the epoch it accepted the epoch
// again and times before it (unsorted input).
func TestSummaryObserveAtTheEpoch(t *testing.T) {
	t.Parallel()
	epoch := time.Unix(0, 0)
	s, err := stream.NewSummary(stream.SummaryConfig{Threshold: 0.1})
	require.NoError(t, err)
	require.NoError(t, s.Observe(epoch, 0.01))
	var ie *provider.InvalidError
	require.ErrorAs(t, s.Observe(epoch, 0.01), &ie, "the epoch again")
	assert.Equal(t, "stream.time", ie.Field)
	require.ErrorAs(t, s.Observe(epoch.Add(-time.Minute), 0.01), &ie, "before the epoch")
	assert.Equal(t, 1, s.Count())

	// Times before the epoch are sorted like the others.
	before, err := stream.NewSummary(stream.SummaryConfig{Threshold: 0.1})
	require.NoError(t, err)
	require.NoError(t, before.Observe(epoch.Add(-2*time.Minute), 0.01))
	require.NoError(t, before.Observe(epoch.Add(-time.Minute), 0.01))
	require.NoError(t, before.Observe(epoch, 0.01))
	require.Error(t, before.Observe(epoch.Add(-time.Minute), 0.01))
	assert.Equal(t, 3, before.Count())
}

// The earliest time in Unix nanoseconds is what a Summary holds before
// its first value: it is refused, so that no value there lets the next
// one repeat it or go back before it.
func TestSummaryObserveAtTheEarliestNanosecond(t *testing.T) {
	t.Parallel()
	earliest := time.Unix(0, math.MinInt64)
	s, err := stream.NewSummary(stream.SummaryConfig{Threshold: 0.1})
	require.NoError(t, err)
	var ie *provider.InvalidError
	require.ErrorAs(t, s.Observe(earliest, 0.01), &ie)
	assert.Equal(t, "stream.time", ie.Field)
	require.NoError(t, s.Observe(earliest.Add(time.Nanosecond), 0.01))
	require.Error(t, s.Observe(earliest.Add(time.Nanosecond), 0.01), "the same time again")
	require.Error(t, s.Observe(earliest, 0.01), "an earlier time")
	assert.Equal(t, 1, s.Count())
}

// Times outside the range of Unix nanoseconds (before 1677-09-21 or
// after 2262-04-11) are refused, as the documentation of Observe says:
// their nanoseconds wrapped around, so a value in 1600 was taken for
// one in 2184 and the next value, in 2026, was refused as unsorted, and
// a value in 2300 let one in 1800 follow it.
func TestSummaryObserveOutsideUnixNanoseconds(t *testing.T) {
	t.Parallel()
	for _, give := range []time.Time{
		time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(0, math.MinInt64).Add(-time.Nanosecond),
		time.Unix(0, math.MaxInt64).Add(time.Nanosecond),
		time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		s, err := stream.NewSummary(stream.SummaryConfig{Threshold: 0.1})
		require.NoError(t, err)
		var ie *provider.InvalidError
		require.ErrorAs(t, s.Observe(give, 0.01), &ie, give.String())
		assert.Equal(t, "stream.time", ie.Field)
		assert.Zero(t, s.Count(), give.String())
		require.NoError(t, s.Observe(t0, 0.01), "a later valid time is still accepted after %v", give)
	}
	s, err := stream.NewSummary(stream.SummaryConfig{Threshold: 0.1})
	require.NoError(t, err)
	require.NoError(t, s.Observe(time.Unix(0, math.MaxInt64), 0.01), "the latest Unix nanosecond")
	assert.Equal(t, 1, s.Count())
}

// Halving the counts when one would overflow keeps every value's bucket:
// a value seen once (a daily spike among 65 534 idle steps, what keeps a
// machine from being idle) had its count halved to zero, so the sketch's
// maximum fell from 100 % to the idle 1 %.
func TestSketchHalvingKeepsRareValues(t *testing.T) {
	t.Parallel()
	k, err := stream.NewSketch(1)
	require.NoError(t, err)
	k.Add(1.0)
	for range math.MaxUint16 - 1 {
		k.Add(0.01)
	}
	assert.InDelta(t, 1.0, k.Quantile(1), 1.0/12, "before halving")
	k.Add(0.01) // the idle bucket reaches 65 535: every count is halved
	assert.Less(t, k.Count(), math.MaxUint16, "counts were halved")
	// Halved rounding up: the spike's 1 stays 1 and the idle 65 535 is
	// 32 768 (a remainder taken as c*2, not c%2, lived: 2 and 32 765).
	assert.Equal(t, 1+(math.MaxUint16+1)/2, k.Count(), "each count halved, rounding up")
	assert.InDelta(t, 1.0, k.Quantile(1), 1.0/12, "the spike survives the halving")
	assert.InDelta(t, 0.01, k.Quantile(0.5), 0.01/24+1e-12)
}

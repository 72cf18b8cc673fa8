package stream_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector/stream"
)

// TestUpdateInfiniteValueIsNoValue: Update, which the package doc keeps
// for a host that feeds a value (or a NaN) per step, took an infinite
// reading (a rate over a zero interval, the log of a zero) as a value:
// −Inf, below any threshold, extended the run, so Idle(12) held after 11
// idle steps and a broken one; +Inf made the mean and the standard
// deviation NaN and the maximum +Inf for good, whatever came after. As
// Observe does, Update now ends the run at an infinite value and does
// not add it: a broken reading is not idleness, nor a value.
func TestUpdateInfiniteValueIsNoValue(t *testing.T) {
	t.Parallel()
	for _, give := range []float64{math.Inf(1), math.Inf(-1)} {
		cfg := stream.SummaryConfig{Threshold: 0.1}
		s, err := stream.NewSummary(cfg)
		require.NoError(t, err)
		p, err := stream.NewPercentileSummary(cfg, 1)
		require.NoError(t, err)
		for range 11 {
			s.Update(0.01)
			p.Update(0.01)
		}
		s.Update(give)
		p.Update(give)
		assert.Equal(t, 0, s.Run(), "%v", give)
		assert.Equal(t, 0, p.Run(), "%v", give)
		assert.False(t, s.Idle(12), "%v", give)
		assert.False(t, p.Idle(12), "%v", give)
		for range 3 {
			s.Update(0.02)
			p.Update(0.02)
		}
		assert.Equal(t, 14, s.Count(), "%v is not counted", give)
		assert.Equal(t, 14, p.Count(), "%v is not counted", give)
		assert.InDelta(t, 0.02, s.Max(), 1e-12, "%v", give)
		assert.InDelta(t, 0.0125, s.Mean(), 0.005, "%v", give)
		assert.False(t, math.IsNaN(s.StdDev()), "%v", give)
		assert.InDelta(t, 0.02, p.Quantile(1), 0.002, "%v", give)
	}
}

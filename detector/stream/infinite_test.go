package stream_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector/stream"
	"github.com/idlescale/idlescale/provider"
)

// TestRefusedInfiniteValueEndsTheRun: a machine idle for an hour of
// 5-minute steps whose agent then reports +Inf (a rate over a zero
// interval: the counter moved, the machine worked) or −Inf. Observe
// refused the value and left the run as it was, so Idle(12) held for a
// machine whose agent had just reported something other than idleness.
// A value refused as infinite ends the run, as one refused for its time
// does: an idle run rests on values below the threshold, and a broken
// reading is not one. The value is still refused (not counted).
func TestRefusedInfiniteValueEndsTheRun(t *testing.T) {
	t.Parallel()
	const step = 5 * time.Minute
	for _, give := range []float64{math.Inf(1), math.Inf(-1)} {
		cfg := stream.SummaryConfig{Threshold: 0.1}
		s, err := stream.NewSummary(cfg)
		require.NoError(t, err)
		p, err := stream.NewPercentileSummary(cfg, 1)
		require.NoError(t, err)
		for i := range 12 {
			require.NoError(t, s.Observe(t0.Add(time.Duration(i)*step), 0.01))
			require.NoError(t, p.Observe(t0.Add(time.Duration(i)*step), 0.01))
		}
		require.True(t, s.Idle(12))
		at := t0.Add(12 * step)
		require.ErrorIs(t, s.Observe(at, give), provider.ErrInvalid)
		require.ErrorIs(t, p.Observe(at, give), provider.ErrInvalid)
		assert.Equal(t, 0, s.Run(), "%v", give)
		assert.Equal(t, 0, p.Run(), "%v", give)
		assert.False(t, s.IdleAt(at, 12), "%v", give)
		assert.False(t, p.IdleAt(at, 12), "%v", give)
		assert.Equal(t, 12, s.Count(), "the refused value is not counted")

		// At a refused time too.
		require.NoError(t, s.Observe(at, 0.01))
		require.NoError(t, s.Observe(at.Add(step), 0.01))
		require.Equal(t, 2, s.Run())
		require.ErrorIs(t, s.Observe(at, give), provider.ErrInvalid)
		assert.Equal(t, 0, s.Run(), "%v at a refused time", give)
	}
}

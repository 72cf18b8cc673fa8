package stream_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector/stream"
)

// TestGapEndsTheRun: a machine idle for an hour of 5-minute steps whose
// agent then dies: every later step is a gap. Summary.Idle(12), the
// package's "below the threshold, held for the last hour", stayed true
// for as long as the agent stayed dead (a gap neither extended nor ended
// the run), so a host that feeds each new step, as the package example
// does, kept calling a machine it no longer measured idle, and stopped
// it: missing data is never idleness. A gap now ends the run, as it does
// in BatchScan's runs: the hold needs that many values since the last
// gap.
func TestGapEndsTheRun(t *testing.T) {
	t.Parallel()
	s, err := stream.NewSummary(stream.SummaryConfig{Threshold: 0.10})
	require.NoError(t, err)
	p, err := stream.NewPercentileSummary(stream.SummaryConfig{Threshold: 0.10}, 1)
	require.NoError(t, err)
	for range 12 {
		s.Update(0.02)
		p.Update(0.02)
	}
	require.True(t, s.Idle(12))
	require.True(t, p.Idle(12))
	for range 100 { // the agent is dead
		s.Update(math.NaN())
		p.Update(math.NaN())
	}
	assert.False(t, s.Idle(12), "run %d after 100 gaps", s.Run())
	assert.False(t, p.Idle(12), "run %d after 100 gaps", p.Run())
	assert.Equal(t, 12, s.Count(), "a gap is not a value")
	for range 12 { // back, and idle for an hour again
		s.Update(0.02)
		p.Update(0.02)
	}
	assert.True(t, s.Idle(12))
	assert.True(t, p.Idle(12))
}

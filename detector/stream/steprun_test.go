package stream_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector/stream"
)

// TestObserveRunCountsSteps: an agent that reports every minute to a
// Summary whose Step is 5 minutes (or two agents, or retries a few
// milliseconds apart, all reporting the same machine). IdleAt(now, 12),
// "below the threshold for 12 steps of 5 minutes: an hour", counted each
// sample as a step and held after 12 minutes: a machine idle for 12
// minutes, perhaps between two jobs, read as idle for an hour. The run
// fed by Observe counts steps of Step (a step of the grid from the Unix
// epoch counts once, however many values it holds, and a value at or
// above the threshold in it still ends the run), so the hold is time.
func TestObserveRunCountsSteps(t *testing.T) {
	t.Parallel()
	const step = 5 * time.Minute
	cfg := stream.SummaryConfig{Threshold: 0.1, Step: step}
	s, err := stream.NewSummary(cfg)
	require.NoError(t, err)
	p, err := stream.NewPercentileSummary(cfg, 1)
	require.NoError(t, err)
	at := t0 // on the 5-minute grid
	observe := func(v float64) {
		t.Helper()
		require.NoError(t, s.Observe(at, v))
		require.NoError(t, p.Observe(at, v))
	}
	for range 13 { // 12 minutes, every minute
		observe(0.01)
		at = at.Add(time.Minute)
	}
	now := at.Add(-time.Minute)
	assert.Equal(t, 13, s.Count(), "every value is a value")
	assert.Equal(t, 3, s.Run(), "12 minutes touch three 5-minute steps")
	assert.False(t, s.IdleAt(now, 12), "12 minutes are not 12 steps of 5 minutes")
	assert.False(t, p.IdleAt(now, 12))
	for at.Before(t0.Add(12 * step)) { // the rest of the hour
		observe(0.01)
		at = at.Add(time.Minute)
	}
	now = at.Add(-time.Minute)
	assert.Equal(t, 12, s.Run())
	assert.True(t, s.IdleAt(now, 12), "an hour of values below the threshold")
	assert.True(t, p.IdleAt(now, 12))

	// A busy value inside a step still ends the run, and the step it is
	// in does not count again when a value below the threshold follows.
	observe(0.9)
	assert.Equal(t, 0, s.Run())
	at = at.Add(time.Minute)
	observe(0.01)
	assert.Equal(t, 0, s.Run(), "the step held a busy value")

	// Near-duplicates (a retry a millisecond later) are one step.
	d, err := stream.NewSummary(cfg)
	require.NoError(t, err)
	for i := range 12 {
		ts := t0.Add(time.Duration(i) * step)
		require.NoError(t, d.Observe(ts, 0.01))
		require.NoError(t, d.Observe(ts.Add(time.Millisecond), 0.01))
	}
	assert.Equal(t, 24, d.Count())
	assert.Equal(t, 12, d.Run())
	assert.False(t, d.IdleAt(t0.Add(11*step), 13))
	assert.True(t, d.IdleAt(t0.Add(11*step), 12))
}

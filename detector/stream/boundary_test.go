package stream_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector/stream"
)

// TestObserveGapOfExactlyOneAndAHalfSteps: SummaryConfig.Step says a value
// more than 1.5 Step after the previous one ends the run; one exactly 1.5
// Step after it (a scrape a little late) is not a gap and the run goes on.
func TestObserveGapOfExactlyOneAndAHalfSteps(t *testing.T) {
	t.Parallel()
	const step = time.Minute
	s, err := stream.NewSummary(stream.SummaryConfig{Threshold: 0.1, Step: step})
	require.NoError(t, err)
	require.NoError(t, s.Observe(t0, 0.01))
	require.NoError(t, s.Observe(t0.Add(step+step/2), 0.01))
	assert.Equal(t, 2, s.Run(), "1.5 Step is not more than 1.5 Step")
	require.NoError(t, s.Observe(t0.Add(3*step+1), 0.01))
	assert.Equal(t, 1, s.Run(), "1.5 Step and a nanosecond is a gap")
}

// TestObserveValueAtThresholdInTheSameStepEndsTheRun: a value equal to
// the threshold is not below it, so in the step of the previous value it
// still ends the run (the run keeps only values below the threshold).
func TestObserveValueAtThresholdInTheSameStepEndsTheRun(t *testing.T) {
	t.Parallel()
	const step = 5 * time.Minute
	s, err := stream.NewSummary(stream.SummaryConfig{Threshold: 0.1, Step: step})
	require.NoError(t, err)
	require.NoError(t, s.Observe(t0, 0.01))
	require.NoError(t, s.Observe(t0.Add(step), 0.01))
	require.Equal(t, 2, s.Run())
	require.NoError(t, s.Observe(t0.Add(step+time.Minute), 0.1))
	assert.Equal(t, 0, s.Run(), "a value at the threshold is not idle")
	assert.False(t, s.IdleAt(t0.Add(step+time.Minute), 1))
}

// TestZeroSummaryObserveDoesNotPanic: the zero Summary is not usable, but
// Observe on one (a struct field left unset) must not panic on the step
// grid it does not have.
func TestZeroSummaryObserveDoesNotPanic(t *testing.T) {
	t.Parallel()
	var s stream.Summary
	assert.NotPanics(t, func() {
		_ = s.Observe(t0, 0.01)
		_ = s.Observe(t0.Add(time.Minute), 0.01)
	})
}

// TestObserveStepGridBeforeTheEpoch: Observe takes times back to 1677,
// and the step grid from the Unix epoch holds there too: the values at
// −Step and a nanosecond before the epoch share a step, one a nanosecond
// before −Step is in the step before it.
func TestObserveStepGridBeforeTheEpoch(t *testing.T) {
	t.Parallel()
	const step = 5 * time.Minute
	s, err := stream.NewSummary(stream.SummaryConfig{Threshold: 0.1, Step: step})
	require.NoError(t, err)
	for _, ns := range []int64{-int64(step) - 1, -int64(step), -1} {
		require.NoError(t, s.Observe(time.Unix(0, ns), 0.01))
	}
	assert.Equal(t, 3, s.Count())
	assert.Equal(t, 2, s.Run(), "[−2 Step, −Step) and [−Step, 0) are two steps")
}

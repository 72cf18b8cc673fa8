package stream_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector/stream"
)

// TestIdleAtIsFalseWhenStale: a machine idle for an hour of 5-minute
// steps whose agent then dies; nothing arrives any more, not even a gap,
// and the machine may have started work since. Idle takes no time, so it
// said idle for as long as the agent stayed dead: missing data read as
// idleness. IdleAt(now, hold) is Idle(hold) with the last value no more
// than 1.5 Step before now; a summary fed without times (Update) has no
// last time and is never idle by it.
func TestIdleAtIsFalseWhenStale(t *testing.T) {
	t.Parallel()
	const step = 5 * time.Minute
	cfg := stream.SummaryConfig{Threshold: 0.1}
	s, err := stream.NewSummary(cfg)
	require.NoError(t, err)
	p, err := stream.NewPercentileSummary(cfg, 1)
	require.NoError(t, err)
	last := t0.Add(11 * step)
	for i := range 12 {
		require.NoError(t, s.Observe(t0.Add(time.Duration(i)*step), 0.01))
		require.NoError(t, p.Observe(t0.Add(time.Duration(i)*step), 0.01))
	}
	for _, tt := range []struct {
		name string
		now  time.Time
		want bool
	}{
		{name: "at the last value", now: last, want: true},
		{name: "a step later", now: last.Add(step), want: true},
		{name: "1.5 steps later", now: last.Add(step + step/2), want: true},
		{name: "just over 1.5 steps later", now: last.Add(step + step/2 + time.Nanosecond), want: false},
		{name: "a day later", now: last.Add(24 * time.Hour), want: false},
		{name: "before the last value", now: last.Add(-step), want: true},
	} {
		assert.Equal(t, tt.want, s.IdleAt(tt.now, 12), tt.name)
		assert.Equal(t, tt.want, p.IdleAt(tt.now, 12), tt.name)
	}
	assert.True(t, s.Idle(12), "Idle knows no time")
	assert.False(t, s.IdleAt(last, 13), "the hold still counts")

	u, err := stream.NewSummary(cfg)
	require.NoError(t, err)
	for range 12 {
		u.Update(0.01)
	}
	require.True(t, u.Idle(12))
	assert.False(t, u.IdleAt(t0, 12), "no time observed")
}

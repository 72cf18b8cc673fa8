package stream_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector/stream"
)

// TestIdleAtClockAhead: an agent whose clock runs a day ahead of the
// host's reports an idle hour and then dies. The host asks IdleAt with its
// own now, a day before the values' times: a now before the last value
// was never stale, so the machine read idle for the whole day after its
// agent died, never measured. A now before the last value by more than
// 1.5 Step is not "fresh": the two clocks disagree and the values say
// nothing of now; within 1.5 Step (clocks a little apart) it still is.
func TestIdleAtClockAhead(t *testing.T) {
	t.Parallel()
	const step = 5 * time.Minute
	cfg := stream.SummaryConfig{Threshold: 0.1}
	s, err := stream.NewSummary(cfg)
	require.NoError(t, err)
	p, err := stream.NewPercentileSummary(cfg, 1)
	require.NoError(t, err)
	ahead := t0.Add(24 * time.Hour) // the agent's clock
	for i := range 12 {
		require.NoError(t, s.Observe(ahead.Add(time.Duration(i)*step), 0.01))
		require.NoError(t, p.Observe(ahead.Add(time.Duration(i)*step), 0.01))
	}
	last := ahead.Add(11 * step)
	for _, tt := range []struct {
		name string
		now  time.Time
		want bool
	}{
		{name: "the host's now, a day behind", now: t0.Add(11 * step), want: false},
		{name: "hours after the agent died, still before its last time", now: t0.Add(12 * time.Hour), want: false},
		{name: "1.5 steps before the last value", now: last.Add(-step - step/2), want: true},
		{name: "just over 1.5 steps before it", now: last.Add(-step - step/2 - time.Nanosecond), want: false},
		{name: "the zero time", now: time.Time{}, want: false},
	} {
		assert.Equal(t, tt.want, s.IdleAt(tt.now, 12), tt.name)
		assert.Equal(t, tt.want, p.IdleAt(tt.now, 12), tt.name)
	}
}

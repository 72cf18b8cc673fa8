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

// TestRefusedBusyValueEndsTheRun: a machine idle for an hour of 5-minute
// steps; then its agent's clock jumps back an hour (or a scrape is
// retried with the time of the last sample) and the machine is busy.
// Observe refused the value for its time and left the run as it was, so
// Idle(12) held for a machine just seen at 90 %: a busy value seen at a
// wrong time was dropped as if it were never seen. A value refused for
// its time still ends the run unless it is below the threshold (dropping
// an idle value only shortens the evidence); the value is still refused
// (not counted, not in the mean or the sketch).
func TestRefusedBusyValueEndsTheRun(t *testing.T) {
	t.Parallel()
	const step = 5 * time.Minute
	last := t0.Add(11 * step)
	for _, tt := range []struct {
		name    string
		at      time.Time
		give    float64
		wantRun int
	}{
		{name: "clock back an hour, busy", at: last.Add(-time.Hour), give: 0.9, wantRun: 0},
		{name: "duplicate time, busy", at: last, give: 0.9, wantRun: 0},
		{name: "duplicate time, at the threshold", at: last, give: 0.1, wantRun: 0},
		{name: "duplicate time, a gap", at: last, give: math.NaN(), wantRun: 0},
		{name: "zero time, busy", at: time.Time{}, give: 0.9, wantRun: 0},
		{name: "before Unix nanoseconds, busy", at: time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC), give: 0.9, wantRun: 0},
		{name: "clock back an hour, idle", at: last.Add(-time.Hour), give: 0.01, wantRun: 12},
		{name: "duplicate time, idle", at: last, give: 0.01, wantRun: 12},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
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
			require.ErrorIs(t, s.Observe(tt.at, tt.give), provider.ErrInvalid)
			require.ErrorIs(t, p.Observe(tt.at, tt.give), provider.ErrInvalid)
			assert.Equal(t, tt.wantRun, s.Run())
			assert.Equal(t, tt.wantRun, p.Run())
			assert.Equal(t, tt.wantRun == 12, s.Idle(12))
			assert.Equal(t, tt.wantRun == 12, p.Idle(12))
			assert.Equal(t, 12, s.Count(), "the refused value is not counted")
			assert.InDelta(t, 0.01, p.Quantile(1), 0.01*0.05, "nor in the sketch")
			// The next value on time is accepted and follows the last one.
			require.NoError(t, s.Observe(last.Add(step), 0.01))
			assert.Equal(t, tt.wantRun+1, s.Run())
		})
	}
}

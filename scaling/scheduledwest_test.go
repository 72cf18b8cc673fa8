package scaling_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/scaling"
)

// TestScheduledDSTWestOfGreenwich pins the documented daylight-saving
// behaviour in a zone behind UTC, America/New_York: on 8 March 2026 the
// clocks jump from 02:00 to 03:00, so a 02:30 action fires at 03:30 EDT,
// not before; on 1 November 2026 they go back from 02:00 to 01:00, and a
// 01:30 action fires once, at the second 01:30 (EST).
func TestScheduledDSTWestOfGreenwich(t *testing.T) {
	t.Parallel()
	s, err := scaling.NewScheduled(scaling.ScheduledConfig{TimeZone: "America/New_York", Actions: []scaling.ScheduledAction{
		{Name: "night", Schedule: "30 2 * * *", Desired: ip(9)},
		{Name: "late", Schedule: "30 1 * * *", Desired: ip(7)},
		{Name: "evening", Schedule: "0 22 * * *", Desired: ip(3)},
	}})
	require.NoError(t, err)
	desiredAt := func(now time.Time) int {
		rec, err := s.Recommend(t.Context(), scaling.State{Now: now, Target: group(5, 0, 50)})
		require.NoError(t, err)
		return rec.Capacity.Desired
	}
	springLate := time.Date(2026, 3, 8, 6, 30, 0, 0, time.UTC) // 01:30 EST
	assert.Equal(t, 7, desiredAt(springLate), "01:30 EST is the late action's")
	assert.Equal(t, 7, desiredAt(springLate.Add(59*time.Minute)), "03:29 EDT: 02:30 does not exist and becomes 03:30 EDT")
	assert.Equal(t, 9, desiredAt(springLate.Add(time.Hour)), "03:30 EDT")
	assert.Equal(t, springLate.Add(time.Hour), s.Next(springLate).UTC(), "Next agrees")

	autumnFirst := time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC) // the first 01:30 (EDT)
	assert.Equal(t, 3, desiredAt(autumnFirst), "the evening action of the day before still holds: 01:30 fires once, at the second 01:30")
	autumnSecond := time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC) // 01:30 EST
	assert.Equal(t, 7, desiredAt(autumnSecond))
	assert.Equal(t, autumnSecond, s.Next(autumnFirst.Add(-time.Minute)).UTC(), "Next agrees")
}

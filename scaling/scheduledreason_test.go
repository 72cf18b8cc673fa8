package scaling_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/scaling"
)

// TestScheduledReasonNamesTheActionsInEffect: the reason of a scheduled
// recommendation, the audit trail's answer to "why this capacity", named
// every action that had set a value at some point of the scan, in the
// policy's order, also one whose every value a later action had replaced
// since: on a Tuesday evening it said "day since Tue 07:00; night since
// Tue 20:00" though the day action's min and desired no longer held. It
// now names the actions whose values are in effect, each once.
func TestScheduledReasonNamesTheActionsInEffect(t *testing.T) {
	t.Parallel()
	s, err := scaling.NewScheduled(scaling.ScheduledConfig{TimeZone: "Europe/Berlin", Actions: []scaling.ScheduledAction{
		{Name: "day", Schedule: "0 7 * * 1-5", Min: ip(4), Desired: ip(6)},
		{Name: "night", Schedule: "0 20 * * *", Min: ip(1), Desired: ip(2)},
		{Name: "peak", Schedule: "30 2 * * *", Max: ip(30)},
	}})
	require.NoError(t, err)
	rec, err := s.Recommend(t.Context(), scaling.State{Now: berlin(t, 2026, 3, 3, 21, 0), Target: group(3, 1, 50)})
	require.NoError(t, err)
	assert.Equal(t, 2, rec.Capacity.Desired)
	assert.Equal(t, "scheduled: night since Tue 2026-03-03 20:00 CET; peak since Tue 2026-03-03 02:30 CET", rec.Reason)

	// Tuesday 08:00: day holds min and desired, peak the max; night holds nothing.
	rec, err = s.Recommend(t.Context(), scaling.State{Now: berlin(t, 2026, 3, 3, 8, 0), Target: group(3, 1, 50)})
	require.NoError(t, err)
	assert.Equal(t, 6, rec.Capacity.Desired)
	assert.Equal(t, "scheduled: day since Tue 2026-03-03 07:00 CET; peak since Tue 2026-03-03 02:30 CET", rec.Reason)
}

package scaling_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/scaling"
)

// TestScheduledReasonNamesNoActionForAValueNoneSets: the reason of a
// scheduled recommendation names the actions whose values hold (min, max
// or desired). A value no action sets (a policy of min actions only)
// holds no action's name: with actions that all set the same one value,
// only the latest to fire is named, not the second listed as well.
func TestScheduledReasonNamesNoActionForAValueNoneSets(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		give func(v int) scaling.ScheduledAction
		day  int
	}{
		{"min only", func(v int) scaling.ScheduledAction { return scaling.ScheduledAction{Min: ip(v)} }, 2},
		{"max only", func(v int) scaling.ScheduledAction { return scaling.ScheduledAction{Max: ip(v)} }, 40},
		{"desired only", func(v int) scaling.ScheduledAction { return scaling.ScheduledAction{Desired: ip(v)} }, 6},
	} {
		day, night := tt.give(tt.day), tt.give(tt.day-1)
		day.Name, day.Schedule = "day", "0 7 * * 1-5"
		night.Name, night.Schedule = "night", "0 20 * * *"
		s, err := scaling.NewScheduled(scaling.ScheduledConfig{TimeZone: "Europe/Berlin", Actions: []scaling.ScheduledAction{day, night}})
		require.NoError(t, err)
		// Tuesday 08:00: day fired at 07:00, night on Monday at 20:00.
		rec, err := s.Recommend(t.Context(), scaling.State{Now: berlin(t, 2026, 3, 3, 8, 0), Target: group(3, 1, 50)})
		require.NoError(t, err)
		assert.Equal(t, "scheduled: day since Tue 2026-03-03 07:00 CET", rec.Reason, tt.name)
	}
}

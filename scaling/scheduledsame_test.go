package scaling_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
)

// TestScheduledActionsOnOneScheduleAreRefused: two actions on the same
// schedule (however written, in the same time zone) that set the same
// value left the later one never in effect, without a word (of actions
// that fire at one instant, the first listed wins): a copied action.
// They are refused, naming both. Actions whose schedules differ are
// accepted even where they meet, as a holiday override beside a weekday
// action is: the first listed wins there, as documented.
func TestScheduledActionsOnOneScheduleAreRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		give    scaling.ScheduledConfig
		refused bool
	}{
		{name: "same schedule", give: scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{
			{Name: "open", Schedule: "0 9 * * 1-5", Desired: ip(6)},
			{Name: "rush", Schedule: "0 9 * * 1-5", Desired: ip(10)},
		}}, refused: true},
		{name: "same schedule written twice", give: scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{
			{Name: "open", Schedule: "0 9 * * 1-5", TimeZone: "Europe/Berlin", Min: ip(2), Max: ip(20)},
			{Name: "rush", Schedule: "CRON_TZ=Europe/Berlin 0 9 * * MON-FRI", Max: ip(30)},
		}}, refused: true},
		{name: "same schedule, the policy's zone", give: scaling.ScheduledConfig{TimeZone: "Europe/Berlin", Actions: []scaling.ScheduledAction{
			{Name: "open", Schedule: "0 9 * * *", Min: ip(2)},
			{Name: "rush", Schedule: "0 9 * * *", TimeZone: "Europe/Berlin", Min: ip(3)},
		}}, refused: true},
		{name: "same schedule, other values", give: scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{
			{Name: "open", Schedule: "0 9 * * 1-5", Min: ip(2)},
			{Name: "rush", Schedule: "0 9 * * 1-5", Max: ip(30)},
		}}},
		{name: "same wall time in two zones", give: scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{
			{Name: "open", Schedule: "0 9 * * *", TimeZone: "Europe/Berlin", Desired: ip(6)},
			{Name: "rush", Schedule: "0 9 * * *", TimeZone: "Europe/London", Desired: ip(8)},
		}}},
		{name: "holiday override", give: scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{
			{Name: "christmas", Schedule: "0 9 25 12 *", Desired: ip(0)},
			{Name: "open", Schedule: "0 9 * * 1-5", Desired: ip(6)},
		}}},
		{name: "other days", give: scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{
			{Name: "open", Schedule: "0 9 * * 1-5", Desired: ip(6)},
			{Name: "weekend", Schedule: "0 9 * * 0,6", Desired: ip(2)},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := scaling.NewScheduled(tt.give)
			if !tt.refused {
				require.NoError(t, err)
				return
			}
			var inv *provider.InvalidError
			require.ErrorAs(t, err, &inv)
			assert.Equal(t, "actions[1].schedule", inv.Field, "names the second action")
			assert.Contains(t, inv.Reason, `actions[0] ("`, "names the first action")
			require.ErrorIs(t, tt.give.Validate(), provider.ErrInvalid)
		})
	}
}

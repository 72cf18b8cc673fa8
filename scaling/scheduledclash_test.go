package scaling_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
)

// TestScheduledActionsAtOneInstantAreRefused: two actions that fire at
// the same instant and set the same value (min, max or desired) left the
// first listed to win without a word, where EC2 Auto Scaling refuses two
// scheduled actions at one time; they are refused at validation, naming
// both. Actions that never fire together, or set different values when
// they do, are accepted.
func TestScheduledActionsAtOneInstantAreRefused(t *testing.T) {
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
		{name: "the first of the month on a Monday", give: scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{
			{Name: "open", Schedule: "0 9 * * 1", Min: ip(2)},
			{Name: "rush", Schedule: "0 9 1 * *", Min: ip(5)},
		}}, refused: true},
		{name: "one instant in two zones", give: scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{
			{Name: "open", Schedule: "0 9 * * *", TimeZone: "Europe/Berlin", Max: ip(20)},
			{Name: "rush", Schedule: "CRON_TZ=Europe/London 0 8 * * *", Max: ip(30)},
		}}, refused: true},
		{name: "same instant, other values", give: scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{
			{Name: "open", Schedule: "0 9 * * 1-5", Min: ip(2)},
			{Name: "rush", Schedule: "0 9 * * 1-5", Max: ip(30)},
		}}},
		{name: "other days", give: scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{
			{Name: "open", Schedule: "0 9 * * 1-5", Desired: ip(6)},
			{Name: "weekend", Schedule: "0 9 * * 0,6", Desired: ip(2)},
		}}},
		{name: "same wall time in two zones", give: scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{
			{Name: "open", Schedule: "0 9 * * *", TimeZone: "Europe/Berlin", Desired: ip(6)},
			{Name: "rush", Schedule: "0 9 * * *", TimeZone: "Europe/London", Desired: ip(8)},
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
			assert.Contains(t, inv.Reason, `actions[0] ("open")`, "names the first action")
			require.ErrorIs(t, tt.give.Validate(), provider.ErrInvalid)
		})
	}
}

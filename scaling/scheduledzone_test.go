package scaling_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
)

// TestScheduledZoneErrors checks the zones of an action whose schedule
// has a CRON_TZ prefix. Before, its time_zone was never read, so an
// unknown one passed validation and one naming another zone was
// silently ignored; and CRON_TZ=localtime, which robfig/cron loads from
// the machine's /usr/share/zoneinfo/localtime (a link to /etc/localtime
// on Debian), read the schedule in the machine's zone, which the
// strategy refuses everywhere else.
func TestScheduledZoneErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		give  scaling.ScheduledAction
		field string
	}{
		{"unknown time_zone beside CRON_TZ", scaling.ScheduledAction{Name: "a", Schedule: "CRON_TZ=Europe/Berlin 0 20 * * *", TimeZone: "Nowhere/Else", Desired: ip(1)}, "actions[0].time_zone"},
		{"time_zone other than CRON_TZ", scaling.ScheduledAction{Name: "a", Schedule: "CRON_TZ=Europe/Berlin 0 20 * * *", TimeZone: "America/New_York", Desired: ip(1)}, "actions[0].time_zone"},
		{"CRON_TZ=localtime", scaling.ScheduledAction{Name: "a", Schedule: "CRON_TZ=localtime 0 20 * * *", Desired: ip(1)}, "actions[0].schedule"},
		{"TZ=localtime", scaling.ScheduledAction{Name: "a", Schedule: "TZ=localtime 0 20 * * *", Desired: ip(1)}, "actions[0].schedule"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := scaling.NewScheduled(scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{tt.give}})
			var inv *provider.InvalidError
			require.ErrorAs(t, err, &inv)
			assert.Equal(t, tt.field, inv.Field)
		})
	}
	// The same zone in both places is not a conflict.
	_, err := scaling.NewScheduled(scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{
		{Name: "a", Schedule: "CRON_TZ=Europe/Berlin 0 20 * * *", TimeZone: "Europe/Berlin", Desired: ip(1)},
	}})
	require.NoError(t, err)
}

package scaling_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
)

// TestScheduledDesiredOutsideItsOwnBounds: an action that sets a desired
// capacity outside the min and max it sets itself contradicts itself, as
// min above max does (refused, actions[i].max), and EC2 Auto Scaling
// refuses such a scheduled action. It was taken, and its desired
// capacity silently replaced by the bound at every decision (desired 3
// with min 5 recommended 5, with max 2 recommended 2): the policy said one
// capacity and the group got another. It is now refused, naming
// actions[i].desired; a desired capacity within its own bounds, or beside
// bounds another action sets, is still taken.
func TestScheduledDesiredOutsideItsOwnBounds(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		give scaling.ScheduledAction
	}{
		{"below its min", scaling.ScheduledAction{Name: "a", Schedule: "@daily", Min: ip(5), Desired: ip(3)}},
		{"above its max", scaling.ScheduledAction{Name: "a", Schedule: "@daily", Max: ip(2), Desired: ip(3)}},
		{"outside both", scaling.ScheduledAction{Name: "a", Schedule: "@daily", Min: ip(4), Max: ip(6), Desired: ip(7)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := scaling.NewScheduled(scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{tt.give}})
			var inv *provider.InvalidError
			require.ErrorAs(t, err, &inv)
			assert.Equal(t, "actions[0].desired", inv.Field)
		})
	}
	for _, a := range []scaling.ScheduledAction{
		{Name: "a", Schedule: "@daily", Min: ip(3), Max: ip(3), Desired: ip(3)},
		{Name: "a", Schedule: "@daily", Min: ip(0), Max: ip(9), Desired: ip(0)},
		{Name: "a", Schedule: "@daily", Min: ip(5)},
		{Name: "a", Schedule: "@daily", Desired: ip(3)},
	} {
		_, err := scaling.NewScheduled(scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{a}})
		require.NoError(t, err, "%+v", a)
	}
	// From a policy file too.
	_, err := scaling.ParseConfig(strings.NewReader("targets:\n  - id: q\n    strategy: s\n    strategies:\n      - {name: s, type: scheduled, scheduled: {actions: [{name: a, schedule: '0 9 * * *', min: 5, desired: 3}]}}\n"))
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "targets[0].strategies[0].scheduled.actions[0].desired", inv.Field)
}

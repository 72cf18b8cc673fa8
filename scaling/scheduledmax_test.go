package scaling_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
)

// TestScheduledMaxBelowTheMinSaysSo: an action's max below the min in
// effect (the group's own, when no action sets one, or another action's),
// or an action's min above the group's own max, raises the max to that
// min, so that no scale in goes below a floor (EC2 Auto Scaling refuses
// such an action: the group keeps its bounds); the reason said only "cap
// since ..." (a max alone), or "night since ... (bounded to 4 by the
// group's [4, 4])", and a host read that the action's max of 2 held. The
// reason now names the max, the min, who set each, and the max raised.
func TestScheduledMaxBelowTheMinSaysSo(t *testing.T) {
	t.Parallel()
	night := scaling.ScheduledAction{Name: "night", Schedule: "0 20 * * *", Max: ip(2), Desired: ip(2)}
	day := scaling.ScheduledAction{Name: "day", Schedule: "0 7 * * 1-5", Min: ip(4)}
	for _, tt := range []struct {
		name    string
		actions []scaling.ScheduledAction
		desired int
		floor   int
		want    string
	}{
		{name: "the group's min", actions: []scaling.ScheduledAction{night}, desired: 6, floor: 4,
			want: "scheduled: night since Tue 2026-03-03 20:00 CET (night's max 2 is below the group's own min 4: max raised to 4) (bounded to 4 by the group's [4, 4])"},
		{name: "a max alone", actions: []scaling.ScheduledAction{{Name: "cap", Schedule: "0 20 * * *", Max: ip(2)}}, desired: 4, floor: 4,
			want: "scheduled: cap since Tue 2026-03-03 20:00 CET (cap's max 2 is below the group's own min 4: max raised to 4)"},
		{name: "another action's min", actions: []scaling.ScheduledAction{day, night}, desired: 6, floor: 4,
			want: "scheduled: day since Tue 2026-03-03 07:00 CET; night since Tue 2026-03-03 20:00 CET (night's max 2 is below day's min 4: max raised to 4) (bounded to 4 by the group's [4, 4])"},
		{name: "a min above the group's max", actions: []scaling.ScheduledAction{{Name: "rush", Schedule: "0 20 * * *", Min: ip(30)}}, desired: 6, floor: 30,
			want: "scheduled: rush since Tue 2026-03-03 20:00 CET (the group's own max 20 is below rush's min 30: max raised to 30) (bounded to 30 by the group's [30, 30])"},
		// Mutation testing found the edge untested: a max equal to the
		// min is not below it, and the reason does not say it was raised.
		{name: "a max equal to the min", actions: []scaling.ScheduledAction{{Name: "pin", Schedule: "0 20 * * *", Min: ip(4), Max: ip(4)}}, desired: 4, floor: 4,
			want: "scheduled: pin since Tue 2026-03-03 20:00 CET"},
	} {
		s, err := scaling.NewScheduled(scaling.ScheduledConfig{TimeZone: "Europe/Berlin", Actions: tt.actions})
		require.NoError(t, err, tt.name)
		target := scaling.Target{ID: "web", Resource: provider.Resource{ID: "web", Kind: provider.KindGroup},
			Capacity: provider.Capacity{CapacitySpec: provider.CapacitySpec{Min: 4, Max: 20, Desired: tt.desired}, Current: tt.desired, Ready: tt.desired},
			Min:      1, Max: 50}
		rec, err := s.Recommend(t.Context(), scaling.State{Now: berlin(t, 2026, 3, 3, 21, 0), Target: target})
		require.NoError(t, err, tt.name)
		assert.Equal(t, provider.CapacitySpec{Min: tt.floor, Max: tt.floor, Desired: tt.floor}, rec.Capacity, tt.name)
		assert.Equal(t, tt.want, rec.Reason, tt.name)
	}
}

package scaling_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
)

// TestDecideTakesAGroupOfFixedSize: a group's Target whose Max equals its
// Min (a fixed size, or a group of one) has bounds: Decide asks its
// strategies and does not refuse it.
func TestDecideTakesAGroupOfFixedSize(t *testing.T) {
	t.Parallel()
	eng, keep, _ := keepingEngine(t)
	for _, size := range []int{1, 3} {
		d, err := eng.Decide(t.Context(), stateWith(group(size, size, size)), keep, "")
		require.NoError(t, err, "min = max = %d", size)
		assert.False(t, d.Change)
	}
}

// TestVerticalMemoryStepBoundIs1024: MaxMemoryStepMiB is the documented
// 1024 MiB: a step of 2048 MiB is refused.
func TestVerticalMemoryStepBoundIs1024(t *testing.T) {
	t.Parallel()
	assert.Equal(t, 1024, scaling.MaxMemoryStepMiB)
	require.ErrorIs(t, scaling.VerticalConfig{MemoryStepMiB: 2048}.Validate(), provider.ErrInvalid)
}

// TestScheduledClashesBetweenAnyTwoActionsOnly: two actions on one
// schedule setting one value, the second and third, are refused naming
// them; actions on one schedule of which only one sets a value (desired
// beside min) are not.
func TestScheduledClashesBetweenAnyTwoActionsOnly(t *testing.T) {
	t.Parallel()
	_, err := scaling.NewScheduled(scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{
		{Name: "night", Schedule: "0 22 * * *", Desired: ip(1)},
		{Name: "open", Schedule: "0 9 * * 1-5", Desired: ip(6)},
		{Name: "rush", Schedule: "0 9 * * MON-FRI", Desired: ip(8)},
	}})
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "actions[2].schedule", inv.Field)
	assert.Contains(t, inv.Reason, `actions[1] ("open")`)

	_, err = scaling.NewScheduled(scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{
		{Name: "open", Schedule: "0 9 * * 1-5", Desired: ip(6)},
		{Name: "floor", Schedule: "0 9 * * 1-5", Min: ip(2)},
	}})
	require.NoError(t, err, "desired beside min: no value set twice")
}

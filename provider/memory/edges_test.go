package memory_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
)

// Mutation testing of the Cloud found these decisions untested (every
// test passed with each changed): a partial SetCapacity's half step kept
// inside the wanted bounds, its mutation logged when the half step moves
// nothing, a Resize to the current size logging nothing, a backup
// stamped at the clock's now visible, an activity event at the query's
// End outside it, and the lowest function timeout accepted.

// TestPartialSetCapacityStaysInsideItsBounds: a partial fault applies half
// of the change to desired, kept inside the bounds asked for: from 10 to
// [0, 4] desired 2, half is 6, above the new Max, and the group would hold
// a spec no SetCapacity accepts (desired 6 of at most 4).
func TestPartialSetCapacityStaysInsideItsBounds(t *testing.T) {
	t.Parallel()
	c, _ := newCloud(t)
	require.NoError(t, c.AddGroup(provider.Resource{ID: "asg"}, provider.CapacitySpec{Min: 0, Max: 10, Desired: 10}))
	_, err := c.InjectFault(memory.Fault{Op: memory.OpSetCapacity, Partial: true})
	require.NoError(t, err)

	err = c.SetCapacity(t.Context(), "asg", provider.CapacitySpec{Min: 0, Max: 4, Desired: 2})
	require.ErrorIs(t, err, memory.ErrPartial)
	c.ClearFaults()
	got, err := c.Capacity(t.Context(), "asg")
	require.NoError(t, err)
	require.NoError(t, got.CapacitySpec.Validate(), "the group's spec is one SetCapacity accepts")
	assert.Equal(t, provider.CapacitySpec{Min: 0, Max: 4, Desired: 4}, got.CapacitySpec, "half of 10 → 2 is 6, kept at the new max 4")
}

// TestPartialSetCapacityThatMovesNothingIsLogged: a partial change of one
// instance moves desired by none (half of 1), but the call still failed
// part-way: the mutation log has it, with its error, as the doc of
// Mutation.Err says, though the spec did not change.
func TestPartialSetCapacityThatMovesNothingIsLogged(t *testing.T) {
	t.Parallel()
	c, _ := newCloud(t)
	spec := provider.CapacitySpec{Min: 1, Max: 10, Desired: 4}
	require.NoError(t, c.AddGroup(provider.Resource{ID: "asg"}, spec))
	before := len(c.Mutations())
	_, err := c.InjectFault(memory.Fault{Op: memory.OpSetCapacity, Partial: true})
	require.NoError(t, err)

	err = c.SetCapacity(t.Context(), "asg", provider.CapacitySpec{Min: 1, Max: 10, Desired: 5})
	require.ErrorIs(t, err, memory.ErrPartial)
	ms := c.Mutations()
	require.Len(t, ms, before+1, "the partial call is logged")
	assert.Equal(t, memory.OpSetCapacity, ms[before].Op)
	assert.Equal(t, "min=1 max=10 desired=4", ms[before].To)
	require.ErrorIs(t, ms[before].Err, memory.ErrPartial)
}

// TestResizeToTheCurrentSizeLogsNothing: Resizing to the current size
// succeeds and changes nothing (provider.Resizer), so the mutation log,
// which a test reads as what a pipeline did, holds no resize.
func TestResizeToTheCurrentSizeLogsNothing(t *testing.T) {
	t.Parallel()
	c, _ := newCloud(t)
	require.NoError(t, c.Add(provider.Resource{ID: "i-1", Kind: provider.KindInstance, Size: provider.Size{InstanceType: "m5.large"}}))
	before := len(c.Mutations())
	require.NoError(t, c.Resize(t.Context(), "i-1", provider.Size{InstanceType: "m5.large"}))
	assert.Len(t, c.Mutations(), before)
	require.NoError(t, c.Resize(t.Context(), "i-1", provider.Size{InstanceType: "m5.xlarge"}))
	assert.Len(t, c.Mutations(), before+1)
}

// TestFunctionTimeoutAtItsLowestIsAccepted: Config.FunctionTimeout bounds
// a function's timeout inclusively, at its low end too.
func TestFunctionTimeoutAtItsLowestIsAccepted(t *testing.T) {
	t.Parallel()
	c, _ := newCloud(t)
	require.NoError(t, c.Add(provider.Resource{ID: "f", Kind: provider.KindFunction, Size: provider.Size{MemoryMiB: 256, Timeout: 3 * time.Second}}))
	require.NoError(t, c.Resize(t.Context(), "f", provider.Size{MemoryMiB: 128, Timeout: time.Second}))
	got, err := c.Get(t.Context(), "f")
	require.NoError(t, err)
	assert.Equal(t, provider.Size{MemoryMiB: 128, Timeout: time.Second}, got.Size)
}

// TestBackupAndActivityAtTheEdges: a backup stamped at the clock's now is
// visible (Backups: no later than now), and an activity event counts in
// [q.Start, q.End): at Start it counts, at End it does not (it belongs to
// the next window, which a caller reading adjacent windows counts once).
func TestBackupAndActivityAtTheEdges(t *testing.T) {
	t.Parallel()
	c, clk := newCloud(t)
	now := clk.Now()
	require.NoError(t, c.Add(provider.Resource{ID: "i-1", Kind: provider.KindInstance}))
	require.NoError(t, c.AddBackup(provider.Backup{ID: "snap-now", ResourceID: "i-1", Time: now, Complete: true}))
	bs, err := c.Backups(t.Context(), "i-1", now.Add(-time.Hour))
	require.NoError(t, err)
	require.Len(t, bs, 1, "a backup at now is visible")
	assert.Equal(t, "snap-now", bs[0].ID)

	start, end := now.Add(-time.Hour), now.Add(-30*time.Minute)
	require.NoError(t, c.RecordActivity("i-1", provider.ActivityLogins, start, 1))
	require.NoError(t, c.RecordActivity("i-1", provider.ActivityLogins, end, 10))
	got, err := c.Activity(t.Context(), provider.ActivityQuery{ResourceID: "i-1", Start: start, End: end})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.InDelta(t, 1.0, got[0].Count, 0, "the event at End is the next window's")
	assert.Equal(t, start, got[0].Last)
	got, err = c.Activity(t.Context(), provider.ActivityQuery{ResourceID: "i-1", Start: end, End: now})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.InDelta(t, 10.0, got[0].Count, 0)
}

package memory_test

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
)

// The cloud keeps one launch or drain time per instance: a huge capacity
// (desired math.MaxInt) once allocated without bound under the lock, hanging
// the process. Capacities above MaxGroupSize are refused, naming the field,
// and nothing changes.
func TestCapacityBeyondMaxGroupSize(t *testing.T) {
	t.Parallel()
	c, err := memory.New(memory.Config{})
	require.NoError(t, err)
	require.NoError(t, c.AddGroup(provider.Resource{ID: "asg"}, provider.CapacitySpec{Max: 4, Desired: 2}))
	for _, spec := range []provider.CapacitySpec{
		{Max: math.MaxInt, Desired: math.MaxInt},
		{Max: memory.MaxGroupSize + 1, Desired: 1},
	} {
		err := c.SetCapacity(t.Context(), "asg", spec)
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, "capacity.max", ie.Field)
	}
	got, err := c.Capacity(t.Context(), "asg")
	require.NoError(t, err)
	assert.Equal(t, provider.CapacitySpec{Max: 4, Desired: 2}, got.CapacitySpec)
	require.NoError(t, c.SetCapacity(t.Context(), "asg", provider.CapacitySpec{Max: memory.MaxGroupSize, Desired: 3}))

	err = c.AddGroup(provider.Resource{ID: "huge"}, provider.CapacitySpec{Max: math.MaxInt, Desired: math.MaxInt})
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "capacity.max", ie.Field)

	f, err := memory.ParseFleet(strings.NewReader("resources: [{id: g, kind: group, capacity: {min: 0, max: 9223372036854775807, desired: 1}}]"))
	if err == nil {
		err = c.ApplyFleet(f, "testdata")
	}
	require.ErrorIs(t, err, provider.ErrInvalid)
}

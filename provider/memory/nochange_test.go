package memory_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
)

// A SetCapacity to the capacity the group already has changes nothing,
// and records no mutation, as a Stop of a stopped instance or a Resize to
// its size do not: it logged one, so a test asserting from Mutations what
// a pipeline changed saw a scaling that never happened. A change records
// one, as before.
func TestSetCapacityUnchangedRecordsNothing(t *testing.T) {
	t.Parallel()
	c, err := memory.New(memory.Config{})
	require.NoError(t, err)
	spec := provider.CapacitySpec{Min: 1, Max: 4, Desired: 2}
	require.NoError(t, c.AddGroup(provider.Resource{ID: "asg"}, spec))
	before := len(c.Mutations())
	require.NoError(t, c.SetCapacity(t.Context(), "asg", spec))
	assert.Len(t, c.Mutations(), before, "nothing changed")

	require.NoError(t, c.SetCapacity(t.Context(), "asg", provider.CapacitySpec{Min: 1, Max: 4, Desired: 3}))
	ms := c.Mutations()
	require.Len(t, ms, before+1)
	assert.Equal(t, memory.OpSetCapacity, ms[before].Op)
	assert.Equal(t, "min=1 max=4 desired=3", ms[before].To)
}

// Update fills a catalogue instance type's vCPUs, memory and (unset) cost
// as Add does: it stored an updated instance of m5.large with 0 vCPUs,
// 0 MiB and a cost of 0, so the detector saw no savings in it and a
// resize plan no size to move from.
func TestUpdateFillsTheCatalogueSize(t *testing.T) {
	t.Parallel()
	c, err := memory.New(memory.Config{})
	require.NoError(t, err)
	require.NoError(t, c.Add(provider.Resource{ID: "i-1", Kind: provider.KindInstance, Size: provider.Size{InstanceType: "t3.micro"}}))
	added, err := c.Get(t.Context(), "i-1")
	require.NoError(t, err)

	require.NoError(t, c.Update(provider.Resource{ID: "i-1", Size: provider.Size{InstanceType: "t3.micro"}, Tags: map[string]string{"team": "a"}}))
	got, err := c.Get(t.Context(), "i-1")
	require.NoError(t, err)
	assert.Equal(t, added.Size, got.Size)
	assert.InDelta(t, added.HourlyCost, got.HourlyCost, 1e-12)
	assert.Equal(t, "a", got.Tags["team"])

	require.NoError(t, c.Update(provider.Resource{ID: "i-1", Size: provider.Size{InstanceType: "t3.micro"}, HourlyCost: 0.5}))
	got, err = c.Get(t.Context(), "i-1")
	require.NoError(t, err)
	assert.InDelta(t, 0.5, got.HourlyCost, 1e-12, "a cost set is kept")
}

// TestUpdateToAnotherTypeTakesItsSize: an Update of a resource read with
// Get to another catalogue type kept the old type's vCPUs, memory and
// hourly cost, which it carried (only zeros were filled): an m5.large
// moved to m5.2xlarge was stored with 2 vCPUs, 8 GiB and $0.096 an hour,
// so the cost report and the vertical strategy read the old size. The
// fields carried over from the old type now take the new type's; one the
// caller changed is kept.
func TestUpdateToAnotherTypeTakesItsSize(t *testing.T) {
	t.Parallel()
	c, err := memory.New(memory.Config{})
	require.NoError(t, err)
	require.NoError(t, c.Add(provider.Resource{ID: "i-1", Kind: provider.KindInstance, Size: provider.Size{InstanceType: "m5.large"}}))
	r, err := c.Get(t.Context(), "i-1")
	require.NoError(t, err)
	r.Size.InstanceType = "m5.2xlarge"
	require.NoError(t, c.Update(r))
	got, err := c.Get(t.Context(), "i-1")
	require.NoError(t, err)
	want, ok := memory.LookupInstanceType("m5.2xlarge")
	require.True(t, ok)
	assert.Equal(t, provider.Size{InstanceType: "m5.2xlarge", VCPU: want.VCPU, MemoryMiB: want.MemoryMiB}, got.Size)
	assert.InDelta(t, want.HourlyCost, got.HourlyCost, 1e-12)

	got.Size.InstanceType, got.HourlyCost = "c5.large", 0.05 // a negotiated price
	require.NoError(t, c.Update(got))
	got, err = c.Get(t.Context(), "i-1")
	require.NoError(t, err)
	want, ok = memory.LookupInstanceType("c5.large")
	require.True(t, ok)
	assert.Equal(t, provider.Size{InstanceType: "c5.large", VCPU: want.VCPU, MemoryMiB: want.MemoryMiB}, got.Size)
	assert.InDelta(t, 0.05, got.HourlyCost, 1e-12, "a cost the caller set is kept")
}

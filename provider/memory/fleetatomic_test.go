package memory_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
)

// TestApplyFleetIsAtomic: a fleet is applied in one step, so that a
// reader meanwhile (a reaper's or an autoscaler's pass over a Cloud a
// host is loading) sees each resource with its data or not at all. The
// resources were added first and their capacities, metrics, backups and
// activity one call after another: a group read in between had a
// capacity of {0, 0, 0}, an instance no metrics (unknown), and the last
// resource's data came after the first resource's was read.
func TestApplyFleetIsAtomic(t *testing.T) {
	t.Parallel()
	c, err := memory.New(memory.Config{})
	require.NoError(t, err)
	now := c.Now()
	samples := make([]provider.Sample, 50_000) // long: validated between the adds
	for i := range samples {
		samples[i] = provider.Sample{Time: now.Add(time.Duration(i-len(samples)) * time.Second), Value: 0.5}
	}
	spec := provider.CapacitySpec{Min: 1, Max: 4, Desired: 2}
	fleet := memory.Fleet{Resources: []memory.FleetResource{
		{Resource: provider.Resource{ID: "i-1", Kind: provider.KindInstance}, Metrics: []memory.FleetMetric{{Metric: provider.MetricCPU, Samples: samples}}},
		{Resource: provider.Resource{ID: "web", Kind: provider.KindGroup}, Capacity: &spec},
	}}
	done := make(chan error, 1)
	go func() { done <- c.ApplyFleet(fleet, "") }()
	q := provider.Query{ResourceID: "i-1", Metric: provider.MetricCPU, Start: now.Add(-time.Hour), End: now, Step: time.Hour}
	var seenGroup, seenMetric bool
	for {
		var applied bool
		select {
		case err := <-done:
			require.NoError(t, err)
			applied = true
		default:
		}
		if got, err := c.Capacity(t.Context(), "web"); !errors.Is(err, provider.ErrNotFound) {
			require.NoError(t, err)
			assert.Equal(t, spec, got.CapacitySpec, "a group read while the fleet is applied")
			seenGroup = true
		}
		if s, err := c.QueryMetric(t.Context(), q); !errors.Is(err, provider.ErrNotFound) {
			require.NoError(t, err)
			assert.NotZero(t, s.Coverage(), "an instance read while the fleet is applied has its metrics")
			seenMetric = true
		}
		if applied {
			require.True(t, seenGroup && seenMetric)
			return
		}
		if t.Failed() {
			require.NoError(t, <-done)
			return
		}
	}
}

package memory_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
)

// TestBatchReadsFireFaults checks that an injected fault fires in a batch
// read exactly as in the per-resource calls: on its resource's read alone,
// counting every read toward Nth.
func TestBatchReadsFireFaults(t *testing.T) {
	t.Parallel()
	c, _ := seed(t)
	ctx := t.Context()
	_, err := c.InjectFault(memory.Fault{Op: memory.OpGet, ResourceID: "i-b", Throttle: true})
	require.NoError(t, err)
	rr := []provider.ResourceRead{{ID: "i-a"}, {ID: "i-b"}, {ID: "web"}}
	require.NoError(t, c.GetResources(ctx, rr))
	require.NoError(t, rr[0].Err)
	assert.Equal(t, "i-a", rr[0].Resource.ID)
	require.ErrorIs(t, rr[1].Err, provider.ErrThrottled)
	require.NoError(t, rr[2].Err)
	c.ClearFaults()

	_, err = c.InjectFault(memory.Fault{Op: memory.OpCapacity, Nth: 2})
	require.NoError(t, err)
	cr := []provider.CapacityRead{{ID: "web"}, {ID: "web"}, {ID: "web"}}
	require.NoError(t, c.GetCapacities(ctx, cr))
	require.NoError(t, cr[0].Err)
	require.ErrorIs(t, cr[1].Err, memory.ErrInjected, "the second read is the fault's second call")
	require.NoError(t, cr[2].Err)
	assert.Equal(t, 2, cr[2].Capacity.Desired)
	c.ClearFaults()

	_, err = c.InjectFault(memory.Fault{Op: memory.OpQueryMetric, Times: 1})
	require.NoError(t, err)
	mr := []provider.MetricRead{{Query: cpuQuery()}, {Query: cpuQuery()}}
	require.NoError(t, c.QueryMetrics(ctx, mr))
	require.ErrorIs(t, mr[0].Err, memory.ErrInjected)
	require.NoError(t, mr[1].Err)
	assert.Len(t, mr[1].Series.Values, 12)
}

// TestQueryMetricsReusesValues checks that QueryMetrics answers a stored
// series as QueryMetric does, writing into the capacity each read brings,
// and that a step after the clock's now stays a gap.
func TestQueryMetricsReusesValues(t *testing.T) {
	t.Parallel()
	c, m := newCloud(t)
	require.NoError(t, c.AddGroup(provider.Resource{ID: "web"}, provider.CapacitySpec{Min: 1, Max: 5, Desired: 2}))
	vals := make([]float64, 120)
	for i := range vals {
		vals[i] = float64(i)
	}
	start := m.Now().Add(-time.Hour)
	require.NoError(t, c.SetSeries(provider.Series{ResourceID: "web", Metric: provider.MetricCPU, Start: start, Step: time.Minute, Values: vals}))
	q := provider.Query{ResourceID: "web", Metric: provider.MetricCPU, Start: m.Now().Add(-3 * time.Minute), End: m.Now().Add(2 * time.Minute), Step: time.Minute}
	dst := make([]float64, 0, 16)
	reads := []provider.MetricRead{{Query: q, Series: provider.Series{Values: dst}}, {Query: q}}
	require.NoError(t, c.QueryMetrics(t.Context(), reads))
	want, err := c.QueryMetric(t.Context(), q)
	require.NoError(t, err)
	for i, r := range reads {
		require.NoError(t, r.Err, i)
		assert.Equal(t, want.Start, r.Series.Start)
		assert.Equal(t, want.Step, r.Series.Step)
		assert.Equal(t, q.ResourceID, r.Series.ResourceID)
		require.Len(t, r.Series.Values, 5)
		assert.Equal(t, []float64{57, 58, 59, 60}, r.Series.Values[:4], "read %d", i)
		assert.True(t, provider.IsGap(r.Series.Values[4]), "read %d: the step after now is a gap", i)
		assert.Equal(t, want.Values[:4], r.Series.Values[:4], "read %d answers as QueryMetric", i)
	}
	assert.Same(t, &dst[:1][0], &reads[0].Series.Values[0], "the read's capacity is used")
}

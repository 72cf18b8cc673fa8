package memory_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
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

// TestQueryMetricsValidatesEachRead checks that every read of a batch is
// answered as QueryMetric answers it alone, errors included, when reads
// that differ from a valid one in a single field (each field wrong in
// turn, an unknown or invalid resource) follow it in any order: a batch
// validates a read again unless only its stored resource differs.
func TestQueryMetricsValidatesEachRead(t *testing.T) {
	t.Parallel()
	c, m := newCloud(t)
	for k, id := range []string{"web", "api"} {
		vals := make([]float64, 120)
		for i := range vals {
			vals[i] = float64(100*k + i) // distinct by resource and step
		}
		require.NoError(t, c.AddGroup(provider.Resource{ID: id}, provider.CapacitySpec{Min: 1, Max: 5, Desired: 2}))
		require.NoError(t, c.SetSeries(provider.Series{ResourceID: id, Metric: provider.MetricCPU, Start: m.Now().Add(-time.Hour), Step: time.Minute, Values: vals}))
	}
	base := provider.Query{ResourceID: "web", Metric: provider.MetricCPU, Start: m.Now().Add(-5 * time.Minute), End: m.Now(), Step: time.Minute}
	vary := func(f func(*provider.Query)) provider.Query { q := base; f(&q); return q }
	queries := []provider.Query{
		base,
		vary(func(q *provider.Query) { q.ResourceID = "api" }),
		vary(func(q *provider.Query) { q.ResourceID = "gone" }),
		vary(func(q *provider.Query) { q.ResourceID = "bad id" }),
		vary(func(q *provider.Query) { q.Metric = "no_such_metric" }),
		vary(func(q *provider.Query) { q.Metric = provider.MetricMemory }),
		vary(func(q *provider.Query) { q.Step = 0 }),
		vary(func(q *provider.Query) { q.Step = time.Nanosecond }),
		vary(func(q *provider.Query) { q.Start = time.Time{} }),
		vary(func(q *provider.Query) { q.End = q.Start }),
		vary(func(q *provider.Query) { q.Statistic = "median" }),
		vary(func(q *provider.Query) { q.Statistic = provider.StatMax }),
	}
	rng := rand.New(rand.NewPCG(3, 5))
	for round := range 200 {
		order := slices.Clone(queries)
		if round > 0 {
			rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		}
		reads := make([]provider.MetricRead, len(order))
		for i, q := range order {
			reads[i].Query = q
		}
		require.NoError(t, c.QueryMetrics(t.Context(), reads))
		for i, q := range order {
			want, werr := c.QueryMetric(t.Context(), q)
			if werr != nil {
				require.Error(t, reads[i].Err, "round %d: %+v", round, q)
				assert.Equal(t, werr.Error(), reads[i].Err.Error(), "round %d", round)
				continue
			}
			require.NoError(t, reads[i].Err, "round %d: %+v", round, q)
			assert.Equal(t, want.Start, reads[i].Series.Start)
			assert.Equal(t, fmt.Sprint(want.Values), fmt.Sprint(reads[i].Series.Values), "round %d: %+v (printed: gaps are NaN)", round, q)
		}
	}
}

// zeroClock reads the zero time.
type zeroClock struct{}

func (zeroClock) Now() time.Time                       { return time.Time{} }
func (zeroClock) After(time.Duration) <-chan time.Time { return make(chan time.Time) }

// TestQueryMetricsAtZeroTime checks a batch at the zero time answers as
// QueryMetric: the step at now is visible (a batch remembers now + 1 ns
// for its queries, and had taken its empty memory for the zero time's;
// found by a review).
func TestQueryMetricsAtZeroTime(t *testing.T) {
	t.Parallel()
	c, err := memory.New(memory.Config{}, memory.WithClock(zeroClock{}))
	require.NoError(t, err)
	require.NoError(t, c.AddGroup(provider.Resource{ID: "web"}, provider.CapacitySpec{Min: 1, Max: 5, Desired: 2}))
	var z time.Time
	require.NoError(t, c.SetSeries(provider.Series{ResourceID: "web", Metric: provider.MetricCPU, Start: z.Add(-time.Minute), Step: time.Minute, Values: []float64{1, 2, 3}}))
	q := provider.Query{ResourceID: "web", Metric: provider.MetricCPU, Start: z.Add(-time.Minute), End: z.Add(2 * time.Minute), Step: time.Minute}
	want, err := c.QueryMetric(t.Context(), q)
	require.NoError(t, err)
	require.Equal(t, []float64{1, 2}, want.Values[:2])
	reads := []provider.MetricRead{{Query: q}}
	require.NoError(t, c.QueryMetrics(t.Context(), reads))
	require.NoError(t, reads[0].Err)
	require.Equal(t, want.Values[:2], reads[0].Series.Values[:2])
	require.True(t, provider.IsGap(reads[0].Series.Values[2]), "the step after now")
}

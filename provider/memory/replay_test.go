package memory_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
)

// Replay puts the trace's last sample at end. An unset end, or one so far
// from the trace that the shift does not fit in a time.Duration (which
// saturates, leaving the last sample elsewhere), is an error naming end.
func TestReplayEndOutOfReach(t *testing.T) {
	t.Parallel()
	c, err := memory.New(memory.Config{})
	require.NoError(t, err)
	require.NoError(t, c.Add(provider.Resource{ID: "i-1", Kind: provider.KindInstance}))
	trace := []provider.Sample{
		{Time: time.Date(2014, 4, 10, 0, 0, 0, 0, time.UTC), Value: 1},
		{Time: time.Date(2014, 4, 10, 0, 5, 0, 0, time.UTC), Value: 2},
	}
	for _, end := range []time.Time{{}, time.Date(2400, 1, 1, 0, 0, 0, 0, time.UTC)} {
		err := c.Replay("i-1", provider.MetricCPU, trace, end)
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, "end %v", end)
		assert.Equal(t, "end", ie.Field)
	}
	end := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	require.NoError(t, c.Replay("i-1", provider.MetricCPU, trace, end))
}

// TestReplayIsAtomic: a Replay replaces the metric's data in one step, so
// that a query made meanwhile reads the old trace or the new one, never
// neither. It removed the old data under one lock and stored the new
// under another, after validating the trace again: a concurrent query
// read a resource whose CPU had been measured all along as all gaps
// (unknown), and a concurrent AddSamples in between made the Replay fail
// with the old trace gone and the new one not stored.
func TestReplayIsAtomic(t *testing.T) {
	t.Parallel()
	c, err := memory.New(memory.Config{})
	require.NoError(t, err)
	require.NoError(t, c.Add(provider.Resource{ID: "i-1", Kind: provider.KindInstance}))
	end := c.Now()
	trace := make([]provider.Sample, 50_000) // long: the window between the two locks was its validation
	from := end.Add(-time.Duration(len(trace)) * time.Second)
	for i := range trace {
		trace[i] = provider.Sample{Time: from.Add(time.Duration(i) * time.Second), Value: 0.5}
	}
	require.NoError(t, c.Replay("i-1", provider.MetricCPU, trace, end))
	q := provider.Query{ResourceID: "i-1", Metric: provider.MetricCPU, Start: end.Add(-time.Hour), End: end, Step: time.Hour}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 10 {
			assert.NoError(t, c.Replay("i-1", provider.MetricCPU, trace, end))
		}
	}()
	gaps := 0
	for reads := 0; ; reads++ {
		select {
		case <-done:
			assert.Zero(t, gaps, "of %d reads during the replays, %d found no data", reads, gaps)
			return
		default:
		}
		s, err := c.QueryMetric(t.Context(), q)
		require.NoError(t, err)
		if s.Coverage() == 0 {
			gaps++
		}
	}
}

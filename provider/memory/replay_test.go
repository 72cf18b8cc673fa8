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

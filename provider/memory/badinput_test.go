package memory_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
)

// A fault with a negative count or latency is refused, naming the field.
func TestFaultValidate(t *testing.T) {
	t.Parallel()
	for field, f := range map[string]memory.Fault{
		"fault.nth":     {Op: memory.OpGet, Nth: -1},
		"fault.times":   {Op: memory.OpGet, Times: -1},
		"fault.latency": {Op: memory.OpGet, Latency: -time.Nanosecond},
	} {
		var ie *provider.InvalidError
		require.ErrorAs(t, f.Validate(), &ie, field)
		assert.Equal(t, field, ie.Field)
	}
	require.NoError(t, memory.Fault{Op: memory.OpGet}.Validate(), "zeros: every call, no latency")
}

// A fleet's CSV that is unreadable as a trace (a column it does not
// have), holds no samples, or a metric or activity kind that does not
// exist: an error naming the field, and nothing added.
func TestApplyFleetBadMetrics(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cpu.csv"), []byte("timestamp,value\n2026-01-01T00:00:00Z,0.5\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "empty.csv"), []byte("timestamp,value\n"), 0o600))
	for _, tt := range []struct {
		name  string
		res   memory.FleetResource
		field string
	}{
		{"a column the file lacks", memory.FleetResource{Resource: provider.Resource{ID: "i", Kind: provider.KindInstance},
			Metrics: []memory.FleetMetric{{Metric: provider.MetricCPU, CSV: "cpu.csv", ValueColumn: "load"}}}, "resources[0].metrics[0]"},
		{"no samples", memory.FleetResource{Resource: provider.Resource{ID: "i", Kind: provider.KindInstance},
			Metrics: []memory.FleetMetric{{Metric: provider.MetricCPU, CSV: "empty.csv"}}}, "resources[0].metrics[0].csv"},
		{"unknown metric", memory.FleetResource{Resource: provider.Resource{ID: "i", Kind: provider.KindInstance},
			Metrics: []memory.FleetMetric{{Metric: "vcpu", CSV: "cpu.csv"}}}, "resources[0].metrics[0].metric"},
		{"unknown activity kind", memory.FleetResource{Resource: provider.Resource{ID: "i", Kind: provider.KindInstance},
			TrackActivity: []provider.ActivityKind{"telepathy"}}, "resources[0].track_activity"},
	} {
		c, _ := newCloud(t)
		err := c.ApplyFleet(memory.Fleet{Resources: []memory.FleetResource{tt.res}}, dir)
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, tt.name)
		assert.Contains(t, ie.Field, tt.field, tt.name)
		all, err := c.List(t.Context(), provider.Filter{})
		require.NoError(t, err)
		assert.Empty(t, all, "%s: a rejected fleet adds nothing", tt.name)
	}
}

// Replay replaces the metric's stored samples.
func TestReplayReplaces(t *testing.T) {
	t.Parallel()
	c, err := memory.New(memory.Config{})
	require.NoError(t, err)
	require.NoError(t, c.Add(provider.Resource{ID: "i-1", Kind: provider.KindInstance}))
	end := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	require.NoError(t, c.AddSamples("i-1", provider.MetricCPU, provider.Sample{Time: end.Add(-time.Hour), Value: 0.9}))
	trace := []provider.Sample{{Time: time.Date(2014, 4, 10, 0, 0, 0, 0, time.UTC), Value: 0.1}, {Time: time.Date(2014, 4, 10, 0, 5, 0, 0, time.UTC), Value: 0.2}}
	require.NoError(t, c.Replay("i-1", provider.MetricCPU, trace, end))
	s, err := c.QueryMetric(t.Context(), provider.Query{ResourceID: "i-1", Metric: provider.MetricCPU,
		Start: end.Add(-time.Hour), End: end.Add(5 * time.Minute), Step: 5 * time.Minute})
	require.NoError(t, err)
	require.Len(t, s.Values, 13)
	assert.True(t, provider.IsGap(s.Values[0]), "the hour-old 0.9 is gone")
	assert.Equal(t, []float64{0.1, 0.2}, s.Values[11:])
}

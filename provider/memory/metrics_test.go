package memory_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/trace"
)

func TestQueryOnlySeesThePast(t *testing.T) {
	t.Parallel()
	c, m := newCloud(t)
	require.NoError(t, c.Add(provider.Resource{ID: "i", Kind: provider.KindInstance}))
	var s []provider.Sample
	for i := range 12 { // one sample a minute from epoch-5m to epoch+6m
		s = append(s, provider.Sample{Time: epoch.Add(time.Duration(i-5) * time.Minute), Value: float64(i)})
	}
	require.NoError(t, c.AddSamples("i", provider.MetricCPU, s...))
	q := provider.Query{ResourceID: "i", Metric: provider.MetricCPU, Start: epoch.Add(-5 * time.Minute), End: epoch.Add(5 * time.Minute), Step: 5 * time.Minute, Statistic: provider.StatCount}
	got, err := c.QueryMetric(t.Context(), q)
	require.NoError(t, err)
	assert.InDelta(t, 5.0, got.Values[0], 0)
	assert.InDelta(t, 1.0, got.Values[1], 0, "only the sample at now is visible in the second step")
	m.Add(5 * time.Minute)
	got, err = c.QueryMetric(t.Context(), q)
	require.NoError(t, err)
	assert.InDelta(t, 5.0, got.Values[1], 0, "as the clock advances, the trace plays out")
}

func TestAddSamplesMustAppend(t *testing.T) {
	t.Parallel()
	c, _ := newCloud(t)
	require.NoError(t, c.Add(provider.Resource{ID: "i", Kind: provider.KindInstance}))
	require.NoError(t, c.AddSamples("i", provider.MetricCPU, provider.Sample{Time: epoch, Value: 1}))
	require.ErrorIs(t, c.AddSamples("i", provider.MetricCPU, provider.Sample{Time: epoch, Value: 2}), provider.ErrInvalid)
	require.ErrorIs(t, c.AddSamples("i", provider.MetricCPU, provider.Sample{Time: epoch.Add(time.Second), Value: math.NaN()}), provider.ErrInvalid)
	require.ErrorIs(t, c.AddSamples("i", "gpu", provider.Sample{Time: epoch.Add(time.Second), Value: 1}), provider.ErrUnknownMetric)
	require.ErrorIs(t, c.AddSamples("nope", provider.MetricCPU), provider.ErrNotFound)
}

func TestReplayShiftsRealTrace(t *testing.T) {
	t.Parallel()
	c, _ := newCloud(t)
	require.NoError(t, c.Add(provider.Resource{ID: "i", Kind: provider.KindInstance}))
	trace, err := trace.ReadCSVFile("../../testdata/nab/ec2_cpu_utilization_24ae8d.csv", trace.CSVOptions{Scale: 0.01})
	require.NoError(t, err)
	require.Len(t, trace, 4032)
	require.NoError(t, c.Replay("i", provider.MetricCPU, trace, epoch))
	q := provider.Query{ResourceID: "i", Metric: provider.MetricCPU, Start: epoch.Add(-14 * 24 * time.Hour), End: epoch.Add(time.Nanosecond), Step: time.Hour, Statistic: provider.StatMax}
	got, err := c.QueryMetric(t.Context(), q)
	require.NoError(t, err)
	assert.Greater(t, got.Coverage(), 0.99)
	for i, v := range got.Values {
		if !provider.IsGap(v) {
			assert.Less(t, v, 0.024, "step %d: the idle trace stays below 2.4 %% CPU", i)
		}
	}
	_, last, ok := got.Last()
	require.True(t, ok)
	assert.InDelta(t, trace[len(trace)-1].Value, last, 1e-12, "the trace ends at the replay end")
	require.ErrorIs(t, c.Replay("i", provider.MetricCPU, nil, epoch), provider.ErrInvalid)
}

func TestSetSeriesResamples(t *testing.T) {
	t.Parallel()
	c, _ := newCloud(t)
	require.NoError(t, c.Add(provider.Resource{ID: "i", Kind: provider.KindInstance}))
	vals := []float64{1, 2, 3, math.NaN(), 5, 6, 7, 8}
	require.NoError(t, c.SetSeries(provider.Series{ResourceID: "i", Metric: provider.MetricCPU, Start: epoch.Add(-8 * time.Minute), Step: time.Minute, Values: vals}))
	q := provider.Query{ResourceID: "i", Metric: provider.MetricCPU, Start: epoch.Add(-10 * time.Minute), End: epoch, Step: 2 * time.Minute}
	got, err := c.QueryMetric(t.Context(), q)
	require.NoError(t, err)
	want := []float64{math.NaN(), 1.5, 3, 5.5, 7.5}
	require.Len(t, got.Values, len(want))
	for i, w := range want {
		if math.IsNaN(w) {
			assert.True(t, provider.IsGap(got.Values[i]), "step %d", i)
		} else {
			assert.InDelta(t, w, got.Values[i], 1e-12, "step %d", i)
		}
	}
	require.ErrorIs(t, c.SetSeries(provider.Series{ResourceID: "i", Metric: provider.MetricCPU, Step: 0}), provider.ErrInvalid)
	require.ErrorIs(t, c.SetSeries(provider.Series{ResourceID: "x", Metric: provider.MetricCPU, Start: epoch, Step: time.Minute}), provider.ErrNotFound)
}

func TestActivityAndBackupsVisibility(t *testing.T) {
	t.Parallel()
	c, m := newCloud(t)
	ctx := t.Context()
	require.NoError(t, c.Add(provider.Resource{ID: "db", Kind: provider.KindDatabase}))
	require.NoError(t, c.TrackActivity("db", provider.ActivityDBQueries))
	require.NoError(t, c.RecordActivity("db", provider.ActivityLogins, epoch.Add(time.Minute), 1)) // future
	require.NoError(t, c.RecordActivity("db", provider.ActivityLogins, epoch.Add(-time.Minute), 2))
	require.NoError(t, c.RecordActivity("db", provider.ActivityLogins, epoch.Add(-2*time.Minute), 3))
	q := provider.ActivityQuery{ResourceID: "db", Start: epoch.Add(-time.Hour), End: epoch.Add(time.Hour)}
	got, err := c.Activity(ctx, q)
	require.NoError(t, err)
	assert.Equal(t, []provider.ActivityCount{
		{Kind: provider.ActivityDBQueries, Count: 0},
		{Kind: provider.ActivityLogins, Count: 5, Last: epoch.Add(-time.Minute)},
	}, got, "tracked kinds report 0; future events stay hidden")
	m.Add(time.Minute)
	got, err = c.Activity(ctx, q)
	require.NoError(t, err)
	assert.InDelta(t, 6.0, got[1].Count, 0)
	require.ErrorIs(t, c.RecordActivity("db", provider.ActivityLogins, time.Time{}, 1), provider.ErrInvalid)
	require.ErrorIs(t, c.TrackActivity("db", "dreams"), provider.ErrInvalid)

	require.NoError(t, c.AddBackup(provider.Backup{ID: "future", ResourceID: "db", Time: epoch.Add(time.Hour)}))
	b, err := c.Backups(ctx, "db", time.Time{})
	require.NoError(t, err)
	assert.Empty(t, b, "a backup stamped in the future is not visible yet")
	require.ErrorIs(t, c.AddBackup(provider.Backup{ID: "future", ResourceID: "db", Time: epoch}), provider.ErrConflict)
	require.ErrorIs(t, c.AddBackup(provider.Backup{ID: "x", ResourceID: "nope", Time: epoch}), provider.ErrNotFound)
}

// A backup ID twice in one AddBackup call is a conflict like one already
// stored, and the call adds nothing: a catalogue never lists a backup twice.
func TestAddBackupTwiceInOneCall(t *testing.T) {
	t.Parallel()
	c, _ := newCloud(t)
	require.NoError(t, c.Add(provider.Resource{ID: "db", Kind: provider.KindDatabase}))
	b := provider.Backup{ID: "snap", ResourceID: "db", Time: epoch.Add(-time.Hour), Complete: true}
	other := provider.Backup{ID: "other", ResourceID: "db", Time: epoch.Add(-time.Hour)}
	require.ErrorIs(t, c.AddBackup(other, b, b), provider.ErrConflict)
	got, err := c.Backups(t.Context(), "db", time.Time{})
	require.NoError(t, err)
	assert.Empty(t, got, "a refused call adds nothing")
	// The same ID on two resources is two backups.
	require.NoError(t, c.Add(provider.Resource{ID: "db2", Kind: provider.KindDatabase}))
	b2 := b
	b2.ResourceID = "db2"
	require.NoError(t, c.AddBackup(b, b2))
}

func TestSetSeriesSameGridFastPath(t *testing.T) {
	t.Parallel()
	c, m := newCloud(t)
	require.NoError(t, c.Add(provider.Resource{ID: "i", Kind: provider.KindInstance}))
	// Six one-minute steps from now-3m to now+3m; the last two are future.
	vals := []float64{1, math.NaN(), 3, 4, 5, 6}
	require.NoError(t, c.SetSeries(provider.Series{ResourceID: "i", Metric: provider.MetricCPU, Start: epoch.Add(-3 * time.Minute), Step: time.Minute, Values: vals}))
	q := provider.Query{ResourceID: "i", Metric: provider.MetricCPU, Start: epoch.Add(-5 * time.Minute), End: epoch.Add(4 * time.Minute), Step: time.Minute}
	for _, stat := range []provider.Statistic{provider.StatMean, provider.StatMax, provider.StatSum, provider.Percentile(90)} {
		qq := q
		qq.Statistic = stat
		got, err := c.QueryMetric(t.Context(), qq)
		require.NoError(t, err)
		// before data ×2, 1, gap, 3, 4 (the step at now), 5 and 6 (future),
		// beyond the series
		want := []float64{math.NaN(), math.NaN(), 1, math.NaN(), 3, 4, math.NaN(), math.NaN(), math.NaN()}
		require.Len(t, got.Values, len(want), string(stat))
		for i, w := range want {
			if math.IsNaN(w) {
				assert.True(t, provider.IsGap(got.Values[i]), "%s step %d = %v, want a gap", stat, i, got.Values[i])
			} else {
				assert.InDelta(t, w, got.Values[i], 0, "%s step %d", stat, i)
			}
		}
	}
	m.Add(time.Minute)
	got, err := c.QueryMetric(t.Context(), q)
	require.NoError(t, err)
	assert.InDelta(t, 5.0, got.Values[6], 0, "the next step becomes visible as the clock moves")
	assert.True(t, provider.IsGap(got.Values[7]), "the step after it is still in the future")
}

// TestAddSamplesOfNoSampleKeepsASeries: AddSamples with no sample (a
// trace chunk that came out empty) replaced a metric stored with
// SetSeries by nothing, so the resource's whole series read as gaps;
// adding no sample changes nothing, and still names an unknown resource.
func TestAddSamplesOfNoSampleKeepsASeries(t *testing.T) {
	t.Parallel()
	c, _ := newCloud(t)
	require.NoError(t, c.Add(provider.Resource{ID: "i", Kind: provider.KindInstance}))
	require.NoError(t, c.SetSeries(provider.Series{ResourceID: "i", Metric: provider.MetricCPU, Start: epoch.Add(-3 * time.Minute), Step: time.Minute, Values: []float64{0.1, 0.2, 0.3}}))
	require.NoError(t, c.AddSamples("i", provider.MetricCPU))
	got, err := c.QueryMetric(t.Context(), provider.Query{ResourceID: "i", Metric: provider.MetricCPU, Start: epoch.Add(-3 * time.Minute), End: epoch, Step: time.Minute})
	require.NoError(t, err)
	assert.Equal(t, []float64{0.1, 0.2, 0.3}, got.Values)
	require.ErrorIs(t, c.AddSamples("nope", provider.MetricCPU), provider.ErrNotFound)
}

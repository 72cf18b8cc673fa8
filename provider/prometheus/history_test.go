package prometheus_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/prometheus"
)

// A week of real NAB CPU data backfilled with promtool reads back exactly
// as provider.Resample puts the same samples on the same grid, for every
// statistic, aligned or not, including the busy trace's gaps.
func TestHistoryMatchesTrace(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	src := newSource(t, fx.historyConfig())
	from := fx.nabEnd.Add(-week)
	tests := []struct {
		name  string
		start time.Time
		end   time.Time
		step  time.Duration
	}{
		{"week hourly", from, fx.nabEnd, time.Hour},
		{"last day at the trace's step", fx.nabEnd.Add(-24 * time.Hour), fx.nabEnd, nabStep},
		{"odd grid cut by end", from.Add(7*time.Minute + 123*time.Millisecond), fx.nabEnd.Add(-41 * time.Minute), 17 * time.Minute},
		{"beyond the data", fx.nabEnd.Add(-2 * time.Hour), fx.nabEnd.Add(2 * time.Hour), 30 * time.Minute},
	}
	for _, tt := range tests {
		for _, id := range []string{nabIdle, nabBusy} {
			t.Run(tt.name+"/"+id, func(t *testing.T) {
				t.Parallel()
				for _, st := range allStats {
					q := provider.Query{ResourceID: id, Metric: provider.MetricCPU, Start: tt.start, End: tt.end, Step: tt.step, Statistic: st}
					want, err := provider.Resample(q, fx.nab[id])
					require.NoError(t, err)
					got, err := src.QueryMetric(t.Context(), q)
					require.NoError(t, err)
					assertSameSeries(t, want, got, string(st))
				}
			})
		}
	}
}

// The busy trace has two 10-minute holes; at its own step they are gaps.
func TestHistoryGapsStayGaps(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	src := newSource(t, fx.historyConfig())
	q := provider.Query{ResourceID: nabBusy, Metric: provider.MetricCPU, Start: fx.nabEnd.Add(-week), End: fx.nabEnd, Step: nabStep}
	got, err := src.QueryMetric(t.Context(), q)
	require.NoError(t, err)
	want, err := provider.Resample(q, fx.nab[nabBusy])
	require.NoError(t, err)
	require.Equal(t, want.Gaps(), got.Gaps())
	require.Equal(t, q.Steps()-len(fx.nab[nabBusy]), got.Gaps(), "one gap per missing 5-minute sample")
}

// A week at a 30 s step is 20,160 points, over Prometheus's 11,000 per
// query: the driver splits it, and any split gives the same series.
func TestHistoryLongRangeIsSplit(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	q := provider.Query{ResourceID: nabIdle, Metric: provider.MetricCPU, Start: fx.nabEnd.Add(-week), End: fx.nabEnd, Step: 30 * time.Second, Statistic: provider.StatMax}
	require.Greater(t, q.Steps(), prometheus.DefaultMaxPoints)
	want, err := provider.Resample(q, fx.nab[nabIdle])
	require.NoError(t, err)
	for _, maxPoints := range []int{0, 7000, 2999} {
		cfg := fx.historyConfig()
		cfg.MaxPoints = maxPoints
		got, err := newSource(t, cfg).QueryMetric(t.Context(), q)
		require.NoError(t, err, "max points %d", maxPoints)
		assertSameSeries(t, want, got, "split")
	}
}

// The default node-exporter CPU template reads the same traces backfilled
// as idle-CPU counters: 1 − rate(idle seconds) over a 10-minute window,
// sampled every minute, averaged per hour.
func TestHistoryDefaultCPUTemplateOnCounters(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	src := newSource(t, prometheus.Config{Address: fx.srv.URL, Lookback: time.Hour, RateWindow: 10 * time.Minute})
	for _, id := range []string{nabIdle, nabBusy} {
		q := provider.Query{ResourceID: id + "-node", Metric: provider.MetricCPU, Start: fx.nabEnd.Add(-week), End: fx.nabEnd, Step: time.Hour}
		got, err := src.QueryMetric(t.Context(), q)
		require.NoError(t, err)
		q.ResourceID = id
		want, err := provider.Resample(q, fx.nab[id])
		require.NoError(t, err)
		worst := 0.0
		for i, w := range want.Values {
			g := got.Values[i]
			if provider.IsGap(g) || provider.IsGap(w) {
				continue
			}
			worst = max(worst, math.Abs(g-w))
		}
		t.Logf("%s: coverage %.3f, worst hourly difference %.4f", id, got.Coverage(), worst)
		assert.InDelta(t, 1, got.Coverage(), 1e-9, "%s: every hour has rate points", id)
		// Each hour's points see up to 10 minutes of the hour before
		// through the rate window, so hourly means may differ by a part of
		// the change between hours; measured: 0.0002 idle, 0.008 busy.
		assert.LessOrEqual(t, worst, 0.02, id)
	}
}

// An activity count over a window older than the data (a server that
// keeps less, a counter that began later) says where its data begins: the
// backfilled counters hold one week, so a 28-day window ending with them
// is covered from a week back, at most one step (an hour) late, never
// early. A window inside the data is covered whole.
func TestHistoryActivitySince(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	cfg := fx.historyConfig()
	cfg.Activity = map[provider.ActivityKind]string{
		provider.ActivityProcesses: `sum(increase(node_cpu_seconds_total{ {{.Matchers}} }[{{.Range}}]))`,
	}
	src := newSource(t, cfg)
	const day = 24 * time.Hour
	first := fx.nabEnd.Add(-week + nabStep) // the first backfilled sample
	for _, id := range []string{nabIdle + "-node", nabBusy + "-node"} {
		got, err := src.Activity(t.Context(), provider.ActivityQuery{ResourceID: id, Start: fx.nabEnd.Add(-28 * day), End: fx.nabEnd})
		require.NoError(t, err)
		require.Len(t, got, 1, "%+v", got)
		since := got[0].Since
		assert.False(t, since.Before(first), "%s: the count covers from %s, before its first sample at %s", id, since, first)
		assert.False(t, since.After(first.Add(time.Hour+nabStep)), "%s: the count covers from %s, over a step after its first sample at %s", id, since, first)
		assert.Greater(t, got[0].Count, 0.0, id)

		// Inside the data: covered whole, at both ends of the grid.
		for _, start := range []time.Time{first.Add(time.Hour + nabStep), first.Add(2*time.Hour + 7*time.Minute + 123*time.Millisecond)} {
			got, err = src.Activity(t.Context(), provider.ActivityQuery{ResourceID: id, Start: start, End: fx.nabEnd})
			require.NoError(t, err)
			require.Len(t, got, 1, "%+v", got)
			assert.True(t, got[0].Since.IsZero(), "%s from %s: covered from %s", id, start, got[0].Since)
		}
	}
}

// A counter sampled every five minutes (the backfilled week: a slow
// exporter's scrape interval, a recording rule's) covers a short window
// inside its data whole, as a long one: the second query that finds where
// a count begins steps at the rate window (5m) over such windows, and a
// step of it holding a single sample is not a step without data. Read as
// covering nothing (Since = End), a recheck of the quiet period failed
// with detector.ErrPartialActivity and the activity signal was unknown on
// every read: the reaper never stopped anything on this source.
func TestHistoryActivitySinceOnSparseSamples(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	cfg := fx.historyConfig() // RateWindow 5m, the samples' interval
	cfg.Activity = map[provider.ActivityKind]string{
		provider.ActivityProcesses: `sum(increase(node_cpu_seconds_total{ {{.Matchers}} }[{{.Range}}]))`,
	}
	src := newSource(t, cfg)
	end := fx.nabEnd.Add(-24*time.Hour - 7*time.Minute - 123*time.Millisecond) // inside the data, off the grid
	for _, window := range []time.Duration{30 * time.Minute, time.Hour, 2 * 24 * time.Hour} {
		for _, at := range []time.Time{end, fx.nabEnd.Add(-24 * time.Hour)} {
			q := provider.ActivityQuery{ResourceID: nabIdle + "-node", Start: at.Add(-window), End: at}
			got, err := src.Activity(t.Context(), q)
			require.NoError(t, err)
			require.Len(t, got, 1, "%+v", got)
			assert.Greater(t, got[0].Count, 0.0, "%s before %s", window, at)
			assert.True(t, got[0].Since.IsZero(), "%s before %s: covered from %s only", window, at, got[0].Since)
		}
	}
}

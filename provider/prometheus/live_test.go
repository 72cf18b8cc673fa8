package prometheus_test

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/prometheus"
)

func newSource(t testing.TB, cfg prometheus.Config, opts ...prometheus.Option) *prometheus.Source {
	t.Helper()
	s, err := prometheus.New(cfg, opts...)
	require.NoError(t, err)
	return s
}

// rawSamples returns the raw samples of selector in [from, to), read
// straight from the server with a range selector; they are the ground truth
// the driver's reductions are checked against.
func rawSamples(t *testing.T, fx *fixture, selector string, from, to time.Time) []provider.Sample {
	t.Helper()
	client, err := api.NewClient(api.Config{Address: fx.srv.URL})
	require.NoError(t, err)
	window := to.Sub(from) - time.Millisecond
	val, _, _, err := v1.NewAPI(client).Query(t.Context(), fmt.Sprintf("%s[%dms]", selector, window.Milliseconds()), to.Add(-time.Millisecond))
	require.NoError(t, err)
	m, ok := val.(model.Matrix)
	require.True(t, ok, "want a matrix, got %T", val)
	require.LessOrEqual(t, len(m), 1, "selector %s returned several series", selector)
	if len(m) == 0 {
		return nil
	}
	out := make([]provider.Sample, 0, len(m[0].Values))
	for _, p := range m[0].Values {
		out = append(out, provider.Sample{Time: p.Timestamp.Time(), Value: float64(p.Value)})
	}
	return out
}

// settled returns a range of n steps that ends 2 s ago, when every scrape
// in it has been stored.
func settled(n int, step time.Duration) (time.Time, time.Time) {
	end := time.Now().Add(-2 * time.Second).Truncate(time.Millisecond)
	return end.Add(-time.Duration(n) * step), end
}

func assertSameSeries(t *testing.T, want, got provider.Series, what string) {
	t.Helper()
	require.Equal(t, want.Len(), got.Len(), what)
	assert.True(t, want.Start.Equal(got.Start), "%s: start %s, want %s", what, got.Start, want.Start)
	assert.Equal(t, want.Step, got.Step, what)
	for i := range want.Values {
		w, g := want.Values[i], got.Values[i]
		if provider.IsGap(w) {
			assert.True(t, provider.IsGap(g), "%s: step %d = %v, want a gap", what, i, g)
			continue
		}
		assert.InDelta(t, w, g, 1e-9*math.Max(1, math.Abs(w)), "%s: step %d", what, i)
	}
}

var allStats = []provider.Statistic{
	provider.StatMean, provider.StatMax, provider.StatMin, provider.StatSum,
	provider.StatCount, provider.StatLast, provider.Percentile(50), provider.Percentile(90),
}

// A bare selector is reduced over its raw scraped samples: every statistic
// equals provider.Resample of the raw samples on the same grid, so each
// step holds exactly the samples in [start, start+step).
func TestLiveStatisticsMatchRawSamples(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	src := newSource(t, fx.liveConfig())
	app := fx.srv.ExporterTargets[0]
	start, end := settled(5, 2*time.Second)
	// An odd start, not on a second boundary, so steps cut between scrapes.
	start = start.Add(-337 * time.Millisecond)
	raw := rawSamples(t, fx, fmt.Sprintf(`idlescale_test_load{instance=%q}`, app), start, end)
	require.NotEmpty(t, raw, "no raw samples of idlescale_test_load")
	for _, st := range allStats {
		q := provider.Query{ResourceID: app, Metric: provider.CustomMetric("load"), Start: start, End: end, Step: 2 * time.Second, Statistic: st}
		want, err := provider.Resample(q, raw)
		require.NoError(t, err)
		got, err := src.QueryMetric(t.Context(), q)
		require.NoError(t, err, "statistic %s", st)
		assertSameSeries(t, want, got, "statistic "+string(st))
		assert.Positive(t, got.Coverage(), "statistic %s", st)
	}
}

// A derived expression is sampled by a subquery; its statistics must
// still be ordered min ≤ p50 ≤ max and min ≤ mean ≤ max, and twice the
// load's.
func TestLiveDerivedExpression(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	src := newSource(t, fx.liveConfig())
	app := fx.srv.ExporterTargets[0]
	start, end := settled(4, 2*time.Second)
	get := func(st provider.Statistic) provider.Series {
		got, err := src.QueryMetric(t.Context(), provider.Query{ResourceID: app, Metric: provider.CustomMetric("load2"), Start: start, End: end, Step: 2 * time.Second, Statistic: st})
		require.NoError(t, err)
		return got
	}
	mean, lo, hi, med := get(provider.StatMean), get(provider.StatMin), get(provider.StatMax), get(provider.Percentile(50))
	require.Positive(t, mean.Coverage())
	for i := range mean.Values {
		if provider.IsGap(mean.Values[i]) {
			continue
		}
		assert.LessOrEqual(t, lo.Values[i], mean.Values[i]+1e-12, "step %d", i)
		assert.LessOrEqual(t, mean.Values[i], hi.Values[i]+1e-12, "step %d", i)
		assert.LessOrEqual(t, lo.Values[i], med.Values[i], "step %d", i)
		assert.LessOrEqual(t, med.Values[i], hi.Values[i], "step %d", i)
		assert.LessOrEqual(t, hi.Values[i], 2.0, "step %d: the load is at most 1, twice it at most 2", i)
	}
}

// The default node-exporter templates read the live node exporter.
func TestLiveNodeExporterDefaults(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	src := newSource(t, fx.liveConfig())
	node := fx.srv.NodeTarget
	tests := []struct {
		give     provider.Metric
		lo, hi   float64
		mustHave bool
	}{
		// rate() extrapolates, so a utilization may leave [0, 1] by a hair.
		{give: provider.MetricCPU, lo: -0.05, hi: 1.05, mustHave: true},
		{give: provider.MetricMemory, lo: 0, hi: 1, mustHave: true},
		{give: provider.MetricNetworkIn, lo: 0, hi: math.Inf(1), mustHave: true},
		{give: provider.MetricNetworkOut, lo: 0, hi: math.Inf(1), mustHave: true},
		{give: provider.MetricDiskRead, lo: 0, hi: math.Inf(1), mustHave: true},
		{give: provider.MetricDiskWrite, lo: 0, hi: math.Inf(1), mustHave: true},
		{give: provider.MetricDiskUtilization, lo: -0.05, hi: 1.05, mustHave: true},
		// Virtual NICs often report no link speed; then it is all gaps.
		{give: provider.MetricNetworkUtilization, lo: 0, hi: 1.05},
	}
	for _, tt := range tests {
		t.Run(string(tt.give), func(t *testing.T) {
			t.Parallel()
			// The server may have run for only a few seconds: poll until the
			// latest step holds data.
			assert.EventuallyWithT(t, func(c *assert.CollectT) {
				start, end := settled(5, 2*time.Second)
				q := provider.Query{ResourceID: node, Metric: tt.give, Start: start, End: end, Step: 2 * time.Second}
				got, err := src.QueryMetric(t.Context(), q)
				if !assert.NoError(c, err) {
					return
				}
				assert.Equal(c, q.Steps(), got.Len())
				for i, v := range got.Values {
					if !provider.IsGap(v) {
						assert.GreaterOrEqual(c, v, tt.lo, "step %d", i)
						assert.LessOrEqual(c, v, tt.hi, "step %d", i)
					}
				}
				if tt.mustHave {
					assert.False(c, provider.IsGap(got.Values[got.Len()-1]), "latest step of %s is a gap: %v", tt.give, got.Values)
				}
			}, 20*time.Second, 250*time.Millisecond)
		})
	}
}

// A series that disappears from the exporter is marked stale; the steps
// after it are gaps, for a bare selector and for a derived expression
// (whose subquery would otherwise carry the last value for 5 minutes).
func TestLiveStaleSeriesAreGaps(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	src := newSource(t, fx.liveConfig())
	app := fx.srv.ExporterTargets[0]
	ctx := t.Context()
	fx.app.ephemeral.WithLabelValues("k").Set(0.5)
	set := time.Now()
	require.NoError(t, fx.srv.WaitFor(ctx, `idlescale_test_ephemeral`, 1, 20*time.Second))
	// Let two scrapes see it, then remove it.
	waitScrapes(t, fx, 2)
	fx.app.ephemeral.DeleteLabelValues("k")
	deleted := time.Now()
	require.NoError(t, waitGone(ctx, fx, `idlescale_test_ephemeral`, 20*time.Second))
	gone := time.Now()
	waitScrapes(t, fx, 4)
	step := time.Second
	start := set.Truncate(step)
	end := gone.Add(3 * step).Truncate(step)
	for _, m := range []provider.Metric{provider.CustomMetric("ephemeral"), provider.CustomMetric("eph2")} {
		got, err := src.QueryMetric(ctx, provider.Query{ResourceID: app, Metric: m, Start: start, End: end, Step: step, Statistic: provider.StatMax})
		require.NoError(t, err)
		before, after := 0, 0
		for i, v := range got.Values {
			at := got.TimeAt(i)
			switch {
			case at.Add(step).Before(deleted) && !provider.IsGap(v):
				before++
			case !at.Before(gone):
				after++
				assert.True(t, provider.IsGap(v), "%s: step %d at %s, after the series went stale at %s, = %v, want a gap", m, i, at, gone, v)
			}
		}
		assert.Positive(t, before, "%s: no data before the series was removed: %v", m, got.Values)
		assert.Positive(t, after, "%s: no step after the series went stale was checked", m)
	}
}

// waitScrapes waits until the app exporter was scraped n more times.
func waitScrapes(t *testing.T, fx *fixture, n int64) {
	t.Helper()
	target := fx.app.scrapes.Load() + n
	require.Eventually(t, func() bool { return fx.app.scrapes.Load() >= target }, 20*time.Second, 50*time.Millisecond)
}

// waitGone polls until the instant query returns no series.
func waitGone(ctx context.Context, fx *fixture, query string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		n, err := fx.srv.Query(ctx, query)
		if err == nil && n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return fmt.Errorf("%q: %w: %w", query, err, ctx.Err())
			}
			return fmt.Errorf("%q still returns %d series: %w", query, n, ctx.Err())
		case <-tick.C:
		}
	}
}

func TestLiveQueryErrors(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	app := fx.srv.ExporterTargets[0]
	start, end := settled(3, 2*time.Second)
	query := func(m provider.Metric) provider.Query {
		return provider.Query{ResourceID: app, Metric: m, Start: start, End: end, Step: 2 * time.Second}
	}
	t.Run("several series", func(t *testing.T) {
		t.Parallel()
		_, err := newSource(t, fx.liveConfig()).QueryMetric(t.Context(), query(provider.CustomMetric("multi")))
		require.ErrorIs(t, err, prometheus.ErrSeveralSeries)
		var se *prometheus.SeriesError
		require.ErrorAs(t, err, &se)
		assert.Len(t, se.Series, 2)
	})
	t.Run("bad PromQL from a template", func(t *testing.T) {
		t.Parallel()
		_, err := newSource(t, fx.liveConfig()).QueryMetric(t.Context(), query(provider.CustomMetric("badpromql")))
		require.ErrorIs(t, err, prometheus.ErrBadQuery)
		require.ErrorIs(t, err, provider.ErrInvalid)
		var apiErr *v1.Error
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, v1.ErrBadData, apiErr.Type)
	})
	t.Run("Check finds the bad template", func(t *testing.T) {
		t.Parallel()
		err := newSource(t, fx.liveConfig()).Check(t.Context())
		require.ErrorIs(t, err, prometheus.ErrBadQuery)
		assert.Contains(t, err.Error(), "config.metrics[custom/badpromql]")
		assert.NotContains(t, err.Error(), "config.metrics[cpu]")
		require.NoError(t, newSource(t, fx.historyConfig()).Check(t.Context()), "the default templates are valid PromQL")
	})
	t.Run("non-finite values are gaps and warned about", func(t *testing.T) {
		t.Parallel()
		var mu sync.Mutex
		var warnings []prometheus.Warning
		src := newSource(t, fx.liveConfig(), prometheus.WithWarningFunc(func(w prometheus.Warning) {
			mu.Lock()
			defer mu.Unlock()
			warnings = append(warnings, w)
		}))
		got, err := src.QueryMetric(t.Context(), query(provider.CustomMetric("inf")))
		require.NoError(t, err)
		assert.Equal(t, got.Len(), got.Gaps(), "values %v", got.Values)
		mu.Lock()
		defer mu.Unlock()
		require.NotEmpty(t, warnings)
		assert.Contains(t, warnings[0].Warnings[0], "not finite")
	})
	t.Run("a step cut short by end", func(t *testing.T) {
		t.Parallel()
		// One step, shorter than Step: read with an instant query.
		short := func(m provider.Metric) provider.Query {
			q := query(m)
			q.Start = q.End.Add(-1500 * time.Millisecond)
			return q
		}
		src := newSource(t, fx.liveConfig())
		_, err := src.QueryMetric(t.Context(), short(provider.CustomMetric("multi")))
		var se *prometheus.SeriesError
		require.ErrorAs(t, err, &se)
		assert.Len(t, se.Series, 2)
		assert.Contains(t, err.Error(), `shard="a"`, "the message names the series")
		got, err := src.QueryMetric(t.Context(), short(provider.CustomMetric("inf")))
		require.NoError(t, err)
		require.Equal(t, 1, got.Len())
		assert.True(t, provider.IsGap(got.Values[0]))
		got, err = src.QueryMetric(t.Context(), short(provider.CustomMetric("load")))
		require.NoError(t, err)
		assert.False(t, provider.IsGap(got.Values[0]), "1.5 s of a 1 s scrape holds a sample")
	})
	t.Run("metric without a template", func(t *testing.T) {
		t.Parallel()
		_, err := newSource(t, fx.liveConfig()).QueryMetric(t.Context(), query(provider.MetricRequests))
		require.ErrorIs(t, err, provider.ErrUnsupported)
	})
	t.Run("unknown resource", func(t *testing.T) {
		t.Parallel()
		q := query(provider.MetricCPU)
		q.ResourceID = "10.9.9.9:9100"
		_, err := newSource(t, fx.liveConfig()).QueryMetric(t.Context(), q)
		require.ErrorIs(t, err, provider.ErrNotFound)
	})
	t.Run("step not whole milliseconds", func(t *testing.T) {
		t.Parallel()
		q := query(provider.MetricCPU)
		q.Step = 1500 * time.Microsecond
		_, err := newSource(t, fx.liveConfig()).QueryMetric(t.Context(), q)
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, "query.step", ie.Field)
	})
}

func TestLiveInventory(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	src := newSource(t, fx.liveConfig())
	ctx := t.Context()
	node, app := fx.srv.NodeTarget, fx.srv.ExporterTargets[0]
	all, err := src.List(ctx, provider.Filter{})
	require.NoError(t, err)
	byID := map[string]provider.Resource{}
	for _, r := range all {
		require.NoError(t, r.Validate())
		byID[r.ID] = r
	}
	for id, want := range map[string]provider.State{node: provider.StateRunning, app: provider.StateRunning, fx.down: provider.StateStopped, nabIdle: provider.StateRunning, nabBusy: provider.StateRunning} {
		r, ok := byID[id]
		if assert.True(t, ok, "List misses %s: %v", id, all) {
			assert.Equal(t, want, r.State, id)
			assert.Equal(t, provider.KindInstance, r.Kind, id)
			assert.Equal(t, "prometheus", r.Provider, id)
		}
	}
	assert.Equal(t, "infra", byID[node].Tags["team"])
	assert.Equal(t, "node", byID[node].Tags["job"])
	assert.Equal(t, "test", byID[node].Environment)
	assert.Equal(t, "web", byID[app].Role)
	assert.NotContains(t, byID[node].Tags, "__name__")

	tests := []struct {
		name string
		give provider.Filter
		want []string
	}{
		{"stopped", provider.Filter{States: []provider.State{provider.StateStopped}}, []string{fx.down}},
		{"environment", provider.Filter{Environment: "test"}, []string{node}},
		{"ids", provider.Filter{IDs: []string{nabIdle, app, "nope.example:1"}}, sortedIDs(app, nabIdle)},
		{"tag any value", provider.Filter{Tags: map[string]string{"job": "nab"}}, []string{nabBusy, nabIdle}},
		{"id with regexp characters", provider.Filter{IDs: []string{"nab-.*"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := src.List(ctx, tt.give)
			require.NoError(t, err)
			ids := make([]string, 0, len(got))
			for _, r := range got {
				ids = append(ids, r.ID)
			}
			assert.ElementsMatch(t, tt.want, ids)
			assert.IsNonDecreasing(t, ids)
		})
	}
	r, err := src.Get(ctx, fx.down)
	require.NoError(t, err)
	assert.Equal(t, provider.StateStopped, r.State)
	_, err = src.Get(ctx, "10.9.9.9:9100")
	require.ErrorIs(t, err, provider.ErrNotFound)
}

func sortedIDs(ids ...string) []string { return ids }

func TestLiveActivity(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	src := newSource(t, fx.liveConfig())
	start, end := settled(1, 10*time.Second)
	// The app exporter counts the scrapes it serves (one a second).
	got, err := src.Activity(t.Context(), provider.ActivityQuery{ResourceID: fx.srv.ExporterTargets[0], Start: start, End: end})
	require.NoError(t, err)
	require.Len(t, got, 1, "only api_calls has a counter on the app target: %+v", got)
	assert.Equal(t, provider.ActivityAPICalls, got[0].Kind)
	assert.InDelta(t, 10, got[0].Count, 3, "10 s of scrapes at 1/s")
	// The tests may read this window seconds after the server began to
	// scrape the target: the count covers it whole, or from a time after
	// the server started and before the fixture was ready (the cover is
	// never overstated).
	if since := got[0].Since; !since.IsZero() {
		assert.True(t, since.After(fx.started) && !since.After(fx.ready), "counted since %s; the server started at %s, was ready at %s", since, fx.started, fx.ready)
	}
	// The node exporter has node_forks_total but no http_requests_total.
	got, err = src.Activity(t.Context(), provider.ActivityQuery{ResourceID: fx.srv.NodeTarget, Start: start, End: end})
	require.NoError(t, err)
	require.Len(t, got, 1, "%+v", got)
	assert.Equal(t, provider.ActivityProcesses, got[0].Kind)
	assert.GreaterOrEqual(t, got[0].Count, 0.0)
	// Errors.
	_, err = src.Activity(t.Context(), provider.ActivityQuery{ResourceID: "10.9.9.9:9100", Start: start, End: end})
	require.ErrorIs(t, err, provider.ErrNotFound)
	_, err = src.Activity(t.Context(), provider.ActivityQuery{ResourceID: fx.srv.NodeTarget, Start: start, End: start.Add(time.Millisecond)})
	require.ErrorIs(t, err, provider.ErrInvalid)
}

// A window reaching back before the server started counts only from its
// first scrapes, and says so: Since is after the fixture started and no
// later than when the tests began to read it. The window is an hour, so
// that its cover is found at steps of 5 s (an hour / 672, rounded; a day
// would step 129 s, and Since, the end of the first step with data, could
// then fall after the fixture was ready); the server started less than an
// hour ago.
func TestLiveActivitySinceTheServerStarted(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	src := newSource(t, fx.liveConfig())
	_, end := settled(1, 10*time.Second)
	require.Less(t, end.Sub(fx.started), time.Hour, "the server started over an hour ago")
	got, err := src.Activity(t.Context(), provider.ActivityQuery{ResourceID: fx.srv.ExporterTargets[0], Start: end.Add(-time.Hour), End: end})
	require.NoError(t, err)
	require.Len(t, got, 1, "%+v", got)
	since := got[0].Since
	assert.True(t, since.After(fx.started), "counted since %s, before the server started at %s", since, fx.started)
	assert.False(t, since.After(fx.ready), "counted since %s, after the fixture was ready at %s", since, fx.ready)
}

// Activity templates that return several series, or a negative count, are
// errors, not counts.
func TestLiveActivityErrors(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	tests := []struct {
		name string
		give string
		want error
	}{
		{"several series", `idlescale_test_multi{ {{.Matchers}} }`, prometheus.ErrSeveralSeries},
		{"negative", `-1 - idlescale_test_load{ {{.Matchers}} }`, prometheus.ErrBadResult},
		{"bad PromQL", `increase(idlescale_test_load{ {{.Matchers}} })`, prometheus.ErrBadQuery},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := fx.liveConfig()
			cfg.Activity = map[provider.ActivityKind]string{provider.ActivityLogins: tt.give}
			src := newSource(t, cfg)
			// A scrape that timed out on a loaded machine marks the
			// target's series stale, and an instant query then finds no
			// sample for a moment: ask again until the series are there.
			assert.EventuallyWithT(t, func(c *assert.CollectT) {
				start, end := settled(1, 10*time.Second)
				_, err := src.Activity(t.Context(), provider.ActivityQuery{ResourceID: fx.srv.ExporterTargets[0], Start: start, End: end})
				assert.ErrorIs(c, err, tt.want)
			}, 30*time.Second, 250*time.Millisecond)
		})
	}
}

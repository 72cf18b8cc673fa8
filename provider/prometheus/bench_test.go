package prometheus_test

import (
	"testing"
	"time"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/prometheus"
)

// BenchmarkQueryMetricWeek reads a week of a backfilled NAB trace at its
// own 5-minute step (2,016 points, one range query plus the target lookup)
// from the real server.
func BenchmarkQueryMetricWeek(b *testing.B) {
	fx := getFixture(b)
	src := newSource(b, fx.historyConfig())
	q := provider.Query{ResourceID: nabIdle, Metric: provider.MetricCPU, Start: fx.nabEnd.Add(-week), End: fx.nabEnd, Step: nabStep}
	for b.Loop() {
		if _, err := src.QueryMetric(b.Context(), q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQueryMetricSplit reads the same week at 30 s (20,160 points,
// split into two range queries).
func BenchmarkQueryMetricSplit(b *testing.B) {
	fx := getFixture(b)
	src := newSource(b, fx.historyConfig())
	q := provider.Query{ResourceID: nabIdle, Metric: provider.MetricCPU, Start: fx.nabEnd.Add(-week), End: fx.nabEnd, Step: 30 * time.Second, Statistic: provider.StatMax}
	for b.Loop() {
		if _, err := src.QueryMetric(b.Context(), q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkList lists the fixture's five targets.
func BenchmarkList(b *testing.B) {
	fx := getFixture(b)
	src := newSource(b, fx.liveConfig())
	for b.Loop() {
		if _, err := src.List(b.Context(), provider.Filter{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNew compiles and validates the default templates.
func BenchmarkNew(b *testing.B) {
	cfg := prometheus.Config{Address: "http://127.0.0.1:9090"}
	for b.Loop() {
		if _, err := prometheus.New(cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkActivity28Days counts a backfilled counter over a terminate
// window of 28 days (a week of it holds data) from the real server: the
// target lookup, the count and the query that finds where its data
// begins (Since), 674 subquery steps of an hour.
func BenchmarkActivity28Days(b *testing.B) {
	fx := getFixture(b)
	cfg := fx.historyConfig()
	cfg.Activity = map[provider.ActivityKind]string{
		provider.ActivityProcesses: `sum(increase(node_cpu_seconds_total{ {{.Matchers}} }[{{.Range}}]))`,
	}
	src := newSource(b, cfg)
	q := provider.ActivityQuery{ResourceID: nabIdle + "-node", Start: fx.nabEnd.Add(-28 * 24 * time.Hour), End: fx.nabEnd}
	for b.Loop() {
		got, err := src.Activity(b.Context(), q)
		if err != nil {
			b.Fatal(err)
		}
		if len(got) != 1 || got[0].Since.IsZero() {
			b.Fatalf("want one count covering a week, got %+v", got)
		}
	}
}

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

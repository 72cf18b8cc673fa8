package aws_test

import (
	"context"
	"testing"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// The benchmarks measure the driver's own work (paging, tag mapping,
// sorting, unit conversion and gridding) against the offline fakes; moto's
// or AWS's latency is not the driver's.

// BenchmarkList lists 1,000 instances in pages of 100 and maps their tags.
func BenchmarkList(b *testing.B) {
	d := offlineDriver(b, 1000)
	ctx := context.Background()
	f := provider.Filter{Kinds: []provider.Kind{provider.KindInstance}, Environment: "production"}
	b.ReportAllocs()
	for b.Loop() {
		rs, err := d.List(ctx, f)
		if err != nil || len(rs) != 1000 {
			b.Fatalf("List = %d, %v", len(rs), err)
		}
	}
}

// BenchmarkQueryMetric reads a day of CPU at one-minute steps (1,440
// datapoints) and converts it to fractions on the grid.
func BenchmarkQueryMetric(b *testing.B) {
	d := offlineDriver(b, 1)
	ctx := context.Background()
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	q := provider.Query{ResourceID: "i-00000000000000001", Metric: provider.MetricCPU, Start: start, End: start.Add(24 * time.Hour), Step: time.Minute}
	b.ReportAllocs()
	for b.Loop() {
		s, err := d.QueryMetric(ctx, q)
		if err != nil || len(s.Values) != 1440 {
			b.Fatalf("QueryMetric = %d, %v", len(s.Values), err)
		}
	}
}

// BenchmarkQueryMetrics reads 100 instances' CPU for an hour in one batch.
func BenchmarkQueryMetrics(b *testing.B) {
	d := offlineDriver(b, 100)
	ctx := context.Background()
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	rs, err := d.List(ctx, provider.Filter{})
	if err != nil {
		b.Fatal(err)
	}
	reads := make([]provider.MetricRead, len(rs))
	for i, r := range rs {
		reads[i].Query = provider.Query{ResourceID: r.ID, Metric: provider.MetricCPU, Start: start, End: start.Add(time.Hour), Step: time.Minute}
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := d.QueryMetrics(ctx, reads); err != nil {
			b.Fatal(err)
		}
		for i := range reads {
			if reads[i].Err != nil {
				b.Fatal(reads[i].Err)
			}
		}
	}
}

package memory_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/trace"
)

// BenchmarkMemoryList lists a 10,000-resource fleet with a filter that keeps
// a tenth of it.
func BenchmarkMemoryList(b *testing.B) {
	c, err := memory.New(memory.Config{}, memory.WithClock(newMock()))
	if err != nil {
		b.Fatal(err)
	}
	rs := make([]provider.Resource, 10_000)
	for i := range rs {
		env := "staging"
		if i%10 == 0 {
			env = "production"
		}
		rs[i] = provider.Resource{ID: fmt.Sprintf("i-%05d", i), Kind: provider.KindInstance, Environment: env, Tags: map[string]string{"team": "t" + fmt.Sprint(i%7)}}
	}
	if err := c.Add(rs...); err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	f := provider.Filter{Environment: "production", Kinds: []provider.Kind{provider.KindInstance}}
	for b.Loop() {
		got, err := c.List(ctx, f)
		if err != nil || len(got) != 1000 {
			b.Fatalf("List = %d resources, %v", len(got), err)
		}
	}
	b.ReportMetric(float64(len(rs))*float64(b.N)/b.Elapsed().Seconds(), "resources/s")
}

// BenchmarkMemoryQueryMetrics reads one day at 5-minute steps out of two
// weeks of a real 5-minute CloudWatch trace, raw and as a compact series.
func BenchmarkMemoryQueryMetrics(b *testing.B) {
	trace, err := trace.ReadCSVFile("../../testdata/nab/ec2_cpu_utilization_5f5533.csv", trace.CSVOptions{Scale: 0.01})
	if err != nil {
		b.Fatal(err)
	}
	c, err := memory.New(memory.Config{}, memory.WithClock(newMock()))
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Add(provider.Resource{ID: "raw", Kind: provider.KindInstance}, provider.Resource{ID: "series", Kind: provider.KindInstance}); err != nil {
		b.Fatal(err)
	}
	if err := c.Replay("raw", provider.MetricCPU, trace, epoch); err != nil {
		b.Fatal(err)
	}
	grid := provider.Query{ResourceID: "series", Metric: provider.MetricCPU, Start: epoch.Add(-14 * 24 * time.Hour), End: epoch, Step: 5 * time.Minute}
	series, err := c.QueryMetric(b.Context(), provider.Query{ResourceID: "raw", Metric: grid.Metric, Start: grid.Start, End: grid.End, Step: grid.Step})
	if err != nil {
		b.Fatal(err)
	}
	series.ResourceID = "series"
	if err := c.SetSeries(series); err != nil {
		b.Fatal(err)
	}
	for _, id := range []string{"raw", "series"} {
		for _, stat := range []provider.Statistic{provider.StatMean, provider.Percentile(95)} {
			b.Run(id+"/"+string(stat), func(b *testing.B) {
				q := provider.Query{ResourceID: id, Metric: provider.MetricCPU, Start: epoch.Add(-48 * time.Hour), End: epoch.Add(-24 * time.Hour), Step: 5 * time.Minute, Statistic: stat}
				ctx := b.Context()
				for b.Loop() {
					s, err := c.QueryMetric(ctx, q)
					if err != nil || s.Len() != 288 {
						b.Fatalf("QueryMetric = %d steps, %v", s.Len(), err)
					}
				}
				b.ReportMetric(288*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
			})
		}
	}
}

package synth_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/provider/memory/synth"
	"github.com/idlescale/idlescale/provider/quota"
)

// BenchmarkNew builds a fleet of a million resources from the 8 NAB
// shapes: what it allocates is the fleet's whole memory, reported per
// resource.
func BenchmarkNew(b *testing.B) {
	sh := shapes(b)
	const size = 1_000_000
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		if _, err := synth.New(synth.Config{Size: size, Shapes: sh, Start: start}); err != nil {
			b.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/size, "bytes/resource")
}

// hourReads returns the reads of the last hour of the 4 generated metrics
// of resources first … first+n-1, with room for their values.
func hourReads(f *synth.Fleet, first, n int, now time.Time) []provider.MetricRead {
	var reads []provider.MetricRead
	for i := first; i < first+n; i++ {
		for _, m := range synth.Metrics() {
			reads = append(reads, provider.MetricRead{
				Query:  provider.Query{ResourceID: f.ID(i), Metric: m, Start: now.Add(-time.Hour), End: now, Step: 5 * time.Minute},
				Series: provider.Series{Values: make([]float64, 0, 12)},
			})
		}
	}
	return reads
}

// BenchmarkQueryHour is one GetMetricData-sized batch: the last hour of
// 4 metrics of 125 resources of a million, 500 reads and 6,000 points.
func BenchmarkQueryHour(b *testing.B) {
	now := start.Add(60 * 24 * time.Hour)
	f, _ := newFleet(b, 1_000_000, 1, now)
	reads := hourReads(f, 500_000, 125, now)
	for b.Loop() {
		if err := f.QueryMetrics(b.Context(), reads); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/6000, "ns/point")
}

// BenchmarkQueryMonth is a full re-read: 28 days of one metric at the
// native 5 minutes (8,064 points), and at one hour's p95 (672 points
// reduced from 8,064).
func BenchmarkQueryMonth(b *testing.B) {
	now := start.Add(60 * 24 * time.Hour)
	f, _ := newFleet(b, 1_000_000, 1, now)
	for _, tc := range []struct {
		name string
		step time.Duration
		stat provider.Statistic
	}{{"5m", 5 * time.Minute, ""}, {"1h-p95", time.Hour, "p95"}} {
		b.Run(tc.name, func(b *testing.B) {
			reads := []provider.MetricRead{{Query: provider.Query{ResourceID: f.ID(123_456), Metric: provider.MetricCPU, Start: now.Add(-28 * 24 * time.Hour), End: now, Step: tc.step, Statistic: tc.stat}}}
			for b.Loop() {
				if err := f.QueryMetrics(b.Context(), reads); err != nil || reads[0].Err != nil {
					b.Fatal(err, reads[0].Err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/8064, "ns/native-point")
		})
	}
}

// BenchmarkEmulatedCall is BenchmarkQueryHour's batch as one call through
// memory.QuotaEmulator with CloudWatch's per-call limits and rates a
// million times CloudWatch's (so that none is throttled while the fake
// clock stands still): the emulator's own cost is the difference.
func BenchmarkEmulatedCall(b *testing.B) {
	now := start.Add(60 * 24 * time.Hour)
	f, clk := newFleet(b, 1_000_000, 1, now)
	lim := quota.CloudWatch()
	lim.CallsPerSecond *= 1e6
	lim.PointsPerSecond *= 1e6
	lim.RecentPointsPerSecond *= 1e6
	emu, err := memory.NewQuotaEmulator(f, clk, lim)
	require.NoError(b, err)
	reads := hourReads(f, 500_000, 125, now)
	b.ReportAllocs()
	for b.Loop() {
		if err := emu.QueryMetrics(b.Context(), reads); err != nil {
			b.Fatal(err)
		}
		if err := reads[len(reads)-1].Err; err != nil {
			b.Fatal(err)
		}
	}
}

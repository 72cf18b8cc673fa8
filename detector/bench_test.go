package detector_test

import (
	"fmt"
	"testing"
	"time"
	"unsafe"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
)

// BenchmarkBatchScan reduces 16 M samples (4096 windows of 4096 values,
// NAB CPU values repeated) on every core: "stats" is mean/max/threshold
// count, "runs" adds the run lengths below the threshold.
func BenchmarkBatchScan(b *testing.B) {
	const width, rows = 4096, 4096
	src := nabCPU(b, "77c1ca").Values
	values := make([]float64, width*rows)
	for i := range values {
		values[i] = src[i%len(src)]
	}
	for _, runs := range []bool{false, true} {
		name := "stats"
		if runs {
			name = "runs"
		}
		b.Run(name, func(b *testing.B) {
			dst := make([]detector.BatchStats, rows)
			var err error
			b.SetBytes(int64(len(values) * 8))
			for b.Loop() {
				dst, err = detector.BatchScan(b.Context(), values, width, detector.BatchConfig{Threshold: 0.1, Runs: runs}, dst)
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(values))*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}

// BenchmarkStreamingUpdate updates 100 k streams round-robin, one NAB CPU
// value each per round.
func BenchmarkStreamingUpdate(b *testing.B) {
	const n = 100_000
	src := nabCPU(b, "77c1ca").Values
	b.Run("simple", func(b *testing.B) {
		s0, err := detector.NewStream(detector.StreamConfig{Threshold: 0.1})
		require.NoError(b, err)
		streams := make([]detector.Stream, n)
		for i := range streams {
			streams[i] = s0
		}
		k := 0
		for b.Loop() {
			v := src[k%len(src)]
			k++
			for i := range streams {
				streams[i].Update(v)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/sample")
		b.ReportMetric(float64(unsafe.Sizeof(detector.Stream{})), "B/resource")
	})
	percentiles := func(b *testing.B, n int) {
		p0, err := detector.NewPercentileStream(detector.StreamConfig{Threshold: 0.1}, 1)
		require.NoError(b, err)
		streams := make([]detector.PercentileStream, n)
		for i := range streams {
			streams[i] = p0
		}
		k := 0
		for b.Loop() {
			// A different value per stream so that the sketch touches
			// different buckets (an index that wraps, not a division).
			j := k
			k++
			if k == len(src) {
				k = 0
			}
			for i := range streams {
				streams[i].Update(src[j])
				if j++; j == len(src) {
					j = 0
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/sample")
		b.ReportMetric(float64(unsafe.Sizeof(detector.PercentileStream{})), "B/resource")
	}
	b.Run("percentiles", func(b *testing.B) { percentiles(b, n) })
	// For comparison only: 10 k streams (4.8 MB) stay in the CPU caches;
	// 100 k (48 MB) do not, so that figure is memory-bound.
	b.Run("percentiles-10k", func(b *testing.B) { percentiles(b, 10_000) })
}

// BenchmarkFleetScan scans 10,000 instances with one week of 5-minute CPU
// each (stored with SetSeries) on the memory provider with the default
// ensemble.
func BenchmarkFleetScan(b *testing.B) {
	const fleet, steps = 10_000, 7 * 288
	now := time.Date(2026, 3, 16, 12, 0, 0, 0, time.UTC)
	mock := clock.NewMock()
	mock.Set(now.Add(-30 * 24 * time.Hour))
	cloud, err := memory.New(memory.Config{}, memory.WithClock(mock))
	require.NoError(b, err)
	traces := []provider.Series{nabCPU(b, "c6585a"), nabCPU(b, "825cc2"), nabCPU(b, "77c1ca"), nabCPU(b, "ac20cd")}
	for i := range fleet {
		id := fmt.Sprintf("i-%05d", i)
		require.NoError(b, cloud.Add(provider.Resource{ID: id, Kind: provider.KindInstance, HourlyCost: 0.1}))
		tr := traces[i%len(traces)]
		off := (i / len(traces)) % (len(tr.Values) - steps)
		require.NoError(b, cloud.SetSeries(provider.Series{ResourceID: id, Metric: provider.MetricCPU, Start: now.Add(-steps * 5 * time.Minute), Step: 5 * time.Minute, Values: tr.Values[off : off+steps]}))
	}
	mock.Set(now)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(b, err)
	cfg := detector.ScanConfig{Now: now, History: 7 * 24 * time.Hour, Metrics: []provider.Metric{provider.MetricCPU}}
	idle := 0
	for b.Loop() {
		rep, err := detector.Scan(b.Context(), detector.Fleet{Inventory: cloud, Metrics: cloud}, ens, cfg)
		if err != nil || len(rep.Verdicts) != fleet {
			b.Fatal(err, len(rep.Verdicts))
		}
		idle = len(rep.Idle())
	}
	b.ReportMetric(float64(fleet)*float64(b.N)/b.Elapsed().Seconds(), "resources/s")
	b.ReportMetric(float64(idle), "idle")
}

// BenchmarkEnsembleDetect produces one verdict from 14 days of 5-minute CPU
// and activity counts.
func BenchmarkEnsembleDetect(b *testing.B) {
	now := time.Date(2026, 3, 16, 12, 0, 0, 0, time.UTC)
	s := nabCPU(b, "c6585a")
	s.Start = now.Add(-time.Duration(len(s.Values)) * s.Step)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(b, err)
	in := detector.Input{
		Now:      now,
		Resource: provider.Resource{ID: "c6585a", Kind: provider.KindInstance, HourlyCost: 0.1},
		Series:   []provider.Series{s},
		Activity: []provider.ActivityCount{{Kind: provider.ActivityLogins}, {Kind: provider.ActivityAPICalls}},
	}
	var v detector.Verdict
	for b.Loop() {
		v, err = ens.Detect(b.Context(), in)
		if err != nil {
			b.Fatal(err)
		}
	}
	if v.State != detector.Idle {
		b.Fatal(v.Explain())
	}
}

package stream_test

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector/stream"
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
			dst := make([]stream.BatchStats, rows)
			var err error
			b.SetBytes(int64(len(values) * 8))
			for b.Loop() {
				dst, err = stream.BatchScan(b.Context(), values, width, stream.BatchConfig{Threshold: 0.1, Runs: runs}, dst)
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
		s0, err := stream.NewSummary(stream.SummaryConfig{Threshold: 0.1})
		require.NoError(b, err)
		streams := make([]stream.Summary, n)
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
		b.ReportMetric(float64(unsafe.Sizeof(stream.Summary{})), "B/resource")
	})
	percentiles := func(b *testing.B, n int) {
		p0, err := stream.NewPercentileSummary(stream.SummaryConfig{Threshold: 0.1}, 1)
		require.NoError(b, err)
		streams := make([]stream.PercentileSummary, n)
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
		b.ReportMetric(float64(unsafe.Sizeof(stream.PercentileSummary{})), "B/resource")
	}
	b.Run("percentiles", func(b *testing.B) { percentiles(b, n) })
	// For comparison only: 10 k streams (4.8 MB) stay in the CPU caches;
	// 100 k (48 MB) do not, so that figure is memory-bound.
	b.Run("percentiles-10k", func(b *testing.B) { percentiles(b, 10_000) })
}

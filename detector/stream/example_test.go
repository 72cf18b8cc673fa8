package stream_test

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/idlescale/idlescale/detector/stream"
)

func ExampleNewSummary() {
	s, err := stream.NewSummary(stream.SummaryConfig{Threshold: 0.10})
	if err != nil {
		panic(err)
	}
	for _, v := range []float64{0.40, 0.05, 0.03, math.NaN(), 0.02} { // NaN is a gap
		s.Update(v)
	}
	fmt.Printf("n=%d run=%d max=%.2f idle(hold 3)=%t\n", s.Count(), s.Run(), s.Max(), s.Idle(3))
	// Output: n=4 run=1 max=0.40 idle(hold 3)=false
}

// A host feeds each resource's values with their times and asks IdleAt:
// an hour of 5-minute steps below 10 % is idle while values keep coming,
// and not idle once they stop (the agent died: missing data is never
// idleness).
func ExampleSummary_IdleAt() {
	s, err := stream.NewSummary(stream.SummaryConfig{Threshold: 0.10, Step: 5 * time.Minute})
	if err != nil {
		panic(err)
	}
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var last time.Time
	for i := range 12 {
		last = start.Add(time.Duration(i) * 5 * time.Minute)
		if err := s.Observe(last, 0.03); err != nil {
			panic(err)
		}
	}
	fmt.Println("held an hour:", s.IdleAt(last.Add(5*time.Minute), 12))
	fmt.Println("an hour later, nothing since:", s.IdleAt(last.Add(time.Hour), 12))
	// Output:
	// held an hour: true
	// an hour later, nothing since: false
}

func ExampleNewPercentileSummary() {
	p, err := stream.NewPercentileSummary(stream.SummaryConfig{Threshold: 0.10}, 1) // scale 1: fractions
	if err != nil {
		panic(err)
	}
	for i := range 1000 {
		p.Update(float64(i%100) / 1000) // 0 … 9.9 %
	}
	fmt.Printf("p50≈%.3f p99≈%.3f\n", p.Quantile(0.5), p.Quantile(0.99))
	// Output: p50≈0.049 p99≈0.096
}

func ExampleNewSketch() {
	// Network bytes per second up to ~2 GB/s: scale 1e-9.
	k, err := stream.NewSketch(1e-9)
	if err != nil {
		panic(err)
	}
	for _, v := range []float64{1e6, 2e6, 3e6, 4e6, 5e8} {
		k.Add(v)
	}
	fmt.Printf("median ≈ %.2g B/s\n", k.Quantile(0.5))
	// Output: median ≈ 3e+06 B/s
}

func ExampleBatchScan() {
	// Three windows of four 5-minute CPU values, one after another.
	values := []float64{
		0.01, 0.02, 0.01, 0.03, // idle
		0.50, 0.60, 0.40, 0.70, // busy
		0.90, 0.02, 0.01, math.NaN(), // a burst, then quiet with a gap
	}
	stats, err := stream.BatchScan(context.Background(), values, 4, stream.BatchConfig{Threshold: 0.10, Runs: true}, nil)
	if err != nil {
		panic(err)
	}
	for i, s := range stats {
		fmt.Printf("window %d: mean=%.3f max=%.2f below=%d trailing run=%d idle=%t\n", i, s.Mean, s.Max, s.Below, s.TrailingRun, s.Idle(0.10, 0.75, 2))
	}
	// Output:
	// window 0: mean=0.018 max=0.03 below=4 trailing run=4 idle=true
	// window 1: mean=0.550 max=0.70 below=0 trailing run=0 idle=false
	// window 2: mean=0.310 max=0.90 below=2 trailing run=0 idle=false
}

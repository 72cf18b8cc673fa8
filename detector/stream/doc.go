// Package stream keeps a compact, constant-size state per resource so that
// a fleet can be evaluated incrementally: each new metric step updates the
// state in O(1) instead of re-reading the resource's history.
//
// It is the groundwork for incremental fleet evaluation; the pipelines do
// not use it yet (detector.Scan reads each resource's window from its
// provider). A host that watches tens of thousands of resources keeps one
// state per resource and metric, feeds it every new step and reads the
// idle test from it:
//
//   - Summary (64 bytes per resource-metric): an exponentially weighted
//     mean and variance, the maximum, the number of values seen and the
//     current run of values below an idle threshold. Summary.Idle is the
//     streaming form of "below the threshold, held for the last N steps".
//   - Sketch (320 bytes): a log-linear histogram with 16-bit counts whose
//     percentiles are within 5 % of the exact ones on every NAB EC2 CPU
//     trace at p50, p90, p95 and p99.
//   - PercentileSummary (384 bytes): a Summary and a Sketch side by side,
//     for percentile thresholds such as a p95 below 40 %.
//   - ResourceSummaries (1152 bytes): the CPU, network and request
//     PercentileSummaries of one resource; 100,000 resources take 115 MB.
//
// BatchScan is the columnar counterpart for a first pass or a backfill: it
// reduces many windows laid out one after another (count, gaps, mean, max,
// values below the threshold, trailing and longest runs) on every core:
// over 400 million samples per second on two cores (BenchmarkBatchScan).
//
// Update and Add allocate nothing; a NaN gap is not a value, and in a
// Summary it ends the run below the threshold (missing data is never
// idleness), as does an infinite value given to Update, not added either
// (a broken reading is not idleness). Observe checks its input (times sorted and not repeated,
// finite values) and returns a *provider.InvalidError naming the field;
// it ends the run too when a value comes more than 1.5 steps
// (SummaryConfig.Step, default 5 minutes) after the previous one: the
// steps between had no data. Fed by Observe, the run counts steps of
// Step, not values: values closer together (an agent reporting every
// minute, a retry) make a step once, so a hold of 12 steps is an hour
// however often values come. A value refused for its time that is not
// below the threshold (a busy value after the clock jumped back) ends the
// run as well, and so does an infinite value, refused too.
// The states are values: copy a zero-history state made by a constructor
// into each slot of a slice. They are not safe for concurrent use; keep
// one per goroutine or guard it.
//
//	s, err := stream.NewPercentileSummary(stream.SummaryConfig{Threshold: 0.10}, 1)
//	...
//	for _, x := range newSamples {
//		if err := s.Observe(x.Time, x.Value); err != nil { ... } // a value refused: log it
//	}
//	idle := s.IdleAt(now, 12) && s.Quantile(0.95) < 0.40 // 12 steps of 5 minutes: 1 h held
//
// IdleAt is false when no value arrived in the last 1.5 steps: values
// that stop coming are not idleness; and when now is more than 1.5 steps
// before the last value's time: the clocks disagree. Idle knows no time and keeps its
// answer when they stop; use it only with Update fed a NaN for every
// step without data.
package stream

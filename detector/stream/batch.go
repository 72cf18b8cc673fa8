package stream

import (
	"context"
	"fmt"
	"math"
	"runtime"

	"golang.org/x/sync/errgroup"
)

// BatchConfig configures BatchScan. The zero value is usable: threshold
// 0, no run lengths, one worker per CPU.
type BatchConfig struct {
	// Threshold is the idle threshold: values below it are counted in
	// Below (and extend runs).
	Threshold float64 `json:"threshold" yaml:"threshold"`
	// Runs asks for the run lengths of values below the threshold
	// (TrailingRun, LongestRun); it costs a second dependency chain per
	// value. Default: false.
	Runs bool `json:"runs,omitempty" yaml:"runs,omitempty"`
	// Workers bounds the goroutines used. Default (0): runtime.GOMAXPROCS.
	Workers int `json:"workers,omitempty" yaml:"workers,omitempty"`
}

// Validate checks that Threshold is finite and Workers ≥ 0.
func (c BatchConfig) Validate() error {
	if math.IsNaN(c.Threshold) || math.IsInf(c.Threshold, 0) {
		return invalid("batch.threshold", c.Threshold, "must be finite")
	}
	if c.Workers < 0 {
		return invalid("batch.workers", c.Workers, "must be ≥ 0 (0 means one per CPU)")
	}
	return nil
}

// BatchStats is the reduction of one window of BatchScan.
type BatchStats struct {
	// Count is the number of values (gaps excluded); Gaps the number of
	// NaN gaps.
	Count, Gaps int
	// Mean is the mean of the values; Max the largest. Both are NaN when
	// Count is 0.
	Mean, Max float64
	// Below counts the values below the threshold.
	Below int
	// TrailingRun is the number of values below the threshold at the end
	// of the window; LongestRun the longest such run. A gap ends a run.
	// Both are 0 unless BatchConfig.Runs is set.
	TrailingRun, LongestRun int
}

// Idle reports whether the window holds data for at least minCoverage of
// its values, its mean is below threshold and its trailing run of values
// below threshold is at least hold values long (hold ≤ 0 skips the run
// test, for scans without Runs).
func (s BatchStats) Idle(threshold, minCoverage float64, hold int) bool {
	n := s.Count + s.Gaps
	return n > 0 && float64(s.Count) >= minCoverage*float64(n) && s.Mean < threshold && (hold <= 0 || s.TrailingRun >= hold)
}

// BatchScan reduces columnar windows: values holds len(values)/width
// windows of width values each, one after another (window r is
// values[r·width : (r+1)·width]), and dst[r] receives the statistics of
// window r. dst is grown if it is too short and returned. Windows are
// spread over the workers; the inner loops are branch-light with four
// accumulators. Values are finite, or NaN for a gap. It returns an error
// naming the field when width does not divide len(values), the
// configuration is invalid or a value is infinite (or a window's sum
// overflows), and ctx.Err() when ctx ends first. It does not retain
// values.
func BatchScan(ctx context.Context, values []float64, width int, cfg BatchConfig, dst []BatchStats) ([]BatchStats, error) {
	if err := cfg.Validate(); err != nil {
		return dst, err
	}
	if width <= 0 || len(values)%width != 0 {
		return dst, invalid("batch.width", width, fmt.Sprintf("must be > 0 and divide len(values) = %d", len(values)))
	}
	rows := len(values) / width
	if cap(dst) < rows {
		dst = make([]BatchStats, rows)
	}
	dst = dst[:rows]
	workers := cfg.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, rows))
	scan := func(lo, hi int) error {
		for r := lo; r < hi; r++ {
			if r%64 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			w := values[r*width : (r+1)*width]
			if cfg.Runs {
				dst[r] = reduceRuns(w, cfg.Threshold)
			} else {
				dst[r] = reduceStats(w, cfg.Threshold)
			}
			if m := dst[r].Mean; dst[r].Count > 0 && (math.IsInf(m, 0) || math.IsNaN(m)) {
				return notFinite(w, r*width)
			}
		}
		return nil
	}
	if workers == 1 {
		return dst, scan(0, rows)
	}
	g, _ := errgroup.WithContext(ctx)
	per := (rows + workers - 1) / workers
	for lo := 0; lo < rows; lo += per {
		hi := min(lo+per, rows)
		g.Go(func() error { return scan(lo, hi) })
	}
	return dst, g.Wait()
}

// notFinite is the error of a window w, starting at values[off], whose
// sum is not finite: it names its first infinite value (a −∞ read as far
// below any threshold made the window idle), else the overflow.
func notFinite(w []float64, off int) error {
	for i, x := range w {
		if math.IsInf(x, 0) {
			return invalid(fmt.Sprintf("values[%d]", off+i), x, "must be finite or NaN (a gap)")
		}
	}
	return invalid(fmt.Sprintf("values[%d:%d]", off, off+len(w)), "sum", "overflows float64")
}

func b2u(b bool) int {
	if b {
		return 1
	}
	return 0
}

// reduceStats computes count, mean, max and below for one window. The fast
// loop ignores gaps for max and below (NaN compares false) and lets them
// poison the sum; only then is the window summed again skipping gaps.
func reduceStats(v []float64, thr float64) BatchStats {
	n := len(v)
	var s0, s1, s2, s3 float64
	m0, m1, m2, m3 := math.Inf(-1), math.Inf(-1), math.Inf(-1), math.Inf(-1)
	var b0, b1, b2, b3 int
	w := v
	for len(w) >= 4 {
		x0, x1, x2, x3 := w[0], w[1], w[2], w[3]
		s0 += x0
		s1 += x1
		s2 += x2
		s3 += x3
		if x0 > m0 {
			m0 = x0
		}
		if x1 > m1 {
			m1 = x1
		}
		if x2 > m2 {
			m2 = x2
		}
		if x3 > m3 {
			m3 = x3
		}
		b0 += b2u(x0 < thr)
		b1 += b2u(x1 < thr)
		b2 += b2u(x2 < thr)
		b3 += b2u(x3 < thr)
		w = w[4:]
	}
	for _, x := range w {
		s0 += x
		if x > m0 {
			m0 = x
		}
		b0 += b2u(x < thr)
	}
	sum := (s0 + s1) + (s2 + s3)
	mx := max(m0, m1, m2, m3)
	st := BatchStats{Count: n, Below: b0 + b1 + b2 + b3, Max: mx}
	if math.IsNaN(sum) {
		// Gaps: count again, carefully.
		sum, st.Count, st.Below = 0, 0, 0
		for _, x := range v {
			if !math.IsNaN(x) {
				sum += x
				st.Count++
				st.Below += b2u(x < thr)
			}
		}
	}
	st.Gaps = n - st.Count
	if st.Count == 0 {
		st.Mean, st.Max = math.NaN(), math.NaN()
		return st
	}
	st.Mean = sum / float64(st.Count)
	return st
}

// reduceRuns is reduceStats plus run lengths below the threshold, in one
// pass when the window has no gaps.
func reduceRuns(v []float64, thr float64) BatchStats {
	n := len(v)
	var s0, s1 float64
	m0, m1 := math.Inf(-1), math.Inf(-1)
	var bl, run, longest int
	w := v
	for len(w) >= 2 {
		x0, x1 := w[0], w[1]
		s0 += x0
		s1 += x1
		if x0 > m0 {
			m0 = x0
		}
		if x1 > m1 {
			m1 = x1
		}
		c0, c1 := below(x0, thr), below(x1, thr)
		bl += c0 + c1
		run = (run + 1) & -c0
		longest = max(longest, run)
		run = (run + 1) & -c1
		longest = max(longest, run)
		w = w[2:]
	}
	for _, x := range w {
		s0 += x
		if x > m0 {
			m0 = x
		}
		c := below(x, thr)
		bl += c
		run = (run + 1) & -c
		longest = max(longest, run)
	}
	if sum := s0 + s1; !math.IsNaN(sum) {
		return BatchStats{Count: n, Mean: sum / float64(n), Max: max(m0, m1), Below: bl, TrailingRun: run, LongestRun: longest}
	}
	// Gaps: reduce again carefully; a gap ends a run.
	st := reduceStats(v, thr)
	run, longest = 0, 0
	for _, x := range v {
		run = (run + 1) & -b2u(x < thr) // NaN compares false
		longest = max(longest, run)
	}
	st.TrailingRun, st.LongestRun = run, longest
	return st
}

// below returns 1 when x < thr and 0 otherwise, without a branch (the
// comparison compiles to a flag set). Not the sign bit of x − thr: that
// is set for −0 − 0 = −0, and −0 is not below 0.
func below(x, thr float64) int {
	return b2u(x < thr)
}

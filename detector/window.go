package detector

import (
	"math"
	"sync"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// DataQuality says when a metric's data is good enough to call a resource
// idle. The zero value means the defaults.
type DataQuality struct {
	// MinCoverage is the share of steps in the window that must hold data,
	// in (0, 1]; for the utilization, the share of the steps since the
	// resource's launch too, when it launched inside the window. Default:
	// 0.8.
	MinCoverage float64 `json:"min_coverage,omitempty" yaml:"min_coverage,omitempty"`
	// MaxStaleness is the longest time between the end of the last step
	// with data and now before the series counts as stale. Suspect zeros
	// (see SuspectZeroRun) are not data: a series whose latest values are
	// suspect zeros is as old as the last value before them. Default: 30m.
	MaxStaleness time.Duration `json:"max_staleness,omitempty" yaml:"max_staleness,omitempty"`
	// SuspectZeroRun is the shortest run of exact zeros that, when it
	// follows a value at or above the metric's idle threshold with nothing
	// in between, is taken as missing data (a dead agent or a zero-filled
	// outage) rather than idleness: its steps count as gaps for coverage,
	// staleness and every statistic. Default: 30m.
	SuspectZeroRun time.Duration `json:"suspect_zero_run,omitempty" yaml:"suspect_zero_run,omitempty"`
	// TrustZeros turns the suspect-zero rule off: exact zeros are then
	// always real measurements. Default: false.
	TrustZeros bool `json:"trust_zeros,omitempty" yaml:"trust_zeros,omitempty"`
}

func (q DataQuality) withDefaults() DataQuality {
	if q.MinCoverage == 0 {
		q.MinCoverage = 0.8
	}
	if q.MaxStaleness == 0 {
		q.MaxStaleness = 30 * time.Minute
	}
	if q.SuspectZeroRun == 0 {
		q.SuspectZeroRun = 30 * time.Minute
	}
	return q
}

// Validate checks every field; the error names the field.
func (q DataQuality) Validate() error {
	if math.IsNaN(q.MinCoverage) || q.MinCoverage < 0 || q.MinCoverage > 1 {
		return invalid("quality.min_coverage", q.MinCoverage, "must be in (0, 1] (0 means the default 0.8)")
	}
	if q.MaxStaleness < 0 {
		return invalid("quality.max_staleness", q.MaxStaleness, "must be ≥ 0 (0 means the default 30m)")
	}
	if q.SuspectZeroRun < 0 {
		return invalid("quality.suspect_zero_run", q.SuspectZeroRun, "must be ≥ 0 (0 means the default 30m)")
	}
	return nil
}

// span is a half-open index range of a series.
type span struct{ lo, hi int }

// windowView is the part of a series a strategy examines, after the data
// quality checks.
type windowView struct {
	s        provider.Series
	lo, hi   int     // steps of s inside [now−window, now)
	masked   [4]span // suspect zero runs treated as gaps
	nMasked  int
	overflow bool // more suspect runs than masked can hold: treat all as suspect
	valid    int  // steps with data, not masked
	cliff    float64
	zeroRun  time.Duration // longest suspect run intersecting the window
	tailRun  time.Duration // the suspect run that reaches the window's end, if any
	tail     float64       // the value tailRun follows
	fresh    time.Time     // end of the last step with data that is not masked
}

// quality outcomes
const (
	qOK = iota
	qMissing
	qGaps
	qStale
	qZeros
)

// view cuts [now−window, now) out of s and applies the quality rules with
// threshold as the cliff level for suspect zeros. It returns the view and a
// q* code; for qGaps, qStale and qZeros the reason fields are filled. Its
// masks are set for every code but qMissing, so that the statistics of the
// data there is can still be read. Staleness is judged on the last step
// with data that is not masked: a run of suspect zeros that reaches now
// and leaves the data before it stale is qZeros. A MinCoverage of 0 leaves
// coverage to the caller: valid is not counted and qGaps is not returned,
// nor qZeros for coverage.
func view(s provider.Series, now time.Time, window time.Duration, threshold float64, q DataQuality) (windowView, int, Reason) {
	w := windowView{s: s}
	from := now.Add(-window)
	w.lo = ceilIndex(s, from)
	w.hi = ceilIndex(s, now)
	// A step counts only if it ends by now.
	for w.hi > w.lo && s.TimeAt(w.hi).After(now) {
		w.hi--
	}
	total := int(window / s.Step)
	if total <= 0 {
		total = 1
	}
	last := -1
	for i := w.hi - 1; i >= 0; i-- {
		if !provider.IsGap(s.Values[i]) {
			last = i
			break
		}
	}
	if last < 0 {
		return w, qMissing, Reason{Code: ReasonMissing}
	}
	if !q.TrustZeros {
		w.findSuspectZeros(threshold, q.SuspectZeroRun)
	}
	// Staleness: end of the last step with data before now that is not a
	// suspect zero (the start of the series when there is none).
	if w.tailRun > 0 {
		for last >= 0 && (provider.IsGap(s.Values[last]) || w.isMasked(last)) {
			last--
		}
	}
	w.fresh = s.TimeAt(last + 1)
	if now.Sub(w.fresh) > q.MaxStaleness {
		code, why := w.stale(now, q.MaxStaleness)
		return w, code, why
	}
	if q.MinCoverage == 0 {
		return w, qOK, Reason{}
	}
	w.valid = countData(s.Values[w.lo:w.hi]) - w.maskedData()
	cov := float64(w.valid) / float64(total)
	if cov < q.MinCoverage {
		if w.zeroRun > 0 {
			return w, qZeros, Reason{Code: ReasonSuspectZeros, Value: w.cliff, Duration: w.zeroRun}
		}
		return w, qGaps, Reason{Code: ReasonGaps, Value: cov, Limit: q.MinCoverage, Duration: window}
	}
	return w, qOK, Reason{}
}

// stale returns the code and reason of a view whose data is older than
// limit at now: qZeros naming the run when the latest data are suspect
// zeros (say so, not merely stale), qStale with the age of the last data
// otherwise.
func (w *windowView) stale(now time.Time, limit time.Duration) (int, Reason) {
	if w.tailRun > 0 {
		return qZeros, Reason{Code: ReasonSuspectZeros, Value: w.tail, Duration: w.tailRun}
	}
	return qStale, Reason{Code: ReasonStale, Duration: now.Sub(w.fresh), Limit: float64(limit)}
}

// ceilIndex returns the first step that starts at or after t, clamped to
// [0, len].
func ceilIndex(s provider.Series, t time.Time) int {
	if !t.After(s.Start) {
		return 0
	}
	d := t.Sub(s.Start)
	i := int(d / s.Step)
	if d%s.Step != 0 {
		i++
	}
	return min(i, len(s.Values))
}

// findSuspectZeros masks runs of exact zeros of at least minRun that follow
// a value ≥ threshold directly (gaps in between are allowed) and intersect
// the window. A run starts at a zero and takes in the zeros and gaps after
// it up to the next other value.
func (w *windowView) findSuspectZeros(threshold float64, minRun time.Duration) {
	v := w.s.Values
	minSteps := int((minRun + w.s.Step - 1) / w.s.Step)
	minSteps = max(minSteps, 1)
	// Start where the run of zeros and gaps that reaches the window begins,
	// so that only the window and that run are scanned, not all history.
	first := w.lo
	for first > 0 && (v[first-1] == 0 || provider.IsGap(v[first-1])) {
		first--
	}
	for i := first; i < w.hi; {
		// Skip to the next exact zero: gaps (NaN) and other values are not.
		for i < w.hi && v[i] != 0 {
			i++
		}
		if i == w.hi {
			break
		}
		end := i + 1
		for end < w.hi && (v[end] == 0 || provider.IsGap(v[end])) {
			end++
		}
		// The value before the run, past any gaps: what the zeros follow.
		prev := math.NaN()
		for k := i - 1; k >= 0; k-- {
			if !provider.IsGap(v[k]) {
				prev = v[k]
				break
			}
		}
		if end-i >= minSteps && prev >= threshold && end > w.lo {
			if w.nMasked == len(w.masked) {
				w.overflow = true
			} else {
				w.masked[w.nMasked] = span{i, end}
				w.nMasked++
			}
			d := time.Duration(end-i) * w.s.Step
			if d > w.zeroRun {
				w.zeroRun, w.cliff = d, prev
			}
			if end == w.hi {
				w.tailRun, w.tail = d, prev
			}
		}
		i = end
	}
}

// countData returns the number of values that are not gaps.
func countData(v []float64) int {
	n := 0
	for _, x := range v {
		if x == x { // not NaN
			n++
		}
	}
	return n
}

// maskedData returns the number of masked steps in [lo, hi) that hold a
// value (a zero: masks cover zeros and gaps only).
func (w *windowView) maskedData() int {
	n := 0
	switch {
	case w.overflow:
		for _, x := range w.s.Values[w.lo:w.hi] {
			if x == 0 {
				n++
			}
		}
	default:
		for _, m := range w.masked[:w.nMasked] {
			for _, x := range w.s.Values[max(m.lo, w.lo):min(m.hi, w.hi)] {
				if x == 0 {
					n++
				}
			}
		}
	}
	return n
}

// validIn returns the number of steps in [lo, hi) with data that is not
// masked.
func (w *windowView) validIn(lo, hi int) int {
	n := 0
	masked := w.nMasked > 0 || w.overflow
	for i := lo; i < hi; i++ {
		if x := w.s.Values[i]; x == x && (!masked || !w.isMasked(i)) { // x == x: not a gap (NaN)
			n++
		}
	}
	return n
}

func (w *windowView) isMasked(i int) bool {
	if w.overflow && w.s.Values[i] == 0 {
		return true
	}
	for k := range w.nMasked {
		if i >= w.masked[k].lo && i < w.masked[k].hi {
			return true
		}
	}
	return false
}

// values copies the valid values of [lo, hi) into buf.
func (w *windowView) values(lo, hi int, buf []float64) []float64 {
	buf = buf[:0]
	for i := lo; i < hi; i++ {
		x := w.s.Values[i]
		if !provider.IsGap(x) && !w.isMasked(i) {
			buf = append(buf, x)
		}
	}
	return buf
}

// stat reduces the valid values of [lo, hi) with st; NaN when none. The
// mean adds the values of each clock hour (UTC, a step counting in the hour
// its start falls in) in order, then the hours' sums in order, so that a
// Digest, which keeps one sum per hour, reaches the very same float64.
func (w *windowView) stat(st provider.Statistic, lo, hi int) float64 {
	if st == provider.StatMean || st == "" || st == provider.StatMax {
		masked := w.nMasked > 0 || w.overflow
		n, total, mx := 0, 0.0, math.Inf(-1)
		start, step := w.s.Start.UnixNano(), int64(w.s.Step)
		for i := lo; i < hi; {
			end := min(hi, hourEnd(start, step, i))
			sum := 0.0
			for ; i < end; i++ {
				x := w.s.Values[i]
				if x != x || masked && w.isMasked(i) { // x != x: a gap (NaN)
					continue
				}
				n++
				sum += x
				mx = max(mx, x)
			}
			total += sum
		}
		if n == 0 {
			return math.NaN()
		}
		if st == provider.StatMax {
			return mx
		}
		return total / float64(n)
	}
	b := scratchPool.Get().(*scratch)
	b.a = w.values(lo, hi, b.a)
	var r float64
	r, b.b = provider.Reduce(st, b.a, b.b)
	scratchPool.Put(b)
	return r
}

// hourEnd returns the index of the first step, after step i, that starts
// in a later UTC hour than step i of a grid starting at start (Unix
// nanoseconds) with step (nanoseconds).
func hourEnd(start, step int64, i int) int {
	const hour = int64(time.Hour)
	next := (floorDiv(start+int64(i)*step, hour) + 1) * hour
	return int((next - start + step - 1) / step)
}

type scratch struct{ a, b []float64 }

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

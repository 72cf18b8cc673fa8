package provider

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Sample is one raw observation of a metric.
type Sample struct {
	// Time is when the value was observed.
	Time time.Time `json:"time"`
	// Value is the observation, in the metric's unit. It must be finite.
	Value float64 `json:"value"`
}

// ValidateSamples checks that samples are sorted by strictly increasing
// time and that every value is finite. The error names the first offending
// sample, for example "invalid samples[3].time ...: duplicate timestamp".
func ValidateSamples(samples []Sample) error {
	for i, s := range samples {
		if math.IsNaN(s.Value) || math.IsInf(s.Value, 0) {
			return Invalid(fmt.Sprintf("samples[%d].value", i), s.Value, "must be finite (a gap is an absent sample, not NaN)")
		}
		if s.Time.IsZero() {
			return Invalid(fmt.Sprintf("samples[%d].time", i), s.Time, "must be set")
		}
		if i == 0 {
			continue
		}
		switch prev := samples[i-1].Time; {
		case s.Time.Equal(prev):
			return Invalid(fmt.Sprintf("samples[%d].time", i), s.Time.Format(time.RFC3339Nano), "duplicate timestamp")
		case s.Time.Before(prev):
			return Invalid(fmt.Sprintf("samples[%d].time", i), s.Time.Format(time.RFC3339Nano), "before the previous sample "+prev.Format(time.RFC3339Nano)+" (samples must be sorted)")
		}
	}
	return nil
}

// Series is a metric on a regular time grid. Values[k] is the value of the
// step [Start + k·Step, Start + (k+1)·Step). A step without data is a gap,
// stored as NaN: gaps are explicit and never zeros. Use IsGap to test for
// one; every other value is finite.
type Series struct {
	// ResourceID is the resource the series belongs to.
	ResourceID string `json:"resource_id,omitempty"`
	// Metric is what the values measure.
	Metric Metric `json:"metric"`
	// Start is the beginning of the first step.
	Start time.Time `json:"start"`
	// Step is the length of every step. Must be > 0.
	Step time.Duration `json:"step"`
	// Values holds one value per step; NaN marks a gap.
	Values []float64 `json:"values"`
}

// Gap is the value stored in Series.Values for a step without data.
var Gap = math.NaN()

// IsGap reports whether v marks a gap.
func IsGap(v float64) bool { return math.IsNaN(v) }

// Validate checks that Step > 0, Start is set and no value is infinite.
func (s Series) Validate() error {
	if s.Step <= 0 {
		return Invalid("step", s.Step, "must be > 0")
	}
	if s.Start.IsZero() && len(s.Values) > 0 {
		return Invalid("start", s.Start, "must be set")
	}
	for i, v := range s.Values {
		if math.IsInf(v, 0) {
			return Invalid(fmt.Sprintf("values[%d]", i), v, "must be finite or a gap (NaN)")
		}
	}
	return nil
}

// Len returns the number of steps, gaps included.
func (s Series) Len() int { return len(s.Values) }

// End returns the end of the last step (exclusive).
func (s Series) End() time.Time { return s.Start.Add(time.Duration(len(s.Values)) * s.Step) }

// TimeAt returns the start of step i.
func (s Series) TimeAt(i int) time.Time { return s.Start.Add(time.Duration(i) * s.Step) }

// Index returns the step that contains t and whether t lies inside the
// series.
func (s Series) Index(t time.Time) (int, bool) {
	if s.Step <= 0 || t.Before(s.Start) {
		return 0, false
	}
	i := int(t.Sub(s.Start) / s.Step)
	return i, i < len(s.Values)
}

// Gaps returns the number of gap steps.
func (s Series) Gaps() int {
	n := 0
	for _, v := range s.Values {
		if IsGap(v) {
			n++
		}
	}
	return n
}

// Coverage returns the share of steps that hold data, in [0, 1]; 0 for an
// empty series.
func (s Series) Coverage() float64 {
	if len(s.Values) == 0 {
		return 0
	}
	return 1 - float64(s.Gaps())/float64(len(s.Values))
}

// Last returns the start time and value of the last step that holds data,
// and ok = false when every step is a gap.
func (s Series) Last() (t time.Time, v float64, ok bool) {
	if i := s.LastIndex(); i >= 0 {
		return s.TimeAt(i), s.Values[i], true
	}
	return time.Time{}, 0, false
}

// LastIndex returns the index of the last step that holds data, or -1
// when every step is a gap: Last without its time, for a hot path that
// computes the time once for several series.
func (s Series) LastIndex() int {
	i := len(s.Values) - 1
	for i >= 0 && IsGap(s.Values[i]) {
		i--
	}
	return i
}

// Window returns the part of s whose steps start in [from, to). The result
// shares Values with s.
func (s Series) Window(from, to time.Time) Series {
	out := s
	lo := clampIndex(s, from)
	hi := clampIndex(s, to)
	if hi < lo {
		hi = lo
	}
	out.Start = s.TimeAt(lo)
	out.Values = s.Values[lo:hi]
	return out
}

func clampIndex(s Series, t time.Time) int {
	if s.Step <= 0 || !t.After(s.Start) {
		return 0
	}
	d := t.Sub(s.Start)
	i := int(d / s.Step)
	if d%s.Step != 0 {
		i++
	}
	return min(i, len(s.Values))
}

// Samples returns the steps that hold data as samples stamped with their
// step's start.
func (s Series) Samples() []Sample {
	out := make([]Sample, 0, len(s.Values))
	for i, v := range s.Values {
		if !IsGap(v) {
			out = append(out, Sample{Time: s.TimeAt(i), Value: v})
		}
	}
	return out
}

// Clone returns a copy of s that shares nothing with it.
func (s Series) Clone() Series {
	s.Values = slices.Clone(s.Values)
	return s
}

// Query asks a MetricsSource for one metric of one resource over a range.
type Query struct {
	// ResourceID is the resource to read. Required.
	ResourceID string `json:"resource_id"`
	// Metric is the metric to read. Required.
	Metric Metric `json:"metric"`
	// Start is the beginning of the range (inclusive).
	Start time.Time `json:"start"`
	// End is the end of the range (exclusive). Must be after Start.
	End time.Time `json:"end"`
	// Step is the grid step of the result. Must be > 0.
	Step time.Duration `json:"step"`
	// Statistic reduces the raw samples inside each step. Default: mean.
	Statistic Statistic `json:"statistic,omitempty"`
}

// MaxQueryPoints bounds the number of steps one Query may ask for. Drivers
// whose backend has a lower limit split the range themselves.
const MaxQueryPoints = 1 << 20

// Steps returns the number of steps the query covers: ⌈(End−Start)/Step⌉.
func (q Query) Steps() int {
	if q.Step <= 0 || !q.End.After(q.Start) {
		return 0
	}
	d := q.End.Sub(q.Start)
	n := d / q.Step
	if d%q.Step != 0 {
		n++
	}
	return int(min(n, math.MaxInt32))
}

// Validate checks the query and returns an error naming the first wrong
// field.
func (q Query) Validate() error {
	if err := ValidateID(q.ResourceID); err != nil {
		return within("query.resource", err)
	}
	if err := q.Metric.Validate(); err != nil {
		return within("query.metric", err)
	}
	if q.Step <= 0 {
		return Invalid("query.step", q.Step, "must be > 0")
	}
	if q.Start.IsZero() {
		return Invalid("query.start", q.Start, "must be set")
	}
	if !q.End.After(q.Start) {
		return Invalid("query.end", q.End.Format(time.RFC3339), "must be after start "+q.Start.Format(time.RFC3339))
	}
	if n := q.Steps(); n > MaxQueryPoints {
		return Invalid("query.step", q.Step, fmt.Sprintf("gives %d points; at most %d are allowed", n, MaxQueryPoints))
	}
	return within("query", q.Statistic.Validate())
}

// Resample places samples on the grid of q and reduces each step with
// q.Statistic; steps without samples are gaps. Samples must satisfy
// ValidateSamples; those outside [q.Start, q.End) are ignored. The result's
// ResourceID, Metric, Start and Step come from q.
func Resample(q Query, samples []Sample) (Series, error) {
	if err := q.Validate(); err != nil {
		return Series{}, err
	}
	if err := ValidateSamples(samples); err != nil {
		return Series{}, err
	}
	n := q.Steps()
	out := Series{ResourceID: q.ResourceID, Metric: q.Metric, Start: q.Start, Step: q.Step, Values: make([]float64, n)}
	lo, _ := slices.BinarySearchFunc(samples, q.Start, func(s Sample, t time.Time) int { return s.Time.Compare(t) })
	var bucket, scratch []float64
	i := lo
	for k := range n {
		stepEnd := q.Start.Add(time.Duration(k+1) * q.Step)
		if stepEnd.After(q.End) {
			stepEnd = q.End // a partial last step ends at q.End
		}
		bucket = bucket[:0]
		for i < len(samples) && samples[i].Time.Before(stepEnd) {
			bucket = append(bucket, samples[i].Value)
			i++
		}
		out.Values[k], scratch = Reduce(q.Statistic, bucket, scratch)
	}
	return out, nil
}

// Reduce applies stat to values, skipping gaps (NaN), and returns the
// result; it returns a gap when no value is left. scratch is working space
// for percentiles (it may be nil); the possibly grown slice is returned for
// reuse, so a caller reducing many steps allocates once. Reduce assumes stat
// is valid (see Statistic.Validate) and treats an invalid one as the mean.
// For finite values the result is finite: a sum beyond the float64 range
// saturates at ±math.MaxFloat64.
func Reduce(stat Statistic, values, scratch []float64) (float64, []float64) {
	n := 0
	var sum, lo, hi, last float64
	for _, v := range values {
		if IsGap(v) {
			continue
		}
		if n == 0 {
			lo, hi = v, v
		}
		n++
		sum += v
		lo, hi, last = min(lo, v), max(hi, v), v
	}
	if n == 0 {
		return Gap, scratch
	}
	switch stat {
	case StatSum:
		if math.IsInf(sum, 0) { // a partial sum overflowed: redo it scaled down, then saturate
			sum = math.Ldexp(scaledSum(values, n), exponentFor(n))
		}
		return max(min(sum, math.MaxFloat64), -math.MaxFloat64), scratch
	case StatMax:
		return hi, scratch
	case StatMin:
		return lo, scratch
	case StatCount:
		return float64(n), scratch
	case StatLast:
		return last, scratch
	}
	p, ok := stat.Percentile()
	if !ok {
		if math.IsInf(sum, 0) { // the sum of finite values overflowed; their mean does not
			return hugeMean(values, n, lo, hi), scratch
		}
		return sum / float64(n), scratch
	}
	scratch = scratch[:0]
	for _, v := range values {
		if !IsGap(v) {
			scratch = append(scratch, v)
		}
	}
	slices.Sort(scratch)
	return Quantile(scratch, p/100), scratch
}

// hugeMean returns the mean of the n non-gap values, which lie in [lo, hi],
// when their sum overflows: it sums them scaled down by a power of two
// (exactly) and clamps the rounded result to [lo, hi].
func hugeMean(values []float64, n int, lo, hi float64) float64 {
	k := exponentFor(n)
	return min(max(math.Ldexp(scaledSum(values, n)/float64(n), k), lo), hi)
}

// exponentFor returns k with 2^k ≥ n.
func exponentFor(n int) int {
	_, k := math.Frexp(float64(n))
	return k
}

// scaledSum returns the sum of the n non-gap values divided by
// 2^exponentFor(n) (each scaled exactly), which cannot overflow.
func scaledSum(values []float64, n int) float64 {
	k := exponentFor(n)
	sum := 0.0
	for _, v := range values {
		if !IsGap(v) {
			sum += math.Ldexp(v, -k)
		}
	}
	return sum
}

// Quantile returns the q-quantile (0 ≤ q ≤ 1) of sorted by linear
// interpolation between closest ranks (type 7 of Hyndman and Fan, the
// default of R and NumPy). It returns NaN for an empty slice or a NaN q;
// q below 0 counts as 0 and above 1 as 1.
func Quantile(sorted []float64, q float64) float64 {
	switch n := len(sorted); {
	case n == 0 || math.IsNaN(q):
		return math.NaN()
	case n == 1 || q <= 0:
		return sorted[0]
	case q >= 1:
		return sorted[n-1]
	default:
		h := q * float64(n-1)
		lo := int(h)
		f := h - float64(lo)
		a, b := sorted[lo], sorted[lo+1]
		if d := b - a; !math.IsInf(d, 0) {
			return a + f*d
		}
		return (1-f)*a + f*b // a and b are finite but far apart
	}
}

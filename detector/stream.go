package detector

import (
	"math"
	"time"
)

// StreamConfig configures a Stream. The zero value is not usable: Threshold
// must be set; Alpha defaults to 0.05.
type StreamConfig struct {
	// Threshold is the idle threshold in the metric's unit: a value below
	// it extends the below-threshold run, any other value ends it.
	Threshold float64 `json:"threshold" yaml:"threshold"`
	// Alpha is the weight of a new value in the exponentially weighted
	// mean and variance, in (0, 1]. Default: 0.05 (a memory of about 20
	// values).
	Alpha float64 `json:"alpha,omitempty" yaml:"alpha,omitempty"`
}

// Validate checks that Threshold is finite and Alpha in (0, 1] (or zero,
// meaning the default).
func (c StreamConfig) Validate() error {
	if math.IsNaN(c.Threshold) || math.IsInf(c.Threshold, 0) {
		return invalid("stream.threshold", c.Threshold, "must be finite")
	}
	if math.IsNaN(c.Alpha) || c.Alpha < 0 || c.Alpha > 1 {
		return invalid("stream.alpha", c.Alpha, "must be in (0, 1] (0 means the default 0.05)")
	}
	return nil
}

// Stream is the O(1) state of one resource-metric for watching a large
// fleet without keeping its history: an exponentially weighted mean and
// variance, the maximum, the number of values seen and the length of the
// current run of values below the threshold. It takes 56 bytes.
//
// The zero Stream is not usable; make one with NewStream. A Stream is not
// safe for concurrent use: keep one per goroutine or guard it.
type Stream struct {
	mean, vari float64
	max        float64
	threshold  float64
	alpha      float64
	last       int64  // Unix nanoseconds of the last Observe; 0 before
	run        uint32 // values below threshold since the last one that was not
	n          uint32 // values seen, saturating
}

// NewStream returns an empty Stream, or an error naming the invalid field.
func NewStream(cfg StreamConfig) (Stream, error) {
	if err := cfg.Validate(); err != nil {
		return Stream{}, err
	}
	if cfg.Alpha == 0 {
		cfg.Alpha = 0.05
	}
	return Stream{threshold: cfg.Threshold, alpha: cfg.Alpha, max: math.Inf(-1)}, nil
}

// Update adds one value in O(1) without allocating. A NaN is a gap: it is
// ignored and neither extends nor ends the run. Infinite values are the
// caller's bug; use Observe to have input checked.
func (s *Stream) Update(v float64) {
	if math.IsNaN(v) {
		return
	}
	s.update(v)
}

// update adds a value known not to be NaN.
func (s *Stream) update(v float64) {
	if s.n == 0 {
		s.mean = v
	}
	d := v - s.mean
	s.mean += s.alpha * d
	s.vari = (1 - s.alpha) * (s.vari + s.alpha*d*d)
	if v > s.max {
		s.max = v
	}
	below := uint32(0)
	if v < s.threshold {
		below = 1
	}
	s.run = (s.run + 1) * below
	if s.n != math.MaxUint32 {
		s.n++
	}
}

// Observe checks and adds the value v observed at t: t must be after the
// previous Observe's time and v finite (a NaN gap is accepted and
// ignored). The error names the field.
func (s *Stream) Observe(t time.Time, v float64) error {
	ns := t.UnixNano()
	if t.IsZero() {
		return invalid("stream.time", t, "must be set")
	}
	if s.last != 0 && ns <= s.last {
		return invalid("stream.time", t.Format(time.RFC3339Nano), "must be after the previous value's "+time.Unix(0, s.last).UTC().Format(time.RFC3339Nano)+" (values must be sorted and not repeated)")
	}
	if math.IsInf(v, 0) {
		return invalid("stream.value", v, "must be finite or NaN (a gap)")
	}
	s.last = ns
	s.Update(v)
	return nil
}

// Mean returns the exponentially weighted mean; NaN before any value.
func (s *Stream) Mean() float64 {
	if s.n == 0 {
		return math.NaN()
	}
	return s.mean
}

// StdDev returns the exponentially weighted standard deviation; NaN before
// any value.
func (s *Stream) StdDev() float64 {
	if s.n == 0 {
		return math.NaN()
	}
	return math.Sqrt(s.vari)
}

// Max returns the largest value seen; NaN before any value.
func (s *Stream) Max() float64 {
	if s.n == 0 {
		return math.NaN()
	}
	return s.max
}

// Count returns how many values were seen (gaps excluded), saturating at
// 2³²−1.
func (s *Stream) Count() int { return int(s.n) }

// Run returns the number of values below the threshold since the last
// value that was not.
func (s *Stream) Run() int { return int(s.run) }

// Idle reports whether the last hold values were all below the threshold
// and the weighted mean is below it too.
func (s *Stream) Idle(hold int) bool {
	return s.n > 0 && int(s.run) >= max(hold, 1) && s.mean < s.threshold
}

// Sketch geometry: sketchSub buckets per power of two (12 keeps the
// midpoint error under 5 % and 100 k sketches near the L3 cache's size) over exponents
// [sketchMinExp, sketchMaxExp], after bucket 0, which holds the values
// below the range.
const (
	sketchSub     = 12
	sketchMinExp  = -12
	sketchMaxExp  = 0
	sketchBuckets = 1 + (sketchMaxExp-sketchMinExp+1)*sketchSub
)

// Sketch is a compact log-linear histogram for percentiles: 12 buckets per
// power of two over [2⁻¹²·s, 2·s) where s = 1/Scale, with 16-bit counts
// (all halved when one would overflow, which keeps the shares). Each bucket
// is at most 1/12 of its lower edge wide and a value is read as its
// bucket's midpoint, so a percentile is within 1/24 ≈ 4.2 % of a value in
// its bucket. Values below the range count as zero; values above it fall
// in the top bucket. It takes 320 bytes; Add touches the scale and one
// bucket only.
//
// The zero Sketch is not usable; make one with NewSketch. A Sketch is not
// safe for concurrent use.
type Sketch struct {
	scale  float32
	counts [sketchBuckets]uint16
}

// NewSketch returns an empty Sketch for values up to about 2/scale: use
// scale 1 for utilization fractions (range 0.024 % … 200 %), 1/max for
// other units. scale must be finite and > 0.
func NewSketch(scale float64) (Sketch, error) {
	if math.IsNaN(scale) || math.IsInf(scale, 0) || scale <= 0 || float64(float32(scale)) == 0 || math.IsInf(float64(float32(scale)), 0) {
		return Sketch{}, invalid("sketch.scale", scale, "must be a finite number > 0")
	}
	return Sketch{scale: float32(scale)}, nil
}

// Add counts one value in O(1) without allocating. NaN is ignored; values
// ≤ 0 or below the range count as zero.
func (k *Sketch) Add(v float64) {
	if math.IsNaN(v) {
		return
	}
	k.add(v)
}

// add counts a value known not to be NaN.
func (k *Sketch) add(v float64) {
	x := v * float64(k.scale)
	i := 0
	if x >= 1.0/(1<<-sketchMinExp) {
		bits := math.Float64bits(x)
		e := int(bits>>52&0x7ff) - 1023
		sub := int((bits & (1<<52 - 1)) * sketchSub >> 52)
		i = min(1+(e-sketchMinExp)*sketchSub+sub, sketchBuckets-1)
	}
	k.counts[i]++
	if k.counts[i] == math.MaxUint16 {
		k.halve()
	}
}

func (k *Sketch) halve() {
	for i := range k.counts {
		k.counts[i] /= 2
	}
}

// Count returns the number of values the shares are based on (it drops
// when counts are halved). It is O(buckets).
func (k *Sketch) Count() int {
	n := 0
	for _, c := range k.counts {
		n += int(c)
	}
	return n
}

// Quantile returns the q-quantile (0 ≤ q ≤ 1) like provider.Quantile does
// on sorted values (linear interpolation between closest ranks), with each
// value replaced by its bucket's midpoint. It returns NaN when the sketch is
// empty or q is outside [0, 1]. It is O(buckets).
func (k *Sketch) Quantile(q float64) float64 {
	total := k.Count()
	if total == 0 || !(q >= 0 && q <= 1) {
		return math.NaN()
	}
	h := q * float64(total-1)
	lo := int(h)
	a := k.rank(lo)
	if frac := h - float64(lo); frac > 0 {
		return a + frac*(k.rank(lo+1)-a)
	}
	return a
}

// rank returns the midpoint of the bucket holding the r-th smallest value
// (0-based).
func (k *Sketch) rank(r int) float64 {
	c := 0
	for i, n := range k.counts {
		c += int(n)
		if r < c {
			if i == 0 {
				return 0
			}
			e := (i-1)/sketchSub + sketchMinExp
			sub := (i - 1) % sketchSub
			return math.Ldexp(1+(float64(sub)+0.5)/sketchSub, e) / float64(k.scale)
		}
	}
	return math.Ldexp(2, sketchMaxExp) / float64(k.scale)
}

// PercentileStream is a Stream with a Sketch: 376 bytes per
// resource-metric. An update touches the stream's fields, the sketch's
// scale right after them and one bucket. (It is deliberately not padded to
// 512 bytes: a power-of-two stride makes a slice of them alias in the CPU
// caches.) 100 k of them take 37.6 MB.
type PercentileStream struct {
	Stream
	Sketch
}

// NewPercentileStream returns an empty PercentileStream; scale is the
// Sketch's (1 for utilization fractions).
func NewPercentileStream(cfg StreamConfig, scale float64) (PercentileStream, error) {
	s, err := NewStream(cfg)
	if err != nil {
		return PercentileStream{}, err
	}
	k, err := NewSketch(scale)
	if err != nil {
		return PercentileStream{}, err
	}
	return PercentileStream{Stream: s, Sketch: k}, nil
}

// Update adds one value to the stream and the sketch in O(1) without
// allocating.
func (p *PercentileStream) Update(v float64) {
	if math.IsNaN(v) {
		return
	}
	p.update(v)
	p.add(v)
}

// Observe checks and adds the value v observed at t (see Stream.Observe).
func (p *PercentileStream) Observe(t time.Time, v float64) error {
	if err := p.Stream.Observe(t, v); err != nil {
		return err
	}
	p.Add(v)
	return nil
}

// Count returns the number of values the stream has seen.
func (p *PercentileStream) Count() int { return p.Stream.Count() }

// ResourceStreams is the streaming state of one resource for the three
// metrics a fleet watcher typically follows: CPU, network and requests,
// with percentiles. It takes 1128 bytes.
type ResourceStreams struct {
	// CPU follows cpu utilization (fraction).
	CPU PercentileStream
	// Network follows network bytes per second.
	Network PercentileStream
	// Requests follows requests per second.
	Requests PercentileStream
}

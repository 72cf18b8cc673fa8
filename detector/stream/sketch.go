package stream

import "math"

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
// (all halved, rounding up, when one would overflow, which keeps the
// shares and every bucket that holds a value). Each bucket
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

// halve halves every count, rounding up, so that a bucket that holds a
// value keeps it (a value seen once may be the one that matters: the
// spike among idle steps).
func (k *Sketch) halve() {
	for i, c := range k.counts {
		k.counts[i] = c/2 + c%2
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

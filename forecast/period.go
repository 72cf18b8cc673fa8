package forecast

import (
	"fmt"
	"math"
	"slices"
	"time"

	"gonum.org/v1/gonum/dsp/fourier"

	"github.com/idlescale/idlescale/provider"
)

// ACF writes the sample autocorrelation of y at lags 0…len(dst)−1 into dst
// (Box & Jenkins; r_k = Σ (y_t−ȳ)(y_{t+k}−ȳ) / Σ (y_t−ȳ)²), computed with
// an FFT in O(n log n). Lags ≥ len(y) get 0. y must be finite and not
// constant; it returns an error matching provider.ErrInvalid or
// ErrInsufficientData otherwise.
func ACF(dst, y []float64) error {
	if err := checkFinite("y", y); err != nil {
		return err
	}
	n := len(y)
	if n < 2 {
		return insufficient("acf: y", n, 2)
	}
	if slices.Min(y) == slices.Max(y) {
		// Not left to acov[0]: the mean of a constant y may round away
		// from its values, leaving a constant that correlates at every lag.
		return fmt.Errorf("%w: acf: y is constant (%v)", ErrInsufficientData, y[0])
	}
	size := 1
	for size < 2*n {
		size <<= 1
	}
	x := make([]float64, size)
	copy(x, unitScale(y))
	var mean float64
	for _, v := range x[:n] {
		mean += v
	}
	mean /= float64(n)
	for i := range n {
		x[i] -= mean
	}
	fft := fourier.NewFFT(size)
	c := fft.Coefficients(nil, x)
	for i, v := range c {
		c[i] = complex(real(v)*real(v)+imag(v)*imag(v), 0)
	}
	acov := fft.Sequence(x, c)
	if acov[0] <= 0 {
		return fmt.Errorf("%w: acf: y is constant", ErrInsufficientData)
	}
	for k := range dst {
		if k < n {
			dst[k] = acov[k] / acov[0]
		} else {
			dst[k] = 0
		}
	}
	return nil
}

// DetectPeriods finds season lengths in steps from the peaks of the
// autocorrelation function of y (Box & Jenkins; Hyndman & Athanasopoulos,
// FPP 3rd ed., §2.8), up to maxPeriod steps (0, or a bound past len(y)/2,
// means len(y)/3), and returns them in increasing order. A lag k is a period when r_k is a local
// maximum above max(0.2, 2/√n) that rises at least max(0.1, 2/√n) above
// the lowest autocorrelation at a shorter lag (so that the slow decay of a
// persistent but aseasonal series is not taken for seasons). The linear
// trend is removed first and r_k is scaled by n/(n−k) (the unbiased
// estimator) for the comparisons. A lag near a multiple of a period p already
// found (48, 72, … for 24) is kept only as a further season (168 for
// weekly on top of daily) when r_k also exceeds r_{k−p} and r_{k+p} by
// more than max(0.01, 1/√n). It returns nil when y shows no season (a
// straight line, which the trend's removal leaves as rounding, shows
// none), and an error for non-finite, constant or too short (< 8) input.
func DetectPeriods(y []float64, maxPeriod int) ([]int, error) {
	found, _, err := detectPeriods(y, maxPeriod)
	return found, err
}

// detectPeriods is DetectPeriods, returning with the seasons r, the
// scaled autocorrelation of y at the lags 0…2·maxPeriod+1 (maxPeriod as
// it defaults), or nil when y is a straight line.
func detectPeriods(y []float64, maxPeriod int) ([]int, []float64, error) {
	n := len(y)
	if n < 8 {
		return nil, nil, insufficient("detect periods: y", n, 8)
	}
	if err := checkFinite("y", y); err != nil {
		return nil, nil, err
	}
	if maxPeriod < 0 {
		return nil, nil, provider.Invalid("max_period", maxPeriod, "must be ≥ 0 (0 means len(y)/3)")
	}
	if slices.Min(y) == slices.Max(y) {
		// Not left to the ACF of the detrended y: a line fitted to a
		// constant y may leave rounding, and rounding may correlate.
		return nil, nil, fmt.Errorf("%w: detect periods: y is constant (%v)", ErrInsufficientData, y[0])
	}
	if maxPeriod == 0 || maxPeriod > n/2 {
		maxPeriod = max(n/3, 2)
	}
	if straight(y) {
		return nil, nil, nil
	}
	r := make([]float64, 2*maxPeriod+2)
	if err := ACF(r, detrend(unitScale(y))); err != nil {
		return nil, nil, err
	}
	// Undo the (n−k)/n shrinkage of the standard estimator so that peaks
	// at long lags compare fairly with shorter ones.
	for k := range r {
		if k < n {
			r[k] *= float64(n) / float64(n-k)
		}
	}
	return acfPeaks(r, n, maxPeriod), r, nil
}

// acfPeaks is DetectPeriods' choice of seasons among the lags 2…maxPeriod
// of r, the scaled autocorrelation of n values (len(r) ≥ maxPeriod + 2).
func acfPeaks(r []float64, n, maxPeriod int) []int {
	thr := math.Max(0.2, 2/math.Sqrt(float64(n)))
	margin := math.Max(0.01, 1/math.Sqrt(float64(n)))
	prominence := math.Max(0.1, 2/math.Sqrt(float64(n)))
	var out []int
	trough := r[1]
	for k := 2; k <= maxPeriod; k++ {
		trough = math.Min(trough, r[k])
		if r[k] <= thr || r[k] < r[k-1] || r[k] < r[k+1] || r[k]-trough < prominence {
			continue
		}
		keep := true
		for _, p := range out {
			off := k % p
			if off > p/10 && p-off > p/10 {
				continue // not near a multiple of p
			}
			// Near a multiple of p: a new season only if it stands out
			// among the neighbouring multiples.
			if k+p >= len(r) || r[k] <= max(r[k-p], r[k+p])+margin {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, k)
		}
	}
	return out
}

// detrend returns y minus its least-squares line.
// unitScale returns y, or when its largest magnitude is so large or so
// small that sums of products over it would overflow or underflow, a copy
// scaled by a power of two (exactly, for normal numbers) so that the
// largest magnitude is in [0.5, 1). Autocorrelations and periods do not
// depend on the scale.
func unitScale(y []float64) []float64 {
	m := 0.0
	for _, v := range y {
		m = max(m, math.Abs(v))
	}
	if m == 0 || (m > 1e-100 && m < 1e100) {
		return y
	}
	_, e := math.Frexp(m)
	out := make([]float64, len(y))
	for i, v := range y {
		out[i] = math.Ldexp(v, -e)
	}
	return out
}

// straight reports whether a straight line fits y to the rounding of its
// values and of the fit: the least-squares line of y's unit-scaled values
// less their mean leaves at most 128·ε·√n of their largest deviation from
// the mean plus 16·ε of their largest magnitude (the rounding of a line's
// n values measures up to about a fifth of that). The autocorrelation of
// rounding has peaks, which are no seasons; a season small beside a large
// level is well above it.
func straight(y []float64) bool {
	u := unitScale(y)
	n := float64(len(u))
	var mean, big float64
	for _, v := range u {
		mean += v
		big = max(big, math.Abs(v))
	}
	mean /= n
	c := make([]float64, len(u))
	var span float64
	for i, v := range u {
		c[i] = v - mean
		span = max(span, math.Abs(c[i]))
	}
	var res float64
	for _, v := range detrend(c) {
		res = max(res, math.Abs(v))
	}
	return res <= 128*epsilon*math.Sqrt(n)*span+16*epsilon*big
}

// epsilon is the float64 machine epsilon, 2⁻⁵².
const epsilon = 0x1p-52

func detrend(y []float64) []float64 {
	n := float64(len(y))
	var st, sy, stt, sty float64
	for t, v := range y {
		ft := float64(t)
		st += ft
		sy += v
		stt += ft * ft
		sty += ft * v
	}
	den := n*stt - st*st
	b := 0.0
	if den != 0 {
		b = (n*sty - st*sy) / den
	}
	a := (sy - b*st) / n
	out := make([]float64, len(y))
	for t, v := range y {
		out[t] = v - a - b*float64(t)
	}
	return out
}

// DetectSeasons is DetectPeriods on a provider.Series: it interpolates
// short gaps (Prepare with the zero GapPolicy), looks for seasons up to
// maxPeriod (0 or past half the series: a third of it; shorter than two
// steps: none fits) and returns them as durations (period × s.Step),
// shortest first.
// A negative maxPeriod is an error matching provider.ErrInvalid.
func DetectSeasons(s provider.Series, maxPeriod time.Duration) ([]time.Duration, error) {
	if maxPeriod < 0 {
		return nil, provider.Invalid("max_period", maxPeriod, "must be ≥ 0 (0 means a third of the series)")
	}
	y, err := Prepare(s, GapPolicy{})
	if err != nil {
		return nil, err
	}
	maxSteps := 0
	if maxPeriod > 0 {
		// At least 1: a bound shorter than a step is not the default.
		maxSteps = max(int(maxPeriod/s.Step), 1)
	}
	ps, err := DetectPeriods(y, maxSteps)
	if err != nil {
		return nil, err
	}
	out := make([]time.Duration, len(ps))
	for i, p := range ps {
		out[i] = time.Duration(p) * s.Step
	}
	return out, nil
}

// PeriodSteps converts a season length into a whole number of steps, e.g.
// PeriodSteps(24*time.Hour, 5*time.Minute) = 288. It returns an error
// matching provider.ErrInvalid when step ≤ 0 or period is not a positive
// multiple of step.
func PeriodSteps(period, step time.Duration) (int, error) {
	if step <= 0 {
		return 0, provider.Invalid("step", step, "must be > 0")
	}
	if period < step || period%step != 0 {
		return 0, provider.Invalid("period", period, "must be a positive multiple of the step "+step.String())
	}
	return int(period / step), nil
}

// CandidatePeriods returns the seasons, in steps and shortest first, that
// Auto compares candidates for when it is given no periods:
//
//   - those DetectPeriods finds, each moved to the lag within ±2 steps
//     whose multiples correlate most on average (a comb over the
//     autocorrelation function, so that a daily season read as 23 or 25
//     hourly steps in a noisy window becomes 24);
//   - when none is found, the autocorrelation peak (a local maximum above
//     2/√n) that rises most above the lowest autocorrelation at a shorter
//     lag, by more than 2/√n, left for the rolling-origin validation to
//     accept or refuse;
//   - without the longer ones within 10 % of 2…6 times the shortest;
//   - seven times the shortest one when y holds at least two of those
//     (weekly on a daily season): a window too short for DetectPeriods to
//     see a season (it looks up to a third of y) still gets it tried.
//
// It returns nil when y has no autocorrelation peak at all or is a
// straight line, and DetectPeriods' errors.
func CandidatePeriods(y []float64) ([]int, error) {
	found, r, err := detectPeriods(y, 0)
	if err != nil || r == nil {
		return nil, err
	}
	return candidatesFrom(found, r, len(y)), nil
}

// candidatesFrom is CandidatePeriods' choice from the seasons DetectPeriods
// found and r, the scaled autocorrelation of n values at the lags
// 0…2·max(n/3, 2)+1 or more (it reads none from 2n/3 on).
func candidatesFrom(found []int, r []float64, n int) []int {
	comb := func(p int) float64 {
		var s float64
		m := 0
		for k := p; k < 2*n/3; k += p {
			s += r[k]
			m++
		}
		if m == 0 {
			return math.Inf(-1)
		}
		return s / float64(m)
	}
	var out []int
	for _, p := range found {
		best, bestScore := p, comb(p)
		for q := max(2, p-2); q <= p+2 && q < 2*n/3; q++ {
			if s := comb(q); s > bestScore+1e-9 {
				best, bestScore = q, s
			}
		}
		out = append(out, best)
	}
	if len(out) == 0 {
		thr := 2 / math.Sqrt(float64(n))
		high, best, rise := 0, 0, 0.0
		trough := r[1]
		for k := 2; k < n/3; k++ {
			trough = math.Min(trough, r[k])
			if r[k] <= thr || r[k] < r[k-1] || r[k] < r[k+1] {
				continue
			}
			if high == 0 || r[k] > r[high] {
				high = k
			}
			if r[k]-trough > max(thr, rise) {
				best, rise = k, r[k]-trough
			}
		}
		for _, k := range []int{high, best} {
			if k > 0 {
				out = append(out, k)
			}
		}
		if len(out) == 0 {
			return nil
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	// A longer season near 2…6 times the shortest is the shortest one's
	// echo in a short window, not a season of its own.
	p0 := out[0]
	out = slices.DeleteFunc(out, func(q int) bool {
		m := (q + p0/2) / p0
		return q > p0 && m >= 2 && m <= 6 && math.Abs(float64(q-m*p0)) <= 0.1*float64(m*p0)
	})
	if w := 7 * out[0]; n >= 2*w && !slices.Contains(out, w) {
		out = append(out, w)
		slices.Sort(out)
	}
	return out
}

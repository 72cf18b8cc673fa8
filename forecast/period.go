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
	var mean float64
	for _, v := range y {
		mean += v
	}
	mean /= float64(n)
	size := 1
	for size < 2*n {
		size <<= 1
	}
	x := make([]float64, size)
	for i, v := range y {
		x[i] = v - mean
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
// autocorrelation function of y, up to maxPeriod steps (0 means len(y)/3),
// and returns them in increasing order. A lag is a period when it is a
// local maximum of the ACF above max(0.2, 2/√n); a multiple of an already
// found period is kept only when its autocorrelation is higher by more
// than 0.05 (a weekly season on top of a daily one), and every other
// multiple (48, 72, … for 24) is dropped. It returns nil when y shows no
// season, and an error for non-finite, constant or too short (< 8) input.
func DetectPeriods(y []float64, maxPeriod int) ([]int, error) {
	n := len(y)
	if n < 8 {
		return nil, insufficient("detect periods: y", n, 8)
	}
	if maxPeriod < 0 {
		return nil, provider.Invalid("max_period", maxPeriod, "must be ≥ 0 (0 means len(y)/3)")
	}
	if maxPeriod == 0 || maxPeriod > n/2 {
		maxPeriod = max(n/3, 2)
	}
	r := make([]float64, maxPeriod+2)
	if err := ACF(r, y); err != nil {
		return nil, err
	}
	thr := math.Max(0.2, 2/math.Sqrt(float64(n)))
	var out []int
	var acfs []float64
	for k := 2; k <= maxPeriod; k++ {
		if r[k] <= thr || r[k] < r[k-1] || r[k] < r[k+1] {
			continue
		}
		keep := true
		for i, p := range out {
			if near := k % p; near <= p/10 || p-near <= p/10 {
				// A multiple (or near multiple) of a found period: keep it
				// only if it is clearly stronger.
				if r[k] <= acfs[i]+0.05 || slices.Contains(out, k) {
					keep = false
					break
				}
			}
		}
		if !keep {
			continue
		}
		// Among peaks that are multiples, keep only the strongest.
		out = append(out, k)
		acfs = append(acfs, r[k])
	}
	// Drop a period that is beaten by a later multiple of it by more than
	// the margin only when the later one is a true multiple; both are kept
	// otherwise (daily and weekly).
	return out, nil
}

// DetectSeasons is DetectPeriods on a provider.Series: it interpolates
// short gaps (Prepare with the zero GapPolicy), looks for seasons up to
// maxPeriod (0: a third of the series) and returns them as durations
// (period × s.Step), shortest first.
func DetectSeasons(s provider.Series, maxPeriod time.Duration) ([]time.Duration, error) {
	y, err := Prepare(s, GapPolicy{})
	if err != nil {
		return nil, err
	}
	maxSteps := 0
	if maxPeriod > 0 {
		maxSteps = int(maxPeriod / s.Step)
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

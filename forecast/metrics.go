package forecast

import (
	"math"
)

// Scale returns the in-sample mean absolute seasonal difference of y,
// (1/(n−m)) Σ_{t>m} |y_t − y_{t−m}|: the denominator of MASE (Hyndman &
// Koehler 2006; m = 24 for hourly data as in the M4 competition). It
// returns NaN when len(y) ≤ m or m < 1.
func Scale(y []float64, m int) float64 {
	if m < 1 || len(y) <= m {
		return math.NaN()
	}
	var s float64
	for t := m; t < len(y); t++ {
		s += math.Abs(y[t] - y[t-m])
	}
	k := float64(len(y) - m)
	if math.IsInf(s, 1) {
		// The differences or their sum overflow where their mean may not
		// (values near the largest float64); an infinite scale made every
		// MASE 0, a perfect score.
		s = 0
		for t := m; t < len(y); t++ {
			s += math.Abs(y[t]/2-y[t-m]/2) / k
		}
		return 2 * s
	}
	return s / k
}

// MASE returns the mean absolute scaled error of forecast against actual,
// mean|actual−forecast| / scale, where scale is Scale(insample, m). It
// returns NaN for empty or mismatched slices or a zero scale.
func MASE(actual, forecast []float64, scale float64) float64 {
	if len(actual) == 0 || len(actual) != len(forecast) || !(scale > 0) {
		return math.NaN()
	}
	var s float64
	for i, a := range actual {
		s += math.Abs(a - forecast[i])
	}
	return s / float64(len(actual)) / scale
}

// SMAPE returns the symmetric mean absolute percentage error in percent,
// as in the M4 competition: (200/h) Σ |a−f| / (|a|+|f|); a step where
// both are 0 counts 0. NaN for empty or mismatched slices.
func SMAPE(actual, forecast []float64) float64 {
	if len(actual) == 0 || len(actual) != len(forecast) {
		return math.NaN()
	}
	var s float64
	for i, a := range actual {
		if d := math.Abs(a) + math.Abs(forecast[i]); d > 0 {
			s += math.Abs(a-forecast[i]) / d
		}
	}
	return 200 * s / float64(len(actual))
}

// RMSE returns the root mean squared error. NaN for empty or mismatched
// slices.
func RMSE(actual, forecast []float64) float64 {
	if len(actual) == 0 || len(actual) != len(forecast) {
		return math.NaN()
	}
	var s float64
	for i, a := range actual {
		d := a - forecast[i]
		s += d * d
	}
	return math.Sqrt(s / float64(len(actual)))
}

// Pinball returns the mean quantile (pinball) loss of the tau-quantile
// forecast q: (1/h) Σ max(tau·(a−q), (tau−1)·(a−q)) (Koenker & Bassett
// 1978; the M5 and GEFCom score). Divide by Scale for the scaled pinball
// loss. NaN for empty or mismatched slices or tau outside (0, 1).
func Pinball(actual, q []float64, tau float64) float64 {
	if len(actual) == 0 || len(actual) != len(q) || !(tau > 0 && tau < 1) {
		return math.NaN()
	}
	var s float64
	for i, a := range actual {
		d := a - q[i]
		s += math.Max(tau*d, (tau-1)*d)
	}
	return s / float64(len(actual))
}

// Coverage returns the share of actual values inside [lo, hi] (use a
// slice of +Inf for hi, or -Inf for lo, for a one-sided quantile). NaN for
// empty or mismatched slices.
func Coverage(actual, lo, hi []float64) float64 {
	if len(actual) == 0 || len(actual) != len(lo) || len(actual) != len(hi) {
		return math.NaN()
	}
	n := 0
	for i, a := range actual {
		if a >= lo[i] && a <= hi[i] {
			n++
		}
	}
	return float64(n) / float64(len(actual))
}

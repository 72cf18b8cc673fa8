package detector

import (
	"math"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// metricData is what the built-in strategies read of one resource's
// metrics: the series of a full read (in.Series), or, when dg is set, the
// Digest of those series (see Incremental). The strategies ask it the
// questions their rules need instead of walking a series, so that a digest
// answers them exactly as the series would. It is a struct, not an
// interface, so that Detect keeps it on the stack.
type metricData struct {
	in *Input
	dg *digestView // nil: read in.Series
}

// has returns the step of m's data and whether there is any: a series in a
// full read (Scan leaves out a metric without data), a metric with data
// since the start of the history a full read would query in a digest.
func (d metricData) has(m provider.Metric) (time.Duration, bool) {
	if d.dg != nil {
		return d.dg.has(m)
	}
	s, ok := d.in.SeriesFor(m)
	return s.Step, ok
}

// utilization returns statistic st of m over the window before now and
// over the hold period that ends now, after the data quality rules of q
// (which read the whole window, as learn's do, and, when the resource
// launched inside the window, its own steps' coverage too: see
// ownCoverage) with th as the suspect-zero cliff. When the resource launched inside the window, each
// statistic is the higher of the whole window's and that of its steps
// from the launch on (NaN when it has none): a resource is idle only if
// it looks idle both ways. Its own steps alone would judge an EC2
// instance started again yesterday (LaunchTime is its last start) on one
// day, when the week before showed its load; the whole window alone would
// judge a resource created again under its predecessor's ID on the
// predecessor's idle days. With qOK both are numbers. A hold
// period without data is stale for the hold (qStale, the hold as the
// limit; qZeros when the latest data are suspect zeros): the window's
// statistic never stands in for it. Any code other than qOK comes with its
// reason and, but for qMissing (NaN), the statistics of the data there is
// (gaps and suspect zeros left out; NaN where there is none), so that a
// caller can still see load in it. xd and hd are the spans x and hx were
// read over: the window and the hold period, or, when the resource's own
// steps gave the higher statistic, the time since its launch (a reason
// must not call the mean of its 48 hours the week's). m must have data
// (see has).
func (d metricData) utilization(m provider.Metric, th float64, st provider.Statistic, window, hold time.Duration, q DataQuality) (x, hx float64, xd, hd time.Duration, code int, why Reason) {
	launch := d.in.Resource.LaunchTime
	if d.dg != nil {
		return d.dg.utilization(m, th, st, window, hold, launch, q)
	}
	s, _ := d.in.SeriesFor(m)
	w, code, why := view(s, d.in.Now, window, th, q)
	if code == qMissing {
		return math.NaN(), math.NaN(), window, min(hold, window), code, why
	}
	lo := w.lo
	if !launch.IsZero() {
		lo = min(max(lo, ceilIndex(s, launch)), w.hi)
	}
	holdAt := ceilIndex(s, d.in.Now.Add(-hold))
	x, xd = higher(w.stat(st, w.lo, w.hi), w.stat(st, lo, w.hi), window, d.in.Now, launch)
	hx, hd = higher(w.stat(st, max(w.lo, holdAt), w.hi), w.stat(st, max(lo, holdAt), w.hi), min(hold, window), d.in.Now, launch)
	if code == qOK {
		if cov, span, short := ownCoverage(w.validIn(lo, w.hi), s.Step, d.in.Now, window, launch, q); short {
			code, why = qGaps, Reason{Code: ReasonGaps, Value: cov, Limit: q.MinCoverage, Duration: span}
			if w.zeroRun > 0 {
				code, why = qZeros, Reason{Code: ReasonSuspectZeros, Value: w.cliff, Duration: w.zeroRun}
			}
		}
	}
	if code == qOK && math.IsNaN(hx) {
		code, why = w.stale(d.in.Now, min(hold, window))
	}
	return x, hx, xd, hd, code, why
}

// ownCoverage returns the coverage of the resource's own steps in the
// window before now, n steps with data of step since launch, the time
// since launch, and whether it is below q.MinCoverage: the window's
// coverage alone would let a resource created again under its
// predecessor's ID pass on the predecessor's data, and be judged idle on
// the few steps of its own. It is judged only when the resource launched
// inside the window (before now); short is false otherwise. The steps it
// holds are the steps that start at or after launch (the last one
// ending by now), counted as a full read and a digest both count them.
func ownCoverage(n int, step time.Duration, now time.Time, window time.Duration, launch time.Time, q DataQuality) (cov float64, span time.Duration, short bool) {
	if q.MinCoverage == 0 || launch.IsZero() || !launch.After(now.Add(-window)) || !launch.Before(now) {
		return 0, 0, false
	}
	span = now.Sub(launch)
	total := max(int((span+step-1)/step), 1)
	cov = float64(n) / float64(total)
	return cov, span, cov < q.MinCoverage
}

// higher is the higher of a statistic over the whole span before now
// (all) and over the resource's own steps in it, from launch on (own),
// the one that judges it less idle, and the span it was read over: span,
// or the time since launch when own is higher; NaN when own is (no step
// of its own: nothing says what it does).
func higher(all, own float64, span time.Duration, now, launch time.Time) (float64, time.Duration) {
	ownSpan := span
	if !launch.IsZero() && launch.After(now.Add(-span)) {
		ownSpan = max(now.Sub(launch), 0)
	}
	if math.IsNaN(own) {
		return own, ownSpan
	}
	if own > all {
		return own, ownSpan
	}
	return all, span
}

// learn fills p (whose Location, IdleShare and PeakLevel are set) with the
// hour-of-week counts of m over the history before now, from the
// resource's launch on when it is later, steps below thr counting as
// idle; see learnSeries. m must have data (see has).
func (d metricData) learn(p *Profile, m provider.Metric, thr float64, history time.Duration, q DataQuality) (int, Reason) {
	launch := d.in.Resource.LaunchTime
	if d.dg != nil {
		return d.dg.learn(p, m, thr, history, launch, q)
	}
	s, _ := d.in.SeriesFor(m)
	return learnSeries(s, d.in.Now, thr, history, launch, q, p)
}

// stats returns the evidence statistics of m over the window before now;
// see the function stats. m must have data (see has).
func (d metricData) stats(m provider.Metric, window time.Duration, launch time.Time, th float64, lv levels, q DataQuality) windowStats {
	if d.dg != nil {
		return d.dg.stats(m, window, launch, th, lv, q)
	}
	s, _ := d.in.SeriesFor(m)
	return stats(s, d.in.Now, window, launch, th, lv, q)
}

package detector

import (
	"math"
	"slices"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// sizingMetrics are the metrics that scale with a resource's size: a
// downsize multiplies their utilization by 1/(1 − DownsizeSaving).
var sizingMetrics = [...]provider.Metric{provider.MetricCPU, provider.MetricMemory}

// levels are the values a windowStats counts the steps at or above: the
// P99 peak bound and the downsize p99 limit on the current size.
type levels struct{ p99, downsize float64 }

// evidence is what one Detect call found in an evidence window: the
// statistics of every metric that has a peak bound, is required or sizes a
// downsize and has a series, in the order of Ensemble.evidenceMetrics. It
// lives on the stack; more than eight such metrics (the default ensemble
// reads eight) spill into a slice.
type evidence struct {
	buf   [8]windowStats
	n     int
	extra []windowStats // all of them, when more than len(buf)
}

func (ev *evidence) add(ws windowStats) {
	switch {
	case ev.extra != nil:
		ev.extra = append(ev.extra, ws)
	case ev.n < len(ev.buf):
		ev.buf[ev.n] = ws
		ev.n++
	default:
		ev.extra = append(append(make([]windowStats, 0, 2*len(ev.buf)), ev.buf[:]...), ws)
	}
}

// all returns the statistics in order.
func (ev *evidence) all() []windowStats {
	if ev.extra != nil {
		return ev.extra
	}
	return ev.buf[:ev.n]
}

// recommender decides the action of one verdict (see EvidenceConfig for
// the ladder) and explains it in the verdict's reasons. The verdict and the
// evidence are passed to each method rather than kept here, so that escape
// analysis keeps them, the input and the profile on Detect's stack.
type recommender struct {
	e       *Ensemble
	l       *lens // the resource's kind's
	in      *Input
	data    metricData
	prof    *Profile // nil without a learned week
	monthly float64
}

// recommend sets the action and savings of v and appends the reasons of
// the recommendation. An Unknown verdict gets none; a verdict whose
// confidence does not exceed ActThreshold gets none with that reason.
func (e *Ensemble) recommend(in *Input, data metricData, v *Verdict, sched *result) {
	if v.State == Unknown {
		return
	}
	if v.Confidence <= e.cfg.ActThreshold {
		v.Reasons = append(v.Reasons, Reason{Signal: "ensemble", Code: ReasonBelowConf, Value: v.Confidence, Limit: e.cfg.ActThreshold})
		return
	}
	if readFailed(in, v) {
		return
	}
	r := recommender{e: e, l: e.lensOf(in.Resource.Kind), in: in, data: data, monthly: in.Resource.HourlyCost * HoursPerMonth}
	if sched.hasProf {
		r.prof = &sched.prof
	}
	var win evidence // over Evidence.Window
	r.collect(v, &win, e.cfg.Evidence.Window)
	if v.State == NotIdle {
		if !r.schedule(v, false) {
			r.downsize(v, &win)
		}
		return
	}
	switch k := in.Resource.Kind; {
	case k == provider.KindInstance || k == provider.KindDatabase:
		r.destroy(v, ActionStop, &win)
	case k == provider.KindVolume && in.Resource.State != provider.StateStopped:
		// An attached volume serves its instance, which is judged on its
		// own: a volume is deleted only once it is detached (stopped),
		// not while attached (running) or on its way to or from it
		// (pending, stopping), and an attached one cannot be (EBS
		// refuses to delete a volume in use).
		v.Reasons = append(v.Reasons, Reason{Signal: "evidence", Code: ReasonAttached, Action: ActionTerminate})
	case Terminable(k):
		var long evidence
		r.collect(v, &long, e.cfg.Evidence.TerminateWindow)
		r.destroy(v, ActionTerminate, &long)
	case k == provider.KindGroup:
		// An idle group keeps its minimum: it is scaled in, not stopped.
		r.downsize(v, &win)
	}
}

// Terminable reports whether an idle resource of kind k is one the
// Ensemble recommends terminating (on the evidence of
// EvidenceConfig.TerminateWindow, activity data over all of it included)
// rather than stopping or scaling in: a function, a volume, a load
// balancer, which cannot be stopped. A volume is recommended for
// termination only while it is detached (provider.StateStopped, see
// provider.State): an attached one (running), or one being attached or
// detached (pending, stopping), gets no action and the reason
// ReasonAttached.
func Terminable(k provider.Kind) bool {
	return k == provider.KindFunction || k == provider.KindVolume || k == provider.KindLoadBalancer
}

// readFailed explains every read of in that failed, a metric's or the
// activity source's, and reports whether there was one: then no action is
// recommended, neither a stop nor a schedule nor a smaller size. A read
// the verdict could do without (a metric the utilization signal has no
// threshold for, the activity) may be the one that shows the resource at
// work: a proxy whose traffic read was throttled, a server whose logins
// could not be read. Fail closed. (A failed read of a metric the
// utilization signal reads makes the verdict Unknown before this.)
func readFailed(in *Input, v *Verdict) bool {
	for _, me := range in.MetricErrors {
		v.Reasons = append(v.Reasons, Reason{Signal: "ensemble", Code: ReasonReadFailed, Metric: me.Metric, Err: me.Err})
	}
	if in.ActivityErr != nil {
		v.Reasons = append(v.Reasons, Reason{Signal: "ensemble", Code: ReasonReadFailed, Err: in.ActivityErr})
	}
	return len(in.MetricErrors) > 0 || in.ActivityErr != nil
}

// evidenceMetrics returns the metrics the evidence rules read, in a stable
// order: the utilization's required metrics, then the bounded ones, then
// those that size a downsize.
func (l *lens) evidenceMetrics() []provider.Metric {
	ms := slices.Clone(l.util.cfg.Required)
	var bounded []provider.Metric
	for m := range l.bounds {
		if !slices.Contains(ms, m) {
			bounded = append(bounded, m)
		}
	}
	slices.Sort(bounded)
	ms = append(ms, bounded...)
	for _, m := range sizingMetrics {
		if !slices.Contains(ms, m) {
			ms = append(ms, m)
		}
	}
	return ms
}

// collect computes the statistics over the window before now of every
// evidence metric that has a series, and explains each one with data.
func (r *recommender) collect(v *Verdict, ev *evidence, window time.Duration) {
	e, in := r.e, r.in
	down := e.cfg.Evidence.DownsizeP99 * (1 - e.cfg.DownsizeSaving)
	for _, m := range r.l.evMetrics {
		if _, ok := r.data.has(m); !ok {
			continue
		}
		th, hasTh := r.l.util.cfg.Thresholds[m]
		b, bounded := r.l.bounds[m]
		lv := levels{p99: math.Inf(1), downsize: down}
		if bounded {
			lv.p99 = b.P99
		}
		if !hasTh {
			th = lv.p99
		}
		ws := r.data.stats(m, window, in.Resource.LaunchTime, th, lv, r.l.util.cfg.Quality)
		ev.add(ws)
		if ws.n > 0 {
			v.Reasons = append(v.Reasons, Reason{Signal: "evidence", Code: ReasonEvidence, Metric: m, Value: ws.coverage(), Duration: window,
				Stats: Stats{Mean: ws.mean(), P95: ws.p95, P99: ws.p99, Max: ws.max}})
		}
	}
}

// find returns the statistics of m, or nil when m has no series.
func (ev *evidence) find(m provider.Metric) *windowStats {
	all := ev.all()
	for i := range all {
		if all[i].metric == m {
			return &all[i]
		}
	}
	return nil
}

// destroy recommends action (stop or terminate) when the evidence allows
// it: the window covered, its peaks below the bounds, every hour of the
// week idle and, for terminate, no use at all. Every rule is explained,
// met or not. Busy hours of the week make it a schedule or nothing.
func (r *recommender) destroy(v *Verdict, action Action, ev *evidence) {
	week := r.week(v, action)
	ok := r.covered(v, action, ev, r.e.cfg.Evidence.MinCoverage, 0) && week
	ok = r.peaksBelow(v, action, ev) && ok
	ok = r.noneBusy(v, action) && ok
	switch action {
	case ActionStop:
		ok = r.quiet(v, action) && ok
	case ActionTerminate:
		ok = r.unused(v, action) && ok // no use in the whole window, the quiet period included
	}
	switch {
	case !week && r.prof != nil && r.prof.Busy().Len() > 0:
		// Busy hours in the week: a schedule or nothing, never a stop.
		r.schedule(v, true)
	case ok:
		v.Action, v.MonthlySavings = action, r.monthly
	}
}

// week checks that the learned week is idle enough for action and explains
// it, naming the busy hours.
func (r *recommender) week(v *Verdict, action Action) bool {
	p, limit := r.prof, r.e.cfg.StopIdleShare
	if p == nil {
		v.Reasons = append(v.Reasons, Reason{Signal: "evidence", Code: ReasonNoProfile, Metric: r.l.sched.cfg.Metric, Action: action,
			Limit: float64(r.l.sched.cfg.MinHistory)})
		return false
	}
	// An idle hour seen only in part, or not at all in some weeks, is not
	// known idle: what ran while its metrics were missing could be a job
	// (see Profile.KnownIdle).
	var thin, unseen WeekHours
	for i := range HoursPerWeek {
		switch {
		case !p.Idle(i) || p.KnownIdle(i):
		case p.MissingHours[i] >= 2:
			unseen.Add(i)
		default:
			thin.Add(i)
		}
	}
	share := float64(p.IdleSlots()-thin.Len()-unseen.Len()) / HoursPerWeek
	v.Reasons = append(v.Reasons, Reason{Signal: "evidence", Code: ReasonWeek, Action: action, Value: share, Limit: limit, Hours: p.Busy()})
	if thin.Len() > 0 {
		v.Reasons = append(v.Reasons, Reason{Signal: "evidence", Code: ReasonThinHours, Metric: r.l.sched.cfg.Metric, Action: action, Value: float64(thin.Len()),
			Limit: 1 - p.IdleShare, Hours: thin})
	}
	if unseen.Len() > 0 {
		v.Reasons = append(v.Reasons, Reason{Signal: "evidence", Code: ReasonUnseenHours, Metric: r.l.sched.cfg.Metric, Action: action, Value: float64(unseen.Len()),
			Limit: 2, Hours: unseen})
	}
	return share >= limit
}

// covered checks that every metric the evidence reads holds enough data:
// at least share of the window's steps, or, when need is positive, steps
// adding up to share of need.
func (r *recommender) covered(v *Verdict, action Action, ev *evidence, share float64, need time.Duration) bool {
	ok := true
	all := ev.all()
	for i := range all {
		ws := &all[i]
		if ws.code != qOK {
			why := ws.why
			why.Signal, why.Metric, why.Action = "evidence", ws.metric, action
			v.Reasons = append(v.Reasons, why)
			ok = false
			continue
		}
		span := ws.window
		if need > 0 {
			span = need
		}
		have := float64(time.Duration(ws.n)*ws.step) / float64(span)
		if have < share {
			v.Reasons = append(v.Reasons, Reason{Signal: "evidence", Code: ReasonShortEvidence, Metric: ws.metric, Action: action,
				Value: have, Limit: share, Duration: span})
			ok = false
		}
	}
	return ok
}

// peaksBelow checks every bounded metric's p99 and max against its peak
// bound and explains both, met or not: ReasonBelowBound when the figure is
// below its bound, ReasonPeak when it reaches it. The code comes from the
// decision, not from the figure, which may not be known (a Tracker's p99).
func (r *recommender) peaksBelow(v *Verdict, action Action, ev *evidence) bool {
	ok := true
	all := ev.all()
	for i := range all {
		ws := &all[i]
		b, bounded := r.l.bounds[ws.metric]
		if !bounded || ws.n == 0 {
			continue
		}
		p99ok, maxOK := ws.p99Below(), ws.max < b.Max
		if maxStep := r.e.cfg.Evidence.MaxPeakStep; ws.step > maxStep {
			v.Reasons = append(v.Reasons, Reason{Signal: "evidence", Code: ReasonCoarse, Metric: ws.metric, Action: action, Duration: ws.step, Limit: float64(maxStep)})
			ok = false
		}
		v.Reasons = append(v.Reasons,
			Reason{Signal: "evidence", Code: peakCode(p99ok), Metric: ws.metric, Statistic: p99, Action: action, Value: ws.p99, Limit: b.P99, Duration: ws.window},
			Reason{Signal: "evidence", Code: peakCode(maxOK), Metric: ws.metric, Statistic: provider.StatMax, Action: action, Value: ws.max, Limit: b.Max, Duration: ws.window})
		ok = ok && p99ok && maxOK
	}
	return ok
}

// peakCode is the code of a peak check's reason: ReasonBelowBound when
// the figure is below its bound, else ReasonPeak.
func peakCode(below bool) ReasonCode {
	if below {
		return ReasonBelowBound
	}
	return ReasonPeak
}

var p99 = provider.Percentile(99)

// unused checks that activity data covers the terminate window and shows
// no use of any counted kind in it. The cover is the shortest of the
// counted kinds': one whose source kept less (its Since) is a part of the
// window nobody saw.
func (r *recommender) unused(v *Verdict, action Action) bool {
	in, need := r.in, r.e.cfg.Evidence.TerminateWindow
	if in.ActivityErr != nil || len(in.Activity) == 0 {
		v.Reasons = append(v.Reasons, Reason{Signal: "evidence", Code: ReasonNoUse, Action: action, Limit: float64(need)})
		return false
	}
	from := in.ActivityFrom
	if from.IsZero() {
		from = in.Now.Add(-r.e.act.cfg.Quiet)
	}
	ok, seen := true, false
	covered := in.Now.Sub(from)
	for _, c := range in.Activity {
		if !slices.Contains(r.e.act.cfg.Kinds, c.Kind) {
			continue
		}
		seen = true
		covered = min(covered, c.Covers(from, in.Now))
		if c.Count > 0 || !c.Last.IsZero() && !c.Last.Before(in.Now.Add(-need)) {
			v.Reasons = append(v.Reasons, Reason{Signal: "evidence", Code: ReasonUsed, Kind: c.Kind, Action: action, Value: c.Count})
			ok = false
		}
	}
	if !seen {
		covered = 0
	}
	if ok {
		v.Reasons = append(v.Reasons, Reason{Signal: "evidence", Code: ReasonNoUse, Action: action, Duration: covered, Limit: float64(need)})
	}
	return ok && covered >= need
}

// noneBusy checks that every signal voted idle, and names each one that
// did not: a majority of idle votes makes the verdict idle, but a machine
// a signal measures at work (a host's GPU signal, the model) must not be
// stopped or terminated on the others' word, nor one a signal could not
// measure (its data missing: missing is never idle). The activity's vote
// is the quiet rule's, the schedule's the week's: they are explained
// there.
func (r *recommender) noneBusy(v *Verdict, action Action) bool {
	ok := true
	for _, c := range v.Signals {
		switch {
		case c.Signal == SignalActivity || c.Signal == SignalSchedule || c.State == Idle:
		case c.State == NotIdle:
			v.Reasons = append(v.Reasons, Reason{Signal: c.Signal, Code: ReasonVeto, Action: action, Value: c.Score})
			ok = false
		default:
			v.Reasons = append(v.Reasons, Reason{Signal: c.Signal, Code: ReasonAbstained, Action: action})
			ok = false
		}
	}
	return ok
}

// quiet checks that no counted activity kind was used within the activity
// strategy's Quiet period before now, and names each one that was: a
// machine someone logged in to a minute ago is in use, however idle its
// CPU. (The activity signal votes not idle then, but its score, at most
// 0.49, leaves a few events outvoted with a confidence above the
// threshold.) A counted kind without a last event must cover the whole
// Quiet period: a count that began ten minutes ago cannot say nobody
// logged in twenty minutes ago (the activity signal is unknown then, and
// the reaper's re-read refuses such a count, see ErrPartialActivity).
func (r *recommender) quiet(v *Verdict, action Action) bool {
	ok := true
	act, in := r.e.act, r.in
	from := in.ActivityFrom
	if from.IsZero() {
		from = in.Now.Add(-act.cfg.Quiet)
	}
	for _, c := range in.Activity {
		if !slices.Contains(act.cfg.Kinds, c.Kind) {
			continue
		}
		if act.recent(in.Now, c) {
			v.Reasons = append(v.Reasons, Reason{Signal: "evidence", Code: ReasonInUse, Kind: c.Kind, Action: action, Duration: act.cfg.Quiet})
			ok = false
		} else if covers := c.Covers(from, in.Now); c.Last.IsZero() && covers < act.cfg.Quiet {
			v.Reasons = append(v.Reasons, Reason{Signal: "evidence", Code: ReasonShortHistory, Kind: c.Kind, Action: action, Duration: covers, Limit: float64(act.cfg.Quiet)})
			ok = false
		}
	}
	return ok
}

// schedule recommends an off-hours schedule when some hour of the week is
// busy every week, the week is regular enough and the schedule saves
// enough, for a kind that can be stopped (not Terminable). (It never saves
// all of the week: a busy hour is never off.) An hour in which another
// bounded metric reached its Max bound held a peak, as one of the
// schedule's metric does. With explain it says why not.
func (r *recommender) schedule(v *Verdict, explain bool) bool {
	p := r.prof
	if p == nil || Terminable(r.in.Resource.Kind) {
		// A function, a volume, a load balancer cannot be stopped at
		// night (the week's reasons say which hours are busy).
		return false
	}
	e := r.e
	sched := r.l.sched
	// The hours in which another bounded metric reached its Max bound (a
	// nightly backup moving 80 MB/s at 1 % CPU) held a peak too: like a
	// peak of the schedule's metric, it keeps its hour on. They are read
	// as that metric's are, at MaxPeakStep or less and not stale: a
	// schedule that cannot see them is none.
	week := *p
	p = &week
	for _, m := range r.l.evMetrics {
		b, bounded := r.l.bounds[m]
		step, ok := r.data.has(m)
		if !bounded || !ok || m == sched.cfg.Metric {
			continue
		}
		if step > e.cfg.Evidence.MaxPeakStep {
			if explain {
				v.Reasons = append(v.Reasons, Reason{Signal: "evidence", Code: ReasonCoarse, Metric: m, Action: ActionSchedule,
					Duration: step, Limit: float64(e.cfg.Evidence.MaxPeakStep)})
			}
			return false
		}
		th, hasTh := r.l.util.cfg.Thresholds[m]
		if !hasTh {
			th = b.P99 // the cliff of its suspect zeros, as the evidence reads it
		}
		q := sched.cfg.Quality
		q.MinCoverage = 0
		peaks := Profile{Location: p.Location, IdleShare: p.IdleShare, PeakLevel: b.Max}
		if code, why := r.data.learn(&peaks, m, th, sched.cfg.History, q); code != qOK {
			if explain {
				why.Signal, why.Metric, why.Action = "evidence", m, ActionSchedule
				v.Reasons = append(v.Reasons, why)
			}
			return false
		}
		for i, n := range peaks.PeakHours {
			p.PeakHours[i] = max(p.PeakHours[i], n)
		}
	}
	recurring := false
	for i := range HoursPerWeek {
		recurring = recurring || p.Recurring(i)
	}
	if !recurring {
		// Nothing busy every week: nothing for a schedule to follow.
		if explain {
			v.Reasons = append(v.Reasons, Reason{Signal: "evidence", Code: ReasonNoPattern, Action: ActionSchedule})
		}
		return false
	}
	if reg := p.Regularity(); reg < e.cfg.MinRegularity {
		if explain {
			v.Reasons = append(v.Reasons, Reason{Signal: "evidence", Code: ReasonIrregular, Action: ActionSchedule, Value: reg, Limit: e.cfg.MinRegularity})
		}
		return false
	}
	// An hour whose peak hid in a coarse step's mean reads as idle: a
	// nightly job would be stopped. Like a stop, a schedule needs the
	// peaks read at MaxPeakStep or less.
	if step, ok := r.data.has(sched.cfg.Metric); ok && sched.peak > 0 && step > e.cfg.Evidence.MaxPeakStep {
		if explain {
			v.Reasons = append(v.Reasons, Reason{Signal: "evidence", Code: ReasonCoarse, Metric: sched.cfg.Metric, Action: ActionSchedule,
				Duration: step, Limit: float64(e.cfg.Evidence.MaxPeakStep)})
		}
		return false
	}
	off := p.Propose(sched.cfg.MinOff)
	if off.SavedShare < e.cfg.MinScheduleSaving {
		if explain {
			v.Reasons = append(v.Reasons, Reason{Signal: "evidence", Code: ReasonSmallSaving, Action: ActionSchedule, Value: off.SavedShare, Limit: e.cfg.MinScheduleSaving})
		}
		return false
	}
	v.Action, v.Schedule, v.MonthlySavings = ActionSchedule, &off, r.monthly*off.SavedShare
	return true
}

// downsize recommends a smaller size when DownsizeHistory of data is in
// the window and the window's p99 and max of every sizing metric would stay
// below DownsizeP99 and DownsizeMax on it. It explains each figure.
func (r *recommender) downsize(v *Verdict, win *evidence) {
	e := r.e
	ok := r.covered(v, ActionDownsize, win, e.cfg.Evidence.MinCoverage, e.cfg.Evidence.DownsizeHistory)
	keep := 1 - e.cfg.DownsizeSaving
	sized := false
	for _, m := range sizingMetrics {
		ws := win.find(m)
		if ws == nil || ws.n == 0 {
			continue
		}
		sized = true
		for _, c := range [...]struct {
			stat  provider.Statistic
			value float64
			limit float64
			fits  bool
		}{
			// The p99 rule is decided by counting, like the peak bounds.
			{p99, ws.p99 / keep, e.cfg.Evidence.DownsizeP99, ws.overDownsize <= ws.n-nearestRank(99, ws.n)},
			{provider.StatMax, ws.max / keep, e.cfg.Evidence.DownsizeMax, ws.max/keep < e.cfg.Evidence.DownsizeMax},
		} {
			code := ReasonFits
			if !c.fits {
				code, ok = ReasonTooBig, false
			}
			v.Reasons = append(v.Reasons, Reason{Signal: "evidence", Code: code, Metric: m, Statistic: c.stat, Action: ActionDownsize,
				Value: c.value, Limit: c.limit, Duration: ws.window})
		}
	}
	if ok && sized {
		v.Action, v.MonthlySavings = ActionDownsize, r.monthly*e.cfg.DownsizeSaving
	}
}

package detector

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"time"

	"github.com/idlescale/idlescale/internal/nilcheck"
	"github.com/idlescale/idlescale/provider"
)

// TrackerConfig configures a Tracker. The zero value means the defaults.
type TrackerConfig struct {
	// Step is the grid step of metric queries; it must divide an hour.
	// Default: 5m.
	Step time.Duration `json:"step,omitempty" yaml:"step,omitempty"`
	// Statistic reduces the raw samples within each step. Default: mean.
	Statistic provider.Statistic `json:"statistic,omitempty" yaml:"statistic,omitempty"`
}

// Validate checks the configuration; the error names the wrong field.
func (c TrackerConfig) Validate() error {
	if c.Step < 0 || c.Step > 0 && time.Hour%c.Step != 0 || c.Step > 0 && c.Step < 15*time.Second {
		return invalid("tracker.step", c.Step, "must divide an hour and be at least 15s (0 means the default 5m)")
	}
	if c.Statistic != "" {
		if err := c.Statistic.Validate(); err != nil {
			return provider.Within("tracker", err) // it names statistic
		}
	}
	return nil
}

// Tracker evaluates an Ensemble over resources incrementally: it keeps a
// compact state per resource in a StateStore (per metric and clock hour of
// the history, the counts the evidence and schedule rules read: steps with
// data, idle steps, steps over the peak and downsize bounds, a peak; the
// hourly sums of the utilization window; the hourly maxima that can still
// be the largest of a window) and, at each evaluation, reads only the
// steps that arrived since the last one. Its verdicts equal those of Detect
// on a full read of the same series (Scan's): the same state, score,
// confidence, action, savings, schedule and reasons, except for the
// statistics of evidence windows that a state does not keep and that no
// decision reads: the evidence reasons' mean and percentiles (Stats.Mean,
// Stats.P95, Stats.P99, and the value of p99 peak and downsize reasons)
// are NaN, "not known", on the incremental path (the p99 rules are decided
// by counting steps, the same way on both paths).
//
// It reads in full (the ensemble's Needs().History at Step, like Scan)
// when a resource has no state, its state cannot be loaded or decoded or
// was made with other settings (the schema), now is not on the hour or is
// before the state's end, the state is older than the history, a query
// returns a series on another grid, a metric errors or returns a value
// that Input.Validate refuses (the full read reports it), a run of exact
// zeros that the quality rules could take as missing data lies in the
// history, the resource's launch time changed, or its time zone is not a
// whole number of hours from UTC. Read says which.
//
// Steps folded into a state are final: a value that arrives after its
// hour was read (CloudWatch publishes with a delay of minutes) or is
// revised later is not seen until the state is rebuilt, while a full read
// would see it. Run each evaluation a little after the hour it is for (at
// 10:10 with now = 10:00): now is the caller's, not the clock's. For the
// same reason replicas must agree on the hour; a replica whose now is
// before a state's end reads in full (FullClockSkew).
//
// A Tracker does not recommend a terminate. It reads each resource's
// activity over the ensemble's quiet period (Needs().ActivityWindow: 30
// minutes by default), as a Scan with the default ScanConfig does, and a
// terminate needs activity over all of EvidenceConfig.TerminateWindow (28
// days by default) showing no use: a function, volume or load balancer
// (Terminable), however idle, gets no action, its verdict idle with a
// ReasonNoUse reason for the terminate whose Duration is the window read.
// This fails safe. To terminate them, Scan them with
// ScanConfig.ActivityWindow set to the ensemble's TerminateWindow, as the
// reaper does. (Only an ensemble whose quiet period is at least its
// TerminateWindow would have a Tracker recommend one, and it would then
// judge every stop on that quiet period too.)
//
// The state's size depends on how much the hours differ (the counts are
// kept run-length or bit-packed, per column): with the defaults (6
// metrics, 672 hours, 5-minute steps) a metric whose hours all look alike
// takes about 40 bytes, plus 8 for each hour of the utilization window
// (24) when that signal reads it, and a metric whose every hour differs
// in every count, with maxima that fall hour after hour for four weeks,
// at most 7.8 KB (TestDigestSize). Real fleets are near the first: 1.3 KB
// a resource on the NAB traces (TestTrackerEqualsFullRead), 1.6 KB on a
// generated fleet of their shapes (BenchmarkSweepHour).
//
// A Tracker is safe for concurrent use as long as no two calls evaluate
// the same resource at once (shard resources over callers).
type Tracker struct {
	e     *Ensemble
	cfg   TrackerConfig
	store StateStore
	needs Needs
	hours int                  // of counts kept
	views map[*lens]*trackView // one per lens of the ensemble (EnsembleConfig.Kinds)
}

// trackView is how a Tracker keeps the states of the resources one lens
// of its ensemble judges: a resource's kind picks the lens, and a state
// made under another one (the resource's kind, or the kind's settings,
// changed) is read in full again, as its fingerprint differs.
type trackView struct {
	metrics  []provider.Metric // read: the lens's (Ensemble.NeedsOf)
	sumHours int               // of sums kept: the utilization window's
	levels   []metricLevels
	minSteps int
	fp       uint64
}

// view returns the view of the resources of kind k.
func (t *Tracker) view(k provider.Kind) *trackView { return t.views[t.e.lensOf(k)] }

// Read says how a Tracker evaluation read its data.
type Read struct {
	// Full is set when the resource was read in full; Why says why.
	Full bool
	Why  FullRead
	// Queries and Points count the metric queries made and the steps
	// they covered.
	Queries, Points int
	// StateBytes is the size of the state saved; 0 when none was saved.
	StateBytes int
	// Errors are the resource's metric, activity and state store errors.
	Errors []*ResourceError
}

// NewTracker returns a Tracker of e keeping its states in store. The
// ensemble must have no model or custom signal (they read series) and
// whole hours for every window: utilization window and hold, schedule
// history (each kind's too, see EnsembleConfig.Kinds), evidence windows;
// its utilization statistics must be mean or max. The error names what
// does not fit; a nil store (or a nil pointer to one) is refused naming
// tracker.store.
func NewTracker(e *Ensemble, cfg TrackerConfig, store StateStore) (*Tracker, error) {
	if e == nil || e.util == nil {
		return nil, invalid("tracker.ensemble", nil, "must be made by NewEnsemble")
	}
	if nilcheck.Is(store) { // a nil *MemoryStateStore too: its every call panics
		return nil, invalid("tracker.store", nil, "must be set")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Step == 0 {
		cfg.Step = 5 * time.Minute
	}
	if e.model != nil || len(e.custom) > 0 {
		return nil, invalid("tracker.ensemble", "model or custom signal", "cannot be evaluated from a state: they read the series")
	}
	for _, w := range []struct {
		name string
		d    time.Duration
	}{{"evidence.window", e.cfg.Evidence.Window}, {"evidence.terminate_window", e.cfg.Evidence.TerminateWindow}} {
		if w.d%time.Hour != 0 {
			return nil, invalid(w.name, w.d, "must be a whole number of hours for a Tracker")
		}
	}
	t := &Tracker{e: e, cfg: cfg, store: store, needs: e.Needs(), views: map[*lens]*trackView{}}
	t.hours = int(t.needs.History / time.Hour)
	for _, l := range e.lenses() {
		v, err := t.newView(l)
		if err != nil {
			if k := e.kindOf(l); k != "" {
				return nil, provider.Within("ensemble.kinds."+string(k), err)
			}
			return nil, err
		}
		t.views[l] = v
	}
	return t, nil
}

// newView returns the view of the resources lens l judges, or an error
// naming the setting of l a Tracker cannot keep a state for.
func (t *Tracker) newView(l *lens) (*trackView, error) {
	for _, w := range []struct {
		name string
		d    time.Duration
	}{{"utilization.window", l.util.cfg.Window}, {"utilization.hold", l.util.cfg.Hold}, {"schedule.history", l.sched.cfg.History}} {
		if w.d%time.Hour != 0 {
			return nil, invalid(w.name, w.d, "must be a whole number of hours for a Tracker")
		}
	}
	for m, st := range l.util.cfg.Statistics {
		if st != "" && st != provider.StatMean && st != provider.StatMax {
			return nil, invalid("utilization.statistics."+string(m), st, "must be mean or max for a Tracker (a percentile needs the series)")
		}
	}
	v := &trackView{metrics: t.e.needs(l).Metrics, sumHours: int(max(l.util.cfg.Window, l.util.cfg.Hold) / time.Hour)}
	uq, sq := l.util.cfg.Quality, l.sched.cfg.Quality
	if !uq.TrustZeros || !sq.TrustZeros {
		run := uq.SuspectZeroRun
		if uq.TrustZeros || !sq.TrustZeros && sq.SuspectZeroRun < run {
			run = sq.SuspectZeroRun
		}
		v.minSteps = max(int((run+t.cfg.Step-1)/t.cfg.Step), 1)
	}
	for _, m := range v.metrics {
		v.levels = append(v.levels, t.levelsOf(l, m))
	}
	v.fp = t.fingerprint(v)
	return v, nil
}

// levelsOf returns the levels the buckets of m count against, as the
// strategies read them (see Schedule.learn and recommender.collect).
func (t *Tracker) levelsOf(l *lens, m provider.Metric) metricLevels {
	e := t.e
	lv := metricLevels{metric: m, idle: math.NaN(), peak: math.Inf(1), over: math.Inf(1), cliff: math.Inf(1), sums: slices.Contains(l.util.metrics, m)}
	lv.down = e.cfg.Evidence.DownsizeP99 * (1 - e.cfg.DownsizeSaving)
	th, hasTh := l.util.cfg.Thresholds[m]
	b, bounded := l.bounds[m]
	if bounded {
		lv.over = b.P99
		lv.peak = b.Max // an off-hours schedule keeps its peaks' hours on
	}
	if hasTh {
		lv.cliff = th
	} else {
		lv.cliff = lv.over // the evidence's cliff without a threshold
	}
	if m == l.sched.cfg.Metric {
		lv.idle = l.sched.cfg.Threshold
		if l.sched.peak > 0 {
			lv.peak = l.sched.peak
		}
		lv.cliff = min(lv.cliff, l.sched.cfg.Threshold)
	}
	return lv
}

// fingerprint hashes what the buckets depend on: a state made with other
// values is read in full again.
func (t *Tracker) fingerprint(v *trackView) uint64 {
	h := fnv.New64a()
	var b []byte
	b = binary.LittleEndian.AppendUint64(b, uint64(t.cfg.Step))
	b = binary.LittleEndian.AppendUint64(b, uint64(t.hours))
	b = binary.LittleEndian.AppendUint64(b, uint64(v.sumHours))
	b = binary.LittleEndian.AppendUint64(b, uint64(v.minSteps))
	b = append(b, t.cfg.Statistic...)
	for _, lv := range v.levels {
		b = append(b, byte(len(lv.metric)))
		b = append(b, lv.metric...)
		if lv.sums {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
		for _, x := range [...]float64{lv.idle, lv.peak, lv.over, lv.down, lv.cliff} {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
		}
	}
	_, _ = h.Write(b)
	return h.Sum64()
}

// Detect evaluates r at now with metrics from ms and activity from act
// (optional, as Fleet.Activity), reading only the steps since r's stored
// state when it can (see Tracker). It returns an error only when ctx ends,
// for an invalid resource, when the ensemble fails, or for a missing
// source or now (ms nil, ms or act a nil pointer or a nil Func adapter, as Scan refuses
// them; now zero), naming tracker.metrics, tracker.activity or
// tracker.now, before anything is read; metric, activity and
// store errors are in Read.Errors, and a verdict with a metric error is
// the one a Scan gives.
func (t *Tracker) Detect(ctx context.Context, ms provider.MetricsSource, act provider.ActivitySource, r provider.Resource, now time.Time) (Verdict, Read, error) {
	if err := checkSources("tracker", ms, act); err != nil {
		return Verdict{}, Read{}, err
	}
	if now.IsZero() {
		return Verdict{}, Read{}, invalid("tracker.now", now, "must be set")
	}
	var rd Read
	d, why := t.load(ctx, r, now, &rd)
	return t.detect(ctx, ms, act, r, now, d, why, &rd)
}

// checkSources returns an error naming op's field when ms is nil, a nil
// pointer or a nil provider.MetricsSourceFunc, or act a nil pointer or
// a nil provider.ActivitySourceFunc: either is a non-nil interface whose
// call panics (in Sweep, inside a goroutine), as Scan refuses them.
func checkSources(op string, ms provider.MetricsSource, act provider.ActivitySource) error {
	if nilcheck.Is(ms) {
		return invalid(op+".metrics", nil, "must be set")
	}
	if act != nil && nilcheck.Is(act) {
		return invalid(op+".activity", fmt.Sprintf("%T", act), "must be nil or a usable source, not a nil pointer or func")
	}
	return nil
}

// detect is Detect after load.
func (t *Tracker) detect(ctx context.Context, ms provider.MetricsSource, act provider.ActivitySource, r provider.Resource, now time.Time, d *digest, why FullRead, rd *Read) (Verdict, Read, error) {
	if d != nil {
		why = t.update(ctx, ms, d, r, now, rd)
	}
	if act == nil {
		act, _ = ms.(provider.ActivitySource)
	}
	if why != "" {
		return t.full(ctx, ms, act, r, now, why, rd)
	}
	in, ok := t.activity(ctx, act, r, now, rd)
	if !ok {
		return Verdict{}, *rd, ctx.Err()
	}
	if err := in.Validate(); err != nil {
		return Verdict{}, *rd, err
	}
	view := &digestView{d: d, now: now, from: now.Add(-time.Duration(t.hours) * time.Hour)}
	v, err := t.e.detect(ctx, &in, metricData{in: &in, dg: view})
	if err != nil {
		return Verdict{}, *rd, err
	}
	t.save(ctx, r.ID, d, rd)
	return v, *rd, nil
}

// load returns r's stored digest when it can be brought up to now, or why
// not.
func (t *Tracker) load(ctx context.Context, r provider.Resource, now time.Time, rd *Read) (*digest, FullRead) {
	if !now.Truncate(time.Hour).Equal(now) {
		return nil, FullOffTheHour
	}
	b, err := t.store.Load(ctx, r.ID)
	switch {
	case errors.Is(err, ErrNoState):
		return nil, FullNewResource
	case err != nil:
		rd.Errors = append(rd.Errors, &ResourceError{ResourceID: r.ID, Op: "state load", Err: err})
		return nil, FullStoreError
	}
	d, err := decodeDigest(b)
	v := t.view(r.Kind)
	switch {
	case err != nil:
		rd.Errors = append(rd.Errors, &ResourceError{ResourceID: r.ID, Op: "state load", Err: err})
		return nil, FullCorruptState
	case d.fp != v.fp || d.hours != t.hours || d.sumHours != v.sumHours || d.step != t.cfg.Step || len(d.metrics) != len(v.levels):
		return nil, FullSettings
	case d.next.After(now):
		return nil, FullClockSkew
	case now.Sub(d.next) >= time.Duration(t.hours)*time.Hour:
		return nil, FullStaleState
	}
	for i, lv := range v.levels {
		if d.metrics[i].metric != lv.metric || d.metrics[i].keepSums != lv.sums {
			return nil, FullSettings
		}
	}
	return d, ""
}

// update reads the steps of d's metrics from d.next to now and folds them
// in; it returns why the resource must be read in full instead, or "".
func (t *Tracker) update(ctx context.Context, ms provider.MetricsSource, d *digest, r provider.Resource, now time.Time, rd *Read) FullRead {
	if d.next.Before(now) {
		v := t.view(r.Kind)
		for i := range d.metrics {
			md := &d.metrics[i]
			q := provider.Query{ResourceID: r.ID, Metric: md.metric, Start: d.next, End: now, Step: d.step, Statistic: t.cfg.Statistic}
			s, err := queryOrMean(ctx, ms, q) // as a full read does (gather)
			rd.Queries++
			rd.Points += q.Steps()
			switch {
			case ctx.Err() != nil:
				return FullCanceled
			case errors.Is(err, provider.ErrUnsupported):
				s = gapSeries(q)
			case err != nil || foreignSeries(q, s) != nil:
				return FullMetricError // a full read reports the error
			case s.Step != d.step || !s.Start.Equal(d.next) || len(s.Values) != q.Steps():
				return FullGridChanged
			}
			s.Metric = md.metric
			if (&Input{Now: now, Resource: r, Series: []provider.Series{s}}).Validate() != nil {
				// A value a full read refuses (a negative rate of a counter
				// that reset, −∞, a utilization in percent): folded in, it
				// would move the sums and counts (a busy machine's mean
				// below the threshold); the full read reports it.
				return FullMetricError
			}
			md.fold(d, s, &v.levels[i], v.minSteps)
		}
		d.next = now
	}
	return t.fits(d, r, now)
}

// fits returns why d cannot answer exactly at now, or "".
func (t *Tracker) fits(d *digest, r provider.Resource, now time.Time) FullRead {
	from := now.Add(-time.Duration(t.hours) * time.Hour)
	for i := range d.metrics {
		if d.metrics[i].suspectEnd.After(from) {
			return FullSuspectZeros
		}
	}
	if !r.LaunchTime.Equal(d.launch) {
		return FullLaunchChanged // a stop and start moves an EC2 instance's launch time
	}
	// Every offset the zone has in the history, not only those of its
	// ends: Lord Howe Island is 11 hours ahead in summer, 10½ in winter.
	zone := zoneOffsets{loc: t.e.lensOf(r.Kind).sched.location(&r)}
	for u, end := from.UnixNano(), now.UnixNano(); ; u = zone.to {
		if zone.at(u)%int64(time.Hour) != 0 {
			return FullZoneOffHour
		}
		if zone.to > end { // now included
			return ""
		}
	}
}

// gapSeries returns a series of q's grid without data.
func gapSeries(q provider.Query) provider.Series {
	s := provider.Series{Metric: q.Metric, Start: q.Start, Step: q.Step, Values: make([]float64, q.Steps())}
	for i := range s.Values {
		s.Values[i] = math.NaN()
	}
	return s
}

// activity reads r's activity as Scan does.
func (t *Tracker) activity(ctx context.Context, act provider.ActivitySource, r provider.Resource, now time.Time, rd *Read) (Input, bool) {
	cfg := ScanConfig{Now: now, ActivityWindow: t.needs.ActivityWindow, Metrics: []provider.Metric{}}
	if act == nil {
		return Input{Now: now, Resource: r}, true
	}
	return gather(ctx, nil, act, r, cfg, nil, nil, func(e *ResourceError) { rd.Errors = append(rd.Errors, e) })
}

// full evaluates r on a full read, as Scan does, and stores a new state
// built from it when the read allows.
func (t *Tracker) full(ctx context.Context, ms provider.MetricsSource, act provider.ActivitySource, r provider.Resource, now time.Time, why FullRead, rd *Read) (Verdict, Read, error) {
	rd.Full, rd.Why = true, why
	history := time.Duration(t.hours) * time.Hour
	metrics := t.view(r.Kind).metrics
	cfg := ScanConfig{Now: now, Step: t.cfg.Step, Statistic: t.cfg.Statistic, History: history, Metrics: metrics, ActivityWindow: t.needs.ActivityWindow}
	metricErr := false
	in, ok := gather(ctx, ms, act, r, cfg, nil, nil, func(e *ResourceError) {
		metricErr = metricErr || e.Op != "activity"
		rd.Errors = append(rd.Errors, e)
	})
	if !ok {
		return Verdict{}, *rd, ctx.Err()
	}
	q := provider.Query{Start: now.Add(-history), End: now, Step: t.cfg.Step}
	rd.Queries += len(metrics)
	rd.Points += len(metrics) * q.Steps()
	v, err := t.e.Detect(ctx, in)
	if err != nil {
		return Verdict{}, *rd, err
	}
	if now.Truncate(time.Hour).Equal(now) && !metricErr {
		if d := t.build(&in, now); d != nil {
			t.save(ctx, r.ID, d, rd)
		}
	}
	return v, *rd, nil
}

// build returns the digest of a full read at now, or nil when a series is
// not on the tracker's grid.
func (t *Tracker) build(in *Input, now time.Time) *digest {
	history := time.Duration(t.hours) * time.Hour
	q := provider.Query{Start: now.Add(-history), End: now, Step: t.cfg.Step}
	v := t.view(in.Resource.Kind)
	d := &digest{fp: v.fp, step: t.cfg.Step, next: now, hours: t.hours, sumHours: v.sumHours, launch: in.Resource.LaunchTime, metrics: make([]metricDigest, len(v.levels))}
	for i := range v.levels {
		md := &d.metrics[i]
		md.metric, md.last, md.runPrev, md.launched = v.levels[i].metric, math.NaN(), math.NaN(), emptyBucket()
		md.keepSums = v.levels[i].sums
		md.counts = make([]counts, 0, t.hours)
		if md.keepSums {
			md.sums = make([]float64, 0, v.sumHours)
		}
		s, ok := in.SeriesFor(md.metric)
		switch {
		case !ok:
			q.Metric = md.metric
			s = gapSeries(q)
		case s.Step != t.cfg.Step || !s.Start.Equal(q.Start) || len(s.Values) != q.Steps():
			return nil
		}
		md.fold(d, s, &v.levels[i], v.minSteps)
	}
	return d
}

func (t *Tracker) save(ctx context.Context, id string, d *digest, rd *Read) {
	b := d.encode(nil)
	if err := t.store.Save(ctx, id, b); err != nil {
		rd.Errors = append(rd.Errors, &ResourceError{ResourceID: id, Op: "state save", Err: fmt.Errorf("detector: tracker: %w", err)})
		return
	}
	rd.StateBytes = len(b)
}

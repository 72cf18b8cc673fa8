package detector

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// HoursPerWeek is the number of hour-of-week slots in a Profile.
const HoursPerWeek = 7 * 24

// ScheduleConfig configures the schedule strategy. The zero value means the
// defaults: CPU below 10 % counts as idle, four weeks of history of which at
// least one is needed, an hour of the week is idle when it was idle 90 % of
// the time, and off-hours windows last at least 2 h.
type ScheduleConfig struct {
	// Metric is the metric whose history is learned. Default: cpu.
	Metric provider.Metric `json:"metric,omitempty" yaml:"metric,omitempty"`
	// Threshold is the value below which a step is idle, in the metric's
	// unit (a fraction for utilization). Default: 0.10.
	Threshold float64 `json:"threshold,omitempty" yaml:"threshold,omitempty"`
	// History is how far back the profile is learned, never from before
	// the resource's launch (Resource.LaunchTime, when set): a resource
	// created again under a deleted one's ID (a Kubernetes name, a Lambda
	// function's) learns its own week, not its predecessor's, and one
	// launched less than MinHistory ago has no verdict (nor has an EC2
	// instance started again that long ago, whose launch time moved: the
	// week is learned again, as the evidence of a stop is counted again
	// from the launch). Default: 28 days
	// (672h).
	History time.Duration `json:"history,omitempty" yaml:"history,omitempty"`
	// MinHistory is the least history with data needed for a verdict.
	// Default: 7 days (168h).
	MinHistory time.Duration `json:"min_history,omitempty" yaml:"min_history,omitempty"`
	// IdleShare is the share of an hour-of-week slot's steps that must be
	// idle for the slot to count as idle, in (0, 1]. Default: 0.9.
	IdleShare float64 `json:"idle_share,omitempty" yaml:"idle_share,omitempty"`
	// MinOff is the shortest off-hours window proposed. Default: 2h.
	MinOff time.Duration `json:"min_off,omitempty" yaml:"min_off,omitempty"`
	// Quality sets the staleness and suspect-zero rules; coverage is
	// checked against MinHistory instead.
	Quality DataQuality `json:"quality,omitzero" yaml:"quality,omitempty"`
}

func (c ScheduleConfig) withDefaults() ScheduleConfig {
	if c.Metric == "" {
		c.Metric = provider.MetricCPU
	}
	if c.Threshold == 0 {
		c.Threshold = 0.10
	}
	if c.History == 0 {
		c.History = 28 * 24 * time.Hour
	}
	if c.MinHistory == 0 {
		c.MinHistory = 7 * 24 * time.Hour
	}
	if c.IdleShare == 0 {
		c.IdleShare = 0.9
	}
	if c.MinOff == 0 {
		c.MinOff = 2 * time.Hour
	}
	c.Quality = c.Quality.withDefaults()
	return c
}

// Validate checks every field; the error names the first wrong one.
func (c ScheduleConfig) Validate() error {
	if c.Metric != "" {
		if err := c.Metric.Validate(); err != nil {
			return provider.Within("schedule.metric", err)
		}
	}
	if math.IsNaN(c.Threshold) || math.IsInf(c.Threshold, 0) || c.Threshold < 0 {
		return invalid("schedule.threshold", c.Threshold, "must be a finite number ≥ 0")
	}
	m := c.Metric
	if m == "" {
		m = provider.MetricCPU
	}
	if m.IsUtilization() && c.Threshold > 1 {
		return invalid("schedule.threshold", c.Threshold, "must be in [0, 1] for a utilization metric")
	}
	if c.History < 0 {
		return invalid("schedule.history", c.History, "must be ≥ 0 (0 means the default 672h)")
	}
	if c.MinHistory < 0 {
		return invalid("schedule.min_history", c.MinHistory, "must be ≥ 0 (0 means the default 168h)")
	}
	d := c.withDefaults()
	switch {
	case d.MinHistory > d.History && c.MinHistory == 0:
		// The default minimum: the history set is the field to fix.
		return invalid("schedule.history", c.History, "must be at least min_history, whose default is "+d.MinHistory.String()+" (set min_history to learn from less)")
	case d.MinHistory > d.History:
		return invalid("schedule.min_history", c.MinHistory, "must not exceed history "+d.History.String())
	}
	if math.IsNaN(c.IdleShare) || c.IdleShare < 0 || c.IdleShare > 1 {
		return invalid("schedule.idle_share", c.IdleShare, "must be in (0, 1] (0 means the default 0.9)")
	}
	if c.MinOff < 0 {
		return invalid("schedule.min_off", c.MinOff, "must be ≥ 0 (0 means the default 2h)")
	}
	return provider.Within("schedule", c.Quality.Validate())
}

// Profile is a learned hour-of-week profile: for each slot (Sunday 00:00 is
// slot 0, in the profile's time zone) how many steps were observed and how
// many of them were idle.
type Profile struct {
	// Location is the time zone of the slots.
	Location *time.Location `json:"-"`
	// Observed counts the steps with data in each slot.
	Observed [HoursPerWeek]uint32 `json:"observed"`
	// IdleSteps counts the idle steps in each slot.
	IdleSteps [HoursPerWeek]uint32 `json:"idle_steps"`
	// History is the time span of data the profile was learned from.
	History time.Duration `json:"history"`
	// IdleShare is the share of a slot's steps that must be idle for the
	// slot to be idle.
	IdleShare float64 `json:"idle_share"`
	// HoursSeen counts, for each slot, the hours (one a week) that held
	// data.
	HoursSeen [HoursPerWeek]uint16 `json:"hours_seen"`
	// PeakLevel, when positive, is the level at or above which a step is
	// a peak; 0 records no peaks. An Ensemble sets it to the Max peak
	// bound of the schedule's metric (see EvidenceConfig.PeakBounds).
	PeakLevel float64 `json:"peak_level,omitempty"`
	// PeakHours counts, for each slot, the hours in which some step
	// reached PeakLevel. A slot with a peak is never idle, whatever its
	// idle share: a machine that ran a job at that hour must not be
	// stopped then. Peaks in (nearly) every week of a slot make it busy.
	PeakHours [HoursPerWeek]uint16 `json:"peak_hours"`
	// GapHours counts, for each slot, the hours with data (see
	// HoursSeen) that lack data for more than 1 − IdleShare of their
	// steps (gaps, suspect zeros), and the first and the last hour with
	// data of the history (the data's edges, whose missing steps cannot
	// be told from gaps): a job whose metrics go missing while it runs
	// leaves its hour seen, and idle in the steps that were, but thin,
	// week after week. See KnownIdle.
	GapHours [HoursPerWeek]uint16 `json:"gap_hours"`
	// MissingHours counts, for each slot, the hours without any data
	// between the history's first and last hour with data: a job that
	// does not run every week, whose metrics agent reports nothing while
	// it runs, leaves its hour unseen in those weeks and idle in the
	// others. See KnownIdle.
	MissingHours [HoursPerWeek]uint16 `json:"missing_hours"`
}

// Slot returns the hour-of-week slot of t in the profile's time zone.
func (p *Profile) Slot(t time.Time) int {
	t = t.In(p.loc())
	return int(t.Weekday())*24 + t.Hour()
}

func (p *Profile) loc() *time.Location {
	if p.Location == nil {
		return time.UTC
	}
	return p.Location
}

// Share returns the idle share of slot and whether the slot was observed.
func (p *Profile) Share(slot int) (float64, bool) {
	if slot < 0 || slot >= HoursPerWeek || p.Observed[slot] == 0 {
		return 0, false
	}
	return float64(p.IdleSteps[slot]) / float64(p.Observed[slot]), true
}

// Idle reports whether slot is idle: observed, with an idle share of at
// least IdleShare and no peak.
func (p *Profile) Idle(slot int) bool {
	s, ok := p.Share(slot)
	return ok && s >= p.IdleShare && p.PeakHours[slot] == 0
}

// gapCounter counts a Profile's GapHours over the hours with data, in
// time order. The first and the last of them (the data's edges) count as
// thin whatever they hold: their steps before the data begins (a new
// resource, the history's start) or after it ends (a source's delay) are
// not told from gaps, and left out of GapHours while HoursSeen counts
// them, an edge would make its slot look thin in fewer weeks than it was
// (a weekly job's hour, the data's last an hour after it, known idle).
// Call done after the last hour.
// The hours without data (missing) are held back too, and counted in
// MissingHours once an hour with data follows them: those before the
// first hour with data and after the last are not between data.
type gapCounter struct {
	pending bool // an hour is held back: it may be the last
	slot    int
	thin    bool
	hours   int
	// unseen holds, per slot, the hours without data since the last
	// hour with data (any: some are held).
	unseen [HoursPerWeek]uint16
	any    bool
}

// add holds back the hour of slot, thin when it is the first or lacks
// data for more than 1 − IdleShare of its steps, and counts the one held
// back before it, and the hours without data between the two.
func (g *gapCounter) add(p *Profile, slot int, obs, steps int) {
	if g.pending && g.thin {
		p.GapHours[g.slot]++
	}
	if g.any {
		for i, n := range g.unseen {
			p.MissingHours[i] += n
		}
		g.unseen, g.any = [HoursPerWeek]uint16{}, false
	}
	g.hours++
	g.pending, g.slot = true, slot
	g.thin = g.hours == 1 || float64(obs) < p.IdleShare*float64(steps)
}

// missing holds back an hour of slot without data, when one with data
// came before it (the data has begun).
func (g *gapCounter) missing(slot int) {
	if g.hours > 0 {
		g.unseen[slot]++
		g.any = true
	}
}

// done counts the hour held back, the last, as thin; the hours without
// data after it are not between data.
func (g *gapCounter) done(p *Profile) {
	if g.pending {
		p.GapHours[g.slot]++
	}
	g.pending = false
}

// KnownIdle reports whether slot is idle (see Idle), its hours did not
// lack much of their data (see GapHours) every week, as Recurring counts
// weeks (seen in at least two weeks, thin in at least IdleShare of them),
// and they were not without any data in two weeks or more between the
// data's first and last hour (see MissingHours). Missing data is never
// idleness: a nightly job during which the metrics agent reports nothing
// leaves its hour thin every week, and a job every other week leaves it
// unseen every other week, where an outage does once. A stop needs every
// hour of the week known idle, and an off-hours schedule stops a resource
// only in such hours.
func (p *Profile) KnownIdle(slot int) bool {
	return p.Idle(slot) && p.MissingHours[slot] < 2 &&
		!(p.HoursSeen[slot] >= 2 && float64(p.GapHours[slot]) >= p.IdleShare*float64(p.HoursSeen[slot]))
}

// Recurring reports whether slot is busy every week: seen in at least two
// weeks (once proves no recurrence), with an idle share of at most
// 1 − IdleShare or a peak in at least IdleShare of the hours it was seen
// (a short job at the same hour each week).
func (p *Profile) Recurring(slot int) bool {
	s, ok := p.Share(slot)
	return ok && p.HoursSeen[slot] >= 2 && (s <= 1-p.IdleShare || float64(p.PeakHours[slot]) >= p.IdleShare*float64(p.HoursSeen[slot]))
}

// IdleSlots returns how many observed slots are idle (see Idle).
func (p *Profile) IdleSlots() int {
	n := 0
	for i := range HoursPerWeek {
		if p.Idle(i) {
			n++
		}
	}
	return n
}

// Busy returns the observed slots that are not idle: an idle share below
// IdleShare or a peak, recurring or not.
func (p *Profile) Busy() WeekHours {
	var h WeekHours
	for i := range HoursPerWeek {
		if _, ok := p.Share(i); ok && !p.Idle(i) {
			h.Add(i)
		}
	}
	return h
}

// Regularity returns the share of observed slots that are clearly idle
// (see Idle) or busy every week (see Recurring): near 1 for a resource with
// a weekly rhythm, lower when its busy times move from week to week. A slot
// that looks idle but held a peak in only some weeks is neither: such
// bursts are what a schedule cannot predict. 0 when no slot is observed.
func (p *Profile) Regularity() float64 {
	clear, seen := 0, 0
	for i := range HoursPerWeek {
		if _, ok := p.Share(i); ok {
			seen++
			if p.Idle(i) || p.Recurring(i) {
				clear++
			}
		}
	}
	if seen == 0 {
		return 0
	}
	return float64(clear) / float64(seen)
}

// ObservedSlots returns how many slots hold data.
func (p *Profile) ObservedSlots() int {
	n := 0
	for _, o := range p.Observed {
		if o > 0 {
			n++
		}
	}
	return n
}

// OffWindow is one recurring window in which a resource can be stopped: it
// stops at Stop and starts again at Start, both hour-of-week times in the
// schedule's time zone.
type OffWindow struct {
	// StopDay and StopHour give when to stop.
	StopDay  time.Weekday `json:"stop_day"`
	StopHour int          `json:"stop_hour"`
	// StartDay and StartHour give when to start again.
	StartDay  time.Weekday `json:"start_day"`
	StartHour int          `json:"start_hour"`
	// Hours is the window's length in hours.
	Hours int `json:"hours"`
}

// String renders the window like "Fri 19:00 → Mon 07:00 (60h)".
func (w OffWindow) String() string {
	return fmt.Sprintf("%s %02d:00 → %s %02d:00 (%dh)", w.StopDay.String()[:3], w.StopHour, w.StartDay.String()[:3], w.StartHour, w.Hours)
}

// OffHours is a proposed weekly stop/start schedule.
type OffHours struct {
	// TimeZone is the IANA name of the time zone of the windows.
	TimeZone string `json:"time_zone"`
	// Windows are the off-hours windows, in week order.
	Windows []OffWindow `json:"windows"`
	// SavedShare is the share of the week's hours the schedule stops the
	// resource, in [0, 1].
	SavedShare float64 `json:"saved_share"`
}

// Propose returns the off-hours schedule of the profile: maximal runs of
// known idle slots (see KnownIdle: an hour whose metrics went missing in
// part, as they do while a job starves the agent, stays on; wrapping
// around the week) of at least minOff.
func (p *Profile) Propose(minOff time.Duration) OffHours {
	out := OffHours{TimeZone: p.loc().String()}
	idle := func(i int) bool {
		return p.KnownIdle(((i % HoursPerWeek) + HoursPerWeek) % HoursPerWeek)
	}
	// Start scanning at a busy slot so that runs do not wrap mid-scan.
	first := -1
	for i := range HoursPerWeek {
		if !idle(i) {
			first = i
			break
		}
	}
	if first < 0 {
		out.Windows = []OffWindow{{StopDay: time.Sunday, StartDay: time.Sunday, Hours: HoursPerWeek}}
		out.SavedShare = 1
		return out
	}
	minHours := int((minOff + time.Hour - 1) / time.Hour)
	saved := 0
	for i := first; i < first+HoursPerWeek; {
		if !idle(i) {
			i++
			continue
		}
		j := i
		for j < first+HoursPerWeek && idle(j) {
			j++
		}
		if n := j - i; n >= minHours {
			a, b := i%HoursPerWeek, j%HoursPerWeek
			out.Windows = append(out.Windows, OffWindow{
				StopDay: time.Weekday(a / 24), StopHour: a % 24,
				StartDay: time.Weekday(b / 24), StartHour: b % 24, Hours: n,
			})
			saved += n
		}
		i = j
	}
	out.SavedShare = float64(saved) / HoursPerWeek
	return out
}

// Schedule is the time signal: it learns each resource's recurring idle
// hours of the week from the history of one metric and votes idle when now
// falls in an idle hour (see Profile.Idle: idle often enough and without a
// peak), not idle otherwise. Its score is the idle share of now's slot, at
// most 0.49 when it votes not idle. It is safe for concurrent use.
type Schedule struct {
	cfg  ScheduleConfig
	peak float64 // Profile.PeakLevel of learned profiles; 0: none (set by NewEnsemble)
}

// NewSchedule returns the schedule strategy for cfg, or an error matching
// provider.ErrInvalid naming the wrong field.
func NewSchedule(cfg ScheduleConfig) (*Schedule, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Schedule{cfg: cfg.withDefaults()}, nil
}

// Config returns the configuration with defaults filled in.
func (s *Schedule) Config() ScheduleConfig { return s.cfg }

// Detect implements Detector.
func (s *Schedule) Detect(ctx context.Context, in Input) (Verdict, error) {
	return detectOne(ctx, &in, SignalSchedule, func(in *Input, r *result) error {
		return s.evaluate(in, metricData{in: in}, r)
	})
}

// Learn returns the profile of in's series of the configured metric over
// the History before in.Now (from the resource's launch on, when later),
// in the resource's time zone (UTC when it has none). It returns an error matching provider.ErrInvalid for invalid input
// and a profile with an empty History when the metric is missing.
func (s *Schedule) Learn(in Input) (Profile, error) {
	if err := in.Validate(); err != nil {
		return Profile{}, err
	}
	var p Profile
	s.learn(&in, metricData{in: &in}, &p)
	return p, nil
}

// location returns r's time zone, UTC when it has none. (Input.Validate
// refuses a name that does not load.)
func (s *Schedule) location(r *provider.Resource) *time.Location {
	l, err := loadZone(r.TimeZone)
	if err != nil {
		return time.UTC
	}
	return l
}

// zones caches the time zones loaded by loadZone: time-zone name →
// *time.Location. Only names that loaded are kept, at most the IANA
// database's few hundred.
var zones sync.Map

// loadZone returns the time zone of an IANA name as provider.LoadZone
// does, UTC for "", from a cache: loading one reads the zoneinfo database
// (about 9 µs), and every Detect needs its resource's.
func loadZone(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	if l, ok := zones.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := provider.LoadZone(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, l)
	return l, nil
}

// learn fills p from data's series of the schedule's metric; it returns
// the view's quality code and reason.
func (s *Schedule) learn(in *Input, data metricData, p *Profile) (int, Reason) {
	*p = Profile{Location: s.location(&in.Resource), IdleShare: s.cfg.IdleShare, PeakLevel: s.peak}
	if _, ok := data.has(s.cfg.Metric); !ok {
		return qMissing, Reason{Code: ReasonMissing}
	}
	q := s.cfg.Quality
	q.MinCoverage = 0 // coverage is judged on p.History against MinHistory
	return data.learn(p, s.cfg.Metric, s.cfg.Threshold, s.cfg.History, q)
}

// learnSeries fills the counts and History of p (whose Location,
// IdleShare and PeakLevel are set) from series over the history before
// now, steps below thr counting as idle; it returns the view's quality
// code and reason. Only the steps at or after launch (when set) count: a
// resource created again under its predecessor's ID (a source keyed by
// ID returns the predecessor's series) learns its own week, not that
// one's.
func learnSeries(series provider.Series, now time.Time, thr float64, history time.Duration, launch time.Time, q DataQuality, p *Profile) (int, Reason) {
	w, code, why := view(series, now, history, thr, q)
	if code != qOK {
		return code, why
	}
	if !launch.IsZero() {
		w.lo = min(max(w.lo, ceilIndex(series, launch)), w.hi)
	}
	loc := p.loc()
	// The steps are taken an hour of the local clock at a time: the slot
	// is computed from Unix time plus the zone offset once per hour, and
	// the hour's counts are summed in registers. The offset is looked up
	// again only when an hour leaves the span of the zone in effect (see
	// zoneOffsets).
	const hour = int64(time.Hour)
	start := series.TimeAt(w.lo).UnixNano()
	step := int64(series.Step)
	zone := zoneOffsets{loc: loc}
	masked := w.nMasked > 0 || w.overflow
	peak := p.PeakLevel
	if peak <= 0 {
		peak = math.Inf(1)
	}
	valid := 0
	var gaps gapCounter
	for i := w.lo; i < w.hi; {
		u := start + int64(i-w.lo)*step
		off := zone.at(u)
		h := floorDiv(u+off, hour)
		slot := int((h + epochHourOfWeek) % HoursPerWeek)
		if slot < 0 {
			slot += HoursPerWeek
		}
		// The steps that start before the end of this local hour.
		j := min(w.hi, i+int((((h+1)*hour-off)-u+step-1)/step))
		var obs, idle uint32
		hot := false
		for k, x := range series.Values[i:j] {
			if x != x || masked && w.isMasked(i+k) { // x != x: a gap (NaN)
				continue
			}
			obs++
			if x < thr {
				idle++
			}
			hot = hot || x >= peak
		}
		p.Observed[slot] += obs
		p.IdleSteps[slot] += idle
		if obs > 0 {
			p.HoursSeen[slot]++
			gaps.add(p, slot, int(obs), j-i)
		} else {
			gaps.missing(slot)
		}
		if hot {
			p.PeakHours[slot]++
		}
		valid += int(obs)
		i = j
	}
	gaps.done(p)
	p.History = time.Duration(valid) * series.Step
	if valid == 0 && w.zeroRun > 0 {
		return qZeros, Reason{Code: ReasonSuspectZeros, Value: w.cliff, Duration: w.zeroRun}
	}
	return qOK, Reason{}
}

func (s *Schedule) evaluate(in *Input, data metricData, r *result) error {
	r.window = Window{From: in.Now.Add(-s.cfg.History), To: in.Now}
	if step, ok := data.has(s.cfg.Metric); ok && step > s.cfg.History {
		return invalid("schedule.history", s.cfg.History, "is shorter than one step ("+step.String()+")")
	}
	if err := in.metricErr(s.cfg.Metric); err != nil {
		r.add(Reason{Signal: SignalSchedule, Code: ReasonSourceError, Metric: s.cfg.Metric, Err: err})
		return nil
	}
	p := &r.prof
	code, why := s.learn(in, data, p)
	r.hasProf = code == qOK
	switch {
	case code != qOK:
		why.Signal, why.Metric = SignalSchedule, s.cfg.Metric
		r.add(why)
		return nil
	case p.History < s.cfg.MinHistory:
		r.hasProf = false
		r.add(Reason{Signal: SignalSchedule, Code: ReasonShortHistory, Metric: s.cfg.Metric, Duration: p.History, Limit: float64(s.cfg.MinHistory)})
		return nil
	}
	slot := p.Slot(in.Now)
	share, ok := p.Share(slot)
	if !ok {
		// The history is long enough, but this hour of the week holds
		// none of it (data missing at that hour every week).
		var h WeekHours
		h.Add(slot)
		r.add(Reason{Signal: SignalSchedule, Code: ReasonUnseenHour, Metric: s.cfg.Metric, Duration: s.cfg.History, Hours: h})
		return nil
	}
	switch {
	case p.Idle(slot):
		r.state, r.score = Idle, share
		r.add(Reason{Signal: SignalSchedule, Code: ReasonIdleHours, Value: share, Limit: s.cfg.IdleShare, Duration: p.History})
	case share >= s.cfg.IdleShare:
		// Idle enough by its share, but it held a peak: never idle (a
		// job that ran at this hour would be stopped the next week).
		r.state, r.score = NotIdle, min(share, 0.49)
		r.add(Reason{Signal: SignalSchedule, Code: ReasonPeakHour, Metric: s.cfg.Metric, Value: float64(p.PeakHours[slot]), Limit: p.PeakLevel, Duration: p.History})
	default:
		r.state, r.score = NotIdle, min(share, 0.49)
		r.add(Reason{Signal: SignalSchedule, Code: ReasonBusyHours, Value: share, Limit: s.cfg.IdleShare, Duration: p.History})
	}
	return nil
}

// zoneOffsets gives the offset from UTC of a time zone at Unix times
// (nanoseconds), looking it up again only when a time falls outside the
// span of the zone in effect at the last lookup (time.Time.ZoneBounds):
// every change of the offset inside a history is seen, the two changes of
// daylight saving time a year included, where comparing the offsets of
// the first and the last step took a history from winter to winter for
// one without changes and put every summer step an hour early.
type zoneOffsets struct {
	loc      *time.Location
	from, to int64 // the span [from, to) of the zone in effect; empty before the first lookup
	off      int64 // its offset, in nanoseconds
}

// The range of times in Unix nanoseconds.
var (
	minUnixNano = time.Unix(0, math.MinInt64)
	maxUnixNano = time.Unix(0, math.MaxInt64)
)

// at returns the zone's offset at u, in nanoseconds.
func (z *zoneOffsets) at(u int64) int64 {
	if u >= z.from && u < z.to {
		return z.off
	}
	t := time.Unix(0, u).In(z.loc)
	_, o := t.Zone()
	z.off = int64(o) * int64(time.Second)
	z.from, z.to = math.MinInt64, math.MaxInt64
	from, to := t.ZoneBounds()
	if !from.IsZero() && from.After(minUnixNano) { // else it began before any Unix nanosecond
		z.from = from.UnixNano()
	}
	if !to.IsZero() && to.Before(maxUnixNano) { // else it goes on past them
		z.to = to.UnixNano()
	}
	return z.off
}

// epochHourOfWeek is the slot of 1970-01-01 00:00 (a Thursday).
const epochHourOfWeek = 4 * 24

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

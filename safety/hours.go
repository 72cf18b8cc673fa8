package safety

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// Holiday is a day on which business hours do not apply (or, with
// BusinessHoursConfig.HolidaysAreBlackouts, a day-long change freeze).
type Holiday struct {
	// Date is "YYYY-MM-DD" for one day or "MM-DD" for the same day every
	// year, in the resource's (or the configuration's) time zone. Required.
	Date string `json:"date" yaml:"date"`
	// Name is what the day is called, for reasons and audits.
	Name string `json:"name,omitempty" yaml:"name,omitempty"`
}

// HolidayCalendar tells whether a day is a holiday, for calendars the host
// computes (a country's public holidays, a company calendar).
//
// Holiday reports the holiday's name when the local date of day (day's
// year, month and day in day's location) is a holiday. It must be fast,
// do no I/O and be safe for concurrent use: the business-hours rule calls
// it on every check.
type HolidayCalendar interface {
	Holiday(day time.Time) (name string, ok bool)
}

// HolidayCalendarFunc adapts a function to a HolidayCalendar.
type HolidayCalendarFunc func(day time.Time) (string, bool)

// Holiday calls f(day).
func (f HolidayCalendarFunc) Holiday(day time.Time) (string, bool) { return f(day) }

var _ HolidayCalendar = HolidayCalendarFunc(nil)

// Blackout is an absolute period in which disruptive actions are blocked
// (a release freeze, a sales event).
type Blackout struct {
	// Start is the first instant of the blackout. Required.
	Start time.Time `json:"start" yaml:"start"`
	// End is the first instant after it; must be after Start.
	End time.Time `json:"end" yaml:"end"`
	// Name says what it is for.
	Name string `json:"name,omitempty" yaml:"name,omitempty"`
}

// BusinessHoursConfig configures BusinessHoursRule. The zero value means
// the defaults.
type BusinessHoursConfig struct {
	// Hours are the business hours as a ParseSchedule spec ("none" for
	// no business hours). Empty means the default. Default: "Mon-Fri
	// 09:00-18:00".
	Hours string `json:"hours,omitempty" yaml:"hours,omitempty"`
	// TimeZone is the IANA zone for resources without
	// Resource.TimeZone. Empty means the default. "Local" and
	// "localtime", the zone of the machine the check runs on, are
	// refused. Default: "UTC".
	TimeZone string `json:"time_zone,omitempty" yaml:"time_zone,omitempty"`
	// Holidays are days without business hours. Default: none.
	Holidays []Holiday `json:"holidays,omitempty" yaml:"holidays,omitempty"`
	// HolidaysAreBlackouts makes holidays day-long blackouts instead of
	// days without business hours. Default: false.
	HolidaysAreBlackouts bool `json:"holidays_are_blackouts,omitempty" yaml:"holidays_are_blackouts,omitempty"`
	// Blackouts are absolute periods in which the actions are blocked.
	// Default: none.
	Blackouts []Blackout `json:"blackouts,omitempty" yaml:"blackouts,omitempty"`
	// Actions are the actions kept out of business hours and blackouts.
	// Empty means the default. Default: stop, terminate, resize.
	Actions []Action `json:"actions,omitempty" yaml:"actions,omitempty"`
	// Outcome is what happens inside business hours: Block or
	// RequireApproval. Blackouts always block. Unset ("") means the
	// default; Pass is refused (leave the rule out instead). Default:
	// Block.
	Outcome Outcome `json:"outcome,omitempty" yaml:"outcome,omitempty"`
}

// DefaultBusinessHours is BusinessHoursConfig.Hours's default.
const DefaultBusinessHours = "Mon-Fri 09:00-18:00"

type dayKey struct {
	year  int // 0 for an every-year holiday
	month time.Month
	day   int
}

// Validate returns an error matching provider.ErrInvalid naming a wrong
// field (an unknown time zone or the host's, "Local", a malformed spec, a
// bad holiday date, a blackout that ends before it starts, an unknown
// action).
func (c BusinessHoursConfig) Validate() error {
	_, err := compileHours(c)
	return err
}

type compiledHours struct {
	hours     Schedule
	loc       *time.Location
	holidays  map[dayKey]string
	blackouts []Blackout
	actions   actionSet
	outcome   Outcome
	// holidayBlocks is BusinessHoursConfig.HolidaysAreBlackouts.
	holidayBlocks bool
}

func compileHours(p BusinessHoursConfig) (compiledHours, error) {
	var c compiledHours
	spec := p.Hours
	if spec == "" {
		spec = DefaultBusinessHours
	}
	var err error
	if c.hours, err = ParseSchedule(spec); err != nil {
		return c, invalidf("hours", spec, err.Error())
	}
	tz := p.TimeZone
	if tz == "" {
		tz = "UTC"
	}
	if c.loc, err = loadZone("time_zone", tz); err != nil {
		return c, err
	}
	c.holidays = make(map[dayKey]string, len(p.Holidays))
	for i, h := range p.Holidays {
		k, err := parseHoliday(h.Date)
		if err != nil {
			return c, invalidf("holidays["+strconv.Itoa(i)+"].date", h.Date, err.Error())
		}
		name := h.Name
		if name == "" {
			name = h.Date
		}
		c.holidays[k] = name
	}
	for i, b := range p.Blackouts {
		switch {
		case b.Start.IsZero():
			return c, invalidf("blackouts["+strconv.Itoa(i)+"].start", b.Start, "must be set")
		case !b.End.After(b.Start):
			return c, invalidf("blackouts["+strconv.Itoa(i)+"].end", b.End.Format(time.RFC3339), "must be after start "+b.Start.Format(time.RFC3339))
		}
	}
	c.blackouts = append([]Blackout(nil), p.Blackouts...)
	c.holidayBlocks = p.HolidaysAreBlackouts
	if c.actions, err = newActionSet("actions", p.Actions, resourceActions); err != nil {
		return c, err
	}
	switch p.Outcome {
	case "":
		c.outcome = Block
	case Block, RequireApproval:
		c.outcome = p.Outcome
	default:
		return c, invalidf("outcome", string(p.Outcome), "must be block or require_approval (unset means block)")
	}
	return c, nil
}

func parseHoliday(s string) (dayKey, error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return dayKey{t.Year(), t.Month(), t.Day()}, nil
	}
	if t, err := time.Parse("01-02", s); err == nil {
		return dayKey{0, t.Month(), t.Day()}, nil
	}
	if s == "02-29" {
		return dayKey{0, time.February, 29}, nil
	}
	return dayKey{}, fmt.Errorf("must be YYYY-MM-DD or MM-DD")
}

// BusinessHoursRule keeps disruptive actions out of business hours (by
// default Mon–Fri 09:00–18:00) in the resource's time zone (or the
// configuration's), out of blackout windows, and off holidays when they are
// blackouts. Wall-clock times are read in the zone, so hours are
// DST-correct. When it blocks it recommends the next time outside all of
// them ("schedule for Mon 2026-03-30 18:00 Europe/Berlin"). A resource
// whose time zone is not an IANA name, whether unknown or "Local" or
// "localtime" (the zone of the machine the check runs on, which would make
// the decision depend on where it runs), makes the rule fail with an error
// matching provider.ErrInvalid naming resource.time_zone (the engine
// blocks). It does no I/O and is safe for concurrent use.
//
// Make one with NewBusinessHoursRule; the zero value is not usable: its Check fails,
// so the engine blocks.
type BusinessHoursRule struct {
	c         compiledHours
	calendars []HolidayCalendar
	zone      sync.Map // string → *time.Location
	made      bool     // set by NewBusinessHoursRule; the zero value fails closed
}

var _ Rule = (*BusinessHoursRule)(nil)

// NewBusinessHoursRule returns a BusinessHoursRule for cfg, with the
// holidays of cfg.Holidays and of calendars (optional), or an error
// matching provider.ErrInvalid, naming the field, when cfg is invalid or a
// calendar is nil (including a nil HolidayCalendarFunc).
func NewBusinessHoursRule(cfg BusinessHoursConfig, calendars ...HolidayCalendar) (*BusinessHoursRule, error) {
	c, err := compileHours(cfg)
	if err != nil {
		return nil, err
	}
	for i, cal := range calendars {
		if isNilSource(cal) {
			return nil, invalidf("calendars["+strconv.Itoa(i)+"]", nil, "must not be nil")
		}
	}
	return &BusinessHoursRule{made: true, c: c, calendars: slices.Clone(calendars)}, nil
}

// Name returns "business_hours".
func (r *BusinessHoursRule) Name() string { return "business_hours" }

// Inline reports true: the rule does no I/O (time zones are loaded once
// and cached).
func (r *BusinessHoursRule) Inline() bool { return true }

// location returns the resource's zone, loading it once.
func (r *BusinessHoursRule) location(name string) (*time.Location, error) {
	if name == "" {
		return r.c.loc, nil
	}
	if l, ok := r.zone.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := loadZone("resource.time_zone", name)
	if err != nil {
		return nil, err
	}
	r.zone.Store(name, l)
	return l, nil
}

// loadZone loads the IANA time zone name, or returns an error matching
// provider.ErrInvalid naming field. It refuses "Local" and "localtime"
// (whatever the case), which time.LoadLocation resolves to the zone of the
// machine it runs on (the latter through the system's zoneinfo link to
// /etc/localtime): replicas in different zones would then decide the same
// proposal differently, and a decision must be a function of the proposal.
func loadZone(field, name string) (*time.Location, error) {
	l, err := provider.LoadZone(name)
	if err != nil {
		return nil, invalidf(field, name, "must be an IANA time zone name (\"Europe/Berlin\", \"UTC\"), "+
			"not the zone of the machine the check runs on")
	}
	return l, nil
}

// Check implements Rule.
func (r *BusinessHoursRule) Check(_ context.Context, p Proposal) (Result, error) {
	if !r.made {
		return Result{}, notMade("BusinessHoursRule", "NewBusinessHoursRule")
	}
	if !r.c.actions.has(p.Action) {
		return pass, nil
	}
	loc, err := r.location(p.Resource.TimeZone)
	if err != nil {
		return Result{}, err
	}
	now := p.Now.In(loc)
	if b, ok := r.blackout(now); ok {
		return r.blocked(now, Block, "inside blackout "+b)
	}
	if name, ok := r.holiday(now); ok {
		if r.c.holidayBlocks {
			return r.blocked(now, Block, "holiday "+name+" is a blackout")
		}
		return Result{Outcome: Pass, Risk: RiskNone, Reason: "holiday " + name + ": no business hours"}, nil
	}
	if r.c.hours.Contains(now) {
		return r.blocked(now, r.c.outcome, fmt.Sprintf("inside business hours %s (%s), local time %s",
			r.c.hours, loc, now.Format("Mon 15:04 MST")))
	}
	return pass, nil
}

func (r *BusinessHoursRule) blocked(now time.Time, o Outcome, reason string) (Result, error) {
	next := r.NextAllowed(now)
	res := Result{Outcome: o, Risk: RiskMedium, Reason: reason, Factors: []string{reason}}
	if !next.IsZero() {
		res.Recommendations = []string{"schedule for " + next.Format("Mon 2006-01-02 15:04") + " " + now.Location().String()}
	}
	return res, nil
}

// blackout returns the name of the blackout containing t.
func (r *BusinessHoursRule) blackout(t time.Time) (string, bool) {
	for _, b := range r.c.blackouts {
		if !t.Before(b.Start) && t.Before(b.End) {
			name := b.Name
			if name == "" {
				name = "window"
			}
			return strings.TrimSpace(name + " until " + b.End.In(t.Location()).Format("Mon 2006-01-02 15:04 MST")), true
		}
	}
	return "", false
}

// holiday returns the name of the holiday on t's local date.
func (r *BusinessHoursRule) holiday(t time.Time) (string, bool) {
	for _, cal := range r.calendars {
		if n, ok := cal.Holiday(t); ok {
			return n, true
		}
	}
	if len(r.c.holidays) == 0 {
		return "", false
	}
	y, m, d := t.Date()
	if n, ok := r.c.holidays[dayKey{y, m, d}]; ok {
		return n, true
	}
	n, ok := r.c.holidays[dayKey{0, m, d}]
	return n, ok
}

// NextAllowed returns the first instant at or after t, in t's location,
// that is outside business hours, blackouts and (when they block)
// holidays; a holiday that does not block ends business hours for its
// day. It returns the zero time if none is found within 366 days.
func (r *BusinessHoursRule) NextAllowed(t time.Time) time.Time {
	limit := t.AddDate(1, 0, 1)
	for t.Before(limit) {
		if _, ok := r.blackout(t); ok {
			t = r.blackoutEnd(t)
			continue
		}
		if _, ok := r.holiday(t); ok {
			if !r.c.holidayBlocks {
				return t
			}
			t = nextDay(t)
			continue
		}
		end := r.c.hours.End(t)
		if end.Equal(t) {
			return t
		}
		// Windows that meet across midnight are one to End, but a
		// holiday that does not block ends them at its midnight: read
		// each day again from its start.
		if next := nextDay(t); len(r.calendars)+len(r.c.holidays) > 0 && next.After(t) && end.After(next) {
			end = next
		}
		t = end
	}
	return time.Time{}
}

// nextDay returns the first instant of the local day after t's, in t's
// location. Where the clock springs forward at midnight (America/Santiago,
// America/Havana), that midnight does not exist and time.Date gives the
// hour before it, still on t's day: the day then starts at the jump.
func nextDay(t time.Time) time.Time {
	y, m, d := t.Date()
	next := time.Date(y, m, d+1, 0, 0, 0, 0, t.Location())
	if ny, nm, nd := next.Date(); ny == y && nm == m && nd == d {
		if _, end := next.ZoneBounds(); !end.IsZero() {
			next = end.In(t.Location())
		}
	}
	return next
}

func (r *BusinessHoursRule) blackoutEnd(t time.Time) time.Time {
	for _, b := range r.c.blackouts {
		if !t.Before(b.Start) && t.Before(b.End) {
			t = b.End.In(t.Location())
		}
	}
	return t
}

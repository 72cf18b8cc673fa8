package scaling

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/idlescale/idlescale/provider"
)

// MaxScheduleLookback is how far back Scheduled looks for the latest
// action in effect: a year and a day, so that a yearly action is found.
const MaxScheduleLookback = 367 * 24 * time.Hour

// ScheduledConfig configures the scheduled strategy: recurring actions
// that set a group's bounds and desired capacity, like EC2 Auto Scaling's
// scheduled actions.
type ScheduledConfig struct {
	// TimeZone is the IANA time zone of the schedules without their own.
	// Default: UTC.
	TimeZone string `json:"time_zone,omitempty" yaml:"time_zone,omitempty"`
	// Actions are the scheduled actions. At least one.
	Actions []ScheduledAction `json:"actions" yaml:"actions"`
}

// ScheduledAction sets some of a group's min, max and desired capacity
// every time its schedule fires; each value stays in effect until another
// action sets it.
type ScheduledAction struct {
	// Name names the action in reasons. Required, unique.
	Name string `json:"name" yaml:"name"`
	// Schedule is a cron expression of five fields (minute, hour, day of
	// month, month, day of week) or a descriptor (@hourly, @daily,
	// @weekly, @monthly, @yearly), parsed by github.com/robfig/cron/v3.
	// It is read in wall-clock time of the time zone, so it keeps its
	// local time across daylight-saving changes: an action at a time the
	// change skips fires as much later as the clocks jump (02:30 becomes
	// 03:30), and one in the repeated hour fires once, at its second
	// occurrence, in every zone. A "CRON_TZ=Zone " prefix sets the zone
	// (an IANA one: Local and localtime are refused), and TimeZone, if
	// set, must name the same. @every is refused (it has no wall-clock
	// time).
	Schedule string `json:"schedule" yaml:"schedule"`
	// TimeZone is the action's IANA time zone; empty means the config's
	// (or the schedule's CRON_TZ prefix, which it must not contradict).
	TimeZone string `json:"time_zone,omitempty" yaml:"time_zone,omitempty"`
	// Min, Max and Desired are the values set; nil leaves one unchanged.
	// At least one is required, each ≥ 0, and those set must agree: Min
	// ≤ Max, and Desired within the Min and Max the action sets (as EC2
	// Auto Scaling requires of a scheduled action). A Desired outside
	// bounds that another action set is bounded by them, and a Max below
	// the Min in effect is raised to it (see Scheduled).
	Min *int `json:"min,omitempty" yaml:"min,omitempty"`
	// Max is the maximum capacity set.
	Max *int `json:"max,omitempty" yaml:"max,omitempty"`
	// Desired is the desired capacity set.
	Desired *int `json:"desired,omitempty" yaml:"desired,omitempty"`
}

// Validate parses every schedule and time zone and checks the values,
// returning an error matching provider.ErrInvalid that names the field
// ("actions[1].schedule"); a schedule that names no date (30 February)
// is an error too, and so are two actions on the same schedule (the same
// minutes, hours, days, months and weekdays in the same time zone) that
// set the same value, min, max or desired: of actions that fire at one
// instant the first listed wins, so the later would never hold it (a
// copied action). Actions whose schedules differ may still meet (a
// holiday override at 09:00 on 25 December beside a weekday 09:00
// action): the first listed wins there, so list an override first.
func (c ScheduledConfig) Validate() error {
	_, err := compileSchedule(c)
	return err
}

type compiledAction struct {
	ScheduledAction
	spec *cron.SpecSchedule
}

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

func compileSchedule(c ScheduledConfig) ([]compiledAction, error) {
	zone := time.UTC
	if c.TimeZone != "" {
		loc, err := provider.LoadZone(c.TimeZone)
		if err != nil {
			return nil, provider.Invalid("time_zone", c.TimeZone, "is not an IANA time zone (Local, the machine's, is refused)")
		}
		zone = loc
	}
	if len(c.Actions) == 0 {
		return nil, provider.Invalid("actions", nil, "at least one scheduled action is required")
	}
	names := map[string]bool{}
	var out []compiledAction
	for i, a := range c.Actions {
		field := fmt.Sprintf("actions[%d]", i)
		switch {
		case a.Name == "":
			return nil, provider.Invalid(field+".name", "", "is required")
		case names[a.Name]:
			return nil, provider.Invalid(field+".name", a.Name, "duplicate action name")
		case a.Min == nil && a.Max == nil && a.Desired == nil:
			return nil, provider.Invalid(field, nil, "sets none of min, max, desired")
		case a.Min != nil && *a.Min < 0, a.Max != nil && *a.Max < 0, a.Desired != nil && *a.Desired < 0:
			return nil, provider.Invalid(field, nil, "min, max and desired must be ≥ 0")
		case a.Min != nil && a.Max != nil && *a.Min > *a.Max:
			return nil, provider.Invalid(field+".max", *a.Max, fmt.Sprintf("must be ≥ min %d", *a.Min))
		case a.Desired != nil && a.Min != nil && *a.Desired < *a.Min:
			return nil, provider.Invalid(field+".desired", *a.Desired, fmt.Sprintf("must be ≥ the action's min %d", *a.Min))
		case a.Desired != nil && a.Max != nil && *a.Desired > *a.Max:
			return nil, provider.Invalid(field+".desired", *a.Desired, fmt.Sprintf("must be ≤ the action's max %d", *a.Max))
		}
		names[a.Name] = true
		if strings.HasPrefix(strings.TrimSpace(a.Schedule), "@every") {
			return nil, provider.Invalid(field+".schedule", a.Schedule, "@every has no wall-clock time; use a cron expression")
		}
		var actionZone *time.Location
		if a.TimeZone != "" {
			loc, err := provider.LoadZone(a.TimeZone)
			if err != nil {
				return nil, provider.Invalid(field+".time_zone", a.TimeZone, "is not an IANA time zone (Local, the machine's, is refused)")
			}
			actionZone = loc
		}
		if name, ok := cronZone(a.Schedule); ok {
			// robfig/cron loads any name, Local and localtime (the
			// machine's zone) too.
			if _, err := provider.LoadZone(name); err != nil {
				return nil, provider.Invalid(field+".schedule", a.Schedule, "CRON_TZ must name an IANA time zone (Local, the machine's, is refused)")
			}
			if a.TimeZone != "" && a.TimeZone != name {
				return nil, provider.Invalid(field+".time_zone", a.TimeZone, fmt.Sprintf("differs from the schedule's CRON_TZ=%s", name))
			}
		}
		sched, err := cronParser.Parse(a.Schedule)
		if err != nil {
			return nil, provider.Invalid(field+".schedule", a.Schedule, err.Error())
		}
		spec, ok := sched.(*cron.SpecSchedule)
		if !ok {
			return nil, provider.Invalid(field+".schedule", a.Schedule, "is not a calendar schedule")
		}
		if !firesEver(spec) {
			return nil, provider.Invalid(field+".schedule", a.Schedule, "names no date (a day of the month its months do not have): it never fires")
		}
		if spec.Location == time.Local { // no CRON_TZ prefix, or CRON_TZ=Local
			if strings.HasPrefix(a.Schedule, "CRON_TZ=") || strings.HasPrefix(a.Schedule, "TZ=") {
				return nil, provider.Invalid(field+".schedule", a.Schedule, "CRON_TZ=Local (the machine's zone) is refused: name an IANA time zone")
			}
			spec.Location = zone
			if actionZone != nil {
				spec.Location = actionZone
			}
		}
		// Its own copies of the values: the caller's later changes must
		// not bypass the validation.
		a.Min, a.Max, a.Desired = clonePtr(a.Min), clonePtr(a.Max), clonePtr(a.Desired)
		out = append(out, compiledAction{ScheduledAction: a, spec: spec})
	}
	for j := range out {
		for i := range j {
			if both := setsSame(&out[i].ScheduledAction, &out[j].ScheduledAction); both != "" && sameSchedule(out[i].spec, out[j].spec) {
				return nil, provider.Invalid(fmt.Sprintf("actions[%d].schedule", j), out[j].Schedule,
					fmt.Sprintf("is the schedule of actions[%d] (%q), and both set %s: of actions that fire at one instant the first listed wins, so this one never would", i, out[i].Name, both))
			}
		}
	}
	return out, nil
}

// setsSame names the values (min, max, desired) that both a and b set,
// or returns "" when they set none in common.
func setsSame(a, b *ScheduledAction) string {
	var both []string
	if a.Min != nil && b.Min != nil {
		both = append(both, "min")
	}
	if a.Max != nil && b.Max != nil {
		both = append(both, "max")
	}
	if a.Desired != nil && b.Desired != nil {
		both = append(both, "desired")
	}
	return strings.Join(both, ", ")
}

// sameSchedule reports whether a and b fire at the same times: the same
// fields in the same time zone. (Two schedules written differently may
// still be the same, "0 9 * * 1-5" and "0 9 * * MON-FRI": they parse to
// the same fields.)
func sameSchedule(a, b *cron.SpecSchedule) bool {
	return a.Second == b.Second && a.Minute == b.Minute && a.Hour == b.Hour && a.Dom == b.Dom && a.Month == b.Month && a.Dow == b.Dow &&
		a.Location.String() == b.Location.String()
}

// cronZone returns the zone name of a schedule's CRON_TZ= or TZ= prefix,
// as robfig/cron reads it, and whether it has one.
func cronZone(schedule string) (string, bool) {
	rest, ok := strings.CutPrefix(schedule, "CRON_TZ=")
	if !ok {
		if rest, ok = strings.CutPrefix(schedule, "TZ="); !ok {
			return "", false
		}
	}
	name, _, ok := strings.Cut(rest, " ")
	return name, ok
}

// Scheduled applies recurring actions: at any time, each of min, max and
// desired is the value of the latest action that set it and has fired
// (looking back up to MaxScheduleLookback; of actions that fired at the
// same instant, the first in Actions), and the reason names the actions
// whose values hold. A max below the min in effect (another action's, or
// the group's own when no action sets one) is raised to that min, and the
// reason says so ("night's max 2 is below the group's own min 4: max
// raised to 4"): the floor holds, as EC2 Auto Scaling,
// which refuses such an action, keeps the group's bounds. Its fitness is
// 1 once an action is in effect and 0 before any has fired. Its recommendation sets
// the group's bounds too; the engine keeps the policy's Min and Max above
// them. Pin it for a schedule-only target. It is safe for concurrent use.
type Scheduled struct {
	actions []compiledAction
}

var _ Strategy = (*Scheduled)(nil)

// NewScheduled returns a Scheduled strategy for cfg, or an error matching
// provider.ErrInvalid naming the wrong field (a schedule that does not
// parse, an unknown time zone). It keeps its own copy of cfg: later
// changes to its actions or their values change nothing.
func NewScheduled(cfg ScheduledConfig) (*Scheduled, error) {
	actions, err := compileSchedule(cfg)
	if err != nil {
		return nil, fmt.Errorf("scaling: scheduled: %w", err)
	}
	return &Scheduled{actions: actions}, nil
}

// Recommend implements Strategy.
func (s *Scheduled) Recommend(_ context.Context, st State) (Recommendation, error) {
	t := &st.Target
	spec := t.Capacity.CapacitySpec
	var (
		minAt, maxAt, desAt time.Time
		ats                 = make([]time.Time, len(s.actions)) // each action's last fire (zero: none)
		minBy, maxBy, desBy = -1, -1, -1                        // the action whose value holds
		inEffect            bool
	)
	for i, a := range s.actions {
		at, ok := lastFire(a.spec, st.Now)
		if !ok {
			continue
		}
		inEffect, ats[i] = true, at
		if a.Min != nil && at.After(minAt) {
			spec.Min, minAt, minBy = *a.Min, at, i
		}
		if a.Max != nil && at.After(maxAt) {
			spec.Max, maxAt, maxBy = *a.Max, at, i
		}
		if a.Desired != nil && at.After(desAt) {
			spec.Desired, desAt, desBy = *a.Desired, at, i
		}
	}
	if !inEffect {
		return keep(t, "no scheduled action has fired"), nil
	}
	// The reason names the actions whose values hold, not those a later
	// action replaced.
	var reasons []string
	for i, a := range s.actions {
		if i == minBy || i == maxBy || i == desBy {
			reasons = append(reasons, fmt.Sprintf("%s since %s", a.Name, ats[i].Format("Mon 2006-01-02 15:04 MST")))
		}
	}
	reason := "scheduled: " + strings.Join(reasons, "; ")
	// A bound set by one action and a desired set by another may cross;
	// the desired capacity stays within the bounds. A max below the min
	// in effect is raised to it, the floor holding (no scale in below
	// it), and the reason says so: read alone, it says the action's max
	// holds.
	if spec.Max < spec.Min {
		reason += fmt.Sprintf(" (%s is below %s: max raised to %d)", s.boundBy("max", maxBy, spec.Max), s.boundBy("min", minBy, spec.Min), spec.Min)
		spec.Max = spec.Min
	}
	if d := clampInt(spec.Desired, spec.Min, spec.Max); d != spec.Desired {
		reason += fmt.Sprintf(" (bounded to %d by the group's [%d, %d])", d, spec.Min, spec.Max)
		spec.Desired = d
	}
	return Recommendation{
		Capacity: spec,
		Proposal: spec.Desired,
		Reason:   reason,
		Inputs:   []Input{{Name: "min", Value: float64(spec.Min)}, {Name: "max", Value: float64(spec.Max)}, {Name: "desired", Value: float64(spec.Desired)}},
		Fitness:  1,
	}, nil
}

// boundBy names bound (min or max) of value v and who set it: the
// action i, or the group's own when no action sets it (i < 0).
func (s *Scheduled) boundBy(bound string, i, v int) string {
	if i < 0 {
		return fmt.Sprintf("the group's own %s %d", bound, v)
	}
	return fmt.Sprintf("%s's %s %d", s.actions[i].Name, bound, v)
}

// Next returns the next time after t that any action fires, or the zero
// time when none does within five years (cron's limit).
func (s *Scheduled) Next(t time.Time) time.Time {
	var next time.Time
	for _, a := range s.actions {
		n := nextFire(a.spec, t)
		if !n.IsZero() && (next.IsZero() || n.Before(next)) {
			next = n
		}
	}
	return next
}

// lastFire returns the latest time at or before now that spec fires, and
// whether there is one within MaxScheduleLookback. It walks the schedule's
// days backwards in its zone and builds each matching wall-clock time with
// wallTime, which moves a time skipped by a daylight-saving change later
// by the jump and gives a repeated time once (its second occurrence).
func lastFire(spec *cron.SpecSchedule, now time.Time) (time.Time, bool) {
	loc := spec.Location
	local := now.In(loc)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC) // a calendar date
	limit := now.Add(-MaxScheduleLookback)
	for ; ; day = day.AddDate(0, 0, -1) {
		if time.Date(day.Year(), day.Month(), day.Day(), 23, 59, 59, 0, loc).Before(limit) {
			return time.Time{}, false
		}
		if !dayMatches(spec, day) {
			continue
		}
		for h := 23; h >= 0; h-- {
			if 1<<uint(h)&spec.Hour == 0 {
				continue
			}
			for m := 59; m >= 0; m-- {
				if 1<<uint(m)&spec.Minute == 0 {
					continue
				}
				at := wallTime(day, h, m, loc)
				if !at.After(now) && !at.Before(limit) {
					return at, true
				}
			}
		}
	}
}

// nextFire returns the first fire time after t, counted as lastFire counts
// them (cron's Next instead skips a time a daylight-saving change skips).
func nextFire(spec *cron.SpecSchedule, t time.Time) time.Time {
	// Scan day by day like lastFire, forwards, bounded by cron's five
	// years.
	loc := spec.Location
	local := t.In(loc)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC)
	end := day.AddDate(5, 0, 0)
	for ; !day.After(end); day = day.AddDate(0, 0, 1) {
		if !dayMatches(spec, day) {
			continue
		}
		for h := range 24 {
			if 1<<uint(h)&spec.Hour == 0 {
				continue
			}
			for m := range 60 {
				if 1<<uint(m)&spec.Minute == 0 {
					continue
				}
				if at := wallTime(day, h, m, loc); at.After(t) {
					return at
				}
			}
		}
	}
	return time.Time{}
}

// wallTime returns the instant the wall clock of loc reads h:m on day (a
// calendar date), as ScheduledAction.Schedule documents it: a time that a
// change of the zone's offset skips is as much later as the clocks jump
// (02:30 becomes 03:30), and a repeated time is its second occurrence.
// (time.Date leaves both unspecified, and west of Greenwich gives the
// skipped time an hour early and the repeated one at its first
// occurrence.) It reads the offsets a day and a half either side, so it
// assumes no two changes of offset within that.
func wallTime(day time.Time, h, m int, loc *time.Location) time.Time {
	wall := time.Date(day.Year(), day.Month(), day.Day(), h, m, 0, 0, time.UTC)
	reads := func(at time.Time) bool {
		l := at.In(loc)
		y, mo, d := l.Date()
		return y == day.Year() && mo == day.Month() && d == day.Day() && l.Hour() == h && l.Minute() == m
	}
	_, before := wall.Add(-36 * time.Hour).In(loc).Zone()
	_, after := wall.Add(36 * time.Hour).In(loc).Zone()
	// Read at the offset before a change: a skipped time lands as much
	// later as the clocks jump.
	at := wall.Add(-time.Duration(before) * time.Second)
	if after != before {
		// Read at the offset after it: the time itself after the change,
		// or the second occurrence of a repeated one.
		if later := wall.Add(-time.Duration(after) * time.Second); reads(later) && (!reads(at) || later.After(at)) {
			at = later
		}
	}
	return at.In(loc)
}

// firesEver reports whether spec matches some calendar day: a day of
// the month that its months do not have (30 February, 31 April) parses
// but never fires. Four years from a leap year hold every date.
func firesEver(spec *cron.SpecSchedule) bool {
	day := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for range 4*365 + 1 {
		if dayMatches(spec, day) {
			return true
		}
		day = day.AddDate(0, 0, 1)
	}
	return false
}

// starBit is robfig/cron's marker of a field written as "*".
const starBit = 1 << 63

// dayMatches is robfig/cron's rule for the day fields: with either day
// field unrestricted (*), both must match; with both restricted, either
// may (as Vixie cron). day is a calendar date.
func dayMatches(spec *cron.SpecSchedule, day time.Time) bool {
	if 1<<uint(day.Month())&spec.Month == 0 {
		return false
	}
	dom := 1<<uint(day.Day())&spec.Dom > 0
	dow := 1<<uint(day.Weekday())&spec.Dow > 0
	if spec.Dom&starBit > 0 || spec.Dow&starBit > 0 {
		return dom && dow
	}
	return dom || dow
}

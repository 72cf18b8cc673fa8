package safety

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Window is a span of wall-clock time within one day, in minutes after
// midnight: [Start, End), 0 ≤ Start < End ≤ 1440.
type Window struct {
	// Start is the first minute inside the window.
	Start int
	// End is the first minute after it (1440 for "24:00").
	End int
}

// Schedule is a weekly set of wall-clock windows, such as business hours.
// It is read in the local time of the instant it is asked about, so it is
// DST-correct: "09:00-18:00" means 09:00 to 18:00 on the clock on the wall
// whether the day has 23, 24 or 25 hours. The zero value contains no time.
// A Schedule is immutable and safe for concurrent use.
type Schedule struct {
	days [7][]Window // indexed by time.Weekday
	spec string
}

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

// maxSpecLength bounds the spec ParseSchedule accepts.
const maxSpecLength = 1024

// ParseSchedule parses a compact weekly schedule. A spec is one or more
// clauses separated by ";", each a set of days and a set of time ranges:
//
//	Mon-Fri 09:00-18:00
//	Mon-Fri 08:00-12:00,13:00-17:30; Sat 10:00-14:00
//	Mon,Wed,Fri-Sun 00:00-24:00
//
// Days are three-letter or full English names in any case; a range
// "Fri-Mon" wraps over the week end. Times are HH:MM on a 24-hour clock,
// from 00:00 to 24:00; a range must end after it starts (a night shift is
// two ranges on two days). Overlapping ranges are merged. "none" is the
// empty schedule. Any other input returns an error matching
// provider.ErrInvalid that names the clause and what is wrong.
func ParseSchedule(spec string) (Schedule, error) {
	fail := func(reason string) (Schedule, error) {
		return Schedule{}, invalidf("schedule", spec, reason)
	}
	if len(spec) > maxSpecLength {
		return Schedule{}, invalidf("schedule", spec[:32]+"…", "must be at most 1024 bytes")
	}
	trimmed := strings.TrimSpace(spec)
	if trimmed == "" {
		return fail(`must not be empty (use "none" for no hours)`)
	}
	var s Schedule
	if strings.EqualFold(trimmed, "none") {
		s.spec = "none"
		return s, nil
	}
	for ci, clause := range strings.Split(trimmed, ";") {
		where := "clause " + strconv.Itoa(ci+1)
		fields := strings.Fields(clause)
		if len(fields) < 2 {
			return fail(where + fmt.Sprintf(" %q: want days and times, such as \"Mon-Fri 09:00-18:00\"", strings.TrimSpace(clause)))
		}
		days, err := parseDays(fields[0])
		if err != nil {
			return fail(where + ": " + err.Error())
		}
		var windows []Window
		for r := range strings.SplitSeq(strings.Join(fields[1:], ""), ",") {
			w, err := parseRange(r)
			if err != nil {
				return fail(where + ": " + err.Error())
			}
			windows = append(windows, w)
		}
		for d := range 7 {
			if days[d] {
				s.days[d] = append(s.days[d], windows...)
			}
		}
	}
	for d := range s.days {
		s.days[d] = mergeWindows(s.days[d])
	}
	s.spec = s.format()
	return s, nil
}

// MustParseSchedule is ParseSchedule for specs known to be valid (constants
// in programs and tests); it panics on an error.
func MustParseSchedule(spec string) Schedule {
	s, err := ParseSchedule(spec)
	if err != nil {
		panic(err)
	}
	return s
}

func parseDays(s string) ([7]bool, error) {
	var days [7]bool
	for item := range strings.SplitSeq(s, ",") {
		from, to, isRange := strings.Cut(item, "-")
		a, ok := dayNames[strings.ToLower(from)]
		if !ok {
			return days, fmt.Errorf("unknown day %q (want Mon, Tue, Wed, Thu, Fri, Sat or Sun)", from)
		}
		b := a
		if isRange {
			if b, ok = dayNames[strings.ToLower(to)]; !ok {
				return days, fmt.Errorf("unknown day %q (want Mon, Tue, Wed, Thu, Fri, Sat or Sun)", to)
			}
		}
		for d := a; ; d = (d + 1) % 7 {
			days[d] = true
			if d == b {
				break
			}
		}
	}
	return days, nil
}

func parseRange(s string) (Window, error) {
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return Window{}, fmt.Errorf("time range %q: want HH:MM-HH:MM", s)
	}
	start, err := parseClock(from)
	if err != nil {
		return Window{}, fmt.Errorf("time range %q: %w", s, err)
	}
	end, err := parseClock(to)
	if err != nil {
		return Window{}, fmt.Errorf("time range %q: %w", s, err)
	}
	if end <= start {
		return Window{}, fmt.Errorf("time range %q: end %s is not after start %s", s, to, from)
	}
	return Window{Start: start, End: end}, nil
}

// parseClock parses "HH:MM" (00:00 to 24:00) into minutes after midnight.
func parseClock(s string) (int, error) {
	hh, mm, ok := strings.Cut(s, ":")
	if !ok || len(hh) != 2 || len(mm) != 2 || !digits(hh) || !digits(mm) {
		return 0, fmt.Errorf("time %q: want HH:MM", s)
	}
	h, _ := strconv.Atoi(hh)
	m, _ := strconv.Atoi(mm)
	switch {
	case h > 24:
		return 0, fmt.Errorf("time %q: hour %d is past 24", s, h)
	case m > 59:
		return 0, fmt.Errorf("time %q: minute %d is past 59", s, m)
	case h == 24 && m != 0:
		return 0, fmt.Errorf("time %q: past 24:00", s)
	}
	return h*60 + m, nil
}

func digits(s string) bool {
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func mergeWindows(ws []Window) []Window {
	if len(ws) == 0 {
		return nil
	}
	slices.SortFunc(ws, func(a, b Window) int { return a.Start - b.Start })
	out := ws[:1]
	for _, w := range ws[1:] {
		last := &out[len(out)-1]
		if w.Start <= last.End {
			last.End = max(last.End, w.End)
			continue
		}
		out = append(out, w)
	}
	return slices.Clip(out)
}

// format writes the schedule in canonical form: one clause per distinct
// set of windows, days in Mon..Sun order.
func (s Schedule) format() string {
	order := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}
	var clauses []string
	used := [7]bool{}
	for i, d := range order {
		if used[d] || len(s.days[d]) == 0 {
			continue
		}
		var group []time.Weekday
		for _, e := range order[i:] {
			if !used[e] && slices.Equal(s.days[e], s.days[d]) {
				group = append(group, e)
				used[e] = true
			}
		}
		var days []string
		for j := 0; j < len(group); {
			k := j
			for k+1 < len(group) && (group[k+1]+6)%7 == (group[k]+6)%7+1 {
				k++
			}
			name := group[j].String()[:3]
			if k > j {
				name += "-" + group[k].String()[:3]
			}
			days = append(days, name)
			j = k + 1
		}
		var ranges []string
		for _, w := range s.days[d] {
			ranges = append(ranges, clockString(w.Start)+"-"+clockString(w.End))
		}
		clauses = append(clauses, strings.Join(days, ",")+" "+strings.Join(ranges, ","))
	}
	if len(clauses) == 0 {
		return "none"
	}
	return strings.Join(clauses, "; ")
}

func clockString(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// String returns the schedule in canonical form, which ParseSchedule
// reads back to an equal Schedule ("none" for the empty one).
func (s Schedule) String() string {
	if s.spec == "" {
		return "none"
	}
	return s.spec
}

// IsZero reports whether s contains no time at all.
func (s Schedule) IsZero() bool {
	for _, ws := range s.days {
		if len(ws) > 0 {
			return false
		}
	}
	return true
}

// Windows returns a copy of the windows of day d; a d outside Sunday
// (0) to Saturday (6) has none.
func (s Schedule) Windows(d time.Weekday) []Window {
	if d < time.Sunday || d > time.Saturday {
		return nil
	}
	return slices.Clone(s.days[d])
}

// Contains reports whether t lies inside the schedule, reading t's wall
// clock in t's location.
func (s Schedule) Contains(t time.Time) bool {
	_, ok := s.window(t)
	return ok
}

// window returns the window containing t's wall-clock time.
func (s Schedule) window(t time.Time) (Window, bool) {
	h, m, _ := t.Clock()
	minute := h*60 + m
	for _, w := range s.days[t.Weekday()] {
		if minute >= w.Start && minute < w.End {
			return w, true
		}
	}
	return Window{}, false
}

// End returns the first instant at or after t that is outside the window
// containing t (t itself when t is outside the schedule), computed on t's
// wall clock so DST changes inside the window are respected: a window
// ends where its end time is on the clock, or where the clock jumps out
// of it (a window ending in the hour a spring-forward skips, or one the
// clock falls back out of). Windows that meet across midnight are
// followed into the next day, up to a week.
func (s Schedule) End(t time.Time) time.Time {
	for range 8 {
		w, ok := s.window(t)
		if !ok {
			return t
		}
		// Until the zone's next transition the wall clock keeps pace
		// with t, so the window's end is that far away on it; at the
		// transition the clock jumps, and is read again there.
		h, m, sec := t.Clock()
		end := t.Add(time.Duration(w.End-h*60-m)*time.Minute - time.Duration(sec)*time.Second - time.Duration(t.Nanosecond()))
		if _, next := t.ZoneBounds(); !next.IsZero() && next.Before(end) {
			end = next
		}
		t = end
	}
	return t
}

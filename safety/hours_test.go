package safety_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestBusinessHoursDST(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		zone     string
		hours    string
		now      string // UTC
		wantIn   bool
		wantNext string // UTC; empty when outside
	}{
		// Europe/Berlin springs forward on Sun 2026-03-29 (CET+1 → CEST+2).
		{"Berlin Fri before spring, 08:30 CET", "Europe/Berlin", "", "2026-03-27T07:30:00Z", false, ""},
		{"Berlin Mon after spring, 09:30 CEST", "Europe/Berlin", "", "2026-03-30T07:30:00Z", true, "2026-03-30T16:00:00Z"},
		{"Berlin Fri before spring, 17:30 CET", "Europe/Berlin", "", "2026-03-27T16:30:00Z", true, "2026-03-27T17:00:00Z"},
		{"Berlin Mon after spring, 18:30 CEST", "Europe/Berlin", "", "2026-03-30T16:30:00Z", false, ""},
		// It falls back on Sun 2026-10-25.
		{"Berlin Fri before fall, 18:30 CEST", "Europe/Berlin", "", "2026-10-23T16:30:00Z", false, ""},
		{"Berlin Mon after fall, 17:30 CET", "Europe/Berlin", "", "2026-10-26T16:30:00Z", true, "2026-10-26T17:00:00Z"},
		// America/New_York springs forward on Sun 2026-03-08, falls back on Sun 2026-11-01.
		{"New York Fri before spring, 08:30 EST", "America/New_York", "", "2026-03-06T13:30:00Z", false, ""},
		{"New York Mon after spring, 09:30 EDT", "America/New_York", "", "2026-03-09T13:30:00Z", true, "2026-03-09T22:00:00Z"},
		{"New York Fri before fall, 09:30 EDT", "America/New_York", "", "2026-10-30T13:30:00Z", true, "2026-10-30T22:00:00Z"},
		{"New York Mon after fall, 08:30 EST", "America/New_York", "", "2026-11-02T13:30:00Z", false, ""},
		// Windows that contain the transition itself.
		{"Berlin spring night window, 01:30 CET", "Europe/Berlin", "Sun 00:00-04:00", "2026-03-29T00:30:00Z", true, "2026-03-29T02:00:00Z"},
		{"Berlin spring night window ends 04:00 CEST", "Europe/Berlin", "Sun 00:00-04:00", "2026-03-29T02:00:00Z", false, ""},
		{"Berlin fall, first 02:10 (CEST)", "Europe/Berlin", "Sun 00:00-02:30", "2026-10-25T00:10:00Z", true, "2026-10-25T00:30:00Z"},
		{"Berlin fall, second 02:10 (CET)", "Europe/Berlin", "Sun 00:00-02:30", "2026-10-25T01:10:00Z", true, "2026-10-25T01:30:00Z"},
		{"New York fall, second 01:15 (EST)", "America/New_York", "Sun 00:00-01:45", "2026-11-01T06:15:00Z", true, "2026-11-01T06:45:00Z"},
		{"New York spring window over the gap", "America/New_York", "Sun 01:00-03:30", "2026-03-08T06:30:00Z", true, "2026-03-08T07:30:00Z"},
		// Australia/Lord_Howe falls back half an hour on Sun 2026-04-05,
		// 02:00 LHDT (+11) → 01:30 LHST (+10:30): 01:45 happens twice.
		{"Lord Howe fall, 01:15 (LHDT), window to 01:45", "Australia/Lord_Howe", "Sun 00:00-01:45", "2026-04-04T14:15:00Z", true, "2026-04-04T14:45:00Z"},
		{"Lord Howe fall, second 01:35 (LHST)", "Australia/Lord_Howe", "Sun 00:00-01:45", "2026-04-04T15:05:00Z", true, "2026-04-04T15:15:00Z"},
		// A window that ends in the hour the clock skips ends at the jump,
		// and one the clock falls back out of ends at the fall-back: the
		// wall clock there is outside it (it ended an hour or two late).
		{"Berlin spring, window ends in the gap", "Europe/Berlin", "Sun 01:00-02:30", "2026-03-29T00:45:00Z", true, "2026-03-29T01:00:00Z"},
		{"Berlin fall, first 02:45 (CEST) falls back out", "Europe/Berlin", "Sun 02:30-03:30", "2026-10-25T00:45:00Z", true, "2026-10-25T01:00:00Z"},
		// Antarctica/Troll falls back two hours on Sun 2026-10-25, 03:00
		// (+02) → 01:00 (+00): a window to 01:00 ends at the first 01:00.
		{"Troll fall by two hours", "Antarctica/Troll", "Sun 00:00-01:00", "2026-10-24T22:30:00Z", true, "2026-10-24T23:00:00Z"},
		// A window to 24:00 that meets the next day's window is followed.
		{"across midnight", "Europe/Berlin", "Fri 20:00-24:00; Sat 00:00-06:00", "2026-03-27T20:00:00Z", true, "2026-03-28T05:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := safety.NewBusinessHoursRule(safety.BusinessHoursConfig{Hours: tt.hours, TimeZone: "UTC"})
			require.NoError(t, err)
			p := stop("i-1")
			p.Resource.TimeZone = tt.zone
			p.Now = utc(tt.now)
			got, err := r.Check(t.Context(), p)
			require.NoError(t, err)
			if !tt.wantIn {
				assert.Equal(t, safety.Pass, got.Outcome)
				return
			}
			assert.Equal(t, safety.Block, got.Outcome)
			assert.Equal(t, safety.RiskMedium, got.Risk)
			loc, err := time.LoadLocation(tt.zone)
			require.NoError(t, err)
			next := r.NextAllowed(p.Now.In(loc))
			assert.Equal(t, utc(tt.wantNext), next.UTC())
			assert.Equal(t, []string{"schedule for " + next.Format("Mon 2006-01-02 15:04") + " " + tt.zone}, got.Recommendations)
		})
	}
}

func TestBusinessHoursRule(t *testing.T) {
	t.Parallel()
	berlin := safety.BusinessHoursConfig{
		TimeZone: "Europe/Berlin",
		Holidays: []safety.Holiday{{Date: "2026-12-25", Name: "Christmas"}, {Date: "01-01", Name: "New Year"}},
		Blackouts: []safety.Blackout{{
			Name: "black friday", Start: utc("2026-11-27T00:00:00Z"), End: utc("2026-11-30T12:00:00Z"),
		}},
	}
	freeze := berlin
	freeze.HolidaysAreBlackouts = true
	ask := berlin
	ask.Outcome = safety.RequireApproval
	ask.Actions = []safety.Action{safety.ActionStop, safety.ActionScaleIn}
	tests := []struct {
		name        string
		policy      safety.BusinessHoursConfig
		give        func(*safety.Proposal)
		wantOutcome safety.Outcome
		wantReason  string
		wantRec     string
	}{
		{name: "weekday inside", policy: berlin, give: at("2026-03-04T10:00:00Z"), wantOutcome: safety.Block,
			wantReason: "inside business hours Mon-Fri 09:00-18:00 (Europe/Berlin), local time Wed 11:00 CET",
			wantRec:    "schedule for Wed 2026-03-04 18:00 Europe/Berlin"},
		{name: "weekend", policy: berlin, give: at("2026-03-07T10:00:00Z"), wantOutcome: safety.Pass},
		{name: "start never blocked", policy: berlin, give: func(p *safety.Proposal) { at("2026-03-04T10:00:00Z")(p); p.Action = safety.ActionStart },
			wantOutcome: safety.Pass},
		{name: "holiday has no business hours", policy: berlin, give: at("2026-12-25T10:00:00Z"), wantOutcome: safety.Pass,
			wantReason: "holiday Christmas: no business hours"},
		{name: "yearly holiday", policy: berlin, give: at("2027-01-01T10:00:00Z"), wantOutcome: safety.Pass,
			wantReason: "holiday New Year: no business hours"},
		{name: "holiday as blackout", policy: freeze, give: at("2026-12-25T02:00:00Z"), wantOutcome: safety.Block,
			wantReason: "holiday Christmas is a blackout", wantRec: "schedule for Sat 2026-12-26 00:00 Europe/Berlin"},
		{name: "blackout on a weekend", policy: berlin, give: at("2026-11-28T12:00:00Z"), wantOutcome: safety.Block,
			wantReason: "inside blackout black friday until Mon 2026-11-30 13:00 CET",
			wantRec:    "schedule for Mon 2026-11-30 18:00 Europe/Berlin"},
		{name: "blackout blocks even when asking approval", policy: ask, give: at("2026-11-28T12:00:00Z"), wantOutcome: safety.Block,
			wantReason: "inside blackout black friday until Mon 2026-11-30 13:00 CET"},
		{name: "approval instead of block", policy: ask, give: at("2026-03-04T10:00:00Z"), wantOutcome: safety.RequireApproval,
			wantReason: "inside business hours Mon-Fri 09:00-18:00 (Europe/Berlin), local time Wed 11:00 CET"},
		{name: "custom actions exclude resize", policy: ask, give: func(p *safety.Proposal) {
			at("2026-03-04T10:00:00Z")(p)
			p.Action, p.TargetSize = safety.ActionResize, provider.Size{InstanceType: "m5.large"}
		}, wantOutcome: safety.Pass},
		{name: "resource zone wins", policy: berlin, give: func(p *safety.Proposal) {
			at("2026-03-04T10:00:00Z")(p) // 05:00 in New York
			p.Resource.TimeZone = "America/New_York"
		}, wantOutcome: safety.Pass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := safety.NewBusinessHoursRule(tt.policy)
			require.NoError(t, err)
			p := stop("i-1")
			tt.give(&p)
			got, err := r.Check(t.Context(), p)
			require.NoError(t, err)
			assert.Equal(t, tt.wantOutcome, got.Outcome)
			assert.Equal(t, tt.wantReason, got.Reason)
			if tt.wantRec != "" {
				assert.Equal(t, []string{tt.wantRec}, got.Recommendations)
			}
		})
	}
	t.Run("unknown resource zone fails closed", func(t *testing.T) {
		t.Parallel()
		r, err := safety.NewBusinessHoursRule(berlin)
		require.NoError(t, err)
		eng, err := safety.New(safety.Config{}, []safety.Rule{r})
		require.NoError(t, err)
		p := stop("i-1")
		p.Resource.TimeZone = "Mars/Olympus_Mons"
		d, err := eng.Check(t.Context(), p)
		require.ErrorIs(t, err, safety.ErrBlocked)
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, "resource.time_zone", ie.Field)
		assert.Equal(t, "Mars/Olympus_Mons", ie.Value)
		assert.Equal(t, []string{"business_hours"}, d.BlockingRules())
	})
	t.Run("bad policy", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			give  safety.BusinessHoursConfig
			field string
		}{
			{safety.BusinessHoursConfig{TimeZone: "Europe/Atlantis"}, "time_zone"},
			{safety.BusinessHoursConfig{Hours: "Mon-Fri 18:00-09:00"}, "hours"},
			{safety.BusinessHoursConfig{Hours: "Mon-Fri 09:00-25:00"}, "hours"},
			{safety.BusinessHoursConfig{Holidays: []safety.Holiday{{Date: "2026-02-30"}}}, "holidays[0].date"},
			{safety.BusinessHoursConfig{Holidays: []safety.Holiday{{Date: "Christmas"}}}, "holidays[0].date"},
			{safety.BusinessHoursConfig{Blackouts: []safety.Blackout{{Start: t0, End: t0}}}, "blackouts[0].end"},
			{safety.BusinessHoursConfig{Blackouts: []safety.Blackout{{End: t0}}}, "blackouts[0].start"},
			{safety.BusinessHoursConfig{Actions: []safety.Action{"reboot"}}, "actions[0]"},
			{safety.BusinessHoursConfig{Outcome: "4"}, "outcome"},
			{safety.BusinessHoursConfig{Outcome: safety.Pass}, "outcome"},
		}
		for _, tt := range tests {
			_, err := safety.NewBusinessHoursRule(tt.give)
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie, tt.field)
			assert.Equal(t, tt.field, ie.Field)
			require.ErrorIs(t, tt.give.Validate(), provider.ErrInvalid)
		}
	})
}

// "Local" (and "localtime", the system zoneinfo's link to
// /etc/localtime), whatever the case, is the zone of the machine the
// check runs on, not an IANA name: time.LoadLocation accepted it, so the
// review's proposal (a stop on Wednesday 03:00 UTC, resource zone "Local")
// passed on a host in UTC and was blocked on one in UTC+8 (11:00 there).
// The configuration refuses it, naming time_zone; a resource in it fails
// the rule, naming resource.time_zone, as an unknown zone does, so the
// engine blocks on every host. time.Local is not touched.
func TestBusinessHoursRefusesHostZone(t *testing.T) {
	t.Parallel()
	for _, zone := range []string{"Local", "local", "LOCAL", "localtime"} {
		var ie *provider.InvalidError
		_, err := safety.NewBusinessHoursRule(safety.BusinessHoursConfig{TimeZone: zone})
		require.ErrorAs(t, err, &ie, zone)
		assert.Equal(t, "time_zone", ie.Field)
		assert.Equal(t, zone, ie.Value)
		require.ErrorIs(t, safety.BusinessHoursConfig{TimeZone: zone}.Validate(), provider.ErrInvalid)

		r, err := safety.NewBusinessHoursRule(safety.BusinessHoursConfig{})
		require.NoError(t, err)
		p := stop("i-1")
		p.Resource.TimeZone = zone
		p.Now = time.Date(2026, 3, 4, 3, 0, 0, 0, time.UTC) // Wed 03:00 UTC, outside business hours in UTC
		_, err = r.Check(t.Context(), p)
		require.ErrorAs(t, err, &ie, zone)
		assert.Equal(t, "resource.time_zone", ie.Field)
		assert.Equal(t, zone, ie.Value)

		eng, err := safety.New(safety.Config{}, []safety.Rule{r})
		require.NoError(t, err)
		d, err := eng.Check(t.Context(), p)
		require.ErrorIs(t, err, safety.ErrBlocked)
		require.ErrorIs(t, err, safety.ErrRuleFailed)
		require.ErrorIs(t, err, provider.ErrInvalid)
		assert.Equal(t, []string{"business_hours"}, d.BlockingRules())
		assert.Contains(t, err.Error(), "not the zone of the machine the check runs on")
	}
}

func at(s string) func(*safety.Proposal) {
	return func(p *safety.Proposal) { p.Now = utc(s) }
}

func TestParseSchedule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give string
		want string
	}{
		{"Mon-Fri 09:00-18:00", "Mon-Fri 09:00-18:00"},
		{"  mon-FRI   09:00-18:00 ", "Mon-Fri 09:00-18:00"},
		{"Monday-Friday 09:00 - 12:00, 13:00-18:00", "Mon-Fri 09:00-12:00,13:00-18:00"},
		{"Mon-Fri 08:00-12:00,13:00-17:30; Sat 10:00-14:00", "Mon-Fri 08:00-12:00,13:00-17:30; Sat 10:00-14:00"},
		{"Fri-Mon 00:00-24:00", "Mon,Fri-Sun 00:00-24:00"},
		{"Sat 10:00-12:00; Sun 10:00-12:00; Mon 10:00-12:00", "Mon,Sat-Sun 10:00-12:00"},
		{"Mon,Wed,Fri 10:00-11:00", "Mon,Wed,Fri 10:00-11:00"},
		{"Tue 23:59-24:00", "Tue 23:59-24:00"}, // the last minute of the day: minute 59 and 24:00
		{"Wed 00:00-00:59", "Wed 00:00-00:59"},
		{"Mon 09:00-11:00,10:00-12:00; Mon 12:00-13:00", "Mon 09:00-13:00"},
		{"none", "none"},
		{"NONE", "none"},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			t.Parallel()
			s, err := safety.ParseSchedule(tt.give)
			require.NoError(t, err)
			assert.Equal(t, tt.want, s.String())
			again, err := safety.ParseSchedule(s.String())
			require.NoError(t, err)
			assert.Equal(t, s, again)
		})
	}
	bad := []struct {
		give   string
		reason string
	}{
		{"", "must not be empty"},
		{"Mon-Fri", "want days and times"},
		{"Mon-Fri 18:00-09:00", "end 09:00 is not after start 18:00"},
		{"Mon 09:00-09:00", "is not after start"},
		{"Mon-Fri 09:00-25:00", "hour 25 is past 24"},
		{"Mon-Fri 24:30-24:45", "past 24:00"},
		{"Mon 09:60-10:00", "minute 60 is past 59"},
		{"Mon 9:00-10:00", "want HH:MM"},
		{"Mon 09:00", "want HH:MM-HH:MM"},
		{"Funday 09:00-10:00", `unknown day "Funday"`},
		{"Mon-Funday 09:00-10:00", `unknown day "Funday"`},
		{"Mon 09:00-10:00;", "clause 2"},
		{"Mon -1:00-10:00", "want HH:MM"},
	}
	for _, tt := range bad {
		t.Run("bad "+tt.give, func(t *testing.T) {
			t.Parallel()
			_, err := safety.ParseSchedule(tt.give)
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, "schedule", ie.Field)
			assert.Contains(t, ie.Reason, tt.reason)
		})
	}
}

func TestScheduleContains(t *testing.T) {
	t.Parallel()
	s := safety.MustParseSchedule("Mon-Fri 09:00-18:00")
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	assert.True(t, s.Contains(time.Date(2026, 3, 2, 9, 0, 0, 0, berlin)), "start is inside")
	assert.False(t, s.Contains(time.Date(2026, 3, 2, 18, 0, 0, 0, berlin)), "end is outside")
	assert.True(t, s.Contains(time.Date(2026, 3, 2, 17, 59, 59, 0, berlin)))
	assert.False(t, s.Contains(time.Date(2026, 3, 1, 12, 0, 0, 0, berlin)), "Sunday")
	assert.Equal(t, []safety.Window{{Start: 540, End: 1080}}, s.Windows(time.Wednesday))
	assert.Empty(t, s.Windows(time.Saturday))
	// Not a weekday: none, and no panic (it indexed the week with d%7,
	// which is negative for a negative d).
	assert.Nil(t, s.Windows(-1))
	assert.Nil(t, s.Windows(7))
	assert.False(t, s.IsZero())
	assert.True(t, safety.MustParseSchedule("none").IsZero())
	assert.True(t, safety.Schedule{}.IsZero())
	assert.Equal(t, "none", safety.Schedule{}.String())
	assert.Panics(t, func() { safety.MustParseSchedule("Mon 10:00-09:00") })
}

func TestBusinessHoursCalendar(t *testing.T) {
	t.Parallel()
	// Easter Monday 2026 is April 6; the calendar sees the local date.
	easter := safety.HolidayCalendarFunc(func(day time.Time) (string, bool) {
		y, m, d := day.Date()
		return "Easter Monday", y == 2026 && m == time.April && d == 6
	})
	r, err := safety.NewBusinessHoursRule(safety.BusinessHoursConfig{TimeZone: "Europe/Berlin"}, easter)
	require.NoError(t, err)
	p := stop("i-1")
	p.Now = utc("2026-04-06T08:00:00Z") // 10:00 CEST
	got, err := r.Check(t.Context(), p)
	require.NoError(t, err)
	assert.Equal(t, safety.Pass, got.Outcome)
	assert.Equal(t, "holiday Easter Monday: no business hours", got.Reason)
	p.Now = utc("2026-04-05T22:30:00Z") // 00:30 CEST on the 6th, still the 5th in UTC
	got, err = r.Check(t.Context(), p)
	require.NoError(t, err)
	assert.Equal(t, "holiday Easter Monday: no business hours", got.Reason)
	p.Now = utc("2026-04-07T08:00:00Z")
	got, err = r.Check(t.Context(), p)
	require.NoError(t, err)
	assert.Equal(t, safety.Block, got.Outcome)

	_, err = safety.NewBusinessHoursRule(safety.BusinessHoursConfig{}, nil)
	require.ErrorIs(t, err, provider.ErrInvalid)
}

// End is the window's end to the nanosecond, whatever the seconds and
// nanoseconds of t: a window closing at 18:00 ends at 18:00:00, not a
// fraction of a second before or after (the business-hours advice and
// NextAllowed read it).
func TestScheduleEndIsExact(t *testing.T) {
	t.Parallel()
	s := safety.MustParseSchedule("Mon-Fri 09:00-18:00")
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	want := time.Date(2026, 3, 2, 18, 0, 0, 0, berlin)
	for _, at := range []time.Time{
		time.Date(2026, 3, 2, 9, 0, 0, 0, berlin),
		time.Date(2026, 3, 2, 12, 34, 56, 789_000_000, berlin),
		time.Date(2026, 3, 2, 17, 59, 59, 999_999_999, berlin),
	} {
		assert.True(t, s.End(at).Equal(want), "End(%s) = %s, want %s", at.Format(time.RFC3339Nano), s.End(at).Format(time.RFC3339Nano), want)
	}
}

// A holiday that does not block ends business hours at its midnight, even
// when the windows of the day before run into it (an around-the-clock or
// overnight schedule): NextAllowed, and so the "schedule for" advice,
// names the holiday's midnight, not the end of the next working day's
// windows days later.
func TestNextAllowedStopsAtAHolidayAfterWindowsAcrossMidnight(t *testing.T) {
	t.Parallel()
	boxing := safety.HolidayCalendarFunc(func(day time.Time) (string, bool) {
		y, m, d := day.Date()
		return "Boxing Day", y == 2026 && m == time.December && d == 28
	})
	tests := []struct {
		name      string
		give      safety.BusinessHoursConfig
		calendars []safety.HolidayCalendar
		now       time.Time
		want      time.Time
	}{
		{
			name: "configured holiday inside Mon-Fri around the clock",
			give: safety.BusinessHoursConfig{Hours: "Mon-Fri 00:00-24:00", TimeZone: "Europe/Berlin",
				Holidays: []safety.Holiday{{Date: "2026-12-22", Name: "office closed"}}},
			now:  utc("2026-12-21T10:43:00Z"), // Mon 11:43 CET
			want: utc("2026-12-21T23:00:00Z"), // Tue 00:00 CET, not Sat 00:00
		},
		{
			name:      "calendar holiday after overnight windows",
			give:      safety.BusinessHoursConfig{Hours: "Mon-Sun 00:00-02:30,22:00-24:00", TimeZone: "Asia/Kolkata"},
			calendars: []safety.HolidayCalendar{boxing},
			now:       utc("2026-12-27T17:00:00Z"), // Sun 22:30 IST
			want:      utc("2026-12-27T18:30:00Z"), // Mon 00:00 IST, not 02:30
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := safety.NewBusinessHoursRule(tt.give, tt.calendars...)
			require.NoError(t, err)
			loc, err := time.LoadLocation(tt.give.TimeZone)
			require.NoError(t, err)
			got := r.NextAllowed(tt.now.In(loc))
			assert.True(t, tt.want.Equal(got), "NextAllowed = %s, want %s", got, tt.want.In(loc))

			p := stop("i-1")
			p.Now = tt.want
			res, err := r.Check(t.Context(), p)
			require.NoError(t, err)
			assert.Equal(t, safety.Pass, res.Outcome, res.Reason)
			p.Now = tt.now
			res, err = r.Check(t.Context(), p)
			require.NoError(t, err)
			require.Equal(t, safety.Block, res.Outcome)
			assert.Equal(t, []string{"schedule for " + tt.want.In(loc).Format("Mon 2006-01-02 15:04") + " " + tt.give.TimeZone}, res.Recommendations)
		})
	}
}

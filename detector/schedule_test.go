package detector_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// office returns four weeks of 5-minute CPU of a server busy 08:00–18:00 on
// weekdays in loc (with noise), idle otherwise, ending at end.
func office(id string, end time.Time, loc *time.Location) provider.Series {
	n := 28 * 288
	start := end.Add(-time.Duration(n) * 5 * time.Minute)
	return synth(id, start, 5*time.Minute, n, func(i int) float64 {
		t := start.Add(time.Duration(i) * 5 * time.Minute).In(loc)
		if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday && t.Hour() >= 8 && t.Hour() < 18 {
			return 0.5 + 0.2*noise(i)
		}
		return 0.01 + 0.02*noise(i)
	})
}

func TestScheduleLearnsOfficeHoursInTimeZone(t *testing.T) {
	t.Parallel()
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	// The four weeks cross the 2026-03-08 DST change in New York.
	end := time.Date(2026, 3, 23, 10, 0, 0, 0, ny)
	s := office("web", end, ny)
	r := res("web", s.Start)
	r.TimeZone = "America/New_York"
	sched, err := detector.NewSchedule(detector.ScheduleConfig{})
	require.NoError(t, err)
	tests := []struct {
		name string
		give time.Time
		want detector.State
	}{
		{"monday 03:00 local", time.Date(2026, 3, 23, 3, 0, 0, 0, ny), detector.Idle},
		{"monday 10:00 local", time.Date(2026, 3, 23, 10, 0, 0, 0, ny), detector.NotIdle},
		{"saturday noon local", time.Date(2026, 3, 21, 12, 0, 0, 0, ny), detector.Idle},
		{"friday 17:30 local", time.Date(2026, 3, 20, 17, 30, 0, 0, ny), detector.NotIdle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := sched.Detect(t.Context(), detector.Input{Now: tt.give, Resource: r, Series: []provider.Series{s}})
			require.NoError(t, err)
			assert.Equal(t, tt.want, v.State, v.Explain())
		})
	}
	p, err := sched.Learn(detector.Input{Now: end.Add(-10 * time.Hour), Resource: r, Series: []provider.Series{s}})
	require.NoError(t, err)
	off := p.Propose(2 * time.Hour)
	assert.Equal(t, "America/New_York", off.TimeZone)
	require.Len(t, off.Windows, 5)
	assert.Equal(t, detector.OffWindow{StopDay: time.Friday, StopHour: 18, StartDay: time.Monday, StartHour: 8, Hours: 62}, off.Windows[4])
	for _, w := range off.Windows[:4] {
		assert.Equal(t, 18, w.StopHour)
		assert.Equal(t, 8, w.StartHour)
		assert.Equal(t, 14, w.Hours)
	}
	assert.InDelta(t, float64(4*14+62)/168, off.SavedShare, 1e-12)
}

func TestEnsembleRecommendsSchedule(t *testing.T) {
	t.Parallel()
	end := time.Date(2026, 3, 23, 0, 0, 0, 0, time.UTC)
	s := office("web", end.Add(3*time.Hour), time.UTC)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{Utilization: detector.UtilizationConfig{Window: 4 * time.Hour}})
	require.NoError(t, err)
	// Monday 03:00: the last 4 h are idle, and so is this hour of the week,
	// but the server is busy every weekday: schedule, do not stop.
	v, err := ens.Detect(t.Context(), detector.Input{Now: end.Add(3 * time.Hour), Resource: res("web", s.Start), Series: []provider.Series{s}})
	require.NoError(t, err)
	assert.Equal(t, detector.Idle, v.State, v.Explain())
	require.Equal(t, detector.ActionSchedule, v.Action, v.Explain())
	require.NotNil(t, v.Schedule)
	assert.InDelta(t, 0.1*detector.HoursPerMonth*v.Schedule.SavedShare, v.MonthlySavings, 1e-9)
	assert.InDelta(t, 118.0/168, v.Schedule.SavedShare, 1e-12)
}

func TestScheduleNeedsHistory(t *testing.T) {
	t.Parallel()
	end := time.Date(2026, 3, 23, 0, 0, 0, 0, time.UTC)
	s := office("web", end, time.UTC)
	s = s.Window(end.Add(-3*24*time.Hour), end)
	sched, err := detector.NewSchedule(detector.ScheduleConfig{})
	require.NoError(t, err)
	v, err := sched.Detect(t.Context(), detector.Input{Now: end, Resource: res("web", s.Start.Add(-time.Hour*1000)), Series: []provider.Series{s}})
	require.NoError(t, err)
	assert.Equal(t, detector.Unknown, v.State)
	assert.Equal(t, detector.ReasonShortHistory, v.Reasons[0].Code)
	_, err = detector.NewSchedule(detector.ScheduleConfig{MinHistory: 30 * 24 * time.Hour})
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "schedule.min_history", ie.Field)
}

// TestScheduleConfigEdges pins the schedule's defaults and the edges of
// its validation: a utilization threshold of exactly 1, a minimum history
// equal to the history and an idle share of exactly 1 are allowed, just
// beyond each is not; an unknown metric is named.
func TestScheduleConfigEdges(t *testing.T) {
	t.Parallel()
	s, err := detector.NewSchedule(detector.ScheduleConfig{})
	require.NoError(t, err)
	c := s.Config()
	assert.Equal(t, provider.MetricCPU, c.Metric)
	assert.InDelta(t, 0.10, c.Threshold, 0)
	assert.Equal(t, 28*24*time.Hour, c.History)
	assert.Equal(t, 7*24*time.Hour, c.MinHistory)
	assert.InDelta(t, 0.9, c.IdleShare, 0)
	assert.Equal(t, 2*time.Hour, c.MinOff)
	set := detector.ScheduleConfig{Threshold: 0.2, History: 14 * 24 * time.Hour, MinHistory: 2 * 24 * time.Hour, IdleShare: 0.8, MinOff: time.Hour}
	s, err = detector.NewSchedule(set)
	require.NoError(t, err)
	c = s.Config()
	assert.Equal(t, [5]float64{0.2, float64(14 * 24 * time.Hour), float64(2 * 24 * time.Hour), 0.8, float64(time.Hour)},
		[5]float64{c.Threshold, float64(c.History), float64(c.MinHistory), c.IdleShare, float64(c.MinOff)})

	for _, ok := range []detector.ScheduleConfig{
		{Threshold: 1},
		{History: 7 * 24 * time.Hour, MinHistory: 7 * 24 * time.Hour},
		{History: 7 * 24 * time.Hour}, // the default minimum
		{History: 3 * 24 * time.Hour, MinHistory: 24 * time.Hour},
		{IdleShare: 1},
		{Metric: provider.MetricRequests, Threshold: 5},
	} {
		require.NoError(t, ok.Validate(), "%+v", ok)
	}
	for _, tt := range []struct {
		give  detector.ScheduleConfig
		field string
	}{
		{detector.ScheduleConfig{Metric: "vcpu"}, "schedule.metric"},
		{detector.ScheduleConfig{Threshold: math.Nextafter(1, 2)}, "schedule.threshold"},
		{detector.ScheduleConfig{History: 7 * 24 * time.Hour, MinHistory: 7*24*time.Hour + 1}, "schedule.min_history"},
		// Below the default minimum (7 days): the history given is named,
		// not the minimum the user never set.
		{detector.ScheduleConfig{History: 3 * 24 * time.Hour}, "schedule.history"},
		{detector.ScheduleConfig{History: 7*24*time.Hour - 1}, "schedule.history"},
		{detector.ScheduleConfig{IdleShare: math.Nextafter(1, 2)}, "schedule.idle_share"},
		{detector.ScheduleConfig{MinOff: -1}, "schedule.min_off"},
	} {
		var ie *provider.InvalidError
		require.ErrorAs(t, tt.give.Validate(), &ie, tt.field)
		assert.Equal(t, tt.field, ie.Field)
	}
}

// TestProfileSlots pins a profile's slot queries at their edges: the
// last slot of the week is one, the next is not; a slot idle exactly
// IdleShare of its steps is idle.
func TestProfileSlots(t *testing.T) {
	t.Parallel()
	p := detector.Profile{IdleShare: 0.75}
	p.Observed[167], p.IdleSteps[167] = 4, 3
	p.Observed[0], p.IdleSteps[0] = 4, 2
	share, ok := p.Share(167)
	require.True(t, ok)
	assert.InDelta(t, 0.75, share, 0)
	assert.True(t, p.Idle(167), "exactly the idle share")
	assert.False(t, p.Idle(0))
	_, ok = p.Share(detector.HoursPerWeek)
	assert.False(t, ok)
	_, ok = p.Share(-1)
	assert.False(t, ok)
	p.PeakHours[167] = 1
	assert.False(t, p.Idle(167), "a peak makes an hour busy")

	// Recurring: seen in two weeks (not one), idle at most 1 − IdleShare
	// of the time or with peaks in IdleShare of its hours, each inclusive.
	var r detector.Profile
	r.IdleShare = 0.75
	r.Observed[10], r.IdleSteps[10], r.HoursSeen[10] = 8, 2, 2                       // idle 25 %: busy
	r.Observed[11], r.IdleSteps[11], r.HoursSeen[11] = 8, 2, 1                       // seen once
	r.Observed[12], r.IdleSteps[12], r.HoursSeen[12], r.PeakHours[12] = 16, 16, 4, 3 // peaks in 3 of 4 hours
	r.Observed[13], r.IdleSteps[13], r.HoursSeen[13], r.PeakHours[13] = 16, 16, 4, 2 // in 2 of 4
	r.Observed[14], r.IdleSteps[14], r.HoursSeen[14] = 8, 3, 2                       // idle 37.5 %
	assert.True(t, r.Recurring(10))
	assert.False(t, r.Recurring(11))
	assert.True(t, r.Recurring(12))
	assert.False(t, r.Recurring(13))
	assert.False(t, r.Recurring(14))

	// Propose keeps idle runs of at least minOff, in whole hours: a run of
	// exactly two hours is proposed for 2h and for 1h01m, not for 2h01m.
	var w detector.Profile
	w.IdleShare = 0.9
	for i := range detector.HoursPerWeek {
		w.Observed[i], w.HoursSeen[i] = 12, 2
	}
	w.IdleSteps[30], w.IdleSteps[31] = 12, 12
	for _, tt := range []struct {
		minOff  time.Duration
		windows int
	}{{2 * time.Hour, 1}, {time.Hour + time.Minute, 1}, {2*time.Hour + time.Minute, 0}} {
		off := w.Propose(tt.minOff)
		assert.Len(t, off.Windows, tt.windows, "min off %s", tt.minOff)
	}

	// A week idle in every hour is one window of the whole week, from
	// Sunday 00:00 to Sunday 00:00.
	for i := range detector.HoursPerWeek {
		w.IdleSteps[i] = 12
	}
	off := w.Propose(2 * time.Hour)
	assert.Equal(t, []detector.OffWindow{{StopDay: time.Sunday, StartDay: time.Sunday, Hours: detector.HoursPerWeek}}, off.Windows)
	assert.InDelta(t, 1.0, off.SavedShare, 0)
}

// TestScheduleVoteEdges pins the schedule signal's edges: now's hour idle
// exactly IdleShare of the time votes idle; the window is the history
// before now; a step as long as the history is allowed and a longer one
// is named.
func TestScheduleVoteEdges(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 16, 10, 0, 0, 0, time.UTC) // Monday 10:00
	s, err := detector.NewSchedule(detector.ScheduleConfig{History: 14 * 24 * time.Hour, IdleShare: 0.5})
	require.NoError(t, err)
	cpu := flat("r", now, 14, func(i int) float64 {
		at := now.Add(-14*24*time.Hour + time.Duration(i)*5*time.Minute)
		if at.Weekday() == time.Monday && at.Hour() == 10 && at.Before(now.Add(-7*24*time.Hour)) {
			return 0.01 // idle a fortnight ago, busy last week
		}
		return 0.5
	})
	v, err := s.Detect(t.Context(), detector.Input{Now: now, Resource: res("r", t0), Series: []provider.Series{cpu}})
	require.NoError(t, err)
	assert.Equal(t, detector.Idle, v.State, v.Explain())
	assert.InDelta(t, 0.5, v.Score, 0)
	assert.Equal(t, detector.Window{From: now.Add(-14 * 24 * time.Hour), To: now}, v.Window)

	hourly, err := detector.NewSchedule(detector.ScheduleConfig{History: time.Hour, MinHistory: time.Hour})
	require.NoError(t, err)
	one := provider.Series{Metric: provider.MetricCPU, Start: now.Add(-time.Hour), Step: time.Hour, Values: []float64{0.01}}
	_, err = hourly.Detect(t.Context(), detector.Input{Now: now, Resource: res("r", t0), Series: []provider.Series{one}})
	require.NoError(t, err, "a step as long as the history")
	one.Step, one.Start = time.Hour+time.Minute, now.Add(-time.Hour-time.Minute)
	_, err = hourly.Detect(t.Context(), detector.Input{Now: now, Resource: res("r", t0), Series: []provider.Series{one}})
	require.ErrorContains(t, err, "schedule.history")

	// Exactly MinHistory of data is enough for a verdict.
	week, err := detector.NewSchedule(detector.ScheduleConfig{History: 8 * 24 * time.Hour, MinHistory: 8 * 24 * time.Hour})
	require.NoError(t, err)
	idle := provider.Series{Metric: provider.MetricCPU, Start: now.Add(-8 * 24 * time.Hour), Step: time.Hour, Values: make([]float64, 8*24)}
	for i := range idle.Values {
		idle.Values[i] = 0.01
	}
	v, err = week.Detect(t.Context(), detector.Input{Now: now, Resource: res("r", t0), Series: []provider.Series{idle}})
	require.NoError(t, err)
	assert.Equal(t, detector.Idle, v.State, v.Explain())
}

// TestScheduleNeverVotesIdleInAnHourWithAPeak: a machine idle at 2 % CPU
// but for a 5-minute job at 50 % every Sunday at 02:00 (UTC), evaluated on
// a Sunday at 02:30, right after the job. The hour is idle 92 % of the
// time, above IdleShare (90 %), but it held a peak (at or above the 20 %
// bound) every week, and a slot with a peak is never idle (Profile.Idle):
// the schedule votes not idle, naming the peak, and the verdict is not
// idle either. (A review found the vote read the idle share only.)
func TestScheduleNeverVotesIdleInAnHourWithAPeak(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC) // a Sunday
	n := 28*288 + 30                                     // 28 days and 2.5 hours of 5-minute steps
	s := synth("r", start, 5*time.Minute, n, func(i int) float64 {
		if i%(7*288) == 24 { // Sunday 02:00-02:05
			return 0.5
		}
		return 0.02
	})
	now := s.End() // Sunday 2026-03-01 02:30
	require.Equal(t, time.Sunday, now.Weekday())
	e, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	in := detector.Input{Now: now, Resource: res("r", start.Add(-time.Hour)), Series: []provider.Series{s}}
	v, err := e.Detect(t.Context(), in)
	require.NoError(t, err)

	sched, err := detector.NewSchedule(detector.ScheduleConfig{})
	require.NoError(t, err)
	p, err := sched.Learn(in)
	require.NoError(t, err)
	slot := p.Slot(now)
	share, ok := p.Share(slot)
	require.True(t, ok)
	require.GreaterOrEqual(t, share, sched.Config().IdleShare, "idle often enough by its share alone")

	c := v.Signals[2]
	require.Equal(t, detector.SignalSchedule, c.Signal)
	assert.Equal(t, detector.NotIdle, c.State, "%.3f: %v", c.Score, v.Explain())
	assert.LessOrEqual(t, c.Score, 0.49)
	r := reason(t, v, detector.ReasonPeakHour)
	assert.Equal(t, detector.SignalSchedule, r.Signal)
	assert.Equal(t, provider.MetricCPU, r.Metric)
	assert.InDelta(t, 4, r.Value, 0, "a peak in each of the four Sundays of the history")
	assert.InDelta(t, 0.2, r.Limit, 0, "the peak level: cpu's Max peak bound")
	assert.Contains(t, v.Explain(), "schedule: this hour of the week held a peak (cpu at or above 20.00%) in 4 of its weeks in the last 28d: never idle")
	assert.NotEqual(t, detector.Idle, v.State, "%s %.3f: %v", v.State, v.Confidence, v.Explain())
	assert.Equal(t, detector.ActionNone, v.Action)

	// With IdleShare exactly the hour's idle share, the hour is idle
	// enough by its share still: the peak is what makes it not idle.
	at, err := detector.NewEnsemble(detector.EnsembleConfig{Schedule: detector.ScheduleConfig{IdleShare: share}})
	require.NoError(t, err)
	va, err := at.Detect(t.Context(), in)
	require.NoError(t, err)
	require.Equal(t, detector.SignalSchedule, va.Signals[2].Signal)
	assert.Equal(t, detector.NotIdle, va.Signals[2].State, va.Explain())
	assert.Equal(t, detector.ReasonPeakHour, reason(t, va, detector.ReasonPeakHour).Code, va.Explain())
	assert.NotContains(t, codesOf(va), detector.ReasonBusyHours, va.Explain())

	// An hour later, in an hour without a peak, it votes idle.
	in.Now = now.Add(time.Hour)
	s.Values = append(s.Values, make([]float64, 12)...)
	for i := n; i < len(s.Values); i++ {
		s.Values[i] = 0.02
	}
	in.Series = []provider.Series{s}
	v, err = e.Detect(t.Context(), in)
	require.NoError(t, err)
	assert.Equal(t, detector.Idle, v.Signals[2].State, v.Explain())
}

// TestScheduleHourWithoutData: a schedule whose history is long enough
// but whose hour of the week now has no data in it (the agent restarts
// every night at 03:00 and reports nothing for that hour) cannot tell.
// It said so as "only 13.5d of cpu history (need 7d)", contradicting
// itself; it now names the hour.
func TestScheduleHourWithoutData(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC) // a Monday
	cpu := synth("r", start, 5*time.Minute, 14*288+3*12, func(i int) float64 {
		if i/12%24 == 3 {
			return math.NaN() // 03:00-04:00, every day
		}
		return 0.02
	})
	now := cpu.End() // Monday 03:00
	s, err := detector.NewSchedule(detector.ScheduleConfig{})
	require.NoError(t, err)
	v, err := s.Detect(t.Context(), detector.Input{Now: now, Resource: res("r", start), Series: []provider.Series{cpu}})
	require.NoError(t, err)
	assert.Equal(t, detector.Unknown, v.State)
	require.Len(t, v.Reasons, 1, "%v", v.Explain())
	assert.Equal(t, detector.ReasonUnseenHour, v.Reasons[0].Code, "%v", v.Explain())
	assert.Equal(t, "schedule: this hour of the week (Mon 03:00–04:00) had no cpu data in the last 28d: missing data is never idleness", v.Reasons[0].String())
}

package detector_test

import (
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

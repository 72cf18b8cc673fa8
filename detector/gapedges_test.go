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

// TestWeeklyJobHiddenAtTheDataEdgeNotStopped: a machine runs a job every
// Tuesday from 02:00 to 02:30 during which its metrics agent reports
// nothing, and is idle otherwise. Read right after the job (Tuesday
// 03:00: the job's hour is the data's last), right before it (02:00: the
// 28-day history begins with a job's hour) or during it (02:30: the
// history begins in a job's hour, its data seen in part), the job's hour
// of the week is not known idle, and the machine is not stopped, from a
// full read as from a Tracker. (A review found the data's first and last
// hours left out of GapHours but counted in HoursSeen: the job's hour
// was thin in 3 of the 4 weeks it was seen, below the 90 % KnownIdle
// needs, and a reaper running hourly stopped the machine every Tuesday
// at 02:00 or 03:00.)
func TestWeeklyJobHiddenAtTheDataEdgeNotStopped(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC) // a Monday
	job := func(at time.Time) bool { return at.Weekday() == time.Tuesday && at.Hour() == 2 && at.Minute() < 30 }
	for _, tc := range []struct {
		name string
		now  time.Time
	}{
		{"job's hour last", time.Date(2026, 2, 3, 3, 0, 0, 0, time.UTC)},   // Tuesday 03:00: the job's hour is the data's last
		{"job's hour first", time.Date(2026, 2, 10, 2, 0, 0, 0, time.UTC)}, // Tuesday 02:00: the history begins with a job's hour
		{"during the job", time.Date(2026, 2, 10, 2, 30, 0, 0, time.UTC)},  // the history begins with a job's hour seen in part
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			n := int(tc.now.Sub(start) / (5 * time.Minute))
			cpu := synth("r-weekly", start, 5*time.Minute, n, func(i int) float64 {
				if job(start.Add(time.Duration(i) * 5 * time.Minute)) {
					return math.NaN()
				}
				return 0.02 + 0.01*noise(i)
			})
			r := res("r-weekly", start.Add(-time.Hour))
			ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
			require.NoError(t, err)
			v, err := ens.Detect(t.Context(), detector.Input{Now: tc.now, Resource: r, Series: []provider.Series{cpu}})
			require.NoError(t, err)
			assert.NotEqual(t, detector.ActionStop, v.Action, "stopped with a weekly job: %v", v.Explain())
			thin := reason(t, v, detector.ReasonThinHours)
			assert.Equal(t, "Tue 02:00–03:00", thin.Hours.String(), "%v", v.Explain())

			f := &gridFleet{series: map[string]map[provider.Metric]provider.Series{"r-weekly": {provider.MetricCPU: cpu}}}
			f.resources = []provider.Resource{r}
			tr, err := detector.NewTracker(ens, detector.TrackerConfig{}, &detector.MemoryStateStore{})
			require.NoError(t, err)
			if !tc.now.Equal(tc.now.Truncate(time.Hour)) {
				return // a Tracker reads on the hour
			}
			for _, now := range []time.Time{tc.now.Add(-time.Hour), tc.now} {
				got, read, err := tr.Detect(t.Context(), f, nil, r, now)
				require.NoError(t, err)
				if now.Equal(tc.now) {
					assert.NotEqual(t, detector.ActionStop, got.Action, "a Tracker (full read %v) stopped it: %v", read.Full, got.Explain())
				}
			}
		})
	}
}

// TestJobEveryOtherWeekUnseenNotStopped: a machine runs a job every other
// Tuesday from 02:00 to 03:00 during which its metrics agent reports
// nothing at all, and is idle otherwise. The job's hour has no data in
// two of the four weeks and idle data in the others: it is not known
// idle, and the machine is not stopped, from a full read as from a
// Tracker, with the hour named. (A reader found it stopped with "the
// week is 100 % idle": an hour without any data counted neither as seen
// nor as thin.) One such hour without data, an outage, does not block
// a stop; nor do the hours before the data begins.
func TestJobEveryOtherWeekUnseenNotStopped(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC) // a Monday
	now := time.Date(2026, 2, 5, 0, 0, 0, 0, time.UTC)   // a Thursday, on the hour
	n := int(now.Sub(start) / (5 * time.Minute))
	for _, tc := range []struct {
		name    string
		missing func(at time.Time) bool
		stop    bool
	}{
		{"every other Tuesday", func(at time.Time) bool {
			return at.Weekday() == time.Tuesday && at.Hour() == 2 && at.YearDay()/7%2 == 0
		}, false},
		{"one outage", func(at time.Time) bool {
			return at.Month() == time.January && at.Day() == 13 && at.Hour() == 2
		}, true},
		{"the data begins 13 days late", func(at time.Time) bool { return at.Before(start.Add(13 * 24 * time.Hour)) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cpu := synth("r-fortnight", start, 5*time.Minute, n, func(i int) float64 {
				if tc.missing(start.Add(time.Duration(i) * 5 * time.Minute)) {
					return math.NaN()
				}
				return 0.02 + 0.01*noise(i)
			})
			r := res("r-fortnight", start.Add(-time.Hour))
			ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
			require.NoError(t, err)
			v, err := ens.Detect(t.Context(), detector.Input{Now: now, Resource: r, Series: []provider.Series{cpu}})
			require.NoError(t, err)
			f := &gridFleet{series: map[string]map[provider.Metric]provider.Series{"r-fortnight": {provider.MetricCPU: cpu}}}
			f.resources = []provider.Resource{r}
			tr, err := detector.NewTracker(ens, detector.TrackerConfig{}, &detector.MemoryStateStore{})
			require.NoError(t, err)
			var got detector.Verdict
			for _, at := range []time.Time{now.Add(-time.Hour), now} {
				got, _, err = tr.Detect(t.Context(), f, nil, r, at)
				require.NoError(t, err)
			}
			if tc.stop {
				assert.Equal(t, detector.ActionStop, v.Action, "%v", v.Explain())
				assert.Equal(t, detector.ActionStop, got.Action, "a Tracker: %v", got.Explain())
				return
			}
			for _, x := range []detector.Verdict{v, got} {
				assert.NotEqual(t, detector.ActionStop, x.Action, "stopped with a job every other week: %v", x.Explain())
				unseen := reason(t, x, detector.ReasonUnseenHours)
				assert.Equal(t, "Tue 02:00–03:00", unseen.Hours.String(), "%v", x.Explain())
				assert.Equal(t, "evidence: 1 hours of the week had no cpu data at all in 2 weeks or more (Tue 02:00–03:00): missing data is never idleness; stop needs every hour known idle", unseen.String())
			}
		})
	}
}

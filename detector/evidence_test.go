package detector_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// tEnd is a Monday 12:00 UTC, the end of the evidence tests' series.
var tEnd = time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC)

// days returns d days of 5-minute CPU ending at tEnd, f(i, t) at step i
// starting at t.
func days(d float64, f func(i int, t time.Time) float64) provider.Series {
	n := int(d * 288)
	start := tEnd.Add(-time.Duration(n) * 5 * time.Minute)
	return synth("r", start, 5*time.Minute, n, func(i int) float64 { return f(i, start.Add(time.Duration(i)*5*time.Minute)) })
}

// quiet is an idle machine's CPU: 2 % with a little noise.
func quiet(i int, _ time.Time) float64 { return 0.02 + 0.005*noise(i) }

// weeklyJob is four weeks of an idle machine that runs a job on Mondays
// 02:00–03:00 at 15 %: under the peak bounds (24 steps in 14 days, max
// below 20 %), above the 10 % idle line.
func weeklyJob() provider.Series {
	return days(28, func(i int, ts time.Time) float64 {
		if ts.Weekday() == time.Monday && ts.Hour() == 2 {
			return 0.15
		}
		return quiet(i, ts)
	})
}

func detectOn(t *testing.T, ens *detector.Ensemble, kind provider.Kind, s provider.Series) detector.Verdict {
	t.Helper()
	r := res("r", s.Start)
	r.Kind = kind
	v, err := ens.Detect(t.Context(), detector.Input{Now: tEnd, Resource: r, Series: []provider.Series{s}})
	require.NoError(t, err)
	return v
}

func reason(t *testing.T, v detector.Verdict, code detector.ReasonCode) detector.Reason {
	t.Helper()
	for _, r := range v.Reasons {
		if r.Code == code {
			return r
		}
	}
	require.Failf(t, "no reason", "%s in %v", code, v.Explain())
	return detector.Reason{}
}

// TestEvidenceHistory: a stop needs 95 % of the 14-day window covered by
// data; with less the verdict is still idle but the action is none, and the
// reason says how many more days of data are needed.
func TestEvidenceHistory(t *testing.T) {
	t.Parallel()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)

	need := (95*4032 + 99) / 100 // ⌈0.95 · 4032⌉ = 3831 five-minute steps of 14 days
	v := detectOn(t, ens, provider.KindInstance, days(float64(need)/288, quiet))
	assert.Equal(t, detector.ActionStop, v.Action, v.Explain())
	assert.InDelta(t, 0.1*detector.HoursPerMonth, v.MonthlySavings, 1e-9)

	v = detectOn(t, ens, provider.KindInstance, days(float64(need-1)/288, quiet))
	assert.Equal(t, detector.Idle, v.State)
	assert.Equal(t, detector.ActionNone, v.Action, v.Explain())
	assert.Zero(t, v.MonthlySavings)
	why := reason(t, v, detector.ReasonShortEvidence)
	assert.Equal(t, detector.ActionStop, why.Action)
	assert.Equal(t, provider.MetricCPU, why.Metric)
	assert.InDelta(t, float64(need-1)/4032, why.Value, 1e-9)
	assert.InDelta(t, 0.95, why.Limit, 1e-12)
	assert.Contains(t, why.String(), "stop needs 95%: 2 minutes more of data", "0.95 · 4032 − 3830 steps of 5 minutes")

	v = detectOn(t, ens, provider.KindInstance, days(13, quiet))
	assert.Equal(t, detector.ActionNone, v.Action, v.Explain())
	assert.Contains(t, reason(t, v, detector.ReasonShortEvidence).String(), "has data for 13.0 days of the last 14d (93%); stop needs 95%: 7.2 hours more of data")

	v = detectOn(t, ens, provider.KindInstance, days(3, quiet))
	assert.Equal(t, detector.Idle, v.State)
	assert.Equal(t, detector.ActionNone, v.Action, v.Explain())
	assert.Contains(t, reason(t, v, detector.ReasonShortEvidence).String(), "10.3 days more of data")
	assert.Equal(t, detector.ActionStop, reason(t, v, detector.ReasonNoProfile).Action, "three days teach no week yet")

	// Data from before the resource's launch (a reused ID, a backfill)
	// is not its history.
	s := days(14, quiet)
	r := res("r", tEnd.Add(-10*24*time.Hour))
	v, err = ens.Detect(t.Context(), detector.Input{Now: tEnd, Resource: r, Series: []provider.Series{s}})
	require.NoError(t, err)
	assert.Equal(t, detector.ActionNone, v.Action, v.Explain())
	assert.InDelta(t, 10.0/14, reason(t, v, detector.ReasonShortEvidence).Value, 1e-9)

	// The window is configurable: 7 days of evidence stop after 7 days.
	short, err := detector.NewEnsemble(detector.EnsembleConfig{Evidence: detector.EvidenceConfig{Window: 7 * 24 * time.Hour}})
	require.NoError(t, err)
	v = detectOn(t, short, provider.KindInstance, days(8, quiet))
	assert.Equal(t, detector.ActionStop, v.Action, v.Explain())
}

// TestEvidencePeaks pins the default peak bounds of a stop: at most 1 % of
// the window's steps at or above 10 % CPU (p99 below 10 %) and no step at
// or above 20 %.
func TestEvidencePeaks(t *testing.T) {
	t.Parallel()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	// k steps at level, spread so that no hour of the week gets busy, the
	// first at 16:10 (not in now's hour, Monday 12:00, where a peak would
	// make the schedule vote not idle).
	spikes := func(k int, level float64) provider.Series {
		return days(14, func(i int, ts time.Time) float64 {
			if i%97 == 50 && i/97 < k {
				return level
			}
			return quiet(i, ts)
		})
	}
	const allowed = 4032 - (99*4032+99)/100 // n − ⌈0.99·n⌉ = 40 of 4032 steps
	tests := []struct {
		name   string
		give   provider.Series
		want   detector.Action
		failed provider.Statistic // the peak reason that must reach its bound
	}{
		{"40 steps at 15 %", spikes(allowed, 0.15), detector.ActionStop, ""},
		{"41 steps at 15 %", spikes(allowed+1, 0.15), detector.ActionNone, "p99"},
		{"one step just under 20 %", spikes(1, 0.1999), detector.ActionStop, ""},
		{"one step at 20 %", spikes(1, 0.20), detector.ActionNone, provider.StatMax},
		{"one step at 90 %", spikes(1, 0.90), detector.ActionNone, provider.StatMax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := detectOn(t, ens, provider.KindInstance, tt.give)
			assert.Equal(t, detector.Idle, v.State)
			assert.Equal(t, tt.want, v.Action, v.Explain())
			peaks := 0
			for _, r := range v.Reasons {
				if r.Code != detector.ReasonPeak && r.Code != detector.ReasonBelowBound {
					continue
				}
				peaks++
				reached := r.Statistic == tt.failed
				assert.Equal(t, reached, r.Code == detector.ReasonPeak, "%s", r)
				assert.Equal(t, reached, r.Value >= r.Limit, "%s", r)
				assert.Equal(t, reached, strings.Contains(r.String(), "reaches the stop bound"), "%s", r)
			}
			assert.Equal(t, 2, peaks, "p99 and max are both explained: %v", v.Explain())
			ev := reason(t, v, detector.ReasonEvidence)
			assert.Equal(t, 14*24*time.Hour, ev.Duration)
			assert.InDelta(t, 1, ev.Value, 1e-12)
			assert.GreaterOrEqual(t, ev.Stats.Max, ev.Stats.P99)
			assert.GreaterOrEqual(t, ev.Stats.P99, ev.Stats.P95)
		})
	}
	// The max bound alone: with one busy hour a week allowed, the hour of
	// the spike does not decide, the bound does (20 % is not below 20 %).
	lenient, err := detector.NewEnsemble(detector.EnsembleConfig{StopIdleShare: 0.99})
	require.NoError(t, err)
	assert.Equal(t, detector.ActionStop, detectOn(t, lenient, provider.KindInstance, spikes(1, 0.1999)).Action)
	v := detectOn(t, lenient, provider.KindInstance, spikes(1, 0.20))
	assert.Equal(t, detector.ActionNone, v.Action, v.Explain())
	// Every bounded metric with data is checked, not only CPU: memory's
	// default bounds are 10 % and 20 % too.
	memory := func(level float64) detector.Verdict {
		m := spikes(1, level)
		m.Metric = provider.MetricMemory
		r := res("r", m.Start)
		v, err := ens.Detect(t.Context(), detector.Input{Now: tEnd, Resource: r, Series: []provider.Series{days(14, quiet), m}})
		require.NoError(t, err)
		return v
	}
	assert.Equal(t, detector.ActionStop, memory(0.1999).Action)
	v = memory(0.2)
	assert.Equal(t, detector.ActionNone, v.Action, v.Explain())
	assert.Contains(t, v.Explain(), "evidence: memory max 20.00% over the last 14d reaches the stop bound 20.00%")
	// Bounds are configurable per metric.
	loose, err := detector.NewEnsemble(detector.EnsembleConfig{Evidence: detector.EvidenceConfig{
		PeakBounds: map[provider.Metric]detector.PeakBound{provider.MetricCPU: {P99: 0.10, Max: 0.95}},
	}})
	require.NoError(t, err)
	v = detectOn(t, loose, provider.KindInstance, spikes(1, 0.90))
	assert.Equal(t, detector.ActionStop, v.Action, v.Explain())
}

// TestEvidenceWeek: a weekly job makes a machine a schedule candidate, never
// a stop, and the reasons name the hours.
func TestEvidenceWeek(t *testing.T) {
	t.Parallel()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	weekly := weeklyJob()
	v := detectOn(t, ens, provider.KindInstance, weekly)
	assert.Equal(t, detector.Idle, v.State)
	require.Equal(t, detector.ActionSchedule, v.Action, v.Explain())
	require.NotNil(t, v.Schedule)
	assert.Equal(t, []detector.OffWindow{{StopDay: time.Monday, StopHour: 3, StartDay: time.Monday, StartHour: 2, Hours: 167}}, v.Schedule.Windows)
	week := reason(t, v, detector.ReasonWeek)
	assert.Equal(t, []int{int(time.Monday)*24 + 2}, week.Hours.Slots())
	assert.InDelta(t, 167.0/168, week.Value, 1e-12)
	assert.Contains(t, week.String(), "1 of 168 hours of the week are busy or held a peak (Mon 02:00–03:00)")

	// One week of the same job proves no recurrence: no schedule (and no
	// stop), until a second week shows the hour again.
	oneWeek := days(7.3, func(i int, ts time.Time) float64 { // from Monday 04:48 a week ago
		if ts.Weekday() == time.Monday && ts.Hour() == 2 {
			return 0.15
		}
		return quiet(i, ts)
	})
	v1 := detectOn(t, ens, provider.KindInstance, oneWeek)
	assert.Equal(t, detector.ActionNone, v1.Action, v1.Explain())
	assert.Equal(t, detector.ActionSchedule, reason(t, v1, detector.ReasonNoPattern).Action)
	v2 := detectOn(t, ens, provider.KindInstance, days(15, func(i int, ts time.Time) float64 { return weekly.Values[len(weekly.Values)-15*288+i] }))
	assert.Equal(t, detector.ActionSchedule, v2.Action, v2.Explain())

	// Allowing one busy hour a week makes it a stop.
	lenient, err := detector.NewEnsemble(detector.EnsembleConfig{StopIdleShare: 0.99})
	require.NoError(t, err)
	assert.Equal(t, detector.ActionStop, detectOn(t, lenient, provider.KindInstance, weekly).Action)

	// A nightly job at 90 % for 30 minutes: peaks in the same hour every
	// day. Regular, so a schedule; the off windows leave 02:00 out.
	nightly := days(28, func(i int, ts time.Time) float64 {
		if ts.Hour() == 2 && ts.Minute() < 30 {
			return 0.9
		}
		return quiet(i, ts)
	})
	v = detectOn(t, ens, provider.KindInstance, nightly)
	require.Equal(t, detector.ActionSchedule, v.Action, v.Explain())
	for _, w := range v.Schedule.Windows {
		assert.Equal(t, 3, w.StopHour, "%v", w)
		assert.Equal(t, 2, w.StartHour, "%v", w)
	}
	assert.Contains(t, reason(t, v, detector.ReasonWeek).String(), "7 of 168 hours of the week are busy or held a peak (Mon–Sun 02:00–03:00)")

	// A five-minute job at 90 % every Monday at 02:00: eleven of the
	// hour's twelve steps are idle, but the hour holds a peak every week.
	// A schedule, whose off window leaves that hour out.
	short := days(28, func(i int, ts time.Time) float64 {
		if ts.Weekday() == time.Monday && ts.Hour() == 2 && ts.Minute() == 30 {
			return 0.9
		}
		return quiet(i, ts)
	})
	v = detectOn(t, ens, provider.KindInstance, short)
	require.Equal(t, detector.ActionSchedule, v.Action, v.Explain())
	assert.Equal(t, []detector.OffWindow{{StopDay: time.Monday, StopHour: 3, StartDay: time.Monday, StartHour: 2, Hours: 167}}, v.Schedule.Windows)

	// Without a learned week (here the schedule learns memory, which has
	// no series) the week cannot be checked: no stop, however long the
	// CPU evidence.
	blind, err := detector.NewEnsemble(detector.EnsembleConfig{Schedule: detector.ScheduleConfig{Metric: provider.MetricMemory}})
	require.NoError(t, err)
	v = detectOn(t, blind, provider.KindInstance, days(14, quiet))
	assert.Equal(t, detector.Idle, v.State)
	assert.Equal(t, detector.ActionNone, v.Action, v.Explain())
	assert.Equal(t, provider.MetricMemory, reason(t, v, detector.ReasonNoProfile).Metric)

	// Busy at random hours: no hour is busy every week, so no schedule,
	// and no stop.
	random := days(28, func(i int, ts time.Time) float64 {
		if noise(i/12) < 0.08 { // a random 8 % of the hours at 60 %
			return 0.6
		}
		return quiet(i, ts)
	})
	v = detectOn(t, ens, provider.KindInstance, random)
	assert.Equal(t, detector.ActionNone, v.Action, v.Explain())
	assert.Equal(t, detector.ActionSchedule, reason(t, v, detector.ReasonNoPattern).Action)
}

// TestEvidenceDownsize: a downsize is sized on the whole window's p99 and
// max, projected onto half the size (DownsizeSaving 0.5): the p99 must stay
// below 70 % and the max below 90 % there.
func TestEvidenceDownsize(t *testing.T) {
	t.Parallel()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	// base load 15–20 %, with k steps at level.
	loaded := func(d float64, k int, level float64) provider.Series {
		return days(d, func(i int, _ time.Time) float64 {
			if i%97 == 5 && i/97 < k {
				return level
			}
			return 0.15 + 0.05*noise(i)
		})
	}
	tests := []struct {
		name string
		give provider.Series
		want detector.Action
	}{
		{"steady low load", loaded(14, 0, 0), detector.ActionDownsize},
		{"40 steps at 35 %", loaded(14, 40, 0.35), detector.ActionDownsize},
		{"41 steps at 35 %: p99 would be 70 %", loaded(14, 41, 0.35), detector.ActionNone},
		{"one step just under 45 %", loaded(14, 1, 0.4499), detector.ActionDownsize},
		{"one step at 45 %: max would be 90 %", loaded(14, 1, 0.45), detector.ActionNone},
		{"7 days of data", loaded(7, 0, 0), detector.ActionDownsize},
		{"6 days of data", loaded(6, 0, 0), detector.ActionNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := detectOn(t, ens, provider.KindInstance, tt.give)
			assert.Equal(t, detector.NotIdle, v.State, v.Explain())
			assert.Equal(t, tt.want, v.Action, v.Explain())
			if tt.want == detector.ActionDownsize {
				assert.InDelta(t, 0.1*detector.HoursPerMonth*0.5, v.MonthlySavings, 1e-9)
			}
		})
	}
	// The case of the issue: the last day is quiet (p95 under 40 %) but a
	// six-hour run at 90 % a week ago would saturate half the size.
	burst := days(14, func(i int, ts time.Time) float64 {
		if ts.After(tEnd.Add(-7*24*time.Hour)) && ts.Before(tEnd.Add(-7*24*time.Hour+6*time.Hour)) {
			return 0.9
		}
		return 0.15 + 0.05*noise(i)
	})
	v := detectOn(t, ens, provider.KindInstance, burst)
	assert.Equal(t, detector.ActionNone, v.Action, v.Explain())
	tooBig := reason(t, v, detector.ReasonTooBig)
	assert.Equal(t, provider.MetricCPU, tooBig.Metric)
	assert.Contains(t, tooBig.String(), "would be 180.00% on the smaller size")

	// An idle group is scaled in by the same rule.
	v = detectOn(t, ens, provider.KindGroup, days(14, quiet))
	assert.Equal(t, detector.Idle, v.State)
	assert.Equal(t, detector.ActionDownsize, v.Action, v.Explain())
	assert.Equal(t, detector.ReasonFits, reason(t, v, detector.ReasonFits).Code)
}

// TestEvidenceTerminate: a terminate needs 28 days of evidence and activity
// data over all of them showing no use.
func TestEvidenceTerminate(t *testing.T) {
	t.Parallel()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	long := 28 * 24 * time.Hour
	unused := []provider.ActivityCount{{Kind: provider.ActivityLogins}, {Kind: provider.ActivityAPICalls}}
	s := days(28, quiet)
	// A function's, a load balancer's and a volume's idleness are their
	// counts' (DefaultKinds); the others' their CPU's. A volume is
	// detached (stopped).
	series := func(kind provider.Kind, s provider.Series) []provider.Series {
		switch kind {
		case provider.KindFunction:
			return []provider.Series{noEvents(s, provider.MetricInvocations)}
		case provider.KindLoadBalancer:
			return []provider.Series{noEvents(s, provider.MetricRequests)}
		case provider.KindVolume:
			return []provider.Series{noEvents(s, provider.MetricDiskRead), noEvents(s, provider.MetricDiskWrite)}
		}
		return []provider.Series{s}
	}
	detect := func(kind provider.Kind, s provider.Series, from time.Time, act []provider.ActivityCount) detector.Verdict {
		r := res("r", s.Start)
		r.Kind = kind
		if kind == provider.KindVolume {
			r.State = provider.StateStopped
		}
		v, err := ens.Detect(t.Context(), detector.Input{Now: tEnd, Resource: r, Series: series(kind, s), ActivityFrom: from, Activity: act})
		require.NoError(t, err)
		return v
	}
	for _, kind := range []provider.Kind{provider.KindVolume, provider.KindFunction, provider.KindLoadBalancer} {
		v := detect(kind, s, tEnd.Add(-long), unused)
		assert.Equal(t, detector.ActionTerminate, v.Action, "%s: %v", kind, v.Explain())
		assert.InDelta(t, 0.1*detector.HoursPerMonth, v.MonthlySavings, 1e-9)
	}
	tests := []struct {
		name string
		give detector.Verdict
		code detector.ReasonCode
	}{
		{"no activity data", detect(provider.KindVolume, s, time.Time{}, nil), detector.ReasonNoUse},
		{"activity over 30 minutes", detect(provider.KindVolume, s, time.Time{}, unused), detector.ReasonNoUse},
		{"activity over 27 days", detect(provider.KindVolume, s, tEnd.Add(-27*24*time.Hour), unused), detector.ReasonNoUse},
		{"a login 20 days ago", detect(provider.KindVolume, s, tEnd.Add(-long),
			[]provider.ActivityCount{{Kind: provider.ActivityLogins, Count: 1, Last: tEnd.Add(-20 * 24 * time.Hour)}}), detector.ReasonUsed},
		{"20 days of data", detect(provider.KindVolume, days(20, quiet), tEnd.Add(-long), unused), detector.ReasonShortEvidence},
		{"a last event inside the window, however counted", detect(provider.KindVolume, s, tEnd.Add(-long),
			[]provider.ActivityCount{{Kind: provider.ActivityAPICalls, Last: tEnd.Add(-27 * 24 * time.Hour)}}), detector.ReasonUsed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, detector.Idle, tt.give.State, tt.give.Explain())
			assert.Equal(t, detector.ActionNone, tt.give.Action, tt.give.Explain())
			assert.Equal(t, detector.ActionTerminate, reason(t, tt.give, tt.code).Action)
		})
	}
	// An instance with the same evidence is stopped, not terminated.
	assert.Equal(t, detector.ActionStop, detect(provider.KindInstance, s, tEnd.Add(-long), unused).Action)
	assert.Equal(t, detector.ActionStop, detect(provider.KindDatabase, s, time.Time{}, nil).Action)
}

// TestEvidenceTerminateReadsTheActivityCover: activity counts that begin
// after the window's start (a Prometheus that keeps 15 days, a counter
// added later) cover only their part of it. A terminate needs 28 days of
// cover of every counted kind, whatever the query's window was.
func TestEvidenceTerminateReadsTheActivityCover(t *testing.T) {
	t.Parallel()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	day := 24 * time.Hour
	long := 28 * day
	s := noEvents(days(28, quiet), provider.MetricInvocations)
	detect := func(act ...provider.ActivityCount) detector.Verdict {
		r := res("r", s.Start)
		r.Kind = provider.KindFunction
		v, err := ens.Detect(t.Context(), detector.Input{Now: tEnd, Resource: r, Series: []provider.Series{s}, ActivityFrom: tEnd.Add(-long), Activity: act})
		require.NoError(t, err)
		return v
	}
	full := provider.ActivityCount{Kind: provider.ActivityLogins}
	tests := []struct {
		name    string
		since   time.Time
		want    detector.Action
		covered time.Duration
	}{
		{"15 days kept", tEnd.Add(-15 * day), detector.ActionNone, 15 * day},
		{"a millisecond short", tEnd.Add(-long + time.Millisecond), detector.ActionNone, long - time.Millisecond},
		{"since the window's start", tEnd.Add(-long), detector.ActionTerminate, long},
		{"since before the window", tEnd.Add(-40 * day), detector.ActionTerminate, long},
		{"since now", tEnd, detector.ActionNone, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := detect(full, provider.ActivityCount{Kind: provider.ActivityAPICalls, Since: tt.since})
			assert.Equal(t, detector.Idle, v.State, v.Explain())
			assert.Equal(t, tt.want, v.Action, v.Explain())
			r := reason(t, v, detector.ReasonNoUse)
			assert.Equal(t, tt.covered, r.Duration, "the cover is the shortest kind's")
			assert.InDelta(t, float64(long), r.Limit, 0)
		})
	}
	// A kind the ensemble does not count does not shorten the cover.
	ens2, err := detector.NewEnsemble(detector.EnsembleConfig{Activity: detector.ActivityConfig{Kinds: []provider.ActivityKind{provider.ActivityLogins}}})
	require.NoError(t, err)
	r := res("r", s.Start)
	r.Kind = provider.KindFunction
	v, err := ens2.Detect(t.Context(), detector.Input{Now: tEnd, Resource: r, Series: []provider.Series{s}, ActivityFrom: tEnd.Add(-long),
		Activity: []provider.ActivityCount{{Kind: provider.ActivityAPICalls, Since: tEnd.Add(-day)}, full}})
	require.NoError(t, err)
	assert.Equal(t, detector.ActionTerminate, v.Action, v.Explain())
	// Counts of kinds it does not count alone cover nothing: no terminate,
	// the window's 28 days seen by no count (a mutant that took them
	// for the whole window lived).
	v, err = ens2.Detect(t.Context(), detector.Input{Now: tEnd, Resource: r, Series: []provider.Series{s}, ActivityFrom: tEnd.Add(-long),
		Activity: []provider.ActivityCount{{Kind: provider.ActivityAPICalls}}})
	require.NoError(t, err)
	assert.Equal(t, detector.ActionNone, v.Action, v.Explain())
	assert.Zero(t, reason(t, v, detector.ReasonNoUse).Duration, v.Explain())
	// The reason says how much was covered.
	v = detect(full, provider.ActivityCount{Kind: provider.ActivityAPICalls, Since: tEnd.Add(-15 * day)})
	assert.Contains(t, reason(t, v, detector.ReasonNoUse).String(), "activity data shows no use in the last 15d")
}

func TestEvidenceConfigValidate(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	tests := []struct {
		name  string
		give  detector.EnsembleConfig
		field string
	}{
		{"negative window", detector.EnsembleConfig{Evidence: detector.EvidenceConfig{Window: -day}}, "evidence.window"},
		{"terminate shorter than stop", detector.EnsembleConfig{Evidence: detector.EvidenceConfig{Window: 30 * day, TerminateWindow: 20 * day}}, "evidence.terminate_window"},
		{"downsize history over the window", detector.EnsembleConfig{Evidence: detector.EvidenceConfig{DownsizeHistory: 15 * day}}, "evidence.downsize_history"},
		{"coverage above 1", detector.EnsembleConfig{Evidence: detector.EvidenceConfig{MinCoverage: 1.5}}, "evidence.min_coverage"},
		{"NaN downsize p99", detector.EnsembleConfig{Evidence: detector.EvidenceConfig{DownsizeP99: math.NaN()}}, "evidence.downsize_p99"},
		{"zero p99 bound", detector.EnsembleConfig{Evidence: detector.EvidenceConfig{PeakBounds: map[provider.Metric]detector.PeakBound{provider.MetricCPU: {Max: 0.2}}}}, "evidence.peak_bounds.cpu.p99"},
		{"cpu bound in percent", detector.EnsembleConfig{Evidence: detector.EvidenceConfig{PeakBounds: map[provider.Metric]detector.PeakBound{provider.MetricCPU: {P99: 10, Max: 20}}}}, "evidence.peak_bounds.cpu.p99"},
		{"downsize saving 1", detector.EnsembleConfig{DownsizeSaving: 1}, "ensemble.downsize_saving"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := detector.NewEnsemble(tt.give)
			require.ErrorIs(t, err, provider.ErrInvalid)
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
		})
	}
	_, err := detector.NewEnsemble(detector.EnsembleConfig{Evidence: detector.EvidenceConfig{PeakBounds: map[provider.Metric]detector.PeakBound{"vcpu": {P99: 1, Max: 1}}}})
	require.ErrorIs(t, err, provider.ErrUnknownMetric)
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "evidence.peak_bounds.vcpu", ie.Field)
	// A terminate window follows a longer stop window by default.
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{Evidence: detector.EvidenceConfig{Window: 30 * day}})
	require.NoError(t, err)
	assert.Equal(t, 30*day, ens.Config().Evidence.TerminateWindow)

	// The defaults, as documented.
	ens, err = detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	ev := ens.Config().Evidence
	assert.Equal(t, 14*day, ev.Window)
	assert.Equal(t, 28*day, ev.TerminateWindow)
	assert.Equal(t, 7*day, ev.DownsizeHistory)
	assert.InDelta(t, 0.95, ev.MinCoverage, 0)
	assert.InDelta(t, 0.7, ev.DownsizeP99, 0)
	assert.InDelta(t, 0.9, ev.DownsizeMax, 0)
	assert.Equal(t, detector.PeakBound{P99: 0.10, Max: 0.20}, ev.PeakBounds[provider.MetricCPU])
	assert.Equal(t, detector.PeakBound{P99: 0.05, Max: 0.10}, ev.PeakBounds[provider.MetricDiskUtilization])
	assert.InDelta(t, 1, ens.Config().StopIdleShare, 0)
	needs := ens.Needs()
	assert.Equal(t, 28*day, needs.History, "the terminate window and the schedule's history")
	assert.Contains(t, needs.Metrics, provider.MetricCPU)
	// Custom thresholds move the default bounds.
	ens, err = detector.NewEnsemble(detector.EnsembleConfig{Utilization: detector.UtilizationConfig{Thresholds: map[provider.Metric]float64{provider.MetricCPU: 0.6}}})
	require.NoError(t, err)
	assert.Equal(t, detector.PeakBound{P99: 0.6, Max: 1}, ens.Config().Evidence.PeakBounds[provider.MetricCPU])
}

func TestWeekHours(t *testing.T) {
	t.Parallel()
	var h detector.WeekHours
	assert.Equal(t, "none", h.String())
	for d := time.Monday; d <= time.Friday; d++ {
		h.Add(int(d)*24 + 2)
		h.Add(int(d)*24 + 3)
	}
	h.Add(int(time.Saturday)*24 + 10)
	h.Add(int(time.Saturday)*24 + 14)
	h.Add(-1)
	h.Add(detector.HoursPerWeek)
	assert.Equal(t, 12, h.Len())
	assert.True(t, h.Has(26))
	assert.False(t, h.Has(25))
	assert.Equal(t, "Mon–Fri 02:00–04:00; Sat 10:00–11:00, 14:00–15:00", h.String())
	data, err := json.Marshal(h)
	require.NoError(t, err)
	assert.JSONEq(t, "[26,27,50,51,74,75,98,99,122,123,154,158]", string(data))
	var back detector.WeekHours
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, h, back)
	var ie *provider.InvalidError
	require.ErrorAs(t, json.Unmarshal([]byte("[3, 168]"), &back), &ie)
	assert.Equal(t, "hours[1]", ie.Field)
	require.NoError(t, json.Unmarshal([]byte("[0, 167]"), &back), "the first and last hours of the week")
	assert.True(t, back.Has(0) && back.Has(167))
	require.ErrorAs(t, json.Unmarshal([]byte("[-1]"), &back), &ie)
	// Five groups or more: the first four, then the count of the others.
	var many detector.WeekHours
	for d := range 7 {
		many.Add(d*24 + d)
	}
	assert.Equal(t, "Mon 01:00–02:00; Tue 02:00–03:00; Wed 03:00–04:00; Thu 04:00–05:00; and 3 more days", many.String())
}

// TestVerdictJSON: a verdict with the evidence reasons survives a round
// trip through JSON (the quickstart writes its report so).
func TestVerdictJSON(t *testing.T) {
	t.Parallel()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	weekly := weeklyJob()
	v := detectOn(t, ens, provider.KindInstance, weekly)
	data, err := json.Marshal(v)
	require.NoError(t, err)
	var back detector.Verdict
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, v.Explain(), back.Explain())
	assert.Equal(t, reason(t, v, detector.ReasonWeek).Hours, reason(t, back, detector.ReasonWeek).Hours)
	assert.Equal(t, reason(t, v, detector.ReasonEvidence).Stats, reason(t, back, detector.ReasonEvidence).Stats)
}

// TestProfileRecurring pins when an hour of the week counts as busy every
// week: seen in two weeks at least, and busy (idle share at most 10 %) or
// with a peak in at least 90 % of the hours seen.
func TestProfileRecurring(t *testing.T) {
	t.Parallel()
	p := detector.Profile{IdleShare: 0.9, PeakLevel: 0.2}
	set := func(slot int, seen, peaks uint16, observed, idle uint32) {
		p.HoursSeen[slot], p.PeakHours[slot], p.Observed[slot], p.IdleSteps[slot] = seen, peaks, observed, idle
	}
	set(0, 10, 9, 120, 110) // peaks in 9 of 10 weeks
	set(1, 10, 8, 120, 110) // 8 of 10
	set(2, 1, 1, 12, 0)     // busy, but seen once
	set(3, 2, 0, 24, 2)     // idle share 1/12: busy
	set(4, 2, 0, 24, 3)     // 1/8: neither
	set(5, 2, 0, 24, 24)    // idle
	assert.True(t, p.Recurring(0))
	assert.False(t, p.Recurring(1))
	assert.False(t, p.Recurring(2))
	assert.True(t, p.Recurring(3))
	assert.False(t, p.Recurring(4))
	assert.False(t, p.Recurring(5))
	assert.False(t, p.Idle(0), "a peak is never idle")
	assert.True(t, p.Idle(5))
	assert.Equal(t, []int{0, 1, 2, 3, 4}, p.Busy().Slots())
	assert.InDelta(t, 3.0/6, p.Regularity(), 1e-12, "slots 0, 3 and 5 are clear")
}

// TestEvidenceConfigAtOne pins that the evidence fractions and a
// utilization's peak bounds may be exactly 1, and not above.
func TestEvidenceConfigAtOne(t *testing.T) {
	t.Parallel()
	above := math.Nextafter(1, 2)
	for _, tt := range []struct {
		name  string
		set   func(c *detector.EvidenceConfig, v float64)
		field string
	}{
		{"min_coverage", func(c *detector.EvidenceConfig, v float64) { c.MinCoverage = v }, "evidence.min_coverage"},
		{"downsize_p99", func(c *detector.EvidenceConfig, v float64) { c.DownsizeP99 = v }, "evidence.downsize_p99"},
		{"downsize_max", func(c *detector.EvidenceConfig, v float64) { c.DownsizeMax = v }, "evidence.downsize_max"},
		{"peak bound p99", func(c *detector.EvidenceConfig, v float64) {
			c.PeakBounds = map[provider.Metric]detector.PeakBound{provider.MetricCPU: {P99: v, Max: 1}}
		}, "evidence.peak_bounds.cpu.p99"},
		{"peak bound max", func(c *detector.EvidenceConfig, v float64) {
			c.PeakBounds = map[provider.Metric]detector.PeakBound{provider.MetricCPU: {P99: 0.5, Max: v}}
		}, "evidence.peak_bounds.cpu.max"},
	} {
		var c detector.EvidenceConfig
		tt.set(&c, 1)
		require.NoError(t, c.Validate(), "%s = 1", tt.name)
		tt.set(&c, above)
		var ie *provider.InvalidError
		require.ErrorAs(t, c.Validate(), &ie, "%s just above 1", tt.name)
		assert.Equal(t, tt.field, ie.Field)
	}
}

// TestEvidenceWithoutDataInTheWindow: a bounded metric whose series has no
// sample in the evidence window (memory reported only as gaps) gets no
// evidence reason of its own (a coverage of 0 with statistics of nothing
// would read as evidence), while CPU's is reported as usual.
func TestEvidenceWithoutDataInTheWindow(t *testing.T) {
	t.Parallel()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	cpu := days(14, quiet)
	mem := days(14, func(int, time.Time) float64 { return math.NaN() })
	mem.Metric = provider.MetricMemory
	v, err := ens.Detect(t.Context(), detector.Input{Now: tEnd, Resource: res("r", cpu.Start), Series: []provider.Series{cpu, mem}})
	require.NoError(t, err)
	var metrics []provider.Metric
	for _, r := range v.Reasons {
		if r.Code == detector.ReasonEvidence {
			metrics = append(metrics, r.Metric)
		}
	}
	assert.Equal(t, []provider.Metric{provider.MetricCPU}, metrics, v.Explain())
}

package detector_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// TestScheduleKeepsOnTheHoursOfAnotherMetricsPeaks: a file server busy
// on its CPU in office hours, and quiet on it at night, when it ships its
// backup: 80 MB/s out from 01:00 to 03:00 every night at 1 % CPU. Its
// office hours make it not idle, and the CPU's week an off-hours
// schedule; that schedule stopped it every night from 18:00 to 08:00,
// through the backup: it read the schedule's metric (CPU) alone, while a
// stop reads the peaks of every bounded metric (DefaultTrafficBounds). The
// hours in which a bounded metric reached its Max bound are now kept on,
// as a peak of the schedule's metric keeps its hour on.
func TestScheduleKeepsOnTheHoursOfAnotherMetricsPeaks(t *testing.T) {
	t.Parallel()
	end := time.Date(2026, 3, 23, 12, 0, 0, 0, time.UTC) // a Monday noon
	cpu := office("fs", end, time.UTC)
	backup := func(ts time.Time) bool { return ts.Hour() >= 1 && ts.Hour() < 3 }
	out := synth("fs", cpu.Start, cpu.Step, len(cpu.Values), func(i int) float64 {
		if backup(cpu.TimeAt(i)) {
			return 80e6
		}
		return 1e3
	})
	out.Metric = provider.MetricNetworkOut
	in := synth("fs", cpu.Start, cpu.Step, len(cpu.Values), func(int) float64 { return 1e3 })
	in.Metric = provider.MetricNetworkIn
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)

	detect := func(series ...provider.Series) detector.Verdict {
		v, err := ens.Detect(t.Context(), detector.Input{Now: end, Resource: res("fs", cpu.Start), Series: series})
		require.NoError(t, err)
		return v
	}
	// On its CPU alone (a source without traffic) it gets the office's
	// schedule, 18:00 to 08:00 and the weekend.
	v := detect(cpu)
	require.Equal(t, detector.ActionSchedule, v.Action, v.Explain())
	assert.InDelta(t, 118.0/168, v.Schedule.SavedShare, 1e-12)

	// With its traffic, the backup's hours stay on: the office's off
	// hours but 01:00 to 03:00 every night.
	v = detect(cpu, in, out)
	assert.Equal(t, detector.NotIdle, v.State, v.Explain())
	require.Equal(t, detector.ActionSchedule, v.Action, v.Explain())
	var through []string
	for _, w := range v.Schedule.Windows {
		for h := range w.Hours {
			if slot := (int(w.StopDay)*24 + w.StopHour + h) % detector.HoursPerWeek; backup(time.Date(2026, 3, 22+slot/24, slot%24, 0, 0, 0, time.UTC)) {
				through = append(through, w.String())
				break
			}
		}
	}
	assert.Empty(t, through, "off windows that stop the server during its backup")
	assert.InDelta(t, float64(118-7*2)/168, v.Schedule.SavedShare, 1e-12, "the office's off hours but the backup's")

	// A Tracker's state counts those peaks too: from it, the same schedule.
	r := res("fs", cpu.Start)
	f := &gridFleet{resources: []provider.Resource{r}, series: map[string]map[provider.Metric]provider.Series{r.ID: {
		provider.MetricCPU: cpu, provider.MetricNetworkIn: in, provider.MetricNetworkOut: out}}}
	tr, err := detector.NewTracker(ens, detector.TrackerConfig{}, &detector.MemoryStateStore{})
	require.NoError(t, err)
	for _, now := range []time.Time{end.Add(-time.Hour), end} { // a full read, then one from the state
		rep, err := detector.Scan(t.Context(), detector.Fleet{Inventory: f, Metrics: f}, ens, detector.ScanConfig{Now: now})
		require.NoError(t, err)
		require.Len(t, rep.Verdicts, 1)
		got, read, err := tr.Detect(t.Context(), f, nil, r, now)
		require.NoError(t, err)
		assert.Equal(t, now.Equal(end), !read.Full, "from the state at %s", now)
		require.Equal(t, comparable(rep.Verdicts[0]), comparable(got), "at %s (full read %v)", now, read.Full)
		assert.Equal(t, detector.ActionSchedule, got.Action, got.Explain())
	}
}

// TestScheduleNeedsAnotherBoundedMetricsPeaksRead: an office server idle
// at Monday 03:00 gets a schedule (TestEnsembleRecommendsSchedule) when
// its traffic is read at 5-minute steps and up to now; read at hourly
// steps (whose mean hides a 10-minute backup) or stale (its agent dead
// for a day), the traffic cannot say which hours it peaks in: no
// schedule, and the reason names the metric.
func TestScheduleNeedsAnotherBoundedMetricsPeaksRead(t *testing.T) {
	t.Parallel()
	end := time.Date(2026, 3, 23, 3, 0, 0, 0, time.UTC)
	cpu := office("web", end, time.UTC)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{Utilization: detector.UtilizationConfig{Window: 4 * time.Hour}})
	require.NoError(t, err)
	traffic := func(step time.Duration, n int) provider.Series {
		s := synth("web", cpu.Start, step, n, func(int) float64 { return 1e3 })
		s.Metric = provider.MetricNetworkOut
		return s
	}
	for _, tt := range []struct {
		name string
		out  provider.Series
		code detector.ReasonCode
	}{
		{"read", traffic(cpu.Step, len(cpu.Values)), ""},
		{"hourly", traffic(time.Hour, 28*24), detector.ReasonCoarse},
		{"stale", traffic(cpu.Step, len(cpu.Values)-288), detector.ReasonStale},
	} {
		v, err := ens.Detect(t.Context(), detector.Input{Now: end, Resource: res("web", cpu.Start), Series: []provider.Series{cpu, tt.out}})
		require.NoError(t, err)
		if tt.code == "" {
			assert.Equal(t, detector.ActionSchedule, v.Action, "%s: %v", tt.name, v.Explain())
			continue
		}
		assert.Equal(t, detector.Idle, v.State, "%s: %v", tt.name, v.Explain())
		assert.Equal(t, detector.ActionNone, v.Action, "%s: %v", tt.name, v.Explain())
		var named bool
		for _, r := range reasonsOf(v, tt.code) {
			named = named || r.Metric == provider.MetricNetworkOut && r.Action == detector.ActionSchedule
		}
		assert.True(t, named, "%s: the reason names network_out and the schedule: %v", tt.name, v.Explain())
	}
}

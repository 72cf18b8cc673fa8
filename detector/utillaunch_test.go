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

// TestUtilizationJudgesFromLaunch: a resource created again under its
// predecessor's ID (a source keyed by ID returns the predecessor's series)
// is judged by the utilization on its own steps, from its launch on, as
// the schedule, the model and the evidence judge it. With a window longer
// than the grace period (7 days), a machine launched 2 days ago that ran
// at 15 % CPU for 40 hours and was quiet for the last 8 (its own mean
// 12.5 %, above the 10 % threshold) was reported idle: the mean over the
// week took in its predecessor's five idle days (4.3 %).
func TestUtilizationJudgesFromLaunch(t *testing.T) {
	t.Parallel()
	util, ens := judgeFromLaunch(t, 8, 48*time.Hour, func(at time.Time) float64 {
		if at.Before(launchNow.Add(-48*time.Hour)) || !at.Before(launchNow.Add(-8*time.Hour)) {
			return 0.01 // the predecessor's idle days, and the last 8 hours
		}
		return 0.15
	})
	assert.Equal(t, detector.NotIdle, util.State, util.Explain())
	above := reasonsOf(util, detector.ReasonAbove)
	require.Len(t, above, 1, util.Explain())
	assert.InDelta(t, (40*0.15+8*0.01)/48, above[0].Value, 1e-9, "the mean of its own 48 hours")
	assert.NotEqual(t, detector.Idle, ens.State, ens.Explain())
}

// TestUtilizationOfARestartedInstanceReadsItsWeekToo: EC2's LaunchTime is
// an instance's last start, so an instance busy all week (50 % CPU) that
// was stopped and started again 30 hours ago, quiet since (2 %), has 30
// hours of its own steps. Judged on them alone it was idle, on less than
// a fifth of the week the window asks for; it is idle only if it looks
// idle over the whole window too (the week's mean is 43 %).
func TestUtilizationOfARestartedInstanceReadsItsWeekToo(t *testing.T) {
	t.Parallel()
	util, ens := judgeFromLaunch(t, 7, 30*time.Hour, func(at time.Time) float64 {
		if at.Before(launchNow.Add(-30 * time.Hour)) {
			return 0.5
		}
		return 0.02
	})
	assert.Equal(t, detector.NotIdle, util.State, util.Explain())
	assert.NotEqual(t, detector.Idle, ens.State, ens.Explain())
}

// launchNow is the time of the launch tests' verdicts.
var launchNow = time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)

// launchInput is the input, at launchNow, of a resource launched ago
// before it with days of 5-minute CPU, cpu(at) at each step.
func launchInput(days int, ago time.Duration, cpu func(at time.Time) float64) detector.Input {
	const step = 5 * time.Minute
	n := days * 288
	start := launchNow.Add(-time.Duration(n) * step)
	s := synth("r", start, step, n, func(i int) float64 { return cpu(start.Add(time.Duration(i) * step)) })
	return detector.Input{Now: launchNow, Resource: res("r", launchNow.Add(-ago)), Series: []provider.Series{s}}
}

// judgeFromLaunch returns the verdicts of the utilization over a week
// and of the ensemble with it on launchInput(days, ago, cpu).
func judgeFromLaunch(t *testing.T, days int, ago time.Duration, cpu func(at time.Time) float64) (util, ens detector.Verdict) {
	t.Helper()
	in := launchInput(days, ago, cpu)
	cfg := detector.UtilizationConfig{Window: 7 * 24 * time.Hour}
	u, err := detector.NewUtilization(cfg)
	require.NoError(t, err)
	util, err = u.Detect(t.Context(), in)
	require.NoError(t, err)
	e, err := detector.NewEnsemble(detector.EnsembleConfig{Utilization: cfg})
	require.NoError(t, err)
	ens, err = e.Detect(t.Context(), in)
	require.NoError(t, err)
	return util, ens
}

// TestUtilizationReasonNamesTheStepsItRead: a statistic that is the mean
// of the resource's own steps since its launch (higher than the whole
// window's) was reported over the whole window: the reason of a machine
// launched 48 hours ago read "cpu mean 12.5% ≥ 10% over 168h", a mean the
// week never had (the week's is 4.3 %). The reason now names the 48 hours
// its value is the mean of, in the full read and the Tracker alike, and
// the whole window when the window's statistic is the higher.
func TestUtilizationReasonNamesTheStepsItRead(t *testing.T) {
	t.Parallel()
	launch := launchNow.Add(-48 * time.Hour)
	cfg := detector.UtilizationConfig{Window: 7 * 24 * time.Hour}
	u, err := detector.NewUtilization(cfg)
	require.NoError(t, err)
	reason := func(t *testing.T, cpu func(at time.Time) float64) detector.Reason {
		t.Helper()
		v, err := u.Detect(t.Context(), launchInput(8, 48*time.Hour, cpu))
		require.NoError(t, err)
		rs := append(reasonsOf(v, detector.ReasonAbove), reasonsOf(v, detector.ReasonBelow)...)
		require.Len(t, rs, 1, v.Explain())
		return rs[0]
	}
	own := reason(t, func(at time.Time) float64 {
		if at.Before(launch) {
			return 0.01 // the predecessor's idle days
		}
		return 0.125
	})
	assert.Equal(t, detector.ReasonAbove, own.Code)
	assert.InDelta(t, 0.125, own.Value, 1e-9)
	assert.Equal(t, 48*time.Hour, own.Duration, "the mean of its own 48 hours, not the week's")
	week := reason(t, func(at time.Time) float64 {
		if at.Before(launch) {
			return 0.5 // busy before a restart
		}
		return 0.02
	})
	assert.Equal(t, detector.ReasonAbove, week.Code)
	assert.Equal(t, cfg.Window, week.Duration, "the week's mean")
	quiet := reason(t, func(at time.Time) float64 {
		if at.Before(launch) {
			return 0.01
		}
		return 0.05
	})
	assert.Equal(t, detector.ReasonBelow, quiet.Code)
	assert.InDelta(t, 0.05, quiet.Value, 1e-9)
	assert.Equal(t, 48*time.Hour, quiet.Duration, "the mean of its own 48 hours")
}

// TestUtilizationCoverageCountsTheStepsSinceLaunch: the coverage rule read
// the whole window while the statistics read the resource's own steps
// too, so a machine created again 48 hours (and 20 minutes) ago under
// its predecessor's ID, whose agent reported one step in two since
// (its own steps 50 % covered), passed the 80 % coverage of a week on
// the predecessor's five full days and was reported idle on half of
// its own data. Its own steps must be covered as the window's are: the
// utilization is Unknown, the reason names the time since its launch,
// from a full read and from a Tracker's state alike.
func TestUtilizationCoverageCountsTheStepsSinceLaunch(t *testing.T) {
	t.Parallel()
	const step = 5 * time.Minute
	ago := 48*time.Hour + 20*time.Minute // off the hour: the launch hour's own steps count apart
	launch := launchNow.Add(-ago)
	cpu := func(at time.Time) float64 {
		if !at.Before(launch) && at.Sub(launch)/step%2 != 0 {
			return math.NaN() // its agent reports one step in two
		}
		return 0.02
	}
	cfg := detector.UtilizationConfig{Window: 7 * 24 * time.Hour}
	u, err := detector.NewUtilization(cfg)
	require.NoError(t, err)
	v, err := u.Detect(t.Context(), launchInput(8, ago, cpu))
	require.NoError(t, err)
	assert.Equal(t, detector.Unknown, v.State, v.Explain())
	gaps := reason(t, v, detector.ReasonGaps)
	assert.Equal(t, ago, gaps.Duration, "the coverage of its own steps")
	assert.InDelta(t, 0.5, gaps.Value, 0.01)

	// The Tracker from its state, hours later, as a full read.
	e, err := detector.NewEnsemble(detector.EnsembleConfig{Utilization: cfg})
	require.NoError(t, err)
	tr, err := detector.NewTracker(e, detector.TrackerConfig{}, &detector.MemoryStateStore{})
	require.NoError(t, err)
	const n = 9 * 288
	start := launchNow.Add(-8 * 24 * time.Hour)
	s := synth("r", start, step, n, func(i int) float64 { return cpu(start.Add(time.Duration(i) * step)) })
	r := res("r", launch)
	f := &gridFleet{resources: []provider.Resource{r}, series: map[string]map[provider.Metric]provider.Series{"r": {provider.MetricCPU: s}}}
	for h := range 4 {
		now := launchNow.Add(time.Duration(h) * time.Hour)
		rep, err := detector.Scan(t.Context(), detector.Fleet{Inventory: oneInventory{r}, Metrics: f}, e, detector.ScanConfig{Now: now})
		require.NoError(t, err)
		require.Len(t, rep.Verdicts, 1)
		want := rep.Verdicts[0]
		got, read, err := tr.Detect(t.Context(), f, nil, r, now)
		require.NoError(t, err)
		require.Equal(t, comparable(want), comparable(got), "at %s (full read %v: %s)", now, read.Full, read.Why)
		assert.Equal(t, h == 0, read.Full, "at %s: %s", now, read.Why)
		assert.NotEqual(t, detector.Idle, got.State, "at %s: %s", now, got.Explain())
		util := got.Signals[0]
		require.Equal(t, detector.SignalUtilization, util.Signal)
		assert.Equal(t, detector.Unknown, util.State, "at %s: %s", now, got.Explain())
		assert.Equal(t, now.Sub(launch), reason(t, got, detector.ReasonGaps).Duration, "at %s", now)
	}
}

// TestUtilizationWithNoStepSinceLaunchSaysSo: a resource launched three
// minutes ago has no step of its own (the first ends in two minutes)
// while its predecessor's data is fresh. The utilization said "last cpu
// sample is 0s old (limit 1h)": stale for the hour's hold, which a
// sample of no age is not; it now says the steps since the launch have
// no data (0 % of the last 3 minutes).
func TestUtilizationWithNoStepSinceLaunchSaysSo(t *testing.T) {
	t.Parallel()
	u, err := detector.NewUtilization(detector.UtilizationConfig{Window: 7 * 24 * time.Hour})
	require.NoError(t, err)
	v, err := u.Detect(t.Context(), launchInput(8, 3*time.Minute, func(time.Time) float64 { return 0.02 }))
	require.NoError(t, err)
	assert.Equal(t, detector.Unknown, v.State, v.Explain())
	assert.Empty(t, reasonsOf(v, detector.ReasonStale), v.Explain())
	gaps := reason(t, v, detector.ReasonGaps)
	assert.Equal(t, 3*time.Minute, gaps.Duration, v.Explain())
	assert.Zero(t, gaps.Value, v.Explain())
}

package detector_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// Measured load vetoes idleness: a machine whose CPU is busy now is not
// idle, however many of the other signals vote idle and however high the
// weighted score they give. Each case has a strict majority of idle votes
// and a weighted score of at least 0.5, so only the veto keeps it NotIdle.
func TestEnsembleUtilizationVetoesIdleness(t *testing.T) {
	t.Parallel()
	now := t0.Add(14 * 24 * time.Hour)
	n := 14 * 24 * 12
	// Two quiet weeks, then a busy last day: the schedule learned from
	// the history calls this hour idle, the activity is quiet, and the
	// utilization over the last 24 h is busy.
	wokeUp := synth("woke", t0, 5*time.Minute, n, func(i int) float64 {
		if i >= n-24*12 {
			return 0.6 + 0.1*noise(i)
		}
		return 0.01 + 0.01*noise(i)
	})
	quiet := []provider.ActivityCount{{Kind: provider.ActivityLogins}, {Kind: provider.ActivityAPICalls}}
	idleVote := detector.Func(func(_ context.Context, in detector.Input) (detector.Verdict, error) {
		return detector.Verdict{ResourceID: in.Resource.ID, State: detector.Idle, Score: 1}, nil
	})
	tests := []struct {
		name string
		cfg  detector.EnsembleConfig
		opts []detector.Option
	}{
		{name: "default weights: activity and schedule vote idle"},
		{
			name: "utilization outweighed by two custom signals",
			cfg:  detector.EnsembleConfig{Weights: detector.Weights{Utilization: 0.1, Activity: 0.3, Schedule: 0.3}},
			opts: []detector.Option{detector.WithSignal("cmdb", 1, idleVote), detector.WithSignal("owner", 1, idleVote)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ens, err := detector.NewEnsemble(tt.cfg, tt.opts...)
			require.NoError(t, err)
			v, err := ens.Detect(t.Context(), detector.Input{Now: now, Resource: res("woke", t0), Series: []provider.Series{wokeUp}, Activity: quiet})
			require.NoError(t, err)
			require.Equal(t, detector.NotIdle, signal(t, v, detector.SignalUtilization).State, v.Explain())
			votes, avail := 0, 0
			for _, c := range v.Signals {
				if c.State != detector.Unknown && c.Weight > 0 {
					avail++
					if c.State == detector.Idle {
						votes++
					}
				}
			}
			require.Greater(t, 2*votes, avail, "the other signals are a strict majority for idle: %s", v.Explain())
			require.GreaterOrEqual(t, v.Score, 0.5, "the weighted score alone would say idle: %s", v.Explain())
			assert.Equal(t, detector.NotIdle, v.State, v.Explain())
			assert.Equal(t, detector.ActionNone, v.Action, v.Explain())
		})
	}
}

// Use now vetoes a stop: a machine someone logged in to a minute ago is
// in use, however idle its CPU. The activity signal votes not idle then,
// but its score (at most 0.49) leaves a few events outvoted with a
// confidence above 0.8; the many events of TestEnsemble's "idle cpu but
// logins" pull it below. Whatever the count, the evidence for a stop
// needs the quiet period without use, and says which kind was used.
func TestRecentActivityIsNeverStopped(t *testing.T) {
	t.Parallel()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	now := t0.Add(14 * 24 * time.Hour)
	idle := synth("idle", t0, 5*time.Minute, 14*24*12, func(i int) float64 { return 0.01 + 0.01*noise(i) })
	tests := []struct {
		name     string
		activity []provider.ActivityCount
		want     detector.Action
	}{
		{name: "one login a minute ago", activity: []provider.ActivityCount{{Kind: provider.ActivityLogins, Count: 1, Last: now.Add(-time.Minute)}}},
		{name: "three API calls in the window", activity: []provider.ActivityCount{{Kind: provider.ActivityLogins}, {Kind: provider.ActivityAPICalls, Count: 3}}},
		{name: "a query 29 minutes ago", activity: []provider.ActivityCount{{Kind: provider.ActivityDBQueries, Last: now.Add(-29 * time.Minute)}}},
		{name: "the last login 30 minutes ago", activity: []provider.ActivityCount{{Kind: provider.ActivityLogins, Last: now.Add(-30 * time.Minute)}}, want: detector.ActionStop},
		{name: "none", activity: []provider.ActivityCount{{Kind: provider.ActivityLogins}}, want: detector.ActionStop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := ens.Detect(t.Context(), detector.Input{Now: now, Resource: res("idle", t0), Series: []provider.Series{idle}, Activity: tt.activity})
			require.NoError(t, err)
			require.Equal(t, detector.Idle, v.State, v.Explain())
			if tt.want == detector.ActionStop {
				assert.Equal(t, detector.ActionStop, v.Action, v.Explain())
				assert.Empty(t, reasonsOf(v, detector.ReasonInUse), v.Explain())
				return
			}
			require.Equal(t, detector.NotIdle, signal(t, v, detector.SignalActivity).State, v.Explain())
			require.Greater(t, v.Confidence, 0.8, "the vote alone would let it act: %s", v.Explain())
			assert.Equal(t, detector.ActionNone, v.Action, v.Explain())
			used := reasonsOf(v, detector.ReasonInUse)
			require.Len(t, used, 1, v.Explain())
			assert.Equal(t, tt.activity[len(tt.activity)-1].Kind, used[0].Kind)
			assert.Equal(t, detector.ActionStop, used[0].Action)
			assert.Equal(t, 30*time.Minute, used[0].Duration)
			assert.Equal(t, "evidence: "+string(used[0].Kind)+" activity within the last 30m0s: stop needs none", used[0].String())
		})
	}
}

// A stop reads peaks at steps of MaxPeakStep (5m) or less: an hour's
// mean hides a shorter peak. A machine at 2 % CPU that runs a 2-minute
// job at 100 % once a day peaks at 41 % in its 5-minute step, which the
// stop's max bound (20 %) refuses; read at 1-hour steps the peak is 5.3 %
// and the machine was stopped. Now the coarse series fails the evidence,
// naming the metric; a host whose source gives each step's maximum sets
// MaxPeakStep to its step. (At 5-minute steps the job's hour is busy: an
// off-hours schedule at most, never a stop.)
func TestStopNeedsStepsShortEnoughForPeaks(t *testing.T) {
	t.Parallel()
	now := t0.Add(14 * 24 * time.Hour)
	hourly := synth("job", t0, time.Hour, 14*24, func(i int) float64 {
		if i%24 == 3 {
			return (58*0.02 + 2*1.0) / 60
		}
		return 0.02
	})
	fine := synth("job", t0, 5*time.Minute, 14*288, func(i int) float64 {
		if i%288 == 3*12 {
			return (3*0.02 + 2*1.0) / 5
		}
		return 0.02
	})
	detect := func(cfg detector.EnsembleConfig, s provider.Series) detector.Verdict {
		ens, err := detector.NewEnsemble(cfg)
		require.NoError(t, err)
		v, err := ens.Detect(t.Context(), detector.Input{Now: now, Resource: res("job", t0.Add(-time.Hour)), Series: []provider.Series{s}})
		require.NoError(t, err)
		require.Equal(t, detector.Idle, v.State, v.Explain())
		return v
	}

	v := detect(detector.EnsembleConfig{}, fine)
	assert.NotEqual(t, detector.ActionStop, v.Action, "the 5-minute peak is seen: %v", v.Explain())
	assert.NotEmpty(t, reasonsOf(v, detector.ReasonPeak), v.Explain())
	assert.Empty(t, reasonsOf(v, detector.ReasonCoarse))

	v = detect(detector.EnsembleConfig{}, hourly)
	assert.Equal(t, detector.ActionNone, v.Action, v.Explain())
	coarse := reasonsOf(v, detector.ReasonCoarse)
	require.Len(t, coarse, 1, v.Explain())
	assert.Equal(t, provider.MetricCPU, coarse[0].Metric)
	assert.Equal(t, "evidence: cpu was read at 1h steps, whose means hide shorter peaks: stop needs steps of 5m0s or less", coarse[0].String())

	v = detect(detector.EnsembleConfig{Evidence: detector.EvidenceConfig{MaxPeakStep: time.Hour}}, hourly)
	assert.Equal(t, detector.ActionStop, v.Action, "what the hour's mean allowed: %v", v.Explain())
	assert.Empty(t, reasonsOf(v, detector.ReasonCoarse))

	_, err := detector.NewEnsemble(detector.EnsembleConfig{Evidence: detector.EvidenceConfig{MaxPeakStep: -time.Minute}})
	require.ErrorIs(t, err, provider.ErrInvalid)
	assert.Contains(t, err.Error(), "evidence.max_peak_step")
}

// An off-hours schedule reads its hours' peaks at steps of MaxPeakStep
// or less too. An office machine (busy weekdays 09–17) that runs a
// 2-minute job at 100 % every night at 03:00: at 5-minute steps the
// job's hour holds a peak every night and stays on; at 1-hour steps the
// hour's mean is 5.3 %, the hour read as idle, and the schedule proposed
// stopped the machine through its job. Now the coarse series proposes
// no schedule, naming the metric.
func TestScheduleNeedsStepsShortEnoughForPeaks(t *testing.T) {
	t.Parallel()
	now := t0.Add(28*24*time.Hour + 10*time.Hour) // a Monday, 10:00: busy
	load := func(at time.Time, job float64) float64 {
		switch {
		case at.Hour() == 3:
			return job
		case at.Weekday() != time.Saturday && at.Weekday() != time.Sunday && at.Hour() >= 9 && at.Hour() < 17:
			return 0.6
		}
		return 0.02
	}
	hourly := synth("office", t0, time.Hour, 28*24+10, func(i int) float64 {
		return load(t0.Add(time.Duration(i)*time.Hour), (58*0.02+2*1.0)/60)
	})
	fine := synth("office", t0, 5*time.Minute, (28*24+10)*12, func(i int) float64 {
		at := t0.Add(time.Duration(i) * 5 * time.Minute)
		if at.Hour() == 3 && at.Minute() != 0 {
			return 0.02
		}
		return load(at, (3*0.02+2*1.0)/5)
	})
	detect := func(cfg detector.EnsembleConfig, s provider.Series) detector.Verdict {
		ens, err := detector.NewEnsemble(cfg)
		require.NoError(t, err)
		v, err := ens.Detect(t.Context(), detector.Input{Now: now, Resource: res("office", t0.Add(-time.Hour)), Series: []provider.Series{s}})
		require.NoError(t, err)
		require.Equal(t, detector.NotIdle, v.State, v.Explain())
		return v
	}
	offAt3 := func(v detector.Verdict) bool {
		require.Equal(t, detector.ActionSchedule, v.Action, v.Explain())
		for _, w := range v.Schedule.Windows {
			for h := range w.Hours {
				if (w.StopHour+h)%24 == 3 {
					return true
				}
			}
		}
		return false
	}

	v := detect(detector.EnsembleConfig{}, fine)
	assert.False(t, offAt3(v), "the job's hour stays on: %v", v.Schedule.Windows)
	assert.Empty(t, reasonsOf(v, detector.ReasonCoarse))

	v = detect(detector.EnsembleConfig{}, hourly)
	assert.NotEqual(t, detector.ActionSchedule, v.Action, "%v", v.Schedule)
	assert.Nil(t, v.Schedule)

	// Idle on a Sunday morning, the week busy: a schedule or nothing, and
	// the verdict says why nothing.
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	sunday := t0.Add(27*24*time.Hour + 6*time.Hour)
	v, err = ens.Detect(t.Context(), detector.Input{Now: sunday, Resource: res("office", t0.Add(-time.Hour)), Series: []provider.Series{hourly.Window(t0, sunday)}})
	require.NoError(t, err)
	require.Equal(t, detector.Idle, v.State, v.Explain())
	assert.Equal(t, detector.ActionNone, v.Action, v.Explain())
	var coarse []detector.Reason
	for _, r := range reasonsOf(v, detector.ReasonCoarse) {
		if r.Action == detector.ActionSchedule {
			coarse = append(coarse, r)
		}
	}
	require.Len(t, coarse, 1, v.Explain())
	assert.Equal(t, "evidence: cpu was read at 1h steps, whose means hide shorter peaks: schedule needs steps of 5m0s or less", coarse[0].String())

	v = detect(detector.EnsembleConfig{Evidence: detector.EvidenceConfig{MaxPeakStep: time.Hour}}, hourly)
	assert.True(t, offAt3(v), "what the hour's mean allowed: %v", v.Schedule.Windows)
	assert.Empty(t, reasonsOf(v, detector.ReasonCoarse))

	// Without a peak bound on the schedule's metric the schedule reads no
	// peaks, at any step: a host's choice, which a coarse step does not
	// change.
	traffic := detector.EvidenceConfig{PeakBounds: map[provider.Metric]detector.PeakBound{provider.MetricNetworkIn: {P99: 1e5, Max: 1e6}}}
	v = detect(detector.EnsembleConfig{Evidence: traffic}, hourly)
	assert.True(t, offAt3(v), "no peak level, nothing hidden: %v", v.Schedule.Windows)
	assert.Empty(t, reasonsOf(v, detector.ReasonCoarse))
}

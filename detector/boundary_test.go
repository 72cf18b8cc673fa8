package detector_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// fixedVote is a custom signal that always answers st with score.
func fixedVote(st detector.State, score float64) detector.Detector {
	return detector.Func(func(_ context.Context, in detector.Input) (detector.Verdict, error) {
		return detector.Verdict{ResourceID: in.Resource.ID, State: st, Score: score}, nil
	})
}

// The utilization signal compares with its threshold strictly: a mean
// exactly at the threshold is not idle (and scores exactly 0.5), one just
// below it is; the same holds for the last hour (the hold). 0.25 and
// 0.125 are exact in binary, so the means are exact.
func TestUtilizationThresholdBoundary(t *testing.T) {
	t.Parallel()
	const th = 0.25
	u, err := detector.NewUtilization(detector.UtilizationConfig{Thresholds: map[provider.Metric]float64{provider.MetricCPU: th}})
	require.NoError(t, err)
	now := t0.Add(3 * 24 * time.Hour)
	n := 3 * 24 * 12
	lastHour := n - 12
	tests := []struct {
		name      string
		f         func(i int) float64
		want      detector.State
		wantCode  detector.ReasonCode
		wantScore float64 // checked when ≥ 0
	}{
		{name: "mean at the threshold", f: func(int) float64 { return th }, want: detector.NotIdle, wantCode: detector.ReasonAbove, wantScore: 0.5},
		{name: "mean just below", f: func(int) float64 { return th - 1.0/1024 }, want: detector.Idle, wantCode: detector.ReasonBelow, wantScore: -1},
		{name: "last hour at the threshold", f: func(i int) float64 {
			if i >= lastHour {
				return th
			}
			return 0.125
		}, want: detector.NotIdle, wantCode: detector.ReasonNotHeld, wantScore: 0.5},
		{name: "last hour just below", f: func(i int) float64 {
			if i >= lastHour {
				return th - 1.0/1024
			}
			return 0.125
		}, want: detector.Idle, wantCode: detector.ReasonBelow, wantScore: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := synth("vm", t0, 5*time.Minute, n, tt.f)
			v, err := u.Detect(t.Context(), detector.Input{Now: now, Resource: res("vm", t0), Series: []provider.Series{s}})
			require.NoError(t, err)
			assert.Equal(t, tt.want, v.State, v.Explain())
			assert.True(t, hasReason(v, tt.wantCode), "want %s: %s", tt.wantCode, v.Explain())
			if tt.wantScore >= 0 {
				assert.InDelta(t, tt.wantScore, v.Score, 1e-12, "the score is 0.5 at the threshold")
			} else {
				assert.Greater(t, v.Score, 0.5)
			}
		})
	}
}

// Data is stale when the end of its last step is more than MaxStaleness
// (default 30m) before now: data ending exactly 30 minutes ago is fresh,
// data 30 to 60 minutes old is stale, and stale data makes the
// utilization Unknown (never idle), with the age and the limit. Fresh data
// must also reach into the hold period (default 1h): data 59 minutes old
// within a 90-minute limit leaves the last hour without a step, which is
// stale for the hold (its limit is the hold), not the day's mean held.
func TestStalenessBoundary(t *testing.T) {
	t.Parallel()
	n := 2 * 24 * 12
	idle := synth("vm", t0, 5*time.Minute, n, func(i int) float64 { return 0.01 + 0.01*noise(i) })
	end := t0.Add(time.Duration(n) * 5 * time.Minute) // end of the last step
	tests := []struct {
		name   string
		cfg    detector.DataQuality
		age    time.Duration
		stale  bool
		limitM float64
	}{
		{name: "default, 30m old", age: 30 * time.Minute},
		{name: "default, 30m1s old", age: 30*time.Minute + time.Second, stale: true, limitM: 30},
		{name: "default, 45m old", age: 45 * time.Minute, stale: true, limitM: 30},
		{name: "default, 59m old", age: 59 * time.Minute, stale: true, limitM: 30},
		{name: "10m limit, 10m old", cfg: detector.DataQuality{MaxStaleness: 10 * time.Minute}, age: 10 * time.Minute},
		{name: "10m limit, 15m old", cfg: detector.DataQuality{MaxStaleness: 10 * time.Minute}, age: 15 * time.Minute, stale: true, limitM: 10},
		{name: "90m limit, 55m old", cfg: detector.DataQuality{MaxStaleness: 90 * time.Minute}, age: 55 * time.Minute},
		{name: "90m limit, 59m old: nothing in the hold", cfg: detector.DataQuality{MaxStaleness: 90 * time.Minute}, age: 59 * time.Minute, stale: true, limitM: 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u, err := detector.NewUtilization(detector.UtilizationConfig{Quality: tt.cfg, Window: 6 * time.Hour})
			require.NoError(t, err)
			v, err := u.Detect(t.Context(), detector.Input{Now: end.Add(tt.age), Resource: res("vm", t0), Series: []provider.Series{idle}})
			require.NoError(t, err)
			if !tt.stale {
				assert.Equal(t, detector.Idle, v.State, v.Explain())
				assert.False(t, hasReason(v, detector.ReasonStale), v.Explain())
				return
			}
			assert.Equal(t, detector.Unknown, v.State, v.Explain())
			r := reason(t, v, detector.ReasonStale)
			assert.Equal(t, tt.age, r.Duration)
			assert.InDelta(t, tt.limitM*float64(time.Minute), r.Limit, 0)
		})
	}
}

// A resource younger than the grace period (default 24h) is Unknown; at
// exactly the grace period it is judged. A negative GracePeriod turns the
// rule off; a custom one moves the boundary.
func TestGracePeriodBoundary(t *testing.T) {
	t.Parallel()
	now := t0.Add(3 * 24 * time.Hour)
	idle := synth("vm", t0, 5*time.Minute, 3*24*12, func(i int) float64 { return 0.01 + 0.01*noise(i) })
	quiet := []provider.ActivityCount{{Kind: provider.ActivityLogins}, {Kind: provider.ActivityAPICalls}}
	tests := []struct {
		name  string
		grace time.Duration
		age   time.Duration
		young bool
	}{
		{name: "default, 24h old", age: 24 * time.Hour},
		{name: "default, 1s short of 24h", age: 24*time.Hour - time.Second, young: true},
		{name: "default, launched in the future", age: -time.Minute, young: true},
		{name: "2h, 2h old", grace: 2 * time.Hour, age: 2 * time.Hour},
		{name: "2h, 1s short of 2h", grace: 2 * time.Hour, age: 2*time.Hour - time.Second, young: true},
		{name: "off, 1h old", grace: -1, age: time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ens, err := detector.NewEnsemble(detector.EnsembleConfig{GracePeriod: tt.grace})
			require.NoError(t, err)
			in := detector.Input{Now: now, Resource: res("vm", now.Add(-tt.age)), Series: []provider.Series{idle}, Activity: quiet}
			v, err := ens.Detect(t.Context(), in)
			require.NoError(t, err)
			if tt.young {
				assert.Equal(t, detector.Unknown, v.State, v.Explain())
				assert.Zero(t, v.Score)
				assert.Equal(t, detector.ActionNone, v.Action)
				r := reason(t, v, detector.ReasonYoung)
				assert.Equal(t, max(tt.age, 0), r.Duration, "a launch after now counts as age 0")
				return
			}
			assert.Equal(t, detector.Idle, v.State, v.Explain())
			assert.False(t, hasReason(v, detector.ReasonYoung), v.Explain())
		})
	}
	// The single strategies keep the default grace period.
	u, err := detector.NewUtilization(detector.UtilizationConfig{})
	require.NoError(t, err)
	for _, age := range []time.Duration{24 * time.Hour, 24*time.Hour - time.Second} {
		v, err := u.Detect(t.Context(), detector.Input{Now: now, Resource: res("vm", now.Add(-age)), Series: []provider.Series{idle}})
		require.NoError(t, err)
		assert.Equal(t, age < 24*time.Hour, hasReason(v, detector.ReasonYoung), "age %s: %s", age, v.Explain())
		assert.Equal(t, age < 24*time.Hour, v.State == detector.Unknown, "age %s: %s", age, v.Explain())
	}
}

// The vote: idle needs a strict majority of the available signals (a tie
// is not idle) and a weighted score of at least 0.5 (exactly 0.5 is
// enough). A signal with weight 0 is not available: it neither votes nor
// counts. Utilization is left unknown (AllowWithoutUtilization) so that
// only the custom signals, with exact scores, vote.
func TestEnsembleVoteBoundaries(t *testing.T) {
	t.Parallel()
	now := t0.Add(3 * 24 * time.Hour)
	type sig struct {
		st     detector.State
		score  float64
		weight float64
	}
	idle := func(score float64) sig { return sig{detector.Idle, score, 1} }
	busy := func(score float64) sig { return sig{detector.NotIdle, score, 1} }
	tests := []struct {
		name      string
		sigs      []sig
		want      detector.State
		wantScore float64
	}{
		{name: "2 of 3, score 0.5", sigs: []sig{idle(0.5), idle(0.5), busy(0.5)}, want: detector.Idle, wantScore: 0.5},
		{name: "2 of 3, score under 0.5", sigs: []sig{idle(0.5), idle(0.5), busy(0.5 - 3.0/1024)}, want: detector.NotIdle, wantScore: 0.5 - 1.0/1024},
		{name: "tie 2 of 4, score 0.75", sigs: []sig{idle(1), idle(1), busy(0.5), busy(0.5)}, want: detector.NotIdle, wantScore: 0.75},
		{name: "tie 1 of 2, score 1", sigs: []sig{idle(1), busy(1)}, want: detector.NotIdle, wantScore: 1},
		{name: "3 of 5, score 0.6", sigs: []sig{idle(1), idle(1), idle(1), busy(0), busy(0)}, want: detector.Idle, wantScore: 0.6},
		{name: "zero weight idle vote breaks no tie", sigs: []sig{idle(1), busy(0), {detector.Idle, 1, 0}}, want: detector.NotIdle, wantScore: 0.5},
		{name: "zero weight busy vote breaks no majority", sigs: []sig{idle(1), idle(0.5), {detector.NotIdle, 0, 0}}, want: detector.Idle, wantScore: 0.75},
		{name: "only zero weights", sigs: []sig{{detector.Idle, 1, 0}, {detector.Idle, 1, 0}}, want: detector.Unknown},
		{name: "unknown votes nothing", sigs: []sig{idle(1), busy(0), {detector.Unknown, 1, 1}}, want: detector.NotIdle, wantScore: 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := make([]detector.Option, 0, len(tt.sigs))
			for i, s := range tt.sigs {
				opts = append(opts, detector.WithSignal(string(rune('a'+i)), s.weight, fixedVote(s.st, s.score)))
			}
			ens, err := detector.NewEnsemble(detector.EnsembleConfig{
				Weights:                 detector.Weights{Utilization: 1, Activity: 1, Schedule: 1},
				AllowWithoutUtilization: true,
			}, opts...)
			require.NoError(t, err)
			// No series and no activity: the built-in signals are unknown.
			v, err := ens.Detect(t.Context(), detector.Input{Now: now, Resource: res("vm", t0)})
			require.NoError(t, err)
			for _, name := range []string{detector.SignalUtilization, detector.SignalActivity, detector.SignalSchedule} {
				require.Equal(t, detector.Unknown, signal(t, v, name).State, name)
			}
			assert.Equal(t, tt.want, v.State, v.Explain())
			assert.InDelta(t, tt.wantScore, v.Score, 1e-12, v.Explain())
			for i, s := range tt.sigs {
				c := signal(t, v, string(rune('a'+i)))
				if s.weight == 0 || s.st == detector.Unknown || v.State == detector.Unknown {
					assert.Zero(t, c.Weight, c.Signal)
					assert.Zero(t, c.Value, c.Signal)
				}
			}
		})
	}
}

// TestUtilizationConfigAndWindowEdges pins the utilization signal's
// edges: thresholds of 0 and, for a utilization, 1 are accepted; the
// window is the Window before now; a step as long as the window is
// allowed; more reasons than its buffer holds are dropped, not a panic;
// and a metric that is not required and has no data adds no reason.
func TestUtilizationConfigAndWindowEdges(t *testing.T) {
	t.Parallel()
	require.NoError(t, detector.UtilizationConfig{Thresholds: map[provider.Metric]float64{provider.MetricCPU: 1, provider.MetricRequests: 0}}.Validate())
	require.Error(t, detector.UtilizationConfig{Thresholds: map[provider.Metric]float64{provider.MetricCPU: math.Nextafter(1, 2)}}.Validate())
	require.Error(t, detector.UtilizationConfig{Thresholds: map[provider.Metric]float64{provider.MetricRequests: math.Nextafter(0, -1)}}.Validate())

	now := t0.Add(48 * time.Hour)
	u, err := detector.NewUtilization(detector.UtilizationConfig{Window: 6 * time.Hour})
	require.NoError(t, err)
	cpu := synth("r", now.Add(-6*time.Hour), 6*time.Hour, 1, func(int) float64 { return 0.01 })
	v, err := u.Detect(t.Context(), detector.Input{Now: now, Resource: res("r", t0), Series: []provider.Series{cpu}})
	require.NoError(t, err, "a step as long as the window")
	assert.Equal(t, detector.Window{From: now.Add(-6 * time.Hour), To: now}, v.Window)
	cpu = synth("r", now.Add(-7*time.Hour), 7*time.Hour, 1, func(int) float64 { return 0.01 })
	_, err = u.Detect(t.Context(), detector.Input{Now: now, Resource: res("r", t0), Series: []provider.Series{cpu}})
	require.ErrorContains(t, err, "utilization.window")

	// Ten required metrics, every one missing: eight reasons, no panic.
	required := map[provider.Metric]float64{}
	var names []provider.Metric
	for _, m := range []provider.Metric{provider.MetricCPU, provider.MetricMemory, provider.MetricNetworkIn, provider.MetricNetworkOut, provider.MetricDiskRead, provider.MetricDiskWrite, provider.MetricRequests, provider.MetricConnections, provider.MetricInvocations, provider.MetricDiskUtilization} {
		required[m] = 0.5
		names = append(names, m)
	}
	many, err := detector.NewUtilization(detector.UtilizationConfig{Thresholds: required, Required: names})
	require.NoError(t, err)
	v, err = many.Detect(t.Context(), detector.Input{Now: now, Resource: res("r", t0)})
	require.NoError(t, err)
	assert.Equal(t, detector.Unknown, v.State)
	assert.Len(t, v.Reasons, 8)

	// Not required and without data: no reason (memory); with data but
	// stale: a reason.
	two, err := detector.NewUtilization(detector.UtilizationConfig{Thresholds: map[provider.Metric]float64{provider.MetricCPU: 0.1, provider.MetricMemory: 0.5}})
	require.NoError(t, err)
	cpu = synth("r", now.Add(-24*time.Hour), 5*time.Minute, 288, func(int) float64 { return 0.01 })
	v, err = two.Detect(t.Context(), detector.Input{Now: now, Resource: res("r", t0), Series: []provider.Series{cpu}})
	require.NoError(t, err)
	for _, r := range v.Reasons {
		assert.NotEqual(t, provider.MetricMemory, r.Metric, r.String())
	}
	stale := synth("r", now.Add(-30*time.Hour), 5*time.Minute, 288, func(int) float64 { return 0.2 })
	stale.Metric = provider.MetricMemory
	v, err = two.Detect(t.Context(), detector.Input{Now: now, Resource: res("r", t0), Series: []provider.Series{cpu, stale}})
	require.NoError(t, err)
	found := false
	for _, r := range v.Reasons {
		found = found || r.Metric == provider.MetricMemory && r.Code == detector.ReasonStale
	}
	assert.True(t, found, v.Explain())
}

// TestSingleSignalContribution pins the one contribution of a verdict
// from a single strategy: weight 1 and value = score when known, weight
// and value 0 when unknown; and a data-quality MinCoverage of exactly 1.
func TestSingleSignalContribution(t *testing.T) {
	t.Parallel()
	require.NoError(t, detector.DataQuality{MinCoverage: 1}.Validate())
	require.Error(t, detector.DataQuality{MinCoverage: math.Nextafter(1, 2)}.Validate())
	now := t0.Add(48 * time.Hour)
	u, err := detector.NewUtilization(detector.UtilizationConfig{})
	require.NoError(t, err)
	cpu := synth("r", now.Add(-24*time.Hour), 5*time.Minute, 288, func(int) float64 { return 0.02 })
	v, err := u.Detect(t.Context(), detector.Input{Now: now, Resource: res("r", t0), Series: []provider.Series{cpu}})
	require.NoError(t, err)
	require.Equal(t, detector.Idle, v.State)
	require.Len(t, v.Signals, 1)
	assert.Equal(t, detector.Contribution{Signal: detector.SignalUtilization, State: detector.Idle, Score: v.Score, Weight: 1, Value: v.Score}, v.Signals[0])
	v, err = u.Detect(t.Context(), detector.Input{Now: now, Resource: res("r", t0)})
	require.NoError(t, err)
	require.Len(t, v.Signals, 1)
	assert.Equal(t, detector.Contribution{Signal: detector.SignalUtilization, State: detector.Unknown}, v.Signals[0])
}

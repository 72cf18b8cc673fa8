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

func TestUtilizationTable(t *testing.T) {
	t.Parallel()
	now := t0.Add(48 * time.Hour)
	const n = 48 * 12
	series := func(m provider.Metric, f func(i int) float64) provider.Series {
		s := synth("r", t0, 5*time.Minute, n, f)
		s.Metric = m
		return s
	}
	idleCPU := series(provider.MetricCPU, func(i int) float64 { return 0.02 })
	spiky := series(provider.MetricCPU, func(i int) float64 { // 5 % of steps at 60 %
		if i%20 == 0 {
			return 0.6
		}
		return 0.02
	})
	lastHourBusy := series(provider.MetricCPU, func(i int) float64 {
		if i >= n-12 {
			return 0.5
		}
		return 0.02
	})
	gappy := series(provider.MetricCPU, func(i int) float64 {
		if i%3 == 0 {
			return 0.02
		}
		return math.NaN()
	})
	cliff := series(provider.MetricCPU, func(i int) float64 { // busy, then exact zeros for the last 30 h
		if i < n-360 {
			return 0.4
		}
		return 0
	})
	atThreshold := series(provider.MetricCPU, func(i int) float64 { // at the 10 % threshold, then exact zeros
		if i < n-360 {
			return 0.10
		}
		return 0
	})
	quietZeros := series(provider.MetricCPU, func(i int) float64 { // idle, then exact zeros
		if i < n-360 {
			return 0.01
		}
		return 0
	})
	allZeros := series(provider.MetricCPU, func(int) float64 { return 0 })
	busyMem := series(provider.MetricMemory, func(int) float64 { return 0.7 })
	noCPUData := series(provider.MetricCPU, func(int) float64 { return math.NaN() })
	noMemData := series(provider.MetricMemory, func(int) float64 { return math.NaN() })
	idleMem := series(provider.MetricMemory, func(int) float64 { return 0.05 })
	tests := []struct {
		name string
		cfg  detector.UtilizationConfig
		give []provider.Series
		want detector.State
		code detector.ReasonCode
	}{
		{"idle cpu", detector.UtilizationConfig{}, []provider.Series{idleCPU}, detector.Idle, detector.ReasonBelow},
		{"idle cpu and memory", detector.UtilizationConfig{}, []provider.Series{idleCPU, idleMem}, detector.Idle, detector.ReasonBelow},
		{"busy memory", detector.UtilizationConfig{}, []provider.Series{idleCPU, busyMem}, detector.NotIdle, ""},
		{"memory only: cpu required", detector.UtilizationConfig{}, []provider.Series{idleMem}, detector.Unknown, detector.ReasonMissing},
		{"cpu series without data: cpu required", detector.UtilizationConfig{}, []provider.Series{noCPUData, idleMem}, detector.Unknown, detector.ReasonMissing},
		{"memory series without data: not required", detector.UtilizationConfig{}, []provider.Series{idleCPU, noMemData}, detector.Idle, detector.ReasonBelow},
		{"spiky by mean", detector.UtilizationConfig{}, []provider.Series{spiky}, detector.Idle, detector.ReasonBelow},
		{"spiky by max", detector.UtilizationConfig{Statistics: map[provider.Metric]provider.Statistic{provider.MetricCPU: provider.StatMax}}, []provider.Series{spiky}, detector.NotIdle, detector.ReasonAbove},
		{"spiky by p99", detector.UtilizationConfig{Statistics: map[provider.Metric]provider.Statistic{provider.MetricCPU: "p99"}}, []provider.Series{spiky}, detector.NotIdle, detector.ReasonAbove},
		{"spiky by p90", detector.UtilizationConfig{Statistics: map[provider.Metric]provider.Statistic{provider.MetricCPU: "p90"}}, []provider.Series{spiky}, detector.Idle, detector.ReasonBelow},
		{"busy in the hold period", detector.UtilizationConfig{}, []provider.Series{lastHourBusy}, detector.NotIdle, detector.ReasonNotHeld},
		{"busy hour with a 10-minute hold", detector.UtilizationConfig{Hold: 10 * time.Minute, Window: 10 * time.Minute}, []provider.Series{lastHourBusy}, detector.NotIdle, detector.ReasonAbove},
		{"busy then exact zeros: suspect", detector.UtilizationConfig{}, []provider.Series{cliff}, detector.Unknown, detector.ReasonSuspectZeros},
		{"at the threshold then exact zeros: suspect", detector.UtilizationConfig{}, []provider.Series{atThreshold}, detector.Unknown, detector.ReasonSuspectZeros},
		{"busy then exact zeros, zeros trusted", detector.UtilizationConfig{Quality: detector.DataQuality{TrustZeros: true}}, []provider.Series{cliff}, detector.Idle, detector.ReasonBelow},
		{"idle then exact zeros: no cliff", detector.UtilizationConfig{}, []provider.Series{quietZeros}, detector.Idle, detector.ReasonBelow},
		{"zeros from the start: no cliff", detector.UtilizationConfig{}, []provider.Series{allZeros}, detector.Idle, detector.ReasonBelow},
		{"gappy", detector.UtilizationConfig{}, []provider.Series{gappy}, detector.Unknown, detector.ReasonGaps},
		{"gappy but allowed", detector.UtilizationConfig{Quality: detector.DataQuality{MinCoverage: 0.3}}, []provider.Series{gappy}, detector.Idle, detector.ReasonBelow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u, err := detector.NewUtilization(tt.cfg)
			require.NoError(t, err)
			v, err := u.Detect(t.Context(), detector.Input{Now: now, Resource: res("r", t0), Series: tt.give})
			require.NoError(t, err)
			assert.Equal(t, tt.want, v.State, v.Explain())
			if tt.code != "" {
				assert.Equal(t, tt.code, v.Reasons[0].Code, v.Explain())
			}
			switch v.State {
			case detector.Idle:
				assert.Greater(t, v.Score, 0.5)
			case detector.NotIdle:
				assert.LessOrEqual(t, v.Score, 0.5)
			}
		})
	}
}

func TestActivityTable(t *testing.T) {
	t.Parallel()
	now := t0
	vm := res("r", t0.Add(-48*time.Hour))
	a, err := detector.NewActivity(detector.ActivityConfig{})
	require.NoError(t, err)
	tests := []struct {
		name string
		give detector.Input
		want detector.State
	}{
		{"no data", detector.Input{Now: now, Resource: vm}, detector.Unknown},
		{"source error", detector.Input{Now: now, Resource: vm, ActivityErr: provider.ErrThrottled}, detector.Unknown},
		{"quiet", detector.Input{Now: now, Resource: vm, Activity: []provider.ActivityCount{{Kind: provider.ActivityLogins}}}, detector.Idle},
		{"recent login", detector.Input{Now: now, Resource: vm, Activity: []provider.ActivityCount{{Kind: provider.ActivityLogins, Count: 1, Last: now.Add(-time.Minute)}}}, detector.NotIdle},
		{"old events in a long window", detector.Input{Now: now, Resource: vm, ActivityFrom: now.Add(-24 * time.Hour), Activity: []provider.ActivityCount{{Kind: provider.ActivityDBQueries, Count: 500, Last: now.Add(-3 * time.Hour)}}}, detector.Idle},
		{"counts without times", detector.Input{Now: now, Resource: vm, Activity: []provider.ActivityCount{{Kind: provider.ActivityAPICalls, Count: 2}}}, detector.NotIdle},
		{"window shorter than quiet", detector.Input{Now: now, Resource: vm, ActivityFrom: now.Add(-5 * time.Minute), Activity: []provider.ActivityCount{{Kind: provider.ActivityLogins}}}, detector.Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := a.Detect(t.Context(), tt.give)
			require.NoError(t, err)
			assert.Equal(t, tt.want, v.State, v.Explain())
		})
	}
	// The last event exactly Quiet (30m) ago is quiet; a nanosecond later
	// it is recent. A kind counted 0 times is quiet and gives no "active"
	// reason.
	for _, tt := range []struct {
		last  time.Duration
		count float64
		want  detector.State
		codes []detector.ReasonCode
	}{
		{30 * time.Minute, 3, detector.Idle, []detector.ReasonCode{detector.ReasonActive, detector.ReasonQuiet}},
		{30*time.Minute - time.Nanosecond, 3, detector.NotIdle, []detector.ReasonCode{detector.ReasonActive}},
		{0, 0, detector.Idle, []detector.ReasonCode{detector.ReasonQuiet}},
	} {
		c := provider.ActivityCount{Kind: provider.ActivityLogins, Count: tt.count}
		if tt.last > 0 {
			c.Last = now.Add(-tt.last)
		}
		v, err := a.Detect(t.Context(), detector.Input{Now: now, Resource: vm, ActivityFrom: now.Add(-24 * time.Hour), Activity: []provider.ActivityCount{c}})
		require.NoError(t, err)
		assert.Equal(t, tt.want, v.State, "last event %s ago", tt.last)
		assert.Equal(t, tt.codes, codesOf(v), "last event %s ago", tt.last)
	}
	// The confidence of a busy verdict is 1 − its score: a login a
	// minute ago scores 0.49 (at most, whatever the count), confidence
	// 0.51.
	v, err := a.Detect(t.Context(), detector.Input{Now: now, Resource: vm, Activity: []provider.ActivityCount{{Kind: provider.ActivityLogins, Count: 1, Last: now.Add(-time.Minute)}}})
	require.NoError(t, err)
	assert.InDelta(t, 0.49, v.Score, 1e-12)
	assert.InDelta(t, 0.51, v.Confidence, 1e-12)

	// Score follows 1 − exp(−v/10) for a quiet-but-counted kind.
	v, err = a.Detect(t.Context(), detector.Input{Now: now, Resource: vm, ActivityFrom: now.Add(-24 * time.Hour), Activity: []provider.ActivityCount{{Kind: provider.ActivityFiles, Count: 5, Last: now.Add(-2 * time.Hour)}}})
	require.NoError(t, err)
	assert.InDelta(t, math.Exp(-0.5), v.Score, 1e-12)
}

// TestActivityQuietReadsTheCover: a count proves quiet only over the part
// of the window it covers (from its Since), and every counted kind
// without a last event must prove it: one kind's old last event does not
// vouch for another kind counted over five minutes.
func TestActivityQuietReadsTheCover(t *testing.T) {
	t.Parallel()
	now := t0
	vm := res("r", t0.Add(-48*time.Hour))
	a, err := detector.NewActivity(detector.ActivityConfig{}) // Quiet 30m
	require.NoError(t, err)
	day := now.Add(-24 * time.Hour)
	oldLogin := provider.ActivityCount{Kind: provider.ActivityLogins, Count: 4, Last: now.Add(-3 * time.Hour)}
	for _, tt := range []struct {
		name  string
		from  time.Time
		give  []provider.ActivityCount
		want  detector.State
		short time.Duration // the ReasonShortHistory's Duration, when Unknown; the ReasonQuiet's when Idle
	}{
		{"a day covered", day, []provider.ActivityCount{{Kind: provider.ActivityAPICalls}}, detector.Idle, 24 * time.Hour},
		{"since 30m ago", day, []provider.ActivityCount{{Kind: provider.ActivityAPICalls, Since: now.Add(-30 * time.Minute)}}, detector.Idle, 30 * time.Minute},
		{"since 29m59s ago", day, []provider.ActivityCount{{Kind: provider.ActivityAPICalls, Since: now.Add(-30*time.Minute + time.Second)}}, detector.Unknown, 30*time.Minute - time.Second},
		{"since now", day, []provider.ActivityCount{{Kind: provider.ActivityAPICalls, Since: now}}, detector.Unknown, 0},
		{"since before the window", now.Add(-time.Hour), []provider.ActivityCount{{Kind: provider.ActivityAPICalls, Since: day}}, detector.Idle, time.Hour},
		{"an old last event beside a short count", day, []provider.ActivityCount{{Kind: provider.ActivityAPICalls, Since: now.Add(-5 * time.Minute)}, oldLogin}, detector.Unknown, 5 * time.Minute},
		{"an old last event beside a short window", now.Add(-5 * time.Minute), []provider.ActivityCount{{Kind: provider.ActivityAPICalls}, oldLogin}, detector.Unknown, 5 * time.Minute},
		{"an old last event alone, a short cover", day, []provider.ActivityCount{{Kind: provider.ActivityLogins, Count: 4, Last: now.Add(-3 * time.Hour), Since: now.Add(-5 * time.Hour)}}, detector.Idle, 3 * time.Hour},
		{"an old last event in a day", day, []provider.ActivityCount{{Kind: provider.ActivityAPICalls}, oldLogin}, detector.Idle, 3 * time.Hour},
		{"a last event before the window", now.Add(-time.Hour), []provider.ActivityCount{{Kind: provider.ActivityLogins, Last: day}}, detector.Idle, time.Hour},
		// Every kind's last event known: no count's cover to prove, and
		// a window shorter than Quiet still reads quiet for Quiet (a
		// mutant reporting the 5-minute window lived).
		{"an old last event alone in a short window", now.Add(-5 * time.Minute), []provider.ActivityCount{oldLogin}, detector.Idle, 30 * time.Minute},
		{"use in a short cover", day, []provider.ActivityCount{{Kind: provider.ActivityAPICalls, Count: 1, Since: now.Add(-5 * time.Minute)}}, detector.NotIdle, 0},
	} {
		v, err := a.Detect(t.Context(), detector.Input{Now: now, Resource: vm, ActivityFrom: tt.from, Activity: tt.give})
		require.NoError(t, err, tt.name)
		assert.Equal(t, tt.want, v.State, "%s: %s", tt.name, v.Explain())
		switch tt.want {
		case detector.Unknown:
			r := reason(t, v, detector.ReasonShortHistory)
			assert.Equal(t, tt.short, r.Duration, tt.name)
			assert.InDelta(t, float64(30*time.Minute), r.Limit, 0, tt.name)
		case detector.Idle:
			// Quiet since the latest event, or over what the counts
			// cover: never longer than the data says.
			assert.Equal(t, tt.short, reason(t, v, detector.ReasonQuiet).Duration, tt.name)
		}
	}
	// A Since after now is refused.
	_, err = a.Detect(t.Context(), detector.Input{Now: now, Resource: vm, Activity: []provider.ActivityCount{{Kind: provider.ActivityLogins, Since: now.Add(time.Nanosecond)}}})
	require.ErrorIs(t, err, provider.ErrInvalid)
	assert.ErrorContains(t, err, "input.activity[0].since")
}

// Suspect zeros are missing data up to now too: a day at 5 % CPU, a step
// at or above the 10 % threshold, then the agent dies and the pipeline
// zero-fills the rest. The zeros follow that value with nothing in between
// and last longer than SuspectZeroRun (30m), so they are not fresh data:
// the last real value is older than MaxStaleness (30m) and the utilization
// is Unknown, saying the zeros are suspect, and so is the Ensemble. With
// 65 minutes of zeros the hold period (1h) holds nothing else; with 45 it
// still holds 15 minutes of real data, below the threshold on average,
// but the last of them is 45 minutes old. Zeros as long that follow idle
// values are real measurements. (A review found staleness measured on the
// zeros: Idle 0.948 for the first.)
func TestSuspectZerosUpToNowAreNotFreshData(t *testing.T) {
	t.Parallel()
	now := t0.Add(48 * time.Hour)
	const n = 48 * 12
	u, err := detector.NewUtilization(detector.UtilizationConfig{})
	require.NoError(t, err)
	e, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	for _, tt := range []struct {
		zeros int     // 5-minute steps of exact zeros up to now
		cliff float64 // the value right before them
		want  detector.State
	}{
		{13, 0.5, detector.Unknown},
		{9, 0.12, detector.Unknown},
		{13, 0.05, detector.Idle},
	} {
		s := synth("r", t0, 5*time.Minute, n, func(i int) float64 {
			switch {
			case i >= n-tt.zeros: // dead agent
				return 0
			case i == n-tt.zeros-1:
				return tt.cliff
			}
			return 0.05
		})
		in := detector.Input{Now: now, Resource: res("r", t0), Series: []provider.Series{s}}
		v, err := u.Detect(t.Context(), in)
		require.NoError(t, err)
		require.Equal(t, tt.want, v.State, "%d zeros after %v: %v", tt.zeros, tt.cliff, v.Explain())
		ve, err := e.Detect(t.Context(), in)
		require.NoError(t, err)
		if tt.want == detector.Idle {
			assert.Equal(t, detector.Idle, ve.State, ve.Explain())
			continue
		}
		r := reason(t, v, detector.ReasonSuspectZeros)
		assert.InDelta(t, tt.cliff, r.Value, 0, "the value the zeros follow")
		assert.Equal(t, time.Duration(tt.zeros)*5*time.Minute, r.Duration)
		assert.Equal(t, detector.Unknown, ve.State, "confidence %.3f: %v", ve.Confidence, ve.Explain())
		assert.Equal(t, detector.ActionNone, ve.Action)
	}
}

// A hold period without data makes the utilization Unknown: with a Hold of
// 10 minutes (shorter than MaxStaleness, 30m), the last values seen are
// 50 % CPU, 20 minutes ago, and the hold holds only gaps. Whether the
// machine stayed below the threshold is not known; the day's mean (2.5 %)
// does not stand in for it. The reason is a stale one whose limit is the
// hold. (A review found the hold fall back to the window's mean: Idle
// 0.989.)
func TestEmptyHoldIsUnknown(t *testing.T) {
	t.Parallel()
	now := t0.Add(48 * time.Hour)
	const n = 48 * 12
	s := synth("r", t0, 5*time.Minute, n, func(i int) float64 {
		switch {
		case i >= n-4: // last 20 minutes: no data
			return math.NaN()
		case i >= n-7: // 15 minutes at 50 % before that
			return 0.5
		}
		return 0.02
	})
	u, err := detector.NewUtilization(detector.UtilizationConfig{Hold: 10 * time.Minute})
	require.NoError(t, err)
	v, err := u.Detect(t.Context(), detector.Input{Now: now, Resource: res("r", t0), Series: []provider.Series{s}})
	require.NoError(t, err)
	require.Equal(t, detector.Unknown, v.State, "%.3f: %v", v.Confidence, v.Explain())
	r := reason(t, v, detector.ReasonStale)
	assert.Equal(t, 20*time.Minute, r.Duration, "the last data's age")
	assert.InDelta(t, float64(10*time.Minute), r.Limit, 0, "the hold")
	assert.Contains(t, v.Explain(), "utilization: last cpu sample is 20m0s old (limit 10m0s)")

	// With a step in the hold, the hold is judged on it.
	s.Values[n-1] = 0.5
	v, err = u.Detect(t.Context(), detector.Input{Now: now, Resource: res("r", t0), Series: []provider.Series{s}})
	require.NoError(t, err)
	assert.Equal(t, detector.NotIdle, v.State, v.Explain())
	assert.Equal(t, []detector.ReasonCode{detector.ReasonNotHeld}, codesOf(v))
}

// Every metric the utilization reads must vouch for idleness, not only the
// required ones: a memory series reading 90 % on 70 % of the window (below
// MinCoverage, 80 %) is measured load, which vetoes idleness however gappy
// it is: not idle, the load and the gaps both explained, and the Ensemble
// not idle either. Memory that fails the rules without load (gappy at 5 %,
// stale) cannot say it stayed below its threshold, and a memory read that
// failed hides what it would have shown: the utilization is Unknown. A
// required metric's bad data is Unknown whatever it shows, and a metric the
// source does not report (no series, no error) is not read. (A review
// found gappy busy memory ignored and the machine called idle on CPU
// alone.)
func TestEveryMetricWithDataMustVouchForIdleness(t *testing.T) {
	t.Parallel()
	now := t0.Add(48 * time.Hour)
	const n = 48 * 12
	cpu := synth("r", t0, 5*time.Minute, n, func(int) float64 { return 0.02 })
	memory := func(level float64, gap func(i int) bool) provider.Series {
		s := synth("r", t0, 5*time.Minute, n, func(i int) float64 {
			if gap(i) {
				return math.NaN()
			}
			return level
		})
		s.Metric = provider.MetricMemory
		return s
	}
	gappy := func(i int) bool { return i%10 < 3 }  // 30 % of the steps missing
	stale := func(i int) bool { return i >= n-12 } // nothing in the last hour
	none := func(int) bool { return false }
	busyCPU := memory(0.9, gappy)
	busyCPU.Metric = provider.MetricCPU
	u, err := detector.NewUtilization(detector.UtilizationConfig{})
	require.NoError(t, err)
	e, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	for _, tt := range []struct {
		name   string
		series []provider.Series
		errs   []detector.MetricError
		want   detector.State
		codes  []detector.ReasonCode
	}{
		{"busy gappy memory", []provider.Series{cpu, memory(0.9, gappy)}, nil, detector.NotIdle,
			[]detector.ReasonCode{detector.ReasonBelow, detector.ReasonAbove, detector.ReasonGaps}},
		{"busy stale memory", []provider.Series{cpu, memory(0.9, stale)}, nil, detector.NotIdle,
			[]detector.ReasonCode{detector.ReasonBelow, detector.ReasonAbove, detector.ReasonStale}},
		{"quiet gappy memory", []provider.Series{cpu, memory(0.05, gappy)}, nil, detector.Unknown,
			[]detector.ReasonCode{detector.ReasonBelow, detector.ReasonGaps}},
		{"quiet stale memory", []provider.Series{cpu, memory(0.05, stale)}, nil, detector.Unknown,
			[]detector.ReasonCode{detector.ReasonBelow, detector.ReasonStale}},
		{"memory read failed", []provider.Series{cpu}, []detector.MetricError{{Metric: provider.MetricMemory, Err: provider.ErrThrottled}}, detector.Unknown,
			[]detector.ReasonCode{detector.ReasonBelow, detector.ReasonSourceError}},
		{"quiet memory", []provider.Series{cpu, memory(0.05, none)}, nil, detector.Idle,
			[]detector.ReasonCode{detector.ReasonBelow, detector.ReasonBelow}},
		{"no memory at the source", []provider.Series{cpu}, nil, detector.Idle,
			[]detector.ReasonCode{detector.ReasonBelow}},
		{"busy gappy cpu: required", []provider.Series{busyCPU}, nil, detector.Unknown,
			[]detector.ReasonCode{detector.ReasonGaps}},
	} {
		in := detector.Input{Now: now, Resource: res("r", t0), Series: tt.series, MetricErrors: tt.errs}
		v, err := u.Detect(t.Context(), in)
		require.NoError(t, err)
		assert.Equal(t, tt.want, v.State, "%s: %.3f %v", tt.name, v.Confidence, v.Explain())
		assert.Equal(t, tt.codes, codesOf(v), "%s: %v", tt.name, v.Explain())
		if tt.want == detector.NotIdle {
			assert.LessOrEqual(t, v.Score, 0.5, tt.name)
			above := reason(t, v, detector.ReasonAbove)
			assert.Equal(t, provider.MetricMemory, above.Metric, tt.name)
			assert.InDelta(t, 0.9, above.Value, 1e-12, "%s: the mean of the data there is", tt.name)
		}
		ve, err := e.Detect(t.Context(), in)
		require.NoError(t, err)
		assert.Equal(t, tt.want, ve.State, "%s: ensemble %.3f %v", tt.name, ve.Confidence, ve.Explain())
		if tt.want != detector.Idle {
			assert.Equal(t, detector.ActionNone, ve.Action, tt.name)
		}
	}
}

// TestLoadAtTheThresholdVetoesIdleness: a metric that is not required
// and whose data fails the quality rules (gappy) still vetoes idleness
// when the data there is reaches its threshold — at it counts as load,
// as for good data — over the window or over the hold; only below it is
// the metric unknown.
func TestLoadAtTheThresholdVetoesIdleness(t *testing.T) {
	t.Parallel()
	now := t0.Add(48 * time.Hour)
	const n = 48 * 12
	cpu := synth("r", t0, 5*time.Minute, n, func(int) float64 { return 0.02 })
	// memory: the last hour (the hold) at hold, the hour before at before,
	// every other step at rest with 30 % of them missing (gappy).
	memory := func(rest, before, hold float64) provider.Series {
		s := synth("r", t0, 5*time.Minute, n, func(i int) float64 {
			switch {
			case i >= n-12:
				return hold
			case i >= n-24:
				return before
			case i%10 < 3:
				return math.NaN()
			}
			return rest
		})
		s.Metric = provider.MetricMemory
		return s
	}
	u, err := detector.NewUtilization(detector.UtilizationConfig{
		Thresholds: map[provider.Metric]float64{provider.MetricCPU: 0.10, provider.MetricMemory: 0.5},
	})
	require.NoError(t, err)
	for _, tt := range []struct {
		name   string
		memory provider.Series
		want   detector.State
		codes  []detector.ReasonCode
	}{
		// mean over the window exactly 0.5 (0.75 and 0.25 balance), the hold below
		{"window mean at the threshold", memory(0.5, 0.75, 0.25), detector.NotIdle,
			[]detector.ReasonCode{detector.ReasonBelow, detector.ReasonAbove, detector.ReasonGaps}},
		{"hold mean at the threshold", memory(0.25, 0.25, 0.5), detector.NotIdle,
			[]detector.ReasonCode{detector.ReasonBelow, detector.ReasonNotHeld, detector.ReasonGaps}},
		{"below the threshold", memory(0.25, 0.25, 0.25), detector.Unknown,
			[]detector.ReasonCode{detector.ReasonBelow, detector.ReasonGaps}},
	} {
		v, err := u.Detect(t.Context(), detector.Input{Now: now, Resource: res("r", t0), Series: []provider.Series{cpu, tt.memory}})
		require.NoError(t, err)
		assert.Equal(t, tt.want, v.State, "%s: %v", tt.name, v.Explain())
		assert.Equal(t, tt.codes, codesOf(v), "%s: %v", tt.name, v.Explain())
	}
}

// TestUtilizationStatisticsAreChecked: UtilizationConfig.Statistics
// compares a metric's mean, max or a percentile with its threshold, as
// its doc and the package doc say. Validate checked only that each
// statistic was one of provider's, so that min and last (one quiet step
// of a busy day is below the threshold: a machine at 60 % CPU whose job
// restarts every hour read idle), sum and count (never below it), a
// misspelled metric and a metric without a threshold (judging nothing)
// were accepted in silence. Each is an error naming the entry.
func TestUtilizationStatisticsAreChecked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		metric provider.Metric
		stat   provider.Statistic
	}{
		{"min", provider.MetricCPU, provider.StatMin},
		{"last", provider.MetricCPU, provider.StatLast},
		{"sum", provider.MetricCPU, provider.StatSum},
		{"count", provider.MetricCPU, provider.StatCount},
		{"unknown metric", "cpu_utilization", provider.StatMax},
		{"metric without a threshold", provider.MetricNetworkIn, provider.StatMax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := detector.UtilizationConfig{Statistics: map[provider.Metric]provider.Statistic{tt.metric: tt.stat}}
			for _, err := range []error{cfg.Validate(), func() error { _, err := detector.NewUtilization(cfg); return err }(),
				func() error { _, err := detector.NewEnsemble(detector.EnsembleConfig{Utilization: cfg}); return err }()} {
				var ie *provider.InvalidError
				require.ErrorAs(t, err, &ie)
				assert.Equal(t, "utilization.statistics."+string(tt.metric), ie.Field)
			}
		})
	}
	for _, st := range []provider.Statistic{"", provider.StatMean, provider.StatMax, provider.Percentile(95)} {
		require.NoError(t, detector.UtilizationConfig{Statistics: map[provider.Metric]provider.Statistic{provider.MetricCPU: st}}.Validate(), "%q", st)
	}
}

// TestUtilizationWindowChecksItsOwnSeries: the utilization signal refused
// an input when any of its series had a step longer than its window,
// though it reads only the metrics it has thresholds for: a host's signal
// reading its own series at two-day steps (the age of a resource's last
// backup, WithSignal) made every Detect of the ensemble fail, naming
// utilization.window. A series of its own metrics at such steps is still
// refused.
func TestUtilizationWindowChecksItsOwnSeries(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	cpu := synth("r", start, 5*time.Minute, 15*288, func(int) float64 { return 0.02 })
	backups := provider.Series{ResourceID: "r", Metric: "custom/backup_age", Start: start, Step: 48 * time.Hour, Values: []float64{1, 2, 3, 4, 5, 6, 7}}
	backup := detector.Func(func(_ context.Context, in detector.Input) (detector.Verdict, error) {
		s, ok := in.SeriesFor("custom/backup_age")
		require.True(t, ok)
		return detector.Verdict{ResourceID: in.Resource.ID, State: detector.Idle, Score: 1 - s.Values[len(s.Values)-1]/100}, nil
	})
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{}, detector.WithSignal("backup", 0.1, backup))
	require.NoError(t, err)
	v, err := ens.Detect(t.Context(), detector.Input{Now: cpu.End(), Resource: res("r", start), Series: []provider.Series{cpu, backups}})
	require.NoError(t, err)
	assert.Equal(t, detector.Idle, signal(t, v, detector.SignalUtilization).State, v.Explain())
	assert.Equal(t, detector.Idle, signal(t, v, "backup").State, v.Explain())

	daily := synth("r", start, 48*time.Hour, 7, func(int) float64 { return 0.02 })
	_, err = ens.Detect(t.Context(), detector.Input{Now: daily.End(), Resource: res("r", start), Series: []provider.Series{daily}})
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "utilization.window", ie.Field)
}

package detector_test

import (
	"cmp"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

func TestUtilizationNAB(t *testing.T) {
	t.Parallel()
	u, err := detector.NewUtilization(detector.UtilizationConfig{})
	require.NoError(t, err)
	tests := []struct {
		name string
		give string
		want detector.State
	}{
		{"idle c6585a", "c6585a", detector.Idle},
		{"idle 24ae8d", "24ae8d", detector.Idle},
		{"saturated 825cc2", "825cc2", detector.NotIdle},
		{"busy 5f5533", "5f5533", detector.NotIdle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := nabCPU(t, tt.give)
			now := s.End()
			in := detector.Input{Now: now, Resource: res(tt.give, s.Start), Series: []provider.Series{s}}
			// Every day of the trace, not only its end.
			for d := 1; d <= 13; d++ {
				in.Now = s.Start.Add(time.Duration(d) * 24 * time.Hour)
				v, err := u.Detect(t.Context(), in)
				require.NoError(t, err)
				assert.Equal(t, tt.want, v.State, "day %d: %v", d, v.Explain())
				assert.InDelta(t, 0.5, v.Confidence, 0.5)
			}
		})
	}
}

// TestBurstLeavesWindow77c1ca: 77c1ca is mostly idle but busy from
// 2014-04-09 to 04-11 (NAB's labelled anomaly window starts 04-08 17:30).
// With a 48 h look-back it must not be flagged while that burst is inside
// the window and must be flagged once it has left.
func TestBurstLeavesWindow77c1ca(t *testing.T) {
	t.Parallel()
	s := nabCPU(t, "77c1ca")
	u, err := detector.NewUtilization(detector.UtilizationConfig{Window: 48 * time.Hour})
	require.NoError(t, err)
	detect := func(now time.Time) detector.Verdict {
		v, err := u.Detect(t.Context(), detector.Input{Now: now, Resource: res("77c1ca", s.Start), Series: []provider.Series{s}})
		require.NoError(t, err)
		return v
	}
	// Burst inside the window: every hour of 04-10 12:00 … 04-12 12:00.
	for now := at(t, "2014-04-10 12:00"); !now.After(at(t, "2014-04-12 12:00")); now = now.Add(time.Hour) {
		v := detect(now)
		assert.Equal(t, detector.NotIdle, v.State, "%s: %v", now, v.Explain())
	}
	// Burst gone (window starts after 04-12 00:00): hourly through 04-14.
	flagged, total := 0, 0
	for now := at(t, "2014-04-14 01:00"); !now.After(at(t, "2014-04-14 23:00")); now = now.Add(time.Hour) {
		v := detect(now)
		total++
		if v.State == detector.Idle {
			flagged++
		} else {
			// Only the hold condition may keep it from being flagged: a
			// short spike within the last hour.
			assert.Equal(t, detector.ReasonNotHeld, v.Reasons[0].Code, "%s: %v", now, v.Explain())
		}
	}
	t.Logf("77c1ca: flagged idle at %d of %d hourly checks after the burst left the window", flagged, total)
	assert.GreaterOrEqual(t, flagged, total*2/3, "flagged %d of %d hours", flagged, total)
	v := detect(at(t, "2014-04-14 00:00"))
	assert.Equal(t, detector.Idle, v.State, v.Explain())

}

// TestEnsembleNeverStops77c1ca: 77c1ca idles around 0.1 % CPU but runs
// about 45 bursts above 90 % and a two-day busy stretch in its two weeks.
// A machine that does real work now and then is not a stop candidate: at
// every hourly check point of the trace, as recorded and played twice in a
// row (so that every point has a full evidence window), the ensemble
// recommends a schedule or nothing, never a stop or terminate — also with
// the 48 h look-back under which it calls the machine idle once the busy
// stretch has left the window.
func TestEnsembleNeverStops77c1ca(t *testing.T) {
	t.Parallel()
	s := nabCPU(t, "77c1ca")
	for _, cfg := range []detector.EnsembleConfig{{}, {Utilization: detector.UtilizationConfig{Window: 48 * time.Hour}}} {
		ens, err := detector.NewEnsemble(cfg)
		require.NoError(t, err)
		for _, series := range []provider.Series{s, tile(s, 2)} {
			idle, actions := 0, map[detector.Action]int{}
			for now := series.Start.Add(25 * time.Hour).Truncate(time.Hour); !now.After(series.End()); now = now.Add(time.Hour) {
				v, err := ens.Detect(t.Context(), detector.Input{Now: now, Resource: res("77c1ca", series.Start), Series: []provider.Series{series}})
				require.NoError(t, err)
				actions[v.Action]++
				if v.State == detector.Idle {
					idle++
				}
				require.Contains(t, []detector.Action{detector.ActionNone, detector.ActionSchedule}, v.Action, "%s: %v", now, v.Explain())
			}
			t.Logf("77c1ca (utilization window %v, %s of data): idle at %d check points, actions %v", cmp.Or(cfg.Utilization.Window, 24*time.Hour), series.End().Sub(series.Start), idle, actions)
			assert.Positive(t, idle, "the check points include idle verdicts, so the action rules were exercised")
		}
	}
}

// TestEnsembleNABEvidence runs the default ensemble over every NAB EC2 CPU
// trace in testdata/nab at every hourly point of its last 7 days. No trace
// with a sample above 50 % CPU in the evidence window is ever recommended
// a stop or terminate; the always-low traces (every sample below the 10 %
// idle threshold) still are, once the evidence is long enough.
//
// The traces are 14 days long: at a point in their last 7 days a 14-day
// evidence window holds 7 to 14 days of them. So each trace is checked
// three ways. As recorded, a stop must wait until the data covers 95 % of
// 14 days (the last 17 hours), and before that the action is none with the
// days still missing in the reasons. Played twice back to back (28 days),
// every point has a full window of real samples, so an always-low trace
// must be stopped at every point. As a detached volume judged on CPU,
// played three times (42 days) with activity data showing no use, the 28-day terminate window is full
// at every point: always-low traces are terminated, busy ones never.
func TestEnsembleNABEvidence(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(testdata("nab", "ec2_cpu_utilization_*.csv"))
	require.NoError(t, err)
	require.Len(t, files, 8, "the NAB EC2 CPU traces in testdata/nab")
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	onCPU, err := detector.NewEnsemble(detector.EnsembleConfig{Kinds: map[provider.Kind]detector.KindConfig{}})
	require.NoError(t, err)
	window, long := 14*24*time.Hour, 28*24*time.Hour
	low := 0
	for _, f := range files {
		id := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "ec2_cpu_utilization_"), ".csv")
		s := nabCPU(t, id)
		always := maxIn(s, s.Start, s.End()) < 0.10
		if always {
			low++
		}
		t.Run(id, func(t *testing.T) {
			t.Parallel()
			lastWeek := func(series provider.Series, check func(now time.Time)) {
				end := series.End()
				for now := end.Add(-7 * 24 * time.Hour).Add(time.Hour); !now.After(end); now = now.Add(time.Hour) {
					check(now)
				}
			}
			// As recorded.
			stops := 0
			lastWeek(s, func(now time.Time) {
				v, err := ens.Detect(t.Context(), detector.Input{Now: now, Resource: res(id, s.Start), Series: []provider.Series{s}})
				require.NoError(t, err)
				destructive := v.Action == detector.ActionStop || v.Action == detector.ActionTerminate
				if maxIn(s, now.Add(-window), now) > 0.5 {
					assert.False(t, destructive, "%s: a sample above 50 %% in the window: %v", now, v.Explain())
				}
				if !always {
					return
				}
				covered := float64(now.Sub(s.Start)) / float64(window)
				if covered >= 0.95 {
					assert.Equal(t, detector.ActionStop, v.Action, "%s: %v", now, v.Explain())
					stops++
				} else {
					assert.Equal(t, detector.ActionNone, v.Action, "%s: %v", now, v.Explain())
					assert.True(t, hasReason(v, detector.ReasonShortEvidence), "%s: the reasons say how many days are missing: %v", now, v.Explain())
				}
			})
			if always {
				assert.Equal(t, 17, stops, "stops only once 95 %% of 14 days hold data: the last 17 hourly points")
			}
			// Played twice: a full 14-day window at every point.
			twice := tile(s, 2)
			lastWeek(twice, func(now time.Time) {
				v, err := ens.Detect(t.Context(), detector.Input{Now: now, Resource: res(id, twice.Start), Series: []provider.Series{twice}})
				require.NoError(t, err)
				if maxIn(twice, now.Add(-window), now) > 0.5 {
					assert.NotContains(t, []detector.Action{detector.ActionStop, detector.ActionTerminate}, v.Action, "%s: %v", now, v.Explain())
				}
				if always {
					assert.Equal(t, detector.ActionStop, v.Action, "%s: %v", now, v.Explain())
				}
			})
			// As a detached volume (terminate), played three times, with
			// 28 days of activity data showing no logins and no API
			// calls, judged on CPU as every kind is with no per-kind
			// signals (EnsembleConfig.Kinds empty): the default judges a
			// volume on its bytes read and written.
			thrice := tile(s, 3)
			lastWeek(thrice, func(now time.Time) {
				vol := res(id, thrice.Start)
				vol.Kind, vol.State = provider.KindVolume, provider.StateStopped
				v, err := onCPU.Detect(t.Context(), detector.Input{Now: now, Resource: vol, Series: []provider.Series{thrice},
					ActivityFrom: now.Add(-long), Activity: []provider.ActivityCount{{Kind: provider.ActivityLogins}, {Kind: provider.ActivityAPICalls}}})
				require.NoError(t, err)
				if maxIn(thrice, now.Add(-long), now) > 0.5 {
					assert.NotContains(t, []detector.Action{detector.ActionStop, detector.ActionTerminate}, v.Action, "%s: %v", now, v.Explain())
				}
				if always {
					assert.Equal(t, detector.ActionTerminate, v.Action, "%s: %v", now, v.Explain())
				}
			})
		})
	}
	assert.Equal(t, 3, low, "c6585a, 24ae8d and 53ea38 stay below 10 %% CPU")
}

// maxIn returns the largest value of s in [from, to), NaN when none.
func maxIn(s provider.Series, from, to time.Time) float64 {
	m := math.NaN()
	for i, x := range s.Values {
		if t := s.TimeAt(i); t.Before(from) || !t.Before(to) || math.IsNaN(x) {
			continue
		}
		if math.IsNaN(m) || x > m {
			m = x
		}
	}
	return m
}

func hasReason(v detector.Verdict, code detector.ReasonCode) bool {
	for _, r := range v.Reasons {
		if r.Code == code {
			return true
		}
	}
	return false
}

// TestNASAOutageIsUnknown: the NASA-HTTP log has outage rows (Hurricane
// Erin, 1995-08-01 14:55 → 08-03 04:35, empty fields) and a zero-filled
// stretch 1995-07-28 13:35 → 07-31 23:55 (missing logs, not quiet). Both
// must be Unknown, never Idle; normal days are not idle.
func TestNASAOutageIsUnknown(t *testing.T) {
	t.Parallel()
	s := nasaRequests(t)
	u, err := detector.NewUtilization(detector.UtilizationConfig{
		Thresholds: map[provider.Metric]float64{provider.MetricRequests: 0.05},
		Required:   []provider.Metric{provider.MetricRequests},
		Window:     6 * time.Hour,
	})
	require.NoError(t, err)
	edt := time.FixedZone("EDT", -4*3600)
	detect := func(now time.Time) detector.Verdict {
		v, err := u.Detect(t.Context(), detector.Input{Now: now, Resource: res("nasa", s.Start), Series: []provider.Series{s}})
		require.NoError(t, err)
		return v
	}
	hourly := func(from, to time.Time, want detector.State, code detector.ReasonCode) {
		n := 0
		defer func() { t.Logf("%s → %s: %d checks, want %s", from, to, n, want) }()
		for now := from; !now.After(to); now = now.Add(time.Hour) {
			n++
			v := detect(now)
			if assert.Equal(t, want, v.State, "%s: %v", now, v.Explain()) && code != "" {
				assert.Equal(t, code, v.Reasons[0].Code, "%s: %v", now, v.Explain())
			}
		}
	}
	// Zero-filled days: once the window is inside the zeros.
	hourly(time.Date(1995, 7, 28, 16, 0, 0, 0, edt), time.Date(1995, 7, 31, 23, 0, 0, 0, edt), detector.Unknown, detector.ReasonSuspectZeros)
	// Outage rows: stale, then too gappy.
	hourly(time.Date(1995, 8, 1, 16, 0, 0, 0, edt), time.Date(1995, 8, 3, 4, 0, 0, 0, edt), detector.Unknown, "")
	// A normal week in July is busy.
	hourly(time.Date(1995, 7, 10, 0, 0, 0, 0, edt), time.Date(1995, 7, 12, 0, 0, 0, 0, edt), detector.NotIdle, detector.ReasonAbove)
	// With zeros trusted (a host that knows its zeros are real) the same
	// stretch would look idle: the suspect-zero rule is what protects it.
	trusting, err := detector.NewUtilization(detector.UtilizationConfig{
		Thresholds: map[provider.Metric]float64{provider.MetricRequests: 0.05},
		Required:   []provider.Metric{provider.MetricRequests},
		Window:     6 * time.Hour,
		Quality:    detector.DataQuality{TrustZeros: true},
	})
	require.NoError(t, err)
	v, err := trusting.Detect(t.Context(), detector.Input{Now: time.Date(1995, 7, 30, 12, 0, 0, 0, edt), Resource: res("nasa", s.Start), Series: []provider.Series{s}})
	require.NoError(t, err)
	assert.Equal(t, detector.Idle, v.State, v.Explain())
}

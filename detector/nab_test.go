package detector_test

import (
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

	// The ensemble with the same look-back (no activity data for NAB:
	// utilization and the hour-of-week signal vote) never calls it idle
	// while the burst is in the window.
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{Utilization: detector.UtilizationConfig{Window: 48 * time.Hour}})
	require.NoError(t, err)
	for now := at(t, "2014-04-10 12:00"); !now.After(at(t, "2014-04-12 12:00")); now = now.Add(time.Hour) {
		v, err := ens.Detect(t.Context(), detector.Input{Now: now, Resource: res("77c1ca", s.Start), Series: []provider.Series{s}})
		require.NoError(t, err)
		assert.Equal(t, detector.NotIdle, v.State, "%s: %v", now, v.Explain())
		assert.Equal(t, detector.ActionNone, v.Action, "%s: %v", now, v.Explain())
	}
	flagged, total = 0, 0
	for now := at(t, "2014-04-14 01:00"); !now.After(at(t, "2014-04-14 23:00")); now = now.Add(time.Hour) {
		v, err := ens.Detect(t.Context(), detector.Input{Now: now, Resource: res("77c1ca", s.Start), Series: []provider.Series{s}})
		require.NoError(t, err)
		total++
		if v.State == detector.Idle {
			flagged++
		}
	}
	t.Logf("77c1ca: the ensemble calls it idle at %d of %d hourly checks after the burst left the window", flagged, total)
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

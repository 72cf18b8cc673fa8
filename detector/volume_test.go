package detector_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// TestVolumeJudgedOnItsBytes: the default ensemble judges a volume on the
// bytes written to and read from it, both required (one only ever
// written to, a log or a backup target, is in use), and recommends
// terminating only a detached one (stopped): an attached volume serves its
// instance, which is judged on its own, and EBS refuses to delete it.
func TestVolumeJudgedOnItsBytes(t *testing.T) {
	t.Parallel()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	day := 24 * time.Hour
	long := 28 * day
	quiet28 := days(28, quiet)
	reads, writes := noEvents(quiet28, provider.MetricDiskRead), noEvents(quiet28, provider.MetricDiskWrite)
	unused := []provider.ActivityCount{{Kind: provider.ActivityFiles}}
	used := func(ago time.Duration) []provider.ActivityCount {
		return []provider.ActivityCount{{Kind: provider.ActivityFiles, Count: 1, Last: tEnd.Add(-ago)}}
	}
	detect := func(state provider.State, act []provider.ActivityCount, s ...provider.Series) detector.Verdict {
		r := res("r", quiet28.Start)
		r.Kind, r.State = provider.KindVolume, state
		v, err := ens.Detect(t.Context(), detector.Input{Now: tEnd, Resource: r, Series: s, ActivityFrom: tEnd.Add(-long), Activity: act})
		require.NoError(t, err)
		return v
	}
	detached, attached := provider.StateStopped, provider.StateRunning
	tests := []struct {
		name   string
		give   detector.Verdict
		state  detector.State
		action detector.Action
		code   detector.ReasonCode // a reason the verdict must give
	}{
		{"detached, no byte in 28 days", detect(detached, unused, reads, writes), detector.Idle, detector.ActionTerminate, detector.ReasonNoUse},
		{"attached, no byte in 28 days", detect(attached, unused, reads, writes), detector.Idle, detector.ActionNone, detector.ReasonAttached},
		{"detached, written 20 days ago", detect(detached, used(20*day), reads, eventAt(writes, tEnd.Add(-20*day))),
			detector.Idle, detector.ActionNone, detector.ReasonUsed},
		// The activity source counted nothing: the bytes alone forbid it.
		{"detached, read 20 days ago, activity unused", detect(detached, unused, eventAt(reads, tEnd.Add(-20*day)), writes),
			detector.Idle, detector.ActionNone, detector.ReasonPeak},
		{"detached, written 3 hours ago", detect(detached, used(3*time.Hour), reads, eventAt(writes, tEnd.Add(-3*time.Hour))),
			detector.NotIdle, detector.ActionNone, detector.ReasonAbove},
		{"detached, read 30 minutes ago", detect(detached, used(30*time.Minute), eventAt(reads, tEnd.Add(-30*time.Minute)), writes),
			detector.NotIdle, detector.ActionNone, detector.ReasonAbove},
		{"reads only", detect(detached, unused, reads), detector.Unknown, detector.ActionNone, detector.ReasonMissing},
		{"writes only", detect(detached, unused, writes), detector.Unknown, detector.ActionNone, detector.ReasonMissing},
		{"bytes read as gaps", detect(detached, unused), detector.Unknown, detector.ActionNone, detector.ReasonMissing},
		{"CPU but no bytes", detect(detached, unused, quiet28), detector.Unknown, detector.ActionNone, detector.ReasonMissing},
		{"detached, no activity data", detect(detached, nil, reads, writes), detector.Idle, detector.ActionNone, detector.ReasonNoUse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.state, tt.give.State, tt.give.Explain())
			assert.Equal(t, tt.action, tt.give.Action, tt.give.Explain())
			r := reason(t, tt.give, tt.code)
			if tt.code == detector.ReasonAttached {
				assert.Equal(t, detector.ActionTerminate, r.Action)
				assert.Equal(t, "evidence: the volume is in use (attached to an instance, or held by a claim): terminate needs it detached or released (judge what uses it)", r.String())
				assert.Zero(t, tt.give.MonthlySavings, "no action, no saving")
			}
		})
	}
	v := detect(detached, unused, reads, writes)
	assert.InDelta(t, 0.1*detector.HoursPerMonth, v.MonthlySavings, 1e-9, "a detached volume's saving is its whole cost")
	// The reasons name the metric judged, at the kind's threshold.
	above := reason(t, detect(detached, used(3*time.Hour), reads, eventAt(writes, tEnd.Add(-3*time.Hour))), detector.ReasonAbove)
	assert.Equal(t, provider.MetricDiskWrite, above.Metric)
	assert.InDelta(t, detector.IdleEventRate, above.Limit, 0)

	// Only a stopped volume is detached: one pending (on its way to
	// running, attached, as the memory cloud's pending volume is after
	// its StartDelay) or stopping (still attached, being detached) is
	// not terminated, nor is one whose driver sets no state it knows.
	for _, s := range []provider.State{provider.StatePending, provider.StateStopping} {
		v := detect(s, unused, reads, writes)
		assert.Equal(t, detector.ActionNone, v.Action, "%s: %v", s, v.Explain())
		reason(t, v, detector.ReasonAttached)
	}
	// An instance is never "attached": an idle one is stopped.
	r := res("r", quiet28.Start)
	v, err = ens.Detect(t.Context(), detector.Input{Now: tEnd, Resource: r, Series: []provider.Series{quiet28}, ActivityFrom: tEnd.Add(-long), Activity: unused})
	require.NoError(t, err)
	assert.Equal(t, detector.ActionStop, v.Action, v.Explain())
}

// TestEnsembleFromItsConfigBoundsItsKinds: an ensemble made from another's
// Config() (the defaults filled in: its PeakBounds are no longer nil), or
// from that configuration read back from JSON, bounds its kinds' counts
// as the first did: a detached volume read once 20 days ago, a function
// invoked once then, are not terminated on the word of an activity source
// that counts neither. Before, the filled-in bounds read as explicit ones,
// the kinds' own bounds were dropped, and both were terminated (a volume's
// reads bounded only by DefaultDiskBounds, a function's invocations not
// at all).
func TestEnsembleFromItsConfigBoundsItsKinds(t *testing.T) {
	t.Parallel()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	again, err := detector.NewEnsemble(ens.Config())
	require.NoError(t, err)
	b, err := json.Marshal(ens.Config())
	require.NoError(t, err)
	var read detector.EnsembleConfig
	require.NoError(t, json.Unmarshal(b, &read))
	fromJSON, err := detector.NewEnsemble(read)
	require.NoError(t, err)
	day := 24 * time.Hour
	quiet28 := days(28, quiet)
	reads, writes := noEvents(quiet28, provider.MetricDiskRead), noEvents(quiet28, provider.MetricDiskWrite)
	calls := noEvents(quiet28, provider.MetricInvocations)
	unused := []provider.ActivityCount{{Kind: provider.ActivityFiles}}
	detect := func(e *detector.Ensemble, kind provider.Kind, s ...provider.Series) detector.Verdict {
		r := res("r", quiet28.Start)
		r.Kind, r.State = kind, provider.StateStopped
		v, err := e.Detect(t.Context(), detector.Input{Now: tEnd, Resource: r, Series: s, ActivityFrom: tEnd.Add(-28 * day), Activity: unused})
		require.NoError(t, err)
		return v
	}
	for name, e := range map[string]*detector.Ensemble{"Config()": again, "Config() through JSON": fromJSON} {
		v := detect(e, provider.KindVolume, eventAt(reads, tEnd.Add(-20*day)), writes)
		assert.Equal(t, detector.ActionNone, v.Action, "%s: volume: %v", name, v.Explain())
		reason(t, v, detector.ReasonPeak)
		v = detect(e, provider.KindFunction, eventAt(calls, tEnd.Add(-20*day)))
		assert.Equal(t, detector.ActionNone, v.Action, "%s: function: %v", name, v.Explain())
		reason(t, v, detector.ReasonPeak)
		v = detect(e, provider.KindVolume, reads, writes)
		assert.Equal(t, detector.ActionTerminate, v.Action, "%s: an unread volume still is: %v", name, v.Explain())
	}
}

// TestVolumeKindBoundsAreTheStricter: where a kind's own thresholds and
// the default bounds (DefaultDiskBounds) both bound a volume's bytes, the
// stricter of each statistic holds, p99 and max apart. With thresholds
// of 10 MB/s, looser than the defaults, a detached volume read at 1 MB/s
// in 2 % of its steps (p99 above DefaultDiskBounds' 100 kB/s) or at
// 15 MB/s in one (max above their 10 MB/s) is not terminated; with
// thresholds of 50 kB/s, stricter, one read at 80 kB/s in 2 % of its
// steps (p99 above 50 kB/s, max below 100 kB/s) is not either. Unread,
// each is.
func TestVolumeKindBoundsAreTheStricter(t *testing.T) {
	t.Parallel()
	withThreshold := func(th float64) *detector.Ensemble {
		kc := detector.DefaultKinds()[provider.KindVolume]
		kc.Utilization.Thresholds = map[provider.Metric]float64{provider.MetricDiskRead: th, provider.MetricDiskWrite: th}
		kc.Schedule.Threshold = th
		e, err := detector.NewEnsemble(detector.EnsembleConfig{Kinds: map[provider.Kind]detector.KindConfig{provider.KindVolume: kc}})
		require.NoError(t, err)
		return e
	}
	loose, strict := withThreshold(10e6), withThreshold(50e3)
	quiet28 := days(28, quiet)
	writes := noEvents(quiet28, provider.MetricDiskWrite)
	readsAt := func(f func(i int) float64) provider.Series {
		s := noEvents(quiet28, provider.MetricDiskRead)
		for i := range s.Values {
			s.Values[i] = f(i)
		}
		return s
	}
	every50th := func(x float64) provider.Series {
		return readsAt(func(i int) float64 {
			if i%50 == 0 {
				return x
			}
			return 0
		})
	}
	once := func(x float64) provider.Series {
		return readsAt(func(i int) float64 {
			if i == 1000 {
				return x
			}
			return 0
		})
	}
	unused := []provider.ActivityCount{{Kind: provider.ActivityFiles}}
	detect := func(e *detector.Ensemble, reads provider.Series) detector.Verdict {
		r := res("r", quiet28.Start)
		r.Kind, r.State = provider.KindVolume, provider.StateStopped
		v, err := e.Detect(t.Context(), detector.Input{Now: tEnd, Resource: r, Series: []provider.Series{reads, writes},
			ActivityFrom: tEnd.Add(-28 * 24 * time.Hour), Activity: unused})
		require.NoError(t, err)
		return v
	}
	for _, tt := range []struct {
		name  string
		e     *detector.Ensemble
		reads provider.Series
		stat  provider.Statistic
		limit float64
	}{
		{"10 MB/s thresholds, p99 1 MB/s", loose, every50th(1e6), provider.Percentile(99), 100e3},
		{"10 MB/s thresholds, max 15 MB/s", loose, once(15e6), provider.StatMax, 10e6},
		{"50 kB/s thresholds, p99 80 kB/s", strict, every50th(80e3), provider.Percentile(99), 50e3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := detect(tt.e, tt.reads)
			assert.Equal(t, detector.ActionNone, v.Action, v.Explain())
			r := reason(t, v, detector.ReasonPeak)
			assert.Equal(t, provider.MetricDiskRead, r.Metric)
			assert.Equal(t, tt.stat, r.Statistic)
			assert.InDelta(t, tt.limit, r.Limit, 0)
			v = detect(tt.e, readsAt(func(int) float64 { return 0 }))
			assert.Equal(t, detector.ActionTerminate, v.Action, "unread: %v", v.Explain())
		})
	}
}

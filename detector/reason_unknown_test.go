package detector_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// allCodes are the built-in reason codes and a custom one.
var allCodes = []detector.ReasonCode{detector.ReasonBelow, detector.ReasonAbove, detector.ReasonNotHeld, detector.ReasonMissing, detector.ReasonGaps, detector.ReasonStale, detector.ReasonSuspectZeros, detector.ReasonSourceError, detector.ReasonYoung, detector.ReasonQuiet, detector.ReasonActive, detector.ReasonNoActivity, detector.ReasonIdleHours, detector.ReasonBusyHours, detector.ReasonPeakHour, detector.ReasonUnseenHour, detector.ReasonShortHistory, detector.ReasonModel, detector.ReasonVote, detector.ReasonRule, detector.ReasonBelowConf, detector.ReasonReadFailed, detector.ReasonEvidence, detector.ReasonShortEvidence, detector.ReasonPeak, detector.ReasonBelowBound, detector.ReasonWeek, detector.ReasonThinHours, detector.ReasonUnseenHours, detector.ReasonVeto, detector.ReasonAbstained, detector.ReasonNoProfile, detector.ReasonIrregular, detector.ReasonNoPattern, detector.ReasonSmallSaving, detector.ReasonNoUse, detector.ReasonUsed, detector.ReasonInUse, detector.ReasonCoarse, detector.ReasonFits, detector.ReasonTooBig, detector.ReasonAttached, "cost_center"}

// fullReason returns a reason with code c and every field but Err set.
func fullReason(t *testing.T, c detector.ReasonCode) detector.Reason {
	t.Helper()
	var hours detector.WeekHours
	hours.Add(3)
	hours.Add(100)
	r := detector.Reason{Signal: "evidence", Code: c, Metric: provider.MetricCPU, Statistic: "p99", Kind: provider.ActivityLogins,
		Value: 0.25, Limit: 0.5, Duration: 14 * 24 * time.Hour, Action: detector.ActionStop,
		Stats: detector.Stats{Mean: 0.01, P95: 0.02, P99: 0.03, Max: 0.04}, Hours: hours}
	// A field added to Reason must be set here so that the round trips
	// below cover it.
	rv := reflect.ValueOf(r)
	for i := range rv.NumField() {
		if name := rv.Type().Field(i).Name; name != "Err" {
			require.False(t, rv.Field(i).IsZero(), "fixture leaves %s unset", name)
		}
	}
	return r
}

// sameFloat reports whether a and b are equal or both NaN.
func sameFloat(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

// assertSameReason checks that got equals want, NaN comparing equal to
// NaN.
func assertSameReason(t *testing.T, want, got detector.Reason) {
	t.Helper()
	for _, f := range []struct {
		name      string
		want, got float64
	}{
		{"value", want.Value, got.Value}, {"limit", want.Limit, got.Limit},
		{"stats.mean", want.Stats.Mean, got.Stats.Mean}, {"stats.p95", want.Stats.P95, got.Stats.P95},
		{"stats.p99", want.Stats.P99, got.Stats.P99}, {"stats.max", want.Stats.Max, got.Stats.Max},
	} {
		assert.True(t, sameFloat(f.want, f.got), "%s: want %v, got %v", f.name, f.want, f.got)
	}
	want.Value, want.Limit, want.Stats = 0, 0, detector.Stats{}
	got.Value, got.Limit, got.Stats = 0, 0, detector.Stats{}
	assert.Equal(t, want, got)
}

// unknownFields sets one float field of a reason to NaN.
var unknownFields = []struct {
	name string // its JSON path
	set  func(r *detector.Reason)
}{
	{"value", func(r *detector.Reason) { r.Value = math.NaN() }},
	{"limit", func(r *detector.Reason) { r.Limit = math.NaN() }},
	{"stats.mean", func(r *detector.Reason) { r.Stats.Mean = math.NaN() }},
	{"stats.p95", func(r *detector.Reason) { r.Stats.P95 = math.NaN() }},
	{"stats.p99", func(r *detector.Reason) { r.Stats.P99 = math.NaN() }},
	{"stats.max", func(r *detector.Reason) { r.Stats.Max = math.NaN() }},
}

// jsonAt returns the value at a dotted path of a JSON object and whether
// the path is present.
func jsonAt(t *testing.T, b []byte, path string) (any, bool) {
	t.Helper()
	var obj map[string]any
	require.NoError(t, json.Unmarshal(b, &obj), "%s", b)
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		sub, ok := obj[p].(map[string]any)
		require.True(t, ok, "%s is not an object in %s", p, b)
		obj = sub
	}
	v, ok := obj[parts[len(parts)-1]]
	return v, ok
}

// TestReasonJSONUnknown: a NaN (not known) in any float field of a reason
// of any code encodes as null, leaves the other fields numbers, and
// decodes back to an equal reason. Before, json.Marshal failed on it.
func TestReasonJSONUnknown(t *testing.T) {
	t.Parallel()
	for _, c := range allCodes {
		for _, f := range unknownFields {
			want := fullReason(t, c)
			f.set(&want)
			b, err := json.Marshal(want)
			require.NoError(t, err, "%s with %s NaN", c, f.name)
			for _, g := range unknownFields {
				v, ok := jsonAt(t, b, g.name)
				require.True(t, ok, "%s absent from %s", g.name, b)
				if g.name == f.name {
					assert.Nil(t, v, "%s: %s", g.name, b)
				} else {
					assert.IsType(t, float64(0), v, "%s: %s", g.name, b)
				}
			}
			text, _ := jsonAt(t, b, "text")
			assert.Equal(t, want.String(), text)
			assert.NotContains(t, string(b), "NaN")
			var got detector.Reason
			require.NoError(t, json.Unmarshal(b, &got), "%s", b)
			assertSameReason(t, want, got)
		}
		// All of them at once.
		want := fullReason(t, c)
		for _, f := range unknownFields {
			f.set(&want)
		}
		b, err := json.Marshal(want)
		require.NoError(t, err, "%s with every float NaN", c)
		var got detector.Reason
		require.NoError(t, json.Unmarshal(b, &got), "%s", b)
		assertSameReason(t, want, got)
		// And none: known figures stay numbers and round-trip exactly.
		want = fullReason(t, c)
		want.Value, want.Limit = 1e-7, -2.5e21
		b, err = json.Marshal(want)
		require.NoError(t, err)
		got = detector.Reason{}
		require.NoError(t, json.Unmarshal(b, &got), "%s", b)
		assert.Equal(t, want, got)
	}
}

// TestReasonJSONFields pins what decoding keeps of today's behaviour: an
// absent field is zero (an absent "stats" is the zero Stats, not NaNs),
// "text" and "error" are not read back, Err does not round-trip, a
// malformed field is an error.
func TestReasonJSONFields(t *testing.T) {
	t.Parallel()
	var r detector.Reason
	require.NoError(t, json.Unmarshal([]byte(`{"signal":"evidence","code":"evidence","metric":"cpu","text":"ignored","error":"ignored"}`), &r))
	assert.Equal(t, detector.Reason{Signal: "evidence", Code: detector.ReasonEvidence, Metric: provider.MetricCPU}, r, "absent floats are 0, absent stats the zero Stats")

	r = detector.Reason{}
	require.NoError(t, json.Unmarshal([]byte(`{"code":"evidence","stats":null,"value":null}`), &r))
	assert.Equal(t, detector.Stats{}, r.Stats, "a null stats object is no statistics")
	assert.True(t, math.IsNaN(r.Value), "a null value is not known")
	assert.Zero(t, r.Limit)

	r = detector.Reason{}
	require.NoError(t, json.Unmarshal([]byte(`{"code":"evidence","stats":{"mean":0.5,"p99":null}}`), &r))
	assert.InDelta(t, 0.5, r.Stats.Mean, 0)
	assert.True(t, math.IsNaN(r.Stats.P99))
	assert.Zero(t, r.Stats.P95, "an absent statistic is 0")
	assert.Zero(t, r.Stats.Max)

	// A zero Stats is still left out (omitzero); a Stats of NaNs is not.
	b, err := json.Marshal(detector.Reason{Signal: "x", Code: detector.ReasonMissing})
	require.NoError(t, err)
	_, ok := jsonAt(t, b, "stats")
	assert.False(t, ok, "%s", b)
	b, err = json.Marshal(detector.Reason{Signal: "x", Code: detector.ReasonEvidence, Stats: detector.Stats{Mean: math.NaN(), P95: math.NaN(), P99: math.NaN(), Max: math.NaN()}})
	require.NoError(t, err)
	assert.Contains(t, string(b), `"stats":{"mean":null,"p95":null,"p99":null,"max":null}`)

	// Stats alone encodes and decodes the same way.
	b, err = json.Marshal(detector.Stats{Mean: 1, P95: math.NaN(), P99: 3, Max: 4})
	require.NoError(t, err)
	assert.JSONEq(t, `{"mean":1,"p95":null,"p99":3,"max":4}`, string(b))
	var s detector.Stats
	require.NoError(t, json.Unmarshal(b, &s))
	assert.InDelta(t, 1.0, s.Mean, 0)
	assert.True(t, math.IsNaN(s.P95))

	// Err is not encoded as a field; its message goes to "error" and is
	// not decoded back.
	src := detector.Reason{Signal: "utilization", Code: detector.ReasonSourceError, Metric: provider.MetricCPU, Value: math.NaN(), Err: errors.New("boom")}
	b, err = json.Marshal(src)
	require.NoError(t, err)
	msg, _ := jsonAt(t, b, "error")
	assert.Equal(t, "boom", msg)
	text, _ := jsonAt(t, b, "text")
	assert.Equal(t, "utilization: reading cpu failed: boom", text)
	r = detector.Reason{}
	require.NoError(t, json.Unmarshal(b, &r))
	require.NoError(t, r.Err)
	src.Err = nil
	assertSameReason(t, src, r)

	// Malformed input is an error naming the field, not a silent NaN or
	// zero.
	for _, tt := range []struct{ give, want string }{
		{`{"value":"x"}`, "Go struct field Reason.value of type float64"},
		{`{"limit":true}`, "Go struct field Reason.limit of type float64"},
		{`{"stats":{"p95":"NaN"}}`, "Go struct field Reason.stats.p95 of type float64"},
		{`{"stats":[1]}`, "Go struct field Reason.stats of type detector.Stats"},
		{`[]`, "Go value of type detector.Reason"},
		{`{"code":"Peak"}`, `reason.code "Peak"`},
	} {
		r = detector.Reason{}
		err := json.Unmarshal([]byte(tt.give), &r)
		require.Error(t, err, "%s", tt.give)
		assert.Contains(t, err.Error(), tt.want)
	}
	var bad detector.Verdict
	err = json.Unmarshal([]byte(`{"reasons":[{"stats":{"max":"x"}}]}`), &bad)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Go struct field Verdict.reasons.stats.max of type float64")
	r = detector.Reason{}
	require.ErrorIs(t, json.Unmarshal([]byte(`{"code":"Peak"}`), &r), provider.ErrInvalid)
	// An infinity is not "not known": it stays an encoding error.
	_, err = json.Marshal(detector.Reason{Code: detector.ReasonModel, Value: math.Inf(1)})
	require.Error(t, err)
}

// TestVerdictJSONUnknown: a verdict and the verdicts of a Tracker's
// incremental path (whose percentiles are NaN) marshal and round-trip.
func TestVerdictJSONUnknown(t *testing.T) {
	t.Parallel()
	ev := detector.Reason{Signal: "evidence", Code: detector.ReasonEvidence, Metric: provider.MetricCPU, Value: 1, Duration: 14 * 24 * time.Hour,
		Stats: detector.Stats{Mean: 0.02, P95: math.NaN(), P99: math.NaN(), Max: 0.05}}
	peak := detector.Reason{Signal: "evidence", Code: detector.ReasonBelowBound, Metric: provider.MetricCPU, Statistic: "p99", Action: detector.ActionStop,
		Value: math.NaN(), Limit: 0.1, Duration: 14 * 24 * time.Hour}
	v := detector.Verdict{ResourceID: "i-1", State: detector.Idle, Score: 0.9, Confidence: 0.9, Reasons: []detector.Reason{ev, peak}, Action: detector.ActionStop}
	b, err := json.Marshal(v)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "NaN")
	var back detector.Verdict
	require.NoError(t, json.Unmarshal(b, &back))
	require.Len(t, back.Reasons, 2)
	assertSameReason(t, ev, back.Reasons[0])
	assertSameReason(t, peak, back.Reasons[1])
	assert.Equal(t, v.Explain(), back.Explain())
}

// cpuSource serves a machine's CPU as a function of the step's time, so
// that a full read and an incremental one see the same values: quiet, with
// a step at level every period steps (none when period is 0).
func cpuSource(period int, level float64) provider.MetricsSource {
	return provider.MetricsSourceFunc(func(_ context.Context, q provider.Query) (provider.Series, error) {
		if q.Metric != provider.MetricCPU {
			return provider.Series{}, provider.ErrUnsupported
		}
		s := provider.Series{ResourceID: q.ResourceID, Metric: q.Metric, Start: q.Start, Step: q.Step, Values: make([]float64, q.Steps())}
		for i := range s.Values {
			k := int(q.Start.Add(time.Duration(i)*q.Step).Unix() / int64(5*time.Minute/time.Second))
			s.Values[i] = 0.02 + 0.005*noise(k)
			if period > 0 && k%period == 7 {
				s.Values[i] = level
			}
		}
		return s, nil
	})
}

// TestTrackerPeakReasons: on a Tracker's incremental path the p99 of the
// peak reason is not known, yet its code and text say what the decision
// (by counting) found, the same as on the full read, and the verdict
// marshals. Before, the text said "NaN%" and "reaches" for a p99 below the
// bound, and json.Marshal failed.
func TestTrackerPeakReasons(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		period int
		level  float64
		p99    detector.ReasonCode // the p99 reason's code
		verb   string
	}{
		// 4032 steps in 14 days; 40 may reach the bound (p99 below it).
		{"quiet", 0, 0, detector.ReasonBelowBound, "is below"},
		{"a step at 15 % every 50", 50, 0.15, detector.ReasonPeak, "reaches"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
			require.NoError(t, err)
			tr, err := detector.NewTracker(ens, detector.TrackerConfig{}, &detector.MemoryStateStore{})
			require.NoError(t, err)
			r := provider.Resource{ID: "i-1", Kind: provider.KindInstance}
			now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
			src := cpuSource(tt.period, tt.level)
			for _, at := range []time.Time{now, now.Add(time.Hour)} {
				v, read, err := tr.Detect(t.Context(), src, nil, r, at)
				require.NoError(t, err)
				require.Equal(t, detector.Idle, v.State, v.Explain())
				var p99 *detector.Reason
				for i := range v.Reasons {
					if rs := &v.Reasons[i]; rs.Statistic == "p99" && (rs.Code == detector.ReasonPeak || rs.Code == detector.ReasonBelowBound) {
						p99 = rs
					}
				}
				require.NotNil(t, p99, "full read %v: %v", read.Full, v.Explain())
				assert.Equal(t, tt.p99, p99.Code, "full read %v: %s", read.Full, p99)
				assert.Contains(t, p99.String(), tt.verb+" the stop bound 10.00%")
				if !read.Full {
					assert.True(t, math.IsNaN(p99.Value), "the incremental path does not keep the p99: %s", p99)
				}
				for _, s := range v.Explain() {
					assert.NotContains(t, s, "NaN")
				}
				b, err := json.Marshal(v)
				require.NoError(t, err, "full read %v", read.Full)
				var back detector.Verdict
				require.NoError(t, json.Unmarshal(b, &back))
				assert.Equal(t, v.Explain(), back.Explain())
			}
		})
	}
}

// TestPeakCodeFollowsDecision pins the code of a full read's peak reasons
// at the p99 bound: a p99 at the bound reaches it (ReasonPeak), a p99
// just under it is below it (ReasonBelowBound), and the max likewise.
func TestPeakCodeFollowsDecision(t *testing.T) {
	t.Parallel()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{StopIdleShare: 0.9})
	require.NoError(t, err)
	const allowed = 4032 - (99*4032+99)/100 // 40 of the window's 4032 steps may reach the bound
	spikes := func(k int, level float64) provider.Series {
		return days(14, func(i int, ts time.Time) float64 {
			if i%97 == 50 && i/97 < k { // the first at 16:10, not in now's hour (Monday 12:00)
				return level
			}
			return quiet(i, ts)
		})
	}
	tests := []struct {
		name      string
		give      provider.Series
		p99, max  detector.ReasonCode
		wantStop  bool
		p99Reason string
	}{
		{"p99 at the bound", spikes(allowed+1, 0.10), detector.ReasonPeak, detector.ReasonBelowBound, false,
			"evidence: cpu p99 10.00% over the last 14d reaches the stop bound 10.00%"},
		{"p99 just under the bound", spikes(allowed+1, 0.0999), detector.ReasonBelowBound, detector.ReasonBelowBound, true,
			"evidence: cpu p99 9.99% over the last 14d is below the stop bound 10.00%"},
		{"max at the bound", spikes(1, 0.20), detector.ReasonBelowBound, detector.ReasonPeak, false,
			"evidence: cpu p99 2.49% over the last 14d is below the stop bound 10.00%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := detectOn(t, ens, provider.KindInstance, tt.give)
			var got []detector.Reason
			for _, r := range v.Reasons {
				if r.Code == detector.ReasonPeak || r.Code == detector.ReasonBelowBound {
					got = append(got, r)
				}
			}
			require.Len(t, got, 2, v.Explain())
			assert.Equal(t, []provider.Statistic{"p99", provider.StatMax}, []provider.Statistic{got[0].Statistic, got[1].Statistic})
			assert.Equal(t, tt.p99, got[0].Code, "%s", got[0])
			assert.Equal(t, tt.max, got[1].Code, "%s", got[1])
			assert.Equal(t, tt.p99Reason, got[0].String())
			assert.Equal(t, tt.wantStop, v.Action == detector.ActionStop, v.Explain())
		})
	}
}

// TestReasonStringUnknown: a figure that is not known (NaN) is left out of
// the sentence, never printed as "NaN", and the peak's verb comes from its
// code, not from Value against Limit.
func TestReasonStringUnknown(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	nan := math.NaN()
	tests := []struct {
		give detector.Reason
		want string
	}{
		{detector.Reason{Signal: "evidence", Code: detector.ReasonEvidence, Metric: provider.MetricCPU, Value: 1, Duration: 14 * day, Stats: detector.Stats{Mean: 0.012, P95: nan, P99: nan, Max: 0.034}},
			"evidence: cpu over the last 14d (100% covered): mean 1.20%, max 3.40%"},
		{detector.Reason{Signal: "evidence", Code: detector.ReasonEvidence, Metric: provider.MetricCPU, Value: 1, Duration: 14 * day, Stats: detector.Stats{Mean: nan, P95: nan, P99: nan, Max: 0.034}},
			"evidence: cpu over the last 14d (100% covered): max 3.40%"},
		{detector.Reason{Signal: "evidence", Code: detector.ReasonEvidence, Metric: provider.MetricCPU, Value: 1, Duration: 14 * day, Stats: detector.Stats{Mean: 0.012, P95: 0.02, P99: 0.03, Max: nan}},
			"evidence: cpu over the last 14d (100% covered): mean 1.20%, p95 2.00%, p99 3.00%"},
		{detector.Reason{Signal: "evidence", Code: detector.ReasonEvidence, Metric: provider.MetricNetworkIn, Value: nan, Duration: 14 * day, Stats: detector.Stats{Mean: nan, P95: nan, P99: nan, Max: nan}},
			"evidence: network_in over the last 14d: no statistics known"},
		{detector.Reason{Signal: "evidence", Code: detector.ReasonBelowBound, Metric: provider.MetricCPU, Statistic: "p99", Action: detector.ActionStop, Value: nan, Limit: 0.1, Duration: 14 * day},
			"evidence: cpu p99 over the last 14d is below the stop bound 10.00%"},
		{detector.Reason{Signal: "evidence", Code: detector.ReasonPeak, Metric: provider.MetricCPU, Statistic: "p99", Action: detector.ActionStop, Value: nan, Limit: 0.1, Duration: 14 * day},
			"evidence: cpu p99 over the last 14d reaches the stop bound 10.00%"},
		// The code decides, even against the figures.
		{detector.Reason{Signal: "evidence", Code: detector.ReasonPeak, Metric: provider.MetricCPU, Statistic: "max", Action: detector.ActionStop, Value: 0.05, Limit: 0.2, Duration: 14 * day},
			"evidence: cpu max 5.00% over the last 14d reaches the stop bound 20.00%"},
		{detector.Reason{Signal: "evidence", Code: detector.ReasonBelowBound, Metric: provider.MetricCPU, Statistic: "max", Action: detector.ActionStop, Value: 0.5, Limit: 0.2, Duration: 14 * day},
			"evidence: cpu max 50.00% over the last 14d is below the stop bound 20.00%"},
		{detector.Reason{Signal: "evidence", Code: detector.ReasonFits, Metric: provider.MetricCPU, Statistic: "p99", Action: detector.ActionDownsize, Value: nan, Limit: 0.7, Duration: 14 * day},
			"evidence: cpu p99 over the last 14d would stay below 70.00% on the smaller size"},
		{detector.Reason{Signal: "evidence", Code: detector.ReasonTooBig, Metric: provider.MetricMemory, Statistic: "p99", Action: detector.ActionDownsize, Value: nan, Limit: 0.7, Duration: 14 * day},
			"evidence: memory p99 over the last 14d would reach 70.00% on the smaller size: no downsize"},
		// Elsewhere an unknown figure reads "unknown".
		{detector.Reason{Signal: "utilization", Code: detector.ReasonBelow, Metric: provider.MetricCPU, Value: nan, Limit: 0.1, Duration: day},
			"utilization: cpu mean unknown below 10.00% over 24h"},
		{detector.Reason{Signal: "custom", Code: "cost_center", Metric: provider.MetricCPU, Value: nan, Limit: 2},
			"custom: cost_center cpu value unknown limit 2"},
		{detector.Reason{Signal: "evidence", Code: detector.ReasonWeek, Action: detector.ActionStop, Value: nan, Limit: 1},
			"evidence: the week is unknown idle (stop needs 100%)"},
		{detector.Reason{Signal: "evidence", Code: detector.ReasonShortEvidence, Metric: provider.MetricCPU, Action: detector.ActionStop, Value: nan, Limit: 0.95, Duration: 14 * day},
			"evidence: cpu has data for unknown of the last 14d; stop needs 95%"},
		{detector.Reason{Signal: "utilization", Code: detector.ReasonStale, Metric: provider.MetricCPU, Duration: 2 * time.Hour, Limit: nan},
			"utilization: last cpu sample is 2h old (limit unknown)"},
	}
	for _, tt := range tests {
		got := tt.give.String()
		assert.Equal(t, tt.want, got)
		assert.NotContains(t, got, "NaN")
		assert.NotContains(t, got, "%!")
	}
	// No code prints NaN for any unknown figure.
	for _, c := range allCodes {
		r := fullReason(t, c)
		for _, f := range unknownFields {
			f.set(&r)
		}
		assert.NotContains(t, r.String(), "NaN", "%s", c)
	}
}

package detector_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
)

// nabLabels are hand labels from the traces' descriptions in
// testdata/README.md. 77c1ca (idle with a busy stretch) and fe7f93 (low
// baseline with spikes) are ambiguous as a whole and left out.
var nabLabels = map[string]bool{
	"c6585a": true, "24ae8d": true, "53ea38": true,
	"825cc2": false, "5f5533": false, "ac20cd": false,
}

// nabExamples cuts each labelled NAB trace into one example per day (now
// at each day boundary after the first two days).
func nabExamples(t testing.TB) []detector.Example {
	var out []detector.Example
	for id, idle := range nabLabels {
		s := nabCPU(t, id)
		for d := 2; d <= 13; d++ {
			now := s.Start.Add(time.Duration(d) * 24 * time.Hour)
			out = append(out, detector.Example{
				Input: detector.Input{Now: now, Resource: res(id, s.Start), Series: []provider.Series{s}},
				Idle:  idle, Group: "nab/" + id,
			})
		}
	}
	return out
}

// fleetExamples generates a labelled fleet: idle (0.5–6 % CPU with noise,
// no activity), busy (25–90 %), light (steady 8–20 %: not idle), bursty (idle baseline with 10–40 minute
// bursts to 60–100 % every 1–8 h: scheduled work, not idle), diurnal
// (busy on weekday office hours, 1–3 % otherwise: not idle) and idle CPU
// with interactive logins (someone uses it: not idle). Each resource gives
// three examples at different times of its last day.
func fleetExamples(seed uint64, perClass int) []detector.Example {
	rng := rand.New(rand.NewPCG(seed, 42))
	const step, days = 5 * time.Minute, 8
	n := days * 288
	end := time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)
	start := end.Add(-time.Duration(n) * step)
	var out []detector.Example
	add := func(class string, i int, idle bool, f func(k int, t time.Time) float64, activity func(now time.Time) []provider.ActivityCount) {
		id := fmt.Sprintf("%s-%02d", class, i)
		v := make([]float64, n)
		for k := range v {
			v[k] = math.Max(0, math.Min(1, f(k, start.Add(time.Duration(k)*step))))
		}
		s := provider.Series{ResourceID: id, Metric: provider.MetricCPU, Start: start, Step: step, Values: v}
		for _, back := range []time.Duration{0, 7 * time.Hour, 15 * time.Hour} {
			now := end.Add(-back)
			out = append(out, detector.Example{
				Input: detector.Input{Now: now, Resource: res(id, start), Series: []provider.Series{s}, Activity: activity(now)},
				Idle:  idle, Group: id,
			})
		}
	}
	// Half the resources have an activity agent (quiet), half have none,
	// so that having activity data does not give the class away.
	agent := func(i int) func(time.Time) []provider.ActivityCount {
		if i%2 == 1 {
			return func(time.Time) []provider.ActivityCount { return nil }
		}
		return func(time.Time) []provider.ActivityCount {
			return []provider.ActivityCount{{Kind: provider.ActivityLogins}, {Kind: provider.ActivityAPICalls}}
		}
	}
	for i := range perClass {
		quiet := agent(i)
		base, jitter := 0.005+0.055*rng.Float64(), 0.2+0.8*rng.Float64()
		add("idle", i, true, func(int, time.Time) float64 { return base * (1 + jitter*(rng.Float64()-0.5)) }, quiet)

		level := 0.25 + 0.65*rng.Float64()
		add("busy", i, false, func(int, time.Time) float64 { return level * (0.8 + 0.4*rng.Float64()) }, quiet)

		every, length, peak := 12+rng.IntN(84), 2+rng.IntN(7), 0.6+0.4*rng.Float64()
		add("bursty", i, false, func(k int, _ time.Time) float64 {
			if k%every < length {
				return peak * (0.9 + 0.1*rng.Float64())
			}
			return 0.01 + 0.02*rng.Float64()
		}, quiet)

		day, night := 0.3+0.4*rng.Float64(), 0.01+0.02*rng.Float64()
		add("diurnal", i, false, func(_ int, t time.Time) float64 {
			if wd := t.Weekday(); wd != time.Saturday && wd != time.Sunday && t.Hour() >= 8 && t.Hour() < 19 {
				return day * (0.8 + 0.4*rng.Float64())
			}
			return night * (0.5 + rng.Float64())
		}, quiet)

		light := 0.08 + 0.12*rng.Float64()
		add("light", i, false, func(int, time.Time) float64 { return light * (0.7 + 0.6*rng.Float64()) }, quiet)

		add("interactive", i, false, func(int, time.Time) float64 { return 0.01 + 0.03*rng.Float64() }, func(now time.Time) []provider.ActivityCount {
			return []provider.ActivityCount{{Kind: provider.ActivityLogins, Count: float64(1 + rng.IntN(20)), Last: now.Add(-time.Duration(rng.IntN(20)) * time.Minute)}}
		})
	}
	return out
}

// TestModelLabelledSet trains and evaluates the model on the labelled set
// (real NAB traces and the generated fleet) by 5-fold cross-validation
// grouped by resource, and on real traces after training on the generated
// fleet alone.
func TestModelLabelledSet(t *testing.T) {
	t.Parallel()
	real := nabExamples(t)
	gen := fleetExamples(1, 10)
	all := append(append([]detector.Example(nil), real...), gen...)

	folds, pooled, err := detector.CrossValidate(t.Context(), all, 5, 7, detector.ModelConfig{IgnoreNetwork: true})
	require.NoError(t, err)
	require.Len(t, folds, 5)
	t.Logf("5-fold CV on %d examples (%d real, %d generated): %v", len(all), len(real), len(gen), pooled)
	for i, f := range folds {
		t.Logf("  fold %d: %v", i, f)
	}
	assert.Equal(t, len(all), pooled.N+pooled.Skipped)
	assert.GreaterOrEqual(t, pooled.AUC, 0.95)
	assert.GreaterOrEqual(t, pooled.F1, 0.9)

	m, err := detector.Train(t.Context(), gen, detector.ModelConfig{IgnoreNetwork: true})
	require.NoError(t, err)
	onReal, err := m.Evaluate(t.Context(), real)
	require.NoError(t, err)
	t.Logf("trained on generated fleet only, evaluated on real NAB traces: %v", onReal)
	assert.GreaterOrEqual(t, onReal.AUC, 0.9)
	assert.GreaterOrEqual(t, onReal.Recall, 0.9)

	// A fresh generated fleet (another seed) is held out entirely.
	fresh, err := m.Evaluate(t.Context(), fleetExamples(99, 6))
	require.NoError(t, err)
	t.Logf("trained on seed 1, evaluated on a fresh fleet (seed 99): %v", fresh)
	assert.GreaterOrEqual(t, fresh.F1, 0.85)
}

func TestModelSaveLoadAndEnsemble(t *testing.T) {
	t.Parallel()
	gen := fleetExamples(3, 6)
	m, err := detector.Train(t.Context(), gen, detector.ModelConfig{IgnoreNetwork: true})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, m.Save(&buf))
	loaded, err := detector.LoadModel(bytes.NewReader(buf.Bytes()))
	require.NoError(t, err)
	f := make([]float64, detector.NumFeatures)
	for _, e := range gen[:10] {
		ok, err := m.Features(e.Input, f)
		require.NoError(t, err)
		require.True(t, ok)
		p1, err := m.Probability(f)
		require.NoError(t, err)
		p2, err := loaded.Probability(f)
		require.NoError(t, err)
		assert.InDelta(t, p1, p2, 1e-15)
		assert.GreaterOrEqual(t, p1, 0.0)
		assert.LessOrEqual(t, p1, 1.0)
	}
	// The model in the ensemble: its signal is present and weighed.
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{}, detector.WithModel(loaded))
	require.NoError(t, err)
	s := nabCPU(t, "c6585a")
	v, err := ens.Detect(t.Context(), detector.Input{Now: s.End(), Resource: res("c6585a", s.Start), Series: []provider.Series{s}})
	require.NoError(t, err)
	c := signal(t, v, detector.SignalModel)
	assert.Equal(t, detector.Idle, c.State, v.Explain())
	assert.Positive(t, c.Weight)
	assert.Equal(t, detector.Idle, v.State)

	// Corrupted files are rejected with the field named.
	var ie *provider.InvalidError
	bad := strings.Replace(buf.String(), `"version": 1`, `"version": 2`, 1)
	_, err = detector.LoadModel(strings.NewReader(bad))
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "model.version", ie.Field)
	_, err = detector.LoadModel(strings.NewReader(`{"version":1`))
	require.ErrorIs(t, err, provider.ErrInvalid)
}

func TestModelErrors(t *testing.T) {
	t.Parallel()
	_, err := detector.Train(t.Context(), fleetExamples(5, 1)[:3], detector.ModelConfig{IgnoreNetwork: true})
	require.ErrorIs(t, err, detector.ErrTooFewExamples)
	_, err = detector.Train(t.Context(), nil, detector.ModelConfig{Cutoff: 1.5})
	require.ErrorIs(t, err, provider.ErrInvalid)
	var untrained detector.Model
	_, err = untrained.Detect(t.Context(), detector.Input{Now: t0})
	require.ErrorIs(t, err, detector.ErrNotTrained)
	_, err = detector.NewEnsemble(detector.EnsembleConfig{}, detector.WithModel(&untrained))
	require.ErrorIs(t, err, detector.ErrNotTrained)
	_, _, err = detector.CrossValidate(t.Context(), fleetExamples(5, 1), 1, 0, detector.ModelConfig{IgnoreNetwork: true})
	require.ErrorIs(t, err, provider.ErrInvalid)
}

// TestCrossValidateFolds pins k's range: 2 folds and as many folds as
// groups are allowed, 1 and one more than the groups are not.
func TestCrossValidateFolds(t *testing.T) {
	t.Parallel()
	ex := nabExamples(t) // 6 groups
	for _, k := range []int{2, 6} {
		folds, _, err := detector.CrossValidate(t.Context(), ex, k, 1, detector.ModelConfig{IgnoreNetwork: true})
		require.NoError(t, err, "k = %d", k)
		assert.Len(t, folds, k)
	}
	for _, k := range []int{1, 7} {
		_, _, err := detector.CrossValidate(t.Context(), ex, k, 1, detector.ModelConfig{IgnoreNetwork: true})
		require.ErrorIs(t, err, provider.ErrInvalid, "k = %d", k)
	}
}

// TestModelNeverReadsUnknownTrafficAsZero: a model that has learned
// "network traffic means busy" (written directly: a strongly negative
// coefficient on log1p_network_bytes_per_s). With the traffic read it
// votes not idle. When the network source fails (Input.MetricErrors), or
// its series is stale or gappy over the window, the traffic is not known
// and the model has no opinion (Unknown, the reason naming the metric),
// never the vote of 0 bytes/s. So it is when a network metric has no
// series and no error (a source without it, or a Scan that found no data
// in the window): that used to read as no traffic and vote idle. (A
// review found the model read a failed metric as 0 and voted idle.) A
// model made with IgnoreNetwork reads no traffic at all, as the host
// chose: see TestModelIgnoreNetwork. An unusable CPU window (failed,
// missing, stale) leaves the model without an opinion too, its reason
// naming the CPU and saying why.
func TestModelNeverReadsUnknownTrafficAsZero(t *testing.T) {
	t.Parallel()
	js := `{"version":1,"features":["cpu_mean","cpu_max","cpu_p95","cpu_std","cpu_share_below_10pct","log1p_network_bytes_per_s","log1p_activity_count","activity_known","idle_slot_share","now_slot_idle_share"],
"config":{},"mean":[0,0,0,0,0,0,0,0,0,0],"scale":[1,1,1,1,1,1,1,1,1,1],"coefficients":[0,0,0,0,0,-10,0,0,0,0],"bias":3}`
	m, err := detector.LoadModel(strings.NewReader(js))
	require.NoError(t, err)

	now := t0.Add(48 * time.Hour)
	const n = 48 * 12
	cpu := synth("r", t0, 5*time.Minute, n, func(int) float64 { return 0.02 })
	net := func(metric provider.Metric, f func(i int) float64) provider.Series {
		s := synth("r", t0, 5*time.Minute, n, f)
		s.Metric = metric
		return s
	}
	busy := func(int) float64 { return 5e6 } // 5 MB/s
	stale := func(i int) float64 {
		if i >= n-12 { // nothing in the last hour
			return math.NaN()
		}
		return 5e6
	}
	gappy := func(i int) float64 {
		if i%2 == 0 { // half the window
			return math.NaN()
		}
		return 5e6
	}
	boom := errors.New("cloudwatch: throttled")
	staleCPU := synth("r", t0, 5*time.Minute, n, func(i int) float64 {
		if i >= n-12 { // nothing in the last hour
			return math.NaN()
		}
		return 0.02
	})
	for _, tt := range []struct {
		name   string
		series []provider.Series
		errs   []detector.MetricError
		want   detector.State
		code   detector.ReasonCode
		metric provider.Metric
	}{
		{"traffic read", []provider.Series{cpu, net(provider.MetricNetworkIn, busy), net(provider.MetricNetworkOut, busy)}, nil, detector.NotIdle, detector.ReasonModel, ""},
		{"network source failed", []provider.Series{cpu}, []detector.MetricError{{Metric: provider.MetricNetworkIn, Err: boom}, {Metric: provider.MetricNetworkOut, Err: boom}},
			detector.Unknown, detector.ReasonSourceError, provider.MetricNetworkIn},
		{"network out failed", []provider.Series{cpu, net(provider.MetricNetworkIn, busy)}, []detector.MetricError{{Metric: provider.MetricNetworkOut, Err: boom}},
			detector.Unknown, detector.ReasonSourceError, provider.MetricNetworkOut},
		{"network in stale", []provider.Series{cpu, net(provider.MetricNetworkIn, stale), net(provider.MetricNetworkOut, busy)}, nil, detector.Unknown, detector.ReasonStale, provider.MetricNetworkIn},
		{"network out gappy", []provider.Series{cpu, net(provider.MetricNetworkIn, busy), net(provider.MetricNetworkOut, gappy)}, nil, detector.Unknown, detector.ReasonGaps, provider.MetricNetworkOut},
		{"no network metrics at the source", []provider.Series{cpu}, nil, detector.Unknown, detector.ReasonMissing, provider.MetricNetworkIn},
		{"network out without a series", []provider.Series{cpu, net(provider.MetricNetworkIn, busy)}, nil, detector.Unknown, detector.ReasonMissing, provider.MetricNetworkOut},
		{"cpu source failed", []provider.Series{net(provider.MetricNetworkIn, busy), net(provider.MetricNetworkOut, busy)}, []detector.MetricError{{Metric: provider.MetricCPU, Err: boom}},
			detector.Unknown, detector.ReasonSourceError, provider.MetricCPU},
		{"cpu missing", []provider.Series{net(provider.MetricNetworkIn, busy), net(provider.MetricNetworkOut, busy)}, nil, detector.Unknown, detector.ReasonMissing, provider.MetricCPU},
		{"cpu stale", []provider.Series{staleCPU, net(provider.MetricNetworkIn, busy), net(provider.MetricNetworkOut, busy)}, nil, detector.Unknown, detector.ReasonStale, provider.MetricCPU},
	} {
		in := detector.Input{Now: now, Resource: res("r", t0), Series: tt.series, MetricErrors: tt.errs}
		v, err := m.Detect(t.Context(), in)
		require.NoError(t, err)
		assert.Equal(t, tt.want, v.State, "%s: %.3f %v", tt.name, v.Confidence, v.Explain())
		require.Len(t, v.Reasons, 1, tt.name)
		assert.Equal(t, tt.code, v.Reasons[0].Code, "%s: %v", tt.name, v.Explain())
		assert.Equal(t, tt.metric, v.Reasons[0].Metric, tt.name)
		assert.Equal(t, detector.SignalModel, v.Reasons[0].Signal, tt.name)
		f := make([]float64, detector.NumFeatures)
		ok, err := m.Features(in, f)
		require.NoError(t, err)
		assert.Equal(t, tt.want != detector.Unknown, ok, "%s: features", tt.name)
	}
}

// TestModelIgnoreNetwork: a model made with IgnoreNetwork (saved with it)
// reads no traffic, so a source without network metrics gets its vote,
// and even a busy network series does not move it.
func TestModelIgnoreNetwork(t *testing.T) {
	t.Parallel()
	js := `{"version":1,"features":["cpu_mean","cpu_max","cpu_p95","cpu_std","cpu_share_below_10pct","log1p_network_bytes_per_s","log1p_activity_count","activity_known","idle_slot_share","now_slot_idle_share"],
"config":{"ignore_network":true},"mean":[0,0,0,0,0,0,0,0,0,0],"scale":[1,1,1,1,1,1,1,1,1,1],"coefficients":[0,0,0,0,0,-10,0,0,0,0],"bias":3}`
	m, err := detector.LoadModel(strings.NewReader(js))
	require.NoError(t, err)
	require.True(t, m.Config().IgnoreNetwork)
	now := t0.Add(48 * time.Hour)
	const n = 48 * 12
	cpu := synth("r", t0, 5*time.Minute, n, func(int) float64 { return 0.02 })
	busy := synth("r", t0, 5*time.Minute, n, func(int) float64 { return 5e6 })
	busy.Metric = provider.MetricNetworkIn
	for _, series := range [][]provider.Series{{cpu}, {cpu, busy}} {
		v, err := m.Detect(t.Context(), detector.Input{Now: now, Resource: res("r", t0), Series: series})
		require.NoError(t, err)
		assert.Equal(t, detector.Idle, v.State, "%v", v.Explain())
	}
}

// TestScanAllGapTrafficIsNotNoTraffic: a source that reports the network
// metrics but has no data for them over the window gives Scan all-gap
// series, which it leaves out; the model used to read the missing series
// as 0 bytes/s and vote idle on traffic nobody measured. It now has no
// opinion, naming network_in.
func TestScanAllGapTrafficIsNotNoTraffic(t *testing.T) {
	t.Parallel()
	js := `{"version":1,"features":["cpu_mean","cpu_max","cpu_p95","cpu_std","cpu_share_below_10pct","log1p_network_bytes_per_s","log1p_activity_count","activity_known","idle_slot_share","now_slot_idle_share"],
"config":{},"mean":[0,0,0,0,0,0,0,0,0,0],"scale":[1,1,1,1,1,1,1,1,1,1],"coefficients":[0,0,0,0,0,-10,0,0,0,0],"bias":3}`
	m, err := detector.LoadModel(strings.NewReader(js))
	require.NoError(t, err)
	now := t0.Add(48 * time.Hour)
	cloud, err := memory.New(memory.Config{})
	require.NoError(t, err)
	require.NoError(t, cloud.Add(res("r", t0)))
	src := provider.MetricsSourceFunc(func(_ context.Context, q provider.Query) (provider.Series, error) {
		s := provider.Series{ResourceID: q.ResourceID, Metric: q.Metric, Start: q.Start, Step: q.Step, Values: make([]float64, q.Steps())}
		for i := range s.Values {
			s.Values[i] = 0.02
			if q.Metric != provider.MetricCPU {
				s.Values[i] = math.NaN() // reported, never measured
			}
		}
		return s, nil
	})
	rep, err := detector.Scan(t.Context(), detector.Fleet{Inventory: cloud, Metrics: src}, m, detector.ScanConfig{Now: now, History: 48 * time.Hour,
		Metrics: []provider.Metric{provider.MetricCPU, provider.MetricNetworkIn, provider.MetricNetworkOut}})
	require.NoError(t, err)
	require.Len(t, rep.Verdicts, 1)
	v := rep.Verdicts[0]
	assert.Equal(t, detector.Unknown, v.State, "%v", v.Explain())
	require.NotEmpty(t, v.Reasons)
	assert.Equal(t, detector.ReasonMissing, v.Reasons[0].Code, "%v", v.Explain())
	assert.Equal(t, provider.MetricNetworkIn, v.Reasons[0].Metric)
}

// TestEnsembleReadsTheModelsHistory: a model learns its week features
// (idle_slot_share, now_slot_idle_share) over ModelConfig.History, and an
// ensemble's Needs asked for the model's Window only, so that a Scan of a
// model with 60 days of History read the ensemble's 28: a machine busy
// in office hours until a month ago, whose model says not idle on its 60
// days (a veto of a stop), was voted idle by the model in a Scan, on the
// quiet month alone, and stopped. The Scan's model now reads what Detect
// reads on the whole series.
func TestEnsembleReadsTheModelsHistory(t *testing.T) {
	t.Parallel()
	const history = 60 * 24 * time.Hour
	// Idle when at least 90 % of the observed hours of the week are idle.
	js := fmt.Sprintf(`{"version":1,"features":["cpu_mean","cpu_max","cpu_p95","cpu_std","cpu_share_below_10pct","log1p_network_bytes_per_s","log1p_activity_count","activity_known","idle_slot_share","now_slot_idle_share"],
"config":{"history":%d,"ignore_network":true},"mean":[0,0,0,0,0,0,0,0,0.9,0],"scale":[1,1,1,1,1,1,1,1,1,1],"coefficients":[0,0,0,0,0,0,0,0,20,0],"bias":0}`, int64(history))
	m, err := detector.LoadModel(strings.NewReader(js))
	require.NoError(t, err)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{}, detector.WithModel(m))
	require.NoError(t, err)
	assert.GreaterOrEqual(t, ens.Needs().History, history)
	assert.GreaterOrEqual(t, ens.NeedsOf(provider.KindInstance).History, history)

	now := t0.Add(90 * 24 * time.Hour)
	quietSince := now.Add(-30 * 24 * time.Hour)
	cpu := func(at time.Time) float64 {
		if wd := at.Weekday(); at.Before(quietSince) && wd != time.Saturday && wd != time.Sunday && at.Hour() >= 9 && at.Hour() < 17 {
			return 0.6
		}
		return 0.02
	}
	src := provider.MetricsSourceFunc(func(_ context.Context, q provider.Query) (provider.Series, error) {
		s := provider.Series{ResourceID: q.ResourceID, Metric: q.Metric, Start: q.Start, Step: q.Step, Values: make([]float64, q.Steps())}
		for i := range s.Values {
			s.Values[i] = math.NaN() // CPU only
			if q.Metric == provider.MetricCPU {
				s.Values[i] = cpu(s.TimeAt(i))
			}
		}
		return s, nil
	})
	cloud, err := memory.New(memory.Config{})
	require.NoError(t, err)
	r := res("r", t0)
	require.NoError(t, cloud.Add(r))
	rep, err := detector.Scan(t.Context(), detector.Fleet{Inventory: cloud, Metrics: src}, ens, detector.ScanConfig{Now: now})
	require.NoError(t, err)
	require.Len(t, rep.Verdicts, 1)

	full, err := src.QueryMetric(t.Context(), provider.Query{ResourceID: "r", Metric: provider.MetricCPU, Start: t0, End: now, Step: 5 * time.Minute})
	require.NoError(t, err)
	want, err := ens.Detect(t.Context(), detector.Input{Now: now, Resource: r, Series: []provider.Series{full}})
	require.NoError(t, err)
	require.Equal(t, detector.NotIdle, signal(t, want, detector.SignalModel).State, "60 days of office hours: %v", want.Explain())
	got := rep.Verdicts[0]
	assert.Equal(t, detector.NotIdle, signal(t, got, detector.SignalModel).State, "%v", got.Explain())
	assert.Equal(t, detector.ActionNone, got.Action, "the model's veto: %v", got.Explain())
}

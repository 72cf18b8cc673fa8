package detector

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
)

// modelInput is a resource with hours of 5-minute steps before now whose
// CPU is 0.02 for the first quiet hours and then cycles 0.05, 0.10, 0.15,
// 0.30, with network in and out at 1000 and 500 bytes/s and 3 logins and
// 4 API calls.
func modelInput(now time.Time, hours, quiet int) Input {
	n := hours * 12
	start := now.Add(-time.Duration(n) * 5 * time.Minute)
	cpu := provider.Series{Metric: provider.MetricCPU, Start: start, Step: 5 * time.Minute, Values: make([]float64, n)}
	for i := range cpu.Values {
		cpu.Values[i] = [...]float64{0.05, 0.10, 0.15, 0.30}[i%4]
		if i < quiet*12 {
			cpu.Values[i] = 0.02
		}
	}
	flat := func(m provider.Metric, v float64) provider.Series {
		s := provider.Series{Metric: m, Start: start, Step: 5 * time.Minute, Values: make([]float64, n)}
		for i := range s.Values {
			s.Values[i] = v
		}
		return s
	}
	return Input{
		Now: now, Resource: provider.Resource{ID: "r", Kind: provider.KindInstance},
		Series:   []provider.Series{cpu, flat(provider.MetricNetworkIn, 1000), flat(provider.MetricNetworkOut, 500)},
		Activity: []provider.ActivityCount{{Kind: provider.ActivityLogins, Count: 3}, {Kind: provider.ActivityAPICalls, Count: 4}},
	}
}

// TestModelFeaturesExact pins each feature of a known input: the CPU
// window's mean, max, p95, population standard deviation and share
// strictly below 10 % (0.10 itself is not below), log1p of the network
// bytes in and out, log1p of the activity count and its flag (0 and 0
// when the activity source failed), and, with less history than a day,
// the profile features falling back to the share below 10 %.
func TestModelFeaturesExact(t *testing.T) {
	t.Parallel()
	m, err := newModel(ModelConfig{Window: 6 * time.Hour})
	require.NoError(t, err)
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	in := modelInput(now, 12, 0)
	var f [NumFeatures]float64
	require.True(t, m.features(&in, &f, nil))
	sorted := []float64{0.05, 0.10, 0.15, 0.30}
	vals := make([]float64, 0, 72)
	for range 18 {
		vals = append(vals, sorted...)
	}
	slices.Sort(vals)
	want := [NumFeatures]float64{
		0.15, 0.30, provider.Quantile(vals, 0.95), math.Sqrt((0.01 + 0.0025 + 0 + 0.0225) / 4), 0.25,
		math.Log1p(1500), math.Log1p(7), 1,
		0.25, 0.25,
	}
	for i := range f {
		assert.InDelta(t, want[i], f[i], 1e-12, featureNames[i])
	}

	in.ActivityErr = provider.ErrThrottled
	f = [NumFeatures]float64{}
	require.True(t, m.features(&in, &f, nil))
	assert.Zero(t, f[6], "activity count when the source failed")
	assert.Zero(t, f[7], "activity known")

	// Eight days of history, quiet but for the last six hours: the profile
	// features are the profile's (now's hour of the week was seen, quiet,
	// a week ago).
	in = modelInput(now, 8*24, 8*24-6)
	require.True(t, m.features(&in, &f, nil))
	var p Profile
	code, _ := m.sched.learn(&in, metricData{in: &in}, &p)
	require.Equal(t, qOK, code)
	share, ok := p.Share(p.Slot(now))
	require.True(t, ok)
	assert.InDelta(t, float64(p.IdleSlots())/float64(p.ObservedSlots()), f[8], 1e-12)
	assert.InDelta(t, share, f[9], 1e-12)
	assert.InDelta(t, 1, f[9], 0, "quiet a week ago")
	assert.InDelta(t, 162.0/168, f[8], 1e-12, "all but the last six hours' slots idle")
	assert.Equal(t, 24*time.Hour, m.sched.cfg.MinHistory, "the profile needs a day")
	// Exactly a day of history is enough: 18 quiet hours of 24 slots.
	in = modelInput(now, 24, 18)
	require.True(t, m.features(&in, &f, nil))
	assert.InDelta(t, 18.0/24, f[8], 1e-12)
}

// TestModelScoreMetrics pins the classifier metrics on a small set with
// ties: a probability exactly at the cut-off predicts idle; precision,
// recall, F1, accuracy; the AUC counts a tie between an idle and a busy
// example as half; no predicted idle gives a precision of 0, and one
// class alone an AUC of NaN.
func TestModelScoreMetrics(t *testing.T) {
	t.Parallel()
	ps := []float64{0.9, 0.8, 0.5, 0.5, 0.3, 0.1}
	ys := []float64{1, 0, 1, 0, 1, 0}
	s := score(ps, ys, 0.5)
	assert.Equal(t, [5]int{6, 2, 2, 1, 1}, [5]int{s.N, s.TP, s.FP, s.TN, s.FN})
	assert.InDelta(t, 0.5, s.Precision, 1e-12)
	assert.InDelta(t, 2.0/3, s.Recall, 1e-12)
	assert.InDelta(t, 2*0.5*(2.0/3)/(0.5+2.0/3), s.F1, 1e-12)
	assert.InDelta(t, 0.5, s.Accuracy, 1e-12)
	// Idle above busy: 0.9 over all three (3), 0.5 over 0.1 (1) and tied
	// with 0.5 (½), 0.3 over 0.1 (1): 5.5 of 9 pairs.
	assert.InDelta(t, 5.5/9, s.AUC, 1e-12)

	s = score([]float64{0.2, 0.3}, []float64{1, 0}, 0.5)
	assert.Equal(t, [4]int{0, 0, 1, 1}, [4]int{s.TP, s.FP, s.TN, s.FN})
	assert.Zero(t, s.Precision)
	assert.Zero(t, s.F1)
	assert.InDelta(t, 0, s.AUC, 1e-12, "the idle one scores below the busy one")
	assert.True(t, math.IsNaN(score([]float64{0.2, 0.3}, []float64{1, 1}, 0.5).AUC))
}

// TestModelFitStandardises pins what fit keeps of its examples: the mean
// and population standard deviation of each feature, a scale of 1 for a
// constant one; and that it needs at least 4 examples of each class.
func TestModelFitStandardises(t *testing.T) {
	t.Parallel()
	m, err := newModel(ModelConfig{})
	require.NoError(t, err)
	xs := make([][NumFeatures]float64, 8)
	ys := make([]float64, 8)
	for i := range xs {
		xs[i][0] = float64(i)       // mean 3.5, variance 5.25
		xs[i][1] = 7                // constant
		xs[i][2] = float64(i%2) * 2 // mean 1, variance 1
		ys[i] = float64(i % 2)
	}
	require.NoError(t, m.fit(t.Context(), xs, ys))
	assert.InDelta(t, 3.5, m.mean[0], 1e-12)
	assert.InDelta(t, math.Sqrt(5.25), m.scale[0], 1e-12)
	assert.InDelta(t, 7, m.mean[1], 1e-12)
	assert.InDelta(t, 1, m.scale[1], 0, "a constant feature is not scaled")
	assert.InDelta(t, 1, m.mean[2], 1e-12)
	assert.InDelta(t, 1, m.scale[2], 1e-12)
	assert.Greater(t, m.coef[2], 0.0, "the feature that is the label weighs towards idle")
	// Its probability follows the linear predictor.
	var a [NumFeatures]float64
	a[0], a[1], a[2] = 3.5, 7, 2
	z := m.bias + m.coef[2]*(2-1)/1
	assert.InDelta(t, 1/(1+math.Exp(-z)), m.prob(&a), 1e-12)

	m2, err := newModel(ModelConfig{})
	require.NoError(t, err)
	ys[1] = 0 // 3 idle, 5 busy
	err = m2.fit(t.Context(), xs, ys)
	require.ErrorIs(t, err, ErrTooFewExamples)
	require.ErrorContains(t, err, "3 idle and 5 busy usable examples")
	ys[1], ys[0] = 1, 1 // 5 idle, 3 busy
	require.ErrorIs(t, m2.fit(t.Context(), xs, ys), ErrTooFewExamples)
}

// TestModelCutoffAndSigmoid pins that a probability exactly at the
// cut-off votes idle, and that the sigmoid stays finite far from 0.
func TestModelCutoffAndSigmoid(t *testing.T) {
	t.Parallel()
	assert.InDelta(t, 1, sigmoid(1000), 0)
	assert.InDelta(t, 0, sigmoid(-1000), 0)
	assert.InDelta(t, 0.5, sigmoid(0), 0)
	assert.InDelta(t, 1/(1+math.Exp(-2)), sigmoid(2), 1e-15)

	m, err := newModel(ModelConfig{Window: 6 * time.Hour})
	require.NoError(t, err)
	for i := range m.scale {
		m.scale[i] = 1
	}
	m.trained = true // coefficients and bias 0: probability 0.5, the default cut-off
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	v, err := m.Detect(t.Context(), modelInput(now, 12, 0))
	require.NoError(t, err)
	assert.Equal(t, Idle, v.State)
	assert.InDelta(t, 0.5, v.Score, 0)
	assert.Equal(t, Window{From: now.Add(-6 * time.Hour), To: now}, v.Window)
	// Evaluate counts the examples it could not use.
	noCPU := modelInput(now, 12, 0)
	noCPU.Series = noCPU.Series[1:]
	s, err := m.Evaluate(t.Context(), []Example{{Input: modelInput(now, 12, 0), Idle: true}, {Input: noCPU}})
	require.NoError(t, err)
	assert.Equal(t, [3]int{1, 1, 1}, [3]int{s.N, s.Skipped, s.TP})
	// A fit whose context ended leaves the model untrained.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	u, err := newModel(ModelConfig{})
	require.NoError(t, err)
	xs, ys := make([][NumFeatures]float64, 8), make([]float64, 8)
	for i := range xs {
		xs[i][0], ys[i] = float64(i%2), float64(i%2)
	}
	require.ErrorIs(t, u.fit(ctx, xs, ys), context.Canceled)
	assert.False(t, u.Trained())

	d, err := newModel(ModelConfig{})
	require.NoError(t, err)
	c := d.Config()
	assert.Equal(t, [2]time.Duration{24 * time.Hour, 7 * 24 * time.Hour}, [2]time.Duration{c.Window, c.History})
	assert.InDelta(t, 0.5, c.Cutoff, 0)
	assert.InDelta(t, 0.01, c.L2, 0)
	_, err = newModel(ModelConfig{Cutoff: 1})
	require.ErrorContains(t, err, "model.cutoff")
	_, err = newModel(ModelConfig{Cutoff: math.Nextafter(1, 0)})
	require.NoError(t, err)
}

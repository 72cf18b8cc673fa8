package detector_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/internal/fuzzfloat"
	"github.com/idlescale/idlescale/provider"
)

// FuzzEnsemble feeds arbitrary series, thresholds, weights, activity and
// times to the ensemble and every strategy: they must return an error or a
// verdict whose confidence and scores are in [0, 1], never panic, and
// never call a resource idle whose CPU series has no data.
func FuzzEnsemble(f *testing.F) {
	f.Add(fuzzfloat.Bytes(0.01, 0.02, 0.03, 0.01, 0.02), 0.1, 0.3, 0.3, 0.2, int64(5), uint16(3), 2.0, int64(30))
	f.Add(fuzzfloat.Bytes(0.9, math.NaN(), 0, 0, 0, 0), 0.5, 1.0, 0.0, 0.0, int64(1), uint16(0), 0.0, int64(0))
	f.Add(fuzzfloat.Bytes(math.Inf(1), -1), 2.0, -1.0, 0.0, 0.0, int64(0), uint16(1), math.NaN(), int64(-5))
	f.Add(fuzzfloat.Bytes(0, 0, 0, 0, 0, 0, 0, 0), 0.0, 0.0, 0.0, 0.0, int64(60), uint16(2), 1e300, int64(1e6))
	f.Fuzz(func(t *testing.T, raw []byte, thr, wu, wa, ws float64, stepMin int64, steps uint16, count float64, nowOffMin int64) {
		values := fuzzfloat.Floats(raw)
		if len(values) > 5000 {
			values = values[:5000]
		}
		cfg := detector.EnsembleConfig{
			Weights:     detector.Weights{Utilization: wu, Activity: wa, Schedule: ws},
			Utilization: detector.UtilizationConfig{Thresholds: map[provider.Metric]float64{provider.MetricCPU: thr}, Window: time.Duration(steps) * time.Minute},
		}
		ens, err := detector.NewEnsemble(cfg)
		if err != nil {
			require.ErrorIs(t, err, provider.ErrInvalid, "config errors are ErrInvalid or ErrNoSignal: %v", err)
			return
		}
		step := time.Duration(stepMin) * time.Minute
		start := t0
		s := provider.Series{ResourceID: "r", Metric: provider.MetricCPU, Start: start, Step: step, Values: values}
		now := start.Add(time.Duration(len(values))*step + time.Duration(nowOffMin)*time.Minute)
		in := detector.Input{
			Now:      now,
			Resource: provider.Resource{ID: "r", Kind: provider.KindInstance, HourlyCost: 0.1},
			Series:   []provider.Series{s},
			Activity: []provider.ActivityCount{{Kind: provider.ActivityLogins, Count: count, Last: now.Add(-time.Duration(nowOffMin) * time.Minute)}},
		}
		hasData := false
		for _, v := range values {
			hasData = hasData || !math.IsNaN(v)
		}
		azure, err := detector.NewAzureAdvisor(detector.PresetConfig{})
		require.NoError(t, err)
		ta, err := detector.NewTrustedAdvisor(detector.PresetConfig{IgnoreNetwork: true})
		require.NoError(t, err)
		detectors := []detector.Detector{ens, azure, ta}
		for _, d := range detectors {
			v, err := d.Detect(t.Context(), in)
			if err != nil {
				require.ErrorIs(t, err, provider.ErrInvalid)
				continue
			}
			assert.GreaterOrEqual(t, v.Confidence, 0.0)
			assert.LessOrEqual(t, v.Confidence, 1.0)
			assert.GreaterOrEqual(t, v.Score, 0.0)
			assert.LessOrEqual(t, v.Score, 1.0)
			for _, c := range v.Signals {
				assert.False(t, math.IsNaN(c.Score) || c.Score < 0 || c.Score > 1, "%s score %v", c.Signal, c.Score)
				assert.False(t, math.IsNaN(c.Weight) || c.Weight < 0 || c.Weight > 1+1e-12, "%s weight %v", c.Signal, c.Weight)
			}
			if !hasData {
				assert.NotEqual(t, detector.Idle, v.State, "idle without data")
			}
			for _, r := range v.Reasons {
				_ = r.String()
			}
			assert.False(t, math.IsNaN(v.MonthlySavings) || v.MonthlySavings < 0)
		}
	})
}

// FuzzLoadModel feeds arbitrary JSON to LoadModel: it must fail with an
// error matching provider.ErrInvalid or load a model whose probabilities
// are in [0, 1].
func FuzzLoadModel(f *testing.F) {
	f.Add(`{"version":1}`)
	f.Add(`{"version":1,"features":["cpu_mean","cpu_max","cpu_p95","cpu_std","cpu_share_below_10pct","log1p_network_bytes_per_s","log1p_activity_count","activity_known","idle_slot_share","now_slot_idle_share"],"config":{},"mean":[0,0,0,0,0,0,0,0,0,0],"scale":[1,1,1,1,1,1,1,1,1,1],"coefficients":[1,2,3,4,5,6,7,8,9,10],"bias":0.5}`)
	f.Add(`{"version":1,"features":["cpu_mean","cpu_max","cpu_p95","cpu_std","cpu_share_below_10pct","log1p_network_bytes_per_s","log1p_activity_count","activity_known","idle_slot_share","now_slot_idle_share"],"config":{},"mean":[0,0,0,0,0,0,0,0,0,0],"scale":[1,1,1,1,1,1,1,1,1,1],"coefficients":[1,-2,3,4,5,6,7,8,9,10],"bias":0.5}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, s string) {
		m, err := detector.LoadModel(strings.NewReader(s))
		if err != nil {
			require.ErrorIs(t, err, provider.ErrInvalid)
			return
		}
		for _, x := range []float64{0, 1, -1, 1e300, -1e300} {
			feat := make([]float64, detector.NumFeatures)
			for i := range feat {
				feat[i] = x
			}
			p, err := m.Probability(feat)
			if err != nil {
				require.ErrorIs(t, err, provider.ErrInvalid)
				continue
			}
			assert.False(t, math.IsNaN(p) || p < 0 || p > 1, "p=%v", p)
		}
	})
}

// FuzzWeekHoursJSON feeds arbitrary JSON to WeekHours.UnmarshalJSON: it
// fails, or it decodes a set that encodes back to the same set.
func FuzzWeekHoursJSON(f *testing.F) {
	f.Add(`[]`)
	f.Add(`[0, 26, 167]`)
	f.Add(`[168]`)
	f.Add(`[-1]`)
	f.Add(`{"a": 1}`)
	f.Fuzz(func(t *testing.T, s string) {
		var h detector.WeekHours
		if err := json.Unmarshal([]byte(s), &h); err != nil {
			return
		}
		for _, slot := range h.Slots() {
			require.True(t, slot >= 0 && slot < detector.HoursPerWeek, "slot %d", slot)
		}
		data, err := json.Marshal(h)
		require.NoError(t, err)
		var back detector.WeekHours
		require.NoError(t, json.Unmarshal(data, &back))
		require.Equal(t, h, back)
		_ = h.String()
	})
}

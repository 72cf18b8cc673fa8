package sim_test

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/scaling/sim"
)

// BenchmarkSimulate replays 8 weeks of 5-minute steps (16,128 steps, after
// 30 days of history) through the predictive strategy with its defaults
// (refitting hourly, choosing the model weekly), with no baseline.
func BenchmarkSimulate(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	hist := 30 * 288
	y := make([]float64, hist+16128)
	for t := range y {
		y[t] = 1000 + 600*math.Sin(2*math.Pi*float64(t)/288) + 150*math.Sin(2*math.Pi*float64(t)/2016) + 30*r.NormFloat64()
	}
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	demand := provider.Series{Metric: provider.MetricRequests, Start: start, Step: 5 * time.Minute, Values: y}
	s, err := sim.New(sim.Config{CapacityPerInstance: 100, LeadTime: 5 * time.Minute, From: demand.TimeAt(hist), Baselines: []sim.Baseline{}})
	require.NoError(b, err)
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		p, err := scaling.NewPredictive(scaling.PredictiveConfig{CapacityPerInstance: 100, LeadTime: 5 * time.Minute})
		require.NoError(b, err)
		rep, err := s.Run(b.Context(), demand, sim.Policy{Name: "predictive", Strategy: p})
		require.NoError(b, err)
		require.Equal(b, 16128, rep.Steps)
	}
	if cpu > 0 {
		// The host's load inflates ns/op (wall time); the process's CPU
		// time per replay is the figure the goal (≤ 2 s on one core) is
		// about.
		b.ReportMetric(float64(cpuTime()-cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
	}
}

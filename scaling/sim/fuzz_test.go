package sim_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/fuzzfloat"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/scaling/sim"
)

// FuzzReplayPredictive replays any demand (NaN, negative, infinite,
// huge, tiny) through the predictive strategy: an error or a report,
// never a panic, and a report's shares within [0, 1].
func FuzzReplayPredictive(f *testing.F) {
	f.Add(fuzzfloat.Bytes(10, 20, 30, 40, 50, 40, 30, 20, 10, 20, 30, 40), 1.0)
	f.Add(fuzzfloat.Bytes(1, math.NaN(), 3, math.NaN(), math.NaN(), math.NaN(), math.NaN(), 2, 2, 2, 2), 0.5)
	f.Add(fuzzfloat.Bytes(-1, 2, 3), 1.0)
	f.Add(fuzzfloat.Bytes(1e300, 1e-300, 0, 0, 0, 1e300, 5, 5, 5), 1e-300)
	f.Fuzz(func(t *testing.T, b []byte, capacity float64) {
		y := fuzzfloat.Floats(b)
		if len(y) > 400 {
			y = y[:400]
		}
		demand := provider.Series{Metric: provider.MetricRequests, Start: start, Step: time.Hour, Values: y}
		from := start.Add(time.Duration(len(y)/2) * time.Hour)
		s, err := sim.New(sim.Config{CapacityPerInstance: capacity, From: from, SkipGaps: true})
		if err != nil {
			return
		}
		p, err := scaling.NewPredictive(scaling.PredictiveConfig{CapacityPerInstance: capacity, Step: time.Hour, MinHistory: 8 * time.Hour, Horizon: time.Hour})
		if err != nil {
			return
		}
		rep, err := s.Run(t.Context(), demand, sim.Policy{Name: "predictive", Strategy: p})
		if err != nil {
			return
		}
		for _, r := range append([]sim.Result{rep.Oracle}, rep.Results...) {
			m := r.Metrics
			for _, v := range []float64{m.TauU, m.TauO} {
				require.False(t, math.IsNaN(v) || v < 0 || v > 1, "%s: %+v", r.Name, m)
			}
		}
	})
}

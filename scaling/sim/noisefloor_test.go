package sim_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/replaytraces"
)

// noiseFloor is the cost relative to the oracle, over the replayed steps
// of tr, of the cheapest band around a smoother that is not causal: for
// each step t it sizes ⌈(m_t + k·m_t^β) / (c·u*)⌉ instances, m_t the mean
// demand of the steps t−w…t+w other than t itself (the steps just after t
// included, which no forecaster has), with w, β and k chosen afterwards on
// the same steps (w ∈ {1, 2, 3, 6}, β ∈ {0, ¼, ½, ¾, 1}, k the least
// keeping the violation share ≤ maxTauU; windows up to 24 steps give no
// lower figure on these traces). A causal policy would have to beat it to
// reach a cost below it: it measures how much the steps' noise around
// their neighbours alone costs at a violation target.
func noiseFloor(tr replaytraces.Trace, maxTauU float64) (float64, int, float64) {
	per := tr.Capacity * 0.6
	y := tr.Demand.Values
	i0, _ := tr.Demand.Index(tr.From)
	best, bestW, bestB := math.Inf(1), 0, 0.0
	for _, w := range []int{1, 2, 3, 6} {
		var ys, ms []float64
		var oracle float64
		for t := i0; t < len(y); t++ {
			if math.IsNaN(y[t]) {
				continue
			}
			var s float64
			n := 0
			for j := max(0, t-w); j <= min(len(y)-1, t+w); j++ {
				if j != t && !math.IsNaN(y[j]) {
					s += y[j]
					n++
				}
			}
			ys, ms = append(ys, y[t]), append(ms, s/float64(max(n, 1)))
			oracle += math.Max(1, math.Ceil(y[t]/per-1e-9))
		}
		for _, b := range []float64{0, 0.25, 0.5, 0.75, 1} {
			cost := func(k float64) (float64, float64) {
				var c, v float64
				for i, m := range ms {
					n := math.Max(1, math.Ceil((m+k*math.Pow(math.Max(m, 1), b))/per))
					c += n
					if ys[i] > n*per {
						v++
					}
				}
				return c / oracle, v / float64(len(ys))
			}
			hi := 1.0
			for _, v := cost(hi); v > maxTauU && hi < 1e12; _, v = cost(hi) {
				hi *= 2
			}
			lo := -hi
			for hi-lo > 1e-4*math.Max(1, hi) {
				if _, v := cost((lo + hi) / 2); v <= maxTauU {
					hi = (lo + hi) / 2
				} else {
					lo = (lo + hi) / 2
				}
			}
			if c, v := cost(hi); v <= maxTauU && c < best {
				best, bestW, bestB = c, w, b
			}
		}
	}
	return best, bestW, bestB
}

// TestNoiseFloorOfTheReplayGoals backs the two replay goals that
// TestReplayOnRealTraces reports as not met with arithmetic on the
// traces themselves: at τ_U ≤ 5 %, even a band around a smoother that
// sees the steps after the one it sizes (noiseFloor) costs more than
// 1.30× the oracle on the NASA stretches, and more than the 0.98× the
// oracle that 25 % fewer capacity-hours than reactive with headroom would
// take on the taxi trace. If this fails, the protocol or the traces
// changed so that those goals may be within reach: look again at the
// NOT MET lines.
func TestNoiseFloorOfTheReplayGoals(t *testing.T) {
	t.Parallel()
	traces, err := replaytraces.Load("../../testdata")
	require.NoError(t, err)
	for _, tr := range traces {
		floor, w, b := noiseFloor(tr, 0.05)
		t.Logf("%s: %.3f× the oracle at τ_U ≤ 5 %% (±%d steps, β %.2f)", tr.Name, floor, w, b)
		switch {
		case tr.Demand.Step == 5*time.Minute:
			assert.Greater(t, floor, 1.30, "%s: the goal ≤ 1.30× would be within a non-causal band's reach", tr.Name)
		case tr.Name == "nyc-taxi":
			assert.Greater(t, floor, 0.98, "%s: 25 %% fewer capacity-hours than reactive with headroom would be within reach", tr.Name)
		}
	}
}

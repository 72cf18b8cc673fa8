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
	best, bestW, bestB := math.Inf(1), 0, 0.0
	for _, w := range []int{1, 2, 3, 6} {
		sm := smoothe(tr, w)
		ys, ms, oracle := sm.ys, sm.ms, sm.oracle
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

// smoothed are the replayed steps of a trace that are not gaps: their
// demand ys, the mean ms of their neighbours within ±w steps (the step
// itself left out), their hour of day, and the oracle's instances summed
// over them, at per = c·u* per instance.
type smoothed struct {
	ys, ms      []float64
	hours       []int
	oracle, per float64
}

// smoothe returns the replayed steps of tr with their neighbours' means
// within ±w steps (see noiseFloor).
func smoothe(tr replaytraces.Trace, w int) smoothed {
	sm := smoothed{per: tr.Capacity * 0.6}
	y := tr.Demand.Values
	i0, _ := tr.Demand.Index(tr.From)
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
		sm.ys, sm.ms = append(sm.ys, y[t]), append(sm.ms, s/float64(max(n, 1)))
		sm.hours = append(sm.hours, tr.Demand.TimeAt(t).Hour())
		sm.oracle += math.Max(1, math.Ceil(y[t]/sm.per-1e-9))
	}
	return sm
}

// TestNoiseFloorOfTheReplayGoals backs the two replay goals that
// TestReplayOnRealTraces reports as not met with arithmetic on the
// traces themselves: at τ_U ≤ 5 %, even a band around a smoother that
// sees the steps after the one it sizes (noiseFloor) costs more than
// 1.30× the oracle on the NASA stretches, and more than the 0.98× the
// oracle that 25 % fewer capacity-hours than reactive with headroom would
// take on the taxi trace. If this fails, the protocol or the traces
// changed so that those goals may be within reach: look again at the
// NOT MET lines. A width per hour of day does not lower this floor
// either, once the widths are not fitted to the steps they are scored on
// (TestHourOfDayFloor).
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

// hourlyFloor is the least cost relative to the oracle, over the steps of
// sm, of a band with a width of its own for each hour of day: step t is
// sized ⌈(m_t + k_h) / (c·u*)⌉ instances (at least one), h its hour, with
// the 24 widths k_h chosen afterwards on the same steps so that the
// violation share is ≤ maxTauU, the violation budget spread across the
// hours at the least cost. Within an hour the cost only grows with k_h
// and the violations change only where k_h covers one more step, so the
// widths just covering a step are the only ones to try; the least total
// cost within the budget is then exact by dynamic programming over the
// violations spent so far (a Lagrangian multiplier, each hour minimising
// cost + λ·violations, misses it where an hour's trade-off is not convex).
// It returns the cost and the widths (in demand units).
func hourlyFloor(sm smoothed, maxTauU float64) (float64, [24]float64) {
	type choice struct {
		k    float64
		cost float64
		v    int
	}
	var byHour [24][]int
	for i, h := range sm.hours {
		byHour[h] = append(byHour[h], i)
	}
	var choices [24][]choice
	for h, steps := range byHour {
		ks := []float64{math.Inf(-1)} // one instance for every step of the hour
		for _, i := range steps {
			// ⌈(m + k)/per⌉ ≥ ⌈y/per⌉ once m + k > (⌈y/per⌉ − 1)·per.
			k := (math.Ceil(sm.ys[i]/sm.per)-1)*sm.per - sm.ms[i]
			ks = append(ks, k+1e-9*math.Max(1, math.Abs(k)))
		}
		for _, k := range ks {
			c := choice{k: k}
			for _, i := range steps {
				n := math.Max(1, math.Ceil((sm.ms[i]+k)/sm.per))
				c.cost += n
				if sm.ys[i] > n*sm.per {
					c.v++
				}
			}
			choices[h] = append(choices[h], c)
		}
	}
	budget := int(math.Floor(maxTauU*float64(len(sm.ys)) + 1e-9))
	// least[h][b]: the least cost of hours < h spending b violations;
	// pick[h][b] the choice of hour h − 1 that reached it.
	least := make([][]float64, 25)
	pick := make([][]int, 25)
	least[0] = make([]float64, budget+1)
	for b := 1; b <= budget; b++ {
		least[0][b] = math.Inf(1)
	}
	for h := range 24 {
		least[h+1], pick[h+1] = make([]float64, budget+1), make([]int, budget+1)
		for b := range least[h+1] {
			least[h+1][b] = math.Inf(1)
		}
		for b, base := range least[h] {
			for j, c := range choices[h] {
				if b+c.v <= budget && base+c.cost < least[h+1][b+c.v] {
					least[h+1][b+c.v], pick[h+1][b+c.v] = base+c.cost, j
				}
			}
		}
	}
	b := 0
	for i, c := range least[24] {
		if c < least[24][b] {
			b = i
		}
	}
	cost := least[24][b] / sm.oracle
	var ks [24]float64
	for h := 23; h >= 0; h-- {
		c := choices[h][pick[h+1][b]]
		ks[h], b = c.k, b-c.v
	}
	return cost, ks
}

// shapedCost is the cost relative to the oracle, over the steps of sm, of
// the band with the widths ks[h] + δ, δ the least (to 10⁻⁴ of a step's
// instance) keeping the violation share ≤ maxTauU: widths shaped by hour
// on other steps, set to the violation target on these.
func shapedCost(sm smoothed, ks [24]float64, maxTauU float64) float64 {
	cost := func(d float64) (float64, float64) {
		var c, v float64
		for i, m := range sm.ms {
			k := math.Max(ks[sm.hours[i]], -1e300) // −∞: one instance, shifted or not
			n := math.Max(1, math.Ceil((m+k+d)/sm.per))
			c += n
			if sm.ys[i] > n*sm.per {
				v++
			}
		}
		return c / sm.oracle, v / float64(len(sm.ys))
	}
	lo, hi := -sm.per, sm.per
	for _, v := cost(hi); v > maxTauU && hi < 1e12; _, v = cost(hi) {
		hi *= 2
	}
	for _, v := cost(lo); v <= maxTauU && lo > -1e12; _, v = cost(lo) {
		lo *= 2
	}
	for hi-lo > 1e-4*sm.per {
		if _, v := cost((lo + hi) / 2); v <= maxTauU {
			hi = (lo + hi) / 2
		} else {
			lo = (lo + hi) / 2
		}
	}
	c, _ := cost(hi)
	return c
}

// TestHourOfDayFloor asks whether demand noise that changes with the
// time of day puts the replay goals within a band's reach where one width
// for every step does not (TestNoiseFloorOfTheReplayGoals). Chosen on the
// steps it is scored on, a width per hour of day (hourlyFloor, around the
// same smoother) does go below the goal on the NASA stretches: 1.280×
// and 1.286× the oracle at τ_U ≤ 5 % (0.976× and 0.997× on the hourly
// and 30-minute traces, which have 56 and 370 steps per hour to fit the
// 24 widths to). That is fitting, not the demand's shape: the hours'
// widths of one NASA stretch, carried to the other and shifted together
// to its violation target (shapedCost), cost 1.314× and 1.319× there,
// more than one width chosen on that stretch itself (1.309×, 1.307×), so
// sizing each hour differently does not lower the floor one width sets.
// (Its causal form, sizing each step from the empirical quantile of the
// recent forecast errors of its hour of day instead of the model's
// interval, replayed at 1.37–1.41× the oracle on the NASA stretches at
// τ_U of 4.4–5.1 %, where the predictive strategy is at 1.37–1.39×.) It
// asserts that the carried widths cost more than the 1.30× goal on both
// NASA stretches, and that on the taxi trace even the widths fitted in
// sample cost more than the 0.98× the oracle the capacity-hours goal
// would take. If this fails, the traces or the protocol changed: look
// again at the NOT MET lines of TestReplayOnRealTraces.
func TestHourOfDayFloor(t *testing.T) {
	t.Parallel()
	traces, err := replaytraces.Load("../../testdata")
	require.NoError(t, err)
	windows := []int{1, 2, 3, 6}
	var nasa []replaytraces.Trace
	widths := map[string][][24]float64{} // per trace, per window
	for _, tr := range traces {
		in := math.Inf(1)
		for _, w := range windows {
			c, ks := hourlyFloor(smoothe(tr, w), 0.05)
			in = math.Min(in, c)
			widths[tr.Name] = append(widths[tr.Name], ks)
		}
		t.Logf("%s: %.3f× the oracle at τ_U ≤ 5 %% with a width per hour of day chosen on the same steps", tr.Name, in)
		switch {
		case tr.Demand.Step == 5*time.Minute:
			nasa = append(nasa, tr)
		case tr.Name == "nyc-taxi":
			assert.Greater(t, in, 0.98, "%s: 25 %% fewer capacity-hours than reactive with headroom would be within reach", tr.Name)
		}
	}
	require.Len(t, nasa, 2)
	for a, from := range nasa {
		to := nasa[1-a]
		carried := math.Inf(1)
		for i, w := range windows {
			carried = math.Min(carried, shapedCost(smoothe(to, w), widths[from.Name][i], 0.05))
		}
		t.Logf("%s: %.3f× the oracle at τ_U ≤ 5 %% with the widths per hour of %s, shifted together", to.Name, carried, from.Name)
		assert.Greater(t, carried, 1.30, "%s: the goal ≤ 1.30× would be within reach of a band shaped by the hour of day", to.Name)
	}
}

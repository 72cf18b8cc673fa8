package scaling_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/scaling/hpa"
)

// hiddenWindow hides a strategy's HistoryWindow from the engine, which
// then keeps the target's History for EngineConfig.HistoryRetention.
type hiddenWindow struct{ s scaling.Strategy }

func (h hiddenWindow) Recommend(ctx context.Context, st scaling.State) (scaling.Recommendation, error) {
	return h.s.Recommend(ctx, st)
}

// windowOnly shows the engine an HPA's HistoryWindow but hides its
// HistoryExtremes: the engine keeps every record of its window.
type windowOnly struct{ *scaling.HPA }

func (w windowOnly) HistoryExtremes() {} // not an ExtremesReader's

// emptyCloud is an empty in-memory cloud, for an engine that only decides.
func emptyCloud(t *testing.T) *memory.Cloud {
	t.Helper()
	c, err := memory.New(memory.Config{})
	require.NoError(t, err)
	return c
}

// TestHistoryKeepsWhatStrategiesRead pins the engine's retention of a
// target's History: the longest HistoryWindow of its strategies, the
// EngineConfig.HistoryRetention when one does not say, and always the
// newest recommendation of each strategy and the newest change.
func TestHistoryKeepsWhatStrategiesRead(t *testing.T) {
	t.Parallel()
	tenMin := 10 * time.Minute
	hp, err := scaling.NewHPA(scaling.HPAConfig{Behavior: &hpa.Behavior{ScaleDown: &hpa.ScalingRules{StabilizationWindow: &tenMin}}}, "hpa")
	require.NoError(t, err)
	assert.Equal(t, 10*time.Minute, hp.HistoryWindow(), "the scale-down stabilization window (scale up: 0; default policies: 15 s and 60 s)")
	legacy, err := scaling.NewHPA(scaling.HPAConfig{}, "hpa")
	require.NoError(t, err)
	assert.Equal(t, hpa.DefaultDownscaleStabilizationWindow, legacy.HistoryWindow(), "without behavior: the downscale stabilization window")
	longPolicy, err := scaling.NewHPA(scaling.HPAConfig{Behavior: &hpa.Behavior{ScaleUp: &hpa.ScalingRules{
		Policies: []hpa.ScalingPolicy{{Type: hpa.PolicyPods, Value: 1, Period: 20 * time.Minute}}}}}, "hpa")
	require.NoError(t, err)
	assert.Equal(t, 20*time.Minute, longPolicy.HistoryWindow(), "a policy period longer than the windows")
	th, err := scaling.NewThreshold(scaling.ThresholdConfig{})
	require.NoError(t, err)
	assert.Zero(t, th.HistoryWindow())

	cpu := func(now time.Time) provider.Series { return series(provider.MetricCPU, now, time.Minute, 0.5) }
	for _, tc := range []struct {
		name       string
		candidates []scaling.Candidate
		// keep is the age of the oldest record kept (beyond which at most
		// the newest of each strategy remains), slack the prune's delay.
		keep, slack time.Duration
	}{
		{"hpa", []scaling.Candidate{{Name: "hpa", Strategy: windowOnly{hp}}}, 10 * time.Minute, 75 * time.Second},
		{"threshold", []scaling.Candidate{{Name: "threshold", Strategy: th}}, 0, time.Minute},
		{"hpa and threshold", []scaling.Candidate{{Name: "hpa", Strategy: windowOnly{hp}}, {Name: "threshold", Strategy: th}}, 10 * time.Minute, 75 * time.Second},
		{"a strategy without a window", []scaling.Candidate{{Name: "threshold", Strategy: th}, {Name: "custom", Strategy: hiddenWindow{th}}}, scaling.DefaultHistoryRetention, 15 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: emptyCloud(t)}, allowAll{})
			require.NoError(t, err)
			const steps = 4 * 60 * 4 // four hours at 15 s
			now := t0
			for i := range steps {
				now = t0.Add(time.Duration(i) * 15 * time.Second)
				st := stateWith(group(3, 1, 10), cpu(now))
				st.Now = now
				_, err := e.Decide(t.Context(), st, tc.candidates, "")
				require.NoError(t, err)
				if i%40 == 0 { // a change every 10 minutes
					e.RecordChange("web", scaling.Change{At: now, Strategy: "threshold", From: provider.CapacitySpec{Max: 10, Desired: 3}, To: provider.CapacitySpec{Max: 10, Desired: 3}})
				}
			}
			h := e.History("web")
			newest := map[string]time.Time{}
			for _, r := range h.Recommendations {
				newest[r.Strategy] = r.At
			}
			for _, c := range tc.candidates {
				assert.Equal(t, now, newest[c.Name], "the newest recommendation of %s is kept", c.Name)
			}
			for i, r := range h.Recommendations {
				if i > 0 {
					assert.False(t, r.At.Before(h.Recommendations[i-1].At), "records stay in time order")
				}
				age := now.Sub(r.At)
				assert.LessOrEqual(t, age, tc.keep+tc.slack, "record %d of %s is %s old", i, r.Strategy, age)
			}
			// Every record within keep is there: one per strategy per step.
			within := 0
			for _, r := range h.Recommendations {
				if now.Sub(r.At) <= tc.keep {
					within++
				}
			}
			assert.Equal(t, len(tc.candidates)*(int(tc.keep/(15*time.Second))+1), within)
			if tc.name == "hpa" {
				// The HPA itself (an ExtremesReader) proposing the same
				// count at every decision keeps one record of its window.
				e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: emptyCloud(t)}, allowAll{})
				require.NoError(t, err)
				for i := range 100 {
					st := stateWith(group(3, 1, 10), cpu(t0))
					st.Now = t0.Add(time.Duration(i) * 15 * time.Second)
					_, err := e.Decide(t.Context(), st, []scaling.Candidate{{Name: "hpa", Strategy: hp}}, "")
					require.NoError(t, err)
				}
				recs := e.History("web").Recommendations
				require.Len(t, recs, 1)
				assert.Equal(t, t0.Add(99*15*time.Second), recs[0].At)
				// Beside a strategy that does not say what it reads, nothing
				// is dropped: it may read the HPA's records.
				e, err = scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: emptyCloud(t)}, allowAll{})
				require.NoError(t, err)
				for i := range 100 {
					st := stateWith(group(3, 1, 10), cpu(t0))
					st.Now = t0.Add(time.Duration(i) * 15 * time.Second)
					_, err := e.Decide(t.Context(), st, []scaling.Candidate{{Name: "hpa", Strategy: hp}, {Name: "custom", Strategy: hiddenWindow{th}}}, "")
					require.NoError(t, err)
				}
				n := 0
				for _, r := range e.History("web").Recommendations {
					if r.Strategy == "hpa" {
						n++
					}
				}
				assert.Equal(t, 100, n)
			}
			require.NotEmpty(t, h.Changes, "the newest change is kept")
			assert.Equal(t, t0.Add(time.Duration(steps-1)/40*40*15*time.Second), h.Changes[len(h.Changes)-1].At)
			for _, c := range h.Changes[:len(h.Changes)-1] {
				assert.LessOrEqual(t, now.Sub(c.At), tc.keep+tc.slack)
			}
		})
	}
}

// TestHPADecisionsDoNotDependOnRetention replays random CPU through an
// HPA (with a behavior, and for odd seeds without) twice: once with the
// History kept for its HistoryWindow and its records superseded
// (ExtremesReader), once for two hours with every record (the strategy
// hidden behind a wrapper). Every decision must be the same: the window
// covers whatever can change a decision (stabilization windows in both
// directions, the policies' periods, the last change), and a superseded
// record is never the highest or lowest of a window. Some steps decide
// twice at the same time.
func TestHPADecisionsDoNotDependOnRetention(t *testing.T) {
	t.Parallel()
	for seed := range uint64(6) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, 7))
			up, down := time.Duration(rng.IntN(4))*time.Minute, time.Duration(3+rng.IntN(8))*time.Minute
			cfg := scaling.HPAConfig{Behavior: &hpa.Behavior{
				ScaleUp: &hpa.ScalingRules{StabilizationWindow: &up, SelectPolicy: hpa.SelectMax, Policies: []hpa.ScalingPolicy{
					{Type: hpa.PolicyPods, Value: 2, Period: time.Duration(1+rng.IntN(15)) * time.Minute},
					{Type: hpa.PolicyPercent, Value: 50, Period: time.Minute}}},
				ScaleDown: &hpa.ScalingRules{StabilizationWindow: &down, SelectPolicy: hpa.SelectMin, Policies: []hpa.ScalingPolicy{
					{Type: hpa.PolicyPods, Value: 1, Period: time.Duration(1+rng.IntN(20)) * time.Minute}}},
			}}
			if seed%2 == 1 {
				cfg = scaling.HPAConfig{Controller: hpa.Config{DownscaleStabilizationWindow: down}}
			}
			short, err := scaling.NewHPA(cfg, "hpa")
			require.NoError(t, err)
			long, err := scaling.NewHPA(cfg, "hpa")
			require.NoError(t, err)
			engines := [2]*scaling.Engine{}
			for i := range engines {
				engines[i], err = scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: emptyCloud(t)}, allowAll{})
				require.NoError(t, err)
			}
			candidates := [2][]scaling.Candidate{{{Name: "hpa", Strategy: short}}, {{Name: "hpa", Strategy: hiddenWindow{long}}}}
			desired := [2]int{4, 4}
			changes := 0
			now := t0
			for i := range 3 * 60 * 4 { // three hours at 15 s
				if rng.IntN(8) != 0 {
					now = now.Add(15 * time.Second)
				}
				// Demand in instances: a 40-minute wave from 2 to 30, with noise.
				demand := 16 + 14*math.Sin(2*math.Pi*float64(i)/160) + 4*(rng.Float64()-0.5)
				var got [2]scaling.Decision
				for k, e := range engines {
					load := max(0.01, min(1, demand/float64(desired[k])))
					st := stateWith(group(desired[k], 0, 40), series(provider.MetricCPU, now, time.Minute, load))
					st.Now, st.History = now, e.History("web") // as the Autoscaler reads it
					got[k], err = e.Decide(t.Context(), st, candidates[k], "")
					require.NoError(t, err)
					if got[k].Change {
						changes += 1 - k
						e.RecordChange("web", scaling.Change{At: now, Strategy: "hpa", From: st.Target.Capacity.CapacitySpec, To: got[k].Chosen.Capacity})
						desired[k] = got[k].Chosen.Capacity.Desired
					}
				}
				require.Equal(t, got[1].Chosen.Capacity, got[0].Chosen.Capacity, "step %d at %s: %s | %s", i, now, got[0].Chosen.Reason, got[1].Chosen.Reason)
				require.Equal(t, got[1].Chosen.Reason, got[0].Chosen.Reason, "step %d", i)
			}
			assert.Greater(t, changes, 20, "the replay scales the group often")
			assert.Less(t, len(engines[0].History("web").Recommendations), len(engines[1].History("web").Recommendations), "the HPA's window keeps less than two hours")
		})
	}
}

package scaling_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
)

// A strategy that leaves a target's policy while the target stays (a
// policy reloaded without it) is forgotten with it: its records leave
// the target's History, and when it comes back it decides as a new one,
// as a target that comes back does (TestTargetThatComesBackStartsClean):
// the HPA's first decision keeps the current count through its
// downscale stabilization. It kept its newest record for good (prune
// keeps each strategy's newest), and the HPA that came back read it as
// a history and scaled 4 → 1 at once.
func TestStrategyThatComesBackStartsClean(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		back := time.Now()
		cpuSince(t, c, back.Add(-3*time.Hour), 0.1) // ⌈4 × 10 % / 60 %⌉ = 1
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{})
		require.NoError(t, err)
		fleet := scaling.Fleet{Inventory: c, Metrics: c}
		both := webHPA()
		both.Targets[0].Strategy = "hpa"
		both.Targets[0].Strategies = append(both.Targets[0].Strategies, scaling.StrategySpec{Type: scaling.StrategyThreshold})
		thresholdOnly := webHPA()
		thresholdOnly.Targets[0].Strategies = []scaling.StrategySpec{{Type: scaling.StrategyThreshold}}

		a, err := scaling.NewAutoscaler(both, e, fleet)
		require.NoError(t, err)
		rep := a.Evaluate(t.Context(), back.Add(-2*time.Hour))
		require.NoError(t, rep.Err())
		require.Equal(t, 4, rep.Targets[0].Decision.Chosen.Capacity.Desired, "a new strategy's first decision is stabilized")

		// The policy drops the HPA (a reload; the new Autoscaler is made
		// first, then the old one closed); it comes back two hours later.
		b, err := scaling.NewAutoscaler(thresholdOnly, e, fleet)
		require.NoError(t, err)
		a.Close()
		for _, r := range e.History("web").Recommendations {
			assert.NotEqual(t, "hpa", r.Strategy, "the strategy that left is forgotten: %+v", r)
		}
		rep = b.Evaluate(t.Context(), back.Add(-time.Hour))
		require.NoError(t, rep.Err())
		again, err := scaling.NewAutoscaler(both, e, fleet)
		require.NoError(t, err)
		b.Close()
		rep = again.Evaluate(t.Context(), back)
		require.NoError(t, rep.Err())
		d := rep.Targets[0].Decision
		require.Equal(t, "hpa", d.Chosen.Strategy)
		assert.Equal(t, 4, d.Chosen.Capacity.Desired, "the strategy that came back is stabilized as a new one: %s", d.Chosen.Reason)
		threshold := false
		for _, r := range e.History("web").Recommendations {
			threshold = threshold || r.Strategy == "threshold"
		}
		assert.True(t, threshold, "the strategy that stayed keeps its records")
	})
}

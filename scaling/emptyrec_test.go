package scaling_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
)

// A host's strategy that returns the zero Recommendation (no capacity,
// no opinion) keeps the group as it is: it was read as 0/0/0, bounded to
// the policy's minimum, and the plan took the group from 4 to 1 with its
// max at 1. A strategy that sets its capacity is followed as before,
// down to zero with its max kept.
func TestZeroRecommendationKeepsTheCapacity(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t))
		require.NoError(t, err)
		target := webTarget(t, c)
		target.Min = 1
		before := target.Capacity.CapacitySpec
		require.Equal(t, 4, before.Desired)
		empty := scaling.StrategyFunc(func(context.Context, scaling.State) (scaling.Recommendation, error) {
			return scaling.Recommendation{}, nil
		})
		d, err := e.Decide(t.Context(), scaling.State{Now: time.Now(), Target: target}, []scaling.Candidate{{Name: "empty", Strategy: empty}}, "")
		require.NoError(t, err)
		assert.False(t, d.Change, "%+v", d.Chosen)
		assert.Equal(t, before, d.Chosen.Capacity)
		assert.Equal(t, 4, d.Chosen.Proposal)
		assert.Empty(t, e.Plan(d, scaling.PlanOptions{}).Steps)

		target.Min = 0
		d, err = e.Decide(t.Context(), scaling.State{Now: time.Now(), Target: target}, []scaling.Candidate{{Name: "zero", Strategy: scaling.StrategyFunc(
			func(_ context.Context, st scaling.State) (scaling.Recommendation, error) {
				spec := st.Target.Capacity.CapacitySpec
				spec.Desired, spec.Min = 0, 0
				return scaling.Recommendation{Capacity: spec, Fitness: 1}, nil
			})}}, "")
		require.NoError(t, err)
		assert.True(t, d.Change)
		assert.Equal(t, 0, d.Chosen.Capacity.Desired)
		assert.Equal(t, before.Max, d.Chosen.Capacity.Max, "its max kept")
	})
}

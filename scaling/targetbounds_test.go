package scaling_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
)

// TestDecideRefusesAGroupWithoutBounds: a group's Target built by hand
// without its Max (0, where a policy's 0 means DefaultMax), or with a Max
// below its Min, was decided on: every recommendation was clamped into
// [Min, 0], so a strategy that kept a group of 6 had the engine plan a
// scale in to 0. Decide now refuses such a target with an error matching
// provider.ErrInvalid naming target.max (or target.min), and asks no
// strategy.
func TestDecideRefusesAGroupWithoutBounds(t *testing.T) {
	t.Parallel()
	eng, keep, asked := keepingEngine(t)
	for _, tt := range []struct {
		name     string
		min, max int
		field    string
	}{
		{name: "no max", min: 0, max: 0, field: "target.max"},
		{name: "max below min", min: 4, max: 2, field: "target.max"},
		{name: "negative min", min: -1, max: 10, field: "target.min"},
	} {
		d, err := eng.Decide(t.Context(), stateWith(group(6, tt.min, tt.max)), keep, "")
		var inv *provider.InvalidError
		require.ErrorAs(t, err, &inv, "%s: chose %+v", tt.name, d.Chosen.Capacity)
		assert.Equal(t, tt.field, inv.Field, tt.name)
		assert.False(t, d.Change, tt.name)
	}
	assert.Zero(t, *asked, "no strategy is asked")
	d, err := eng.Decide(t.Context(), stateWith(group(6, 1, 10)), keep, "")
	require.NoError(t, err)
	assert.False(t, d.Change)
}

// keepingEngine returns an engine on a memory cloud, one candidate that
// keeps the target's capacity at fitness 1, and how many times it was
// asked.
func keepingEngine(t *testing.T) (*scaling.Engine, []scaling.Candidate, *int) {
	t.Helper()
	cloud, err := memory.New(memory.Config{})
	require.NoError(t, err)
	eng, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: cloud}, allowAll{})
	require.NoError(t, err)
	asked := new(int)
	keep := scaling.StrategyFunc(func(_ context.Context, st scaling.State) (scaling.Recommendation, error) {
		*asked++
		return scaling.Recommendation{Capacity: st.Target.Capacity.CapacitySpec, Proposal: st.Target.Capacity.Desired, Fitness: 1, Reason: "keep"}, nil
	})
	return eng, []scaling.Candidate{{Name: "keep", Strategy: keep}}, asked
}

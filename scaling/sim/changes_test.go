package sim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/scaling/sim"
)

// TestRunCountsAChangeAtTheFirstStep: Changes and Reversals count every
// change of the desired capacity from the capacity serving before the
// first replayed step, which the oracle and every policy share, a change
// at the first replayed step included. It was left out, for all alike,
// which favoured a policy that changes at the first step over one that
// makes the same change a step later: on demand 10 before the replay,
// then 30, 30, 10, 50, the oracle (1 → 3 → 3 → 1 → 5) counted 2 changes,
// as many as the reactive baseline, which makes 2 of its 3 in the
// replay, and a policy that went from 1 to 4 at the first step and kept
// it counted none.
func TestRunCountsAChangeAtTheFirstStep(t *testing.T) {
	t.Parallel()
	s, err := sim.New(handConfig())
	require.NoError(t, err)
	d := hand()
	d.Values = []float64{10, 30, 30, 10, 50}
	rep, err := s.Run(t.Context(), d, sim.Policy{Name: "four", Strategy: script(4)}, sim.Policy{Name: "down", Strategy: script(4, 1, 1, 3)})
	require.NoError(t, err)
	o := rep.Oracle.Metrics
	assert.Equal(t, 3, o.Changes, "1 → 3, 3 → 1, 1 → 5")
	assert.Equal(t, 2, o.Reversals)
	r, _ := rep.Result("reactive")
	_, desired, _ := actualsOf(r)
	require.Equal(t, []int{1, 3, 3, 1}, desired)
	assert.Equal(t, 2, r.Metrics.Changes)
	r, _ = rep.Result("four")
	assert.Equal(t, 1, r.Metrics.Changes, "1 → 4 at the first step")
	assert.Equal(t, 0, r.Metrics.Reversals)
	r, _ = rep.Result("down")
	assert.Equal(t, 3, r.Metrics.Changes, "1 → 4 → 1 → 1 → 3")
	assert.Equal(t, 2, r.Metrics.Reversals, "the scale in after the first step's scale out is one")
}

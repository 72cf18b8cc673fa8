package safety_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// TestLimitsRuleEmptyGroupHasAKnownSize: a group without a Fleet is its
// own fleet of Current.Desired instances, so one scaled to zero (with
// AllowZero) is a fleet of known size 0, not of unknown size. A
// bounds-only scale_in of it (Max lowered, desired kept at 0) takes no
// instance: it passes when nothing of the group was acted on in the
// window, and is blocked, saying the group is empty, when the window
// holds a scale-in of it (as a group whose share is spent blocks its
// bounds-only scale_in). (Both were blocked as 'fleet "g-0" has unknown
// size', recommending to set Proposal.FleetSize, which a group's
// proposal does not need.)
func TestLimitsRuleEmptyGroupHasAKnownSize(t *testing.T) {
	t.Parallel()
	hist := &safety.MemoryHistory{}
	require.NoError(t, hist.Record("g-spent", t0.Add(-10*time.Minute), 2))
	r, err := safety.NewLimitsRule(safety.LimitsConfig{AllowZero: true}, hist)
	require.NoError(t, err)
	lowerMax := func(id string) safety.Proposal {
		return safety.Proposal{Action: safety.ActionScaleIn, Resource: provider.Resource{ID: id, Kind: provider.KindGroup, State: provider.StateRunning},
			Current: provider.CapacitySpec{Min: 0, Max: 10, Desired: 0}, Target: provider.CapacitySpec{Min: 0, Max: 5, Desired: 0},
			Requester: "autoscaler", Now: t0}
	}
	p := lowerMax("g-0")
	require.NoError(t, p.Validate())
	got, err := r.Check(t.Context(), p)
	require.NoError(t, err)
	assert.Equal(t, safety.Pass, got.Outcome, got.Reason)

	got, err = r.Check(t.Context(), lowerMax("g-spent"))
	require.NoError(t, err)
	assert.Equal(t, safety.Block, got.Outcome)
	assert.Equal(t, `fleet "g-spent": 2 acted on in the last 1h0m0s and none left (limit 50%)`, got.Reason)
	assert.NotContains(t, got.Recommendations, "set Proposal.FleetSize")
}

// TestLimitsRuleEmptyGroupOneActedOnIsBlocked: an empty group's share is
// spent by any instance acted on in the window, one included, whether
// recorded in the history or planned by the run and not yet recorded.
func TestLimitsRuleEmptyGroupOneActedOnIsBlocked(t *testing.T) {
	t.Parallel()
	hist := &safety.MemoryHistory{}
	require.NoError(t, hist.Record("g-one", t0.Add(-10*time.Minute), 1))
	r, err := safety.NewLimitsRule(safety.LimitsConfig{AllowZero: true}, hist)
	require.NoError(t, err)
	lowerMax := func(id string, planned int) safety.Proposal {
		return safety.Proposal{Action: safety.ActionScaleIn, Resource: provider.Resource{ID: id, Kind: provider.KindGroup, State: provider.StateRunning},
			Current: provider.CapacitySpec{Min: 0, Max: 10, Desired: 0}, Target: provider.CapacitySpec{Min: 0, Max: 5, Desired: 0},
			Requester: "autoscaler", Now: t0, FleetPlanned: planned}
	}
	got, err := r.Check(t.Context(), lowerMax("g-one", 0))
	require.NoError(t, err)
	assert.Equal(t, safety.Block, got.Outcome, got.Reason)
	assert.Equal(t, `fleet "g-one": 1 acted on in the last 1h0m0s and none left (limit 50%)`, got.Reason)

	got, err = r.Check(t.Context(), lowerMax("g-planned", 1))
	require.NoError(t, err)
	assert.Equal(t, safety.Block, got.Outcome, got.Reason)
	assert.Contains(t, got.Reason, "1 of them planned")
}

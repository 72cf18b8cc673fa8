package safety_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// TestLimitsRuleBoundsAChangedMinOrMax: the limits rule's capacity range
// ([1, 10] by default: never to zero, a low ceiling against a runaway
// scale-out) was checked against desired capacity only, so a scale_out
// that raised only Max to 1000, or a scale_in that lowered only Min to 0,
// passed the default rules, and the group's own scaling could then run
// it to 1000 or to zero. A bound the proposal moves further outside the
// range is now blocked; a bound it leaves as it is (a group made with a
// Max of 100) or moves towards the range is not.
func TestLimitsRuleBoundsAChangedMinOrMax(t *testing.T) {
	t.Parallel()
	r, err := safety.NewLimitsRule(safety.LimitsConfig{NoFleetShare: true}, nil)
	require.NoError(t, err)
	group := func(a safety.Action, cur, target provider.CapacitySpec) safety.Proposal {
		return safety.Proposal{Action: a, Resource: provider.Resource{ID: "g-1", Kind: provider.KindGroup, State: provider.StateRunning},
			Current: cur, Target: target, Requester: "autoscaler", Now: t0}
	}
	tests := []struct {
		name       string
		give       safety.Proposal
		want       safety.Outcome
		wantReason string
	}{
		{"max raised above the ceiling", group(safety.ActionScaleOut,
			provider.CapacitySpec{Min: 1, Max: 10, Desired: 4}, provider.CapacitySpec{Min: 1, Max: 1000, Desired: 4}),
			safety.Block, "max 1000 is above the maximum capacity 10"},
		{"max raised above the ceiling with desired", group(safety.ActionScaleOut,
			provider.CapacitySpec{Min: 1, Max: 10, Desired: 4}, provider.CapacitySpec{Min: 1, Max: 20, Desired: 5}),
			safety.Block, "max 20 is above the maximum capacity 10"},
		{"min lowered below the floor", group(safety.ActionScaleIn,
			provider.CapacitySpec{Min: 2, Max: 10, Desired: 4}, provider.CapacitySpec{Min: 0, Max: 10, Desired: 4}),
			safety.Block, "min 0 is below the minimum capacity 1"},
		{"max within the range", group(safety.ActionScaleOut,
			provider.CapacitySpec{Min: 1, Max: 8, Desired: 4}, provider.CapacitySpec{Min: 1, Max: 10, Desired: 4}),
			safety.Pass, ""},
		{"max kept above the ceiling", group(safety.ActionScaleOut,
			provider.CapacitySpec{Min: 1, Max: 100, Desired: 4}, provider.CapacitySpec{Min: 1, Max: 100, Desired: 5}),
			safety.Pass, ""},
		{"max lowered towards the ceiling", group(safety.ActionScaleIn,
			provider.CapacitySpec{Min: 1, Max: 100, Desired: 5}, provider.CapacitySpec{Min: 1, Max: 50, Desired: 4}),
			safety.Pass, ""},
		{"min kept below the floor", group(safety.ActionScaleIn,
			provider.CapacitySpec{Min: 0, Max: 10, Desired: 5}, provider.CapacitySpec{Min: 0, Max: 10, Desired: 4}),
			safety.Pass, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.NoError(t, tt.give.Validate())
			got, err := r.Check(t.Context(), tt.give)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.Outcome, got.Reason)
			assert.Equal(t, tt.wantReason, got.Reason)
		})
	}
}

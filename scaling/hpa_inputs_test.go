package scaling_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
)

// TestHPAInputsNeverNil checks that an HPA decision that read no metric
// (the group above the policy's max) has empty inputs, not nil ones, on
// the first call and on later ones, as every other decision (found by a
// review: the inputs' slab gave nil when new).
func TestHPAInputsNeverNil(t *testing.T) {
	t.Parallel()
	st := scaling.State{Now: time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC), Target: scaling.Target{
		ID: "web", Resource: provider.Resource{ID: "web", Kind: provider.KindGroup, State: provider.StateRunning},
		Capacity: provider.Capacity{CapacitySpec: provider.CapacitySpec{Min: 0, Max: 100, Desired: 9}, Current: 9, Ready: 9},
		Min:      1, Max: 5}}
	s, err := scaling.NewHPA(scaling.HPAConfig{}, "hpa")
	require.NoError(t, err)
	for i := range 3 {
		rec, err := s.Recommend(t.Context(), st)
		require.NoError(t, err)
		require.Equal(t, 5, rec.Capacity.Desired)
		require.NotNil(t, rec.Inputs, "call %d", i)
		require.Empty(t, rec.Inputs, "call %d", i)
	}
}

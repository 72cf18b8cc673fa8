package safety_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// A scale_out raises a group's desired capacity or its bounds
// (ActionScaleOut); one that keeps the desired capacity and lowers a
// bound is a scale_in (as the scaling planner labels it), and the engine
// refuses it as invalid, naming the bound: it passed the critical rule,
// which lets a scale_out through and asks approval for a scale_in, so a
// production group's ceiling was cut from 100 to 5 with no approval.
func TestScaleOutThatLowersABoundIsRefused(t *testing.T) {
	t.Parallel()
	none := provider.BackupCatalogFunc(func(context.Context, string, time.Time) ([]provider.Backup, error) { return nil, nil })
	rules, err := safety.Builtin(safety.BuiltinConfig{}, safety.BuiltinSources{Backups: none, History: &safety.MemoryHistory{}})
	require.NoError(t, err)
	eng, err := safety.New(safety.Config{}, rules)
	require.NoError(t, err)

	prod := func(cur, target provider.CapacitySpec, a safety.Action) safety.Proposal {
		p := scale("web", cur.Desired, target.Desired)
		p.Action, p.Current, p.Target = a, cur, target
		p.Resource.Environment = "production"
		return p
	}
	tests := []struct {
		name      string
		give      safety.Proposal
		wantField string
	}{
		{"max lowered", prod(provider.CapacitySpec{Min: 1, Max: 100, Desired: 5}, provider.CapacitySpec{Min: 1, Max: 5, Desired: 5}, safety.ActionScaleOut), "target.max"},
		{"min lowered", prod(provider.CapacitySpec{Min: 4, Max: 10, Desired: 5}, provider.CapacitySpec{Min: 1, Max: 10, Desired: 5}, safety.ActionScaleOut), "target.min"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.give.Validate()
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.wantField, ie.Field)
			d, err := eng.Evaluate(t.Context(), tt.give)
			require.ErrorIs(t, err, safety.ErrBlocked)
			assert.False(t, d.Allowed)

			// Labelled as what it is, it needs an approval.
			in := tt.give
			in.Action = safety.ActionScaleIn
			require.NoError(t, in.Validate())
			d, err = eng.Evaluate(t.Context(), in)
			require.ErrorIs(t, err, safety.ErrApprovalRequired)
			assert.False(t, d.Allowed)
		})
	}

	// A scale_out that raises the desired capacity, or keeps it and
	// raises a bound, is valid.
	ok := prod(provider.CapacitySpec{Min: 1, Max: 10, Desired: 5}, provider.CapacitySpec{Min: 1, Max: 20, Desired: 5}, safety.ActionScaleOut)
	require.NoError(t, ok.Validate())
	ok = prod(provider.CapacitySpec{Min: 1, Max: 10, Desired: 5}, provider.CapacitySpec{Min: 1, Max: 10, Desired: 6}, safety.ActionScaleOut)
	require.NoError(t, ok.Validate())
}

package reaper_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/reaper"
)

// doubling is a custom inventory that lists some resources twice, the
// second copy with another environment label.
type doubling struct {
	*memory.Cloud
	twice map[string]bool
}

func (d doubling) List(ctx context.Context, f provider.Filter) ([]provider.Resource, error) {
	rs, err := d.Cloud.List(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]provider.Resource, 0, 2*len(rs))
	for _, r := range rs {
		out = append(out, r)
		if d.twice[r.ID] {
			c := r.Clone()
			c.Environment = "production"
			out = append(out, c)
		}
	}
	return out, nil
}

// A resource the inventory lists more than once is refused with an error
// naming it: one record, failed at the inventory stage, not detected, not
// acted on (its copies may disagree, here on the environment that the
// critical rule reads). The others go through as usual. (Issue 13, item 8:
// before, the duplicate's record said "failed: no verdict" with no error.)
func TestDuplicateInventoryIDsAreRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-1", cpu: 0.02}, vm{id: "i-2", cpu: 0.02}, vm{id: "i-3", cpu: 0.02})
	fleet := e.fleet()
	fleet.Inventory = doubling{Cloud: e.cloud, twice: map[string]bool{"i-2": true}}
	r, err := reaper.New(reaper.Config{Execute: true}, fleet, e.ensemble, e.engine, reaper.WithClock(e.waitClock()))
	require.NoError(t, err)

	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	require.Len(t, rep.Records, 3, "one record per resource ID")
	assert.Equal(t, []string{"i-1", "i-2", "i-3"}, []string{rep.Records[0].ResourceID, rep.Records[1].ResourceID, rep.Records[2].ResourceID})
	dup := record(t, rep, "i-2")
	assert.Equal(t, reaper.OutcomeFailed, dup.Outcome)
	assert.Equal(t, "listed 2 times by the inventory", dup.Reason)
	assert.Nil(t, dup.Verdict, "not detected")
	require.ErrorIs(t, dup.Err(), provider.ErrInvalid)
	var ie *provider.InvalidError
	require.ErrorAs(t, dup.Err(), &ie)
	assert.Equal(t, "resource.id", ie.Field)
	assert.Equal(t, "i-2", ie.Value, "the error names the ID")
	var re *reaper.ResourceError
	require.ErrorAs(t, dup.Err(), &re)
	assert.Equal(t, reaper.StageInventory, re.Stage)
	require.ErrorIs(t, rep.Err(), provider.ErrInvalid, "the report carries it")

	for _, id := range []string{"i-1", "i-3"} {
		assert.Equal(t, reaper.OutcomeActed, record(t, rep, id).Outcome, id)
	}
	assert.Equal(t, 3, rep.Totals.Resources)
	assert.Equal(t, 1, rep.Totals.Failed)
	assert.Equal(t, 1, rep.Totals.Errors)
	for _, m := range e.actions() {
		assert.NotEqual(t, "i-2", m.ResourceID, "the duplicate is not acted on")
	}
	assert.Len(t, e.actions(), 2)
}

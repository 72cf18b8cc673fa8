package scaling_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
)

// TestInterruptedPlanOfAnotherEarlierGroupIsNotResumed: a plan whose
// group of that ID now reports an earlier launch time than the plan's
// (another group: one restored, or read from a provider whose clock
// moved) is not resumed either, as the engine decides on any other
// launch time; the error said it was launched "after the plan's", and
// Resume's doc that only a later launch time stops the plan.
func TestInterruptedPlanOfAnotherEarlierGroupIsNotResumed(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, err := memory.New(memory.Config{})
		require.NoError(t, err)
		require.NoError(t, c.AddGroup(provider.Resource{ID: "web", Kind: provider.KindGroup}, provider.CapacitySpec{Min: 1, Max: 50, Desired: 4}))
		j := scaling.NewMemoryJournal()
		e, err := scaling.NewEngine(scaling.EngineConfig{VerifyWindow: time.Second}, scaling.Cloud{Scaler: c, Inventory: c}, allowAll{}, scaling.WithJournal(j))
		require.NoError(t, err)
		p := planFor(t, e, c, "web", 8)
		p.Target.Resource.LaunchTime = p.Target.Resource.LaunchTime.Add(time.Hour)
		x := scaling.Execution{Plan: p, Status: scaling.PlanInterrupted, UpdatedAt: c.Now()}
		for _, s := range p.Steps {
			x.Steps = append(x.Steps, scaling.StepRecord{Step: s, Status: scaling.StepPending})
		}
		require.NoError(t, j.Save(t.Context(), x))

		xs, err := e.Resume(t.Context(), "web", c.Now(), 15*time.Minute)
		require.ErrorIs(t, err, scaling.ErrDrift)
		require.Len(t, xs, 1)
		assert.Equal(t, scaling.PlanStopped, xs[0].Status, xs[0].Reason)
		assert.NotContains(t, xs[0].Reason, "after the plan's", "the group was launched before the plan's")
		assert.Empty(t, setCapacityOps(c), "nothing written")
	})
}

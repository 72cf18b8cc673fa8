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

// TestInterruptedPlanOfARecreatedTargetIsNotResumed: a plan interrupted
// on a group that was deleted, and a new group made with the same ID
// (a preview environment recreated, a target that left the policy and
// came back within the PlanTTL), is not resumed on the new group: the
// plan was decided for the old one. Resume stops it without acting
// (ErrDrift at StageRead, naming both launch times); it scaled the new
// group 4 → 8 on the old group's decision. The same group (its launch
// time unchanged) is resumed as before.
func TestInterruptedPlanOfARecreatedTargetIsNotResumed(t *testing.T) {
	t.Parallel()
	for _, recreated := range []bool{true, false} {
		name := "same group"
		if recreated {
			name = "recreated"
		}
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, err := memory.New(memory.Config{})
				require.NoError(t, err)
				require.NoError(t, c.AddGroup(provider.Resource{ID: "web", Kind: provider.KindGroup}, provider.CapacitySpec{Min: 1, Max: 50, Desired: 4}))
				j := scaling.NewMemoryJournal()
				e, err := scaling.NewEngine(scaling.EngineConfig{VerifyWindow: time.Second}, scaling.Cloud{Scaler: c, Inventory: c}, allowAll{}, scaling.WithJournal(j))
				require.NoError(t, err)
				p := planFor(t, e, c, "web", 8)
				if recreated {
					// Planned on the group of that ID that was there an
					// hour before this one.
					p.Target.Resource.LaunchTime = p.Target.Resource.LaunchTime.Add(-time.Hour)
				}
				x := scaling.Execution{Plan: p, Status: scaling.PlanInterrupted, UpdatedAt: c.Now()}
				for _, s := range p.Steps {
					x.Steps = append(x.Steps, scaling.StepRecord{Step: s, Status: scaling.StepPending})
				}
				require.NoError(t, j.Save(t.Context(), x))

				xs, err := e.Resume(t.Context(), "web", c.Now(), 15*time.Minute)
				require.Len(t, xs, 1)
				capa, cerr := c.Capacity(t.Context(), "web")
				require.NoError(t, cerr)
				if !recreated {
					require.NoError(t, err)
					assert.Equal(t, scaling.PlanCompleted, xs[0].Status, xs[0].Reason)
					assert.Equal(t, 8, capa.Desired)
					return
				}
				require.ErrorIs(t, err, scaling.ErrDrift)
				var serr *scaling.StepError
				require.ErrorAs(t, err, &serr)
				assert.Equal(t, scaling.StageRead, serr.Stage)
				assert.Equal(t, scaling.PlanStopped, xs[0].Status, xs[0].Reason)
				assert.Contains(t, xs[0].Reason, "launched")
				assert.Equal(t, 4, capa.Desired, "the new group is not scaled")
				assert.Empty(t, setCapacityOps(c), "nothing written")
				saved, found, err := j.Load(t.Context(), p.ID)
				require.NoError(t, err)
				require.True(t, found)
				assert.True(t, saved.Status.Final(), "the plan is ended, not resumed again")
			})
		})
	}
}

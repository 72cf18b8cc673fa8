package scaling_test

import (
	"context"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
)

// keptFloor is a Scaler whose group has a floor of its own, as a
// Kubernetes workload's bounds (its host's Config.Workloads entry, its
// annotations) are: stopped, it reports a Min of 0, and a Min of 0 passed
// back with its Max keeps the floor: Capacity then reports the floor (at
// most the desired capacity) in its place.
type keptFloor struct {
	*memory.Cloud
	floor int
}

func (s keptFloor) SetCapacity(ctx context.Context, id string, want provider.CapacitySpec) error {
	cur, err := s.Capacity(ctx, id)
	if err != nil {
		return err
	}
	if want.Min == 0 && want.Max == cur.Max && want.Desired > 0 {
		want.Min = min(s.floor, want.Desired)
	}
	return s.Cloud.SetCapacity(ctx, id, want)
}

// TestWakeOfAGroupThatKeepsItsFloor: a stopped group whose driver keeps
// its own floor (the Kubernetes driver with a host's Config.Workloads
// entry or bound annotations) is woken by the engine: each step of the
// gradual wake from 0 is where the plan put it when the desired capacity
// and Max are its own and the Min the driver's floor in place of the 0
// the step carried from the stopped group's reported bounds. The engine
// compared the whole spec, found the floor in place of 0, took the first
// step as not settled and rolled the wake back.
func TestWakeOfAGroupThatKeepsItsFloor(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 0, memory.Config{})
		sc := keptFloor{Cloud: c, floor: 2}
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: sc, Metrics: c}, safetyGate(t))
		require.NoError(t, err)
		p := e.Plan(decide(t, e, c, 3), scaling.PlanOptions{})
		require.Len(t, p.Steps, 3, "0 → 1 → 2 → 3, one instance a step from so few")
		assert.Equal(t, provider.CapacitySpec{Min: 0, Max: 50, Desired: 3}, p.To)
		x, err := e.Execute(t.Context(), p)
		require.NoError(t, err)
		require.Equal(t, scaling.PlanCompleted, x.Status, x.Reason)
		for _, s := range x.Steps {
			assert.Equal(t, scaling.StepVerified, s.Status, "step %d: %s", s.Step.Index, s.Reason)
		}
		got, err := c.Capacity(t.Context(), "web")
		require.NoError(t, err)
		assert.Equal(t, provider.CapacitySpec{Min: 2, Max: 50, Desired: 3}, got.CapacitySpec, "the floor kept")
	})
}

// TestBoundsOnlyStepToAFloorOfZeroIsWritten: a step that lowers only the
// Min to 0 on a driver that stores what it is given is written, not taken
// as in effect because the group's Min is above the 0 it carries (the
// engine reads a floor kept in place of a Min of 0 as the step's only
// when the group is not exactly where the step starts).
func TestBoundsOnlyStepToAFloorOfZeroIsWritten(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, err := memory.New(memory.Config{})
		require.NoError(t, err)
		require.NoError(t, c.AddGroup(provider.Resource{ID: "web", Kind: provider.KindGroup}, provider.CapacitySpec{Min: 2, Max: 50, Desired: 4}))
		setCPU(t, c, "web", 0.5)
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t))
		require.NoError(t, err)
		floorZero := scaling.StrategyFunc(func(_ context.Context, s scaling.State) (scaling.Recommendation, error) {
			spec := s.Target.Capacity.CapacitySpec
			spec.Min = 0
			return scaling.Recommendation{Capacity: spec, Proposal: spec.Desired, Reason: "allow zero", Fitness: 1}, nil
		})
		d, err := e.Decide(t.Context(), scaling.State{Now: c.Now(), Target: webTarget(t, c)}, []scaling.Candidate{{Name: "zero", Strategy: floorZero}}, "")
		require.NoError(t, err)
		require.True(t, d.Change)
		p := e.Plan(d, scaling.PlanOptions{})
		require.Len(t, p.Steps, 1)
		x, err := e.Execute(t.Context(), p)
		require.NoError(t, err)
		require.Equal(t, scaling.PlanCompleted, x.Status, x.Reason)
		require.Len(t, setCapacityOps(c), 1, "written")
		got, err := c.Capacity(t.Context(), "web")
		require.NoError(t, err)
		assert.Equal(t, provider.CapacitySpec{Min: 0, Max: 50, Desired: 4}, got.CapacitySpec)
	})
}

// TestFloorRaisedOutsideThePlanIsDrift: a group whose Min is 0 (an Auto
// Scaling group's, stored as given) has its floor raised by an operator
// between the plan and its execution. A plan that neither starts nor ends
// stopped carries no Min of 0 from a stopped group's reported bounds, so
// the group's floor is not one its driver kept for such a 0: the engine
// finds the capacity changed outside the plan (ErrDrift) and writes
// nothing. It took the raised floor for a kept one, the group for where
// the step starts, and wrote the plan's Min of 0 over the operator's.
func TestFloorRaisedOutsideThePlanIsDrift(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 2, memory.Config{})
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t))
		require.NoError(t, err)
		p := e.Plan(decide(t, e, c, 4), scaling.PlanOptions{})
		require.Equal(t, provider.CapacitySpec{Min: 0, Max: 50, Desired: 2}, p.From)
		operator := provider.CapacitySpec{Min: 2, Max: 50, Desired: 2}
		require.NoError(t, c.SetCapacity(t.Context(), "web", operator))
		writes := len(setCapacityOps(c))
		x, err := e.Execute(t.Context(), p)
		require.ErrorIs(t, err, scaling.ErrDrift)
		assert.Equal(t, scaling.PlanStopped, x.Status, x.Reason)
		assert.Len(t, setCapacityOps(c), writes, "nothing written")
		got, err := c.Capacity(t.Context(), "web")
		require.NoError(t, err)
		assert.Equal(t, operator, got.CapacitySpec, "the operator's floor stays")
	})
}

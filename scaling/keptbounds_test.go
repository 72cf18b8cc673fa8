package scaling_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
)

// ownBounds is a Scaler whose group has bounds of its own, as a
// Kubernetes workload's bound annotations are: a group someone scaled
// outside them (kubectl scale) is reported with its bounds widened to
// include its desired capacity, and the bounds it reports passed back,
// widened only to the new desired capacity, are not stored: the group's
// own stay, and it is reported at them, widened to the new desired
// capacity only. Other bounds are stored as given. A write to failAt
// instances fails before anything is written.
type ownBounds struct {
	*memory.Cloud
	mu     sync.Mutex
	lo, hi int
	failAt int
}

func (s *ownBounds) SetCapacity(ctx context.Context, id string, want provider.CapacitySpec) error {
	cur, err := s.Capacity(ctx, id)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if want.Desired == s.failAt {
		return errors.New("the API server is unavailable")
	}
	if want.Min != min(s.lo, cur.Desired, want.Desired) || want.Max != max(s.hi, cur.Desired, want.Desired) {
		s.lo, s.hi = want.Min, want.Max
	}
	return s.Cloud.SetCapacity(ctx, id, provider.CapacitySpec{Min: min(s.lo, want.Desired), Max: max(s.hi, want.Desired), Desired: want.Desired})
}

// KeepsBounds makes ownBounds a provider.BoundsKeeper.
func (s *ownBounds) KeepsBounds() bool { return true }

func (s *ownBounds) bounds() [2]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return [2]int{s.lo, s.hi}
}

// newOwnBounds is a group "web" with bounds [lo, hi] of its own, scaled
// to desired by someone else, and its engine.
func newOwnBounds(t *testing.T, lo, hi, desired int) (*ownBounds, *scaling.Engine) {
	t.Helper()
	c, err := memory.New(memory.Config{})
	require.NoError(t, err)
	require.NoError(t, c.AddGroup(provider.Resource{ID: "web", Kind: provider.KindGroup},
		provider.CapacitySpec{Min: min(lo, desired), Max: max(hi, desired), Desired: desired}))
	setCPU(t, c, "web", 0.5)
	sc := &ownBounds{Cloud: c, lo: lo, hi: hi}
	e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: sc, Metrics: c}, safetyGate(t))
	require.NoError(t, err)
	return sc, e
}

// TestPlanFromBoundsWidenedOutsideTheGroupsOwn: a group whose driver keeps
// bounds of its own (a Kubernetes workload's min-replicas and
// max-replicas), scaled outside them by someone else, is scaled by the
// engine with the widened bounds it read; the driver keeps its own, and
// each step is where the plan put it when the group is at its desired
// capacity with its own bound, widened to it, in place of the widened one
// the plan carried. The engine compared the whole spec, took the step as
// not settled, and rolled the plan back (or, with a driver that stored
// the widened bounds, lowered the owner's floor for good).
func TestPlanFromBoundsWidenedOutsideTheGroupsOwn(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name              string
		desired, to       int
		steps             []int
		want              provider.CapacitySpec
		from, reportedNow provider.CapacitySpec
	}{
		{
			name: "up from below the floor", desired: 2, to: 6, steps: []int{3, 4, 6},
			from: provider.CapacitySpec{Min: 2, Max: 10, Desired: 2}, want: provider.CapacitySpec{Min: 4, Max: 10, Desired: 6},
		},
		{
			name: "down from above the ceiling", desired: 15, to: 7, steps: []int{8, 7},
			from: provider.CapacitySpec{Min: 4, Max: 15, Desired: 15}, want: provider.CapacitySpec{Min: 4, Max: 10, Desired: 7},
		},
		{
			name: "down from above the ceiling, staying above it", desired: 15, to: 12, steps: []int{12},
			from: provider.CapacitySpec{Min: 4, Max: 15, Desired: 15}, want: provider.CapacitySpec{Min: 4, Max: 12, Desired: 12},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				sc, e := newOwnBounds(t, 4, 10, tt.desired)
				p := e.Plan(decide(t, e, sc.Cloud, tt.to), scaling.PlanOptions{})
				require.Equal(t, tt.from, p.From, "the bounds read, widened by the driver")
				var steps []int
				for _, s := range p.Steps {
					steps = append(steps, s.To.Desired)
					assert.Equal(t, [2]int{tt.from.Min, tt.from.Max}, [2]int{s.To.Min, s.To.Max}, "step %d keeps the bounds read", s.Index)
				}
				require.Equal(t, tt.steps, steps)
				x, err := e.Execute(t.Context(), p)
				require.NoError(t, err)
				require.Equal(t, scaling.PlanCompleted, x.Status, x.Reason)
				for _, s := range x.Steps {
					assert.Equal(t, scaling.StepVerified, s.Status, "step %d: %s", s.Step.Index, s.Reason)
				}
				got, err := sc.Capacity(t.Context(), "web")
				require.NoError(t, err)
				assert.Equal(t, tt.want, got.CapacitySpec)
				assert.Equal(t, [2]int{4, 10}, sc.bounds(), "the group's own bounds kept")
			})
		})
	}
}

// TestRollbackFromBoundsWidenedOutsideTheGroupsOwn: the plan of
// TestPlanFromBoundsWidenedOutsideTheGroupsOwn fails at its last write
// (nothing written) after two steps took the group from 2 to 4 past its
// own floor of 4. The engine finds the group where that step started
// (its own floor, in place of the widened 2 the step carried), and rolls
// back through the same reading to where the plan started; the owner's
// floor is kept.
func TestRollbackFromBoundsWidenedOutsideTheGroupsOwn(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		sc, e := newOwnBounds(t, 4, 10, 2)
		sc.failAt = 6
		p := e.Plan(decide(t, e, sc.Cloud, 6), scaling.PlanOptions{})
		require.Len(t, p.Steps, 3)
		x, err := e.Execute(t.Context(), p)
		require.Error(t, err)
		require.NotErrorIs(t, err, scaling.ErrDrift, "the group is where the step started")
		require.NotErrorIs(t, err, scaling.ErrRollback)
		var serr *scaling.StepError
		require.ErrorAs(t, err, &serr)
		assert.Equal(t, 3, serr.Step, "the write that failed: %v", err)
		assert.Equal(t, scaling.StageAct, serr.Stage, "%v", err)
		for _, s := range x.Steps[:2] {
			assert.Equal(t, scaling.StepRolledBack, s.Status, "step %d (verified, then undone): %s", s.Step.Index, s.Reason)
		}
		assert.Equal(t, scaling.PlanRolledBack, x.Status, x.Reason)
		assert.NotEmpty(t, x.Rollback, "rolled back by the engine")
		got, err := sc.Capacity(t.Context(), "web")
		require.NoError(t, err)
		assert.Equal(t, provider.CapacitySpec{Min: 2, Max: 10, Desired: 2}, got.CapacitySpec, "back where it started")
		assert.Equal(t, [2]int{4, 10}, sc.bounds(), "the group's own bounds kept")
	})
}

// TestFloorRaisedDuringAPlanThatKeepsItsBoundsIsNotTheStep: a plan whose
// Min was not read at the desired capacity (the group within its bounds)
// is not taken as done when the group is found at its desired capacity
// with a higher Min: no driver widened that Min, so someone raised it (an
// Auto Scaling group stores its bounds as given), and the step is not
// verified.
func TestFloorRaisedDuringAPlanThatKeepsItsBoundsIsNotTheStep(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, err := memory.New(memory.Config{})
		require.NoError(t, err)
		require.NoError(t, c.AddGroup(provider.Resource{ID: "web", Kind: provider.KindGroup}, provider.CapacitySpec{Min: 1, Max: 10, Desired: 3}))
		setCPU(t, c, "web", 0.5)
		raise := scaling.Cloud{Metrics: c, Scaler: raisedFloor{c}}
		e, err := scaling.NewEngine(scaling.EngineConfig{}, raise, safetyGate(t))
		require.NoError(t, err)
		p := e.Plan(decide(t, e, c, 4), scaling.PlanOptions{})
		require.Len(t, p.Steps, 1)
		x, err := e.Execute(t.Context(), p)
		require.ErrorIs(t, err, scaling.ErrNotVerified)
		assert.NotEqual(t, scaling.PlanCompleted, x.Status, x.Reason)
	})
}

// raisedFloor is a Scaler that keeps bounds of its own (a
// provider.BoundsKeeper) whose every write of a desired capacity above 3
// has its Min raised to 2 by someone else.
type raisedFloor struct{ *memory.Cloud }

func (raisedFloor) KeepsBounds() bool { return true }

func (s raisedFloor) SetCapacity(ctx context.Context, id string, want provider.CapacitySpec) error {
	if want.Desired > 3 {
		want.Min = max(want.Min, 2)
	}
	return s.Cloud.SetCapacity(ctx, id, want)
}

// TestOtherBoundMovedDuringAPlanThatKeepsItsBoundsIsNotTheStep: a plan
// read at one of its bounds (the group at its ceiling, or at its floor)
// may take the step as done with that bound kept by the driver, not with
// the other one moved: a group at its ceiling found at its desired
// capacity with a higher Min, or one at its floor found with a lower Max,
// was changed by someone else, and the step is not verified.
func TestOtherBoundMovedDuringAPlanThatKeepsItsBoundsIsNotTheStep(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		from  provider.CapacitySpec
		to    int
		moved func(provider.CapacitySpec) provider.CapacitySpec
		keeps bool
	}{
		{
			name: "at the ceiling, floor raised", from: provider.CapacitySpec{Min: 1, Max: 4, Desired: 4}, to: 3, keeps: true,
			moved: func(c provider.CapacitySpec) provider.CapacitySpec { c.Min = 2; return c },
		},
		{
			name: "at the floor, ceiling lowered", from: provider.CapacitySpec{Min: 3, Max: 10, Desired: 3}, to: 4, keeps: true,
			moved: func(c provider.CapacitySpec) provider.CapacitySpec { c.Max = 8; return c },
		},
		// A driver that stores what it is given (an Auto Scaling group's)
		// widens nothing: a floor raised to 4 while the plan took the
		// group from its floor of 3 is someone else's, and the step is
		// not done (the rollback must not write the 3 back over it).
		{
			name: "at the floor, floor raised, a driver that keeps no bounds", from: provider.CapacitySpec{Min: 3, Max: 10, Desired: 3}, to: 4,
			moved: func(c provider.CapacitySpec) provider.CapacitySpec { c.Min = 4; return c },
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				c, err := memory.New(memory.Config{})
				require.NoError(t, err)
				require.NoError(t, c.AddGroup(provider.Resource{ID: "web", Kind: provider.KindGroup}, tt.from))
				setCPU(t, c, "web", 0.5)
				e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Metrics: c, Scaler: movedBound{c, tt.moved, tt.keeps}}, safetyGate(t))
				require.NoError(t, err)
				p := e.Plan(decide(t, e, c, tt.to), scaling.PlanOptions{})
				require.Len(t, p.Steps, 1)
				require.Equal(t, [2]int{tt.from.Min, tt.from.Max}, [2]int{p.Steps[0].To.Min, p.Steps[0].To.Max}, "the plan keeps its bounds")
				x, err := e.Execute(t.Context(), p)
				require.ErrorIs(t, err, scaling.ErrNotVerified)
				assert.NotEqual(t, scaling.PlanCompleted, x.Status, x.Reason)
			})
		})
	}
}

// movedBound is a Scaler whose every write has a bound moved by someone
// else; keeps says it keeps bounds of its own (a provider.BoundsKeeper).
type movedBound struct {
	*memory.Cloud
	moved func(provider.CapacitySpec) provider.CapacitySpec
	keeps bool
}

func (s movedBound) KeepsBounds() bool { return s.keeps }

func (s movedBound) SetCapacity(ctx context.Context, id string, want provider.CapacitySpec) error {
	return s.Cloud.SetCapacity(ctx, id, s.moved(want))
}

// TestBoundsAPlanSetsAreWrittenAsPlanned: a plan that changes the
// group's bounds (a scheduled window's floor and ceiling) writes them as
// planned, also on a driver that keeps bounds of its own: the bounds as
// read replace only a bound the plan keeps from its read at the desired
// capacity (mutation testing found the per-bound flags of spec untested:
// without them, a raised Max was written as the desired capacity and a
// lowered Min as the group's old one).
func TestBoundsAPlanSetsAreWrittenAsPlanned(t *testing.T) {
	t.Parallel()
	for _, keeps := range []bool{false, true} {
		for _, to := range []provider.CapacitySpec{
			{Min: 4, Max: 20, Desired: 12}, // a higher ceiling, from the group at its old one
			{Min: 2, Max: 10, Desired: 10}, // a lower floor, from the group at its old one
		} {
			synctest.Test(t, func(t *testing.T) {
				c, err := memory.New(memory.Config{})
				require.NoError(t, err)
				require.NoError(t, c.AddGroup(provider.Resource{ID: "web", Kind: provider.KindGroup}, provider.CapacitySpec{Min: 4, Max: 10, Desired: 10}))
				setCPU(t, c, "web", 0.5)
				e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Metrics: c, Scaler: movedBound{c, func(s provider.CapacitySpec) provider.CapacitySpec { return s }, keeps}}, safetyGate(t))
				require.NoError(t, err)
				window := scaling.StrategyFunc(func(context.Context, scaling.State) (scaling.Recommendation, error) {
					return scaling.Recommendation{Capacity: to, Proposal: to.Desired, Reason: "window", Fitness: 1}, nil
				})
				d, err := e.Decide(t.Context(), scaling.State{Now: c.Now(), Target: webTarget(t, c)}, []scaling.Candidate{{Name: "window", Strategy: window}}, "")
				require.NoError(t, err)
				x, err := e.Execute(t.Context(), e.Plan(d, scaling.PlanOptions{}))
				require.NoError(t, err)
				require.Equal(t, scaling.PlanCompleted, x.Status, "%v %v: %s", keeps, to, x.Reason)
				got, err := c.Capacity(t.Context(), "web")
				require.NoError(t, err)
				assert.Equal(t, to, got.CapacitySpec, "keeps %v", keeps)
			})
		}
	}
}

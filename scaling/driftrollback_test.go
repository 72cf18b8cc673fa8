package scaling_test

import (
	"fmt"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
)

// TestRollbackLeavesAChangeOutsideThePlan: while a scale out 4→6 is
// verified, someone else (an operator answering an incident) scales the
// group to 20. The step does not settle at 6 and is rolled back, but the
// group is at a desired capacity the plan never went through: that is a
// change outside the plan (ErrDrift), which the rollback does not fight.
// The plan fails (ErrRollback, the cause kept) and the 20 stay. The
// rollback went from the 20 back to the plan's From, 4, removing 16
// instances the plan never added.
func TestRollbackLeavesAChangeOutsideThePlan(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		ctx := t.Context()
		meddle := scaling.ObserverFunc(func(ev scaling.Event) {
			if ev.Kind == scaling.EventStepExecuted && ev.Step == 1 {
				assert.NoError(t, c.SetCapacity(ctx, "web", provider.CapacitySpec{Max: 50, Desired: 20}))
			}
		})
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t), scaling.WithObserver(meddle))
		require.NoError(t, err)
		p := e.Plan(decide(t, e, c, 6), scaling.PlanOptions{})
		require.Len(t, p.Steps, 1)
		x, err := e.Execute(ctx, p)
		rollbackLeftADrift(t, x, err)
		assert.Empty(t, x.Rollback, "no step back was made")
		assert.Len(t, setCapacityOps(c), 2, "the step's and the other's writes only")
		capa, err := c.Capacity(ctx, "web")
		require.NoError(t, err)
		assert.Equal(t, 20, capa.Desired, "the other's change stays")
	})
}

// TestRollbackLeavesAResizeOutsideThePlan: as
// TestRollbackLeavesAChangeOutsideThePlan, for a resize: while the resize
// of a function from 1024 to 512 MiB is verified, someone else sets 2048
// MiB. The rollback finds a size the plan never set, and leaves it
// (ErrDrift, the plan failed) rather than resize it back to 1024.
func TestRollbackLeavesAResizeOutsideThePlan(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := fnCloud(t)
		ctx := t.Context()
		theirs := provider.Size{MemoryMiB: 2048, Timeout: fnFrom.Timeout}
		meddle := scaling.ObserverFunc(func(ev scaling.Event) {
			if ev.Kind == scaling.EventStepExecuted && ev.Step == 1 {
				assert.NoError(t, c.Resize(ctx, "fn", theirs))
			}
		})
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Resizer: c, Inventory: c, Metrics: c}, allowAll{}, scaling.WithObserver(meddle))
		require.NoError(t, err)
		x, err := e.Execute(ctx, e.Plan(decideFnSmaller(t, e, c), scaling.PlanOptions{}))
		rollbackLeftADrift(t, x, err)
		assert.Empty(t, x.Rollback, "no resize back was made")
		r, err := c.Get(ctx, "fn")
		require.NoError(t, err)
		assert.Equal(t, theirs, r.Size, "the other's size stays")
	})
}

// TestRollbackStopsAtAChangeBetweenItsSteps: a scale in 4→2 that
// overloads the group is rolled back in two steps, 2→3→4. After the
// first settled, someone else sets 20. The second step, planned 3→4 (a
// scale out of one, as the gate saw it), is not written: the group is no
// longer where it starts (ErrDrift), and the rollback fails, the 20
// left. The rollback wrote it from wherever the group was: 20→4, a scale
// in of 16 that the gate approved as a scale out of one.
func TestRollbackStopsAtAChangeBetweenItsSteps(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		setCPU(t, c, "web", 0.95) // the scale in is not verified: rolled back
		ctx := t.Context()
		meddle := scaling.ObserverFunc(func(ev scaling.Event) {
			if ev.Kind == scaling.EventRollbackStep && ev.To.Desired == 3 {
				assert.NoError(t, c.SetCapacity(ctx, "web", provider.CapacitySpec{Max: 50, Desired: 20}))
			}
		})
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t), scaling.WithObserver(meddle))
		require.NoError(t, err)
		p := e.Plan(decide(t, e, c, 2), scaling.PlanOptions{})
		require.Len(t, p.Steps, 1)
		x, err := e.Execute(ctx, p)
		rollbackLeftADrift(t, x, err)
		require.Len(t, x.Rollback, 1, "2→3 only")
		assert.Equal(t, scaling.StepVerified, x.Rollback[0].Status)
		assert.Len(t, setCapacityOps(c), 3, "4→2, 2→3 and the other's 20; nothing after")
		capa, err := c.Capacity(ctx, "web")
		require.NoError(t, err)
		assert.Equal(t, 20, capa.Desired, "the other's change stays")
	})
}

// TestThrottledRetryStopsAtAChange: a write the provider throttles is
// retried after a backoff (up to RetryDeadline, minutes when it waits out
// a cooldown); someone else sets the group to 20 meanwhile. The retry is
// not made: the target is read again first, and found neither where the
// step starts nor where it goes (ErrDrift), the step is not written. A
// plan's step stops the plan, its reservation refunded (the throttled
// attempt changed nothing); a rollback's fails the rollback. The retry
// wrote over the 20 with what the gate had approved from 4 (or 3).
func TestThrottledRetryStopsAtAChange(t *testing.T) {
	t.Parallel()
	for _, rollback := range []bool{false, true} {
		t.Run(fmt.Sprint("rollback=", rollback), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCloud(t, 4, memory.Config{})
				desired, nth := 5, 1 // a scale out of one (the reserver grants one unit)
				if rollback {
					setCPU(t, c, "web", 0.95) // the scale in 4→3 is not verified
					desired, nth = 3, 2       // its rollback's write is throttled
				}
				_, err := c.InjectFault(memory.Fault{Op: memory.OpSetCapacity, Throttle: true, Nth: nth})
				require.NoError(t, err)
				ctx := t.Context()
				meddle := scaling.ObserverFunc(func(ev scaling.Event) {
					if ev.Kind == scaling.EventStepRetried {
						assert.NoError(t, c.SetCapacity(ctx, "web", provider.CapacitySpec{Max: 50, Desired: 20}))
					}
				})
				res := &hostReserver{}
				e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t),
					scaling.WithReserver(res), scaling.WithObserver(meddle))
				require.NoError(t, err)
				p := e.Plan(decide(t, e, c, desired), scaling.PlanOptions{})
				require.Len(t, p.Steps, 1)
				n := len(setCapacityOps(c))
				x, err := e.Execute(ctx, p)
				require.ErrorIs(t, err, scaling.ErrDrift)
				if rollback {
					require.ErrorIs(t, err, scaling.ErrRollback)
					assert.Equal(t, scaling.PlanFailed, x.Status, x.Reason)
					require.Len(t, x.Rollback, 1)
					assert.Equal(t, scaling.StepSkipped, x.Rollback[0].Status, x.Rollback[0].Reason)
					n++ // the scale in
				} else {
					assert.Equal(t, scaling.PlanStopped, x.Status, x.Reason)
					assert.Equal(t, scaling.StepSkipped, x.Steps[0].Status, x.Steps[0].Reason)
					assert.Equal(t, 1, res.refunds, "nothing written: the reservation is refunded")
				}
				assert.Len(t, setCapacityOps(c), n+1, "the other's write, and none after it")
				capa, err := c.Capacity(ctx, "web")
				require.NoError(t, err)
				assert.Equal(t, 20, capa.Desired, "the other's change stays")
			})
		})
	}
}

// rollbackLeftADrift checks that the rollback of a step not verified
// failed on a change outside the plan: the plan failed, with the
// rollback's, the drift's and the cause's errors.
func rollbackLeftADrift(t *testing.T, x scaling.Execution, err error) {
	t.Helper()
	require.ErrorIs(t, err, scaling.ErrRollback)
	require.ErrorIs(t, err, scaling.ErrDrift)
	require.ErrorIs(t, err, scaling.ErrNotVerified, "the cause is kept")
	assert.Equal(t, scaling.PlanFailed, x.Status, x.Reason)
}

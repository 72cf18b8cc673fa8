package scaling_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
)

// TestResumeStopsAtAnExecutedStepFoundUndone: a plan interrupted while
// it verifies a step whose write went through (executed) is resumed after
// someone else set the group back where the step started. That is a
// change outside the plan (ErrDrift): the plan stops without writing the
// step again, reserving budget for it again or recording its change a
// second time. The resume took the executed step found at its From for
// an interrupted write that had not taken effect, and made it again,
// undoing the other's change.
func TestResumeStopsAtAnExecutedStepFoundUndone(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, e0, p := gatedWeb(t, 6)
		res := &scriptedReserver{}
		e, err := scaling.NewEngine(e0.Config(), scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t), scaling.WithReserver(res))
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(t.Context(), time.Second) // inside the verification window
		defer cancel()
		x, err := e.Execute(ctx, p)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Equal(t, scaling.PlanInterrupted, x.Status)
		require.Equal(t, scaling.StepExecuted, x.Steps[0].Status)
		require.Len(t, e.History("web").Changes, 1)

		require.NoError(t, c.SetCapacity(t.Context(), "web", p.Steps[0].From)) // someone else undoes it

		xs, err := e.Resume(t.Context(), "web", time.Now(), time.Hour)
		require.ErrorIs(t, err, scaling.ErrDrift)
		require.Len(t, xs, 1)
		assert.Equal(t, scaling.PlanStopped, xs[0].Status, xs[0].Reason)
		assert.Len(t, setCapacityOps(c), 2, "the step's write and the other's, no second write of the step")
		capa, err := c.Capacity(t.Context(), "web")
		require.NoError(t, err)
		assert.Equal(t, 4, capa.Desired, "the other's change stands")
		assert.Len(t, e.History("web").Changes, 1, "the step's change, once")
		assert.Len(t, res.seen, 1, "the step reserved once: %v", res.seen)
	})
}

// TestResumeLeavesAnUnreadableUnverifiedStepUnfinished: a scale in
// interrupted while it was verified (executed, not verified) is resumed
// when the target cannot be read: the plan is left unfinished, as for a
// write in flight, and a later resume verifies the step. It was stopped
// for good (stopped is final), the scale in left in place unverified and
// never rolled back, whatever it did to the group.
func TestResumeLeavesAnUnreadableUnverifiedStepUnfinished(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t))
		require.NoError(t, err)
		p := e.Plan(decide(t, e, c, 3), scaling.PlanOptions{})
		require.Len(t, p.Steps, 1)
		ctx, cancel := context.WithTimeout(t.Context(), time.Second) // inside the verification window
		defer cancel()
		x, err := e.Execute(ctx, p)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Equal(t, scaling.StepExecuted, x.Steps[0].Status)

		errRead := errors.New("capacity read refused")
		_, err = c.InjectFault(memory.Fault{Op: memory.OpCapacity, Err: errRead, Times: 1})
		require.NoError(t, err)
		xs, err := e.Resume(t.Context(), "web", time.Now(), time.Hour)
		require.ErrorIs(t, err, errRead)
		require.Len(t, xs, 1)
		assert.Equal(t, scaling.PlanInterrupted, xs[0].Status, "left unfinished, not stopped: %s", xs[0].Reason)
		assert.Equal(t, scaling.StepExecuted, xs[0].Steps[0].Status)

		setCPU(t, c, "web", 0.95) // the scale in overloads the group: its verification rolls it back
		xs, err = e.Resume(t.Context(), "web", time.Now(), time.Hour)
		require.ErrorIs(t, err, scaling.ErrNotVerified)
		require.Len(t, xs, 1)
		assert.Equal(t, scaling.PlanRolledBack, xs[0].Status, xs[0].Reason)
		capa, err := c.Capacity(t.Context(), "web")
		require.NoError(t, err)
		assert.Equal(t, 4, capa.Desired)
	})
}

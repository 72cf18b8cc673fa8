package scaling_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/scaling"
)

// errAfterApply is the error a driver returns when the backend applied the
// change and the reply was lost (a connection reset after the commit).
var errAfterApply = errors.New("connection reset after the request was sent")

// appliedThenFailed is a Scaler whose SetCapacity calls that fail picks
// (by their number, from 1) apply the write and then return
// errAfterApply, an ordinary error that does not say nothing changed.
type appliedThenFailed struct {
	*memory.Cloud
	fail  func(call int) bool
	calls atomic.Int32
}

func (a *appliedThenFailed) SetCapacity(ctx context.Context, id string, want provider.CapacitySpec) error {
	n := int(a.calls.Add(1))
	if err := a.Cloud.SetCapacity(ctx, id, want); err != nil || !a.fail(n) {
		return err
	}
	return fmt.Errorf("set capacity %s: %w", id, errAfterApply)
}

// TestFailedWriteThatTookEffectIsRecorded: a step's write that returns an
// ordinary error after the backend applied it is rolled back, and its
// change, found in effect by the re-read, is recorded in the History and
// the action history (the fleet share) as a timed-out write's is: only
// the rollback was, so the rate limits on scaling events and the fleet
// share missed a scale in that happened. Its reservation is kept (the
// write changed the target). A rollback write that fails the same way is
// found in effect too: recorded, settled, and the rollback completes,
// where it failed the rollback of a group that was back where it started.
func TestFailedWriteThatTookEffectIsRecorded(t *testing.T) {
	t.Parallel()
	for _, rollbackFails := range []bool{false, true} {
		t.Run(fmt.Sprintf("rollback_fails=%v", rollbackFails), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCloud(t, 4, memory.Config{})
				a := &appliedThenFailed{Cloud: c, fail: func(n int) bool { return n == 1 || rollbackFails && n == 2 }}
				var refunds atomic.Int32
				r := funcReserver{
					reserve: func(_ context.Context, now time.Time, req ratelimit.Request) (ratelimit.Reservation, error) {
						return ratelimit.Reservation{ID: 1, Request: req, At: now, Outcome: ratelimit.Allowed, Granted: req.Units}, nil
					},
					cancel: func(context.Context, time.Time, ratelimit.Reservation) error {
						refunds.Add(1)
						return nil
					},
				}
				h := &safety.MemoryHistory{}
				rec := &recorder{}
				e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: a, Metrics: c}, safetyGate(t),
					scaling.WithReserver(r), scaling.WithActionHistory(h), scaling.WithObserver(rec))
				require.NoError(t, err)
				x, err := e.Execute(t.Context(), e.Plan(decide(t, e, c, 2), scaling.PlanOptions{}))
				require.ErrorIs(t, err, errAfterApply)
				require.NotErrorIs(t, err, scaling.ErrRollback, "the rollback took effect")
				assert.Equal(t, scaling.PlanRolledBack, x.Status, x.Reason)
				require.Len(t, x.Steps, 1)
				assert.Equal(t, scaling.StepRolledBack, x.Steps[0].Status)
				assert.Contains(t, x.Steps[0].Reason, "found in effect")
				assert.True(t, x.Steps[0].Reservation.OK(), "the reservation is kept: the write changed the target")
				assert.Zero(t, refunds.Load(), "nothing refunded")
				require.Len(t, x.Rollback, 2, "2 → 3 → 4, in gradual steps")
				for _, rb := range x.Rollback {
					assert.Equal(t, scaling.StepVerified, rb.Status, rb.Reason)
				}

				capa, err := c.Capacity(t.Context(), "web")
				require.NoError(t, err)
				assert.Equal(t, 4, capa.Desired, "rolled back")
				changes := e.History("web").Changes
				require.Len(t, changes, 3, "the step's change found in effect, and its rollback's two")
				assert.False(t, changes[0].Rollback)
				assert.Equal(t, 4, changes[0].From.Desired)
				assert.Equal(t, 2, changes[0].To.Desired)
				for i, want := range []int{3, 4} {
					assert.True(t, changes[1+i].Rollback)
					assert.Equal(t, want, changes[1+i].To.Desired)
				}
				n, err := h.ActedOn(t.Context(), "web", c.Now().Add(-time.Hour))
				require.NoError(t, err)
				assert.Equal(t, 2, n, "the scale in counts against the fleet share")
				var failed []scaling.Event
				rec.mu.Lock()
				for _, ev := range rec.events {
					if ev.Kind == scaling.EventStepFailed {
						failed = append(failed, ev)
					}
				}
				rec.mu.Unlock()
				require.Len(t, failed, map[bool]int{false: 1, true: 2}[rollbackFails])
				for _, ev := range failed {
					assert.Contains(t, ev.Reason, "found in effect")
					require.ErrorIs(t, ev.Err, errAfterApply)
				}
			})
		})
	}
}

// TestFailedResizeBeingAppliedIsRecorded: a function's resize whose
// write failed after the backend accepted it (applying's first Resize)
// reads as an unknown size while its update applies. The re-read that
// looks for the write's effect waits for the size to be known, as the
// rollback's does, and records the resize in the History before rolling
// it back: it read the unknown size once, found the write not in effect,
// and the History had the rollback alone.
func TestFailedResizeBeingAppliedIsRecorded(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, from := fnCloud(t), fnFrom
		fn := &applying{Cloud: c}
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Resizer: fn, Inventory: fn, Metrics: c}, rollbackGate(t))
		require.NoError(t, err)
		x, err := e.Execute(t.Context(), e.Plan(decideFnSmaller(t, e, fn), scaling.PlanOptions{}))
		require.ErrorIs(t, err, errWaitTimedOut)
		assert.Equal(t, scaling.PlanRolledBack, x.Status, x.Reason)
		require.Len(t, x.Steps, 1)
		assert.Contains(t, x.Steps[0].Reason, "found in effect")
		changes := e.History("fn").Changes
		require.Len(t, changes, 2, "the resize found in effect, and its rollback")
		assert.False(t, changes[0].Rollback)
		assert.Equal(t, fnSmaller, changes[0].ToSize)
		assert.True(t, changes[1].Rollback)
		assert.Equal(t, from, changes[1].ToSize)
	})
}

// TestFailedRollbackResizeBeingAppliedIsSettled: a function's resize and
// its rollback both fail after the backend accepted them (applying's
// first two Resizes), and each leaves the size unknown while it applies.
// The rollback write's re-read waits for the size, as the step's does,
// finds the rollback in effect and settles it: it read the unknown size
// once, took the rollback for not in effect, and failed the plan
// (ErrRollback) with the function back at its size.
func TestFailedRollbackResizeBeingAppliedIsSettled(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, from := fnCloud(t), fnFrom
		fn := &applying{Cloud: c, more: 1}
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Resizer: fn, Inventory: fn, Metrics: c}, rollbackGate(t))
		require.NoError(t, err)
		x, err := e.Execute(t.Context(), e.Plan(decideFnSmaller(t, e, fn), scaling.PlanOptions{}))
		require.ErrorIs(t, err, errWaitTimedOut)
		require.NotErrorIs(t, err, scaling.ErrRollback, "the rollback took effect")
		assert.Equal(t, scaling.PlanRolledBack, x.Status, x.Reason)
		require.Len(t, x.Rollback, 1)
		assert.Contains(t, x.Rollback[0].Reason, "found in effect")
		changes := e.History("fn").Changes
		require.Len(t, changes, 2, "the resize and its rollback, both found in effect")
		assert.Equal(t, fnSmaller, changes[0].ToSize)
		assert.True(t, changes[1].Rollback)
		assert.Equal(t, from, changes[1].ToSize)
		got, err := c.Get(t.Context(), "fn")
		require.NoError(t, err)
		assert.Equal(t, from, got.Size)
	})
}

// stuckRollback is applying whose second Resize (the rollback's) fails
// after the backend accepted it and leaves the size unknown for good (an
// update that never finishes applying).
type stuckRollback struct {
	*applying
	resizes int
}

func (s *stuckRollback) Resize(ctx context.Context, id string, size provider.Size) error {
	err := s.applying.Resize(ctx, id, size)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.resizes++; s.resizes == 2 {
		s.until = time.Now().Add(1000 * time.Hour)
	}
	return err
}

// TestFailedRollbackResizeNeverKnownSaysSo: a rollback resize that failed
// after the backend accepted it, with the size unknown up to the
// Timeout, fails the rollback, and the error says the size could not be
// read (ErrNotVerified) besides the write's error: it had the write's
// error alone, as if the write were known not to have taken effect.
func TestFailedRollbackResizeNeverKnownSaysSo(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := fnCloud(t)
		fn := &stuckRollback{applying: &applying{Cloud: c, more: 1}}
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Resizer: fn, Inventory: fn, Metrics: c}, rollbackGate(t))
		require.NoError(t, err)
		start := time.Now()
		x, err := e.Execute(t.Context(), e.Plan(decideFnSmaller(t, e, fn), scaling.PlanOptions{}))
		require.ErrorIs(t, err, scaling.ErrRollback)
		require.ErrorIs(t, err, errWaitTimedOut)
		require.ErrorIs(t, err, scaling.ErrNotVerified, "whether the rollback took effect is unknown")
		assert.Contains(t, err.Error(), "size is unknown")
		assert.Equal(t, scaling.PlanFailed, x.Status, x.Reason)
		require.Len(t, x.Rollback, 1)
		assert.Equal(t, scaling.StepFailed, x.Rollback[0].Status)
		assert.Contains(t, x.Rollback[0].Reason, "size is unknown")
		assert.Less(t, time.Since(start), 2*time.Hour, "the wait for the size ends at the Timeout")
	})
}

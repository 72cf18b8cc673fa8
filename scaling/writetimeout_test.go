package scaling_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/scaling"
)

// hungWrite is a Scaler whose SetCapacity calls that hang picks (by their
// number, from 1) never return on their own: they block until their
// context ends, as a driver whose request hangs does, after applying the
// write first when apply says so. The other calls go through.
type hungWrite struct {
	*memory.Cloud
	hang, apply func(call int) bool
	calls       atomic.Int32
}

func (h *hungWrite) SetCapacity(ctx context.Context, id string, want provider.CapacitySpec) error {
	n := int(h.calls.Add(1))
	if !h.hang(n) {
		return h.Cloud.SetCapacity(ctx, id, want)
	}
	if h.apply(n) {
		if err := h.Cloud.SetCapacity(ctx, id, want); err != nil {
			return err
		}
	}
	<-ctx.Done()
	return fmt.Errorf("set capacity %s: %w", id, ctx.Err())
}

func callIs(k int) func(int) bool { return func(n int) bool { return n == k } }

// timedOutEvents returns the events of rec that say a write timed out,
// in Reason and Err.
func timedOutEvents(rec *recorder, kind scaling.EventKind) []scaling.Event {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var out []scaling.Event
	for _, ev := range rec.events {
		if ev.Kind == kind && strings.Contains(ev.Reason, "timed out") && errors.Is(ev.Err, scaling.ErrWriteTimeout) {
			out = append(out, ev)
		}
	}
	return out
}

// TestHungWriteTimesOut: a SetCapacity that hangs until its context ends
// is cut off after EngineConfig.WriteTimeout instead of holding its
// target until the host's context ends. Its outcome is unknown, so it is
// never taken for a write that changed nothing: the group is read again,
// a change found in effect is recorded in the History (and rolled back),
// the reservation is not refunded, the plan is rolled back with an error
// matching ErrWriteTimeout, and the events say the write timed out. The
// target is released: the next pass decides and executes it again.
func TestHungWriteTimesOut(t *testing.T) {
	t.Parallel()
	for _, applied := range []bool{false, true} {
		t.Run(fmt.Sprintf("applied=%v", applied), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCloud(t, 4, memory.Config{})
				h := &hungWrite{Cloud: c, hang: callIs(1), apply: func(int) bool { return applied }}
				var refunds atomic.Int32
				r := funcReserver{
					reserve: func(_ context.Context, now time.Time, req ratelimit.Request) (ratelimit.Reservation, error) {
						return ratelimit.Reservation{Request: req, At: now, Outcome: ratelimit.Allowed, Granted: req.Units}, nil
					},
					cancel: func(context.Context, time.Time, ratelimit.Reservation) error {
						refunds.Add(1)
						return nil
					},
				}
				rec := &recorder{}
				e, err := scaling.NewEngine(scaling.EngineConfig{WriteTimeout: 50 * time.Millisecond}, scaling.Cloud{Scaler: h, Metrics: c}, safetyGate(t),
					scaling.WithReserver(r), scaling.WithObserver(rec))
				require.NoError(t, err)
				a, err := scaling.NewAutoscaler(scaling.Config{Execute: true, Targets: []scaling.TargetConfig{{ID: "web", Min: ip(0), Max: 50,
					Strategies: []scaling.StrategySpec{{Type: scaling.StrategyCustom, Name: "fixed"}}}}},
					e, scaling.Fleet{Inventory: c, Metrics: c}, scaling.WithStrategy("fixed", fixedStrategy(6, 1)))
				require.NoError(t, err)
				// The host's context is a safety net: a write that is not
				// cut off holds the pass until it ends.
				ctx, cancel := context.WithTimeout(t.Context(), 24*time.Hour)
				defer cancel()

				start := time.Now()
				rep := a.RunOnce(ctx, time.Now())
				assert.Less(t, time.Since(start), time.Hour, "the hung write held the target")
				require.Len(t, rep.Targets, 1)
				tr := rep.Targets[0]
				require.ErrorIs(t, tr.Err, scaling.ErrWriteTimeout)
				require.NoError(t, ctx.Err())
				x := tr.Execution
				require.NotNil(t, x)
				assert.Equal(t, scaling.PlanRolledBack, x.Status, x.Reason)
				require.ErrorIs(t, x.Err, scaling.ErrWriteTimeout)
				var serr *scaling.StepError
				require.ErrorAs(t, x.Err, &serr)
				assert.Equal(t, scaling.StageAct, serr.Stage)
				require.Len(t, x.Steps, 1)
				assert.Equal(t, scaling.StepRolledBack, x.Steps[0].Status)
				assert.Contains(t, x.Steps[0].Reason, "timed out")
				assert.Contains(t, x.Steps[0].Reason, "outcome unknown")
				assert.True(t, x.Steps[0].Reservation.OK(), "the reservation is kept: the write may have taken effect")
				assert.Zero(t, refunds.Load(), "nothing refunded")
				assert.Len(t, timedOutEvents(rec, scaling.EventStepFailed), 1, "the step's event says the write timed out")
				assert.Len(t, timedOutEvents(rec, scaling.EventRollbackStarted), 1, "the rollback's event says why")
				capa, err := c.Capacity(t.Context(), "web")
				require.NoError(t, err)
				assert.Equal(t, 4, capa.Desired, "rolled back, or never changed")
				changes := e.History("web").Changes
				if applied {
					require.Len(t, changes, 2, "the change found in effect, and its rollback")
					assert.Equal(t, 6, changes[0].To.Desired)
					assert.False(t, changes[0].Rollback)
					assert.Contains(t, x.Steps[0].Reason, "found in effect")
					assert.Equal(t, 4, changes[1].To.Desired)
					assert.True(t, changes[1].Rollback)
				} else {
					assert.Empty(t, changes)
					assert.Empty(t, x.Rollback, "found where it started: nothing to write back")
				}
				xs, err := e.Resume(ctx, "web", time.Now(), time.Hour)
				require.NoError(t, err)
				assert.Empty(t, xs, "nothing left unfinished")

				// The next pass decides and acts on the target again.
				rep = a.RunOnce(ctx, time.Now())
				require.NoError(t, rep.Err())
				require.NotNil(t, rep.Targets[0].Execution)
				assert.Equal(t, scaling.PlanCompleted, rep.Targets[0].Execution.Status, rep.Targets[0].Execution.Reason)
				capa, err = c.Capacity(t.Context(), "web")
				require.NoError(t, err)
				assert.Equal(t, 6, capa.Desired)
			})
		})
	}
}

// TestHungRollbackWriteTimesOut: a rollback write that hangs is cut off
// after WriteTimeout too. Found in effect, its change is recorded, it is
// settled and the rollback completes; not found so, the rollback fails
// (ErrRollback, with ErrWriteTimeout) instead of waiting for the host's
// context.
func TestHungRollbackWriteTimesOut(t *testing.T) {
	t.Parallel()
	for _, applied := range []bool{false, true} {
		t.Run(fmt.Sprintf("applied=%v", applied), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCloud(t, 4, memory.Config{})
				// The step's write hangs after it took effect; the
				// rollback's hangs, after taking effect when applied.
				h := &hungWrite{Cloud: c, hang: func(n int) bool { return n <= 2 }, apply: func(n int) bool { return n == 1 || applied }}
				rec := &recorder{}
				e, err := scaling.NewEngine(scaling.EngineConfig{WriteTimeout: 50 * time.Millisecond}, scaling.Cloud{Scaler: h, Metrics: c}, safetyGate(t),
					scaling.WithObserver(rec))
				require.NoError(t, err)
				ctx, cancel := context.WithTimeout(t.Context(), 24*time.Hour)
				defer cancel()
				start := time.Now()
				x, err := e.Execute(ctx, e.Plan(decide(t, e, c, 6), scaling.PlanOptions{}))
				assert.Less(t, time.Since(start), time.Hour, "a hung write held the target")
				require.ErrorIs(t, err, scaling.ErrWriteTimeout)
				require.Len(t, x.Rollback, 1)
				assert.Contains(t, x.Rollback[0].Reason, "timed out")
				changes := e.History("web").Changes
				capa, rerr := c.Capacity(t.Context(), "web")
				require.NoError(t, rerr)
				if applied {
					require.NoError(t, ctx.Err())
					assert.Equal(t, scaling.PlanRolledBack, x.Status, x.Reason)
					assert.Equal(t, scaling.StepVerified, x.Rollback[0].Status)
					assert.Contains(t, x.Rollback[0].Reason, "found in effect")
					require.Len(t, changes, 2, "the step's change and its rollback's, both found in effect")
					assert.True(t, changes[1].Rollback)
					assert.Equal(t, 4, capa.Desired)
					assert.Len(t, timedOutEvents(rec, scaling.EventStepFailed), 2)
					return
				}
				assert.Equal(t, scaling.PlanFailed, x.Status, x.Reason)
				require.ErrorIs(t, err, scaling.ErrRollback)
				assert.Equal(t, scaling.StepFailed, x.Rollback[0].Status)
				require.Len(t, changes, 1, "the step's change; the rollback's took no effect")
				assert.Equal(t, 6, capa.Desired)
				assert.Len(t, timedOutEvents(rec, scaling.EventRollbackFailed), 1)
			})
		})
	}
}

package scaling_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
)

// markedWrite is one SetCapacity as a markingScaler saw it.
type markedWrite struct {
	Ref      scaling.PlanStepRef
	Rollback bool // provider.IsRollback of its context
	Desired  int
}

// markingScaler is the memory cloud as a Scaler that records, for every
// SetCapacity, the plan step and whether its context is marked by
// provider.WithRollback.
type markingScaler struct {
	*memory.Cloud

	mu     sync.Mutex
	writes []markedWrite
}

func (s *markingScaler) SetCapacity(ctx context.Context, id string, want provider.CapacitySpec) error {
	ref, _ := scaling.PlanFromContext(ctx)
	s.mu.Lock()
	s.writes = append(s.writes, markedWrite{Ref: ref, Rollback: provider.IsRollback(ctx), Desired: want.Desired})
	s.mu.Unlock()
	return s.Cloud.SetCapacity(ctx, id, want)
}

func (s *markingScaler) seen() []markedWrite {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]markedWrite(nil), s.writes...)
}

// TestRollbackWriteIsMarked: the engine's rollback write is made with a
// context marked by provider.WithRollback, which a driver reads to let
// it through a cooldown (the AWS driver's HonorCooldown), and the
// forward step's write is not: with HonorCooldown, Auto Scaling refused
// the rollback in the cooldown the step it undid had started, longer
// than the engine's RetryDeadline, and the plan failed (ErrRollback)
// with the unverified change in place. So is the write of a rollback
// resumed after an interruption, on the same engine or after a restart
// over a journal that keeps JSON (resumeRollback).
func TestRollbackWriteIsMarked(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		interrupt bool
		restart   bool
	}{
		{"rolled back at once", false, false},
		{"resumed", true, false},
		{"resumed after a restart", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				c := newCloud(t, 4, memory.Config{})
				setCPU(t, c, "web", 0.95) // the scale in is not verified: rolled back
				sc := &markingScaler{Cloud: c}
				var j scaling.Journal = scaling.NewMemoryJournal()
				if tc.restart {
					j = newJSONJournal()
				}
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				var obs scaling.Observer = &recorder{}
				if tc.interrupt {
					obs = cancelOnRollbackStarted(&recorder{}, cancel)
				}
				e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: sc, Metrics: c}, safetyGate(t),
					scaling.WithObserver(obs), scaling.WithJournal(j))
				require.NoError(t, err)
				p := e.Plan(decide(t, e, c, 3), scaling.PlanOptions{})
				x, err := e.Execute(ctx, p)
				if tc.interrupt {
					require.ErrorIs(t, err, context.Canceled)
					require.Equal(t, scaling.PlanInterrupted, x.Status, x.Reason)
					require.Len(t, sc.seen(), 1, "cut off before the rollback's write")
					if tc.restart {
						e, err = scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: sc, Metrics: c}, safetyGate(t),
							scaling.WithJournal(j))
						require.NoError(t, err)
					}
					var xs []scaling.Execution
					xs, err = e.Resume(t.Context(), "web", time.Now(), time.Hour)
					require.Len(t, xs, 1)
					x = xs[0]
				}
				require.Error(t, err, "the plan ends rolled back: its cause is the error")
				require.NotErrorIs(t, err, scaling.ErrRollback)
				require.Equal(t, scaling.PlanRolledBack, x.Status, x.Reason)
				assert.Equal(t, []markedWrite{
					{Ref: scaling.PlanStepRef{PlanID: p.ID, Step: 1}, Rollback: false, Desired: 3},
					{Ref: scaling.PlanStepRef{PlanID: p.ID, Step: 2, Rollback: true}, Rollback: true, Desired: 4},
				}, sc.seen(), "the step's write unmarked, the rollback's marked")
			})
		})
	}
}

// markingResizer is the memory cloud as a Resizer that records, for
// every Resize, whether its context is marked by provider.WithRollback;
// a write that is not a rollback takes effect and then fails (a reply
// lost), so that the step is rolled back.
type markingResizer struct {
	*memory.Cloud

	mu     sync.Mutex
	marked []bool
}

var errReplyLost = errors.New("connection reset: the reply was lost")

func (r *markingResizer) Resize(ctx context.Context, id string, size provider.Size) error {
	r.mu.Lock()
	r.marked = append(r.marked, provider.IsRollback(ctx))
	r.mu.Unlock()
	if err := r.Cloud.Resize(ctx, id, size); err != nil || provider.IsRollback(ctx) {
		return err
	}
	return errReplyLost
}

// TestRollbackResizeIsMarked: a resize's rollback is marked by
// provider.WithRollback as a change of capacity's is, and the step's
// resize is not.
func TestRollbackResizeIsMarked(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := fnCloud(t)
		rz := &markingResizer{Cloud: c}
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Resizer: rz, Inventory: c, Metrics: c}, allowAll{})
		require.NoError(t, err)
		x, err := e.Execute(t.Context(), e.Plan(decideFnSmaller(t, e, c), scaling.PlanOptions{}))
		require.ErrorIs(t, err, errReplyLost)
		require.Equal(t, scaling.PlanRolledBack, x.Status, x.Reason)
		rz.mu.Lock()
		defer rz.mu.Unlock()
		assert.Equal(t, []bool{false, true}, rz.marked, "the step's resize unmarked, the rollback's marked")
	})
}

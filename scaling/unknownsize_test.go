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
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/scaling"
)

// applying is the memory cloud as the AWS driver shows a Lambda function:
// a configuration update takes a while to apply, and meanwhile Get
// reports the function's size as unknown (zero: LastUpdateStatus
// InProgress). Its first Resize is accepted but fails (its wait timed out,
// say) while the update goes on, and so do the next more.
type applying struct {
	*memory.Cloud
	mu     sync.Mutex
	until  time.Time // the update applies until then
	failed bool
	more   int
}

var errWaitTimedOut = errors.New("the configuration update was accepted but is not known to be in effect: waiter timed out")

func (a *applying) Resize(ctx context.Context, id string, size provider.Size) error {
	if err := a.Cloud.Resize(ctx, id, size); err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.until = time.Now().Add(3 * time.Minute)
	if !a.failed {
		a.failed = true
		return errWaitTimedOut
	}
	if a.more > 0 {
		a.more--
		return errWaitTimedOut
	}
	return nil
}

func (a *applying) Get(ctx context.Context, id string) (provider.Resource, error) {
	r, err := a.Cloud.Get(ctx, id)
	a.mu.Lock()
	defer a.mu.Unlock()
	if time.Now().Before(a.until) {
		r.Size = provider.Size{}
	}
	return r, err
}

// TestRollbackWaitsForASizeBeingApplied: a resize whose write failed
// after the backend accepted it leaves the function's size unknown while
// its update applies. The rollback waits (within the monitoring plan's
// timeout) for the size to be known and resizes back from it; it started
// from the unknown size, which the safety gate's rollback rule refuses to
// resize from, and the plan failed (ErrRollback) with the new size left in
// place.
func TestRollbackWaitsForASizeBeingApplied(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, from := fnCloud(t), fnFrom
		fn := &applying{Cloud: c}
		gate := rollbackGate(t)
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Resizer: fn, Inventory: fn, Metrics: c}, gate)
		require.NoError(t, err)
		d := decideFnSmaller(t, e, fn)
		x, err := e.Execute(t.Context(), e.Plan(d, scaling.PlanOptions{}))
		require.ErrorIs(t, err, errWaitTimedOut)
		require.NotErrorIs(t, err, scaling.ErrRollback, "the rollback went through")
		assert.Equal(t, scaling.PlanRolledBack, x.Status, x.Reason)
		got, err := c.Get(t.Context(), "fn")
		require.NoError(t, err)
		assert.Equal(t, from, got.Size, "back where the plan started")
	})
}

// cutOff is applying whose Resize applies the size, then finds its
// caller's context ended (the Autoscaler's Run stopped while the driver
// waited for the update).
type cutOff struct {
	*applying
	cancel context.CancelFunc
}

func (c *cutOff) Resize(ctx context.Context, id string, size provider.Size) error {
	if err := c.Cloud.Resize(ctx, id, size); err != nil {
		return err
	}
	c.mu.Lock()
	c.until = time.Now().Add(3 * time.Minute)
	c.mu.Unlock()
	c.cancel()
	return ctx.Err()
}

// fnFrom is the size of the function "fn" in the cloud fnCloud makes.
var fnFrom = provider.Size{MemoryMiB: 1024, Timeout: 300 * time.Second}

// fnCloud returns a memory cloud holding the function "fn" at fnFrom.
func fnCloud(t *testing.T) *memory.Cloud {
	t.Helper()
	c, err := memory.New(memory.Config{})
	require.NoError(t, err)
	require.NoError(t, c.Add(provider.Resource{ID: "fn", Kind: provider.KindFunction, Size: fnFrom}))
	return c
}

// interruptedFnResize returns an engine whose resize of the function
// "fn" to fnSmaller was interrupted while the write waited (cutOff): the
// update is being applied, its size read as unknown. The plan is
// returned for a resume.
func interruptedFnResize(t *testing.T) (*scaling.Engine, scaling.Plan) {
	t.Helper()
	c := fnCloud(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	fn := &cutOff{applying: &applying{Cloud: c}, cancel: cancel}
	e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Resizer: fn, Inventory: fn.applying, Metrics: c}, allowAll{})
	require.NoError(t, err)
	p := e.Plan(decideFnSmaller(t, e, c), scaling.PlanOptions{})
	x, err := e.Execute(ctx, p)
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, scaling.PlanInterrupted, x.Status)
	return e, p
}

// TestResumeWaitsForASizeBeingApplied: a resize interrupted while the
// driver waited for the update is resumed from the real size once the
// driver knows it again: found in effect, recorded in the History and
// verified. Read as unknown, the resume took it for a size changed by
// someone else (ErrDrift) and stopped, losing the change from the
// History.
func TestResumeWaitsForASizeBeingApplied(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e, p := interruptedFnResize(t)

		x, err := e.Execute(t.Context(), p)
		require.NoError(t, err)
		assert.Equal(t, scaling.PlanCompleted, x.Status, x.Reason)
		h := e.History("fn")
		require.Len(t, h.Changes, 1, "the interrupted write, found in effect")
		assert.Equal(t, fnSmaller, h.Changes[0].ToSize)
	})
}

// TestResizeFromNoSizeIsNotWaitedFor: a resource planned from no size (a
// pod without requests, given its first) is resized at once: only a size
// known when the plan was made and read as unknown since is waited for.
func TestResizeFromNoSizeIsNotWaitedFor(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, err := memory.New(memory.Config{})
		require.NoError(t, err)
		require.NoError(t, c.Add(provider.Resource{ID: "pod", Kind: provider.KindInstance}))
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Resizer: c, Inventory: c}, allowAll{})
		require.NoError(t, err)
		res, err := c.Get(t.Context(), "pod")
		require.NoError(t, err)
		require.True(t, res.Size.IsZero())
		to := provider.Size{VCPU: 0.5, MemoryMiB: 256}
		d, err := e.Decide(t.Context(), scaling.State{Now: time.Now(), Target: scaling.Target{ID: "pod", Resource: res}},
			[]scaling.Candidate{{Name: "fixed", Strategy: scaling.StrategyFunc(func(context.Context, scaling.State) (scaling.Recommendation, error) {
				return scaling.Recommendation{Size: to, Reason: "first requests", Fitness: 1}, nil
			})}}, "")
		require.NoError(t, err)
		start := time.Now()
		x, err := e.Execute(t.Context(), e.Plan(d, scaling.PlanOptions{Verify: scaling.VerifyConfig{Window: time.Minute}}))
		require.NoError(t, err)
		assert.Equal(t, scaling.PlanCompleted, x.Status, x.Reason)
		assert.Less(t, time.Since(start), scaling.DefaultVerifyTimeout, "not waited for")
	})
}

// TestAbandonWaitsForASizeBeingApplied: a resize interrupted while the
// driver waited for the update, then too old to be resumed (Resume's
// maxAge), is ended after its in-flight step is reconciled as run does:
// the size being applied is waited for and found in effect, so the step is
// executed and its change in the History. Read once as unknown, the step
// was marked failed (ErrDrift) and the change lost from the History,
// which the fix of the resume (waiting for the size) had missed here.
func TestAbandonWaitsForASizeBeingApplied(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		e, p := interruptedFnResize(t)

		xs, err := e.Resume(t.Context(), "fn", p.CreatedAt.Add(time.Hour), time.Minute)
		require.NoError(t, err)
		require.Len(t, xs, 1)
		assert.Equal(t, scaling.PlanStopped, xs[0].Status, xs[0].Reason)
		assert.Equal(t, scaling.StepExecuted, xs[0].Steps[0].Status, xs[0].Steps[0].Reason)
		h := e.History("fn")
		require.Len(t, h.Changes, 1, "the interrupted write, found in effect")
		assert.Equal(t, fnSmaller, h.Changes[0].ToSize)
	})
}

// fnSmaller is the size decideFnSmaller resizes the function "fn" to.
var fnSmaller = provider.Size{MemoryMiB: 512, Timeout: 300 * time.Second}

// decideFnSmaller is e's decision to resize the function "fn" (read from
// inv) from 1024 MiB to fnSmaller.
func decideFnSmaller(t *testing.T, e *scaling.Engine, inv provider.Inventory) scaling.Decision {
	t.Helper()
	res, err := inv.Get(t.Context(), "fn")
	require.NoError(t, err)
	d, err := e.Decide(t.Context(), scaling.State{Now: time.Now(), Target: scaling.Target{ID: "fn", Resource: res}},
		[]scaling.Candidate{{Name: "fixed", Strategy: scaling.StrategyFunc(func(context.Context, scaling.State) (scaling.Recommendation, error) {
			return scaling.Recommendation{Size: fnSmaller, Reason: "smaller", Fitness: 1}, nil
		})}}, "")
	require.NoError(t, err)
	return d
}

// rollbackGate is a safety gate with the rollback rule alone, which
// refuses to resize from an unknown size.
func rollbackGate(t *testing.T) *safety.Engine {
	t.Helper()
	rollback, err := safety.NewRollbackRule(safety.RollbackConfig{}, nil)
	require.NoError(t, err)
	gate, err := safety.New(safety.Config{}, []safety.Rule{rollback})
	require.NoError(t, err)
	return gate
}

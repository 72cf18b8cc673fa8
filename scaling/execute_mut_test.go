package scaling_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/syncbuf"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/scaling"
)

// scriptedReserver grants each request as its script says (Clamped to
// the given units when > 0 and smaller than asked, else Allowed), and
// records the requests.
type scriptedReserver struct {
	mu     sync.Mutex
	grants []int
	seen   []ratelimit.Request
}

func (r *scriptedReserver) ReserveAt(_ context.Context, now time.Time, req ratelimit.Request) (ratelimit.Reservation, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, req)
	res := ratelimit.Reservation{Request: req, At: now, Outcome: ratelimit.Allowed, Granted: req.Units}
	if len(r.grants) > 0 {
		if g := r.grants[0]; g > 0 && g < req.Units {
			res.Outcome, res.Granted = ratelimit.Clamped, g
		}
		r.grants = r.grants[1:]
	}
	return res, nil
}

func (r *scriptedReserver) CancelAt(context.Context, time.Time, ratelimit.Reservation) error {
	return nil
}

// planFor plans the change of c's group id to desired (MaxStepFraction
// large: one step when nothing clamps it).
func planFor(t *testing.T, e *scaling.Engine, c *memory.Cloud, id string, desired int) scaling.Plan {
	t.Helper()
	res, err := c.Get(t.Context(), id)
	require.NoError(t, err)
	capa, err := c.Capacity(t.Context(), id)
	require.NoError(t, err)
	to := capa.CapacitySpec
	to.Desired = desired
	return e.Plan(scaling.Decision{Now: c.Now(), Change: true, Target: scaling.Target{ID: id, Resource: res, Capacity: capa, Min: 1, Max: 50},
		Chosen: scaling.Recommendation{Strategy: "s", Capacity: to}}, scaling.PlanOptions{})
}

// TestClampedStepResplits pins a step the rate limiter clamps: it moves
// only the granted instances, and the rest of the plan is split again
// from there, numbered on.
func TestClampedStepResplits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		from, to      int
		grants        []int
		wantDesired   []int
		wantDirection []ratelimit.Direction
	}{
		{"out", 2, 6, []int{1}, []int{3, 6}, []ratelimit.Direction{ratelimit.Up, ratelimit.Up}},
		{"in", 8, 3, []int{2}, []int{6, 3}, []ratelimit.Direction{ratelimit.Down, ratelimit.Down}},
		{"twice", 2, 9, []int{3, 2}, []int{5, 7, 9}, []ratelimit.Direction{ratelimit.Up, ratelimit.Up, ratelimit.Up}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, err := memory.New(memory.Config{})
				require.NoError(t, err)
				require.NoError(t, c.AddGroup(provider.Resource{ID: "web"}, provider.CapacitySpec{Min: 1, Max: 50, Desired: tc.from}))
				r := &scriptedReserver{grants: tc.grants}
				e, err := scaling.NewEngine(scaling.EngineConfig{MaxStepFraction: 100, VerifyWindow: time.Second}, scaling.Cloud{Scaler: c}, allowAll{}, scaling.WithReserver(r))
				require.NoError(t, err)
				p := planFor(t, e, c, "web", tc.to)
				require.Len(t, p.Steps, 1)
				x, err := e.Execute(t.Context(), p)
				require.NoError(t, err)
				assert.Equal(t, scaling.PlanCompleted, x.Status, x.Reason)
				require.Len(t, x.Steps, len(tc.wantDesired))
				for i, s := range x.Steps {
					assert.Equal(t, i+1, s.Step.Index)
					assert.Equal(t, tc.wantDesired[i], s.Step.To.Desired, "step %d", i+1)
					if i > 0 {
						assert.Equal(t, x.Steps[i-1].Step.To, s.Step.From, "step %d starts where the last ended", i+1)
					}
				}
				var dirs []ratelimit.Direction
				for _, q := range r.seen {
					dirs = append(dirs, q.Direction)
				}
				assert.Equal(t, tc.wantDirection, dirs)
				capa, err := c.Capacity(t.Context(), "web")
				require.NoError(t, err)
				assert.Equal(t, tc.to, capa.Desired)
			})
		})
	}
}

// TestExecuteClampLeavesCallersPlanAlone pins that a step the rate
// limiter clamps re-splits the execution's own copy of the plan: the
// caller's Plan (a value, a TargetReport's) keeps its steps.
func TestExecuteClampLeavesCallersPlanAlone(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, err := memory.New(memory.Config{})
		require.NoError(t, err)
		require.NoError(t, c.AddGroup(provider.Resource{ID: "web"}, provider.CapacitySpec{Min: 1, Max: 50, Desired: 2}))
		r := &scriptedReserver{grants: []int{1}}
		e, err := scaling.NewEngine(scaling.EngineConfig{MaxStepFraction: 100, VerifyWindow: time.Second}, scaling.Cloud{Scaler: c}, allowAll{}, scaling.WithReserver(r))
		require.NoError(t, err)
		p := planFor(t, e, c, "web", 6)
		want := slices.Clone(p.Steps)
		x, err := e.Execute(t.Context(), p)
		require.NoError(t, err)
		require.Equal(t, scaling.PlanCompleted, x.Status, x.Reason)
		require.Len(t, x.Plan.Steps, 2, "the execution's plan is re-split")
		assert.Equal(t, want, p.Steps, "the caller's plan is not changed")
	})
}

// TestClampOutsideTheStepFails: a Reserver that answers Clamped with a
// grant the step cannot follow (none, fewer than none, more than asked)
// has failed: the plan stops as rate limited with the error (fail
// closed), writes nothing and gets the reservation back. The engine
// followed it: a grant of 0 made steps that moved nothing, for ever; of
// 5 for a step of 2 a scale out past the plan's end and back, for ever;
// of −1 a scale out that scaled in.
func TestClampOutsideTheStepFails(t *testing.T) {
	t.Parallel()
	for _, granted := range []int{0, -1, 5} {
		t.Run(fmt.Sprint(granted), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := web4(t)
				var reserved, cancelled int
				r := funcReserver{
					reserve: func(_ context.Context, now time.Time, req ratelimit.Request) (ratelimit.Reservation, error) {
						reserved++
						if reserved > 3 { // the engine asks again only when it followed the grant
							return ratelimit.Reservation{Request: req, At: now, Outcome: ratelimit.Denied}, nil
						}
						return ratelimit.Reservation{ID: uint64(reserved), Request: req, At: now, Outcome: ratelimit.Clamped, Granted: granted}, nil
					},
					cancel: func(context.Context, time.Time, ratelimit.Reservation) error {
						cancelled++
						return nil
					},
				}
				e, err := scaling.NewEngine(scaling.EngineConfig{MaxStepFraction: 100, VerifyWindow: time.Second}, scaling.Cloud{Scaler: c}, allowAll{}, scaling.WithReserver(r))
				require.NoError(t, err)
				x, err := e.Execute(t.Context(), planFor(t, e, c, "web", 6))
				require.ErrorIs(t, err, provider.ErrInvalid)
				var serr *scaling.StepError
				require.ErrorAs(t, err, &serr)
				assert.Equal(t, scaling.StageRateLimit, serr.Stage)
				assert.Equal(t, scaling.PlanRateLimited, x.Status, x.Reason)
				require.NotNil(t, x.RateLimit)
				assert.Equal(t, granted, x.RateLimit.Granted)
				assert.Empty(t, setCapacityOps(c), "nothing written")
				assert.Equal(t, 1, reserved)
				assert.Equal(t, 1, cancelled, "the reservation is refunded")
			})
		})
	}
}

// TestClampWithinTheStepIsFollowed pins the bounds of a Clamped grant the
// step can follow: 1 and all of the step's units (a Reserver may answer
// Clamped with what was asked) are written, not refused as outside it.
func TestClampWithinTheStepIsFollowed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		granted     int
		wantDesired []int
	}{
		{1, []int{5, 6}},
		{2, []int{6}},
	} {
		t.Run(fmt.Sprint(tc.granted), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := web4(t)
				reserved := 0
				r := funcReserver{
					reserve: func(_ context.Context, now time.Time, req ratelimit.Request) (ratelimit.Reservation, error) {
						reserved++
						if reserved > 1 {
							return ratelimit.Reservation{ID: uint64(reserved), Request: req, At: now, Outcome: ratelimit.Allowed, Granted: req.Units}, nil
						}
						return ratelimit.Reservation{ID: uint64(reserved), Request: req, At: now, Outcome: ratelimit.Clamped, Granted: tc.granted}, nil
					},
					cancel: func(context.Context, time.Time, ratelimit.Reservation) error { return nil },
				}
				e, err := scaling.NewEngine(scaling.EngineConfig{MaxStepFraction: 100, VerifyWindow: time.Second}, scaling.Cloud{Scaler: c}, allowAll{}, scaling.WithReserver(r))
				require.NoError(t, err)
				x, err := e.Execute(t.Context(), planFor(t, e, c, "web", 6))
				require.NoError(t, err)
				assert.Equal(t, scaling.PlanCompleted, x.Status, x.Reason)
				require.Len(t, x.Steps, len(tc.wantDesired))
				for i, s := range x.Steps {
					assert.Equal(t, tc.wantDesired[i], s.Step.To.Desired, "step %d", i+1)
				}
				capa, err := c.Capacity(t.Context(), "web")
				require.NoError(t, err)
				assert.Equal(t, 6, capa.Desired)
			})
		})
	}
}

// TestResizeDirection pins the rate limiter's direction of a resize: up
// when vCPUs or memory grow and neither shrinks, down when one shrinks
// and neither grows (a change of timeout alone included), both budgets
// when they move opposite ways (it was up: memory plus vCPUs grew).
func TestResizeDirection(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		from, to provider.Size
		want     []ratelimit.Direction
	}{
		{"memory up", provider.Size{MemoryMiB: 512, Timeout: time.Minute}, provider.Size{MemoryMiB: 1024, Timeout: time.Minute}, []ratelimit.Direction{ratelimit.Up}},
		{"memory down", provider.Size{MemoryMiB: 1024, Timeout: time.Minute}, provider.Size{MemoryMiB: 512, Timeout: time.Minute}, []ratelimit.Direction{ratelimit.Down}},
		{"timeout only", provider.Size{MemoryMiB: 512, Timeout: time.Minute}, provider.Size{MemoryMiB: 512, Timeout: 2 * time.Minute}, []ratelimit.Direction{ratelimit.Down}},
		{"vCPU down", provider.Size{InstanceType: "c5.xlarge", VCPU: 4, MemoryMiB: 8192}, provider.Size{InstanceType: "m5.large", VCPU: 2, MemoryMiB: 8192}, []ratelimit.Direction{ratelimit.Down}},
		{"one MiB more", provider.Size{MemoryMiB: 512, Timeout: time.Minute}, provider.Size{MemoryMiB: 513, Timeout: time.Minute}, []ratelimit.Direction{ratelimit.Up}},
		{"vCPU up", provider.Size{InstanceType: "m5.large", VCPU: 2, MemoryMiB: 8192}, provider.Size{InstanceType: "c5.xlarge", VCPU: 4, MemoryMiB: 8192}, []ratelimit.Direction{ratelimit.Up}},
		{"vCPU down, memory up", provider.Size{InstanceType: "c5.xlarge", VCPU: 4, MemoryMiB: 8192}, provider.Size{InstanceType: "r5.large", VCPU: 2, MemoryMiB: 16384}, []ratelimit.Direction{ratelimit.Up, ratelimit.Down}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, err := memory.New(memory.Config{})
				require.NoError(t, err)
				kind := provider.KindFunction
				if tc.from.InstanceType != "" {
					kind = provider.KindInstance
				}
				require.NoError(t, c.Add(provider.Resource{ID: "fn", Kind: kind, State: provider.StateRunning, Size: tc.from}))
				r := &scriptedReserver{}
				e, err := scaling.NewEngine(scaling.EngineConfig{VerifyWindow: time.Second}, scaling.Cloud{Resizer: c, Inventory: c}, allowAll{}, scaling.WithReserver(r))
				require.NoError(t, err)
				res, err := c.Get(t.Context(), "fn")
				require.NoError(t, err)
				p := e.Plan(scaling.Decision{Now: c.Now(), Change: true, Target: scaling.Target{ID: "fn", Resource: res},
					Chosen: scaling.Recommendation{Strategy: "vertical", Size: tc.to}}, scaling.PlanOptions{})
				_, err = e.Execute(t.Context(), p)
				require.NoError(t, err)
				var dirs []ratelimit.Direction
				for _, q := range r.seen {
					dirs = append(dirs, q.Direction)
				}
				assert.Equal(t, tc.want, dirs)
			})
		})
	}
}

// TestResumeTTL pins Resume's maxAge: a plan exactly maxAge old is
// resumed, an older one is stopped with the reason, and maxAge 0
// resumes any.
func TestResumeTTL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		age     time.Duration
		maxAge  time.Duration
		resumed bool
	}{
		{"at max age", 15 * time.Minute, 15 * time.Minute, true},
		{"older", 15*time.Minute + time.Nanosecond, 15 * time.Minute, false},
		{"no max age", 30 * 24 * time.Hour, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, err := memory.New(memory.Config{})
				require.NoError(t, err)
				require.NoError(t, c.AddGroup(provider.Resource{ID: "web"}, provider.CapacitySpec{Min: 1, Max: 50, Desired: 2}))
				j := scaling.NewMemoryJournal()
				e, err := scaling.NewEngine(scaling.EngineConfig{VerifyWindow: time.Second}, scaling.Cloud{Scaler: c}, allowAll{}, scaling.WithJournal(j))
				require.NoError(t, err)
				p := planFor(t, e, c, "web", 3)
				p.CreatedAt = c.Now().Add(-tc.age)
				x := scaling.Execution{Plan: p, Status: scaling.PlanInterrupted}
				for _, s := range p.Steps {
					x.Steps = append(x.Steps, scaling.StepRecord{Step: s, Status: scaling.StepPending})
				}
				require.NoError(t, j.Save(t.Context(), x))
				out, err := e.Resume(t.Context(), "web", c.Now(), tc.maxAge)
				require.NoError(t, err)
				require.Len(t, out, 1)
				capa, err := c.Capacity(t.Context(), "web")
				require.NoError(t, err)
				if tc.resumed {
					assert.Equal(t, scaling.PlanCompleted, out[0].Status, out[0].Reason)
					assert.Equal(t, 3, capa.Desired)
					return
				}
				assert.Equal(t, scaling.PlanStopped, out[0].Status)
				assert.Equal(t, "interrupted plan older than 15m0s not resumed", out[0].Reason)
				assert.Equal(t, 2, capa.Desired)
			})
		})
	}
}

// TestThrottleRetriesUntilTheDeadline pins the retries of a throttled
// write: backoff 1 s doubling, no retry that would end past
// RetryDeadline (3 s: retries after 1 s and 2 s more, at 0 + 1 and 1 +
// 2 = 3 s, none after 3 + 4 s).
func TestThrottleRetriesUntilTheDeadline(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, err := memory.New(memory.Config{})
		require.NoError(t, err)
		require.NoError(t, c.AddGroup(provider.Resource{ID: "web"}, provider.CapacitySpec{Min: 1, Max: 50, Desired: 2}))
		_, err = c.InjectFault(memory.Fault{Op: memory.OpSetCapacity, Throttle: true})
		require.NoError(t, err)
		rec := &recorder{}
		e, err := scaling.NewEngine(scaling.EngineConfig{RetryDeadline: 3 * time.Second, RetryBackoff: time.Second}, scaling.Cloud{Scaler: c}, allowAll{}, scaling.WithObserver(rec))
		require.NoError(t, err)
		start := time.Now()
		x, err := e.Execute(t.Context(), planFor(t, e, c, "web", 3))
		require.ErrorIs(t, err, provider.ErrThrottled)
		assert.Contains(t, err.Error(), "throttled for 3s")
		assert.NotEqual(t, scaling.PlanCompleted, x.Status)
		assert.Equal(t, 3*time.Second, time.Since(start), "two waits: 1 s and 2 s")
		assert.Equal(t, 2, rec.count(scaling.EventStepRetried))
	})
}

// TestVerifyReadsItsWindowOnly pins the minutes a step's signals are read
// over: the Window from the minute the step settled in, in whole minutes
// (a 1-minute window reads that minute only: a spike the minute after
// does not fail it, one within does), and nothing with a window of 0.
func TestVerifyReadsItsWindowOnly(t *testing.T) {
	t.Parallel()
	hi := 0.9
	for _, tc := range []struct {
		name     string
		window   time.Duration
		spikeAt  time.Duration // from the minute the step settled in
		verified bool
	}{
		{"spike after the window", time.Minute, time.Minute, true},
		{"spike within the window", time.Minute, 0, false},
		{"spike in a window's last minute", 90 * time.Second, time.Minute, false},
		{"spike after a rounded-up window", 90 * time.Second, 2 * time.Minute, true},
		{"no window", 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := web4(t)
				vals := make([]float64, 10)
				for i := range vals {
					vals[i] = 0.5
				}
				vals[int(tc.spikeAt/time.Minute)] = 0.95
				require.NoError(t, c.SetSeries(provider.Series{ResourceID: "web", Metric: provider.MetricCPU, Start: c.Now().Truncate(time.Minute), Step: time.Minute, Values: vals}))
				e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{})
				require.NoError(t, err)
				p := planFor(t, e, c, "web", 3)
				p.Monitoring = scaling.MonitoringPlan{Window: tc.window, Timeout: time.Minute, Signals: []scaling.Signal{{Metric: provider.MetricCPU, Max: &hi}}}
				x, err := e.Execute(t.Context(), p)
				if tc.verified {
					require.NoError(t, err)
					assert.Equal(t, scaling.PlanCompleted, x.Status, x.Reason)
					return
				}
				require.ErrorIs(t, err, scaling.ErrNotVerified)
				assert.Equal(t, scaling.PlanRolledBack, x.Status, x.Reason)
			})
		})
	}
}

// gatedWeb returns a cloud whose group "web" has 4 instances, an engine
// on it behind the safety gate, and the engine's one-step plan to desired.
func gatedWeb(t *testing.T, desired int) (*memory.Cloud, *scaling.Engine, scaling.Plan) {
	t.Helper()
	c := newCloud(t, 4, memory.Config{})
	e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t))
	require.NoError(t, err)
	p := e.Plan(decide(t, e, c, desired), scaling.PlanOptions{})
	require.Len(t, p.Steps, 1)
	return c, e, p
}

// lostReply is a Scaler whose first SetCapacity goes through and then
// fails as if the caller's context had been cancelled while the reply
// was on its way (it calls cancel): the engine cannot tell whether the
// write took effect.
// With rollbackOnly, it loses the first rollback write's reply instead.
type lostReply struct {
	*memory.Cloud
	cancel       context.CancelFunc
	rollbackOnly bool
	lost         atomic.Bool
}

func (s *lostReply) SetCapacity(ctx context.Context, id string, want provider.CapacitySpec) error {
	ref, _ := scaling.PlanFromContext(ctx)
	if err := s.Cloud.SetCapacity(ctx, id, want); err != nil || (s.rollbackOnly && !ref.Rollback) || s.lost.Swap(true) {
		return err
	}
	s.cancel()
	return ctx.Err()
}

// TestResumeFindsTheWriteInEffect: a plan interrupted after its write
// went through (the reply was lost) is resumed by reading the capacity:
// the step is found in effect, recorded once as the target's change
// (the interrupted run could not record it, and a resume interrupted in
// turn leaves it executed), not written again, and verified.
func TestResumeFindsTheWriteInEffect(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: &lostReply{Cloud: c, cancel: cancel}, Metrics: c}, safetyGate(t))
		require.NoError(t, err)
		p := e.Plan(decide(t, e, c, 6), scaling.PlanOptions{})
		require.Len(t, p.Steps, 1)
		x, err := e.Execute(ctx, p)
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, scaling.PlanInterrupted, x.Status)
		assert.Equal(t, scaling.StepExecuting, x.Steps[0].Status)
		assert.Empty(t, e.History("web").Changes, "the interrupted run does not know the write took effect")

		// A first resume is interrupted while it verifies the step: the
		// step is executed now, and a second resume must not record the
		// change again.
		vctx, vcancel := context.WithTimeout(t.Context(), time.Second)
		defer vcancel()
		xs, err := e.Resume(vctx, "web", time.Now(), time.Hour)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Len(t, xs, 1)
		assert.Equal(t, scaling.PlanInterrupted, xs[0].Status)
		assert.Equal(t, scaling.StepExecuted, xs[0].Steps[0].Status)
		assert.Equal(t, "found in effect", xs[0].Steps[0].Reason)

		xs, err = e.Resume(t.Context(), "web", time.Now(), time.Hour)
		require.NoError(t, err)
		require.Len(t, xs, 1)
		assert.Equal(t, scaling.PlanCompleted, xs[0].Status, xs[0].Reason)
		assert.Equal(t, scaling.StepVerified, xs[0].Steps[0].Status)
		assert.Len(t, setCapacityOps(c), 1, "the step is not written again")
		changes := e.History("web").Changes
		require.Len(t, changes, 1, "the change found in effect is recorded once")
		assert.Equal(t, p.ID, changes[0].PlanID)
		assert.Equal(t, 1, changes[0].Step)
		assert.Equal(t, "fixed", changes[0].Strategy)
		assert.Equal(t, 4, changes[0].From.Desired)
		assert.Equal(t, 6, changes[0].To.Desired)
	})
}

// TestExecuteFindsTheStepInEffect: a step someone else already made is
// marked executed ("found in effect") without a write and without a
// change of the engine's own in the History; an interruption while it is
// verified leaves it executed, so that a resume only verifies it.
func TestExecuteFindsTheStepInEffect(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, e, p := gatedWeb(t, 6)
		require.NoError(t, c.SetCapacity(t.Context(), "web", p.Steps[0].To))
		ctx, cancel := context.WithTimeout(t.Context(), time.Second) // inside the verification window
		defer cancel()
		x, err := e.Execute(ctx, p)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, scaling.PlanInterrupted, x.Status)
		assert.Equal(t, scaling.StepExecuted, x.Steps[0].Status)
		assert.Equal(t, "found in effect", x.Steps[0].Reason)
		assert.Len(t, setCapacityOps(c), 1, "only the test's own write")
		assert.Empty(t, e.History("web").Changes, "the engine made no change")

		xs, err := e.Resume(t.Context(), "web", time.Now(), time.Hour)
		require.NoError(t, err)
		require.Len(t, xs, 1)
		assert.Equal(t, scaling.PlanCompleted, xs[0].Status, xs[0].Reason)
		assert.Len(t, setCapacityOps(c), 1)
		assert.Empty(t, e.History("web").Changes)
	})
}

// TestExecuteReadFails: the read before a step fails: the plan stops
// with a StepError at StageRead carrying the provider's error, nothing is
// written and the step is skipped; a read cut short by the context
// interrupts the plan instead (it may be resumed).
func TestExecuteReadFails(t *testing.T) {
	t.Parallel()
	errRead := errors.New("capacity read refused")
	for _, tc := range []struct {
		name  string
		fault memory.Fault
	}{
		{"error", memory.Fault{Op: memory.OpCapacity, Err: errRead, Times: 1}},
		{"context", memory.Fault{Op: memory.OpCapacity, Latency: time.Minute, Times: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, e, p := gatedWeb(t, 6)
				_, err := c.InjectFault(tc.fault)
				require.NoError(t, err)
				ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
				defer cancel()
				x, err := e.Execute(ctx, p)
				assert.Empty(t, setCapacityOps(c))
				if tc.fault.Err == nil {
					require.ErrorIs(t, err, context.DeadlineExceeded)
					assert.Equal(t, scaling.PlanInterrupted, x.Status)
					require.ErrorIs(t, x.Err, context.DeadlineExceeded)
					assert.Equal(t, "interrupted: "+context.DeadlineExceeded.Error(), x.Reason)
					assert.Equal(t, scaling.StepPending, x.Steps[0].Status)
					return
				}
				require.ErrorIs(t, err, errRead)
				assert.Equal(t, scaling.PlanStopped, x.Status)
				var serr *scaling.StepError
				require.ErrorAs(t, x.Err, &serr)
				assert.Equal(t, scaling.StageRead, serr.Stage)
				assert.Equal(t, 1, serr.Step)
				assert.Equal(t, p.ID, serr.PlanID)
				assert.Equal(t, scaling.StepSkipped, x.Steps[0].Status)
			})
		})
	}
}

// funcReserver is a Reserver whose answers are functions.
type funcReserver struct {
	reserve func(ctx context.Context, now time.Time, req ratelimit.Request) (ratelimit.Reservation, error)
	cancel  func(ctx context.Context, now time.Time, res ratelimit.Reservation) error
}

func (r funcReserver) ReserveAt(ctx context.Context, now time.Time, req ratelimit.Request) (ratelimit.Reservation, error) {
	return r.reserve(ctx, now, req)
}

func (r funcReserver) CancelAt(ctx context.Context, now time.Time, res ratelimit.Reservation) error {
	return r.cancel(ctx, now, res)
}

// TestRateLimiterAndCancellation: a limiter that fails because the
// context ended interrupts the plan (it may be resumed); a limiter that
// answers "denied" stops it as rate limited even if the context ended
// meanwhile (the answer is the limiter's, not the interruption's).
func TestRateLimiterAndCancellation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		answerErr  bool
		wantStatus scaling.PlanStatus
		wantReason string
	}{
		{"error", true, scaling.PlanInterrupted, "interrupted at the rate limiter: " + context.Canceled.Error()},
		{"denied", false, scaling.PlanRateLimited, "step 1: rate limited: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCloud(t, 4, memory.Config{})
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				r := funcReserver{reserve: func(ctx context.Context, now time.Time, req ratelimit.Request) (ratelimit.Reservation, error) {
					cancel()
					res := ratelimit.Reservation{Request: req, At: now, Outcome: ratelimit.Denied, Next: now.Add(time.Hour)}
					if tc.answerErr {
						return res, ctx.Err()
					}
					return res, nil
				}}
				e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{}, scaling.WithReserver(r))
				require.NoError(t, err)
				x, _ := e.Execute(ctx, e.Plan(decide(t, e, c, 6), scaling.PlanOptions{}))
				assert.Equal(t, tc.wantStatus, x.Status)
				assert.True(t, strings.HasPrefix(x.Reason, tc.wantReason), "reason %q, want it to begin with %q", x.Reason, tc.wantReason)
				if tc.answerErr {
					require.ErrorIs(t, x.Err, context.Canceled)
				} else {
					require.NoError(t, x.Err)
					require.NotNil(t, x.RateLimit)
					assert.Equal(t, ratelimit.Denied, x.RateLimit.Outcome)
				}
				assert.Empty(t, setCapacityOps(c))
			})
		})
	}
}

// TestRefundAfterAFailedWrite: a write that fails and leaves the group
// unchanged refunds its reservation; a refund that fails is logged (the
// plan's outcome is the write's failure either way), one that succeeds
// is not.
func TestRefundAfterAFailedWrite(t *testing.T) {
	t.Parallel()
	for _, refundErr := range []error{nil, errors.New("limiter store unreachable")} {
		t.Run(fmt.Sprint(refundErr != nil), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCloud(t, 4, memory.Config{})
				errWrite := errors.New("capacity write refused")
				_, err := c.InjectFault(memory.Fault{Op: memory.OpSetCapacity, Err: errWrite, Times: 1})
				require.NoError(t, err)
				var refunds []ratelimit.Reservation
				r := funcReserver{
					reserve: func(_ context.Context, now time.Time, req ratelimit.Request) (ratelimit.Reservation, error) {
						return ratelimit.Reservation{Request: req, At: now, Outcome: ratelimit.Allowed, Granted: req.Units}, nil
					},
					cancel: func(_ context.Context, _ time.Time, res ratelimit.Reservation) error {
						refunds = append(refunds, res)
						return refundErr
					},
				}
				var logs syncbuf.Buffer
				e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{},
					scaling.WithReserver(r), scaling.WithEngineLogger(slog.New(slog.NewTextHandler(&logs, nil))))
				require.NoError(t, err)
				x, err := e.Execute(t.Context(), e.Plan(decide(t, e, c, 6), scaling.PlanOptions{}))
				require.ErrorIs(t, err, errWrite)
				assert.Equal(t, scaling.PlanStopped, x.Status)
				require.Len(t, refunds, 1)
				assert.Equal(t, 2, refunds[0].Granted)
				assert.Zero(t, x.Steps[0].Reservation, "refunded, or its failed refund logged: the record keeps none")
				if refundErr == nil {
					assert.NotContains(t, logs.String(), "refund")
					return
				}
				assert.Contains(t, logs.String(), "rate-limit refund failed")
				assert.Contains(t, logs.String(), "limiter store unreachable")
			})
		})
	}
}

// TestSettleRetriesAFailedRead: a read that fails while the engine waits
// for a step to settle is polled again, not taken as settled: the scale
// in is then verified over the minutes after it settled.
func TestSettleRetriesAFailedRead(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, e, p := gatedWeb(t, 3)
		require.NotEmpty(t, p.Monitoring.Signals, "a scale in is verified on signals")
		// The first read is the step's; the second is the first poll.
		_, err := c.InjectFault(memory.Fault{Op: memory.OpCapacity, Nth: 2, Err: errors.New("capacity read failed once")})
		require.NoError(t, err)
		x, err := e.Execute(t.Context(), p)
		require.NoError(t, err)
		assert.Equal(t, scaling.PlanCompleted, x.Status, x.Reason)
		assert.Equal(t, scaling.StepVerified, x.Steps[0].Status)
		capa, err := c.Capacity(t.Context(), "web")
		require.NoError(t, err)
		assert.Equal(t, 3, capa.Desired)
	})
}

// cancelOnSettled is a Scaler whose read that shows the group settled
// ends the caller's context as it returns (the host shuts down while the
// read is in flight; the answer is already there).
type cancelOnSettled struct {
	*memory.Cloud
	cancel context.CancelFunc
}

func (s cancelOnSettled) Capacity(ctx context.Context, id string) (provider.Capacity, error) {
	c, err := s.Cloud.Capacity(ctx, id)
	if err == nil && c.Settled() && c.Desired == 3 {
		s.cancel()
	}
	return c, err
}

// TestSettledAfterTheContextEnded: on an engine with no signals to check
// (no metrics source), a step whose read shows it settled is verified
// even when the context ended meanwhile (the outcome is known, so the
// plan completes rather than being left to a resume).
func TestSettledAfterTheContextEnded(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: cancelOnSettled{c, cancel}}, allowAll{})
		require.NoError(t, err)
		x, err := e.Execute(ctx, e.Plan(decide(t, e, c, 3), scaling.PlanOptions{}))
		require.NoError(t, err)
		assert.Equal(t, scaling.PlanCompleted, x.Status, x.Reason)
		assert.Equal(t, scaling.StepVerified, x.Steps[0].Status)
		require.Error(t, ctx.Err())
	})
}

// scriptedGate allows every proposal but those block refuses, and records
// what it was asked.
type scriptedGate struct {
	mu    sync.Mutex
	seen  []safety.Proposal
	block func(safety.Proposal) bool
}

func (g *scriptedGate) Check(_ context.Context, p safety.Proposal) (safety.Decision, error) {
	g.mu.Lock()
	g.seen = append(g.seen, p)
	g.mu.Unlock()
	d := safety.Decision{ProposalID: p.ID, ResourceID: p.Resource.ID, Action: p.Action, Now: p.Now, Allowed: true, Outcome: safety.Pass, Risk: safety.RiskLow}
	if g.block != nil && g.block(p) {
		d.Allowed, d.Outcome = false, safety.Block
	}
	return d, nil
}

func (g *scriptedGate) Evaluate(ctx context.Context, p safety.Proposal) (safety.Decision, error) {
	return g.Check(ctx, p)
}

func isRollback(p safety.Proposal) bool { return strings.HasPrefix(p.Reason, "rollback: ") }

// TestRollbackSteps pins a rollback of a multi-step scale in whose first
// step is unhealthy: the steps back are numbered after the plan's, each
// goes through the gate as "<plan>/rollback-k" with the cause as its
// reason, the executed step is marked rolled back and the skipped ones
// stay skipped.
func TestRollbackSteps(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 9, memory.Config{})
		setCPU(t, c, "web", 0.95)
		g := &scriptedGate{}
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, g)
		require.NoError(t, err)
		p := e.Plan(decide(t, e, c, 2), scaling.PlanOptions{})
		require.Greater(t, len(p.Steps), 1)
		x, err := e.Execute(t.Context(), p)
		require.ErrorIs(t, err, scaling.ErrNotVerified)
		assert.Equal(t, scaling.PlanRolledBack, x.Status)
		assert.Equal(t, scaling.StepRolledBack, x.Steps[0].Status)
		for _, s := range x.Steps[1:] {
			assert.Equal(t, scaling.StepSkipped, s.Status, "step %d was never made", s.Step.Index)
		}
		require.Greater(t, len(x.Rollback), 1, "%d back to %d in gradual steps", x.Steps[0].Step.To.Desired, p.From.Desired)
		var ids []string
		for _, q := range g.seen {
			if isRollback(q) {
				ids = append(ids, q.ID)
				assert.Contains(t, q.Reason, "unhealthy")
			}
		}
		require.Len(t, ids, len(x.Rollback))
		for k, r := range x.Rollback {
			assert.Equal(t, len(x.Steps)+k+1, r.Step.Index, "rollback step %d", k+1)
			assert.Equal(t, scaling.StepVerified, r.Status)
			assert.Equal(t, fmt.Sprintf("%s/rollback-%d", p.ID, k+1), ids[k])
		}
		capa, err := c.Capacity(t.Context(), "web")
		require.NoError(t, err)
		assert.Equal(t, 9, capa.Desired)
	})
}

// TestRollbackRefused: a rollback step the gate does not allow, or whose
// fence fails, is not made: the plan fails with the rollback's cause and
// the group stays where the plan left it.
func TestRollbackRefused(t *testing.T) {
	t.Parallel()
	errFence := errors.New("lease lost")
	for _, tc := range []struct {
		name      string
		block     func(safety.Proposal) bool
		fence     scaling.Fencer
		wantErr   error
		wantStage scaling.Stage
	}{
		{"gate", isRollback, nil, safety.ErrBlocked, scaling.StageSafety},
		{"fence", nil, scaling.FencerFunc(func(_ context.Context, _ string, step int) error {
			if step > 1 {
				return errFence // the plan's own step is 1: the rollback's are after it
			}
			return nil
		}), errFence, scaling.StageFence},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCloud(t, 4, memory.Config{})
				setCPU(t, c, "web", 0.95)
				opts := []scaling.EngineOption{}
				if tc.fence != nil {
					opts = append(opts, scaling.WithFencer(tc.fence))
				}
				e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, &scriptedGate{block: tc.block}, opts...)
				require.NoError(t, err)
				p := e.Plan(decide(t, e, c, 3), scaling.PlanOptions{})
				require.Len(t, p.Steps, 1)
				x, err := e.Execute(t.Context(), p)
				require.ErrorIs(t, err, scaling.ErrRollback)
				require.ErrorIs(t, err, tc.wantErr)
				require.ErrorIs(t, err, scaling.ErrNotVerified, "the cause is kept")
				assert.Equal(t, scaling.PlanFailed, x.Status)
				assert.Contains(t, err.Error(), fmt.Sprintf("rollback failed: scaling: plan %s step 2: %s: ", p.ID, tc.wantStage),
					"the first step back (numbered after the plan's one step) was refused at its stage")
				assert.Empty(t, x.Rollback, "no step back was made")
				capa, err := c.Capacity(t.Context(), "web")
				require.NoError(t, err)
				assert.Equal(t, 3, capa.Desired)
			})
		})
	}
}

// TestSettleTimesOutOnTime: a step that does not settle fails its
// verification exactly VerifyTimeout after it was made, not at the next
// poll after it (the last wait is cut to what is left).
func TestSettleTimesOutOnTime(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{LaunchDelay: time.Hour})
		rec := &recorder{}
		const timeout = 100 * time.Second // not a multiple of the 15 s poll
		e, err := scaling.NewEngine(scaling.EngineConfig{VerifyTimeout: timeout}, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{}, scaling.WithObserver(rec))
		require.NoError(t, err)
		x, err := e.Execute(t.Context(), e.Plan(decide(t, e, c, 6), scaling.PlanOptions{}))
		require.ErrorIs(t, err, scaling.ErrNotVerified)
		assert.Contains(t, x.Steps[0].Reason, "capacity did not settle within 1m40s")
		var executed, failed time.Time
		for _, ev := range rec.events {
			switch ev.Kind {
			case scaling.EventStepExecuted:
				executed = ev.Time
			case scaling.EventVerificationFailed:
				failed = ev.Time
			}
		}
		require.False(t, executed.IsZero() || failed.IsZero())
		assert.Equal(t, timeout, failed.Sub(executed))
	})
}

// jsonJournal is a Journal that keeps each execution as JSON, as a
// host's persistent journal does: what it returns is what the JSON holds
// (no Err), as after a restart.
type jsonJournal struct {
	mu   sync.Mutex
	byID map[string][]byte
}

func newJSONJournal() *jsonJournal { return &jsonJournal{byID: map[string][]byte{}} }

func (j *jsonJournal) Load(_ context.Context, id string) (scaling.Execution, bool, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	b, ok := j.byID[id]
	if !ok {
		return scaling.Execution{}, false, nil
	}
	var x scaling.Execution
	err := json.Unmarshal(b, &x)
	return x, true, err
}

func (j *jsonJournal) Save(_ context.Context, x scaling.Execution) error {
	b, err := json.Marshal(x)
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.byID[x.Plan.ID] = b
	return nil
}

func (j *jsonJournal) Unfinished(ctx context.Context, target string) ([]scaling.Execution, error) {
	j.mu.Lock()
	ids := make([]string, 0, len(j.byID))
	for id := range j.byID {
		ids = append(ids, id)
	}
	j.mu.Unlock()
	var out []scaling.Execution
	for _, id := range ids {
		x, _, err := j.Load(ctx, id)
		if err != nil {
			return nil, err
		}
		if x.Plan.Target.ID == target && !x.Status.Final() {
			out = append(out, x)
		}
	}
	slices.SortFunc(out, func(a, b scaling.Execution) int { return a.Plan.CreatedAt.Compare(b.Plan.CreatedAt) })
	return out, nil
}

// TestResizeWithoutAResizerStops: an engine that has a Scaler and an
// Inventory but no Resizer (NewEngine needs only one of Scaler and
// Resizer) refuses a resize step before fencing or gating it: the plan
// stops with a StepError at StageAct matching provider.ErrInvalid and
// naming cloud.resizer, the step is skipped and nothing is written — no
// panic.
func TestResizeWithoutAResizerStops(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := fnCloud(t)
		g := &scriptedGate{}
		var fenced atomic.Int32
		fence := scaling.FencerFunc(func(context.Context, string, int) error { fenced.Add(1); return nil })
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Inventory: c, Metrics: c}, g, scaling.WithFencer(fence))
		require.NoError(t, err)
		res, err := c.Get(t.Context(), "fn")
		require.NoError(t, err)
		p := e.Plan(scaling.Decision{Now: c.Now(), Change: true, Target: scaling.Target{ID: "fn", Resource: res},
			Chosen: scaling.Recommendation{Strategy: "vertical", Size: provider.Size{MemoryMiB: 512, Timeout: 300 * time.Second}}}, scaling.PlanOptions{})
		require.Len(t, p.Steps, 1)
		var x scaling.Execution
		require.NotPanics(t, func() { x, err = e.Execute(t.Context(), p) })
		require.ErrorIs(t, err, provider.ErrInvalid)
		var inv *provider.InvalidError
		require.ErrorAs(t, err, &inv)
		assert.Equal(t, "cloud.resizer", inv.Field)
		var serr *scaling.StepError
		require.ErrorAs(t, err, &serr)
		assert.Equal(t, scaling.StageAct, serr.Stage)
		assert.Equal(t, scaling.PlanStopped, x.Status)
		assert.Equal(t, scaling.StepSkipped, x.Steps[0].Status)
		assert.Empty(t, g.seen, "refused before the gate")
		assert.Zero(t, fenced.Load(), "refused before the fence")
		r, err := c.Get(t.Context(), "fn")
		require.NoError(t, err)
		assert.Equal(t, 1024, r.Size.MemoryMiB)
	})
}

// TestInterruptedWriteRefundedOnResume: a write cut off by its context
// that changed nothing spent a reservation on nothing. The reservation
// is kept in the step's record; the resume that finds the group
// unchanged refunds it before reserving again, so that with the default
// budget (300 s between events) the resumed step is allowed rather than
// denied by its own spent reservation — also on a new engine over a
// journal that keeps JSON (a restart).
func TestInterruptedWriteRefundedOnResume(t *testing.T) {
	t.Parallel()
	for _, restart := range []bool{false, true} {
		t.Run(fmt.Sprint("restart=", restart), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCloud(t, 4, memory.Config{})
				_, err := c.InjectFault(memory.Fault{Op: memory.OpSetCapacity, Latency: time.Minute, Times: 1})
				require.NoError(t, err)
				lim, err := ratelimit.New(ratelimit.Config{})
				require.NoError(t, err)
				var j scaling.Journal = scaling.NewMemoryJournal()
				if restart {
					j = newJSONJournal()
				}
				engine := func() *scaling.Engine {
					e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t),
						scaling.WithReserver(lim), scaling.WithJournal(j))
					require.NoError(t, err)
					return e
				}
				e := engine()
				ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
				defer cancel()
				x, err := e.Execute(ctx, e.Plan(decide(t, e, c, 6), scaling.PlanOptions{}))
				require.ErrorIs(t, err, context.DeadlineExceeded)
				assert.Equal(t, scaling.PlanInterrupted, x.Status)
				assert.Equal(t, scaling.StepExecuting, x.Steps[0].Status)
				assert.Equal(t, ratelimit.Allowed, x.Steps[0].Reservation.Outcome, "the step keeps what it reserved")
				assert.Empty(t, setCapacityOps(c), "the cut-off write changed nothing")

				if restart {
					e = engine()
				}
				xs, err := e.Resume(t.Context(), "web", time.Now(), time.Hour)
				require.NoError(t, err)
				require.Len(t, xs, 1)
				assert.Equal(t, scaling.PlanCompleted, xs[0].Status, xs[0].Reason)
				capa, err := c.Capacity(t.Context(), "web")
				require.NoError(t, err)
				assert.Equal(t, 6, capa.Desired)
				stats, err := lim.Stats(t.Context())
				require.NoError(t, err)
				require.Len(t, stats.Buckets, 1)
				assert.Equal(t, 1, stats.Buckets[0].InWindow, "the reservation spent on nothing was refunded")
			})
		})
	}
}

// TestStalePlanReconcilesItsInFlightStep: Resume ends a plan older than
// maxAge without acting, but first reads the target for the step whose
// write the interruption cut off: a write that took effect is executed
// ("found in effect") and recorded once in the History, which the HPA's
// rate policies count; one that did not is skipped and its reservation
// refunded. While the target cannot be read, the plan is left
// interrupted (a later Resume ends it) and the read's error returned.
func TestStalePlanReconcilesItsInFlightStep(t *testing.T) {
	t.Parallel()
	errRead := errors.New("capacity read refused")
	for _, tc := range []struct {
		name      string
		landed    bool // the cut-off write took effect
		readFails bool // the first Resume's read fails
	}{
		{"in effect", true, false},
		{"not in effect", false, false},
		{"unreadable, then in effect", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCloud(t, 4, memory.Config{})
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				var scaler provider.Scaler = c
				if tc.landed {
					scaler = &lostReply{Cloud: c, cancel: cancel}
				} else {
					_, err := c.InjectFault(memory.Fault{Op: memory.OpSetCapacity, Latency: time.Minute, Times: 1})
					require.NoError(t, err)
					time.AfterFunc(30*time.Second, cancel)
				}
				var (
					mu        sync.Mutex
					reserved  []ratelimit.Reservation
					cancelled []ratelimit.Reservation
				)
				r := funcReserver{
					reserve: func(_ context.Context, now time.Time, req ratelimit.Request) (ratelimit.Reservation, error) {
						mu.Lock()
						defer mu.Unlock()
						res := ratelimit.Reservation{ID: uint64(len(reserved) + 1), Request: req, At: now, Outcome: ratelimit.Allowed, Granted: req.Units}
						reserved = append(reserved, res)
						return res, nil
					},
					cancel: func(_ context.Context, _ time.Time, res ratelimit.Reservation) error {
						mu.Lock()
						defer mu.Unlock()
						cancelled = append(cancelled, res)
						return nil
					},
				}
				rec := &recorder{}
				e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: scaler, Metrics: c}, safetyGate(t),
					scaling.WithReserver(r), scaling.WithObserver(rec))
				require.NoError(t, err)
				p := e.Plan(decide(t, e, c, 6), scaling.PlanOptions{})
				x, err := e.Execute(ctx, p)
				require.Error(t, err)
				require.Equal(t, scaling.PlanInterrupted, x.Status)
				require.Equal(t, scaling.StepExecuting, x.Steps[0].Status)

				later := time.Now().Add(20 * time.Minute) // the next Run comes later than PlanTTL
				if tc.readFails {
					_, err := c.InjectFault(memory.Fault{Op: memory.OpCapacity, Err: errRead, Times: 1})
					require.NoError(t, err)
					xs, err := e.Resume(t.Context(), "web", later, 15*time.Minute)
					require.ErrorIs(t, err, errRead)
					var serr *scaling.StepError
					require.ErrorAs(t, err, &serr)
					assert.Equal(t, scaling.StageRead, serr.Stage)
					require.Len(t, xs, 1)
					assert.Equal(t, scaling.PlanInterrupted, xs[0].Status, "left for a later Resume")
					assert.Equal(t, scaling.StepExecuting, xs[0].Steps[0].Status)
					assert.Empty(t, e.History("web").Changes)
				}
				xs, err := e.Resume(t.Context(), "web", later, 15*time.Minute)
				require.NoError(t, err)
				require.Len(t, xs, 1)
				assert.Equal(t, scaling.PlanStopped, xs[0].Status)
				assert.Equal(t, "interrupted plan older than 15m0s not resumed", xs[0].Reason)
				assert.Equal(t, 1, rec.count(scaling.EventPlanStopped))
				again, err := e.Execute(t.Context(), p)
				require.NoError(t, err)
				assert.Equal(t, xs[0].Steps, again.Steps, "the journal holds the reconciled step")
				capa, err := c.Capacity(t.Context(), "web")
				require.NoError(t, err)
				changes := e.History("web").Changes
				mu.Lock()
				defer mu.Unlock()
				require.Len(t, reserved, 1, "nothing is reserved again")
				if !tc.landed {
					assert.Equal(t, scaling.StepSkipped, xs[0].Steps[0].Status)
					assert.Contains(t, xs[0].Steps[0].Reason, "did not take effect")
					assert.Equal(t, 4, capa.Desired)
					assert.Empty(t, changes)
					assert.Equal(t, reserved, cancelled, "the reservation spent on nothing is refunded")
					return
				}
				assert.Equal(t, scaling.StepExecuted, xs[0].Steps[0].Status)
				assert.Equal(t, "found in effect", xs[0].Steps[0].Reason)
				assert.Equal(t, 6, capa.Desired)
				assert.Len(t, setCapacityOps(c), 1, "not written again")
				require.Len(t, changes, 1, "the change 4→6 happened: the History holds it")
				assert.Equal(t, p.ID, changes[0].PlanID)
				assert.Equal(t, 4, changes[0].From.Desired)
				assert.Equal(t, 6, changes[0].To.Desired)
				assert.Empty(t, cancelled, "the reservation bought the change")
			})
		})
	}
}

// cancelOnRollbackStarted returns an observer that ends ctx (cancel) when
// a rollback starts, as Run's context ending (a deploy, a SIGTERM) while
// the plan rolls back, and records every event in rec.
func cancelOnRollbackStarted(rec *recorder, cancel context.CancelFunc) scaling.Observer {
	return scaling.ObserverFunc(func(ev scaling.Event) {
		rec.Observe(ev)
		if ev.Kind == scaling.EventRollbackStarted {
			cancel()
		}
	})
}

// TestInterruptedRollbackIsResumed: a rollback cut off by the context
// leaves the plan interrupted (not final: failed), marked as rolling back
// (RollbackCause) in the journal; Resume finishes the rollback from the
// real capacity rather than leaving the unverified change in place. On
// the same engine the plan ends with the rollback's cause itself; after
// a restart (a new engine over a journal that keeps JSON) with its text.
func TestInterruptedRollbackIsResumed(t *testing.T) {
	t.Parallel()
	for _, restart := range []bool{false, true} {
		t.Run(fmt.Sprint("restart=", restart), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCloud(t, 4, memory.Config{})
				setCPU(t, c, "web", 0.95) // the scale in is not verified: rolled back
				var j scaling.Journal = scaling.NewMemoryJournal()
				if restart {
					j = newJSONJournal()
				}
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				rec := &recorder{}
				e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t),
					scaling.WithObserver(cancelOnRollbackStarted(rec, cancel)), scaling.WithJournal(j))
				require.NoError(t, err)
				p := e.Plan(decide(t, e, c, 3), scaling.PlanOptions{})
				x, err := e.Execute(ctx, p)
				require.ErrorIs(t, err, context.Canceled)
				assert.Equal(t, scaling.PlanInterrupted, x.Status)
				assert.Contains(t, x.RollbackCause, "cpu mean ≤ 0.9 unhealthy")
				assert.True(t, strings.HasPrefix(x.Reason, "interrupted while rolling back: "), x.Reason)
				assert.Equal(t, scaling.StepFailed, x.Steps[0].Status)
				assert.Zero(t, rec.count(scaling.EventRollbackFailed))
				capa, err := c.Capacity(t.Context(), "web")
				require.NoError(t, err)
				require.Equal(t, 3, capa.Desired, "the unverified scale in is still there")

				if restart {
					e, err = scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t),
						scaling.WithObserver(rec), scaling.WithJournal(j))
					require.NoError(t, err)
				}
				xs, err := e.Resume(t.Context(), "web", time.Now(), time.Hour)
				require.Len(t, xs, 1)
				x = xs[0]
				assert.Equal(t, scaling.PlanRolledBack, x.Status, x.Reason)
				require.Error(t, err, "the plan ends rolled back: its cause is the error")
				assert.Contains(t, err.Error(), "cpu mean ≤ 0.9 unhealthy")
				if !restart {
					require.ErrorIs(t, err, scaling.ErrNotVerified)
				}
				assert.Equal(t, scaling.StepRolledBack, x.Steps[0].Status)
				require.Len(t, x.Rollback, 1)
				assert.Equal(t, scaling.StepVerified, x.Rollback[0].Status)
				assert.Equal(t, 2, x.Rollback[0].Step.Index)
				capa, err = c.Capacity(t.Context(), "web")
				require.NoError(t, err)
				assert.Equal(t, 4, capa.Desired, "rolled back once resumed")
				assert.Equal(t, 1, rec.count(scaling.EventRollbackStarted), "one rollback, started once")
				assert.Equal(t, 1, rec.count(scaling.EventRollbackCompleted))
				changes := e.History("web").Changes
				require.NotEmpty(t, changes)
				last := changes[len(changes)-1]
				assert.True(t, last.Rollback)
				assert.Equal(t, 3, last.From.Desired)
				assert.Equal(t, 4, last.To.Desired)
			})
		})
	}
}

// TestResumedRollbackFindsItsWriteInEffect: a rollback step whose write
// went through while the context ended (the reply was lost) is found in
// effect by the resume: recorded once in the History as a rollback
// change, settled, and not written again.
func TestResumedRollbackFindsItsWriteInEffect(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		setCPU(t, c, "web", 0.95)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: &lostReply{Cloud: c, cancel: cancel, rollbackOnly: true}, Metrics: c}, safetyGate(t))
		require.NoError(t, err)
		x, err := e.Execute(ctx, e.Plan(decide(t, e, c, 3), scaling.PlanOptions{}))
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, scaling.PlanInterrupted, x.Status)
		require.Len(t, x.Rollback, 1)
		assert.Equal(t, scaling.StepExecuting, x.Rollback[0].Status, "whether the rollback write took effect is unknown")
		require.Len(t, e.History("web").Changes, 1, "only the scale in is known")

		xs, err := e.Resume(t.Context(), "web", time.Now(), time.Hour)
		require.ErrorIs(t, err, scaling.ErrNotVerified)
		require.Len(t, xs, 1)
		assert.Equal(t, scaling.PlanRolledBack, xs[0].Status, xs[0].Reason)
		require.Len(t, xs[0].Rollback, 1)
		assert.Equal(t, scaling.StepVerified, xs[0].Rollback[0].Status)
		assert.Equal(t, "found in effect", xs[0].Rollback[0].Reason)
		assert.Len(t, setCapacityOps(c), 2, "4→3, then 3→4 once")
		changes := e.History("web").Changes
		require.Len(t, changes, 2)
		assert.True(t, changes[1].Rollback)
		assert.Equal(t, 4, changes[1].To.Desired)
	})
}

// TestStaleInterruptedRollbackFails: Resume does not finish a rollback
// interrupted longer ago than maxAge (the next decision starts from the
// real capacity) but ends the plan failed with ErrRollback, reported as
// an error: the change it was undoing stays.
func TestStaleInterruptedRollbackFails(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		setCPU(t, c, "web", 0.95)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		rec := &recorder{}
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t),
			scaling.WithObserver(cancelOnRollbackStarted(rec, cancel)))
		require.NoError(t, err)
		x, err := e.Execute(ctx, e.Plan(decide(t, e, c, 3), scaling.PlanOptions{}))
		require.ErrorIs(t, err, context.Canceled)
		require.Equal(t, scaling.PlanInterrupted, x.Status)

		xs, err := e.Resume(t.Context(), "web", time.Now().Add(20*time.Minute), 15*time.Minute)
		require.ErrorIs(t, err, scaling.ErrRollback)
		require.ErrorIs(t, err, scaling.ErrNotVerified, "the cause is kept")
		require.Len(t, xs, 1)
		assert.Equal(t, scaling.PlanFailed, xs[0].Status)
		assert.Contains(t, xs[0].Reason, "rollback failed: interrupted plan older than 15m0s not resumed")
		assert.Equal(t, 1, rec.count(scaling.EventRollbackFailed))
		capa, err := c.Capacity(t.Context(), "web")
		require.NoError(t, err)
		assert.Equal(t, 3, capa.Desired)
		assert.Len(t, setCapacityOps(c), 1, "no rollback write")
	})
}

// TestJournalOfAnEarlierVersionResumes: an interrupted plan recorded
// before steps kept their reservation and plans their rollback's cause
// (JSON without "reservation" and "rollback_cause") still loads and is
// resumed as before: its step, found unchanged, is carried out.
func TestJournalOfAnEarlierVersionResumes(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		r := &scriptedReserver{}
		j := newJSONJournal()
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t), scaling.WithReserver(r), scaling.WithJournal(j))
		require.NoError(t, err)
		p := e.Plan(decide(t, e, c, 6), scaling.PlanOptions{})
		x := scaling.Execution{Plan: p, Status: scaling.PlanInterrupted, Reason: "interrupted while writing: context canceled"}
		for _, s := range p.Steps {
			x.Steps = append(x.Steps, scaling.StepRecord{Step: s, Status: scaling.StepExecuting})
		}
		b, err := json.Marshal(x)
		require.NoError(t, err)
		require.NotContains(t, string(b), `"reservation"`)
		require.NotContains(t, string(b), `"rollback_cause"`)
		j.byID[p.ID] = b

		xs, err := e.Resume(t.Context(), "web", time.Now(), time.Hour)
		require.NoError(t, err)
		require.Len(t, xs, 1)
		assert.Equal(t, scaling.PlanCompleted, xs[0].Status, xs[0].Reason)
		assert.Len(t, r.seen, 1)
		capa, err := c.Capacity(t.Context(), "web")
		require.NoError(t, err)
		assert.Equal(t, 6, capa.Desired)
	})
}

// TestResumeLeavesAnUnreadableInFlightWriteUnfinished: a resumed plan
// whose in-flight write (the reply was lost) cannot be settled because
// the target cannot be read stays interrupted, its step executing: it
// was stopped before, and the change, which had happened, was never
// recorded. A later resume that reads the target records it once.
func TestResumeLeavesAnUnreadableInFlightWriteUnfinished(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: &lostReply{Cloud: c, cancel: cancel}, Metrics: c}, safetyGate(t))
		require.NoError(t, err)
		p := e.Plan(decide(t, e, c, 6), scaling.PlanOptions{})
		x, err := e.Execute(ctx, p)
		require.ErrorIs(t, err, context.Canceled)
		require.Equal(t, scaling.StepExecuting, x.Steps[0].Status)

		errRead := errors.New("capacity read refused")
		_, err = c.InjectFault(memory.Fault{Op: memory.OpCapacity, Err: errRead, Times: 1})
		require.NoError(t, err)
		xs, err := e.Resume(t.Context(), "web", time.Now(), time.Hour)
		require.ErrorIs(t, err, errRead)
		var serr *scaling.StepError
		require.ErrorAs(t, err, &serr)
		assert.Equal(t, scaling.StageRead, serr.Stage)
		require.Len(t, xs, 1)
		assert.Equal(t, scaling.PlanInterrupted, xs[0].Status, "left unfinished, not stopped")
		assert.Equal(t, scaling.StepExecuting, xs[0].Steps[0].Status)
		assert.Contains(t, xs[0].Reason, "could not be read to settle an interrupted write")
		assert.Empty(t, e.History("web").Changes)

		xs, err = e.Resume(t.Context(), "web", time.Now(), time.Hour)
		require.NoError(t, err)
		require.Len(t, xs, 1)
		assert.Equal(t, scaling.PlanCompleted, xs[0].Status, xs[0].Reason)
		require.Len(t, e.History("web").Changes, 1, "the change that happened is recorded")
		assert.Equal(t, 6, e.History("web").Changes[0].To.Desired)
		assert.Len(t, setCapacityOps(c), 1, "and not written again")
	})
}

// refusingJournal fails to save a record with a step executing (the write
// about to be made), and saves everything else.
type refusingJournal struct {
	*scaling.MemoryJournal
	refused atomic.Int32
}

var errJournalDown = errors.New("journal store unreachable")

func (j *refusingJournal) Save(ctx context.Context, x scaling.Execution) error {
	for _, s := range x.Steps {
		if s.Status == scaling.StepExecuting {
			j.refused.Add(1)
			return errJournalDown
		}
	}
	return j.MemoryJournal.Save(ctx, x)
}

// TestUnrecordedWriteIsNotMade: a step whose write cannot be recorded in
// the journal first is not made (a crash, or the replica that takes over,
// would not know of it): the plan stops with StageJournal, the step is
// skipped, nothing is written, and the reservation is refunded. Before,
// the failure was only logged and the write made.
func TestUnrecordedWriteIsNotMade(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		var mu sync.Mutex
		var cancelled []ratelimit.Reservation
		r := funcReserver{
			reserve: func(_ context.Context, now time.Time, req ratelimit.Request) (ratelimit.Reservation, error) {
				return ratelimit.Reservation{ID: 7, Request: req, At: now, Outcome: ratelimit.Allowed, Granted: req.Units}, nil
			},
			cancel: func(_ context.Context, _ time.Time, res ratelimit.Reservation) error {
				mu.Lock()
				defer mu.Unlock()
				cancelled = append(cancelled, res)
				return nil
			},
		}
		j := &refusingJournal{MemoryJournal: scaling.NewMemoryJournal()}
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t),
			scaling.WithJournal(j), scaling.WithReserver(r))
		require.NoError(t, err)
		x, err := e.Execute(t.Context(), e.Plan(decide(t, e, c, 6), scaling.PlanOptions{}))
		require.ErrorIs(t, err, errJournalDown)
		var serr *scaling.StepError
		require.ErrorAs(t, err, &serr)
		assert.Equal(t, scaling.StageJournal, serr.Stage)
		assert.Equal(t, scaling.PlanStopped, x.Status)
		assert.Equal(t, scaling.StepSkipped, x.Steps[0].Status)
		assert.Empty(t, setCapacityOps(c), "not written")
		assert.Positive(t, j.refused.Load())
		mu.Lock()
		defer mu.Unlock()
		require.Len(t, cancelled, 1, "the reservation is refunded")
		assert.Equal(t, uint64(7), cancelled[0].ID)
	})
}

// loadFailsJournal fails every Load; Unfinished and Save work.
type loadFailsJournal struct{ *scaling.MemoryJournal }

func (loadFailsJournal) Load(context.Context, string) (scaling.Execution, bool, error) {
	return scaling.Execution{}, false, errJournalDown
}

// TestResumeReportsAnOldPlanItCannotLoad: a plan too old to resume whose
// record cannot be loaded again is an error of Resume (it was dropped, and
// the Autoscaler went on to decide its target while a write of it might
// be in flight).
func TestResumeReportsAnOldPlanItCannotLoad(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		j := loadFailsJournal{scaling.NewMemoryJournal()}
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t), scaling.WithJournal(j))
		require.NoError(t, err)
		p := e.Plan(decide(t, e, c, 6), scaling.PlanOptions{})
		x := scaling.Execution{Plan: p, Status: scaling.PlanInterrupted, UpdatedAt: time.Now()}
		for _, s := range p.Steps {
			x.Steps = append(x.Steps, scaling.StepRecord{Step: s, Status: scaling.StepExecuting})
		}
		require.NoError(t, j.Save(t.Context(), x))
		xs, err := e.Resume(t.Context(), "web", time.Now().Add(time.Hour), 15*time.Minute)
		require.ErrorIs(t, err, errJournalDown)
		assert.Empty(t, xs)
		assert.Empty(t, setCapacityOps(c))
	})
}

// denyingReserver allows every reservation but those of direction deny,
// and keeps what it saw and what was refunded.
type denyingReserver struct {
	mu        sync.Mutex
	deny      ratelimit.Direction
	seen      []ratelimit.Request
	cancelled []ratelimit.Request
}

func (r *denyingReserver) ReserveAt(_ context.Context, now time.Time, req ratelimit.Request) (ratelimit.Reservation, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, req)
	if req.Direction == r.deny {
		return ratelimit.Reservation{Request: req, At: now, Outcome: ratelimit.Denied, Reason: ratelimit.ReasonWindow, Scope: ratelimit.ScopeTarget}, nil
	}
	return ratelimit.Reservation{ID: uint64(len(r.seen)), Request: req, At: now, Outcome: ratelimit.Allowed, Granted: req.Units}, nil
}

func (r *denyingReserver) CancelAt(_ context.Context, _ time.Time, res ratelimit.Reservation) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cancelled = append(r.cancelled, res.Request)
	return nil
}

// typeOnly reads a memory cloud as a driver that reports an instance's
// type but not its vCPUs and memory (as the AWS driver does).
type typeOnly struct{ *memory.Cloud }

func (t typeOnly) Get(ctx context.Context, id string) (provider.Resource, error) {
	r, err := t.Cloud.Get(ctx, id)
	if r.Size.InstanceType != "" {
		r.Size = provider.Size{InstanceType: r.Size.InstanceType}
	}
	return r, err
}

// TestResizeOfUnknownSizeSpendsBothBudgets pins the budget of a resize
// whose sizes do not tell its direction: a driver that reports the
// instance type alone (the AWS driver does) and a vertical strategy that
// fills in the target's vCPUs and memory. The direction compared memory
// plus vCPUs, 0 before against the target's after, so every such resize,
// this downsize too, spent the up budget and never the down one: a down
// budget used up did not stop it. It now needs both budgets (fail
// closed): denied down, the plan is rate limited, nothing is written and
// the up reservation is refunded.
func TestResizeOfUnknownSizeSpendsBothBudgets(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, err := memory.New(memory.Config{})
		require.NoError(t, err)
		require.NoError(t, c.Add(provider.Resource{ID: "vm", Kind: provider.KindInstance, State: provider.StateRunning,
			Size: provider.Size{InstanceType: "m5.xlarge"}}))
		r := &denyingReserver{deny: ratelimit.Down}
		inv := typeOnly{c}
		e, err := scaling.NewEngine(scaling.EngineConfig{VerifyWindow: time.Second}, scaling.Cloud{Resizer: c, Inventory: inv}, allowAll{}, scaling.WithReserver(r))
		require.NoError(t, err)
		res, err := inv.Get(t.Context(), "vm")
		require.NoError(t, err)
		require.Equal(t, provider.Size{InstanceType: "m5.xlarge"}, res.Size)
		p := e.Plan(scaling.Decision{Now: c.Now(), Change: true, Target: scaling.Target{ID: "vm", Resource: res},
			Chosen: scaling.Recommendation{Strategy: "vertical", Size: provider.Size{InstanceType: "m5.large", VCPU: 2, MemoryMiB: 8192}}}, scaling.PlanOptions{})
		x, err := e.Execute(t.Context(), p)
		require.NoError(t, err)
		assert.Equal(t, scaling.PlanRateLimited, x.Status, x.Reason)
		require.NotNil(t, x.RateLimit)
		assert.Equal(t, ratelimit.Down, x.RateLimit.Request.Direction)
		got, err := c.Get(t.Context(), "vm")
		require.NoError(t, err)
		assert.Equal(t, "m5.xlarge", got.Size.InstanceType, "not resized: the down budget said no")
		var dirs []ratelimit.Direction
		for _, q := range r.seen {
			dirs = append(dirs, q.Direction)
		}
		assert.Equal(t, []ratelimit.Direction{ratelimit.Up, ratelimit.Down}, dirs)
		require.Len(t, r.cancelled, 1, "the up reservation is given back")
		assert.Equal(t, ratelimit.Up, r.cancelled[0].Direction)

		// Both granted and a write that changed nothing: both refunded.
		r = &denyingReserver{}
		e, err = scaling.NewEngine(scaling.EngineConfig{VerifyWindow: time.Second},
			scaling.Cloud{Resizer: conflictingResizer{}, Inventory: inv}, allowAll{}, scaling.WithReserver(r))
		require.NoError(t, err)
		x, err = e.Execute(t.Context(), p)
		require.Error(t, err)
		assert.Equal(t, scaling.PlanStopped, x.Status, x.Reason)
		dirs = nil
		for _, q := range r.cancelled {
			dirs = append(dirs, q.Direction)
		}
		assert.Equal(t, []ratelimit.Direction{ratelimit.Up, ratelimit.Down}, dirs, "both budgets given back")
		assert.Zero(t, x.Steps[0].Reservation)
		assert.Zero(t, x.Steps[0].DownReservation)
	})
}

// conflictingResizer refuses every resize, changing nothing.
type conflictingResizer struct{}

func (conflictingResizer) Resize(context.Context, string, provider.Size) error {
	return provider.ErrConflict
}

// TestResizeVerifiedOnTheTypeAlone pins the verification of a resize on
// a driver that reports the instance type alone (the AWS driver) while the
// vertical strategy's target carries the type's vCPUs and memory: the
// type decides them. The read was compared on memory too, 0 against the
// target's, so every such resize failed as "size is m5.large, not
// m5.large" and was rolled back.
func TestResizeVerifiedOnTheTypeAlone(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, err := memory.New(memory.Config{})
		require.NoError(t, err)
		require.NoError(t, c.Add(provider.Resource{ID: "vm", Kind: provider.KindInstance, State: provider.StateRunning,
			Size: provider.Size{InstanceType: "m5.xlarge"}}))
		inv := typeOnly{c}
		e, err := scaling.NewEngine(scaling.EngineConfig{VerifyWindow: time.Second}, scaling.Cloud{Resizer: c, Inventory: inv}, allowAll{})
		require.NoError(t, err)
		res, err := inv.Get(t.Context(), "vm")
		require.NoError(t, err)
		p := e.Plan(scaling.Decision{Now: c.Now(), Change: true, Target: scaling.Target{ID: "vm", Resource: res},
			Chosen: scaling.Recommendation{Strategy: "vertical", Size: provider.Size{InstanceType: "m5.large", VCPU: 2, MemoryMiB: 8192}}}, scaling.PlanOptions{})
		x, err := e.Execute(t.Context(), p)
		require.NoError(t, err)
		assert.Equal(t, scaling.PlanCompleted, x.Status, x.Reason)
		got, err := c.Get(t.Context(), "vm")
		require.NoError(t, err)
		assert.Equal(t, "m5.large", got.Size.InstanceType)
	})
}

// TestScaleInCountsAgainstTheFleetShare pins WithActionHistory: the
// gate's limits rule allows half a group per hour, but the engine recorded
// none of its scale-ins, so a plan's gradual steps (each within the
// gradual bound) took a group of 10 down to 2 at once. With the engine's
// changes recorded, the first step (10 → 5) is half the group and the
// next is blocked by the limits rule.
func TestScaleInCountsAgainstTheFleetShare(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, err := memory.New(memory.Config{})
		require.NoError(t, err)
		require.NoError(t, c.AddGroup(provider.Resource{ID: "web"}, provider.CapacitySpec{Min: 1, Max: 50, Desired: 10}))
		h := &safety.MemoryHistory{}
		limits, err := safety.NewLimitsRule(safety.LimitsConfig{MaxCapacity: 50}, h)
		require.NoError(t, err)
		gate, err := safety.New(safety.Config{}, []safety.Rule{limits})
		require.NoError(t, err)
		e, err := scaling.NewEngine(scaling.EngineConfig{VerifyWindow: time.Second}, scaling.Cloud{Scaler: c}, gate,
			scaling.WithActionHistory(h))
		require.NoError(t, err)
		p := planFor(t, e, c, "web", 2)
		require.Greater(t, len(p.Steps), 1)
		x, err := e.Execute(t.Context(), p)
		require.NoError(t, err)
		assert.Equal(t, scaling.PlanBlocked, x.Status, x.Reason)
		assert.Contains(t, x.Reason, `fleet "web": 5 of 5 acted on`)
		capa, err := c.Capacity(t.Context(), "web")
		require.NoError(t, err)
		assert.Equal(t, 5, capa.Desired, "half the group in the hour, not 8 of 10")
		n, err := h.ActedOn(t.Context(), "web", c.Now().Add(-time.Hour))
		require.NoError(t, err)
		assert.Equal(t, 5, n)
	})
}

// TestResumeInterruptedWhileRefunding: a resumed plan whose cut-off
// write did not take effect refunds its reservation before reserving
// again; when the context ends while the refund fails, the plan is left
// interrupted with the reservation still in its step record, nothing
// reserved or written, so that the next resume refunds it and carries
// the step out.
func TestResumeInterruptedWhileRefunding(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		_, err := c.InjectFault(memory.Fault{Op: memory.OpSetCapacity, Latency: time.Minute, Times: 1})
		require.NoError(t, err)
		var (
			mu        sync.Mutex
			reserved  []ratelimit.Reservation
			cancelled []ratelimit.Reservation
			refuse    context.CancelFunc // set: the refund fails and ends the resume's ctx
		)
		r := funcReserver{
			reserve: func(_ context.Context, now time.Time, req ratelimit.Request) (ratelimit.Reservation, error) {
				mu.Lock()
				defer mu.Unlock()
				res := ratelimit.Reservation{ID: uint64(len(reserved) + 1), Request: req, At: now, Outcome: ratelimit.Allowed, Granted: req.Units}
				reserved = append(reserved, res)
				return res, nil
			},
			cancel: func(_ context.Context, _ time.Time, res ratelimit.Reservation) error {
				mu.Lock()
				defer mu.Unlock()
				if refuse != nil {
					refuse()
					return errors.New("limiter unreachable")
				}
				cancelled = append(cancelled, res)
				return nil
			},
		}
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t), scaling.WithReserver(r))
		require.NoError(t, err)
		p := e.Plan(decide(t, e, c, 6), scaling.PlanOptions{})
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		x, err := e.Execute(ctx, p)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Equal(t, scaling.StepExecuting, x.Steps[0].Status)
		spent := x.Steps[0].Reservation
		require.True(t, spent.OK())

		rctx, rcancel := context.WithCancel(t.Context())
		defer rcancel()
		mu.Lock()
		refuse = rcancel
		mu.Unlock()
		x, err = e.Execute(rctx, p)
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, scaling.PlanInterrupted, x.Status)
		assert.Contains(t, x.Reason, "interrupted while refunding an interrupted write")
		assert.Equal(t, scaling.StepExecuting, x.Steps[0].Status)
		assert.Equal(t, spent, x.Steps[0].Reservation, "the reservation stays for the next resume to refund")
		assert.Empty(t, setCapacityOps(c), "nothing written")
		mu.Lock()
		assert.Len(t, reserved, 1, "nothing reserved again")
		refuse = nil
		mu.Unlock()

		x, err = e.Execute(t.Context(), p)
		require.NoError(t, err)
		assert.Equal(t, scaling.PlanCompleted, x.Status, x.Reason)
		capa, err := c.Capacity(t.Context(), "web")
		require.NoError(t, err)
		assert.Equal(t, 6, capa.Desired)
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, []ratelimit.Reservation{spent}, cancelled, "refunded once, by the resume that could")
		assert.Len(t, reserved, 2, "the step reserved again")
	})
}

// TestFailedRefundWhileCtxLives: a resumed (or stale) plan whose cut-off
// write did not take effect refunds its reservation; a refund that fails
// while the context lives is logged and the reservation dropped from the
// record, and the plan goes on: resumed, the step reserves again and is
// carried out; too old, the step is skipped and the plan stops.
func TestFailedRefundWhileCtxLives(t *testing.T) {
	t.Parallel()
	for _, stale := range []bool{false, true} {
		t.Run(fmt.Sprint("stale=", stale), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCloud(t, 4, memory.Config{})
				_, err := c.InjectFault(memory.Fault{Op: memory.OpSetCapacity, Latency: time.Minute, Times: 1})
				require.NoError(t, err)
				var (
					mu       sync.Mutex
					reserved int
					refunds  int
				)
				r := funcReserver{
					reserve: func(_ context.Context, now time.Time, req ratelimit.Request) (ratelimit.Reservation, error) {
						mu.Lock()
						defer mu.Unlock()
						reserved++
						return ratelimit.Reservation{ID: uint64(reserved), Request: req, At: now, Outcome: ratelimit.Allowed, Granted: req.Units}, nil
					},
					cancel: func(context.Context, time.Time, ratelimit.Reservation) error {
						mu.Lock()
						defer mu.Unlock()
						refunds++
						return errors.New("limiter store unreachable")
					},
				}
				var logs syncbuf.Buffer
				e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t),
					scaling.WithReserver(r), scaling.WithEngineLogger(slog.New(slog.NewTextHandler(&logs, nil))))
				require.NoError(t, err)
				p := e.Plan(decide(t, e, c, 6), scaling.PlanOptions{})
				ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
				defer cancel()
				x, err := e.Execute(ctx, p)
				require.ErrorIs(t, err, context.DeadlineExceeded)
				require.Equal(t, scaling.StepExecuting, x.Steps[0].Status)

				now, maxAge := time.Now(), time.Hour
				if stale {
					now = now.Add(2 * time.Hour)
				}
				xs, err := e.Resume(t.Context(), "web", now, maxAge)
				require.NoError(t, err)
				require.Len(t, xs, 1)
				x = xs[0]
				assert.Contains(t, logs.String(), "rate-limit refund failed")
				capa, err := c.Capacity(t.Context(), "web")
				require.NoError(t, err)
				mu.Lock()
				defer mu.Unlock()
				assert.Equal(t, 1, refunds)
				if stale {
					assert.Equal(t, scaling.PlanStopped, x.Status, x.Reason)
					assert.Equal(t, scaling.StepSkipped, x.Steps[0].Status)
					assert.Zero(t, x.Steps[0].Reservation)
					assert.Equal(t, 4, capa.Desired)
					assert.Equal(t, 1, reserved)
					return
				}
				assert.Equal(t, scaling.PlanCompleted, x.Status, x.Reason)
				assert.Equal(t, 6, capa.Desired)
				assert.Equal(t, 2, reserved, "the step reserved again")
				assert.Equal(t, uint64(2), x.Steps[0].Reservation.ID, "the record holds the reservation its write spent")
			})
		})
	}
}

// TestStaleInterruptedRollbackReconcilesItsWrite: a plan too old to be
// resumed whose rollback write the context cut off (the reply was lost;
// the write went through) is not rolled back further, but its rollback
// step is read first: found in effect, it is executed and recorded once
// in the History as a rollback change; the plan then fails (ErrRollback:
// its rollback was not verified).
func TestStaleInterruptedRollbackReconcilesItsWrite(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		setCPU(t, c, "web", 0.95)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: &lostReply{Cloud: c, cancel: cancel, rollbackOnly: true}, Metrics: c}, safetyGate(t))
		require.NoError(t, err)
		x, err := e.Execute(ctx, e.Plan(decide(t, e, c, 3), scaling.PlanOptions{}))
		require.ErrorIs(t, err, context.Canceled)
		require.Equal(t, scaling.PlanInterrupted, x.Status)
		require.Len(t, x.Rollback, 1)
		require.Equal(t, scaling.StepExecuting, x.Rollback[0].Status)

		xs, err := e.Resume(t.Context(), "web", time.Now().Add(20*time.Minute), 15*time.Minute)
		require.ErrorIs(t, err, scaling.ErrRollback)
		require.Len(t, xs, 1)
		assert.Equal(t, scaling.PlanFailed, xs[0].Status)
		require.Len(t, xs[0].Rollback, 1)
		assert.Equal(t, scaling.StepExecuted, xs[0].Rollback[0].Status)
		assert.Equal(t, "found in effect", xs[0].Rollback[0].Reason)
		assert.Len(t, setCapacityOps(c), 2, "4→3, then 3→4 once: not written again")
		changes := e.History("web").Changes
		require.Len(t, changes, 2, "the rollback's write is recorded")
		assert.True(t, changes[1].Rollback)
		assert.Equal(t, 3, changes[1].From.Desired)
		assert.Equal(t, 4, changes[1].To.Desired)
	})
}

// cutRollback is a Scaler whose first rollback write is cut off by the
// context (it calls cancel): without landed, before the write is made;
// with landed, the write is made and ctx ends settle later, while the
// engine waits for the rollback step to settle.
type cutRollback struct {
	*memory.Cloud
	cancel context.CancelFunc
	landed bool
	settle time.Duration
	done   atomic.Bool
}

func (s *cutRollback) SetCapacity(ctx context.Context, id string, want provider.CapacitySpec) error {
	if ref, _ := scaling.PlanFromContext(ctx); !ref.Rollback || s.done.Swap(true) {
		return s.Cloud.SetCapacity(ctx, id, want)
	}
	if !s.landed {
		s.cancel()
		return ctx.Err()
	}
	err := s.Cloud.SetCapacity(ctx, id, want)
	time.AfterFunc(s.settle, s.cancel)
	return err
}

// TestResumedRollbackReconcilesItsLastStep: a rollback interrupted with
// its last step behind is resumed from that step's state: a write cut
// off before it took effect is skipped and the rollback makes the step
// again (numbered on); a write that took effect but was interrupted
// while it settled is settled (verified) by the resume, not written
// again.
func TestResumedRollbackReconcilesItsLastStep(t *testing.T) {
	t.Parallel()
	for _, landed := range []bool{false, true} {
		t.Run(fmt.Sprint("landed=", landed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := newCloud(t, 4, memory.Config{})
				setCPU(t, c, "web", 0.95) // the scale in is not verified: rolled back
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				rec := &recorder{}
				e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: &cutRollback{Cloud: c, cancel: cancel, landed: landed, settle: 10 * time.Second}, Metrics: c},
					safetyGate(t), scaling.WithObserver(rec))
				require.NoError(t, err)
				x, err := e.Execute(ctx, e.Plan(decide(t, e, c, 3), scaling.PlanOptions{}))
				require.ErrorIs(t, err, context.Canceled)
				require.Equal(t, scaling.PlanInterrupted, x.Status)
				require.Len(t, x.Rollback, 1)
				if landed {
					require.Equal(t, scaling.StepExecuted, x.Rollback[0].Status, "written, not settled")
				} else {
					require.Equal(t, scaling.StepExecuting, x.Rollback[0].Status)
				}

				xs, err := e.Resume(t.Context(), "web", time.Now(), time.Hour)
				require.ErrorIs(t, err, scaling.ErrNotVerified)
				require.Len(t, xs, 1)
				x = xs[0]
				assert.Equal(t, scaling.PlanRolledBack, x.Status, x.Reason)
				capa, err := c.Capacity(t.Context(), "web")
				require.NoError(t, err)
				assert.Equal(t, 4, capa.Desired)
				assert.Equal(t, 4, capa.Ready, "settled")
				if landed {
					require.Len(t, x.Rollback, 1)
					assert.Equal(t, scaling.StepVerified, x.Rollback[0].Status)
					assert.Len(t, setCapacityOps(c), 2, "4→3, then 3→4 once")
					assert.Equal(t, 1, rec.count(scaling.EventRollbackStep))
					return
				}
				require.Len(t, x.Rollback, 2)
				assert.Equal(t, scaling.StepSkipped, x.Rollback[0].Status)
				assert.Contains(t, x.Rollback[0].Reason, "did not take effect")
				assert.Equal(t, scaling.StepVerified, x.Rollback[1].Status)
				assert.Equal(t, 3, x.Rollback[1].Step.Index, "numbered on after the skipped one")
				assert.Equal(t, 1, rec.count(scaling.EventRollbackStep))
			})
		})
	}
}

// TestRollbackThatDoesNotSettleFails: a rollback step whose capacity does
// not settle within the monitoring timeout fails (its record says why)
// and the plan fails with ErrRollback, the cause kept.
func TestRollbackThatDoesNotSettleFails(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{LaunchDelay: 24 * time.Hour})
		setCPU(t, c, "web", 0.95)
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t))
		require.NoError(t, err)
		x, err := e.Execute(t.Context(), e.Plan(decide(t, e, c, 3), scaling.PlanOptions{}))
		require.ErrorIs(t, err, scaling.ErrRollback)
		require.ErrorIs(t, err, scaling.ErrNotVerified, "the cause is kept")
		assert.Equal(t, scaling.PlanFailed, x.Status)
		require.Len(t, x.Rollback, 1)
		assert.Equal(t, scaling.StepFailed, x.Rollback[0].Status)
		assert.Contains(t, x.Rollback[0].Reason, "did not settle")
	})
}

// TestReservationWithAnErrorIsRefunded: a Reserver that grants a
// reservation and then fails (a host's wrapper whose audit of the grant
// failed) stops the plan with its error, writes nothing, and gets the
// grant back: the budget is not spent on a change never made. The first
// reservation of a step, and the second (down) one of a resize whose
// sizes do not tell its direction, alike.
func TestReservationWithAnErrorIsRefunded(t *testing.T) {
	t.Parallel()
	for _, failing := range []int{1, 2} {
		t.Run(fmt.Sprint(failing), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				audit := errors.New("audit of the grant failed")
				var reserved int
				var cancelled []uint64
				r := funcReserver{
					reserve: func(_ context.Context, now time.Time, req ratelimit.Request) (ratelimit.Reservation, error) {
						reserved++
						res := ratelimit.Reservation{ID: uint64(reserved), Request: req, At: now, Outcome: ratelimit.Allowed, Granted: req.Units}
						if reserved == failing {
							return res, audit
						}
						return res, nil
					},
					cancel: func(_ context.Context, _ time.Time, res ratelimit.Reservation) error {
						cancelled = append(cancelled, res.ID)
						return nil
					},
				}
				c, e, res, p := bothBudgetsResize(t, r)
				x, err := e.Execute(t.Context(), p)
				require.ErrorIs(t, err, audit)
				assert.Equal(t, scaling.PlanRateLimited, x.Status, x.Reason)
				after, gerr := c.Get(t.Context(), "i-1")
				require.NoError(t, gerr)
				assert.Equal(t, res.Size, after.Size, "nothing written")
				assert.Equal(t, failing, reserved)
				want := []uint64{1, 2}[:failing]
				assert.ElementsMatch(t, want, cancelled, "every grant is given back")
			})
		})
	}
}

// TestReservationRefundedAfterTheContextEnded: when the caller's context
// ends while a step's reservations are made (the Reserver's audit of the
// grant fails with the context's error), every grant is given back all
// the same, through a context that has not ended, as a Reserver whose
// store honours ctx needs: the plan is interrupted, nothing is written,
// and no budget stays spent. The first reservation of a step, and the
// first (up) one of a resize that spends both budgets when the second
// (down) one is the one cut short, alike.
func TestReservationRefundedAfterTheContextEnded(t *testing.T) {
	t.Parallel()
	for _, failing := range []int{1, 2} {
		t.Run(fmt.Sprint(failing), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, stop := context.WithCancel(t.Context())
				defer stop()
				var reserved int
				var cancelled []uint64
				r := funcReserver{
					reserve: func(ctx context.Context, now time.Time, req ratelimit.Request) (ratelimit.Reservation, error) {
						reserved++
						res := ratelimit.Reservation{ID: uint64(reserved), Request: req, At: now, Outcome: ratelimit.Allowed, Granted: req.Units}
						if reserved == failing {
							stop() // the caller gives up while the grant is audited
							return res, fmt.Errorf("audit of the grant: %w", ctx.Err())
						}
						return res, nil
					},
					cancel: func(ctx context.Context, _ time.Time, res ratelimit.Reservation) error {
						if err := ctx.Err(); err != nil {
							return err // as a store that honours ctx
						}
						cancelled = append(cancelled, res.ID)
						return nil
					},
				}
				c, e, res, p := bothBudgetsResize(t, r)
				x, _ := e.Execute(ctx, p)
				assert.Equal(t, scaling.PlanInterrupted, x.Status, x.Reason)
				after, gerr := c.Get(t.Context(), "i-1")
				require.NoError(t, gerr)
				assert.Equal(t, res.Size, after.Size, "nothing written")
				assert.Equal(t, failing, reserved)
				want := []uint64{1, 2}[:failing]
				assert.ElementsMatch(t, want, cancelled, "every grant is given back, though ctx ended")
			})
		})
	}
}

// TestFailedRefundOfAnErroredGrantIsLogged: the grant a Reserver returns
// with an error is given back; a refund that fails is logged as such
// (the budget stays spent for nothing: an operator must know), and one
// that succeeds is not.
func TestFailedRefundOfAnErroredGrantIsLogged(t *testing.T) {
	t.Parallel()
	for _, refundFails := range []bool{false, true} {
		t.Run(fmt.Sprint("refundFails=", refundFails), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c := web4(t)
				audit := errors.New("audit of the grant failed")
				var cancelled int
				r := funcReserver{
					reserve: func(_ context.Context, now time.Time, req ratelimit.Request) (ratelimit.Reservation, error) {
						return ratelimit.Reservation{ID: 1, Request: req, At: now, Outcome: ratelimit.Allowed, Granted: req.Units}, audit
					},
					cancel: func(context.Context, time.Time, ratelimit.Reservation) error {
						cancelled++
						if refundFails {
							return errors.New("limiter store unreachable")
						}
						return nil
					},
				}
				var logs syncbuf.Buffer
				e, err := scaling.NewEngine(scaling.EngineConfig{MaxStepFraction: 100, VerifyWindow: time.Second}, scaling.Cloud{Scaler: c}, allowAll{},
					scaling.WithReserver(r), scaling.WithEngineLogger(slog.New(slog.NewTextHandler(&logs, nil))))
				require.NoError(t, err)
				x, err := e.Execute(t.Context(), planFor(t, e, c, "web", 6))
				require.ErrorIs(t, err, audit)
				assert.Equal(t, scaling.PlanRateLimited, x.Status, x.Reason)
				assert.Equal(t, 1, cancelled, "the grant is given back")
				if refundFails {
					assert.Contains(t, logs.String(), "rate-limit refund failed")
					assert.Contains(t, logs.String(), "limiter store unreachable")
				} else {
					assert.NotContains(t, logs.String(), "rate-limit refund failed")
				}
			})
		})
	}
}

// bothBudgetsResize returns a memory cloud with instance i-1 (c5.xlarge),
// an engine on it reserving through r, the instance as listed, and the
// plan of one step that resizes it to an r5.large: fewer vCPUs and more
// memory, so that the step spends both budgets (two reservations of a
// Reserver that does not take ratelimit.Both).
func bothBudgetsResize(t *testing.T, r scaling.Reserver) (*memory.Cloud, *scaling.Engine, provider.Resource, scaling.Plan) {
	t.Helper()
	c, err := memory.New(memory.Config{})
	require.NoError(t, err)
	require.NoError(t, c.Add(provider.Resource{ID: "i-1", Kind: provider.KindInstance, State: provider.StateRunning,
		Size: provider.Size{InstanceType: "c5.xlarge", VCPU: 4, MemoryMiB: 8192}}))
	e, err := scaling.NewEngine(scaling.EngineConfig{VerifyWindow: time.Second}, scaling.Cloud{Resizer: c, Inventory: c}, allowAll{}, scaling.WithReserver(r))
	require.NoError(t, err)
	res, err := c.Get(t.Context(), "i-1")
	require.NoError(t, err)
	p := e.Plan(scaling.Decision{Now: c.Now(), Change: true, Target: scaling.Target{ID: "i-1", Resource: res},
		Chosen: scaling.Recommendation{Strategy: "vertical", Size: provider.Size{InstanceType: "r5.large", VCPU: 2, MemoryMiB: 16384}}}, scaling.PlanOptions{})
	require.Len(t, p.Steps, 1)
	return c, e, res, p
}

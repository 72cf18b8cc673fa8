package scaling_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/internal/syncbuf"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
)

// TestRunLogsFailures pins what Run does with a target's failure: it
// logs it (naming the target) on the host's logger and goes on; a target
// that does not fail is not logged; without WithLogger, Run logs nowhere
// and does not fail.
func TestRunLogsFailures(t *testing.T) {
	t.Parallel()
	run := func(t *testing.T, opts ...scaling.Option) {
		c, err := memory.New(memory.Config{})
		require.NoError(t, err)
		for _, id := range []string{"web", "api"} {
			require.NoError(t, c.AddGroup(provider.Resource{ID: id}, provider.CapacitySpec{Min: 1, Max: 20, Desired: 2}))
		}
		setCPU(t, c, "web", 0.95) // a scale out whose write fails
		setCPU(t, c, "api", 0.6)  // nothing to do
		_, err = c.InjectFault(memory.Fault{Op: memory.OpSetCapacity, ResourceID: "web", Err: errors.New("capacity API down")})
		require.NoError(t, err)
		cfg := scaling.Config{Execute: true}
		for _, id := range []string{"web", "api", "gone"} {
			cfg.Targets = append(cfg.Targets, scaling.TargetConfig{ID: id, Max: 20,
				Strategies: []scaling.StrategySpec{{Type: scaling.StrategyTargetValue, TargetValue: &scaling.TargetValueConfig{Metric: provider.MetricCPU, Target: fp(0.6)}}}})
		}
		e, err := scaling.NewEngine(scaling.EngineConfig{RetryDeadline: time.Second}, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{})
		require.NoError(t, err)
		a, err := scaling.NewAutoscaler(cfg, e, scaling.Fleet{Inventory: c, Metrics: c}, opts...)
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx) }()
		<-clock.Real{}.After(20 * time.Second) // two passes
		cancel()
		require.NoError(t, <-done)
	}
	t.Run("logger", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var buf syncbuf.Buffer
			run(t, scaling.WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
			out := buf.String()
			assert.Contains(t, out, `msg="scaling: target evaluation failed" target=gone`, "an evaluation that fails: the resource is missing")
			assert.Contains(t, out, `msg="scaling: target evaluation failed" target=web`, "a plan that fails")
			assert.Contains(t, out, "capacity API down")
			assert.NotContains(t, out, "target=api", "a target that does not fail is not logged")
			assert.NotContains(t, out, "context canceled", "the end of Run is not a failure")
		})
	})
	t.Run("no logger", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) { run(t) })
	})
}

// TestGroupWithoutScaler pins a group target on an engine that can only
// resize: its evaluation fails naming cloud.scaler, and the other targets
// of its batch are decided.
func TestGroupWithoutScaler(t *testing.T) {
	t.Parallel()
	c, err := memory.New(memory.Config{})
	require.NoError(t, err)
	require.NoError(t, c.AddGroup(provider.Resource{ID: "web"}, provider.CapacitySpec{Min: 1, Max: 20, Desired: 2}))
	require.NoError(t, c.Add(provider.Resource{ID: "i-1", Kind: provider.KindInstance, State: provider.StateRunning, Size: provider.Size{InstanceType: "m5.2xlarge"}}))
	flat := func(id string, m provider.Metric, v float64) {
		vals := make([]float64, 8*24*12+1)
		for i := range vals {
			vals[i] = v
		}
		require.NoError(t, c.SetSeries(provider.Series{ResourceID: id, Metric: m, Start: c.Now().Add(-8 * 24 * time.Hour), Step: 5 * time.Minute, Values: vals}))
	}
	setCPU(t, c, "web", 0.9)
	flat("i-1", provider.MetricCPU, 0.2)
	flat("i-1", provider.MetricMemory, 0.1)
	cfg := scaling.Config{Targets: []scaling.TargetConfig{
		{ID: "web", Max: 20, Strategies: []scaling.StrategySpec{{Type: scaling.StrategyThreshold}}},
		{ID: "i-1", Strategies: []scaling.StrategySpec{{Type: scaling.StrategyVertical, Vertical: &scaling.VerticalConfig{InstanceTypes: catalogue()}}}},
	}}
	e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Resizer: c, Metrics: c}, allowAll{})
	require.NoError(t, err)
	a, err := scaling.NewAutoscaler(cfg, e, scaling.Fleet{Inventory: c, Metrics: c})
	require.NoError(t, err)
	rep := a.Evaluate(t.Context(), c.Now())
	require.ErrorIs(t, rep.Targets[0].Err, provider.ErrInvalid)
	assert.Contains(t, rep.Targets[0].Err.Error(), "cloud.scaler")
	require.NoError(t, rep.Targets[1].Err)
	require.NotNil(t, rep.Targets[1].Plan, rep.Targets[1].Decision.Chosen.Reason)
	assert.Equal(t, "t3.medium", rep.Targets[1].Plan.ToSize.InstanceType)
	assert.InDelta(t, 0.0416-0.384, rep.Targets[1].Plan.CostPerHour, 1e-9, "the plan's cost is the vertical strategy's cost change")
}

// TestVerticalTargetWithoutResizer pins NewAutoscaler refusing a policy
// that executes a target with a vertical strategy on an engine without a
// Resizer (its plans could never be carried out), naming cloud.resizer;
// a dry run of it, which writes nothing, is accepted.
func TestVerticalTargetWithoutResizer(t *testing.T) {
	t.Parallel()
	c, err := memory.New(memory.Config{})
	require.NoError(t, err)
	e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Inventory: c, Metrics: c}, allowAll{})
	require.NoError(t, err)
	cfg := scaling.Config{Targets: []scaling.TargetConfig{
		{ID: "web", Strategies: []scaling.StrategySpec{{Type: scaling.StrategyThreshold}}},
		{ID: "fn", Strategies: []scaling.StrategySpec{{Type: scaling.StrategyVertical}}},
	}}
	_, err = scaling.NewAutoscaler(cfg, e, scaling.Fleet{Inventory: c, Metrics: c})
	require.NoError(t, err, "a dry run resizes nothing")
	cfg.Execute = true
	_, err = scaling.NewAutoscaler(cfg, e, scaling.Fleet{Inventory: c, Metrics: c})
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "cloud.resizer", inv.Field)
	assert.Contains(t, err.Error(), "target fn")
	cfg.Targets = cfg.Targets[:1]
	_, err = scaling.NewAutoscaler(cfg, e, scaling.Fleet{Inventory: c, Metrics: c})
	require.NoError(t, err, "no target resizes")
}

// TestRunBatches pins the size of Run's batches: every target read once
// per pass, at most batchLen (n/(4 × workers), ≤ 256) to a batch read, or
// Config.BatchSize when set (up to the fleet).
func TestRunBatches(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ n, workers, batch, size int }{{16, 2, 0, 2}, {40, 1, 0, 10}, {3, 4, 0, 1}, {5000, 2, 0, 256},
		{40, 8, 40, 40}, {40, 8, 256, 40}, {40, 1, 7, 7}, {600, 2, 300, 300}} {
		t.Run(fmt.Sprint(tc.n, "/", tc.workers, "/", tc.batch), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, err := memory.New(memory.Config{})
				require.NoError(t, err)
				cfg := scaling.Config{Concurrency: tc.workers, BatchSize: tc.batch}
				for i := range tc.n {
					id := fmt.Sprintf("g-%04d", i)
					require.NoError(t, c.AddGroup(provider.Resource{ID: id}, provider.CapacitySpec{Min: 1, Max: 20, Desired: 2}))
					cfg.Targets = append(cfg.Targets, scaling.TargetConfig{ID: id, Max: 20, Strategies: []scaling.StrategySpec{{Type: scaling.StrategyScheduled,
						Scheduled: &scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{{Name: "night", Schedule: "0 20 * * *", Desired: ip(1)}}}}}})
				}
				b := &sizing{batching: batching{Cloud: c}}
				e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: b}, allowAll{})
				require.NoError(t, err)
				a, err := scaling.NewAutoscaler(cfg, e, scaling.Fleet{Inventory: b})
				require.NoError(t, err)
				ctx, cancel := context.WithCancel(t.Context())
				done := make(chan error, 1)
				go func() { done <- a.Run(ctx) }()
				<-clock.Real{}.After(time.Second) // one pass
				synctest.Wait()
				cancel()
				require.NoError(t, <-done)
				b.mu.Lock()
				defer b.mu.Unlock()
				assert.Equal(t, tc.size, b.largest, "the largest batch")
				assert.Equal(t, tc.n, b.reads, "every target read once")
				assert.Equal(t, (tc.n+tc.size-1)/tc.size, b.calls, "no empty batch")
			})
		})
	}
}

// sizing is a batching cloud that records the sizes of its resource
// batches.
type sizing struct {
	batching
	mu                    sync.Mutex
	largest, reads, calls int
}

func (s *sizing) GetResources(ctx context.Context, reads []provider.ResourceRead) error {
	s.mu.Lock()
	s.largest, s.reads, s.calls = max(s.largest, len(reads)), s.reads+len(reads), s.calls+1
	s.mu.Unlock()
	return s.batching.GetResources(ctx, reads)
}

// brokenJournal is a MemoryJournal whose Unfinished fails for one target.
type brokenJournal struct {
	*scaling.MemoryJournal
	target string
}

func (j brokenJournal) Unfinished(ctx context.Context, target string) ([]scaling.Execution, error) {
	if target == j.target {
		return nil, errors.New("journal store unreachable")
	}
	return j.MemoryJournal.Unfinished(ctx, target)
}

// TestRunOnceResumeFailures pins what an acting pass does when resuming
// fails: a journal that cannot be read leaves its target undecided (fail
// closed: a plan of it may be half done) with the error; an interrupted
// plan that fails when resumed (here: the group's capacity changed
// meanwhile, ErrDrift) is reported, and its target decided again.
func TestRunOnceResumeFailures(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, err := memory.New(memory.Config{})
		require.NoError(t, err)
		for _, id := range []string{"web", "api", "db"} {
			require.NoError(t, c.AddGroup(provider.Resource{ID: id}, provider.CapacitySpec{Min: 1, Max: 20, Desired: 2}))
			setCPU(t, c, id, 0.9)
		}
		cfg := scaling.Config{Execute: true}
		for _, id := range []string{"web", "api", "db"} {
			cfg.Targets = append(cfg.Targets, scaling.TargetConfig{ID: id, Max: 20,
				Strategies: []scaling.StrategySpec{{Type: scaling.StrategyTargetValue, TargetValue: &scaling.TargetValueConfig{Metric: provider.MetricCPU, Target: fp(0.6)}}}})
		}
		j := brokenJournal{MemoryJournal: scaling.NewMemoryJournal(), target: "web"}
		e, err := scaling.NewEngine(scaling.EngineConfig{VerifyWindow: time.Nanosecond}, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{}, scaling.WithJournal(j))
		require.NoError(t, err)
		// An interrupted plan of db from 4 instances, but db has 2.
		now := c.Now()
		from := provider.CapacitySpec{Min: 1, Max: 20, Desired: 4}
		p := e.Plan(scaling.Decision{Now: now.Add(-time.Minute), Change: true,
			Target: scaling.Target{ID: "db", Resource: provider.Resource{ID: "db", Kind: provider.KindGroup}, Capacity: provider.Capacity{CapacitySpec: from, Current: 4}, Min: 1, Max: 20},
			Chosen: scaling.Recommendation{Strategy: "target_value", Capacity: provider.CapacitySpec{Min: 1, Max: 20, Desired: 5}}}, scaling.PlanOptions{})
		require.NotEmpty(t, p.Steps)
		x := scaling.Execution{Plan: p, Status: scaling.PlanInterrupted, UpdatedAt: now.Add(-time.Minute)}
		for _, s := range p.Steps {
			x.Steps = append(x.Steps, scaling.StepRecord{Step: s, Status: scaling.StepPending})
		}
		require.NoError(t, j.Save(t.Context(), x))

		a, err := scaling.NewAutoscaler(cfg, e, scaling.Fleet{Inventory: c, Metrics: c})
		require.NoError(t, err)
		rep := a.RunOnce(t.Context(), now)
		web, api, db := rep.Targets[0], rep.Targets[1], rep.Targets[2]

		require.Error(t, web.Err)
		assert.Contains(t, web.Err.Error(), "journal store unreachable")
		assert.Nil(t, web.Decision, "not decided while its journal cannot be read")
		assert.Nil(t, web.Execution)

		require.NoError(t, api.Err)
		require.NotNil(t, api.Execution)
		assert.Equal(t, scaling.PlanCompleted, api.Execution.Status)

		require.Len(t, db.Resumed, 1)
		require.ErrorIs(t, db.Resumed[0].Err, scaling.ErrDrift)
		require.ErrorIs(t, db.Err, scaling.ErrDrift, "the resumed plan's failure is reported")
		require.NotNil(t, db.Decision, "and the target decided again")
		require.NotNil(t, db.Execution)
		assert.Equal(t, scaling.PlanCompleted, db.Execution.Status)
		assert.Equal(t, 3, db.Execution.Plan.To.Desired)
		assert.ErrorContains(t, rep.Err(), "journal store unreachable")
	})
}

// TestRunOnceLeavesATargetWithAnUnfinishedPlanUndecided: a pass whose
// resume leaves a plan of the target unfinished (its write was cut off,
// and the target could not be read to settle it) does not decide the
// target: a new plan on top of a write that may have happened would leave
// that change unrecorded. The next pass settles it.
func TestRunOnceLeavesATargetWithAnUnfinishedPlanUndecided(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, err := memory.New(memory.Config{})
		require.NoError(t, err)
		require.NoError(t, c.AddGroup(provider.Resource{ID: "web"}, provider.CapacitySpec{Min: 1, Max: 20, Desired: 5}))
		setCPU(t, c, "web", 0.9)
		cfg := scaling.Config{Execute: true, Targets: []scaling.TargetConfig{{ID: "web", Max: 20,
			Strategies: []scaling.StrategySpec{{Type: scaling.StrategyTargetValue, TargetValue: &scaling.TargetValueConfig{Metric: provider.MetricCPU, Target: fp(0.6)}}}}}}
		j := scaling.NewMemoryJournal()
		e, err := scaling.NewEngine(scaling.EngineConfig{VerifyWindow: time.Nanosecond}, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{}, scaling.WithJournal(j))
		require.NoError(t, err)
		// An interrupted plan of web from 4 to 5 whose write was in
		// flight; it took effect (web has 5).
		now := c.Now()
		from := provider.CapacitySpec{Min: 1, Max: 20, Desired: 4}
		p := e.Plan(scaling.Decision{Now: now.Add(-time.Minute), Change: true,
			Target: scaling.Target{ID: "web", Resource: provider.Resource{ID: "web", Kind: provider.KindGroup}, Capacity: provider.Capacity{CapacitySpec: from, Current: 4}, Min: 1, Max: 20},
			Chosen: scaling.Recommendation{Strategy: "target_value", Capacity: provider.CapacitySpec{Min: 1, Max: 20, Desired: 5}}}, scaling.PlanOptions{})
		require.Len(t, p.Steps, 1)
		x := scaling.Execution{Plan: p, Status: scaling.PlanInterrupted, UpdatedAt: now.Add(-time.Minute),
			Steps: []scaling.StepRecord{{Step: p.Steps[0], Status: scaling.StepExecuting, At: now.Add(-time.Minute)}}}
		require.NoError(t, j.Save(t.Context(), x))
		errRead := errors.New("capacity read refused")
		_, err = c.InjectFault(memory.Fault{Op: memory.OpCapacity, Err: errRead, Times: 1})
		require.NoError(t, err)

		a, err := scaling.NewAutoscaler(cfg, e, scaling.Fleet{Inventory: c, Metrics: c})
		require.NoError(t, err)
		web := a.RunOnce(t.Context(), now).Targets[0]
		require.ErrorIs(t, web.Err, errRead)
		require.Len(t, web.Resumed, 1)
		assert.Equal(t, scaling.PlanInterrupted, web.Resumed[0].Status)
		assert.Nil(t, web.Decision, "not decided while a plan of it is unfinished")
		assert.Empty(t, setCapacityOps(c))

		web = a.RunOnce(t.Context(), c.Now()).Targets[0]
		require.Len(t, web.Resumed, 1)
		assert.Equal(t, scaling.PlanCompleted, web.Resumed[0].Status, web.Resumed[0].Reason)
		require.NotEmpty(t, e.History("web").Changes)
		assert.Equal(t, 5, e.History("web").Changes[0].To.Desired, "the change that happened is recorded")
		assert.NotNil(t, web.Decision, "and the target decided again")
	})
}

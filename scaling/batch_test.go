package scaling_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/scaling/hpa"
)

// perResource is a driver with no batch capability: the memory cloud
// behind the per-resource interfaces alone, counting the calls.
type perResource struct {
	c     *memory.Cloud
	calls atomic.Int64
}

func (p *perResource) List(ctx context.Context, f provider.Filter) ([]provider.Resource, error) {
	return p.c.List(ctx, f)
}

func (p *perResource) Get(ctx context.Context, id string) (provider.Resource, error) {
	p.calls.Add(1)
	return p.c.Get(ctx, id)
}

func (p *perResource) Capacity(ctx context.Context, id string) (provider.Capacity, error) {
	p.calls.Add(1)
	return p.c.Capacity(ctx, id)
}

func (p *perResource) SetCapacity(ctx context.Context, id string, want provider.CapacitySpec) error {
	return p.c.SetCapacity(ctx, id, want)
}

func (p *perResource) QueryMetric(ctx context.Context, q provider.Query) (provider.Series, error) {
	p.calls.Add(1)
	return p.c.QueryMetric(ctx, q)
}

// batching is the memory cloud counting its batch calls and forbidding
// per-resource reads.
type batching struct {
	*memory.Cloud
	batches, single atomic.Int64
	bound           atomic.Int64 // the batch concurrency the last QueryMetrics' ctx carried (-1: none)
}

func (b *batching) Get(ctx context.Context, id string) (provider.Resource, error) {
	b.single.Add(1)
	return b.Cloud.Get(ctx, id)
}

func (b *batching) GetResources(ctx context.Context, reads []provider.ResourceRead) error {
	b.batches.Add(1)
	return b.Cloud.GetResources(ctx, reads)
}

func (b *batching) GetCapacities(ctx context.Context, reads []provider.CapacityRead) error {
	b.batches.Add(1)
	return b.Cloud.GetCapacities(ctx, reads)
}

func (b *batching) QueryMetrics(ctx context.Context, reads []provider.MetricRead) error {
	b.batches.Add(1)
	b.bound.Store(int64(provider.BatchConcurrency(ctx, -1)))
	return b.Cloud.QueryMetrics(ctx, reads)
}

// groupCloud is an in-memory cloud of n groups g-000… (IDs padded to
// digits), group i with the given desired capacity, max and constant CPU.
func groupCloud(t *testing.T, n, digits, maxCap int, desired func(i int) int, cpu func(i int) float64) *memory.Cloud {
	t.Helper()
	c, err := memory.New(memory.Config{})
	require.NoError(t, err)
	for i := range n {
		id := fmt.Sprintf("g-%0*d", digits, i)
		require.NoError(t, c.AddGroup(provider.Resource{ID: id}, provider.CapacitySpec{Min: 1, Max: maxCap, Desired: desired(i)}))
		setCPU(t, c, id, cpu(i))
	}
	return c
}

// TestAutoscalerBatchReads evaluates 300 groups (CPU from 10 % to 95 %,
// one of them whose metric read fails, one missing) through a driver that
// batches and through one that does not, over several passes: the
// decisions are the same, the batching driver is read in batches only,
// and the other with one call per read.
func TestAutoscalerBatchReads(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const n = 300
		build := func() *memory.Cloud {
			c := groupCloud(t, n, 3, 40, func(i int) int { return 2 + i%7 }, func(i int) float64 { return 0.1 + 0.85*float64(i%11)/10 })
			_, err := c.InjectFault(memory.Fault{Op: memory.OpQueryMetric, ResourceID: "g-007", Err: fmt.Errorf("metrics backend down")})
			require.NoError(t, err)
			return c
		}
		cfg := scaling.Config{Concurrency: 3}
		for i := range n {
			cfg.Targets = append(cfg.Targets, scaling.TargetConfig{ID: fmt.Sprintf("g-%03d", i), Max: 40,
				Strategies: []scaling.StrategySpec{{Type: scaling.StrategyTargetValue, TargetValue: &scaling.TargetValueConfig{Metric: provider.MetricCPU, Target: fp(0.6)}}}})
		}
		cfg.Targets = append(cfg.Targets, scaling.TargetConfig{ID: "missing", Max: 4, Strategies: []scaling.StrategySpec{{Type: scaling.StrategyThreshold}}})

		plain := &perResource{c: build()}
		batched := &batching{Cloud: build()}
		newAutoscaler := func(inv provider.Inventory, sc provider.Scaler, src provider.MetricsSource) *scaling.Autoscaler {
			e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: sc, Metrics: src}, allowAll{})
			require.NoError(t, err)
			a, err := scaling.NewAutoscaler(cfg, e, scaling.Fleet{Inventory: inv, Metrics: src})
			require.NoError(t, err)
			return a
		}
		ap := newAutoscaler(plain, plain, plain)
		ab := newAutoscaler(batched, batched, batched)
		now := time.Now()
		for pass := range 3 {
			rp, rb := ap.Evaluate(t.Context(), now), ab.Evaluate(t.Context(), now)
			require.Len(t, rb.Targets, n+1)
			changes := 0
			for i := range rp.Targets {
				p, b := rp.Targets[i], rb.Targets[i]
				require.Equal(t, p.Target, b.Target)
				if p.Err != nil || b.Err != nil {
					require.Error(t, p.Err, "pass %d target %s", pass, p.Target)
					require.Error(t, b.Err, "pass %d target %s", pass, p.Target)
					assert.Equal(t, p.Err.Error(), b.Err.Error())
					continue
				}
				assert.Equal(t, p.Decision.Chosen, b.Decision.Chosen, "pass %d target %s", pass, p.Target)
				assert.Equal(t, p.Decision.Target, b.Decision.Target, "pass %d target %s", pass, p.Target)
				if b.Decision.Change {
					changes++
				}
			}
			assert.Greater(t, changes, n/2, "most groups are off their target")
			require.ErrorIs(t, rb.Targets[n].Err, provider.ErrNotFound, "the missing group")
			assert.Contains(t, rb.Targets[7].Decision.Chosen.Reason, "metrics backend down", "the failed metric read is the target's alone")
			now = now.Add(15 * time.Second)
			<-clock.Real{}.After(15 * time.Second) // the clouds' clocks, in the bubble
		}
		assert.Zero(t, batched.single.Load(), "no per-resource read of a batching driver")
		assert.Equal(t, int64(1), batched.bound.Load(), "a batch's metric reads one at a time when a driver answers them so: Concurrency bounds the reads at once")
		assert.Positive(t, batched.batches.Load())
		assert.LessOrEqual(t, batched.batches.Load(), int64(3*3*(n/3+1)), "batches, not reads")
		assert.Equal(t, int64(3*(3*n+1)), plain.calls.Load(), "one call per read without batches: resource, capacity and metric of each group, the missing one's resource")
	})
}

// TestRunPlanHoldsItsTargetOnly runs the autoscaler over 16 groups (read
// two to a batch) while one group's scale out waits 6 minutes for its
// instances: the other group of its batch is decided on every tick
// meanwhile, and the busy group is not decided again until its plan ends.
func TestRunPlanHoldsItsTargetOnly(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, err := memory.New(memory.Config{LaunchDelay: 6 * time.Minute})
		require.NoError(t, err)
		cfg := scaling.Config{Execute: true, Concurrency: 2}
		for i := range 16 {
			id := fmt.Sprintf("g-%02d", i)
			require.NoError(t, c.AddGroup(provider.Resource{ID: id}, provider.CapacitySpec{Min: 1, Max: 10, Desired: 2}))
			cpu := 0.6 // at the target: nothing to do
			if i == 0 {
				cpu = 0.95
			}
			setCPU(t, c, id, cpu)
			cfg.Targets = append(cfg.Targets, scaling.TargetConfig{ID: id, Max: 10,
				Strategies: []scaling.StrategySpec{{Type: scaling.StrategyTargetValue, TargetValue: &scaling.TargetValueConfig{Metric: provider.MetricCPU, Target: fp(0.6)}}}})
		}
		rec := &recorder{}
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{}, scaling.WithObserver(rec))
		require.NoError(t, err)
		a, err := scaling.NewAutoscaler(cfg, e, scaling.Fleet{Inventory: c, Metrics: c})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx) }()
		<-clock.Real{}.After(5 * time.Minute)
		decided := func(target string) int {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			n := 0
			for _, ev := range rec.events {
				if ev.Kind == scaling.EventDecision && ev.Target == target {
					n++
				}
			}
			return n
		}
		assert.Equal(t, 1, decided("g-00"), "the group whose plan verifies is not decided again")
		assert.GreaterOrEqual(t, decided("g-01"), 20, "its batch peer is decided every 15 s meanwhile")
		assert.Zero(t, rec.count(scaling.EventPlanCompleted), "the plan still waits for its instances")
		cancel()
		require.NoError(t, <-done)
	})
}

// TestRunResumedPlanHoldsItsTargetOnly: as TestRunPlanHoldsItsTargetOnly,
// for a plan Run resumes (interrupted by a shutdown after its first
// write, its instances still launching): it is resumed on its own, and
// the other group of its batch is decided on every tick meanwhile. The
// resume held the whole batch until the plan ended.
func TestRunResumedPlanHoldsItsTargetOnly(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, err := memory.New(memory.Config{LaunchDelay: 6 * time.Minute})
		require.NoError(t, err)
		cfg := scaling.Config{Execute: true, Concurrency: 2}
		for i := range 16 {
			id := fmt.Sprintf("g-%02d", i)
			require.NoError(t, c.AddGroup(provider.Resource{ID: id}, provider.CapacitySpec{Min: 1, Max: 10, Desired: 2}))
			setCPU(t, c, id, 0.6) // at the target: nothing to do
			cfg.Targets = append(cfg.Targets, scaling.TargetConfig{ID: id, Max: 10,
				Strategies: []scaling.StrategySpec{{Type: scaling.StrategyTargetValue, TargetValue: &scaling.TargetValueConfig{Metric: provider.MetricCPU, Target: fp(0.6)}}}})
		}
		rec := &recorder{}
		shutdown, stop := context.WithCancel(t.Context())
		var interrupted atomic.Bool
		obs := scaling.ObserverFunc(func(ev scaling.Event) {
			rec.Observe(ev)
			if ev.Kind == scaling.EventStepExecuted && !interrupted.Swap(true) {
				stop() // the shutdown comes right after the first write
			}
		})
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{}, scaling.WithObserver(obs))
		require.NoError(t, err)
		res, err := c.Get(t.Context(), "g-00")
		require.NoError(t, err)
		capa, err := c.Capacity(t.Context(), "g-00")
		require.NoError(t, err)
		to := capa.CapacitySpec
		to.Desired = 4
		p := e.Plan(scaling.Decision{Now: time.Now(), Change: true, Target: scaling.Target{ID: "g-00", Resource: res, Capacity: capa, Min: 1, Max: 10},
			Chosen: scaling.Recommendation{Strategy: "target_value", Capacity: to}}, scaling.PlanOptions{})
		x, err := e.Execute(shutdown, p)
		require.ErrorIs(t, err, context.Canceled)
		require.Equal(t, scaling.PlanInterrupted, x.Status)

		a, err := scaling.NewAutoscaler(cfg, e, scaling.Fleet{Inventory: c, Metrics: c})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx) }()
		<-clock.Real{}.After(5 * time.Minute)
		decided := func(target string) int {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			n := 0
			for _, ev := range rec.events {
				if ev.Kind == scaling.EventDecision && ev.Target == target {
					n++
				}
			}
			return n
		}
		assert.Zero(t, decided("g-00"), "the group whose resumed plan verifies is not decided meanwhile")
		assert.GreaterOrEqual(t, decided("g-01"), 20, "its batch peer is decided every 15 s meanwhile")
		assert.Zero(t, rec.count(scaling.EventPlanCompleted), "the resumed plan still waits for its instances")
		cancel()
		require.NoError(t, <-done)
	})
}

// TestEvaluateEachMatchesEvaluate runs the same fleet through Evaluate
// and EvaluateEach (the pass Run makes, with its decisions and plans in
// buffers reused from batch to batch) for several passes: every target
// is reported once, never from two goroutines at once, with the same
// decision, plan and error as Evaluate's.
func TestEvaluateEachMatchesEvaluate(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const n = 500
		build := func() *batching {
			c := groupCloud(t, n, 3, 60, func(i int) int { return 2 + i%13 }, func(i int) float64 { return 0.05 + 0.9*float64(i%17)/16 })
			_, err := c.InjectFault(memory.Fault{Op: memory.OpQueryMetric, ResourceID: "g-011", Err: fmt.Errorf("metrics backend down")})
			require.NoError(t, err)
			return &batching{Cloud: c}
		}
		cfg := scaling.Config{Concurrency: 4}
		hp := scaling.StrategySpec{Type: scaling.StrategyHPA, HPA: &scaling.HPAConfig{}}
		tv := scaling.StrategySpec{Type: scaling.StrategyTargetValue, TargetValue: &scaling.TargetValueConfig{Metric: provider.MetricCPU, Target: fp(0.6)}}
		for i := range n {
			s := []scaling.StrategySpec{tv}
			if i%3 == 0 {
				s = []scaling.StrategySpec{hp, tv}
			}
			cfg.Targets = append(cfg.Targets, scaling.TargetConfig{ID: fmt.Sprintf("g-%03d", i), Max: 60, Strategies: s})
		}
		cfg.Targets = append(cfg.Targets, scaling.TargetConfig{ID: "missing", Max: 4, Strategies: []scaling.StrategySpec{{Type: scaling.StrategyThreshold}}})
		newAutoscaler := func(c *batching) *scaling.Autoscaler {
			e, err := scaling.NewEngine(scaling.EngineConfig{MaxStepFraction: 0.25}, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{})
			require.NoError(t, err)
			a, err := scaling.NewAutoscaler(cfg, e, scaling.Fleet{Inventory: c, Metrics: c})
			require.NoError(t, err)
			return a
		}
		ar, ae := newAutoscaler(build()), newAutoscaler(build())
		now := time.Now()
		for pass := range 4 {
			want := ar.Evaluate(t.Context(), now)
			var (
				inFn  atomic.Bool
				calls int // not atomic: the race detector sees concurrent calls
				got   = map[string]scaling.TargetReport{}
			)
			ae.EvaluateEach(t.Context(), now, func(r *scaling.TargetReport) {
				if !inFn.CompareAndSwap(false, true) {
					t.Error("fn called concurrently")
				}
				defer inFn.Store(false)
				calls++
				_, dup := got[r.Target]
				assert.False(t, dup, "target %s reported twice", r.Target)
				c := *r // keep a deep copy: the report is reused
				if r.Decision != nil {
					d := *r.Decision
					d.Considered = slices.Clone(d.Considered)
					for i := range d.Considered {
						d.Considered[i].Inputs = slices.Clone(d.Considered[i].Inputs)
					}
					d.Chosen.Inputs = slices.Clone(d.Chosen.Inputs)
					c.Decision = &d
				}
				if r.Plan != nil {
					p := *r.Plan
					p.Steps, p.Rollback = slices.Clone(p.Steps), slices.Clone(p.Rollback)
					c.Plan = &p
				}
				got[r.Target] = c
			})
			require.Equal(t, n+1, calls)
			plans := 0
			for _, w := range want.Targets {
				g, ok := got[w.Target]
				require.True(t, ok, "target %s not reported", w.Target)
				if w.Err != nil {
					require.Error(t, g.Err, "pass %d target %s", pass, w.Target)
					assert.Equal(t, w.Err.Error(), g.Err.Error())
				} else {
					require.NoError(t, g.Err, "pass %d target %s", pass, w.Target)
				}
				assert.Equal(t, w.Decision, g.Decision, "pass %d target %s", pass, w.Target)
				assert.Equal(t, w.Plan, g.Plan, "pass %d target %s", pass, w.Target)
				if w.Plan != nil {
					plans++
				}
			}
			assert.Greater(t, plans, n/4, "pass %d: many targets change, with multi-step plans", pass)
			require.ErrorIs(t, got["missing"].Err, provider.ErrNotFound)
			now = now.Add(15 * time.Second)
			<-clock.Real{}.After(15 * time.Second)
		}
	})
}

// TestRunPlansOutliveTheirBatch runs the autoscaler over 48 groups, 6 to
// a batch on two workers, each with its own multi-step plan: every plan
// is executed as it was planned (the same steps as Evaluate plans on an
// identical cloud), although later batches plan in the same buffers while
// it executes.
func TestRunPlansOutliveTheirBatch(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const n = 48
		build := func() *memory.Cloud {
			return groupCloud(t, n, 2, 80, func(i int) int { return 4 + i%5 }, func(i int) float64 { return 0.1 + 0.85*float64(i)/n })
		}
		cfg := scaling.Config{Execute: true, Concurrency: 2}
		for i := range n {
			cfg.Targets = append(cfg.Targets, scaling.TargetConfig{ID: fmt.Sprintf("g-%02d", i), Max: 80,
				Strategies: []scaling.StrategySpec{{Type: scaling.StrategyTargetValue, TargetValue: &scaling.TargetValueConfig{Metric: provider.MetricCPU, Target: fp(0.3)}}}})
		}
		engineCfg := scaling.EngineConfig{MaxStepFraction: 0.25, VerifyWindow: time.Minute}
		dry := build()
		ed, err := scaling.NewEngine(engineCfg, scaling.Cloud{Scaler: dry, Metrics: dry}, allowAll{})
		require.NoError(t, err)
		ad, err := scaling.NewAutoscaler(cfg, ed, scaling.Fleet{Inventory: dry, Metrics: dry})
		require.NoError(t, err)
		want := map[string][]scaling.PlanStep{}
		for _, r := range ad.Evaluate(t.Context(), time.Now()).Targets {
			require.NoError(t, r.Err)
			if r.Plan != nil {
				want[r.Plan.ID] = r.Plan.Steps
			}
		}
		require.Greater(t, len(want), n/2)

		c := build()
		rec := &recorder{}
		e, err := scaling.NewEngine(engineCfg, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{}, scaling.WithObserver(rec))
		require.NoError(t, err)
		a, err := scaling.NewAutoscaler(cfg, e, scaling.Fleet{Inventory: c, Metrics: c})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx) }()
		<-clock.Real{}.After(10 * time.Second) // within the first interval
		synctest.Wait()
		<-clock.Real{}.After(6 * time.Hour) // every plan of the first pass has ended
		cancel()
		require.NoError(t, <-done)
		got := map[string][]scaling.PlanStep{}
		rec.mu.Lock()
		for _, ev := range rec.events {
			if _, ok := want[ev.PlanID]; ok && ev.Kind == scaling.EventStepExecuted {
				got[ev.PlanID] = append(got[ev.PlanID], scaling.PlanStep{Index: ev.Step, From: ev.From, To: ev.To})
			}
		}
		rec.mu.Unlock()
		for id, steps := range want {
			require.Len(t, got[id], len(steps), "plan %s", id)
			for k, s := range steps {
				assert.Equal(t, s.Index, got[id][k].Index, "plan %s", id)
				assert.Equal(t, s.From, got[id][k].From, "plan %s step %d", id, s.Index)
				assert.Equal(t, s.To, got[id][k].To, "plan %s step %d", id, s.Index)
			}
		}
	})
}

// TestSharedHPAStrategyDecidesAsAlone evaluates 120 groups whose CPU
// changes every minute, under three HPA policies (the legacy
// normalization, a behavior with a short scale-down window and a Pods
// policy, and the legacy one beside a target-value strategy), with four
// workers: the targets of one policy share one HPA strategy and its
// working spaces. Each target's decision, pass after pass (so with its
// stabilization history), is the one an Autoscaler of that target alone
// (its own strategy) makes.
func TestSharedHPAStrategyDecidesAsAlone(t *testing.T) {
	t.Parallel()
	const n = 120
	start := time.Now().Truncate(time.Minute).Add(-time.Hour) // the memory cloud serves no future data
	c, err := memory.New(memory.Config{})
	require.NoError(t, err)
	for i := range n {
		id := fmt.Sprintf("g-%03d", i)
		require.NoError(t, c.AddGroup(provider.Resource{ID: id}, provider.CapacitySpec{Min: 1, Max: 30, Desired: 1 + i%9}))
		vals := make([]float64, 40)
		for m := range vals {
			vals[m] = 0.05 + 0.9*float64((i*7+m*5)%13)/12
		}
		require.NoError(t, c.SetSeries(provider.Series{ResourceID: id, Metric: provider.MetricCPU, Start: start.Add(-5 * time.Minute), Step: time.Minute, Values: vals}))
	}
	legacy := scaling.StrategySpec{Type: scaling.StrategyHPA, HPA: &scaling.HPAConfig{}}
	window := 2 * time.Minute
	behavior := scaling.StrategySpec{Type: scaling.StrategyHPA, HPA: &scaling.HPAConfig{Behavior: &hpa.Behavior{
		ScaleDown: &hpa.ScalingRules{StabilizationWindow: &window, Policies: []hpa.ScalingPolicy{{Type: hpa.PolicyPods, Value: 2, Period: time.Minute}}}}}}
	tv := scaling.StrategySpec{Type: scaling.StrategyTargetValue, TargetValue: &scaling.TargetValueConfig{Metric: provider.MetricCPU, Target: fp(0.6)}}
	policy := func(i int) []scaling.StrategySpec {
		return [][]scaling.StrategySpec{{legacy}, {behavior}, {legacy, tv}}[i%3]
	}
	newAutoscaler := func(cfg scaling.Config) *scaling.Autoscaler {
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{})
		require.NoError(t, err)
		a, err := scaling.NewAutoscaler(cfg, e, scaling.Fleet{Inventory: c, Metrics: c})
		require.NoError(t, err)
		return a
	}
	shared := scaling.Config{Concurrency: 4}
	alone := make([]*scaling.Autoscaler, n)
	for i := range n {
		tc := scaling.TargetConfig{ID: fmt.Sprintf("g-%03d", i), Max: 30, Strategies: policy(i)}
		shared.Targets = append(shared.Targets, tc)
		alone[i] = newAutoscaler(scaling.Config{Targets: []scaling.TargetConfig{tc}})
	}
	a := newAutoscaler(shared)
	stabilized, rescaled := 0, 0
	for pass := range 24 {
		now := start.Add(time.Duration(pass) * 15 * time.Second)
		got := a.Evaluate(t.Context(), now)
		require.NoError(t, got.Err())
		require.Len(t, got.Targets, n)
		for i, r := range got.Targets {
			want := alone[i].Evaluate(t.Context(), now)
			require.NoError(t, want.Err())
			require.NotNil(t, r.Decision, "pass %d target %s", pass, r.Target)
			// Printed: a failed metric's input is NaN, which Equal never equals.
			require.Equal(t, fmt.Sprintf("%+v", *want.Targets[0].Decision), fmt.Sprintf("%+v", *r.Decision), "pass %d target %s", pass, r.Target)
			hp := r.Decision.Considered[0]
			if hp.Proposal != hp.Capacity.Desired {
				stabilized++
			}
			if r.Decision.Change {
				rescaled++
			}
		}
	}
	assert.Greater(t, stabilized, n, "decisions held by stabilization or policies")
	assert.Greater(t, rescaled, n, "decisions that rescale")
}

// TestDecideWhileEvaluating runs Engine.Decide and RecordChange on a
// target while the Autoscaler evaluates the same target, from two
// goroutines: under -race (as make test runs it), a recording that wrote
// into the history its strategies were reading was a data race; without
// -race it checks only that both succeed (see
// TestHistoryViewIsNotWrittenOver for the deterministic check).
func TestDecideWhileEvaluating(t *testing.T) {
	t.Parallel()
	c := groupCloud(t, 1, 3, 40, func(int) int { return 8 }, func(int) float64 { return 0.5 })
	hp := scaling.StrategySpec{Type: scaling.StrategyHPA, HPA: &scaling.HPAConfig{}}
	cfg := scaling.Config{Targets: []scaling.TargetConfig{{ID: "g-000", Max: 40, Strategies: []scaling.StrategySpec{hp}}}}
	e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{})
	require.NoError(t, err)
	a, err := scaling.NewAutoscaler(cfg, e, scaling.Fleet{Inventory: c, Metrics: c})
	require.NoError(t, err)
	h, err := scaling.NewHPA(scaling.HPAConfig{}, "hpa")
	require.NoError(t, err)
	now := c.Now()
	const n = 3000
	var (
		wg                     sync.WaitGroup
		evaluateErr, decideErr error // the first of each goroutine
	)
	wg.Go(func() {
		for i := range n {
			for _, r := range a.Evaluate(t.Context(), now.Add(time.Duration(i)*time.Second)).Targets {
				evaluateErr = cmp.Or(evaluateErr, r.Err)
			}
		}
	})
	wg.Go(func() {
		for i := range n {
			at := now.Add(time.Duration(i) * time.Second)
			st := scaling.State{Now: at, Target: scaling.Target{ID: "g-000", Resource: provider.Resource{ID: "g-000", Kind: provider.KindGroup},
				Capacity: provider.Capacity{CapacitySpec: provider.CapacitySpec{Min: 1, Max: 40, Desired: 8 - i%5}, Current: 8, Ready: 8}, Min: 1, Max: 40},
				Metrics: []provider.Series{{ResourceID: "g-000", Metric: provider.MetricCPU, Start: at.Add(-time.Minute), Step: time.Minute, Values: []float64{float64(i%7) / 7}}}}
			_, err := e.Decide(t.Context(), st, []scaling.Candidate{{Name: "hpa", Strategy: h}}, "")
			decideErr = cmp.Or(decideErr, err)
			if i%100 == 0 {
				e.RecordChange("g-000", scaling.Change{At: at, Strategy: "hpa", From: provider.CapacitySpec{Min: 1, Max: 40, Desired: 8}, To: provider.CapacitySpec{Min: 1, Max: 40, Desired: 9}})
			}
		}
	})
	wg.Wait()
	require.NoError(t, evaluateErr)
	require.NoError(t, decideErr)
}

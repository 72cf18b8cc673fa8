package scaling_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/scaling/hpa"
)

// webHPA is a policy of the memory cloud's group web scaled by an HPA on
// CPU at 60 %.
func webHPA() scaling.Config {
	cpu := hpa.MetricSpec{Type: hpa.SourceResource, Resource: &hpa.ResourceMetricSource{Name: hpa.ResourceCPU,
		Target: hpa.MetricTarget{Type: hpa.TargetUtilization, AverageUtilization: 60}}}
	return scaling.Config{Targets: []scaling.TargetConfig{{ID: "web", Strategies: []scaling.StrategySpec{{Type: scaling.StrategyHPA,
		HPA: &scaling.HPAConfig{Metrics: []hpa.MetricSpec{cpu}}}}}}}
}

// cpuSince reports v as the CPU of the memory cloud's group web every
// minute from start for a day.
func cpuSince(t *testing.T, c *memory.Cloud, start time.Time, v float64) {
	t.Helper()
	vals := make([]float64, 24*60)
	for i := range vals {
		vals[i] = v
	}
	require.NoError(t, c.SetSeries(provider.Series{ResourceID: "web", Metric: provider.MetricCPU, Start: start, Step: time.Minute, Values: vals}))
}

// A target that leaves the policy and comes back decides as a new one:
// the HPA's first decision keeps the current count through its downscale
// stabilization, as Kubernetes does for a recreated HPA, rather than
// reading the old target's last record as a history and scaling in at
// once.
func TestTargetThatComesBackStartsClean(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		back := time.Now()
		cpuSince(t, c, back.Add(-3*time.Hour), 0.1) // ⌈4 × 10 % / 60 %⌉ = 1
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{})
		require.NoError(t, err)
		fleet := scaling.Fleet{Inventory: c, Metrics: c}

		a, err := scaling.NewAutoscaler(webHPA(), e, fleet)
		require.NoError(t, err)
		rep := a.Evaluate(t.Context(), back.Add(-2*time.Hour))
		require.NoError(t, rep.Err())
		require.Equal(t, 4, rep.Targets[0].Decision.Chosen.Capacity.Desired, "a new target's first decision is stabilized")

		// The policy drops web (a reload); two hours later it comes back.
		a.Close()
		again, err := scaling.NewAutoscaler(webHPA(), e, fleet)
		require.NoError(t, err)
		rep = again.Evaluate(t.Context(), back)
		require.NoError(t, rep.Err())
		d := rep.Targets[0].Decision
		assert.Equal(t, 4, d.Chosen.Capacity.Desired, "the target that came back is stabilized as a new one: %s", d.Chosen.Reason)
	})
}

// blockingScaler holds every SetCapacity until release is closed, telling
// entered of each.
type blockingScaler struct {
	*memory.Cloud
	entered chan struct{}
	release chan struct{}
}

func (s blockingScaler) SetCapacity(ctx context.Context, id string, spec provider.CapacitySpec) error {
	s.entered <- struct{}{}
	<-s.release
	return s.Cloud.SetCapacity(ctx, id, spec)
}

// A target whose Autoscaler is closed while a plan of it executes is not
// forgotten under the plan (Forget refuses: ErrPlanRunning): the plan
// runs to its end, its changes recorded, and its journal record stays;
// the History goes when the plan ends, unless a new policy has the
// target again, which then keeps it, the plan's changes included.
func TestCloseLeavesARunningPlanAlone(t *testing.T) {
	t.Parallel()
	for _, again := range []bool{false, true} {
		t.Run(fmt.Sprintf("again=%t", again), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				c := newCloud(t, 4, memory.Config{})
				setCPU(t, c, "web", 0.95) // the threshold doubles: 4 → 6 → 8
				s := blockingScaler{Cloud: c, entered: make(chan struct{}, 8), release: make(chan struct{})}
				j := scaling.NewMemoryJournal()
				e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: s, Metrics: c}, allowAll{}, scaling.WithJournal(j))
				require.NoError(t, err)
				fleet := scaling.Fleet{Inventory: c, Metrics: c}
				policy := scaling.Config{Targets: []scaling.TargetConfig{{ID: "web", Max: 20, Strategies: []scaling.StrategySpec{{Type: scaling.StrategyThreshold}}}}}
				a, err := scaling.NewAutoscaler(policy, e, fleet)
				require.NoError(t, err)
				rep := a.Evaluate(t.Context(), time.Now())
				require.NoError(t, rep.Err())
				p := rep.Targets[0].Plan
				require.NotNil(t, p)
				require.Len(t, p.Steps, 2)

				type result struct {
					x   scaling.Execution
					err error
				}
				done := make(chan result, 1)
				go func() {
					x, err := e.Execute(t.Context(), *p)
					done <- result{x, err}
				}()
				<-s.entered // the first step's write in flight
				a.Close()
				require.ErrorIs(t, e.Forget("web"), scaling.ErrPlanRunning)
				assert.NotEmpty(t, e.History("web").Recommendations, "kept while the plan runs")
				if again {
					_, err := scaling.NewAutoscaler(policy, e, fleet)
					require.NoError(t, err)
				}
				close(s.release)
				r := <-done
				require.NoError(t, r.err)
				require.Equal(t, scaling.PlanCompleted, r.x.Status, r.x.Reason)

				x, found, err := j.Load(t.Context(), p.ID)
				require.NoError(t, err)
				require.True(t, found, "the plan's record is kept")
				assert.Equal(t, scaling.PlanCompleted, x.Status)
				h := e.History("web")
				if !again {
					assert.Empty(t, h.Recommendations, "forgotten once the plan ended")
					assert.Empty(t, h.Changes, "forgotten once the plan ended")
					return
				}
				assert.NotEmpty(t, h.Recommendations, "kept for the new policy")
				require.NotEmpty(t, h.Changes, "the plan's changes are in the History the new policy reads")
				assert.Equal(t, 8, h.Changes[len(h.Changes)-1].To.Desired)
			})
		})
	}
}

// Closing an Autoscaler whose Run executes a plan of its target lets the
// plan finish; Run then returns ErrClosed, and the target, released when
// its plan ended, is forgotten.
func TestCloseDuringRun(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		setCPU(t, c, "web", 0.95)
		s := blockingScaler{Cloud: c, entered: make(chan struct{}, 8), release: make(chan struct{})}
		j := scaling.NewMemoryJournal()
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: s, Metrics: c}, allowAll{}, scaling.WithJournal(j))
		require.NoError(t, err)
		a, err := scaling.NewAutoscaler(scaling.Config{Execute: true, Targets: []scaling.TargetConfig{{ID: "web", Max: 20,
			Strategies: []scaling.StrategySpec{{Type: scaling.StrategyThreshold}}}}}, e, scaling.Fleet{Inventory: c, Metrics: c})
		require.NoError(t, err)
		ran := make(chan error, 1)
		go func() { ran <- a.Run(t.Context()) }()
		<-s.entered
		a.Close()
		close(s.release)
		require.ErrorIs(t, <-ran, scaling.ErrClosed)
		cp, err := c.Capacity(t.Context(), "web")
		require.NoError(t, err)
		assert.Equal(t, 8, cp.Desired, "the plan ran to its end")
		xs, err := j.Unfinished(t.Context(), "web")
		require.NoError(t, err)
		assert.Empty(t, xs)
		assert.Empty(t, e.History("web").Changes, "forgotten once its plan ended")
	})
}

// A target forgotten while one of its predictive strategies stands in
// fallback gets that fallback ended (EventForecastRecovered, said to be
// a forgetting), so that the alert it raised does not fire for good;
// one that did not fall back gets no event.
func TestForgetEndsAForecastFallback(t *testing.T) {
	t.Parallel()
	c := newCloud(t, 2, memory.Config{})
	rec := &recorder{}
	e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{}, scaling.WithObserver(rec))
	require.NoError(t, err)
	target := webTarget(t, c)
	standing := func(fallback float64) scaling.Strategy {
		return scaling.StrategyFunc(func(_ context.Context, s scaling.State) (scaling.Recommendation, error) {
			return scaling.Recommendation{Capacity: s.Target.Capacity.CapacitySpec, Proposal: s.Target.Capacity.Desired,
				Reason: "stand-in", Fitness: 0.9, Inputs: []scaling.Input{
					{Name: scaling.InputForecastMASE, Value: 1.5}, {Name: scaling.InputForecastFallback, Value: fallback}}}, nil
		})
	}
	now := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	_, err = e.Decide(t.Context(), scaling.State{Now: now, Target: target},
		[]scaling.Candidate{{Name: "fell", Strategy: standing(1)}, {Name: "forecasts", Strategy: standing(0)}}, "")
	require.NoError(t, err)
	require.NoError(t, e.Forget("web"))

	var got []scaling.Event
	for _, ev := range rec.events {
		if ev.Kind == scaling.EventForecastFallback || ev.Kind == scaling.EventForecastRecovered {
			got = append(got, ev)
		}
	}
	require.Len(t, got, 2, "the fallback, then its end: %+v", got)
	assert.Equal(t, scaling.EventForecastFallback, got[0].Kind)
	assert.Equal(t, scaling.EventForecastRecovered, got[1].Kind)
	assert.Equal(t, "web", got[1].Target)
	assert.Equal(t, "fell", got[1].Strategy)
	assert.Contains(t, got[1].Reason, "forgotten")
}

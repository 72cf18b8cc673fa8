package scaling

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// Fleet is what the autoscaler reads to build each target's State.
type Fleet struct {
	// Inventory resolves the targets' resources. Required.
	Inventory provider.Inventory
	// Metrics reads the metrics the strategies need. Required when a
	// strategy reads metrics.
	Metrics provider.MetricsSource
	// Pods observes Kubernetes targets for their HPA strategies (the
	// Kubernetes driver). Optional: without it an HPA strategy reads the
	// provider metrics.
	Pods PodSource
}

// Option wires a collaborator into an Autoscaler.
type Option func(*Autoscaler)

// WithClock sets the clock Run waits on and takes the time of each
// evaluation from. Default: the real clock. A *clock.Mock from
// github.com/benbjohnson/clock satisfies it.
func WithClock(c clock.Clock) Option { return func(a *Autoscaler) { a.clock = c } }

// WithLogger sets the logger. Default: discard.
func WithLogger(l *slog.Logger) Option { return func(a *Autoscaler) { a.log = l } }

// WithStrategy registers a host's strategy under name, for the targets'
// strategies of type custom with that name.
func WithStrategy(name string, s Strategy) Option {
	return func(a *Autoscaler) {
		if a.custom == nil {
			a.custom = map[string]Strategy{}
		}
		a.custom[name] = s
	}
}

// Autoscaler evaluates every target of its policy on an interval: it
// reads the target's state (resource, capacity, the strategies' metrics,
// the pods of a Kubernetes target, its history), lets the Engine decide
// and plan, and executes the plan (or, in a dry run, previews it through
// the safety gate). Targets are evaluated with bounded concurrency, and a
// target whose plan is still executing is skipped rather than evaluated
// twice at once.
//
// An Autoscaler is safe for concurrent use.
type Autoscaler struct {
	cfg     Config
	engine  *Engine
	fleet   Fleet
	targets []*runtimeTarget
	custom  map[string]Strategy
	clock   clock.Clock
	log     *slog.Logger
}

// runtimeTarget is a compiled target and whether an evaluation of it is in
// flight.
type runtimeTarget struct {
	compiled
	busy    atomic.Bool
	history *historyCell // the engine's history of the target
}

// NewAutoscaler returns an Autoscaler for cfg, deciding and acting with
// engine over fleet. It validates cfg (see Config.Validate) and resolves
// custom strategies, returning an error matching provider.ErrInvalid that
// names the field; a required collaborator that is nil is an error too.
// It starts no goroutine.
func NewAutoscaler(cfg Config, engine *Engine, fleet Fleet, opts ...Option) (*Autoscaler, error) {
	a := &Autoscaler{engine: engine, fleet: fleet}
	for _, o := range opts {
		o(a)
	}
	if a.custom == nil {
		a.custom = map[string]Strategy{}
	}
	for name, s := range a.custom {
		if s == nil {
			return nil, provider.Invalid("strategy", name, "a registered custom strategy is nil")
		}
	}
	if err := cfg.validate(a.custom); err != nil {
		return nil, fmt.Errorf("scaling: autoscaler: %w", err)
	}
	if isNil(fleet.Metrics) {
		fleet.Metrics = nil
	}
	if isNil(fleet.Pods) {
		fleet.Pods = nil
	}
	a.fleet = fleet
	switch {
	case engine == nil:
		return nil, provider.Invalid("engine", nil, "is required")
	case isNil(fleet.Inventory):
		return nil, provider.Invalid("fleet.inventory", nil, "is required")
	}
	a.cfg = cfg.withDefaults()
	tables := map[string]*podTable{}
	for _, t := range a.cfg.Targets {
		c, _ := t.compile(a.custom) // validated above
		sharePodTables(c.candidates, tables)
		if len(c.needs) > 0 && fleet.Metrics == nil {
			return nil, provider.Invalid("fleet.metrics", nil, fmt.Sprintf("is required: target %s reads metrics", t.ID))
		}
		a.targets = append(a.targets, &runtimeTarget{compiled: c, history: engine.cell(t.ID)})
	}
	if isNil(a.clock) {
		a.clock = clock.Real{}
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	return a, nil
}

// Config returns the policy with its defaults filled in.
func (a *Autoscaler) Config() Config { return a.cfg }

// TargetReport is what one evaluation did for one target.
type TargetReport struct {
	// Target is the target's ID.
	Target string `json:"target"`
	// Decision is the engine's decision (nil when the state could not be
	// read).
	Decision *Decision `json:"decision,omitempty"`
	// Plan is the plan (nil when nothing changes).
	Plan *Plan `json:"plan,omitempty"`
	// Execution is the plan's execution (nil in a dry run or without a
	// plan). Its Status says how the plan ended: a plan the safety gate
	// refused (blocked) or the rate limiter denied (rate_limited) is not
	// an error.
	Execution *Execution `json:"execution,omitempty"`
	// Preview is the safety gate's decision on each step of the plan in a
	// dry run (Config.Execute false; nil otherwise): a step the gate would
	// refuse is a decision that is not Allowed, not an error.
	Preview []safety.Decision `json:"preview,omitempty"`
	// Resumed are the interrupted plans resumed before deciding.
	Resumed []Execution `json:"resumed,omitempty"`
	// Skipped reports a target whose previous evaluation was still
	// running.
	Skipped bool `json:"skipped,omitempty"`
	// Err is the failure of the evaluation, if any: the state could not
	// be read, no strategy recommended, the plan failed (Execution.Err),
	// or the gate failed in a dry run. A plan that stopped without failing
	// (blocked, rate limited) leaves it nil.
	Err error `json:"-"`
}

// Report is one evaluation of every target.
type Report struct {
	// Now is the time of the evaluation.
	Now time.Time `json:"now"`
	// Targets are the targets' reports, in policy order.
	Targets []TargetReport `json:"targets"`
}

// Err joins the targets' errors: their failures, not their plans that
// stopped without failing.
func (r Report) Err() error {
	var errs []error
	for _, t := range r.Targets {
		if t.Err != nil {
			errs = append(errs, t.Err)
		}
	}
	return errors.Join(errs...)
}

// Evaluate reads every target's state at now and decides and plans,
// without executing or previewing anything (no safety gate, no provider
// write): what the autoscaler would plan. Decisions are recorded in the
// targets' histories as in a real run. One target's failure does not stop
// the others; Report.Err joins them.
func (a *Autoscaler) Evaluate(ctx context.Context, now time.Time) Report {
	return a.pass(ctx, now, false)
}

// RunOnce evaluates every target at now once and acts: it resumes a
// target's interrupted plans, decides, plans, and executes the plan (or,
// with Config.Execute false, previews it through the gate). It waits for
// every target and returns the report; one target's failure does not stop
// the others.
func (a *Autoscaler) RunOnce(ctx context.Context, now time.Time) Report {
	return a.pass(ctx, now, true)
}

// pass evaluates every target with bounded concurrency: Concurrency
// workers take the targets in order.
func (a *Autoscaler) pass(ctx context.Context, now time.Time, act bool) Report {
	rep := Report{Now: now, Targets: make([]TargetReport, len(a.targets))}
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range min(a.cfg.Concurrency, len(a.targets)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(a.targets) {
					return
				}
				t := a.targets[i]
				switch {
				case ctx.Err() != nil:
					rep.Targets[i] = TargetReport{Target: t.cfg.ID, Err: ctx.Err()}
				case !t.busy.CompareAndSwap(false, true):
					rep.Targets[i] = TargetReport{Target: t.cfg.ID, Skipped: true}
				default:
					rep.Targets[i] = a.evaluate(ctx, t, now, act)
					t.busy.Store(false)
				}
			}
		})
	}
	wg.Wait()
	return rep
}

// Run evaluates every target every Interval on the autoscaler's clock, as
// RunOnce does, except that a target whose previous evaluation (a plan
// still verifying) is running is skipped instead of waited for. Run
// returns nil when ctx ends; it waits for the evaluations in flight, which
// see ctx end and stop (an interrupted plan is resumed by the next Run).
func (a *Autoscaler) Run(ctx context.Context) error {
	sem := make(chan struct{}, a.cfg.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		now := a.clock.Now()
		for _, t := range a.targets {
			if !t.busy.CompareAndSwap(false, true) {
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				t.busy.Store(false)
				return nil
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				defer t.busy.Store(false)
				rep := a.evaluate(ctx, t, now, true)
				if rep.Err != nil && ctx.Err() == nil {
					a.log.Warn("scaling: target evaluation failed", "target", t.cfg.ID, "err", rep.Err)
				}
			}()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-a.clock.After(a.cfg.Interval):
		}
	}
}

// evaluate is one target's evaluation.
func (a *Autoscaler) evaluate(ctx context.Context, t *runtimeTarget, now time.Time, act bool) TargetReport {
	rep := TargetReport{Target: t.cfg.ID}
	if act && a.cfg.Execute {
		resumed, err := a.engine.Resume(ctx, t.cfg.ID, now, a.cfg.PlanTTL)
		rep.Resumed = resumed
		if err != nil && ctx.Err() != nil {
			rep.Err = err
			return rep
		}
	}
	st, err := a.state(ctx, t, now)
	if err != nil {
		rep.Err = err
		a.engine.emit(Event{Time: now, Kind: EventError, Target: t.cfg.ID, Reason: err.Error(), Err: err})
		return rep
	}
	d, err := a.engine.decide(ctx, st, t.candidates, t.cfg.Strategy, t.history)
	if err != nil {
		rep.Err = err
		a.engine.emit(Event{Time: now, Kind: EventError, Target: t.cfg.ID, Reason: err.Error(), Err: err})
		return rep
	}
	rep.Decision = &d
	a.engine.emit(Event{Time: now, Kind: EventDecision, Target: t.cfg.ID, Strategy: d.Chosen.Strategy,
		From: st.Target.Capacity.CapacitySpec, To: d.Chosen.Capacity, FromSize: st.Target.Resource.Size, ToSize: d.Chosen.Size, Reason: d.Chosen.Reason})
	if !d.Change {
		return rep
	}
	p := a.engine.Plan(d, PlanOptions{Verify: t.cfg.Verify, InstanceHourlyCost: t.cfg.InstanceHourlyCost, CostPerHour: costOf(d)})
	rep.Plan = &p
	if !act {
		return rep
	}
	if !a.cfg.Execute {
		rep.Preview, rep.Err = a.engine.Preview(ctx, p, now)
		return rep
	}
	x, err := a.engine.Execute(ctx, p)
	rep.Execution, rep.Err = &x, err
	return rep
}

// costOf is the cost change per hour of a vertical recommendation, from
// the inputs the vertical strategy reports (unknown: 0).
func costOf(d Decision) float64 {
	for _, in := range d.Chosen.Inputs {
		if in.Name == "cost per hour change" {
			return in.Value
		}
	}
	return 0
}

// state reads a target's State at now.
func (a *Autoscaler) state(ctx context.Context, t *runtimeTarget, now time.Time) (State, error) {
	res, err := a.fleet.Inventory.Get(ctx, t.resource)
	if err != nil {
		return State{}, fmt.Errorf("scaling: target %s: resource %s: %w", t.cfg.ID, t.resource, err)
	}
	st := State{Now: now, Target: Target{ID: t.cfg.ID, Resource: res, Min: t.min, Max: t.max}, Metrics: make([]provider.Series, 0, len(t.needs))}
	if st.Target.Horizontal() {
		if a.engine.cloud.Scaler == nil {
			return State{}, provider.Invalid("cloud.scaler", nil, "is required to scale group "+t.cfg.ID)
		}
		c, err := a.engine.cloud.Scaler.Capacity(ctx, t.resource)
		if err != nil {
			return State{}, fmt.Errorf("scaling: target %s: capacity: %w", t.cfg.ID, err)
		}
		st.Target.Capacity = c
	}
	for _, n := range t.needs {
		end := now.Truncate(n.Step).Add(n.Step)
		q := provider.Query{ResourceID: t.resource, Metric: n.Metric, Start: end.Add(-n.Lookback).Truncate(n.Step), End: end, Step: n.Step, Statistic: n.Statistic}
		ser, err := a.fleet.Metrics.QueryMetric(ctx, q)
		if err != nil {
			if ctx.Err() != nil {
				return State{}, ctx.Err()
			}
			if st.MetricErrors == nil {
				st.MetricErrors = map[provider.Metric]error{}
			}
			st.MetricErrors[n.Metric] = err
			continue
		}
		st.Metrics = append(st.Metrics, ser)
	}
	if t.hpa != nil && a.fleet.Pods != nil {
		obs, err := a.fleet.Pods.ObservePods(ctx, res, t.hpa.Metrics(), now)
		if err != nil {
			return State{}, fmt.Errorf("scaling: target %s: pods: %w", t.cfg.ID, err)
		}
		st.Pods = &obs
	}
	st.History = t.history.view()
	return st, nil
}

package scaling

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/internal/nilcheck"
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
// evaluation from. Default: the engine's (WithEngineClock), so that
// decisions and the changes the engine records share one clock. A
// *clock.Mock from github.com/benbjohnson/clock satisfies it; give the
// same one to the engine: NewAutoscaler refuses a clock that is not the
// engine's (one whose type cannot be compared, a struct with a func in it
// held by value, is taken for the engine's when of its type).
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
	batches sync.Pool // of *batch: read buffers reused from pass to pass
	closed  atomic.Bool
}

// runtimeTarget is a compiled target and whether an evaluation of it is in
// flight (or, once the Autoscaler is closed, whether it was released).
type runtimeTarget struct {
	busy    atomic.Bool
	history *historyCell // the engine's history of the target, held (Engine.hold) until Close
	compiled
}

// NewAutoscaler returns an Autoscaler for cfg, deciding and acting with
// engine over fleet. It validates cfg (see Config.Validate) and resolves
// custom strategies (checking their Needs, Need.Validate), returning an
// error matching provider.ErrInvalid that names the field; a required collaborator that is nil is an error too,
// and so is an engine without a Resizer (Cloud.Resizer) for a policy that
// executes and has a target with a vertical strategy. It starts no
// goroutine.
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
	if nilcheck.Is(fleet.Metrics) {
		fleet.Metrics = nil
	}
	if nilcheck.Is(fleet.Pods) {
		fleet.Pods = nil
	}
	a.fleet = fleet
	switch {
	case engine == nil:
		return nil, provider.Invalid("engine", nil, "is required")
	case nilcheck.Is(fleet.Inventory):
		return nil, provider.Invalid("fleet.inventory", nil, "is required")
	}
	a.cfg = cfg.withDefaults()
	hpas := map[string]*HPA{}
	for _, t := range a.cfg.Targets {
		c, _ := t.compile(a.custom) // validated above
		shareHPAs(&c, hpas)
		if len(c.needs) > 0 && fleet.Metrics == nil {
			return nil, provider.Invalid("fleet.metrics", nil, fmt.Sprintf("is required: target %s reads metrics", t.ID))
		}
		if a.cfg.Execute && engine.cloud.Resizer == nil && resizes(t) {
			return nil, provider.Invalid("cloud.resizer", nil, fmt.Sprintf("is required to execute: target %s has a vertical strategy", t.ID))
		}
		a.targets = append(a.targets, &runtimeTarget{compiled: c})
	}
	switch {
	case a.clock == nil:
		a.clock = engine.clock // the real clock unless the engine has one
	case nilcheck.Is(a.clock):
		// A nil *clock.Mock, taken for the engine's clock, had a host's
		// test run on real time.
		return nil, provider.Invalid("clock", fmt.Sprintf("%T", a.clock), "must not be a nil pointer")
	case !sameClock(a.clock, engine.clock):
		// Decisions at one clock's times and the engine's changes, waits
		// and verifications at another's: the strategies' windows would
		// compare the two, and a test's mock would not drive the engine.
		return nil, provider.Invalid("clock", fmt.Sprintf("%T", a.clock), fmt.Sprintf("differs from the engine's (%T): give the engine the same clock (WithEngineClock)", engine.clock))
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.batches.New = func() any { return new(batch) }
	for _, t := range a.targets { // last: an Autoscaler refused holds nothing
		t.history = engine.hold(t.cfg.ID, t.strategyNames())
	}
	return a, nil
}

// Close ends the Autoscaler: it evaluates no target any more, and the
// engine forgets (Engine.Forget) the state of each target of its policy
// that no other Autoscaler of the engine has (not closed): a host whose
// targets come and go keeps nothing of those that left, and one that
// comes back starts afresh. Of a target another Autoscaler has, the
// engine forgets the strategies (their recommendations in the History,
// their forecast standing, ended with EventForecastRecovered as for a
// target) that no other Autoscaler's policy has for it: a strategy
// dropped from a target's policy and added back starts afresh too. It is how a host changes its policy (a file
// reloaded, a preview environment created or deleted): it makes a new
// Autoscaler of the new policy on the same Engine, whose targets that
// were in the old one keep their History, then closes the old one (in
// that order: closed first, the old one's targets would be forgotten
// and start afresh) and runs the new one once the old one's Run has
// returned.
//
// Close does not wait: a target whose evaluation is in flight (a plan
// executing or verifying for minutes) is released when it ends, and a
// target with a plan executing otherwise (a host's Engine.Execute or
// Resume) is forgotten when its last plan ends. Plans are never cut
// short by Close, and the Journal keeps every record: an interrupted
// plan of a target the new policy no longer has is not resumed by it
// (Engine.Resume resumes it). After Close, Run returns ErrClosed, and
// Evaluate, RunOnce and EvaluateEach report every target with an error
// matching it. Closing twice does nothing.
func (a *Autoscaler) Close() {
	if !a.closed.CompareAndSwap(false, true) {
		return
	}
	for _, t := range a.targets {
		if t.busy.CompareAndSwap(false, true) {
			a.release(t)
		}
	}
}

// done ends an evaluation of t (claimed: busy), releasing t when the
// Autoscaler was closed meanwhile. Close and done each release t only
// once they claimed it after closed was set: exactly one of them does.
func (a *Autoscaler) done(t *runtimeTarget) {
	t.busy.Store(false)
	if a.closed.Load() && t.busy.CompareAndSwap(false, true) {
		a.release(t)
	}
}

// release ends the Autoscaler's hold on t's History in the engine (t is
// busy for good).
func (a *Autoscaler) release(t *runtimeTarget) {
	t.history = nil
	a.engine.release(t.cfg.ID, t.strategyNames())
}

// strategyNames returns the names of t's strategies, under which the
// engine records their recommendations.
func (t *runtimeTarget) strategyNames() []string {
	names := make([]string, len(t.candidates))
	for i, c := range t.candidates {
		names[i] = c.Name
	}
	return names
}

// sameClock reports whether a and b are one clock: equal, or of one
// dynamic type that cannot be compared (a host's clock held by value with
// a func, slice or map in it), which == would panic on: the type is all
// that can be told of it.
func sameClock(a, b clock.Clock) bool {
	if reflect.TypeOf(a) != reflect.TypeOf(b) {
		return false
	}
	if !reflect.ValueOf(a).Comparable() || !reflect.ValueOf(b).Comparable() {
		return true
	}
	return a == b
}

// Config returns the policy with its defaults filled in.
func (a *Autoscaler) Config() Config { return a.cfg }

// resizes reports whether t has a vertical strategy, whose plans resize.
func resizes(t TargetConfig) bool {
	for _, s := range t.Strategies {
		if s.Type == StrategyVertical {
			return true
		}
	}
	return false
}

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
	// Err is the failure of the evaluation, if any: an interrupted plan
	// that failed when resumed (with the failures that follow, if any),
	// the journal could not be read (the target is then not decided: fail
	// closed), the state could not be read, no strategy recommended,
	// another autoscaler scales the group and the decision changes its
	// desired capacity (ErrScaledByAnother: no plan is made), the plan
	// failed (Execution.Err), or the gate failed in a dry run. A
	// plan that stopped without failing (blocked, rate limited) leaves it
	// nil.
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

// maxBatch is the most targets read together: one batch call per kind of
// read (resources, capacities, metrics) when the provider batches
// (provider.ResourceBatcher, CapacityBatcher, MetricsBatcher).
const maxBatch = 256

// batchLen is the number of targets of one batch for n targets and
// workers workers: size when set (Config.BatchSize), else small enough
// that every worker gets several batches, at most maxBatch.
func batchLen(n, workers, size int) int {
	if size > 0 {
		return max(1, min(size, n))
	}
	return max(1, min(maxBatch, n/(4*max(1, workers))))
}

// EvaluateEach is Evaluate for large fleets: instead of returning a
// Report of every target, it calls fn with each target's report as soon
// as the target's batch is decided. The report, and the Decision and
// Plan it points to, are valid only during the call: they are reused for
// later targets (copy what you keep; Decision.Considered, the
// recommendations' Inputs and the Plan's steps too). fn is never called
// concurrently, and is called once for every target of the policy (in
// batches of policy order, not in policy order overall). This is the
// reading and deciding of the pass Run makes, without holding every
// decision of the pass in memory at once; like Evaluate, it executes and
// previews nothing (Run, RunOnce do).
func (a *Autoscaler) EvaluateEach(ctx context.Context, now time.Time, fn func(*TargetReport)) {
	var mu sync.Mutex
	a.each(ctx, now, func(b *batch) {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range b.out {
			fn(r)
		}
	})
}

// pass evaluates every target with bounded concurrency: Concurrency
// workers take the targets in order, a batch at a time. Its decisions
// and plans are new, held by the Report.
func (a *Autoscaler) pass(ctx context.Context, now time.Time, act bool) Report {
	rep := Report{Now: now, Targets: make([]TargetReport, len(a.targets))}
	a.batchPass(ctx, now, func(b *batch, i int) *TargetReport { return &rep.Targets[i] }, func(b *batch) {
		b.keep = true
		a.evaluate(ctx, b, now, act, nil, nil)
	})
	return rep
}

// each evaluates every target at now without acting, as pass does, with
// the reports, decisions and plans in the batch's buffers, reused from
// batch to batch; done is called with each batch once it is decided.
func (a *Autoscaler) each(ctx context.Context, now time.Time, done func(*batch)) {
	a.batchPass(ctx, now, func(b *batch, _ int) *TargetReport { return b.report() }, func(b *batch) {
		a.evaluate(ctx, b, now, false, nil, nil)
		done(b)
	})
}

// batchPass runs Concurrency workers that take the targets in order, a
// batch at a time: each target is claimed (busy) and added to the batch
// with its report (reportOf), or reported skipped or cancelled, and the
// batch is handed to evaluate, which decides its claimed targets.
func (a *Autoscaler) batchPass(ctx context.Context, now time.Time, reportOf func(b *batch, i int) *TargetReport, evaluate func(*batch)) {
	size := batchLen(len(a.targets), a.cfg.Concurrency, a.cfg.BatchSize)
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range min(a.cfg.Concurrency, len(a.targets)) {
		wg.Go(func() {
			b := a.batches.Get().(*batch)
			defer a.batches.Put(b)
			for {
				lo := int(next.Add(int64(size)) - int64(size))
				if lo >= len(a.targets) {
					return
				}
				b.reset(size)
				for i := lo; i < min(lo+size, len(a.targets)); i++ {
					t, rep := a.targets[i], reportOf(b, i)
					b.out = append(b.out, rep)
					switch {
					case ctx.Err() != nil:
						*rep = TargetReport{Target: t.cfg.ID, Err: ctx.Err()}
					case a.closed.Load():
						*rep = TargetReport{Target: t.cfg.ID, Err: fmt.Errorf("scaling: target %s: %w", t.cfg.ID, ErrClosed)}
					case !t.busy.CompareAndSwap(false, true):
						*rep = TargetReport{Target: t.cfg.ID, Skipped: true}
					default:
						b.add(t, rep)
					}
				}
				evaluate(b)
				for _, t := range b.targets {
					a.done(t)
				}
			}
		})
	}
	wg.Wait()
}

// Run evaluates every target every Interval on the autoscaler's clock, as
// RunOnce does, except that a target whose previous evaluation (a plan
// still verifying) is running is skipped instead of waited for. Targets
// are read and decided a batch at a time; each plan executes on its own,
// so that a plan verifying for minutes holds its target only. So are a
// target's interrupted plans resumed (Config.Execute): on their own, the
// target decided at the first pass after they ended. Run
// returns nil when ctx ends; it waits for the evaluations in flight, which
// see ctx end and stop (an interrupted plan is resumed by the next Run).
// Once the Autoscaler is closed (Close), Run returns ErrClosed at its
// next pass, after the evaluations in flight.
func (a *Autoscaler) Run(ctx context.Context) error {
	sem := make(chan struct{}, a.cfg.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	size := batchLen(len(a.targets), a.cfg.Concurrency, a.cfg.BatchSize)
	// execute runs a plan of a target claimed by its batch; the target
	// stays busy until the plan ends.
	execute := func(t *runtimeTarget, p Plan) {
		wg.Go(func() {
			defer a.done(t)
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return // the plan was not started: the next Run decides again
			}
			defer func() { <-sem }()
			if _, err := a.engine.Execute(ctx, p); err != nil && ctx.Err() == nil {
				a.log.Warn("scaling: target evaluation failed", "target", t.cfg.ID, "err", err)
			}
		})
	}
	// resume resumes the unfinished plans of a target claimed by its
	// batch, on their own as execute runs a plan; the target stays busy
	// until they end, and is decided at a later pass.
	resume := func(t *runtimeTarget, now time.Time) {
		wg.Go(func() {
			defer a.done(t)
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return // not resumed: the next Run resumes them
			}
			defer func() { <-sem }()
			if _, err := a.engine.Resume(ctx, t.cfg.ID, now, a.cfg.PlanTTL); err != nil && ctx.Err() == nil {
				a.log.Warn("scaling: target evaluation failed", "target", t.cfg.ID, "err", err)
			}
		})
	}
	for {
		if a.closed.Load() {
			return ErrClosed
		}
		now := a.clock.Now()
		for lo := 0; lo < len(a.targets); {
			var claimed []*runtimeTarget
			for ; lo < len(a.targets) && len(claimed) < size; lo++ {
				if t := a.targets[lo]; t.busy.CompareAndSwap(false, true) {
					claimed = append(claimed, t)
				}
			}
			if len(claimed) == 0 {
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				for _, t := range claimed {
					a.done(t)
				}
				return nil
			}
			wg.Go(func() {
				defer func() { <-sem }()
				b := a.batches.Get().(*batch)
				defer a.batches.Put(b)
				b.reset(len(claimed))
				for _, t := range claimed {
					rep := b.report()
					b.out = append(b.out, rep)
					b.add(t, rep)
				}
				a.evaluate(ctx, b, now, true, execute, resume)
				for i, t := range claimed {
					if !b.handed[i] {
						a.done(t)
					}
					if err := b.reps[i].Err; err != nil && ctx.Err() == nil {
						a.log.Warn("scaling: target evaluation failed", "target", t.cfg.ID, "err", err)
					}
				}
			})
		}
		select {
		case <-ctx.Done():
			return nil
		case <-a.clock.After(a.cfg.Interval):
		}
	}
}

// batch is the targets of one evaluation read together, their reports,
// and the buffers of their reads, kept from batch to batch (in the
// Autoscaler's pool).
type batch struct {
	targets []*runtimeTarget
	reps    []*TargetReport
	handed  []bool // the target's plan was handed to Run's execute, which releases it
	live    []int  // the targets read: not stopped by a resume that ctx ended
	res     []provider.ResourceRead
	caps    []provider.CapacityRead
	capOf   []int // per live target: its read in caps, or -1
	mets    []provider.MetricRead
	metOf   []int // per live target: its first read in mets (one per need), or -1
	pods    []PodRead
	podOf   []int // per live target: its read in pods, or -1
	series  []provider.Series
	needs   []Need // the need each series of series was read for (State.MetricNeeds)

	// keep: the decisions and plans are the caller's (a Report holds
	// them), so they are new for each batch; otherwise they are the
	// buffers below, reused from batch to batch (EvaluateEach, Run).
	keep       bool
	out        []*TargetReport // every target's report, claimed or not, in order
	own        []TargetReport  // the reports of a batch that keeps none
	decisions  []Decision
	considered []Recommendation
	plans      []Plan
	steps      []PlanStep // the plans' steps
	inputs     inputArena // the recommendations' inputs
	scratch    decideScratch
	ids        stringSlab // the plans' IDs
	state      State      // the State of the target being decided
	gen        int64      // the generation of its History's view (historyCell.view)
	windows    []readWindow
}

// reset empties b for a batch of at most n targets.
func (b *batch) reset(n int) {
	clear(b.targets)
	clear(b.reps)
	clear(b.out)
	b.targets, b.reps, b.handed, b.out = b.targets[:0], b.reps[:0], b.handed[:0], b.out[:0]
	b.own = grow(b.own, n)
	b.keep = false
}

// report returns the next report of b's own (for a batch that keeps
// none), for the target added next.
func (b *batch) report() *TargetReport { return &b.own[len(b.out)] }

func (b *batch) add(t *runtimeTarget, rep *TargetReport) {
	*rep = TargetReport{Target: t.cfg.ID}
	b.targets, b.reps, b.handed = append(b.targets, t), append(b.reps, rep), append(b.handed, false)
}

// unfinished reports whether one of xs is not final.
func unfinished(xs []Execution) bool {
	for _, x := range xs {
		if !x.Status.Final() {
			return true
		}
	}
	return false
}

// evaluate evaluates the targets of b at now (claimed: busy), filling in
// their reports. Acting, it resumes their interrupted plans first, then
// reads their states together, decides and plans each in order, and
// previews or executes its plan: at once, or, when execute is set (Run),
// by handing the plan to execute, which then owns the target. With
// resume set (Run), a target with unfinished plans is handed to resume
// instead (which then owns it), so that a resumed plan that verifies for
// minutes holds its target only, not the batch: it is not decided in
// this pass.
func (a *Autoscaler) evaluate(ctx context.Context, b *batch, now time.Time, act bool, execute func(*runtimeTarget, Plan), resume func(*runtimeTarget, time.Time)) {
	b.live = b.live[:0]
	for k, t := range b.targets {
		if act && a.cfg.Execute && resume != nil {
			xs, err := a.engine.journal.Unfinished(ctx, t.cfg.ID)
			if err != nil || len(xs) > 0 {
				// A journal that cannot be read fails closed as Resume
				// does: the target is not decided (resume logs why).
				b.handed[k] = true
				resume(t, now)
				continue
			}
		} else if act && a.cfg.Execute {
			resumed, err := a.engine.Resume(ctx, t.cfg.ID, now, a.cfg.PlanTTL)
			b.reps[k].Resumed, b.reps[k].Err = resumed, err
			if err != nil && (ctx.Err() != nil || errors.Is(err, errJournal) || unfinished(resumed)) {
				// ctx ended, the journal could not be read, or a plan of
				// the target is still unfinished (an interrupted write
				// whose target could not be read): whether a plan of the
				// target is half done is unknown, so it is not decided
				// (fail closed). A resumed plan that failed is reported,
				// and the target decided again.
				continue
			}
		}
		b.live = append(b.live, k)
	}
	a.read(ctx, b, now)
	// The decisions and the strategies' recommendations of the batch: in
	// two allocations for a Report, or b's buffers.
	n := 0
	for _, k := range b.live {
		n += len(b.targets[k].candidates)
	}
	var (
		decisions  []Decision
		considered []Recommendation
	)
	bs := &b.scratch
	defer bs.release()
	if b.keep {
		decisions, considered = make([]Decision, len(b.live)), make([]Recommendation, n)
		bs.inputs = nil
	} else {
		b.decisions, b.considered, b.plans = grow(b.decisions, len(b.live)), grow(b.considered, n), grow(b.plans, len(b.live))
		decisions, considered, b.steps, bs.inputs = b.decisions, b.considered, b.steps[:0], &b.inputs
		bs.inputs.reset()
	}
	for j, k := range b.live {
		t, rep := b.targets[k], b.reps[k]
		st := &b.state
		err := a.stateOf(ctx, b, j, now, st)
		if err != nil {
			rep.Err = joinErr(rep.Err, err)
			a.engine.emit(Event{Time: now, Kind: EventError, Target: t.cfg.ID, Reason: err.Error(), Err: err})
			continue
		}
		nc := len(t.candidates)
		d := &decisions[j]
		err = a.engine.decide(ctx, st, t.candidates, t.cfg.Strategy, t.history, b.gen, considered[:nc:nc], bs, d)
		considered = considered[nc:]
		if err != nil {
			rep.Err = joinErr(rep.Err, err)
			a.engine.emit(Event{Time: now, Kind: EventError, Target: t.cfg.ID, Reason: err.Error(), Err: err})
			continue
		}
		rep.Decision = d
		if a.engine.observer != nil {
			a.engine.emit(Event{Time: now, Kind: EventDecision, Target: t.cfg.ID, Strategy: d.Chosen.Strategy,
				From: st.Target.Capacity.CapacitySpec, To: d.Chosen.Capacity, FromSize: st.Target.Resource.Size, ToSize: d.Chosen.Size, Reason: d.Chosen.Reason})
		}
		if !d.Change {
			continue
		}
		if by := st.Target.Resource.ScaledBy; by != "" && d.Chosen.Capacity.Desired != st.Target.Capacity.Desired {
			err := fmt.Errorf("scaling: target %s: resource %s: %s scales it, so no change of its desired capacity from %d to %d is planned: %w",
				t.cfg.ID, t.resource, by, st.Target.Capacity.Desired, d.Chosen.Capacity.Desired, ErrScaledByAnother)
			rep.Err = joinErr(rep.Err, err)
			a.engine.emit(Event{Time: now, Kind: EventError, Target: t.cfg.ID, Reason: err.Error(), Err: err})
			continue
		}
		opts := PlanOptions{Verify: t.cfg.Verify, InstanceHourlyCost: t.cfg.InstanceHourlyCost, CostPerHour: costOf(d)}
		var (
			p     *Plan
			arena *[]PlanStep
		)
		if b.keep {
			p = new(Plan)
		} else {
			p, arena = &b.plans[j], &b.steps
		}
		a.engine.plan(d, opts, p, arena, &b.ids)
		rep.Plan = p
		switch {
		case !act:
		case !a.cfg.Execute:
			var err error
			rep.Preview, err = a.engine.Preview(ctx, *p, now)
			rep.Err = joinErr(rep.Err, err)
		case execute != nil:
			b.handed[k] = true
			execute(t, p.clone()) // the plan outlives the batch
		default:
			x, err := a.engine.Execute(ctx, *p)
			rep.Execution, rep.Err = &x, joinErr(rep.Err, err)
		}
	}
	b.state = State{} // hold no target's series, pods or history in the pool
}

// joinErr is errors.Join(a, b), or the one that is not nil itself.
func joinErr(a, b error) error {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return errors.Join(a, b)
}

// costOf is the cost change per hour of a vertical recommendation, from
// the inputs the vertical strategy reports (unknown: 0).
func costOf(d *Decision) float64 {
	for _, in := range d.Chosen.Inputs {
		if in.Name == "cost per hour change" {
			return in.Value
		}
	}
	return 0
}

// read reads the states of b's live targets at now: their resources,
// then the capacities of the groups among them, then the metrics of those
// read so far, then the pods of their HPA targets, each kind in one call
// (provider.GetResources, GetCapacities, QueryMetrics, ObservePodsBatch:
// one batch call when the provider batches).
// A read that fails leaves its error for stateOf.
func (a *Autoscaler) read(ctx context.Context, b *batch, now time.Time) {
	b.res = grow(b.res, len(b.live))
	for j, k := range b.live {
		b.res[j] = provider.ResourceRead{ID: b.targets[k].resource}
	}
	_ = provider.GetResources(ctx, a.fleet.Inventory, b.res) // each read carries its error
	scaler := a.engine.cloud.Scaler
	b.caps, b.capOf = b.caps[:0], grow(b.capOf, len(b.live))
	for j, k := range b.live {
		b.capOf[j] = -1
		if r := &b.res[j]; r.Err == nil && r.Resource.Kind == provider.KindGroup && scaler != nil {
			b.capOf[j] = len(b.caps)
			b.caps = append(b.caps, provider.CapacityRead{ID: b.targets[k].resource})
		}
	}
	if scaler != nil {
		_ = provider.GetCapacities(ctx, scaler, b.caps)
	}
	b.mets, b.metOf = b.mets[:0], grow(b.metOf, len(b.live))
	for j, k := range b.live {
		b.metOf[j] = -1
		t := b.targets[k]
		if b.res[j].Err != nil || b.res[j].Resource.Kind == provider.KindGroup && (b.capOf[j] < 0 || b.caps[b.capOf[j]].Err != nil) {
			continue // stateOf fails before it needs metrics
		}
		b.metOf[j] = len(b.mets)
		for _, n := range t.needs {
			start, end := b.window(now, n.Step, n.Lookback)
			// Set in place, reusing the values of the read this one
			// replaces.
			i := len(b.mets)
			if i == cap(b.mets) {
				b.mets = append(b.mets, provider.MetricRead{})
			}
			b.mets = b.mets[:i+1]
			r := &b.mets[i]
			r.Query = provider.Query{ResourceID: t.resource, Metric: n.Metric, Start: start, End: end, Step: n.Step, Statistic: n.Statistic}
			r.Series, r.Err = provider.Series{Values: r.Series.Values[:0]}, nil
		}
	}
	if a.fleet.Metrics != nil {
		// A driver that answers a batch one read at a time (the
		// Kubernetes driver's workloads) reads them one after another:
		// the workers are the pass's concurrency (Config.Concurrency).
		_ = provider.QueryMetrics(provider.WithBatchConcurrency(ctx, 1), a.fleet.Metrics, b.mets)
	}
	b.series, b.needs = grow(b.series, len(b.mets)), grow(b.needs, len(b.mets))
	// The pods of the HPA targets read so far, from the PodSource.
	clear(b.pods)
	b.pods, b.podOf = b.pods[:0], grow(b.podOf, len(b.live))
	for j, k := range b.live {
		b.podOf[j] = -1
		if t := b.targets[k]; t.hpa != nil && a.fleet.Pods != nil && b.metOf[j] >= 0 {
			b.podOf[j] = len(b.pods)
			b.pods = append(b.pods, PodRead{Target: b.res[j].Resource, Metrics: t.hpa.Metrics(), Now: now})
		}
	}
	if len(b.pods) > 0 {
		_ = ObservePodsBatch(ctx, a.fleet.Pods, b.pods) // each read carries its error
	}
}

// window returns the window a need of step and lookback reads at now:
// from end − lookback to end, the end of now's step, both on the step's
// grid. The batch's targets share a few windows, so the last four are
// remembered.
func (b *batch) window(now time.Time, step, lookback time.Duration) (start, end time.Time) {
	for i := range b.windows {
		if w := &b.windows[i]; w.step == step && w.lookback == lookback && w.now == now { //nolint:staticcheck // the same time, location and monotonic reading: the same window
			return w.start, w.end
		}
	}
	end = now.Truncate(step).Add(step)
	start = end.Add(-lookback).Truncate(step)
	if len(b.windows) == 4 {
		b.windows = b.windows[:0]
	}
	b.windows = append(b.windows, readWindow{now: now, step: step, lookback: lookback, start: start, end: end})
	return start, end
}

// readWindow is a window batch.window computed.
type readWindow struct {
	now            time.Time
	step, lookback time.Duration
	start, end     time.Time
}

// grow returns s with length n, reusing its array when it is large
// enough.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/4)
	}
	return s[:n]
}

// aboveDefaultMax returns an error matching provider.ErrInvalid when the
// target's Max is not set and its group's desired capacity is above the
// default ceiling hi (DefaultMax): the ceiling guards
// against a runaway scale out, and must not scale in a group that
// someone else sized above it (a group of 30 instances, one that counts
// vCPUs) to 10.
func aboveDefaultMax(t TargetConfig, hi, desired int) error {
	if t.Max != 0 || desired <= hi {
		return nil
	}
	return provider.Invalid("max", t.Max, fmt.Sprintf(
		"is not set, and the group's desired capacity %d is above the default ceiling %d: set it to the most the group may have, at least %d (unset, the group would be scaled in to %d)",
		desired, hi, desired, hi))
}

// stateOf writes into *st the State of b's j-th live target from what
// read read: the target's resource, the capacity of a group, the series
// of its strategies' needs with the need of each (MetricNeeds; a metric
// whose read failed in MetricErrors), the pods of a Kubernetes target
// (from the PodSource) and its history.
func (a *Autoscaler) stateOf(ctx context.Context, b *batch, j int, now time.Time, st *State) error {
	t := b.targets[b.live[j]]
	r := &b.res[j]
	if r.Err != nil {
		return fmt.Errorf("scaling: target %s: resource %s: %w", t.cfg.ID, t.resource, r.Err)
	}
	// Zeroed, then set field by field: a composite literal assigned
	// through a pointer is built in a temporary and copied (twice the
	// bytes, with write barriers while the GC runs).
	*st = State{}
	st.Now, st.Target.ID, st.Target.Resource, st.Target.Min, st.Target.Max = now, t.cfg.ID, r.Resource, t.min, t.max
	if st.Target.horizontal() {
		if a.engine.cloud.Scaler == nil {
			return provider.Invalid("cloud.scaler", nil, "is required to scale group "+t.cfg.ID)
		}
		c := &b.caps[b.capOf[j]]
		if c.Err != nil {
			return fmt.Errorf("scaling: target %s: capacity: %w", t.cfg.ID, c.Err)
		}
		st.Target.Capacity = c.Capacity
		if err := aboveDefaultMax(t.cfg, t.max, c.Capacity.Desired); err != nil {
			return fmt.Errorf("scaling: target %s: %w", t.cfg.ID, err)
		}
	}
	m := b.metOf[j]
	st.Metrics = b.series[m:m:min(m+len(t.needs), len(b.series))]
	st.MetricNeeds = b.needs[m:m:min(m+len(t.needs), len(b.needs))]
	for i, n := range t.needs {
		mr := &b.mets[m+i]
		if mr.Err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if st.MetricErrors == nil {
				st.MetricErrors = map[provider.Metric]error{}
			}
			st.MetricErrors[n.Metric] = mr.Err
			continue
		}
		st.Metrics = append(st.Metrics, mr.Series)
		st.MetricNeeds = append(st.MetricNeeds, n)
	}
	if p := b.podOf[j]; p >= 0 {
		pr := &b.pods[p]
		if pr.Err != nil {
			return fmt.Errorf("scaling: target %s: pods: %w", t.cfg.ID, pr.Err)
		}
		obs := pr.Observation // the State's own: a strategy may keep it
		st.Pods = &obs
	}
	st.History, b.gen = t.history.view()
	return nil
}

package scaling

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/internal/nilcheck"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/approval"
)

// Gate decides whether a proposal may go ahead. *safety.Engine implements it.
//
// Both methods return the decision, and nil when d.Allowed. A step goes
// ahead only when the error is nil and d.Allowed. Otherwise the engine
// tells a refusal from a failure: a *safety.BlockedError (matching
// safety.ErrBlocked) is a refusal — a rule blocked the step, or it needs
// an approval (safety.ErrApprovalRequired) — unless it also matches
// safety.ErrRuleFailed, safety.ErrAudit or provider.ErrInvalid; a decision
// that is not allowed without an error is a refusal too. Any other error
// is a failure of the gate. Both stop the plan (fail closed, status
// blocked); only a failure is an error. safety.Decision.Err gives exactly
// these errors. Implementations must be safe for concurrent use and
// honour ctx.
type Gate interface {
	// Check decides p and records the decision (the path before a real change).
	Check(ctx context.Context, p safety.Proposal) (safety.Decision, error)
	// Evaluate decides p without side effects (dry runs, forecast-only mode).
	Evaluate(ctx context.Context, p safety.Proposal) (safety.Decision, error)
}

// Reserver reserves rate-limit budget before a change and refunds it when
// nothing changed. *ratelimit.Limiter implements it.
//
// The engine calls ReserveAt right before a step's write and writes only
// when the error is nil and the reservation is OK (Allowed, or Clamped:
// the step is shortened to the units granted, 1 to the step's units, as
// it is for an Allowed one that grants fewer units than asked). A
// reservation that is not OK stops the plan as rate_limited, without an
// error; an error stops it too (fail closed) and is returned (a
// reservation that is OK despite the error, granted before a later part
// of the Reserver failed, is passed to CancelAt at once, as is the first
// of a resize's two reservations when the second fails, both with a
// context that has not ended even when ctx has), and so does
// a grant the step cannot follow: one of no unit, Allowed or Clamped
// (to 0), as the reaper holds, or a Clamped one of more than the step's
// units, in either of a resize's two reservations (an error matching
// provider.ErrInvalid naming reservation.granted; every reservation of
// the step is cancelled and nothing is written). When the provider then changed
// nothing, the engine passes the reservation to CancelAt to refund it,
// also with a context that has not ended (a plan that stops as ctx ends
// is not resumed to refund it).
// A write that timed out (EngineConfig.WriteTimeout) is never refunded:
// it may still take effect. A write cut off by its context may or may not have changed anything:
// the reservation is kept in the step's record (StepRecord.Reservation)
// and refunded when the plan is resumed (or ended for its age) and the
// target is found unchanged, before the step reserves again.
// A CancelAt that fails leaves the budget spent for a change not made:
// the engine reports it to its Observer as an EventError naming the plan
// and step (a *StepError of StageRateLimit), and the plan ends as it
// would have. Implementations must be safe for concurrent use.
type Reserver interface {
	ReserveAt(ctx context.Context, now time.Time, req ratelimit.Request) (ratelimit.Reservation, error)
	CancelAt(ctx context.Context, now time.Time, r ratelimit.Reservation) error
}

// BothReserver is a Reserver that takes a Request of ratelimit.Both: one
// event that must fit the target's Up and Down budgets and counts once in
// a global budget. *ratelimit.Limiter is one. The engine reserves a
// resize whose sizes do not tell its direction with one such request,
// and refunds it with one CancelAt, when its Reserver is a BothReserver
// whose ReservesBoth reports true; with another Reserver (a host's own,
// written before Both, needs no change) it reserves one event Up and
// one Down, as two events (StepRecord.DownReservation): under a global
// budget with a MinInterval, or Events 1, the second is always denied by
// the first, and such a resize never runs.
type BothReserver interface {
	Reserver
	// ReservesBoth reports whether ReserveAt and CancelAt take
	// ratelimit.Both. A wrapper around another Reserver (metrics,
	// tracing) reports what the wrapped one does.
	ReservesBoth() bool
}

var (
	_ Gate         = (*safety.Engine)(nil)
	_ BothReserver = (*ratelimit.Limiter)(nil)
)

// Fencer guards the engine's writes with a leadership term, so that a
// replica that lost its leadership cannot act (package coord: a fenced
// etcd write under the term's Fence).
//
// Fence is called right before every provider write of a plan step
// (rollback steps included, and each retry of a throttled write) with the
// plan's ID and the step's number, and also before the step is gated and
// reserved, so that a deposed leader does not spend budget. It returns
// nil while this replica leads, and an error otherwise (matching
// coord.ErrFenced for a deposed leader): the engine then writes nothing,
// refunds the step's reservation and stops the plan (or, when ctx ended,
// leaves it interrupted, to be resumed). It should record the step under the fence (a key
// per plan step), so that a new leader can see what was in flight. It
// must be safe for concurrent use and honour ctx.
type Fencer interface {
	Fence(ctx context.Context, planID string, step int) error
}

// FencerFunc adapts a function to a Fencer.
type FencerFunc func(ctx context.Context, planID string, step int) error

// Fence calls f(ctx, planID, step).
func (f FencerFunc) Fence(ctx context.Context, planID string, step int) error {
	return f(ctx, planID, step)
}

// Cloud is what the engine reads and changes. A single driver usually
// fills every field (provider/memory does).
type Cloud struct {
	// Scaler reads and sets groups' capacity. Required to scale groups.
	Scaler provider.Scaler
	// Resizer resizes instances and functions. Required to resize: a
	// resize step on an engine without one stops its plan with an error
	// matching provider.ErrInvalid naming cloud.resizer (and
	// NewAutoscaler refuses a policy that executes vertical strategies).
	Resizer provider.Resizer
	// Inventory re-reads a resource's size after a resize. Required to
	// verify a resize.
	Inventory provider.Inventory
	// Metrics reads the monitoring signals. Optional: without it only the
	// settling of the capacity is verified.
	Metrics provider.MetricsSource
}

// withoutNils returns c with nil pointers (typed nils) as nil interfaces.
func (c Cloud) withoutNils() Cloud {
	if nilcheck.Is(c.Scaler) {
		c.Scaler = nil
	}
	if nilcheck.Is(c.Resizer) {
		c.Resizer = nil
	}
	if nilcheck.Is(c.Inventory) {
		c.Inventory = nil
	}
	if nilcheck.Is(c.Metrics) {
		c.Metrics = nil
	}
	return c
}

// The EngineConfig defaults.
const (
	DefaultRequester        = "autoscaler"
	DefaultMaxStepFraction  = safety.DefaultMaxStepFraction // 0.5: the safety gate's gradual rule
	DefaultVerifyTimeout    = 10 * time.Minute
	DefaultVerifyWindow     = 2 * time.Minute
	DefaultPollInterval     = 15 * time.Second
	DefaultRetryDeadline    = 2 * time.Minute
	DefaultWriteTimeout     = 30 * time.Minute
	DefaultRetryBackoff     = time.Second
	DefaultMaxRetryBackoff  = 30 * time.Second
	DefaultSettleEstimate   = 2 * time.Minute
	DefaultHistoryRetention = 2 * time.Hour
	DefaultNoDataAfter      = 5 * time.Minute
)

// DefaultScaleInSignal is the monitoring signal of a scale in or resize
// when the policy names none: CPU at most 0.9 (the built-in high-CPU alert),
// so that a scale in that overloads the rest is rolled back. A function
// has no CPU metric and gets no default signal: its resize is verified
// once the new configuration is active (a policy that wants more names
// a signal, such as errors or throttles).
func DefaultScaleInSignal() Signal {
	hi := defaultScaleInMax
	return Signal{Metric: provider.MetricCPU, Statistic: provider.StatMean, Max: &hi}
}

// defaultScaleInMax is DefaultScaleInSignal's Max.
const defaultScaleInMax = 0.9

// defaultScaleInSignals returns a plan's own DefaultScaleInSignal, in one
// allocation (its Max with it: TestDefaultScaleInSignalsAllocateOnce).
func defaultScaleInSignals() []Signal {
	x := &struct {
		signals [1]Signal
		max     float64
	}{max: defaultScaleInMax}
	x.signals[0] = Signal{Metric: provider.MetricCPU, Statistic: provider.StatMean, Max: &x.max}
	return x.signals[:]
}

// EngineConfig configures an Engine. The zero value means the defaults.
type EngineConfig struct {
	// Requester is the name the engine gives in safety proposals; human
	// approvers must differ from it. Default: "autoscaler".
	Requester string `json:"requester,omitempty" yaml:"requester,omitempty"`
	// MaxStepFraction is the largest change of desired capacity in one
	// step, as a fraction of the current desired capacity, in (0, ∞).
	// A larger change becomes several steps. Default: 0.5, the safety
	// gate's gradual rule, so that the gate passes each step.
	MaxStepFraction float64 `json:"max_step_fraction,omitempty" yaml:"max_step_fraction,omitempty"`
	// MinStep is a change (in instances) always allowed in one step, so
	// that small groups can move. Default: 1.
	MinStep int `json:"min_step,omitempty" yaml:"min_step,omitempty"`
	// VerifyTimeout is the default deadline for a step's capacity to
	// settle, and for its signals' data to be published, up to the
	// window's end, after the window (a target's Verify.Timeout
	// overrides it). Default: 10m.
	VerifyTimeout time.Duration `json:"verify_timeout,omitempty" yaml:"verify_timeout,omitempty"`
	// VerifyWindow is the default time the monitoring signals must stay
	// healthy after a step settled. Default: 2m.
	VerifyWindow time.Duration `json:"verify_window,omitempty" yaml:"verify_window,omitempty"`
	// PollInterval is the time between two reads while verifying.
	// Default: 15s.
	PollInterval time.Duration `json:"poll_interval,omitempty" yaml:"poll_interval,omitempty"`
	// RetryDeadline bounds the retries of a throttled provider call.
	// A driver that honours a cooldown refuses a plan's next step in
	// the cooldown its previous step started, as throttled: such a
	// plan needs a RetryDeadline longer than the cooldown. Its rollback
	// does not: a rollback's writes are marked with
	// provider.WithRollback, which such a driver does not defer (the
	// AWS driver's Config.HonorCooldown). Default: 2m.
	RetryDeadline time.Duration `json:"retry_deadline,omitempty" yaml:"retry_deadline,omitempty"`
	// WriteTimeout bounds each provider write of a step or a rollback
	// step (one SetCapacity or Resize call; each retry of a throttled one
	// has its own), in real time whatever the engine's clock: it is a
	// bound on I/O (see package clock), so that a driver that hangs holds
	// its target no longer. It ends the write's context: a driver that
	// ignores its context (the provider contract says it must not), or
	// finishes a clean-up under a context of its own (the AWS driver
	// restarts an instance whose resize failed, for up to twice its
	// WaitTimeout), returns only then, and the engine waits for it rather
	// than leave a write in flight behind a released target. A write
	// that times out has an unknown
	// outcome (ErrWriteTimeout): the engine re-reads the target, records
	// a change it finds in effect, keeps the step's rate-limit
	// reservation, and rolls the plan back. It must cover the slowest
	// write of the drivers: the AWS driver's instance resize waits up to
	// its Config.WaitTimeout (10m) twice. Default: 30m.
	WriteTimeout time.Duration `json:"write_timeout,omitempty" yaml:"write_timeout,omitempty"`
	// RetryBackoff is the first wait before a retry; it doubles up to
	// 30s (a longer one stays as it is). Default: 1s.
	RetryBackoff time.Duration `json:"retry_backoff,omitempty" yaml:"retry_backoff,omitempty"`
	// SettleEstimate is how long a step is expected to take to settle,
	// for Plan.ExpectedDuration. Default: 2m.
	SettleEstimate time.Duration `json:"settle_estimate,omitempty" yaml:"settle_estimate,omitempty"`
	// HistoryRetention is how long recommendations and changes are kept
	// for a target with a strategy that does not say how much History it
	// reads (HistoryWindower; every built-in strategy says, and the target
	// keeps the longest of their windows). It must cover those
	// strategies' windows (up to 1h for an HPA). Default: 2h.
	HistoryRetention time.Duration `json:"history_retention,omitempty" yaml:"history_retention,omitempty"`
	// NoDataAfter is how long a target's decisions must lack data (every
	// strategy that reads metrics says Recommendation.NoData, or fails)
	// before the engine tells its observer (EventNoData), so that one
	// failed metrics read, or a metric a minute late, does not page and
	// resolve a pass later. A negative value tells at the first such
	// decision. Default: 5m (as alert.DefaultFor).
	NoDataAfter time.Duration `json:"no_data_after,omitempty" yaml:"no_data_after,omitempty"`
}

// Validate returns an error matching provider.ErrInvalid naming the first
// wrong field.
func (c EngineConfig) Validate() error {
	if c.Requester != "" {
		if err := approval.CheckIdentity("requester", c.Requester); err != nil {
			return err
		}
	}
	switch {
	case !finite(c.MaxStepFraction) || c.MaxStepFraction < 0:
		return provider.Invalid("max_step_fraction", c.MaxStepFraction, "must be a finite number > 0")
	case c.MinStep < 0:
		return provider.Invalid("min_step", c.MinStep, "must be ≥ 0")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"verify_timeout", c.VerifyTimeout}, {"verify_window", c.VerifyWindow}, {"poll_interval", c.PollInterval},
		{"retry_deadline", c.RetryDeadline}, {"retry_backoff", c.RetryBackoff}, {"settle_estimate", c.SettleEstimate},
		{"history_retention", c.HistoryRetention}, {"write_timeout", c.WriteTimeout},
	} {
		if err := nonNegative(d.name, d.v); err != nil {
			return err
		}
	}
	if c.HistoryRetention != 0 && c.HistoryRetention < time.Hour {
		return provider.Invalid("history_retention", c.HistoryRetention, "must be ≥ 1h (the longest HPA stabilization window)")
	}
	return nil
}

func (c EngineConfig) withDefaults() EngineConfig {
	if c.Requester == "" {
		c.Requester = DefaultRequester
	}
	if c.MaxStepFraction == 0 {
		c.MaxStepFraction = DefaultMaxStepFraction
	}
	if c.MinStep == 0 {
		c.MinStep = 1
	}
	set := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	set(&c.VerifyTimeout, DefaultVerifyTimeout)
	set(&c.VerifyWindow, DefaultVerifyWindow)
	set(&c.PollInterval, DefaultPollInterval)
	set(&c.RetryDeadline, DefaultRetryDeadline)
	set(&c.WriteTimeout, DefaultWriteTimeout)
	set(&c.RetryBackoff, DefaultRetryBackoff)
	set(&c.SettleEstimate, DefaultSettleEstimate)
	set(&c.HistoryRetention, DefaultHistoryRetention)
	set(&c.NoDataAfter, DefaultNoDataAfter)
	return c
}

// EngineOption wires a collaborator into an Engine.
type EngineOption func(*Engine)

// WithReserver reserves rate-limit budget for every step (one event of the
// step's units, the target's ID as the ratelimit target, Up or Down) and
// refunds it when the provider changed nothing. A resize whose sizes do
// not tell whether it goes up or down (vCPUs or memory known on one side
// only, as with a driver that reports the instance type alone, or moving
// opposite ways) spends both directions' budgets: one event of
// ratelimit.Both when r is a BothReserver (as *ratelimit.Limiter is),
// else one event in each direction, and goes ahead only when both are
// granted (StepRecord.DownReservation). Default: no rate limit.
func WithReserver(r Reserver) EngineOption { return func(e *Engine) { e.reserver = r } }

// ActionRecorder records the disruptive changes that took effect, for the
// safety engine's fleet-share limit (safety.LimitsRule, which counts a
// group's scale-ins under the group's resource ID); *safety.MemoryHistory
// implements it.
//
// Record notes that units instances of fleet were acted on at at. It must
// be safe for concurrent use. An error is logged; the change is not
// undone.
type ActionRecorder interface {
	Record(fleet string, at time.Time, units int) error
}

var _ ActionRecorder = (*safety.MemoryHistory)(nil)

// WithActionHistory records in h (the ActionHistory of the gate's limits
// rule) every disruptive change that took effect, or was found in effect
// on a resume or after a write that failed or timed out: a scale in, as
// the instances it removed, and a resize, as one, under the target's
// resource ID, at the time it was written (or found).
// Without it the limits rule's fleet share counts none of the engine's
// changes, and the gradual steps of one plan could scale a group in by
// far more than MaxFleetShare within its Window. Default, and with a nil
// h: none.
func WithActionHistory(h ActionRecorder) EngineOption { return func(e *Engine) { e.acted = h } }

// WithFencer fences every provider write with f (package coord's
// leadership). Default: none (a single replica).
func WithFencer(f Fencer) EngineOption { return func(e *Engine) { e.fencer = f } }

// WithObserver sends every event to o. Default: none.
func WithObserver(o Observer) EngineOption { return func(e *Engine) { e.observer = o } }

// WithJournal keeps plan records in j. Default: a new MemoryJournal.
func WithJournal(j Journal) EngineOption { return func(e *Engine) { e.journal = j } }

// WithEngineClock sets the clock the engine waits on (verification polls,
// retries) and stamps events with. Default (nil): the real clock; a nil
// pointer (a nil *clock.Mock) is refused by NewEngine.
func WithEngineClock(c clock.Clock) EngineOption { return func(e *Engine) { e.clock = c } }

// WithEngineLogger sets the logger. Default: discard.
func WithEngineLogger(l *slog.Logger) EngineOption { return func(e *Engine) { e.log = l } }

// Engine turns recommendations into changes: it chooses a strategy's
// recommendation, plans it (gradual steps, rollback, monitoring, expected
// duration and cost), and executes the plan step by step through the
// safety gate, the rate limiter, the leadership fence and the provider,
// verifying every step and rolling back on its own when a step fails. It
// keeps each target's history of recommendations and changes.
//
// An Engine is safe for concurrent use; plans of different targets run
// concurrently, and the same plan is never executed twice at once.
type Engine struct {
	cfg      EngineConfig
	cloud    Cloud
	gate     Gate
	reserver Reserver
	fencer   Fencer
	acted    ActionRecorder
	observer Observer
	journal  Journal
	clock    clock.Clock
	log      *slog.Logger
	maxStep  func(int) int
	// keepsBounds says cloud.Scaler keeps bounds of its own
	// (provider.BoundsKeeper): only its groups are matched with a bound
	// kept (observed.keptBound).
	keepsBounds bool

	mu      sync.Mutex
	history map[string]*historyCell // e.mu
	// running holds the IDs of the plans executing, targetPlans their
	// number per target (planLock; taken after e.mu when both are).
	running     map[string]bool
	targetPlans map[string]int
	planLock    sync.Mutex
}

// NewEngine returns an Engine for cfg acting on cloud and gated by gate
// (required: pass a *safety.Engine, or a host's own Gate). It returns an
// error matching provider.ErrInvalid naming the wrong field when cfg is
// invalid, gate is nil or cloud has neither a Scaler nor a Resizer. It
// starts no goroutine.
func NewEngine(cfg EngineConfig, cloud Cloud, gate Gate, opts ...EngineOption) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("scaling: engine: %w", err)
	}
	if nilcheck.Is(gate) {
		return nil, provider.Invalid("gate", nil, "is required (a *safety.Engine or the host's own Gate)")
	}
	cloud = cloud.withoutNils()
	if cloud.Scaler == nil && cloud.Resizer == nil {
		return nil, provider.Invalid("cloud", nil, "needs a Scaler or a Resizer")
	}
	cfg = cfg.withDefaults()
	// The planner's steps are the gate's gradual rule's: the same formula
	// (safety.GradualRule.MaxStep), so that a plan's step never exceeds
	// what the rule allows, nor falls short of it by a rounding.
	gradual, err := safety.NewGradualRule(safety.GradualConfig{MaxStepFraction: cfg.MaxStepFraction, MinStep: cfg.MinStep})
	if err != nil {
		return nil, fmt.Errorf("scaling: engine: %w", err) // validated above: not expected
	}
	e := &Engine{
		cfg:         cfg,
		cloud:       cloud,
		gate:        gate,
		history:     map[string]*historyCell{},
		running:     map[string]bool{},
		targetPlans: map[string]int{},
		maxStep:     gradual.MaxStep,
	}
	if k, ok := cloud.Scaler.(provider.BoundsKeeper); ok {
		e.keepsBounds = k.KeepsBounds()
	}
	for _, o := range opts {
		o(e)
	}
	// A nil pointer in an option is no collaborator.
	if nilcheck.Is(e.reserver) {
		e.reserver = nil
	}
	if nilcheck.Is(e.acted) {
		e.acted = nil
	}
	if nilcheck.Is(e.fencer) {
		e.fencer = nil
	}
	if nilcheck.Is(e.observer) {
		e.observer = nil
	}
	if nilcheck.Is(e.journal) {
		e.journal = nil
	}
	switch {
	case e.clock == nil:
		e.clock = clock.Real{}
	case nilcheck.Is(e.clock):
		// Not a nil Clock (the default): a nil *clock.Mock, taken for the
		// real clock, had a host's test run on real time.
		return nil, provider.Invalid("clock", fmt.Sprintf("%T", e.clock), "must not be a nil pointer")
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.journal == nil {
		e.journal = NewMemoryJournal()
	}
	return e, nil
}

// Config returns the configuration with its defaults filled in.
func (e *Engine) Config() EngineConfig { return e.cfg }

// historyCell is one target's history and its lock.
type historyCell struct {
	mu sync.Mutex
	h  History
	// retention is how long the target's History is kept: the longest
	// HistoryWindow of its strategies at its last decision (retained is
	// false before it: EngineConfig.HistoryRetention).
	retention time.Duration
	retained  bool
	// fallback holds, per strategy name, whether its last recommendation
	// was a forecast fallback (InputForecastFallback 1), to emit the
	// forecast events on a change.
	fallback map[string]bool
	// reported holds the strategies that emitted a forecast event (fell
	// back at least once): the end of their standing is emitted when the
	// target is forgotten.
	reported map[string]bool
	// blind holds whether the target was told without data (EventNoData
	// told, EventDataRecovered not yet): its end is emitted when the
	// target is forgotten. blindSince is the time of the first of its
	// decisions without data in a row (zero when the last had data).
	blind      bool
	blindSince time.Time
	// told is the time of the latest standing told of the target (a
	// forecast or data event, dated by its decision's now): the events
	// that end its standings (forgetStrategy, drop) are dated no earlier
	// (endedAt), so that a host whose decision times run ahead of the
	// engine's clock does not see the end as older than what it ends, and
	// an alert that orders events by time (the monitor's) resolves.
	told time.Time
	// gone marks a cell the engine forgot (drop): a decision that read
	// it before, and records into it after, tells no standing (the
	// target's ended with it, and nothing would end one told now).
	gone bool
	// readsOwn holds the strategies without MetricNeeder (a host's) that
	// have said NoData: they read data of their own, and count among the
	// target's strategies that read metrics from then on, seeing or not.
	readsOwn map[string]bool
	// recs is where h's first records live: next to the cell its
	// evaluation locks anyway, rather than in an array of their own
	// somewhere else in the heap (a fleet pass reads ten thousand
	// histories; superseding and pruning keep most of them this short).
	recs [cellRecords]RecommendationRecord
	// views counts the evaluations reading a view of h (view) that share
	// its current arrays; gen numbers those arrays. A change that would
	// write over what a view reads (the compactions of record, supersede
	// and prune) first gives h arrays of its own (ownLocked), so that a
	// concurrent Engine.Decide or RecordChange on a target the
	// Autoscaler is evaluating never writes under its strategies.
	views int
	gen   int64
	// holds counts the Autoscalers (not closed) whose policy has the
	// target: they write the cell through a pointer of their own, so it
	// is not forgotten while one does (Engine.Forget). dropped marks a
	// cell whose last holder was closed while a plan of the target ran,
	// to be forgotten when the last such plan ends. Both are e.mu's.
	holds   int
	dropped bool
	// strategies counts, per strategy name, the holders whose policy has
	// it for the target: a strategy no holder has any more (a policy
	// reloaded without it) is forgotten (forgetStrategy), so that one
	// that comes back starts afresh. e.mu's.
	strategies map[string]int
}

// cellRecords is how many records a history cell holds in place.
const cellRecords = 4

// newHistoryCell returns an empty cell whose records start in place.
func newHistoryCell() *historyCell {
	c := &historyCell{}
	c.h.Recommendations = c.recs[:0]
	return c
}

// cell returns the target's history cell, creating it.
func (e *Engine) cell(target string) *historyCell {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cellLocked(target)
}

// cellLocked is cell with e.mu held.
func (e *Engine) cellLocked(target string) *historyCell {
	c := e.history[target]
	if c == nil {
		c = newHistoryCell()
		e.history[target] = c
	}
	return c
}

// hold returns the target's history cell, creating it, for an
// Autoscaler whose policy has the target: the cell is not forgotten
// until release.
func (e *Engine) hold(target string, strategies []string) *historyCell {
	e.mu.Lock()
	c := e.cellLocked(target)
	var events []Event
	if c.holds == 0 && c.dropped {
		// Released by its last holder while a plan ran, held again
		// before it ended: the strategies of the old policy that the
		// new one does not have are forgotten, as release does.
		for name := range c.strategies {
			if !slices.Contains(strategies, name) {
				events = append(events, e.forgetStrategy(target, c, name)...)
			}
		}
		clear(c.strategies)
	}
	c.holds++
	c.dropped = false
	if c.strategies == nil {
		c.strategies = make(map[string]int, len(strategies))
	}
	for _, name := range strategies {
		c.strategies[name]++
	}
	e.mu.Unlock()
	slices.SortFunc(events, func(a, b Event) int { return strings.Compare(a.Strategy, b.Strategy) })
	e.emitAll(events)
	return c
}

// release ends a hold of the target's cell by a policy with strategies:
// the last one forgets it, at once, or when the last plan of the target
// running ends; one that leaves it held forgets the strategies no other
// holder has.
func (e *Engine) release(target string, strategies []string) {
	e.mu.Lock()
	c := e.history[target]
	var events []Event
	switch {
	case c == nil || c.holds == 0:
	case c.holds == 1 && e.plansOf(target) > 0:
		c.holds, c.dropped = 0, true // by unlockPlan, or hold again
	case c.holds > 1:
		c.holds--
		for _, name := range strategies {
			if n, ok := c.strategies[name]; ok && n <= 1 {
				delete(c.strategies, name)
				events = append(events, e.forgetStrategy(target, c, name)...)
			} else if ok {
				c.strategies[name] = n - 1
			}
		}
	default:
		c.holds = 0
		events = e.drop(target, c)
	}
	e.mu.Unlock()
	e.emitAll(events)
}

// forgetStrategy forgets what the target's cell c keeps of strategy
// name, which no policy holding the target has any more: its records
// (the newest of which prune keeps for good, and which a strategy that
// comes back would read as its history: an HPA's first decision would
// not be stabilized) and its forecast standing, ending it as drop does.
// e.mu is held; the caller emits the events once it is released.
func (e *Engine) forgetStrategy(target string, c *historyCell, name string) []Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	if slices.ContainsFunc(c.h.Recommendations, func(r RecommendationRecord) bool { return r.Strategy == name }) {
		c.ownLocked()
		recs := c.h.Recommendations
		kept := slices.DeleteFunc(recs, func(r RecommendationRecord) bool { return r.Strategy == name })
		clear(recs[len(kept):])
		c.h.Recommendations = kept
	}
	delete(c.fallback, name)
	delete(c.readsOwn, name)
	if !c.reported[name] {
		return nil
	}
	delete(c.reported, name)
	if e.observer == nil {
		return nil
	}
	return []Event{{Time: c.endedAt(e.clock.Now()), Kind: EventForecastRecovered, Target: target, Strategy: name, Value: -1,
		Reason: "the strategy's state was forgotten (it left the target's policy): its forecast standing ends with it"}}
}

// endedAt is the time of an event that ends one of the cell's standings,
// forgotten at now on the engine's clock: now, or the time of the latest
// standing told when it is later. c.mu is held.
func (c *historyCell) endedAt(now time.Time) time.Time {
	if c.told.After(now) {
		return c.told
	}
	return now
}

// dropIfReleased forgets the target's cell when it was released while
// a plan of the target ran, and none runs now (nor holds it).
func (e *Engine) dropIfReleased(target string) {
	e.mu.Lock()
	var events []Event
	if c := e.history[target]; c != nil && c.dropped && c.holds == 0 && e.plansOf(target) == 0 {
		events = e.drop(target, c)
	}
	e.mu.Unlock()
	e.emitAll(events)
}

// drop forgets the target's cell c, returning the events that end the
// forecast standings it reported: EventForecastRecovered (Value −1) for
// each strategy that fell back, in fallback still or recovered since, so
// that an alert a fallback raised (the monitor's forecast_fallback) is
// resolved rather than left firing for a target no decision will ever
// recover, and a forecast error exported for the target (the monitor's
// forecast_error, from a recovery) is dropped rather than exported for
// good; and EventDataRecovered for a target without data (EventNoData),
// for its alert (the monitor's scaling_no_data). e.mu is held; the
// caller emits the events once it is released.
func (e *Engine) drop(target string, c *historyCell) []Event {
	delete(e.history, target)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gone = true
	if e.observer == nil {
		return nil
	}
	var events []Event
	at := c.endedAt(e.clock.Now())
	for strategy := range c.reported {
		events = append(events, Event{Time: at, Kind: EventForecastRecovered, Target: target, Strategy: strategy, Value: -1,
			Reason: "the target's state was forgotten (it left the policy): its forecast standing ends with it"})
	}
	slices.SortFunc(events, func(a, b Event) int { return strings.Compare(a.Strategy, b.Strategy) })
	if c.blind {
		events = append(events, Event{Time: at, Kind: EventDataRecovered, Target: target,
			Reason: "the target's state was forgotten (it left the policy): its want of data ends with it"})
	}
	return events
}

// emitAll sends events to the observer, in order.
func (e *Engine) emitAll(events []Event) {
	for _, ev := range events {
		e.emit(ev)
	}
}

// Forget drops what the engine keeps of the target: its History (the
// recommendations and changes recorded, and whether its predictive
// strategies last fell back), so that a host whose targets come and go
// (preview environments, groups created and deleted) keeps none of those
// that left, and a target of that ID that comes back starts afresh, as a
// new one: an HPA strategy's first decision keeps the current count
// through its stabilization, as Kubernetes does for a new
// HorizontalPodAutoscaler. Forgetting a target the engine keeps nothing
// of does nothing. A Decide of the target under way as it is forgotten
// records into the state forgotten and tells the Observer nothing (no
// EventNoData nor forecast standing that nothing would end).
//
// Forget refuses, with an error matching ErrTargetInUse, a target that
// the policy of an Autoscaler of the engine has (until that one is
// closed: Autoscaler.Close, which forgets the targets of its policy no
// other Autoscaler has), and, with one matching ErrPlanRunning, a target
// with a plan executing: its History would be split, the Autoscaler's
// decisions and the plan's changes recorded in one that a new record
// would not see. The Journal is left alone: a plan of the target
// interrupted before keeps its record and its rollback, and Resume (or
// an Autoscaler whose policy has the target again) carries it out,
// recording its changes in a new History. A predictive strategy of the
// target that had fallen back (EventForecastFallback), in fallback still
// or recovered since, is told recovered
// (EventForecastRecovered, Value −1, Reason saying the target was
// forgotten), so that the alert its fallback raised does not fire for
// good and the forecast error exported for the target goes with it; a
// target told without data (EventNoData) is told recovered likewise.
// These events are dated by the engine's clock, or by the latest
// standing told of the target when its decision's now was later (a host
// whose decision times run ahead of that clock): never before what they
// end. The rate limiter's budgets (WithReserver) and the action history
// (WithActionHistory) are the host's, kept by target and resource ID: a
// target that comes back within their windows is still counted by them.
func (e *Engine) Forget(target string) error {
	e.mu.Lock()
	c := e.history[target]
	var err error
	switch {
	case c == nil:
	case c.holds > 0:
		err = fmt.Errorf("scaling: forget %s: %w: the policy of %d autoscaler(s) of the engine has it (close them: Autoscaler.Close)", target, ErrTargetInUse, c.holds)
	default:
		if n := e.plansOf(target); n > 0 {
			err = fmt.Errorf("scaling: forget %s: %w: %d plan(s) of the target executing", target, ErrPlanRunning, n)
		}
	}
	var events []Event
	if c != nil && err == nil {
		events = e.drop(target, c)
	}
	e.mu.Unlock()
	e.emitAll(events)
	return err
}

// History returns a copy of the target's history (empty for a target
// the engine keeps none of; reading it keeps nothing).
func (e *Engine) History(target string) History {
	e.mu.Lock()
	c := e.history[target]
	e.mu.Unlock()
	if c == nil {
		return History{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.h.clone()
}

// view returns the cell's history without copying it, for the
// autoscaler's evaluation of that target, and the generation of its
// arrays, which the evaluation hands back (unview, or
// recordRecommendations) once its strategies have read it.
func (c *historyCell) view() (History, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.views++
	return c.h.view(), c.gen
}

// unview ends a view of generation gen (−1: not a view).
func (c *historyCell) unview(gen int64) {
	if gen < 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.unviewLocked(gen)
}

// unviewLocked is unview with c.mu held.
func (c *historyCell) unviewLocked(gen int64) {
	if gen == c.gen && c.views > 0 { // −1 is no generation
		c.views--
	}
}

// ownLocked gives c.h arrays of its own when a view shares them, before
// a change writes into them. c.mu is held.
func (c *historyCell) ownLocked() {
	if c.views > 0 {
		c.h = c.h.clone()
		c.gen++
		c.views = 0
	}
}

// SetHistory replaces the target's history, for a host that restores it
// (after a restart, or from another replica's store).
func (e *Engine) SetHistory(target string, h History) {
	c := e.cell(target)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.h = h.clone() // not into c.recs: a view taken before may still read them
	c.gen++
	c.views = 0
}

// failures marks the candidates of a decision that failed, by index: one
// bit each, in a word for the first 64 (no allocation for a usual policy)
// and in more, grown on demand, for the rest. Its zero value marks none.
type failures struct {
	first uint64
	more  []uint64 // bit i-64 for candidate i ≥ 64
}

// add marks candidate i (≥ 0) as failed.
func (f *failures) add(i int) {
	if i < 64 {
		f.first |= 1 << i
		return
	}
	i -= 64
	for len(f.more) <= i/64 {
		f.more = append(f.more, 0)
	}
	f.more[i/64] |= 1 << (i % 64)
}

// has reports whether candidate i failed.
func (f *failures) has(i int) bool {
	if i < 64 {
		return f.first&(1<<i) != 0
	}
	i -= 64
	return i/64 < len(f.more) && f.more[i/64]&(1<<(i%64)) != 0
}

// recordRecommendations adds the recommendations of a decision to the
// target's history, but those of the strategies that failed, ending the
// decision's view of generation gen (−1: none).
//
// A recommendation that says whether it is a forecast fallback (a
// predictive strategy's InputForecastFallback) is compared with that
// strategy's previous one: falling back emits EventForecastFallback, and
// sizing from the forecast again after a fallback EventForecastRecovered.
// A decision without data (blindness) is compared with the target's
// previous one: EventNoData when it starts, EventDataRecovered when it
// ends; unless cut (the decision's context ended while its strategies
// ran): strategies stopped by it lacked no data, and saw none. A cell
// forgotten while the decision ran (Engine.Forget) tells nothing: its
// standings ended with it.
func (e *Engine) recordRecommendations(c *historyCell, gen int64, t *Target, now time.Time, candidates []Candidate, pinned string, recs []Recommendation, failed *failures, cut bool) {
	var events []Event
	retention, known := e.retention(candidates)
	c.mu.Lock()
	c.unviewLocked(gen)
	c.ownLocked()
	c.retention, c.retained = retention, true
	for i := range recs {
		if failed.has(i) {
			continue // a strategy that failed recommended nothing
		}
		r := &recs[i]
		c.h.record(RecommendationRecord{At: now, Strategy: r.Strategy, Current: t.Capacity.Desired, Desired: r.Capacity.Desired, Proposal: r.Proposal, NoProposal: r.NoProposal}, retention)
		if x, ok := candidates[i].Strategy.(ExtremesReader); ok && known {
			c.h.supersede(x.HistoryExtremes())
		}
		if e.observer != nil && !c.gone {
			if ev, ok := c.forecastEvent(t.ID, now, *r); ok {
				events = append(events, ev)
			}
		}
	}
	if e.observer != nil && !cut && !c.gone {
		// A decision cut short (a host shutting down, a pass's deadline)
		// says nothing of the target's data: told blind, it would page
		// for every target of a process stopping, for good.
		if ev, ok := c.dataEvent(t.ID, now, e.cfg.NoDataAfter, candidates, pinned, recs, failed); ok {
			events = append(events, ev)
		}
	}
	if len(events) > 0 && now.After(c.told) {
		c.told = now
	}
	c.mu.Unlock()
	for _, ev := range events {
		e.emit(ev)
	}
}

// forecastEvent returns the forecast event r's standing means after the
// previous recommendation of its strategy, if any. c.mu is held.
func (c *historyCell) forecastEvent(target string, now time.Time, r Recommendation) (Event, bool) {
	fell, mase, ok := forecastStanding(r)
	if !ok {
		return Event{}, false
	}
	was := c.fallback[r.Strategy]
	if c.fallback == nil {
		c.fallback = map[string]bool{}
	}
	c.fallback[r.Strategy] = fell
	ev := Event{Time: now, Target: target, Strategy: r.Strategy, Reason: r.Reason, Value: mase}
	switch {
	case fell && !was:
		ev.Kind = EventForecastFallback
	case !fell && was:
		ev.Kind = EventForecastRecovered
	default:
		return Event{}, false
	}
	if c.reported == nil {
		c.reported = map[string]bool{}
	}
	c.reported[r.Strategy] = true
	return ev, true
}

// dataEvent returns the event that a decision's want of data, or its end,
// means after the target's previous decision, if any: the decision is
// blind (without data) when every candidate that reads metrics (a
// MetricNeeder, or one whose recommendation says NoData or once said it:
// a host's strategy that reads data of its own), or the pinned one when
// the policy pins one, had no data or failed. A decision with no such
// candidate (only scheduled actions) lacks nothing. The target is told
// without data once its decisions have been blind for after (at the
// first when after is negative), and told recovered at the first that is
// not, if it was told: the recovery names the first MetricNeeder with
// data, else the first other strategy that reads data and has it. c.mu
// is held.
func (c *historyCell) dataEvent(target string, now time.Time, after time.Duration, candidates []Candidate, pinned string, recs []Recommendation, failed *failures) (Event, bool) {
	for i := range candidates {
		if _, needs := candidates[i].Strategy.(MetricNeeder); !needs && !failed.has(i) && recs[i].NoData && !c.readsOwn[candidates[i].Name] {
			if c.readsOwn == nil {
				c.readsOwn = map[string]bool{}
			}
			c.readsOwn[candidates[i].Name] = true
		}
	}
	// sight says whether candidate i counts (it decides, and reads
	// metrics) and whether it lacked data.
	sight := func(i int) (counts, lacked bool) {
		if pinned != "" && candidates[i].Name != pinned {
			return false, false
		}
		_, reads := candidates[i].Strategy.(MetricNeeder)
		reads = reads || c.readsOwn[candidates[i].Name]
		if failed.has(i) {
			return reads, reads
		}
		return reads, recs[i].NoData
	}
	readers, lacking := 0, 0
	for i := range candidates {
		counts, lacked := sight(i)
		if counts {
			readers++
		}
		if lacked {
			lacking++
		}
	}
	blind := readers > 0 && lacking == readers
	switch {
	case !blind:
		c.blindSince = time.Time{}
	case c.blindSince.IsZero() || now.Before(c.blindSince):
		c.blindSince = now
	}
	if blind && now.Sub(c.blindSince) < after {
		return Event{}, false // not for long enough yet
	}
	if blind == c.blind {
		return Event{}, false
	}
	c.blind = blind
	ev := Event{Time: now, Target: target, Kind: EventNoData}
	var b strings.Builder
	if !blind {
		ev.Kind = EventDataRecovered
		for _, needer := range [2]bool{true, false} {
			for i := range candidates {
				_, needs := candidates[i].Strategy.(MetricNeeder)
				if counts, lacked := sight(i); counts && !lacked && needs == needer && b.Len() == 0 {
					ev.Strategy = candidates[i].Name
					fmt.Fprintf(&b, "%s lacks no data: %s", candidates[i].Name, recs[i].Reason)
				}
			}
		}
		if b.Len() == 0 {
			b.WriteString("no strategy of the target that reads metrics is left")
		}
		ev.Reason = b.String()
		return ev, true
	}
	b.WriteString("no data to scale on: ")
	n := 0
	for i := range candidates {
		if _, lacked := sight(i); lacked {
			if n > 0 {
				b.WriteString("; ")
			}
			n++
			fmt.Fprintf(&b, "%s: %s", candidates[i].Name, recs[i].Reason)
		}
	}
	ev.Reason = b.String()
	return ev, true
}

// forecastStanding reads a predictive recommendation's fallback flag and
// rolling error from its Inputs; ok is false when r carries no flag.
func forecastStanding(r Recommendation) (fell bool, mase float64, ok bool) {
	mase = -1
	for _, in := range r.Inputs {
		switch in.Name {
		case InputForecastFallback:
			fell, ok = in.Value == 1, true
		case InputForecastMASE:
			mase = in.Value
		}
	}
	return fell, mase, ok
}

// RecordChange adds to the target's history a change made without the
// engine: by a host or a simulator that applies decisions itself, or by
// an operator. The strategies' rate limits (an HPA's behavior policies)
// count it like the engine's own steps. Changes must be recorded in time
// order.
func (e *Engine) RecordChange(target string, c Change) { e.recordChange(target, c) }

// recordChange adds an executed change to the target's history.
func (e *Engine) recordChange(target string, ev Change) {
	c := e.cell(target)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ownLocked()
	c.h.Changes = append(c.h.Changes, ev)
	retention := e.cfg.HistoryRetention
	if c.retained {
		retention = c.retention
	}
	c.h.prune(ev.At, retention)
}

// changed records ch, a change of plan p's target that took effect (or
// was found in effect), in the target's History and, when it is
// disruptive (a scale in, a resize), in the ActionRecorder
// (WithActionHistory) under the target's resource ID. A failed record is
// logged: the change is not undone.
func (e *Engine) changed(p Plan, ch Change) {
	e.recordChange(p.Target.ID, ch)
	if e.acted == nil {
		return
	}
	units := 0
	switch {
	case p.Target.horizontal():
		units = ch.From.Desired - ch.To.Desired
	case ch.FromSize != ch.ToSize:
		units = 1
	}
	if units < 1 {
		return
	}
	if err := e.acted.Record(p.Target.Resource.ID, ch.At, units); err != nil {
		e.log.Warn("scaling: recording the change in the action history failed", "plan", p.ID, "step", ch.Step, "err", err)
	}
}

// retention is how long the History of a target decided by candidates
// is kept: the longest of their HistoryWindows, or HistoryRetention when
// one of them does not say (HistoryWindower); known is false then.
func (e *Engine) retention(candidates []Candidate) (r time.Duration, known bool) {
	for _, c := range candidates {
		w, ok := c.Strategy.(HistoryWindower)
		if !ok {
			return e.cfg.HistoryRetention, false
		}
		r = max(r, w.HistoryWindow())
	}
	return r, true
}

// Candidate is one strategy of a target as the engine weighs it.
type Candidate struct {
	// Name is the strategy's name in the target's policy, under which its
	// recommendations are recorded. Required; an HPA strategy's own
	// (HPA.Name), or Decide reports the candidate as failed.
	Name string
	// Strategy is the strategy. Required.
	Strategy Strategy
}

// Decision is the engine's choice for one target at one time.
type Decision struct {
	// Target is the target decided for.
	Target Target `json:"target"`
	// Now is the time of the decision.
	Now time.Time `json:"now"`
	// Chosen is the recommendation carried out (bounded by the target's
	// Min and Max).
	Chosen Recommendation `json:"chosen"`
	// Pinned reports whether the strategy was pinned rather than chosen by
	// fitness.
	Pinned bool `json:"pinned"`
	// Considered are every strategy's recommendations, in policy order
	// (failed ones carry their error in Reason with fitness 0).
	Considered []Recommendation `json:"considered"`
	// Change reports whether Chosen differs from the current capacity or
	// size.
	Change bool `json:"change"`
}

// Decide asks every candidate for a recommendation on s and picks the one
// carried out: the pinned one when pinned is set, else the fittest (the
// first in order on a tie). A pinned name that names no candidate is an
// error matching ErrNoStrategy and provider.ErrInvalid (field "pinned"),
// and no strategy is asked. The chosen recommendation's
// desired capacity is kept within the target's Min and Max (and the
// group's own bounds, unless the recommendation sets them). Every
// recommendation is recorded in the target's history. A strategy that
// fails is reported in Considered and skipped; when none recommends,
// Decide returns an error matching ErrNoStrategy (and the failures). When
// s.History is empty, the strategies read the target's History as the
// engine keeps it (the recommendations and changes it recorded), as the
// Autoscaler's do; a host that keeps the History itself passes it in s.
// It reads no clock: s.Now is the time. A State without its Now or its
// Target.ID (both required), or a group's Target without bounds (Min ≥ 0,
// Max ≥ 1 and ≥ Min: the recommendation is kept within them, and a Max
// left out would take the group to zero), is an error matching
// provider.ErrInvalid naming the field; no strategy is asked.
func (e *Engine) Decide(ctx context.Context, s State, candidates []Candidate, pinned string) (Decision, error) {
	var d Decision
	switch {
	case s.Now.IsZero():
		return d, fmt.Errorf("scaling: decide %s: %w", s.Target.ID, provider.Invalid("now", s.Now, "is required: the time of the decision"))
	case s.Target.ID == "":
		return d, fmt.Errorf("scaling: decide: %w", provider.Invalid("target.id", "", "is required: the target's History is kept by it"))
	case s.Target.horizontal() && s.Target.Min < 0:
		return d, fmt.Errorf("scaling: decide %s: %w", s.Target.ID, provider.Invalid("target.min", s.Target.Min, "must be ≥ 0"))
	case s.Target.horizontal() && (s.Target.Max < 1 || s.Target.Max < s.Target.Min):
		// Every recommendation is kept within [Min, Max]: a Max left
		// out (0) would scale the group to zero.
		return d, fmt.Errorf("scaling: decide %s: %w", s.Target.ID, provider.Invalid("target.max", s.Target.Max, fmt.Sprintf("must be ≥ 1 and ≥ min %d (a policy's max of 0 means DefaultMax; a Target's is the bound itself)", s.Target.Min)))
	}
	c, gen := e.cell(s.Target.ID), int64(-1)
	if len(s.History.Recommendations) == 0 && len(s.History.Changes) == 0 {
		s.History, gen = c.view()
	}
	err := e.decide(ctx, &s, candidates, pinned, c, gen, nil, nil, &d)
	return d, err
}

// decide is Decide recording into the target's history cell c (s.History
// is c's view of generation gen, ended here; −1: not a view), with
// room for the recommendations in considered (appended to from its
// start; nil: a new slice), with the working space of a batch bs (nil:
// none) lent to the built-in strategies, writing the decision into *d (in
// place: the Autoscaler's decisions are an array of a batch).
func (e *Engine) decide(ctx context.Context, s *State, candidates []Candidate, pinned string, c *historyCell, gen int64, considered []Recommendation, bs *decideScratch, d *Decision) error {
	*d = Decision{} // then set by field: see stateOf
	d.Target, d.Now = s.Target, s.Now
	if len(candidates) == 0 {
		c.unview(gen)
		return fmt.Errorf("scaling: decide %s: %w: no strategy configured", s.Target.ID, ErrNoStrategy)
	}
	if pinned != "" && !slices.ContainsFunc(candidates, func(c Candidate) bool { return c.Name == pinned }) {
		c.unview(gen)
		return fmt.Errorf("scaling: decide %s: %w: %w", s.Target.ID, ErrNoStrategy, provider.Invalid("pinned", pinned, "names no candidate"))
	}
	var errs []error
	best := -1
	d.Considered = considered[:0]
	if cap(considered) < len(candidates) {
		d.Considered = make([]Recommendation, 0, len(candidates))
	}
	var failed failures
	for i := range candidates {
		c := &candidates[i]
		// The built-in strategies that read the State through a pointer
		// are called so, sparing a copy of the State (496 bytes) a
		// decision; their recommend must not change *s
		// (TestRecommendLeavesStateAlone). The exact types are matched,
		// not an interface: a host's type that embeds one of them and
		// overrides Recommend gets its own Recommend
		// (TestEmbeddedStrategyOverride).
		var rec Recommendation
		var err error
		switch b := c.Strategy.(type) {
		case *HPA:
			if b.name != c.Name {
				// It would not find its own recommendations in the
				// History: no stabilization, silently.
				err = provider.Invalid("name", c.Name, fmt.Sprintf("the HPA strategy is named %q (NewHPA's name) and finds its recommendations in the History by it: name its candidate so", b.name))
				break
			}
			rec, err = b.recommend(ctx, s, bs)
		case *TargetValue:
			rec, err = b.recommend(ctx, s, bs)
		default:
			rec, err = c.Strategy.Recommend(ctx, *s)
		}
		if err == nil && s.Target.horizontal() && rec.Capacity == (provider.CapacitySpec{}) {
			// No capacity recommended (a host's strategy that returned
			// the zero Recommendation): the current one is kept, as a
			// zero Size keeps a vertical target's size. Read as 0/0/0 it
			// sent the group to the policy's minimum and its max there.
			rec.Capacity, rec.Proposal = s.Target.Capacity.CapacitySpec, s.Target.Capacity.Desired
		}
		if err == nil {
			err = rec.validate(&s.Target)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.Name, err))
			d.Considered = append(d.Considered, Recommendation{Strategy: c.Name, Reason: "failed: " + err.Error()})
			failed.add(i)
			continue
		}
		rec.Strategy = c.Name
		d.Considered = append(d.Considered, rec)
		switch {
		case pinned != "":
			if c.Name == pinned {
				best, d.Pinned = i, true
			}
		case best < 0 || rec.Fitness > d.Considered[best].Fitness:
			best = i
		}
	}
	e.recordRecommendations(c, gen, &s.Target, s.Now, candidates, pinned, d.Considered, &failed, ctx.Err() != nil)
	if best < 0 {
		errs = append([]error{ErrNoStrategy}, errs...)
		return fmt.Errorf("scaling: decide %s: %w", s.Target.ID, errors.Join(errs...))
	}
	d.Chosen = d.Considered[best]
	bound(&s.Target, &d.Chosen)
	if s.Target.horizontal() {
		d.Change = d.Chosen.Capacity != s.Target.Capacity.CapacitySpec
	} else {
		d.Change = !d.Chosen.Size.IsZero() && d.Chosen.Size != s.Target.Resource.Size
	}
	return nil
}

// bound keeps a group's recommended desired capacity (of *r) within the
// target's Min and Max; the policy's bounds win over a recommendation's
// own.
func bound(t *Target, r *Recommendation) {
	if !t.horizontal() {
		return
	}
	c := r.Capacity
	c.Desired = clampInt(c.Desired, t.Min, t.Max)
	c.Desired = clampInt(c.Desired, c.Min, c.Max)
	c.Desired = clampInt(c.Desired, t.Min, t.Max)
	c.Min = min(c.Min, c.Desired)
	c.Max = max(c.Max, c.Desired)
	if c.Desired != r.Capacity.Desired {
		r.Reason += fmt.Sprintf(" (bounded to %d by the policy's [%d, %d])", c.Desired, t.Min, t.Max)
	}
	r.Capacity = c
}

// PlanOptions are a target's settings that shape its plans.
type PlanOptions struct {
	// Verify is the target's verification; zero fields take the engine's
	// defaults.
	Verify VerifyConfig
	// InstanceHourlyCost is the price per hour of one unit of a group's
	// desired capacity (one instance, or one capacity unit of a group
	// that counts in them, as provider.Capacity does); 0 derives it from
	// the resource's HourlyCost (the whole group's) divided by its
	// Capacity.Current.
	InstanceHourlyCost float64
	// CostPerHour is the change of cost per hour of a resize, when the
	// strategy knows it (the vertical strategy's catalogue).
	CostPerHour float64
}

// Plan makes the plan that carries out d: gradual steps, the rollback
// plan, the monitoring plan, the expected duration and the cost impact.
// It returns a plan with no steps when d changes nothing. It reads no
// clock: d.Now is the plan's time.
func (e *Engine) Plan(d Decision, opts PlanOptions) Plan {
	var p Plan
	e.plan(&d, opts, &p, nil, nil)
	return p
}

// plan is Plan writing into *p. With arena, a group's steps take their
// room from it (the Autoscaler's plans of a batch, whose arena is reused
// from batch to batch); without, they are allocated. With ids, the plan's
// ID is carved from it.
func (e *Engine) plan(d *Decision, opts PlanOptions, p *Plan, arena *[]PlanStep, ids *stringSlab) {
	t := &d.Target
	*p = Plan{} // then set by field: see Autoscaler.stateOf
	p.Target, p.Strategy, p.Reason, p.CreatedAt = *t, d.Chosen.Strategy, d.Chosen.Reason, d.Now
	mon := MonitoringPlan{Window: opts.Verify.Window, Timeout: opts.Verify.Timeout}
	if mon.Window == 0 {
		mon.Window = e.cfg.VerifyWindow
	}
	if mon.Timeout == 0 {
		mon.Timeout = e.cfg.VerifyTimeout
	}
	if t.horizontal() {
		p.From, p.To = t.Capacity.CapacitySpec, d.Chosen.Capacity
		// The steps and the rollback in one allocation.
		n, r := countSteps(p.From, p.To, e.maxStep), countSteps(p.To, p.From, e.maxStep)
		var steps []PlanStep
		switch a := arena; {
		case a == nil:
			steps = make([]PlanStep, 0, n+r)
		case cap(*a)-len(*a) < n+r:
			*a = make([]PlanStep, 0, max(2*cap(*a), n+r, 64)) // the plans made so far keep the old array
			fallthrough
		default:
			k := len(*a)
			*a = (*a)[:k+n+r]
			steps = (*a)[k:k]
		}
		p.Steps = appendSteps(steps[:0:n], p.From, p.To, e.maxStep)
		p.Rollback = appendSteps(steps[n:n:n+r], p.To, p.From, e.maxStep)
		perInstance := opts.InstanceHourlyCost
		if perInstance == 0 && t.Resource.HourlyCost > 0 && t.Capacity.Current > 0 {
			perInstance = t.Resource.HourlyCost / float64(t.Capacity.Current)
		}
		p.CostPerHour = float64(p.To.Desired-p.From.Desired) * perInstance
	} else if d.Change {
		p.FromSize, p.ToSize = t.Resource.Size, d.Chosen.Size
		p.Steps = []PlanStep{{Index: 1, Action: safety.ActionResize, FromSize: p.FromSize, ToSize: p.ToSize}}
		p.Rollback = []PlanStep{{Index: 1, Action: safety.ActionResize, FromSize: p.ToSize, ToSize: p.FromSize}}
		p.CostPerHour = opts.CostPerHour
	}
	switch {
	case len(p.Steps) == 0:
	case p.Steps[0].Action == safety.ActionScaleOut:
		mon.Signals = opts.Verify.ScaleOutSignals
	case len(opts.Verify.Signals) > 0:
		mon.Signals = opts.Verify.Signals
	case t.Resource.Kind == provider.KindFunction:
	default:
		mon.Signals = defaultScaleInSignals()
	}
	p.Monitoring = mon
	p.ExpectedDuration = time.Duration(len(p.Steps)) * (e.cfg.SettleEstimate + mon.Window)
	p.ID = planID(ids, t.ID, d.Now, p.From, p.To, p.FromSize, p.ToSize, p.Strategy)
	if math.IsNaN(p.CostPerHour) || math.IsInf(p.CostPerHour, 0) {
		p.CostPerHour = 0
	}
}

// clone returns a copy of p that shares no steps with it.
func (p Plan) clone() Plan {
	steps := make([]PlanStep, 0, len(p.Steps)+len(p.Rollback))
	steps = append(steps, p.Steps...)
	p.Steps = steps[:len(p.Steps):len(p.Steps)]
	p.Rollback = append(steps[len(p.Steps):], p.Rollback...)
	return p
}

// proposal is the safety proposal of a plan step.
func (e *Engine) proposal(p Plan, s PlanStep, now time.Time) safety.Proposal {
	return safety.Proposal{
		ID:          fmt.Sprintf("%s/%d", p.ID, s.Index),
		Action:      s.Action,
		Resource:    p.Target.Resource,
		Current:     s.From,
		Target:      s.To,
		CurrentSize: s.FromSize,
		TargetSize:  s.ToSize,
		Requester:   e.cfg.Requester,
		Source:      p.ID,
		Reason:      p.Reason,
		Now:         now,
	}
}

// Preview decides every step of p with the gate's side-effect-free
// Evaluate, as of now, and reports the decisions: a dry run that changes
// nothing and reserves no budget. It returns one decision per step, in
// order: a step the gate would refuse is a decision that is not Allowed,
// not an error. The error is the first failure of the gate (see Gate), a
// *StepError at StageSafety.
func (e *Engine) Preview(ctx context.Context, p Plan, now time.Time) ([]safety.Decision, error) {
	var (
		out   []safety.Decision
		first error
	)
	for _, s := range p.Steps {
		d, err := e.gate.Evaluate(ctx, e.proposal(p, s, now))
		out = append(out, d)
		var failure error
		if safety.IsFailure(d, err) {
			failure = &StepError{PlanID: p.ID, Step: s.Index, Stage: StageSafety, Err: err}
		}
		ev := Event{Time: now, Kind: EventPreviewed, Target: p.Target.ID, PlanID: p.ID, Step: s.Index, Strategy: p.Strategy,
			From: s.From, To: s.To, FromSize: s.FromSize, ToSize: s.ToSize, Reason: d.Summary(), Err: failure}
		e.emit(ev)
		if failure != nil && first == nil {
			first = failure
		}
	}
	return out, first
}

// emit sends ev to the observer.
func (e *Engine) emit(ev Event) {
	if e.observer != nil {
		e.observer.Observe(ev)
	}
}

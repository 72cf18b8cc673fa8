package alert

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/internal/check"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// Alert is one alert: a rule firing for a resource, and later resolved. It
// is a plain value; notifications carry a copy as it was at the
// transition.
type Alert struct {
	// ID identifies the alert: the rule's name and the resource
	// ("idle_found/i-0c6585a"); for events about no resource, the rule's
	// name and the events' Actor ("run_failed@volumes": a reaper named by
	// monitor.WithObserverActor), or the rule's name alone when they name
	// none. It is unique: the rule's name has neither "/" nor "@" (the
	// resource and the actor may), so the first of them in the ID ends
	// the rule's name, and which it is says what follows: "/" the
	// resource, "@" the actor ("run_failed@team/volumes" is the actor
	// "team/volumes").
	ID string `json:"id"`
	// Rule is the rule's name.
	Rule string `json:"rule"`
	// Severity is the rule's severity.
	Severity Severity `json:"severity"`
	// State is firing or resolved.
	State State `json:"state"`
	// ResourceID is the resource concerned; empty for none.
	ResourceID string `json:"resource_id,omitempty"`
	// Actor is, for an alert about no resource, the Actor of its events
	// (the reaper whose runs failed); empty otherwise.
	Actor string `json:"actor,omitempty"`
	// Summary is the rule's summary.
	Summary string `json:"summary"`
	// Reason is the latest matching event's reason, or the metric's value
	// against the threshold.
	Reason string `json:"reason,omitempty"`
	// Value is the metric's value (metric rules), or the latest event's
	// confidence or value.
	Value float64 `json:"value,omitempty"`
	// Count is how many times the rule matched while the alert fired.
	Count int `json:"count"`
	// StartsAt is when it started firing.
	StartsAt time.Time `json:"starts_at"`
	// LastSeen is when the rule last matched.
	LastSeen time.Time `json:"last_seen"`
	// EndsAt is when it resolved; zero while firing.
	EndsAt time.Time `json:"ends_at,omitzero"`
}

// String describes the alert on one line: "[warning] firing
// safety_block/i-1: action blocked by the safety gate: backup: ...".
func (a Alert) String() string {
	s := fmt.Sprintf("[%s] %s %s: %s", a.Severity, a.State, a.ID, a.Summary)
	if a.Reason != "" {
		s += ": " + a.Reason
	}
	return s
}

// Notifier delivers alert notifications: one call when an alert starts
// firing and one when it resolves (Alert.State says which). The Alerter
// calls Notify from Deliver (or Run), one call at a time per notifier, in
// the order of the transitions. An error means not delivered: the
// notification stays pending and the next Deliver tries again, so Notify
// should be idempotent for the same alert and state; an error that
// matches ErrRejected means refused for good: the notification is
// dropped and the next one is sent. It must honour ctx,
// start no goroutine that outlives the call, and not retain a.
type Notifier interface {
	Notify(ctx context.Context, a Alert) error
}

// NotifierFunc adapts a function to a Notifier.
type NotifierFunc func(ctx context.Context, a Alert) error

// Notify calls f(ctx, a).
func (f NotifierFunc) Notify(ctx context.Context, a Alert) error { return f(ctx, a) }

var _ Notifier = NotifierFunc(nil)

// Fleet is what metric rules read: the resources and their metrics. A
// provider driver usually fills both (provider/memory does).
type Fleet struct {
	// Inventory lists the resources a rule's Filter selects.
	Inventory provider.Inventory
	// Metrics reads their metrics.
	Metrics provider.MetricsSource
}

// The Config defaults.
const (
	DefaultInterval     = time.Minute
	DefaultMaxPending   = 1000
	DefaultKeepResolved = 100
)

// Config configures an Alerter, as a host loads it from JSON or YAML. The
// zero value means the defaults.
type Config struct {
	// Rules are the alerting rules. Empty means the default:
	// DefaultRules(). To add to them, append to DefaultRules().
	Rules []Rule `json:"rules,omitempty" yaml:"rules,omitempty"`
	// Interval is how often Run evaluates the metric rules and the quiet
	// periods, and retries notifications that failed; it bounds each
	// notifier's delivery. Must be ≥ 0. Default (0): 1m.
	Interval time.Duration `json:"interval,omitempty" yaml:"interval,omitempty"`
	// MaxPending is how many notifications wait per notifier while it
	// fails; beyond it the oldest are dropped and reported (ErrDropped).
	// Must be ≥ 0. Default (0): 1000.
	MaxPending int `json:"max_pending,omitempty" yaml:"max_pending,omitempty"`
	// KeepResolved is how many resolved alerts Alerts keeps, newest
	// first. Must be ≥ 0. Default (0): 100.
	KeepResolved int `json:"keep_resolved,omitempty" yaml:"keep_resolved,omitempty"`
}

// Validate returns a *provider.InvalidError naming the first wrong field
// ("rules[2].match.kinds", "interval").
func (c Config) Validate() error {
	names := map[string]bool{}
	for i, r := range c.Rules {
		field := "rules[" + strconv.Itoa(i) + "]"
		if err := r.Validate(); err != nil {
			return provider.Within(field, err)
		}
		if names[r.Name] {
			return provider.Invalid(field+".name", r.Name, "is repeated")
		}
		names[r.Name] = true
	}
	switch {
	case c.Interval < 0:
		return provider.Invalid("interval", c.Interval, "must be ≥ 0; 0 means the default 1m")
	case c.MaxPending < 0:
		return provider.Invalid("max_pending", c.MaxPending, "must be ≥ 0; 0 means the default 1000")
	case c.KeepResolved < 0:
		return provider.Invalid("keep_resolved", c.KeepResolved, "must be ≥ 0; 0 means the default 100")
	}
	return nil
}

func (c Config) withDefaults() Config {
	if len(c.Rules) == 0 {
		c.Rules = DefaultRules()
	}
	c.Rules = slices.Clone(c.Rules)
	for i := range c.Rules {
		c.Rules[i] = c.Rules[i].withDefaults()
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.MaxPending == 0 {
		c.MaxPending = DefaultMaxPending
	}
	if c.KeepResolved == 0 {
		c.KeepResolved = DefaultKeepResolved
	}
	return c
}

// Option wires a collaborator into an Alerter.
type Option func(*Alerter)

// WithNotifier sends every notification to n, under name (for errors and
// Stats). Notifiers are called in the order they were added. New refuses
// a nil n and repeated names.
func WithNotifier(name string, n Notifier) Option {
	return func(a *Alerter) { a.notifiers = append(a.notifiers, &outbox{name: name, n: n}) }
}

// WithFleet sets what metric rules read. Without it New refuses metric
// rules in Config.Rules and leaves the default one (high_cpu) out.
// Default: none.
func WithFleet(f Fleet) Option { return func(a *Alerter) { a.fleet = f } }

// WithClock sets the clock Run reads and waits on. Default: the real
// clock; nil means the default. New refuses a nil pointer (a nil
// *clock.Mock).
func WithClock(c clock.Clock) Option { return func(a *Alerter) { a.clock = c } }

// WithLogger sets the logger. Default: discard.
func WithLogger(l *slog.Logger) Option { return func(a *Alerter) { a.log = l } }

// Alerter evaluates alerting rules over events (it is a monitor.Sink: add
// it to the Log with monitor.WithSink) and over metrics (Evaluate),
// deduplicates and resolves alerts, and delivers notifications to its
// notifiers (Deliver, or Run). A notifier that fails keeps its
// notifications pending; the others still receive theirs. An Alerter is
// safe for concurrent use. Make one with New.
type Alerter struct {
	cfg       Config
	fleet     Fleet
	clock     clock.Clock
	log       *slog.Logger
	notifiers []*outbox

	mu        sync.Mutex
	firing    map[alertKey]*Alert
	lastMatch map[alertKey]string // kind, action, strategy and time of the last matching event
	// open is, for each firing event alert, the strategies its matches
	// named (monitor.Event.Strategy; "" for none), as acts: a resolving
	// event that names one resolves the alert only once none is left.
	open map[alertKey]map[string]actState
	// acts is, for each firing alert of a PerAction rule, the actions its
	// matches named (monitor.Event.Action; "" for none): whether a
	// resolving event of their own has yet to resolve them, their latest
	// match's time and the time of the resolving event that did.
	acts map[alertKey]map[safety.Action]actState
	// resolvedAt is, for each alert that resolved, the time a match must
	// be after to re-open it (see resolve): one at or before it is a late
	// event. It holds at most resolvedCap(); the oldest are forgotten
	// first.
	resolvedAt map[alertKey]time.Time
	resolved   []Alert // newest last
	wake       chan struct{}
	deliver    sync.Mutex // serialises Deliver
	// evaluating serialises Evaluate (a semaphore, so that a call waiting
	// for its turn honours its ctx): an evaluation reads the fleet without
	// a.mu, and one that read earlier must not apply its reading after a
	// later one's.
	evaluating chan struct{}
	// evaluatedAt is the now of the latest evaluation (held by the one
	// whose turn it is): one that waited for its turn with an earlier
	// now is older than a reading applied meanwhile.
	evaluatedAt time.Time
}

type outbox struct {
	name     string
	n        Notifier
	seq      uint64 // of the last notification queued
	pending  []queued
	dropped  int // since the last Deliver
	sent     int
	failed   int
	rejected int
	lastErr  error
}

// queued is a notification in an outbox, numbered so that Deliver removes
// exactly what it sent even when the outbox overflowed meanwhile.
type queued struct {
	seq   uint64
	alert Alert
}

var _ monitor.Sink = (*Alerter)(nil)

// New returns an Alerter for cfg. It returns a *provider.InvalidError
// naming the field when cfg is invalid, a notifier is nil or repeated, or
// the fleet has one of its fields and not the other. It starts no
// goroutine.
func New(cfg Config, opts ...Option) (*Alerter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &Alerter{cfg: cfg.withDefaults(), firing: map[alertKey]*Alert{}, lastMatch: map[alertKey]string{}, open: map[alertKey]map[string]actState{},
		acts: map[alertKey]map[safety.Action]actState{}, resolvedAt: map[alertKey]time.Time{}, wake: make(chan struct{}, 1), evaluating: make(chan struct{}, 1)}
	for _, o := range opts {
		o(a)
	}
	seen := map[string]bool{}
	for i, n := range a.notifiers {
		field := "notifiers[" + strconv.Itoa(i) + "]"
		switch {
		case check.Nil(n.n):
			return nil, provider.Invalid(field, n.name, "notifier is nil")
		case seen[n.name]:
			return nil, provider.Invalid(field, n.name, "name is repeated")
		}
		seen[n.name] = true
	}
	if check.Nil(a.fleet.Inventory) != check.Nil(a.fleet.Metrics) {
		return nil, provider.Invalid("fleet", nil, "needs both an inventory and a metrics source")
	}
	if check.Nil(a.fleet.Inventory) {
		// The default metric rule (high_cpu) needs a fleet; without one it
		// is left out. A metric rule the host configured is an error.
		for i, r := range cfg.Rules {
			if r.IsMetric() {
				return nil, provider.Invalid("rules["+strconv.Itoa(i)+"]", r.Name, "is a metric rule: WithFleet is required")
			}
		}
		a.cfg.Rules = slices.DeleteFunc(a.cfg.Rules, Rule.IsMetric)
	}
	switch {
	case a.clock == nil:
		a.clock = clock.Real{}
	case check.Nil(a.clock): // a nil *clock.Mock: not the default, and would panic
		return nil, provider.Invalid("clock", fmt.Sprintf("%T", a.clock), "must not be a nil pointer")
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	return a, nil
}

// Config returns the configuration with defaults filled in.
func (a *Alerter) Config() Config {
	c := a.cfg
	c.Rules = slices.Clone(c.Rules)
	return c
}

// Write evaluates the event rules over evs, in order, at each event's time:
// a match opens an alert (or counts on the firing one; an event of the
// same kind, action and time as the last match, such as one decision
// recorded by both the reaper and the engine's auditor, is not counted
// again), a resolve match resolves it. A match dated at or before the
// alert's resolving event (or, when it resolved because nothing matched
// for ResolveAfter, at or before its last match) is a late event and is
// ignored: it does not re-open the resolved alert. A match recorded as
// history (monitor.WithBackfill: an audit trail imported from its start)
// and already quiet for its rule's ResolveAfter on the Alerter's clock
// opens no alert, as the next evaluation would resolve it: it is logged,
// not notified; it still counts on a firing alert. A match recorded live
// opens one however old its time. The Alerter remembers the latest resolutions of at
// least 1000 alerts (or Config.KeepResolved, if more) for this; a late
// event for an alert resolved before those may re-open it. Transitions
// are queued for the notifiers. Write never fails; it implements
// monitor.Sink.
func (a *Alerter) Write(ctx context.Context, evs []monitor.Event) error {
	var now time.Time // of a backfill: what its matches are old against
	if monitor.IsBackfill(ctx) {
		now = a.clock.Now()
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	changed := false
	for _, e := range evs {
		for _, r := range a.cfg.Rules {
			if r.IsMetric() {
				continue
			}
			k := eventKey(r.Name, e)
			if r.Match.Matches(e) {
				if a.stale(k, e.Time) {
					continue // already resolved after it happened
				}
				if _, ok := a.firing[k]; !ok && over(r, e.Time, now) {
					// History quiet for ResolveAfter already (an old
					// audit trail imported): the next evaluation would
					// resolve it, a page and a resolution for something
					// over.
					a.log.Info("alert: backfilled match older than the rule's quiet time, not fired",
						"alert", k.id(), "time", e.Time, "now", now)
					continue
				}
				// One decision recorded twice (by the reaper and by the
				// engine's auditor) is one match, whatever zone or
				// monotonic reading each copy's time carries; two
				// strategies of a target falling back at once are two.
				m := string(e.Kind) + "|" + string(e.Action) + "|" + e.Strategy + "|" + e.Time.UTC().Format(time.RFC3339Nano)
				if cur, ok := a.firing[k]; ok && a.lastMatch[k] == m && cur.LastSeen.Equal(e.Time) {
					continue
				}
				a.lastMatch[k] = m
				changed = a.fire(r, k, e.Time, e.Reason, eventValue(e)) || changed
				if _, ok := a.firing[k]; ok {
					if a.open[k] == nil {
						a.open[k] = map[string]actState{}
					}
					a.open[k][e.Strategy] = a.open[k][e.Strategy].match(e.Time)
					if r.PerAction {
						if a.acts[k] == nil {
							a.acts[k] = map[safety.Action]actState{}
						}
						a.acts[k][e.Action] = a.acts[k][e.Action].match(e.Time)
					}
				}
				continue
			}
			if cur, ok := a.firing[k]; ok && matchesAny(r.Resolve, e) {
				acts, strategies := a.acts[k], a.open[k]
				perAction := r.PerAction && e.Action != "" && len(acts) > 0
				perStrategy := e.Strategy != "" && len(strategies) > 0
				if !perAction && !perStrategy && e.Time.Before(cur.LastSeen) {
					continue // a late resolving event: a match came after it
				}
				at := e.Time
				// A resolving event of one action (a scale_out executed)
				// says nothing of another the matches named (a blocked
				// scale_in), and a strategy's recovery nothing of another
				// strategy of the resource that fell back: the alert
				// resolves once each has had its own, after that one's
				// latest match (not the latest of any: a pass of the stop
				// recorded after a later block of the terminate still
				// resolves the stop).
				if perAction {
					hit, open, last := passOwn(acts, e.Action, e.Time)
					if !hit || open {
						continue
					}
					at = later(at, last)
				}
				if perStrategy {
					hit, open, last := passOwn(strategies, e.Strategy, e.Time)
					if !hit || open {
						continue
					}
					at = later(at, last)
				}
				a.resolve(cur, at, at, e.Reason)
				changed = true
			}
		}
	}
	if changed {
		a.poke()
	}
	return nil
}

// actState is one action of a PerAction alert (see Alerter.acts) or one
// strategy of an alert (see Alerter.open).
type actState struct {
	open   bool      // a match named it and no resolving event of its own came after it
	last   time.Time // its latest match
	passed time.Time // the latest resolving event of its own that resolved it
}

// passOwn resolves the part of an alert that a resolving event at at
// naming own resolves (own's, and that of a match that named none, ""),
// when it is open and its latest match is not after at (one already
// resolved takes at as its latest resolving event). It reports
// whether it resolved one, whether a part is still open, and when the
// last part was resolved.
func passOwn[K comparable](parts map[K]actState, own K, at time.Time) (hit, open bool, last time.Time) {
	var none K
	for _, p := range []K{own, none} {
		if st, ok := parts[p]; ok && !at.Before(st.last) {
			// A part already resolved keeps the time of its latest
			// resolving event: a match dated before it is late.
			hit = hit || st.open
			parts[p] = st.pass(at)
		}
	}
	for _, st := range parts {
		open = open || st.open
		last = later(last, st.passed)
	}
	return hit, open, last
}

func later(a, b time.Time) time.Time {
	if a.Before(b) {
		return b
	}
	return a
}

// match is st after a match at at. A match dated at or before the
// part's resolving event is late: it counts on the alert (Write) but
// does not open the part again.
func (st actState) match(at time.Time) actState {
	if !st.passed.IsZero() && !at.After(st.passed) {
		return st
	}
	st.open = true
	if at.After(st.last) {
		st.last = at
	}
	return st
}

// pass is st resolved by a resolving event of its own at at.
func (st actState) pass(at time.Time) actState {
	st.open = false
	if at.After(st.passed) {
		st.passed = at
	}
	return st
}

// Evaluate evaluates the metric rules at now and resolves firing alerts
// whose rule has been quiet for its ResolveAfter. A metric rule's firing
// alert whose resource its Filter no longer lists (stopped, terminated)
// is resolved with the reason "no longer listed by the rule's filter".
// Errors reading the fleet are joined and returned; the other resources
// and rules are still evaluated, a rule whose resources could not be
// listed keeps its alerts as they are, and a listed resource whose metric
// could not be read, was not finite (an error) or has no data keeps its
// alert as it is. A value above the threshold fires even when now is
// before an earlier resolution (a clock that went back): an evaluation is
// never a late event. Calls are serialised: one waits for the one under
// way, so that a reading never overrides a later one's (an evaluation
// that read a high value does not re-open the alert that a later one,
// reading it low, resolved meanwhile); one that waited and whose now is
// before the now of an evaluation made meanwhile is older than its
// reading and evaluates nothing (it returns nil). When ctx ends while
// it waits, Evaluate returns an error matching ctx.Err() and evaluates
// nothing.
func (a *Alerter) Evaluate(ctx context.Context, now time.Time) error {
	if now.IsZero() {
		return provider.Invalid("now", now, "is required")
	}
	waited, err := a.turn(ctx)
	if err != nil {
		return err
	}
	defer func() { <-a.evaluating }()
	if waited && now.Before(a.evaluatedAt) {
		// A newer evaluation ran while this one waited: its reading
		// stands.
		a.log.Debug("alert: evaluation older than the one made while it waited, skipped",
			"now", now, "evaluated", a.evaluatedAt)
		return nil
	}
	a.evaluatedAt = now
	var errs []error
	for _, r := range a.cfg.Rules {
		if !r.IsMetric() {
			continue
		}
		if err := a.evalMetric(ctx, r, now); err != nil {
			errs = append(errs, err)
		}
	}
	a.mu.Lock()
	changed := false
	for _, r := range a.cfg.Rules {
		if r.ResolveAfter <= 0 {
			continue
		}
		for _, cur := range a.firing {
			if cur.Rule == r.Name && now.Sub(cur.LastSeen) >= r.ResolveAfter {
				a.resolve(cur, now, cur.LastSeen, "quiet for "+r.ResolveAfter.String())
				changed = true
			}
		}
	}
	if changed {
		a.poke()
	}
	a.mu.Unlock()
	return errors.Join(errs...)
}

// turn waits for Evaluate's turn (see evaluating) or for ctx to end; it
// reports whether it waited. A free turn is taken whatever ctx, as
// before an evaluation waited.
func (a *Alerter) turn(ctx context.Context) (waited bool, err error) {
	select {
	case a.evaluating <- struct{}{}:
		return false, nil
	default:
	}
	select {
	case a.evaluating <- struct{}{}:
		return true, nil
	case <-ctx.Done():
		return true, fmt.Errorf("alert: evaluate: %w", ctx.Err())
	}
}

// evalMetric reads r's metric for every resource r selects and fires or
// resolves its alerts.
func (a *Alerter) evalMetric(ctx context.Context, r Rule, now time.Time) error {
	resources, err := a.fleet.Inventory.List(ctx, r.Filter)
	if err != nil {
		return fmt.Errorf("alert: rule %s: list resources: %w", r.Name, err)
	}
	// A firing alert whose resource the Filter no longer selects (stopped,
	// terminated) would never be evaluated again: resolve it.
	listed := make(map[string]bool, len(resources))
	for _, res := range resources {
		listed[res.ID] = true
	}
	a.mu.Lock()
	for k, cur := range a.firing {
		if k.rule == r.Name && !listed[k.resource] {
			a.resolve(cur, now, cur.LastSeen, "no longer listed by the rule's filter")
			a.poke()
		}
	}
	a.mu.Unlock()
	var errs []error
	for _, res := range resources {
		s, err := a.fleet.Metrics.QueryMetric(ctx, provider.Query{ResourceID: res.ID, Metric: r.Metric,
			Start: now.Add(-r.For), End: now, Step: r.For, Statistic: r.Statistic})
		if err != nil {
			errs = append(errs, fmt.Errorf("alert: rule %s: %s: %w", r.Name, res.ID, err))
			continue
		}
		_, v, ok := s.Last()
		if !ok || provider.IsGap(v) {
			continue // no data: unknown, neither firing nor healthy
		}
		if math.IsInf(v, 0) {
			errs = append(errs, fmt.Errorf("alert: rule %s: %s: %w", r.Name, res.ID,
				provider.Invalid(string(r.Metric), v, "the metrics source answered a value that is not finite")))
			continue // as unreadable: the alert stays as it is
		}
		k := alertKey{rule: r.Name, resource: res.ID}
		reason := fmt.Sprintf("%s %s %.3g over %s (threshold %.3g)", r.Metric, r.Statistic, v, r.For, r.Above)
		a.mu.Lock()
		if v > r.Above {
			// The value at now is no late event: a clock that went back
			// since the alert resolved must not keep it from firing.
			delete(a.resolvedAt, k)
			if a.fire(r, k, now, reason, v) {
				a.poke()
			}
		} else if cur, ok := a.firing[k]; ok {
			a.resolve(cur, now, now, reason)
			a.poke()
		}
		a.mu.Unlock()
	}
	return errors.Join(errs...)
}

// fire opens the alert of k or counts on it; it reports whether it opened
// (a transition). a.mu is held.
func (a *Alerter) fire(r Rule, k alertKey, at time.Time, reason string, value float64) bool {
	if a.stale(k, at) {
		return false
	}
	if cur, ok := a.firing[k]; ok {
		cur.Count++
		if at.After(cur.LastSeen) {
			cur.LastSeen = at
		}
		cur.Reason, cur.Value = reason, value
		return false
	}
	id := k.id()
	al := &Alert{ID: id, Rule: r.Name, Severity: r.Severity, State: StateFiring, ResourceID: k.resource, Actor: k.actor,
		Summary: r.Summary, Reason: reason, Value: value, Count: 1, StartsAt: at, LastSeen: at}
	a.firing[k] = al
	a.queue(*al)
	a.log.Info("alert: firing", "alert", id, "severity", r.Severity, "reason", reason)
	return true
}

// resolve closes a firing alert at at. A later match dated at or before
// staleUntil is a late event that must not re-open it: the resolving
// event's time, or, for an alert resolved because nothing matched for a
// while, the last match it saw (an event that happened after it is new,
// however late it arrives). a.mu is held.
func (a *Alerter) resolve(cur *Alert, at, staleUntil time.Time, reason string) {
	k := alertKey{rule: cur.Rule, resource: cur.ResourceID, actor: cur.Actor}
	delete(a.firing, k)
	delete(a.lastMatch, k)
	delete(a.open, k)
	delete(a.acts, k)
	a.resolvedAt[k] = staleUntil
	if limit := a.resolvedCap(); len(a.resolvedAt) > limit {
		// Forget the oldest resolutions, a quarter at a time so that the
		// sort is rare; by count, so that equal times forget no more.
		keys := make([]alertKey, 0, len(a.resolvedAt))
		for key := range a.resolvedAt {
			if key != k {
				keys = append(keys, key)
			}
		}
		slices.SortFunc(keys, func(x, y alertKey) int { return a.resolvedAt[x].Compare(a.resolvedAt[y]) })
		for _, key := range keys[:len(a.resolvedAt)-limit*3/4] {
			delete(a.resolvedAt, key)
		}
	}
	cur.State, cur.EndsAt = StateResolved, at
	if reason != "" {
		cur.Reason = reason
	}
	a.resolved = append(a.resolved, *cur)
	if over := len(a.resolved) - a.cfg.KeepResolved; over > 0 {
		a.resolved = slices.Delete(a.resolved, 0, over)
	}
	a.queue(*cur)
	a.log.Info("alert: resolved", "alert", cur.ID, "reason", reason)
}

// stale reports whether a match at at is at or before the bound the last
// resolution of k's alert set (see resolve): a late event that must not
// re-open it. a.mu is
// held.
func (a *Alerter) stale(k alertKey, at time.Time) bool {
	t, ok := a.resolvedAt[k]
	return ok && !at.After(t)
}

// over reports whether a backfilled match of r at at is quiet for r's
// ResolveAfter already at now (zero for a live match: never): one the
// next evaluation would resolve.
func over(r Rule, at, now time.Time) bool {
	return r.ResolveAfter > 0 && !now.IsZero() && now.Sub(at) >= r.ResolveAfter
}

// minResolvedMemory is the least number of resolutions the Alerter
// remembers to ignore late events (see resolvedAt).
const minResolvedMemory = 1000

func (a *Alerter) resolvedCap() int { return max(a.cfg.KeepResolved, minResolvedMemory) }

// queue adds a notification to every notifier's outbox. a.mu is held.
func (a *Alerter) queue(al Alert) {
	for _, o := range a.notifiers {
		o.seq++
		o.pending = append(o.pending, queued{seq: o.seq, alert: al})
		if over := len(o.pending) - a.cfg.MaxPending; over > 0 {
			o.pending = slices.Delete(o.pending, 0, over)
			o.dropped += over
		}
	}
}

func (a *Alerter) poke() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// Deliver sends every pending notification to its notifier, in order. A
// notifier that fails keeps the failed notification and those after it
// for the next Deliver; the others still receive theirs. A notification
// the notifier refuses for good (its error matches ErrRejected, such as a
// webhook's 4xx) is not kept: it is dropped, logged, counted in the
// notifier's Stats (Rejected, LastError) and reported in the returned
// *NotifyError, and Deliver goes on with the notifier's next one, so that
// one refused notification never holds back the later ones. When ctx
// ends, Deliver calls no notifier again and returns: a notification
// that was not delivered then waits for the next Deliver and is no
// notifier's failure (not in Stats, not logged), and the error matches
// ctx.Err(). It returns the *NotifyErrors joined; nil when everything was
// delivered. Calls are
// serialised; Deliver does not hold the Alerter's lock while notifying,
// so events keep flowing in meanwhile.
func (a *Alerter) Deliver(ctx context.Context) error { return a.deliverEach(ctx, 0) }

// deliverEach is Deliver with each notifier's delivery bounded by each (0:
// unbounded), so that one that hangs leaves the others their time.
func (a *Alerter) deliverEach(ctx context.Context, each time.Duration) error {
	a.deliver.Lock()
	defer a.deliver.Unlock()
	var errs []error
	for _, o := range a.notifiers {
		if err := ctx.Err(); err != nil {
			// Ended (the host stopping Run): no notifier's failure; what
			// is pending waits for the next Deliver.
			errs = append(errs, fmt.Errorf("alert: deliver: %w", err))
			break
		}
		nctx, cancel := ctx, context.CancelFunc(func() {})
		if each > 0 {
			nctx, cancel = context.WithTimeout(ctx, each)
		}
		a.mu.Lock()
		batch := slices.Clone(o.pending)
		a.mu.Unlock()
		sent, last := 0, uint64(0)
		var err error     // the transient failure that stopped the batch
		var refused error // the last permanent refusal (ErrRejected), dropped
		nRefused := 0
		for _, q := range batch {
			if ctx.Err() != nil {
				break // ended: the rest waits, and is no failure
			}
			nerr := o.n.Notify(nctx, q.alert)
			if nerr != nil && errors.Is(nerr, ErrRejected) && nctx.Err() == nil {
				// A permanent refusal: a retry would be refused the same
				// way, and keeping it at the head would hold back every
				// later notification. Drop it and go on.
				refused, nRefused, last = nerr, nRefused+1, q.seq
				a.log.Warn("alert: notifier refused a notification, dropped", "notifier", o.name,
					"alert", q.alert.ID, "state", q.alert.State, "err", nerr)
				continue
			}
			if nerr != nil {
				if ctx.Err() == nil { // not Deliver's context ending
					err = nerr
				}
				break
			}
			sent, last = sent+1, q.seq
		}
		cancel()
		a.mu.Lock()
		// Notifications queued meanwhile were appended after batch, and an
		// overflow may have dropped some of batch: remove by number.
		o.pending = slices.DeleteFunc(o.pending, func(q queued) bool { return q.seq <= last })
		o.sent += sent
		o.rejected += nRefused
		switch {
		case err != nil:
			o.failed++
			o.lastErr = err
			errs = append(errs, &NotifyError{Notifier: o.name, Pending: len(o.pending), Dropped: o.dropped,
				Rejected: nRefused, Err: err})
			a.log.Warn("alert: notifier failed", "notifier", o.name, "pending", len(o.pending), "err", err)
		case refused != nil:
			o.failed++
			o.lastErr = refused
			errs = append(errs, &NotifyError{Notifier: o.name, Pending: len(o.pending), Dropped: o.dropped,
				Rejected: nRefused, Err: refused})
		default:
			if ctx.Err() == nil { // everything was delivered
				o.lastErr = nil
			}
			if o.dropped > 0 {
				errs = append(errs, &NotifyError{Notifier: o.name, Pending: len(o.pending), Dropped: o.dropped,
					Err: ErrDropped})
			}
		}
		o.dropped = 0
		a.mu.Unlock()
	}
	if err := ctx.Err(); err != nil && !slices.ContainsFunc(errs, func(e error) bool { return errors.Is(e, err) }) {
		errs = append(errs, fmt.Errorf("alert: deliver: %w", err))
	}
	return errors.Join(errs...)
}

// Run evaluates the rules (Evaluate) and delivers the notifications
// (Deliver) at once, then every Config.Interval on the clock, and as soon
// as an event causes a transition, until ctx ends. Evaluations and
// deliveries run apart, on Run's goroutine and one it starts and waits
// for: an evaluation is not bounded (a large fleet's metric rules may
// read longer than the interval, one query a resource, and the drivers
// bound their own requests), and an event's notification is delivered
// while it reads. Each notifier's delivery is bounded by the interval, so
// that a notifier that hangs keeps its notifications pending rather than
// holding back the other notifiers' deliveries. That bound is real time,
// whatever the clock (a notifier's requests are real). Errors are logged and the
// loop goes on; notifications that failed are retried after the next
// evaluation. Run returns nil when ctx ends, once its delivery goroutine
// has returned; it returns no other error.
func (a *Alerter) Run(ctx context.Context) error {
	evaluated := make(chan struct{}, 1)
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-evaluated:
			case <-a.wake:
			}
			if err := a.deliverEach(ctx, a.cfg.Interval); err != nil && ctx.Err() == nil {
				a.log.WarnContext(ctx, "alert: deliver failed", "err", err)
			}
		}
	})
	tick := a.clock.After(0)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick:
		}
		if err := a.Evaluate(ctx, a.clock.Now()); err != nil && ctx.Err() == nil {
			a.log.WarnContext(ctx, "alert: evaluate failed", "err", err)
		}
		tick = a.clock.After(a.cfg.Interval)
		select {
		case evaluated <- struct{}{}:
		default: // a delivery is due already
		}
	}
}

// Alerts returns the firing alerts (most severe first, then oldest) and
// then the resolved ones kept (newest first).
func (a *Alerter) Alerts() []Alert {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]Alert, 0, len(a.firing)+len(a.resolved))
	for _, al := range a.firing {
		out = append(out, *al)
	}
	slices.SortFunc(out, func(x, y Alert) int {
		if c := cmp.Compare(y.Severity.Level(), x.Severity.Level()); c != 0 {
			return c
		}
		if c := x.StartsAt.Compare(y.StartsAt); c != 0 {
			return c
		}
		return cmp.Compare(x.ID, y.ID)
	})
	for i := len(a.resolved) - 1; i >= 0; i-- {
		out = append(out, a.resolved[i])
	}
	return out
}

// Firing returns the firing alerts, as Alerts orders them.
func (a *Alerter) Firing() []Alert {
	all := a.Alerts()
	n := 0
	for n < len(all) && all[n].State == StateFiring {
		n++
	}
	return all[:n]
}

// NotifierStats is the state of one notifier of an Alerter.
type NotifierStats struct {
	// Name is the notifier's name.
	Name string `json:"name"`
	// Pending is the number of notifications waiting.
	Pending int `json:"pending"`
	// Sent is the number delivered.
	Sent int `json:"sent"`
	// Failures is the number of Deliver calls in which the notifier failed
	// or refused a notification.
	Failures int `json:"failures"`
	// Rejected is the number of notifications the notifier refused for
	// good (ErrRejected); they were dropped, not retried.
	Rejected int `json:"rejected"`
	// LastError is the last failure's or refusal's error; empty after a
	// Deliver in which everything was delivered.
	LastError string `json:"last_error,omitempty"`
}

// Stats returns the state of every notifier, in the order they were added.
func (a *Alerter) Stats() []NotifierStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]NotifierStats, len(a.notifiers))
	for i, o := range a.notifiers {
		out[i] = NotifierStats{Name: o.name, Pending: len(o.pending), Sent: o.sent, Failures: o.failed,
			Rejected: o.rejected}
		if o.lastErr != nil {
			out[i].LastError = o.lastErr.Error()
		}
	}
	return out
}

// alertKey identifies an alert: its rule and its resource, or for events
// about no resource, the actor that recorded them (a reaper's runs). The
// maps are keyed by it rather than by Alert.ID, which joins them with
// "/" or "@".
type alertKey struct{ rule, resource, actor string }

// eventKey is the key of rule's alert for e: per resource, or, for an
// event about none (a run), per actor.
func eventKey(rule string, e monitor.Event) alertKey {
	if e.ResourceID != "" {
		return alertKey{rule: rule, resource: e.ResourceID}
	}
	return alertKey{rule: rule, actor: e.Actor}
}

// id is an Alert's ID: rule "/" resource, rule "@" actor, or the rule
// alone. It is unambiguous because a rule name has neither "/" nor "@"
// (Rule.Validate).
func (k alertKey) id() string {
	switch {
	case k.resource != "":
		return k.rule + "/" + k.resource
	case k.actor != "":
		return k.rule + "@" + k.actor
	}
	return k.rule
}

func matchesAny(ms []Match, e monitor.Event) bool {
	for _, m := range ms {
		if m.Matches(e) {
			return true
		}
	}
	return false
}

func eventValue(e monitor.Event) float64 {
	if e.Confidence != 0 {
		return e.Confidence
	}
	return e.Value
}

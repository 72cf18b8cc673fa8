package ratelimit

import (
	"cmp"
	"fmt"
	"math"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// The defaults of a per-target, per-direction Budget and of the history.
// Five events an hour, at most 3 units each and 300 s apart let a group
// follow a real load change within minutes (up to 15 units an hour) while
// one wrong decision, or a metric flapping around a threshold, moves it by
// at most 3 units and at most once per 5 minutes: 300 s is also the
// Kubernetes HPA's default scale-down stabilization window, long enough for
// new instances to boot and for the metrics to show their effect before the
// next decision. 24 h of history covers the default window 24 times and
// keeps a day of events for Stats and audit.
const (
	// DefaultEvents is the default number of events allowed per window: 5.
	DefaultEvents = 5
	// DefaultWindow is the default window over which events are counted:
	// 1 h.
	DefaultWindow = time.Hour
	// DefaultMaxUnits is the default largest change (instances, units) one
	// event may make: 3.
	DefaultMaxUnits = 3
	// DefaultMinInterval is the default shortest time between two events:
	// 300 s.
	DefaultMinInterval = 300 * time.Second
	// DefaultHistory is how long events are kept by default: 24 h.
	DefaultHistory = 24 * time.Hour
	// DefaultMaxSkew is how far out of time order a reservation may come
	// by default: 15 min. It covers the clock skew of replicas whose
	// clocks are synchronised (well under a second) with a wide margin,
	// and a run that reserves with a now taken when it started, as the
	// reaper does, for runs of up to 15 minutes.
	DefaultMaxSkew = 15 * time.Minute
)

// Budget is one limit on events: how many in a window, how large each, how
// far apart. In a per-target budget (Config.Up, Config.Down,
// Config.Targets) a zero field inherits (target budget → Config.Up or
// Config.Down → the Default constants); in Config.Global a zero field means
// no limit. A negative Events, MaxUnits or MinInterval means no limit at
// that level.
type Budget struct {
	// Events is how many events are allowed in any Window (a sliding
	// window ending now). Default: DefaultEvents (5). Negative: unlimited.
	Events int `json:"events,omitempty"`
	// Window is the length of the sliding window that Events counts.
	// Default: DefaultWindow (1h). Must not be negative.
	Window time.Duration `json:"window,omitempty"`
	// MaxUnits is the largest change one event may make, in the units of
	// the request (instances, replicas). A larger request is clamped.
	// Default: DefaultMaxUnits (3). Negative: unlimited.
	MaxUnits int `json:"max_units,omitempty"`
	// MinInterval is the shortest time between two events. Default:
	// DefaultMinInterval (300s). Negative: none.
	MinInterval time.Duration `json:"min_interval,omitempty"`
}

// TargetBudgets overrides the budgets of one target, per direction. Zero
// fields inherit from Config.Up and Config.Down.
type TargetBudgets struct {
	// Up limits scale-up (and start) events of the target.
	Up Budget `json:"up"`
	// Down limits scale-down (and stop, terminate) events of the target.
	Down Budget `json:"down"`
}

// Config is the limiter's policy. Its zero value means the defaults: per
// target and per direction at most 5 events per hour, 3 units per event
// and 300 s between events (see DefaultEvents for why); no global budget;
// 24 h of history. All replicas that share a Store must use the same
// Config, or hold to the strictest of theirs (see WithPeers).
type Config struct {
	// Up is the budget for scale-up events of every target without its
	// own. Zero fields mean the defaults.
	Up Budget `json:"up"`
	// Down is the budget for scale-down events of every target without its
	// own. Zero fields mean the defaults.
	Down Budget `json:"down"`
	// Targets overrides the budgets of named targets. Default: none.
	Targets map[string]TargetBudgets `json:"targets,omitempty"`
	// Global is a budget over every event of every target and direction.
	// Zero fields mean no global limit; the zero Budget means no global
	// budget at all (the default).
	Global Budget `json:"global"`
	// History is how long the events of each target and direction are
	// kept (for Stats and audit). It must cover every Window that an
	// Events rule counts in (a Window beside Events -1 limits nothing)
	// and every MinInterval. The global bucket, which holds the events of every
	// target, keeps only the longer of Global.Window and
	// Global.MinInterval plus MaxSkew, so that it stays small. A target's
	// bucket keeps at least its own longer of Window and MinInterval plus
	// MaxSkew. Default: DefaultHistory (24h).
	History time.Duration `json:"history,omitempty"`
	// MaxSkew is how far before the newest reservation of a bucket a
	// reservation may be stamped and still be decided. Reservations
	// arrive out of time order when replicas' clocks disagree, or when a
	// run reserves with a now taken at its start; each bucket keeps its
	// events for MaxSkew beyond what its budget looks at (the longer of
	// Window and MinInterval), so that such a reservation is checked
	// against every event before and after it and the budget holds in
	// any window. A reservation stamped earlier than MaxSkew before the
	// newest one is denied with ReasonSkew: its window can no longer be
	// checked. Must not exceed History. Default: DefaultMaxSkew (15m), or
	// History when that is shorter. Negative: none, so that a reservation
	// stamped before the bucket's newest is denied.
	MaxSkew time.Duration `json:"max_skew,omitempty"`
}

// limit is a resolved Budget: zero means unlimited for events, maxUnits and
// interval. keep is how long its bucket keeps events before the bucket's
// newest reservation, set by resolve.
type limit struct {
	events   int
	window   time.Duration
	maxUnits int
	interval time.Duration
	keep     time.Duration
}

// looksBack reports whether l decides with the events in its history (an
// events or interval rule), so that the order of reservations matters.
func (l limit) looksBack() bool { return l.events > 0 || l.interval > 0 }

// checkable returns the earliest time (Unix nanoseconds) an event of l's
// bucket, whose newest event is at horizon, can be checked at: skew before
// horizon when l's rules look back and horizon is after now (the events
// of an earlier one's window may have been pruned), else now.
func (l limit) checkable(horizon, now int64, skew time.Duration) int64 {
	if l.looksBack() && horizon > now {
		return max(now, satSub(horizon, int64(skew)))
	}
	return now
}

// withKeep sets how long l's bucket keeps its events: at least history,
// and long enough that a reservation up to skew before the newest one sees
// every event its rules look at.
func (l limit) withKeep(history, skew time.Duration) limit {
	l.keep = history
	if l.looksBack() {
		l.keep = max(history, satAddDur(max(l.window, l.interval), skew))
	}
	return l
}

// satAddDur returns a+b for non-negative durations, at most the largest
// Duration.
func satAddDur(a, b time.Duration) time.Duration {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func (l limit) active() bool { return l.events > 0 || l.maxUnits > 0 || l.interval > 0 }

// budget returns l as a Budget with -1 for unlimited values.
func (l limit) budget() Budget {
	r := Budget{Events: l.events, Window: l.window, MaxUnits: l.maxUnits, MinInterval: l.interval}
	if r.Events == 0 {
		r.Events = -1
	}
	if r.MaxUnits == 0 {
		r.MaxUnits = -1
	}
	if r.MinInterval == 0 {
		r.MinInterval = -1
	}
	return r
}

// resolve applies r over parent (already resolved).
func (r Budget) resolve(parent limit) limit {
	out := parent
	switch {
	case r.Events < 0:
		out.events = 0
	case r.Events > 0:
		out.events = r.Events
	}
	if r.Window > 0 {
		out.window = r.Window
	}
	switch {
	case r.MaxUnits < 0:
		out.maxUnits = 0
	case r.MaxUnits > 0:
		out.maxUnits = r.MaxUnits
	}
	switch {
	case r.MinInterval < 0:
		out.interval = 0
	case r.MinInterval > 0:
		out.interval = r.MinInterval
	}
	return out
}

var defaults = limit{events: DefaultEvents, window: DefaultWindow, maxUnits: DefaultMaxUnits, interval: DefaultMinInterval}

// Validate checks r and returns a *provider.InvalidError naming the field:
// Window must not be negative and Events must be at most 2^31-1.
func (r Budget) Validate() error {
	if r.Window < 0 {
		return provider.Invalid("window", r.Window, "must not be negative")
	}
	if r.Events > math.MaxInt32 {
		return provider.Invalid("events", r.Events, "must be at most 2^31-1")
	}
	return nil
}

// Validate checks c and returns a *provider.InvalidError naming the field
// and value, for example `invalid targets["web"].up.window -1s`.
func (c Config) Validate() error {
	if err := c.Up.Validate(); err != nil {
		return provider.Within("up", err)
	}
	if err := c.Down.Validate(); err != nil {
		return provider.Within("down", err)
	}
	if err := c.Global.Validate(); err != nil {
		return provider.Within("global", err)
	}
	if c.Global.Events > 0 && c.Global.Window == 0 {
		return provider.Invalid("global.window", c.Global.Window, "must be set when global.events is")
	}
	if c.History < 0 {
		return provider.Invalid("history", c.History, "must not be negative")
	}
	if h := cmp.Or(c.History, DefaultHistory); c.MaxSkew > h {
		return provider.Invalid("max_skew", c.MaxSkew, fmt.Sprintf("must not exceed history %v", h))
	}
	for name, tr := range c.Targets {
		field := fmt.Sprintf("targets[%q]", name)
		if err := ValidateTarget(field, name); err != nil {
			return err
		}
		if err := tr.Up.Validate(); err != nil {
			return provider.Within(field+".up", err)
		}
		if err := tr.Down.Validate(); err != nil {
			return provider.Within(field+".down", err)
		}
	}
	_, err := c.resolve()
	return err
}

// resolved is a Config with every budget resolved.
type resolved struct {
	up, down limit
	targets  map[string][2]limit // [0] up, [1] down
	global   limit
	history  time.Duration
	// skew is the resolved MaxSkew (0 for none).
	skew time.Duration
}

func (c Config) resolve() (resolved, error) {
	r := resolved{
		up:      c.Up.resolve(defaults),
		down:    c.Down.resolve(defaults),
		global:  c.Global.resolve(limit{}),
		history: c.History,
		targets: make(map[string][2]limit, len(c.Targets)),
	}
	if r.history == 0 {
		r.history = DefaultHistory
	}
	switch {
	case c.MaxSkew == 0:
		r.skew = DefaultMaxSkew
	case c.MaxSkew > 0:
		r.skew = c.MaxSkew
	}
	r.skew = min(r.skew, r.history)
	if !r.global.looksBack() {
		// A global Window that no Events rule counts in (no budget, or
		// only MaxUnits, a cap on each event) limits nothing and sets
		// nothing the bucket keeps: it is dropped (and needs no History
		// to cover it).
		r.global.window = 0
	}
	check := func(field string, l limit) error {
		// A window that no Events rule counts in (Events -1) limits
		// nothing: History need not cover it.
		if l.events > 0 && l.window > r.history {
			return provider.Invalid("history", r.history, fmt.Sprintf("must cover %s.window %v", field, l.window))
		}
		if l.interval > r.history {
			return provider.Invalid("history", r.history, fmt.Sprintf("must cover %s.min_interval %v", field, l.interval))
		}
		return nil
	}
	if err := check("up", r.up); err != nil {
		return r, err
	}
	if err := check("down", r.down); err != nil {
		return r, err
	}
	if err := check("global", r.global); err != nil {
		return r, err
	}
	// The global bucket holds every target's events, so it keeps only
	// what its rules look at; a target's bucket keeps the whole history.
	r.global = r.global.withKeep(0, r.skew)
	for name, tr := range c.Targets {
		ls := [2]limit{tr.Up.resolve(r.up).withKeep(r.history, r.skew), tr.Down.resolve(r.down).withKeep(r.history, r.skew)}
		field := fmt.Sprintf("targets[%q]", name)
		if err := check(field+".up", ls[0]); err != nil {
			return r, err
		}
		if err := check(field+".down", ls[1]); err != nil {
			return r, err
		}
		r.targets[name] = ls
	}
	r.up, r.down = r.up.withKeep(r.history, r.skew), r.down.withKeep(r.history, r.skew)
	return r, nil
}

// maxKeep returns the longest a bucket keeps its events (see withKeep):
// how long a store that forgets a bucket left alone must keep it.
func (r *resolved) maxKeep() time.Duration {
	k := max(r.history, r.up.keep, r.down.keep, r.global.keep)
	for _, ls := range r.targets {
		k = max(k, ls[0].keep, ls[1].keep)
	}
	return k
}

// minRetention returns how long a store that forgets a bucket left alone
// must keep it for the budgets to hold: the history, and each bucket's
// interval, or window an Events rule counts in, with MaxSkew. A window
// beside Events -1 limits nothing, so it needs no retention (its bucket
// still keeps its events as long as the store does, for Stats).
func (r *resolved) minRetention() time.Duration {
	need := func(l limit, history time.Duration) time.Duration {
		if !l.looksBack() {
			return history
		}
		w := l.interval
		if l.events > 0 {
			w = max(w, l.window)
		}
		return max(history, satAddDur(w, r.skew))
	}
	k := max(need(r.up, r.history), need(r.down, r.history), need(r.global, 0))
	for _, ls := range r.targets {
		k = max(k, need(ls[0], r.history), need(ls[1], r.history))
	}
	return k
}

// limitFor returns the resolved per-target budget.
func (r *resolved) limitFor(target string, d Direction) limit {
	if len(r.targets) > 0 {
		if ls, ok := r.targets[target]; ok {
			if d == Down {
				return ls[1]
			}
			return ls[0]
		}
	}
	if d == Down {
		return r.down
	}
	return r.up
}

// Resolved returns c with every default filled in and every budget
// resolved (a target's budgets over Up and Down, those over the Default
// constants): Events, MaxUnits and MinInterval of -1 where there is no
// limit, the global budget's fields -1 when it sets none and its Window 0
// when no Events rule counts in it (no budget, or MaxUnits alone), History and MaxSkew as the limiter uses them (MaxSkew -1 for
// none). A Limiter of c.Resolved() decides as one of c, and two Configs
// whose Resolved are equal limit alike, whichever defaults they wrote
// out: replicas compare it (see ratelimit/etcdstore's ConfigCheck). It
// returns c's validation error when c is invalid.
func (c Config) Resolved() (Config, error) {
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	r, err := c.resolve()
	if err != nil {
		return Config{}, err
	}
	out := Config{Up: r.up.budget(), Down: r.down.budget(), Global: r.global.budget(), History: r.history, MaxSkew: r.skew}
	if r.skew == 0 {
		out.MaxSkew = -1
	}
	if len(r.targets) > 0 {
		out.Targets = make(map[string]TargetBudgets, len(r.targets))
		for name, ls := range r.targets {
			out.Targets[name] = TargetBudgets{Up: ls[0].budget(), Down: ls[1].budget()}
		}
	}
	return out, nil
}

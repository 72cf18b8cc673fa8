package ratelimit

import (
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
// Config.
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
	// kept (for Stats and audit). It must cover every Window and
	// MinInterval. The global bucket, which holds the events of every
	// target, keeps only the longer of Global.Window and
	// Global.MinInterval, so that it stays small. Default: DefaultHistory
	// (24h).
	History time.Duration `json:"history,omitempty"`
}

// limit is a resolved Budget: zero means unlimited for events, maxUnits and
// interval.
type limit struct {
	events   int
	window   time.Duration
	maxUnits int
	interval time.Duration
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
	// globalKeep is how long the global bucket keeps events: the longer
	// of its window and interval.
	globalKeep time.Duration
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
	r.globalKeep = max(r.global.window, r.global.interval)
	check := func(field string, l limit) error {
		if l.window > r.history {
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
	for name, tr := range c.Targets {
		ls := [2]limit{tr.Up.resolve(r.up), tr.Down.resolve(r.down)}
		field := fmt.Sprintf("targets[%q]", name)
		if err := check(field+".up", ls[0]); err != nil {
			return r, err
		}
		if err := check(field+".down", ls[1]); err != nil {
			return r, err
		}
		r.targets[name] = ls
	}
	return r, nil
}

// keep returns how long bucket i of an op keeps its events: the history
// for the target's bucket (0); for the global bucket (1) only what its
// budget looks at, since it holds every target's events.
func (r *resolved) keep(i int) time.Duration {
	if i == 0 {
		return r.history
	}
	return r.globalKeep
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

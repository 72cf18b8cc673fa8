package ratelimit

import (
	"fmt"
	"math"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// The seed's defaults for a per-target, per-direction Rule.
const (
	// DefaultEvents is the default number of events allowed per window.
	DefaultEvents = 5
	// DefaultWindow is the default window over which events are counted.
	DefaultWindow = time.Hour
	// DefaultMaxUnits is the default largest change (instances, units) one
	// event may make.
	DefaultMaxUnits = 3
	// DefaultMinInterval is the default shortest time between two events.
	DefaultMinInterval = 300 * time.Second
	// DefaultHistory is how long events are kept by default.
	DefaultHistory = 24 * time.Hour
)

// Rule is one budget on events. In a per-target rule a zero field inherits
// (target rule → Config.Up or Config.Down → the seed default); in
// Config.Global a zero field means no limit. A negative Events, MaxUnits
// or MinInterval means no limit at that level.
type Rule struct {
	// Events is how many events are allowed in any Window (a sliding
	// window ending now). Default: 5. Negative: unlimited.
	Events int `json:"events,omitempty"`
	// Window is the length of the sliding window that Events counts.
	// Default: 1h. Must not be negative.
	Window time.Duration `json:"window,omitempty"`
	// MaxUnits is the largest change one event may make, in the units of
	// the request (instances, replicas). A larger request is clamped.
	// Default: 3. Negative: unlimited.
	MaxUnits int `json:"max_units,omitempty"`
	// MinInterval is the shortest time between two events. Default: 300s.
	// Negative: none.
	MinInterval time.Duration `json:"min_interval,omitempty"`
}

// TargetRules overrides the rules of one target, per direction. Zero
// fields inherit from Config.Up and Config.Down.
type TargetRules struct {
	// Up limits scale-up (and start) events of the target.
	Up Rule `json:"up"`
	// Down limits scale-down (and stop, terminate) events of the target.
	Down Rule `json:"down"`
}

// Config is the limiter's policy. Its zero value is the seed's policy:
// per target and per direction at most 5 events per hour, 3 units per
// event and 300 s between events; no global budget; 24 h of history. All
// replicas that share a Store must use the same Config.
type Config struct {
	// Up is the rule for scale-up events of every target without its own.
	Up Rule `json:"up"`
	// Down is the rule for scale-down events of every target without its
	// own.
	Down Rule `json:"down"`
	// Targets overrides the rules of named targets.
	Targets map[string]TargetRules `json:"targets,omitempty"`
	// Global is a budget over every event of every target and direction.
	// Zero fields mean no global limit; the zero Rule means no global
	// budget at all.
	Global Rule `json:"global"`
	// History is how long the events of each target and direction are
	// kept (for Stats and audit). It must cover every Window and
	// MinInterval. The global bucket, which holds the events of every
	// target, keeps only the longer of Global.Window and
	// Global.MinInterval, so that it stays small. Default: 24h.
	History time.Duration `json:"history,omitempty"`
}

// limit is a resolved Rule: zero means unlimited for events, maxUnits and
// interval.
type limit struct {
	events   int
	window   time.Duration
	maxUnits int
	interval time.Duration
}

func (l limit) active() bool { return l.events > 0 || l.maxUnits > 0 || l.interval > 0 }

// rule returns l as a Rule with -1 for unlimited values.
func (l limit) rule() Rule {
	r := Rule{Events: l.events, Window: l.window, MaxUnits: l.maxUnits, MinInterval: l.interval}
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
func (r Rule) resolve(parent limit) limit {
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

var seed = limit{events: DefaultEvents, window: DefaultWindow, maxUnits: DefaultMaxUnits, interval: DefaultMinInterval}

// Validate checks r and returns a *provider.InvalidError naming the field.
func (r Rule) Validate() error {
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

// resolved is a Config with every rule resolved.
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
		up:      c.Up.resolve(seed),
		down:    c.Down.resolve(seed),
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
// rule looks at, since it holds every target's events.
func (r *resolved) keep(i int) time.Duration {
	if i == 0 {
		return r.history
	}
	return r.globalKeep
}

// limitFor returns the resolved per-target rule.
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

package safety

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
)

// ActionHistory tells how many instances of a fleet were acted on
// (stopped, terminated, resized, scaled in) recently. The host records each
// executed action in it (MemoryHistory.Record), or supplies a shared one.
//
// ActedOn returns the number of instances of fleet acted on at or after
// since (≥ 0; a count too large for an int is math.MaxInt). Implementations must be safe for concurrent use and honour ctx.
type ActionHistory interface {
	ActedOn(ctx context.Context, fleet string, since time.Time) (int, error)
}

// ActionHistoryFunc adapts a function to an ActionHistory.
type ActionHistoryFunc func(ctx context.Context, fleet string, since time.Time) (int, error)

// ActedOn calls f(ctx, fleet, since).
func (f ActionHistoryFunc) ActedOn(ctx context.Context, fleet string, since time.Time) (int, error) {
	return f(ctx, fleet, since)
}

// MemoryHistory is an in-memory ActionHistory. It keeps records for Keep
// (default 24h) after the newest one. Having no clock, it takes the
// newest record's time for now: a record stamped ahead of the others (a
// clock that jumped, a simulation recording in the same history) makes
// it drop theirs. ActedOn then refuses, rather than count too few, a
// since at or before a record it dropped, so the limits rule fails and
// the engine blocks the fleet's disruptive actions (fail closed) until
// the window no longer reaches that record. Its zero value is ready to
// use; it is safe for concurrent use.
//
// Its records live and die with the process: a host restarted within a
// Window starts with none, so the fleet share then counts only what the
// new process did (a reaper restarted half an hour after stopping half a
// fleet may stop the other half), and replicas each count their own. A
// host that must hold the limit across restarts or replicas supplies an
// ActionHistory kept outside the process: package safety/etcdhistory
// keeps one on etcd.
//
// A LimitsRule counts actions over its Window, so NewLimitsRule refuses a
// MemoryHistory that keeps less than that window (and the rule fails if
// Keep is lowered afterwards): with a Window above 24h, set Keep.
type MemoryHistory struct {
	// Keep is how long records are kept after the newest one; 0 means
	// 24h. Must be ≥ 0 and, for a LimitsRule, at least its Window; set it
	// before the history is used.
	Keep time.Duration

	mu      sync.Mutex
	records map[string]*fleetRecords
}

// fleetRecords are the records of one fleet, oldest first, and the time
// of the newest record pruned (zero when none was): ActedOn cannot count
// at or before it.
type fleetRecords struct {
	rs     []historyRecord
	forgot time.Time
}

type historyRecord struct {
	at    time.Time
	units int
}

var (
	_ ActionHistory = (*MemoryHistory)(nil)
	_ ActionHistory = ActionHistoryFunc(nil)
)

// Record notes that units instances of fleet were acted on at at. It
// returns provider.ErrInvalid for units < 1 or a zero time.
func (h *MemoryHistory) Record(fleet string, at time.Time, units int) error {
	if units < 1 {
		return invalidf("units", units, "must be ≥ 1")
	}
	if at.IsZero() {
		return invalidf("at", at, "must be set")
	}
	keep := h.keep()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.records == nil {
		h.records = map[string]*fleetRecords{}
	}
	f := h.records[fleet]
	if f == nil {
		f = &fleetRecords{}
		h.records[fleet] = f
	}
	rs := append(f.rs, historyRecord{at, units})
	slices.SortStableFunc(rs, func(a, b historyRecord) int { return a.at.Compare(b.at) })
	cut := rs[len(rs)-1].at.Add(-keep)
	i := 0
	for i < len(rs) && rs[i].at.Before(cut) {
		i++
	}
	if i > 0 && rs[i-1].at.After(f.forgot) {
		f.forgot = rs[i-1].at
	}
	f.rs = rs[i:]
	return nil
}

// DefaultHistoryKeep is MemoryHistory.Keep's default.
const DefaultHistoryKeep = 24 * time.Hour

// keep returns how long h keeps records: Keep, or its default for 0 (or
// a negative Keep, which NewLimitsRule refuses).
func (h *MemoryHistory) keep() time.Duration {
	if h.Keep <= 0 {
		return DefaultHistoryKeep
	}
	return h.Keep
}

// checkKeep returns an error naming history.keep when h cannot answer for
// window: a negative Keep, or one shorter than window, which would forget
// actions the fleet share must count.
func (h *MemoryHistory) checkKeep(window time.Duration) error {
	if h.Keep < 0 {
		return invalidf("history.keep", h.Keep, "must be ≥ 0 (0 means 24h)")
	}
	if k := h.keep(); k < window {
		return invalidf("history.keep", k, fmt.Sprintf("must be at least the limits window %s: "+
			"the history would forget actions the fleet share counts; set MemoryHistory.Keep to %s or more, or shorten the window", window, window))
	}
	return nil
}

// ActedOn implements ActionHistory. It returns an error matching
// provider.ErrInvalid, naming since, when since is at or before a record
// of fleet it dropped (Keep before its newest record): the count would be
// too low.
func (h *MemoryHistory) ActedOn(ctx context.Context, fleet string, since time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	f := h.records[fleet]
	if f == nil {
		return 0, nil
	}
	if !f.forgot.IsZero() && !f.forgot.Before(since) {
		newest := f.rs[len(f.rs)-1].at
		return 0, invalidf("since", since, fmt.Sprintf("reaches a record of fleet %q at %s that the history dropped: it keeps %s after its newest record, at %s "+
			"(a record stamped ahead of the others?); it cannot count the actions since then",
			fleet, f.forgot.UTC().Format(time.RFC3339Nano), h.keep(), newest.UTC().Format(time.RFC3339Nano)))
	}
	n := 0
	for _, r := range f.rs {
		if !r.at.Before(since) {
			n = addCounts(n, r.units)
		}
	}
	return n, nil
}

// addCounts returns a + b for counts a, b ≥ 0, saturated at math.MaxInt:
// a sum that wrapped around would be negative, and a fleet share read
// from it would pass.
func addCounts(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

// LimitsConfig configures LimitsRule. The zero value means the defaults.
type LimitsConfig struct {
	// MinCapacity is the lowest desired capacity a scale action may set,
	// and the lowest it may lower a group's Min to. Must be ≥ 0; 0 means
	// the default unless AllowZero is set. Default: 1, so that automation
	// never scales a group away entirely.
	MinCapacity int `json:"min_capacity,omitempty" yaml:"min_capacity,omitempty"`
	// AllowZero lets MinCapacity be 0 (scale to zero). Default: false.
	AllowZero bool `json:"allow_zero,omitempty" yaml:"allow_zero,omitempty"`
	// MaxCapacity is the highest desired capacity a scale action may set,
	// and the highest it may raise a group's Max to. Must be ≥
	// MinCapacity; 0 means the default. Default: 10.
	MaxCapacity int `json:"max_capacity,omitempty" yaml:"max_capacity,omitempty"`
	// MaxFleetShare is the largest share of a fleet that disruptive
	// actions may touch per Window, in (0, 1]; 0 means the default.
	// Default: 0.5.
	MaxFleetShare float64 `json:"max_fleet_share,omitempty" yaml:"max_fleet_share,omitempty"`
	// Window is the period MaxFleetShare counts over. Must be ≥ 0; 0
	// means the default. Default: 1h. A *MemoryHistory must keep at least
	// this long (its default Keep, 24h, covers windows up to 24h).
	Window time.Duration `json:"window,omitempty" yaml:"window,omitempty"`
	// NoFleetShare turns the fleet-share limit off: the rule then checks
	// only the capacity bounds and reads no ActionHistory. It is the only
	// way to build the rule without a history (NewLimitsRule refuses a nil
	// one otherwise), so that a host that configures nothing gets the
	// limit or an error, never a silently absent limit. MaxFleetShare and
	// Window must then be 0. Default: false.
	NoFleetShare bool `json:"no_fleet_share,omitempty" yaml:"no_fleet_share,omitempty"`
}

// Validate returns an error matching provider.ErrInvalid naming a wrong
// field (negative limits, min above max, a share outside (0, 1]).
func (c LimitsConfig) Validate() error {
	_, err := c.withDefaults()
	return err
}

func (c LimitsConfig) withDefaults() (LimitsConfig, error) {
	switch {
	case c.MinCapacity < 0:
		return c, invalidf("min_capacity", c.MinCapacity, "must be ≥ 0")
	case c.MaxCapacity < 0:
		return c, invalidf("max_capacity", c.MaxCapacity, "must be ≥ 0 (0 means 10)")
	case math.IsNaN(c.MaxFleetShare) || c.MaxFleetShare < 0 || c.MaxFleetShare > 1:
		return c, invalidf("max_fleet_share", c.MaxFleetShare, "must lie in (0, 1] (0 means 0.5)")
	case c.Window < 0:
		return c, invalidf("window", c.Window, "must be ≥ 0 (0 means 1h)")
	case c.NoFleetShare && c.MaxFleetShare != 0:
		return c, invalidf("max_fleet_share", c.MaxFleetShare, "must be 0 when no_fleet_share is set (the limit is off)")
	case c.NoFleetShare && c.Window != 0:
		return c, invalidf("window", c.Window, "must be 0 when no_fleet_share is set (the limit is off)")
	}
	if c.MinCapacity == 0 && !c.AllowZero {
		c.MinCapacity = 1
	}
	if c.MaxCapacity == 0 {
		c.MaxCapacity = 10
	}
	if c.MaxFleetShare == 0 {
		c.MaxFleetShare = 0.5
	}
	if c.Window == 0 {
		c.Window = time.Hour
	}
	if c.MinCapacity > c.MaxCapacity {
		return c, invalidf("min_capacity", c.MinCapacity, fmt.Sprintf("must be ≤ max_capacity %d", c.MaxCapacity))
	}
	return c, nil
}

// LimitsRule enforces bounds: a scale action's desired capacity must lie
// in [MinCapacity, MaxCapacity], and it may not lower the group's Min
// below MinCapacity or raise its Max above MaxCapacity (the group's own
// scaling would go there; a bound already outside the range may stay or
// move towards it), and disruptive actions may touch at most
// MaxFleetShare of a fleet per Window, counting those the history
// recorded and Proposal.FleetPlanned. A proposal's fleet is
// Proposal.Fleet of Proposal.FleetSize instances; a group without a Fleet
// is its own fleet of Current.Desired instances (an empty group's
// scale_in, which takes none, passes with nothing acted on in the Window
// and is blocked with anything); a single resource without a Fleet is
// not share-limited. A named fleet of unknown size is blocked. History errors and a negative count make the rule fail (the
// engine blocks), and so does a *MemoryHistory whose Keep was lowered
// below Window after NewLimitsRule. With LimitsConfig.NoFleetShare the fleet share is not
// checked. Safe for concurrent use if the history is.
//
// The count is read, then acted on: decisions made at once for one fleet
// (concurrent checks, each before the other's action is recorded) see
// the same count, and together may exceed the share by the actions
// decided at once, whatever the history (package safety/etcdhistory says
// the same of replicas). A host that decides in parallel serialises the
// decisions of a fleet, or bounds them with a ratelimit.Limiter, whose
// reservations are atomic.
//
// Make one with NewLimitsRule; the zero value is not usable: its Check fails,
// so the engine blocks.
type LimitsRule struct {
	p       LimitsConfig
	history ActionHistory
	made    bool // set by NewLimitsRule; the zero value fails closed
}

var _ Rule = (*LimitsRule)(nil)

// NewLimitsRule returns a LimitsRule for cfg reading history. The history
// is required unless cfg.NoFleetShare turns the fleet-share limit off, and
// must then be nil: a missing history never silently disables the limit.
// It fails with provider.ErrInvalid, naming the field, when cfg is
// invalid, when history is nil (or a nil ActionHistoryFunc) without
// NoFleetShare or set with it (field "history"), when history is a nil
// *MemoryHistory, or when it is a *MemoryHistory with a negative Keep or
// a Keep shorter than the Window (field "history.keep"): such a history
// forgets actions the fleet share must count. A host's own ActionHistory
// must keep records for the Window too; the rule cannot see how long it
// does.
//
// The history counts only what is recorded in it: the host records every
// executed disruptive action (the reaper does with reaper.WithHistory, the
// scaling engine with scaling.WithActionHistory).
func NewLimitsRule(cfg LimitsConfig, history ActionHistory) (*LimitsRule, error) {
	p, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if h, ok := history.(*MemoryHistory); ok {
		if h == nil {
			return nil, invalidf("history", nil, "is a nil *MemoryHistory: pass a &MemoryHistory{}, or a nil history with no_fleet_share to turn the fleet-share limit off")
		}
		if !p.NoFleetShare {
			if err := h.checkKeep(p.Window); err != nil {
				return nil, err
			}
		}
	}
	if isNilFunc(history) {
		history = nil
	}
	switch {
	case history == nil && !p.NoFleetShare:
		return nil, invalidf("history", nil, fmt.Sprintf("is required: the fleet-share limit (at most %.0f%% of a fleet per %s) counts recent actions in it; "+
			"pass an ActionHistory (a &MemoryHistory{} that the reaper and the scaling engine record in: reaper.WithHistory, scaling.WithActionHistory), or set no_fleet_share to turn the limit off",
			100*p.MaxFleetShare, p.Window))
	case history != nil && p.NoFleetShare:
		return nil, invalidf("history", fmt.Sprintf("%T", history), "must be nil when no_fleet_share is set: the limit is off and would never read it")
	}
	return &LimitsRule{made: true, p: p, history: history}, nil
}

// Name returns "limits".
func (r *LimitsRule) Name() string { return "limits" }

// Inline reports whether the history is nil or a *MemoryHistory (in
// memory).
func (r *LimitsRule) Inline() bool {
	_, ok := r.history.(*MemoryHistory)
	return ok || r.history == nil
}

// Check implements Rule.
func (r *LimitsRule) Check(ctx context.Context, p Proposal) (Result, error) {
	if !r.made {
		return Result{}, notMade("LimitsRule", "NewLimitsRule")
	}
	if p.Action.IsScale() {
		switch d := p.Target.Desired; {
		case d < r.p.MinCapacity:
			return Result{Outcome: Block, Risk: RiskHigh,
				Reason:          fmt.Sprintf("desired %d is below the minimum capacity %d", d, r.p.MinCapacity),
				Recommendations: []string{fmt.Sprintf("keep at least %d", r.p.MinCapacity)}}, nil
		case d > r.p.MaxCapacity:
			return Result{Outcome: Block, Risk: RiskMedium,
				Reason:          fmt.Sprintf("desired %d is above the maximum capacity %d", d, r.p.MaxCapacity),
				Recommendations: []string{fmt.Sprintf("scale to %d at most", r.p.MaxCapacity)}}, nil
		}
		// The bounds let the group's own scaling go where desired may
		// not: a bound moved further outside the range is blocked; one
		// kept as it is, or moved towards the range, is not.
		switch lo, hi := p.Target.Min, p.Target.Max; {
		case lo < p.Current.Min && lo < r.p.MinCapacity:
			return Result{Outcome: Block, Risk: RiskHigh,
				Reason:          fmt.Sprintf("min %d is below the minimum capacity %d", lo, r.p.MinCapacity),
				Recommendations: []string{fmt.Sprintf("keep min at %d or more", min(p.Current.Min, r.p.MinCapacity))}}, nil
		case hi > p.Current.Max && hi > r.p.MaxCapacity:
			return Result{Outcome: Block, Risk: RiskMedium,
				Reason:          fmt.Sprintf("max %d is above the maximum capacity %d", hi, r.p.MaxCapacity),
				Recommendations: []string{fmt.Sprintf("keep max at %d or less", max(p.Current.Max, r.p.MaxCapacity))}}, nil
		}
	}
	if r.p.NoFleetShare || !p.Action.Disruptive() {
		return pass, nil
	}
	fleet, size := p.Fleet, p.FleetSize
	empty := false // a group of no instances: a known size, 0
	if fleet == "" {
		if !p.Action.IsScale() {
			return pass, nil
		}
		fleet = p.Resource.ID
		if size == 0 {
			size = p.Current.Desired
			empty = size == 0
		}
	}
	if size == 0 && !empty {
		return Result{Outcome: Block, Risk: RiskMedium,
			Reason:          fmt.Sprintf("fleet %q has unknown size: cannot bound the share acted on", fleet),
			Recommendations: []string{"set Proposal.FleetSize"}}, nil
	}
	if h, ok := r.history.(*MemoryHistory); ok {
		if err := h.checkKeep(r.p.Window); err != nil {
			return Result{}, err
		}
	}
	done, err := r.history.ActedOn(ctx, fleet, p.Now.Add(-r.p.Window))
	if err != nil {
		return Result{}, fmt.Errorf("history of fleet %q: %w", fleet, err)
	}
	if done < 0 {
		return Result{}, fmt.Errorf("history of fleet %q: %w", fleet, invalidf("acted_on", done, "must be ≥ 0 (a count of instances)"))
	}
	if p.FleetPlanned < 0 {
		return Result{}, invalidf("fleet_planned", p.FleetPlanned, "must be ≥ 0")
	}
	done = addCounts(done, p.FleetPlanned)
	planned := ""
	if p.FleetPlanned > 0 {
		planned = fmt.Sprintf(" (%d of them planned, not yet recorded)", p.FleetPlanned)
	}
	units := p.Units()
	if empty {
		// A scale_in of an empty group takes no instance (units is 0):
		// its share is 0 with nothing acted on in the window, and spent
		// (as a non-empty group's beyond the limit) with anything.
		if done == 0 {
			return pass, nil
		}
		return Result{Outcome: Block, Risk: RiskMedium,
			Reason: fmt.Sprintf("fleet %q: %d acted on in the last %s%s and none left (limit %.0f%%)",
				fleet, done, r.p.Window, planned, 100*r.p.MaxFleetShare),
			Factors:         []string{"fleet share spent"},
			Recommendations: []string{"spread the change over more than " + r.p.Window.String()}}, nil
	}
	share := float64(addCounts(done, units)) / float64(size)
	if share > r.p.MaxFleetShare+1e-9 {
		return Result{Outcome: Block, Risk: RiskMedium,
			Reason: fmt.Sprintf("fleet %q: %d of %d acted on in the last %s%s, %d more would make %.0f%% (limit %.0f%%)",
				fleet, done, size, r.p.Window, planned, units, 100*share, 100*r.p.MaxFleetShare),
			Factors:         []string{fmt.Sprintf("fleet share %.0f%%", 100*share)},
			Recommendations: []string{"spread the change over more than " + r.p.Window.String()}}, nil
	}
	return pass, nil
}

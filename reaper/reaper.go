package reaper

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/internal/nilcheck"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// Fleet is the cloud the reaper reads and acts on. A single driver usually
// fills every field (provider/memory does).
type Fleet struct {
	// Inventory lists and re-reads the resources. Required.
	Inventory provider.Inventory
	// Metrics reads their metrics for the detector. Required.
	Metrics provider.MetricsSource
	// Activity reads their activity, for the detector and again just
	// before the gate for a stop or terminate (the use since the run's
	// now). Optional: when nil, Metrics is used if it also implements
	// provider.ActivitySource.
	Activity provider.ActivitySource
	// Actuator stops and terminates. Required when Config.Execute is set
	// and stop or terminate is allowed.
	Actuator provider.Actuator
	// Resizer resizes. Required when Config.Execute is set and downsize is
	// allowed.
	Resizer provider.Resizer
}

// Sizer chooses the size a resource recommended for a downsize moves to.
//
// TargetSize returns the smaller size for r, valid for r's kind (see
// provider.Size.ValidateFor). An error means the reaper cannot downsize r:
// the resource fails at StageSize and nothing is done, as it does for a
// size with more vCPUs or memory than r's (where both give them: a
// downsize must not grow r; a provider.ErrInvalid naming the field). A size r already
// has (every field it sets is r's, as verification compares them; the
// type alone for an instance type) asks for no change: the resource is
// skipped. It must be safe for
// concurrent use, honour ctx and not retain r.
type Sizer interface {
	TargetSize(ctx context.Context, r provider.Resource) (provider.Size, error)
}

// SizerFunc adapts a function to a Sizer.
type SizerFunc func(ctx context.Context, r provider.Resource) (provider.Size, error)

// TargetSize calls f(ctx, r).
func (f SizerFunc) TargetSize(ctx context.Context, r provider.Resource) (provider.Size, error) {
	return f(ctx, r)
}

var _ Sizer = SizerFunc(nil)

// HistoryRecorder records the actions that happened, or may have (a
// provider call that failed without saying that nothing changed), for the
// safety engine's fleet share limit; *safety.MemoryHistory implements it.
//
// Record notes that units resources of fleet were acted on at at. It must
// be safe for concurrent use. An error is kept on the record (StageRecord),
// and the rest of the run counts the action against its fleet's share
// (safety.Proposal.FleetPlanned), since the history does not; the action
// itself is not undone.
type HistoryRecorder interface {
	Record(fleet string, at time.Time, units int) error
}

var _ HistoryRecorder = (*safety.MemoryHistory)(nil)

// Option configures a Reaper's wiring.
type Option func(*Reaper)

// WithClock sets the clock that Run and verification wait on. Default
// (also for nil): the real clock. A *clock.Mock from
// github.com/benbjohnson/clock satisfies it; a nil one is refused by New.
func WithClock(c clock.Clock) Option { return func(r *Reaper) { r.clock = c } }

// WithLogger sets the logger. Default: discard.
func WithLogger(l *slog.Logger) Option { return func(r *Reaper) { r.log = l } }

// WithObserver sends every Record and every report of Run to o (see
// Observer). Default: none; a nil o (or a nil pointer in it) means none.
func WithObserver(o Observer) Option { return func(r *Reaper) { r.observer = o } }

// WithApprovals turns proposals that the Gate sends for approval into
// approval requests in a (created only when Config.Execute is set), and
// executes them on a later run once a human approved them; see Approvals
// for what the reaper calls. Usually a is the *approval.Manager that the
// safety engine verifies approvals with (safety.WithApprovals), so that
// the engine accepts what a grants. Without it a proposal that needs
// approval is reported as such and never executed. Default: none; a nil a
// (or a nil *approval.Manager in it) means none.
func WithApprovals(a Approvals) Option { return func(r *Reaper) { r.approvals = a } }

// WithReserver reserves one ratelimit.Down event of one unit per action,
// with the resource ID as target, from rs before acting, usually a
// *ratelimit.Limiter; a denied reservation defers the action
// (OutcomeRateLimited). The reservation is refunded when the action fails
// before changing anything. Dry runs reserve nothing. Default: no rate
// limit; a nil rs (or a nil *ratelimit.Limiter in it) means none.
func WithReserver(rs Reserver) Option { return func(r *Reaper) { r.reserver = rs } }

// WithHistory records in h (the ActionHistory of the safety engine's
// limits rule) every action that happened or may have: one the provider
// accepted, and one whose call failed without saying that nothing
// changed. Default, and with a nil h: none. Required when executing with
// a Config.FleetTag: New refuses to run without it.
func WithHistory(h HistoryRecorder) Option { return func(r *Reaper) { r.history = h } }

// WithSizer sets how downsize targets are chosen; required when downsize is
// allowed (a nil s, or a nil SizerFunc, is none). Default: none.
func WithSizer(s Sizer) Option { return func(r *Reaper) { r.sizer = s } }

// Reaper runs the idle-reaping pipeline: inventory, detect, select, gate
// (and approval), reserve, act, verify and record. Make one with New.
//
// A Reaper is safe for concurrent use, but runs of one Reaper should not
// overlap: two runs may both act on the same resource (the provider's
// idempotence makes the second act a no-op).
type Reaper struct {
	cfg      Config
	fleet    Fleet
	detector detector.Detector
	gate     Gate

	clock     clock.Clock
	log       *slog.Logger
	observer  Observer
	approvals Approvals
	reserver  Reserver
	history   HistoryRecorder
	sizer     Sizer
}

// New returns a Reaper for cfg over fleet, judging resources with det and
// passing every action through gate (usually a *safety.Engine). It
// returns an error matching provider.ErrInvalid, naming the field, when
// cfg is invalid, a required dependency is nil (a nil *safety.Engine as
// gate too), Fleet.Activity is a nil pointer or func, an allowed action lacks
// what it needs (an Actuator to stop or terminate, a Resizer and a Sizer to
// downsize, when executing), or an executing reaper with a
// Config.FleetTag has no WithHistory (field "history": the fleet-share
// limit would count none of its actions). It keeps no slice or map of
// cfg (a later change of cfg changes nothing) and starts no goroutine.
func New(cfg Config, fleet Fleet, det detector.Detector, gate Gate, opts ...Option) (*Reaper, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.clone().withDefaults() // the caller's slices and maps stay theirs
	switch {
	case nilcheck.Is(fleet.Inventory):
		return nil, provider.Invalid("fleet.inventory", nil, "is required")
	case nilcheck.Is(fleet.Metrics):
		return nil, provider.Invalid("fleet.metrics", nil, "is required")
	case fleet.Activity != nil && nilcheck.Is(fleet.Activity):
		return nil, provider.Invalid("fleet.activity", fmt.Sprintf("%T", fleet.Activity), "must be nil (none) or a usable source, not a nil pointer or func")
	case nilcheck.Is(det):
		return nil, provider.Invalid("detector", nil, "is required")
	case nilcheck.Is(gate):
		return nil, provider.Invalid("gate", nil, "is required")
	}
	r := &Reaper{cfg: cfg, fleet: fleet, detector: det, gate: gate}
	for _, o := range opts {
		o(r)
	}
	switch {
	case r.clock == nil:
		r.clock = clock.Real{}
	case nilcheck.Is(r.clock):
		// Not a nil Clock (the default): a nil *clock.Mock would panic
		// at the first run.
		return nil, provider.Invalid("clock", fmt.Sprintf("%T", r.clock), "must not be a nil pointer")
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if nilcheck.Is(r.observer) {
		r.observer = ObserverFuncs{}
	}
	if nilcheck.Is(r.approvals) {
		r.approvals = nil
	}
	if nilcheck.Is(r.reserver) {
		r.reserver = nil
	}
	if nilcheck.Is(r.history) {
		r.history = nil
	}
	if nilcheck.Is(r.sizer) {
		r.sizer = nil
	}
	if cfg.Execute {
		if (cfg.allows(detector.ActionStop) || cfg.allows(detector.ActionTerminate)) && nilcheck.Is(fleet.Actuator) {
			return nil, provider.Invalid("fleet.actuator", nil, "is required to stop or terminate when executing")
		}
		if cfg.allows(detector.ActionDownsize) && nilcheck.Is(fleet.Resizer) {
			return nil, provider.Invalid("fleet.resizer", nil, "is required to downsize when executing")
		}
	}
	if cfg.allows(detector.ActionDownsize) && r.sizer == nil {
		return nil, provider.Invalid("sizer", nil, "WithSizer is required when downsize is allowed")
	}
	if cfg.Execute && cfg.FleetTag != "" && r.history == nil {
		// The fleet share would count nothing the reaper did: every
		// idle resource of a fleet could be stopped in one run.
		return nil, provider.Invalid("history", nil, "WithHistory is required when executing with fleet_tag "+
			strconv.Quote(cfg.FleetTag)+": the safety engine's fleet-share limit counts the actions the reaper records")
	}
	return r, nil
}

// Config returns the configuration with defaults filled in. It shares
// no slice or map with the Reaper (nor does New with the Config it was
// given): changing it changes nothing.
func (r *Reaper) Config() Config { return r.cfg.clone() }

package ratelimit

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/internal/nilcheck"
	"github.com/idlescale/idlescale/provider"
)

// Limiter decides whether scaling and reaping events may happen: per
// target and direction at most Events per Window, at most MaxUnits per
// event and at least MinInterval between events, plus an optional global
// budget over all targets. Every decision method has an ...At form that
// takes the time, so decisions are testable without a clock; the plain
// forms read the Limiter's Clock. Several Limiters with the same Config
// may share one Store (for example an etcd store shared by replicas) and
// together never exceed the budget; Limiters with different Configs do
// too when each is given the others' (WithPeers): they then hold to the
// strictest.
//
// A Limiter is safe for simultaneous use by multiple goroutines. Make one
// with New; every method of the zero value returns an error.
type Limiter struct {
	cfg    resolved
	store  Store
	clock  clock.Clock
	logger *slog.Logger
	pool   sync.Pool // *op: reused so that a reservation allocates nothing (see op)

	peers     Peers                   // nil: none
	peerCache atomic.Pointer[peerSet] // the peers' Configs, resolved
	memory    *MemoryStore            // the store, or the one it wraps, when a MemoryStore: it forgets departed targets
}

// memoryStore returns the MemoryStore s is, or wraps through Unwrap (up
// to maxUnwrap wrappers), or nil.
func memoryStore(s Store) *MemoryStore {
	for range maxUnwrap + 1 {
		if ms, ok := s.(*MemoryStore); ok {
			return ms
		}
		u, ok := s.(unwrapper)
		if !ok {
			return nil
		}
		if s = u.Unwrap(); s == nil || nilcheck.Is(s) {
			return nil
		}
	}
	return nil
}

// forget lets a MemoryStore drop the buckets no reservation can look at
// any more, after a reservation granted at now: those whose newest
// reservation is more than the longest keep (own and peers') and MaxSkew
// before now and the clock's now, whichever is earlier (a reservation
// stamped in the future drops nothing early). A reservation stamped no
// more than MaxSkew before that time is decided on a dropped bucket's
// events as on none: they are older than its rules look back, and its
// horizon too old to deny it. An earlier one, which the dropped bucket
// may have refused, is refused (ReasonSkew) by the store's floor, the
// Horizon of the buckets it holds none of (see MemoryStore).
func (l *Limiter) forget(now time.Time) {
	if l.memory == nil {
		return
	}
	keep := l.cfg.maxKeep()
	for _, p := range l.peerLimits() {
		keep = max(keep, p.maxKeep())
	}
	ref := now
	if c := l.clock.Now(); c.Before(ref) {
		ref = c
	}
	if outOfRange(ref) {
		return
	}
	margin := satAdd(int64(keep), int64(max(l.cfg.skew, 0)))
	l.memory.forget(satSub(ref.UnixNano(), margin), margin)
}

// retainer is a Store that keeps a bucket for a limited time after its
// last write (etcdstore.Store.Retention; 0: until deleted).
type retainer interface{ Retention() time.Duration }

// unwrapper is a Store that wraps another (a host's metrics or tracing
// around etcdstore.Store).
type unwrapper interface{ Unwrap() Store }

// maxUnwrap is the most wrappers (stores with an Unwrap method) the walk
// of retention goes through: the store under a chain of exactly maxUnwrap
// wrappers is checked, and a chain of more is an error, so that a wrapper
// that unwraps to itself cannot loop New.
const maxUnwrap = 32

// retention returns how long s, or the first store it wraps (Unwrap)
// that says, keeps a bucket after its last write, and that store; ok is
// false when none says (kept until deleted), or a wrapper unwraps to
// nothing (nil: it is the store). More than maxUnwrap wrappers (one that
// unwraps to itself) are an error: the check cannot be made.
func retention(s Store) (keep time.Duration, by Store, ok bool, err error) {
	for wrappers := 0; ; wrappers++ {
		if rs, ok := s.(retainer); ok {
			return rs.Retention(), s, true, nil
		}
		u, ok := s.(unwrapper)
		if !ok {
			return 0, nil, false, nil
		}
		next := u.Unwrap()
		if next == nil || nilcheck.Is(next) {
			return 0, nil, false, nil // s is the store, not a wrapper
		}
		if wrappers == maxUnwrap {
			// s is the chain's maxUnwrap+1st wrapper: it was walked
			// through maxUnwrap of them and the wrapped store stayed
			// out of reach.
			return 0, nil, false, provider.Invalid("store", fmt.Sprintf("%T", s), fmt.Sprintf(
				"unwraps through more than %d wrappers (one that unwraps to itself?): the retention of the store it wraps cannot be checked", maxUnwrap))
		}
		s = next
	}
}

// Option configures a Limiter's wiring.
type Option func(*Limiter)

// WithStore sets the Store of the histories. Default (also for nil or a
// nil *MemoryStore): a new MemoryStore. A nil pointer of another Store
// type is an error of New.
func WithStore(s Store) Option { return func(l *Limiter) { l.store = s } }

// WithClock sets the clock that Reserve, Cancel, Stats and Wait read.
// Default (also for nil): the real clock. A nil pointer is an error of
// New.
func WithClock(c clock.Clock) Option { return func(l *Limiter) { l.clock = c } }

// WithLogger sets the logger that reports store failures. Default:
// discard.
func WithLogger(lg *slog.Logger) Option { return func(l *Limiter) { l.logger = lg } }

// New returns a Limiter for cfg. It returns a *provider.InvalidError when
// cfg is invalid (see Config.Validate), when the store keeps a bucket for
// less than cfg.History, or than a budget's MinInterval, or Window an
// Events rule counts in (not one beside Events -1), with MaxSkew, after
// its last write (a store with a Retention() time.Duration method, as
// etcdstore.Store: its leases; a store that wraps another and has an
// Unwrap() Store method is checked by the store it wraps, through a chain
// of up to 32 such wrappers: a 33rd, as one that unwraps to itself, is an
// error, since the check cannot be made), or
// when WithStore or WithClock was given a nil pointer (other than a nil
// *MemoryStore, which means the default). It starts no goroutine.
func New(cfg Config, opts ...Option) (*Limiter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("ratelimit: config: %w", err)
	}
	r, err := cfg.resolve()
	if err != nil {
		return nil, fmt.Errorf("ratelimit: config: %w", err)
	}
	l := &Limiter{cfg: r}
	for _, o := range opts {
		o(l)
	}
	if ms, ok := l.store.(*MemoryStore); l.store == nil || (ok && ms == nil) {
		l.store = NewMemoryStore()
	}
	if l.clock == nil {
		l.clock = clock.Real{}
	}
	// A nil pointer of another type (a nil *etcdstore.Store) passes the
	// tests above and would panic on first use.
	if nilcheck.Is(l.store) {
		return nil, fmt.Errorf("ratelimit: %w", provider.Invalid("store", fmt.Sprintf("%T", l.store), "is a nil pointer"))
	}
	if nilcheck.Is(l.clock) {
		return nil, fmt.Errorf("ratelimit: %w", provider.Invalid("clock", fmt.Sprintf("%T", l.clock), "is a nil pointer"))
	}
	// A store that forgets a bucket some time after its last write (the
	// leases of ratelimit/etcdstore) must keep it as long as the bucket
	// keeps the events its rules count: the whole history, and a window
	// an Events rule counts in (or an interval) with MaxSkew (a replica
	// whose clock is behind still counts its events), or a bucket left
	// alone for longer loses events its windows still count, and the
	// budget is exceeded without a word.
	// A host's wrapper around such a store (metrics, tracing) hid its
	// Retention, and the check was skipped: retention walks Unwrap.
	keep, by, ok, err := retention(l.store)
	if err != nil {
		return nil, fmt.Errorf("ratelimit: %w", err)
	}
	if ok {
		if need := l.cfg.minRetention(); keep > 0 && need > keep {
			why := fmt.Sprintf("must not exceed the %v the store (%T) keeps a bucket after its last write; raise its lease", keep, by)
			if need > l.cfg.history {
				why = fmt.Sprintf("with a window and MaxSkew (%v), buckets keep their events %v, more than the %v the store (%T) keeps a bucket after its last write; raise its lease or shorten the window",
					l.cfg.skew, need, keep, by)
			}
			return nil, fmt.Errorf("ratelimit: config: %w", provider.Invalid("history", l.cfg.history, why))
		}
	}
	if l.logger == nil {
		l.logger = slog.New(slog.DiscardHandler)
	}
	if nilcheck.Is(l.peers) {
		l.peers = nil
	}
	l.memory = memoryStore(l.store)
	l.pool.New = func() any {
		o := &op{l: l}
		o.fn = o.apply
		return o
	}
	return l, nil
}

// Reserve is ReserveAt at the Limiter's clock's now.
func (l *Limiter) Reserve(ctx context.Context, req Request) (Reservation, error) {
	if err := l.made(); err != nil {
		return deny(req, time.Time{}, ReasonInvalid), fmt.Errorf("ratelimit: reserve: %w", err)
	}
	return l.ReserveAt(ctx, l.clock.Now(), req)
}

// ReserveAt decides req at now and, when it is granted (Allowed or
// Clamped), records one event of the granted units in the history. A
// request of Both is one event too: it must fit the target's Up and Down
// budgets (its units clamped to the smaller MaxUnits), is recorded in
// both of the target's buckets and once in the global bucket, and
// CancelAt refunds it from all of them. A denied reservation records
// nothing. now need not be later than earlier
// reservations' times (see "Time order" in the package documentation):
// the budget holds in every window around now, and a now more than
// Config.MaxSkew before a bucket's newest reservation is denied with
// ReasonSkew. The returned error is nil for
// Allowed, Clamped and Denied-by-budget; it is a *provider.InvalidError
// for an invalid request or now (ReasonInvalid) and a *StoreError when the
// store fails (ReasonStore): both come with a Denied reservation, so the
// limiter fails closed.
func (l *Limiter) ReserveAt(ctx context.Context, now time.Time, req Request) (Reservation, error) {
	if err := l.made(); err != nil {
		return deny(req, now, ReasonInvalid), fmt.Errorf("ratelimit: reserve: %w", err)
	}
	if err := validateRequest(now, req); err != nil {
		return deny(req, now, ReasonInvalid), fmt.Errorf("ratelimit: reserve: %w", err)
	}
	o := l.newOp(opReserve, now, req, newID())
	err := l.store.Update(ctx, o.keys[:o.n], o.fn)
	d, id, rounded := o.res, o.id, o.now
	l.freeOp(o)
	if err != nil {
		l.logger.LogAttrs(ctx, slog.LevelWarn, "ratelimit: store failed; event denied",
			slog.String("target", req.Target), slog.String("direction", req.Direction.String()),
			slog.Any("error", err))
		return deny(req, now, ReasonStore), &StoreError{Op: "reserve", Err: err}
	}
	res := Reservation{Request: req, At: now, Outcome: d.outcome, Granted: d.granted,
		Reason: d.reason, Scope: d.scope, Next: rounded.Add(d.next)}
	if d.outcome != Denied {
		res.ID = id
		l.forget(rounded)
	}
	return res, nil
}

// ReservesBoth reports true: ReserveAt and CancelAt take a Request of
// Both. It tells a caller that accepts other reservers, as the scaling
// engine does (scaling.BothReserver), that a change of unknown direction
// can be reserved as one event; a wrapper around a Limiter forwards it.
func (l *Limiter) ReservesBoth() bool { return true }

// deny returns the Denied reservation of req at now for a reason that has
// no budget behind it (an invalid request, a store failure): no Next.
func deny(req Request, now time.Time, why Reason) Reservation {
	return Reservation{Request: req, At: now, Outcome: Denied, Reason: why}
}

// Cancel is CancelAt at the Limiter's clock's now.
func (l *Limiter) Cancel(ctx context.Context, r Reservation) error {
	if err := l.made(); err != nil {
		return fmt.Errorf("ratelimit: cancel: %w", err)
	}
	return l.CancelAt(ctx, l.clock.Now(), r)
}

// CancelAt refunds a granted reservation whose action failed before it
// changed anything: its event is removed from the history, so it counts
// neither against the window nor against the interval. Cancelling a
// denied, already cancelled or already pruned reservation does nothing,
// as does one whose Request no longer names the target and direction the
// event was reserved for.
// now must be valid (as for ReserveAt) but decides nothing: the bucket
// keeps its horizon (see History), so reservations stamped more than
// Config.MaxSkew before the cancelled one stay denied. It returns a
// *StoreError when the store fails, in which case the event may still
// count.
func (l *Limiter) CancelAt(ctx context.Context, now time.Time, r Reservation) error {
	if err := l.made(); err != nil {
		return fmt.Errorf("ratelimit: cancel: %w", err)
	}
	if !r.OK() || r.ID == 0 {
		return nil
	}
	if err := validateRequest(now, r.Request); err != nil {
		return fmt.Errorf("ratelimit: cancel: %w", err)
	}
	o := l.newOp(opCancel, now, r.Request, r.ID)
	err := l.store.Update(ctx, o.keys[:o.n], o.fn)
	l.freeOp(o)
	if err != nil {
		l.logger.LogAttrs(ctx, slog.LevelWarn, "ratelimit: store failed; cancel not recorded",
			slog.Uint64("id", r.ID), slog.Any("error", err))
		return &StoreError{Op: "cancel", Err: err}
	}
	return nil
}

// Wait reserves req, waiting on the Limiter's clock while it is denied by
// the budget. It returns the granted reservation; ctx's error when ctx
// ends first, or at once when ctx has less time left than the wait until
// the next allowed time (on the Limiter's clock); and the error of
// ReserveAt (store failure, invalid request) at once, since waiting would
// not help.
func (l *Limiter) Wait(ctx context.Context, req Request) (Reservation, error) {
	if err := l.made(); err != nil {
		return deny(req, time.Time{}, ReasonInvalid), fmt.Errorf("ratelimit: wait: %w", err)
	}
	for {
		now := l.clock.Now()
		r, err := l.ReserveAt(ctx, now, req)
		if err != nil || r.OK() {
			return r, err
		}
		if r.Next.IsZero() {
			return r, fmt.Errorf("ratelimit: wait: %s: no time is allowed", r)
		}
		// The deadline is a real time and Next one on the Limiter's clock:
		// compare what is left of ctx with the wait.
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < r.Next.Sub(now) {
			return r, fmt.Errorf("ratelimit: wait: %s: after the deadline %s: %w",
				r, dl.UTC().Format(time.RFC3339), context.DeadlineExceeded)
		}
		select {
		case <-ctx.Done():
			return r, fmt.Errorf("ratelimit: wait: %w", ctx.Err())
		case <-l.clock.After(r.Next.Sub(now)):
		}
	}
}

// made returns an error naming the Limiter when it is a zero value, not
// made by New.
func (l *Limiter) made() error {
	if l == nil {
		return provider.Invalid("limiter", nil, "is a nil *ratelimit.Limiter")
	}
	if l.store == nil {
		return provider.Invalid("limiter", "ratelimit.Limiter{}", "was not made with New")
	}
	return nil
}

// newOp takes an op from the pool and sets it up for one update of the
// buckets of req's target and direction (Up and Down for Both) and the
// global bucket when Config.Global, or a peer's, sets a budget: the
// target's buckets first, the global one last.
func (l *Limiter) newOp(kind opKind, now time.Time, req Request, id uint64) *op {
	o := l.pool.Get().(*op)
	o.kind, o.now, o.req, o.id = kind, now.Round(0), req, id
	o.res = decision{outcome: Denied} // what stands if the Store never calls fn
	dirs := [2]Direction{req.Direction}
	o.targets = 1
	if req.Direction == Both {
		dirs, o.targets = [2]Direction{Up, Down}, 2
	}
	g := o.targets // the global bucket's index, when it has one
	for i, d := range dirs[:o.targets] {
		o.keys[i] = Key{Target: req.Target, Direction: d}
		o.lims[i] = l.cfg.limitFor(req.Target, d)
	}
	o.lims[g] = l.cfg.global
	for i := range o.more {
		o.more[i] = o.more[i][:0]
	}
	global := l.cfg.global.active()
	for _, p := range l.peerLimits() {
		for i, d := range dirs[:o.targets] {
			o.more[i] = append(o.more[i], p.limitFor(req.Target, d))
		}
		if p.global.active() {
			o.more[g] = append(o.more[g], p.global)
			global = true
		}
	}
	o.n = o.targets
	if global {
		o.keys[g] = GlobalKey
		o.n++
	}
	return o
}

// freeOp returns o to the pool, dropping the caller's target name.
func (l *Limiter) freeOp(o *op) {
	o.req.Target = ""
	for i := range o.keys {
		o.keys[i].Target = ""
	}
	l.pool.Put(o)
}

// The range of times the limiter computes with, well inside the range of
// Unix nanoseconds (1678 to 2262): from the first instant of 1900 to
// before the first of 2200 (UTC), the times a Store's history holds.
var (
	minTime = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// outOfRange reports whether now is outside the limiter's times.
func outOfRange(now time.Time) bool { return now.Before(minTime) || !now.Before(maxTime) }

func validateRequest(now time.Time, req Request) error {
	if outOfRange(now) {
		return provider.Invalid("now", now, "must be in the years 1900 to 2199 (UTC)")
	}
	if err := ValidateTarget("request.target", req.Target); err != nil {
		return err
	}
	if err := req.Direction.Validate(); err != nil {
		return provider.Within("request", err)
	}
	if req.Units <= 0 {
		return provider.Invalid("request.units", req.Units, "must be positive")
	}
	return nil
}

func newID() uint64 {
	for {
		if id := rand.Uint64(); id != 0 {
			return id
		}
	}
}

type opKind uint8

const (
	opReserve opKind = iota
	opCancel
)

// op is one store update: its input, the function the Store calls and the
// decision. The Store interface makes fn and its state escape to the heap,
// so ops are pooled: BenchmarkLimiterReserve allocates nothing with the
// pool and two objects (400 B) per reservation without it, which takes it
// from about 185 to about 330 ns.
type op struct {
	l       *Limiter
	fn      func([]*History) (bool, error)
	kind    opKind
	now     time.Time
	req     Request
	id      uint64
	n       int // buckets: targets, and the global one when a budget sets it
	targets int // the target's buckets: 1, or 2 (Up, Down) for Both
	keys    [3]Key
	lims    [3]limit
	more    [3][]limit // the peers' limits of each bucket (WithPeers)
	res     decision
}

// keep returns how long bucket i keeps its events: the longest of its
// limits'.
func (o *op) keep(i int) time.Duration {
	k := o.lims[i].keep
	for _, p := range o.more[i] {
		k = max(k, p.keep)
	}
	return k
}

// maxUnits returns the largest event bucket i allows: the smallest of
// its limits' (0: unlimited).
func (o *op) maxUnits(i int) int {
	m := o.lims[i].maxUnits
	for _, p := range o.more[i] {
		if p.maxUnits > 0 && (m == 0 || p.maxUnits < m) {
			m = p.maxUnits
		}
	}
	return m
}

// checkable returns the earliest time (Unix nanoseconds) an event of
// bucket i, whose newest event is at horizon, can be checked at by every
// one of its limits (see limit.checkable).
func (o *op) checkable(i int, horizon, now int64) int64 {
	c := o.lims[i].checkable(horizon, now, o.l.cfg.skew)
	for _, p := range o.more[i] {
		c = max(c, p.checkable(horizon, now, o.l.cfg.skew))
	}
	return c
}

// decision is what reserve decided; ReserveAt makes the Reservation from
// it. It is kept small since it is written in the heap-allocated op.
type decision struct {
	outcome Outcome
	reason  Reason
	scope   Scope
	granted int
	next    time.Duration // Next − now
}

func (o *op) apply(hs []*History) (bool, error) {
	// A broken Store may pass other histories than it was asked for: fail
	// closed rather than index past them.
	if len(hs) != o.n || slices.Contains(hs, nil) {
		return false, fmt.Errorf("%w: the store passed %d histories (nil among them: %t) for the %d keys %v",
			ErrCorrupt, len(hs), slices.Contains(hs, nil), o.n, o.keys[:o.n])
	}
	if o.kind == opCancel {
		return o.cancel(hs), nil
	}
	return o.reserve(hs), nil
}

func (o *op) cancel(hs []*History) bool {
	found := false
	for _, h := range hs {
		// Only the event of the request's own target and direction: the
		// global bucket holds every target's events, and a Reservation
		// whose Request was changed must not refund another's there.
		if i := h.find(o.id, time.Time{}); i >= 0 && h.Events[i].Target == o.req.Target && h.Events[i].Direction == o.req.Direction {
			found = true
			if last := h.Events[len(h.Events)-1].At; h.Horizon.Before(last) {
				// A history written before Horizon existed: its newest
				// event is the horizon (see horizon), kept when that
				// event goes.
				h.Horizon = last
			}
			h.Events = append(h.Events[:i], h.Events[i+1:]...)
		}
	}
	if found {
		for i, h := range hs {
			h.prune(satSub(h.horizon(), int64(o.keep(i))))
		}
	}
	return found
}

// The decisions compute in Unix nanoseconds (validateRequest keeps now in
// range) and convert back to time.Time once, relative to now, so that
// Next keeps now's location.

func (o *op) reserve(hs []*History) bool {
	now := o.now
	// A retried update finds its own event when an earlier attempt was
	// committed after all: report that event instead of adding another.
	if i := hs[0].find(o.id, now); i >= 0 {
		e := hs[0].Events[i]
		o.res = o.granted(hs, e.Units)
		return false
	}
	nowN := now.UnixNano()
	// A reservation stamped more than MaxSkew before a bucket's newest
	// one cannot be checked: the events of its window may have been
	// pruned. It may go ahead from that bound on.
	from, stale := nowN, -1
	var horizons [len(o.keys)]int64
	for i, h := range hs {
		horizons[i] = h.horizon()
		if oldest := o.checkable(i, horizons[i], nowN); oldest > from {
			from, stale = oldest, i
		}
	}
	next, reason, scope := o.nextAllowed(hs, from)
	if stale >= 0 {
		reason, scope = ReasonSkew, o.scopeOf(stale)
	}
	if next > nowN {
		o.res = decision{outcome: Denied, reason: reason, scope: scope, next: time.Duration(next - nowN)}
		return false
	}
	granted := o.req.Units
	for i := range hs {
		if m := o.maxUnits(i); m > 0 && granted > m {
			granted = m
			reason, scope = ReasonUnits, o.scopeOf(i)
		}
	}
	for i, h := range hs {
		if nowN >= horizons[i] {
			h.Horizon, horizons[i] = now, nowN
		}
		h.prune(satSub(horizons[i], int64(o.keep(i))))
		h.insert(Event{ID: o.id, At: now, Units: granted, Target: o.req.Target, Direction: o.req.Direction})
	}
	o.res = o.granted(hs, granted)
	o.res.reason, o.res.scope = reason, scope
	return true
}

// granted builds the decision of an event already in hs.
func (o *op) granted(hs []*History, units int) decision {
	res := decision{granted: units, outcome: Allowed}
	if units < o.req.Units {
		res.outcome = Clamped
		res.reason, res.scope = ReasonUnits, ScopeGlobal
		for i := range o.targets {
			if m := o.maxUnits(i); m > 0 && m <= units {
				res.scope = ScopeTarget
			}
		}
	}
	nowN := o.now.UnixNano()
	next, _, _ := o.nextAllowed(hs, nowN)
	res.next = time.Duration(next - nowN)
	return res
}

// nextAllowed returns the earliest time at or after t (Unix nanoseconds)
// at which every bucket's rules (its own limit's and its peers', see
// WithPeers) allow one more event, with the rule and scope that set it
// (ReasonNone when t itself is allowed). It moves from rule to rule until
// every one allows the same time.
func (o *op) nextAllowed(hs []*History, t int64) (int64, Reason, Scope) {
	next, window, bucket := t, false, 0
	for moved := true; moved; {
		moved = false
		for i, h := range hs {
			if n, w := o.lims[i].nextFrom(h.Events, next); n != next {
				next, window, bucket, moved = n, w, i, true
			}
			for j := range o.more[i] {
				if n, w := o.more[i][j].nextFrom(h.Events, next); n != next {
					next, window, bucket, moved = n, w, i, true
				}
			}
		}
	}
	switch {
	case next == t:
		return t, ReasonNone, ScopeNone
	case window:
		return next, ReasonWindow, o.scopeOf(bucket)
	}
	return next, ReasonInterval, o.scopeOf(bucket)
}

// scopeOf returns the scope of bucket i: the target's (Up, Down) or the
// global one.
func (o *op) scopeOf(i int) Scope {
	if i < o.targets {
		return ScopeTarget
	}
	return ScopeGlobal
}

// nextFrom returns the earliest time at or after t (Unix nanoseconds) at
// which lim allows one more event among ev (sorted by time, possibly with
// events after t) and, when that is after t, whether the rule that delays
// it to then is the window (else the interval).
//
// MinInterval I refuses an event at x when some event e has |x−e| < I:
// x in the open interval (e−I, e+I). Events E per Window W refuses x when
// x and E events that follow each other in time, a = ev[j] … b =
// ev[j+E−1], would all lie in one window, that is when max(x, b) −
// min(x, a) < W: when b − a < W and x is in (b−W, a+W). (Any E+1
// consecutive events that include x are x and E consecutive others.) The
// refused times are the
// union of these intervals. Both families are sorted by their start and by
// their end, so one merge pass from the first interval that ends after t
// finds where the intervals covering t end. When no event is after t (the
// usual case) this is the rule in time order: t is refused until the last
// event plus I, or the E-th newest event plus W.
func (lim *limit) nextFrom(ev []Event, t int64) (next int64, window bool) {
	n := len(ev)
	next = t
	if n == 0 {
		return next, false
	}
	if last := ev[n-1].At.UnixNano(); last <= t {
		// In time order (the usual case), every interval starts at or
		// before t: t is refused until the latest of their ends.
		if lim.interval > 0 {
			if end := satAdd(last, int64(lim.interval)); end > next {
				next, window = end, false
			}
		}
		if lim.events > 0 && n >= lim.events {
			if end := satAdd(ev[n-lim.events].At.UnixNano(), int64(lim.window)); end > next {
				next, window = end, true
			}
		}
		return next, window
	}
	in, w, wEnd := n, 0, -1 // next interval-rule event; next and last window-rule run
	if lim.interval > 0 {
		in = firstAfter(ev, satSub(t, int64(lim.interval)))
	}
	if lim.events > 0 && n >= lim.events {
		w, wEnd = firstAfter(ev, satSub(t, int64(lim.window))), n-lim.events
	}
	for {
		var startIn, startW int64
		if in < n {
			startIn = satSub(ev[in].At.UnixNano(), int64(lim.interval))
		}
		if w <= wEnd {
			startW = satSub(ev[w+lim.events-1].At.UnixNano(), int64(lim.window))
		}
		var start, end int64
		var why bool
		switch {
		case in < n && (w > wEnd || startIn <= startW):
			start, end, why = startIn, satAdd(ev[in].At.UnixNano(), int64(lim.interval)), false
			in++
		case w <= wEnd:
			first := ev[w].At.UnixNano()
			w++
			if first <= startW {
				continue // b − a ≥ W: these E events never fit in one window
			}
			start, end, why = startW, satAdd(first, int64(lim.window)), true
		default:
			return next, window
		}
		if start >= next {
			return next, window
		}
		if end > next {
			next, window = end, why
		}
	}
}

// firstAfter returns the index of the first event of ev (sorted) after t
// (Unix nanoseconds), or len(ev).
func firstAfter(ev []Event, t int64) int {
	lo, hi := 0, len(ev)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ev[m].At.UnixNano() <= t {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// satAdd and satSub add and subtract a non-negative d, saturating at the
// ends of int64.
func satAdd(t, d int64) int64 {
	if t > math.MaxInt64-d {
		return math.MaxInt64
	}
	return t + d
}

func satSub(t, d int64) int64 {
	if t < math.MinInt64+d {
		return math.MinInt64
	}
	return t - d
}

// horizon returns the time (Unix nanoseconds) of the newest reservation
// the bucket has seen: Horizon, or its newest event when that is later
// (histories written before Horizon existed); MinInt64 when it has seen
// none.
func (h *History) horizon() int64 {
	t := int64(math.MinInt64)
	if !h.Horizon.IsZero() {
		t = h.Horizon.UnixNano()
	}
	if n := len(h.Events); n > 0 {
		if last := h.Events[n-1].At.UnixNano(); last > t {
			t = last
		}
	}
	return t
}

// find returns the index of the event with id, searching back from the
// newest event down to those at since (all events when since is zero), or
// -1.
func (h *History) find(id uint64, since time.Time) int {
	for i := len(h.Events) - 1; i >= 0; i-- {
		e := &h.Events[i]
		if e.ID == id {
			return i
		}
		if !since.IsZero() && e.At.Before(since) {
			return -1
		}
	}
	return -1
}

// prune drops events at or before cutoff (Unix nanoseconds). It reslices
// from the front;
// insert compacts the backing array when it fills up, so pruning one event
// per reservation copies O(1) events per call on average.
func (h *History) prune(cutoff int64) {
	k := 0
	for k < len(h.Events) && h.Events[k].At.UnixNano() <= cutoff {
		k++
	}
	if k == 0 {
		return
	}
	clear(h.Events[:k]) // release target strings
	h.Events = h.Events[k:]
}

// owned reports whether Events lies at the end of buf, the array it was
// allocated in by insert.
func (h *History) owned() bool {
	cb, ce := cap(h.buf), cap(h.Events)
	return cb > 0 && ce > 0 && &h.buf[:cb][cb-1] == &h.Events[:ce][ce-1]
}

// insert adds e keeping the events sorted by time (stable: after events at
// the same instant).
func (h *History) insert(e Event) {
	if len(h.Events) == cap(h.Events) && h.owned() && cap(h.buf) > len(h.Events) {
		// The front of buf was freed by prune: move the events down.
		n := copy(h.buf[:cap(h.buf)], h.Events)
		clear(h.buf[n:cap(h.buf)])
		h.Events = h.buf[:n]
	}
	before := cap(h.Events)
	i := len(h.Events)
	for i > 0 && h.Events[i-1].At.After(e.At) {
		i--
	}
	h.Events = append(h.Events, Event{})
	if cap(h.Events) != before || h.buf == nil {
		h.buf = h.Events[:0]
	}
	copy(h.Events[i+1:], h.Events[i:])
	h.Events[i] = e
}

package ratelimit

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// Stats is a snapshot of the limiter's budgets for dashboards.
type Stats struct {
	// At is the time the snapshot was computed for.
	At time.Time `json:"at"`
	// Buckets holds one entry per bucket with events in the history: the
	// global bucket first (when Config.Global sets a budget), then by
	// target and direction.
	Buckets []BucketStats `json:"buckets"`
}

// BucketStats is the state of one budget.
type BucketStats struct {
	// Key names the bucket.
	Key Key `json:"key"`
	// Budget is the bucket's budget in the Limiter's own Config, with -1
	// for unlimited values (the peers' of WithPeers are not shown, though
	// Remaining and Next count them).
	Budget Budget `json:"budget"`
	// InWindow is the number of events in the window ending At.
	InWindow int `json:"in_window"`
	// UnitsInWindow is the sum of their granted units, at most the
	// largest int.
	UnitsInWindow int `json:"units_in_window"`
	// Remaining is how many more events the window allows at At: the
	// budget's Events less the events of the fullest window an event at At
	// would join (events after At count too: reservations may arrive out
	// of order); -1 when Events is unlimited. Never negative otherwise.
	// With peers (WithPeers), the fewest any of their budgets or the
	// Limiter's own leaves, as ReserveAt decides. The interval may still
	// hold the next one back: see Next.
	Remaining int `json:"remaining"`
	// Kept is the number of events kept in the history at At: those of
	// the last Config.History, or of the bucket's longer of Window and
	// MinInterval plus MaxSkew when that is longer (see Config.History);
	// for the global bucket, those of the longer of its Window and
	// MinInterval plus MaxSkew, all it keeps, so that Kept may exceed
	// InWindow there.
	Kept int `json:"kept"`
	// Last is the time of the latest event; zero if none.
	Last time.Time `json:"last,omitzero"`
	// Next is the earliest time this bucket allows an event: At when it
	// allows one now. As ReserveAt, it is no earlier than Config.MaxSkew
	// before the bucket's newest event, and with peers (WithPeers) every
	// one of their budgets must allow it too.
	Next time.Time `json:"next"`
}

// Stats is StatsAt at the Limiter's clock's now.
func (l *Limiter) Stats(ctx context.Context) (Stats, error) {
	if err := l.made(); err != nil {
		return Stats{}, fmt.Errorf("ratelimit: stats: %w", err)
	}
	return l.StatsAt(ctx, l.clock.Now())
}

// StatsAt returns a snapshot of every bucket with events in the history,
// evaluated at now. It returns a *StoreError when the store fails and a
// *provider.InvalidError when now is zero or outside the years 1900 to
// 2199 (UTC).
func (l *Limiter) StatsAt(ctx context.Context, now time.Time) (Stats, error) {
	if err := l.made(); err != nil {
		return Stats{}, fmt.Errorf("ratelimit: stats: %w", err)
	}
	if outOfRange(now) {
		return Stats{}, fmt.Errorf("ratelimit: stats: %w", provider.Invalid("now", now, "must be in the years 1900 to 2199 (UTC)"))
	}
	bs, err := l.store.Snapshot(ctx)
	if err != nil {
		return Stats{}, &StoreError{Op: "stats", Err: err}
	}
	SortBuckets(bs)
	peers := l.peerLimits()
	st := Stats{At: now, Buckets: make([]BucketStats, 0, len(bs))}
	var more []limit
	for _, b := range bs {
		lim := l.cfg.global
		more = more[:0]
		for _, p := range peers {
			switch {
			case !b.Key.IsGlobal():
				more = append(more, p.limitFor(b.Key.Target, b.Key.Direction))
			case p.global.active():
				more = append(more, p.global)
			}
		}
		if !b.Key.IsGlobal() {
			lim = l.cfg.limitFor(b.Key.Target, b.Key.Direction)
		}
		bs := bucketStats(b, lim, more, l.cfg.skew, now)
		if bs.Kept == 0 && !b.Key.IsGlobal() {
			// Every event left the history: the store keeps the bucket
			// until it is next written (a MemoryStore) or its lease ends
			// (etcd), but it has nothing to show.
			continue
		}
		st.Buckets = append(st.Buckets, bs)
	}
	return st, nil
}

// bucketStats returns the state of bucket b by its own limit lim and, as
// ReserveAt decides, by the peers' limits more (see WithPeers): Next and
// Remaining are the strictest of them, Budget and the window's counts
// lim's.
func bucketStats(b Bucket, lim limit, more []limit, skew time.Duration, now time.Time) BucketStats {
	h := b.History
	nowN := now.UnixNano()
	horizon := h.horizon() // before pruning, as ReserveAt reads it
	keep := lim.keep
	from := lim.checkable(horizon, nowN, skew)
	for _, p := range more {
		keep = max(keep, p.keep)
		from = max(from, p.checkable(horizon, nowN, skew))
	}
	h.prune(satSub(nowN, int64(keep)))
	bs := BucketStats{Key: b.Key, Budget: lim.budget(), Kept: len(h.Events), Remaining: -1, Next: now}
	if n := len(h.Events); n > 0 {
		bs.Last = h.Events[n-1].At
	}
	if lim.window > 0 {
		start := now.Add(-lim.window)
		for _, e := range h.Events {
			if e.At.After(start) && !e.At.After(now) {
				bs.InWindow++
				bs.UnitsInWindow = satAddInt(bs.UnitsInWindow, e.Units)
			}
		}
	}
	// As ReserveAt: an event more than MaxSkew before the bucket's
	// newest one cannot be checked, and goes ahead from that bound on.
	// As ReserveAt, from rule to rule until every one allows the same
	// time.
	lims := append([]limit{lim}, more...)
	next := from
	for moved := true; moved; {
		moved = false
		for _, l := range lims {
			if n, _ := l.nextFrom(h.Events, next); n != next {
				next, moved = n, true
			}
		}
	}
	if next > nowN {
		bs.Next = now.Add(time.Duration(next - nowN))
	}
	for _, l := range lims {
		if l.events > 0 {
			r := max(l.events-fullestWindow(h.Events, l.window, now), 0)
			if bs.Remaining < 0 || r < bs.Remaining {
				bs.Remaining = r
			}
		}
	}
	return bs
}

// satAddInt returns a+b for non-negative ints, at most the largest int.
func satAddInt(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

// fullestWindow returns the most events of evs (sorted by time) in one
// window of width w that holds at: the windows (t−w, t] for t from at to
// at+w, which an event at at joins. Events later than at count as much as
// earlier ones (reservations arrive out of order).
func fullestWindow(evs []Event, w time.Duration, at time.Time) int {
	count := func(end time.Time) int {
		n := 0
		for _, e := range evs {
			if e.At.After(end.Add(-w)) && !e.At.After(end) {
				n++
			}
		}
		return n
	}
	most := count(at)
	for _, e := range evs {
		if e.At.After(at) && e.At.Before(at.Add(w)) {
			most = max(most, count(e.At))
		}
	}
	return most
}

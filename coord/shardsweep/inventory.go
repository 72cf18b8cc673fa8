package shardsweep

import (
	"context"
	"sync"
	"time"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/coord"
	"github.com/idlescale/idlescale/provider"
)

// listings shares one listing of the inventory among the shard passes of
// a replica: the passes of one period (a replica's shards all start theirs
// at the period's start + Delay) list it once instead of once per shard,
// which at a million resources and dozens of shards per replica is most of
// the inventory API's load and of the replica's memory. A listing serves
// the passes of its period that start within Delay of when it was made;
// a later pass (a new leader finishing a period its predecessor left)
// lists again. A listing that fails serves no one: the passes waiting for
// it list on their own. A listing older than Delay serves no new pass and
// is forgotten as soon as it is (by expire, which Run runs; the passes it
// serves keep their shard's part until they end), so that a replica does
// not hold a fleet's listing between its sweeps.
type listings struct {
	mu   sync.Mutex
	byAt map[time.Time]*listing // by period
	made chan struct{}          // signalled (without blocking) when a listing is put: see expire
}

// listing is one listing of the inventory, split by shard. It keeps the
// parts of the shards the replica led when it was made (and of the shard
// that made it): a replica holds its share of the fleet, not the fleet.
type listing struct {
	at     time.Time        // when it was started, on the runner's clock
	old    <-chan time.Time // fires once it is older than Delay, on the runner's clock
	moved  <-chan time.Time // as old, set when the clock moved on as old was set (see Runner.at); nil otherwise
	done   chan struct{}    // closed when shards or err is set
	shards map[int][]provider.Resource
	kept   map[int]bool // the shards whose part is kept, set with done
	err    error
}

// resources returns the resources of shard k for period, listing the
// inventory unless another pass of the same period listed it within
// Delay. The slice is the listing's: read it, do not change it.
func (r *Runner) resources(ctx context.Context, k int, period time.Time) ([]provider.Resource, error) {
	for {
		now := r.clock.Now()
		r.lists.mu.Lock()
		l := r.lists.byAt[period]
		mine := l == nil || now.Sub(l.at) > r.cfg.Delay || l.failed() || l.lacks(k)
		if mine {
			// The timer starts now, with the listing: expire waits on it,
			// and a fake clock moved on after this call fires it.
			l = &listing{at: now, done: make(chan struct{})}
			l.old, l.moved = r.at(now.Add(r.cfg.Delay + time.Nanosecond))
			r.lists.put(period, l, r.cfg.Delay)
		}
		r.lists.mu.Unlock()
		if mine {
			r.list(ctx, l, k)
			return l.shards[k], l.err
		}
		select {
		case <-l.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if l.err == nil && l.kept[k] {
			return l.shards[k], nil
		}
		// Another pass's listing failed (its leadership may have ended),
		// or it did not keep shard k (not led when it was made): list
		// again, for this pass.
	}
}

// put records l as period's listing, forgets the listings started more
// than maxAge before it, which serve no new pass, and wakes expire.
// lists.mu is held.
func (ls *listings) put(period time.Time, l *listing, maxAge time.Duration) {
	if ls.byAt == nil {
		ls.byAt = map[time.Time]*listing{}
	}
	ls.byAt[period] = l
	ls.forget(l.at, maxAge)
	select {
	case ls.wake() <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// forget forgets the listings older than maxAge at now. lists.mu is held.
func (ls *listings) forget(now time.Time, maxAge time.Duration) {
	for p, l := range ls.byAt {
		if now.Sub(l.at) > maxAge {
			delete(ls.byAt, p)
		}
	}
}

// wake returns the channel put signals. lists.mu is held.
func (ls *listings) wake() chan struct{} {
	if ls.made == nil {
		ls.made = make(chan struct{}, 1)
	}
	return ls.made
}

// expire forgets each listing as soon as it is older than maxAge on clk
// (the runner's Delay: it serves no new pass then), so that a replica
// whose passes are over does not hold the fleet's listing until its next
// sweep. When ctx ends, it forgets them all and returns. Run runs it.
func (ls *listings) expire(ctx context.Context, clk clock.Clock, maxAge time.Duration) {
	for {
		ls.mu.Lock()
		ls.forget(clk.Now(), maxAge)
		var oldest *listing
		for _, l := range ls.byAt {
			if oldest == nil || l.at.Before(oldest.at) {
				oldest = l
			}
		}
		var old, moved <-chan time.Time // none while there is no listing: wait for one
		if oldest != nil {
			old, moved = oldest.old, oldest.moved
		}
		made := ls.wake()
		ls.mu.Unlock()
		select {
		case <-ctx.Done():
			ls.mu.Lock()
			ls.byAt = nil
			ls.mu.Unlock()
			return
		case <-made: // a new listing, or one replaced: look again
		case <-old:
		case <-moved:
		}
	}
}

// lacks reports whether the listing is over and did not keep shard k.
func (l *listing) lacks(k int) bool {
	select {
	case <-l.done:
		return !l.kept[k]
	default:
		return false
	}
}

// failed reports whether the listing is over and failed.
func (l *listing) failed() bool {
	select {
	case <-l.done:
		return l.err != nil
	default:
		return false
	}
}

// list lists the inventory into l, split by shard, keeping the parts of
// shard k and of the shards this replica leads, and closes l.done.
func (r *Runner) list(ctx context.Context, l *listing, k int) {
	defer close(l.done)
	listed, err := r.fleet.Inventory.List(ctx, r.cfg.Filter)
	if err != nil {
		l.err = err
		return
	}
	l.kept = map[int]bool{k: true}
	if r.leading != nil {
		for _, s := range r.leading() {
			l.kept[s] = true
		}
	}
	l.shards = make(map[int][]provider.Resource, len(l.kept))
	for _, res := range listed {
		if s, _ := coord.ShardOf(res.ID, r.cfg.Shards.Shards); l.kept[s] {
			l.shards[s] = append(l.shards[s], res)
		}
	}
}

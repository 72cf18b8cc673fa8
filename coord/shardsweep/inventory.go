package shardsweep

import (
	"context"
	"sync"
	"time"

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
// it list on their own.
type listings struct {
	mu   sync.Mutex
	byAt map[time.Time]*listing // by period; the two latest periods are kept
}

// listing is one listing of the inventory, split by shard.
type listing struct {
	at     time.Time     // when it was started, on the runner's clock
	done   chan struct{} // closed when shards or err is set
	shards map[int][]provider.Resource
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
		mine := l == nil || now.Sub(l.at) > r.cfg.Delay || l.failed()
		if mine {
			l = &listing{at: now, done: make(chan struct{})}
			r.lists.put(period, l)
		}
		r.lists.mu.Unlock()
		if mine {
			r.list(ctx, l)
			return l.shards[k], l.err
		}
		select {
		case <-l.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if l.err == nil {
			return l.shards[k], nil
		}
		// Another pass's listing failed (its leadership may have ended):
		// list again, for this pass.
	}
}

// put records l as period's listing and forgets the listings of all but
// the two latest periods. lists.mu is held.
func (ls *listings) put(period time.Time, l *listing) {
	if ls.byAt == nil {
		ls.byAt = map[time.Time]*listing{}
	}
	ls.byAt[period] = l
	for len(ls.byAt) > 2 {
		var oldest time.Time
		for p := range ls.byAt {
			if oldest.IsZero() || p.Before(oldest) {
				oldest = p
			}
		}
		delete(ls.byAt, oldest)
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

// list lists the inventory into l, split by shard, and closes l.done.
func (r *Runner) list(ctx context.Context, l *listing) {
	defer close(l.done)
	listed, err := r.fleet.Inventory.List(ctx, r.cfg.Filter)
	if err != nil {
		l.err = err
		return
	}
	l.shards = make(map[int][]provider.Resource)
	for _, res := range listed {
		s, _ := coord.ShardOf(res.ID, r.cfg.Shards.Shards)
		l.shards[s] = append(l.shards[s], res)
	}
}

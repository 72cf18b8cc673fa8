package ratelimit

import (
	"cmp"
	"context"
	"math"
	"slices"
	"sync"
	"time"
)

// Direction is the direction of a change, a lower-case string: Up (scale
// out, start), Down (scale in, stop, terminate), or Both for a change
// whose direction is not known. The zero value "" is not a direction: it
// marks the global bucket's Key, and Validate refuses it.
type Direction string

// The directions.
const (
	Up   Direction = "up"   // scale up, scale out, start
	Down Direction = "down" // scale down, scale in, stop, terminate
	// Both is a change whose direction is not known (a resize to another
	// instance type whose vCPUs and memory are not known on both sides):
	// one event that must fit the target's Up budget and its Down budget,
	// is recorded in both of the target's buckets (so that both of their
	// windows and intervals count it), and is counted once in the global
	// bucket. It is a Request's and an Event's direction, never a
	// bucket's: a Key's Direction is Up or Down.
	Both Direction = "both"
)

// Key names one history bucket: a target and a direction, or the global
// bucket (the zero Key).
type Key struct {
	// Target is the target's name; empty for the global bucket.
	Target string
	// Direction is Up or Down (never Both: an event of Both is in the
	// Up and the Down bucket); empty for the global bucket.
	Direction Direction
}

// GlobalKey is the key of the global bucket, which holds every event when
// Config.Global sets a budget.
var GlobalKey = Key{}

// IsGlobal reports whether k is the global bucket's key.
func (k Key) IsGlobal() bool { return k == Key{} }

// String returns "target/direction", or "global".
func (k Key) String() string {
	if k.IsGlobal() {
		return "global"
	}
	return k.Target + "/" + k.Direction.String()
}

// Event is one granted reservation in a history.
type Event struct {
	// ID identifies the reservation (random, non-zero, unique across
	// replicas with overwhelming probability).
	ID uint64 `json:"id"`
	// At is when the event was reserved.
	At time.Time `json:"at"`
	// Units is the granted change, always positive.
	Units int `json:"units"`
	// Target and Direction say what the event changed: the Request's,
	// so Both (in the target's Up and Down buckets and the global one)
	// for a change of unknown direction.
	Target    string    `json:"target"`
	Direction Direction `json:"dir"`
}

// History is the events of one bucket, sorted by At (oldest first), and
// the time of the newest reservation the bucket has granted. A Store keeps
// both; it encodes to JSON and back exactly.
type History struct {
	// Events are the bucket's events, oldest first.
	Events []Event `json:"events"`
	// Horizon is the time of the newest reservation granted in the bucket,
	// cancelled or not; zero when none was recorded (a history written
	// before Horizon existed counts its newest event). The limiter prunes
	// events relative to it and denies reservations stamped more than
	// Config.MaxSkew before it (ReasonSkew), so a bucket whose events were
	// all cancelled still remembers it.
	Horizon time.Time `json:"horizon,omitzero"`

	buf []Event // the array Events was allocated in, reused by insert
}

// Empty reports whether h holds nothing to keep: no events and no
// Horizon. A Store may delete an empty bucket.
func (h *History) Empty() bool { return len(h.Events) == 0 && h.Horizon.IsZero() }

// Bucket is one history with its key, as returned by Store.Snapshot.
type Bucket struct {
	// Key names the bucket.
	Key Key
	// History is a copy of its events.
	History History
}

// Store keeps the limiter's histories. The limiter calls it on every
// reservation, cancellation and Stats; implementations must be safe for
// concurrent use, by several limiters and, for shared stores, by several
// processes.
//
// A Store error makes the limiter fail closed: the reservation is denied
// and the error is returned wrapped in a *StoreError.
//
// A Store that forgets a bucket some time after its last write (as
// etcdstore.Store's leases do) says how long with a Retention()
// time.Duration method, which New checks against the budgets' windows.
// A Store that wraps another (to count or trace its calls) should have an
// Unwrap() Store method returning it, so that New finds the wrapped
// store's Retention (through up to 32 wrappers; New refuses a longer
// chain), or a Retention method of its own.
type Store interface {
	// Update atomically reads the histories of keys (an absent bucket is
	// an empty History), calls fn with them in the order of keys, and,
	// when fn returns write=true and a nil error, stores them all at once
	// (Events and Horizon; a bucket left Empty may be deleted); otherwise
	// it stores nothing. A store that detects a concurrent
	// change may call fn again with fresh histories; fn is written to be
	// called several times. fn may change the histories it is given only
	// when it returns write=true, and must not retain them. Update returns
	// fn's error unchanged, or the store's own error (including ctx's).
	Update(ctx context.Context, keys []Key, fn func(hs []*History) (write bool, err error)) error
	// Snapshot returns a copy of every bucket that has events, in no
	// particular order.
	Snapshot(ctx context.Context) ([]Bucket, error)
}

// MemoryStore is a Store in process memory: the default, and enough for a
// single replica. It holds one bucket per target and direction that had a
// reservation (a bucket's old events are pruned when it is next updated);
// a bucket left Empty is deleted. A Limiter on it (or on a wrapper whose
// Unwrap returns it) also drops the buckets of targets that left: those
// whose newest reservation is more than the longest time a bucket keeps
// its events (Config.History, or a window with MaxSkew, of the Limiter
// and its peers) and MaxSkew before both a reservation it grants and its
// clock's now, which no reservation stamped within MaxSkew of them can
// look at. It does so once the store has doubled since it last did, so
// that it holds the targets of about the last History, not every target
// it ever saw. A reservation stamped earlier than that, which a dropped
// bucket's events or newest reservation may have refused, is denied
// with ReasonSkew for every target it holds no bucket of (fail closed:
// it cannot tell a dropped target from a new one). It is safe for
// concurrent use; its zero value is not usable, use NewMemoryStore.
type MemoryStore struct {
	mu      sync.Mutex
	buckets map[Key]*History
	scratch []*History
	sweepAt int // the number of buckets at which forget next looks at them all
	// floor is the Horizon of a target's bucket the store holds none of
	// (zero until forget drops one): the newest reservation of the
	// buckets it dropped plus the longest keep and MaxSkew, so that a
	// reservation no later than MaxSkew before it, which a dropped
	// bucket could have refused, is refused (ReasonSkew).
	floor time.Time
}

// minSweep is the fewest buckets a MemoryStore holds before forget looks
// at them.
const minSweep = 64

// forget deletes the targets' buckets whose newest reservation is at or
// before cutoff (Unix nanoseconds), when the store holds at least twice
// as many buckets as it kept the last time it did (and minSweep): a sweep
// of n buckets comes after at least n/2 new ones, so it costs O(1) per
// reservation on average. The global bucket is kept: there is one.
//
// A reservation stamped after the newest reservation of a dropped bucket
// plus margin (the longest keep and MaxSkew) is decided on no events as
// it was on that bucket's; an earlier one may not be, and the store's
// floor, the Horizon of a bucket it holds none of, makes the Limiter
// refuse it.
func (s *MemoryStore) forget(cutoff, margin int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.buckets) < max(s.sweepAt, minSweep) {
		return
	}
	newest := int64(math.MinInt64)
	for k, h := range s.buckets {
		if hz := h.horizon(); !k.IsGlobal() && hz <= cutoff {
			delete(s.buckets, k)
			newest = max(newest, hz)
		}
	}
	if newest > math.MinInt64 {
		if f := time.Unix(0, satAdd(newest, margin)).UTC(); f.After(s.floor) {
			s.floor = f
		}
	}
	s.sweepAt = 2 * len(s.buckets)
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{buckets: make(map[Key]*History)}
}

// Update implements Store. It returns ctx's error, without calling fn,
// when ctx is done.
func (s *MemoryStore) Update(ctx context.Context, keys []Key, fn func(hs []*History) (bool, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	hs := s.load(keys)
	_, err := fn(hs)
	s.release(keys)
	return err
}

// load returns the histories of keys, creating empty ones. s.mu is held.
func (s *MemoryStore) load(keys []Key) []*History {
	s.scratch = s.scratch[:0]
	for _, k := range keys {
		h := s.buckets[k]
		if h == nil {
			h = &History{}
			if !k.IsGlobal() {
				h.Horizon = s.floor // it may be a dropped one's
			}
			s.buckets[k] = h
		}
		s.scratch = append(s.scratch, h)
	}
	return s.scratch
}

// release drops the buckets of keys left Empty (fn changed the live
// histories only if it asked to write). s.mu is held.
func (s *MemoryStore) release(keys []Key) {
	for i, k := range keys {
		// A bucket left with no event at the floor is the one load
		// makes of none (one of a live target whose events were all
		// cancelled keeps its own Horizon, as before).
		if h := s.scratch[i]; h.Empty() || len(h.Events) == 0 && !k.IsGlobal() && !s.floor.IsZero() && h.Horizon.Equal(s.floor) {
			delete(s.buckets, k)
		}
		s.scratch[i] = nil
	}
}

// Snapshot implements Store.
func (s *MemoryStore) Snapshot(ctx context.Context) ([]Bucket, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Bucket, 0, len(s.buckets))
	for k, h := range s.buckets {
		if len(h.Events) > 0 {
			out = append(out, Bucket{Key: k, History: History{Events: slices.Clone(h.Events), Horizon: h.Horizon}})
		}
	}
	return out, nil
}

// SortBuckets sorts bs by key: the global bucket first, then by target and
// direction.
func SortBuckets(bs []Bucket) {
	slices.SortFunc(bs, func(a, b Bucket) int { return compareKeys(a.Key, b.Key) })
}

func compareKeys(a, b Key) int {
	if c := cmp.Compare(a.Target, b.Target); c != 0 {
		return c
	}
	return cmp.Compare(a.Direction.rank(), b.Direction.rank())
}

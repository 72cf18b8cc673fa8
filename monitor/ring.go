package monitor

import (
	"context"
	"sync"

	"github.com/idlescale/idlescale/provider"
)

// DefaultRingCapacity is the number of events a Ring (and a Log's own
// memory) keeps by default.
const DefaultRingCapacity = 10_000

// Ring is a memory sink that keeps the newest events, up to its capacity,
// and answers queries over them. Its Write never fails. It is safe for
// concurrent use. Make one with NewRing.
type Ring struct {
	mu       sync.RWMutex
	capacity int
	buf      []Event // grows to capacity as events arrive, then wraps
	start    int     // index of the oldest event
	n        int     // number of events held
}

var _ Sink = (*Ring)(nil)

// NewRing returns a Ring that keeps the newest capacity events; its
// memory grows with the events it holds, up to capacity (so a capacity as
// large as an int holds is no bound, not an allocation). It returns a
// *provider.InvalidError when capacity is not positive.
func NewRing(capacity int) (*Ring, error) {
	if capacity <= 0 {
		return nil, provider.Invalid("capacity", capacity, "must be > 0")
	}
	return &Ring{capacity: capacity, buf: make([]Event, 0, min(capacity, initialRing))}, nil
}

// initialRing is the number of events a Ring has room for before it first
// grows.
const initialRing = 256

// Write appends copies of evs, dropping the oldest events beyond the
// capacity. It never fails.
func (r *Ring) Write(_ context.Context, evs []Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range evs {
		r.push(e.clone())
	}
	return nil
}

func (r *Ring) push(e Event) {
	if r.n < r.capacity {
		// Not full yet: the oldest is at 0 and the events fill buf.
		r.buf = append(r.buf, e)
		r.n++
		return
	}
	r.buf[r.start] = e
	r.start = (r.start + 1) % r.capacity
}

// Len returns the number of events held.
func (r *Ring) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.n
}

// Query returns copies of the events held that match q, oldest first (the
// newest q.Limit when it is set). It returns a *provider.InvalidError when
// q is invalid.
func (r *Ring) Query(q Query) ([]Event, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []Event
	c := len(r.buf)
	// Walk newest first so that a Limit stops early, then reverse.
	for i := r.n - 1; i >= 0; i-- {
		e := r.buf[(r.start+i)%c]
		if !q.Match(e) {
			continue
		}
		out = append(out, e.clone())
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

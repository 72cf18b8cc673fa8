package approval

import (
	"context"
	"fmt"
	"sync"

	"github.com/idlescale/idlescale/provider"
)

// Store persists approval requests. It is shaped for a key-value store
// with compare-and-swap (etcd): Update is an atomic read-modify-write.
//
// Contract (approvaltest.Run checks it):
//   - Create stores a copy of req. It returns an error matching
//     provider.ErrInvalid when req.Validate fails and ErrExists when the
//     ID is taken.
//   - Get returns a copy, or an error matching ErrUnknown.
//   - Update reads the request, calls fn on a copy and stores the result
//     atomically: if another writer changed the request in between, fn is
//     called again on the fresh value, so fn must have no effect beyond
//     its argument. If fn returns an error nothing is stored and Update
//     returns that error unchanged (errors.Is works on it). Changing the ID
//     or storing an invalid request returns provider.ErrInvalid. Update
//     returns the stored value; an unknown ID returns ErrUnknown.
//   - List returns copies of the requests matching f, sorted by CreatedAt
//     then ID (see Sort).
//   - Values round-trip exactly (times in UTC compare equal).
//
// Implementations must be safe for concurrent use and honour ctx, returning
// an error wrapping ctx.Err() when it has ended, but for a write that ctx
// ended while it was stored: that one reports what was stored, so that
// the Manager records the transition.
type Store interface {
	Create(ctx context.Context, req Request) error
	Get(ctx context.Context, id string) (Request, error)
	Update(ctx context.Context, id string, fn func(*Request) error) (Request, error)
	List(ctx context.Context, f Filter) ([]Request, error)
}

// MemoryStore is an in-process Store. Its zero value is ready to use; it
// is safe for concurrent use.
type MemoryStore struct {
	mu   sync.Mutex
	reqs map[string]Request
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

// Create stores a copy of req; see Store.
func (s *MemoryStore) Create(ctx context.Context, req Request) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := req.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.reqs[req.ID]; ok {
		return fmt.Errorf("%w: %q", ErrExists, req.ID)
	}
	if s.reqs == nil {
		s.reqs = make(map[string]Request)
	}
	s.reqs[req.ID] = req.Clone()
	return nil
}

// Get returns a copy of the request; see Store.
func (s *MemoryStore) Get(ctx context.Context, id string) (Request, error) {
	if err := ctx.Err(); err != nil {
		return Request{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.reqs[id]
	if !ok {
		return Request{}, fmt.Errorf("%w: %q", ErrUnknown, id)
	}
	return r.Clone(), nil
}

// Update applies fn atomically; see Store. fn runs once, under the store's
// lock, so it must not call the store.
func (s *MemoryStore) Update(ctx context.Context, id string, fn func(*Request) error) (Request, error) {
	if err := ctx.Err(); err != nil {
		return Request{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.reqs[id]
	if !ok {
		return Request{}, fmt.Errorf("%w: %q", ErrUnknown, id)
	}
	next := cur.Clone()
	if err := fn(&next); err != nil {
		return Request{}, err
	}
	if next.ID != id {
		return Request{}, provider.Invalid("approval.id", next.ID, "must not change (was "+id+")")
	}
	if err := next.Validate(); err != nil {
		return Request{}, err
	}
	s.reqs[id] = next.Clone()
	return next, nil
}

// List returns copies of the matching requests; see Store.
func (s *MemoryStore) List(ctx context.Context, f Filter) ([]Request, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	out := make([]Request, 0, len(s.reqs))
	for _, r := range s.reqs {
		if f.Match(r) {
			out = append(out, r.Clone())
		}
	}
	s.mu.Unlock()
	Sort(out)
	return out, nil
}

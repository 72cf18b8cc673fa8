package safety

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// ApprovalState is the state of an ApprovalRequest.
//
// The state machine (every arrow is one audit event):
//
//	                    Request
//	                       │
//	                       ▼
//	      Cancel     ┌──────────┐       Deny       ┌────────┐
//	 ┌───────────────│ pending  │─────────────────▶│ denied │
//	 │               └──────────┘                  └────────┘
//	 │                │        │   now ≥ expiry
//	 │        Approve │        └─────────────────────┐
//	 │    (approver ≠ │                              ▼
//	 │     requester) ▼                         ┌─────────┐
//	 │               ┌──────────┐ now ≥ expiry  │ expired │
//	 │      Cancel   │ approved │──────────────▶│         │
//	 ├───────────────│          │               └─────────┘
//	 ▼               └──────────┘
//	┌───────────┐          │ Execute (same fingerprint, now < expiry)
//	│ cancelled │          ▼
//	└───────────┘    ┌──────────┐
//	                 │ executed │
//	                 └──────────┘
//
// Denied, expired, cancelled and executed are final. Expiry is checked
// against the now passed to each call: a call that finds a pending or
// approved request at or past its expiry moves it to expired (and says so
// with an error matching ErrApprovalExpired) instead of doing what was
// asked, so an expired request never executes. Approvals.Expire sweeps the
// store for requests nobody touched.
type ApprovalState string

// The approval states.
const (
	ApprovalPending   ApprovalState = "pending"   // waiting for an approver
	ApprovalApproved  ApprovalState = "approved"  // granted; may execute once before expiry
	ApprovalDenied    ApprovalState = "denied"    // refused by an approver (final)
	ApprovalExpired   ApprovalState = "expired"   // expiry passed before execution (final)
	ApprovalCancelled ApprovalState = "cancelled" // withdrawn (final)
	ApprovalExecuted  ApprovalState = "executed"  // the approved change was carried out (final)
)

// Validate returns an error matching provider.ErrInvalid unless s is a
// known state.
func (s ApprovalState) Validate() error {
	switch s {
	case ApprovalPending, ApprovalApproved, ApprovalDenied, ApprovalExpired, ApprovalCancelled, ApprovalExecuted:
		return nil
	}
	return invalidf("state", string(s), "must be one of pending, approved, denied, expired, cancelled, executed")
}

// Final reports whether no transition leaves s.
func (s ApprovalState) Final() bool {
	return s == ApprovalDenied || s == ApprovalExpired || s == ApprovalCancelled || s == ApprovalExecuted
}

// ApprovalRequest is a proposal waiting for, or holding, a human decision.
// It is a plain value that an ApprovalStore persists (it encodes to JSON).
type ApprovalRequest struct {
	// ID identifies the request. Required, unique in its store.
	ID string `json:"id"`
	// State is where the request is in its state machine. Required.
	State ApprovalState `json:"state"`
	// Proposal is the proposal to approve, as requested.
	Proposal Proposal `json:"proposal"`
	// Fingerprint is Proposal.Fingerprint(): the approval is valid only
	// for a proposal with the same fingerprint.
	Fingerprint string `json:"fingerprint"`
	// Requester is who asked (the proposal's requester). Never the
	// approver.
	Requester string `json:"requester"`
	// Reason is why approval is needed (the decision's summary plus the
	// requester's words).
	Reason string `json:"reason,omitempty"`
	// Risk is the decision's risk level.
	Risk Risk `json:"risk"`
	// Factors are the decision's risk factors, in words.
	Factors []string `json:"factors,omitempty"`
	// CreatedAt is when the request was made (the proposal's Now).
	CreatedAt time.Time `json:"created_at"`
	// ExpiresAt is when it lapses; at or after it the request can be
	// neither approved nor executed.
	ExpiresAt time.Time `json:"expires_at"`
	// DecidedBy is the approver (or denier, or canceller); empty while
	// pending.
	DecidedBy string `json:"decided_by,omitempty"`
	// DecidedAt is when it was approved, denied or cancelled.
	DecidedAt time.Time `json:"decided_at,omitzero"`
	// Comment is the approver's comment or denial reason.
	Comment string `json:"comment,omitempty"`
	// ClosedAt is when it reached a final state.
	ClosedAt time.Time `json:"closed_at,omitzero"`
}

// Clone returns a deep copy of r.
func (r ApprovalRequest) Clone() ApprovalRequest {
	r.Factors = slices.Clone(r.Factors)
	r.Proposal.Resource.Tags = maps.Clone(r.Proposal.Resource.Tags)
	return r
}

// Validate checks what a store relies on: a usable ID, a known state, and
// ExpiresAt after CreatedAt.
func (r ApprovalRequest) Validate() error {
	if err := provider.ValidateID(r.ID); err != nil {
		return provider.Within("approval", err)
	}
	if err := r.State.Validate(); err != nil {
		return provider.Within("approval", err)
	}
	if r.CreatedAt.IsZero() {
		return invalidf("approval.created_at", r.CreatedAt, "must be set")
	}
	if !r.ExpiresAt.After(r.CreatedAt) {
		return invalidf("approval.expires_at", r.ExpiresAt, "must be after created_at "+r.CreatedAt.Format(time.RFC3339))
	}
	return nil
}

// ApprovalFilter selects approval requests in ApprovalStore.List. Zero
// fields match everything.
type ApprovalFilter struct {
	// State keeps only requests in this state.
	State ApprovalState `json:"state,omitempty"`
	// ResourceID keeps only requests for this resource.
	ResourceID string `json:"resource_id,omitempty"`
}

// Match reports whether r passes f.
func (f ApprovalFilter) Match(r ApprovalRequest) bool {
	return (f.State == "" || r.State == f.State) && (f.ResourceID == "" || r.Proposal.Resource.ID == f.ResourceID)
}

// ApprovalStore persists approval requests. It is shaped for a key-value
// store with compare-and-swap (etcd): Update is an atomic
// read-modify-write.
//
// Contract (safetytest.RunApprovalStore checks it):
//   - Create stores a copy of req. It returns an error matching
//     provider.ErrInvalid when req.Validate fails and ErrApprovalExists
//     when the ID is taken.
//   - Get returns a copy, or an error matching ErrUnknownApproval.
//   - Update reads the request, calls fn on a copy and stores the result
//     atomically: if another writer changed the request in between, fn is
//     called again on the fresh value, so fn must have no effect beyond
//     its argument. If fn returns an error nothing is stored and Update
//     returns that error unchanged (errors.Is works on it). Changing the ID
//     or storing an invalid request returns provider.ErrInvalid. Update
//     returns the stored value; an unknown ID returns ErrUnknownApproval.
//   - List returns copies of the requests matching f, sorted by CreatedAt
//     then ID.
//   - Values round-trip exactly (times in UTC compare equal).
//
// Implementations must be safe for concurrent use and honour ctx, returning
// an error wrapping ctx.Err() when it has ended.
type ApprovalStore interface {
	Create(ctx context.Context, req ApprovalRequest) error
	Get(ctx context.Context, id string) (ApprovalRequest, error)
	Update(ctx context.Context, id string, fn func(*ApprovalRequest) error) (ApprovalRequest, error)
	List(ctx context.Context, f ApprovalFilter) ([]ApprovalRequest, error)
}

// MemoryApprovalStore is an in-process ApprovalStore. Its zero value is
// ready to use; it is safe for concurrent use.
type MemoryApprovalStore struct {
	mu   sync.Mutex
	reqs map[string]ApprovalRequest
}

var _ ApprovalStore = (*MemoryApprovalStore)(nil)

// NewMemoryApprovalStore returns an empty MemoryApprovalStore.
func NewMemoryApprovalStore() *MemoryApprovalStore { return &MemoryApprovalStore{} }

// Create stores a copy of req; see ApprovalStore.
func (s *MemoryApprovalStore) Create(ctx context.Context, req ApprovalRequest) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := req.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.reqs[req.ID]; ok {
		return fmtErr(ErrApprovalExists, req.ID)
	}
	if s.reqs == nil {
		s.reqs = make(map[string]ApprovalRequest)
	}
	s.reqs[req.ID] = req.Clone()
	return nil
}

// Get returns a copy of the request; see ApprovalStore.
func (s *MemoryApprovalStore) Get(ctx context.Context, id string) (ApprovalRequest, error) {
	if err := ctx.Err(); err != nil {
		return ApprovalRequest{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.reqs[id]
	if !ok {
		return ApprovalRequest{}, fmtErr(ErrUnknownApproval, id)
	}
	return r.Clone(), nil
}

// Update applies fn atomically; see ApprovalStore. fn runs once, under the
// store's lock, so it must not call the store.
func (s *MemoryApprovalStore) Update(ctx context.Context, id string, fn func(*ApprovalRequest) error) (ApprovalRequest, error) {
	if err := ctx.Err(); err != nil {
		return ApprovalRequest{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.reqs[id]
	if !ok {
		return ApprovalRequest{}, fmtErr(ErrUnknownApproval, id)
	}
	next := cur.Clone()
	if err := fn(&next); err != nil {
		return ApprovalRequest{}, err
	}
	if next.ID != id {
		return ApprovalRequest{}, invalidf("approval.id", next.ID, "must not change (was "+id+")")
	}
	if err := next.Validate(); err != nil {
		return ApprovalRequest{}, err
	}
	s.reqs[id] = next.Clone()
	return next, nil
}

// List returns copies of the matching requests; see ApprovalStore.
func (s *MemoryApprovalStore) List(ctx context.Context, f ApprovalFilter) ([]ApprovalRequest, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	out := make([]ApprovalRequest, 0, len(s.reqs))
	for _, r := range s.reqs {
		if f.Match(r) {
			out = append(out, r.Clone())
		}
	}
	s.mu.Unlock()
	SortApprovals(out)
	return out, nil
}

// SortApprovals sorts requests by CreatedAt, then ID: the order
// ApprovalStore.List promises. Stores may use it.
func SortApprovals(reqs []ApprovalRequest) {
	slices.SortFunc(reqs, func(a, b ApprovalRequest) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

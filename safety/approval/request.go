package approval

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// Request is a proposal waiting for, or holding, a human decision. It is
// a plain value that a Store persists (it encodes to JSON and back
// exactly).
type Request struct {
	// ID identifies the request. Required, unique in its store.
	ID string `json:"id"`
	// State is where the request is in its state machine. Required.
	State State `json:"state"`
	// Proposal is the proposal to approve, as requested.
	Proposal safety.Proposal `json:"proposal"`
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
	Risk safety.Risk `json:"risk"`
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
	// ClaimedBy is who claimed the approval to act on it (Manager.Claim):
	// set while executing, and kept when executed or when it expired
	// while executing, its outcome unreported (see Manager.Complete);
	// empty otherwise.
	ClaimedBy string `json:"claimed_by,omitempty"`
	// ClaimedAt is when it was claimed (the proposal's Now); zero unless
	// ClaimedBy is set.
	ClaimedAt time.Time `json:"claimed_at,omitzero"`
}

// Clone returns a deep copy of r.
func (r Request) Clone() Request {
	r.Factors = slices.Clone(r.Factors)
	r.Proposal.Resource.Tags = maps.Clone(r.Proposal.Resource.Tags)
	return r
}

// Validate checks what a store relies on: a usable ID, a known state, and
// ExpiresAt after CreatedAt. It returns an error matching
// provider.ErrInvalid naming the field ("approval.expires_at").
func (r Request) Validate() error {
	if err := provider.ValidateID(r.ID); err != nil {
		return provider.Within("approval", err)
	}
	if err := r.State.Validate(); err != nil {
		return provider.Within("approval", err)
	}
	if r.CreatedAt.IsZero() {
		return provider.Invalid("approval.created_at", r.CreatedAt, "must be set")
	}
	if !r.ExpiresAt.After(r.CreatedAt) {
		return provider.Invalid("approval.expires_at", r.ExpiresAt, "must be after created_at "+r.CreatedAt.Format(time.RFC3339))
	}
	return nil
}

// Filter selects requests in Store.List and Manager.List. Zero fields
// match everything.
type Filter struct {
	// State keeps only requests in this state; unset keeps all.
	State State `json:"state,omitempty"`
	// ResourceID keeps only requests for this resource; empty keeps all.
	ResourceID string `json:"resource_id,omitempty"`
}

// Match reports whether r passes f.
func (f Filter) Match(r Request) bool {
	return (f.State == "" || r.State == f.State) && (f.ResourceID == "" || r.Proposal.Resource.ID == f.ResourceID)
}

// Sort sorts requests by CreatedAt, then ID: the order Store.List
// promises. Stores may use it.
func Sort(reqs []Request) {
	slices.SortFunc(reqs, func(a, b Request) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

package approval

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors of the package. Functions wrap them with context; test
// with errors.Is. An auditor that fails is reported with safety.ErrAudit.
var (
	// ErrUnknown means no approval request has the given ID.
	ErrUnknown = errors.New("approval: unknown approval")
	// ErrExists means an approval request with the same ID already exists
	// (returned by Store.Create).
	ErrExists = errors.New("approval: approval already exists")
	// ErrTransition means the transition is not allowed from the request's
	// current state (approving a denied request, executing a pending one,
	// ...). *TransitionError matches it.
	ErrTransition = errors.New("approval: transition not allowed")
	// ErrExpired means the request's expiry has passed; an expired request
	// never executes. It also matches ErrTransition.
	ErrExpired = fmt.Errorf("%w: expired", ErrTransition)
	// ErrSelfApproval means the approver is the requester.
	ErrSelfApproval = errors.New("approval: self-approval refused")
	// ErrMismatch means an approval was granted for a different proposal
	// (another resource, action, or target) than the one presented.
	ErrMismatch = errors.New("approval: bound to another proposal")
)

// TransitionError reports a refused transition. It matches ErrTransition
// (and ErrExpired when the request expired).
type TransitionError struct {
	// ID is the approval request's ID.
	ID string
	// From is the request's state when the transition was tried.
	From State
	// To is the state that was asked for.
	To State
	// Expired is set when the request had passed its expiry.
	Expired bool
}

// Error implements error.
func (e *TransitionError) Error() string {
	if e.Expired {
		return fmt.Sprintf("approval: %q expired: cannot move to %s", e.ID, e.To)
	}
	return fmt.Sprintf("approval: %q is %s: cannot move to %s", e.ID, e.From, e.To)
}

// Is reports whether target is ErrTransition, or ErrExpired for an
// expired request.
func (e *TransitionError) Is(target error) bool {
	return target == ErrTransition || (e.Expired && target == ErrExpired)
}

// mismatch is the error for a proposal whose fingerprint differs from the
// approved one.
func mismatch(r Request) error {
	return fmt.Errorf("%w: %q was approved for %s of %q with another target", ErrMismatch, r.ID, r.Proposal.Action, r.Proposal.Resource.ID)
}

// notYetGranted returns an error matching ErrTransition when now, the
// time a proposal is judged at, is before r was approved (or made): the
// approval did not exist then, and a proposal judged before it (a run's
// checks made at its start, a replica's clock behind) is not approved by
// it.
func notYetGranted(r Request, now time.Time) error {
	granted := r.DecidedAt
	if r.CreatedAt.After(granted) {
		granted = r.CreatedAt
	}
	if now.Before(granted) {
		return fmt.Errorf("%w: %q was granted at %s, after %s, the time the proposal is judged at: it does not approve it",
			ErrTransition, r.ID, granted.Format(time.RFC3339Nano), now.Format(time.RFC3339Nano))
	}
	return nil
}

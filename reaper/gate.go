package reaper

import (
	"context"
	"time"

	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/safety"
)

// Gate decides whether a proposal may go ahead. *safety.Engine implements
// it; a host may put its own in (the scaling engine takes the same Gate).
//
// Both methods return the decision and nil when d.Allowed, and otherwise a
// non-nil error: one matching safety.ErrApprovalRequired when only a
// granted approval is missing (the reaper then asks for one), one
// matching safety.ErrBlocked when the proposal is refused, and any other
// error when the Gate could not decide. All of them block; the reaper
// keeps on the Record every error but a plain refusal (one matching
// safety.ErrBlocked and none of safety.ErrRuleFailed, safety.ErrAudit or
// provider.ErrInvalid). safety.Decision.Err gives the errors of a
// decision. The reaper goes
// ahead only when the error is nil and d.Allowed: a decision that is not
// allowed blocks even without an error (fail closed). Implementations must
// be safe for concurrent use and honour ctx.
type Gate interface {
	// Check decides p and records the decision (the path before a real change).
	Check(ctx context.Context, p safety.Proposal) (safety.Decision, error)
	// Evaluate decides p without side effects (dry runs).
	Evaluate(ctx context.Context, p safety.Proposal) (safety.Decision, error)
}

var _ Gate = (*safety.Engine)(nil)

// Reserver reserves rate-limit budget before a change and refunds it when
// nothing changed. *ratelimit.Limiter implements it.
//
// The reaper calls ReserveAt, with the run's now, right before it acts
// (never in a dry run), and acts only when the error is nil and the
// reservation is OK; a reservation that is not OK defers the action
// (OutcomeRateLimited), an error fails it (StageRateLimit). When the
// provider then says nothing changed, or the approval cannot be consumed,
// it passes the same reservation to CancelAt to refund it.
//
// An error should come with a reservation that is not OK, as
// *ratelimit.Limiter's does (Denied: it consumed nothing). A reservation
// that is OK despite the error (budget granted, then a later step of the
// Reserver failed, such as a wrapper's audit) is not acted on: the reaper
// passes it to CancelAt at once, so that the budget is not spent on an
// action never taken. So is an OK reservation that grants no unit
// (Clamped to 0): it does not allow the one unit an action changes, and
// the resource fails (StageRateLimit, provider.ErrInvalid naming
// reservation.granted). Implementations must be safe for concurrent use.
type Reserver interface {
	// ReserveAt reserves budget for req at now.
	ReserveAt(ctx context.Context, now time.Time, req ratelimit.Request) (ratelimit.Reservation, error)
	// CancelAt refunds r at now.
	CancelAt(ctx context.Context, now time.Time, r ratelimit.Reservation) error
}

var _ Reserver = (*ratelimit.Limiter)(nil)

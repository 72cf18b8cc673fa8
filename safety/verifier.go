package safety

import "context"

// ApprovalVerifier tells the engine whether a proposal may go ahead under
// an approval it presents (Proposal.ApprovalID). The approval.Manager of
// package safety/approval implements it; a host may put its own in (a
// ticket system, a chat-ops bot) with ApprovalVerifierFunc.
//
// Verify returns nil when approval id is granted (at or before p.Now: an
// approval granted after the time p is judged at does not approve it),
// bound to exactly p (see Proposal.Fingerprint) and not expired at p.Now, and an error saying why
// not otherwise (unknown, pending, denied, expired, already executed,
// granted for another target). It must change nothing (the engine calls it
// from Evaluate and Preview too, and executing an approval is the caller's
// separate step), be safe for concurrent use, honour ctx and not retain p.
// The engine puts the error's text in Decision.ApprovalReason and keeps
// the proposal waiting for approval; it never lets an error through.
type ApprovalVerifier interface {
	Verify(ctx context.Context, id string, p Proposal) error
}

// ApprovalVerifierFunc adapts a function to an ApprovalVerifier.
type ApprovalVerifierFunc func(ctx context.Context, id string, p Proposal) error

// Verify calls f(ctx, id, p).
func (f ApprovalVerifierFunc) Verify(ctx context.Context, id string, p Proposal) error {
	return f(ctx, id, p)
}

var _ ApprovalVerifier = ApprovalVerifierFunc(nil)

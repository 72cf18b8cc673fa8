package approval_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/approval"
)

func exampleProposal() safety.Proposal {
	return safety.Proposal{
		Action: safety.ActionStop,
		Resource: provider.Resource{
			ID: "i-0abc", Kind: provider.KindInstance, State: provider.StateRunning,
			Environment: "production", TimeZone: "Europe/Berlin",
		},
		Requester: "reaper",
		Reason:    "idle for 3 days",
		Now:       time.Date(2026, 3, 30, 7, 30, 0, 0, time.UTC),
	}
}

// The approval flow: a proposal that needs approval becomes a request, a
// different person approves it, the engine lets the exact proposal
// through, and Execute consumes the approval right before acting.
func ExampleNew() {
	ctx := context.Background()
	audit := &safety.AuditLog{}
	n := 0
	approvals, err := approval.New(approval.Config{TTL: 2 * time.Hour}, approval.NewMemoryStore(),
		approval.WithAuditor(audit),
		approval.WithIDGenerator(func() string { n++; return fmt.Sprintf("apr-%d", n) }))
	if err != nil {
		panic(err)
	}
	critical, _ := safety.NewCriticalRule(safety.CriticalConfig{})
	eng, _ := safety.New(safety.Config{}, []safety.Rule{critical}, safety.WithApprovals(approvals), safety.WithAuditor(audit))

	p := exampleProposal()
	d, err := eng.Check(ctx, p)
	fmt.Println(errors.Is(err, safety.ErrApprovalRequired))

	req, _ := approvals.Request(ctx, p, d, "idle for 3 days")
	_, err = approvals.Approve(ctx, req.ID, "reaper", p.Now, "")
	fmt.Println(errors.Is(err, approval.ErrSelfApproval))
	_, _ = approvals.Approve(ctx, req.ID, "alice", p.Now.Add(5*time.Minute), "fine at night")

	p.ApprovalID, p.Now = req.ID, p.Now.Add(10*time.Minute)
	d, err = eng.Check(ctx, p)
	fmt.Println(err == nil, d.Approved)
	_, err = approvals.Execute(ctx, req.ID, p)
	fmt.Println(err)
	for _, ev := range audit.Events() {
		if ev.Kind == safety.AuditDecision {
			fmt.Println(ev.Kind, ev.Actor, ev.Outcome)
			continue
		}
		fmt.Println(ev.Kind, ev.Actor, ev.To)
	}
	// Output:
	// true
	// true
	// true true
	// <nil>
	// decision reaper require_approval
	// approval.requested reaper pending
	// approval.approved alice approved
	// decision reaper pass
	// approval.executed reaper executed
}

// Verify is what the engine asks; a host can ask it too, and it changes
// nothing.
func ExampleManager_Verify() {
	ctx := context.Background()
	approvals, _ := approval.New(approval.Config{}, approval.NewMemoryStore())
	p := exampleProposal()
	d := safety.Decision{ResourceID: p.Resource.ID, Action: p.Action, Outcome: safety.RequireApproval,
		ApprovalRequired: true, Fingerprint: p.Fingerprint()}
	req, _ := approvals.Request(ctx, p, d, "")
	fmt.Println(errors.Is(approvals.Verify(ctx, req.ID, p), approval.ErrTransition)) // still pending
	_, _ = approvals.Approve(ctx, req.ID, "alice", p.Now, "")
	fmt.Println(approvals.Verify(ctx, req.ID, p))
	other := p
	other.Action = safety.ActionTerminate
	fmt.Println(errors.Is(approvals.Verify(ctx, req.ID, other), approval.ErrMismatch))
	// Output:
	// true
	// <nil>
	// true
}

// Expire sweeps requests nobody touched before their expiry.
func ExampleManager_Expire() {
	ctx := context.Background()
	approvals, _ := approval.New(approval.Config{TTL: time.Hour}, approval.NewMemoryStore())
	p := exampleProposal()
	d := safety.Decision{ResourceID: p.Resource.ID, Action: p.Action, Outcome: safety.RequireApproval,
		ApprovalRequired: true, Fingerprint: p.Fingerprint()}
	_, _ = approvals.Request(ctx, p, d, "")
	expired, _ := approvals.Expire(ctx, p.Now.Add(time.Hour))
	fmt.Println(len(expired), expired[0].State)
	// Output: 1 expired
}

// MemoryStore is the in-process Store; Update is an atomic
// read-modify-write.
func ExampleMemoryStore() {
	ctx := context.Background()
	s := approval.NewMemoryStore()
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	_ = s.Create(ctx, approval.Request{ID: "a1", State: approval.Pending, CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	r, _ := s.Update(ctx, "a1", func(r *approval.Request) error {
		r.State, r.DecidedBy = approval.Approved, "alice"
		return nil
	})
	fmt.Println(r.State, r.DecidedBy)
	_, err := s.Get(ctx, "a2")
	fmt.Println(errors.Is(err, approval.ErrUnknown))
	// Output:
	// approved alice
	// true
}

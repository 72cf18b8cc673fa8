package approval_test

import (
	"context"
	"fmt"
	"time"

	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/approval"
)

// Claim takes an approval right before acting; Release gives it back when
// the provider says nothing changed (here: throttled), and Complete spends
// it once the change happened.
func ExampleManager_Claim() {
	ctx := context.Background()
	audit := &safety.AuditLog{}
	approvals, _ := approval.New(approval.Config{}, approval.NewMemoryStore(), approval.WithAuditor(audit),
		approval.WithIDGenerator(func() string { return "apr-1" }))
	p := exampleProposal()
	d := safety.Decision{ResourceID: p.Resource.ID, Action: p.Action, Outcome: safety.RequireApproval,
		ApprovalRequired: true, Fingerprint: p.Fingerprint()}
	req, _ := approvals.Request(ctx, p, d, "")
	_, _ = approvals.Approve(ctx, req.ID, "alice", p.Now, "")

	claimed, _ := approvals.Claim(ctx, req.ID, p)
	fmt.Println(claimed.State, claimed.ClaimedBy)
	// ... the provider answers "throttled": nothing changed.
	released, _ := approvals.Release(ctx, req.ID, "reaper", p.Now, "throttled")
	fmt.Println(released.State)

	p.Now = p.Now.Add(10 * time.Minute)
	_, _ = approvals.Claim(ctx, req.ID, p)
	// ... the provider accepted the stop.
	done, _ := approvals.Complete(ctx, req.ID, "reaper", p.Now, "stop accepted")
	fmt.Println(done.State)
	for _, ev := range audit.Events()[2:] {
		fmt.Println(ev.Kind, ev.From, "→", ev.To)
	}
	// Output:
	// executing reaper
	// approved
	// executed
	// approval.claimed approved → executing
	// approval.released executing → approved
	// approval.claimed approved → executing
	// approval.executed executing → executed
}

package coord_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/idlescale/idlescale/coord"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/approval"
	"github.com/idlescale/idlescale/safety/approval/approvaltest"
)

// (The endpoints come from the embedded member the package's tests start.)
func ExampleNewElector() {
	cli, err := clientv3.New(clientv3.Config{Endpoints: cluster.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = cli.Close() }()
	opts := coord.Options{Prefix: fmt.Sprintf("example/%d/", rand.Uint64()), SessionTTL: 2 * time.Second}
	el, err := coord.NewElector(cli, "fleet", "replica-1", opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	l, err := el.Campaign(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	leader, _ := el.Leader(ctx)
	fmt.Println("leader:", leader)
	_ = l.Resign(ctx)
	_, err = el.Leader(ctx)
	fmt.Println(errors.Is(err, coord.ErrNoLeader))

	_, err = coord.NewElector(cli, "fleet/eu", "replica-1", coord.Options{})
	fmt.Println(err)
	// Output:
	// leader: replica-1
	// true
	// coord: invalid scope "fleet/eu": must not contain "/" or control characters
}

// A leader's write is fenced: once its term ends, the write is refused.
func ExampleFence_Do() {
	cli, err := clientv3.New(clientv3.Config{Endpoints: cluster.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = cli.Close() }()
	pfx := fmt.Sprintf("example/%d/", rand.Uint64())
	el, _ := coord.NewElector(cli, "fleet", "replica-1", coord.Options{Prefix: pfx, SessionTTL: 2 * time.Second})
	ctx := context.Background()
	l, err := el.Campaign(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = l.Fence().Do(ctx, cli, nil, clientv3.OpPut(pfx+"desired/web", "4"))
	fmt.Println("while leading:", err)

	_ = l.Resign(ctx) // or the lease expires, or an operator revokes it
	_, err = l.Fence().Do(ctx, cli, nil, clientv3.OpPut(pfx+"desired/web", "8"))
	fmt.Println("after the term:", errors.Is(err, coord.ErrFenced))
	// Output:
	// while leading: <nil>
	// after the term: true
}

// Run keeps campaigning; the leader's function gets a context that ends
// with its term.
func ExampleElector_Run() {
	cli, err := clientv3.New(clientv3.Config{Endpoints: cluster.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = cli.Close() }()
	el, _ := coord.NewElector(cli, "shard-0-of-2", "replica-1",
		coord.Options{Prefix: fmt.Sprintf("example/%d/", rand.Uint64()), SessionTTL: 2 * time.Second})
	ctx, stop := context.WithCancel(context.Background())
	err = el.Run(ctx, func(lctx context.Context, l *coord.Leadership) error {
		fmt.Println("leading", l.Scope, "as", l.ID)
		stop() // the host shuts down
		<-lctx.Done()
		return nil
	})
	fmt.Println("Run returned", err)
	// Output:
	// leading shard-0-of-2 as replica-1
	// Run returned <nil>
}

func ExampleShardScope() {
	for _, target := range []string{"web", "db"} {
		scope, _ := coord.ShardScope(target, 4)
		fmt.Println(target, scope)
	}
	// Output:
	// web shard-1-of-4
	// db shard-3-of-4
}

// Replicas share approvals and the audit trail through etcd: a request
// made on one replica is approved on another.
func ExampleNewApprovalStore() {
	cli, err := clientv3.New(clientv3.Config{Endpoints: cluster.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = cli.Close() }()
	opts := coord.StoreOptions{Prefix: fmt.Sprintf("example/%d/", rand.Uint64())}
	store, _ := coord.NewApprovalStore(cli, opts)
	audit, _ := coord.NewAuditLog(cli, opts)
	approvals, _ := approval.New(approval.Config{}, store, approval.WithAuditor(audit))

	ctx := context.Background()
	p := approvaltest.Request("example", "i-0abc", 0).Proposal
	d := safety.Decision{ResourceID: p.Resource.ID, Action: p.Action, Now: p.Now, Fingerprint: p.Fingerprint(), ApprovalRequired: true, Risk: safety.RiskHigh}
	req, err := approvals.Request(ctx, p, d, "idle for 3 days")
	if err != nil {
		fmt.Println(err)
		return
	}
	// ... on another replica, with its own client and store:
	approved, err := approvals.Approve(ctx, req.ID, "alice", p.Now.Add(time.Minute), "go ahead")
	fmt.Println(approved.State, err)
	// Output:
	// approved <nil>
}

func ExampleNewAuditLog() {
	cli, err := clientv3.New(clientv3.Config{Endpoints: cluster.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = cli.Close() }()
	log, _ := coord.NewAuditLog(cli, coord.StoreOptions{Prefix: fmt.Sprintf("example/%d/", rand.Uint64())})
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	_ = log.Record(ctx, safety.AuditEvent{Time: t0, Kind: safety.AuditDecision, Actor: "reaper", ResourceID: "i-1"})
	_ = log.Record(ctx, safety.AuditEvent{Time: t0.Add(time.Second), Kind: safety.AuditApprovalRequested, Actor: "reaper", ResourceID: "i-1"})
	events, _ := log.Events(ctx, time.Time{})
	for _, ev := range events {
		fmt.Println(ev.Time.Format(time.TimeOnly), ev.Kind, ev.ResourceID)
	}
	// Output:
	// 10:00:00 decision i-1
	// 10:00:01 approval.requested i-1
}

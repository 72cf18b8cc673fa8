package etcdstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/approval"
	"github.com/idlescale/idlescale/safety/approval/approvaltest"
	"github.com/idlescale/idlescale/safety/approval/etcdstore"
)

// Two replicas share approvals through etcd: a request made on one
// replica is approved on the other. (The endpoints come from the embedded
// member the package's tests start.)
func ExampleNew() {
	prefix := fmt.Sprintf("example/%d/", rand.Uint64()) // fresh requests on every run
	replica := func() (*approval.Manager, func()) {
		cli, err := clientv3.New(clientv3.Config{Endpoints: cluster.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
		if err != nil {
			panic(err)
		}
		store, err := etcdstore.New(etcdstore.Config{Prefix: prefix}, cli)
		if err != nil {
			panic(err)
		}
		approvals, err := approval.New(approval.Config{}, store)
		if err != nil {
			panic(err)
		}
		return approvals, func() { _ = cli.Close() }
	}
	a, closeA := replica()
	defer closeA()
	b, closeB := replica()
	defer closeB()

	ctx := context.Background()
	p := approvaltest.Request("example", "i-0abc", 0).Proposal
	d := safety.Decision{ResourceID: p.Resource.ID, Action: p.Action, Now: p.Now, Fingerprint: p.Fingerprint(),
		ApprovalRequired: true, Risk: safety.RiskHigh}
	req, err := a.Request(ctx, p, d, "idle for 3 days")
	if err != nil {
		fmt.Println(err)
		return
	}
	approved, err := b.Approve(ctx, req.ID, "alice", p.Now.Add(time.Minute), "go ahead")
	fmt.Println("on B:", approved.State, err)
	got, err := a.Get(ctx, req.ID)
	fmt.Println("on A:", got.State, got.DecidedBy, err)
	// Output:
	// on B: approved <nil>
	// on A: approved alice <nil>
}

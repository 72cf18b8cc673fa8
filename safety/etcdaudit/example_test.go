package etcdaudit_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/etcdaudit"
)

// (The endpoints come from the embedded member the package's tests
// start.)
func ExampleNew() {
	cli, err := clientv3.New(clientv3.Config{Endpoints: cluster.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = cli.Close() }()
	log, err := etcdaudit.New(etcdaudit.Config{Prefix: fmt.Sprintf("example/%d/", rand.Uint64())}, cli)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	_ = log.Record(ctx, safety.AuditEvent{Time: t0, Kind: safety.AuditDecision, Actor: "reaper", ResourceID: "i-1"})
	_ = log.Record(ctx, safety.AuditEvent{Time: t0.Add(time.Second), Kind: safety.AuditApprovalRequested, Actor: "reaper", ResourceID: "i-1"})
	events, err := log.Events(ctx, time.Time{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, ev := range events {
		fmt.Println(ev.Time.Format(time.TimeOnly), ev.Kind, ev.ResourceID)
	}
	// Output:
	// 10:00:00 decision i-1
	// 10:00:01 approval.requested i-1
}

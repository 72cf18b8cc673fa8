package etcdhistory_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/etcdhistory"
)

// A reaper stopped five of the ten instances of fleet "web" and was
// restarted: the new process's limits rule still counts them, and blocks
// a sixth stop within the hour. (The endpoints come from the embedded
// member the package's tests start.)
func ExampleNew() {
	cli, err := clientv3.New(clientv3.Config{Endpoints: cluster.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = cli.Close() }()
	cfg := etcdhistory.Config{Prefix: fmt.Sprintf("example/%d/", rand.Uint64())}
	now := time.Now()

	before, err := etcdhistory.New(cfg, cli) // the process before the restart
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := range 5 {
		if err := before.Record("web", now.Add(-time.Duration(10*(i+1))*time.Minute), 1); err != nil {
			fmt.Println(err)
			return
		}
	}

	after, _ := etcdhistory.New(cfg, cli) // the process after it
	limits, err := safety.NewLimitsRule(safety.LimitsConfig{MaxFleetShare: 0.5, Window: time.Hour}, after)
	if err != nil {
		fmt.Println(err)
		return
	}
	eng, _ := safety.New(safety.Config{}, []safety.Rule{limits})
	d, _ := eng.Evaluate(context.Background(), safety.Proposal{
		ID: "stop-i-6", Action: safety.ActionStop, Requester: "reaper", Reason: "idle", Now: now,
		Resource: provider.Resource{ID: "i-6", Kind: provider.KindInstance, State: provider.StateRunning},
		Fleet:    "web", FleetSize: 10,
	})
	fmt.Println(d.Summary())
	// Output:
	// blocked: limits: fleet "web": 5 of 10 acted on in the last 1h0m0s, 1 more would make 60% (limit 50%)
}

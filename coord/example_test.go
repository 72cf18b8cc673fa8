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
)

// (The endpoints come from the embedded member the package's tests start.)
func ExampleNewElector() {
	cli, err := clientv3.New(clientv3.Config{Endpoints: cluster.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = cli.Close() }()
	cfg := coord.ElectorConfig{Scope: "fleet", ID: "replica-1", Prefix: fmt.Sprintf("example/%d/", rand.Uint64()), SessionTTL: 2 * time.Second}
	el, err := coord.NewElector(cfg, cli)
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

	_, err = coord.NewElector(coord.ElectorConfig{Scope: "fleet/eu", ID: "replica-1"}, cli)
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
	el, _ := coord.NewElector(coord.ElectorConfig{Scope: "fleet", ID: "replica-1", Prefix: pfx, SessionTTL: 2 * time.Second}, cli)
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
	el, _ := coord.NewElector(coord.ElectorConfig{Scope: "shard-0-of-2", ID: "replica-1",
		Prefix: fmt.Sprintf("example/%d/", rand.Uint64()), SessionTTL: 2 * time.Second}, cli)
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

package coord_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
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

// Resources hash to shards, and Assign gives each replica its share.
func ExampleAssign() {
	for _, id := range []string{"i-0123456789abcdef0", "i-0fedcba987654321f"} {
		k, _ := coord.ShardOf(id, 16)
		fmt.Println(id, "is in", coord.ShardName(k, 16))
	}
	owners, _ := coord.Assign(16, []string{"replica-a", "replica-b", "replica-c"})
	count := map[string]int{}
	for _, o := range owners {
		count[o]++
	}
	fmt.Println("shards per replica:", count)
	_, err := coord.ShardOf("i-1", 0)
	fmt.Println(err)
	// Output:
	// i-0123456789abcdef0 is in shard-5-of-16
	// i-0fedcba987654321f is in shard-11-of-16
	// shards per replica: map[replica-a:5 replica-b:5 replica-c:6]
	// coord: invalid shards 0: must be 1 to 65536
}

// A replica's Run leads the shards Assign gives it among the live
// replicas; alone, it leads them all.
func ExampleShards_Run() {
	cli, err := clientv3.New(clientv3.Config{Endpoints: cluster.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = cli.Close() }()
	sh, err := coord.NewShards(coord.ShardsConfig{ID: "replica-1", Shards: 3,
		Prefix: fmt.Sprintf("example/%d/", rand.Uint64()), SessionTTL: 2 * time.Second}, cli)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	var mu sync.Mutex
	led := map[int]bool{}
	err = sh.Run(ctx, func(lctx context.Context, shard int, l *coord.Leadership) error {
		mu.Lock()
		led[shard] = true
		if len(led) == 3 {
			stop() // the host shuts down once it has led every shard
		}
		mu.Unlock()
		<-lctx.Done()
		return nil
	})
	fmt.Println("led:", led)
	fmt.Println("Run returned", err)
	// Output:
	// led: map[0:true 1:true 2:true]
	// Run returned <nil>
}

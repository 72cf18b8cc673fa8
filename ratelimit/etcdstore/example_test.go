package etcdstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/ratelimit/etcdstore"
)

// Two replicas of a host, each with its own etcd client and limiter, share
// one budget of 3 scale-up events per hour for "web". (The endpoints come
// from the embedded member the package's tests start.)
func Example_twoReplicas() {
	endpoints := cluster.Endpoints()
	prefix := fmt.Sprintf("example/%d/", rand.Uint64()) // a fresh budget on every run
	replica := func() (*ratelimit.Limiter, func()) {
		cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
		if err != nil {
			panic(err)
		}
		store, err := etcdstore.New(etcdstore.Config{Prefix: prefix}, cli)
		if err != nil {
			panic(err)
		}
		lim, err := ratelimit.New(ratelimit.Config{Up: ratelimit.Budget{Events: 3, MinInterval: time.Minute}},
			ratelimit.WithStore(store))
		if err != nil {
			panic(err)
		}
		return lim, func() { _ = cli.Close() }
	}
	a, closeA := replica()
	defer closeA()
	b, closeB := replica()
	defer closeB()

	ctx := context.Background()
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	req := ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 2}
	for i, step := range []struct {
		name string
		lim  *ratelimit.Limiter
		at   time.Duration
	}{
		{"A", a, 0},
		{"B", b, 30 * time.Second}, // too soon after A's event
		{"B", b, time.Minute},
		{"A", a, 2 * time.Minute},
		{"B", b, 3 * time.Minute}, // the shared hour is used up
	} {
		r, err := step.lim.ReserveAt(ctx, now.Add(step.at), req)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%d replica %s: %s\n", i+1, step.name, r)
	}
	// Output:
	// 1 replica A: web/up +2: allowed; next at 2026-03-02T10:01:00Z
	// 2 replica B: web/up +2: denied (target min_interval); next at 2026-03-02T10:01:00Z
	// 3 replica B: web/up +2: allowed; next at 2026-03-02T10:02:00Z
	// 4 replica A: web/up +2: allowed; next at 2026-03-02T11:00:00Z
	// 5 replica B: web/up +2: denied (target events_per_window); next at 2026-03-02T11:00:00Z
}

func ExampleNew() {
	cli, err := clientv3.New(clientv3.Config{Endpoints: cluster.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = cli.Close() }()
	store, err := etcdstore.New(etcdstore.Config{Prefix: "example/new/", RequestTimeout: 300 * time.Millisecond}, cli)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(store.Key(ratelimit.Key{Target: "web/frontend", Direction: ratelimit.Down}))
	fmt.Println(store.Key(ratelimit.GlobalKey))
	// Output:
	// example/new/b/web%2Ffrontend/down
	// example/new/global
}

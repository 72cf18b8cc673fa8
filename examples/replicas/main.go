// Command replicas runs two replicas of a host that share one scaling
// budget and one leader on etcd. Replica A is elected, scales "web" up
// twice (once clamped, once denied by the interval), then shuts down;
// replica B takes over at once and uses what is left of the shared
// budget: its second request is denied because A's events count.
//
// Without -endpoints it starts an embedded etcd member in a temporary
// directory, so it needs nothing installed:
//
//	go run ./examples/replicas
//	go run ./examples/replicas -endpoints http://127.0.0.1:2379
//
// The demand is replayed on a simulated clock (decisions take now), so the
// hour-long budget plays out in a second.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/idlescale/idlescale/coord"
	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/ratelimit/etcdstore"
)

func main() {
	endpoints := flag.String("endpoints", "", "comma-separated etcd endpoints (default: start an embedded member)")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *endpoints); err != nil {
		fmt.Fprintln(os.Stderr, "replicas:", err)
		os.Exit(1)
	}
}

// step is one scaling demand at an offset of the simulated clock.
type step struct {
	at    time.Duration
	units int
	last  bool // the replica shuts down after this step
}

// replica is one copy of the host.
type replica struct {
	name string
	cli  *clientv3.Client
	el   *coord.Elector
	lim  *ratelimit.Limiter
}

func run(ctx context.Context, w io.Writer, endpoints string) error {
	var eps []string
	if endpoints == "" {
		dir, err := os.MkdirTemp("", "idlescale-replicas")
		if err != nil {
			return err
		}
		defer func() { _ = os.RemoveAll(dir) }()
		c, err := etcdtest.Start(dir, etcdtest.Options{})
		if err != nil {
			return err
		}
		defer c.Close()
		eps = c.Endpoints()
	} else {
		eps = strings.Split(endpoints, ",")
	}
	prefix := fmt.Sprintf("idlescale-demo/%d/", time.Now().UnixNano()) // a fresh budget per run
	// The shared policy: at most 3 scale-ups of web per hour, 3 instances
	// per event, 5 minutes apart.
	cfg := ratelimit.Config{Up: ratelimit.Budget{Events: 3, MaxUnits: 3, MinInterval: 5 * time.Minute}}

	newReplica := func(name string) (*replica, error) {
		cli, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
		if err != nil {
			return nil, err
		}
		el, err := coord.NewElector(cli, "fleet", name, coord.Options{Prefix: prefix + "election/", SessionTTL: 2 * time.Second})
		if err != nil {
			return nil, errors.Join(err, cli.Close())
		}
		store, err := etcdstore.New(etcdstore.Config{Prefix: prefix + "ratelimit/"}, cli)
		if err != nil {
			return nil, errors.Join(err, cli.Close())
		}
		lim, err := ratelimit.New(cfg, ratelimit.WithStore(store))
		if err != nil {
			return nil, errors.Join(err, cli.Close())
		}
		return &replica{name: name, cli: cli, el: el, lim: lim}, nil
	}
	a, err := newReplica("A")
	if err != nil {
		return err
	}
	defer func() { _ = a.cli.Close() }()
	b, err := newReplica("B")
	if err != nil {
		return err
	}
	defer func() { _ = b.cli.Close() }()

	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	demand := make(chan step, 8)
	for _, s := range []step{
		{at: 0, units: 5},
		{at: 2 * time.Minute, units: 2},
		{at: 6 * time.Minute, units: 3, last: true},
		{at: 12 * time.Minute, units: 2},
		{at: 20 * time.Minute, units: 1},
	} {
		demand <- s
	}
	close(demand)

	var (
		mu       sync.Mutex
		resigned time.Time
		wg       sync.WaitGroup
		errs     = make(chan error, 2)
	)
	allDone := make(chan struct{})
	var doneOnce sync.Once
	ctxA, stopA := context.WithCancel(ctx)
	ctxB, stopB := context.WithCancel(ctx)
	defer stopA()
	defer stopB()

	lead := func(r *replica, stop context.CancelFunc) func(context.Context, *coord.Leadership) error {
		return func(lctx context.Context, l *coord.Leadership) error {
			mu.Lock()
			if !resigned.IsZero() {
				fmt.Fprintf(w, "replica %s elected leader of %q (took over in %v)\n", r.name, l.Scope, time.Since(resigned).Round(time.Millisecond))
			} else {
				fmt.Fprintf(w, "replica %s elected leader of %q\n", r.name, l.Scope)
			}
			mu.Unlock()
			for {
				var s step
				var ok bool
				select {
				case s, ok = <-demand:
				case <-lctx.Done():
					return nil
				}
				if !ok {
					doneOnce.Do(func() { close(allDone) })
					<-lctx.Done()
					return nil
				}
				now := start.Add(s.at)
				res, err := r.lim.ReserveAt(lctx, now, ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: s.units})
				if err != nil {
					return err
				}
				fmt.Fprintf(w, "%s  replica %s: %s\n", now.Format("15:04"), r.name, res)
				if res.OK() {
					// The action's write is fenced by the leadership.
					key := prefix + "actions/" + fmt.Sprint(res.ID)
					if _, err := l.Fence().Do(lctx, r.cli, nil, clientv3.OpPut(key, fmt.Sprintf("web +%d", res.Granted))); err != nil {
						_ = r.lim.Cancel(context.WithoutCancel(lctx), res) // nothing changed: refund
						return err
					}
				}
				if s.last {
					fmt.Fprintf(w, "replica %s shuts down\n", r.name)
					mu.Lock()
					resigned = time.Now()
					mu.Unlock()
					stop() // Run resigns and returns
					return nil
				}
			}
		}
	}
	wg.Go(func() { errs <- a.el.Run(ctxA, lead(a, stopA)) })
	// B starts once A leads, so that the story is the same on every run.
	if err := waitLeader(ctx, a.el, "A"); err != nil {
		return err
	}
	wg.Go(func() { errs <- b.el.Run(ctxB, lead(b, stopB)) })

	select {
	case <-allDone:
	case <-time.After(30 * time.Second):
		stopA()
		stopB()
		wg.Wait()
		return errors.New("the demand was not served within 30s")
	}
	stopB()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	resp, err := b.cli.Get(ctx, prefix+"actions/", clientv3.WithPrefix())
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "actions taken: %d (the shared budget allows 3 per hour)\n", len(resp.Kvs))
	return nil
}

// waitLeader polls until the scope's leader is id.
func waitLeader(ctx context.Context, el *coord.Elector, id string) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for {
		if got, err := el.Leader(ctx); err == nil && got == id {
			return nil
		}
		select {
		case <-tick.C:
		case <-deadline:
			return fmt.Errorf("replica %s was not elected within 10s", id)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Command replicas runs two replicas of a host that share one scaling
// budget and one leader on etcd. Replica A is elected and asks three times
// to scale "web" up: clamped to 3 instances, denied by the interval, then
// allowed; it shuts down, replica B takes over at once and uses what is
// left of the shared budget: its second request is denied because A's
// events count.
//
// Without -endpoints it starts an embedded etcd member (the etcd server
// as a library, go.etcd.io/etcd/server/v3/embed) on loopback in a
// temporary directory, so it needs nothing installed:
//
//	go run ./examples/replicas
//	go run ./examples/replicas -endpoints http://127.0.0.1:2379
//
// Each replica runs the configuration check the README recommends
// (etcdstore.ConfigCheck): it publishes its limiter's Config, reads the
// other's, says whether they agree, and gives its limiter the other's
// (ratelimit.WithPeers), so that a replica deployed with another budget
// would be reported and held to the strictest.
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
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/idlescale/idlescale/coord"
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
	name  string
	cli   *clientv3.Client
	el    *coord.Elector
	lim   *ratelimit.Limiter
	check *etcdstore.ConfigCheck
}

func run(ctx context.Context, w io.Writer, endpoints string) error {
	var eps []string
	if endpoints == "" {
		dir, err := os.MkdirTemp("", "idlescale-replicas")
		if err != nil {
			return err
		}
		defer func() { _ = os.RemoveAll(dir) }()
		e, err := startEtcd(ctx, dir)
		if err != nil {
			return err
		}
		defer e.Close()
		eps = []string{"http://" + e.Clients[0].Addr().String()}
	} else {
		eps = strings.Split(endpoints, ",")
	}
	prefix := fmt.Sprintf("idlescale-demo/%d/", time.Now().UnixNano()) // a fresh budget per run
	// The shared policy: at most 3 scale-ups of web per hour, 3 instances
	// per event, 5 minutes apart.
	cfg := ratelimit.Config{Up: ratelimit.Budget{Events: 3, MaxUnits: 3, MinInterval: 5 * time.Minute}}

	newReplica := func(name string) (*replica, error) {
		// Keepalives find a dead connection in seconds; etcd refuses
		// pings more often than every 5 s.
		cli, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 2 * time.Second, Logger: zap.NewNop(),
			DialKeepAliveTime: 10 * time.Second, DialKeepAliveTimeout: 3 * time.Second})
		if err != nil {
			return nil, err
		}
		el, err := coord.NewElector(coord.ElectorConfig{Scope: "fleet", ID: name, Prefix: prefix + "election/", SessionTTL: 2 * time.Second}, cli)
		if err != nil {
			return nil, errors.Join(err, cli.Close())
		}
		store, err := etcdstore.New(etcdstore.Config{Prefix: prefix + "ratelimit/"}, cli)
		if err != nil {
			return nil, errors.Join(err, cli.Close())
		}
		// The check publishes this replica's Config and follows the
		// others'; the limiter holds to the strictest of them.
		check, err := etcdstore.NewConfigCheck(name, cfg, store, cli)
		if err != nil {
			return nil, errors.Join(err, cli.Close())
		}
		lim, err := ratelimit.New(cfg, ratelimit.WithStore(store), ratelimit.WithPeers(check))
		if err != nil {
			return nil, errors.Join(err, cli.Close())
		}
		return &replica{name: name, cli: cli, el: el, lim: lim, check: check}, nil
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

	// The configuration checks run for as long as the replicas do.
	ctxChecks, stopChecks := context.WithCancel(ctx)
	var checks sync.WaitGroup
	checkErrs := make(chan error, 2)
	defer func() {
		stopChecks()
		checks.Wait()
	}()
	for _, r := range []*replica{a, b} {
		checks.Go(func() { checkErrs <- r.check.Run(ctxChecks) })
	}
	for _, r := range []*replica{a, b} {
		if err := agreed(ctx, w, r); err != nil {
			return err
		}
	}

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
	aLeads := make(chan struct{}) // closed when A is first elected
	var aOnce sync.Once
	ctxA, stopA := context.WithCancel(ctx)
	ctxB, stopB := context.WithCancel(ctx)
	defer stopA()
	defer stopB()

	lead := func(r *replica, stop context.CancelFunc) func(context.Context, *coord.Leadership) error {
		return func(lctx context.Context, l *coord.Leadership) error {
			if r == a {
				aOnce.Do(func() { close(aLeads) })
			}
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
						if errors.Is(err, coord.ErrFenced) {
							// Refused by the fence: nothing changed, refund.
							// Any other error (etcd's, a lost reply) may
							// have written it: the budget stays spent.
							_ = r.lim.Cancel(context.WithoutCancel(lctx), res)
						}
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
	// A's leader function says so itself: A may serve its whole term
	// before anyone could see it as leader by asking etcd.
	select {
	case <-aLeads:
	case <-time.After(10 * time.Second):
		stopA()
		wg.Wait()
		return errors.New("replica A was not elected within 10s")
	case <-ctx.Done():
		stopA()
		wg.Wait()
		return ctx.Err()
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
	stopChecks()
	checks.Wait()
	close(checkErrs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	for err := range checkErrs {
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

// agreed waits until r's configuration check has read the other
// replica's Config and says whether they agree: a replica deployed with
// another budget is named with the fields that differ (a health check
// would report st.Conflict()).
func agreed(ctx context.Context, w io.Writer, r *replica) error {
	timeout := time.After(10 * time.Second)
	for {
		changed := r.check.Changed()
		st := r.check.Status()
		if st.Checked && st.Peers > 0 {
			if err := st.Conflict(); err != nil {
				fmt.Fprintf(w, "replica %s: config check: %v\n", r.name, err)
				return nil
			}
			fmt.Fprintf(w, "replica %s: config check: %d other replica, the same ratelimit.Config\n", r.name, st.Peers)
			return nil
		}
		select {
		case <-changed:
		case <-timeout:
			return errors.Join(fmt.Errorf("replica %s: the configuration check did not read the other replica within 10s", r.name), st.Err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// startEtcd starts a single etcd member in dir, listening on loopback
// ports the system picks (port 0: nothing to reserve, so nothing another
// process can take first), and waits until it serves. The caller closes
// it; its client address is e.Clients[0].Addr().
func startEtcd(ctx context.Context, dir string) (*embed.Etcd, error) {
	cfg := embed.NewConfig()
	cfg.Dir = dir
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	local := url.URL{Scheme: "http", Host: "127.0.0.1:0"}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{local}, []url.URL{local}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{local}, []url.URL{local}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("start etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
		return e, nil
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("etcd: %w", err)
	case <-time.After(30 * time.Second):
		e.Close()
		return nil, errors.New("etcd was not ready within 30s")
	case <-ctx.Done():
		e.Close()
		return nil, ctx.Err()
	}
}

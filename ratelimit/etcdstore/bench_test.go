package etcdstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/ratelimit/etcdstore"
)

// BenchmarkEtcdReserve measures granted reservations on an embedded
// loopback member of its own (fsync on, unlike the tests' shared member)
// with 1 and 8 concurrent clients, each with
// its own limiter and etcd client. With separate targets the clients do
// not conflict; with one shared target every reservation contends on the
// same key (the compare-and-swap loop retries). One op is one round of a
// reservation per client; reservations/s is the throughput.
func BenchmarkEtcdReserve(b *testing.B) {
	cfg := ratelimit.Config{
		Up:      ratelimit.Budget{Events: -1, MinInterval: -1, MaxUnits: -1, Window: time.Minute},
		Down:    ratelimit.Budget{Window: time.Minute, MinInterval: time.Second},
		History: time.Minute,
	}
	c := etcdtest.New(b, etcdtest.Options{})
	for _, bc := range []struct {
		clients int
		shared  bool
	}{{1, false}, {8, false}, {8, true}} {
		name := fmt.Sprintf("clients=%d", bc.clients)
		if bc.shared {
			name += "/shared-target"
		}
		b.Run(name, func(b *testing.B) {
			pfx := prefix(b)
			lims := make([]*ratelimit.Limiter, bc.clients)
			for i := range lims {
				cli := c.Client(b)
				s := newStore(b, cli, etcdstore.Config{Prefix: pfx, MaxConflicts: 10000})
				var err error
				if lims[i], err = ratelimit.New(cfg, ratelimit.WithStore(s)); err != nil {
					b.Fatal(err)
				}
			}
			ctx := context.Background()
			now := t0
			var wg sync.WaitGroup
			for b.Loop() {
				now = now.Add(time.Second)
				for i, lim := range lims {
					target := fmt.Sprintf("t%d", i)
					if bc.shared {
						target = "shared"
					}
					wg.Go(func() {
						r, err := lim.ReserveAt(ctx, now, up(target, 1))
						if err != nil || !r.OK() {
							b.Error(r, err)
						}
					})
				}
				wg.Wait()
			}
			b.ReportMetric(float64(b.N*bc.clients)/b.Elapsed().Seconds(), "reservations/s")
		})
	}
}

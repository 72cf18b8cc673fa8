package shardsweep_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/benbjohnson/clock"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/idlescale/idlescale/coord"
	"github.com/idlescale/idlescale/coord/shardsweep"
	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
)

// One replica of a sharded fleet: it leads every shard while it is alone,
// sweeps each shard for the last hour, and stops the idle instance.
// (The endpoints come from the embedded member the package's tests
// start; the fake clock stands for the host's.)
func ExampleNew() {
	start := time.Date(2026, 3, 10, 12, 10, 0, 0, time.UTC) // 10 minutes past the hour
	cloud, _ := memory.New(memory.Config{})
	launched := start.Add(-60 * 24 * time.Hour)
	_ = cloud.Add(
		provider.Resource{ID: "i-idle", Kind: provider.KindInstance, LaunchTime: launched},
		provider.Resource{ID: "i-busy", Kind: provider.KindInstance, LaunchTime: launched},
	)
	cpu := map[string]float64{"i-idle": 0.02, "i-busy": 0.55}
	metrics := provider.MetricsSourceFunc(func(_ context.Context, q provider.Query) (provider.Series, error) {
		if q.Metric != provider.MetricCPU {
			return provider.Series{}, provider.ErrUnsupported
		}
		s := provider.Series{ResourceID: q.ResourceID, Metric: q.Metric, Start: q.Start, Step: q.Step, Values: make([]float64, q.Steps())}
		for i := range s.Values {
			s.Values[i] = cpu[q.ResourceID]
		}
		return s, nil
	})

	cli, err := clientv3.New(clientv3.Config{Endpoints: cluster.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = cli.Close() }()
	ens, _ := detector.NewEnsemble(detector.EnsembleConfig{})
	stopper := shardsweep.ActorFunc(func(ctx context.Context, d shardsweep.Decision) error {
		fmt.Printf("%s %s (shard %d, period %s)\n", d.Verdict.Action, d.Resource.ID, d.Shard, d.Period.Format(time.TimeOnly))
		return cloud.Stop(ctx, d.Resource.ID)
	})
	ctx, stop := context.WithCancel(context.Background())
	var swept atomic.Int32
	done := shardsweep.ObserverFunc(func(r shardsweep.Report) {
		if r.Done && swept.Add(1) == 2 { // both shards swept: shut down
			stop()
		}
	})
	pfx := fmt.Sprintf("example/%d/", rand.Uint64())
	mock := clock.NewMock()
	mock.Set(start)
	r, err := shardsweep.New(shardsweep.Config{
		Shards: coord.ShardsConfig{ID: "replica-1", Shards: 2, Prefix: pfx + "coord/", SessionTTL: 2 * time.Second},
		Period: time.Hour, Prefix: pfx + "sweep/", Concurrency: 1,
	}, cli, ens, detector.Fleet{Inventory: cloud, Metrics: metrics}, stopper,
		shardsweep.WithClock(mock), shardsweep.WithObserver(done))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("Run returned", r.Run(ctx))

	_, err = shardsweep.New(shardsweep.Config{Shards: coord.ShardsConfig{ID: "replica-1", Shards: 2}}, cli, ens,
		detector.Fleet{Inventory: cloud, Metrics: metrics}, stopper)
	fmt.Println(err)
	// Output:
	// stop i-idle (shard 1, period 12:00:00)
	// Run returned <nil>
	// shardsweep: invalid period 0s: must be a positive whole number of hours
}

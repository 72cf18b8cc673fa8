package etcdstore_test

import (
	"context"
	"fmt"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/detector/etcdstore"
)

func ExampleNew() {
	cli, err := cluster.NewClient() // a *clientv3.Client of your etcd
	if err != nil {
		panic(err)
	}
	defer cli.Close()
	store, err := etcdstore.New(etcdstore.Config{Prefix: "example/state/"}, cli)
	if err != nil {
		panic(err)
	}
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	if err != nil {
		panic(err)
	}
	if _, err := detector.NewTracker(ens, detector.TrackerConfig{}, store); err != nil {
		panic(err)
	}
	_, err = store.Load(context.Background(), "i-never-seen")
	fmt.Println(err)
	// Output: detector: no state
}

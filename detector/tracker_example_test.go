package detector_test

import (
	"context"
	"fmt"
	"time"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

func ExampleNewTracker() {
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	if err != nil {
		panic(err)
	}
	tr, err := detector.NewTracker(ens, detector.TrackerConfig{}, &detector.MemoryStateStore{})
	if err != nil {
		panic(err)
	}
	// A machine at 3 % CPU; its other metrics are not available.
	metrics := provider.MetricsSourceFunc(func(_ context.Context, q provider.Query) (provider.Series, error) {
		if q.Metric != provider.MetricCPU {
			return provider.Series{}, provider.ErrUnsupported
		}
		s := provider.Series{ResourceID: q.ResourceID, Metric: q.Metric, Start: q.Start, Step: q.Step, Values: make([]float64, q.Steps())}
		for i := range s.Values {
			s.Values[i] = 0.03
		}
		return s, nil
	})
	r := provider.Resource{ID: "i-1", Kind: provider.KindInstance}
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	for _, at := range []time.Time{now, now.Add(time.Hour)} {
		v, read, err := tr.Detect(context.Background(), metrics, nil, r, at)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s %s: full read %v (%s), %d points read\n", at.Format("15:04"), v.State, read.Full, read.Why, read.Points)
	}
	// Output:
	// 12:00 idle: full read true (new_resource), 64512 points read
	// 13:00 idle: full read false (), 96 points read
}

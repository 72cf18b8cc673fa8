package quota_test

import (
	"context"
	"fmt"
	"time"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/quota"
)

func ExampleNewSource() {
	budget, err := quota.NewBudget(quota.Config{}) // 10 % of CloudWatch's GetMetricData quota
	if err != nil {
		panic(err)
	}
	cloud := provider.MetricsSourceFunc(func(_ context.Context, q provider.Query) (provider.Series, error) {
		return provider.Series{ResourceID: q.ResourceID, Metric: q.Metric, Start: q.Start, Step: q.Step, Values: make([]float64, q.Steps())}, nil
	})
	src, err := quota.NewSource(cloud, budget)
	if err != nil {
		panic(err)
	}
	now := time.Now().Truncate(time.Hour)
	for _, m := range []provider.Metric{provider.MetricCPU, provider.MetricMemory} {
		if _, err := src.QueryMetric(context.Background(), provider.Query{ResourceID: "i-1", Metric: m, Start: now.Add(-time.Hour), End: now, Step: 5 * time.Minute}); err != nil {
			panic(err)
		}
	}
	fmt.Println(budget.Usage())
	// Output: 2 calls, 24 points (24 recent), 0 throttled, waited 0s
}

func ExamplePlan() {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	qs := make([]provider.Query, 4_000_000/1000) // a thousandth of a million resources' 4 metrics
	for i := range qs {
		qs[i] = provider.Query{ResourceID: fmt.Sprint("i-", i/4), Metric: provider.MetricCPU, Start: now.Add(-time.Hour), End: now, Step: 5 * time.Minute}
	}
	batches := quota.Plan(qs, now, quota.CloudWatch())
	fmt.Println(len(batches), "calls of", len(batches[0].Queries), "metrics and", batches[0].Cost.Points, "points")
	// Output: 8 calls of 500 metrics and 6000 points
}

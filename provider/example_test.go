package provider_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// A host with its own metrics store adapts one function into a
// MetricsSource; Resample puts its raw samples on the query's grid.
func ExampleMetricsSourceFunc() {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	raw := []provider.Sample{
		{Time: t0.Add(1 * time.Minute), Value: 0.20},
		{Time: t0.Add(4 * time.Minute), Value: 0.40},
		{Time: t0.Add(12 * time.Minute), Value: 0.90},
	}
	var src provider.MetricsSource = provider.MetricsSourceFunc(func(_ context.Context, q provider.Query) (provider.Series, error) {
		return provider.Resample(q, raw)
	})
	s, err := src.QueryMetric(context.Background(), provider.Query{
		ResourceID: "vm-1", Metric: provider.MetricCPU,
		Start: t0, End: t0.Add(15 * time.Minute), Step: 5 * time.Minute,
	})
	if err != nil {
		panic(err)
	}
	for i, v := range s.Values {
		if provider.IsGap(v) {
			fmt.Println(s.TimeAt(i).Format("15:04"), "gap")
			continue
		}
		fmt.Println(s.TimeAt(i).Format("15:04"), v)
	}
	// Output:
	// 09:00 0.30000000000000004
	// 09:05 gap
	// 09:10 0.9
}

// Invalid input is reported with the field and the value.
func ExampleInvalidError() {
	err := provider.CapacitySpec{Min: 3, Max: 2, Desired: 2}.Validate()
	var ie *provider.InvalidError
	if errors.As(err, &ie) {
		fmt.Println(ie.Field, ie.Value)
	}
	fmt.Println(errors.Is(err, provider.ErrInvalid))
	fmt.Println(err)
	// Output:
	// min 3
	// true
	// invalid min 3: must be ≤ max 2
}

func ExampleFilter() {
	f := provider.Filter{
		Kinds:       []provider.Kind{provider.KindInstance},
		Environment: "staging",
		Tags:        map[string]string{"owner": ""}, // has an owner tag, any value
	}
	r := provider.Resource{ID: "i-1", Kind: provider.KindInstance, Environment: "staging", Tags: map[string]string{"owner": "ana"}}
	fmt.Println(f.Match(r))
	r.Environment = "production"
	fmt.Println(f.Match(r))
	// Output:
	// true
	// false
}

func ExampleStatistic_Percentile() {
	p, ok := provider.Percentile(99.5).Percentile()
	fmt.Println(provider.Percentile(99.5), p, ok)
	_, ok = provider.StatMax.Percentile()
	fmt.Println(ok)
	// Output:
	// p99.5 99.5 true
	// false
}

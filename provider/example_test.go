package provider_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
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

// cooldownScaler is a host's driver whose backend refuses a change of
// capacity within a cooldown of the last one, unless told to skip it.
type cooldownScaler struct{ inCooldown atomic.Bool }

func (s *cooldownScaler) Capacity(context.Context, string) (provider.Capacity, error) {
	return provider.Capacity{}, nil
}

func (s *cooldownScaler) SetCapacity(ctx context.Context, id string, want provider.CapacitySpec) error {
	if err := want.Validate(); err != nil {
		return fmt.Errorf("set capacity %q: %w", id, err)
	}
	// A rollback undoes a change this cooldown was started by: it goes
	// through, as the Scaler contract says.
	if s.inCooldown.Swap(true) && !provider.IsRollback(ctx) {
		return fmt.Errorf("set capacity %q: %w: in the group's cooldown", id, provider.ErrThrottled)
	}
	return nil
}

// A driver that paces changes of capacity with a cooldown lets a write
// marked by WithRollback through it; the scaling engine marks its
// rollback writes so.
func ExampleWithRollback() {
	var sc provider.Scaler = &cooldownScaler{}
	ctx := context.Background()
	want := provider.CapacitySpec{Min: 1, Max: 10, Desired: 6}
	fmt.Println("step:", sc.SetCapacity(ctx, "web", want))
	want.Desired = 8
	fmt.Println("next step:", sc.SetCapacity(ctx, "web", want))
	want.Desired = 4
	fmt.Println("rollback:", sc.SetCapacity(provider.WithRollback(ctx), "web", want))
	// Output:
	// step: <nil>
	// next step: set capacity "web": throttled: in the group's cooldown
	// rollback: <nil>
}

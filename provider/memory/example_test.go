package memory_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	bclock "github.com/benbjohnson/clock"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/trace"
)

func ExampleNew() {
	mock := bclock.NewMock()
	mock.Set(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
	c, err := memory.New(memory.Config{}, memory.WithClock(mock))
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	_ = c.Add(provider.Resource{ID: "i-1", Kind: provider.KindInstance, Size: provider.Size{InstanceType: "m5.large"}})

	_ = c.Stop(ctx, "i-1")
	r, _ := c.Get(ctx, "i-1")
	fmt.Println(r.State, r.HourlyCost)
	mock.Add(30 * time.Second) // Config.StopDelay
	r, _ = c.Get(ctx, "i-1")
	fmt.Println(r.State)
	for _, m := range c.Mutations() {
		fmt.Println(m.Seq, m.Op, m.From, "->", m.To)
	}
	// Output:
	// stopping 0.096
	// stopped
	// 1 add  -> running
	// 2 stop running -> stopping
}

func ExampleCloud_Replay() {
	mock := bclock.NewMock()
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	mock.Set(now)
	c, _ := memory.New(memory.Config{}, memory.WithClock(mock))
	_ = c.Add(provider.Resource{ID: "i-idle", Kind: provider.KindInstance})

	// A real, idle EC2 instance from the Numenta Anomaly Benchmark, in percent.
	trace, err := trace.ReadCSVFile("../../testdata/nab/ec2_cpu_utilization_c6585a.csv", trace.CSVOptions{Scale: 0.01})
	if err != nil {
		panic(err)
	}
	_ = c.Replay("i-idle", provider.MetricCPU, trace, now)

	day, _ := c.QueryMetric(context.Background(), provider.Query{
		ResourceID: "i-idle", Metric: provider.MetricCPU,
		Start: now.Add(-24 * time.Hour), End: now, Step: 6 * time.Hour, Statistic: provider.StatMax,
	})
	for i, v := range day.Values {
		fmt.Printf("%s max CPU %.2f%%\n", day.TimeAt(i).Format("15:04"), v*100)
	}
	// Output:
	// 12:00 max CPU 0.20%
	// 18:00 max CPU 0.14%
	// 00:00 max CPU 1.38%
	// 06:00 max CPU 0.13%
}

func ExampleCloud_InjectFault() {
	c, _ := memory.New(memory.Config{})
	_ = c.AddGroup(provider.Resource{ID: "web"}, provider.CapacitySpec{Min: 1, Max: 10, Desired: 2})

	// The second SetCapacity call is throttled, as a busy cloud API would.
	_, _ = c.InjectFault(memory.Fault{Op: memory.OpSetCapacity, Throttle: true, Nth: 2})
	ctx := context.Background()
	for desired := 3; desired <= 4; desired++ {
		err := c.SetCapacity(ctx, "web", provider.CapacitySpec{Min: 1, Max: 10, Desired: desired})
		fmt.Println(desired, errors.Is(err, provider.ErrThrottled))
	}
	// Output:
	// 3 false
	// 4 true
}

func ExampleCloud_LoadFleetFile() {
	mock := bclock.NewMock()
	mock.Set(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
	c, _ := memory.New(memory.Config{}, memory.WithClock(mock))
	if err := c.LoadFleetFile("testdata/fleet.yaml"); err != nil {
		panic(err)
	}
	all, _ := c.List(context.Background(), provider.Filter{})
	for _, r := range all {
		fmt.Println(r.ID, r.Kind, cmp.Or(r.Environment, "-"))
	}
	// Output:
	// i-busy instance production
	// i-idle instance staging
	// thumbnailer function -
	// web group -
}

// A fleet file reads only what lies in its own directory. The quickstart's
// fleet replays traces kept two directories up, in the repository's
// testdata: the host says so by handing over the repository as the root.
func ExampleCloud_LoadFleetFS() {
	mock := bclock.NewMock()
	mock.Set(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
	c, _ := memory.New(memory.Config{}, memory.WithClock(mock))
	if err := c.LoadFleetFile("../../examples/quickstart/fleet.yaml"); err != nil {
		fmt.Println(errors.Is(err, provider.ErrInvalid), "- the traces lie outside the fleet's directory")
	}

	repo, err := os.OpenRoot("../..") // CSV paths may reach the whole repository, nothing else
	if err != nil {
		panic(err)
	}
	defer repo.Close()
	if err := c.LoadFleetFS(repo.FS(), "examples/quickstart/fleet.yaml"); err != nil {
		panic(err)
	}
	all, _ := c.List(context.Background(), provider.Filter{Kinds: []provider.Kind{provider.KindInstance}})
	fmt.Println(len(all), "instances")
	// Output:
	// true - the traces lie outside the fleet's directory
	// 7 instances
}

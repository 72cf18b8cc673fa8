package idlescale_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
)

// Example is the README's first sample: read two weeks of CPU for every
// instance of the quickstart fleet through the provider interfaces.
func Example() {
	cloud, _ := memory.New(memory.Config{}) // or aws.New(aws.Config{}, sdkConfig), or your own provider
	repo, _ := os.OpenRoot(".")             // the fleet's CSV traces are in this repository's testdata
	defer repo.Close()
	if err := cloud.LoadFleetFS(repo.FS(), "examples/quickstart/fleet.yaml"); err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	now := cloud.Now()
	resources, _ := cloud.List(ctx, provider.Filter{Kinds: []provider.Kind{provider.KindInstance}})
	for _, r := range resources[:3] {
		cpu, err := cloud.QueryMetric(ctx, provider.Query{
			ResourceID: r.ID, Metric: provider.MetricCPU,
			Start: now.Add(-14 * 24 * time.Hour), End: now, Step: time.Hour,
			Statistic: provider.StatMax,
		})
		if err != nil {
			log.Fatal(err) // errors match provider.ErrNotFound, ErrThrottled, ErrInvalid, ...
		}
		// Gaps are explicit (NaN), never zeros: missing data is never "idle".
		fmt.Printf("%s %s: %d hours, %.0f%% covered\n", r.ID, r.Name, cpu.Len(), 100*cpu.Coverage())
	}
	// Output:
	// i-024ae8d legacy-ftp: 336 hours, 100% covered
	// i-053ea38 metrics-relay: 336 hours, 100% covered
	// i-05f5533 api-1: 336 hours, 100% covered
}

package synth_test

import (
	"context"
	"fmt"
	"time"

	bclock "github.com/benbjohnson/clock"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/provider/memory/synth"
	"github.com/idlescale/idlescale/provider/quota"
)

// A million instances generated from the NAB EC2 CPU traces (testdata/nab,
// Numenta Inc., MIT licence), read through an emulation of CloudWatch's
// GetMetricData quota on one fake clock.
func Example() {
	shapes, err := nabShapes()
	if err != nil {
		panic(err)
	}
	clk := bclock.NewMock()
	clk.Set(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
	fleet, err := synth.New(synth.Config{Size: 1_000_000, Seed: 42, Shapes: shapes, Start: clk.Now().Add(-60 * 24 * time.Hour)}, synth.WithClock(clk))
	if err != nil {
		panic(err)
	}
	cw, err := memory.NewQuotaEmulator(fleet, clk, quota.CloudWatch())
	if err != nil {
		panic(err)
	}
	var reads []provider.MetricRead
	for i := range 125 {
		for _, m := range synth.Metrics() {
			reads = append(reads, provider.MetricRead{Query: provider.Query{ResourceID: fleet.ID(i), Metric: m, Start: clk.Now().Add(-time.Hour), End: clk.Now(), Step: 5 * time.Minute}})
		}
	}
	if err := cw.QueryMetrics(context.Background(), reads); err != nil { // one call of 500 metrics
		panic(err)
	}
	classes := map[synth.Class]int{}
	for i := range 10_000 {
		classes[fleet.Class(i)]++
	}
	fmt.Println(fleet.ID(999_999), classes)
	fmt.Println(len(reads), "series of", len(reads[0].Series.Values), "points")
	fmt.Println(cw.Usage())
	err = cw.QueryMetrics(context.Background(), append(reads, reads[0]))
	fmt.Println(err)
	// Output:
	// i-999999 map[idle:3000 busy:4001 daily:1999 weekly:1000]
	// 500 series of 12 points
	// 1 calls, 6000 points (6000 recent), 0 throttled, 0 invalid
	// memory: quota emulator: invalid metrics_per_call 501: a call carries at most 500 metric queries
}

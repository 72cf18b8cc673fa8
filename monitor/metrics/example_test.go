package metrics_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/metrics"
	"github.com/idlescale/idlescale/safety"
)

func ExampleNew() {
	col, err := metrics.New(metrics.Config{})
	if err != nil {
		panic(err)
	}
	reg := prometheus.NewRegistry() // the host's registry, never the global one
	reg.MustRegister(col)
	log, _ := monitor.NewLog(monitor.LogConfig{}, monitor.WithSink("metrics", col))
	_ = log.Record(context.Background(), monitor.Event{Time: t0, Kind: monitor.KindBlocked, Source: monitor.SourceReaper,
		ResourceID: "i-1", Action: safety.ActionStop, Outcome: "block", Rules: []string{"backup"}})
	err = testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP idlescale_blocks_total Blocked proposals by blocking safety rule.
# TYPE idlescale_blocks_total counter
idlescale_blocks_total{rule="backup"} 1
`), "idlescale_blocks_total")
	fmt.Println(err)
	// Output: <nil>
}

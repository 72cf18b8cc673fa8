package metrics_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/metrics"
	"github.com/idlescale/idlescale/safety"
)

// BenchmarkCollect scrapes a collector that has seen a year of a fleet's
// executed changes: 1,000 resources, each stopped and started again 10
// times.
func BenchmarkCollect(b *testing.B) {
	col, err := metrics.New(metrics.Config{}, metrics.WithClock(fixedClock{now: t0.Add(365 * 24 * time.Hour)}))
	if err != nil {
		b.Fatal(err)
	}
	var evs []monitor.Event
	for i := range 1000 {
		for k := range 20 {
			e := ev(monitor.KindAction, monitor.SourceReaper, fmt.Sprintf("i-%d", i), safety.ActionStop, monitor.OutcomeDone,
				float64(k*400+i%400))
			e.Cost = &monitor.CostChange{Before: 0.1}
			if k%2 == 1 {
				e.Cost = &monitor.CostChange{After: 0.1}
			}
			evs = append(evs, e)
		}
	}
	if err := col.Write(b.Context(), evs); err != nil {
		b.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(col)
	for b.Loop() {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}

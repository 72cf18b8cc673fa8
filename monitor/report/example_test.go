package report_test

import (
	"fmt"
	"os"
	"time"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/report"
	"github.com/idlescale/idlescale/safety"
)

func ExampleBuild() {
	at := time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC)
	evs := []monitor.Event{
		{Time: at, Kind: monitor.KindVerdict, Source: monitor.SourceReaper, ResourceID: "i-1", Outcome: "idle",
			Confidence: 0.97, Action: safety.ActionStop, MonthlySavings: 70.13},
		{Time: at, Kind: monitor.KindAction, Source: monitor.SourceReaper, ResourceID: "i-1", Action: safety.ActionStop,
			Outcome: monitor.OutcomeDone, Cost: &monitor.CostChange{Before: 0.096, After: 0}},
	}
	rep, err := report.Build(report.Input{Now: at.Add(10 * time.Hour), Events: evs})
	if err != nil {
		panic(err)
	}
	fmt.Printf("idle %d, realised $%.2f in %.0f h\n", rep.Totals.Idle, rep.Totals.RealisedSavings, rep.Realised[0].Hours)
	// Output: idle 1, realised $0.96 in 10 h
}

func ExampleChart_ChartJS() {
	at := time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC)
	c := report.Chart{Name: "cpu", Title: "CPU", Type: report.ChartLine, Times: []time.Time{at, at.Add(time.Hour)},
		Series: []report.Series{{Label: "i-1", Values: []float64{0.5, nan}}}}
	js := c.ChartJS()
	fmt.Println(js.Type, js.Data.Labels[1], js.Data.Datasets[0].Label, len(js.Data.Datasets[0].Data))
	// Output: line 2026-03-07T04:00:00Z i-1 2
}

func ExampleReport_WriteText() {
	at := time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC)
	evs := []monitor.Event{
		{Time: at, Kind: monitor.KindVerdict, Source: monitor.SourceReaper, ResourceID: "i-1", Outcome: "idle",
			Confidence: 0.97, Action: safety.ActionStop, MonthlySavings: 70.13, Reason: "CPU p95 2.1% for 14 days"},
		{Time: at, Kind: monitor.KindVerdict, Source: monitor.SourceReaper, ResourceID: "i-2", Outcome: "idle",
			Confidence: 0.81, MonthlySavings: 12, Reason: "no logins for 30 days"},
		{Time: at, Kind: monitor.KindAction, Source: monitor.SourceReaper, ResourceID: "i-1", Action: safety.ActionStop,
			Outcome: monitor.OutcomeDone, Cost: &monitor.CostChange{Before: 0.096, After: 0}},
		{Time: at.Add(time.Hour), Kind: monitor.KindBlocked, Source: monitor.SourceReaper, ResourceID: "i-3", Action: safety.ActionStop,
			Outcome: "block", Rules: []string{"backup"}, Reason: "no verified backup within 24h"},
		{Time: at.Add(2 * time.Hour), Kind: monitor.KindFailure, Source: monitor.SourceReaper, ResourceID: "i-4",
			Outcome: monitor.OutcomeFailed, Reason: "metrics: throttled"},
		{Time: at, Kind: monitor.KindScalingPlan, Source: monitor.SourceScaling, ResourceID: "web", Outcome: monitor.OutcomePlanned},
		{Time: at, Kind: monitor.KindScalingStep, Source: monitor.SourceScaling, ResourceID: "web", Action: safety.ActionScaleOut,
			Outcome: monitor.OutcomeDone, Capacity: &monitor.CapacityChange{From: 2, To: 4}, Cost: &monitor.CostChange{Before: 0.2, After: 0.4}},
		{Time: at, Kind: monitor.KindScalingPlan, Source: monitor.SourceScaling, ResourceID: "web", Outcome: monitor.OutcomeDone},
	}
	rep, err := report.Build(report.Input{Now: at.Add(10 * time.Hour), Events: evs})
	if err != nil {
		panic(err)
	}
	_ = rep.WriteText(os.Stdout)
	// Output:
	// idlescale report at 2026-03-07T13:00:00Z
	// 0 resources, 2 idle; estimated savings $0/month; realised $0.96 so far ($70/month now)
	// actions: 1 done, 0 would act, 0 deferred, 0 need approval, 1 blocked, 0 rate limited, 1 failed; 0 alerts firing
	//
	// idle resources
	//   i-1    confidence 0.97  stop  $70/month  CPU p95 2.1% for 14 days
	//   i-2    confidence 0.81  -     $12/month  no logins for 30 days
	//
	// actions
	//   Mar 07 03:00  stop i-1  done    -
	//   Mar 07 04:00  stop i-3  block   no verified backup within 24h
	//   Mar 07 05:00  - i-4     failed  metrics: throttled
	//   blocked by: backup 1
	//
	// realised savings
	//   i-1  stop since Mar 07 03:00  $0.096/h → $0.000/h  10.0 h (0.0 running)  saved $0.96
	//
	// scaling
	//   web: 1 plans, 1 steps executed, 0 previewed, 0 failed, 0 rollbacks; 40.0 instance-hours ($4.00, capacity 2–4); 0 of 0 demand steps over capacity
	//
	// alerts
	//   no alerts
}

var nan = func() float64 { z := 0.0; return z / z }()

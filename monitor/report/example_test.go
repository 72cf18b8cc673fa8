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
	rep, _ := report.Build(report.Input{Now: time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC)})
	_ = rep.WriteText(os.Stdout)
	// Output:
	// idlescale report at 2026-03-07T03:00:00Z
	// 0 resources, 0 idle; estimated savings $0/month; realised $0.00 so far ($0/month now)
	// actions: 0 done, 0 would act, 0 need approval, 0 blocked, 0 rate limited, 0 failed; 0 alerts firing
	//
	// idle resources
	//   no idle resources
	//
	// actions
	//   no actions
	//
	// realised savings
	//   nothing executed yet
	//
	// alerts
	//   no alerts
}

var nan = func() float64 { z := 0.0; return z / z }()

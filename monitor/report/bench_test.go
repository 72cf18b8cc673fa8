package report_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/report"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// benchLog is a week of a fleet's log: per hourly pass, a verdict and a
// safety decision for each of resources instances, and a two-step plan
// (planned, executed, verified, completed, with costs) on each of groups
// scaling groups; one in ten instances stopped on the first day.
func benchLog(resources, groups, hours int) ([]monitor.Event, []provider.Resource) {
	var evs []monitor.Event
	var inv []provider.Resource
	for r := range resources {
		inv = append(inv, provider.Resource{ID: "i-" + strconv.Itoa(r), Kind: provider.KindInstance, State: provider.StateRunning, HourlyCost: 0.1})
	}
	for h := range hours {
		at := t0.Add(time.Duration(h) * time.Hour)
		for r := range resources {
			id := "i-" + strconv.Itoa(r)
			evs = append(evs,
				monitor.Event{Time: at, Kind: monitor.KindVerdict, Source: monitor.SourceReaper, ResourceID: id,
					Outcome: string(detector.Idle), Confidence: 0.9, Action: safety.ActionStop, MonthlySavings: 70},
				monitor.Event{Time: at, Kind: monitor.KindBlocked, Source: monitor.SourceReaper, ResourceID: id,
					Action: safety.ActionStop, Outcome: "block", Rules: []string{"backup"}})
			if h == 3 && r%10 == 0 {
				evs = append(evs, action(id, safety.ActionStop, 3, 0.1, 0))
			}
		}
		for g := range groups {
			id := "asg-" + strconv.Itoa(g)
			from, to := 2+h%3, 2+(h+1)%3
			evs = append(evs,
				monitor.Event{Time: at, Kind: monitor.KindScalingPlan, Source: monitor.SourceScaling, ResourceID: id, Outcome: monitor.OutcomePlanned},
				monitor.Event{Time: at.Add(time.Second), Kind: monitor.KindScalingStep, Source: monitor.SourceScaling, ResourceID: id,
					Action: safety.ActionScaleOut, Outcome: monitor.OutcomeDone, Capacity: &monitor.CapacityChange{From: from, To: to},
					Cost: &monitor.CostChange{Before: 0.1 * float64(from), After: 0.1 * float64(to)}},
				monitor.Event{Time: at.Add(time.Minute), Kind: monitor.KindVerification, Source: monitor.SourceScaling, ResourceID: id, Outcome: monitor.OutcomeVerified},
				monitor.Event{Time: at.Add(time.Minute), Kind: monitor.KindScalingPlan, Source: monitor.SourceScaling, ResourceID: id, Outcome: monitor.OutcomeDone})
		}
	}
	return evs, inv
}

// benchSizes are the week-long logs the benchmarks read: the default
// ring (about 10,000 events) and a larger one.
var benchSizes = []struct {
	name                     string
	resources, groups, hours int
}{
	{"10k_events", 25, 10, 168},
	{"100k_events", 250, 50, 168},
}

// BenchmarkBuild builds the report of a week's log as the dashboard does
// on every page: the default ring (about 10,000 events) and a larger one.
func BenchmarkBuild(b *testing.B) {
	for _, bc := range benchSizes {
		evs, inv := benchLog(bc.resources, bc.groups, bc.hours)
		now := t0.Add(time.Duration(bc.hours) * time.Hour)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := report.Build(report.Input{Now: now, Events: evs, Resources: inv}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(evs)), "events")
		})
	}
}

// BenchmarkCharts draws the savings and cost charts of a week's log as
// the dashboard does on every page (96 points).
func BenchmarkCharts(b *testing.B) {
	for _, bc := range benchSizes {
		evs, inv := benchLog(bc.resources, bc.groups, bc.hours)
		now := t0.Add(time.Duration(bc.hours) * time.Hour)
		from, step := now.Add(-7*24*time.Hour), 7*24*time.Hour/96
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				report.SavingsChart(evs, inv, from, now, step)
				report.CostChart(evs, inv, from, now, step)
			}
			b.ReportMetric(float64(len(evs)), "events")
		})
	}
}

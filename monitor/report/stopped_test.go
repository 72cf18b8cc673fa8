package report_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/report"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// A resource the reaper stopped (or resized) after its latest verdict
// found it idle: the saving of that verdict is made, and the report
// counts it as realised. Its estimated saving stayed in
// Totals.EstimatedMonthlySavings until a newer verdict replaced it: the
// same saving counted twice, once estimated, once realised. It is still
// listed idle (a stopped resource is idle, as the metrics' gauge counts
// it), but its saving is no longer estimated. A stop in a dry run, or
// one whose verification failed, leaves its saving estimated, and so
// does a verdict after the stop of a resource the inventory shows
// restarted (idle again). A verdict after the stop of one still stopped
// (the detector reading the data from before the stop again) estimates
// nothing: the realised savings count that stop, and counted it twice.
func TestActedOnResourceIsNotCountedAsEstimatedSavings(t *testing.T) {
	t.Parallel()
	verdict := func(id string, act safety.Action, h time.Duration) monitor.Event {
		return monitor.Event{Time: t0.Add(h), Kind: monitor.KindVerdict, Source: monitor.SourceReaper, ResourceID: id,
			Outcome: string(detector.Idle), Action: act, MonthlySavings: 73, Confidence: 0.9}
	}
	act := func(id string, a safety.Action, outcome string, dry bool) monitor.Event {
		after := 0.0
		if a == safety.ActionResize {
			after = 0.05
		}
		return monitor.Event{Time: t0.Add(time.Hour), Kind: monitor.KindAction, Source: monitor.SourceReaper, ResourceID: id,
			Action: a, Outcome: outcome, DryRun: dry, Cost: &monitor.CostChange{Before: 0.1, After: after}}
	}
	evs := []monitor.Event{
		verdict("i-stopped", safety.ActionStop, 0), act("i-stopped", safety.ActionStop, monitor.OutcomeDone, false),
		verdict("i-resized", safety.ActionResize, 0), act("i-resized", safety.ActionResize, monitor.OutcomeDone, false),
		verdict("i-dry", safety.ActionStop, 0), act("i-dry", safety.ActionStop, monitor.OutcomeWouldAct, true),
		verdict("i-unverified", safety.ActionStop, 0), act("i-unverified", safety.ActionStop, monitor.OutcomeDone, false),
		{Time: t0.Add(time.Hour), Kind: monitor.KindVerification, Source: monitor.SourceReaper, ResourceID: "i-unverified",
			Action: safety.ActionStop, Outcome: monitor.OutcomeFailed},
		verdict("i-again", safety.ActionStop, 0), act("i-again", safety.ActionStop, monitor.OutcomeDone, false),
		verdict("i-again", safety.ActionStop, 2*time.Hour),
		verdict("i-still", safety.ActionStop, 0), act("i-still", safety.ActionStop, monitor.OutcomeDone, false),
		verdict("i-still", safety.ActionStop, 2*time.Hour),
	}
	inv := []provider.Resource{
		{ID: "i-again", Kind: provider.KindInstance, State: provider.StateRunning, HourlyCost: 0.1},
		{ID: "i-still", Kind: provider.KindInstance, State: provider.StateStopped, HourlyCost: 0.1},
	}
	rep, err := report.Build(report.Input{Now: t0.Add(3 * time.Hour), Events: evs, Resources: inv})
	require.NoError(t, err)
	var ids []string
	for _, i := range rep.Idle {
		ids = append(ids, i.ResourceID)
		if i.ResourceID == "i-still" {
			assert.InDelta(t, 73, i.MadeMonthlySavings, 1e-9, "made by the stop before the verdict")
		}
	}
	assert.ElementsMatch(t, []string{"i-stopped", "i-resized", "i-dry", "i-unverified", "i-again", "i-still"}, ids)
	assert.InDelta(t, 3*73, rep.Totals.EstimatedMonthlySavings, 1e-9, "i-dry, i-unverified and i-again (restarted)")
	assert.Len(t, rep.Realised, 5, "every executed stop and resize; i-unverified's saves nothing")
}

// Mutation testing of idleList found the dry-run check of a stop untested
// (every test passed without it): a stop recorded as done in a dry run (a
// preview, which changed nothing) leaves the saving estimated; without
// it, the preview removed the resource's saving from the estimate though
// it is still running.
func TestDryRunStopDoneLeavesTheSavingEstimated(t *testing.T) {
	t.Parallel()
	evs := []monitor.Event{
		{Time: t0, Kind: monitor.KindVerdict, Source: monitor.SourceReaper, ResourceID: "i-1",
			Outcome: string(detector.Idle), Action: safety.ActionStop, MonthlySavings: 73, Confidence: 0.9},
		{Time: t0.Add(time.Hour), Kind: monitor.KindAction, Source: monitor.SourceReaper, ResourceID: "i-1",
			Action: safety.ActionStop, Outcome: monitor.OutcomeDone, DryRun: true},
	}
	rep, err := report.Build(report.Input{Now: t0.Add(3 * time.Hour), Events: evs})
	require.NoError(t, err)
	require.Len(t, rep.Idle, 1)
	assert.InDelta(t, 73, rep.Totals.EstimatedMonthlySavings, 1e-9)
}

// TestEstimateOfAnActionUndoneOrPartlyMadeStillCounts: a resource whose
// stop since its verdict was undone by its owner (the inventory shows it
// running again) was left out of the estimated savings, as if the stop
// still held, while its realised saving stopped growing (its monthly
// rate went back to 0): its saving counted nowhere until its next
// verdict. And a resize executed on a resource whose verdict
// recommended a stop dropped the stop's whole estimate, though the
// resize made only part of it. The estimate now counts what the changes
// since the verdict do not save: all of it after a restart, the stop's
// less the resize's monthly saving; an action the verdict recommended
// and still in force still drops it.
func TestEstimateOfAnActionUndoneOrPartlyMadeStillCounts(t *testing.T) {
	t.Parallel()
	verdict := func(id string) monitor.Event {
		return monitor.Event{Time: t0, Kind: monitor.KindVerdict, Source: monitor.SourceReaper, ResourceID: id,
			Outcome: string(detector.Idle), Action: safety.ActionStop, MonthlySavings: 73, Confidence: 0.9}
	}
	act := func(id string, a safety.Action, after float64) monitor.Event {
		return monitor.Event{Time: t0.Add(time.Hour), Kind: monitor.KindAction, Source: monitor.SourceReaper, ResourceID: id,
			Action: a, Outcome: monitor.OutcomeDone, Cost: &monitor.CostChange{Before: 0.1, After: after}}
	}
	tests := []struct {
		name      string
		give      []monitor.Event
		resources []provider.Resource
		want      float64
	}{
		{"stopped, restarted by its owner", []monitor.Event{verdict("i-1"), act("i-1", safety.ActionStop, 0)},
			[]provider.Resource{{ID: "i-1", Kind: provider.KindInstance, State: provider.StateRunning, HourlyCost: 0.1, LaunchTime: t0.Add(2 * time.Hour)}},
			73},
		{"stopped, still stopped", []monitor.Event{verdict("i-1"), act("i-1", safety.ActionStop, 0)},
			[]provider.Resource{{ID: "i-1", Kind: provider.KindInstance, State: provider.StateStopped, HourlyCost: 0.1}},
			0},
		{"resized, the verdict recommended a stop", []monitor.Event{verdict("i-1"), act("i-1", safety.ActionResize, 0.05)},
			nil, 73 - 0.05*provider.HoursPerMonth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep, err := report.Build(report.Input{Now: t0.Add(3 * time.Hour), Events: tt.give, Resources: tt.resources})
			require.NoError(t, err)
			require.Len(t, rep.Idle, 1)
			assert.InDelta(t, tt.want, rep.Totals.EstimatedMonthlySavings, 1e-9)
		})
	}
}

// TestIdleChartDrawsWhatTheTotalsCount: the idle chart drew every idle
// resource's whole estimate, a stopped one's too, while the totals no
// longer counted it (its saving is realised): the dashboard's chart and
// its "estimated savings" card disagreed. The chart now draws what the
// totals count of each.
func TestIdleChartDrawsWhatTheTotalsCount(t *testing.T) {
	t.Parallel()
	verdict := func(id string) monitor.Event {
		return monitor.Event{Time: t0, Kind: monitor.KindVerdict, Source: monitor.SourceReaper, ResourceID: id,
			Outcome: string(detector.Idle), Action: safety.ActionStop, MonthlySavings: 73, Confidence: 0.9}
	}
	act := func(id string, a safety.Action, after float64) monitor.Event {
		return monitor.Event{Time: t0.Add(time.Hour), Kind: monitor.KindAction, Source: monitor.SourceReaper, ResourceID: id,
			Action: a, Outcome: monitor.OutcomeDone, Cost: &monitor.CostChange{Before: 0.1, After: after}}
	}
	evs := []monitor.Event{verdict("i-stopped"), act("i-stopped", safety.ActionStop, 0),
		verdict("i-resized"), act("i-resized", safety.ActionResize, 0.05), verdict("i-idle")}
	rep, err := report.Build(report.Input{Now: t0.Add(3 * time.Hour), Events: evs})
	require.NoError(t, err)
	c := report.IdleChart(rep)
	require.Len(t, c.Series, 1)
	got := map[string]float64{}
	sum := 0.0
	for k, l := range c.Labels {
		got[l] = c.Series[0].Values[k]
		sum += c.Series[0].Values[k]
	}
	assert.InDelta(t, 0, got["i-stopped"], 1e-9)
	assert.InDelta(t, 73-0.05*provider.HoursPerMonth, got["i-resized"], 1e-9)
	assert.InDelta(t, 73, got["i-idle"], 1e-9)
	assert.InDelta(t, rep.Totals.EstimatedMonthlySavings, sum, 1e-9)
}

package report_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/alert"
	"github.com/idlescale/idlescale/monitor/report"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/reaper"
	"github.com/idlescale/idlescale/safety"
)

var t0 = time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC)

const hostile = `<script>alert("x")</script>&`

func at(h float64) time.Time { return t0.Add(time.Duration(h * float64(time.Hour))) }

func action(id string, a safety.Action, h float64, before, after float64) monitor.Event {
	return monitor.Event{Time: at(h), Kind: monitor.KindAction, Source: monitor.SourceReaper, ResourceID: id, Action: a,
		Outcome: monitor.OutcomeDone, Cost: &monitor.CostChange{Before: before, After: after}}
}

func verification(id string, h float64, outcome string) monitor.Event {
	return monitor.Event{Time: at(h), Kind: monitor.KindVerification, Source: monitor.SourceReaper, ResourceID: id, Outcome: outcome}
}

func TestEmptyFleet(t *testing.T) {
	t.Parallel()
	rep, err := report.Build(report.Input{Now: t0})
	require.NoError(t, err)
	assert.Equal(t, "idlescale report", rep.Title)
	var text bytes.Buffer
	require.NoError(t, rep.WriteText(&text))
	for _, want := range []string{"0 resources, 0 idle", "no idle resources", "no actions", "nothing executed yet", "no alerts"} {
		assert.Contains(t, text.String(), want)
	}
	b, err := json.Marshal(rep)
	require.NoError(t, err)
	for _, k := range []string{`"idle":[]`, `"actions":[]`, `"realised":[]`, `"alerts":[]`} {
		assert.Contains(t, string(b), k, "empty lists, not null")
	}
	var html bytes.Buffer
	require.NoError(t, rep.WriteHTML(&html, report.SafetyChart(nil), report.IdleChart(rep)))
	assert.Contains(t, html.String(), "No idle resources.")
	assert.Contains(t, html.String(), "(no data)")

	_, err = report.Build(report.Input{})
	require.ErrorIs(t, err, provider.ErrInvalid)

	// A period that ends before it starts is refused by name; one of no
	// length is a report of the instant.
	_, err = report.Build(report.Input{Now: t0, From: t0.Add(time.Nanosecond)})
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "from", ie.Field)
	_, err = report.Build(report.Input{Now: t0, From: t0})
	require.NoError(t, err)
}

// Realised savings are measured: running hours × hourly cost before and
// after each change, restarts from the inventory, failed verifications
// and dry runs not counted.
func TestRealisedSavings(t *testing.T) {
	t.Parallel()
	evs := []monitor.Event{
		action("i-stop", safety.ActionStop, 0, 0.1, 0), verification("i-stop", 0.1, monitor.OutcomeVerified),
		action("i-restarted", safety.ActionStop, 0, 0.1, 0),
		action("i-resize", safety.ActionResize, 2, 0.2, 0.1),
		action("i-unverified", safety.ActionStop, 0, 0.1, 0), verification("i-unverified", 0.1, monitor.OutcomeFailed),
		func() monitor.Event { e := action("i-dry", safety.ActionStop, 0, 0.1, 0); e.DryRun = true; return e }(),
		func() monitor.Event { e := action("i-later", safety.ActionStop, 11, 0.1, 0); return e }(),
	}
	inv := []provider.Resource{
		{ID: "i-stop", Name: "batch", State: provider.StateStopped, HourlyCost: 0.1},
		{ID: "i-restarted", State: provider.StateRunning, HourlyCost: 0.1, LaunchTime: at(6)},
	}
	rep, err := report.Build(report.Input{Now: at(10), Events: evs, Resources: inv})
	require.NoError(t, err)
	byID := map[string]report.Realised{}
	for _, r := range rep.Realised {
		byID[r.ResourceID] = r
	}
	require.Len(t, byID, 4, "dry runs and changes after now do not count")
	stop := byID["i-stop"]
	assert.Equal(t, "batch", stop.Name)
	assert.InDelta(t, 1.0, stop.Saved, 1e-9, "10 h × $0.10")
	assert.InDelta(t, 10, stop.Hours, 1e-9)
	assert.InDelta(t, 0, stop.RunningHours, 1e-9)
	assert.InDelta(t, 0.1*730.5, stop.MonthlyRate, 1e-9)
	re := byID["i-restarted"]
	assert.InDelta(t, 0.6, re.Saved, 1e-9, "stopped 6 h, running again 4 h")
	assert.InDelta(t, 4, re.RunningHours, 1e-9)
	assert.InDelta(t, 0.1, re.HourlyNow, 1e-9)
	assert.InDelta(t, 0, re.MonthlyRate, 1e-9)
	assert.InDelta(t, 0.8, byID["i-resize"].Saved, 1e-9, "8 h × $0.10 less")
	assert.InDelta(t, 0, byID["i-unverified"].Saved, 1e-9, "a failed verification changed nothing")
	assert.InDelta(t, 2.4, rep.Totals.RealisedSavings, 1e-9)

	var text bytes.Buffer
	require.NoError(t, rep.WriteText(&text))
	assert.Contains(t, text.String(), "saved $1.00")

	c := report.SavingsChart(evs, inv, t0, at(10), time.Hour)
	require.Len(t, c.Times, 11)
	vals := c.Series[0].Values
	assert.InDelta(t, 0, vals[0], 1e-9)
	assert.InDelta(t, 2.4, vals[10], 1e-9, "the chart ends at the report's total")
	assert.InDelta(t, 0.5+0.5+0.3, vals[5], 1e-9, "at 5 h: 0.5 + 0.5 + 3 h of $0.10 on the resize")
	cost := report.CostChart(evs, inv, t0, at(10), time.Hour)
	assert.InDelta(t, 0.1*3+0.2, cost.Series[0].Values[10], 1e-9, "without the actions")
	assert.InDelta(t, 0.1+0.1+0.1, cost.Series[1].Values[10], 1e-9, "actual: resized, restarted, unverified")
}

func TestIdleActionsAndBlocks(t *testing.T) {
	t.Parallel()
	idle, notIdle := string(detector.Idle), string(detector.NotIdle)
	verdict := func(id, outcome string, h, savings float64) monitor.Event {
		return monitor.Event{Time: at(h), Kind: monitor.KindVerdict, Source: monitor.SourceReaper, ResourceID: id,
			Outcome: outcome, Confidence: 0.9, Action: safety.ActionStop, MonthlySavings: savings, Reason: "cpu low"}
	}
	blocked := func(src string) monitor.Event {
		return monitor.Event{Time: at(1), Kind: monitor.KindBlocked, Source: src, ResourceID: "i-b", Action: safety.ActionStop,
			Outcome: "block", Rules: []string{"backup", "business_hours"}}
	}
	evs := []monitor.Event{
		verdict("i-a", idle, 0, 70), verdict("i-a", notIdle, 1, 0), // no longer idle
		verdict("i-b", idle, 1, 50), verdict(hostile, idle, 1, 90),
		blocked(monitor.SourceReaper), blocked(monitor.SourceSafety), // one decision, recorded twice
		{Time: at(1), Kind: monitor.KindDecision, Source: monitor.SourceReaper, ResourceID: "i-c", Action: safety.ActionStop, Outcome: "require_approval"},
		{Time: at(1), Kind: monitor.KindDecision, Source: monitor.SourceReaper, ResourceID: "i-d", Action: safety.ActionStop, Outcome: "pass"},
		{Time: at(1), Kind: monitor.KindAction, Source: monitor.SourceReaper, ResourceID: "i-d", Action: safety.ActionStop, Outcome: "would_act", DryRun: true},
		{Time: at(1), Kind: monitor.KindRateLimited, Source: monitor.SourceReaper, ResourceID: "i-e", Action: safety.ActionStop, Reason: "cooldown"},
		{Time: at(-5), Kind: monitor.KindFailure, Source: monitor.SourceReaper, ResourceID: "i-old", Outcome: "failed"},
	}
	al := alert.Alert{ID: "safety_block/i-b", State: alert.StateFiring, Severity: alert.SeverityWarning, Summary: hostile}
	rep, err := report.Build(report.Input{Now: at(2), From: t0, Events: evs, Alerts: []alert.Alert{al},
		Resources: []provider.Resource{{ID: "i-b", Name: hostile}}})
	require.NoError(t, err)
	require.Len(t, rep.Idle, 2, "i-a's latest verdict is not idle")
	assert.Equal(t, hostile, rep.Idle[0].ResourceID, "most savings first")
	assert.InDelta(t, 140, rep.Totals.EstimatedMonthlySavings, 1e-9)
	tt := rep.Totals
	assert.Equal(t, []int{1, 1, 1, 1, 0}, []int{tt.Blocked, tt.NeedsApproval, tt.WouldAct, tt.RateLimited, tt.Failed},
		"the blocked decision counts once; the failure before From is left out")
	assert.Equal(t, []report.RuleCount{{Rule: "backup", Count: 1}, {Rule: "business_hours", Count: 1}}, rep.Blocks)
	assert.Equal(t, 1, tt.FiringAlerts)

	var html bytes.Buffer
	require.NoError(t, rep.WriteHTML(&html, report.IdleChart(rep), report.SafetyChart(evs)))
	page := html.String()
	assert.NotContains(t, page, "<script>", "names are escaped everywhere, charts included")
	assert.Contains(t, page, "&lt;script&gt;")
	assert.Contains(t, page, `<figure id="chart-idle"><svg`)

	sc := report.SafetyChart(evs)
	assert.Equal(t, []float64{1, 1, 1}, sc.Series[0].Values, "allowed, approval, blocked; the double record counts once")
}

func TestScalingSummary(t *testing.T) {
	t.Parallel()
	step := func(h float64, from, to int, outcome string) monitor.Event {
		a := safety.ActionScaleOut
		if to < from {
			a = safety.ActionScaleIn
		}
		return monitor.Event{Time: at(h), Kind: monitor.KindScalingStep, Source: monitor.SourceScaling, ResourceID: "asg",
			Action: a, Outcome: outcome, Ref: "plan", Capacity: &monitor.CapacityChange{From: from, To: to},
			Cost: &monitor.CostChange{Before: 0.1 * float64(from), After: 0.1 * float64(to)}}
	}
	evs := []monitor.Event{
		{Time: at(0), Kind: monitor.KindScalingPlan, Source: monitor.SourceScaling, ResourceID: "asg", Outcome: monitor.OutcomePlanned},
		step(0, 2, 4, monitor.OutcomeDone), step(2, 4, 2, monitor.OutcomeDone), step(3, 2, 1, monitor.OutcomeFailed),
		{Time: at(3), Kind: monitor.KindRollback, Source: monitor.SourceScaling, ResourceID: "asg", Outcome: monitor.OutcomeStarted},
		{Time: at(3), Kind: monitor.KindRollback, Source: monitor.SourceScaling, ResourceID: "asg", Outcome: monitor.OutcomeDone,
			Capacity: &monitor.CapacityChange{From: 2, To: 2}},
	}
	demand := provider.Series{ResourceID: "asg", Metric: provider.MetricRequests, Start: t0, Step: time.Hour,
		Values: []float64{100, 350, 150, 250, provider.Gap}}
	rep, err := report.Build(report.Input{Now: at(4), Events: evs,
		Targets: []report.Target{{ResourceID: "asg", Demand: demand, PerInstance: 100}}})
	require.NoError(t, err)
	require.Len(t, rep.Scaling, 1)
	s := rep.Scaling[0]
	assert.InDelta(t, 1.2, s.Cost, 1e-9, "12 instance-hours at $0.10")
	s.Cost = 0
	assert.Equal(t, report.Scaling{ResourceID: "asg", Plans: 1, Steps: 2, Failures: 1, Rollbacks: 1, CapacityHours: 12,
		MinCapacity: 2, MaxCapacity: 4, SLOViolations: 1, DemandSteps: 4}, s, "4×2 h + 2×2 h; 250 > 2×100 at 3 h")
	assert.Empty(t, rep.Realised, "scaling is not savings: a scale-out costs more by design")

	c := report.CapacityChart(evs, "asg", demand, 100)
	assert.Equal(t, []float64{400, 400, 200, 200, 200}, c.Series[1].Values)
	require.Len(t, c.Markers, 4)
	late := demand
	late.Start, late.Values = at(2), demand.Values[2:]
	assert.Len(t, report.CapacityChart(evs, "asg", late, 100).Markers, 3, "markers only within the demand's range")
	assert.Equal(t, "scale_in failed 2→1", c.Markers[2].Label)
	js, err := json.Marshal(c.ChartJS())
	require.NoError(t, err)
	assert.Contains(t, string(js), `"data":[100,350,150,250,null]`, "gaps are null")
	assert.Contains(t, string(js), `"type":"scatter"`)
	var buf bytes.Buffer
	require.NoError(t, c.SVG(&buf, 0, 0))
	assert.True(t, strings.HasPrefix(buf.String(), "<svg"), "no XML prolog")
	assert.Contains(t, buf.String(), "scale_out 2→4")

	for _, bad := range []report.Target{{Demand: demand, PerInstance: 1}, {ResourceID: "asg", Demand: demand},
		{ResourceID: "asg", PerInstance: 1, Demand: provider.Series{Start: t0, Step: -1}}} {
		_, err := report.Build(report.Input{Now: at(4), Targets: []report.Target{bad}})
		require.ErrorIs(t, err, provider.ErrInvalid)
	}
}

func TestUtilizationChart(t *testing.T) {
	t.Parallel()
	a := provider.Series{ResourceID: "i-a", Start: t0, Step: time.Hour, Values: []float64{0.05, provider.Gap, 0.07}}
	b := provider.Series{ResourceID: "i-b", Start: t0.Add(time.Hour), Step: time.Hour, Values: []float64{0.95, 0.92, 0.97}}
	c := report.UtilizationChart([]provider.Series{a, b}, map[string]string{"i-b": hostile})
	require.Len(t, c.Times, 4)
	assert.Equal(t, "i-a", c.Series[0].Label)
	assert.True(t, provider.IsGap(c.Series[0].Values[1]))
	assert.True(t, provider.IsGap(c.Series[1].Values[0]))
	assert.InDelta(t, 0.97, c.Series[1].Values[3], 1e-12)
	js := c.ChartJS()
	require.Len(t, js.Data.Datasets, 4, "two series, two thresholds")
	assert.Equal(t, "2026-03-07T03:00:00Z", js.Data.Labels[0])
	var buf bytes.Buffer
	require.NoError(t, c.SVG(&buf, 0, 0))
	svg := buf.String()
	assert.NotContains(t, svg, "<script>")
	assert.Contains(t, svg, "&lt;script&gt;", "the legend shows the name as text")
	assert.GreaterOrEqual(t, strings.Count(svg, "<path"), 4, "lines drawn")
}

// Series on the same instants share the chart's times however their
// times are written: in another zone, or with a monotonic clock reading
// (a start from time.Now) beside one without (parsed, or truncated). The
// times were map keys as they were, so one instant made two points, and
// each series had a gap at every other one (its line drawn as dots).
func TestUtilizationChartOneInstantOnePoint(t *testing.T) {
	t.Parallel()
	now := time.Now()
	for _, tt := range []struct {
		name   string
		s1, s2 time.Time
	}{
		{"zones", t0, t0.In(time.FixedZone("CET", 3600))},
		{"monotonic reading", now, now.Round(0)},
	} {
		a := provider.Series{ResourceID: "i-a", Start: tt.s1, Step: time.Hour, Values: []float64{0.05, 0.06}}
		b := provider.Series{ResourceID: "i-b", Start: tt.s2, Step: time.Hour, Values: []float64{0.95, 0.92}}
		c := report.UtilizationChart([]provider.Series{a, b}, nil)
		require.Len(t, c.Times, 2, tt.name)
		for i, s := range c.Series {
			for k, v := range s.Values {
				assert.False(t, provider.IsGap(v), "%s: series %d, point %d", tt.name, i, k)
			}
		}
	}
}

// A decision recorded by both the reaper (live: its time has the monotonic
// clock reading of the Gate's now) and the engine's auditor (imported from
// an audit trail that stored it as JSON: the same instant without the
// reading, in another zone) counts once, in the report and in the safety
// chart, as the metrics collector counts it (time.Time.Equal): the times
// were compared as map keys, which differ.
func TestDecisionRecordedTwiceCountsOnceWhateverItsTime(t *testing.T) {
	t.Parallel()
	live := time.Now()
	imported := live.Round(0).In(time.FixedZone("CET", 3600))
	blocked := func(src string, at time.Time) monitor.Event {
		return monitor.Event{Time: at, Kind: monitor.KindBlocked, Source: src, ResourceID: "i-b", Action: safety.ActionStop,
			Outcome: "block", Rules: []string{"backup"}}
	}
	approval := func(src string, at time.Time) monitor.Event {
		return monitor.Event{Time: at, Kind: monitor.KindDecision, Source: src, ResourceID: "i-c", Action: safety.ActionStop,
			Outcome: "require_approval"}
	}
	evs := []monitor.Event{blocked(monitor.SourceReaper, live), blocked(monitor.SourceSafety, imported),
		approval(monitor.SourceReaper, live), approval(monitor.SourceSafety, imported)}
	rep, err := report.Build(report.Input{Now: live.Add(time.Hour), Events: evs})
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Totals.Blocked)
	assert.Equal(t, 1, rep.Totals.NeedsApproval)
	assert.Len(t, rep.Actions, 2)
	assert.Equal(t, []report.RuleCount{{Rule: "backup", Count: 1}}, rep.Blocks)
	assert.Equal(t, []float64{0, 1, 1}, report.SafetyChart(evs).Series[0].Values, "allowed, approval, blocked")
}

// A resource stopped, restarted outside the tool (a person, a deploy),
// and stopped again was counted as saving all along, the hours it ran
// between the stops too: a stop finds its resource running, so a stop
// after a stop says a restart happened in between. It costs again from
// the start the second stop's record read (Cost.RunningSince, the
// inventory's LaunchTime), or, when that is unknown or not between the
// two, from the first stop: the report claims no saving it cannot show.
// A terminate after a stop finds the resource stopped and implies
// nothing. The Ledger, the chart and the report agree.
func TestRestartBetweenStops(t *testing.T) {
	t.Parallel()
	withSince := func(e monitor.Event, h float64) monitor.Event { e.Cost.RunningSince = at(h); return e }
	evs := []monitor.Event{
		// Stopped at 0, restarted at 4, stopped again at 6: 4 h + 4 h
		// saved of 10.
		action("i-known", safety.ActionStop, 0, 0.1, 0), withSince(action("i-known", safety.ActionStop, 6, 0.1, 0), 4),
		// The same, when the restart's time is not known: from 0.
		action("i-unknown", safety.ActionStop, 0, 0.1, 0), action("i-unknown", safety.ActionStop, 6, 0.1, 0),
		// A start before the first stop (a provider that keeps the first
		// launch time): not between the two, from 0.
		action("i-before", safety.ActionStop, 2, 0.1, 0), withSince(action("i-before", safety.ActionStop, 6, 0.1, 0), 1),
		// A start exactly at the second stop: it ran no time.
		action("i-at", safety.ActionStop, 0, 0.1, 0), withSince(action("i-at", safety.ActionStop, 6, 0.1, 0), 6),
		// A terminate after a stop: stopped all along.
		action("i-term", safety.ActionStop, 0, 0.1, 0), action("i-term", safety.ActionTerminate, 6, 0.1, 0),
		// A resize that says the resource ran since 3 after a stop at 0.
		action("i-resize", safety.ActionStop, 0, 0.2, 0), withSince(action("i-resize", safety.ActionResize, 5, 0.2, 0.1), 3),
		// A stop whose verification failed, then another: it never
		// stopped, so nothing is implied and nothing saved before 6.
		action("i-failed", safety.ActionStop, 0, 0.1, 0), verification("i-failed", 0.5, monitor.OutcomeFailed),
		action("i-failed", safety.ActionStop, 6, 0.1, 0),
	}
	want := map[string]struct{ saved, running float64 }{
		"i-known":   {0.1 * 8, 2},
		"i-unknown": {0.1 * 4, 6},
		"i-before":  {0.1 * 4, 4},
		"i-at":      {0.1 * 10, 0},
		"i-term":    {0.1 * 10, 0},
		"i-resize":  {0.2*3 + 0.1*5, 7},
		"i-failed":  {0.1 * 4, 6},
	}
	rep, err := report.Build(report.Input{Now: at(10), Events: evs})
	require.NoError(t, err)
	total := 0.0
	require.Len(t, rep.Realised, len(want))
	for _, r := range rep.Realised {
		w := want[r.ResourceID]
		assert.InDelta(t, w.saved, r.Saved, 1e-9, r.ResourceID)
		assert.InDelta(t, w.running, r.RunningHours, 1e-9, r.ResourceID)
		total += w.saved
	}
	assert.InDelta(t, total, rep.Totals.RealisedSavings, 1e-9)
	var l report.Ledger
	for _, e := range evs {
		require.True(t, l.Add(e))
	}
	assert.InDelta(t, total, l.Saved(at(10)), 1e-9, "the ledger agrees")
	c := report.SavingsChart(evs, nil, t0, at(10), time.Hour)
	assert.InDelta(t, total, c.Series[0].Values[10], 1e-9, "the chart agrees")
}

// The reaper dates a failed verification at its change's time (ActedAt),
// so the two share a time. Events given in another order than recorded
// (newest first, as a list shows them) had the verification read before
// the stop, with no change to undo, and the stop that failed counted as
// saving from then on. At one time a change is read before a failed
// verification, by the report, the chart and the Ledger alike.
func TestFailedVerificationOfItsTimeInAnyOrder(t *testing.T) {
	t.Parallel()
	rec := reaper.Record{ResourceID: "i-1", Action: safety.ActionStop, Outcome: reaper.OutcomeUnverified, ActedAt: at(1),
		MonthlySavings: detector.HoursPerMonth * 0.1, Verdict: &detector.Verdict{State: detector.Idle, MonthlySavings: detector.HoursPerMonth * 0.1},
		Resource: provider.Resource{ID: "i-1", HourlyCost: 0.1, State: provider.StateRunning, LaunchTime: t0}}
	evs := monitor.ReaperEvents(rec, at(1))
	require.Len(t, evs, 3, "verdict, stop, failed verification")
	require.True(t, evs[1].Time.Equal(evs[2].Time), "one time")
	newestFirst := slices.Clone(evs)
	slices.Reverse(newestFirst)
	for name, order := range map[string][]monitor.Event{"as recorded": evs, "newest first": newestFirst} {
		rep, err := report.Build(report.Input{Now: at(10), Events: order})
		require.NoError(t, err)
		require.Len(t, rep.Realised, 1, name)
		assert.Zero(t, rep.Realised[0].Saved, "%s: the stop did not take", name)
		assert.Zero(t, rep.Realised[0].MonthlyRate, name)
		c := report.SavingsChart(order, nil, t0, at(10), time.Hour)
		assert.Zero(t, c.Series[0].Values[10], "%s: the chart agrees", name)
		var l report.Ledger
		for _, e := range order {
			require.True(t, l.Add(e))
		}
		assert.Zero(t, l.Saved(at(10)), "%s: the ledger agrees", name)
	}
}

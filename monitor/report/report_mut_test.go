package report_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/report"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/scaling"
)

// The totals count the actions by outcome, and the idle list is sorted
// by savings (not by ID), then by ID.
func TestTotalsAndIdleOrder(t *testing.T) {
	t.Parallel()
	verdict := func(id string, savings float64) monitor.Event {
		return monitor.Event{Time: at(1), Kind: monitor.KindVerdict, Source: monitor.SourceReaper, ResourceID: id,
			Outcome: string(detector.Idle), Action: safety.ActionStop, MonthlySavings: savings}
	}
	evs := []monitor.Event{
		verdict("i-a", 10), verdict("i-b", 30), verdict("i-d", 20), verdict("i-c", 20),
		action("i-x", safety.ActionStop, 1, 0.1, 0), action("i-y", safety.ActionStop, 1.5, 0.1, 0),
		{Time: at(1), Kind: monitor.KindFailure, Source: monitor.SourceReaper, ResourceID: "i-z", Outcome: monitor.OutcomeFailed},
	}
	rep, err := report.Build(report.Input{Now: at(2), Events: evs})
	require.NoError(t, err)
	var ids []string
	for _, i := range rep.Idle {
		ids = append(ids, i.ResourceID)
	}
	assert.Equal(t, []string{"i-b", "i-c", "i-d", "i-a"}, ids)
	tt := rep.Totals
	assert.Equal(t, []int{2, 0, 0, 0, 0, 1}, []int{tt.Done, tt.WouldAct, tt.Blocked, tt.NeedsApproval, tt.RateLimited, tt.Failed})
	assert.Equal(t, 4, tt.Idle)
	assert.InDelta(t, 80, tt.EstimatedMonthlySavings, 1e-9)
}

// The scaling summary's edges: a target without scaling events (no
// capacity, nothing compared), demand exactly at capacity (not a
// violation), every rollback started counted, the instance cost from the
// first executed step with instances (not a failed or dry-run one, nor
// one to zero), and the capacity at From bounding Min and Max.
func TestScalingSummaryEdges(t *testing.T) {
	t.Parallel()
	step := func(h float64, from, to int, outcome string, cost float64) monitor.Event {
		return monitor.Event{Time: at(h), Kind: monitor.KindScalingStep, Source: monitor.SourceScaling, ResourceID: "asg",
			Action: safety.ActionScaleOut, Outcome: outcome, Capacity: &monitor.CapacityChange{From: from, To: to},
			Cost: &monitor.CostChange{Before: cost * float64(from), After: cost * float64(to)}}
	}
	rollback := func(h float64, outcome string) monitor.Event {
		return monitor.Event{Time: at(h), Kind: monitor.KindRollback, Source: monitor.SourceScaling, ResourceID: "asg", Outcome: outcome}
	}
	dry := step(0.5, 2, 9, monitor.OutcomeDone, 5)
	dry.DryRun = true
	evs := []monitor.Event{
		step(0, 2, 1, monitor.OutcomeFailed, 9), // failed: no capacity, no cost
		dry,                                     // a dry run changes nothing
		step(1, 2, 0, monitor.OutcomeDone, 7),   // to zero: no instance cost
		step(2, 0, 3, monitor.OutcomeDone, 0.5), // the instance cost: 0.5
		step(3, 3, 5, monitor.OutcomeDone, 0.8),
		rollback(3.5, monitor.OutcomeStarted), rollback(3.5, monitor.OutcomeFailed), rollback(3.6, monitor.OutcomeStarted),
	}
	demand := provider.Series{ResourceID: "asg", Metric: provider.MetricRequests, Start: t0, Step: time.Hour,
		Values: []float64{500, 0, 300, 301, 300}}
	quiet := provider.Series{ResourceID: "quiet", Start: t0, Step: time.Hour, Values: []float64{50, 60}}
	rep, err := report.Build(report.Input{Now: at(4.5), From: at(1.5), Events: evs, Targets: []report.Target{
		{ResourceID: "asg", Demand: demand, PerInstance: 100}, {ResourceID: "quiet", Demand: quiet, PerInstance: 10}}})
	require.NoError(t, err)
	require.Len(t, rep.Scaling, 2)
	assert.Equal(t, report.Scaling{ResourceID: "quiet"}, rep.Scaling[1], "no scaling events: nothing to measure")
	s := rep.Scaling[0]
	// From 1.5 h: 0 until 2 h, 3 until 3 h, 5 until 4.5 h.
	assert.InDelta(t, 3+7.5, s.CapacityHours, 1e-9)
	assert.InDelta(t, (3+7.5)*0.5, s.Cost, 1e-9)
	assert.Equal(t, []int{0, 5}, []int{s.MinCapacity, s.MaxCapacity}, "the capacity in force at From included")
	assert.Equal(t, []int{2, 0, 0, 2}, []int{s.Steps, s.Previewed, s.Failures, s.Rollbacks}, "the failed step and the dry run before From left out; two rollbacks started")
	// Demand from 2 h (From 1.5 h): 300 at 3 instances (at capacity: no
	// violation), 301 at 5, 300 at 5.
	assert.Equal(t, 3, s.DemandSteps)
	assert.Zero(t, s.SLOViolations)

	// The same demand with one more request at 2 h violates.
	demand.Values[2] = 300.5
	rep, err = report.Build(report.Input{Now: at(4.5), From: at(1.5), Events: evs, Targets: []report.Target{{ResourceID: "asg", Demand: demand, PerInstance: 100}}})
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Scaling[0].SLOViolations)

	// The capacity timeline: the first executed step's From at its time,
	// then every executed step's and rollback's To.
	done := rollback(4, monitor.OutcomeDone)
	done.Capacity = &monitor.CapacityChange{From: 5, To: 3}
	assert.Equal(t, []report.CapacityPoint{{At: at(1), Capacity: 2}, {At: at(1), Capacity: 0}, {At: at(2), Capacity: 3},
		{At: at(3), Capacity: 5}, {At: at(4), Capacity: 3}}, report.CapacitySteps(append(evs, done), "asg"))
}

// The counts of a target's plans and steps from the events the engine's
// events become (monitor.ScalingEvents): a plan is counted once, not
// again when it completes; a previewed step is not an executed one, and
// its capacity is no capacity in force.
func TestScalingCountsFromEngineEvents(t *testing.T) {
	t.Parallel()
	from, to := provider.CapacitySpec{Min: 1, Max: 10, Desired: 2}, provider.CapacitySpec{Min: 1, Max: 10, Desired: 4}
	var evs []monitor.Event
	i := 0
	for plan, kinds := range [][]scaling.EventKind{
		{scaling.EventPlanned, scaling.EventStepExecuted, scaling.EventStepVerified, scaling.EventPlanCompleted}, // executed
		{scaling.EventPlanned, scaling.EventPreviewed, scaling.EventPlanCompleted},                               // a dry run
		{scaling.EventPlanned, scaling.EventStepFailed, scaling.EventPlanStopped},                                // failed
	} {
		for _, k := range kinds {
			evs = append(evs, monitor.ScalingEvents(scaling.Event{Kind: k, Time: at(float64(i)), Target: "asg", PlanID: "p" + strconv.Itoa(plan),
				From: from, To: to}, 0.1)...)
			i++
		}
	}
	rep, err := report.Build(report.Input{Now: at(10), Events: evs})
	require.NoError(t, err)
	require.Len(t, rep.Scaling, 1)
	s := rep.Scaling[0]
	assert.Equal(t, []int{3, 1, 1, 1, 0}, []int{s.Plans, s.Steps, s.Previewed, s.Failures, s.Rollbacks})
	assert.InDelta(t, 4*9, s.CapacityHours, 1e-9, "4 instances from the executed step at 1 h to 10 h")
	assert.InDelta(t, 4*9*0.1, s.Cost, 1e-9)
	var text strings.Builder
	require.NoError(t, rep.WriteText(&text))
	assert.Contains(t, text.String(), "asg: 3 plans, 1 steps executed, 1 previewed, 1 failed, 0 rollbacks")
}

// Realised.Changes counts the changes in force (a restart the inventory
// shows included); a failed verification of a second change restores the
// first change's cost, not the baseline; a running resource that costs
// nothing is no restart.
func TestRealisedChanges(t *testing.T) {
	t.Parallel()
	evs := []monitor.Event{
		action("i-1", safety.ActionResize, 0, 0.4, 0.2), action("i-1", safety.ActionResize, 2, 0.2, 0.1),
		verification("i-1", 2.1, monitor.OutcomeFailed),
		action("i-free", safety.ActionStop, 0, 0.1, 0),
		action("i-back", safety.ActionStop, 0, 0.1, 0),
	}
	inv := []provider.Resource{
		{ID: "i-free", State: provider.StateRunning, HourlyCost: 0, LaunchTime: at(1)},
		{ID: "i-back", State: provider.StatePending, HourlyCost: 0.1, LaunchTime: at(3)},
	}
	rep, err := report.Build(report.Input{Now: at(4), Events: evs, Resources: inv})
	require.NoError(t, err)
	byID := map[string]report.Realised{}
	for _, r := range rep.Realised {
		byID[r.ResourceID] = r
	}
	one := byID["i-1"]
	assert.Equal(t, 2, one.Changes)
	assert.InDelta(t, 0.2, one.HourlyNow, 1e-12, "the second resize did not take effect")
	assert.InDelta(t, 4*0.2, one.Saved, 1e-9)
	assert.InDelta(t, 4, one.RunningHours, 1e-9)
	free := byID["i-free"]
	assert.Equal(t, 1, free.Changes, "costing nothing, running is no restart")
	assert.InDelta(t, 0.4, free.Saved, 1e-9)
	back := byID["i-back"]
	assert.Equal(t, 2, back.Changes, "pending counts as running")
	assert.InDelta(t, 0.3, back.Saved, 1e-9)
	assert.InDelta(t, 1, back.RunningHours, 1e-9)
}

// A marker between two times sits at the nearer one (the later on a
// tie), one after the last time at the last.
func TestChartJSMarkers(t *testing.T) {
	t.Parallel()
	c := report.Chart{Name: "x", Type: report.ChartLine, Unit: "rps", Times: []time.Time{at(0), at(1), at(2), at(3)},
		Series:  []report.Series{{Label: "a", Values: []float64{1, 2, 3}}},
		Markers: []report.Marker{{Time: at(0.4), Value: 10}, {Time: at(0.6), Value: 15}, {Time: at(1.5), Value: 20}, {Time: at(9), Value: 30}}}
	js := c.ChartJS()
	require.Len(t, js.Data.Datasets, 2)
	b, err := json.Marshal(js)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"data":[1,2,3,null]`, "a series shorter than the times ends in gaps")
	assert.Contains(t, string(b), `"data":[10,15,20,30]`, "0.4 h → 0, 0.6 h → 1 h, 1.5 h → 2 h (a tie goes to the later), 9 h → the last")
	assert.Contains(t, string(b), `"title":{"display":true,"text":"rps"}`)
	c.Unit = ""
	b, err = json.Marshal(c.ChartJS())
	require.NoError(t, err)
	assert.Contains(t, string(b), `"title":{"display":false,"text":""}`)
	c.Times = nil
	for _, d := range c.ChartJS().Data.Datasets {
		assert.NotEqual(t, "events", d.Label, "no times: no markers")
	}
}

// FleetUtilization charts the CPU of every resource the filter selects,
// labelled "ID name", and reports what failed.
func TestFleetUtilization(t *testing.T) {
	t.Parallel()
	cloud, err := memory.New(memory.Config{})
	require.NoError(t, err)
	require.NoError(t, cloud.Add(provider.Resource{ID: "i-1", Name: "web", Kind: provider.KindInstance}))
	require.NoError(t, cloud.Add(provider.Resource{ID: "i-2", Kind: provider.KindInstance}))
	for m := range 120 {
		require.NoError(t, cloud.AddSamples("i-1", provider.MetricCPU, provider.Sample{Time: t0.Add(time.Duration(m) * time.Minute), Value: 0.5}))
		require.NoError(t, cloud.AddSamples("i-2", provider.MetricCPU, provider.Sample{Time: t0.Add(time.Duration(m) * time.Minute), Value: 0.25}))
	}
	ctx := t.Context()
	c, err := report.FleetUtilization(ctx, report.Fleet{Inventory: cloud, Metrics: cloud}, provider.Filter{}, t0, at(2), time.Hour)
	require.NoError(t, err)
	require.Len(t, c.Series, 2)
	labels := []string{c.Series[0].Label, c.Series[1].Label}
	assert.ElementsMatch(t, []string{"i-1 web", "i-2"}, labels)
	require.Len(t, c.Times, 2)
	for _, s := range c.Series {
		want := 0.25
		if s.Label == "i-1 web" {
			want = 0.5
		}
		assert.InDeltaSlice(t, []float64{want, want}, s.Values, 1e-12, s.Label)
	}

	boom := errors.New("boom")
	_, err = report.FleetUtilization(ctx, report.Fleet{Inventory: failingInventory{boom}, Metrics: cloud}, provider.Filter{}, t0, at(2), time.Hour)
	require.ErrorIs(t, err, boom)
	failing := provider.MetricsSourceFunc(func(context.Context, provider.Query) (provider.Series, error) {
		return provider.Series{}, provider.ErrThrottled
	})
	_, err = report.FleetUtilization(ctx, report.Fleet{Inventory: cloud, Metrics: failing}, provider.Filter{}, t0, at(2), time.Hour)
	require.ErrorIs(t, err, provider.ErrThrottled)
	assert.ErrorContains(t, err, "cpu of i-")
}

type failingInventory struct{ err error }

func (f failingInventory) List(context.Context, provider.Filter) ([]provider.Resource, error) {
	return nil, f.err
}

func (f failingInventory) Get(context.Context, string) (provider.Resource, error) {
	return provider.Resource{}, f.err
}

// The cost and savings charts' grid: from at step up to now, now always
// the last point (the report's total), at most 2001 points.
func TestChartGrid(t *testing.T) {
	t.Parallel()
	evs := []monitor.Event{action("i-1", safety.ActionStop, 0, 0.1, 0)}
	times := func(from, now time.Time, step time.Duration) []time.Time {
		c := report.SavingsChart(evs, nil, from, now, step)
		require.Len(t, c.Series[0].Values, len(c.Times))
		return c.Times
	}
	assert.Equal(t, []time.Time{at(5)}, times(t0, at(5), 0), "no step: now alone")
	assert.Equal(t, []time.Time{at(5)}, times(t0, at(5), -time.Hour))
	assert.Equal(t, []time.Time{t0}, times(t0, t0, time.Hour), "an empty range: now alone")
	assert.Equal(t, []time.Time{t0, at(3), at(6), at(9), at(10)}, times(t0, at(10), 3*time.Hour), "ends at now")
	c := report.SavingsChart(evs, nil, t0, at(10), 3*time.Hour)
	assert.InDelta(t, 1.0, c.Series[0].Values[4], 1e-9, "10 h × $0.10 at now")

	exact := times(t0, at(2000), time.Hour)
	require.Len(t, exact, 2001, "2000 steps keep their step")
	assert.Equal(t, at(1), exact[1])
	long := times(t0, at(3000), time.Hour)
	require.Len(t, long, 2001, "3000 steps: a coarser step")
	assert.Equal(t, at(1.5), long[1])
	assert.Equal(t, at(3000), long[2000])
	span := 4001*time.Second + time.Nanosecond // 2000 does not divide it
	odd := times(t0, t0.Add(span), time.Second)
	require.Len(t, odd, 2001, "rounded down, the step would leave 2001 points before now")
	assert.Equal(t, t0.Add(span), odd[2000])
	assert.Equal(t, t0.Add(2000500*time.Microsecond+time.Nanosecond), odd[1], "(4001 s + 1 ns) / 2000, rounded up to the nanosecond")
	cost := report.CostChart(evs, nil, t0, at(10), 3*time.Hour)
	assert.Equal(t, []time.Time{t0, at(3), at(6), at(9), at(10)}, cost.Times)
}

// A range longer than a time.Duration holds (from the zero time: every
// event, as Input.From means it) still gets at most 2001 points, evenly
// spaced and ending at now with the report's total: now.Sub(from)
// saturates, and rounding the saturated span up overflowed into a
// negative step that walked back from from without end.
func TestChartGridBeyondADuration(t *testing.T) {
	t.Parallel()
	evs := []monitor.Event{action("i-1", safety.ActionStop, 0, 0.1, 0)}
	rep, err := report.Build(report.Input{Now: at(5), Events: evs})
	require.NoError(t, err)
	for _, from := range []time.Time{{}, t0.AddDate(-300, 0, 0)} {
		c := report.SavingsChart(evs, nil, from, at(5), time.Hour)
		require.LessOrEqual(t, len(c.Times), 2001, "from %v", from)
		require.Len(t, c.Series[0].Values, len(c.Times))
		assert.Equal(t, from, c.Times[0])
		assert.Equal(t, at(5), c.Times[len(c.Times)-1])
		for i := 1; i < len(c.Times); i++ {
			require.True(t, c.Times[i].After(c.Times[i-1]), "from %v: point %d ascends", from, i)
		}
		assert.InDelta(t, rep.Totals.RealisedSavings, c.Series[0].Values[len(c.Times)-1], 1e-9)
	}
}

// A range longer than a time.Duration holds is cut in 2000 equal steps
// of whole seconds that reach now: 2001 points, each step the same but
// the last, which is no longer than the others.
func TestChartGridBeyondADurationEvenly(t *testing.T) {
	t.Parallel()
	evs := []monitor.Event{action("i-1", safety.ActionStop, 0, 0.1, 0)}
	for _, from := range []time.Time{{}, t0.AddDate(-300, 0, 0)} {
		c := report.SavingsChart(evs, nil, from, at(5), time.Hour)
		require.Len(t, c.Times, 2001, "from %v", from)
		step := c.Times[1].Sub(c.Times[0])
		assert.Equal(t, time.Duration(0), step%time.Second, "from %v: whole seconds", from)
		for i := 1; i < 2000; i++ {
			require.Equal(t, step, c.Times[i].Sub(c.Times[i-1]), "from %v: step %d", from, i)
		}
		last := at(5).Sub(c.Times[1999])
		assert.Positive(t, last, "from %v", from)
		assert.LessOrEqual(t, last, step, "from %v: the last step", from)
	}
}

// A range of 2000 steps and a nanosecond keeps its step (it holds 2000
// whole ones) and gets 2001 points too: the one 2000 steps on is before
// now, but would be a 2002nd.
func TestChartGridJustOver2000Steps(t *testing.T) {
	t.Parallel()
	evs := []monitor.Event{action("i-1", safety.ActionStop, 0, 0.1, 0)}
	now := at(2000).Add(time.Nanosecond)
	c := report.SavingsChart(evs, nil, t0, now, time.Hour)
	require.Len(t, c.Times, 2001)
	assert.Equal(t, at(1), c.Times[1])
	assert.Equal(t, at(1999), c.Times[1999])
	assert.Equal(t, now, c.Times[2000])
}

// A line chart whose values are all one large value (2^53 or more: a
// byte counter, say) draws: gonum widens an empty value range by ±1,
// which does not change such a value, and its ticks panicked ("illegal
// range").
func TestSVGAllEqualLargeValues(t *testing.T) {
	t.Parallel()
	for _, v := range []float64{1e16, -3e17, 1e300} {
		for _, c := range []report.Chart{
			{Name: "flat", Type: report.ChartLine, Times: []time.Time{t0, at(1)}, Series: []report.Series{{Label: "bytes", Values: []float64{v, v}}}},
			{Name: "one", Type: report.ChartLine, Times: []time.Time{t0}, Series: []report.Series{{Label: "bytes", Values: []float64{v}}}},
			{Name: "threshold", Type: report.ChartLine, Times: []time.Time{t0, at(1)}, Series: []report.Series{{Label: "bytes", Values: []float64{provider.Gap, provider.Gap}}},
				Thresholds: []report.Threshold{{Label: "quota", Value: v}}},
		} {
			var s string
			require.NotPanics(t, func() {
				var err error
				s, err = c.SVGString()
				require.NoError(t, err)
			}, "%s at %g", c.Name, v)
			assert.Contains(t, s, "<svg", "%s at %g", c.Name, v)
		}
	}
}

// A line chart whose values are all one value just past 2^53 draws:
// gonum's ±1 widening there is not exact, and 2^53+2 became the range
// [2^53, 2^53+4], whose ticks never ended (the widening was taken over
// only for values ±1 does not change, 2^53+2 not among them).
func TestSVGAllEqualValuesPast2To53(t *testing.T) {
	t.Parallel()
	for _, v := range []float64{math.Ldexp(1, 53), math.Ldexp(1, 53) + 2, -math.Ldexp(1, 53) - 2, math.Ldexp(1, 53) + 6} {
		c := report.Chart{Name: "flat", Type: report.ChartLine, Times: []time.Time{t0, at(1)},
			Series: []report.Series{{Label: "bytes", Values: []float64{v, v}}}}
		s, err := c.SVGString()
		require.NoError(t, err, "at %g", v)
		assert.Contains(t, s, "<svg", "at %g", v)
	}
}

// The value axis of a chart whose values are all one large value is
// drawn around it: every number on it is the value to within a
// millionth or so, not a range a million times as wide (the axis
// holding 0, or values of the other sign).
func TestSVGAllEqualLargeValuesAxis(t *testing.T) {
	t.Parallel()
	label := regexp.MustCompile(`>([^<>]+)</text>`)
	for _, v := range []float64{1e16, -3e17, 1e300} {
		c := report.Chart{Name: "flat", Type: report.ChartLine, Times: []time.Time{t0, at(1)},
			Series: []report.Series{{Label: "bytes", Values: []float64{v, v}}}}
		s, err := c.SVGString()
		require.NoError(t, err)
		n := 0
		for _, m := range label.FindAllStringSubmatch(s, -1) {
			f, err := strconv.ParseFloat(m[1], 64)
			if err != nil {
				continue // a time, the legend
			}
			n++
			assert.InEpsilon(t, v, f, 1e-5, "at %g: tick %s", v, m[1])
		}
		assert.Positive(t, n, "at %g: the value axis has numbers", v)
	}
}

// A chart whose values are all one value below 2^53 keeps gonum's axis,
// the value ±1: the widening is taken over only where it is not exact.
func TestSVGAllEqualSmallValuesAxis(t *testing.T) {
	t.Parallel()
	label := regexp.MustCompile(`>([^<>]+)</text>`)
	c := report.Chart{Name: "flat", Type: report.ChartLine, Times: []time.Time{t0, at(1)},
		Series: []report.Series{{Label: "cpu", Values: []float64{5, 5}}}}
	s, err := c.SVGString()
	require.NoError(t, err)
	var ticks []float64
	for _, m := range label.FindAllStringSubmatch(s, -1) {
		if f, err := strconv.ParseFloat(m[1], 64); err == nil {
			ticks = append(ticks, f)
		}
	}
	require.NotEmpty(t, ticks)
	assert.InDelta(t, 4, slices.Min(ticks), 1e-9, "ticks %v", ticks)
	assert.InDelta(t, 6, slices.Max(ticks), 1e-9, "ticks %v", ticks)
}

// A step a dry run previewed is marked as one, as a failed step is: its
// marker was labelled as an executed step's ("scale_out 2→4") while the
// capacity never changed.
func TestCapacityChartMarksPreviews(t *testing.T) {
	t.Parallel()
	demand := provider.Series{ResourceID: "asg", Start: t0, Step: time.Hour, Values: []float64{100, 200, 300}}
	step := func(h float64, outcome string, dry bool) monitor.Event {
		return monitor.Event{Time: at(h), Kind: monitor.KindScalingStep, Source: monitor.SourceScaling, ResourceID: "asg",
			Action: safety.ActionScaleOut, Outcome: outcome, DryRun: dry, Capacity: &monitor.CapacityChange{From: 2, To: 4}}
	}
	c := report.CapacityChart([]monitor.Event{step(0.5, monitor.OutcomeWouldAct, true), step(1, monitor.OutcomeDone, false),
		step(1.5, monitor.OutcomeFailed, false)}, "asg", demand, 50)
	labels := make([]string, len(c.Markers))
	for i, m := range c.Markers {
		labels[i] = m.Label
	}
	assert.Equal(t, []string{"scale_out 2→4 (dry run)", "scale_out 2→4", "scale_out failed 2→4"}, labels)
}

// The SVG: markers are labelled up to 12 (more would overlap), a gap
// breaks a line in two, and a bar chart has a legend only with more than
// one series.
func TestSVGDetails(t *testing.T) {
	t.Parallel()
	svg := func(c report.Chart) string {
		s, err := c.SVGString()
		require.NoError(t, err)
		return s
	}
	markers := func(n int) report.Chart {
		c := report.Chart{Name: "m", Type: report.ChartLine, Times: []time.Time{t0, at(20)},
			Series: []report.Series{{Label: "demand", Values: []float64{1, 2}}}}
		for i := range n {
			c.Markers = append(c.Markers, report.Marker{Time: at(float64(i)), Value: 1, Label: "step" + strconv.Itoa(i)})
		}
		return c
	}
	assert.Contains(t, svg(markers(12)), "step11")
	assert.NotContains(t, svg(markers(13)), "step1<", "13 markers: no labels")
	assert.Contains(t, svg(markers(13)), "scaling events", "still drawn, in the legend")

	line := report.Chart{Name: "l", Type: report.ChartLine, Times: []time.Time{t0, at(1), at(2), at(3), at(4)},
		Series: []report.Series{{Label: "cpu", Values: []float64{0.1, 0.2, 0.3, 0.4, 0.5}}}}
	dots := regexp.MustCompile(`<path d="M[^"]*A1\.5,1\.5 [^"]*Z"`) // an isolated value's circle
	whole := svg(line)
	line.Series[0].Values[2] = provider.Gap
	broken := svg(line)
	assert.Equal(t, strings.Count(whole, "<path")+1, strings.Count(broken, "<path"), "two segments")
	assert.Empty(t, dots.FindAllString(broken, -1))
	line.Series[0].Values[1], line.Series[0].Values[3] = provider.Gap, math.Inf(1)
	assert.Len(t, dots.FindAllString(svg(line), -1), 2, "two values between gaps, each a dot (a line of one point draws nothing)")

	bars := report.Chart{Name: "b", Type: report.ChartBar, Labels: []string{"x", "y"},
		Series: []report.Series{{Label: "first-series", Values: []float64{1, 2}}}}
	assert.NotContains(t, svg(bars), "first-series", "one series: no legend")
	bars.Series = append(bars.Series, report.Series{Label: "second-series", Values: []float64{3, provider.Gap}})
	two := svg(bars)
	assert.Contains(t, two, "first-series")
	assert.Contains(t, two, "second-series")
}

// A plan whose planned event and step came before From still makes its
// target's row when it completes in the period: the capacity it set is
// in force there.
func TestScalingRowFromAPlansLastEvent(t *testing.T) {
	t.Parallel()
	evs := []monitor.Event{
		{Time: at(0), Kind: monitor.KindScalingPlan, Source: monitor.SourceScaling, ResourceID: "asg", Outcome: monitor.OutcomePlanned},
		{Time: at(0.5), Kind: monitor.KindScalingStep, Source: monitor.SourceScaling, ResourceID: "asg", Action: safety.ActionScaleOut,
			Outcome: monitor.OutcomeDone, Capacity: &monitor.CapacityChange{From: 2, To: 4}},
		{Time: at(1.5), Kind: monitor.KindScalingPlan, Source: monitor.SourceScaling, ResourceID: "asg", Outcome: monitor.OutcomeDone},
	}
	rep, err := report.Build(report.Input{Now: at(5), From: at(1), Events: evs})
	require.NoError(t, err)
	require.Len(t, rep.Scaling, 1)
	s := rep.Scaling[0]
	assert.Zero(t, s.Plans, "planned before From")
	assert.InDelta(t, 16, s.CapacityHours, 1e-9, "4 instances from From to now")
}

// A group whose last plan ended before From, and that did not scale in
// the period, still has its row: the capacity its last step set is in
// force over the whole period, and costs. A change after now makes no
// row.
func TestScalingRowOfAGroupQuietInThePeriod(t *testing.T) {
	t.Parallel()
	evs := []monitor.Event{
		{Time: at(0), Kind: monitor.KindScalingPlan, Source: monitor.SourceScaling, ResourceID: "asg", Outcome: monitor.OutcomePlanned},
		{Time: at(0.5), Kind: monitor.KindScalingStep, Source: monitor.SourceScaling, ResourceID: "asg", Action: safety.ActionScaleOut,
			Outcome: monitor.OutcomeDone, Capacity: &monitor.CapacityChange{From: 2, To: 4}, Cost: &monitor.CostChange{Before: 0.2, After: 0.4}},
		{Time: at(0.5), Kind: monitor.KindScalingPlan, Source: monitor.SourceScaling, ResourceID: "asg", Outcome: monitor.OutcomeDone},
		{Time: at(6), Kind: monitor.KindScalingStep, Source: monitor.SourceScaling, ResourceID: "later", Action: safety.ActionScaleOut,
			Outcome: monitor.OutcomeDone, Capacity: &monitor.CapacityChange{From: 2, To: 4}},
	}
	rep, err := report.Build(report.Input{Now: at(5), From: at(1), Events: evs})
	require.NoError(t, err)
	require.Len(t, rep.Scaling, 1, "asg's row, and none for a change after now")
	s := rep.Scaling[0]
	assert.InDelta(t, 1.6, s.Cost, 1e-9, "16 instance-hours at $0.10")
	s.Cost = 0
	assert.Equal(t, report.Scaling{ResourceID: "asg", CapacityHours: 16, MinCapacity: 4, MaxCapacity: 4}, s,
		"4 instances from From to now; no plan or step in the period")
}

// A target whose only capacity change is dated after now (a clock behind
// the engine's) has no capacity to report yet: the bounds were those of
// that change, a capacity the group never had in the period.
func TestScalingBoundsIgnoreAChangeAfterNow(t *testing.T) {
	t.Parallel()
	evs := []monitor.Event{{Time: at(6), Kind: monitor.KindScalingStep, Source: monitor.SourceScaling, ResourceID: "asg",
		Action: safety.ActionScaleOut, Outcome: monitor.OutcomeDone, Capacity: &monitor.CapacityChange{From: 2, To: 4}}}
	demand := provider.Series{ResourceID: "asg", Start: t0, Step: time.Hour, Values: []float64{100, 100}}
	rep, err := report.Build(report.Input{Now: at(5), Events: evs, Targets: []report.Target{{ResourceID: "asg", Demand: demand, PerInstance: 10}}})
	require.NoError(t, err)
	require.Len(t, rep.Scaling, 1)
	assert.Equal(t, report.Scaling{ResourceID: "asg"}, rep.Scaling[0], "no capacity known up to now")
}

// CapacityChart: a target without scaling events has only gaps for its
// capacity; markers sit at the capacity they set (instances × per
// instance); the unit is the demand's metric. IdleChart labels a resource
// "ID name". Funcs formats for templates.
func TestChartDetails(t *testing.T) {
	t.Parallel()
	demand := provider.Series{ResourceID: "asg", Metric: provider.MetricRequests, Start: t0, Step: time.Hour, Values: []float64{100, 200}}
	c := report.CapacityChart(nil, "asg", demand, 50)
	require.Len(t, c.Series, 2)
	assert.True(t, provider.IsGap(c.Series[1].Values[0]) && provider.IsGap(c.Series[1].Values[1]), "no capacity known")
	assert.Equal(t, "requests", c.Unit)
	demand.Metric = ""
	assert.Empty(t, report.CapacityChart(nil, "asg", demand, 50).Unit)

	step := monitor.Event{Time: at(1), Kind: monitor.KindScalingStep, Source: monitor.SourceScaling, ResourceID: "asg",
		Action: safety.ActionScaleOut, Outcome: monitor.OutcomeDone, Capacity: &monitor.CapacityChange{From: 2, To: 4}}
	c = report.CapacityChart([]monitor.Event{step}, "asg", demand, 50)
	require.Len(t, c.Markers, 1)
	assert.InDelta(t, 200, c.Markers[0].Value, 0, "4 instances of 50")
	assert.True(t, provider.IsGap(c.Series[1].Values[0]), "before the first change")
	assert.InDelta(t, 200, c.Series[1].Values[1], 0)

	idle := report.IdleChart(report.Report{Idle: []report.Idle{{ResourceID: "i-1", Name: "batch", MonthlySavings: 7}, {ResourceID: "i-2", MonthlySavings: 3}}})
	assert.Equal(t, []string{"i-1 batch", "i-2"}, idle.Labels)
	assert.Equal(t, []float64{7, 3}, idle.Series[0].Values)

	f := report.Funcs()
	assert.Equal(t, "$1.50", f["money"].(func(float64) string)(1.5))
	assert.Equal(t, "25%", f["pct"].(func(float64) string)(0.25))
	assert.Equal(t, "2.5 h", f["hours"].(func(float64) string)(2.5))
	assert.Equal(t, "Sat Mar 07 03:00 UTC", f["when"].(func(time.Time) string)(t0))
}

// A fleet without an inventory or a metrics source (a nil driver) is an
// error naming it, not a nil dereference.
func TestFleetUtilizationWithoutAFleet(t *testing.T) {
	t.Parallel()
	cloud, err := memory.New(memory.Config{})
	require.NoError(t, err)
	var nilCloud *memory.Cloud
	for _, f := range []report.Fleet{{}, {Inventory: cloud}, {Metrics: cloud}, {Inventory: nilCloud, Metrics: cloud}} {
		var c report.Chart
		require.NotPanics(t, func() {
			c, err = report.FleetUtilization(t.Context(), f, provider.Filter{}, t0, at(2), time.Hour)
		})
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, "fleet", ie.Field)
		assert.Empty(t, c.Series)
	}
}

package report

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/internal/check"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// ChartType is how a chart draws its series: ChartLine or ChartBar.
type ChartType string

// The chart types.
const (
	ChartLine ChartType = "line" // series over time (Times)
	ChartBar  ChartType = "bar"  // one value per category (Labels)
)

// Series is one line or set of bars of a chart. Values align with the
// chart's Times (line) or Labels (bar); NaN is a gap.
type Series struct {
	// Label names it in the legend.
	Label string `json:"label"`
	// Values are its values; NaN is a gap.
	Values []float64 `json:"values"`
	// Step draws the line as steps (a capacity that holds until it
	// changes).
	Step bool `json:"step,omitempty"`
}

// Threshold is a horizontal line across a line chart.
type Threshold struct {
	// Label names it in the legend.
	Label string `json:"label"`
	// Value is where it is drawn.
	Value float64 `json:"value"`
}

// Marker marks an event on a line chart's time axis (a scaling step), at
// a value.
type Marker struct {
	// Time and Value place it.
	Time  time.Time `json:"time"`
	Value float64   `json:"value"`
	// Label is written beside it (when a chart has at most 12 markers).
	Label string `json:"label"`
}

// Chart is the data of one chart, rendered as SVG (SVG) or as Chart.js
// data (ChartJS). The builders here (UtilizationChart, CapacityChart,
// CostChart, SavingsChart, IdleChart, SafetyChart) fill it; a host may
// build its own.
type Chart struct {
	// Name identifies the chart ("utilization"); it names the dashboard's
	// endpoints.
	Name string `json:"name"`
	// Title is shown above it.
	Title string `json:"title"`
	// Type is line or bar.
	Type ChartType `json:"type"`
	// Unit labels the value axis.
	Unit string `json:"unit,omitempty"`
	// Times are the x values of a line chart.
	Times []time.Time `json:"times,omitempty"`
	// Labels are the categories of a bar chart.
	Labels []string `json:"labels,omitempty"`
	// Series are the lines or bars.
	Series []Series `json:"series"`
	// Thresholds and Markers annotate a line chart.
	Thresholds []Threshold `json:"thresholds,omitempty"`
	Markers    []Marker    `json:"markers,omitempty"`
}

// Empty reports whether c has no value to draw.
func (c Chart) Empty() bool {
	for _, s := range c.Series {
		for _, v := range s.Values {
			if !provider.IsGap(v) {
				return false
			}
		}
	}
	return true
}

// ChartJS is a chart as Chart.js takes it ({type, data: {labels,
// datasets}, options}): the chart data, served by the dashboard's
// JSON endpoints. Gaps are null.
type ChartJS struct {
	// Type is "line" or "bar".
	Type string `json:"type"`
	// Data are the labels and datasets.
	Data ChartJSData `json:"data"`
	// Options hold the title and the value axis's label.
	Options map[string]any `json:"options"`
}

// ChartJSData is the data part of ChartJS.
type ChartJSData struct {
	// Labels are the x values: RFC 3339 times or categories.
	Labels []string `json:"labels"`
	// Datasets are the series, thresholds and markers.
	Datasets []ChartJSDataset `json:"datasets"`
}

// ChartJSDataset is one dataset of ChartJSData.
type ChartJSDataset struct {
	// Label names it.
	Label string `json:"label"`
	// Type overrides the chart's type for this dataset ("scatter" for
	// markers).
	Type string `json:"type,omitempty"`
	// Data are the values, one per label; gaps are null.
	Data []nullFloat `json:"data"`
	// Stepped, BorderDash, ShowLine and PointRadius are Chart.js's
	// options of the same names.
	Stepped     bool  `json:"stepped,omitempty"`
	BorderDash  []int `json:"borderDash,omitempty"`
	ShowLine    *bool `json:"showLine,omitempty"`
	PointRadius *int  `json:"pointRadius,omitempty"`
}

// nullFloat encodes NaN and infinities as null.
type nullFloat float64

// MarshalJSON implements json.Marshaler.
func (f nullFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if provider.IsGap(v) || v > 1e308 || v < -1e308 {
		return []byte("null"), nil
	}
	return json.Marshal(v)
}

// ChartJS returns c as Chart.js data: line charts get RFC 3339 labels, a
// dashed constant dataset per threshold and a scatter dataset of the
// markers (each at its nearest time).
func (c Chart) ChartJS() ChartJS {
	out := ChartJS{Type: string(c.Type), Data: ChartJSData{Labels: slices.Clone(c.Labels)},
		Options: map[string]any{"plugins": map[string]any{"title": map[string]any{"display": true, "text": c.Title}},
			"scales": map[string]any{"y": map[string]any{"title": map[string]any{"display": c.Unit != "", "text": c.Unit}}}}}
	if c.Type == ChartLine {
		out.Data.Labels = make([]string, len(c.Times))
		for i, t := range c.Times {
			out.Data.Labels[i] = t.UTC().Format(time.RFC3339)
		}
	}
	if out.Data.Labels == nil {
		out.Data.Labels = []string{}
	}
	n := len(out.Data.Labels)
	for _, s := range c.Series {
		d := ChartJSDataset{Label: s.Label, Stepped: s.Step, Data: make([]nullFloat, n)}
		for i := range n {
			d.Data[i] = nullFloat(valueAt(s.Values, i))
		}
		out.Data.Datasets = append(out.Data.Datasets, d)
	}
	for _, th := range c.Thresholds {
		d := ChartJSDataset{Label: th.Label, Data: make([]nullFloat, n), BorderDash: []int{6, 4}}
		for i := range d.Data {
			d.Data[i] = nullFloat(th.Value)
		}
		out.Data.Datasets = append(out.Data.Datasets, d)
	}
	if len(c.Markers) > 0 && len(c.Times) > 0 {
		no, r := false, 5
		d := ChartJSDataset{Label: "events", Type: "scatter", Data: make([]nullFloat, n), ShowLine: &no, PointRadius: &r}
		for i := range d.Data {
			d.Data[i] = nullFloat(provider.Gap)
		}
		for _, m := range c.Markers {
			d.Data[nearest(c.Times, m.Time)] = nullFloat(m.Value)
		}
		out.Data.Datasets = append(out.Data.Datasets, d)
	}
	if out.Data.Datasets == nil {
		out.Data.Datasets = []ChartJSDataset{}
	}
	return out
}

func valueAt(vs []float64, i int) float64 {
	if i < len(vs) {
		return vs[i]
	}
	return provider.Gap
}

// nearest returns the index of the time in ts (sorted) nearest to t.
func nearest(ts []time.Time, t time.Time) int {
	i := sort.Search(len(ts), func(i int) bool { return !ts[i].Before(t) })
	switch {
	case i == len(ts):
		return len(ts) - 1
	case i > 0 && t.Sub(ts[i-1]) < ts[i].Sub(t):
		return i - 1
	}
	return i
}

// The utilization thresholds UtilizationChart draws: the detector's idle
// CPU threshold and the high-CPU alert.
const (
	IdleThreshold = 0.10
	HighThreshold = 0.90
)

// UtilizationChart draws CPU utilization series (fractions) on one time
// axis, the union of their grids, with the idle (10 %) and high (90 %)
// thresholds. names maps resource IDs to the labels shown; a missing name
// shows the ID.
func UtilizationChart(series []provider.Series, names map[string]string) Chart {
	c := Chart{Name: "utilization", Title: "CPU utilization", Type: ChartLine, Unit: "fraction of CPU",
		Thresholds: []Threshold{{Label: "idle below", Value: IdleThreshold}, {Label: "high above", Value: HighThreshold}}}
	c.Times = unionTimes(series)
	index := make(map[time.Time]int, len(c.Times))
	for i, t := range c.Times {
		index[instant(t)] = i
	}
	for _, s := range series {
		vals := gaps(len(c.Times))
		for k, v := range s.Values {
			vals[index[instant(s.TimeAt(k))]] = v
		}
		label := names[s.ResourceID]
		if label == "" {
			label = s.ResourceID
		}
		c.Series = append(c.Series, Series{Label: label, Values: vals})
	}
	return c
}

func unionTimes(series []provider.Series) []time.Time {
	seen := map[time.Time]bool{}
	var out []time.Time
	for _, s := range series {
		for k := range s.Values {
			t := s.TimeAt(k)
			if !seen[instant(t)] {
				seen[instant(t)] = true
				out = append(out, t)
			}
		}
	}
	slices.SortFunc(out, time.Time.Compare)
	return out
}

// instant returns t as a map key: one key for one instant, whatever its
// zone and whether it has a monotonic clock reading.
func instant(t time.Time) time.Time { return t.Round(0).UTC() }

func gaps(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = provider.Gap
	}
	return out
}

// CapacityChart draws a scaling target's capacity (instances ×
// perInstance, in demand's unit) against its demand, over demand's grid,
// with a marker at every scaling step and rollback in that range (labelled
// "failed" or "(dry run)" when it changed nothing). Capacity before the
// first scaling event is a gap. The chart is named "capacity-" and id, so
// that the charts of several targets are told apart.
func CapacityChart(evs []monitor.Event, id string, demand provider.Series, perInstance float64) Chart {
	c := Chart{Name: "capacity-" + id, Title: "Capacity vs demand: " + id, Type: ChartLine, Unit: unitOf(demand)}
	steps := CapacitySteps(evs, id)
	c.Times = make([]time.Time, demand.Len())
	capVals := gaps(demand.Len())
	for k := range demand.Values {
		t := demand.TimeAt(k)
		c.Times[k] = t
		if len(steps) > 0 && !t.Before(steps[0].At) {
			capVals[k] = float64(capacityAt(steps, t)) * perInstance
		}
	}
	c.Series = []Series{{Label: "demand", Values: slices.Clone(demand.Values)}, {Label: "capacity", Values: capVals, Step: true}}
	for _, e := range evs {
		if e.Time.Before(demand.Start) || !e.Time.Before(demand.End()) {
			continue // the chart spans the demand's range
		}
		if e.ResourceID == id && e.Capacity != nil && (e.Kind == monitor.KindScalingStep || e.Kind == monitor.KindRollback) {
			label := string(e.Action)
			if e.Kind == monitor.KindRollback {
				label = "rollback"
			}
			if e.Outcome == monitor.OutcomeFailed {
				label += " failed"
			}
			label += " " + itoa(e.Capacity.From) + "→" + itoa(e.Capacity.To)
			if e.DryRun || e.Outcome == monitor.OutcomeWouldAct {
				label += " (dry run)" // previewed: the capacity did not change
			}
			c.Markers = append(c.Markers, Marker{Time: e.Time, Value: float64(e.Capacity.To) * perInstance, Label: label})
		}
	}
	return c
}

func unitOf(s provider.Series) string {
	if s.Metric == "" {
		return ""
	}
	return string(s.Metric)
}

// CostChart draws the fleet's hourly cost over [from, now] at step (and
// at now; a step ≤ 0 or an empty range draws now alone): what
// the resources with executed changes would have cost without them, and
// what they cost. A resource whose HourlyCost is not a finite number ≥ 0,
// which Build refuses for a resource acted on, is left out of resources.
func CostChart(evs []monitor.Event, resources []provider.Resource, from, now time.Time, step time.Duration) Chart {
	c := Chart{Name: "cost", Title: "Hourly cost of the resources acted on", Type: ChartLine, Unit: "per hour"}
	tls := timelines(evs, now, inventory(resources))
	c.Times = grid(from, now, step)
	base := 0.0
	for _, tl := range tls {
		base += tl.baseline
	}
	without, with := make([]float64, len(c.Times)), make([]float64, len(c.Times))
	sweep(tls, c.Times, func(i int, rate, _ float64) {
		without[i], with[i] = base, base-rate
	})
	c.Series = []Series{{Label: "without the actions", Values: without, Step: true}, {Label: "actual", Values: with, Step: true}}
	return c
}

// SavingsChart draws the realised savings accumulated over [from, now] at
// step, in total; its last point, at now, is the report's
// Totals.RealisedSavings. A step ≤ 0 or an empty range draws now alone.
// A resource whose HourlyCost is not a finite number ≥ 0, which Build
// refuses for a resource acted on, is left out of resources.
func SavingsChart(evs []monitor.Event, resources []provider.Resource, from, now time.Time, step time.Duration) Chart {
	c := Chart{Name: "savings", Title: "Realised savings", Type: ChartLine, Unit: "saved"}
	tls := timelines(evs, now, inventory(resources))
	c.Times = grid(from, now, step)
	vals := make([]float64, len(c.Times))
	sweep(tls, c.Times, func(i int, _, saved float64) { vals[i] = saved })
	c.Series = []Series{{Label: "saved so far", Values: vals}}
	return c
}

// sweep calls at(i, rate, saved) for each of times, in order (they are
// ascending): rate is the hourly saving of tls at times[i] (their
// baselines less their hourly costs), saved what they had saved by then
// (each timeline's realised Saved). It sorts the changes once and walks
// them beside times, rather than measuring every timeline at every time.
func sweep(tls []*timeline, times []time.Time, at func(i int, rate, saved float64)) {
	type delta struct {
		at   time.Time
		rate float64 // change of the hourly saving
	}
	var ds []delta
	for _, tl := range tls {
		prev := 0.0 // nothing is saved before the first change
		for _, ch := range tl.changes {
			r := tl.baseline - ch.rate
			ds = append(ds, delta{at: ch.at, rate: r - prev})
			prev = r
		}
	}
	slices.SortStableFunc(ds, func(a, b delta) int { return a.at.Compare(b.at) })
	rate, saved, j := 0.0, 0.0, 0
	var last time.Time
	for i, t := range times {
		for ; j < len(ds) && !ds[j].at.After(t); j++ {
			if j > 0 {
				saved += rate * ds[j].at.Sub(last).Hours()
			}
			last, rate = ds[j].at, rate+ds[j].rate
		}
		now := saved
		if j > 0 {
			now += rate * t.Sub(last).Hours()
		}
		at(i, rate, now)
	}
}

// grid returns from, from+step, ... before now, and now itself, so that
// a chart ends at the report's figures: at most 2001 points, a range of
// more than 2000 steps getting a coarser step.
func grid(from, now time.Time, step time.Duration) []time.Time {
	if step <= 0 || !now.After(from) {
		return []time.Time{now}
	}
	if span := now.Sub(from); span/step > 2000 {
		step = span / 2000 // rounded up: at most 2000 steps
		if span%2000 != 0 {
			step++
		}
		if span == math.MaxInt64 {
			// now.Sub(from) saturated: a range longer than a Duration
			// holds (from the zero time), measured in seconds.
			step = time.Duration((now.Unix()-from.Unix())/2000+1) * time.Second
		}
	}
	var out []time.Time
	for t := from; t.Before(now) && len(out) < 2000; t = t.Add(step) {
		out = append(out, t)
	}
	return append(out, now)
}

// inventory indexes resources by ID for the charts, which have no error
// to return: a resource whose HourlyCost Build refuses (validCost) is
// left out, so that no chart value is infinite or NaN.
func inventory(resources []provider.Resource) map[string]provider.Resource {
	m := make(map[string]provider.Resource, len(resources))
	for _, r := range resources {
		if validCost(r.HourlyCost) {
			m[r.ID] = r
		}
	}
	return m
}

// validCost reports whether c is an hourly cost: finite and ≥ 0.
func validCost(c float64) bool { return c >= 0 && !math.IsInf(c, 1) }

// IdleChart draws the estimated monthly savings of each idle resource of
// rep still to be made (Idle.MonthlySavings less Idle.MadeMonthlySavings),
// as Totals.EstimatedMonthlySavings counts them.
func IdleChart(rep Report) Chart {
	c := Chart{Name: "idle", Title: "Idle resources: estimated monthly savings", Type: ChartBar, Unit: "per month"}
	vals := make([]float64, 0, len(rep.Idle))
	for _, i := range rep.Idle {
		label := i.ResourceID
		if i.Name != "" {
			label += " " + i.Name
		}
		c.Labels = append(c.Labels, label)
		vals = append(vals, i.MonthlySavings-i.MadeMonthlySavings)
	}
	c.Series = []Series{{Label: "monthly savings", Values: vals}}
	return c
}

// SafetyChart counts the safety decisions in evs by outcome (allowed,
// approval required, blocked), once per decision even when both the
// reaper and the engine's auditor recorded it.
func SafetyChart(evs []monitor.Event) Chart {
	type key struct {
		id     string
		action safety.Action
		at     time.Time
	}
	seen := map[key]string{}
	for _, e := range evs {
		if e.Kind == monitor.KindDecision || e.Kind == monitor.KindBlocked {
			seen[key{e.ResourceID, e.Action, instant(e.Time)}] = e.Outcome
		}
	}
	counts := map[string]float64{}
	for _, o := range seen {
		counts[o]++
	}
	return Chart{Name: "safety", Title: "Safety decisions", Type: ChartBar, Unit: "decisions",
		Labels: []string{"allowed", "approval required", "blocked"},
		Series: []Series{{Label: "decisions", Values: []float64{counts[string(safety.Pass)],
			counts[string(safety.RequireApproval)], counts[string(safety.Block)]}}}}
}

// Fleet is what FleetUtilization reads: a provider driver usually fills
// both fields.
type Fleet struct {
	// Inventory lists the resources.
	Inventory provider.Inventory
	// Metrics reads their CPU.
	Metrics provider.MetricsSource
}

// FleetUtilization reads the CPU of every resource filter selects over
// [from, to) at step (the mean of each step) and charts it with
// UtilizationChart, labelling each series "ID name". It returns a
// *provider.InvalidError naming the fleet when it lacks either field, and
// the first error of the inventory or the metrics source.
func FleetUtilization(ctx context.Context, f Fleet, filter provider.Filter, from, to time.Time, step time.Duration) (Chart, error) {
	if check.Nil(f.Inventory) || check.Nil(f.Metrics) {
		return Chart{}, provider.Invalid("fleet", nil, "needs both an inventory and a metrics source")
	}
	resources, err := f.Inventory.List(ctx, filter)
	if err != nil {
		return Chart{}, fmt.Errorf("report: list resources: %w", err)
	}
	series := make([]provider.Series, 0, len(resources))
	names := make(map[string]string, len(resources))
	for _, r := range resources {
		s, err := f.Metrics.QueryMetric(ctx, provider.Query{ResourceID: r.ID, Metric: provider.MetricCPU,
			Start: from, End: to, Step: step})
		if err != nil {
			return Chart{}, fmt.Errorf("report: cpu of %s: %w", r.ID, err)
		}
		series = append(series, s)
		names[r.ID] = strings.TrimSpace(r.ID + " " + r.Name)
	}
	return UtilizationChart(series, names), nil
}

// Package replaytraces loads the real demand traces of the replay goal
// (issue 16) from the repository's testdata: the application-server
// traffic (hourly, the last 8 weeks replayed), NYC taxi demand (30 min,
// the first 30 days as history) and the NASA HTTP requests (5 min, its two
// clean stretches, the first 14 days of each as history), with the
// protocol's per-instance capacity and provisioning delay. The test
// scaling/sim's TestReplayOnRealTraces and examples/replay share it.
package replaytraces

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"time"

	"github.com/idlescale/idlescale/internal/forecasteval"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/scaling/hpa"
	"github.com/idlescale/idlescale/scaling/sim"
	"github.com/idlescale/idlescale/trace"
)

// Trace is one replay: the demand, the first replayed step, the
// per-instance capacity c = p99(replayed demand)/20, the provisioning
// delay and the history the predictive strategy needs.
type Trace struct {
	// Name names the trace.
	Name string
	// File is the file under testdata it comes from.
	File string
	// Demand is the series (history and replayed steps).
	Demand provider.Series
	// From is the first replayed step.
	From time.Time
	// Capacity is the demand one instance serves: p99 of the replayed
	// demand / 20.
	Capacity float64
	// LeadTime is the provisioning delay of a scale out: one step on
	// 5-minute traces, none on 30-minute and hourly ones.
	LeadTime time.Duration
	// History is the history before From (the predictive strategy's
	// MinHistory and FitWindow on this trace).
	History time.Duration
}

// The clean stretches of the NASA trace (outside the outage and the
// zero-filled days).
var nasaClean = [][2]string{
	{"1995-07-01T00:00:00-04:00", "1995-07-28T13:00:00-04:00"},
	{"1995-08-04T00:00:00-04:00", "1995-09-01T00:00:00-04:00"},
}

// Load reads the traces from dir (the repository's testdata).
func Load(dir string) ([]Trace, error) {
	app, err := forecasteval.AppServerSeries(filepath.Join(dir, "app-server-traffic/traffic_stats_HOURLY_CHs.csv"))
	if err != nil {
		return nil, err
	}
	out := []Trace{finish(Trace{Name: "app-server", File: "app-server-traffic/traffic_stats_HOURLY_CHs.csv", Demand: app,
		From: app.TimeAt(len(app.Values) - 8*168), History: 30 * 24 * time.Hour})}

	taxiFile := "nab/nyc_taxi.csv"
	s, err := trace.ReadCSVFile(filepath.Join(dir, taxiFile), trace.CSVOptions{})
	if err != nil {
		return nil, err
	}
	taxi, err := grid(s, 30*time.Minute)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", taxiFile, err)
	}
	out = append(out, finish(Trace{Name: "nyc-taxi", File: taxiFile, Demand: taxi, From: taxi.TimeAt(30 * 48), History: 30 * 24 * time.Hour}))

	nasaFile := "nasa-http/nasa_traffic_5m.csv"
	s, err = trace.ReadCSVFile(filepath.Join(dir, nasaFile), trace.CSVOptions{ValueColumn: "request_count", SkipRow: func(field func(string) string) bool {
		return field("is_outage") == "1"
	}})
	if err != nil {
		return nil, err
	}
	for i, r := range nasaClean {
		a, _ := time.Parse(time.RFC3339, r[0])
		b, _ := time.Parse(time.RFC3339, r[1])
		var kept []provider.Sample
		for _, x := range s {
			if !x.Time.Before(a) && x.Time.Before(b) {
				kept = append(kept, x)
			}
		}
		ser, err := grid(kept, 5*time.Minute)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", nasaFile, err)
		}
		out = append(out, finish(Trace{Name: fmt.Sprintf("nasa-http-%d", i+1), File: nasaFile, Demand: ser,
			From: ser.TimeAt(14 * 288), LeadTime: 5 * time.Minute, History: 14 * 24 * time.Hour}))
	}
	return out, nil
}

// finish sets the per-instance capacity: p99 of the replayed demand / 20.
func finish(t Trace) Trace {
	i, _ := t.Demand.Index(t.From)
	var v []float64
	for _, d := range t.Demand.Values[i:] {
		if !math.IsNaN(d) {
			v = append(v, d)
		}
	}
	slices.Sort(v)
	t.Capacity = v[int(math.Ceil(0.99*float64(len(v))))-1] / 20
	t.Demand.Metric = provider.MetricRequests
	return t
}

// grid puts samples on a regular grid of step; a missing step is a gap.
func grid(samples []provider.Sample, step time.Duration) (provider.Series, error) {
	if len(samples) == 0 {
		return provider.Series{}, fmt.Errorf("no samples")
	}
	start := samples[0].Time
	n := int(samples[len(samples)-1].Time.Sub(start)/step) + 1
	y := make([]float64, n)
	for i := range y {
		y[i] = math.NaN()
	}
	for _, s := range samples {
		off := s.Time.Sub(start)
		if off%step != 0 {
			return provider.Series{}, fmt.Errorf("sample at %s is off the %s grid", s.Time, step)
		}
		y[off/step] = s.Value
	}
	return provider.Series{Start: start, Step: step, Values: y}, nil
}

// Predictive returns the predictive policy of the replay protocol for tr:
// no margin (the protocol's capacity target is the SLO itself), the
// quantile 0.85 on the hourly and 30-minute traces and 0.93 on the
// 5-minute one with its one-step provisioning delay, scale in held one
// step beyond the lead time, the model chosen daily and refitted hourly,
// falling back to the reactive capacity above a rolling MASE of 2.
func Predictive(tr Trace) (*scaling.Predictive, error) {
	q := 0.85
	if tr.LeadTime > 0 {
		q = 0.93
	}
	zero := 0.0
	return scaling.NewPredictive(scaling.PredictiveConfig{
		CapacityPerInstance: tr.Capacity, TargetUtilization: 0.6, Step: tr.Demand.Step, LeadTime: tr.LeadTime,
		Horizon: tr.Demand.Step, Quantile: q, Margin: &zero, MinHistory: tr.History,
		ReselectInterval: 24 * time.Hour, MaxError: 2,
	})
}

// HPA returns Kubernetes' HorizontalPodAutoscaler as a host's policy file
// states it (scaling.TargetConfig.Candidates), on CPU utilization at
// 60 % (the protocol's u*) with the controller's defaults (a scale-down
// stabilization window of 5 minutes), reading the metric at the trace's
// step: the reactive policy the HPA-like baseline stands for, with the
// real algorithm.
func HPA(tr Trace) (sim.Policy, error) {
	target := scaling.TargetConfig{ID: "hpa", Strategies: []scaling.StrategySpec{{Type: scaling.StrategyHPA, HPA: &scaling.HPAConfig{
		Step: tr.Demand.Step,
		Metrics: []hpa.MetricSpec{{Type: hpa.SourceResource, Resource: &hpa.ResourceMetricSource{
			Name: hpa.ResourceCPU, Target: hpa.MetricTarget{Type: hpa.TargetUtilization, AverageUtilization: 60}}}},
	}}}}
	cands, err := target.Candidates(nil)
	if err != nil {
		return sim.Policy{}, err
	}
	return sim.Policy{Name: cands[0].Name, Strategy: cands[0].Strategy}, nil
}

// Simulator returns the simulator of the replay protocol for tr: u* = 0.6,
// replaying from tr.From, the trace's provisioning delay, the hours the
// log lacks (a DST change) left out of the metrics.
func Simulator(tr Trace, opts ...sim.Option) (*sim.Simulator, error) {
	return sim.New(sim.Config{CapacityPerInstance: tr.Capacity, TargetUtilization: 0.6, LeadTime: tr.LeadTime, From: tr.From, SkipGaps: true}, opts...)
}

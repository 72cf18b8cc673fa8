package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/trace"
)

// perInstance is the traffic (requests a minute) one asg-api instance
// serves at 100 % CPU.
const perInstance = 8.0

// policy scales asg-api with the HPA strategy at 60 % CPU.
const policy = `
interval: 1m
execute: true
targets:
  - id: asg-api
    min: 2
    max: 12
    instance_hourly_cost: 0.096
    verify: {timeout: 10m, window: 2m}
    strategies:
      - type: hpa
        hpa:
          metrics:
            - type: resource
              resource: {name: cpu, target: {type: utilization, average_utilization: 60}}
          behavior:
            scale_down:
              stabilization_window: 30m
              policies: [{type: percent, value: 20, period: 5m}]
`

// setupAutoscaler adds asg-api with its traffic and the scaling engine and
// autoscaler that keep it sized, recording into the monitor.
func (d *demo) setupAutoscaler(clk simClock, start time.Time, logger *slog.Logger) error {
	counts, err := trace.ReadCSVFile(filepath.Join(repoRoot(), "testdata", "nab",
		"elb_request_count_8c0756.csv"), trace.CSVOptions{Scale: 0.2}) // per 5 minutes → per minute
	if err != nil {
		return err
	}
	shift := start.Add(lead).Sub(counts[len(counts)-1].Time) // the trace ends where the fleet's do
	for _, c := range counts {
		d.demand = append(d.demand, provider.Sample{Time: c.Time.Add(shift), Value: c.Value})
	}
	if err := d.cloud.AddGroup(provider.Resource{ID: "asg-api", Name: "api-frontend", Kind: provider.KindGroup,
		Size: provider.Size{InstanceType: "m5.large"}}, provider.CapacitySpec{Min: 2, Max: 12, Desired: 2}); err != nil {
		return err
	}
	cfg, err := scaling.ParseConfig(strings.NewReader(policy))
	if err != nil {
		return err
	}
	gradual, err := safety.NewGradualRule(safety.GradualConfig{})
	if err != nil {
		return err
	}
	// Capacity bounds only, the gradual rule bounding each step: the
	// fleet-share limit is off, and NoFleetShare says so. (For at most half
	// a group scaled in per hour, give the rule a safety.MemoryHistory and
	// the engine scaling.WithActionHistory of it.)
	limits, err := safety.NewLimitsRule(safety.LimitsConfig{MinCapacity: 2, MaxCapacity: 12, NoFleetShare: true}, nil)
	if err != nil {
		return err
	}
	gate, err := safety.New(safety.Config{}, []safety.Rule{gradual, limits}, safety.WithAuditor(monitor.Auditor(d.log)))
	if err != nil {
		return err
	}
	limiter, err := ratelimit.New(ratelimit.Config{}, ratelimit.WithClock(clk))
	if err != nil {
		return err
	}
	engine, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: d.cloud, Metrics: d.cloud}, gate,
		scaling.WithReserver(limiter), scaling.WithEngineClock(clk), scaling.WithEngineLogger(logger),
		scaling.WithObserver(monitor.NewScalingObserver(d.log, monitor.WithInstanceCost(monitor.InstanceCosts(cfg)),
			monitor.WithObserverClock(clk), monitor.WithObserverLogger(logger))))
	if err != nil {
		return err
	}
	d.autoscaler, err = scaling.NewAutoscaler(cfg, engine, scaling.Fleet{Inventory: d.cloud, Metrics: d.cloud},
		scaling.WithClock(clk), scaling.WithLogger(logger))
	return err
}

// demandAt is asg-api's traffic at t: the latest count at or before it.
func (d *demo) demandAt(t time.Time) float64 {
	i := sort.Search(len(d.demand), func(i int) bool { return d.demand[i].Time.After(t) })
	if i == 0 {
		return d.demand[0].Value
	}
	return d.demand[i-1].Value
}

// demandSeries is asg-api's traffic over [from, to) a minute at a time.
func (d *demo) demandSeries(from, to time.Time) provider.Series {
	s := provider.Series{ResourceID: "asg-api", Metric: provider.MetricRequests, Start: from.Truncate(time.Minute), Step: time.Minute}
	for t := s.Start; t.Before(to); t = t.Add(time.Minute) {
		s.Values = append(s.Values, d.demandAt(t))
	}
	return s
}

// feed writes asg-api's CPU at t: the traffic then over the instances
// ready then, so the autoscaler sees the effect of its own steps. Times
// not after the last one written are skipped.
func (d *demo) feed(ctx context.Context, t time.Time) error {
	d.feedMu.Lock()
	defer d.feedMu.Unlock()
	t = t.Truncate(time.Second)
	if !t.After(d.lastCPU) {
		return nil
	}
	c, err := d.cloud.Capacity(ctx, "asg-api")
	if err != nil {
		return err
	}
	cpu := d.demandAt(t) / (float64(max(c.Ready, 1)) * perInstance)
	if err := d.cloud.AddSamples("asg-api", provider.MetricCPU, provider.Sample{Time: t, Value: min(cpu, 1)}); err != nil {
		return err
	}
	d.lastCPU = t
	return nil
}

// traffic feeds asg-api's CPU every simulated minute until ctx ends.
func (d *demo) traffic(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case at := <-d.clock.After(time.Minute):
			if err := d.feed(ctx, at); err != nil {
				d.logger.ErrorContext(ctx, "dashboard: asg-api's CPU", "err", err)
			}
		}
	}
}

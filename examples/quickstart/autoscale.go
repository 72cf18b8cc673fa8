package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"time"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/report"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/trace"
)

// The simulated web tier behind asg-web's load balancer.
const (
	// perInstance is the traffic (requests a minute) one instance serves
	// at 100 % CPU.
	perInstance = 8.0
	// day is how much of the request trace is replayed.
	day = 24 * time.Hour
)

// dayResult is what a simulated day of autoscaling measured.
type dayResult struct {
	// demand is the replayed traffic, requests a minute, one value a
	// minute.
	demand provider.Series
	// minutes and overloaded count the simulated minutes and those whose
	// traffic exceeded what the ready instances serve.
	minutes, overloaded int
	// readyHours is the ready instance-hours used; fixedHours those of a
	// fixed group sized for the day's peak at 60 % CPU (fixed instances),
	// or of the policy's max when the peak needs more (peakNeed).
	readyHours, fixedHours float64
	fixed, peakNeed        int
	outs, ins              int
}

// autoscaleDay replays the last day of asg-web's real load-balancer
// traffic (NAB's ELB request counts, the fleet's requests trace), ending at
// now, through the scaling engine and autoscaler under policy, on a
// simulated clock: each simulated minute the group's CPU is that minute's
// traffic over the instances ready then, so the policy sees the effect of
// its own decisions. Every plan, step, verification and rollback goes to
// the monitor's log.
func autoscaleDay(ctx context.Context, mon *quickMonitor, now time.Time, tracePath, policyPath string) (dayResult, error) {
	policy, err := scaling.LoadConfigFile(policyPath)
	if err != nil {
		return dayResult{}, err
	}
	counts, err := trace.ReadCSVFile(tracePath, trace.CSVOptions{Scale: 0.2}) // per 5 minutes → per minute
	if err != nil {
		return dayResult{}, err
	}
	if len(counts) < 2 {
		return dayResult{}, errors.New("autoscale: the request trace is too short")
	}
	start := now.Add(-day)
	shift := now.Sub(counts[len(counts)-1].Time)
	traffic := func(t time.Time) float64 { return interpolate(counts, t.Add(-shift)) }
	res := dayResult{demand: provider.Series{ResourceID: "asg-web", Metric: provider.MetricRequests, Start: start, Step: time.Minute}}

	clk := &minuteClock{now: start}
	cloud, err := memory.New(memory.Config{LaunchDelay: 3 * time.Minute, DrainDelay: time.Minute}, memory.WithClock(clk))
	if err != nil {
		return dayResult{}, err
	}
	if err := cloud.AddGroup(provider.Resource{ID: "asg-web", Name: "web-frontend", Kind: provider.KindGroup,
		Size: provider.Size{InstanceType: "m5.large"}}, provider.CapacitySpec{Min: 2, Max: 12, Desired: 2}); err != nil {
		return dayResult{}, err
	}
	clk.tick = func(t time.Time) error {
		c, err := cloud.Capacity(ctx, "asg-web")
		if err != nil {
			return err
		}
		req := traffic(t)
		cpu := req / (float64(max(c.Ready, 1)) * perInstance)
		if err := cloud.AddSamples("asg-web", provider.MetricCPU, provider.Sample{Time: t, Value: min(cpu, 1)}); err != nil {
			return err
		}
		if t.Before(now) {
			res.demand.Values = append(res.demand.Values, req)
			res.minutes++
			res.readyHours += float64(c.Ready) / 60
			if cpu > 1 {
				res.overloaded++
			}
		}
		return nil
	}

	gradual, err := safety.NewGradualRule(safety.GradualConfig{})
	if err != nil {
		return dayResult{}, err
	}
	// Capacity bounds only, the gradual rule bounding each step: the
	// fleet-share limit is off, and NoFleetShare says so. (For at most half
	// a group scaled in per hour, give the rule a safety.MemoryHistory and
	// the engine scaling.WithActionHistory of it.)
	limits, err := safety.NewLimitsRule(safety.LimitsConfig{MinCapacity: 2, MaxCapacity: 12, NoFleetShare: true}, nil)
	if err != nil {
		return dayResult{}, err
	}
	gate, err := safety.New(safety.Config{}, []safety.Rule{gradual, limits})
	if err != nil {
		return dayResult{}, err
	}
	limiter, err := ratelimit.New(ratelimit.Config{}, ratelimit.WithClock(clk))
	if err != nil {
		return dayResult{}, err
	}
	obs := monitor.NewScalingObserver(mon.log, monitor.WithInstanceCost(monitor.InstanceCosts(policy)),
		monitor.WithObserverClock(clk))
	engine, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: cloud, Metrics: cloud}, gate,
		scaling.WithReserver(limiter), scaling.WithObserver(obs), scaling.WithEngineClock(clk))
	if err != nil {
		return dayResult{}, err
	}
	auto, err := scaling.NewAutoscaler(policy, engine, scaling.Fleet{Inventory: cloud, Metrics: cloud}, scaling.WithClock(clk))
	if err != nil {
		return dayResult{}, err
	}

	// The autoscaler's loop, spelt out so that the day is exactly
	// reproducible (a service calls auto.Run(ctx) on the real clock).
	if err := clk.advance(0); err != nil {
		return dayResult{}, err
	}
	nextHour := start.Add(time.Hour)
	for clk.Now().Before(now) {
		for _, t := range auto.RunOnce(ctx, clk.Now()).Targets {
			if t.Err != nil { // a failure; a plan the gate or the rate limiter stopped is none
				return dayResult{}, t.Err
			}
		}
		if err := clk.advance(policy.Interval); err != nil {
			return dayResult{}, err
		}
		for !clk.Now().Before(nextHour) && nextHour.Before(now.Add(time.Hour)) {
			mon.step("autoscaling " + nextHour.Format("15:04"))
			nextHour = nextHour.Add(time.Hour)
		}
	}
	if err := obs.Err(); err != nil {
		return dayResult{}, err
	}
	peak := 0.0
	for _, v := range res.demand.Values {
		peak = max(peak, v)
	}
	res.peakNeed = int(peak/(0.6*perInstance) + 0.999)
	res.fixed = min(12, res.peakNeed)
	res.fixedHours = float64(res.fixed) * day.Hours()
	evs, err := mon.log.Query(monitor.Query{ResourceID: "asg-web", Kinds: []monitor.Kind{monitor.KindScalingStep}})
	if err != nil {
		return dayResult{}, err
	}
	for _, e := range evs {
		switch {
		case e.Outcome != monitor.OutcomeDone:
		case e.Action == safety.ActionScaleOut:
			res.outs++
		case e.Action == safety.ActionScaleIn:
			res.ins++
		}
	}
	return res, nil
}

// target is the day's scaling target for the report.
func (r dayResult) target() report.Target {
	return report.Target{ResourceID: "asg-web", Demand: r.demand, PerInstance: perInstance}
}

func (r dayResult) print(w io.Writer) {
	fmt.Fprintf(w, "\nautoscaling asg-web through the last %s of its real load-balancer traffic, on a simulated clock\n", day)
	fmt.Fprintf(w, "(reactive: the HPA strategy at 60%% CPU, examples/quickstart/autoscale.yaml; go run ./examples/replay proves the predictive strategy on real traces)\n")
	fmt.Fprintf(w, "  %d scale-outs, %d scale-ins; %.0f ready instance-hours, %d of %d minutes over capacity\n",
		r.outs, r.ins, r.readyHours, r.overloaded, r.minutes)
	size := fmt.Sprintf("%d sized for the peak", r.fixed)
	if r.peakNeed > r.fixed {
		size = fmt.Sprintf("%d, the policy's max (the peak needs %d at 60%% CPU),", r.fixed, r.peakNeed)
	}
	fmt.Fprintf(w, "  a fixed group of %s would use %.0f instance-hours (%.0f%% more)\n",
		size, r.fixedHours, 100*(r.fixedHours/r.readyHours-1))
}

// interpolate returns the value of samples (sorted, at least two) at t,
// linearly between neighbours and held at the ends.
func interpolate(samples []provider.Sample, t time.Time) float64 {
	if !t.After(samples[0].Time) {
		return samples[0].Value
	}
	for i := 1; i < len(samples); i++ {
		if b := samples[i]; !b.Time.Before(t) {
			a := samples[i-1]
			f := float64(t.Sub(a.Time)) / float64(b.Time.Sub(a.Time))
			return a.Value + f*(b.Value-a.Value)
		}
	}
	return samples[len(samples)-1].Value
}

// minuteClock is the simulated clock of the autoscaling day: a wait moves
// it forward at once by the wait, and each whole minute it passes it calls
// tick (outside its lock), which writes that minute's CPU.
type minuteClock struct {
	mu     sync.Mutex
	now    time.Time
	ticked time.Time // the last minute ticked; zero before the first
	tick   func(time.Time) error
	errs   []error
}

// Now returns the simulated time.
func (c *minuteClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After moves the time forward by d and returns a channel that has fired.
func (c *minuteClock) After(d time.Duration) <-chan time.Time {
	_ = c.advance(d) // a tick's failure is returned by the loop's next advance
	ch := make(chan time.Time, 1)
	ch <- c.Now()
	return ch
}

// advance moves the time forward by d and ticks every minute up to the new
// time. It returns the ticks' errors so far.
func (c *minuteClock) advance(d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(max(d, 0))
	to := c.now.Truncate(time.Minute)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		next := c.ticked.Add(time.Minute)
		if c.ticked.IsZero() {
			next = to
		}
		if next.After(to) {
			err := errors.Join(c.errs...)
			c.mu.Unlock()
			return err
		}
		c.ticked = next
		c.mu.Unlock()
		if err := c.tick(next); err != nil {
			c.mu.Lock()
			c.errs = append(c.errs, err)
			c.mu.Unlock()
		}
	}
}

// defaultPolicy is autoscale.yaml next to this source file.
func defaultPolicy() string { return filepath.Join(filepath.Dir(defaultFleet()), "autoscale.yaml") }

// defaultTraffic is the fleet's request trace of asg-web.
func defaultTraffic() string {
	return filepath.Join(filepath.Dir(defaultFleet()), "..", "..", "testdata", "nab", "elb_request_count_8c0756.csv")
}

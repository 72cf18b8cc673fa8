// Command autoscale replays a day of real demand (New York City's taxi
// passengers per half hour, from the Numenta Anomaly Benchmark) as the
// traffic of a ride-booking API, served by a group of instances on the
// in-memory cloud and scaled by idlescale's HPA strategy under the policy
// in policy.yaml, behind the safety gate (at most half the group per
// step, never below 2 or above 40 instances) and the rate limiter (its
// default budgets: at most 3 instances per event, 5 events an hour, 300 s
// apart, per direction).
//
//	go run ./examples/autoscale
//
// A day passes in well under a second: the autoscaler, the engine and the
// cloud read one simulated clock, and every wait (the minute between two
// evaluations, the engine's polls while new instances boot and its
// verification window) moves that clock forward at once. Each simulated
// minute the group's CPU is the traffic of that minute over the
// instances then ready, so the policy sees the consequences of its own
// decisions. It prints the day hour by hour and what the same traffic
// would have cost on a fixed-size group big enough for the peak.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/trace"
)

// The simulated service.
const (
	// perInstance is the traffic (passengers per 30 minutes) one instance
	// serves at 100 % CPU.
	perInstance = 1200.0
	// hours is how much of the trace is replayed.
	hours = 24
)

func main() {
	dir := exampleDir()
	if err := run(context.Background(), os.Stdout, filepath.Join(dir, "policy.yaml"), filepath.Join(dir, "..", "..", "testdata")); err != nil {
		fmt.Fprintln(os.Stderr, "autoscale:", err)
		os.Exit(1)
	}
}

// exampleDir finds this example's directory from this source file.
func exampleDir() string {
	if _, file, _, ok := runtime.Caller(0); ok {
		return filepath.Dir(file)
	}
	return filepath.Join("examples", "autoscale")
}

// result is what a replay measured, for the test.
type result struct {
	minutes        int     // simulated minutes
	overloaded     int     // minutes whose traffic exceeded the ready instances' capacity
	instanceHours  float64 // ready instance-hours used
	staticHours    float64 // instance-hours of a fixed group sized for the peak at 60 % CPU
	minReady       int     // fewest ready instances
	maxReady       int     // most ready instances
	maxCPU         float64 // highest mean CPU of any minute
	events         map[scaling.EventKind]int
	executedSteps  []step
	staticCapacity int // the fixed group's size
}

type step struct {
	at       time.Time
	from, to int
}

func run(ctx context.Context, w io.Writer, policyPath, testdata string) error {
	policy, err := scaling.LoadConfigFile(policyPath)
	if err != nil {
		return err
	}
	res, err := replay(ctx, policy, testdata, w)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d scale-outs and %d scale-ins in %d plans (%d rolled back; the rate limiter clamped or deferred %d steps)\n",
		res.outs(), res.ins(), res.events[scaling.EventPlanned], res.events[scaling.EventRollbackStarted], res.events[scaling.EventStepRateLimited])
	fmt.Fprintf(w, "autoscaled: %.0f instance-hours, %d of %d minutes over capacity\n", res.instanceHours, res.overloaded, res.minutes)
	fmt.Fprintf(w, "fixed group of %d sized for the peak: %.0f instance-hours (%.0f %% more)\n",
		res.staticCapacity, res.staticHours, 100*(res.staticHours/res.instanceHours-1))
	return nil
}

func (r result) outs() (n int) {
	for _, s := range r.executedSteps {
		if s.to > s.from {
			n++
		}
	}
	return n
}

func (r result) ins() int { return len(r.executedSteps) - r.outs() }

// replay runs policy over the first hours of the trace, printing an hourly
// timeline to w.
func replay(ctx context.Context, policy scaling.Config, testdata string, w io.Writer) (result, error) {
	traffic, err := trace.ReadCSVFile(filepath.Join(testdata, "nab", "nyc_taxi.csv"), trace.CSVOptions{})
	if err != nil {
		return result{}, err
	}
	start := traffic[0].Time.Truncate(time.Hour)
	end := start.Add(hours * time.Hour)
	load := func(t time.Time) float64 { // the traffic at t, between the half-hourly samples
		i := 0
		for i+2 < len(traffic) && !traffic[i+1].Time.After(t) {
			i++
		}
		a, b := traffic[i], traffic[i+1]
		f := float64(t.Sub(a.Time)) / float64(b.Time.Sub(a.Time))
		return a.Value + f*(b.Value-a.Value)
	}

	clk := &jumpClock{now: start}
	cloud, err := memory.New(memory.Config{LaunchDelay: 3 * time.Minute, DrainDelay: time.Minute}, memory.WithClock(clk))
	if err != nil {
		return result{}, err
	}
	if err := cloud.AddGroup(provider.Resource{ID: "web", Name: "web", Kind: provider.KindGroup, Size: provider.Size{InstanceType: "m5.large"}},
		provider.CapacitySpec{Min: 2, Max: 40, Desired: 2}); err != nil {
		return result{}, err
	}

	// Every simulated minute, the group's CPU is that minute's traffic
	// over the instances ready then.
	res := result{minReady: 1 << 30, events: map[scaling.EventKind]int{}}
	var mu sync.Mutex
	hourly := make([]hourStats, hours)
	clk.onMinute = func(t time.Time) error {
		capa, err := cloud.Capacity(ctx, "web")
		if err != nil {
			return err
		}
		req := load(t)
		cpu := req / (float64(max(capa.Ready, 1)) * perInstance)
		if err := cloud.AddSamples("web", provider.MetricCPU, provider.Sample{Time: t, Value: min(cpu, 1)}); err != nil {
			return err
		}
		if !t.Before(end) {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		res.minutes++
		if cpu > 1 {
			res.overloaded++
		}
		res.instanceHours += float64(capa.Ready) / 60
		res.minReady, res.maxReady, res.maxCPU = min(res.minReady, capa.Ready), max(res.maxReady, capa.Ready), max(res.maxCPU, min(cpu, 1))
		h := &hourly[int(t.Sub(start)/time.Hour)]
		h.minutes++
		h.requests += req
		h.ready += capa.Ready
		h.cpu += min(cpu, 1)
		h.peakCPU = max(h.peakCPU, min(cpu, 1))
		return nil
	}

	gate, err := newGate()
	if err != nil {
		return result{}, err
	}
	limiter, err := ratelimit.New(ratelimit.Config{}, ratelimit.WithClock(clk))
	if err != nil {
		return result{}, err
	}
	observer := scaling.ObserverFunc(func(ev scaling.Event) {
		mu.Lock()
		defer mu.Unlock()
		res.events[ev.Kind]++
		if ev.Kind == scaling.EventStepExecuted {
			res.executedSteps = append(res.executedSteps, step{at: ev.Time, from: ev.From.Desired, to: ev.To.Desired})
			if i := int(ev.Time.Sub(start) / time.Hour); i < hours {
				hourly[i].changes = append(hourly[i].changes, ev.To.Desired)
			}
		}
	})
	engine, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: cloud, Metrics: cloud}, gate,
		scaling.WithReserver(limiter), scaling.WithObserver(observer), scaling.WithEngineClock(clk))
	if err != nil {
		return result{}, err
	}
	a, err := scaling.NewAutoscaler(policy, engine, scaling.Fleet{Inventory: cloud, Metrics: cloud}, scaling.WithClock(clk))
	if err != nil {
		return result{}, err
	}

	// The runner's loop, one evaluation per interval. (A service calls
	// a.Run(ctx), which does the same on the real clock; here the loop is
	// spelt out so that the simulated day is exactly reproducible.)
	if err := clk.advance(0); err != nil {
		return result{}, err
	}
	for clk.Now().Before(end) {
		for _, t := range a.RunOnce(ctx, clk.Now()).Targets {
			// A plan the gate refused or the rate limiter denied is part
			// of the day, not an error (its Execution's status says so,
			// and the events count it); an error is a failure.
			if t.Err != nil {
				return result{}, t.Err
			}
		}
		if err := clk.advance(policy.Interval); err != nil {
			return result{}, err
		}
	}
	if err := clk.err(); err != nil {
		return result{}, err
	}

	// What a fixed group sized for the day's peak half hour at 60 % CPU
	// would have used.
	peak := 0.0
	for _, s := range traffic {
		if s.Time.Before(end) {
			peak = max(peak, s.Value)
		}
	}
	res.staticCapacity = min(40, int(peak/(0.6*perInstance)+0.999))
	res.staticHours = float64(res.staticCapacity * hours)

	fmt.Fprintf(w, "idlescale autoscale: %s, %d h of NYC taxi demand as API traffic, HPA at 60 %% CPU\n\n", start.Format("Mon 2006-01-02"), hours)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "HOUR\tTRAFFIC\tREADY\tCPU\tPEAK CPU\tSTEPS TO\t")
	for i, h := range hourly {
		n := float64(max(h.minutes, 1))
		fmt.Fprintf(tw, "%s\t%.0f\t%.1f\t%.0f%%\t%.0f%%\t%s\t\n", start.Add(time.Duration(i)*time.Hour).Format("15:04"),
			h.requests/n, float64(h.ready)/n, 100*h.cpu/n, 100*h.peakCPU, joinInts(h.changes))
	}
	return res, tw.Flush()
}

// newGate is the safety gate: steps of at most half the group, within
// [2, 40].
func newGate() (*safety.Engine, error) {
	gradual, err := safety.NewGradualRule(safety.GradualConfig{})
	if err != nil {
		return nil, err
	}
	// Capacity bounds only, the gradual rule bounding each step: the
	// fleet-share limit is off, and NoFleetShare says so. (For at most half
	// a group scaled in per hour, give the rule a safety.MemoryHistory and
	// the engine scaling.WithActionHistory of it.)
	limits, err := safety.NewLimitsRule(safety.LimitsConfig{MinCapacity: 2, MaxCapacity: 40, NoFleetShare: true}, nil)
	if err != nil {
		return nil, err
	}
	return safety.New(safety.Config{}, []safety.Rule{gradual, limits})
}

type hourStats struct {
	minutes  int
	requests float64
	ready    int
	cpu      float64
	peakCPU  float64
	changes  []int
}

func joinInts(v []int) string {
	if len(v) == 0 {
		return "-"
	}
	s := ""
	for i, n := range v {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprint(n)
	}
	return s
}

// jumpClock is a simulated clock whose waits return at once, having moved
// the time forward by the wait. Every whole minute it passes, it calls
// onMinute (outside its lock), which here writes that minute's CPU.
type jumpClock struct {
	mu       sync.Mutex
	now      time.Time
	next     time.Time // the next minute to report
	onMinute func(time.Time) error
	failed   error
}

// Now returns the simulated time.
func (c *jumpClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After moves the time forward by d and returns a channel that has
// already fired.
func (c *jumpClock) After(d time.Duration) <-chan time.Time {
	_ = c.advance(d) // a failure is kept for err
	ch := make(chan time.Time, 1)
	ch <- c.Now()
	return ch
}

// advance moves the time forward by d, reporting every whole minute up to
// the new time.
func (c *jumpClock) advance(d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(max(d, 0))
	if c.next.IsZero() {
		c.next = c.now.Truncate(time.Minute)
	}
	to := c.now
	c.mu.Unlock()
	for {
		c.mu.Lock()
		t := c.next
		if t.After(to) || c.failed != nil {
			err := c.failed
			c.mu.Unlock()
			return err
		}
		c.next = t.Add(time.Minute)
		c.mu.Unlock()
		if c.onMinute == nil {
			continue
		}
		if err := c.onMinute(t); err != nil {
			c.mu.Lock()
			c.failed = errors.Join(c.failed, err)
			c.mu.Unlock()
		}
	}
}

// err returns the first failure of onMinute.
func (c *jumpClock) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failed
}

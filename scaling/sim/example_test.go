package sim_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/scaling/sim"
)

func ExampleSimulator_Run() {
	// Hourly demand: two quiet hours, a rise, a peak and a fall.
	demand := provider.Series{Metric: provider.MetricRequests, Start: start, Step: time.Hour,
		Values: []float64{100, 100, 100, 400, 900, 900, 300, 100}}
	s, err := sim.New(sim.Config{
		CapacityPerInstance: 100, // requests/s one instance serves
		TargetUtilization:   0.5, // sized to carry 50 per instance
		From:                start.Add(2 * time.Hour),
	})
	if err != nil {
		panic(err)
	}
	// A host's own policy: twice the last hour's need.
	double := scaling.StrategyFunc(func(_ context.Context, st scaling.State) (scaling.Recommendation, error) {
		ser, _ := st.Series(provider.MetricRequests)
		spec := st.Target.Capacity.CapacitySpec
		spec.Desired = 2 * int(math.Ceil(ser.Values[len(ser.Values)-1]/50))
		return scaling.Recommendation{Capacity: spec, Proposal: spec.Desired}, nil
	})
	rep, err := s.Run(context.Background(), demand, sim.Policy{Name: "double", Strategy: double})
	if err != nil {
		panic(err)
	}
	for _, r := range append([]sim.Result{rep.Oracle}, rep.Results...) {
		fmt.Printf("%-8s τ_U %.2f  cost %.2f× oracle  changes %d\n", r.Name, r.Metrics.TauU, r.Metrics.CostRatio, r.Metrics.Changes)
	}
	// Output:
	// oracle   τ_U 0.00  cost 1.00× oracle  changes 4
	// double   τ_U 0.33  cost 2.00× oracle  changes 4
	// reactive τ_U 0.33  cost 1.00× oracle  changes 3
}

func ExampleNew() {
	// Replay 10 per instance at 60 %, new instances serving 5 minutes
	// after they are asked for, with no reactive baseline.
	s, err := sim.New(sim.Config{CapacityPerInstance: 10, LeadTime: 5 * time.Minute, Baselines: []sim.Baseline{}})
	if err != nil {
		panic(err)
	}
	c := s.Config()
	fmt.Println(c.TargetUtilization, *c.Min, c.Metric, c.Utilization, len(c.Baselines))
	// Output: 0.6 1 requests cpu 0
}

func ExampleSimulator_HeadroomFor() {
	demand := provider.Series{Metric: provider.MetricRequests, Start: start, Step: time.Hour,
		Values: []float64{100, 100, 150, 200, 150, 100}}
	s, err := sim.New(sim.Config{CapacityPerInstance: 100, TargetUtilization: 0.5, From: start.Add(time.Hour)})
	if err != nil {
		panic(err)
	}
	b, r, err := s.HeadroomFor(context.Background(), demand, "reactive+headroom", 0, 0)
	if err != nil {
		panic(err)
	}
	// The least headroom is tiny: any headroom rounds 100 requests up to a
	// third instance, which the rises need.
	fmt.Printf("headroom %.4f: τ_U %.2f at %.2f× the oracle\n", b.Headroom, r.Metrics.TauU, r.Metrics.CostRatio)
	// Output: headroom 0.0006: τ_U 0.00 at 1.36× the oracle
}

func ExampleSimulator_Run_policyFile() {
	// A target of a host's policy file: an HPA on CPU at 60 % that waits
	// 10 minutes before it scales in. The simulator feeds it the group's
	// CPU utilization (demand over what the instances serve, at most 1).
	policy, err := scaling.ParseConfig(strings.NewReader(`
targets:
  - id: web
    min: 1
    max: 20
    strategies:
      - type: hpa
        hpa:
          step: 5m
          metrics:
            - type: resource
              resource: {name: cpu, target: {type: utilization, average_utilization: 60}}
          behavior:
            scale_down: {stabilization_window: 10m}
`))
	if err != nil {
		panic(err)
	}
	web := policy.Targets[0]
	candidates, err := web.Candidates(nil)
	if err != nil {
		panic(err)
	}
	// 5-minute demand: steady, a burst, quiet again.
	demand := provider.Series{Metric: provider.MetricRequests, Start: start, Step: 5 * time.Minute,
		Values: []float64{300, 300, 300, 900, 900, 900, 300, 300, 300, 300}}
	cfg := sim.Config{
		CapacityPerInstance: 100, // an instance at full CPU serves 100
		LeadTime:            5 * time.Minute,
		From:                start.Add(10 * time.Minute),
		KeepSteps:           true,
	}
	lo, hi := web.Bounds()
	cfg.Min, cfg.Max = &lo, hi
	s, err := sim.New(cfg)
	if err != nil {
		panic(err)
	}
	rep, err := s.Run(context.Background(), demand, sim.Policy{Name: web.ID, Candidates: candidates, Pinned: web.Strategy})
	if err != nil {
		panic(err)
	}
	r, _ := rep.Result("web")
	for _, st := range r.Steps {
		fmt.Printf("%s demand %3.0f  %s asks %2d, %2d serving (the oracle: %2d)\n",
			st.Time.Format("15:04"), st.Demand, st.Strategy, st.Desired, st.Actual, st.Oracle)
	}
	// The HPA sees the burst a step late, at a saturated 100 %, and the new
	// instances' first step as launching (as Kubernetes does for CPU), so
	// it asks 9, then 15; it scales in once its 15 has left the window.

	// Output:
	// 00:10 demand 300  hpa asks  5,  5 serving (the oracle:  5)
	// 00:15 demand 900  hpa asks  5,  5 serving (the oracle: 15)
	// 00:20 demand 900  hpa asks  9,  5 serving (the oracle: 15)
	// 00:25 demand 900  hpa asks  9,  9 serving (the oracle: 15)
	// 00:30 demand 300  hpa asks 15,  9 serving (the oracle:  5)
	// 00:35 demand 300  hpa asks 15, 15 serving (the oracle:  5)
	// 00:40 demand 300  hpa asks  5,  5 serving (the oracle:  5)
	// 00:45 demand 300  hpa asks  5,  5 serving (the oracle:  5)
}

package sim_test

import (
	"context"
	"fmt"
	"math"
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
	// double   τ_U 0.33  cost 2.00× oracle  changes 3
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
	fmt.Println(c.TargetUtilization, c.Min, c.Metric, len(c.Baselines))
	// Output: 0.6 1 requests 0
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

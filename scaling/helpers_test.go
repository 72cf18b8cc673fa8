package scaling_test

import (
	"context"
	"math"
	"time"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/scaling/hpa"
)

var t0 = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

// series returns a series of m ending at end, one value per step (NaN is a
// gap).
func series(m provider.Metric, end time.Time, step time.Duration, values ...float64) provider.Series {
	return provider.Series{Metric: m, Start: end.Add(-time.Duration(len(values)) * step), Step: step, Values: values}
}

// flatSeries is n steps of m at value v ending at t0.
func flatSeries(m provider.Metric, step time.Duration, n int, v float64) provider.Series {
	vals := make([]float64, n)
	for i := range vals {
		vals[i] = v
	}
	return series(m, t0, step, vals...)
}

// group is a target group with the given capacity, bounds [min, max].
func group(desired, minR, maxR int) scaling.Target {
	return scaling.Target{
		ID:       "web",
		Resource: provider.Resource{ID: "web", Kind: provider.KindGroup, State: provider.StateRunning},
		Capacity: provider.Capacity{CapacitySpec: provider.CapacitySpec{Min: 0, Max: 100, Desired: desired}, Current: desired, Ready: desired},
		Min:      minR, Max: maxR,
	}
}

// stateWith is a State at t0 of target t with the given series.
func stateWith(t scaling.Target, ss ...provider.Series) scaling.State {
	return scaling.State{Now: t0, Target: t, Metrics: ss}
}

var gap = math.NaN()

func fp(v float64) *float64 { return &v }

func ip(v int) *int { return &v }

// allowAll is a host's own gate that allows everything and records the
// proposals it saw.
type allowAll struct{ seen chan safety.Proposal }

func (g allowAll) Check(_ context.Context, p safety.Proposal) (safety.Decision, error) {
	if g.seen != nil {
		g.seen <- p
	}
	return safety.Decision{ProposalID: p.ID, ResourceID: p.Resource.ID, Action: p.Action, Now: p.Now, Allowed: true, Outcome: safety.Pass, Risk: safety.RiskLow}, nil
}

func (g allowAll) Evaluate(ctx context.Context, p safety.Proposal) (safety.Decision, error) {
	return g.Check(ctx, p)
}

// fnTarget is a function of the given memory and timeout.
func fnTarget(mib int, timeout time.Duration) scaling.Target {
	return scaling.Target{ID: "fn", Resource: provider.Resource{ID: "fn", Kind: provider.KindFunction, Size: provider.Size{MemoryMiB: mib, Timeout: timeout}}}
}

// cpuUtilization is an HPA resource metric of CPU utilization at target
// percent.
func cpuUtilization(target int32) hpa.MetricSpec {
	return hpa.MetricSpec{Type: hpa.SourceResource, Resource: &hpa.ResourceMetricSource{
		Name: hpa.ResourceCPU, Target: hpa.MetricTarget{Type: hpa.TargetUtilization, AverageUtilization: target}}}
}

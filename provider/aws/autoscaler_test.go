package aws_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/scaling"
)

// allowAllGate lets every scaling proposal through.
type allowAllGate struct{}

func (allowAllGate) Check(context.Context, safety.Proposal) (safety.Decision, error) {
	return safety.Decision{Allowed: true}, nil
}

func (allowAllGate) Evaluate(context.Context, safety.Proposal) (safety.Decision, error) {
	return safety.Decision{Allowed: true}, nil
}

// TestAutoscalerPassBatchesCalls runs one scaling Autoscaler pass over
// 100 Auto Scaling groups: its batches of 25 targets read their
// resources, capacities and metrics with the driver's batch reads, one
// describe or GetMetricData call each and one DescribePolicies for the
// resources' ScaledBy, 20 calls in all (one call per read would be 400).
func TestAutoscalerPassBatchesCalls(t *testing.T) {
	t.Parallel()
	cfg := scaling.Config{Concurrency: 1} // batches of 100/(4×1) = 25 targets
	target := 0.6
	for range 100 {
		g := createGroup(t, 1, 10, 2, nil)
		cfg.Targets = append(cfg.Targets, scaling.TargetConfig{ID: g, Max: 10, Strategies: []scaling.StrategySpec{
			{Type: scaling.StrategyTargetValue, TargetValue: &scaling.TargetValueConfig{Metric: provider.MetricCPU, Target: &target}}}})
	}
	counter := &countingHTTP{}
	d := newDriver(t, withCounter(counter)...)
	e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: d, Metrics: d}, allowAllGate{})
	require.NoError(t, err)
	a, err := scaling.NewAutoscaler(cfg, e, scaling.Fleet{Inventory: d, Metrics: d})
	require.NoError(t, err)
	counter.n.Store(0)
	rep := a.Evaluate(tctx(t), time.Now())
	require.Len(t, rep.Targets, 100)
	for _, r := range rep.Targets {
		require.NoError(t, r.Err, r.Target)
		require.NotNil(t, r.Decision, r.Target)
		assert.Equal(t, 2, r.Decision.Target.Capacity.Desired, "the group's capacity, read in a batch")
	}
	assert.Equal(t, int64(4*5), counter.n.Load(), "4 batches × (DescribeAutoScalingGroups for resources, capacities and metrics, 1 DescribePolicies, 1 GetMetricData)")
}

// TestAutoscalerLeavesAPolicyScaledGroupAlone: over the driver on moto, an
// Autoscaler whose schedule wants 3 instances plans that change for a
// group without scaling policies, and none for a group a target tracking
// policy scales, naming the policy (scaling.ErrScaledByAnother): the two
// would undo each other's changes.
func TestAutoscalerLeavesAPolicyScaledGroupAlone(t *testing.T) {
	t.Parallel()
	free, scaled := createGroup(t, 1, 10, 2, nil), createGroup(t, 1, 10, 2, nil)
	policy := uniq("cpu")
	putPolicy(t, scaled, policy, "TargetTrackingScaling", "")
	three := 3
	var cfg scaling.Config
	for _, g := range []string{free, scaled} {
		cfg.Targets = append(cfg.Targets, scaling.TargetConfig{ID: g, Max: 10, Strategies: []scaling.StrategySpec{{
			Type: scaling.StrategyScheduled, Scheduled: &scaling.ScheduledConfig{Actions: []scaling.ScheduledAction{{Name: "three", Schedule: "* * * * *", Desired: &three}}},
		}}})
	}
	d := newDriver(t)
	e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: d, Metrics: d}, allowAllGate{})
	require.NoError(t, err)
	a, err := scaling.NewAutoscaler(cfg, e, scaling.Fleet{Inventory: d, Metrics: d})
	require.NoError(t, err)
	rep := a.Evaluate(tctx(t), time.Now().Add(2*time.Minute))
	require.Len(t, rep.Targets, 2)
	for _, tr := range rep.Targets {
		require.NotNil(t, tr.Decision, tr.Target)
		assert.Equal(t, 3, tr.Decision.Chosen.Capacity.Desired, tr.Target)
		if tr.Target == free {
			require.NoError(t, tr.Err)
			require.NotNil(t, tr.Plan, "no other autoscaler: planned")
			assert.Equal(t, 3, tr.Plan.To.Desired)
			continue
		}
		require.ErrorIs(t, tr.Err, scaling.ErrScaledByAnother)
		assert.Contains(t, tr.Err.Error(), "Auto Scaling policy "+policy+" (TargetTrackingScaling) scales it")
		assert.Nil(t, tr.Plan)
	}
}

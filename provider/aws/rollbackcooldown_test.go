package aws_test

import (
	"context"
	"sync"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/stepclock"
	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
	"github.com/idlescale/idlescale/scaling"
)

// cooldownGate is moto's Auto Scaling with the cooldown moto does not
// keep: a SetDesiredCapacity that honours the cooldown is refused as
// Auto Scaling refuses it (ScalingActivityInProgress) within cooldown,
// on clock, of the last change of a desired capacity made through it;
// every other call goes to moto. Each SetDesiredCapacity's input is
// recorded; with stuckAbove, the instances a describe lists beyond that
// many are reported Pending (never in service), so that a scale out
// beyond it does not settle.
type cooldownGate struct {
	awsprovider.AutoScalingAPI
	clock      interface{ Now() time.Time }
	cooldown   time.Duration
	stuckAbove int

	mu      sync.Mutex
	last    time.Time
	sent    []autoscaling.SetDesiredCapacityInput
	refused int
}

func (g *cooldownGate) SetDesiredCapacity(ctx context.Context, in *autoscaling.SetDesiredCapacityInput, optFns ...func(*autoscaling.Options)) (*autoscaling.SetDesiredCapacityOutput, error) {
	g.mu.Lock()
	g.sent = append(g.sent, *in)
	if awssdk.ToBool(in.HonorCooldown) && !g.last.IsZero() && g.clock.Now().Sub(g.last) < g.cooldown {
		g.refused++
		g.mu.Unlock()
		return nil, cooldownRefusal()
	}
	g.mu.Unlock()
	out, err := g.AutoScalingAPI.SetDesiredCapacity(ctx, in, optFns...)
	if err == nil {
		g.mu.Lock()
		g.last = g.clock.Now()
		g.mu.Unlock()
	}
	return out, err
}

func (g *cooldownGate) DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
	out, err := g.AutoScalingAPI.DescribeAutoScalingGroups(ctx, in, optFns...)
	if err != nil || g.stuckAbove == 0 {
		return out, err
	}
	for i := range out.AutoScalingGroups {
		for k := g.stuckAbove; k < len(out.AutoScalingGroups[i].Instances); k++ {
			out.AutoScalingGroups[i].Instances[k].LifecycleState = asgtypes.LifecycleStatePending
		}
	}
	return out, nil
}

// honoured returns, for each SetDesiredCapacity sent, its desired
// capacity and whether it honoured the cooldown.
func (g *cooldownGate) honoured() (desired []int32, honour []bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, in := range g.sent {
		desired = append(desired, awssdk.ToInt32(in.DesiredCapacity))
		honour = append(honour, awssdk.ToBool(in.HonorCooldown))
	}
	return desired, honour
}

// TestRollbackIsNotDeferredByTheCooldown: with Config.HonorCooldown, a
// SetCapacity whose context is marked by provider.WithRollback is sent
// with HonorCooldown false and goes through the cooldown the change
// before it started, on moto; an unmarked one in the same cooldown is
// refused (provider.ErrThrottled) and changes nothing. The rollback was
// sent honouring the cooldown and refused too, leaving the change it
// undid in place.
func TestRollbackIsNotDeferredByTheCooldown(t *testing.T) {
	t.Parallel()
	group := createGroup(t, 1, 10, 2, nil)
	gate := &cooldownGate{AutoScalingAPI: sdk().asg, clock: stepclock.New(time.Now()), cooldown: time.Hour}
	cfg := fastConfig()
	cfg.HonorCooldown = true
	d := newDriverConfig(t, cfg, awsprovider.WithClients(awsprovider.Clients{AutoScaling: gate}))
	ctx := tctx(t)

	require.NoError(t, d.SetCapacity(ctx, group, provider.CapacitySpec{Min: 1, Max: 10, Desired: 4}), "the change that starts the cooldown")
	err := d.SetCapacity(ctx, group, provider.CapacitySpec{Min: 1, Max: 10, Desired: 5})
	require.ErrorIs(t, err, provider.ErrThrottled, "the next change waits for the cooldown")
	assert.Equal(t, int32(4), awssdk.ToInt32(describeGroup(t, group).DesiredCapacity))

	require.NoError(t, d.SetCapacity(provider.WithRollback(ctx), group, provider.CapacitySpec{Min: 1, Max: 10, Desired: 2}),
		"the rollback does not wait for the cooldown")
	assert.Equal(t, int32(2), awssdk.ToInt32(describeGroup(t, group).DesiredCapacity))
	desired, honour := gate.honoured()
	assert.Equal(t, []int32{4, 5, 2}, desired)
	assert.Equal(t, []bool{true, true, false}, honour, "only the rollback is sent without HonorCooldown")
	assert.Equal(t, 1, gate.refused)
}

// TestRollbackInTheCooldownOfTheStepItUndoes: the scaling engine over
// the driver with Config.HonorCooldown, on moto: a plan's first step
// (2 → 3) starts the group's cooldown (Auto Scaling's default, 300 s)
// and never settles (its new instance stays Pending), so it is not
// verified within the 1-minute timeout and the engine rolls it back
// inside that cooldown. The rollback's write, marked by the engine, is
// sent without HonorCooldown and the plan ends rolled back, the group at
// 2 again. The rollback was refused by the cooldown and retried only
// within the engine's default RetryDeadline (2 min, shorter than what
// was left of the cooldown), and the plan failed (scaling.ErrRollback)
// with the group left at 3.
func TestRollbackInTheCooldownOfTheStepItUndoes(t *testing.T) {
	t.Parallel()
	group := createGroup(t, 1, 10, 2, nil)
	clk := stepclock.New(time.Now())
	gate := &cooldownGate{AutoScalingAPI: sdk().asg, clock: clk, cooldown: 300 * time.Second, stuckAbove: 2}
	cfg := fastConfig()
	cfg.HonorCooldown = true
	d := newDriverConfig(t, cfg, awsprovider.WithClients(awsprovider.Clients{AutoScaling: gate}))
	e, err := scaling.NewEngine(scaling.EngineConfig{VerifyTimeout: time.Minute}, scaling.Cloud{Scaler: d, Metrics: d}, allowAllGate{},
		scaling.WithEngineClock(clk))
	require.NoError(t, err)
	ctx := tctx(t)
	capa, err := d.Capacity(ctx, group)
	require.NoError(t, err)
	spec := capa.CapacitySpec
	spec.Desired = 3
	p := e.Plan(scaling.Decision{Now: clk.Now(), Change: true,
		Target: scaling.Target{ID: group, Resource: provider.Resource{ID: group, Kind: provider.KindGroup}, Capacity: capa, Min: spec.Min, Max: spec.Max},
		Chosen: scaling.Recommendation{Strategy: "s", Capacity: spec}}, scaling.PlanOptions{})
	require.Len(t, p.Steps, 1)
	x, err := e.Execute(ctx, p)
	require.ErrorIs(t, err, scaling.ErrNotVerified)
	require.NotErrorIs(t, err, scaling.ErrRollback, "the rollback is not refused by the cooldown")
	require.Equal(t, scaling.PlanRolledBack, x.Status, x.Reason)
	assert.Equal(t, int32(2), awssdk.ToInt32(describeGroup(t, group).DesiredCapacity))
	desired, honour := gate.honoured()
	assert.Equal(t, []int32{3, 2}, desired, "the step, then its rollback at once")
	assert.Equal(t, []bool{true, false}, honour)
	assert.Zero(t, gate.refused)
}

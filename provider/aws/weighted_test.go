package aws_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
	"github.com/idlescale/idlescale/scaling"
)

// weightedASG is one Auto Scaling group "web" with a mixed instances
// policy whose overrides weigh their instance types (moto reports no
// instance's WeightedCapacity: the SDK fake models what AWS answers). A
// change of the desired capacity launches (terminates) instances of
// type launch until their units reach it, as Auto Scaling does, overage
// included; with honour, a SetDesiredCapacity that honours the cooldown
// is refused within cooldown of the last change (ScalingActivityInProgress).
type weightedASG struct {
	offlineASG

	mu         sync.Mutex
	group      asgtypes.AutoScalingGroup
	launch     string // the instance type launched
	weight     int    // its weight
	perInst    bool   // report each instance's WeightedCapacity
	stuckAbove int    // instances launched beyond this many units stay Pending (0: none)
	cooldown   time.Duration
	lastScale  time.Time
	refused    int
	n          int
}

func newWeightedASG(min, max, desired int, launch string, weight int, overrides map[string]string) *weightedASG {
	a := &weightedASG{launch: launch, weight: weight}
	a.group = asgtypes.AutoScalingGroup{
		AutoScalingGroupName: awssdk.String("web"),
		MinSize:              awssdk.Int32(int32(min)), MaxSize: awssdk.Int32(int32(max)), DesiredCapacity: awssdk.Int32(int32(desired)),
	}
	if overrides != nil {
		lt := &asgtypes.LaunchTemplate{}
		for typ, w := range overrides {
			lt.Overrides = append(lt.Overrides, asgtypes.LaunchTemplateOverrides{InstanceType: awssdk.String(typ), WeightedCapacity: awssdk.String(w)})
		}
		a.group.MixedInstancesPolicy = &asgtypes.MixedInstancesPolicy{LaunchTemplate: lt}
	}
	a.fill()
	return a
}

// fill launches or terminates instances until their units meet the
// desired capacity with the least overage. Called with mu held.
func (a *weightedASG) fill() {
	desired := int(awssdk.ToInt32(a.group.DesiredCapacity))
	for len(a.group.Instances)*a.weight < desired {
		a.n++
		inst := asgtypes.Instance{InstanceId: awssdk.String(fmt.Sprintf("i-%017x", a.n)), InstanceType: awssdk.String(a.launch),
			LifecycleState: asgtypes.LifecycleStateInService, HealthStatus: awssdk.String("Healthy")}
		if a.stuckAbove > 0 && (len(a.group.Instances)+1)*a.weight > a.stuckAbove {
			inst.LifecycleState = asgtypes.LifecycleStatePending // never in service
		}
		if a.perInst {
			inst.WeightedCapacity = awssdk.String(fmt.Sprint(a.weight))
		}
		a.group.Instances = append(a.group.Instances, inst)
	}
	for (len(a.group.Instances)-1)*a.weight >= desired && len(a.group.Instances) > 0 {
		a.group.Instances = a.group.Instances[:len(a.group.Instances)-1] // the newest first
	}
}

func (a *weightedASG) DescribeAutoScalingGroups(context.Context, *autoscaling.DescribeAutoScalingGroupsInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	g := a.group
	g.Instances = append([]asgtypes.Instance(nil), a.group.Instances...)
	return &autoscaling.DescribeAutoScalingGroupsOutput{AutoScalingGroups: []asgtypes.AutoScalingGroup{g}}, nil
}

func (a *weightedASG) SetDesiredCapacity(_ context.Context, in *autoscaling.SetDesiredCapacityInput, _ ...func(*autoscaling.Options)) (*autoscaling.SetDesiredCapacityOutput, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if awssdk.ToBool(in.HonorCooldown) && !a.lastScale.IsZero() && time.Since(a.lastScale) < a.cooldown {
		a.refused++
		return nil, cooldownRefusal()
	}
	a.group.DesiredCapacity = in.DesiredCapacity
	a.lastScale = time.Now()
	a.fill()
	return &autoscaling.SetDesiredCapacityOutput{}, nil
}

func (a *weightedASG) UpdateAutoScalingGroup(_ context.Context, in *autoscaling.UpdateAutoScalingGroupInput, _ ...func(*autoscaling.Options)) (*autoscaling.UpdateAutoScalingGroupOutput, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.group.MinSize, a.group.MaxSize = in.MinSize, in.MaxSize
	if in.DesiredCapacity != nil {
		a.group.DesiredCapacity = in.DesiredCapacity
	}
	a.lastScale = time.Now()
	a.fill()
	return &autoscaling.UpdateAutoScalingGroupOutput{}, nil
}

// fakeDriver is a driver over asg and the offline fakes of the other
// services.
func fakeDriver(t *testing.T, cfg awsprovider.Config, asg awsprovider.AutoScalingAPI) *awsprovider.Driver {
	t.Helper()
	return newDriverConfig(t, cfg, awsprovider.WithClients(awsprovider.Clients{EC2: offlineEC2{newOffline(0)}, AutoScaling: asg,
		CloudWatch: offlineCW{}, Lambda: offlineLambda{}}))
}

// TestWeightedGroupCapacityInUnits: a group whose mixed instances policy
// weighs its instance types counts its desired capacity, min and max in
// units, and Capacity reports Current and Ready in them too: the sum of
// the instances' weights (each instance's WeightedCapacity, else its
// type's override's), an overage below one instance's weight read as the
// desired capacity. Counted in instances, Current (2) never reached
// Desired (6) and the group never settled.
func TestWeightedGroupCapacityInUnits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		desired int
		perInst bool
		want    provider.Capacity
	}{
		{"override weights", 6, false, provider.Capacity{CapacitySpec: provider.CapacitySpec{Min: 1, Max: 30, Desired: 6}, Current: 6, Ready: 6}},
		{"instance weights", 6, true, provider.Capacity{CapacitySpec: provider.CapacitySpec{Min: 1, Max: 30, Desired: 6}, Current: 6, Ready: 6}},
		{"overage", 7, false, provider.Capacity{CapacitySpec: provider.CapacitySpec{Min: 1, Max: 30, Desired: 7}, Current: 7, Ready: 7}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			asg := newWeightedASG(1, 30, 0, "m5.xlarge", 3, map[string]string{"m5.xlarge": "3", "m5.large": "1"})
			asg.perInst = tc.perInst
			asg.group.DesiredCapacity = awssdk.Int32(int32(tc.desired))
			asg.fill()
			d := fakeDriver(t, fastConfig(), asg)
			c, err := d.Capacity(tctx(t), "web")
			require.NoError(t, err)
			assert.Equal(t, tc.want, c)
			assert.True(t, c.Settled(), "%+v", c)
			reads := []provider.CapacityRead{{ID: "web"}}
			require.NoError(t, d.GetCapacities(tctx(t), reads))
			require.NoError(t, reads[0].Err)
			assert.Equal(t, tc.want, reads[0].Capacity, "the batch read counts the same")
		})
	}
}

// TestWeightedGroupMixedTypesAndPending: the instances of a weighted
// group count their own weights, a pending one in Current but not in
// Ready, and an overage of one lightest instance or more is reported as
// it is (Auto Scaling terminates it).
func TestWeightedGroupMixedTypesAndPending(t *testing.T) {
	t.Parallel()
	inst := func(id, typ string, w *string, st asgtypes.LifecycleState) asgtypes.Instance {
		return asgtypes.Instance{InstanceId: awssdk.String(id), InstanceType: awssdk.String(typ), WeightedCapacity: w,
			LifecycleState: st, HealthStatus: awssdk.String("Healthy")}
	}
	asg := newWeightedASG(0, 30, 0, "m5.large", 1, map[string]string{"m5.xlarge": "4", "m5.large": "2"})
	asg.group.DesiredCapacity = awssdk.Int32(8)
	asg.group.Instances = []asgtypes.Instance{
		inst("i-1", "m5.xlarge", nil, asgtypes.LifecycleStateInService),
		inst("i-2", "m5.large", nil, asgtypes.LifecycleStatePending),
		inst("i-3", "c5.large", awssdk.String("3"), asgtypes.LifecycleStateInService), // its own weight: no override for c5.large
		inst("i-4", "m5.xlarge", nil, asgtypes.LifecycleStateTerminating),
	}
	d := fakeDriver(t, fastConfig(), asg)
	c, err := d.Capacity(tctx(t), "web")
	require.NoError(t, err)
	assert.Equal(t, provider.Capacity{CapacitySpec: provider.CapacitySpec{Min: 0, Max: 30, Desired: 8}, Current: 8, Ready: 7}, c,
		"4 + 2 + 3 units, the pending 2 not ready; an overage of 1 under the lightest weight 2 reads as 8")
	asg.group.DesiredCapacity = awssdk.Int32(6)
	c, err = d.Capacity(tctx(t), "web")
	require.NoError(t, err)
	assert.Equal(t, 9, c.Current, "an overage of 3 (more than the lightest instance) is not Auto Scaling's to keep: %+v", c)
	assert.Equal(t, 7, c.Ready)
}

// TestWeightedGroupBadWeight: a weight that is not a whole number ≥ 1,
// or an instance of a weighted group whose weight nothing gives, fails
// the read with provider.ErrInvalid naming the group, the instance and
// its type, never counted as 1.
func TestWeightedGroupBadWeight(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		override  string
		inst      *string
		typ       string
		capType   string
		wantInMsg []string
	}{
		{"override not a number", "two", nil, "m5.large", "", []string{`"two"`, "override for m5.large"}},
		{"override zero", "0", nil, "m5.large", "", []string{`"0"`}},
		{"instance negative", "2", awssdk.String("-1"), "m5.large", "", []string{`"-1"`, "its WeightedCapacity"}},
		{"instance fraction", "2", awssdk.String("1.5"), "m5.large", "", []string{`"1.5"`}},
		{"type without an override", "2", nil, "c5.large", "", []string{"not known", "c5.large"}},
		{"vcpu units, no weight", "", nil, "c5.large", "vcpu", []string{"not known", "vcpu"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var overrides map[string]string
			if tc.override != "" {
				overrides = map[string]string{"m5.large": tc.override}
			}
			asg := newWeightedASG(0, 10, 0, "m5.large", 2, overrides)
			if tc.capType != "" {
				asg.group.DesiredCapacityType = awssdk.String(tc.capType)
			}
			asg.group.DesiredCapacity = awssdk.Int32(2)
			asg.group.Instances = []asgtypes.Instance{
				{InstanceId: awssdk.String("i-0bad"), InstanceType: awssdk.String(tc.typ), WeightedCapacity: tc.inst,
					LifecycleState: asgtypes.LifecycleStateInService, HealthStatus: awssdk.String("Healthy")},
			}
			d := fakeDriver(t, fastConfig(), asg)
			_, err := d.Capacity(tctx(t), "web")
			require.Error(t, err)
			require.ErrorIs(t, err, provider.ErrInvalid, "a weight the driver cannot count in")
			for _, s := range append(tc.wantInMsg, `"web"`, "i-0bad", `(type "`+tc.typ+`")`) {
				assert.Contains(t, err.Error(), s)
			}
			reads := []provider.CapacityRead{{ID: "web"}}
			require.NoError(t, d.GetCapacities(tctx(t), reads))
			require.Error(t, reads[0].Err)
			require.ErrorIs(t, reads[0].Err, provider.ErrInvalid)
			assert.Contains(t, reads[0].Err.Error(), "i-0bad")
			assert.Zero(t, reads[0].Capacity)
		})
	}
}

// TestWeightedGroupScalesThroughTheEngine: the scaling engine carries a
// plan from 6 to 10 units through a group of 3-unit instances in two
// steps (6 → 9 → 10), each settled and verified: the last one leaves an
// overage of 2 units (12), where Auto Scaling keeps the group. Counted in
// instances the group never settled, and the plan was rolled back.
func TestWeightedGroupScalesThroughTheEngine(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		asg := newWeightedASG(1, 20, 6, "m5.xlarge", 3, map[string]string{"m5.xlarge": "3"})
		d := fakeDriver(t, fastConfig(), asg)
		x := executeTo(t, d, 10, scaling.EngineConfig{VerifyWindow: time.Minute, PollInterval: 10 * time.Second})
		require.Equal(t, scaling.PlanCompleted, x.Status, "%s: %v", x.Reason, x.Err)
		require.Len(t, x.Steps, 2)
		assert.Equal(t, 9, x.Steps[0].Step.To.Desired)
		asg.mu.Lock()
		defer asg.mu.Unlock()
		assert.Equal(t, int32(10), awssdk.ToInt32(asg.group.DesiredCapacity))
		assert.Len(t, asg.group.Instances, 4)
	})
}

// executeTo plans and executes a change of group "web"'s desired
// capacity to desired through a scaling engine over d configured by cfg,
// every step allowed.
func executeTo(t *testing.T, d *awsprovider.Driver, desired int, cfg scaling.EngineConfig) scaling.Execution {
	t.Helper()
	e, err := scaling.NewEngine(cfg, scaling.Cloud{Scaler: d, Metrics: d}, allowAllGate{})
	require.NoError(t, err)
	capa, err := d.Capacity(t.Context(), "web")
	require.NoError(t, err)
	spec := capa.CapacitySpec
	spec.Desired = desired
	p := e.Plan(scaling.Decision{Now: time.Now(), Change: true,
		Target: scaling.Target{ID: "web", Resource: provider.Resource{ID: "web", Kind: provider.KindGroup}, Capacity: capa, Min: spec.Min, Max: spec.Max},
		Chosen: scaling.Recommendation{Strategy: "s", Capacity: spec}}, scaling.PlanOptions{})
	x, _ := e.Execute(t.Context(), p) // its error is x.Err, which the callers print
	return x
}

// cooldownRefusal is Auto Scaling's refusal of a SetDesiredCapacity that
// honours the cooldown while one is in effect.
func cooldownRefusal() error {
	return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: http.StatusBadRequest}},
		Err: &smithy.GenericAPIError{Code: "ScalingActivityInProgress", Message: "You cannot set desired capacity while a cooldown is in effect"}}
}

// mixedGroup creates, on moto, a group of desired capacity desired with a
// mixed instances policy over a t3.micro launch template, whose one
// override (t3.micro) has weight (none when empty).
func mixedGroup(t *testing.T, desired int, weight string) string {
	t.Helper()
	c := sdk()
	name := uniq("mixed")
	_, err := c.ec2.CreateLaunchTemplate(tctx(t), &ec2.CreateLaunchTemplateInput{LaunchTemplateName: awssdk.String(name + "-lt"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: awssdk.String(ami), InstanceType: ec2types.InstanceTypeT3Micro}})
	require.NoError(t, err)
	o := asgtypes.LaunchTemplateOverrides{InstanceType: awssdk.String("t3.micro")}
	if weight != "" {
		o.WeightedCapacity = awssdk.String(weight)
	}
	_, err = c.asg.CreateAutoScalingGroup(tctx(t), &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: awssdk.String(name), MinSize: awssdk.Int32(0), MaxSize: awssdk.Int32(20), DesiredCapacity: awssdk.Int32(int32(desired)),
		AvailabilityZones: []string{region + "a"},
		MixedInstancesPolicy: &asgtypes.MixedInstancesPolicy{LaunchTemplate: &asgtypes.LaunchTemplate{
			LaunchTemplateSpecification: &asgtypes.LaunchTemplateSpecification{LaunchTemplateName: awssdk.String(name + "-lt"), Version: awssdk.String("$Latest")},
			Overrides:                   []asgtypes.LaunchTemplateOverrides{o},
		}},
	})
	require.NoError(t, err)
	return name
}

// TestUnweightedMixedGroupCountsInstances (moto): a group with a mixed
// instances policy without weights counts instances, as before weights
// were read: Current and Ready are its instances, before and after a
// change.
func TestUnweightedMixedGroupCountsInstances(t *testing.T) {
	t.Parallel()
	group := mixedGroup(t, 3, "")
	d := newDriver(t)
	c, err := d.Capacity(tctx(t), group)
	require.NoError(t, err)
	assert.Equal(t, provider.Capacity{CapacitySpec: provider.CapacitySpec{Min: 0, Max: 20, Desired: 3}, Current: 3, Ready: 3}, c)
	require.NoError(t, d.SetCapacity(tctx(t), group, provider.CapacitySpec{Min: 0, Max: 20, Desired: 5}))
	c, err = d.Capacity(tctx(t), group)
	require.NoError(t, err)
	assert.Equal(t, provider.Capacity{CapacitySpec: provider.CapacitySpec{Min: 0, Max: 20, Desired: 5}, Current: 5, Ready: 5}, c)
	assert.Len(t, describeGroup(t, group).Instances, 5)
}

// TestWeightedGroupOnMotoReadsTheOverride (moto): moto launches a
// weighted group's instances by its first override's weight but reports
// no instance's WeightedCapacity; the driver reads the weight of the
// instances' type from the override: 2 instances of 2 units for a desired
// capacity of 4.
func TestWeightedGroupOnMotoReadsTheOverride(t *testing.T) {
	t.Parallel()
	group := mixedGroup(t, 4, "2")
	g := describeGroup(t, group)
	require.Len(t, g.Instances, 2, "moto launched by the weight")
	for _, inst := range g.Instances {
		require.Nil(t, inst.WeightedCapacity, "moto 5.2.1 reports no per-instance weight")
		require.Equal(t, "t3.micro", awssdk.ToString(inst.InstanceType))
	}
	c, err := newDriver(t).Capacity(tctx(t), group)
	require.NoError(t, err)
	assert.Equal(t, provider.Capacity{CapacitySpec: provider.CapacitySpec{Min: 0, Max: 20, Desired: 4}, Current: 4, Ready: 4}, c)
}

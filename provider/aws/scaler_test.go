package aws_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// describeGroup reads a group straight from Auto Scaling.
func describeGroup(t *testing.T, name string) asgtypes.AutoScalingGroup {
	t.Helper()
	out, err := sdk().asg.DescribeAutoScalingGroups(tctx(t), &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
	require.NoError(t, err)
	require.Len(t, out.AutoScalingGroups, 1)
	return out.AutoScalingGroups[0]
}

func TestSetCapacityUsesTheRightCall(t *testing.T) {
	t.Parallel()
	group := createGroup(t, 1, 4, 1, nil)
	rec := &recordingASG{AutoScalingAPI: sdk().asg}
	cfg := fastConfig()
	cfg.HonorCooldown = true
	d := newDriverConfig(t, cfg, awsprovider.WithClients(awsprovider.Clients{AutoScaling: rec}))
	ctx := tctx(t)

	c, err := d.Capacity(ctx, group)
	require.NoError(t, err)
	assert.Equal(t, provider.Capacity{CapacitySpec: provider.CapacitySpec{Min: 1, Max: 4, Desired: 1}, Current: 1, Ready: 1}, c)

	// Only desired changes: SetDesiredCapacity, honouring the cooldown.
	require.NoError(t, d.SetCapacity(ctx, group, provider.CapacitySpec{Min: 1, Max: 4, Desired: 3}))
	assert.Equal(t, []string{"DescribeAutoScalingGroups", "DescribeAutoScalingGroups", "SetDesiredCapacity"}, rec.ops())
	require.Len(t, rec.desired, 1)
	assert.True(t, awssdk.ToBool(rec.desired[0].HonorCooldown))
	g := describeGroup(t, group)
	assert.Equal(t, int32(3), awssdk.ToInt32(g.DesiredCapacity))
	assert.Len(t, g.Instances, 3, "moto launches the new instances at once")

	c, err = d.Capacity(ctx, group)
	require.NoError(t, err)
	assert.Equal(t, 3, c.Current)
	assert.Equal(t, 3, c.Ready)

	// Bounds change: UpdateAutoScalingGroup with all three.
	require.NoError(t, d.SetCapacity(ctx, group, provider.CapacitySpec{Min: 0, Max: 2, Desired: 2}))
	assert.Equal(t, "UpdateAutoScalingGroup", rec.ops()[len(rec.ops())-1])
	g = describeGroup(t, group)
	assert.Equal(t, []int32{0, 2, 2}, []int32{awssdk.ToInt32(g.MinSize), awssdk.ToInt32(g.MaxSize), awssdk.ToInt32(g.DesiredCapacity)})

	// The same spec again changes nothing.
	n := len(rec.ops())
	require.NoError(t, d.SetCapacity(ctx, group, provider.CapacitySpec{Min: 0, Max: 2, Desired: 2}))
	assert.Equal(t, []string{"DescribeAutoScalingGroups"}, rec.ops()[n:])
}

func TestSetCapacityRejectsBeforeAnyCall(t *testing.T) {
	t.Parallel()
	counter := &countingHTTP{}
	d := newDriver(t, withCounter(counter)...)
	tests := []struct {
		name  string
		give  provider.CapacitySpec
		field string
	}{
		{"negative min", provider.CapacitySpec{Min: -1, Max: 2, Desired: 1}, "capacity.min"},
		{"negative max", provider.CapacitySpec{Min: 0, Max: -2, Desired: 0}, "capacity.max"},
		{"min above max", provider.CapacitySpec{Min: 3, Max: 2, Desired: 2}, "capacity.min"},
		{"desired above max", provider.CapacitySpec{Min: 0, Max: 2, Desired: 3}, "capacity.desired"},
		{"desired below min", provider.CapacitySpec{Min: 2, Max: 4, Desired: 1}, "capacity.desired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := d.SetCapacity(tctx(t), "any-group", tt.give)
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
		})
	}
	assert.Zero(t, counter.n.Load())
}

func TestScalerErrors(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	inst := runInstances(t, 1, "t3.micro", nil)[0]
	fn := createFunction(t, 128, 3, nil)
	_, err := d.Capacity(tctx(t), uniq("missing"))
	require.ErrorIs(t, err, provider.ErrNotFound)
	_, err = d.Capacity(tctx(t), inst)
	require.ErrorIs(t, err, provider.ErrUnsupported)
	_, err = d.Capacity(tctx(t), fn)
	require.ErrorIs(t, err, provider.ErrUnsupported)
	require.ErrorIs(t, d.SetCapacity(tctx(t), inst, provider.CapacitySpec{Max: 1}), provider.ErrUnsupported)
}

// TestSetDesiredCapacityOnVanishedGroup deletes the group between the
// driver's describe and its SetDesiredCapacity: moto answers HTTP 500, the
// driver's retryer makes a bounded number of attempts and the driver reports
// ErrNotFound with the SDK's error in the chain.
func TestSetDesiredCapacityOnVanishedGroup(t *testing.T) {
	t.Parallel()
	group := createGroup(t, 0, 3, 1, nil)
	var setCalls atomic.Int64
	hook := &hookHTTP{before: func(r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if !strings.Contains(string(body), "Action=SetDesiredCapacity") {
			return
		}
		if setCalls.Add(1) == 1 {
			_, err := sdk().asg.DeleteAutoScalingGroup(context.Background(), &autoscaling.DeleteAutoScalingGroupInput{
				AutoScalingGroupName: &group, ForceDelete: awssdk.Bool(true),
			})
			assert.NoError(t, err)
		}
	}}
	cfg := fastConfig()
	cfg.MaxAttempts = 3
	d := newDriverConfig(t, cfg, awsprovider.WithAutoScalingOptions(func(o *autoscaling.Options) { o.HTTPClient = hook }))
	err := d.SetCapacity(tctx(t), group, provider.CapacitySpec{Min: 0, Max: 3, Desired: 2})
	require.ErrorIs(t, err, provider.ErrNotFound)
	var re *smithyhttp.ResponseError
	require.ErrorAs(t, err, &re, "the SDK's error stays in the chain")
	assert.Equal(t, http.StatusInternalServerError, re.HTTPStatusCode())
	assert.Equal(t, int64(cfg.MaxAttempts), setCalls.Load(), "bounded retries")
}

// testHTTP sends the requests of the test's HTTP hooks with a transport of
// its own: http.DefaultTransport's idle connections are closed by every
// httptest.Server.Close of a parallel test, which can cut a request in
// flight.
var testHTTP = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}

// hookHTTP runs before on every request, then sends it.
type hookHTTP struct {
	before func(*http.Request)
}

func (h *hookHTTP) Do(r *http.Request) (*http.Response, error) {
	h.before(r)
	return testHTTP.Do(r)
}

// TestCapacityLeavesStandbyInstancesOutOfCurrent pins that Capacity counts
// only the instances counted toward the desired capacity: an instance in
// Standby (desired decremented) is not in Current, so the group reads as
// settled; counting it kept Current above Desired, every scaling change on
// the group failed to settle and was rolled back.
func TestCapacityLeavesStandbyInstancesOutOfCurrent(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	group := createGroup(t, 0, 3, 2, nil)
	out, err := sdk().asg.DescribeAutoScalingGroups(tctx(t), &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{group}})
	require.NoError(t, err)
	require.Len(t, out.AutoScalingGroups[0].Instances, 2)
	inst := awssdk.ToString(out.AutoScalingGroups[0].Instances[0].InstanceId)
	_, err = sdk().asg.EnterStandby(tctx(t), &autoscaling.EnterStandbyInput{
		AutoScalingGroupName: &group, InstanceIds: []string{inst}, ShouldDecrementDesiredCapacity: awssdk.Bool(true),
	})
	require.NoError(t, err)

	c, err := d.Capacity(tctx(t), group)
	require.NoError(t, err)
	assert.Equal(t, 1, c.Desired)
	assert.Equal(t, 1, c.Current, "the standby instance is outside the desired capacity: %+v", c)
	assert.Equal(t, 1, c.Ready)
	assert.True(t, c.Settled(), "one InService instance for a desired capacity of 1: %+v", c)
}

// TestCapacityCountsLifecycleStatesTowardDesired pins which Auto Scaling
// lifecycle states Current counts: those inside the desired capacity
// (launching, in service, quarantined, replacing a root volume), not the
// terminating, detaching, standby or warm pool ones.
func TestCapacityCountsLifecycleStatesTowardDesired(t *testing.T) {
	t.Parallel()
	counted := map[asgtypes.LifecycleState]bool{
		asgtypes.LifecycleStatePending: true, asgtypes.LifecycleStatePendingWait: true, asgtypes.LifecycleStatePendingProceed: true,
		asgtypes.LifecycleStateQuarantined: true, asgtypes.LifecycleStateInService: true,
		asgtypes.LifecycleStateReplacingRootVolume: true, asgtypes.LifecycleStateReplacingRootVolumeWait: true,
		asgtypes.LifecycleStateReplacingRootVolumeProceed: true, asgtypes.LifecycleStateRootVolumeReplaced: true,
	}
	var insts []asgtypes.Instance
	want := 0
	for _, s := range asgtypes.LifecycleState("").Values() {
		insts = append(insts, asgtypes.Instance{InstanceId: awssdk.String("i-" + string(s)), LifecycleState: s, HealthStatus: awssdk.String("Healthy")})
		if counted[s] {
			want++
		}
	}
	asg := &recordingASG{describe: func(context.Context, *autoscaling.DescribeAutoScalingGroupsInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
		return &autoscaling.DescribeAutoScalingGroupsOutput{AutoScalingGroups: []asgtypes.AutoScalingGroup{{
			AutoScalingGroupName: awssdk.String("web"), MinSize: awssdk.Int32(0), MaxSize: awssdk.Int32(20), DesiredCapacity: awssdk.Int32(int32(want)),
			Instances: insts,
		}}}, nil
	}}
	d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{AutoScaling: asg}))
	c, err := d.Capacity(tctx(t), "web")
	require.NoError(t, err)
	assert.Equal(t, want, c.Current, "%+v", c)
	assert.Equal(t, 1, c.Ready, "the InService one")
}

// cooldownASG holds one group; SetDesiredCapacity fails with err.
type cooldownASG struct {
	offlineASG
	err error
}

func (a cooldownASG) DescribeAutoScalingGroups(context.Context, *autoscaling.DescribeAutoScalingGroupsInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
	return &autoscaling.DescribeAutoScalingGroupsOutput{AutoScalingGroups: []asgtypes.AutoScalingGroup{{AutoScalingGroupName: awssdk.String("web"),
		MinSize: awssdk.Int32(1), MaxSize: awssdk.Int32(8), DesiredCapacity: awssdk.Int32(2)}}}, nil
}

func (a cooldownASG) SetDesiredCapacity(context.Context, *autoscaling.SetDesiredCapacityInput, ...func(*autoscaling.Options)) (*autoscaling.SetDesiredCapacityOutput, error) {
	return nil, a.err
}

// A refusal in cooldown changed nothing (ErrConflict); a server error
// whose text mentions a cooldown says nothing of whether the change was
// applied, and matches no "nothing changed" sentinel (it was ErrConflict).
func TestCooldownConflictOnlyWhenRefused(t *testing.T) {
	t.Parallel()
	api := &smithy.GenericAPIError{Code: "ScalingActivityInProgress", Message: "You cannot set desired capacity while a cooldown is in effect"}
	refused := &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 400}}, Err: api}
	server := &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 503}},
		Err: &smithy.GenericAPIError{Code: "ServiceUnavailable", Message: "cooldown bookkeeping unavailable", Fault: smithy.FaultServer}}
	for _, tc := range []struct {
		err      error
		conflict bool
	}{{refused, true}, {server, false}} {
		d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{EC2: offlineEC2{newOffline(0)}, AutoScaling: cooldownASG{err: tc.err},
			CloudWatch: offlineCW{}, Lambda: offlineLambda{}}))
		err := d.SetCapacity(tctx(t), "web", provider.CapacitySpec{Min: 1, Max: 8, Desired: 3})
		require.Error(t, err)
		assert.Equal(t, tc.conflict, errors.Is(err, provider.ErrConflict), "%v", err)
		if !tc.conflict {
			for _, s := range []error{provider.ErrThrottled, provider.ErrNotFound, provider.ErrUnsupported, provider.ErrInvalid} {
				assert.NotErrorIs(t, err, s)
			}
		}
	}
}

// TestSetCapacityRefusesSizesAutoScalingCannotHold: Auto Scaling's sizes
// are 32-bit integers. A spec beyond them (a scaling policy's max of
// 4,294,967,300, valid for provider.CapacitySpec) is refused before any
// call, naming the field, instead of being sent truncated: int32 of it is
// 4, which Auto Scaling accepted as the group's new max.
func TestSetCapacityRefusesSizesAutoScalingCannotHold(t *testing.T) {
	t.Parallel()
	group := createGroup(t, 1, 10, 2, nil)
	counter := &countingHTTP{}
	d := newDriver(t, withCounter(counter)...)
	for _, spec := range []provider.CapacitySpec{
		{Min: 1, Max: 1<<32 + 4, Desired: 3},
		{Min: 1, Max: math.MaxInt32 + 1, Desired: 3},
		{Min: 1 << 32, Max: 1<<32 + 4, Desired: 1 << 32},
	} {
		err := d.SetCapacity(tctx(t), group, spec)
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, "%+v", spec)
		assert.Equal(t, "capacity.max", ie.Field)
		assert.Contains(t, err.Error(), "2147483647")
	}
	assert.Zero(t, counter.n.Load(), "refused before any call")
	g := describeGroup(t, group)
	assert.Equal(t, []int32{1, 10, 2}, []int32{awssdk.ToInt32(g.MinSize), awssdk.ToInt32(g.MaxSize), awssdk.ToInt32(g.DesiredCapacity)})
}

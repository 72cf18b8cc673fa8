package aws_test

import (
	"context"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// spotEC2 is the real EC2 client whose DescribeInstances reports the
// instances of requests (instance ID → Spot request ID) as Spot
// instances of their requests, as EC2 does (InstanceLifecycle spot,
// SpotInstanceRequestId) and moto 5.2.1 does not.
type spotEC2 struct {
	awsprovider.EC2API
	requests map[string]string
	// denied, when set, refuses DescribeSpotInstanceRequests.
	denied bool
}

func (c spotEC2) DescribeSpotInstanceRequests(ctx context.Context, in *ec2.DescribeSpotInstanceRequestsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSpotInstanceRequestsOutput, error) {
	if c.denied {
		return nil, &smithy.GenericAPIError{Code: "UnauthorizedOperation", Message: "You are not authorized to perform this operation."}
	}
	return c.EC2API.DescribeSpotInstanceRequests(ctx, in, optFns...)
}

func (c spotEC2) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	out, err := c.EC2API.DescribeInstances(ctx, in, optFns...)
	if err != nil {
		return out, err
	}
	for i := range out.Reservations {
		for j := range out.Reservations[i].Instances {
			inst := &out.Reservations[i].Instances[j]
			if r, ok := c.requests[awssdk.ToString(inst.InstanceId)]; ok {
				inst.InstanceLifecycle = ec2types.InstanceLifecycleTypeSpot
				inst.SpotInstanceRequestId = awssdk.String(r)
			}
		}
	}
	return out, nil
}

// requestSpot makes a Spot request of type typ for one instance and
// returns the request's ID and its instance's.
func requestSpot(t *testing.T, typ ec2types.SpotInstanceType) (request, instance string) {
	t.Helper()
	c := sdk().ec2
	out, err := c.RequestSpotInstances(tctx(t), &ec2.RequestSpotInstancesInput{
		Type:                typ,
		InstanceCount:       awssdk.Int32(1),
		SpotPrice:           awssdk.String("0.05"),
		LaunchSpecification: &ec2types.RequestSpotLaunchSpecification{ImageId: awssdk.String(ami), InstanceType: ec2types.InstanceTypeT3Micro},
	})
	require.NoError(t, err)
	require.Len(t, out.SpotInstanceRequests, 1)
	request = awssdk.ToString(out.SpotInstanceRequests[0].SpotInstanceRequestId)
	desc, err := c.DescribeSpotInstanceRequests(tctx(t), &ec2.DescribeSpotInstanceRequestsInput{SpotInstanceRequestIds: []string{request}})
	require.NoError(t, err)
	require.Len(t, desc.SpotInstanceRequests, 1)
	instance = awssdk.ToString(desc.SpotInstanceRequests[0].InstanceId)
	require.NotEmpty(t, instance)
	return request, instance
}

// TestTerminateRefusesAnInstanceOfAPersistentSpotRequest: EC2 opens a
// persistent Spot request again when its instance is terminated, and
// launches another in its place (AWS: cancel the request first), so a
// terminate of an idle one would save nothing and lose its data, and the
// reaper would terminate its successor at its next run. Terminate refuses
// it (provider.ErrUnsupported, naming the request, before any change);
// an instance of a one-time request, or of a persistent request already
// cancelled, is terminated.
func TestTerminateRefusesAnInstanceOfAPersistentSpotRequest(t *testing.T) {
	t.Parallel()
	persistent, kept := requestSpot(t, ec2types.SpotInstanceTypePersistent)
	oneTime, gone := requestSpot(t, ec2types.SpotInstanceTypeOneTime)
	cancelled, alone := requestSpot(t, ec2types.SpotInstanceTypePersistent)
	_, err := sdk().ec2.CancelSpotInstanceRequests(tctx(t), &ec2.CancelSpotInstanceRequestsInput{SpotInstanceRequestIds: []string{cancelled}})
	require.NoError(t, err)
	ec2c := spotEC2{EC2API: sdk().ec2, requests: map[string]string{kept: persistent, gone: oneTime, alone: cancelled}}
	d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{EC2: ec2c}))
	ctx := tctx(t)

	err = d.Terminate(ctx, kept)
	require.ErrorIs(t, err, provider.ErrUnsupported)
	assert.Contains(t, err.Error(), persistent)
	st, _ := ec2State(t, kept)
	assert.Equal(t, ec2types.InstanceStateNameRunning, st, "nothing changed")

	for _, id := range []string{gone, alone} {
		require.NoError(t, d.Terminate(ctx, id), id)
		st, _ := ec2State(t, id)
		assert.Equal(t, ec2types.InstanceStateNameTerminated, st, id)
	}

	// A request that cannot be read fails the terminate (fail closed):
	// whether it is persistent is not known.
	denied := newDriver(t, awsprovider.WithClients(awsprovider.Clients{EC2: spotEC2{EC2API: sdk().ec2, requests: ec2c.requests, denied: true}}))
	err = denied.Terminate(ctx, kept)
	require.ErrorIs(t, err, provider.ErrDenied)
	assert.Contains(t, err.Error(), persistent)
	st, _ = ec2State(t, kept)
	assert.Equal(t, ec2types.InstanceStateNameRunning, st, "nothing changed")
}

// TestResizeRefusesASpotInstance: EC2 does not change the instance type
// of a Spot Instance (its modify is refused while it is stopped), so a
// resize of a running one stopped it, failed at the modify and started it
// again: an outage for nothing, at every run of whoever asked. Resize
// refuses it (provider.ErrUnsupported) before any change, running or
// stopped.
func TestResizeRefusesASpotInstance(t *testing.T) {
	t.Parallel()
	ids := runInstances(t, 2, "t3.micro", nil)
	ec2c := spotEC2{EC2API: sdk().ec2, requests: map[string]string{ids[0]: "sir-00000000", ids[1]: "sir-00000001"}}
	d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{EC2: ec2c}))
	ctx := tctx(t)
	_, err := sdk().ec2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: ids[1:]})
	require.NoError(t, err)

	for i, want := range []ec2types.InstanceStateName{ec2types.InstanceStateNameRunning, ec2types.InstanceStateNameStopped} {
		err := d.Resize(ctx, ids[i], provider.Size{InstanceType: "t3.large"})
		require.ErrorIs(t, err, provider.ErrUnsupported, want)
		assert.Contains(t, err.Error(), "Spot", want)
		st, typ := ec2State(t, ids[i])
		assert.Equal(t, want, st, "nothing changed")
		assert.Equal(t, "t3.micro", typ, "nothing changed")
	}
}

package aws_test

import (
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
)

// TestGroupMembersAreNotStoppedAlone: an instance in service in an Auto
// Scaling group is stopped, terminated or resized (which stops it) only
// through its group: Auto Scaling takes a stopped member for unhealthy
// and terminates and replaces it, so the reaper's reversible stop would
// be a termination, and its terminate of an idle member would launch
// another. The driver refuses (provider.ErrUnsupported, naming the group,
// before any change); a member in Standby, which Auto Scaling leaves
// alone, is stopped.
func TestGroupMembersAreNotStoppedAlone(t *testing.T) {
	t.Parallel()
	group := createGroup(t, 0, 3, 2, nil)
	g := describeGroup(t, group)
	require.Len(t, g.Instances, 2)
	member, standby := awssdk.ToString(g.Instances[0].InstanceId), awssdk.ToString(g.Instances[1].InstanceId)
	d := newDriver(t)
	ctx := tctx(t)

	for name, err := range map[string]error{
		"stop":      d.Stop(ctx, member),
		"terminate": d.Terminate(ctx, member),
		"resize":    d.Resize(ctx, member, provider.Size{InstanceType: "t3.large"}),
	} {
		require.ErrorIs(t, err, provider.ErrUnsupported, name)
		assert.Contains(t, err.Error(), group, name)
	}
	st, typ := ec2State(t, member)
	assert.Equal(t, ec2types.InstanceStateNameRunning, st)
	assert.Equal(t, "t3.micro", typ)

	_, err := sdk().asg.EnterStandby(ctx, &autoscaling.EnterStandbyInput{
		AutoScalingGroupName: &group, InstanceIds: []string{standby}, ShouldDecrementDesiredCapacity: awssdk.Bool(true),
	})
	require.NoError(t, err)
	require.NoError(t, d.Stop(ctx, standby), "Auto Scaling leaves a Standby instance alone")
	st, _ = ec2State(t, standby)
	assert.Equal(t, ec2types.InstanceStateNameStopped, st)
}

package aws_test

import (
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
)

// TestWeightedGroupOverageOfTheLightestWeight pins the bound of the
// overage Capacity reads as the desired capacity: an overage less than
// the lightest counted weight is Auto Scaling's to keep (Current =
// Desired), one of exactly that weight is not (one instance could go and
// the desired capacity would still be met) and is reported as it is.
func TestWeightedGroupOverageOfTheLightestWeight(t *testing.T) {
	t.Parallel()
	asg := newWeightedASG(0, 30, 0, "m5.large", 1, map[string]string{"m5.xlarge": "4", "m5.large": "2"})
	asg.group.Instances = []asgtypes.Instance{
		{InstanceId: awssdk.String("i-1"), InstanceType: awssdk.String("m5.xlarge"), LifecycleState: asgtypes.LifecycleStateInService, HealthStatus: awssdk.String("Healthy")},
		{InstanceId: awssdk.String("i-2"), InstanceType: awssdk.String("m5.large"), LifecycleState: asgtypes.LifecycleStateInService, HealthStatus: awssdk.String("Healthy")},
	}
	d := fakeDriver(t, fastConfig(), asg)
	for desired, want := range map[int32]provider.Capacity{
		5: {CapacitySpec: provider.CapacitySpec{Min: 0, Max: 30, Desired: 5}, Current: 5, Ready: 5}, // 4 + 2: an overage of 1, under the lightest 2
		4: {CapacitySpec: provider.CapacitySpec{Min: 0, Max: 30, Desired: 4}, Current: 6, Ready: 6}, // an overage of 2, the lightest weight
	} {
		asg.mu.Lock()
		asg.group.DesiredCapacity = awssdk.Int32(desired)
		asg.mu.Unlock()
		c, err := d.Capacity(tctx(t), "web")
		require.NoError(t, err)
		assert.Equal(t, want, c, "desired %d", desired)
	}
}

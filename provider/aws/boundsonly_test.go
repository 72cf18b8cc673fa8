package aws_test

import (
	"context"
	"sync"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// TestBoundsOnlyChangeKeepsTheGroupsDesired (moto): a change of only
// min and max does not send the desired capacity the driver read: the
// group scaled from 2 to 3 between that read and the update (its own
// policy, here a direct SetDesiredCapacity), and the update wrote the
// stale 2 back. Auto Scaling keeps the 3, and clamps it into the new
// bounds when they exclude it.
func TestBoundsOnlyChangeKeepsTheGroupsDesired(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		want        provider.CapacitySpec
		wantDesired int32
	}{
		{"inside the bounds", provider.CapacitySpec{Min: 1, Max: 9, Desired: 2}, 3},
		{"clamped to the new max", provider.CapacitySpec{Min: 0, Max: 2, Desired: 2}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			group := createGroup(t, 1, 4, 2, nil)
			var (
				mu    sync.Mutex
				stale *autoscaling.DescribeAutoScalingGroupsOutput
			)
			rec := &recordingASG{AutoScalingAPI: sdk().asg}
			rec.describe = func(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
				mu.Lock()
				defer mu.Unlock()
				if stale != nil {
					return stale, nil
				}
				out, err := sdk().asg.DescribeAutoScalingGroups(ctx, in, optFns...)
				if err != nil {
					return nil, err
				}
				stale = out
				// The group scales right after the driver read it.
				_, err = sdk().asg.SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{AutoScalingGroupName: &group, DesiredCapacity: awssdk.Int32(3)})
				return out, err
			}
			d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{AutoScaling: rec}))
			require.NoError(t, d.SetCapacity(tctx(t), group, tc.want))
			assert.Equal(t, 1, rec.count("UpdateAutoScalingGroup"))
			g := describeGroup(t, group)
			assert.Equal(t, []int32{int32(tc.want.Min), int32(tc.want.Max), tc.wantDesired},
				[]int32{awssdk.ToInt32(g.MinSize), awssdk.ToInt32(g.MaxSize), awssdk.ToInt32(g.DesiredCapacity)})
		})
	}
}

package aws_test

import (
	"context"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// TestSetCapacityRefusesAGroupBeingDeleted: a group whose Status is
// "Delete in progress" (DescribeAutoScalingGroups; moto deletes at once
// and never shows it) is refused with provider.ErrConflict naming the
// status, before any write, whether only the desired capacity, the
// bounds, or nothing would change: AWS refuses the write with a
// ValidationError ("may not be modified while it is pending delete"),
// which read as provider.ErrInvalid, bad input, and moto takes it,
// reporting a change to a group that is going away.
func TestSetCapacityRefusesAGroupBeingDeleted(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		give provider.CapacitySpec
	}{
		{"desired only", provider.CapacitySpec{Min: 1, Max: 4, Desired: 3}},
		{"bounds", provider.CapacitySpec{Min: 0, Max: 6, Desired: 2}},
		{"the current spec", provider.CapacitySpec{Min: 1, Max: 4, Desired: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			group := createGroup(t, 1, 4, 2, nil)
			rec := &recordingASG{AutoScalingAPI: sdk().asg}
			rec.describe = func(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
				out, err := sdk().asg.DescribeAutoScalingGroups(ctx, in, optFns...)
				if err != nil {
					return nil, err
				}
				for i := range out.AutoScalingGroups {
					out.AutoScalingGroups[i].Status = awssdk.String("Delete in progress")
				}
				return out, nil
			}
			d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{AutoScaling: rec}))
			err := d.SetCapacity(tctx(t), group, tt.give)
			require.ErrorIs(t, err, provider.ErrConflict)
			assert.Contains(t, err.Error(), "Delete in progress", "names the status")
			assert.Contains(t, err.Error(), group)
			assert.Zero(t, rec.count("SetDesiredCapacity"), "no write")
			assert.Zero(t, rec.count("UpdateAutoScalingGroup"), "no write")
			g := describeGroup(t, group)
			assert.Equal(t, []int32{1, 4, 2}, []int32{awssdk.ToInt32(g.MinSize), awssdk.ToInt32(g.MaxSize), awssdk.ToInt32(g.DesiredCapacity)})
		})
	}
}

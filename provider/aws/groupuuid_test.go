package aws_test

import (
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
)

// groupARN returns the ARN Auto Scaling gives the group called name.
func groupARN(t *testing.T, name string) string {
	t.Helper()
	out, err := sdk().asg.DescribeAutoScalingGroups(tctx(t), &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
	require.NoError(t, err)
	require.Len(t, out.AutoScalingGroups, 1)
	arn := awssdk.ToString(out.AutoScalingGroups[0].AutoScalingGroupARN)
	require.Contains(t, arn, ":autoScalingGroup:")
	return arn
}

// arnUUID is the group UUID of an Auto Scaling group ARN.
func arnUUID(arn string) string {
	_, rest, _ := strings.Cut(arn, ":autoScalingGroup:")
	uuid, _, _ := strings.Cut(rest, ":")
	return uuid
}

// TestGroupARNOfADeletedGroupNamesNothing: an Auto Scaling group's ARN
// holds the group's UUID, so the ARN of a group deleted since names no
// group, although another was created with its name: SetCapacity changes
// nothing and every read is provider.ErrNotFound naming both UUIDs (the
// new group's would otherwise be changed and read for the old one's).
// The new group's ARN names it, and so does the all-zero UUID of a host
// that builds ARNs without knowing the group's.
func TestGroupARNOfADeletedGroupNamesNothing(t *testing.T) {
	t.Parallel()
	c := sdk()
	name := createGroup(t, 0, 3, 1, nil)
	old := groupARN(t, name)
	_, err := c.asg.DeleteAutoScalingGroup(tctx(t), &autoscaling.DeleteAutoScalingGroupInput{
		AutoScalingGroupName: awssdk.String(name), ForceDelete: awssdk.Bool(true),
	})
	require.NoError(t, err)
	_, err = c.asg.CreateAutoScalingGroup(tctx(t), &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName:    awssdk.String(name),
		LaunchConfigurationName: awssdk.String(name + "-lc"),
		MinSize:                 awssdk.Int32(0), MaxSize: awssdk.Int32(3), DesiredCapacity: awssdk.Int32(1),
		AvailabilityZones: []string{region + "a"},
	})
	require.NoError(t, err)
	current := groupARN(t, name)
	oldUUID, newUUID := arnUUID(old), arnUUID(current)
	require.NotEqual(t, oldUUID, newUUID, "a group created again has a new UUID")

	d := newDriver(t)
	ctx := tctx(t)
	notFound := func(err error, call string) {
		t.Helper()
		require.ErrorIs(t, err, provider.ErrNotFound, call)
		assert.Contains(t, err.Error(), oldUUID, call)
		assert.Contains(t, err.Error(), newUUID, call)
	}
	notFound(d.SetCapacity(ctx, old, provider.CapacitySpec{Min: 0, Desired: 3, Max: 3}), "SetCapacity")
	notFound(d.SetCapacity(ctx, old, provider.CapacitySpec{Min: 0, Desired: 2, Max: 3}), "SetCapacity (desired only)")
	capNow, err := d.Capacity(ctx, name)
	require.NoError(t, err)
	assert.Equal(t, 1, capNow.Desired, "the group created since is unchanged")
	assert.Equal(t, 3, capNow.Max)

	_, err = d.Get(ctx, old)
	notFound(err, "Get")
	_, err = d.Capacity(ctx, old)
	notFound(err, "Capacity")
	now := time.Now().UTC().Truncate(time.Minute)
	_, err = d.QueryMetric(ctx, provider.Query{ResourceID: old, Metric: provider.MetricCPU, Start: now.Add(-time.Hour), End: now, Step: 5 * time.Minute})
	notFound(err, "QueryMetric")
	reads := []provider.ResourceRead{{ID: old}, {ID: current}}
	require.NoError(t, d.GetResources(ctx, reads))
	notFound(reads[0].Err, "GetResources")
	require.NoError(t, reads[1].Err)
	caps := []provider.CapacityRead{{ID: old}, {ID: current}}
	require.NoError(t, d.GetCapacities(ctx, caps))
	notFound(caps[0].Err, "GetCapacities")
	require.NoError(t, caps[1].Err)
	mreads := []provider.MetricRead{{Query: provider.Query{ResourceID: old, Metric: provider.MetricCPU, Start: now.Add(-time.Hour), End: now, Step: 5 * time.Minute}}}
	require.NoError(t, d.QueryMetrics(ctx, mreads))
	notFound(mreads[0].Err, "QueryMetrics")

	r, err := d.Get(ctx, current)
	require.NoError(t, err)
	assert.Equal(t, name, r.ID)
	zero := strings.Replace(current, newUUID, "00000000-0000-0000-0000-000000000000", 1)
	require.NoError(t, d.SetCapacity(ctx, zero, provider.CapacitySpec{Min: 0, Desired: 2, Max: 3}))
	require.NoError(t, d.SetCapacity(ctx, current, provider.CapacitySpec{Min: 0, Desired: 3, Max: 3}))
	capNow, err = d.Capacity(ctx, name)
	require.NoError(t, err)
	assert.Equal(t, 3, capNow.Desired)
}

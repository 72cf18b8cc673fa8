package aws_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
)

// TestARNOfAnotherRegionNamesNothingHere: an ARN names a resource in its
// own region. Auto Scaling group names and RDS DB identifiers are unique
// only within a region, and the driver resolved a group's or a
// database's ARN by its name alone: given the ARN of eu-west-1's group
// "web", a driver of us-east-1 read, and SetCapacity changed, us-east-1's
// "web", and QueryMetric read the metrics of us-east-1's database of the
// same name. Such an ARN is now provider.ErrNotFound naming both regions,
// before any change, one by one as in a batch.
func TestARNOfAnotherRegionNamesNothingHere(t *testing.T) {
	t.Parallel()
	const other = "eu-west-1"
	name := seeder{region}.createGroup(t, 1, 4, 2, nil)
	groupARN := "arn:aws:autoscaling:" + other + ":123456789012:autoScalingGroup:00000000-0000-0000-0000-000000000000:autoScalingGroupName/" + name
	d := newDriver(t)

	err := d.SetCapacity(tctx(t), groupARN, provider.CapacitySpec{Min: 1, Max: 4, Desired: 4})
	require.ErrorIs(t, err, provider.ErrNotFound)
	assert.Contains(t, err.Error(), other)
	assert.Contains(t, err.Error(), region)
	c, err := d.Capacity(tctx(t), name)
	require.NoError(t, err)
	assert.Equal(t, 2, c.Desired, "the group of the driver's region is not changed")

	_, err = d.Get(tctx(t), groupARN)
	require.ErrorIs(t, err, provider.ErrNotFound)
	_, err = d.Capacity(tctx(t), groupARN)
	require.ErrorIs(t, err, provider.ErrNotFound)

	now := time.Now().UTC().Truncate(time.Minute)
	dbARN := "arn:aws:rds:" + other + ":123456789012:db:" + uniq("db")
	_, err = d.QueryMetric(tctx(t), provider.Query{ResourceID: dbARN, Metric: provider.MetricConnections, Start: now.Add(-time.Hour), End: now, Step: 5 * time.Minute})
	require.ErrorIs(t, err, provider.ErrNotFound)
	_, err = d.Activity(tctx(t), provider.ActivityQuery{ResourceID: dbARN, Start: now.Add(-time.Hour), End: now})
	require.ErrorIs(t, err, provider.ErrNotFound)

	// The batch reads say the same of each such ARN, and read the others.
	reads := []provider.ResourceRead{{ID: groupARN}, {ID: name}}
	require.NoError(t, d.GetResources(tctx(t), reads))
	require.ErrorIs(t, reads[0].Err, provider.ErrNotFound)
	require.NoError(t, reads[1].Err)
	caps := []provider.CapacityRead{{ID: groupARN}, {ID: name}}
	require.NoError(t, d.GetCapacities(tctx(t), caps))
	require.ErrorIs(t, caps[0].Err, provider.ErrNotFound)
	require.NoError(t, caps[1].Err)
	mreads := []provider.MetricRead{{Query: provider.Query{ResourceID: dbARN, Metric: provider.MetricConnections, Start: now.Add(-time.Hour), End: now, Step: 5 * time.Minute}}}
	require.NoError(t, d.QueryMetrics(tctx(t), mreads))
	require.ErrorIs(t, mreads[0].Err, provider.ErrNotFound)

	// The driver's own region's ARN still names the group.
	r, err := d.Get(tctx(t), "arn:aws:autoscaling:"+region+":123456789012:autoScalingGroup:00000000-0000-0000-0000-000000000000:autoScalingGroupName/"+name)
	require.NoError(t, err)
	assert.Equal(t, name, r.ID)
}

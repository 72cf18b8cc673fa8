package aws_test

import (
	"context"
	"slices"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// attachDataVolume creates a volume in the instance's zone, attaches it at
// device and returns its ID.
func attachDataVolume(t *testing.T, instanceID, device string) string {
	t.Helper()
	c := sdk()
	out, err := c.ec2.DescribeInstances(tctx(t), &ec2.DescribeInstancesInput{InstanceIds: []string{instanceID}})
	require.NoError(t, err)
	zone := out.Reservations[0].Instances[0].Placement.AvailabilityZone
	vol, err := c.ec2.CreateVolume(tctx(t), &ec2.CreateVolumeInput{AvailabilityZone: zone, Size: awssdk.Int32(10)})
	require.NoError(t, err)
	_, err = c.ec2.AttachVolume(tctx(t), &ec2.AttachVolumeInput{
		VolumeId: vol.VolumeId, InstanceId: awssdk.String(instanceID), Device: awssdk.String(device),
	})
	require.NoError(t, err)
	return awssdk.ToString(vol.VolumeId)
}

// createSnapshots makes a multi-volume snapshot set (CreateSnapshots) and
// returns its snapshots, which share a start time, as AWS's do. moto
// stamps each snapshot of a set with its own clock reading, to the second
// in its answers, so a set made across a second's boundary is made again
// (its snapshots remain, each alone, partial backups).
func createSnapshots(t *testing.T, in *ec2.CreateSnapshotsInput) []ec2types.SnapshotInfo {
	t.Helper()
	for range 3 {
		out, err := sdk().ec2.CreateSnapshots(tctx(t), in)
		require.NoError(t, err)
		require.NotEmpty(t, out.Snapshots)
		start := awssdk.ToTime(out.Snapshots[0].StartTime)
		if !slices.ContainsFunc(out.Snapshots, func(s ec2types.SnapshotInfo) bool { return !awssdk.ToTime(s.StartTime).Equal(start) }) {
			return out.Snapshots
		}
	}
	require.FailNow(t, "moto stamped three snapshot sets across a second's boundary")
	return nil
}

// verifiedTags tags snapshots as verified by a restore test.
func verifiedTags() []ec2types.TagSpecification {
	return []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeSnapshot, Tags: []ec2types.Tag{
		{Key: awssdk.String("idlescale:verified"), Value: awssdk.String("restore-test")},
	}}}
}

// completeBackups returns the backups that are complete.
func completeBackups(bs []provider.Backup) []provider.Backup {
	var out []provider.Backup
	for _, b := range bs {
		if b.Complete {
			out = append(out, b)
		}
	}
	return out
}

// TestInstanceBackupCoversEveryVolume: a backup of an instance is a set of
// snapshots, taken together, of every EBS volume attached to it: a
// snapshot of its root volume alone is no complete backup of an instance
// with a data volume (the safety engine's backup rule would let its
// terminate through and its data would be lost), a CreateSnapshots of the
// instance is one backup naming its snapshots, and a volume attached since
// leaves that backup incomplete.
func TestInstanceBackupCoversEveryVolume(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	c := sdk()
	inst := runInstances(t, 1, "t3.micro", nil)[0]
	data := attachDataVolume(t, inst, "/dev/sdf")
	desc, err := c.ec2.DescribeInstances(tctx(t), &ec2.DescribeInstancesInput{InstanceIds: []string{inst}})
	require.NoError(t, err)
	root := desc.Reservations[0].Instances[0].BlockDeviceMappings[0].Ebs.VolumeId
	require.NotEqual(t, data, awssdk.ToString(root))

	rootOnly, err := c.ec2.CreateSnapshot(tctx(t), &ec2.CreateSnapshotInput{
		VolumeId: root, Description: awssdk.String("root only"), TagSpecifications: verifiedTags(),
	})
	require.NoError(t, err)
	got, err := d.Backups(tctx(t), inst, time.Time{})
	require.NoError(t, err)
	assert.Empty(t, completeBackups(got), "a snapshot of the root volume alone does not back up the data volume")
	for _, b := range got {
		require.NoError(t, b.Validate())
		assert.Equal(t, inst, b.ResourceID)
	}

	set := createSnapshots(t, &ec2.CreateSnapshotsInput{
		InstanceSpecification: &ec2types.InstanceSpecification{InstanceId: awssdk.String(inst)},
		Description:           awssdk.String("whole instance"),
		TagSpecifications:     verifiedTags(),
	})
	require.Len(t, set, 2)
	got, err = d.Backups(tctx(t), inst, time.Time{})
	require.NoError(t, err)
	complete := completeBackups(got)
	require.Len(t, complete, 1, "the CreateSnapshots set is one backup: %+v", got)
	b := complete[0]
	for _, s := range set {
		assert.Contains(t, b.ID, awssdk.ToString(s.SnapshotId), "the backup names every snapshot of its set")
	}
	assert.NotContains(t, b.ID, awssdk.ToString(rootOnly.SnapshotId))
	assert.True(t, b.Verified)
	assert.Equal(t, "restore-test", b.VerifiedBy)
	assert.True(t, b.Time.Equal(awssdk.ToTime(set[0].StartTime)))

	attachDataVolume(t, inst, "/dev/sdg")
	got, err = d.Backups(tctx(t), inst, time.Time{})
	require.NoError(t, err)
	assert.Empty(t, completeBackups(got), "a volume attached since is in no backup")
}

// amiSnapshots rewrites DescribeSnapshots' answer as CreateImage's
// snapshots of an AMI read: a description naming the AMI (and the volume,
// as CreateImage's did) and start times a second apart.
type amiSnapshots struct {
	awsprovider.EC2API
	ami string
}

func (a amiSnapshots) DescribeSnapshots(ctx context.Context, in *ec2.DescribeSnapshotsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error) {
	out, err := a.EC2API.DescribeSnapshots(ctx, in, optFns...)
	if err != nil {
		return nil, err
	}
	n := 0
	for i := range out.Snapshots {
		s := &out.Snapshots[i]
		if awssdk.ToString(s.Description) != "image" {
			continue
		}
		s.Description = awssdk.String("Created by CreateImage(i-0123456789abcdef0) for " + a.ami + " from " + awssdk.ToString(s.VolumeId))
		s.StartTime = awssdk.Time(awssdk.ToTime(s.StartTime).Add(time.Duration(n) * time.Second))
		n++
	}
	return out, nil
}

// TestInstanceBackupOfAnAMI: the snapshots CreateImage (and AWS Backup,
// through it) makes of an instance's volumes for an AMI are one backup,
// whatever their start times, timed at the earliest; snapshots of the
// same volumes taken apart, without a shared start time or AMI, are none.
func TestInstanceBackupOfAnAMI(t *testing.T) {
	t.Parallel()
	c := sdk()
	inst := runInstances(t, 1, "t3.micro", nil)[0]
	attachDataVolume(t, inst, "/dev/sdf")
	attachDataVolume(t, inst, "/dev/sdg")
	set, err := c.ec2.CreateSnapshots(tctx(t), &ec2.CreateSnapshotsInput{
		InstanceSpecification: &ec2types.InstanceSpecification{InstanceId: awssdk.String(inst)},
		Description:           awssdk.String("image"),
	})
	require.NoError(t, err)
	require.Len(t, set.Snapshots, 3)
	earliest := awssdk.ToTime(set.Snapshots[0].StartTime)

	real := ec2.NewFromConfig(sdkConfig())
	d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{EC2: amiSnapshots{EC2API: real, ami: "ami-0123456789abcdef0"}}))
	got, err := d.Backups(tctx(t), inst, time.Time{})
	require.NoError(t, err)
	require.Len(t, got, 1, "the AMI's snapshots are one backup: %+v", got)
	assert.True(t, got[0].Complete)
	assert.True(t, got[0].Time.Equal(earliest), "timed at its earliest snapshot: %s, want %s", got[0].Time, earliest)
	for _, s := range set.Snapshots {
		assert.Contains(t, got[0].ID, awssdk.ToString(s.SnapshotId))
	}

	d = newDriver(t, awsprovider.WithClients(awsprovider.Clients{EC2: amiSnapshots{EC2API: real, ami: ""}}))
	got, err = d.Backups(tctx(t), inst, time.Time{})
	require.NoError(t, err)
	assert.Empty(t, completeBackups(got), "snapshots neither of one time nor of one AMI: %+v", got)
}

// TestInstanceStoreRootHasNoCompleteBackup: an instance whose root device
// is an instance store keeps its root volume's data on the host, which no
// EBS snapshot holds and which a terminate loses: snapshots of its EBS
// data volumes are no complete backup of it. moto launches every
// instance from EBS, so its describe is rewritten as EC2 answers for an
// instance-store-backed AMI: no mapping of the root device.
func TestInstanceStoreRootHasNoCompleteBackup(t *testing.T) {
	t.Parallel()
	c := sdk()
	inst := runInstances(t, 1, "t3.micro", nil)[0]
	data := attachDataVolume(t, inst, "/dev/sdf")
	_, err := c.ec2.CreateSnapshot(tctx(t), &ec2.CreateSnapshotInput{VolumeId: awssdk.String(data), TagSpecifications: verifiedTags()})
	require.NoError(t, err)
	rec := &recordingEC2{EC2API: ec2.NewFromConfig(sdkConfig())}
	rec.describe = func(ctx context.Context, in *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
		out, err := rec.EC2API.DescribeInstances(ctx, in, optFns...)
		if err != nil {
			return nil, err
		}
		for i := range out.Reservations {
			for j := range out.Reservations[i].Instances {
				x := &out.Reservations[i].Instances[j]
				x.RootDeviceType = ec2types.DeviceTypeInstanceStore
				x.BlockDeviceMappings = slices.DeleteFunc(x.BlockDeviceMappings, func(m ec2types.InstanceBlockDeviceMapping) bool {
					return awssdk.ToString(m.DeviceName) == awssdk.ToString(x.RootDeviceName)
				})
			}
		}
		return out, nil
	}
	d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{EC2: rec}))
	got, err := d.Backups(tctx(t), inst, time.Time{})
	require.NoError(t, err)
	require.Len(t, got, 1, "the data volume's snapshot is listed")
	assert.False(t, got[0].Complete, "it holds nothing of the instance-store root")
	assert.True(t, got[0].Verified)
}

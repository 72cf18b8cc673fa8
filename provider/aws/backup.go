package aws

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/idlescale/idlescale/provider"
)

// maxFilterValues is how many values EC2 accepts in one filter.
const maxFilterValues = 200

// Backups implements provider.BackupCatalog for EC2 instances and EBS
// volumes: the EBS snapshots (owned by the account) of the volumes
// attached to the instance, or of the volume, taken at or after since,
// newest first. Time is the snapshot's start time;
// Complete is its state "completed"; Verified, VerifiedBy and VerifiedAt
// come from the verification tags (Config.Tags.Verified and VerifiedAt,
// see the package doc). An instance without volumes or snapshots has none,
// as has a volume without snapshots; groups, functions and load balancers
// return provider.ErrUnsupported, unknown IDs provider.ErrNotFound.
func (d *Driver) Backups(ctx context.Context, resourceID string, since time.Time) (_ []provider.Backup, err error) {
	defer d.red.Errorp(&err)
	t, err := d.resolve(ctx, "backups", resourceID)
	if err != nil {
		return nil, err
	}
	var volumes []string
	switch t.kind {
	case provider.KindInstance:
		inst, err := d.describeInstance(ctx, t.id)
		if err != nil {
			return nil, wrap("backups", resourceID, err)
		}
		for _, m := range inst.BlockDeviceMappings {
			if m.Ebs != nil && m.Ebs.VolumeId != nil {
				volumes = append(volumes, *m.Ebs.VolumeId)
			}
		}
	case provider.KindVolume:
		if _, err := d.describeVolume(ctx, t.id); err != nil {
			return nil, wrap("backups", resourceID, err)
		}
		volumes = []string{t.id}
	default:
		return nil, fmt.Errorf("aws: backups %q: %w: only EC2 instances and EBS volumes have EBS snapshots", resourceID, provider.ErrUnsupported)
	}
	out := []provider.Backup{}
	for chunk := range slices.Chunk(volumes, maxFilterValues) {
		p := ec2.NewDescribeSnapshotsPaginator(d.ec2, &ec2.DescribeSnapshotsInput{
			OwnerIds:   []string{"self"},
			Filters:    []ec2types.Filter{{Name: awssdk.String("volume-id"), Values: chunk}},
			MaxResults: d.pageSize(1000),
		})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, wrap("backups", resourceID, err)
			}
			for _, s := range page.Snapshots {
				b := d.snapshotBackup(t.id, s)
				if !b.Time.Before(since) {
					out = append(out, b)
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b provider.Backup) int {
		return cmp.Or(b.Time.Compare(a.Time), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

func (d *Driver) snapshotBackup(resourceID string, s ec2types.Snapshot) provider.Backup {
	b := provider.Backup{
		ID:         awssdk.ToString(s.SnapshotId),
		ResourceID: resourceID,
		Time:       awssdk.ToTime(s.StartTime).UTC(),
		Complete:   s.State == ec2types.SnapshotStateCompleted,
	}
	for _, tag := range s.Tags {
		key, val := awssdk.ToString(tag.Key), strings.TrimSpace(awssdk.ToString(tag.Value))
		switch {
		case strings.EqualFold(key, d.cfg.Tags.Verified):
			switch strings.ToLower(val) {
			case "", "false", "no", "0", "off":
			default:
				b.Verified, b.VerifiedBy = true, val
			}
		case strings.EqualFold(key, d.cfg.Tags.VerifiedAt):
			if at, err := time.Parse(time.RFC3339, val); err == nil {
				b.VerifiedAt = at.UTC()
			}
		}
	}
	if !b.Verified {
		b.VerifiedAt = time.Time{}
	}
	return b
}

package aws

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
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
// volumes, from the EBS snapshots owned by the account, newest first.
//
// A volume's backups are its snapshots taken at or after since, one each,
// ID the snapshot ID. Time is the snapshot's start time; Complete is its
// state "completed"; Verified, VerifiedBy and VerifiedAt come from the
// verification tags (Config.Tags.Verified and VerifiedAt, see the package
// doc).
//
// An instance's backup is a set of snapshots taken together, one of each
// EBS volume attached to the instance now (see "Backups and the
// verification tag convention" in the package doc): the snapshots of an
// AMI (CreateImage's, known by their description), or those of one
// CreateSnapshots call (a shared start time and description). Its ID lists the snapshot IDs, comma-separated, in
// the order of the instance's block device mappings; Time is the earliest
// start time; Complete holds only when the set covers every volume and
// every snapshot is completed: a set that misses a volume (a snapshot of
// the root volume alone, a volume attached since) is reported with
// Complete false, as it would restore the instance without that
// volume's data. It is Verified when every snapshot is (VerifiedBy their
// distinct values, comma-separated; VerifiedAt the latest known), and
// not when any snapshot's verification predates its own start. An
// instance with a single volume has each of its snapshots as a backup,
// as a volume has. An instance whose root device is an instance store
// (an instance-store-backed AMI's) has no complete backup: no snapshot
// holds its root volume's data, which a terminate loses. An instance
// without volumes or snapshots has none, as
// has a volume without snapshots; groups, functions and load balancers
// return provider.ErrUnsupported, unknown IDs provider.ErrNotFound.
func (d *Driver) Backups(ctx context.Context, resourceID string, since time.Time) (_ []provider.Backup, err error) {
	defer d.red.Errorp(&err)
	t, err := d.resolve(ctx, "backups", resourceID)
	if err != nil {
		return nil, err
	}
	var volumes []string
	var storeRoot bool // the root device is an instance store: no snapshot holds it
	switch t.kind {
	case provider.KindInstance:
		inst, err := d.describeInstance(ctx, t.id)
		if err != nil {
			return nil, wrap("backups", resourceID, err)
		}
		storeRoot = inst.RootDeviceType == ec2types.DeviceTypeInstanceStore
		for _, m := range inst.BlockDeviceMappings {
			if m.Ebs != nil && m.Ebs.VolumeId != nil && !slices.Contains(volumes, *m.Ebs.VolumeId) {
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
	var snaps []ec2types.Snapshot
	for chunk := range slices.Chunk(volumes, maxFilterValues) {
		p := ec2.NewDescribeSnapshotsPaginator(d.ec2, &ec2.DescribeSnapshotsInput{
			OwnerIds:   []string{"self"},
			Filters:    []ec2types.Filter{{Name: awssdk.String("volume-id"), Values: chunk}},
			MaxResults: d.pageSize(1000),
		})
		tokens := pageTokens{}
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err == nil {
				err = tokens.next("DescribeSnapshots", page.NextToken)
			}
			if err != nil {
				return nil, wrap("backups", resourceID, err)
			}
			snaps = append(snaps, page.Snapshots...)
		}
	}
	out := []provider.Backup{}
	for _, b := range d.snapshotSets(t.id, volumes, snaps) {
		b.Complete = b.Complete && !storeRoot
		if !b.Time.Before(since) {
			out = append(out, b)
		}
	}
	slices.SortFunc(out, func(a, b provider.Backup) int {
		return cmp.Or(b.Time.Compare(a.Time), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// createImageDescription is the description EC2 gives the snapshots
// CreateImage takes of an instance's volumes for an AMI ("Created by
// CreateImage(i-0abc) for ami-0def", once followed by " from vol-0123").
var createImageDescription = regexp.MustCompile(`^Created by CreateImage\(i-[0-9a-f]+\) for (ami-[0-9a-f]+)\b`)

// snapshotSet is what makes snapshots one backup of an instance: the AMI
// CreateImage took them for, else the start time and description a
// CreateSnapshots call gives every snapshot it takes.
type snapshotSet struct {
	image string
	start time.Time
	desc  string
}

// snapshotSets returns the backups of resourceID, whose EBS volumes are
// volumes (in block device mapping order), from the snapshots snaps of
// them: a backup per set of snapshots taken together (see Backups),
// complete only when the set covers every volume. A set holding two
// snapshots of one volume is no set: each of its snapshots stands alone.
func (d *Driver) snapshotSets(resourceID string, volumes []string, snaps []ec2types.Snapshot) []provider.Backup {
	var keys []snapshotSet
	sets := map[snapshotSet][]ec2types.Snapshot{}
	for _, s := range snaps {
		k := snapshotSet{start: awssdk.ToTime(s.StartTime), desc: awssdk.ToString(s.Description)}
		if m := createImageDescription.FindStringSubmatch(k.desc); m != nil {
			k = snapshotSet{image: m[1]}
		}
		if _, ok := sets[k]; !ok {
			keys = append(keys, k)
		}
		sets[k] = append(sets[k], s)
	}
	var out []provider.Backup
	for _, k := range keys {
		set := sets[k]
		seen := map[string]bool{}
		for _, s := range set {
			seen[awssdk.ToString(s.VolumeId)] = true
		}
		if len(seen) < len(set) {
			for _, s := range set {
				out = append(out, d.setBackup(resourceID, volumes, []ec2types.Snapshot{s}))
			}
			continue
		}
		out = append(out, d.setBackup(resourceID, volumes, set))
	}
	return out
}

// setBackup is the backup of resourceID, whose EBS volumes are volumes,
// made of set, snapshots of distinct volumes taken together.
func (d *Driver) setBackup(resourceID string, volumes []string, set []ec2types.Snapshot) provider.Backup {
	index := func(s ec2types.Snapshot) int { return slices.Index(volumes, awssdk.ToString(s.VolumeId)) }
	set = slices.Clone(set)
	slices.SortFunc(set, func(a, b ec2types.Snapshot) int { return cmp.Compare(index(a), index(b)) })
	if len(set) == 1 {
		b := d.snapshotBackup(resourceID, set[0])
		b.Complete = b.Complete && len(volumes) == 1
		return b
	}
	b := provider.Backup{ResourceID: resourceID, Complete: len(set) == len(volumes), Verified: true}
	var ids, by []string
	for _, s := range set {
		one := d.snapshotBackup(resourceID, s)
		ids = append(ids, one.ID)
		if b.Time.IsZero() || one.Time.Before(b.Time) {
			b.Time = one.Time
		}
		b.Complete = b.Complete && one.Complete && index(s) >= 0
		b.Verified = b.Verified && one.Verified && (one.VerifiedAt.IsZero() || !one.VerifiedAt.Before(one.Time))
		if !slices.Contains(by, one.VerifiedBy) {
			by = append(by, one.VerifiedBy)
		}
		if one.VerifiedAt.After(b.VerifiedAt) {
			b.VerifiedAt = one.VerifiedAt
		}
	}
	b.ID = strings.Join(ids, ",")
	if b.Verified {
		b.VerifiedBy = strings.Join(by, ",")
	} else {
		b.VerifiedAt = time.Time{}
	}
	return b
}

func (d *Driver) snapshotBackup(resourceID string, s ec2types.Snapshot) provider.Backup {
	b := provider.Backup{
		ID:         awssdk.ToString(s.SnapshotId),
		ResourceID: resourceID,
		Time:       awssdk.ToTime(s.StartTime).UTC(),
		Complete:   s.State == ec2types.SnapshotStateCompleted,
	}
	// The tags may be there in several spellings (EC2's tag keys are
	// case-sensitive, and matched case-insensitively): verified only when
	// every spelling of the verification tag says so, and no two
	// verification times disagree (fail closed: a backup counted as
	// verified lets a terminate through).
	refuted := false
	for _, tag := range s.Tags {
		key, val := awssdk.ToString(tag.Key), strings.TrimSpace(awssdk.ToString(tag.Value))
		switch {
		case strings.EqualFold(key, d.cfg.Tags.Verified):
			switch strings.ToLower(val) {
			case "false", "no", "0", "off":
				refuted = true
			case "":
			default:
				if !b.Verified || key == d.cfg.Tags.Verified {
					b.Verified, b.VerifiedBy = true, val // the exact spelling's name, else the first's
				}
			}
		case strings.EqualFold(key, d.cfg.Tags.VerifiedAt):
			if at, err := time.Parse(time.RFC3339, val); err == nil {
				if !b.VerifiedAt.IsZero() && !b.VerifiedAt.Equal(at) {
					refuted = true
				}
				b.VerifiedAt = at.UTC()
			}
		}
	}
	if refuted {
		b.Verified, b.VerifiedBy = false, ""
	}
	if !b.Verified {
		b.VerifiedAt = time.Time{}
	}
	return b
}

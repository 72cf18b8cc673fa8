package aws

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/idlescale/idlescale/provider"
)

// listVolumes lists the EBS volumes f selects, every page of
// DescribeVolumes, among the volume IDs of f.IDs when f has IDs (in
// batches of volumeBatch, a volume-id filter each: an unknown ID
// matches nothing, where VolumeIds fails the call). Tags and states are
// pushed down to EC2's filters. When optional (f did not ask for volumes
// by Kinds or ID) and DescribeVolumes is denied, there are none, with a
// warning naming the IAM action.
func (d *Driver) listVolumes(ctx context.Context, f provider.Filter, optional bool) ([]provider.Resource, error) {
	out, err := byFilterIDs(f, provider.KindVolume, volumeBatch, func(ids []string) ([]provider.Resource, error) {
		return d.describeVolumes(ctx, f, ids)
	})
	if err != nil && optional && accessDenied(err) {
		d.warn(ctx, "aws: volumes are not listed (ec2:DescribeVolumes is denied): grant it, or list other kinds by Filter.Kinds",
			"list volumes", "", err)
		return nil, nil
	}
	return out, err
}

// describeVolumes lists the volumes f selects, every page, among ids when
// there are any.
func (d *Driver) describeVolumes(ctx context.Context, f provider.Filter, ids []string) ([]provider.Resource, error) {
	in := &ec2.DescribeVolumesInput{MaxResults: d.pageSize(500)}
	if len(ids) > 0 {
		in.Filters = append(in.Filters, ec2types.Filter{Name: awssdk.String("volume-id"), Values: ids})
	}
	if len(f.States) > 0 {
		sf, ok := stateFilter("status", f.States, volumeStates)
		if !ok {
			return nil, nil // no volume is ever in the states asked for
		}
		in.Filters = append(in.Filters, sf)
	}
	in.Filters = append(in.Filters, tagFilters(f.Tags)...)
	var out []provider.Resource
	tokens := pageTokens{}
	p := ec2.NewDescribeVolumesPaginator(d.ec2, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		if err := tokens.next("DescribeVolumes", page.NextToken); err != nil {
			return nil, err
		}
		for _, v := range page.Volumes {
			out = append(out, d.volumeResource(v))
		}
	}
	return out, nil
}

// volumeStates returns the EBS volume states a provider state stands
// for (see volumeState). A volume available with an attachment shown,
// running, is left out of running's: a List by state may miss it while
// it is shown so, and never lists it stopped.
func volumeStates(s provider.State) []string {
	switch s {
	case provider.StatePending:
		return []string{string(ec2types.VolumeStateCreating)}
	case provider.StateRunning:
		return []string{string(ec2types.VolumeStateInUse), string(ec2types.VolumeStateError)}
	case provider.StateStopping:
		return []string{string(ec2types.VolumeStateDeleting)}
	case provider.StateStopped:
		return []string{string(ec2types.VolumeStateAvailable)}
	case provider.StateTerminated:
		return []string{string(ec2types.VolumeStateDeleted)}
	}
	return nil
}

// volumeState maps an EBS volume state: creating is pending; in-use
// (attached: it serves an instance) is running; available (detached: it
// serves nothing, and its storage is still billed) is stopped; deleting
// is stopping and deleted terminated. error (its underlying storage
// failed) is running: such a volume is not known to be detached (it may
// still be attached to an instance), and only a stopped volume is
// terminated for want of use, so that one in doubt is recommended less.
// An unknown state is running too, as an instance's is. A volume
// available but with an attachment shown (detaching) is not known to be
// detached either (its counts are not quiet, and Terminate refuses it:
// see detachedSince and terminateVolume): it is running, not stopped.
func volumeState(v ec2types.Volume) provider.State {
	if len(v.Attachments) > 0 {
		return provider.StateRunning
	}
	switch v.State {
	case ec2types.VolumeStateCreating:
		return provider.StatePending
	case ec2types.VolumeStateAvailable:
		return provider.StateStopped
	case ec2types.VolumeStateDeleting:
		return provider.StateStopping
	case ec2types.VolumeStateDeleted:
		return provider.StateTerminated
	}
	return provider.StateRunning
}

func (d *Driver) volumeResource(v ec2types.Volume) provider.Resource {
	tags := ec2Tags(v.Tags)
	r := provider.Resource{
		ID:         awssdk.ToString(v.VolumeId),
		Kind:       provider.KindVolume,
		State:      volumeState(v),
		LaunchTime: awssdk.ToTime(v.CreateTime).UTC(),
		HourlyCost: float64(awssdk.ToInt32(v.Size)) * d.cfg.VolumeMonthlyPrices[string(v.VolumeType)] / provider.HoursPerMonth,
	}
	return d.withTags(r, tags)
}

// describeVolume returns the volume id, or an error matching
// provider.ErrNotFound.
func (d *Driver) describeVolume(ctx context.Context, id string) (*ec2types.Volume, error) {
	out, err := d.ec2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{id}})
	if err != nil {
		return nil, err
	}
	for i := range out.Volumes {
		if awssdk.ToString(out.Volumes[i].VolumeId) == id {
			return &out.Volumes[i], nil
		}
	}
	return nil, fmt.Errorf("%w: no EBS volume %q", provider.ErrNotFound, id)
}

// detachedSince returns the CreateTime of volume t when existing
// described it detached (available): from then on its AWS/EBS counts
// without a datapoint are quiet (see the package doc, "Quiet counts").
// False when it is attached, in another state, or has no CreateTime.
func detachedSince(t target) (time.Time, bool) {
	v := t.volume
	if v == nil || v.State != ec2types.VolumeStateAvailable || len(v.Attachments) > 0 || v.CreateTime == nil {
		return time.Time{}, false
	}
	return v.CreateTime.UTC(), true
}

// attachedTo returns the instances volume v is attached to.
func attachedTo(v *ec2types.Volume) []string {
	var out []string
	for _, a := range v.Attachments {
		if id := awssdk.ToString(a.InstanceId); id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// terminateVolume is Terminate of volume t: DeleteVolume, then (unless
// Config.NoWait) the SDK's VolumeDeleted waiter. A deleted volume changes
// nothing, and a deleting one is waited for. A volume attached to an
// instance (in-use, or with any attachment), and one creating or in
// error, return provider.ErrConflict before any change: detached, it can
// be deleted. DeleteVolume answering not found after the volume was
// described available is a volume gone: deleted by an earlier attempt
// whose reply was lost, or by another client.
func (d *Driver) terminateVolume(ctx context.Context, id string, t target) error {
	v, err := d.describeVolume(ctx, t.id)
	if err != nil {
		return wrap("terminate", id, err)
	}
	switch {
	case v.State == ec2types.VolumeStateDeleted:
		return nil
	case v.State == ec2types.VolumeStateDeleting:
		if d.cfg.NoWait {
			return nil
		}
		return d.waitVolumeDeleted(ctx, id, t.id)
	case len(v.Attachments) > 0 || v.State == ec2types.VolumeStateInUse:
		on := "an instance"
		if ids := attachedTo(v); len(ids) > 0 {
			on = "instance " + strings.Join(ids, ", ")
		}
		return fmt.Errorf("aws: terminate %q: %w: the volume is attached to %s (state %s): detach it first", id, provider.ErrConflict, on, v.State)
	case v.State != ec2types.VolumeStateAvailable:
		return fmt.Errorf("aws: terminate %q: %w: the volume is %s, and only a detached (available) volume is deleted", id, provider.ErrConflict, v.State)
	}
	var at attempts
	if _, err := d.ec2.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: awssdk.String(t.id)}, at.ec2); err != nil {
		if !isNotFound(err) {
			return at.write("terminate", id, err)
		}
		d.log.InfoContext(ctx, "aws: volume already deleted", "id", id)
		return nil
	}
	d.log.InfoContext(ctx, "aws: deleted volume", "id", id)
	if d.cfg.NoWait {
		return nil
	}
	return d.waitVolumeDeleted(ctx, id, t.id)
}

// isNotFound reports whether err is AWS saying the resource does not
// exist.
func isNotFound(err error) bool {
	return errors.Is(sentinel(err), provider.ErrNotFound)
}

func (d *Driver) waitVolumeDeleted(ctx context.Context, id, vol string) error {
	err := ec2.NewVolumeDeletedWaiter(d.ec2, func(o *ec2.VolumeDeletedWaiterOptions) {
		o.MinDelay, o.MaxDelay = d.cfg.WaitMinDelay, d.cfg.WaitMaxDelay
	}).Wait(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{vol}}, d.cfg.WaitTimeout)
	return d.waitErr(ctx, "terminate", id, err)
}

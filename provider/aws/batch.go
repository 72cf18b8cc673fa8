package aws

import (
	"context"
	"fmt"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/idlescale/idlescale/provider"
)

var (
	_ provider.ResourceBatcher = (*Driver)(nil)
	_ provider.CapacityBatcher = (*Driver)(nil)
)

// The largest lookups of one describe call.
const (
	// instanceBatch is how many instance IDs one DescribeInstances call
	// filters on (EC2 takes up to 200 values per filter).
	instanceBatch = 200
	// groupBatch is how many names one DescribeAutoScalingGroups call
	// takes (Auto Scaling's limit).
	groupBatch = 50
)

// described is what a batch lookup found: instances by ID and groups by
// name, and, for the IDs and names whose describe call failed as a whole,
// that call's error.
type described struct {
	instances map[string]ec2types.Instance
	groups    map[string]*asgtypes.AutoScalingGroup
	failed    map[string]error
}

// describe looks up instances (IDs) and groups (names), each ID once,
// with one DescribeInstances call per instanceBatch IDs (a filter on
// instance-id, which leaves out an unknown ID instead of failing the
// call) and one DescribeAutoScalingGroups call per groupBatch names, every
// page read. A call that fails fails its IDs (in failed); the error is
// ctx's once ctx ends, and then nothing more is described.
func (d *Driver) describe(ctx context.Context, instances, groups []string) (*described, error) {
	out := &described{instances: map[string]ec2types.Instance{}, groups: map[string]*asgtypes.AutoScalingGroup{}, failed: map[string]error{}}
	instances, groups = unique(instances), unique(groups)
	for lo := 0; lo < len(instances); lo += instanceBatch {
		if err := ctxErr(ctx, "describe instances", ""); err != nil {
			return out, err
		}
		ids := instances[lo:min(lo+instanceBatch, len(instances))]
		pager := ec2.NewDescribeInstancesPaginator(d.ec2, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: awssdk.String("instance-id"), Values: ids}}})
		for pager.HasMorePages() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				for _, id := range ids {
					out.failed[id] = err
				}
				break
			}
			for _, r := range page.Reservations {
				for _, inst := range r.Instances {
					out.instances[awssdk.ToString(inst.InstanceId)] = inst
				}
			}
		}
	}
	for lo := 0; lo < len(groups); lo += groupBatch {
		if err := ctxErr(ctx, "describe groups", ""); err != nil {
			return out, err
		}
		names := groups[lo:min(lo+groupBatch, len(groups))]
		pager := autoscaling.NewDescribeAutoScalingGroupsPaginator(d.asg, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: names})
		for pager.HasMorePages() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				for _, n := range names {
					out.failed[n] = err
				}
				break
			}
			for i := range page.AutoScalingGroups {
				g := &page.AutoScalingGroups[i]
				out.groups[awssdk.ToString(g.AutoScalingGroupName)] = g
			}
		}
	}
	return out, ctxErr(ctx, "describe", "")
}

// unique returns ids without repeats, in their first order.
func unique(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// batchTargets classifies ids for a batch read: each one's target (from
// its form alone), whether a group lookup by name is needed (a plain name
// or a group ARN), and its error when it is invalid. It returns the
// instance IDs and group names to describe.
func batchTargets(op string, ids []string) (targets []target, byName []bool, errs []error, instances, groups []string) {
	targets, byName, errs = make([]target, len(ids)), make([]bool, len(ids)), make([]error, len(ids))
	for i, id := range ids {
		if err := provider.ValidateID(id); err != nil {
			errs[i] = fmt.Errorf("aws: %s: %w", op, err)
			continue
		}
		t, ok, err := classify(id)
		switch {
		case err != nil:
			errs[i] = fmt.Errorf("aws: %s: %w", op, err)
		case !ok: // a plain name: a group, else a function
			byName[i], t = true, target{kind: provider.KindGroup, id: id, name: id}
			groups = append(groups, id)
		case t.kind == provider.KindInstance:
			instances = append(instances, t.id)
		case t.kind == provider.KindGroup:
			byName[i] = true
			groups = append(groups, t.name)
		}
		targets[i] = t
	}
	return targets, byName, errs, instances, groups
}

// GetResources implements provider.ResourceBatcher: every read is
// answered as Get answers it, with one DescribeInstances call per 200
// instances and one DescribeAutoScalingGroups call per 50 groups. Plain
// names that are not groups, and function ARNs, are looked up one by one
// as Get does. A describe call that fails fails its reads; once ctx ends,
// the reads not answered carry its error, which GetResources returns.
func (d *Driver) GetResources(ctx context.Context, reads []provider.ResourceRead) error {
	if len(reads) == 0 {
		return nil
	}
	ids := make([]string, len(reads))
	for i := range reads {
		ids[i] = reads[i].ID
		reads[i].Resource, reads[i].Err = provider.Resource{}, nil
	}
	targets, byName, errs, instances, groups := batchTargets("get", ids)
	desc, err := d.describe(ctx, instances, groups)
	if err != nil {
		err = d.red.Error(err)
		for i := range reads {
			reads[i].Err = err
		}
		return err
	}
	for i := range reads {
		r, t := &reads[i], targets[i]
		switch {
		case errs[i] != nil:
			r.Err = errs[i]
		case t.kind == provider.KindInstance:
			inst, found := desc.instances[t.id]
			switch {
			case desc.failed[t.id] != nil:
				r.Err = wrap("get", r.ID, desc.failed[t.id])
			case !found:
				r.Err = wrap("get", r.ID, fmt.Errorf("%w: no EC2 instance %q", provider.ErrNotFound, t.id))
			default:
				r.Resource = d.instanceResource(inst)
			}
		case byName[i] && desc.failed[t.name] != nil:
			r.Err = wrap("get", r.ID, desc.failed[t.name])
		case byName[i] && desc.groups[t.name] != nil:
			r.Resource = d.groupResource(desc.groups[t.name])
		case byName[i] && t.id != r.ID: // a group ARN naming no group
			r.Err = wrap("get", r.ID, fmt.Errorf("%w: no Auto Scaling group %q", provider.ErrNotFound, t.name))
		default: // a function, a name that is no group, a metrics-only ARN
			if err := ctxErr(ctx, "get", ""); err != nil {
				return d.failFrom(reads, i, err)
			}
			r.Resource, r.Err = d.Get(ctx, r.ID)
		}
		r.Err = d.red.Error(r.Err)
	}
	return nil
}

// failFrom fails reads[from:] with err, which it returns.
func (d *Driver) failFrom(reads []provider.ResourceRead, from int, err error) error {
	err = d.red.Error(err)
	for i := from; i < len(reads); i++ {
		reads[i].Resource, reads[i].Err = provider.Resource{}, err
	}
	return err
}

// GetCapacities implements provider.CapacityBatcher: every read is
// answered as Capacity answers it, with one DescribeAutoScalingGroups
// call per 50 groups; instances fail with provider.ErrUnsupported without
// a call, and a plain name that is no group is looked up as Capacity
// does. A describe call that fails fails its reads; once ctx ends, the
// reads not answered carry its error, which GetCapacities returns.
func (d *Driver) GetCapacities(ctx context.Context, reads []provider.CapacityRead) error {
	if len(reads) == 0 {
		return nil
	}
	ids := make([]string, len(reads))
	for i := range reads {
		ids[i] = reads[i].ID
		reads[i].Capacity, reads[i].Err = provider.Capacity{}, nil
	}
	targets, byName, errs, _, groups := batchTargets("capacity", ids)
	desc, err := d.describe(ctx, nil, groups)
	if err != nil {
		err = d.red.Error(err)
		for i := range reads {
			reads[i].Err = err
		}
		return err
	}
	for i := range reads {
		r, t := &reads[i], targets[i]
		switch {
		case errs[i] != nil:
			r.Err = errs[i]
		case byName[i] && desc.failed[t.name] != nil:
			r.Err = wrap("capacity", r.ID, desc.failed[t.name])
		case byName[i] && desc.groups[t.name] != nil:
			r.Capacity = groupCapacity(desc.groups[t.name])
		case byName[i] && t.id != r.ID: // a group ARN naming no group
			r.Err = wrap("capacity", r.ID, fmt.Errorf("%w: no Auto Scaling group %q", provider.ErrNotFound, t.name))
		case !byName[i]: // an instance, a function, a metrics-only ARN
			r.Err = fmt.Errorf("aws: capacity %q: %w: a %s is not an Auto Scaling group", r.ID, provider.ErrUnsupported, t.kind)
		default: // a name that is no group: a function, or nothing
			if err := ctx.Err(); err != nil {
				err = d.red.Error(wrap("capacity", "", err))
				for j := i; j < len(reads); j++ {
					reads[j].Capacity, reads[j].Err = provider.Capacity{}, err
				}
				return err
			}
			r.Capacity, r.Err = d.Capacity(ctx, r.ID)
		}
		r.Err = d.red.Error(r.Err)
	}
	return nil
}

package aws

import (
	"context"
	"fmt"
	"maps"
	"slices"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

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
	// volumeBatch is how many volume IDs one DescribeVolumes call
	// filters on (EC2 takes up to 200 values per filter).
	volumeBatch = 200
)

// described is what a batch lookup found: instances and volumes by ID
// and groups by name, and, for the IDs and names whose describe call
// failed as a whole, that call's error.
type described struct {
	instances map[string]ec2types.Instance
	volumes   map[string]*ec2types.Volume
	groups    map[string]*asgtypes.AutoScalingGroup
	failed    map[string]error
}

// describe looks up instances and volumes (IDs) and groups (names), each
// ID once, with one DescribeInstances call per instanceBatch IDs (a
// filter on instance-id, which leaves out an unknown ID instead of
// failing the call), one DescribeVolumes call per volumeBatch IDs (a
// filter on volume-id, likewise) and one DescribeAutoScalingGroups call
// per groupBatch names, every page read. A call that fails fails its IDs
// (in failed); the error is ctx's once ctx ends, and then nothing more is
// described.
func (d *Driver) describe(ctx context.Context, instances, volumes, groups []string) (*described, error) {
	out := &described{instances: map[string]ec2types.Instance{}, volumes: map[string]*ec2types.Volume{},
		groups: map[string]*asgtypes.AutoScalingGroup{}, failed: map[string]error{}}
	instances, volumes, groups = unique(instances), unique(volumes), unique(groups)
	err := out.inChunks(ctx, "describe instances", instances, instanceBatch, func(ids []string) error {
		tokens := pageTokens{}
		pager := ec2.NewDescribeInstancesPaginator(d.ec2, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: awssdk.String("instance-id"), Values: ids}}})
		for pager.HasMorePages() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				return err
			}
			if err := tokens.next("DescribeInstances", page.NextToken); err != nil {
				return err
			}
			for _, r := range page.Reservations {
				for _, inst := range r.Instances {
					out.instances[awssdk.ToString(inst.InstanceId)] = inst
				}
			}
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	err = out.inChunks(ctx, "describe volumes", volumes, volumeBatch, func(ids []string) error {
		tokens := pageTokens{}
		pager := ec2.NewDescribeVolumesPaginator(d.ec2, &ec2.DescribeVolumesInput{Filters: []ec2types.Filter{{Name: awssdk.String("volume-id"), Values: ids}}})
		for pager.HasMorePages() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				return err
			}
			if err := tokens.next("DescribeVolumes", page.NextToken); err != nil {
				return err
			}
			for i := range page.Volumes {
				out.volumes[awssdk.ToString(page.Volumes[i].VolumeId)] = &page.Volumes[i]
			}
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	err = out.inChunks(ctx, "describe groups", groups, groupBatch, func(names []string) error {
		tokens := pageTokens{}
		pager := autoscaling.NewDescribeAutoScalingGroupsPaginator(d.asg, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: names})
		for pager.HasMorePages() {
			page, err := pager.NextPage(ctx)
			if err != nil {
				return err
			}
			if err := tokens.next("DescribeAutoScalingGroups", page.NextToken); err != nil {
				return err
			}
			for i := range page.AutoScalingGroups {
				out.groups[awssdk.ToString(page.AutoScalingGroups[i].AutoScalingGroupName)] = &page.AutoScalingGroups[i]
			}
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	return out, ctxErr(ctx, "describe", "")
}

// inChunks describes ids size at a time with describe, while ctx lasts
// (then it returns ctx's error, op naming what was described): a chunk
// whose describe fails fails its IDs (in failed), with that error.
func (out *described) inChunks(ctx context.Context, op string, ids []string, size int, describe func(chunk []string) error) error {
	for chunk := range slices.Chunk(ids, size) {
		if err := ctxErr(ctx, op, ""); err != nil {
			return err
		}
		if err := describe(chunk); err != nil {
			for _, id := range chunk {
				out.failed[id] = err
			}
		}
	}
	return nil
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
// or a group ARN), and its error when it is invalid or an ARN of another
// region (see Driver.classify). It returns the
// instance and volume IDs and group names to describe.
func (d *Driver) batchTargets(ctx context.Context, op string, ids []string) (targets []target, byName []bool, errs []error, instances, volumes, groups []string) {
	targets, byName, errs = make([]target, len(ids)), make([]bool, len(ids)), make([]error, len(ids))
	// The driver's account, asked once for the batch: a lookup that
	// fails fails its every ARN without a call (and retries) for each.
	var (
		account    string
		accountErr error
		looked     bool
	)
	lookup := func() (string, error) {
		if !looked {
			account, accountErr = d.accountID(ctx)
			looked = true
		}
		return account, accountErr
	}
	for i, id := range ids {
		if err := provider.ValidateID(id); err != nil {
			errs[i] = fmt.Errorf("aws: %s: %w", op, err)
			continue
		}
		t, ok, err := d.classifyIn(id, lookup)
		switch {
		case err != nil:
			errs[i] = fmt.Errorf("aws: %s: %w", op, err)
		case !ok: // a plain name: a group, else a function
			byName[i], t = true, target{kind: provider.KindGroup, id: id, name: id}
			groups = append(groups, id)
		case t.kind == provider.KindInstance:
			instances = append(instances, t.id)
		case t.kind == provider.KindVolume:
			volumes = append(volumes, t.id)
		case t.kind == provider.KindGroup:
			byName[i] = true
			groups = append(groups, t.name)
		}
		targets[i] = t
	}
	return targets, byName, errs, instances, volumes, groups
}

// lookedUp is a batch read's IDs classified by batchTargets and
// described.
type lookedUp struct {
	targets []target
	byName  []bool  // looked up as a group by name
	errs    []error // an invalid ID's error
	desc    *described
	// scaledBy is the groups' ScaledBy by name (Driver.scaledBy) when
	// looked up with policies, or policyErr the error that fails every
	// group's read.
	scaledBy  map[string]string
	policyErr error
}

// lookUp classifies ids and describes their instances and volumes
// (unless !ec2) and groups, and with policies, when it found a group,
// reads the found groups' scaling policies (Driver.scaledBy: group by
// group when they are few, else the region's). The error, redacted, is
// ctx's once it ends.
func (d *Driver) lookUp(ctx context.Context, op string, ids []string, ec2, policies bool) (*lookedUp, error) {
	targets, byName, errs, insts, vols, groups := d.batchTargets(ctx, op, ids)
	if !ec2 {
		insts, vols = nil, nil
	}
	desc, err := d.describe(ctx, insts, vols, groups)
	if err != nil {
		return nil, d.red.Error(err)
	}
	l := &lookedUp{targets: targets, byName: byName, errs: errs, desc: desc}
	if policies && len(desc.groups) > 0 {
		l.scaledBy, l.policyErr = d.scaledBy(ctx, slices.Collect(maps.Keys(desc.groups)))
		if err := ctxErr(ctx, "describe scaling policies", ""); err != nil {
			return nil, d.red.Error(err)
		}
	}
	return l, nil
}

// group answers the i-th ID (id) from the lookup when it names a group:
// the group, or its describe call's error, or provider.ErrNotFound for a
// group ARN that names no group. ok is false when the lookup cannot
// answer: the ID is not looked up as a group, or it is a plain name that
// is no group (a function, or nothing: ask the single call).
func (l *lookedUp) group(op string, i int, id string) (g *asgtypes.AutoScalingGroup, ok bool, err error) {
	t := l.targets[i]
	switch {
	case !l.byName[i]:
		return nil, false, nil
	case l.desc.failed[t.name] != nil:
		return nil, true, wrap(op, id, l.desc.failed[t.name])
	case l.desc.groups[t.name] != nil:
		if err := checkGroup(t, l.desc.groups[t.name]); err != nil {
			return nil, true, wrap(op, id, err)
		}
		return l.desc.groups[t.name], true, nil
	case t.id != id: // a group ARN naming no group
		return nil, true, wrap(op, id, fmt.Errorf("%w: no Auto Scaling group %q", provider.ErrNotFound, t.name))
	}
	return nil, false, nil
}

// volume answers the i-th ID (id), a volume ID or ARN, from the lookup.
func (l *lookedUp) volume(op string, i int, id string) (*ec2types.Volume, error) {
	t := l.targets[i]
	v, found := l.desc.volumes[t.id]
	switch {
	case l.desc.failed[t.id] != nil:
		return nil, wrap(op, id, l.desc.failed[t.id])
	case !found:
		return nil, wrap(op, id, fmt.Errorf("%w: no EBS volume %q", provider.ErrNotFound, t.id))
	}
	return v, nil
}

// instance answers the i-th ID (id), an instance ID, from the lookup.
func (l *lookedUp) instance(op string, i int, id string) (ec2types.Instance, error) {
	t := l.targets[i]
	inst, found := l.desc.instances[t.id]
	switch {
	case l.desc.failed[t.id] != nil:
		return inst, wrap(op, id, l.desc.failed[t.id])
	case !found:
		return inst, wrap(op, id, fmt.Errorf("%w: no EC2 instance %q", provider.ErrNotFound, t.id))
	}
	return inst, nil
}

// answerAll is the frame of GetResources and GetCapacities: it resets
// every read (fail with nil), looks their IDs up (their instances too
// when instances, the scaling policies when policies), fails a read whose
// ID is invalid, and calls answer for each other one; when answer cannot
// answer from the lookup, single asks the single call, unless ctx has
// ended: then that read and those after it carry ctx's error, which
// answerAll returns, as it returns the lookup's.
func answerAll[R any](ctx context.Context, d *Driver, op string, reads []R, ec2, policies bool, id func(*R) string,
	fail func(*R, error), answer func(l *lookedUp, i int, r *R) bool, single func(*R),
) error {
	if len(reads) == 0 {
		return nil
	}
	ids := make([]string, len(reads))
	for i := range reads {
		ids[i] = id(&reads[i])
		fail(&reads[i], nil)
	}
	failFrom := func(from int, err error) error {
		for i := from; i < len(reads); i++ {
			fail(&reads[i], err)
		}
		return err
	}
	l, err := d.lookUp(ctx, op, ids, ec2, policies)
	if err != nil {
		return failFrom(0, err)
	}
	for i := range reads {
		r := &reads[i]
		switch {
		case l.errs[i] != nil:
			fail(r, l.errs[i])
		case answer(l, i, r):
		default:
			if err := ctxErr(ctx, op, ""); err != nil {
				return failFrom(i, d.red.Error(err))
			}
			single(r)
		}
	}
	return nil
}

// GetResources implements provider.ResourceBatcher: every read is
// answered as Get answers it, with one DescribeInstances call per 200
// instances, one DescribeVolumes call per 200 volumes and one
// DescribeAutoScalingGroups call per 50 groups, and,
// when a group is found, the found groups' scaling policies (their
// ScaledBy): one DescribePolicies call per group when they are few (up to
// 10 at Auto Scaling's default page size), else one DescribePolicies
// sequence for the region's; a call that fails fails every group's read.
// Plain names that are not groups, and function and load balancer ARNs,
// are looked up one by one as Get does. A describe call that fails fails
// its reads; once ctx ends, the reads not answered carry its error, which
// GetResources returns.
func (d *Driver) GetResources(ctx context.Context, reads []provider.ResourceRead) error {
	return answerAll(ctx, d, "get", reads, true, true,
		func(r *provider.ResourceRead) string { return r.ID },
		func(r *provider.ResourceRead, err error) { r.Resource, r.Err = provider.Resource{}, err },
		func(l *lookedUp, i int, r *provider.ResourceRead) bool {
			switch l.targets[i].kind {
			case provider.KindInstance:
				inst, err := l.instance("get", i, r.ID)
				if r.Err = d.red.Error(err); err == nil {
					r.Resource = d.instanceResource(inst)
				}
				return true
			case provider.KindVolume:
				v, err := l.volume("get", i, r.ID)
				if r.Err = d.red.Error(err); err == nil {
					r.Resource = d.volumeResource(*v)
				}
				return true
			}
			g, ok, err := l.group("get", i, r.ID)
			switch {
			case ok && err != nil:
				r.Err = d.red.Error(err)
			case ok && l.policyErr != nil:
				r.Err = d.red.Error(wrap("get", r.ID, l.policyErr))
			case ok:
				r.Resource = d.groupResource(g)
				r.Resource.ScaledBy = l.scaledBy[r.Resource.ID]
			}
			return ok // else a function, a name that is no group, a load balancer, an RDS ARN
		},
		func(r *provider.ResourceRead) { r.Resource, r.Err = d.Get(ctx, r.ID) })
}

// GetCapacities implements provider.CapacityBatcher: every read is
// answered as Capacity answers it, with one DescribeAutoScalingGroups
// call per 50 groups; instances fail with provider.ErrUnsupported without
// a call, and a plain name that is no group is looked up as Capacity
// does. A describe call that fails fails its reads; once ctx ends, the
// reads not answered carry its error, which GetCapacities returns.
func (d *Driver) GetCapacities(ctx context.Context, reads []provider.CapacityRead) error {
	return answerAll(ctx, d, "capacity", reads, false, false,
		func(r *provider.CapacityRead) string { return r.ID },
		func(r *provider.CapacityRead, err error) { r.Capacity, r.Err = provider.Capacity{}, err },
		func(l *lookedUp, i int, r *provider.CapacityRead) bool {
			g, ok, err := l.group("capacity", i, r.ID)
			switch {
			case ok && err != nil:
				r.Err = d.red.Error(err)
			case ok:
				r.Capacity, r.Err = groupCapacity(g)
				r.Err = d.red.Error(r.Err)
			case !l.byName[i]: // an instance, a function, a load balancer, an RDS ARN
				r.Err = fmt.Errorf("aws: capacity %q: %w: a %s is not an Auto Scaling group", r.ID, provider.ErrUnsupported, l.targets[i].kind)
				return true
			}
			return ok // else a name that is no group: a function, or nothing
		},
		func(r *provider.CapacityRead) { r.Capacity, r.Err = d.Capacity(ctx, r.ID) })
}

// loadBalancerBatch is how many load balancers one ELBv2
// DescribeLoadBalancers call names (its limit).
const loadBalancerBatch = 20

// bisectAbove is the largest number of load balancers that a
// DescribeLoadBalancers or DescribeTags call refused for one among them
// (bisect) asks again one by one rather than in halves:
// halving costs two calls a level, which pays only above it.
const bisectAbove = 3

// listed is what a batch read found of its load balancers in few calls
// (Driver.describeLoadBalancersOf): an ID it does not answer is looked
// up alone, as the single call looks it up. Functions are not listed:
// ListFunctions, which IAM grants on no resource, cannot answer a
// function as GetFunction does, which it grants function by function (a
// role may list a function it may not get, and Activity then fails).
type listed struct {
	// loadBalancers are the load balancers described, by ARN, and
	// lbErrs the load balancers whose describe call failed otherwise
	// than not found, with that call's error.
	loadBalancers map[string]*elbtypes.LoadBalancer
	lbErrs        map[string]error
	// refused are the load balancers that ELBv2 refused when asked
	// alone (not found, or an ARN it takes as none), with its error:
	// the answer the single lookup's describe, the same call, gives.
	refused map[string]error
}

// describeBatchLoadBalancers describes the load balancers the lookup l of ids
// names 20 at a time (describeLoadBalancersOf).
func (d *Driver) describeBatchLoadBalancers(ctx context.Context, op string, l *lookedUp, ids []string) *listed {
	var lbs []string
	for k := range ids {
		if l.errs[k] == nil && l.targets[k].kind == provider.KindLoadBalancer {
			lbs = append(lbs, l.targets[k].id)
		}
	}
	return d.describeLoadBalancersOf(ctx, unique(lbs))
}

// describeLoadBalancersOf describes the load balancers arns (each once)
// loadBalancerBatch at a time. DescribeLoadBalancers fails a whole call
// for one load balancer it does not know, or one ARN it refuses
// (ValidationError): such a call's load balancers are asked again in
// halves, the half refused again in halves, and so on, so that one
// unknown among 20 costs about ten calls, not 21; a call of bisectAbove
// or fewer, or one whose halves are both refused (more than one unknown
// among them), is asked one by one, which bounds a call of n load
// balancers at n+3 calls. A load balancer refused alone is in refused.
// One that a call did not answer is left to the single lookup, which
// fails it alone. A call that fails otherwise (no permission,
// throttled) gives its load balancers that error in lbErrs, which the
// single lookup's describe would have given each (existing: the load
// balancer is then not dated), unless ctx ended.
func (d *Driver) describeLoadBalancersOf(ctx context.Context, arns []string) *listed {
	out := &listed{loadBalancers: map[string]*elbtypes.LoadBalancer{}, lbErrs: map[string]error{}, refused: map[string]error{}}
	// ask describes chunk and reports whether ELBv2 refused it.
	ask := func(chunk []string) bool {
		if ctx.Err() != nil {
			return false
		}
		res, err := d.elb.DescribeLoadBalancers(ctx, &elasticloadbalancingv2.DescribeLoadBalancersInput{LoadBalancerArns: chunk})
		switch {
		case err != nil && ctx.Err() != nil:
			return false
		case err != nil && refusedARN(err):
			if len(chunk) == 1 {
				out.refused[chunk[0]] = err
			}
			return true
		case err != nil:
			for _, arn := range chunk {
				out.lbErrs[arn] = err
			}
			return false
		}
		for i := range res.LoadBalancers {
			if arn := awssdk.ToString(res.LoadBalancers[i].LoadBalancerArn); slices.Contains(chunk, arn) {
				out.loadBalancers[arn] = &res.LoadBalancers[i]
			}
		}
		return false
	}
	for chunk := range slices.Chunk(arns, loadBalancerBatch) {
		if ask(chunk) {
			bisect(chunk, ask)
		}
	}
	return out
}

// bisect asks again, with ask, the load balancers of chunk, a call that
// ELBv2 refused for one among them it does not know (it fails a whole
// call so): in halves, the refused half in halves again, and one by one
// when bisectAbove or fewer, or when both halves are refused (more than
// one unknown among them), so that one unknown among n costs about
// 2·log2(n) calls more and several at most n+2. ask reports whether ELBv2
// refused the call; a load balancer refused alone is known unknown.
func bisect(chunk []string, ask func(arns []string) bool) {
	oneByOne := func(chunk []string) {
		if len(chunk) == 1 {
			return // asked alone already
		}
		for _, arn := range chunk {
			ask([]string{arn})
		}
	}
	if len(chunk) <= bisectAbove {
		oneByOne(chunk)
		return
	}
	lo, hi := chunk[:len(chunk)/2], chunk[len(chunk)/2:]
	loRefused, hiRefused := ask(lo), ask(hi)
	switch {
	case loRefused && hiRefused:
		oneByOne(lo)
		oneByOne(hi)
	case loRefused:
		bisect(lo, ask)
	case hiRefused:
		bisect(hi, ask)
	}
}

// target answers the k-th ID (id) of the lookup l from what was listed:
// the load balancer with what its single lookup (existing) would have
// fetched, or the error it would have failed with, and ok false when the
// single lookup must answer.
func (s *listed) target(ctx context.Context, d *Driver, op string, l *lookedUp, k int, id string) (_ target, ok bool, _ error) {
	t := l.targets[k]
	if l.errs[k] != nil || t.kind != provider.KindLoadBalancer {
		return target{}, false, nil
	}
	if lb, ok := s.loadBalancers[t.id]; ok {
		t.loadBalancer = lb
		return t, true, nil
	}
	if err, ok := s.refused[t.id]; ok {
		return target{}, true, wrap(op, id, err)
	}
	if err, ok := s.lbErrs[t.id]; ok {
		d.undatedLoadBalancer(ctx, op, t.id, err)
		return t, true, nil
	}
	return target{}, false, nil
}

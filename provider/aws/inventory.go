package aws

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"golang.org/x/sync/errgroup"

	"github.com/idlescale/idlescale/provider"
)

// List implements provider.Inventory: the EC2 instances, EBS volumes,
// Auto Scaling groups, Lambda functions and Application Load Balancers
// matching f, sorted by ID. Kinds, states, instance and volume IDs and
// tags are pushed down to EC2's filters (IDs in batches of 200 instances,
// 200 volumes and 50 groups, the APIs' limits); everything is checked
// again with f.Match. A kind f does not
// ask for, by its Kinds or by IDs that all name other kinds, is not
// listed, and its service not called. Every page of every list is read.
// When a group matches, the matching groups' scaling policies are read
// too, for their ScaledBy (see the package doc). Network and gateway load
// balancers are not listed (see the package doc). When f asks for load
// balancers by neither its Kinds nor an ARN, and ELBv2's
// DescribeLoadBalancers is denied (no elasticloadbalancing permission),
// load balancers are left out with a warning in the log, and the other
// kinds listed; so are volumes when EC2's DescribeVolumes is denied and
// f asks for them by neither its Kinds nor a volume ID. An invalid filter
// returns provider.ErrInvalid before any API call.
func (d *Driver) List(ctx context.Context, f provider.Filter) (_ []provider.Resource, err error) {
	defer d.red.Errorp(&err)
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("aws: list: %w", err)
	}
	if err := ctxErr(ctx, "list", ""); err != nil {
		return nil, err
	}
	if f.Region != "" && f.Region != d.region {
		return []provider.Resource{}, nil
	}
	want := func(k provider.Kind) bool { return len(f.Kinds) == 0 || slices.Contains(f.Kinds, k) }
	var idInstances, idFunctions, idGroups, idLoadBalancers, idVolumes bool
	for _, id := range f.IDs {
		t, ok, _ := classify(id)
		switch {
		case ok && t.kind == provider.KindInstance:
			idInstances = true
		case ok && t.kind == provider.KindFunction:
			idFunctions = true
		case ok && t.kind == provider.KindLoadBalancer:
			idLoadBalancers = true
		case ok && t.kind == provider.KindVolume:
			idVolumes = true
		case ok && t.kind == provider.KindGroup, !ok:
			idGroups = true
		}
	}
	anyID := len(f.IDs) == 0
	var out []provider.Resource
	if want(provider.KindInstance) && (anyID || idInstances) {
		rs, err := d.listInstances(ctx, f)
		if err != nil {
			return nil, wrap("list instances", "", err)
		}
		out = append(out, rs...)
	}
	if want(provider.KindGroup) && (anyID || idGroups) {
		rs, err := d.listGroups(ctx, f)
		if err == nil {
			// The listed groups' scaling policies, when a group is listed.
			rs = slices.DeleteFunc(rs, func(r provider.Resource) bool { return !f.Match(r) })
			err = d.withScaledBy(ctx, rs)
		}
		if err != nil {
			return nil, wrap("list groups", "", err)
		}
		out = append(out, rs...)
	}
	if want(provider.KindFunction) && (anyID || idFunctions) {
		rs, err := d.listFunctions(ctx, f)
		if err != nil {
			return nil, wrap("list functions", "", err)
		}
		out = append(out, rs...)
	}
	if want(provider.KindLoadBalancer) && (anyID || idLoadBalancers) {
		// Load balancers asked for by neither Kinds nor an ARN are
		// skipped when ELBv2 is denied: a host without the permission
		// listed the other kinds before the driver listed load balancers.
		asked := idLoadBalancers || slices.Contains(f.Kinds, provider.KindLoadBalancer)
		rs, err := d.listLoadBalancers(ctx, f, !asked)
		if err != nil {
			return nil, wrap("list load balancers", "", err)
		}
		out = append(out, rs...)
	}
	if want(provider.KindVolume) && (anyID || idVolumes) {
		// Volumes asked for by neither Kinds nor an ID are skipped when
		// ec2:DescribeVolumes is denied, as load balancers are.
		asked := idVolumes || slices.Contains(f.Kinds, provider.KindVolume)
		rs, err := d.listVolumes(ctx, f, !asked)
		if err != nil {
			return nil, wrap("list volumes", "", err)
		}
		out = append(out, rs...)
	}
	out = slices.DeleteFunc(out, func(r provider.Resource) bool { return !f.Match(r) })
	slices.SortFunc(out, func(a, b provider.Resource) int { return strings.Compare(a.ID, b.ID) })
	if out == nil {
		out = []provider.Resource{}
	}
	return out, nil
}

// Get implements provider.Inventory for instance and volume IDs and ARNs,
// group names, function names and ARNs, and Application Load Balancer
// ARNs; a group's ScaledBy
// is read from its scaling policies (see the package doc). Unknown IDs
// return provider.ErrNotFound; RDS ARNs and network and gateway load
// balancers (which the driver only reads metrics of) return
// provider.ErrUnsupported.
func (d *Driver) Get(ctx context.Context, id string) (_ provider.Resource, err error) {
	defer d.red.Errorp(&err)
	t, err := d.resolve(ctx, "get", id)
	if err != nil {
		return provider.Resource{}, err
	}
	switch t.kind {
	case provider.KindInstance:
		inst, err := d.describeInstance(ctx, t.id)
		if err != nil {
			return provider.Resource{}, wrap("get", id, err)
		}
		return d.instanceResource(inst), nil
	case provider.KindGroup:
		g, err := d.targetGroup(ctx, t)
		if err != nil {
			return provider.Resource{}, wrap("get", id, err)
		}
		r := []provider.Resource{d.groupResource(g)}
		if err := d.withScaledBy(ctx, r); err != nil {
			return provider.Resource{}, wrap("get", id, err)
		}
		return r[0], nil
	case provider.KindFunction:
		out := t.function
		if out == nil {
			if out, err = d.lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: &t.id}); err != nil {
				return provider.Resource{}, wrap("get", id, err)
			}
		}
		if out.Configuration == nil {
			return provider.Resource{}, fmt.Errorf("aws: get %q: GetFunction returned no configuration", id)
		}
		return d.functionResource(*out.Configuration, out.Tags), nil
	case provider.KindLoadBalancer:
		r, err := d.getLoadBalancer(ctx, t)
		if err != nil {
			return provider.Resource{}, wrap("get", id, err)
		}
		return r, nil
	case provider.KindVolume:
		v, err := d.describeVolume(ctx, t.id)
		if err != nil {
			return provider.Resource{}, wrap("get", id, err)
		}
		return d.volumeResource(*v), nil
	}
	return provider.Resource{}, fmt.Errorf("aws: get %q: %w: the driver does not inventory %s resources", id, provider.ErrUnsupported, t.kind)
}

// describeInstance returns one instance, or an error matching
// provider.ErrNotFound.
func (d *Driver) describeInstance(ctx context.Context, id string) (ec2types.Instance, error) {
	out, err := d.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		return ec2types.Instance{}, err
	}
	for _, r := range out.Reservations {
		for _, inst := range r.Instances {
			if awssdk.ToString(inst.InstanceId) == id {
				return inst, nil
			}
		}
	}
	return ec2types.Instance{}, fmt.Errorf("%w: no EC2 instance %q", provider.ErrNotFound, id)
}

func (d *Driver) listInstances(ctx context.Context, f provider.Filter) ([]provider.Resource, error) {
	return byFilterIDs(f, provider.KindInstance, instanceBatch, func(ids []string) ([]provider.Resource, error) {
		return d.describeInstances(ctx, f, ids)
	})
}

// byFilterIDs lists, with describe, the resources of kind f selects:
// when f names IDs of that kind, those only, each once, size to a call
// (EC2 takes up to 200 values per filter), so that none is listed twice;
// otherwise describe lists all of them (ids nil).
func byFilterIDs(f provider.Filter, kind provider.Kind, size int, describe func(ids []string) ([]provider.Resource, error)) ([]provider.Resource, error) {
	var ids []string
	for _, id := range f.IDs {
		if t, ok, _ := classify(id); ok && t.kind == kind {
			ids = append(ids, t.id)
		}
	}
	if len(ids) == 0 {
		return describe(nil)
	}
	return inBatches(unique(ids), size, describe)
}

// inBatches calls list with ids in batches of at most size and joins
// what it returns; the first error ends it.
func inBatches(ids []string, size int, list func([]string) ([]provider.Resource, error)) ([]provider.Resource, error) {
	var out []provider.Resource
	for batch := range slices.Chunk(ids, size) {
		rs, err := list(batch)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

// describeInstances lists the instances f selects, every page, among ids
// when there are any.
func (d *Driver) describeInstances(ctx context.Context, f provider.Filter, ids []string) ([]provider.Resource, error) {
	in := &ec2.DescribeInstancesInput{MaxResults: d.pageSize(1000)}
	if len(ids) > 0 {
		// A filter, not InstanceIds: unknown IDs must match nothing, not fail.
		in.Filters = append(in.Filters, ec2types.Filter{Name: awssdk.String("instance-id"), Values: ids})
	}
	if len(f.States) > 0 {
		sf, _ := stateFilter("instance-state-name", f.States, ec2States) // every state has a name
		in.Filters = append(in.Filters, sf)
	}
	if len(f.InstanceTypes) > 0 {
		in.Filters = append(in.Filters, ec2types.Filter{Name: awssdk.String("instance-type"), Values: f.InstanceTypes})
	}
	in.Filters = append(in.Filters, tagFilters(f.Tags)...)
	var out []provider.Resource
	tokens := pageTokens{}
	p := ec2.NewDescribeInstancesPaginator(d.ec2, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		if err := tokens.next("DescribeInstances", page.NextToken); err != nil {
			return nil, err
		}
		for _, r := range page.Reservations {
			for _, inst := range r.Instances {
				out = append(out, d.instanceResource(inst))
			}
		}
	}
	return out, nil
}

func (d *Driver) listGroups(ctx context.Context, f provider.Filter) ([]provider.Resource, error) {
	var names []string
	for _, id := range f.IDs {
		if t, ok, _ := classify(id); !ok || t.kind == provider.KindGroup {
			name := id
			if ok {
				name = t.name
			}
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return d.describeGroups(ctx, nil)
	}
	// DescribeAutoScalingGroups takes up to groupBatch names: one list per
	// batch (each name once, so that no group is listed twice).
	return inBatches(unique(names), groupBatch, func(batch []string) ([]provider.Resource, error) {
		return d.describeGroups(ctx, batch)
	})
}

// describeGroups lists the groups named, every page, or every group when
// names is empty.
func (d *Driver) describeGroups(ctx context.Context, names []string) ([]provider.Resource, error) {
	in := &autoscaling.DescribeAutoScalingGroupsInput{MaxRecords: d.pageSize(100), AutoScalingGroupNames: names}
	var out []provider.Resource
	tokens := pageTokens{}
	p := autoscaling.NewDescribeAutoScalingGroupsPaginator(d.asg, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		if err := tokens.next("DescribeAutoScalingGroups", page.NextToken); err != nil {
			return nil, err
		}
		for i := range page.AutoScalingGroups {
			out = append(out, d.groupResource(&page.AutoScalingGroups[i]))
		}
	}
	return out, nil
}

func (d *Driver) listFunctions(ctx context.Context, f provider.Filter) ([]provider.Resource, error) {
	var fns []lambdatypes.FunctionConfiguration
	tokens := pageTokens{}
	p := lambda.NewListFunctionsPaginator(d.lambda, &lambda.ListFunctionsInput{MaxItems: d.pageSize(50)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		if err := tokens.next("ListFunctions", page.NextMarker); err != nil {
			return nil, err
		}
		fns = append(fns, page.Functions...)
	}
	if len(f.IDs) > 0 {
		fns = slices.DeleteFunc(fns, func(fn lambdatypes.FunctionConfiguration) bool {
			return !slices.Contains(f.IDs, awssdk.ToString(fn.FunctionArn))
		})
	}
	// ListFunctions returns no tags, no State and no LastUpdateStatus
	// (AWS: "use GetFunction"): one GetFunction per function, bounded,
	// so that List reads what Get reads. A function deleted in between is
	// left out.
	out := make([]provider.Resource, len(fns))
	gone := make([]bool, len(fns))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(d.cfg.Concurrency)
	for i, fn := range fns {
		g.Go(func() error {
			arn := awssdk.ToString(fn.FunctionArn)
			got, err := d.lambda.GetFunction(gctx, &lambda.GetFunctionInput{FunctionName: fn.FunctionArn})
			switch {
			case errors.Is(sentinel(err), provider.ErrNotFound):
				gone[i] = true
				return nil
			case err != nil:
				return wrap("get function", arn, err)
			case got.Configuration == nil:
				return fmt.Errorf("aws: list: GetFunction %q returned no configuration", arn)
			}
			out[i] = d.functionResource(*got.Configuration, got.Tags)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	kept := out[:0]
	for i, r := range out {
		if !gone[i] {
			kept = append(kept, r)
		}
	}
	return kept, nil
}

// stateFilter returns the EC2 filter name of the states names maps
// states to, and false when they map to none (nothing is ever in them).
func stateFilter(name string, states []provider.State, names func(provider.State) []string) (ec2types.Filter, bool) {
	var values []string
	for _, s := range states {
		values = append(values, names(s)...)
	}
	return ec2types.Filter{Name: awssdk.String(name), Values: values}, len(values) > 0
}

// ec2States returns the EC2 instance-state-name values of a provider state.
func ec2States(s provider.State) []string {
	switch s {
	case provider.StateStopping:
		return []string{"stopping", "shutting-down"}
	default:
		return []string{string(s)}
	}
}

// instanceState maps an EC2 state name; shutting-down (on its way to
// terminated) reads as stopping.
func instanceState(name ec2types.InstanceStateName) provider.State {
	switch name {
	case ec2types.InstanceStateNamePending:
		return provider.StatePending
	case ec2types.InstanceStateNameStopping, ec2types.InstanceStateNameShuttingDown:
		return provider.StateStopping
	case ec2types.InstanceStateNameStopped:
		return provider.StateStopped
	case ec2types.InstanceStateNameTerminated:
		return provider.StateTerminated
	}
	return provider.StateRunning
}

// tagFilters returns EC2's describe filters for a provider.Filter's tags
// (an instance's, a volume's): tag-key for a tag asked with any value
// (""), tag:KEY for one with its value.
func tagFilters(tags map[string]string) []ec2types.Filter {
	var out []ec2types.Filter
	for k, v := range tags {
		if v == "" {
			out = append(out, ec2types.Filter{Name: awssdk.String("tag-key"), Values: []string{k}})
		} else {
			out = append(out, ec2types.Filter{Name: awssdk.String("tag:" + k), Values: []string{v}})
		}
	}
	return out
}

// ec2Tags returns EC2's tags (an instance's, a volume's) as a map.
func ec2Tags(ts []ec2types.Tag) map[string]string {
	tags := make(map[string]string, len(ts))
	for _, t := range ts {
		tags[awssdk.ToString(t.Key)] = awssdk.ToString(t.Value)
	}
	return tags
}

func (d *Driver) instanceResource(inst ec2types.Instance) provider.Resource {
	tags := ec2Tags(inst.Tags)
	r := provider.Resource{
		ID:         awssdk.ToString(inst.InstanceId),
		Kind:       provider.KindInstance,
		LaunchTime: awssdk.ToTime(inst.LaunchTime).UTC(),
		Size:       provider.Size{InstanceType: string(inst.InstanceType)},
	}
	if inst.State != nil {
		r.State = instanceState(inst.State.Name)
	} else {
		r.State = provider.StateRunning
	}
	if c := inst.CpuOptions; c != nil && c.CoreCount != nil && c.ThreadsPerCore != nil {
		r.Size.VCPU = float64(*c.CoreCount * *c.ThreadsPerCore)
	}
	r.HourlyCost = d.cfg.HourlyPrices[r.Size.InstanceType]
	return d.withTags(r, tags)
}

func (d *Driver) groupResource(g *asgtypes.AutoScalingGroup) provider.Resource {
	tags := make(map[string]string, len(g.Tags))
	for _, t := range g.Tags {
		tags[awssdk.ToString(t.Key)] = awssdk.ToString(t.Value)
	}
	name := awssdk.ToString(g.AutoScalingGroupName)
	r := provider.Resource{
		ID:         name,
		Kind:       provider.KindGroup,
		Name:       name,
		State:      provider.StateRunning,
		LaunchTime: awssdk.ToTime(g.CreatedTime).UTC(),
	}
	if deleting(g) {
		r.State = provider.StateStopping
	}
	return d.withTags(r, tags)
}

// lambdaTime is the layout of Lambda's LastModified.
const lambdaTime = "2006-01-02T15:04:05.000-0700"

// parseLastModified returns Lambda's LastModified s in UTC, false when it
// is nil or does not parse.
func parseLastModified(s *string) (time.Time, bool) {
	if s == nil {
		return time.Time{}, false
	}
	t, err := time.Parse(lambdaTime, *s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

func (d *Driver) functionResource(fn lambdatypes.FunctionConfiguration, tags map[string]string) provider.Resource {
	r := provider.Resource{
		ID:    awssdk.ToString(fn.FunctionArn),
		Kind:  provider.KindFunction,
		Name:  awssdk.ToString(fn.FunctionName),
		State: provider.StateRunning,
		Size: provider.Size{
			MemoryMiB: int(awssdk.ToInt32(fn.MemorySize)),
			Timeout:   time.Duration(awssdk.ToInt32(fn.Timeout)) * time.Second,
		},
	}
	switch fn.State {
	case lambdatypes.StatePending:
		r.State = provider.StatePending
	case lambdatypes.StateInactive:
		r.State = provider.StateStopped
	case lambdatypes.StateFailed:
		// Its creation failed: Lambda never invokes it (it must be deleted
		// and created again), so it runs no more than a terminated
		// instance, and its lack of invocations is no idleness.
		r.State = provider.StateTerminated
	}
	if t, ok := parseLastModified(fn.LastModified); ok {
		r.LaunchTime = t
	}
	switch {
	case r.Size.MemoryMiB <= 0 || r.Size.Timeout <= 0:
		r.Size = provider.Size{} // unknown rather than invalid
	case fn.LastUpdateStatus == lambdatypes.LastUpdateStatusFailed || fn.LastUpdateStatus == lambdatypes.LastUpdateStatusInProgress:
		// The size shown is that of an update that failed or is not done:
		// not known to be in effect (Resize applies it again).
		r.Size = provider.Size{}
	}
	return d.withTags(r, tags)
}

// withTags copies tags onto r and maps the metadata tags of Config.Tags.
func (d *Driver) withTags(r provider.Resource, tags map[string]string) provider.Resource {
	r.Provider = d.cfg.Name
	r.Region = d.region
	if len(tags) > 0 {
		r.Tags = tags
	}
	// A key is matched case-insensitively, and EC2's tag keys are
	// case-sensitive: a resource may carry one in several spellings. The
	// value is the one spelled as key, else the first spelling's in
	// order (never the map's random order); spellings of a metadata
	// key (guard) whose values disagree (as the safety rules match them,
	// provider.LabelKey) say two things of the resource, and protect it,
	// as a malformed value does.
	get := func(key string, guard bool) (string, bool) {
		var spellings []string
		for k := range tags {
			if strings.EqualFold(k, key) {
				spellings = append(spellings, k)
			}
		}
		if len(spellings) == 0 {
			return "", false
		}
		slices.Sort(spellings)
		v := tags[spellings[0]]
		if exact, ok := tags[key]; ok {
			v = exact
		}
		for _, k := range spellings {
			if guard && provider.LabelKey(tags[k]) != provider.LabelKey(v) {
				r.Protected = true
			}
		}
		return v, true
	}
	if v, ok := get("Name", false); ok && v != "" {
		r.Name = v
	}
	k := d.cfg.Tags
	r.Environment, _ = get(k.Environment, true)
	r.Role, _ = get(k.Role, true)
	r.Owner, _ = get(k.Owner, true)
	// A malformed criticality or time zone protects the resource: its
	// owner meant to say something the safety rules (critical workloads,
	// business hours in its zone) cannot read, so they must not judge it
	// as low criticality or in UTC.
	if v, ok := get(k.Criticality, true); ok {
		c := provider.Criticality(strings.ToLower(strings.TrimSpace(v)))
		if c.Validate() == nil {
			r.Criticality = c
		} else {
			r.Protected = true
		}
	}
	// Protected when any spelling of the protection tag says so.
	for key, v := range tags {
		if !strings.EqualFold(key, k.Protection) {
			continue
		}
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "false", "no", "0", "off":
		default:
			r.Protected = true
		}
	}
	if v, ok := get(k.TimeZone, true); ok && v != "" {
		if _, err := provider.LoadZone(v); err == nil { // not "Local": the host's zone, not the resource's
			r.TimeZone = v
		} else {
			r.Protected = true
		}
	}
	return r.NormalizeLabels()
}

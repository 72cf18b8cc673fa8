package aws

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"

	"github.com/idlescale/idlescale/provider"
)

// tagBatch is how many load balancers one ELBv2 DescribeTags call takes
// (its limit).
const tagBatch = 20

// listLoadBalancers lists the Application Load Balancers, every page of
// DescribeLoadBalancers, with their tags (DescribeTags, tagBatch at a
// time), among the load balancer ARNs of f.IDs when f has IDs. Network
// and gateway load balancers are left out: they publish no RequestCount
// (see the package doc). The ARNs are not asked of DescribeLoadBalancers,
// which fails the whole call for one it does not know: the list is read
// and filtered, so that an unknown ARN matches nothing. A load balancer
// deleted before its tags are read is left out, as is one described
// without its ARN. When optional (f did not ask for load balancers by
// name) and DescribeLoadBalancers is denied, there are none, with a
// warning naming the IAM action.
func (d *Driver) listLoadBalancers(ctx context.Context, f provider.Filter, optional bool) ([]provider.Resource, error) {
	var lbs []elbtypes.LoadBalancer
	p := elasticloadbalancingv2.NewDescribeLoadBalancersPaginator(d.elb, &elasticloadbalancingv2.DescribeLoadBalancersInput{PageSize: d.pageSize(400)})
	tokens := pageTokens{}
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err == nil {
			err = tokens.next("DescribeLoadBalancers", page.NextMarker)
		}
		if err != nil && optional && accessDenied(err) {
			d.warn(ctx, "aws: load balancers are not listed (elasticloadbalancing:DescribeLoadBalancers is denied): grant it, or list other kinds by Filter.Kinds",
				"list load balancers", "", err)
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		for _, lb := range page.LoadBalancers {
			arn := awssdk.ToString(lb.LoadBalancerArn)
			if lb.Type != elbtypes.LoadBalancerTypeEnumApplication || arn == "" {
				continue // no ARN: no ID to list it by, nor tags to read
			}
			if len(f.IDs) > 0 && !slices.Contains(f.IDs, arn) {
				continue
			}
			lbs = append(lbs, lb)
		}
	}
	arns := make([]string, len(lbs))
	for i, lb := range lbs {
		arns[i] = awssdk.ToString(lb.LoadBalancerArn)
	}
	tags, gone, err := d.loadBalancerTags(ctx, arns)
	if err != nil {
		return nil, err
	}
	out := make([]provider.Resource, 0, len(lbs))
	for i, lb := range lbs {
		if !gone[arns[i]] {
			out = append(out, d.loadBalancerResource(lb, tags[arns[i]]))
		}
	}
	return out, nil
}

// loadBalancerTags reads the tags of the load balancers arns, tagBatch
// at a time. DescribeTags fails a whole call for a load balancer it does
// not know: the ARNs of such a call are then asked again in halves
// (bisect, as a batch read's describe), and those not found alone are
// gone.
func (d *Driver) loadBalancerTags(ctx context.Context, arns []string) (tags map[string]map[string]string, gone map[string]bool, err error) {
	tags, gone = map[string]map[string]string{}, map[string]bool{}
	// ask reads the tags of batch and reports whether DescribeTags
	// refused it for a load balancer it does not know; another failure
	// is err, after which nothing is asked.
	ask := func(batch []string) bool {
		if err != nil {
			return false
		}
		out, derr := d.elb.DescribeTags(ctx, &elasticloadbalancingv2.DescribeTagsInput{ResourceArns: batch})
		switch {
		case errors.Is(sentinel(derr), provider.ErrNotFound):
			if len(batch) == 1 {
				gone[batch[0]] = true
			}
			return true
		case derr != nil:
			err = derr
			return false
		}
		for _, td := range out.TagDescriptions {
			m := make(map[string]string, len(td.Tags))
			for _, t := range td.Tags {
				m[awssdk.ToString(t.Key)] = awssdk.ToString(t.Value)
			}
			tags[awssdk.ToString(td.ResourceArn)] = m
		}
		return false
	}
	for batch := range slices.Chunk(arns, tagBatch) {
		if ask(batch) {
			bisect(batch, ask)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	return tags, gone, nil
}

// accessDenied reports whether err is AWS refusing a call for want of an
// IAM permission.
func accessDenied(err error) bool {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return false
	}
	return permissionCodes[api.ErrorCode()]
}

// refusedARN reports whether err is ELBv2 answering that an ARN it was
// asked names no load balancer: LoadBalancerNotFound, or ValidationError
// for an ARN it does not take as one (a whole call fails for either).
func refusedARN(err error) bool {
	s := sentinel(err)
	return errors.Is(s, provider.ErrNotFound) || errors.Is(s, provider.ErrInvalid)
}

// describeLoadBalancer returns the load balancer arn, or an error
// matching provider.ErrNotFound.
func (d *Driver) describeLoadBalancer(ctx context.Context, arn string) (*elbtypes.LoadBalancer, error) {
	out, err := d.elb.DescribeLoadBalancers(ctx, &elasticloadbalancingv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{arn}})
	if err != nil {
		return nil, err
	}
	for i := range out.LoadBalancers {
		if awssdk.ToString(out.LoadBalancers[i].LoadBalancerArn) == arn {
			return &out.LoadBalancers[i], nil
		}
	}
	return nil, fmt.Errorf("%w: no load balancer %q", provider.ErrNotFound, arn)
}

// getLoadBalancer is Get of the load balancer of t: an Application Load
// Balancer with its tags; a network or gateway load balancer is
// provider.ErrUnsupported (not inventoried: it publishes no
// RequestCount).
func (d *Driver) getLoadBalancer(ctx context.Context, t target) (provider.Resource, error) {
	lb := t.loadBalancer
	if lb == nil {
		var err error
		if lb, err = d.describeLoadBalancer(ctx, t.id); err != nil {
			return provider.Resource{}, err
		}
	}
	if lb.Type != elbtypes.LoadBalancerTypeEnumApplication {
		kind := string(lb.Type)
		if kind == "" {
			kind = "no type given (AWS answered none)"
		}
		return provider.Resource{}, fmt.Errorf("%w: load balancer %q is not inventoried: its type is %s, and only Application Load Balancers (application) publish RequestCount", provider.ErrUnsupported, t.id, kind)
	}
	tags, gone, err := d.loadBalancerTags(ctx, []string{t.id})
	switch {
	case err != nil:
		return provider.Resource{}, err
	case gone[t.id]:
		return provider.Resource{}, fmt.Errorf("%w: no load balancer %q", provider.ErrNotFound, t.id)
	}
	return d.loadBalancerResource(*lb, tags[t.id]), nil
}

// loadBalancerState maps an ELBv2 state: provisioning is pending; active
// and active_impaired are running (an impaired load balancer still
// routes traffic, and is billed, only without the resources to scale:
// its requests still measure its use); failed (it could not be set up
// and routes nothing, so that its lack of requests is no idleness) is
// terminated, as a Lambda function whose creation failed. An unknown
// state is running, as an instance's is.
func loadBalancerState(s *elbtypes.LoadBalancerState) provider.State {
	if s == nil {
		return provider.StateRunning
	}
	switch s.Code {
	case elbtypes.LoadBalancerStateEnumProvisioning:
		return provider.StatePending
	case elbtypes.LoadBalancerStateEnumFailed:
		return provider.StateTerminated
	}
	return provider.StateRunning
}

func (d *Driver) loadBalancerResource(lb elbtypes.LoadBalancer, tags map[string]string) provider.Resource {
	r := provider.Resource{
		ID:         awssdk.ToString(lb.LoadBalancerArn),
		Kind:       provider.KindLoadBalancer,
		Name:       awssdk.ToString(lb.LoadBalancerName),
		State:      loadBalancerState(lb.State),
		LaunchTime: awssdk.ToTime(lb.CreatedTime).UTC(),
		HourlyCost: d.cfg.LoadBalancerHourlyCost,
	}
	return d.withTags(r, tags)
}

// createdTime returns the CreatedTime of load balancer t, when existing
// fetched it, it has one, and it is an Application Load Balancer (the
// only kind whose RequestCount is in AWS/ApplicationELB).
func createdTime(t target) (time.Time, bool) {
	lb := t.loadBalancer
	if lb == nil || lb.Type != elbtypes.LoadBalancerTypeEnumApplication || lb.CreatedTime == nil {
		return time.Time{}, false
	}
	return lb.CreatedTime.UTC(), true
}

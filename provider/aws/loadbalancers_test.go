package aws_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// lbRegion holds the load balancer tests' resources: no other test
// creates load balancers, and the conformance region must list none.
const lbRegion = "ap-south-1"

// countingELB is an ELBv2 client that counts its calls.
type countingELB struct {
	awsprovider.ELBv2API
	n atomic.Int64
}

func (c *countingELB) DescribeLoadBalancers(ctx context.Context, in *elasticloadbalancingv2.DescribeLoadBalancersInput, optFns ...func(*elasticloadbalancingv2.Options)) (*elasticloadbalancingv2.DescribeLoadBalancersOutput, error) {
	c.n.Add(1)
	return c.ELBv2API.DescribeLoadBalancers(ctx, in, optFns...)
}

func (c *countingELB) DescribeTags(ctx context.Context, in *elasticloadbalancingv2.DescribeTagsInput, optFns ...func(*elasticloadbalancingv2.Options)) (*elasticloadbalancingv2.DescribeTagsOutput, error) {
	c.n.Add(1)
	return c.ELBv2API.DescribeTags(ctx, in, optFns...)
}

// TestLoadBalancerInventory: List and Get return Application Load
// Balancers (the driver had no ELBv2 client: load balancers were never
// listed, and Get of one was ErrUnsupported), with their ARN, name, tags,
// CreatedTime, state and Config.LoadBalancerHourlyCost; a network load
// balancer (no RequestCount) is not listed, and Get of one is
// ErrUnsupported; an unknown ARN is ErrNotFound. The filters select them
// as they do the other kinds.
func TestLoadBalancerInventory(t *testing.T) {
	t.Parallel()
	at := seeder{lbRegion}
	team := uniq("team")
	alb := at.createLoadBalancer(t, elbtypes.LoadBalancerTypeEnumApplication, map[string]string{"owner": team, "environment": "production"})
	plain := at.createLoadBalancer(t, elbtypes.LoadBalancerTypeEnumApplication, map[string]string{"owner": team})
	nlb := at.createLoadBalancer(t, elbtypes.LoadBalancerTypeEnumNetwork, map[string]string{"owner": team})
	inst := at.runInstances(t, 1, "t3.micro", map[string]string{"owner": team})[0]
	raw, err := sdkIn(lbRegion).elb.DescribeLoadBalancers(tctx(t), &elasticloadbalancingv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{alb}})
	require.NoError(t, err)
	require.Len(t, raw.LoadBalancers, 1)
	created := awssdk.ToTime(raw.LoadBalancers[0].CreatedTime)
	require.False(t, created.IsZero(), "moto gives a CreatedTime")

	cfg := fastConfig()
	cfg.LoadBalancerHourlyCost = 0.0225
	d := newDriverIn(t, lbRegion, cfg)
	got, err := d.Get(tctx(t), alb)
	require.NoError(t, err)
	assert.Equal(t, provider.Resource{
		ID: alb, Kind: provider.KindLoadBalancer, Provider: "aws", Region: lbRegion,
		Name: awssdk.ToString(raw.LoadBalancers[0].LoadBalancerName), State: provider.StateRunning,
		Environment: "production", Owner: team, LaunchTime: created.UTC(), HourlyCost: 0.0225,
		Tags: map[string]string{"owner": team, "environment": "production"},
	}, got)
	require.NoError(t, got.Validate())

	_, err = d.Get(tctx(t), nlb)
	require.ErrorIs(t, err, provider.ErrUnsupported, "a network load balancer publishes no RequestCount")
	unknown := alb[:strings.LastIndexByte(alb, '/')+1] + "0123456789abcdef"
	_, err = d.Get(tctx(t), unknown)
	require.ErrorIs(t, err, provider.ErrNotFound)
	require.ErrorIs(t, d.Stop(tctx(t), alb), provider.ErrUnsupported, "the driver only reads load balancers")
	require.ErrorIs(t, d.Terminate(tctx(t), alb), provider.ErrUnsupported)

	byOwner := provider.Filter{Tags: map[string]string{"owner": team}}
	for _, tc := range []struct {
		name string
		give func(provider.Filter) provider.Filter
		want []string
	}{
		{"tag", func(f provider.Filter) provider.Filter { return f }, sorted(alb, plain, inst)},
		{"kind load balancer", func(f provider.Filter) provider.Filter {
			f.Kinds = []provider.Kind{provider.KindLoadBalancer}
			return f
		}, sorted(alb, plain)},
		{"ids", func(f provider.Filter) provider.Filter {
			f.IDs = []string{plain, nlb, unknown}
			return f
		}, []string{plain}},
		{"two tags", func(f provider.Filter) provider.Filter {
			f.Tags = map[string]string{"owner": team, "environment": "production"}
			return f
		}, []string{alb}},
		{"tag key only", func(f provider.Filter) provider.Filter {
			f.Tags = map[string]string{"owner": team, "environment": ""}
			return f
		}, []string{alb}},
		{"state running", func(f provider.Filter) provider.Filter {
			f.Kinds = []provider.Kind{provider.KindLoadBalancer}
			f.States = []provider.State{provider.StateRunning}
			return f
		}, sorted(alb, plain)},
		{"state pending", func(f provider.Filter) provider.Filter {
			f.Kinds = []provider.Kind{provider.KindLoadBalancer}
			f.States = []provider.State{provider.StatePending}
			return f
		}, nil},
	} {
		rs, err := d.List(tctx(t), tc.give(byOwner))
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.want, ids(rs), tc.name)
		for _, r := range rs {
			if r.ID == alb {
				assert.Equal(t, got, r, "%s: List reads what Get reads", tc.name)
			}
		}
	}

	// The batch read answers as Get does.
	reads := []provider.ResourceRead{{ID: alb}, {ID: unknown}, {ID: nlb}}
	require.NoError(t, d.GetResources(tctx(t), reads))
	require.NoError(t, reads[0].Err)
	assert.Equal(t, got, reads[0].Resource)
	require.ErrorIs(t, reads[1].Err, provider.ErrNotFound)
	require.ErrorIs(t, reads[2].Err, provider.ErrUnsupported)
}

// TestListOfOtherKindsCallsNoELB: a List that asks for other kinds, by
// Kinds or by IDs, makes no ELBv2 call (a host without the IAM
// permission, listing instances, does not fail), and one that asks for
// load balancers does.
func TestListOfOtherKindsCallsNoELB(t *testing.T) {
	t.Parallel()
	inst := seeder{lbRegion}.runInstances(t, 1, "t3.micro", nil)[0]
	elb := &countingELB{ELBv2API: sdkIn(lbRegion).elb}
	d := newDriverIn(t, lbRegion, fastConfig(), awsprovider.WithClients(awsprovider.Clients{ELBv2: elb}))
	for _, f := range []provider.Filter{
		{Kinds: []provider.Kind{provider.KindInstance}},
		{Kinds: []provider.Kind{provider.KindInstance, provider.KindGroup, provider.KindFunction}},
		{IDs: []string{inst}},
		{IDs: []string{inst, "some-group-or-function"}},
	} {
		_, err := d.List(tctx(t), f)
		require.NoError(t, err)
		assert.Zero(t, elb.n.Load(), "%+v: no ELBv2 call", f)
	}
	for _, f := range []provider.Filter{
		{},
		{Kinds: []provider.Kind{provider.KindLoadBalancer}},
		{IDs: []string{"arn:aws:elasticloadbalancing:" + lbRegion + ":123456789012:loadbalancer/app/x/0123456789abcdef"}},
	} {
		elb.n.Store(0)
		_, err := d.List(tctx(t), f)
		require.NoError(t, err)
		assert.Positive(t, elb.n.Load(), "%+v: load balancers are listed", f)
	}
}

// fakeELB holds n load balancers, paged by DescribeLoadBalancers'
// PageSize (3 by default), and answers DescribeTags for at most 20 of
// them, recording each call's size. A load balancer in gone is deleted
// between the two calls: DescribeTags fails a call naming it with
// LoadBalancerNotFound, as AWS does. failTags fails a DescribeTags call
// naming it with AccessDenied.
type fakeELB struct {
	lbs      []elbtypes.LoadBalancer
	gone     string
	failTags string

	mu       sync.Mutex
	pages    int
	tagCalls []int
	tagAsked []string
}

func newFakeELB(n int, created time.Time) *fakeELB {
	f := &fakeELB{}
	states := []elbtypes.LoadBalancerStateEnum{
		elbtypes.LoadBalancerStateEnumActive, elbtypes.LoadBalancerStateEnumProvisioning,
		elbtypes.LoadBalancerStateEnumActiveImpaired, elbtypes.LoadBalancerStateEnumFailed,
	}
	for i := range n {
		typ := elbtypes.LoadBalancerTypeEnumApplication
		if i%10 == 9 {
			typ = elbtypes.LoadBalancerTypeEnumNetwork
		}
		name := fmt.Sprintf("lb-%02d", i)
		f.lbs = append(f.lbs, elbtypes.LoadBalancer{
			LoadBalancerArn:  awssdk.String(fmt.Sprintf("arn:aws:elasticloadbalancing:%s:123456789012:loadbalancer/%s/%s/%016x", region, map[bool]string{true: "app", false: "net"}[typ == elbtypes.LoadBalancerTypeEnumApplication], name, i)),
			LoadBalancerName: awssdk.String(name),
			Type:             typ,
			State:            &elbtypes.LoadBalancerState{Code: states[i%len(states)]},
			CreatedTime:      awssdk.Time(created.Add(time.Duration(i) * time.Minute)),
		})
	}
	return f
}

func (f *fakeELB) DescribeLoadBalancers(_ context.Context, in *elasticloadbalancingv2.DescribeLoadBalancersInput, _ ...func(*elasticloadbalancingv2.Options)) (*elasticloadbalancingv2.DescribeLoadBalancersOutput, error) {
	if len(in.LoadBalancerArns) > 0 {
		for _, lb := range f.lbs {
			if *lb.LoadBalancerArn == in.LoadBalancerArns[0] && *lb.LoadBalancerArn != f.gone {
				return &elasticloadbalancingv2.DescribeLoadBalancersOutput{LoadBalancers: []elbtypes.LoadBalancer{lb}}, nil
			}
		}
		return nil, &elbtypes.LoadBalancerNotFoundException{Message: awssdk.String("One or more load balancers not found")}
	}
	f.mu.Lock()
	f.pages++
	f.mu.Unlock()
	size := 3
	if in.PageSize != nil {
		size = int(*in.PageSize)
	}
	start := 0
	if in.Marker != nil {
		start, _ = strconv.Atoi(*in.Marker)
	}
	end := min(start+size, len(f.lbs))
	out := &elasticloadbalancingv2.DescribeLoadBalancersOutput{LoadBalancers: f.lbs[start:end]}
	if end < len(f.lbs) {
		out.NextMarker = awssdk.String(strconv.Itoa(end))
	}
	return out, nil
}

func (f *fakeELB) DescribeTags(_ context.Context, in *elasticloadbalancingv2.DescribeTagsInput, _ ...func(*elasticloadbalancingv2.Options)) (*elasticloadbalancingv2.DescribeTagsOutput, error) {
	f.mu.Lock()
	f.tagCalls = append(f.tagCalls, len(in.ResourceArns))
	f.tagAsked = append(f.tagAsked, in.ResourceArns...)
	f.mu.Unlock()
	if len(in.ResourceArns) > 20 {
		return nil, &smithy.GenericAPIError{Code: "ValidationError", Message: "at most 20 resource ARNs"}
	}
	out := &elasticloadbalancingv2.DescribeTagsOutput{}
	for _, arn := range in.ResourceArns {
		switch arn {
		case f.gone:
			return nil, &elbtypes.LoadBalancerNotFoundException{Message: awssdk.String("Load balancer '" + arn + "' not found")}
		case f.failTags:
			return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized to perform: elasticloadbalancing:DescribeTags"}
		}
		_, name, _ := strings.Cut(arn, "/lb-")
		out.TagDescriptions = append(out.TagDescriptions, elbtypes.TagDescription{ResourceArn: awssdk.String(arn), Tags: []elbtypes.Tag{
			{Key: awssdk.String("index"), Value: awssdk.String(name[:2])},
		}})
	}
	return out, nil
}

// TestListLoadBalancersInBatches: every page of DescribeLoadBalancers is
// read; the tags are read 20 load balancers a call (DescribeTags' limit);
// a load balancer deleted between the two calls (DescribeTags fails its
// whole call with LoadBalancerNotFound) is left out, its batch's others
// kept; another DescribeTags failure fails the list. Network load
// balancers are not listed, and the states map: provisioning is pending,
// active and active_impaired running, failed terminated.
func TestListLoadBalancersInBatches(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := newFakeELB(50, created)
	f.gone = *f.lbs[25].LoadBalancerArn
	cfg := fastConfig()
	cfg.PageSize = 5
	d := newDriverConfig(t, cfg, awsprovider.WithClients(awsprovider.Clients{ELBv2: f}))
	got, err := d.List(tctx(t), provider.Filter{Kinds: []provider.Kind{provider.KindLoadBalancer}})
	require.NoError(t, err)
	assert.Equal(t, 10, f.pages, "50 load balancers in pages of 5")
	var want []string
	for i, lb := range f.lbs {
		if i%10 != 9 && i != 25 {
			want = append(want, *lb.LoadBalancerArn)
		}
	}
	require.Equal(t, want, ids(got), "45 application load balancers, one gone")
	for _, n := range f.tagCalls {
		assert.LessOrEqual(t, n, 20, "DescribeTags takes at most 20 ARNs")
	}
	ones := slices.Repeat([]int{1}, 20)
	assert.Equal(t, slices.Concat([]int{20, 20}, ones, []int{5}), f.tagCalls,
		"45 in three calls, the second's 20 again one by one: one of them is gone")
	wantState := map[int]provider.State{0: provider.StateRunning, 1: provider.StatePending, 2: provider.StateRunning, 3: provider.StateTerminated}
	for _, r := range got {
		i := slices.IndexFunc(f.lbs, func(lb elbtypes.LoadBalancer) bool { return *lb.LoadBalancerArn == r.ID })
		assert.Equal(t, fmt.Sprintf("%02d", i), r.Tags["index"], r.ID)
		assert.Equal(t, wantState[i%4], r.State, "%s: state %s", r.ID, f.lbs[i].State.Code)
		assert.Equal(t, created.Add(time.Duration(i)*time.Minute), r.LaunchTime, r.ID)
		assert.Equal(t, *f.lbs[i].LoadBalancerName, r.Name)
		assert.Zero(t, r.HourlyCost, "unknown by default")
	}

	_, err = d.Get(tctx(t), f.gone)
	require.ErrorIs(t, err, provider.ErrNotFound)

	f.failTags = *f.lbs[40].LoadBalancerArn
	_, err = d.List(tctx(t), provider.Filter{})
	require.Error(t, err)
	require.NotErrorIs(t, err, provider.ErrNotFound)
	assert.Contains(t, err.Error(), "list load balancers")
	assert.Contains(t, err.Error(), "AccessDenied")
}

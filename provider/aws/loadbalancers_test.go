package aws_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
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

// createdELB is the real ELBv2 client with the CreatedTime of the load
// balancers (by ARN) in created rewritten: moto stamps a load balancer
// with the time it was created, and the tests need one created before the
// window they read.
type createdELB struct {
	awsprovider.ELBv2API
	created map[string]time.Time
}

func (c createdELB) DescribeLoadBalancers(ctx context.Context, in *elasticloadbalancingv2.DescribeLoadBalancersInput, optFns ...func(*elasticloadbalancingv2.Options)) (*elasticloadbalancingv2.DescribeLoadBalancersOutput, error) {
	out, err := c.ELBv2API.DescribeLoadBalancers(ctx, in, optFns...)
	if err == nil {
		for i, lb := range out.LoadBalancers {
			if at, ok := c.created[awssdk.ToString(lb.LoadBalancerArn)]; ok {
				out.LoadBalancers[i].CreatedTime = awssdk.Time(at)
			}
		}
	}
	return out, err
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
	assert.Equal(t, []int{20, 20, 10, 10, 5, 5, 2, 3, 1, 1, 1, 5}, f.tagCalls,
		"45 in three calls, the second's 20 again in halves down to three, then one by one (not 20 calls): one of them is gone")
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

// lbFixture is an Application Load Balancer of moto's, its CloudWatch
// dimension (app/NAME/ID), and the real time its drivers read.
type lbFixture struct {
	region, arn, dim string
	now              time.Time
}

// newLBFixture creates a load balancer of type typ in lbRegion.
func newLBFixture(t *testing.T, typ elbtypes.LoadBalancerTypeEnum) lbFixture {
	t.Helper()
	return newLBFixtureIn(t, lbRegion, typ)
}

func newLBFixtureIn(t *testing.T, region string, typ elbtypes.LoadBalancerTypeEnum) lbFixture {
	t.Helper()
	arn := seeder{region}.createLoadBalancer(t, typ, nil)
	_, dim, _ := strings.Cut(arn, ":loadbalancer/")
	return lbFixture{region: region, arn: arn, dim: dim, now: time.Now().UTC().Truncate(time.Hour).Add(-time.Hour)}
}

// driver returns a driver in f's region whose real clock reads f.now,
// to which f's load balancer was created at created, reading CloudWatch
// through cw (nil: the real one).
func (f lbFixture) driver(t *testing.T, created time.Time, cfg awsprovider.Config, cw awsprovider.CloudWatchAPI, opts ...awsprovider.Option) *awsprovider.Driver {
	t.Helper()
	elb := createdELB{ELBv2API: sdkIn(f.region).elb, created: map[string]time.Time{f.arn: created}}
	return newDriverIn(t, f.region, cfg, append([]awsprovider.Option{
		awsprovider.WithClients(awsprovider.Clients{ELBv2: elb, CloudWatch: cw}),
		awsprovider.WithNow(func() time.Time { return f.now }),
	}, opts...)...)
}

// TestQuietLoadBalancerRequestsReadZero: Elastic Load Balancing
// publishes an ALB's RequestCount only for a minute with requests, so an
// unused load balancer's requests were all gaps, and the detector (which
// judges a load balancer on its requests, required) could never call one
// idle. A step without a datapoint now reads 0 as a function's
// invocations do, from the load balancer's CreatedTime: a step starting
// at CreatedTime reads 0, one starting a millisecond before it a gap;
// one ending exactly PublishDelay before now reads 0, the next a gap;
// the datapoints keep their values. ActiveConnectionCount keeps its
// gaps.
func TestQuietLoadBalancerRequestsReadZero(t *testing.T) {
	t.Parallel()
	f := newLBFixture(t, elbtypes.LoadBalancerTypeEnumApplication)
	now := f.now
	seeder{lbRegion}.putMetric(t, "AWS/ApplicationELB", "RequestCount", "LoadBalancer", f.dim, cwtypes.StandardUnitCount, map[time.Time]float64{
		now.Add(-10 * time.Minute): 60, // before CreatedTime in the first cases
		now.Add(-6 * time.Minute):  120,
	})
	cfg := fastConfig()
	cfg.PublishDelay = 3 * time.Minute
	g := math.NaN()
	q := func(m provider.Metric, st provider.Statistic) provider.Query {
		return provider.Query{ResourceID: f.arn, Metric: m, Statistic: st, Start: now.Add(-10 * time.Minute), End: now, Step: time.Minute}
	}
	// Ten steps from now − 10m: now − 3m ends step 6.
	for _, tc := range []struct {
		name    string
		created time.Time
		q       provider.Query
		want    []float64
	}{
		{"CreatedTime on a step's start", now.Add(-8 * time.Minute), q(provider.MetricRequests, provider.StatSum), []float64{60, g, 0, 0, 120, 0, 0, g, g, g}},
		{"CreatedTime a millisecond after it", now.Add(-8*time.Minute + time.Millisecond), q(provider.MetricRequests, provider.StatSum), []float64{60, g, g, 0, 120, 0, 0, g, g, g}},
		{"rate", now.Add(-8 * time.Minute), q(provider.MetricRequests, ""), []float64{1, g, 0, 0, 2, 0, 0, g, g, g}},
		{"count of datapoints", now.Add(-8 * time.Minute), q(provider.MetricRequests, provider.StatCount), []float64{1, g, 0, 0, 1, 0, 0, g, g, g}},
		{"CreatedTime before the window", now.Add(-time.Hour), q(provider.MetricRequests, provider.StatSum), []float64{60, 0, 0, 0, 120, 0, 0, g, g, g}},
		{"CreatedTime after the window", now.Add(time.Minute), q(provider.MetricRequests, provider.StatSum), []float64{60, g, g, g, 120, g, g, g, g, g}},
		{"active connections are no quiet count", now.Add(-time.Hour), q(provider.MetricConnections, provider.StatSum), []float64{g, g, g, g, g, g, g, g, g, g}},
	} {
		d := f.driver(t, tc.created, cfg, nil)
		got, err := d.QueryMetric(tctx(t), tc.q)
		require.NoError(t, err, tc.name)
		assertSeries(t, tc.want, got.Values, tc.name)
	}

	// Older than CloudWatch keeps a minute's datapoints, a step under a
	// minute, a grid not on the minute: gaps.
	day := 24 * time.Hour
	d := f.driver(t, now.Add(-30*day), cfg, nil)
	for _, tc := range []struct {
		name string
		q    provider.Query
		want []float64
	}{
		{"one minute kept 15 days (less an hour)", provider.Query{Start: now.Add(-15*day + time.Hour - 2*time.Minute), End: now.Add(-15*day + time.Hour + 2*time.Minute), Step: time.Minute}, []float64{g, g, 0, 0}},
		{"ten seconds", provider.Query{Start: now.Add(-time.Hour), End: now.Add(-time.Hour + 30*time.Second), Step: 10 * time.Second}, []float64{g, g, g}},
		{"a grid not on the minute", provider.Query{Start: now.Add(-time.Hour + 30*time.Second), End: now.Add(-time.Hour + 150*time.Second), Step: time.Minute}, []float64{g, g}},
	} {
		tc.q.ResourceID, tc.q.Metric, tc.q.Statistic = f.arn, provider.MetricRequests, provider.StatSum
		if tc.q.Step < time.Minute {
			// The sum of a step under a minute is refused
			// (TestQueryMetricSubMinuteStepOfACounter): its mean is read.
			tc.q.Statistic = provider.StatMean
		}
		got, err := d.QueryMetric(tctx(t), tc.q)
		require.NoError(t, err, tc.name)
		assertSeries(t, tc.want, got.Values, tc.name)
	}

	// The batch read fills the same steps; an unknown load balancer fails
	// its read alone.
	unknown := f.arn[:strings.LastIndexByte(f.arn, '/')+1] + "0123456789abcdef"
	reads := []provider.MetricRead{{Query: q(provider.MetricRequests, provider.StatSum)}, {Query: q(provider.MetricRequests, provider.StatSum)}}
	reads[1].Query.ResourceID = unknown
	require.NoError(t, f.driver(t, now.Add(-8*time.Minute), cfg, nil).QueryMetrics(tctx(t), reads))
	require.NoError(t, reads[0].Err)
	assertSeries(t, []float64{60, g, 0, 0, 120, 0, 0, g, g, g}, reads[0].Series.Values, "batched")
	require.ErrorIs(t, reads[1].Err, provider.ErrNotFound)
}

// TestQuietLoadBalancerRequestsFailedReadIsNoZero: a read CloudWatch
// could not compute, one it did not answer, one answered in part, and a
// call that failed are never zeros, for the requests as for their
// activity.
func TestQuietLoadBalancerRequestsFailedReadIsNoZero(t *testing.T) {
	t.Parallel()
	f := newLBFixture(t, elbtypes.LoadBalancerTypeEnumApplication)
	now := f.now
	q := provider.Query{ResourceID: f.arn, Metric: provider.MetricRequests, Statistic: provider.StatSum, Start: now.Add(-time.Hour), End: now.Add(-50 * time.Minute), Step: time.Minute}
	aq := provider.ActivityQuery{ResourceID: f.arn, Start: now.Add(-time.Hour), End: now}
	for _, tc := range failedReads(cloudwatch.NewFromConfig(sdkConfigIn(f.region), queryProtocol)) {
		d := f.driver(t, now.Add(-2*time.Hour), fastConfig(), tc.cw)
		got, err := d.QueryMetric(tctx(t), q)
		act, aerr := d.Activity(tctx(t), aq)
		if tc.fail {
			require.Error(t, err, tc.name)
			assert.Empty(t, got.Values, tc.name)
			require.Error(t, aerr, tc.name)
			// A query CloudWatch answers Forbidden is denied (no
			// cloudwatch:GetMetricData on it); the others are not.
			assert.Equal(t, tc.name == "forbidden", errors.Is(err, provider.ErrDenied), "%s: %v", tc.name, err)
			assert.Equal(t, tc.name == "forbidden", errors.Is(aerr, provider.ErrDenied), "%s: %v", tc.name, aerr)
			continue
		}
		require.NoError(t, err, tc.name)
		require.Len(t, got.Values, 10, tc.name)
		assert.Equal(t, 10, got.Gaps(), "%s: no zero", tc.name)
		require.NoError(t, aerr, tc.name)
		assert.Empty(t, act, "%s: unknown, not 0", tc.name)
	}
	// The same driver reading CloudWatch whole fills them.
	d := f.driver(t, now.Add(-2*time.Hour), fastConfig(), nil)
	got, err := d.QueryMetric(tctx(t), q)
	require.NoError(t, err)
	assert.Zero(t, got.Gaps())
	act, err := d.Activity(tctx(t), aq)
	require.NoError(t, err)
	assert.Equal(t, []provider.ActivityCount{{Kind: provider.ActivityAPICalls}}, act)
}

// TestQuietLoadBalancerActivity: an unused load balancer's activity was
// absent (unknown), so the detector's terminate rule (no use over 28
// days) could never be met for one on AWS. With no datapoint in the
// window it is now a count of 0 covering the window from the load
// balancer's CreatedTime on (Since, when that is after Start), and stays
// absent when CreatedTime is at or after End. With a datapoint, the
// requests are counted.
func TestQuietLoadBalancerActivity(t *testing.T) {
	t.Parallel()
	f := newLBFixture(t, elbtypes.LoadBalancerTypeEnumApplication)
	now := f.now
	created := now.Add(-30 * time.Minute)
	d := f.driver(t, created, fastConfig(), nil)
	api := provider.ActivityAPICalls
	for _, tc := range []struct {
		name       string
		start, end time.Time
		want       []provider.ActivityCount
	}{
		{"CreatedTime in the window", now.Add(-2 * time.Hour), now, []provider.ActivityCount{{Kind: api, Since: created}}},
		{"CreatedTime before the window", now.Add(-20 * time.Minute), now, []provider.ActivityCount{{Kind: api}}},
		{"CreatedTime at Start", created, now, []provider.ActivityCount{{Kind: api}}},
		{"CreatedTime a millisecond before End", now.Add(-time.Hour), created.Add(time.Millisecond), []provider.ActivityCount{{Kind: api, Since: created}}},
		{"CreatedTime at End", now.Add(-time.Hour), created, []provider.ActivityCount{}},
		{"CreatedTime after the window", now.Add(-2 * time.Hour), now.Add(-time.Hour), []provider.ActivityCount{}},
		{"28 days, read at five minutes", now.Add(-28 * 24 * time.Hour), now, []provider.ActivityCount{{Kind: api, Since: created}}},
	} {
		got, err := d.Activity(tctx(t), provider.ActivityQuery{ResourceID: f.arn, Start: tc.start, End: tc.end})
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.want, got, tc.name)
		for _, c := range got {
			require.NoError(t, c.Validate(), tc.name)
		}
	}

	g := newLBFixture(t, elbtypes.LoadBalancerTypeEnumApplication)
	seeder{lbRegion}.putMetric(t, "AWS/ApplicationELB", "RequestCount", "LoadBalancer", g.dim, cwtypes.StandardUnitCount, map[time.Time]float64{
		now.Add(-20 * time.Minute): 7,
	})
	got, err := g.driver(t, created, fastConfig(), nil).Activity(tctx(t), provider.ActivityQuery{ResourceID: g.arn, Start: now.Add(-2 * time.Hour), End: now})
	require.NoError(t, err)
	assert.Equal(t, []provider.ActivityCount{{Kind: api, Count: 7, Last: now.Add(-20 * time.Minute), Since: created}}, got)

	unknown := f.arn[:strings.LastIndexByte(f.arn, '/')+1] + "0123456789abcdef"
	_, err = d.Activity(tctx(t), provider.ActivityQuery{ResourceID: unknown, Start: now.Add(-time.Hour), End: now})
	require.ErrorIs(t, err, provider.ErrNotFound)
}

// TestNetworkLoadBalancerIsNotQuiet: a network load balancer has no
// RequestCount in AWS/ApplicationELB: a read of it keeps its gaps and
// its activity stays unknown (absent), not 0.
func TestNetworkLoadBalancerIsNotQuiet(t *testing.T) {
	t.Parallel()
	f := newLBFixture(t, elbtypes.LoadBalancerTypeEnumNetwork)
	d := f.driver(t, f.now.Add(-2*time.Hour), fastConfig(), nil)
	got, err := d.QueryMetric(tctx(t), provider.Query{ResourceID: f.arn, Metric: provider.MetricRequests, Statistic: provider.StatSum, Start: f.now.Add(-time.Hour), End: f.now.Add(-50 * time.Minute), Step: time.Minute})
	require.NoError(t, err)
	assert.Equal(t, 10, got.Gaps())
	act, err := d.Activity(tctx(t), provider.ActivityQuery{ResourceID: f.arn, Start: f.now.Add(-time.Hour), End: f.now})
	require.NoError(t, err)
	assert.Empty(t, act)
}

// TestQuietLoadBalancerHasNoEdgeCheck: in us-east-1, where a function
// with a published version may run at Lambda@Edge, a load balancer is no
// function: it is asked no ListVersionsByFunction (which here fails, as
// without the permission) and reads 0, its activity a count of 0.
func TestQuietLoadBalancerHasNoEdgeCheck(t *testing.T) {
	t.Parallel()
	f := newLBFixtureIn(t, region, elbtypes.LoadBalancerTypeEnumApplication)
	var logs strings.Builder
	lam := modifiedLambda{LambdaAPI: sdk().lambda, versionsErr: errors.New("AccessDenied")}
	d := f.driver(t, f.now.Add(-2*time.Hour), fastConfig(), nil,
		awsprovider.WithClients(awsprovider.Clients{Lambda: lam, ELBv2: createdELB{ELBv2API: sdk().elb, created: map[string]time.Time{f.arn: f.now.Add(-2 * time.Hour)}}}),
		awsprovider.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	got, err := d.QueryMetric(tctx(t), provider.Query{ResourceID: f.arn, Metric: provider.MetricRequests, Statistic: provider.StatSum, Start: f.now.Add(-time.Hour), End: f.now.Add(-50 * time.Minute), Step: time.Minute})
	require.NoError(t, err)
	assert.Zero(t, got.Gaps(), "zeros")
	act, err := d.Activity(tctx(t), provider.ActivityQuery{ResourceID: f.arn, Start: f.now.Add(-time.Hour), End: f.now})
	require.NoError(t, err)
	assert.Equal(t, []provider.ActivityCount{{Kind: provider.ActivityAPICalls}}, act)
	assert.Empty(t, logs.String(), "no check, no warning")
}

// arnlessELB answers DescribeLoadBalancers with one Application Load
// Balancer, and one described without its LoadBalancerArn (a nil field
// of an AWS answer); DescribeTags refuses an empty ARN, as ELBv2's
// validation does.
type arnlessELB struct{ arn string }

func (e arnlessELB) DescribeLoadBalancers(context.Context, *elasticloadbalancingv2.DescribeLoadBalancersInput, ...func(*elasticloadbalancingv2.Options)) (*elasticloadbalancingv2.DescribeLoadBalancersOutput, error) {
	return &elasticloadbalancingv2.DescribeLoadBalancersOutput{LoadBalancers: []elbtypes.LoadBalancer{
		{LoadBalancerName: awssdk.String("no-arn"), Type: elbtypes.LoadBalancerTypeEnumApplication},
		{LoadBalancerArn: awssdk.String(e.arn), LoadBalancerName: awssdk.String("web"), Type: elbtypes.LoadBalancerTypeEnumApplication},
	}}, nil
}

func (e arnlessELB) DescribeTags(_ context.Context, in *elasticloadbalancingv2.DescribeTagsInput, _ ...func(*elasticloadbalancingv2.Options)) (*elasticloadbalancingv2.DescribeTagsOutput, error) {
	out := &elasticloadbalancingv2.DescribeTagsOutput{}
	for _, arn := range in.ResourceArns {
		if arn == "" {
			return nil, &smithy.GenericAPIError{Code: "ValidationError", Message: "'' is not a valid load balancer ARN"}
		}
		out.TagDescriptions = append(out.TagDescriptions, elbtypes.TagDescription{ResourceArn: awssdk.String(arn)})
	}
	return out, nil
}

// TestListSkipsLoadBalancerWithoutARN: a DescribeLoadBalancers answer
// whose load balancer has no LoadBalancerArn failed the whole List (its
// empty ARN was asked of DescribeTags) and would have listed a resource
// without an ID; it is left out, and the others listed.
func TestListSkipsLoadBalancerWithoutARN(t *testing.T) {
	t.Parallel()
	arn := "arn:aws:elasticloadbalancing:" + lbRegion + ":123456789012:loadbalancer/app/web/0123456789abcdef"
	d := newDriverIn(t, lbRegion, fastConfig(), awsprovider.WithClients(awsprovider.Clients{ELBv2: arnlessELB{arn}}))
	got, err := d.List(tctx(t), provider.Filter{Kinds: []provider.Kind{provider.KindLoadBalancer}})
	require.NoError(t, err)
	assert.Equal(t, []string{arn}, ids(got))
}

// untypedELB answers every load balancer asked of it without a Type.
type untypedELB struct{ arnlessELB }

func (untypedELB) DescribeLoadBalancers(_ context.Context, in *elasticloadbalancingv2.DescribeLoadBalancersInput, _ ...func(*elasticloadbalancingv2.Options)) (*elasticloadbalancingv2.DescribeLoadBalancersOutput, error) {
	out := &elasticloadbalancingv2.DescribeLoadBalancersOutput{}
	for _, arn := range in.LoadBalancerArns {
		out.LoadBalancers = append(out.LoadBalancers, elbtypes.LoadBalancer{LoadBalancerArn: awssdk.String(arn), LoadBalancerName: awssdk.String("web")})
	}
	return out, nil
}

// TestGetOfAnUntypedLoadBalancerNamesIt: a load balancer AWS describes
// without a type is not known to be an Application Load Balancer, so Get
// refuses it, naming it and saying that no type was given (the message
// read "a  load balancer").
func TestGetOfAnUntypedLoadBalancerNamesIt(t *testing.T) {
	t.Parallel()
	arn := "arn:aws:elasticloadbalancing:" + lbRegion + ":123456789012:loadbalancer/app/web/0123456789abcdef"
	d := newDriverIn(t, lbRegion, fastConfig(), awsprovider.WithClients(awsprovider.Clients{ELBv2: untypedELB{arnlessELB{arn}}}))
	_, err := d.Get(tctx(t), arn)
	require.ErrorIs(t, err, provider.ErrUnsupported)
	require.ErrorContains(t, err, arn)
	assert.ErrorContains(t, err, "no type given")
}

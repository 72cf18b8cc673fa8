package aws_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
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

// deniedELB is the ELBv2 client of a host without any
// elasticloadbalancing permission: every call is AccessDenied.
type deniedELB struct{}

func (deniedELB) DescribeLoadBalancers(context.Context, *elasticloadbalancingv2.DescribeLoadBalancersInput, ...func(*elasticloadbalancingv2.Options)) (*elasticloadbalancingv2.DescribeLoadBalancersOutput, error) {
	return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized to perform: elasticloadbalancing:DescribeLoadBalancers"}
}

func (deniedELB) DescribeTags(context.Context, *elasticloadbalancingv2.DescribeTagsInput, ...func(*elasticloadbalancingv2.Options)) (*elasticloadbalancingv2.DescribeTagsOutput, error) {
	return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized to perform: elasticloadbalancing:DescribeTags"}
}

// TestListWithoutELBPermissionListsTheOtherKinds: a host whose role has
// no elasticloadbalancing permission listed its instances, groups and
// functions with List of every kind before the driver listed load
// balancers; after the upgrade that List failed with AccessDenied. It
// lists the other kinds again, with a warning naming the IAM action; a
// List that asks for load balancers (by Kinds or by an ARN) still fails.
func TestListWithoutELBPermissionListsTheOtherKinds(t *testing.T) {
	t.Parallel()
	inst := seeder{lbRegion}.runInstances(t, 1, "t3.micro", nil)[0]
	var logs strings.Builder
	d := newDriverIn(t, lbRegion, fastConfig(), awsprovider.WithClients(awsprovider.Clients{ELBv2: deniedELB{}}),
		awsprovider.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	got, err := d.List(tctx(t), provider.Filter{})
	require.NoError(t, err, "a read-only List is no safety action: the kinds the host may read are listed")
	assert.Contains(t, ids(got), inst)
	assert.Contains(t, logs.String(), "elasticloadbalancing:DescribeLoadBalancers")
	assert.Contains(t, logs.String(), "AccessDenied")

	arn := "arn:aws:elasticloadbalancing:" + lbRegion + ":123456789012:loadbalancer/app/x/0123456789abcdef"
	for _, f := range []provider.Filter{
		{Kinds: []provider.Kind{provider.KindLoadBalancer}},
		{Kinds: []provider.Kind{provider.KindInstance, provider.KindLoadBalancer}},
		{IDs: []string{arn}},
		{IDs: []string{inst, arn}},
	} {
		_, err := d.List(tctx(t), f)
		require.Error(t, err, "%+v: load balancers are asked for", f)
		assert.Contains(t, err.Error(), "AccessDenied", "%+v", f)
	}

	// Only a denial leaves them out: DescribeLoadBalancers failing
	// otherwise (an outage, throttling past the retries) fails the List
	// of every kind, which would else leave load balancers out unseen. (A
	// driver that left them out on any failure lived.)
	d = newDriverIn(t, lbRegion, fastConfig(), awsprovider.WithClients(awsprovider.Clients{ELBv2: failingELB{}}))
	_, err = d.List(tctx(t), provider.Filter{})
	require.Error(t, err, "a failed DescribeLoadBalancers is no denial")
	assert.Contains(t, err.Error(), "connection reset")
}

// failingELB is an ELBv2 client whose every call fails, not denied.
type failingELB struct{ deniedELB }

func (failingELB) DescribeLoadBalancers(context.Context, *elasticloadbalancingv2.DescribeLoadBalancersInput, ...func(*elasticloadbalancingv2.Options)) (*elasticloadbalancingv2.DescribeLoadBalancersOutput, error) {
	return nil, errors.New("connection reset")
}

// TestLoadBalancerMetricsWithoutELBPermission: before the driver read a
// load balancer's CreatedTime, a host without elasticloadbalancing
// permission read an ALB's metrics and activity from CloudWatch alone;
// after it, every such read failed with AccessDenied. The read stands as
// it did (gaps, activity unknown, with a warning naming the IAM action),
// as a function's does when the Lambda@Edge check cannot decide: what
// cannot tell when the load balancer was created never zero-fills, and
// never fails a read that needs no zeros.
func TestLoadBalancerMetricsWithoutELBPermission(t *testing.T) {
	t.Parallel()
	f := newLBFixture(t, elbtypes.LoadBalancerTypeEnumApplication)
	var logs strings.Builder
	d := newDriverIn(t, f.region, fastConfig(), awsprovider.WithClients(awsprovider.Clients{ELBv2: deniedELB{}}),
		awsprovider.WithNow(func() time.Time { return f.now }),
		awsprovider.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	for _, m := range []provider.Metric{provider.MetricRequests, provider.MetricConnections} {
		got, err := d.QueryMetric(tctx(t), provider.Query{ResourceID: f.arn, Metric: m, Statistic: provider.StatSum, Start: f.now.Add(-time.Hour), End: f.now.Add(-50 * time.Minute), Step: time.Minute})
		require.NoError(t, err, m)
		assert.Equal(t, 10, got.Gaps(), "%s: gaps, not zeros", m)
	}
	reads := []provider.MetricRead{{Query: provider.Query{ResourceID: f.arn, Metric: provider.MetricRequests, Statistic: provider.StatSum, Start: f.now.Add(-time.Hour), End: f.now.Add(-50 * time.Minute), Step: time.Minute}}}
	require.NoError(t, d.QueryMetrics(tctx(t), reads))
	require.NoError(t, reads[0].Err, "batched")
	assert.Equal(t, 10, reads[0].Series.Gaps(), "batched: gaps, not zeros")
	act, err := d.Activity(tctx(t), provider.ActivityQuery{ResourceID: f.arn, Start: f.now.Add(-time.Hour), End: f.now})
	require.NoError(t, err)
	assert.Empty(t, act, "unknown, not unused")
	assert.Contains(t, logs.String(), "elasticloadbalancing:DescribeLoadBalancers")
	assert.Contains(t, logs.String(), "AccessDenied")
}

// TestLoadBalancerAnsweringItselfIsUsed: an ALB's RequestCount counts
// only the requests for which it chose a target (the AWS documentation of
// AWS/ApplicationELB: "Requests that are rejected before a target is
// chosen are not reflected in this metric"), so one that only redirects
// (HTTP to HTTPS, an old domain to a new one), answers fixed responses,
// or answers errors itself (no healthy target) has no RequestCount
// datapoint while it is in use. Its activity read api_calls 0 over the
// window, and the detector could terminate it on no use over 28 days.
// The requests it answers itself now count.
func TestLoadBalancerAnsweringItselfIsUsed(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"HTTP_Redirect_Count", "HTTP_Fixed_Response_Count", "HTTPCode_ELB_4XX_Count", "HTTPCode_ELB_5XX_Count"} {
		f := newLBFixture(t, elbtypes.LoadBalancerTypeEnumApplication)
		now := f.now
		created := now.Add(-2 * time.Hour)
		seeder{lbRegion}.putMetric(t, "AWS/ApplicationELB", name, "LoadBalancer", f.dim, cwtypes.StandardUnitCount, map[time.Time]float64{
			now.Add(-20 * time.Minute): 7,
		})
		got, err := f.driver(t, created, fastConfig(), nil).Activity(tctx(t), provider.ActivityQuery{ResourceID: f.arn, Start: now.Add(-3 * time.Hour), End: now})
		require.NoError(t, err, name)
		assert.Equal(t, []provider.ActivityCount{{Kind: provider.ActivityAPICalls, Count: 7, Last: now.Add(-20 * time.Minute), Since: created}}, got, "%s: used, not unused", name)
	}
}

// oneMetricCW is a CloudWatch that answers the queries of the metric
// named name as statusCW does (its status, or no result with drop), and
// every other query as the CloudWatch it wraps does.
type oneMetricCW struct {
	awsprovider.CloudWatchAPI
	name   string
	status cwtypes.StatusCode
	drop   bool
}

func (s oneMetricCW) GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	out, err := s.CloudWatchAPI.GetMetricData(ctx, in, optFns...)
	if err != nil {
		return out, err
	}
	ids := map[string]bool{}
	for _, q := range in.MetricDataQueries {
		if q.MetricStat != nil && awssdk.ToString(q.MetricStat.Metric.MetricName) == s.name {
			ids[awssdk.ToString(q.Id)] = true
		}
	}
	var kept []cwtypes.MetricDataResult
	for _, r := range out.MetricDataResults {
		if ids[awssdk.ToString(r.Id)] {
			if s.drop {
				continue
			}
			r.StatusCode = s.status
		}
		kept = append(kept, r)
	}
	out.MetricDataResults = kept
	return out, nil
}

// TestLoadBalancerAnsweredItselfReadWhole: the quiet 0 of an ALB's
// activity needs each of the counts it sums answered whole, those of the
// requests it answers itself as well as RequestCount: one of them in part
// or not at all leaves the activity unknown, and one CloudWatch could not
// compute fails it. The failed reads of
// TestQuietLoadBalancerRequestsFailedReadIsNoZero fail every query at
// once, and a driver that checked RequestCount's answer alone passed them.
func TestLoadBalancerAnsweredItselfReadWhole(t *testing.T) {
	t.Parallel()
	f := newLBFixture(t, elbtypes.LoadBalancerTypeEnumApplication)
	now := f.now
	aq := provider.ActivityQuery{ResourceID: f.arn, Start: now.Add(-time.Hour), End: now}
	base := cloudwatch.NewFromConfig(sdkConfigIn(f.region), queryProtocol)
	for _, name := range []string{"RequestCount", "HTTP_Redirect_Count", "HTTP_Fixed_Response_Count", "HTTPCode_ELB_4XX_Count", "HTTPCode_ELB_5XX_Count"} {
		for _, cw := range []oneMetricCW{
			{CloudWatchAPI: base, name: name, status: cwtypes.StatusCodePartialData},
			{CloudWatchAPI: base, name: name, drop: true},
		} {
			act, err := f.driver(t, now.Add(-2*time.Hour), fastConfig(), cw).Activity(tctx(t), aq)
			require.NoError(t, err, name)
			assert.Empty(t, act, "%s (status %q, dropped %v): unknown, not 0", name, cw.status, cw.drop)
		}
		_, err := f.driver(t, now.Add(-2*time.Hour), fastConfig(), oneMetricCW{CloudWatchAPI: base, name: name, status: cwtypes.StatusCodeInternalError}).Activity(tctx(t), aq)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), name)
	}
	// Every query answered whole: a quiet 0.
	act, err := f.driver(t, now.Add(-2*time.Hour), fastConfig(), oneMetricCW{CloudWatchAPI: base, name: "none", status: cwtypes.StatusCodePartialData}).Activity(tctx(t), aq)
	require.NoError(t, err)
	assert.Equal(t, []provider.ActivityCount{{Kind: provider.ActivityAPICalls}}, act)
}

package aws_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// TestQueryMetricsDescribesLoadBalancersInFewCalls: the requests and
// connections of 22 load balancers, in a region of their own, and of one
// unknown among them, cost two DescribeLoadBalancers calls, of 20 and of
// the last 2 and the unknown one (as Activities describes them), and the
// three of the call ELBv2 failed for the unknown one asked alone: it made a DescribeLoadBalancers per
// load balancer. Every read is what QueryMetric answers alone, the
// unknown one provider.ErrNotFound, and the quiet requests read 0 from
// the CreatedTime the batch's describe gave (an hour ago).
func TestQueryMetricsDescribesLoadBalancersInFewCalls(t *testing.T) {
	t.Parallel()
	at := seeder{fewRegion}
	var lbs []string
	for range 22 {
		lbs = append(lbs, at.createLoadBalancer(t, elbtypes.LoadBalancerTypeEnumApplication, nil))
	}
	unknown := lbs[0][:strings.LastIndexByte(lbs[0], '/')+1] + "0123456789abcdef"
	now := time.Now().UTC().Truncate(time.Minute)
	_, dim, _ := strings.Cut(lbs[3], ":loadbalancer/")
	at.putMetric(t, "AWS/ApplicationELB", "RequestCount", "LoadBalancer", dim, cwtypes.StandardUnitCount, map[time.Time]float64{now.Add(2 * time.Minute): 60})
	created := map[string]time.Time{}
	for _, lb := range lbs {
		created[lb] = now.Add(-time.Hour)
	}
	elb := strictELB{&arnsELB{ELBv2API: createdELB{ELBv2API: sdkIn(fewRegion).elb, created: created}}}
	// The real clock 20 minutes ahead: the steps after the load
	// balancers were created have ended and are published.
	d := newDriverIn(t, fewRegion, fastConfig(), awsprovider.WithClients(awsprovider.Clients{ELBv2: elb}),
		awsprovider.WithNow(func() time.Time { return time.Now().Add(20 * time.Minute) }))
	query := func(id string, m provider.Metric) provider.Query {
		return provider.Query{ResourceID: id, Metric: m, Statistic: provider.StatSum, Start: now.Add(-10 * time.Minute), End: now.Add(10 * time.Minute), Step: time.Minute}
	}
	var reads []provider.MetricRead
	for _, id := range append(lbs, unknown) {
		reads = append(reads, provider.MetricRead{Query: query(id, provider.MetricRequests)}, provider.MetricRead{Query: query(id, provider.MetricConnections)})
	}
	require.NoError(t, d.QueryMetrics(tctx(t), reads))
	assert.Equal(t, []int{20, 3, 1, 1, 1}, elb.sizes, "20 load balancers a call, and the call ELBv2 failed for the unknown one asked again one by one")

	for i, r := range reads {
		want, err := d.QueryMetric(tctx(t), r.Query)
		if err != nil {
			sameFailure(t, i, r.Query.ResourceID, r.Err, err)
			continue
		}
		require.NoError(t, r.Err, "read %d (%q)", i, r.Query.ResourceID)
		msg := fmt.Sprintf("read %d (%q)", i, r.Query.ResourceID)
		assert.Equal(t, want.ResourceID, r.Series.ResourceID, msg)
		assert.Equal(t, want.Metric, r.Series.Metric, msg)
		assertSeries(t, want.Values, r.Series.Values, msg)
	}
	for _, r := range reads[2*len(lbs):] {
		require.ErrorIs(t, r.Err, provider.ErrNotFound)
		assert.Contains(t, r.Err.Error(), unknown)
	}
	requests := reads[2*3].Series
	assert.InDelta(t, 60, requests.Values[12], 1e-9, "the datapoint")
	assert.Zero(t, requests.Gaps(), "the quiet steps read 0, from the CreatedTime the batch's describe gave")
}

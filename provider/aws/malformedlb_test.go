package aws_test

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// validLoadBalancerARN is the form ELBv2 takes: a load balancer's type,
// name and 16 hex digits.
var validLoadBalancerARN = regexp.MustCompile(`^arn:aws:elasticloadbalancing:[a-z0-9-]+:[0-9]{12}:loadbalancer/(app|net|gwy)/[A-Za-z0-9-]+/[0-9a-f]{16}$`)

// validatingELB is the real ELBv2 client that refuses, as ELBv2 does
// (moto answers LoadBalancerNotFound), a DescribeLoadBalancers call that
// names a malformed ARN with ValidationError, the whole call.
type validatingELB struct{ *arnsELB }

func (c validatingELB) DescribeLoadBalancers(ctx context.Context, in *elasticloadbalancingv2.DescribeLoadBalancersInput, optFns ...func(*elasticloadbalancingv2.Options)) (*elasticloadbalancingv2.DescribeLoadBalancersOutput, error) {
	for _, arn := range in.LoadBalancerArns {
		if !validLoadBalancerARN.MatchString(arn) {
			c.mu.Lock()
			c.sizes = append(c.sizes, len(in.LoadBalancerArns))
			c.mu.Unlock()
			return nil, &smithy.GenericAPIError{Code: "ValidationError", Message: "'" + arn + "' is not a valid load balancer ARN"}
		}
	}
	return c.arnsELB.DescribeLoadBalancers(ctx, in, optFns...)
}

// TestMalformedLoadBalancerARNFailsEveryRead: an ARN ELBv2 refuses as no
// load balancer ARN was provider.ErrInvalid in Get but, in Activity and
// QueryMetric, a describe that 'failed otherwise than not found' (as
// without the permission): a warning, and the read answered from
// CloudWatch's dimension of a name no load balancer has; and in a batch
// it took down the describe of the 19 others of its call, which all lost
// their CreatedTime (their quiet counts unknown). Every read of one now
// fails with provider.ErrInvalid naming it, with no warning (one whose
// form is wrong before any call), and the others of a batch read as
// Activity reads them alone.
func TestMalformedLoadBalancerARNFailsEveryRead(t *testing.T) {
	t.Parallel()
	lb := seeder{lbRegion}.createLoadBalancer(t, elbtypes.LoadBalancerTypeEnumApplication, nil)
	prefix := "arn:aws:elasticloadbalancing:" + lbRegion + ":123456789012:loadbalancer/"
	malformed := []string{
		prefix,                                 // no load balancer
		prefix + "app/web",                     // no ID
		prefix + "app/web/0123456789abcdef/x",  // a listener's path
		prefix + "app//0123456789abcdef",       // no name
		prefix + "app/web/not-hex-digits-here", // an ID ELBv2 refuses
	}
	var logs bytes.Buffer
	elb := validatingELB{&arnsELB{ELBv2API: sdkIn(lbRegion).elb}}
	// The real clock ten minutes ahead: the window has ended and is
	// published.
	d := newDriverIn(t, lbRegion, fastConfig(), awsprovider.WithClients(awsprovider.Clients{ELBv2: elb}),
		awsprovider.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
		awsprovider.WithNow(func() time.Time { return time.Now().Add(10 * time.Minute) }))
	end := time.Now().UTC().Truncate(time.Minute).Add(5 * time.Minute)
	window := func(id string) provider.ActivityQuery {
		return provider.ActivityQuery{ResourceID: id, Start: end.Add(-time.Hour), End: end}
	}
	for _, arn := range malformed {
		_, err := d.Get(tctx(t), arn)
		require.ErrorIs(t, err, provider.ErrInvalid, "get %q", arn)
		require.ErrorContains(t, err, arn)
		_, err = d.Activity(tctx(t), window(arn))
		require.ErrorIs(t, err, provider.ErrInvalid, "activity %q", arn)
		require.ErrorContains(t, err, arn)
		_, err = d.QueryMetric(tctx(t), provider.Query{ResourceID: arn, Metric: provider.MetricRequests, Start: end.Add(-time.Hour), End: end, Step: time.Minute})
		require.ErrorIs(t, err, provider.ErrInvalid, "query metric %q", arn)
		require.ErrorContains(t, err, arn)
	}
	assert.Empty(t, logs.String(), "a refused ARN is no describe that could not decide")

	reads := []provider.ActivityRead{{Query: window(lb)}}
	for _, arn := range malformed {
		reads = append(reads, provider.ActivityRead{Query: window(arn)})
	}
	require.NoError(t, d.Activities(tctx(t), reads))
	for _, r := range reads[1:] {
		require.ErrorIs(t, r.Err, provider.ErrInvalid, "%q", r.Query.ResourceID)
	}
	require.NoError(t, reads[0].Err)
	want, err := d.Activity(tctx(t), reads[0].Query)
	require.NoError(t, err)
	assert.Equal(t, want, reads[0].Counts)
	assert.Len(t, reads[0].Counts, 1, "quiet since its CreatedTime, which the batch's describe gave")
	assert.Empty(t, logs.String())
}

package aws_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
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
}

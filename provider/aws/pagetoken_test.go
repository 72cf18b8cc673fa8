package aws_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// stuckPages answers every page of DescribeInstances, DescribePolicies
// and GetMetricData with the token it was asked with (the first page
// with "next"), as a service or a proxy that repeats its page does, and
// counts the calls.
type stuckPages struct {
	awsprovider.EC2API
	awsprovider.AutoScalingAPI
	awsprovider.CloudWatchAPI
	n atomic.Int64
}

// call counts a call, and fails it once ctx has ended, as the SDK's
// clients do.
func (s *stuckPages) call(ctx context.Context) error {
	s.n.Add(1)
	return ctx.Err()
}

func (s *stuckPages) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	if err := s.call(ctx); err != nil {
		return nil, err
	}
	return &ec2.DescribeInstancesOutput{NextToken: awssdk.String("next")}, nil
}

func (s *stuckPages) DescribePolicies(ctx context.Context, in *autoscaling.DescribePoliciesInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribePoliciesOutput, error) {
	if err := s.call(ctx); err != nil {
		return nil, err
	}
	return &autoscaling.DescribePoliciesOutput{NextToken: awssdk.String("next")}, nil
}

func (s *stuckPages) GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	if err := s.call(ctx); err != nil {
		return nil, err
	}
	return &cloudwatch.GetMetricDataOutput{NextToken: awssdk.String("next")}, nil
}

// TestRepeatedPageTokenFailsTheRead: a paged read whose answer gives
// again the token it was asked with (a service or a proxy that repeats a
// page) was asked the same page again and again until ctx ended, forever
// on a host's ctx without a deadline (a List of instances, a group's
// scaling policies, a metric), adding the page's items each time; the
// read now fails at the repeat, after two calls, with an error naming
// the call, not ctx's.
func TestRepeatedPageTokenFailsTheRead(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		read func(context.Context, *awsprovider.Driver) error
	}{
		{"describe instances", func(ctx context.Context, d *awsprovider.Driver) error {
			_, err := d.List(ctx, provider.Filter{Kinds: []provider.Kind{provider.KindInstance}})
			return err
		}},
		{"describe scaling policies", func(ctx context.Context, d *awsprovider.Driver) error {
			reads := []provider.ResourceRead{{ID: createGroup(t, 0, 1, 0, nil)}}
			if err := d.GetResources(ctx, reads); err != nil {
				return err
			}
			return reads[0].Err
		}},
		{"query metric", func(ctx context.Context, d *awsprovider.Driver) error {
			start := minuteGrid()
			_, err := d.QueryMetric(ctx, provider.Query{ResourceID: "arn:aws:rds:us-east-1:123456789012:db:orders", Metric: provider.MetricCPU, Start: start, End: start.Add(time.Minute), Step: time.Minute})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &stuckPages{EC2API: sdk().ec2, AutoScalingAPI: sdk().asg, CloudWatchAPI: cloudwatch.NewFromConfig(sdkConfig(), queryProtocol)}
			d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{EC2: s, AutoScaling: s, CloudWatch: s}))
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			err := tt.read(ctx, d)
			require.Error(t, err)
			require.NoError(t, ctx.Err(), "the read ended before ctx: %v", err)
			require.ErrorContains(t, err, "page token")
			assert.LessOrEqual(t, s.n.Load(), int64(2), "the first page and the one that repeats its token")
		})
	}
}

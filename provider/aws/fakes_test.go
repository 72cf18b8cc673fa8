package aws_test

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// countingHTTP counts every HTTP request (retries included) the driver's
// clients send.
type countingHTTP struct {
	n    atomic.Int64
	next *http.Client
}

func (c *countingHTTP) Do(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.Do(r)
}

// withCounter routes every service client through one counting HTTP client.
func withCounter(c *countingHTTP) []awsprovider.Option {
	c.next = &http.Client{}
	return []awsprovider.Option{
		awsprovider.WithEC2Options(func(o *ec2.Options) { o.HTTPClient = c }),
		awsprovider.WithAutoScalingOptions(func(o *autoscaling.Options) { o.HTTPClient = c }),
		awsprovider.WithCloudWatchOptions(func(o *cloudwatch.Options) { o.HTTPClient = c }),
		awsprovider.WithLambdaOptions(func(o *lambda.Options) { o.HTTPClient = c }),
	}
}

// recordingEC2 wraps the real EC2 client, records the operations called
// and lets a test replace single operations.
type recordingEC2 struct {
	awsprovider.EC2API

	mu    sync.Mutex
	calls []string

	describe func(ctx context.Context, in *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	modify   func(ctx context.Context, in *ec2.ModifyInstanceAttributeInput, optFns ...func(*ec2.Options)) (*ec2.ModifyInstanceAttributeOutput, error)
	stop     func(ctx context.Context, in *ec2.StopInstancesInput, optFns ...func(*ec2.Options)) (*ec2.StopInstancesOutput, error)
}

func (r *recordingEC2) record(op string) {
	r.mu.Lock()
	r.calls = append(r.calls, op)
	r.mu.Unlock()
}

func (r *recordingEC2) count(op string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.calls {
		if c == op {
			n++
		}
	}
	return n
}

func (r *recordingEC2) DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	r.record("DescribeInstances")
	if r.describe != nil {
		return r.describe(ctx, in, optFns...)
	}
	return r.EC2API.DescribeInstances(ctx, in, optFns...)
}

func (r *recordingEC2) StopInstances(ctx context.Context, in *ec2.StopInstancesInput, optFns ...func(*ec2.Options)) (*ec2.StopInstancesOutput, error) {
	r.record("StopInstances")
	if r.stop != nil {
		return r.stop(ctx, in, optFns...)
	}
	return r.EC2API.StopInstances(ctx, in, optFns...)
}

func (r *recordingEC2) StartInstances(ctx context.Context, in *ec2.StartInstancesInput, optFns ...func(*ec2.Options)) (*ec2.StartInstancesOutput, error) {
	r.record("StartInstances")
	return r.EC2API.StartInstances(ctx, in, optFns...)
}

func (r *recordingEC2) ModifyInstanceAttribute(ctx context.Context, in *ec2.ModifyInstanceAttributeInput, optFns ...func(*ec2.Options)) (*ec2.ModifyInstanceAttributeOutput, error) {
	r.record("ModifyInstanceAttribute")
	if r.modify != nil {
		return r.modify(ctx, in, optFns...)
	}
	return r.EC2API.ModifyInstanceAttribute(ctx, in, optFns...)
}

// recordingASG wraps the real Auto Scaling client.
type recordingASG struct {
	awsprovider.AutoScalingAPI

	mu      sync.Mutex
	calls   []string
	desired []*autoscaling.SetDesiredCapacityInput

	describe func(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error)
}

func (r *recordingASG) record(op string) {
	r.mu.Lock()
	r.calls = append(r.calls, op)
	r.mu.Unlock()
}

func (r *recordingASG) ops() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls...)
}

func (r *recordingASG) DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
	r.record("DescribeAutoScalingGroups")
	if r.describe != nil {
		return r.describe(ctx, in, optFns...)
	}
	return r.AutoScalingAPI.DescribeAutoScalingGroups(ctx, in, optFns...)
}

func (r *recordingASG) SetDesiredCapacity(ctx context.Context, in *autoscaling.SetDesiredCapacityInput, optFns ...func(*autoscaling.Options)) (*autoscaling.SetDesiredCapacityOutput, error) {
	r.record("SetDesiredCapacity")
	r.mu.Lock()
	r.desired = append(r.desired, in)
	r.mu.Unlock()
	return r.AutoScalingAPI.SetDesiredCapacity(ctx, in, optFns...)
}

func (r *recordingASG) UpdateAutoScalingGroup(ctx context.Context, in *autoscaling.UpdateAutoScalingGroupInput, optFns ...func(*autoscaling.Options)) (*autoscaling.UpdateAutoScalingGroupOutput, error) {
	r.record("UpdateAutoScalingGroup")
	return r.AutoScalingAPI.UpdateAutoScalingGroup(ctx, in, optFns...)
}

// countingCW wraps a CloudWatch client and counts GetMetricData calls.
type countingCW struct {
	awsprovider.CloudWatchAPI
	n atomic.Int64
}

func (c *countingCW) GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	c.n.Add(1)
	return c.CloudWatchAPI.GetMetricData(ctx, in, optFns...)
}

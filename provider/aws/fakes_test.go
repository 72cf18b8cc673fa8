package aws_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

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
		awsprovider.WithELBv2Options(func(o *elasticloadbalancingv2.Options) { o.HTTPClient = c }),
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
	start    func(ctx context.Context, in *ec2.StartInstancesInput, optFns ...func(*ec2.Options)) (*ec2.StartInstancesOutput, error)
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
	if r.start != nil {
		return r.start(ctx, in, optFns...)
	}
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
	policies func(ctx context.Context, in *autoscaling.DescribePoliciesInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribePoliciesOutput, error)
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

// count returns how many times op was called.
func (r *recordingASG) count(op string) int {
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

func (r *recordingASG) DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
	r.record("DescribeAutoScalingGroups")
	if r.describe != nil {
		return r.describe(ctx, in, optFns...)
	}
	return r.AutoScalingAPI.DescribeAutoScalingGroups(ctx, in, optFns...)
}

func (r *recordingASG) DescribePolicies(ctx context.Context, in *autoscaling.DescribePoliciesInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribePoliciesOutput, error) {
	r.record("DescribePolicies")
	if r.policies != nil {
		return r.policies(ctx, in, optFns...)
	}
	return r.AutoScalingAPI.DescribePolicies(ctx, in, optFns...)
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

// offline is a fake of all five services, with no network: a fixed set of
// instances (paged), no groups, no functions, no load balancers, and
// CloudWatch answering
// every query with one datapoint per period. Fuzz targets and benchmarks
// use it to measure and stress the driver, not moto.
type offline struct {
	instances []ec2types.Instance
	pageSize  int
}

func newOffline(n int) *offline {
	o := &offline{pageSize: 100}
	for i := range n {
		id := fmt.Sprintf("i-%017x", i+1)
		o.instances = append(o.instances, ec2types.Instance{
			InstanceId:   awssdk.String(id),
			InstanceType: ec2types.InstanceTypeM5Large,
			State:        &ec2types.InstanceState{Name: ec2types.InstanceStateNameRunning},
			Monitoring:   &ec2types.Monitoring{State: ec2types.MonitoringStateEnabled},
			Tags: []ec2types.Tag{
				{Key: awssdk.String("Name"), Value: awssdk.String("web-" + strconv.Itoa(i))},
				{Key: awssdk.String("environment"), Value: awssdk.String("production")},
				{Key: awssdk.String("criticality"), Value: awssdk.String("high")},
			},
		})
	}
	return o
}

func (o *offline) clients() awsprovider.Clients {
	return awsprovider.Clients{EC2: offlineEC2{o}, AutoScaling: offlineASG{}, CloudWatch: offlineCW{}, Lambda: offlineLambda{}, ELBv2: offlineELB{}}
}

type offlineEC2 struct{ *offline }

func (o offlineEC2) DescribeInstances(_ context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	if len(in.InstanceIds) > 0 {
		for _, inst := range o.instances {
			if *inst.InstanceId == in.InstanceIds[0] {
				return &ec2.DescribeInstancesOutput{Reservations: []ec2types.Reservation{{Instances: []ec2types.Instance{inst}}}}, nil
			}
		}
		return nil, &smithy.GenericAPIError{Code: "InvalidInstanceID.NotFound", Message: "not found"}
	}
	start := 0
	if in.NextToken != nil {
		start, _ = strconv.Atoi(*in.NextToken)
	}
	end := min(start+o.pageSize, len(o.instances))
	out := &ec2.DescribeInstancesOutput{Reservations: []ec2types.Reservation{{Instances: o.instances[start:end]}}}
	if end < len(o.instances) {
		out.NextToken = awssdk.String(strconv.Itoa(end))
	}
	return out, nil
}

func (offlineEC2) StartInstances(context.Context, *ec2.StartInstancesInput, ...func(*ec2.Options)) (*ec2.StartInstancesOutput, error) {
	return &ec2.StartInstancesOutput{}, nil
}

func (offlineEC2) StopInstances(context.Context, *ec2.StopInstancesInput, ...func(*ec2.Options)) (*ec2.StopInstancesOutput, error) {
	return &ec2.StopInstancesOutput{}, nil
}

func (offlineEC2) TerminateInstances(context.Context, *ec2.TerminateInstancesInput, ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error) {
	return &ec2.TerminateInstancesOutput{}, nil
}

func (offlineEC2) ModifyInstanceAttribute(context.Context, *ec2.ModifyInstanceAttributeInput, ...func(*ec2.Options)) (*ec2.ModifyInstanceAttributeOutput, error) {
	return &ec2.ModifyInstanceAttributeOutput{}, nil
}

func (offlineEC2) DescribeSnapshots(context.Context, *ec2.DescribeSnapshotsInput, ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error) {
	return &ec2.DescribeSnapshotsOutput{}, nil
}

// DescribeVolumes: the offline account has no volume.
func (offlineEC2) DescribeVolumes(_ context.Context, in *ec2.DescribeVolumesInput, _ ...func(*ec2.Options)) (*ec2.DescribeVolumesOutput, error) {
	if len(in.VolumeIds) > 0 {
		return nil, &smithy.GenericAPIError{Code: "InvalidVolume.NotFound", Message: "not found"}
	}
	return &ec2.DescribeVolumesOutput{}, nil
}

func (offlineEC2) DescribeSpotInstanceRequests(context.Context, *ec2.DescribeSpotInstanceRequestsInput, ...func(*ec2.Options)) (*ec2.DescribeSpotInstanceRequestsOutput, error) {
	return nil, &smithy.GenericAPIError{Code: "InvalidSpotInstanceRequestID.NotFound", Message: "not found"}
}

func (offlineEC2) DeleteVolume(context.Context, *ec2.DeleteVolumeInput, ...func(*ec2.Options)) (*ec2.DeleteVolumeOutput, error) {
	return nil, &smithy.GenericAPIError{Code: "InvalidVolume.NotFound", Message: "not found"}
}

type offlineASG struct{}

func (offlineASG) DescribeAutoScalingGroups(context.Context, *autoscaling.DescribeAutoScalingGroupsInput, ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
	return &autoscaling.DescribeAutoScalingGroupsOutput{}, nil
}

func (offlineASG) DescribePolicies(context.Context, *autoscaling.DescribePoliciesInput, ...func(*autoscaling.Options)) (*autoscaling.DescribePoliciesOutput, error) {
	return &autoscaling.DescribePoliciesOutput{}, nil
}

func (offlineASG) UpdateAutoScalingGroup(context.Context, *autoscaling.UpdateAutoScalingGroupInput, ...func(*autoscaling.Options)) (*autoscaling.UpdateAutoScalingGroupOutput, error) {
	return nil, errors.New("offline: no groups")
}

func (offlineASG) SetDesiredCapacity(context.Context, *autoscaling.SetDesiredCapacityInput, ...func(*autoscaling.Options)) (*autoscaling.SetDesiredCapacityOutput, error) {
	return nil, errors.New("offline: no groups")
}

type offlineLambda struct{}

func (offlineLambda) ListFunctions(context.Context, *lambda.ListFunctionsInput, ...func(*lambda.Options)) (*lambda.ListFunctionsOutput, error) {
	return &lambda.ListFunctionsOutput{}, nil
}

func (offlineLambda) GetFunction(context.Context, *lambda.GetFunctionInput, ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error) {
	return nil, &lambdatypes.ResourceNotFoundException{Message: awssdk.String("offline: no functions")}
}

func (offlineLambda) ListTags(context.Context, *lambda.ListTagsInput, ...func(*lambda.Options)) (*lambda.ListTagsOutput, error) {
	return &lambda.ListTagsOutput{}, nil
}

func (offlineLambda) UpdateFunctionConfiguration(context.Context, *lambda.UpdateFunctionConfigurationInput, ...func(*lambda.Options)) (*lambda.UpdateFunctionConfigurationOutput, error) {
	return nil, &lambdatypes.ResourceNotFoundException{Message: awssdk.String("offline: no functions")}
}

func (offlineLambda) ListVersionsByFunction(context.Context, *lambda.ListVersionsByFunctionInput, ...func(*lambda.Options)) (*lambda.ListVersionsByFunctionOutput, error) {
	return nil, &lambdatypes.ResourceNotFoundException{Message: awssdk.String("offline: no functions")}
}

type offlineELB struct{}

func (offlineELB) DescribeLoadBalancers(_ context.Context, in *elasticloadbalancingv2.DescribeLoadBalancersInput, _ ...func(*elasticloadbalancingv2.Options)) (*elasticloadbalancingv2.DescribeLoadBalancersOutput, error) {
	if len(in.LoadBalancerArns) > 0 || len(in.Names) > 0 {
		return nil, &elbtypes.LoadBalancerNotFoundException{Message: awssdk.String("offline: no load balancers")}
	}
	return &elasticloadbalancingv2.DescribeLoadBalancersOutput{}, nil
}

func (offlineELB) DescribeTags(context.Context, *elasticloadbalancingv2.DescribeTagsInput, ...func(*elasticloadbalancingv2.Options)) (*elasticloadbalancingv2.DescribeTagsOutput, error) {
	return nil, &elbtypes.LoadBalancerNotFoundException{Message: awssdk.String("offline: no load balancers")}
}

type offlineCW struct{}

// GetMetricData answers each query with a datapoint per period, CPU-like
// values in percent.
func (offlineCW) GetMetricData(_ context.Context, in *cloudwatch.GetMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	out := &cloudwatch.GetMetricDataOutput{}
	start, end := awssdk.ToTime(in.StartTime), awssdk.ToTime(in.EndTime)
	for _, q := range in.MetricDataQueries {
		period := time.Duration(awssdk.ToInt32(q.MetricStat.Period)) * time.Second
		r := cwtypes.MetricDataResult{Id: q.Id, StatusCode: cwtypes.StatusCodeComplete}
		i := 0
		for t := start; t.Before(end); t = t.Add(period) {
			r.Timestamps = append(r.Timestamps, t)
			r.Values = append(r.Values, float64(i%100))
			i++
		}
		out.MetricDataResults = append(out.MetricDataResults, r)
	}
	return out, nil
}

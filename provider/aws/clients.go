package aws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// The driver calls AWS only through the per-operation interfaces below,
// each with the exact method shape of the SDK's client, so that a host can
// wrap one operation (for logging, metrics or fault injection) or fake a
// whole service in its tests. *ec2.Client, *autoscaling.Client,
// *cloudwatch.Client, *lambda.Client, *elasticloadbalancingv2.Client and
// *sts.Client satisfy them.

// DescribeInstancesAPI is EC2 DescribeInstances (also used by the EC2
// waiters).
type DescribeInstancesAPI interface {
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
}

// StartInstancesAPI is EC2 StartInstances.
type StartInstancesAPI interface {
	StartInstances(ctx context.Context, in *ec2.StartInstancesInput, optFns ...func(*ec2.Options)) (*ec2.StartInstancesOutput, error)
}

// StopInstancesAPI is EC2 StopInstances.
type StopInstancesAPI interface {
	StopInstances(ctx context.Context, in *ec2.StopInstancesInput, optFns ...func(*ec2.Options)) (*ec2.StopInstancesOutput, error)
}

// TerminateInstancesAPI is EC2 TerminateInstances.
type TerminateInstancesAPI interface {
	TerminateInstances(ctx context.Context, in *ec2.TerminateInstancesInput, optFns ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error)
}

// ModifyInstanceAttributeAPI is EC2 ModifyInstanceAttribute (instance type
// changes).
type ModifyInstanceAttributeAPI interface {
	ModifyInstanceAttribute(ctx context.Context, in *ec2.ModifyInstanceAttributeInput, optFns ...func(*ec2.Options)) (*ec2.ModifyInstanceAttributeOutput, error)
}

// DescribeSnapshotsAPI is EC2 DescribeSnapshots.
type DescribeSnapshotsAPI interface {
	DescribeSnapshots(ctx context.Context, in *ec2.DescribeSnapshotsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error)
}

// DescribeVolumesAPI is EC2 DescribeVolumes: the inventory's EBS
// volumes, and whether one exists, is attached, and since when, for its
// metrics, activity, backups and Terminate (also used by the
// VolumeDeleted waiter).
type DescribeVolumesAPI interface {
	DescribeVolumes(ctx context.Context, in *ec2.DescribeVolumesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeVolumesOutput, error)
}

// DeleteVolumeAPI is EC2 DeleteVolume (Terminate of a detached volume).
type DeleteVolumeAPI interface {
	DeleteVolume(ctx context.Context, in *ec2.DeleteVolumeInput, optFns ...func(*ec2.Options)) (*ec2.DeleteVolumeOutput, error)
}

// DescribeSpotInstanceRequestsAPI is EC2 DescribeSpotInstanceRequests
// (whether the Spot request that launched an instance is persistent,
// before Terminate; called only for such an instance).
type DescribeSpotInstanceRequestsAPI interface {
	DescribeSpotInstanceRequests(ctx context.Context, in *ec2.DescribeSpotInstanceRequestsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeSpotInstanceRequestsOutput, error)
}

// EC2API is every EC2 operation the driver uses.
type EC2API interface {
	DescribeInstancesAPI
	StartInstancesAPI
	StopInstancesAPI
	TerminateInstancesAPI
	ModifyInstanceAttributeAPI
	DescribeSnapshotsAPI
	DescribeVolumesAPI
	DeleteVolumeAPI
	DescribeSpotInstanceRequestsAPI
}

// DescribeAutoScalingGroupsAPI is Auto Scaling DescribeAutoScalingGroups.
type DescribeAutoScalingGroupsAPI interface {
	DescribeAutoScalingGroups(ctx context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error)
}

// UpdateAutoScalingGroupAPI is Auto Scaling UpdateAutoScalingGroup.
type UpdateAutoScalingGroupAPI interface {
	UpdateAutoScalingGroup(ctx context.Context, in *autoscaling.UpdateAutoScalingGroupInput, optFns ...func(*autoscaling.Options)) (*autoscaling.UpdateAutoScalingGroupOutput, error)
}

// SetDesiredCapacityAPI is Auto Scaling SetDesiredCapacity.
type SetDesiredCapacityAPI interface {
	SetDesiredCapacity(ctx context.Context, in *autoscaling.SetDesiredCapacityInput, optFns ...func(*autoscaling.Options)) (*autoscaling.SetDesiredCapacityOutput, error)
}

// DescribePoliciesAPI is Auto Scaling DescribePolicies (the scaling
// policies behind Resource.ScaledBy; not called with
// Config.IgnoreScalingPolicies).
type DescribePoliciesAPI interface {
	DescribePolicies(ctx context.Context, in *autoscaling.DescribePoliciesInput, optFns ...func(*autoscaling.Options)) (*autoscaling.DescribePoliciesOutput, error)
}

// AutoScalingAPI is every Auto Scaling operation the driver uses.
type AutoScalingAPI interface {
	DescribeAutoScalingGroupsAPI
	UpdateAutoScalingGroupAPI
	SetDesiredCapacityAPI
	DescribePoliciesAPI
}

// GetMetricDataAPI is CloudWatch GetMetricData.
type GetMetricDataAPI interface {
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

// CloudWatchAPI is every CloudWatch operation the driver uses.
type CloudWatchAPI interface {
	GetMetricDataAPI
}

// ListFunctionsAPI is Lambda ListFunctions.
type ListFunctionsAPI interface {
	ListFunctions(ctx context.Context, in *lambda.ListFunctionsInput, optFns ...func(*lambda.Options)) (*lambda.ListFunctionsOutput, error)
}

// GetFunctionAPI is Lambda GetFunction (also used by the Lambda waiter).
type GetFunctionAPI interface {
	GetFunction(ctx context.Context, in *lambda.GetFunctionInput, optFns ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error)
}

// UpdateFunctionConfigurationAPI is Lambda UpdateFunctionConfiguration.
type UpdateFunctionConfigurationAPI interface {
	UpdateFunctionConfiguration(ctx context.Context, in *lambda.UpdateFunctionConfigurationInput, optFns ...func(*lambda.Options)) (*lambda.UpdateFunctionConfigurationOutput, error)
}

// ListVersionsByFunctionAPI is Lambda ListVersionsByFunction (whether a
// function in us-east-1 has a published version, which Lambda@Edge runs;
// not called with Config.IgnoreFunctionVersions).
type ListVersionsByFunctionAPI interface {
	ListVersionsByFunction(ctx context.Context, in *lambda.ListVersionsByFunctionInput, optFns ...func(*lambda.Options)) (*lambda.ListVersionsByFunctionOutput, error)
}

// LambdaAPI is every Lambda operation the driver uses.
type LambdaAPI interface {
	ListFunctionsAPI
	GetFunctionAPI
	UpdateFunctionConfigurationAPI
	ListVersionsByFunctionAPI
}

// DescribeLoadBalancersAPI is Elastic Load Balancing (v2)
// DescribeLoadBalancers: the inventory's Application Load Balancers, and
// whether one exists, and since when, for its metrics and activity.
type DescribeLoadBalancersAPI interface {
	DescribeLoadBalancers(ctx context.Context, in *elasticloadbalancingv2.DescribeLoadBalancersInput, optFns ...func(*elasticloadbalancingv2.Options)) (*elasticloadbalancingv2.DescribeLoadBalancersOutput, error)
}

// DescribeTagsAPI is Elastic Load Balancing (v2) DescribeTags (the
// inventory's load balancer tags, up to 20 load balancers a call).
type DescribeTagsAPI interface {
	DescribeTags(ctx context.Context, in *elasticloadbalancingv2.DescribeTagsInput, optFns ...func(*elasticloadbalancingv2.Options)) (*elasticloadbalancingv2.DescribeTagsOutput, error)
}

// ELBv2API is every Elastic Load Balancing (v2) operation the driver
// uses.
type ELBv2API interface {
	DescribeLoadBalancersAPI
	DescribeTagsAPI
}

// GetCallerIdentityAPI is STS GetCallerIdentity: the account the
// driver's credentials belong to, which an ARN must name (see the package
// doc, "Resource IDs"). It is called once, the first time the driver is
// given an ARN naming an account, and not at all with Config.AccountID.
type GetCallerIdentityAPI interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// STSAPI is every AWS Security Token Service operation the driver uses.
type STSAPI interface {
	GetCallerIdentityAPI
}

// Clients are the service clients the driver calls. New builds them from an
// aws.Config; WithClients replaces any of them (a nil field keeps the one
// New built).
type Clients struct {
	EC2         EC2API
	AutoScaling AutoScalingAPI
	CloudWatch  CloudWatchAPI
	Lambda      LambdaAPI
	ELBv2       ELBv2API
	STS         STSAPI
}

// The SDK's clients satisfy the driver's interfaces.
var (
	_ EC2API         = (*ec2.Client)(nil)
	_ AutoScalingAPI = (*autoscaling.Client)(nil)
	_ CloudWatchAPI  = (*cloudwatch.Client)(nil)
	_ LambdaAPI      = (*lambda.Client)(nil)
	_ ELBv2API       = (*elasticloadbalancingv2.Client)(nil)
	_ STSAPI         = (*sts.Client)(nil)

	_ ec2.DescribeInstancesAPIClient                        = DescribeInstancesAPI(nil)
	_ ec2.DescribeSnapshotsAPIClient                        = DescribeSnapshotsAPI(nil)
	_ ec2.DescribeVolumesAPIClient                          = DescribeVolumesAPI(nil)
	_ autoscaling.DescribeAutoScalingGroupsAPIClient        = DescribeAutoScalingGroupsAPI(nil)
	_ autoscaling.DescribePoliciesAPIClient                 = DescribePoliciesAPI(nil)
	_ cloudwatch.GetMetricDataAPIClient                     = GetMetricDataAPI(nil)
	_ lambda.ListFunctionsAPIClient                         = ListFunctionsAPI(nil)
	_ lambda.GetFunctionAPIClient                           = GetFunctionAPI(nil)
	_ lambda.ListVersionsByFunctionAPIClient                = ListVersionsByFunctionAPI(nil)
	_ elasticloadbalancingv2.DescribeLoadBalancersAPIClient = DescribeLoadBalancersAPI(nil)
)

package aws_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwschemas "github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/mototest"
	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// moto is the package's one moto_server; TestMain starts it and resets its
// state (moto's state is global to the server).
var moto *mototest.Server

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	srv, err := mototest.Start(ctx)
	if err == nil {
		err = srv.Reset(ctx)
	}
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "provider/aws tests need a real moto_server (moto 5.2.1): %v\n", err)
		srv.Close()
		os.Exit(1)
	}
	moto = srv
	code := m.Run()
	srv.Close()
	os.Exit(code)
}

const region = "us-east-1"

// sdkConfig points the SDK at moto with static test credentials.
func sdkConfig() awssdk.Config { return sdkConfigIn(region) }

// sdkConfigIn is sdkConfig for another region: moto keeps EC2, Auto
// Scaling, CloudWatch and Lambda state per region, so a test in its own
// region sees only its own resources.
func sdkConfigIn(region string) awssdk.Config {
	return awssdk.Config{
		Region:       region,
		BaseEndpoint: awssdk.String(moto.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
	}
}

// queryProtocol makes a CloudWatch client speak awsquery: moto cannot parse
// the Smithy RPCv2-CBOR that service/cloudwatch v1.53+ sends by default.
func queryProtocol(o *cloudwatch.Options) {
	o.Protocol = awsquery.New(cwschemas.GraniteServiceVersion20100801)
}

// fastConfig is a driver configuration for moto, whose transitions are
// instant: short waiter delays and back-off.
func fastConfig() awsprovider.Config {
	return awsprovider.Config{
		WaitTimeout:  30 * time.Second,
		WaitMinDelay: 10 * time.Millisecond,
		WaitMaxDelay: 100 * time.Millisecond,
		MaxBackoff:   20 * time.Millisecond,
	}
}

func newDriver(t tb, opts ...awsprovider.Option) *awsprovider.Driver {
	t.Helper()
	return newDriverIn(t, region, fastConfig(), opts...)
}

// newDriverConfig is newDriver with cfg instead of fastConfig().
func newDriverConfig(t tb, cfg awsprovider.Config, opts ...awsprovider.Option) *awsprovider.Driver {
	t.Helper()
	return newDriverIn(t, region, cfg, opts...)
}

func newDriverIn(t tb, region string, cfg awsprovider.Config, opts ...awsprovider.Option) *awsprovider.Driver {
	t.Helper()
	base := []awsprovider.Option{awsprovider.WithCloudWatchOptions(queryProtocol)}
	d, err := awsprovider.New(cfg, sdkConfigIn(region), append(base, opts...)...)
	require.NoError(t, err)
	return d
}

// tb is what the seeders need of a test; testing.TB and the examples'
// exampleT provide it.
type tb interface {
	Helper()
	Errorf(format string, args ...any)
	FailNow()
	Context() context.Context
	Cleanup(func())
}

// seeder creates fixture resources in one region.
type seeder struct{ region string }

// clients are raw SDK clients for seeding moto.
type clients struct {
	ec2    *ec2.Client
	asg    *autoscaling.Client
	cw     *cloudwatch.Client
	lambda *lambda.Client
	iam    *iam.Client
	elb    *elasticloadbalancingv2.Client
}

func sdk() clients { return sdkIn(region) }

func sdkIn(region string) clients {
	cfg := sdkConfigIn(region)
	return clients{
		ec2:    ec2.NewFromConfig(cfg),
		asg:    autoscaling.NewFromConfig(cfg),
		cw:     cloudwatch.NewFromConfig(cfg, queryProtocol),
		lambda: lambda.NewFromConfig(cfg),
		iam:    iam.NewFromConfig(cfg),
		elb:    elasticloadbalancingv2.NewFromConfig(cfg),
	}
}

// uniq returns a name no other test uses.
func uniq(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

func tctx(t tb) context.Context {
	c, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return c
}

const ami = "ami-12c6146b" // one of moto's default AMIs

// runInstances starts n instances with tags and returns their IDs.
func runInstances(t tb, n int, typ string, tags map[string]string) []string {
	t.Helper()
	return seeder{region}.runInstances(t, n, typ, tags)
}

func (s seeder) runInstances(t tb, n int, typ string, tags map[string]string) []string {
	t.Helper()
	in := &ec2.RunInstancesInput{
		ImageId: awssdk.String(ami), MinCount: awssdk.Int32(int32(n)), MaxCount: awssdk.Int32(int32(n)),
		InstanceType: ec2types.InstanceType(typ),
	}
	if len(tags) > 0 {
		spec := ec2types.TagSpecification{ResourceType: ec2types.ResourceTypeInstance}
		for k, v := range tags {
			spec.Tags = append(spec.Tags, ec2types.Tag{Key: awssdk.String(k), Value: awssdk.String(v)})
		}
		in.TagSpecifications = []ec2types.TagSpecification{spec}
	}
	out, err := sdkIn(s.region).ec2.RunInstances(tctx(t), in)
	require.NoError(t, err)
	ids := make([]string, len(out.Instances))
	for i, inst := range out.Instances {
		ids[i] = awssdk.ToString(inst.InstanceId)
	}
	return ids
}

// createGroup creates an Auto Scaling group with a launch configuration.
func createGroup(t tb, min, max, desired int, tags map[string]string) string {
	t.Helper()
	return seeder{region}.createGroup(t, min, max, desired, tags)
}

func (s seeder) createGroup(t tb, min, max, desired int, tags map[string]string) string {
	t.Helper()
	c := sdkIn(s.region)
	name := uniq("asg")
	_, err := c.asg.CreateLaunchConfiguration(tctx(t), &autoscaling.CreateLaunchConfigurationInput{
		LaunchConfigurationName: awssdk.String(name + "-lc"), ImageId: awssdk.String(ami), InstanceType: awssdk.String("t3.micro"),
	})
	require.NoError(t, err)
	in := &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName:    awssdk.String(name),
		LaunchConfigurationName: awssdk.String(name + "-lc"),
		MinSize:                 awssdk.Int32(int32(min)),
		MaxSize:                 awssdk.Int32(int32(max)),
		DesiredCapacity:         awssdk.Int32(int32(desired)),
		AvailabilityZones:       []string{s.region + "a"},
	}
	for k, v := range tags {
		in.Tags = append(in.Tags, asgTag(name, k, v))
	}
	_, err = c.asg.CreateAutoScalingGroup(tctx(t), in)
	require.NoError(t, err)
	return name
}

var (
	roleOnce sync.Once
	roleARN  string
	roleErr  error
)

// lambdaRole returns the ARN of an IAM role for functions (moto checks that
// it exists), created once per package.
func lambdaRole(t tb) string {
	t.Helper()
	roleOnce.Do(func() {
		out, err := sdk().iam.CreateRole(context.Background(), &iam.CreateRoleInput{
			RoleName:                 awssdk.String("idlescale-test-lambda"),
			AssumeRolePolicyDocument: awssdk.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
		})
		if err != nil {
			roleErr = err
			return
		}
		roleARN = awssdk.ToString(out.Role.Arn)
	})
	require.NoError(t, roleErr)
	return roleARN
}

// functionZip is a minimal Python handler, zipped in memory.
var functionZip = sync.OnceValue(func() []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("index.py")
	_, _ = w.Write([]byte("def handler(event, context):\n    return event\n"))
	_ = zw.Close()
	return buf.Bytes()
})

// createFunction creates a Lambda function and returns its ARN.
func createFunction(t tb, memory, timeoutSec int, tags map[string]string) string {
	t.Helper()
	return seeder{region}.createFunction(t, memory, timeoutSec, tags)
}

func (s seeder) createFunction(t tb, memory, timeoutSec int, tags map[string]string) string {
	t.Helper()
	out, err := sdkIn(s.region).lambda.CreateFunction(tctx(t), &lambda.CreateFunctionInput{
		FunctionName: awssdk.String(uniq("fn")),
		Runtime:      lambdatypes.RuntimePython312,
		Role:         awssdk.String(lambdaRole(t)),
		Handler:      awssdk.String("index.handler"),
		Code:         &lambdatypes.FunctionCode{ZipFile: functionZip()},
		MemorySize:   awssdk.Int32(int32(memory)),
		Timeout:      awssdk.Int32(int32(timeoutSec)),
		Tags:         tags,
	})
	require.NoError(t, err)
	return awssdk.ToString(out.FunctionArn)
}

// createLoadBalancer creates a load balancer of type typ (application,
// network) in two of the region's default subnets, in different
// availability zones, with tags, and returns its ARN.
func (s seeder) createLoadBalancer(t tb, typ elbtypes.LoadBalancerTypeEnum, tags map[string]string) string {
	t.Helper()
	c := sdkIn(s.region)
	subnets, err := c.ec2.DescribeSubnets(tctx(t), &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: awssdk.String("default-for-az"), Values: []string{"true"}}}})
	require.NoError(t, err)
	var ids []string
	zones := map[string]bool{}
	for _, sn := range subnets.Subnets {
		if z := awssdk.ToString(sn.AvailabilityZone); !zones[z] && len(ids) < 2 {
			zones[z] = true
			ids = append(ids, awssdk.ToString(sn.SubnetId))
		}
	}
	require.Len(t, ids, 2, "moto's default VPC has a subnet per availability zone")
	in := &elasticloadbalancingv2.CreateLoadBalancerInput{Name: awssdk.String(uniq("lb")), Type: typ, Subnets: ids}
	for k, v := range tags {
		in.Tags = append(in.Tags, elbtypes.Tag{Key: awssdk.String(k), Value: awssdk.String(v)})
	}
	out, err := c.elb.CreateLoadBalancer(tctx(t), in)
	require.NoError(t, err)
	require.Len(t, out.LoadBalancers, 1)
	return awssdk.ToString(out.LoadBalancers[0].LoadBalancerArn)
}

// snapshot takes an EBS snapshot of the instance's root volume with tags.
func snapshot(t tb, instanceID string, tags map[string]string) string {
	t.Helper()
	return seeder{region}.snapshot(t, instanceID, tags)
}

func (s seeder) snapshot(t tb, instanceID string, tags map[string]string) string {
	t.Helper()
	c := sdkIn(s.region)
	out, err := c.ec2.DescribeInstances(tctx(t), &ec2.DescribeInstancesInput{InstanceIds: []string{instanceID}})
	require.NoError(t, err)
	require.NotEmpty(t, out.Reservations)
	inst := out.Reservations[0].Instances[0]
	require.NotEmpty(t, inst.BlockDeviceMappings, "moto gives every instance a root volume")
	in := &ec2.CreateSnapshotInput{VolumeId: inst.BlockDeviceMappings[0].Ebs.VolumeId}
	if len(tags) > 0 {
		spec := ec2types.TagSpecification{ResourceType: ec2types.ResourceTypeSnapshot}
		for k, v := range tags {
			spec.Tags = append(spec.Tags, ec2types.Tag{Key: awssdk.String(k), Value: awssdk.String(v)})
		}
		in.TagSpecifications = []ec2types.TagSpecification{spec}
	}
	snap, err := c.ec2.CreateSnapshot(tctx(t), in)
	require.NoError(t, err)
	return awssdk.ToString(snap.SnapshotId)
}

// putMetric writes datapoints of one metric with one dimension.
func putMetric(t tb, namespace, name, dim, value string, unit cwtypes.StandardUnit, points map[time.Time]float64) {
	t.Helper()
	seeder{region}.putMetric(t, namespace, name, dim, value, unit, points)
}

func (s seeder) putMetric(t tb, namespace, name, dim, value string, unit cwtypes.StandardUnit, points map[time.Time]float64) {
	t.Helper()
	var data []cwtypes.MetricDatum
	for ts, v := range points {
		data = append(data, cwtypes.MetricDatum{
			MetricName: awssdk.String(name),
			Dimensions: []cwtypes.Dimension{{Name: awssdk.String(dim), Value: awssdk.String(value)}},
			Timestamp:  awssdk.Time(ts),
			Value:      awssdk.Float64(v),
			Unit:       unit,
		})
	}
	for lo := 0; lo < len(data); lo += 500 {
		_, err := sdkIn(s.region).cw.PutMetricData(tctx(t), &cloudwatch.PutMetricDataInput{
			Namespace: awssdk.String(namespace), MetricData: data[lo:min(lo+500, len(data))],
		})
		require.NoError(t, err)
	}
}

func asgTag(group, k, v string) asgtypes.Tag {
	return asgtypes.Tag{
		Key: awssdk.String(k), Value: awssdk.String(v), PropagateAtLaunch: awssdk.Bool(false),
		ResourceId: awssdk.String(group), ResourceType: awssdk.String("auto-scaling-group"),
	}
}

type ctxT = context.Context

func sorted(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

func ids(rs []provider.Resource) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

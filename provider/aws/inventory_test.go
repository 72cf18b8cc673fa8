package aws_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	asgtypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

func TestInventoryMapsTags(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	team := uniq("team")
	inst := runInstances(t, 1, "m5.large", map[string]string{
		"Name": "billing-db", "Environment": "production", "role": "database", "Criticality": "HIGH",
		"owner": team, "idlescale:protected": "true", "timezone": "Europe/Paris",
	})[0]
	plain := runInstances(t, 1, "t3.micro", map[string]string{"owner": team, "criticality": "sky-high", "idlescale:protected": "no", "timezone": "Mars/Olympus"})[0]
	typo := runInstances(t, 1, "t3.micro", map[string]string{"timezone": "Asia/Tokio", "idlescale:protected": "no"})[0]
	tier := runInstances(t, 1, "t3.micro", map[string]string{"criticality": "tier-1", "idlescale:protected": "no", "timezone": "Asia/Tokyo"})[0]
	local := runInstances(t, 1, "t3.micro", map[string]string{"timezone": "Local"})[0]
	unprotected := runInstances(t, 1, "t3.micro", map[string]string{"criticality": "low", "idlescale:protected": "off", "timezone": "Asia/Tokyo"})[0]
	group := createGroup(t, 0, 2, 0, map[string]string{"environment": "staging", "owner": team})
	fn := createFunction(t, 256, 30, map[string]string{"environment": "dev", "owner": team, "idlescale:protected": "yes"})

	got, err := d.Get(tctx(t), inst)
	require.NoError(t, err)
	assert.Equal(t, provider.Resource{
		ID: inst, Kind: provider.KindInstance, Provider: "aws", Region: region, Name: "billing-db",
		State: provider.StateRunning, Environment: "production", Role: "database",
		Criticality: provider.CriticalityHigh, Owner: team, Protected: true, TimeZone: "Europe/Paris",
		LaunchTime: got.LaunchTime, Size: provider.Size{InstanceType: "m5.large", VCPU: got.Size.VCPU},
		Tags: map[string]string{
			"Name": "billing-db", "Environment": "production", "role": "database", "Criticality": "HIGH",
			"owner": team, "idlescale:protected": "true", "timezone": "Europe/Paris",
		},
	}, got)
	assert.False(t, got.LaunchTime.IsZero())
	require.NoError(t, got.Validate())

	other, err := d.Get(tctx(t), plain)
	require.NoError(t, err)
	assert.Equal(t, provider.CriticalityUnknown, other.Criticality, "a malformed criticality is left unknown")
	assert.True(t, other.Protected, `a malformed criticality or zone protects, whatever "idlescale:protected" says`)
	assert.Empty(t, other.TimeZone, "an unknown zone is left unset")
	other, err = d.Get(tctx(t), typo)
	require.NoError(t, err)
	assert.True(t, other.Protected, "a misspelt zone alone protects: business hours cannot be judged in it")
	assert.Empty(t, other.TimeZone)
	other, err = d.Get(tctx(t), tier)
	require.NoError(t, err)
	assert.True(t, other.Protected, "a criticality the rules cannot read alone protects")
	assert.Equal(t, "Asia/Tokyo", other.TimeZone)
	other, err = d.Get(tctx(t), local)
	require.NoError(t, err)
	assert.True(t, other.Protected, `"Local" is the host's zone, not the resource's`)
	assert.Empty(t, other.TimeZone)
	other, err = d.Get(tctx(t), unprotected)
	require.NoError(t, err)
	assert.False(t, other.Protected, `"off" does not protect`)
	assert.Equal(t, "Asia/Tokyo", other.TimeZone)
	assert.Equal(t, provider.CriticalityLow, other.Criticality)

	all, err := d.List(tctx(t), provider.Filter{Tags: map[string]string{"owner": team}})
	require.NoError(t, err)
	byID := map[string]provider.Resource{}
	for _, r := range all {
		byID[r.ID] = r
		require.NoError(t, r.Validate())
	}
	require.Len(t, byID, 4)
	assert.Equal(t, provider.KindGroup, byID[group].Kind)
	assert.Equal(t, "staging", byID[group].Environment)
	require.Contains(t, byID, fn)
	assert.Equal(t, provider.KindFunction, byID[fn].Kind)
	assert.Equal(t, "dev", byID[fn].Environment)
	assert.True(t, byID[fn].Protected)
	assert.Equal(t, provider.Size{MemoryMiB: 256, Timeout: 30 * time.Second}, byID[fn].Size)
}

func TestListFilters(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	team := uniq("team")
	small := runInstances(t, 2, "t3.micro", map[string]string{"owner": team})
	big := runInstances(t, 1, "m5.xlarge", map[string]string{"owner": team, "environment": "production"})[0]
	require.NoError(t, d.Stop(tctx(t), small[1]))
	group := createGroup(t, 0, 2, 0, map[string]string{"owner": team})
	byOwner := provider.Filter{Tags: map[string]string{"owner": team}}

	tests := []struct {
		name string
		give func(provider.Filter) provider.Filter
		want []string
	}{
		{"tag", func(f provider.Filter) provider.Filter { return f }, sorted(small[0], small[1], big, group)},
		{"kind instance", func(f provider.Filter) provider.Filter {
			f.Kinds = []provider.Kind{provider.KindInstance}
			return f
		}, sorted(small[0], small[1], big)},
		{"kind group", func(f provider.Filter) provider.Filter {
			f.Kinds = []provider.Kind{provider.KindGroup}
			return f
		}, []string{group}},
		{"state stopped", func(f provider.Filter) provider.Filter {
			f.States = []provider.State{provider.StateStopped}
			return f
		}, []string{small[1]}},
		{"environment", func(f provider.Filter) provider.Filter {
			f.Environment = "production"
			return f
		}, []string{big}},
		{"ids", func(f provider.Filter) provider.Filter {
			f.IDs = []string{big, group, "i-0123456789abcdef0"}
			return f
		}, sorted(big, group)},
		{"other region", func(f provider.Filter) provider.Filter {
			f.Region = "eu-west-1"
			return f
		}, nil},
		{"tag key only", func(f provider.Filter) provider.Filter {
			f.Tags = map[string]string{"owner": team, "environment": ""}
			return f
		}, []string{big}},
		{"instance type", func(f provider.Filter) provider.Filter {
			f.InstanceTypes = []string{"t3.micro"}
			return f
		}, sorted(small[0], small[1])},
		{"two instance types", func(f provider.Filter) provider.Filter {
			f.InstanceTypes = []string{"m5.xlarge", "c5.large"}
			return f
		}, []string{big}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := d.List(tctx(t), tt.give(byOwner))
			require.NoError(t, err)
			assert.Equal(t, tt.want, ids(got))
		})
	}
}

func TestListReadsEveryPage(t *testing.T) {
	t.Parallel()
	team := uniq("team")
	for range 12 { // moto pages by reservation: one instance each
		runInstances(t, 1, "t3.nano", map[string]string{"owner": team})
	}
	var groups []string
	for range 6 {
		groups = append(groups, createGroup(t, 0, 1, 0, map[string]string{"owner": team}))
	}
	raw := sdk()
	ec2c := &pageCountingEC2{EC2API: raw.ec2}
	asgc := &recordingASG{AutoScalingAPI: raw.asg}
	cfg := fastConfig()
	cfg.PageSize = 5
	d := newDriverConfig(t, cfg, awsprovider.WithClients(awsprovider.Clients{EC2: ec2c, AutoScaling: asgc}))

	got, err := d.List(tctx(t), provider.Filter{Kinds: []provider.Kind{provider.KindInstance}, Tags: map[string]string{"owner": team}})
	require.NoError(t, err)
	assert.Len(t, got, 12)
	assert.GreaterOrEqual(t, ec2c.pages.Load(), int64(3), "12 instances in pages of 5")

	gs, err := d.List(tctx(t), provider.Filter{IDs: groups})
	require.NoError(t, err)
	assert.Equal(t, sorted(groups...), ids(gs))
	assert.GreaterOrEqual(t, asgc.count("DescribeAutoScalingGroups"), 2, "6 groups in pages of 5")
}

// pageCountingEC2 counts DescribeInstances pages and checks the page size.
type pageCountingEC2 struct {
	awsprovider.EC2API
	pages atomic.Int64
}

func (p *pageCountingEC2) DescribeInstances(ctx ctxT, in *ec2.DescribeInstancesInput, optFns ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	if in.MaxResults != nil && *in.MaxResults == 5 {
		p.pages.Add(1)
	}
	return p.EC2API.DescribeInstances(ctx, in, optFns...)
}

func TestGetByNameAndARN(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	fn := createFunction(t, 128, 3, nil)
	group := createGroup(t, 0, 1, 0, nil)
	inst := runInstances(t, 1, "t3.micro", nil)[0]

	r, err := d.Get(tctx(t), fn)
	require.NoError(t, err)
	byName, err := d.Get(tctx(t), r.Name)
	require.NoError(t, err)
	assert.Equal(t, fn, byName.ID, "a function's canonical ID is its ARN")
	qualified, err := d.Get(tctx(t), fn+":$LATEST")
	require.NoError(t, err)
	assert.Equal(t, fn, qualified.ID)

	out, err := sdk().asg.DescribeAutoScalingGroups(tctx(t), &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{group}})
	require.NoError(t, err)
	require.Len(t, out.AutoScalingGroups, 1)
	g, err := d.Get(tctx(t), *out.AutoScalingGroups[0].AutoScalingGroupARN)
	require.NoError(t, err)
	assert.Equal(t, group, g.ID)

	i, err := d.Get(tctx(t), "arn:aws:ec2:"+region+":123456789012:instance/"+inst)
	require.NoError(t, err)
	assert.Equal(t, inst, i.ID)

	for _, id := range []string{"i-0123456789abcdef0", "no-such-group-or-function", "arn:aws:lambda:us-east-1:123456789012:function:nope"} {
		_, err := d.Get(tctx(t), id)
		require.ErrorIs(t, err, provider.ErrNotFound, id)
	}
	_, err = d.Get(tctx(t), "arn:aws:rds:us-east-1:123456789012:db:orders")
	require.ErrorIs(t, err, provider.ErrUnsupported)
	_, err = d.Get(tctx(t), "arn:aws:s3:::bucket")
	require.ErrorIs(t, err, provider.ErrUnsupported)
	_, err = d.Get(tctx(t), "arn:broken")
	require.ErrorIs(t, err, provider.ErrInvalid)
}

// pagedLambda lists functions in pages of two, as Lambda does with
// MaxItems (moto ignores MaxItems and never pages).
type pagedLambda struct {
	offlineLambda
	names   []string
	markers []string
}

func (p *pagedLambda) ListFunctions(_ ctxT, in *lambda.ListFunctionsInput, _ ...func(*lambda.Options)) (*lambda.ListFunctionsOutput, error) {
	p.markers = append(p.markers, awssdk.ToString(in.Marker))
	start, _ := strconv.Atoi(awssdk.ToString(in.Marker))
	end := min(start+2, len(p.names))
	out := &lambda.ListFunctionsOutput{}
	for _, n := range p.names[start:end] {
		out.Functions = append(out.Functions, lambdatypes.FunctionConfiguration{
			FunctionName: awssdk.String(n), FunctionArn: awssdk.String("arn:aws:lambda:us-east-1:123456789012:function:" + n),
			MemorySize: awssdk.Int32(128), Timeout: awssdk.Int32(3),
		})
	}
	if end < len(p.names) {
		out.NextMarker = awssdk.String(strconv.Itoa(end))
	}
	return out, nil
}

func (p *pagedLambda) GetFunction(_ ctxT, in *lambda.GetFunctionInput, _ ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error) {
	arn := awssdk.ToString(in.FunctionName)
	if strings.HasSuffix(arn, ":gone") {
		return nil, &lambdatypes.ResourceNotFoundException{Message: awssdk.String("deleted meanwhile")}
	}
	name := arn[strings.LastIndex(arn, ":")+1:]
	return &lambda.GetFunctionOutput{
		Configuration: &lambdatypes.FunctionConfiguration{FunctionName: awssdk.String(name), FunctionArn: awssdk.String(arn),
			MemorySize: awssdk.Int32(128), Timeout: awssdk.Int32(3)},
		Tags: map[string]string{"owner": "payments"},
	}, nil
}

func TestListFunctionsReadsEveryPage(t *testing.T) {
	t.Parallel()
	fake := &pagedLambda{names: []string{"a", "b", "c", "gone", "e"}}
	clients := newOffline(0).clients()
	clients.Lambda = fake
	d, err := awsprovider.New(awsprovider.Config{}, sdkConfig(), awsprovider.WithClients(clients))
	require.NoError(t, err)
	got, err := d.List(tctx(t), provider.Filter{Kinds: []provider.Kind{provider.KindFunction}})
	require.NoError(t, err)
	assert.Equal(t, []string{"", "2", "4"}, fake.markers, "three pages")
	var names []string
	for _, r := range got {
		names = append(names, r.Name)
		assert.Equal(t, "payments", r.Tags["owner"])
	}
	assert.Equal(t, []string{"a", "b", "c", "e"}, names, "a function deleted between list and tags is left out")
}

// limitedEC2 answers DescribeInstances as EC2 does for an instance-id
// filter: at most 200 values (more is an error), matching only the
// instances named. limitedASG refuses more than 50 group names.
type limitedEC2 struct {
	offlineEC2
	calls atomic.Int32
}

func (f *limitedEC2) DescribeInstances(_ context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	f.calls.Add(1)
	var want map[string]bool
	for _, flt := range in.Filters {
		if awssdk.ToString(flt.Name) == "instance-id" {
			if len(flt.Values) > 200 {
				return nil, &smithy.GenericAPIError{Code: "InvalidParameterValue", Message: "The filter instance-id has too many values"}
			}
			want = map[string]bool{}
			for _, v := range flt.Values {
				want[v] = true
			}
		}
	}
	var insts []ec2types.Instance
	for _, inst := range f.instances {
		if want == nil || want[*inst.InstanceId] {
			insts = append(insts, inst)
		}
	}
	return &ec2.DescribeInstancesOutput{Reservations: []ec2types.Reservation{{Instances: insts}}}, nil
}

type limitedASG struct {
	offlineASG
	calls atomic.Int32
}

func (a *limitedASG) DescribeAutoScalingGroups(_ context.Context, in *autoscaling.DescribeAutoScalingGroupsInput, _ ...func(*autoscaling.Options)) (*autoscaling.DescribeAutoScalingGroupsOutput, error) {
	a.calls.Add(1)
	if len(in.AutoScalingGroupNames) > 50 {
		return nil, &smithy.GenericAPIError{Code: "ValidationError", Message: "The number of group names exceeds 50"}
	}
	var out []asgtypes.AutoScalingGroup
	for _, n := range in.AutoScalingGroupNames {
		if strings.HasPrefix(n, "asg-") {
			out = append(out, asgtypes.AutoScalingGroup{AutoScalingGroupName: awssdk.String(n), MinSize: awssdk.Int32(0),
				MaxSize: awssdk.Int32(4), DesiredCapacity: awssdk.Int32(1)})
		}
	}
	return &autoscaling.DescribeAutoScalingGroupsOutput{AutoScalingGroups: out}, nil
}

// List by IDs sends them in batches the APIs take (200 instance IDs per
// filter, 50 group names per describe), each ID once: a fleet's 450 IDs,
// listed twice over, went in one call, which EC2 and Auto Scaling refuse
// (moto does not).
func TestListByManyIDsBatchesThem(t *testing.T) {
	t.Parallel()
	ec2f := &limitedEC2{offlineEC2: offlineEC2{newOffline(450)}}
	asgf := &limitedASG{}
	d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{EC2: ec2f, AutoScaling: asgf, CloudWatch: offlineCW{}, Lambda: offlineLambda{}}))
	var ids []string
	for _, inst := range ec2f.instances {
		ids = append(ids, *inst.InstanceId)
	}
	ids = append(ids, ids...) // each twice
	for i := range 120 {
		ids = append(ids, fmt.Sprintf("asg-%03d", i))
	}
	got, err := d.List(tctx(t), provider.Filter{IDs: ids, Kinds: []provider.Kind{provider.KindInstance}})
	require.NoError(t, err)
	assert.Len(t, got, 450, "each instance once")
	assert.Equal(t, int32(3), ec2f.calls.Load(), "450 IDs in batches of 200")
	got, err = d.List(tctx(t), provider.Filter{IDs: ids, Kinds: []provider.Kind{provider.KindGroup}})
	require.NoError(t, err)
	assert.Len(t, got, 120)
	assert.Equal(t, int32(3), asgf.calls.Load(), "120 names in batches of 50")
}

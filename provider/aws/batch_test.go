package aws_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
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

// TestBatchReadsMixedIDs reads instances, groups (by name and by ARN), a
// function by name, and unknown IDs of each form in one GetResources and
// one GetCapacities call: every read is what Get or Capacity answers
// alone, and the instances and groups cost one describe call each, not
// one per read, and the two groups' scaling policies one DescribePolicies
// each.
func TestBatchReadsMixedIDs(t *testing.T) {
	t.Parallel()
	insts := runInstances(t, 4, "t3.micro", nil)
	g1, g2 := createGroup(t, 0, 3, 1, nil), createGroup(t, 1, 4, 2, nil)
	fn := createFunction(t, 128, 3, nil)
	groupARN := "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:00000000-0000-0000-0000-000000000000:autoScalingGroupName/" + g2
	fnName := fn[strings.LastIndex(fn, ":")+1:]
	ids := []string{insts[0], g1, "i-0123456789abcdef0", insts[1], fn, "no-such-name", groupARN, insts[2], g1, insts[3], g2,
		"arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:x:autoScalingGroupName/no-such-group", fnName, ""}
	counter := &countingHTTP{}
	d := newDriver(t, withCounter(counter)...)
	reads := make([]provider.ResourceRead, len(ids))
	for i, id := range ids {
		reads[i] = provider.ResourceRead{ID: id, Err: errors.New("stale")}
	}
	require.NoError(t, d.GetResources(tctx(t), reads))
	// 1 DescribeInstances, 1 DescribeAutoScalingGroups, 1
	// DescribePolicies per group (g1 and g2: few groups are read one by
	// one), and Get's own lookups: the function ARN's GetFunction, and for
	// the two names that are no group a group describe and a GetFunction
	// each.
	assert.Equal(t, int64(2+2+1+2*2), counter.n.Load())
	single := newDriver(t)
	for i, r := range reads {
		want, err := single.Get(tctx(t), ids[i])
		if err != nil {
			sameFailure(t, i, ids[i], r.Err, err)
			continue
		}
		require.NoError(t, r.Err, "read %d (%q)", i, ids[i])
		assert.Equal(t, want, r.Resource, "read %d (%q)", i, ids[i])
	}

	counter.n.Store(0)
	caps := make([]provider.CapacityRead, len(ids))
	for i, id := range ids {
		caps[i] = provider.CapacityRead{ID: id}
	}
	require.NoError(t, d.GetCapacities(tctx(t), caps))
	assert.Equal(t, int64(1+2*2), counter.n.Load(), "one DescribeAutoScalingGroups, and Capacity's own lookups of the two names that are no group (the instances and the function ARN fail without a call)")
	for i, r := range caps {
		want, err := single.Capacity(tctx(t), ids[i])
		if err != nil {
			sameFailure(t, i, ids[i], r.Err, err)
			continue
		}
		require.NoError(t, r.Err, "read %d (%q)", i, ids[i])
		assert.Equal(t, want, r.Capacity, "read %d (%q)", i, ids[i])
	}
	assert.Equal(t, 2, caps[6].Capacity.Desired, "the group ARN reads g2")

	// Metrics of the same mix: the existence checks are batched too.
	counter.n.Store(0)
	start := minuteGrid()
	mreads := make([]provider.MetricRead, 0, len(ids))
	for _, id := range ids[:len(ids)-1] {
		mreads = append(mreads, provider.MetricRead{Query: provider.Query{ResourceID: id, Metric: provider.MetricCPU, Start: start, End: start.Add(time.Minute), Step: time.Minute}})
	}
	require.NoError(t, d.QueryMetrics(tctx(t), mreads))
	assert.Equal(t, int64(2+1+2*2+1), counter.n.Load(), "the describes, the function's and the two names' lookups, one GetMetricData")
	for i, r := range mreads {
		want, err := single.QueryMetric(tctx(t), r.Query)
		if err != nil {
			sameFailure(t, i, ids[i], r.Err, err)
			continue
		}
		require.NoError(t, r.Err, "read %d (%q)", i, ids[i])
		assert.Equal(t, want.ResourceID, r.Series.ResourceID)
		assert.Len(t, r.Series.Values, len(want.Values), "read %d", i)
	}
}

// sameFailure checks that read i (of id) failed in the batch as the
// single call failed: with the same sentinels.
func sameFailure(t *testing.T, i int, id string, got, want error) {
	t.Helper()
	require.Error(t, got, "read %d (%q)", i, id)
	for _, s := range []error{provider.ErrNotFound, provider.ErrInvalid, provider.ErrUnsupported} {
		assert.Equal(t, errors.Is(want, s), errors.Is(got, s), "read %d (%q): %v vs the single call's %v", i, id, got, want)
	}
}

// TestBatchDescribeChunks: 450 instances are described in calls of 200,
// 200 and 50 IDs (an instance-id filter); a call that fails fails its
// reads alone.
func TestBatchDescribeChunks(t *testing.T) {
	t.Parallel()
	var sizes []int
	rec := &recordingEC2{EC2API: sdk().ec2}
	rec.describe = func(_ context.Context, in *ec2.DescribeInstancesInput, _ ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
		require.Empty(t, in.InstanceIds, "a filter, which leaves out unknown IDs instead of failing")
		require.Len(t, in.Filters, 1)
		require.Equal(t, "instance-id", awssdk.ToString(in.Filters[0].Name))
		ids := in.Filters[0].Values
		sizes = append(sizes, len(ids))
		if len(sizes) == 2 {
			return nil, &smithy.GenericAPIError{Code: "RequestLimitExceeded", Message: "Request limit exceeded."}
		}
		var insts []ec2types.Instance
		for _, id := range ids {
			insts = append(insts, ec2types.Instance{InstanceId: awssdk.String(id), InstanceType: ec2types.InstanceTypeT3Micro,
				State: &ec2types.InstanceState{Name: ec2types.InstanceStateNameRunning}})
		}
		return &ec2.DescribeInstancesOutput{Reservations: []ec2types.Reservation{{Instances: insts}}}, nil
	}
	d := newDriverConfig(t, fastConfig(), awsprovider.WithClients(awsprovider.Clients{EC2: rec}))
	reads := make([]provider.ResourceRead, 450)
	for i := range reads {
		reads[i].ID = fmt.Sprintf("i-%017x", i+1)
	}
	require.NoError(t, d.GetResources(tctx(t), reads))
	assert.Equal(t, []int{200, 200, 50}, sizes)
	for i, r := range reads {
		if i >= 200 && i < 400 {
			require.ErrorIs(t, r.Err, provider.ErrThrottled, "read %d: in the throttled call", i)
			continue
		}
		require.NoError(t, r.Err, "read %d", i)
		assert.Equal(t, reads[i].ID, r.Resource.ID)
	}
}

// cancelLambda ends ctx while the driver looks a name up.
type cancelLambda struct {
	offlineLambda
	cancel func()
}

func (c cancelLambda) GetFunction(context.Context, *lambda.GetFunctionInput, ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error) {
	c.cancel()
	return nil, &lambdatypes.ResourceNotFoundException{Message: awssdk.String("no")}
}

// TestQueryMetricsCancelledWhileResolving: when ctx ends while names are
// looked up, every read not answered carries ctx's error, the method's,
// including a read resolved before and not yet sent; nothing of an
// earlier use of the reads stays. (A review found the resolved read left
// with its stale series and error.)
func TestQueryMetricsCancelledWhileResolving(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cl := newOffline(2).clients()
	cl.Lambda = cancelLambda{cancel: cancel}
	d, err := awsprovider.New(fastConfig(), sdkConfig(), awsprovider.WithClients(cl))
	require.NoError(t, err)
	start := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	q := func(id string) provider.Query {
		return provider.Query{ResourceID: id, Metric: provider.MetricCPU, Start: start, End: start.Add(5 * time.Minute), Step: time.Minute}
	}
	stale := errors.New("stale error from the previous pass")
	reads := []provider.MetricRead{
		{Query: q("i-00000000000000001"), Series: provider.Series{ResourceID: "old", Values: []float64{42}}, Err: stale},
		{Query: q("some-function"), Err: stale},
		{Query: q("i-00000000000000002")},
		{Query: provider.Query{ResourceID: "i-00000000000000001"}, Err: stale}, // invalid: fails alone
	}
	err = d.QueryMetrics(ctx, reads)
	require.ErrorIs(t, err, context.Canceled)
	for _, i := range []int{0, 2} {
		require.ErrorIs(t, reads[i].Err, err, "read %d was not answered", i)
		assert.Empty(t, reads[i].Series.Values, "read %d", i)
		assert.Empty(t, reads[i].Series.ResourceID, "read %d", i)
	}
	require.ErrorIs(t, reads[1].Err, provider.ErrNotFound, "the lookup that ran answered its read")
	require.ErrorIs(t, reads[3].Err, provider.ErrInvalid)
	assert.NotErrorIs(t, reads[3].Err, stale)
}

// TestQueryMetricsRefusesWhatCloudWatchWould: a percentile with more than
// two decimals fails its read alone, before any call, instead of failing
// the whole GetMetricData call it would share with other reads.
func TestQueryMetricsRefusesWhatCloudWatchWould(t *testing.T) {
	t.Parallel()
	d := offlineDriver(t, 2)
	start := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	q := provider.Query{ResourceID: "i-00000000000000001", Metric: provider.MetricCPU, Start: start, End: start.Add(5 * time.Minute), Step: time.Minute}
	bad, ok := q, q
	bad.Statistic, ok.Statistic = "p99.999", "p99.99"
	reads := []provider.MetricRead{{Query: q}, {Query: bad}, {Query: ok}}
	require.NoError(t, d.QueryMetrics(t.Context(), reads))
	require.NoError(t, reads[0].Err)
	require.ErrorIs(t, reads[1].Err, provider.ErrUnsupported)
	require.NoError(t, reads[2].Err)
}

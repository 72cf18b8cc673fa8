package aws_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// resourceStatusCW is the real CloudWatch client that counts its GetMetricData
// calls and gives the results of the queries of a resource (by its
// dimension's value) in status the status there.
type resourceStatusCW struct {
	awsprovider.CloudWatchAPI
	n      atomic.Int64
	status map[string]cwtypes.StatusCode
}

func (c *resourceStatusCW) GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	c.n.Add(1)
	out, err := c.CloudWatchAPI.GetMetricData(ctx, in, optFns...)
	if err != nil {
		return out, err
	}
	dims := map[string]string{}
	for _, q := range in.MetricDataQueries {
		dims[awssdk.ToString(q.Id)] = awssdk.ToString(q.MetricStat.Metric.Dimensions[0].Value)
	}
	for i, r := range out.MetricDataResults {
		if s, ok := c.status[dims[awssdk.ToString(r.Id)]]; ok {
			out.MetricDataResults[i].StatusCode = s
		}
	}
	return out, nil
}

// functionName returns the name of the function of ARN arn.
func functionName(arn string) string {
	_, name, _ := strings.Cut(arn, ":function:")
	return name
}

// TestActivitiesEqualActivityReadByRead reads instances, functions (one
// invoked, one quiet since its LastModified, one with a published
// version, which in us-east-1 may run at Lambda@Edge), a detached and an
// attached volume, an Application Load Balancer, an RDS database,
// unknown resources, invalid queries, repeats (one in another time
// zone) and an earlier window in
// one Activities call: every read is what Activity answers alone, the
// CloudWatch queries cost one GetMetricData call per window, not one
// per read, and each function is asked GetFunction once, as Activity
// asks it (no listing answers for it).
func TestActivitiesEqualActivityReadByRead(t *testing.T) {
	t.Parallel()
	at := seeder{region}
	before := time.Now().UTC().Truncate(time.Minute) // before the resources exist
	start := before.Add(-2 * time.Hour)
	insts := runInstances(t, 2, "t3.micro", nil)
	used, quiet, edge := createFunction(t, 128, 3, nil), createFunction(t, 128, 3, nil), createFunction(t, 128, 3, nil)
	_, err := sdk().lambda.PublishVersion(tctx(t), &lambda.PublishVersionInput{FunctionName: awssdk.String(edge)})
	require.NoError(t, err)
	detached := at.createVolume(t, 1, ec2types.VolumeTypeGp3, nil, "", false)
	attached := at.createVolume(t, 1, ec2types.VolumeTypeGp3, nil, insts[0], true)
	lb := at.createLoadBalancer(t, elbtypes.LoadBalancerTypeEnumApplication, nil)
	_, lbDim, _ := strings.Cut(lb, ":loadbalancer/")
	db := uniq("orders")
	putMetric(t, "AWS/Lambda", "Invocations", "FunctionName", functionName(used), cwtypes.StandardUnitCount, map[time.Time]float64{
		start.Add(time.Minute): 40, start.Add(3 * time.Minute): 2,
	})
	putMetric(t, "AWS/EBS", "VolumeReadOps", "VolumeId", attached, cwtypes.StandardUnitCount, map[time.Time]float64{start.Add(5 * time.Minute): 9})
	putMetric(t, "AWS/EBS", "VolumeWriteOps", "VolumeId", attached, cwtypes.StandardUnitCount, map[time.Time]float64{start.Add(6 * time.Minute): 1})
	putMetric(t, "AWS/ApplicationELB", "RequestCount", "LoadBalancer", lbDim, cwtypes.StandardUnitCount, map[time.Time]float64{start.Add(10 * time.Minute): 7})
	putMetric(t, "AWS/ApplicationELB", "HTTP_Redirect_Count", "LoadBalancer", lbDim, cwtypes.StandardUnitCount, map[time.Time]float64{start.Add(20 * time.Minute): 3})
	putMetric(t, "AWS/RDS", "DatabaseConnections", "DBInstanceIdentifier", db, cwtypes.StandardUnitCount, map[time.Time]float64{start.Add(2 * time.Minute): 4})

	cw := &resourceStatusCW{CloudWatchAPI: cloudwatch.NewFromConfig(sdkConfig(), queryProtocol)}
	// The real clock ten minutes ahead: the window, which ends after the
	// resources were created, has ended and is published.
	// moto stamps a function with the time it was created, in a form
	// that is not Lambda's: the functions were modified before the
	// window (used) and in it.
	fns := modifiedLambda{LambdaAPI: sdk().lambda, modified: map[string]time.Time{
		used: start.Add(-time.Hour), quiet: start.Add(30 * time.Minute), edge: start.Add(30 * time.Minute),
	}}
	lam := &fewCallsLambda{LambdaAPI: fns}
	d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{CloudWatch: cw, Lambda: lam}),
		awsprovider.WithNow(func() time.Time { return time.Now().Add(10 * time.Minute) }))
	window := func(id string) provider.ActivityQuery {
		return provider.ActivityQuery{ResourceID: id, Start: start, End: before.Add(5 * time.Minute)}
	}
	invalid := window(used)
	invalid.End = invalid.Start
	earlier := window(used)
	earlier.Start, earlier.End = start.Add(-24*time.Hour), start.Add(-23*time.Hour)
	queries := []provider.ActivityQuery{
		window(insts[0]), window(used), window(quiet), window(edge), window(detached), window(attached), window(lb),
		window("arn:aws:rds:us-east-1:123456789012:db:" + db), window("i-0123456789abcdef0"), window("vol-0123456789abcdef0"),
		window("no-such-function"), window(lb[:strings.LastIndexByte(lb, '/')+1] + "0123456789abcdef"), invalid, window(""),
		window(used), earlier, window(functionName(quiet)), window(insts[1]), inZone(window(used)),
	}
	reads := make([]provider.ActivityRead, len(queries))
	for i, q := range queries {
		reads[i] = provider.ActivityRead{Query: q, Counts: []provider.ActivityCount{{Kind: provider.ActivityLogins}}, Err: errors.New("stale")}
	}
	require.NoError(t, provider.Activities(tctx(t), d, reads))
	assert.Equal(t, int64(2), cw.n.Load(), "one GetMetricData call per window: the reads' and the earlier one")
	assert.Equal(t, int64(0), lam.list.Load(), "no listing: it cannot answer for GetFunction (TestActivitiesOfFunctionsGetFunctionDenies)")
	assert.Equal(t, int64(5), lam.get.Load(), "a GetFunction per function ID (three ARNs, a name and the name no function has), as Activity asks")

	cw.n.Store(0)
	for i, r := range reads {
		want, err := d.Activity(tctx(t), r.Query)
		if err != nil {
			sameFailure(t, i, r.Query.ResourceID, r.Err, err)
			assert.Nil(t, r.Counts, "read %d", i)
			continue
		}
		require.NoError(t, r.Err, "read %d (%q)", i, r.Query.ResourceID)
		assert.Equal(t, want, r.Counts, "read %d (%q)", i, r.Query.ResourceID)
	}
	assert.Equal(t, int64(11), cw.n.Load(), "read by read, a call per read with a CloudWatch signal")

	// The reads say what their resources did, so that the comparison
	// above compares something.
	api, files := provider.ActivityAPICalls, provider.ActivityFiles
	assert.Equal(t, []provider.ActivityCount{}, reads[0].Counts, "an instance has no activity signal")
	assert.Equal(t, []provider.ActivityCount{{Kind: api, Count: 42, Last: start.Add(3 * time.Minute)}}, reads[1].Counts, "invoked")
	assert.Equal(t, []provider.ActivityCount{{Kind: api, Since: start.Add(30 * time.Minute)}}, reads[2].Counts, "quiet since its LastModified")
	assert.Empty(t, reads[3].Counts, "a published version may run at the edge: no datapoint is unknown")
	require.Len(t, reads[4].Counts, 1, "detached: quiet since its CreateTime")
	assert.Equal(t, files, reads[4].Counts[0].Kind)
	assert.True(t, reads[4].Counts[0].Since.After(start))
	assert.Equal(t, []provider.ActivityCount{{Kind: files, Count: 10, Last: start.Add(6 * time.Minute)}}, reads[5].Counts, "attached: read and write operations")
	require.Len(t, reads[6].Counts, 1)
	assert.InDelta(t, 10, reads[6].Counts[0].Count, 1e-9, "requests and redirects")
	assert.Equal(t, []provider.ActivityCount{{Kind: provider.ActivityDBQueries, Count: 4, Last: start.Add(2 * time.Minute)}}, reads[7].Counts)
	for _, i := range []int{8, 9, 10, 11} {
		require.ErrorIs(t, reads[i].Err, provider.ErrNotFound, "read %d", i)
	}
	for _, i := range []int{12, 13} {
		require.ErrorIs(t, reads[i].Err, provider.ErrInvalid, "read %d", i)
	}
	assert.Equal(t, reads[1].Counts, reads[14].Counts, "a repeat")
	assert.Empty(t, reads[15].Counts, "no datapoint before the function was modified: unknown")
	assert.Equal(t, reads[2].Counts, reads[16].Counts, "the quiet function by name")
	assert.Equal(t, reads[1].Counts, reads[18].Counts, "a repeat in another time zone")
}

// inZone returns q with its times in a time zone other than UTC.
func inZone(q provider.ActivityQuery) provider.ActivityQuery {
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	q.Start, q.End = q.Start.In(zone), q.End.In(zone)
	return q
}

// TestActivitiesPackedAndFailingAlone: with Config.MetricBatch 2, a load
// balancer's five queries go in a call of their own and the functions'
// two at a time; a result CloudWatch could not compute (InternalError,
// Forbidden) fails its read alone, as it fails Activity.
func TestActivitiesPackedAndFailingAlone(t *testing.T) {
	t.Parallel()
	fns := []string{createFunction(t, 128, 3, nil), createFunction(t, 128, 3, nil), createFunction(t, 128, 3, nil)}
	lb := seeder{region}.createLoadBalancer(t, elbtypes.LoadBalancerTypeEnumApplication, nil)
	start := minuteGrid()
	for i, fn := range fns {
		putMetric(t, "AWS/Lambda", "Invocations", "FunctionName", functionName(fn), cwtypes.StandardUnitCount, map[time.Time]float64{
			start.Add(time.Duration(i) * time.Minute): float64(i + 1),
		})
	}
	cw := &resourceStatusCW{CloudWatchAPI: cloudwatch.NewFromConfig(sdkConfig(), queryProtocol), status: map[string]cwtypes.StatusCode{
		functionName(fns[1]): cwtypes.StatusCodeInternalError,
		functionName(fns[2]): cwtypes.StatusCodeForbidden,
	}}
	cfg := fastConfig()
	cfg.MetricBatch = 2
	d := newDriverConfig(t, cfg, awsprovider.WithClients(awsprovider.Clients{CloudWatch: cw}))
	window := func(id string) provider.ActivityQuery {
		return provider.ActivityQuery{ResourceID: id, Start: start, End: start.Add(10 * time.Minute)}
	}
	reads := []provider.ActivityRead{{Query: window(fns[0])}, {Query: window(fns[1])}, {Query: window(fns[2])}, {Query: window(lb)}, {Query: window(fns[0])}}
	require.NoError(t, provider.Activities(tctx(t), d, reads))
	assert.Equal(t, int64(3), cw.n.Load(), "two functions, the third, the load balancer")
	for i, r := range reads {
		want, err := d.Activity(tctx(t), r.Query)
		if err != nil {
			sameFailure(t, i, r.Query.ResourceID, r.Err, err)
			assert.Equal(t, errors.Is(err, provider.ErrDenied), errors.Is(r.Err, provider.ErrDenied), "read %d", i)
			continue
		}
		require.NoError(t, r.Err, "read %d", i)
		assert.Equal(t, want, r.Counts, "read %d", i)
	}
	require.Error(t, reads[1].Err, "InternalError")
	require.ErrorIs(t, reads[2].Err, provider.ErrDenied, "Forbidden")
	assert.Equal(t, []provider.ActivityCount{{Kind: provider.ActivityAPICalls, Count: 1, Last: start}}, reads[0].Counts)
	assert.Equal(t, reads[0].Counts, reads[4].Counts)
	assert.Empty(t, reads[3].Counts, "created after the window: unknown")
}

// refusingCW fails a GetMetricData call that asks of a resource (by its
// dimension's value) in fail with its error, and counts its calls.
type refusingCW struct {
	awsprovider.CloudWatchAPI
	n    atomic.Int64
	fail map[string]error
}

func (c *refusingCW) GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	c.n.Add(1)
	for _, q := range in.MetricDataQueries {
		if err := c.fail[awssdk.ToString(q.MetricStat.Metric.Dimensions[0].Value)]; err != nil {
			return nil, err
		}
	}
	return c.CloudWatchAPI.GetMetricData(ctx, in, optFns...)
}

// TestActivitiesCallThatFails: a GetMetricData call that is refused
// fails its reads alone, each naming its own resource, and the next call
// is made; one that is throttled fails its reads and those of the calls
// not made, is the method's error, and no further call is made.
func TestActivitiesCallThatFails(t *testing.T) {
	t.Parallel()
	fns := []string{createFunction(t, 128, 3, nil), createFunction(t, 128, 3, nil), createFunction(t, 128, 3, nil), createFunction(t, 128, 3, nil)}
	start := minuteGrid()
	putMetric(t, "AWS/Lambda", "Invocations", "FunctionName", functionName(fns[1]), cwtypes.StandardUnitCount, map[time.Time]float64{start: 5})
	cw := &refusingCW{CloudWatchAPI: cloudwatch.NewFromConfig(sdkConfig(), queryProtocol), fail: map[string]error{
		functionName(fns[0]): &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized to perform: cloudwatch:GetMetricData"},
		functionName(fns[2]): &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"},
	}}
	cfg := fastConfig()
	cfg.MetricBatch = 1
	d := newDriverConfig(t, cfg, awsprovider.WithClients(awsprovider.Clients{CloudWatch: cw}))
	reads := make([]provider.ActivityRead, len(fns))
	for i, fn := range fns {
		reads[i].Query = provider.ActivityQuery{ResourceID: fn, Start: start, End: start.Add(10 * time.Minute)}
	}
	err := d.Activities(tctx(t), reads)
	require.ErrorIs(t, err, provider.ErrThrottled)
	assert.Equal(t, int64(3), cw.n.Load(), "no call after the throttled one")
	require.ErrorIs(t, reads[0].Err, provider.ErrDenied)
	assert.Contains(t, reads[0].Err.Error(), fns[0], "the read's error names its resource")
	require.NoError(t, reads[1].Err, "the call after a refused one is made")
	assert.Equal(t, []provider.ActivityCount{{Kind: provider.ActivityAPICalls, Count: 5, Last: start}}, reads[1].Counts)
	require.ErrorIs(t, reads[2].Err, provider.ErrThrottled)
	assert.Contains(t, reads[2].Err.Error(), fns[2])
	require.ErrorIs(t, reads[3].Err, provider.ErrThrottled, "not read: the method's error")
	assert.Nil(t, reads[3].Counts)
	for i := range 3 {
		_, err := d.Activity(tctx(t), reads[i].Query)
		if i == 1 {
			require.NoError(t, err)
			continue
		}
		sameFailure(t, i, fns[i], reads[i].Err, err)
	}
}

// cancellingLambda ends the batch's context during the GetFunction of
// the function named last, and answers it with that context (so the
// lookup fails as a lookup cut short does).
type cancellingLambda struct {
	awsprovider.LambdaAPI
	last   string
	cancel context.CancelFunc
}

func (c cancellingLambda) GetFunction(ctx context.Context, in *lambda.GetFunctionInput, optFns ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error) {
	if awssdk.ToString(in.FunctionName) == c.last || strings.HasSuffix(awssdk.ToString(in.FunctionName), ":"+c.last) {
		c.cancel()
	}
	return c.LambdaAPI.GetFunction(ctx, in, optFns...)
}

// TestActivitiesContextEndedInTheLastLookup: a context that ends while
// the batch looks up its last resource, so that no GetMetricData call is
// left to make, fails that read with the context's error and is the
// method's error too, as the batch contract says ("the method's own error
// is non-nil when the call as a whole failed"); it returned nil.
func TestActivitiesContextEndedInTheLastLookup(t *testing.T) {
	t.Parallel()
	fn := createFunction(t, 128, 3, nil)
	ctx, cancel := context.WithCancel(tctx(t))
	defer cancel()
	lam := cancellingLambda{LambdaAPI: lambda.NewFromConfig(sdkConfig()), last: functionName(fn), cancel: cancel}
	d := newDriverConfig(t, fastConfig(), awsprovider.WithClients(awsprovider.Clients{Lambda: lam}))
	start := minuteGrid()
	reads := []provider.ActivityRead{{Query: provider.ActivityQuery{ResourceID: fn, Start: start, End: start.Add(10 * time.Minute)}}}
	err := d.Activities(ctx, reads)
	require.ErrorIs(t, reads[0].Err, context.Canceled, "the read cut short")
	require.ErrorIs(t, err, context.Canceled, "the call as a whole")
}

// fewRegion holds the resources of the tests of the calls a batch makes
// to look up functions and load balancers: they count them, and no other
// test lists them.
const fewRegion = "ap-northeast-2"

// fewCallsLambda is the real Lambda client that counts its GetFunction
// and ListFunctions calls and, with page set, lists the functions of only
// (by ARN; the region's others, of an earlier -count, left out) in pages
// of page, as Lambda does with MaxItems (moto never pages).
type fewCallsLambda struct {
	awsprovider.LambdaAPI
	page      int
	only      map[string]bool
	get, list atomic.Int64
}

func (c *fewCallsLambda) GetFunction(ctx context.Context, in *lambda.GetFunctionInput, optFns ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error) {
	c.get.Add(1)
	return c.LambdaAPI.GetFunction(ctx, in, optFns...)
}

func (c *fewCallsLambda) ListFunctions(ctx context.Context, in *lambda.ListFunctionsInput, optFns ...func(*lambda.Options)) (*lambda.ListFunctionsOutput, error) {
	c.list.Add(1)
	if c.page == 0 {
		return c.LambdaAPI.ListFunctions(ctx, in, optFns...)
	}
	all, err := c.LambdaAPI.ListFunctions(ctx, &lambda.ListFunctionsInput{}, optFns...)
	if err != nil {
		return nil, err
	}
	var fns []lambdatypes.FunctionConfiguration
	for _, fn := range all.Functions {
		if c.only[awssdk.ToString(fn.FunctionArn)] {
			fns = append(fns, fn)
		}
	}
	start, _ := strconv.Atoi(awssdk.ToString(in.Marker))
	end := min(start+c.page, len(fns))
	out := &lambda.ListFunctionsOutput{Functions: fns[start:end]}
	if end < len(fns) {
		out.NextMarker = awssdk.String(strconv.Itoa(end))
	}
	return out, nil
}

// arnsELB is the real ELBv2 client that records how many load balancers
// each DescribeLoadBalancers call names.
type arnsELB struct {
	awsprovider.ELBv2API
	mu    sync.Mutex
	sizes []int
}

func (c *arnsELB) DescribeLoadBalancers(ctx context.Context, in *elasticloadbalancingv2.DescribeLoadBalancersInput, optFns ...func(*elasticloadbalancingv2.Options)) (*elasticloadbalancingv2.DescribeLoadBalancersOutput, error) {
	c.mu.Lock()
	c.sizes = append(c.sizes, len(in.LoadBalancerArns))
	c.mu.Unlock()
	return c.ELBv2API.DescribeLoadBalancers(ctx, in, optFns...)
}

// TestActivitiesLooksUpFunctionsAndLoadBalancersInFewCalls: a batch of
// four functions (one also by name) and 22 load balancers, in a region of
// their own, asks each function GetFunction once, as Activity does (a
// listing cannot answer for it: TestActivitiesOfFunctionsGetFunctionDenies),
// and describes the load balancers 20 at a time (two
// DescribeLoadBalancers calls), and every read is what Activity answers
// alone; a batch of one function asks GetFunction alone. It made a
// DescribeLoadBalancers per load balancer.
func TestActivitiesLooksUpFunctionsAndLoadBalancersInFewCalls(t *testing.T) {
	t.Parallel()
	at := seeder{fewRegion}
	var ids []string
	for range 4 {
		ids = append(ids, at.createFunction(t, 128, 3, nil))
	}
	ids = append(ids, functionName(ids[0]))
	var lbs []string
	for range 22 {
		lbs = append(lbs, at.createLoadBalancer(t, elbtypes.LoadBalancerTypeEnumApplication, nil))
	}
	ids = append(ids, lbs...)
	lam := &fewCallsLambda{LambdaAPI: sdkIn(fewRegion).lambda, page: 2, only: map[string]bool{}}
	for _, fn := range ids[:4] {
		lam.only[fn] = true
	}
	elb := &arnsELB{ELBv2API: sdkIn(fewRegion).elb}
	// The real clock ten minutes ahead: the window, which ends after the
	// load balancers were created, has ended and is published.
	d := newDriverIn(t, fewRegion, fastConfig(), awsprovider.WithClients(awsprovider.Clients{Lambda: lam, ELBv2: elb}),
		awsprovider.WithNow(func() time.Time { return time.Now().Add(10 * time.Minute) }))
	end := time.Now().UTC().Truncate(time.Minute).Add(5 * time.Minute)
	window := func(id string) provider.ActivityQuery {
		return provider.ActivityQuery{ResourceID: id, Start: end.Add(-2 * time.Hour), End: end}
	}
	reads := make([]provider.ActivityRead, 0, len(ids)+1)
	for _, id := range append(ids, ids[1]) {
		reads = append(reads, provider.ActivityRead{Query: window(id)})
	}
	require.NoError(t, d.Activities(tctx(t), reads))
	assert.Equal(t, int64(5), lam.get.Load(), "a GetFunction per function ID (four ARNs and a name), as Activity asks: no listing answers for it (TestActivitiesOfFunctionsGetFunctionDenies)")
	assert.Equal(t, int64(0), lam.list.Load(), "no listing")
	assert.Equal(t, []int{20, 2}, elb.sizes, "20 load balancers a call")

	for i, r := range reads {
		want, err := d.Activity(tctx(t), r.Query)
		require.NoError(t, err, "read %d (%q)", i, r.Query.ResourceID)
		require.NoError(t, r.Err, "read %d (%q)", i, r.Query.ResourceID)
		assert.Equal(t, want, r.Counts, "read %d (%q)", i, r.Query.ResourceID)
	}
	for _, r := range reads[5 : 5+len(lbs)] {
		require.Len(t, r.Counts, 1, "quiet since its CreatedTime, which the batch's describe gave: %q", r.Query.ResourceID)
		assert.True(t, r.Counts[0].Since.After(r.Query.Start))
	}

	lam.get.Store(0)
	lam.list.Store(0)
	one := []provider.ActivityRead{{Query: window(ids[2])}}
	require.NoError(t, d.Activities(tctx(t), one))
	require.NoError(t, one[0].Err)
	assert.Equal(t, int64(1), lam.get.Load(), "one function: GetFunction, as Activity asks")
	assert.Equal(t, int64(0), lam.list.Load(), "no listing for one function")
}

// strictELB is arnsELB that fails a DescribeLoadBalancers call naming a
// load balancer that does not exist with LoadBalancerNotFound, as ELBv2
// does (moto 5.2.1 leaves it out when a known one comes first).
type strictELB struct{ *arnsELB }

func (c strictELB) DescribeLoadBalancers(ctx context.Context, in *elasticloadbalancingv2.DescribeLoadBalancersInput, optFns ...func(*elasticloadbalancingv2.Options)) (*elasticloadbalancingv2.DescribeLoadBalancersOutput, error) {
	out, err := c.arnsELB.DescribeLoadBalancers(ctx, in, optFns...)
	if err == nil && len(in.LoadBalancerArns) > 0 && len(out.LoadBalancers) < len(in.LoadBalancerArns) {
		return nil, &elbtypes.LoadBalancerNotFoundException{Message: awssdk.String("One or more load balancers not found")}
	}
	return out, err
}

// TestActivitiesUnknownLoadBalancerAmongOthers: a describe of the batch's
// load balancers that ELBv2 fails for an unknown one among them is asked
// again one by one, so that the unknown one fails alone with
// provider.ErrNotFound and the others read as Activity reads them.
func TestActivitiesUnknownLoadBalancerAmongOthers(t *testing.T) {
	t.Parallel()
	at := seeder{fewRegion}
	lbs := []string{at.createLoadBalancer(t, elbtypes.LoadBalancerTypeEnumApplication, nil), at.createLoadBalancer(t, elbtypes.LoadBalancerTypeEnumApplication, nil)}
	unknown := lbs[0][:strings.LastIndexByte(lbs[0], '/')+1] + "0123456789abcdef"
	elb := strictELB{&arnsELB{ELBv2API: sdkIn(fewRegion).elb}}
	d := newDriverIn(t, fewRegion, fastConfig(), awsprovider.WithClients(awsprovider.Clients{ELBv2: elb}),
		awsprovider.WithNow(func() time.Time { return time.Now().Add(10 * time.Minute) }))
	end := time.Now().UTC().Truncate(time.Minute).Add(5 * time.Minute)
	reads := []provider.ActivityRead{}
	for _, id := range []string{lbs[0], unknown, lbs[1]} {
		reads = append(reads, provider.ActivityRead{Query: provider.ActivityQuery{ResourceID: id, Start: end.Add(-time.Hour), End: end}})
	}
	require.NoError(t, d.Activities(tctx(t), reads))
	assert.Equal(t, []int{3, 1, 1, 1}, elb.sizes, "the three, then one by one")
	require.ErrorIs(t, reads[1].Err, provider.ErrNotFound)
	assert.Contains(t, reads[1].Err.Error(), unknown)
	for _, i := range []int{0, 2} {
		require.NoError(t, reads[i].Err)
		want, err := d.Activity(tctx(t), reads[i].Query)
		require.NoError(t, err)
		assert.Equal(t, want, reads[i].Counts)
		assert.Len(t, reads[i].Counts, 1, "quiet since its CreatedTime")
	}
}

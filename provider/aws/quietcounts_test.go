package aws_test

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// modifiedLambda is the real Lambda client with the LastModified of the
// functions (by ARN) in modified rewritten in GetFunction's and
// ListFunctions' answers: moto
// stamps a function with the time it was created, and the tests need one
// modified before the window they read. versionsErr, when set, is what
// ListVersionsByFunction returns.
type modifiedLambda struct {
	awsprovider.LambdaAPI
	modified    map[string]time.Time
	versionsErr error
}

func (m modifiedLambda) GetFunction(ctx context.Context, in *lambda.GetFunctionInput, optFns ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error) {
	out, err := m.LambdaAPI.GetFunction(ctx, in, optFns...)
	if err == nil && out.Configuration != nil {
		if at, ok := m.modified[awssdk.ToString(out.Configuration.FunctionArn)]; ok {
			out.Configuration.LastModified = awssdk.String(at.UTC().Format("2006-01-02T15:04:05.000-0700"))
		}
	}
	return out, err
}

func (m modifiedLambda) ListFunctions(ctx context.Context, in *lambda.ListFunctionsInput, optFns ...func(*lambda.Options)) (*lambda.ListFunctionsOutput, error) {
	out, err := m.LambdaAPI.ListFunctions(ctx, in, optFns...)
	if err == nil {
		for i, fn := range out.Functions {
			if at, ok := m.modified[awssdk.ToString(fn.FunctionArn)]; ok {
				out.Functions[i].LastModified = awssdk.String(at.UTC().Format("2006-01-02T15:04:05.000-0700"))
			}
		}
	}
	return out, err
}

func (m modifiedLambda) ListVersionsByFunction(ctx context.Context, in *lambda.ListVersionsByFunctionInput, optFns ...func(*lambda.Options)) (*lambda.ListVersionsByFunctionOutput, error) {
	if m.versionsErr != nil {
		return nil, m.versionsErr
	}
	return m.LambdaAPI.ListVersionsByFunction(ctx, in, optFns...)
}

// statusCW is the real CloudWatch client with every result's status
// rewritten to status, or the results dropped when drop is set.
type statusCW struct {
	awsprovider.CloudWatchAPI
	status cwtypes.StatusCode
	drop   bool
}

func (s statusCW) GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	out, err := s.CloudWatchAPI.GetMetricData(ctx, in, optFns...)
	if err != nil {
		return out, err
	}
	if s.drop {
		out.MetricDataResults = nil
	}
	for i := range out.MetricDataResults {
		out.MetricDataResults[i].StatusCode = s.status
	}
	return out, nil
}

// quietFixture is a function of moto's, its name, and the real time its
// drivers read (see driver).
type quietFixture struct {
	fn, name string
	now      time.Time
}

func newQuietFixture(t *testing.T, region string) quietFixture {
	t.Helper()
	fn := seeder{region}.createFunction(t, 128, 3, nil)
	_, name, _ := strings.Cut(fn, ":function:")
	// A fixed now on the hour, an hour ago: moto keeps whatever it is
	// given, and the driver's clock is the test's.
	return quietFixture{fn: fn, name: name, now: time.Now().UTC().Truncate(time.Hour).Add(-time.Hour)}
}

// driver returns a driver in region whose real clock reads f.now and to
// which f's function was last modified at modified.
func (f quietFixture) driver(t *testing.T, region string, modified time.Time, cfg awsprovider.Config) *awsprovider.Driver {
	t.Helper()
	return f.driverCW(t, region, modified, cfg, nil)
}

// driverCW is driver with cw as its CloudWatch client (nil: the real one).
func (f quietFixture) driverCW(t *testing.T, region string, modified time.Time, cfg awsprovider.Config, cw awsprovider.CloudWatchAPI) *awsprovider.Driver {
	t.Helper()
	lam := modifiedLambda{LambdaAPI: lambda.NewFromConfig(sdkConfigIn(region)), modified: map[string]time.Time{f.fn: modified}}
	return newDriverIn(t, region, cfg,
		awsprovider.WithClients(awsprovider.Clients{Lambda: lam, CloudWatch: cw}),
		awsprovider.WithNow(func() time.Time { return f.now }))
}

// TestQuietFunctionCountsReadZero: Lambda publishes Invocations, Errors
// and Throttles only for a minute with such events, so an unused
// function's series were all gaps, which every consumer reads as missing
// data: the detector could never call a function idle on its
// invocations. A step without a datapoint now reads 0 from the function's
// LastModified on (a step starting before it stays a gap: the function
// may not have existed) up to the last step that ended PublishDelay
// before the real time (5 minutes by default: a later one may not be
// published yet); the datapoints keep their values, also before
// LastModified, and the count of datapoints of a quiet step is 0.
func TestQuietFunctionCountsReadZero(t *testing.T) {
	t.Parallel()
	f := newQuietFixture(t, region)
	now := f.now
	modified := now.Add(-10 * time.Minute)
	putMetric(t, "AWS/Lambda", "Invocations", "FunctionName", f.name, cwtypes.StandardUnitCount, map[time.Time]float64{
		now.Add(-12 * time.Minute): 60, // before LastModified
		now.Add(-8 * time.Minute):  120,
	})
	putMetric(t, "AWS/Lambda", "Errors", "FunctionName", f.name, cwtypes.StandardUnitCount, map[time.Time]float64{
		now.Add(-8 * time.Minute): 0, // a published zero
	})
	d := f.driver(t, region, modified, fastConfig())
	// 14 one-minute steps from now − 12m: LastModified is step 2's start,
	// now − PublishDelay (5m) step 6's end.
	q := func(m provider.Metric, st provider.Statistic) provider.Query {
		return provider.Query{ResourceID: f.fn, Metric: m, Statistic: st, Start: now.Add(-12 * time.Minute), End: now.Add(2 * time.Minute), Step: time.Minute}
	}
	g := math.NaN()
	for _, tc := range []struct {
		name string
		q    provider.Query
		want []float64
	}{
		{"invocations rate", q(provider.MetricInvocations, ""), []float64{1, g, 0, 0, 2, 0, 0, g, g, g, g, g, g, g}},
		{"invocations sum", q(provider.MetricInvocations, provider.StatSum), []float64{60, g, 0, 0, 120, 0, 0, g, g, g, g, g, g, g}},
		{"invocations count of datapoints", q(provider.MetricInvocations, provider.StatCount), []float64{1, g, 0, 0, 1, 0, 0, g, g, g, g, g, g, g}},
		{"errors", q(provider.MetricErrors, ""), []float64{g, g, 0, 0, 0, 0, 0, g, g, g, g, g, g, g}},
		{"throttles", q(provider.MetricThrottles, provider.StatSum), []float64{g, g, 0, 0, 0, 0, 0, g, g, g, g, g, g, g}},
		{"duration is no count", q(provider.MetricDuration, ""), []float64{g, g, g, g, g, g, g, g, g, g, g, g, g, g}},
	} {
		got, err := d.QueryMetric(tctx(t), tc.q)
		require.NoError(t, err, tc.name)
		assertSeries(t, tc.want, got.Values, tc.name)
	}

	// The batch read fills the same steps.
	reads := []provider.MetricRead{{Query: q(provider.MetricErrors, provider.StatSum)}, {Query: q(provider.MetricDuration, "")}}
	require.NoError(t, d.QueryMetrics(tctx(t), reads))
	require.NoError(t, reads[0].Err)
	assertSeries(t, []float64{g, g, 0, 0, 0, 0, 0, g, g, g, g, g, g, g}, reads[0].Series.Values, "batched errors")
}

// TestQuietFunctionCountBoundaries: a step starting exactly at
// LastModified reads 0, one starting a millisecond before it a gap; a
// step ending exactly PublishDelay before now reads 0, the next a gap,
// with the delay configured; a coarser step is filled whole or not at
// all.
func TestQuietFunctionCountBoundaries(t *testing.T) {
	t.Parallel()
	f := newQuietFixture(t, region)
	now := f.now
	g := math.NaN()
	cfg := fastConfig()
	cfg.PublishDelay = 3 * time.Minute
	q := provider.Query{ResourceID: f.fn, Metric: provider.MetricErrors, Statistic: provider.StatSum, Start: now.Add(-10 * time.Minute), End: now, Step: time.Minute}
	for _, tc := range []struct {
		name     string
		modified time.Time
		step     time.Duration
		want     []float64
	}{
		// Steps from now − 10m; now − 3m ends step 6.
		{"LastModified on a step's start", now.Add(-8 * time.Minute), time.Minute, []float64{g, g, 0, 0, 0, 0, 0, g, g, g}},
		{"LastModified a millisecond after it", now.Add(-8*time.Minute + time.Millisecond), time.Minute, []float64{g, g, g, 0, 0, 0, 0, g, g, g}},
		{"LastModified before the window", now.Add(-time.Hour), time.Minute, []float64{0, 0, 0, 0, 0, 0, 0, g, g, g}},
		{"LastModified after the window", now.Add(time.Minute), time.Minute, []float64{g, g, g, g, g, g, g, g, g, g}},
		// Five 2-minute steps: the fourth ends at now − 2m, after the delay.
		{"two-minute steps", now.Add(-time.Hour), 2 * time.Minute, []float64{0, 0, 0, g, g}},
	} {
		d := f.driver(t, region, tc.modified, cfg)
		q := q
		q.Step = tc.step
		got, err := d.QueryMetric(tctx(t), q)
		require.NoError(t, err, tc.name)
		assertSeries(t, tc.want, got.Values, tc.name)
	}
}

// TestQuietFunctionCountKeepsUnknownGaps: a step stays a gap where a
// missing datapoint is not known to be no event: older than CloudWatch
// keeps its period, at a step under Lambda's minute (5 of 6 ten-second
// steps of a busy minute have no datapoint), and on a grid not on the
// minute.
func TestQuietFunctionCountKeepsUnknownGaps(t *testing.T) {
	t.Parallel()
	f := newQuietFixture(t, region)
	now := f.now
	day := 24 * time.Hour
	d := f.driver(t, region, now.Add(-500*day), fastConfig())
	g := math.NaN()
	for _, tc := range []struct {
		name string
		q    provider.Query
		want []float64
	}{
		{
			"one minute kept 15 days (less an hour)",
			provider.Query{Start: now.Add(-15*day + time.Hour - 2*time.Minute), End: now.Add(-15*day + time.Hour + 2*time.Minute), Step: time.Minute},
			[]float64{g, g, 0, 0},
		},
		{
			"five minutes kept 63 days",
			provider.Query{Start: now.Add(-63*day + time.Hour - 10*time.Minute), End: now.Add(-63*day + time.Hour + 10*time.Minute), Step: 5 * time.Minute},
			[]float64{g, g, 0, 0},
		},
		{
			"two minutes are kept as minutes",
			provider.Query{Start: now.Add(-20 * day), End: now.Add(-20*day + 4*time.Minute), Step: 2 * time.Minute},
			[]float64{g, g},
		},
		{
			"an hour kept 455 days",
			provider.Query{Start: now.Add(-455*day + time.Hour - 2*time.Hour), End: now.Add(-455*day + time.Hour + 2*time.Hour), Step: time.Hour},
			[]float64{g, g, 0, 0},
		},
		{
			"ten seconds",
			provider.Query{Start: now.Add(-time.Hour), End: now.Add(-time.Hour + 30*time.Second), Step: 10 * time.Second},
			[]float64{g, g, g},
		},
		{
			"a grid not on the minute",
			provider.Query{Start: now.Add(-time.Hour + 30*time.Second), End: now.Add(-time.Hour + 150*time.Second), Step: time.Minute},
			[]float64{g, g},
		},
	} {
		tc.q.ResourceID, tc.q.Metric, tc.q.Statistic = f.fn, provider.MetricInvocations, provider.StatSum
		if tc.q.Step < time.Minute {
			// The sum of a step under a minute is refused
			// (TestQueryMetricSubMinuteStepOfACounter): its mean is read.
			tc.q.Statistic = provider.StatMean
		}
		got, err := d.QueryMetric(tctx(t), tc.q)
		require.NoError(t, err, tc.name)
		assertSeries(t, tc.want, got.Values, tc.name)
	}
}

// TestQuietFunctionCountFailedReadIsNoZero: a read CloudWatch could not
// compute, one it did not answer, one answered in part, and a call that
// failed are never zeros.
func TestQuietFunctionCountFailedReadIsNoZero(t *testing.T) {
	t.Parallel()
	f := newQuietFixture(t, region)
	now := f.now
	q := provider.Query{ResourceID: f.fn, Metric: provider.MetricInvocations, Statistic: provider.StatSum, Start: now.Add(-time.Hour), End: now.Add(-50 * time.Minute), Step: time.Minute}
	for _, tc := range failedReads(cloudwatch.NewFromConfig(sdkConfig(), queryProtocol)) {
		d := f.driverCW(t, region, now.Add(-2*time.Hour), fastConfig(), tc.cw)
		got, err := d.QueryMetric(tctx(t), q)
		if tc.fail {
			require.Error(t, err, tc.name)
			assert.Empty(t, got.Values, tc.name)
			continue
		}
		require.NoError(t, err, tc.name)
		require.Len(t, got.Values, 10, tc.name)
		assert.Equal(t, 10, got.Gaps(), "%s: no zero", tc.name)
	}
	// The same driver reading CloudWatch whole fills them.
	got, err := f.driver(t, region, now.Add(-2*time.Hour), fastConfig()).QueryMetric(tctx(t), q)
	require.NoError(t, err)
	assert.Zero(t, got.Gaps())
}

// failedRead is a CloudWatch whose reads of a quiet count are never
// zeros: one that fails them (fail) or answers them not whole.
type failedRead struct {
	name string
	cw   awsprovider.CloudWatchAPI
	fail bool
}

// failedReads returns the failed reads of real: a result CloudWatch could
// not compute or may not give, one in part, none, and a call that fails.
func failedReads(real awsprovider.CloudWatchAPI) []failedRead {
	return []failedRead{
		{"internal error", statusCW{CloudWatchAPI: real, status: cwtypes.StatusCodeInternalError}, true},
		{"forbidden", statusCW{CloudWatchAPI: real, status: cwtypes.StatusCodeForbidden}, true},
		{"partial data", statusCW{CloudWatchAPI: real, status: cwtypes.StatusCodePartialData}, false},
		{"no result", statusCW{CloudWatchAPI: real, drop: true}, false},
		{"the call failed", failingCW{}, true},
	}
}

// failingCW fails every call.
type failingCW struct{}

func (failingCW) GetMetricData(context.Context, *cloudwatch.GetMetricDataInput, ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	return nil, errors.New("connection reset")
}

// TestQuietCountsAreOnlyFunctions: an instance's and a group's counters
// (NetworkIn) and a load balancer's ActiveConnectionCount keep their
// gaps: an instance's traffic is not published only when there is some.
// (A load balancer's RequestCount is a quiet count since the driver
// reads its CreatedTime: TestQuietLoadBalancerRequestsReadZero.)
func TestQuietCountsAreOnlyFunctions(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Hour).Add(-time.Hour)
	d := newDriver(t, awsprovider.WithNow(func() time.Time { return now }))
	inst := runDetailed(t)
	group := createGroup(t, 0, 1, 0, nil)
	lb := newLBFixture(t, elbtypes.LoadBalancerTypeEnumApplication)
	lb.now = now
	lbd := lb.driver(t, now.Add(-2*time.Hour), fastConfig(), nil)
	for _, q := range []provider.Query{
		{ResourceID: inst, Metric: provider.MetricNetworkIn},
		{ResourceID: group, Metric: provider.MetricNetworkIn},
		{ResourceID: lb.arn, Metric: provider.MetricConnections},
	} {
		q.Statistic, q.Start, q.End, q.Step = provider.StatSum, now.Add(-time.Hour), now.Add(-50*time.Minute), time.Minute
		d := d
		if q.ResourceID == lb.arn {
			d = lbd
		}
		got, err := d.QueryMetric(tctx(t), q)
		require.NoError(t, err, q.ResourceID)
		require.Len(t, got.Values, 10, q.ResourceID)
		assert.Equal(t, 10, got.Gaps(), "%s %s: gaps stay gaps", q.ResourceID, q.Metric)
	}
}

// TestQuietFunctionAtTheEdgeIsNotZero: Lambda@Edge runs a published
// version of a function created in us-east-1 and publishes its metrics in
// the regions it runs in, so in us-east-1 a function in heavy use at the
// edge has no datapoint. There, a function with a published version keeps
// its gaps (Query) and its activity is unknown (absent), unless
// Config.IgnoreFunctionVersions; in another region it reads 0. When
// ListVersionsByFunction fails (no permission), the function may be one:
// it is read as one, with a warning, and the read itself does not fail
// (a scaling signal on its errors must not fail over a check that only
// zero-fills).
func TestQuietFunctionAtTheEdgeIsNotZero(t *testing.T) {
	t.Parallel()
	const elsewhere = "eu-central-1"
	for _, r := range []string{region, elsewhere} {
		f := newQuietFixture(t, r)
		_, err := sdkIn(r).lambda.PublishVersion(tctx(t), &lambda.PublishVersionInput{FunctionName: awssdk.String(f.name)})
		require.NoError(t, err)
		q := provider.Query{ResourceID: f.fn, Metric: provider.MetricInvocations, Statistic: provider.StatSum, Start: f.now.Add(-time.Hour), End: f.now.Add(-50 * time.Minute), Step: time.Minute}
		aq := provider.ActivityQuery{ResourceID: f.fn, Start: f.now.Add(-time.Hour), End: f.now}
		modified := f.now.Add(-2 * time.Hour)
		ignore := fastConfig()
		ignore.IgnoreFunctionVersions = true
		for _, tc := range []struct {
			name  string
			cfg   awsprovider.Config
			quiet bool
		}{
			{"checked", fastConfig(), r != region},
			{"ignored", ignore, true},
		} {
			d := f.driver(t, r, modified, tc.cfg)
			got, err := d.QueryMetric(tctx(t), q)
			require.NoError(t, err, "%s %s", r, tc.name)
			act, err := d.Activity(tctx(t), aq)
			require.NoError(t, err, "%s %s", r, tc.name)
			if tc.quiet {
				assert.Zero(t, got.Gaps(), "%s %s: zeros", r, tc.name)
				assert.Equal(t, []provider.ActivityCount{{Kind: provider.ActivityAPICalls}}, act, "%s %s", r, tc.name)
				continue
			}
			assert.Equal(t, 10, got.Gaps(), "%s %s: gaps", r, tc.name)
			assert.Empty(t, act, "%s %s: unknown", r, tc.name)
		}
	}

	f := newQuietFixture(t, region)
	lam := modifiedLambda{LambdaAPI: sdk().lambda, modified: map[string]time.Time{f.fn: f.now.Add(-2 * time.Hour)}, versionsErr: errors.New("AccessDenied")}
	var logs strings.Builder
	d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{Lambda: lam}), awsprovider.WithNow(func() time.Time { return f.now }),
		awsprovider.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	got, err := d.QueryMetric(tctx(t), provider.Query{ResourceID: f.fn, Metric: provider.MetricErrors, Start: f.now.Add(-time.Hour), End: f.now.Add(-50 * time.Minute), Step: time.Minute})
	require.NoError(t, err, "the check cannot decide: the read stands as before")
	assert.Equal(t, 10, got.Gaps(), "gaps, not zeros")
	act, err := d.Activity(tctx(t), provider.ActivityQuery{ResourceID: f.fn, Start: f.now.Add(-time.Hour), End: f.now})
	require.NoError(t, err)
	assert.Empty(t, act, "unknown, not unused")
	assert.Contains(t, logs.String(), "lambda:ListVersionsByFunction failed")
	assert.Contains(t, logs.String(), "AccessDenied")
	got, err = d.QueryMetric(tctx(t), provider.Query{ResourceID: f.fn, Metric: provider.MetricDuration, Start: f.now.Add(-time.Hour), End: f.now, Step: time.Minute})
	require.NoError(t, err, "a metric that is no quiet count needs no check")
	assert.Equal(t, 60, got.Gaps())
}

// TestQuietFunctionActivity: an unused function's activity was absent
// (unknown), so the detector's terminate rule (no use over 28 days) could
// never be met for a function on AWS. With no datapoint in the window it
// is now a count of 0 that covers the window from the function's
// LastModified on (Since, when that is after Start), and stays absent
// when LastModified is at or after End. With datapoints, Since is the
// earlier of LastModified and the first datapoint's period.
func TestQuietFunctionActivity(t *testing.T) {
	t.Parallel()
	f := newQuietFixture(t, region)
	now := f.now
	modified := now.Add(-30 * time.Minute)
	d := f.driver(t, region, modified, fastConfig())
	api := provider.ActivityAPICalls
	for _, tc := range []struct {
		name       string
		start, end time.Time
		want       []provider.ActivityCount
	}{
		{"LastModified in the window", now.Add(-2 * time.Hour), now, []provider.ActivityCount{{Kind: api, Since: modified}}},
		{"LastModified before the window", now.Add(-20 * time.Minute), now, []provider.ActivityCount{{Kind: api}}},
		{"LastModified at Start", modified, now, []provider.ActivityCount{{Kind: api}}},
		{"LastModified at End", now.Add(-time.Hour), modified, []provider.ActivityCount{}},
		{"LastModified after the window", now.Add(-2 * time.Hour), now.Add(-time.Hour), []provider.ActivityCount{}},
		{"28 days, read at five minutes", now.Add(-28 * 24 * time.Hour), now, []provider.ActivityCount{{Kind: api, Since: modified}}},
	} {
		got, err := d.Activity(tctx(t), provider.ActivityQuery{ResourceID: f.fn, Start: tc.start, End: tc.end})
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.want, got, tc.name)
		for _, c := range got {
			require.NoError(t, c.Validate(), tc.name)
			assert.False(t, c.Since.After(tc.end), "%s: Since after End", tc.name)
		}
	}

	// A datapoint before LastModified: counted, and the cover begins at it.
	g := newQuietFixture(t, region)
	putMetric(t, "AWS/Lambda", "Invocations", "FunctionName", g.name, cwtypes.StandardUnitCount, map[time.Time]float64{
		now.Add(-40 * time.Minute): 3,
	})
	d = g.driver(t, region, modified, fastConfig())
	for _, tc := range []struct {
		name       string
		start, end time.Time
		want       provider.ActivityCount
	}{
		{"before LastModified", now.Add(-2 * time.Hour), now, provider.ActivityCount{Kind: api, Count: 3, Last: now.Add(-40 * time.Minute), Since: now.Add(-40 * time.Minute)}},
		{"LastModified after End", now.Add(-2 * time.Hour), now.Add(-35 * time.Minute), provider.ActivityCount{Kind: api, Count: 3, Last: now.Add(-40 * time.Minute), Since: now.Add(-40 * time.Minute)}},
		{"from its minute", now.Add(-40 * time.Minute), now, provider.ActivityCount{Kind: api, Count: 3, Last: now.Add(-40 * time.Minute)}},
	} {
		got, err := d.Activity(tctx(t), provider.ActivityQuery{ResourceID: g.fn, Start: tc.start, End: tc.end})
		require.NoError(t, err, tc.name)
		assert.Equal(t, []provider.ActivityCount{tc.want}, got, tc.name)
	}
}

// TestQuietFunctionActivityFailedReadIsNoZero: a result CloudWatch could
// not compute fails Activity (it was silently absent: now it would be a
// count of 0), and one not answered, or answered in part, is unknown.
func TestQuietFunctionActivityFailedReadIsNoZero(t *testing.T) {
	t.Parallel()
	f := newQuietFixture(t, region)
	real := cloudwatch.NewFromConfig(sdkConfig(), queryProtocol)
	aq := provider.ActivityQuery{ResourceID: f.fn, Start: f.now.Add(-time.Hour), End: f.now}
	for _, tc := range []struct {
		name string
		cw   awsprovider.CloudWatchAPI
		fail bool
	}{
		{"internal error", statusCW{CloudWatchAPI: real, status: cwtypes.StatusCodeInternalError}, true},
		{"forbidden", statusCW{CloudWatchAPI: real, status: cwtypes.StatusCodeForbidden}, true},
		{"partial data", statusCW{CloudWatchAPI: real, status: cwtypes.StatusCodePartialData}, false},
		{"no result", statusCW{CloudWatchAPI: real, drop: true}, false},
		{"the call failed", failingCW{}, true},
	} {
		d := f.driverCW(t, region, f.now.Add(-2*time.Hour), fastConfig(), tc.cw)
		got, err := d.Activity(tctx(t), aq)
		if tc.fail {
			require.Error(t, err, tc.name)
			continue
		}
		require.NoError(t, err, tc.name)
		assert.Empty(t, got, "%s: unknown, not 0", tc.name)
	}
}

// periodRuleCW is the real CloudWatch client (moto) answering as
// CloudWatch documents for a query's StartTime older than 3 hours by the
// real time now: StartTime is rounded down to the minute (less than 15
// days ago), to 5 minutes (15 to 63 days) or to the hour (older), and a
// query whose period is not a multiple of that (1 minute, 5 minutes, an
// hour) has no datapoints in the time range (MetricStat.Period). moto
// does neither: it keeps and returns every datapoint on a grid from the
// StartTime given.
type periodRuleCW struct {
	awsprovider.CloudWatchAPI
	now time.Time
}

func (c periodRuleCW) GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	day := 24 * time.Hour
	need := time.Minute
	switch age := c.now.Sub(awssdk.ToTime(in.StartTime)); {
	case age > 63*day:
		need = time.Hour
	case age > 15*day:
		need = 5 * time.Minute
	}
	cp := *in
	cp.StartTime = awssdk.Time(awssdk.ToTime(in.StartTime).Truncate(need))
	out, err := c.CloudWatchAPI.GetMetricData(ctx, &cp, optFns...)
	if err != nil {
		return out, err
	}
	period := map[string]int32{}
	for _, q := range in.MetricDataQueries {
		period[awssdk.ToString(q.Id)] = awssdk.ToInt32(q.MetricStat.Period)
	}
	for i, r := range out.MetricDataResults {
		if time.Duration(period[awssdk.ToString(r.Id)])*time.Second%need != 0 {
			out.MetricDataResults[i].Timestamps, out.MetricDataResults[i].Values = nil, nil
		}
	}
	return out, nil
}

// TestQuietFunctionCountFollowsTheStartsPeriod: CloudWatch decides the
// period a query needs, and how it rounds its start, by how old the
// query's Start is, not each step: a 1-minute query starting more than
// 15 days ago has no datapoint at all, also in its steps of the last 15
// days, and one of 5 minutes starting 15 to 63 days ago on a minute not
// on 5 minutes has its datapoints on the 5-minute grid, each straddling
// two steps, the first before Start and dropped. Both read 0 in a step
// the function was invoked in; they stay gaps.
func TestQuietFunctionCountFollowsTheStartsPeriod(t *testing.T) {
	t.Parallel()
	f := newQuietFixture(t, region)
	now := f.now
	day := 24 * time.Hour
	oneMin := now.Add(-15*day - 10*time.Minute) // steps from 70 on are within 15 days less an hour
	fiveMin := now.Add(-20*day + 3*time.Minute) // on the minute, not on 5 minutes
	putMetric(t, "AWS/Lambda", "Invocations", "FunctionName", f.name, cwtypes.StandardUnitCount, map[time.Time]float64{
		oneMin.Add(75 * time.Minute): 4, // step 75
		fiveMin.Add(time.Minute):     7, // step 0, in CloudWatch's datapoint before Start
	})
	real := cloudwatch.NewFromConfig(sdkConfig(), queryProtocol)
	d := f.driverCW(t, region, now.Add(-100*day), fastConfig(), periodRuleCW{CloudWatchAPI: real, now: now})
	for _, tc := range []struct {
		name    string
		q       provider.Query
		invoked int
	}{
		{"one minute from 15 days and 10 minutes ago", provider.Query{Start: oneMin, End: oneMin.Add(90 * time.Minute), Step: time.Minute}, 75},
		{"five minutes from 20 days ago, on a minute", provider.Query{Start: fiveMin, End: fiveMin.Add(time.Hour), Step: 5 * time.Minute}, 0},
	} {
		tc.q.ResourceID, tc.q.Metric, tc.q.Statistic = f.fn, provider.MetricInvocations, provider.StatSum
		got, err := d.QueryMetric(tctx(t), tc.q)
		require.NoError(t, err, tc.name)
		require.Greater(t, len(got.Values), tc.invoked, tc.name)
		assert.True(t, provider.IsGap(got.Values[tc.invoked]), "%s: step %d, in which the function was invoked, reads %v", tc.name, tc.invoked, got.Values[tc.invoked])
		// moto itself has the invocations there.
		got, err = f.driver(t, region, now.Add(-100*day), fastConfig()).QueryMetric(tctx(t), tc.q)
		require.NoError(t, err, tc.name)
		require.Greater(t, len(got.Values), tc.invoked, tc.name)
		assert.Positive(t, got.Values[tc.invoked], "%s: moto's step %d", tc.name, tc.invoked)
	}
}

// TestQuietFunctionActivityIsNotZeroBeyondTheRealTime: a quiet function's
// count of 0 says no invocation in [Since, End), which CloudWatch can
// only say of what it was published and still keeps. A host whose clock
// runs ahead of the real time (a fake or wrong one) read a function
// whose window ends after the real time as unused up to its End, and one
// whose clock is over a year behind read it as unused in a window
// CloudWatch keeps nothing of; both are unknown (absent). The steps of
// QueryMetric were already judged by the real clock.
func TestQuietFunctionActivityIsNotZeroBeyondTheRealTime(t *testing.T) {
	t.Parallel()
	f := newQuietFixture(t, region)
	now := f.now
	day := 24 * time.Hour
	d := f.driver(t, region, now.Add(-600*day), fastConfig())
	for _, tc := range []struct {
		name       string
		start, end time.Time
	}{
		{"a host a day ahead", now.Add(day - 28*day), now.Add(day)},
		{"a window wholly after the real time", now.Add(2 * day), now.Add(30 * day)},
		{"a window older than CloudWatch keeps", now.Add(-500 * day), now.Add(-472 * day)},
	} {
		got, err := d.Activity(tctx(t), provider.ActivityQuery{ResourceID: f.fn, Start: tc.start, End: tc.end})
		require.NoError(t, err, tc.name)
		assert.Empty(t, got, "%s: unknown, not unused", tc.name)
	}
	// The same function over the last 28 days is quiet.
	got, err := d.Activity(tctx(t), provider.ActivityQuery{ResourceID: f.fn, Start: now.Add(-28 * day), End: now})
	require.NoError(t, err)
	assert.Equal(t, []provider.ActivityCount{{Kind: provider.ActivityAPICalls}}, got)
}

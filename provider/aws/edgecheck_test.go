package aws_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// versionsLambda counts the ListVersionsByFunction calls of its Lambda
// client.
type versionsLambda struct {
	awsprovider.LambdaAPI
	n atomic.Int64
}

func (c *versionsLambda) ListVersionsByFunction(ctx context.Context, in *lambda.ListVersionsByFunctionInput, optFns ...func(*lambda.Options)) (*lambda.ListVersionsByFunctionOutput, error) {
	c.n.Add(1)
	return c.LambdaAPI.ListVersionsByFunction(ctx, in, optFns...)
}

// TestActivityAsksVersionsOnlyWhenTheyDecide: in us-east-1 Activity and
// Activities asked every function ListVersionsByFunction (may it run at
// Lambda@Edge?) before reading it, one call per function of a Scan,
// where the answer decides only a count CloudWatch left without a
// datapoint, or a Since after Start: a function invoked in the window
// and modified before it reads the same either way. Such a read now asks
// nothing; a quiet one still asks, once per function, and one with a
// published version stays unknown, as before: every read is what it was.
func TestActivityAsksVersionsOnlyWhenTheyDecide(t *testing.T) {
	t.Parallel()
	before := time.Now().UTC().Truncate(time.Minute)
	start := before.Add(-2 * time.Hour)
	used, usedEdge, quiet, edge := createFunction(t, 128, 3, nil), createFunction(t, 128, 3, nil), createFunction(t, 128, 3, nil), createFunction(t, 128, 3, nil)
	for _, fn := range []string{usedEdge, edge} {
		_, err := sdk().lambda.PublishVersion(tctx(t), &lambda.PublishVersionInput{FunctionName: awssdk.String(fn)})
		require.NoError(t, err)
	}
	for _, fn := range []string{used, usedEdge} {
		putMetric(t, "AWS/Lambda", "Invocations", "FunctionName", functionName(fn), cwtypes.StandardUnitCount, map[time.Time]float64{start.Add(time.Minute): 3})
	}
	lam := &versionsLambda{LambdaAPI: modifiedLambda{LambdaAPI: sdk().lambda, modified: map[string]time.Time{
		used: start.Add(-time.Hour), usedEdge: start.Add(-time.Hour), quiet: start.Add(30 * time.Minute), edge: start.Add(30 * time.Minute),
	}}}
	// The real clock ten minutes ahead: the window has ended and is
	// published.
	d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{Lambda: lam}),
		awsprovider.WithNow(func() time.Time { return time.Now().Add(10 * time.Minute) }))
	window := func(id string) provider.ActivityQuery {
		return provider.ActivityQuery{ResourceID: id, Start: start, End: before.Add(5 * time.Minute)}
	}
	ids := []string{used, usedEdge, quiet, edge, functionName(quiet), used}
	reads := make([]provider.ActivityRead, len(ids))
	for i, id := range ids {
		reads[i] = provider.ActivityRead{Query: window(id)}
	}
	require.NoError(t, d.Activities(tctx(t), reads))
	assert.Equal(t, int64(2), lam.n.Load(), "the quiet function and the one with a version, once each")

	api := provider.ActivityAPICalls
	assert.Equal(t, []provider.ActivityCount{{Kind: api, Count: 3, Last: start.Add(time.Minute)}}, reads[0].Counts)
	assert.Equal(t, reads[0].Counts, reads[1].Counts, "invoked: a version changes nothing")
	assert.Equal(t, []provider.ActivityCount{{Kind: api, Since: start.Add(30 * time.Minute)}}, reads[2].Counts, "quiet since its LastModified")
	assert.Empty(t, reads[3].Counts, "a published version may run at the edge: no datapoint is unknown")
	assert.Equal(t, reads[2].Counts, reads[4].Counts, "by name")

	for i, r := range reads {
		require.NoError(t, r.Err, "read %d", i)
		lam.n.Store(0)
		want, err := d.Activity(tctx(t), r.Query)
		require.NoError(t, err)
		assert.Equal(t, want, r.Counts, "read %d (%q)", i, r.Query.ResourceID)
		if i < 2 {
			assert.Zero(t, lam.n.Load(), "read %d: invoked, modified before the window: no call", i)
		} else if i < 5 {
			assert.Equal(t, int64(1), lam.n.Load(), "read %d: quiet: the call decides", i)
		}
	}
}

// TestQueryMetricsAsksVersionsOnlyWhenTheyDecide: in us-east-1
// QueryMetrics asked every function with a quiet count read (its
// invocations, errors, throttles) ListVersionsByFunction before reading
// it, where the answer decides only whether steps without a datapoint
// read 0: a series with a datapoint in every step, or whose gaps are too
// recent to be quiet, reads the same either way and is asked nothing. A
// quiet function still asks, once, and a read is what it was.
func TestQueryMetricsAsksVersionsOnlyWhenTheyDecide(t *testing.T) {
	t.Parallel()
	start := minuteGrid()
	busy, quiet := createFunction(t, 128, 3, nil), createFunction(t, 128, 3, nil)
	points := map[time.Time]float64{}
	for i := range 10 {
		points[start.Add(time.Duration(i)*time.Minute)] = 2
	}
	putMetric(t, "AWS/Lambda", "Invocations", "FunctionName", functionName(busy), cwtypes.StandardUnitCount, points)
	lam := &versionsLambda{LambdaAPI: modifiedLambda{LambdaAPI: sdk().lambda, modified: map[string]time.Time{
		busy: start.Add(-time.Hour), quiet: start.Add(-time.Hour),
	}}}
	d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{Lambda: lam}))
	query := func(id string) provider.Query {
		return provider.Query{ResourceID: id, Metric: provider.MetricInvocations, Statistic: provider.StatSum, Start: start, End: start.Add(10 * time.Minute), Step: time.Minute}
	}
	reads := []provider.MetricRead{{Query: query(busy)}, {Query: query(quiet)}, {Query: query(functionName(quiet))}}
	require.NoError(t, d.QueryMetrics(tctx(t), reads))
	assert.Equal(t, int64(1), lam.n.Load(), "the quiet function, once")
	for i, r := range reads {
		require.NoError(t, r.Err, "read %d", i)
	}
	assertSeries(t, []float64{2, 2, 2, 2, 2, 2, 2, 2, 2, 2}, reads[0].Series.Values, "busy")
	assertSeries(t, []float64{0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, reads[1].Series.Values, "quiet")
	assertSeries(t, reads[1].Series.Values, reads[2].Series.Values, "by name")

	lam.n.Store(0)
	got, err := d.QueryMetric(tctx(t), query(busy))
	require.NoError(t, err)
	assertSeries(t, reads[0].Series.Values, got.Values, "alone")
	assert.Zero(t, lam.n.Load(), "a datapoint in every step: no call")
}

package aws_test

import (
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
)

// TestQualifiedFunctionReadsTheWholeFunction pins the review's suspicion
// that the reads of a function ARN or name qualified by a version or an
// alias ("fn:prod", "fn:1") are of the whole function as on the safe
// side: Lambda's FunctionName dimension, which the driver reads, sums the
// invocations of every version and alias, so an alias's use reads as at
// least what it is (its own calls and others'), never less; what has no
// call in the whole function has none in the alias either. Only the
// whole function's Resource (Get) is read, and no action takes a
// qualified ID (Resize refuses it; Start, Stop, Terminate and SetCapacity
// do not act on functions).
func TestQualifiedFunctionReadsTheWholeFunction(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	fn := createFunction(t, 128, 3, nil)
	_, name, _ := strings.Cut(fn, ":function:")
	c := sdk().lambda
	v, err := c.PublishVersion(tctx(t), &lambda.PublishVersionInput{FunctionName: &name})
	require.NoError(t, err)
	_, err = c.CreateAlias(tctx(t), &lambda.CreateAliasInput{FunctionName: &name, Name: awssdk.String("prod"), FunctionVersion: v.Version})
	require.NoError(t, err)
	start := minuteGrid()
	putMetric(t, "AWS/Lambda", "Invocations", "FunctionName", name, cwtypes.StandardUnitCount, map[time.Time]float64{
		start.Add(time.Minute): 40, start.Add(2 * time.Minute): 2,
	})
	for _, id := range []string{fn + ":prod", fn + ":" + awssdk.ToString(v.Version), name + ":prod"} {
		got, err := d.Activity(tctx(t), provider.ActivityQuery{ResourceID: id, Start: start, End: start.Add(10 * time.Minute)})
		require.NoError(t, err, id)
		require.Len(t, got, 1, id)
		assert.InDelta(t, 42, got[0].Count, 1e-9, "%s: every call of the function counts", id)
		s, err := d.QueryMetric(tctx(t), provider.Query{ResourceID: id, Metric: provider.MetricInvocations, Statistic: provider.StatSum,
			Start: start, End: start.Add(10 * time.Minute), Step: 5 * time.Minute})
		require.NoError(t, err, id)
		require.NotEmpty(t, s.Values, id)
		assert.InDelta(t, 42, s.Values[0], 1e-9, id)
	}
}

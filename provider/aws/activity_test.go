package aws_test

import (
	"strings"
	"testing"
	"time"

	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
)

func TestActivity(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	fn := createFunction(t, 128, 3, nil)
	_, fnName, _ := strings.Cut(fn, ":function:")
	inst := runInstances(t, 1, "t3.micro", nil)[0]
	db := uniq("orders")
	start := minuteGrid()
	putMetric(t, "AWS/Lambda", "Invocations", "FunctionName", fnName, cwtypes.StandardUnitCount, map[time.Time]float64{
		start.Add(time.Minute): 40, start.Add(2 * time.Minute): 2, start.Add(5 * time.Minute): 0, start.Add(time.Hour): 1000,
	})
	putMetric(t, "AWS/RDS", "DatabaseConnections", "DBInstanceIdentifier", db, cwtypes.StandardUnitCount, map[time.Time]float64{
		start: 3, start.Add(time.Minute): 7, start.Add(2 * time.Minute): 0,
	})
	window := func(id string) provider.ActivityQuery {
		return provider.ActivityQuery{ResourceID: id, Start: start, End: start.Add(10 * time.Minute)}
	}

	got, err := d.Activity(tctx(t), window(fn))
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, provider.ActivityAPICalls, got[0].Kind)
	assert.InDelta(t, 42, got[0].Count, 1e-9, "the datapoint an hour later is outside the window")
	assert.True(t, got[0].Last.Equal(start.Add(2*time.Minute)), "last non-zero minute, got %s", got[0].Last)

	got, err = d.Activity(tctx(t), window("arn:aws:rds:us-east-1:123456789012:db:"+db))
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, provider.ActivityDBQueries, got[0].Kind)
	assert.InDelta(t, 7, got[0].Count, 1e-9, "peak connections")

	got, err = d.Activity(tctx(t), provider.ActivityQuery{ResourceID: fn, Start: start.Add(-24 * time.Hour), End: start.Add(-23 * time.Hour)})
	require.NoError(t, err)
	assert.Empty(t, got, "no datapoint is unknown, not zero")

	got, err = d.Activity(tctx(t), window(inst))
	require.NoError(t, err)
	assert.NotNil(t, got)
	assert.Empty(t, got, "an instance's activity is unknown to CloudWatch")

	_, err = d.Activity(tctx(t), window("i-0123456789abcdef0"))
	require.ErrorIs(t, err, provider.ErrNotFound)
	bad := window(fn)
	bad.End = bad.Start
	_, err = d.Activity(tctx(t), bad)
	require.ErrorIs(t, err, provider.ErrInvalid)
}

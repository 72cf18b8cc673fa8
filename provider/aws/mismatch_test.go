package aws_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// unevenCW is the real CloudWatch client whose results with datapoints
// carry one timestamp more than values (extra) or one fewer.
type unevenCW struct {
	awsprovider.CloudWatchAPI
	extra bool
}

func (c unevenCW) GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	out, err := c.CloudWatchAPI.GetMetricData(ctx, in, optFns...)
	if err != nil {
		return out, err
	}
	for i, r := range out.MetricDataResults {
		if len(r.Timestamps) == 0 {
			continue
		}
		if c.extra {
			out.MetricDataResults[i].Timestamps = append(r.Timestamps, r.Timestamps[len(r.Timestamps)-1].Add(time.Minute))
		} else {
			out.MetricDataResults[i].Timestamps = r.Timestamps[:len(r.Timestamps)-1]
		}
	}
	return out, nil
}

// TestUnevenAnswerFailsActivityAsItFailsQueryMetric: a GetMetricData
// result with more timestamps than values, or fewer, is a malformed
// answer: QueryMetric fails it naming the metric, and so does Activity
// (and Activities' read), rather than count the datapoints it can pair
// (which could read a database in use as idle, or its use as older than
// it is).
func TestUnevenAnswerFailsActivityAsItFailsQueryMetric(t *testing.T) {
	t.Parallel()
	db := uniq("uneven")
	arn := "arn:aws:rds:us-east-1:123456789012:db:" + db
	end := time.Now().UTC().Truncate(time.Minute)
	start := end.Add(-time.Hour)
	putMetric(t, "AWS/RDS", "DatabaseConnections", "DBInstanceIdentifier", db, cwtypes.StandardUnitCount, map[time.Time]float64{
		start.Add(10 * time.Minute): 4, start.Add(20 * time.Minute): 2, start.Add(30 * time.Minute): 0,
	})
	tests := []struct {
		name  string
		extra bool
	}{
		{"more timestamps than values", true},
		{"fewer timestamps than values", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cw := unevenCW{CloudWatchAPI: cloudwatch.NewFromConfig(sdkConfig(), queryProtocol), extra: tt.extra}
			d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{CloudWatch: cw}))

			_, err := d.QueryMetric(tctx(t), provider.Query{ResourceID: arn, Metric: provider.MetricConnections, Start: start, End: end, Step: time.Minute})
			require.Error(t, err, "QueryMetric")
			assert.Contains(t, err.Error(), "connections")

			q := provider.ActivityQuery{ResourceID: arn, Start: start, End: end}
			counts, err := d.Activity(tctx(t), q)
			require.Error(t, err, "Activity: %v", counts)
			assert.Contains(t, err.Error(), "DatabaseConnections", "names the metric")
			assert.Contains(t, err.Error(), db, "names the resource")

			reads := []provider.ActivityRead{{Query: q}}
			require.NoError(t, d.Activities(tctx(t), reads))
			require.Error(t, reads[0].Err, "Activities: %v", reads[0].Counts)
			assert.Contains(t, reads[0].Err.Error(), "DatabaseConnections")
		})
	}
}

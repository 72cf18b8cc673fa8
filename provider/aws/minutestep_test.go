package aws_test

import (
	"testing"
	"time"

	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
)

// TestQueryMetricMinuteStepOfACounterKeepsItsSum: a step of a minute
// holds whole one-minute datapoints of a counter AWS publishes, so its
// sum is the step's (CloudWatchMetric: only a step shorter than a
// minute refuses it) and its rate the Sum over the minute.
func TestQueryMetricMinuteStepOfACounterKeepsItsSum(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	fn := createFunction(t, 128, 3, nil)
	start := time.Now().UTC().Truncate(time.Minute).Add(-time.Hour)
	at := func(m int) time.Time { return start.Add(time.Duration(m) * time.Minute) }
	calls := map[time.Time]float64{}
	for m := range 4 {
		calls[at(m)] = 600
	}
	putMetric(t, "AWS/Lambda", "Invocations", "FunctionName", functionName(fn), cwtypes.StandardUnitCount, calls)
	q := provider.Query{ResourceID: fn, Metric: provider.MetricInvocations, Start: start, End: at(4), Step: time.Minute}
	got, err := d.QueryMetric(tctx(t), q)
	require.NoError(t, err)
	assertSeries(t, []float64{10, 10, 10, 10}, got.Values, "a minute's rate: 600 in 60 s")
	q.Statistic = provider.StatSum
	got, err = d.QueryMetric(tctx(t), q)
	require.NoError(t, err, "a minute's datapoint is the step's sum")
	assertSeries(t, []float64{600, 600, 600, 600}, got.Values, "each minute's sum")
}

// TestQueryMetricCountOfACounterAtAnyStep: a counter's count is the
// number of datapoints in each step (CloudWatchMetric), whatever their
// period: a basic-monitoring instance's count at a step that cuts
// through its 5-minute datapoints (6m), whose rate is refused, is read.
func TestQueryMetricCountOfACounterAtAnyStep(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	basic := runInstances(t, 1, "t3.micro", nil)[0]
	start := time.Now().UTC().Truncate(30 * time.Minute).Add(-time.Hour)
	at := func(m int) time.Time { return start.Add(time.Duration(m) * time.Minute) }
	putMetric(t, "AWS/EC2", "NetworkIn", "InstanceId", basic, cwtypes.StandardUnitBytes, map[time.Time]float64{
		at(0): 300000, at(5): 300000, at(10): 300000,
	})
	q := provider.Query{ResourceID: basic, Metric: provider.MetricNetworkIn, Start: start, End: at(18), Step: 6 * time.Minute}
	_, err := d.QueryMetric(tctx(t), q)
	require.ErrorIs(t, err, provider.ErrUnsupported, "the rate of a step cutting through 5-minute datapoints")
	q.Statistic = provider.StatCount
	got, err := d.QueryMetric(tctx(t), q)
	require.NoError(t, err, "a count is a count at any step")
	require.Len(t, got.Values, 3)
	n := 0.0
	for _, v := range got.Values {
		if !provider.IsGap(v) {
			n += v
		}
	}
	require.InDelta(t, 3, n, 0, "the three datapoints")
}

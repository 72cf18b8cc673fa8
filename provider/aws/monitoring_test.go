package aws_test

import (
	"math"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
)

// runDetailed starts one instance with detailed (one-minute) monitoring.
func runDetailed(t tb) string {
	t.Helper()
	out, err := sdk().ec2.RunInstances(tctx(t), &ec2.RunInstancesInput{
		ImageId: awssdk.String(ami), MinCount: awssdk.Int32(1), MaxCount: awssdk.Int32(1),
		InstanceType: ec2types.InstanceTypeT3Micro, Monitoring: &ec2types.RunInstancesMonitoringEnabled{Enabled: awssdk.Bool(true)},
	})
	require.NoError(t, err)
	return awssdk.ToString(out.Instances[0].InstanceId)
}

// assertSeries compares values, NaN meaning a gap.
func assertSeries(t *testing.T, want, got []float64, msg string) {
	t.Helper()
	require.Len(t, got, len(want), msg)
	for i, w := range want {
		if math.IsNaN(w) {
			assert.True(t, provider.IsGap(got[i]), "%s: step %d = %v, want a gap", msg, i, got[i])
			continue
		}
		assert.InDelta(t, w, got[i], 1e-9, "%s: step %d", msg, i)
	}
}

// An instance with basic monitoring (Monitoring.State "disabled", the
// default) has one datapoint per 5 minutes, stamped at the start of its
// interval, whose Sum is the bytes of the whole 5 minutes. Read at a 60 s
// step, the driver divided that Sum by 60: the rate was 5× too high in one
// step. Now it divides by the datapoint's real period (300 s), leaves the
// four steps without a datapoint as gaps and a datapoint whose interval
// runs past the query's end (its Sum may be partial) out; a sum of a step
// shorter than the datapoints', or a step that cuts through them, is
// refused. An instance with detailed monitoring reads as before.
func TestQueryMetricBasicMonitoringRates(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	basic := runInstances(t, 1, "t3.micro", nil)[0]
	detailed := runDetailed(t)
	start := time.Now().UTC().Truncate(5 * time.Minute).Add(-2 * time.Hour)
	at := func(m int) time.Time { return start.Add(time.Duration(m) * time.Minute) }
	// 300,000 bytes in each of three 5-minute intervals: 1,000 bytes/s.
	putMetric(t, "AWS/EC2", "NetworkIn", "InstanceId", basic, cwtypes.StandardUnitBytes, map[time.Time]float64{
		at(0): 300000, at(5): 300000, at(10): 300000,
	})
	// The same traffic at one-minute resolution: 60,000 bytes a minute.
	points := map[time.Time]float64{}
	for m := range 15 {
		points[at(m)] = 60000
	}
	putMetric(t, "AWS/EC2", "NetworkIn", "InstanceId", detailed, cwtypes.StandardUnitBytes, points)
	gap := math.NaN()
	q := func(id string, step time.Duration, end int, st provider.Statistic) provider.Query {
		return provider.Query{ResourceID: id, Metric: provider.MetricNetworkIn, Start: start, End: at(end), Step: step, Statistic: st}
	}

	got, err := d.QueryMetric(tctx(t), q(basic, time.Minute, 12, ""))
	require.NoError(t, err)
	assert.Equal(t, time.Minute, got.Step)
	assertSeries(t, []float64{1000, gap, gap, gap, gap, 1000, gap, gap, gap, gap, gap, gap}, got.Values,
		"basic, 60 s: the rate of each 5-minute datapoint in its step, gaps elsewhere; the one at minute 10 runs past the end")

	got, err = d.QueryMetric(tctx(t), q(basic, 5*time.Minute, 15, ""))
	require.NoError(t, err)
	assertSeries(t, []float64{1000, 1000, 1000}, got.Values, "basic, 5 min")
	got, err = d.QueryMetric(tctx(t), q(basic, 10*time.Minute, 20, provider.StatSum))
	require.NoError(t, err)
	assertSeries(t, []float64{600000, 300000}, got.Values, "basic, sum of 10 min")

	got, err = d.QueryMetric(tctx(t), q(detailed, time.Minute, 12, ""))
	require.NoError(t, err)
	want := make([]float64, 12)
	for i := range want {
		want[i] = 1000
	}
	assertSeries(t, want, got.Values, "detailed, 60 s")

	for _, bad := range []provider.Query{q(basic, time.Minute, 12, provider.StatSum), q(basic, 6*time.Minute, 12, "")} {
		_, err = d.QueryMetric(tctx(t), bad)
		require.ErrorIs(t, err, provider.ErrUnsupported, "step %v statistic %q", bad.Step, bad.Statistic)
		assert.Contains(t, err.Error(), "basic monitoring")
		assert.Contains(t, err.Error(), basic)
	}
}

// TestQueryMetricSubMinuteStepOfACounter: AWS publishes its own metrics
// at standard resolution, one datapoint a minute at best (a
// detailed-monitoring instance's, a function's, a load balancer's), whose
// Sum covers the minute. Read at a step shorter than a minute (30 s),
// the driver divided that Sum by the step: the rate was twice too high
// (six times at 10 s), in one step of two. It now divides by the minute,
// as for a basic-monitoring instance's five, leaves the steps without a
// datapoint as gaps, and refuses the sum of such a step, which a minute's
// datapoint does not give.
func TestQueryMetricSubMinuteStepOfACounter(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	detailed := runDetailed(t)
	fn := createFunction(t, 128, 3, nil)
	start := time.Now().UTC().Truncate(time.Minute).Add(-time.Hour)
	at := func(m int) time.Time { return start.Add(time.Duration(m) * time.Minute) }
	bytes, calls := map[time.Time]float64{}, map[time.Time]float64{}
	for m := range 10 {
		bytes[at(m)] = 60000 // 1,000 bytes/s
		calls[at(m)] = 600   // 10 invocations/s
	}
	putMetric(t, "AWS/EC2", "NetworkIn", "InstanceId", detailed, cwtypes.StandardUnitBytes, bytes)
	putMetric(t, "AWS/Lambda", "Invocations", "FunctionName", functionName(fn), cwtypes.StandardUnitCount, calls)
	gap := math.NaN()
	for _, tt := range []struct {
		id     string
		metric provider.Metric
		rate   float64
	}{
		{detailed, provider.MetricNetworkIn, 1000},
		{fn, provider.MetricInvocations, 10},
	} {
		q := provider.Query{ResourceID: tt.id, Metric: tt.metric, Start: start, End: at(6), Step: 30 * time.Second}
		got, err := d.QueryMetric(tctx(t), q)
		require.NoError(t, err, tt.metric)
		var want []float64
		for range 6 {
			want = append(want, tt.rate, gap)
		}
		assertSeries(t, want, got.Values, string(tt.metric)+" at 30 s: each minute's rate in the step of its datapoint")

		q.Statistic = provider.StatSum
		_, err = d.QueryMetric(tctx(t), q)
		require.ErrorIs(t, err, provider.ErrUnsupported, tt.metric)
		assert.Contains(t, err.Error(), "30s")
	}
}

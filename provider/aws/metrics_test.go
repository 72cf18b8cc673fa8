package aws_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// minuteGrid returns a minute-aligned start two hours ago.
func minuteGrid() time.Time { return time.Now().UTC().Truncate(time.Minute).Add(-2 * time.Hour) }

func TestQueryMetricConvertsUnitsAndKeepsGaps(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	inst := runDetailed(t) // datapoints within the minute, as below, need detailed monitoring
	fn := createFunction(t, 128, 10, nil)
	_, fnName, _ := strings.Cut(fn, ":function:")
	start := minuteGrid()
	at := func(m int, s int) time.Time {
		return start.Add(time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
	}

	// CPU in minutes 0, 1 and 3 (minute 2 missing), percent.
	putMetric(t, "AWS/EC2", "CPUUtilization", "InstanceId", inst, cwtypes.StandardUnitPercent, map[time.Time]float64{
		at(0, 0): 10, at(0, 30): 30, at(1, 0): 50, at(3, 10): 5,
	})
	// NetworkIn bytes per datapoint: 6000 + 6000 bytes in minute 0.
	putMetric(t, "AWS/EC2", "NetworkIn", "InstanceId", inst, cwtypes.StandardUnitBytes, map[time.Time]float64{
		at(0, 0): 6000, at(0, 30): 6000, at(2, 0): 600,
	})
	// Lambda Duration in milliseconds and Invocations counts.
	putMetric(t, "AWS/Lambda", "Duration", "FunctionName", fnName, cwtypes.StandardUnitMilliseconds, map[time.Time]float64{
		at(0, 0): 250, at(0, 20): 750,
	})
	putMetric(t, "AWS/Lambda", "Invocations", "FunctionName", fnName, cwtypes.StandardUnitCount, map[time.Time]float64{
		at(1, 0): 30, at(1, 5): 90,
	})
	q := func(id string, m provider.Metric, st provider.Statistic) provider.Query {
		return provider.Query{ResourceID: id, Metric: m, Start: start, End: start.Add(4 * time.Minute), Step: time.Minute, Statistic: st}
	}
	gap := math.NaN()
	tests := []struct {
		name string
		give provider.Query
		want []float64
	}{
		{"cpu mean as fraction", q(inst, provider.MetricCPU, ""), []float64{0.2, 0.5, gap, 0.05}},
		{"cpu max", q(inst, provider.MetricCPU, provider.StatMax), []float64{0.3, 0.5, gap, 0.05}},
		{"cpu min", q(inst, provider.MetricCPU, provider.StatMin), []float64{0.1, 0.5, gap, 0.05}},
		{"cpu count", q(inst, provider.MetricCPU, provider.StatCount), []float64{2, 1, gap, 1}},
		{"network mean is bytes per second", q(inst, provider.MetricNetworkIn, provider.StatMean), []float64{200, gap, 10, gap}},
		{"network sum is bytes per step", q(inst, provider.MetricNetworkIn, provider.StatSum), []float64{12000, gap, 600, gap}},
		{"lambda duration in seconds", q(fn, provider.MetricDuration, ""), []float64{0.5, gap, gap, gap}},
		{"lambda invocations per second", q(fn, provider.MetricInvocations, ""), []float64{gap, 2, gap, gap}},
		{"no data is all gaps", q(fn, provider.MetricErrors, ""), []float64{gap, gap, gap, gap}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := d.QueryMetric(tctx(t), tt.give)
			require.NoError(t, err)
			assert.Equal(t, tt.give.ResourceID, got.ResourceID)
			assert.Equal(t, tt.give.Metric, got.Metric)
			assert.True(t, got.Start.Equal(start))
			assert.Equal(t, time.Minute, got.Step)
			require.Len(t, got.Values, len(tt.want))
			for i, w := range tt.want {
				if math.IsNaN(w) {
					assert.True(t, provider.IsGap(got.Values[i]), "step %d = %v, want a gap", i, got.Values[i])
					continue
				}
				assert.InDelta(t, w, got.Values[i], 1e-9, "step %d", i)
			}
		})
	}
}

func TestQueryMetricRejectsBeforeAnyCall(t *testing.T) {
	t.Parallel()
	counter := &countingHTTP{}
	d := newDriver(t, withCounter(counter)...)
	start := minuteGrid()
	good := provider.Query{ResourceID: "i-0123456789abcdef0", Metric: provider.MetricCPU, Start: start, End: start.Add(time.Hour), Step: time.Minute}
	tests := []struct {
		name  string
		give  func(q provider.Query) provider.Query
		want  error
		field string
	}{
		{"unknown metric", func(q provider.Query) provider.Query { q.Metric = "cpu_temperature"; return q }, provider.ErrUnknownMetric, "query.metric"},
		{"step not a period", func(q provider.Query) provider.Query { q.Step = 90 * time.Second; return q }, provider.ErrInvalid, "query.step"},
		{"sub-second step", func(q provider.Query) provider.Query { q.Step = 1500 * time.Millisecond; return q }, provider.ErrInvalid, "query.step"},
		{"negative step", func(q provider.Query) provider.Query { q.Step = -time.Minute; return q }, provider.ErrInvalid, "query.step"},
		{"end before start", func(q provider.Query) provider.Query { q.End = q.Start.Add(-time.Minute); return q }, provider.ErrInvalid, "query.end"},
		{"bad id", func(q provider.Query) provider.Query { q.ResourceID = "i 1"; return q }, provider.ErrInvalid, "query.resource.id"},
		{"statistic last", func(q provider.Query) provider.Query { q.Statistic = provider.StatLast; return q }, provider.ErrUnsupported, ""},
		{"bad statistic", func(q provider.Query) provider.Query { q.Statistic = "p0"; return q }, provider.ErrInvalid, "query.statistic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := d.QueryMetric(tctx(t), tt.give(good))
			require.ErrorIs(t, err, tt.want)
			if tt.field != "" {
				var ie *provider.InvalidError
				require.ErrorAs(t, err, &ie)
				assert.Equal(t, tt.field, ie.Field)
			}
		})
	}
	assert.Zero(t, counter.n.Load(), "invalid queries must not reach AWS")
}

func TestQueryMetricMappingErrors(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	inst := runInstances(t, 1, "t3.micro", nil)[0]
	start := minuteGrid()
	q := provider.Query{ResourceID: inst, Metric: provider.MetricReplicas, Start: start, End: start.Add(time.Hour), Step: time.Minute}
	_, err := d.QueryMetric(tctx(t), q)
	require.ErrorIs(t, err, provider.ErrUnsupported, "an instance has no replicas metric")

	q.Metric, q.Statistic = provider.MetricNetworkIn, provider.StatMax
	_, err = d.QueryMetric(tctx(t), q)
	require.ErrorIs(t, err, provider.ErrUnsupported, "max of a counter")

	q.Metric, q.Statistic = provider.MetricCPU, ""
	q.ResourceID = "i-0123456789abcdef0"
	_, err = d.QueryMetric(tctx(t), q)
	require.ErrorIs(t, err, provider.ErrNotFound)
}

func TestQueryMetricCustomAndRDS(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	inst := runInstances(t, 1, "t3.micro", nil)[0]
	start := minuteGrid()
	putMetric(t, "CWAgent", "disk_used_percent", "InstanceId", inst, cwtypes.StandardUnitPercent, map[time.Time]float64{start: 42})
	got, err := d.QueryMetric(tctx(t), provider.Query{
		ResourceID: inst, Metric: provider.CustomMetric("CWAgent/disk_used_percent"),
		Start: start, End: start.Add(2 * time.Minute), Step: time.Minute,
	})
	require.NoError(t, err)
	require.Len(t, got.Values, 2)
	assert.InDelta(t, 42, got.Values[0], 1e-9, "custom metrics are not scaled")
	assert.True(t, provider.IsGap(got.Values[1]))

	db := uniq("orders")
	putMetric(t, "AWS/RDS", "DatabaseConnections", "DBInstanceIdentifier", db, cwtypes.StandardUnitCount, map[time.Time]float64{start: 7, start.Add(10 * time.Second): 9})
	got, err = d.QueryMetric(tctx(t), provider.Query{
		ResourceID: "arn:aws:rds:us-east-1:123456789012:db:" + db, Metric: provider.MetricConnections,
		Start: start, End: start.Add(time.Minute), Step: time.Minute, Statistic: provider.StatMax,
	})
	require.NoError(t, err)
	assert.Equal(t, []float64{9}, got.Values)

	_, err = d.QueryMetric(tctx(t), provider.Query{
		ResourceID: inst, Metric: provider.CustomMetric("no-namespace"), Start: start, End: start.Add(time.Minute), Step: time.Minute,
	})
	require.ErrorIs(t, err, provider.ErrUnsupported)
}

func TestQueryMetricsBatches(t *testing.T) {
	t.Parallel()
	insts := runInstances(t, 7, "t3.micro", nil)
	start := minuteGrid()
	for i, id := range insts {
		putMetric(t, "AWS/EC2", "CPUUtilization", "InstanceId", id, cwtypes.StandardUnitPercent, map[time.Time]float64{start: float64(10 * i)})
	}
	cw := &countingCW{CloudWatchAPI: cloudwatch.NewFromConfig(sdkConfig(), queryProtocol)}
	cfg := fastConfig()
	cfg.MetricBatch = 3
	d := newDriverConfig(t, cfg, awsprovider.WithClients(awsprovider.Clients{CloudWatch: cw}))
	reads := make([]provider.MetricRead, len(insts)+3)
	for i, id := range insts {
		reads[i].Query = provider.Query{ResourceID: id, Metric: provider.MetricCPU, Start: start, End: start.Add(2 * time.Minute), Step: time.Minute}
	}
	// Reads that fail alone, before any call: an invalid step, an unknown
	// instance (resolved once for two reads).
	reads[7].Query = reads[0].Query
	reads[7].Query.Step = 90 * time.Second
	reads[8].Query = reads[0].Query
	reads[8].Query.ResourceID = "i-0123456789abcdef0"
	reads[9].Query = reads[8].Query
	require.NoError(t, d.QueryMetrics(tctx(t), reads))
	for i, r := range reads[:len(insts)] {
		require.NoError(t, r.Err)
		assert.Equal(t, insts[i], r.Series.ResourceID)
		assert.InDelta(t, float64(i)/10, r.Series.Values[0], 1e-9, "series %d", i)
		assert.True(t, provider.IsGap(r.Series.Values[1]))
	}
	require.ErrorIs(t, reads[7].Err, provider.ErrInvalid)
	require.ErrorIs(t, reads[8].Err, provider.ErrNotFound)
	require.ErrorIs(t, reads[9].Err, provider.ErrNotFound)
	assert.Equal(t, int64(3), cw.n.Load(), "7 queries in batches of 3")
}

// pagedCW answers GetMetricData in two pages, as CloudWatch does for large
// results; moto never pages.
type pagedCW struct{ tokens []string }

func (p *pagedCW) GetMetricData(_ context.Context, in *cloudwatch.GetMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	p.tokens = append(p.tokens, awssdk.ToString(in.NextToken))
	start := awssdk.ToTime(in.StartTime)
	id := in.MetricDataQueries[0].Id
	if in.NextToken == nil {
		return &cloudwatch.GetMetricDataOutput{
			NextToken: awssdk.String("page-2"),
			MetricDataResults: []cwtypes.MetricDataResult{{
				Id: id, StatusCode: cwtypes.StatusCodePartialData,
				Timestamps: []time.Time{start, start.Add(time.Minute)}, Values: []float64{10, 20},
			}},
		}, nil
	}
	return &cloudwatch.GetMetricDataOutput{
		MetricDataResults: []cwtypes.MetricDataResult{{
			Id: id, StatusCode: cwtypes.StatusCodeComplete,
			Timestamps: []time.Time{start.Add(3 * time.Minute)}, Values: []float64{40},
		}},
	}, nil
}

func TestQueryMetricReadsEveryPage(t *testing.T) {
	t.Parallel()
	inst := runInstances(t, 1, "t3.micro", nil)[0]
	cw := &pagedCW{}
	d := newDriver(t, awsprovider.WithClients(awsprovider.Clients{CloudWatch: cw}))
	start := minuteGrid()
	got, err := d.QueryMetric(tctx(t), provider.Query{ResourceID: inst, Metric: provider.MetricCPU, Start: start, End: start.Add(4 * time.Minute), Step: time.Minute})
	require.NoError(t, err)
	assert.Equal(t, []string{"", "page-2"}, cw.tokens)
	require.Len(t, got.Values, 4)
	assert.InDelta(t, 0.1, got.Values[0], 1e-9)
	assert.InDelta(t, 0.2, got.Values[1], 1e-9)
	assert.True(t, provider.IsGap(got.Values[2]))
	assert.InDelta(t, 0.4, got.Values[3], 1e-9)
}

func TestMapping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		kind   provider.Kind
		metric provider.Metric
		want   awsprovider.CloudWatchMetric
		ok     bool
	}{
		{"ec2 cpu", provider.KindInstance, provider.MetricCPU, awsprovider.CloudWatchMetric{Namespace: "AWS/EC2", Name: "CPUUtilization", Dimension: "InstanceId", Scale: 0.01}, true},
		{"asg replicas", provider.KindGroup, provider.MetricReplicas, awsprovider.CloudWatchMetric{Namespace: "AWS/AutoScaling", Name: "GroupInServiceInstances", Dimension: "AutoScalingGroupName", Scale: 1}, true},
		{"lambda throttles", provider.KindFunction, provider.MetricThrottles, awsprovider.CloudWatchMetric{Namespace: "AWS/Lambda", Name: "Throttles", Dimension: "FunctionName", Scale: 1, Counter: true}, true},
		{"alb requests", provider.KindLoadBalancer, provider.MetricRequests, awsprovider.CloudWatchMetric{Namespace: "AWS/ApplicationELB", Name: "RequestCount", Dimension: "LoadBalancer", Scale: 1, Counter: true}, true},
		{"rds connections", provider.KindDatabase, provider.MetricConnections, awsprovider.CloudWatchMetric{Namespace: "AWS/RDS", Name: "DatabaseConnections", Dimension: "DBInstanceIdentifier", Scale: 1}, true},
		{"custom", provider.KindInstance, provider.CustomMetric("AWS/EC2/DiskReadBytes"), awsprovider.CloudWatchMetric{Namespace: "AWS/EC2", Name: "DiskReadBytes", Dimension: "InstanceId", Scale: 1}, true},
		{"custom without namespace", provider.KindInstance, provider.CustomMetric("DiskReadBytes"), awsprovider.CloudWatchMetric{}, false},
		{"function cpu", provider.KindFunction, provider.MetricCPU, awsprovider.CloudWatchMetric{}, false},
		// A volume has a dimension since the driver reads volumes: its
		// custom metrics map (this case read no mapping before).
		{"volume custom", provider.KindVolume, provider.CustomMetric("AWS/EBS/VolumeIdleTime"), awsprovider.CloudWatchMetric{Namespace: "AWS/EBS", Name: "VolumeIdleTime", Dimension: "VolumeId", Scale: 1}, true},
		{"volume reads", provider.KindVolume, provider.MetricDiskRead, awsprovider.CloudWatchMetric{Namespace: "AWS/EBS", Name: "VolumeReadBytes", Dimension: "VolumeId", Scale: 1, Counter: true}, true},
		{"volume writes", provider.KindVolume, provider.MetricDiskWrite, awsprovider.CloudWatchMetric{Namespace: "AWS/EBS", Name: "VolumeWriteBytes", Dimension: "VolumeId", Scale: 1, Counter: true}, true},
		{"volume utilization", provider.KindVolume, provider.MetricDiskUtilization, awsprovider.CloudWatchMetric{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := awsprovider.Mapping(tt.kind, tt.metric)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

// scriptedCW answers its first GetMetricData call with a good result and
// one CloudWatch could not compute, and throttles the next.
type scriptedCW struct {
	calls [][]string // the query IDs of each call
}

func (s *scriptedCW) GetMetricData(_ context.Context, in *cloudwatch.GetMetricDataInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	var ids []string
	for _, q := range in.MetricDataQueries {
		ids = append(ids, awssdk.ToString(q.Id))
	}
	s.calls = append(s.calls, ids)
	if len(s.calls) > 1 {
		return nil, &smithy.GenericAPIError{Code: "Throttling", Message: "Rate exceeded"}
	}
	start := awssdk.ToTime(in.StartTime)
	return &cloudwatch.GetMetricDataOutput{MetricDataResults: []cwtypes.MetricDataResult{
		{Id: in.MetricDataQueries[0].Id, StatusCode: cwtypes.StatusCodeComplete, Timestamps: []time.Time{start}, Values: []float64{50}},
		{Id: in.MetricDataQueries[1].Id, StatusCode: cwtypes.StatusCodeInternalError, Messages: []cwtypes.MessageData{{Value: awssdk.String("try later")}}},
	}}, nil
}

// TestQueryMetricsFailsReadsAlone pins the batch contract on CloudWatch's
// failures: a result CloudWatch could not compute fails its read alone; a
// throttled call fails its reads and those not read yet (no more calls),
// and is the method's error.
func TestQueryMetricsFailsReadsAlone(t *testing.T) {
	t.Parallel()
	insts := runInstances(t, 2, "t3.micro", nil)
	cw := &scriptedCW{}
	cfg := fastConfig()
	cfg.MetricBatch = 2
	d := newDriverConfig(t, cfg, awsprovider.WithClients(awsprovider.Clients{CloudWatch: cw}))
	start := minuteGrid()
	reads := make([]provider.MetricRead, 6)
	for i := range reads {
		reads[i].Query = provider.Query{ResourceID: insts[i%2], Metric: provider.MetricCPU, Start: start, End: start.Add(time.Minute), Step: time.Minute}
		reads[i].Series.Values = make([]float64, 0, 4)
	}
	err := d.QueryMetrics(tctx(t), reads)
	require.ErrorIs(t, err, provider.ErrThrottled)
	assert.Len(t, cw.calls, 2, "no call after the throttled one")
	require.NoError(t, reads[0].Err)
	assert.Equal(t, []float64{0.5}, reads[0].Series.Values)
	assert.Equal(t, 4, cap(reads[0].Series.Values), "the values are written into the read's capacity")
	require.ErrorContains(t, reads[1].Err, "CloudWatch status InternalError")
	require.ErrorContains(t, reads[1].Err, "try later")
	assert.Empty(t, reads[1].Series.Values)
	for i := 2; i < len(reads); i++ {
		require.ErrorIs(t, reads[i].Err, provider.ErrThrottled, "read %d", i)
		assert.Empty(t, reads[i].Series.Values)
	}
}

package aws

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/idlescale/idlescale/provider"
)

// CloudWatchMetric is where a provider metric of one resource kind lives in
// CloudWatch, and how its values convert to the metric's unit.
type CloudWatchMetric struct {
	// Namespace is the CloudWatch namespace, such as "AWS/EC2".
	Namespace string
	// Name is the CloudWatch metric name, such as "CPUUtilization".
	Name string
	// Dimension is the dimension that names the resource, such as
	// "InstanceId".
	Dimension string
	// Scale multiplies CloudWatch's values: 0.01 turns a percentage into a
	// fraction, 0.001 milliseconds into seconds.
	Scale float64
	// Counter marks metrics whose datapoints count events or bytes per
	// period (NetworkIn, Invocations, RequestCount). Their mean is the rate
	// per second over the step (CloudWatch's Sum divided by the step, or,
	// read at a shorter step, by the minute of AWS's datapoints, or by 5
	// minutes for a basic-monitoring instance's EC2 metrics: see the
	// package doc), their sum the total in the step (refused at such a
	// shorter step) and their count the number of datapoints; other
	// statistics are unsupported.
	Counter bool
}

// dimensions of each kind's resource name.
var kindDimension = map[provider.Kind]struct{ namespace, dimension string }{
	provider.KindInstance:     {"AWS/EC2", "InstanceId"},
	provider.KindGroup:        {"AWS/EC2", "AutoScalingGroupName"},
	provider.KindFunction:     {"AWS/Lambda", "FunctionName"},
	provider.KindDatabase:     {"AWS/RDS", "DBInstanceIdentifier"},
	provider.KindLoadBalancer: {"AWS/ApplicationELB", "LoadBalancer"},
	provider.KindVolume:       {"AWS/EBS", "VolumeId"},
}

var metricTable = map[provider.Kind]map[provider.Metric]CloudWatchMetric{
	provider.KindInstance: {
		provider.MetricCPU:        {"AWS/EC2", "CPUUtilization", "InstanceId", 0.01, false},
		provider.MetricMemory:     {"CWAgent", "mem_used_percent", "InstanceId", 0.01, false},
		provider.MetricNetworkIn:  {"AWS/EC2", "NetworkIn", "InstanceId", 1, true},
		provider.MetricNetworkOut: {"AWS/EC2", "NetworkOut", "InstanceId", 1, true},
		provider.MetricDiskRead:   {"AWS/EC2", "EBSReadBytes", "InstanceId", 1, true},
		provider.MetricDiskWrite:  {"AWS/EC2", "EBSWriteBytes", "InstanceId", 1, true},
		provider.MetricCPUCredits: {"AWS/EC2", "CPUCreditBalance", "InstanceId", 1, false},
	},
	provider.KindGroup: {
		provider.MetricCPU:        {"AWS/EC2", "CPUUtilization", "AutoScalingGroupName", 0.01, false},
		provider.MetricNetworkIn:  {"AWS/EC2", "NetworkIn", "AutoScalingGroupName", 1, true},
		provider.MetricNetworkOut: {"AWS/EC2", "NetworkOut", "AutoScalingGroupName", 1, true},
		provider.MetricDiskRead:   {"AWS/EC2", "EBSReadBytes", "AutoScalingGroupName", 1, true},
		provider.MetricDiskWrite:  {"AWS/EC2", "EBSWriteBytes", "AutoScalingGroupName", 1, true},
		provider.MetricReplicas:   {"AWS/AutoScaling", "GroupInServiceInstances", "AutoScalingGroupName", 1, false},
	},
	provider.KindFunction: {
		provider.MetricInvocations: {"AWS/Lambda", "Invocations", "FunctionName", 1, true},
		provider.MetricErrors:      {"AWS/Lambda", "Errors", "FunctionName", 1, true},
		provider.MetricThrottles:   {"AWS/Lambda", "Throttles", "FunctionName", 1, true},
		provider.MetricDuration:    {"AWS/Lambda", "Duration", "FunctionName", 0.001, false},
	},
	provider.KindDatabase: {
		provider.MetricCPU:         {"AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", 0.01, false},
		provider.MetricConnections: {"AWS/RDS", "DatabaseConnections", "DBInstanceIdentifier", 1, false},
	},
	provider.KindLoadBalancer: {
		provider.MetricRequests:    {"AWS/ApplicationELB", "RequestCount", "LoadBalancer", 1, true},
		provider.MetricConnections: {"AWS/ApplicationELB", "ActiveConnectionCount", "LoadBalancer", 1, true},
	},
	// No disk_utilization: VolumeIdleTime (seconds idle per period) is
	// 1 − idle/period as a fraction, which Scale (a factor, no offset)
	// cannot express.
	provider.KindVolume: {
		provider.MetricDiskRead:  {"AWS/EBS", "VolumeReadBytes", "VolumeId", 1, true},
		provider.MetricDiskWrite: {"AWS/EBS", "VolumeWriteBytes", "VolumeId", 1, true},
	},
}

// quietCounts marks the metrics of the table that CloudWatch has a
// datapoint of only for a period with events: Lambda publishes a
// function's Invocations, Errors and Throttles only for the minutes it
// was invoked (errored, was throttled) in, and Elastic Load Balancing an
// Application Load Balancer's RequestCount only for the minutes requests
// reached it in; EBS publishes a volume's metrics only while it is
// attached to an instance, so a detached volume's have no datapoint at
// all. A step of one without a datapoint reads 0 where that is known (see
// quietFrom and fillQuiet), not a gap: for a volume only while it is
// detached, and only after the series' last datapoint.
var quietCounts = map[provider.Kind]map[provider.Metric]bool{
	provider.KindFunction: {
		provider.MetricInvocations: true,
		provider.MetricErrors:      true,
		provider.MetricThrottles:   true,
	},
	provider.KindLoadBalancer: {
		provider.MetricRequests: true,
	},
	provider.KindVolume: {
		provider.MetricDiskRead:  true,
		provider.MetricDiskWrite: true,
	},
}

// Mapping returns where metric m of a resource of kind k lives in
// CloudWatch. A custom metric "custom/NAMESPACE/NAME" maps to that
// namespace and name with the kind's resource dimension, scale 1, as a
// gauge. ok is false when the driver has no mapping.
func Mapping(k provider.Kind, m provider.Metric) (cw CloudWatchMetric, ok bool) {
	if name, custom := strings.CutPrefix(string(m), provider.CustomPrefix); custom {
		dim, known := kindDimension[k]
		i := strings.LastIndexByte(name, '/')
		if !known || i <= 0 || i == len(name)-1 {
			return CloudWatchMetric{}, false
		}
		return CloudWatchMetric{Namespace: name[:i], Name: name[i+1:], Dimension: dim.dimension, Scale: 1}, true
	}
	cw, ok = metricTable[k][m]
	return cw, ok
}

// cloudWatchStat maps a statistic onto CloudWatch's for a gauge or a
// counter.
func cloudWatchStat(s provider.Statistic, counter bool) (string, error) {
	switch s {
	case "", provider.StatMean:
		if counter {
			return "Sum", nil
		}
		return "Average", nil
	case provider.StatSum:
		return "Sum", nil
	case provider.StatCount:
		return "SampleCount", nil
	case provider.StatLast:
		return "", fmt.Errorf("%w: CloudWatch has no %q statistic", provider.ErrUnsupported, s)
	}
	if counter {
		return "", fmt.Errorf("%w: statistic %q of a counter metric; use mean (rate), sum or count", provider.ErrUnsupported, s)
	}
	switch s {
	case provider.StatMax:
		return "Maximum", nil
	case provider.StatMin:
		return "Minimum", nil
	}
	if _, ok := s.Percentile(); ok {
		if _, frac, _ := strings.Cut(string(s), "."); len(frac) > 2 {
			// CloudWatch refuses the whole call for one such query.
			return "", fmt.Errorf("%w: statistic %q: CloudWatch takes percentiles with at most two decimals", provider.ErrUnsupported, s)
		}
		return string(s), nil
	}
	return "", provider.Invalid("query.statistic", string(s), "unknown statistic")
}

// validPeriod reports whether CloudWatch accepts step as a period: 1, 5,
// 10, 20 or 30 s (high resolution) or a multiple of 60 s.
func validPeriod(step time.Duration) bool {
	if step%time.Second != 0 {
		return false
	}
	switch s := int64(step / time.Second); s {
	case 1, 5, 10, 20, 30:
		return true
	default:
		return s > 0 && s%60 == 0
	}
}

// QueryMetric implements provider.MetricsSource with CloudWatch
// GetMetricData: one call (and its pages); see QueryMetrics.
func (d *Driver) QueryMetric(ctx context.Context, q provider.Query) (_ provider.Series, err error) {
	reads := [1]provider.MetricRead{{Query: q}}
	if err := d.QueryMetrics(ctx, reads[:]); err != nil {
		return provider.Series{}, err
	}
	return reads[0].Series, reads[0].Err
}

var _ provider.MetricsBatcher = (*Driver)(nil)

// prepared is one validated read with its CloudWatch request.
type prepared struct {
	read   int // index in the reads
	q      provider.Query
	cw     CloudWatchMetric
	stat   string
	target target
	// per is what a counter's Sum in one step is divided by for its rate:
	// the step, or the period of AWS's datapoints (a minute, a
	// basic-monitoring instance's five) when the step is shorter (see
	// datapointPeriod).
	per time.Duration
	// quietFrom is, for a quiet count (see quietCounts), when its steps
	// without a datapoint may begin to read 0 (the function's
	// LastModified, the load balancer's CreatedTime, a detached volume's
	// CreateTime); zero when they stay gaps.
	quietFrom time.Time
	// afterLast says only the steps after the series' last datapoint
	// may read 0 (a volume's: see fillQuiet).
	afterLast bool
	// complete says CloudWatch's last answer to the read had status
	// Complete: its datapoints are all there.
	complete bool
}

// quietFrom returns from when the steps of a read q of a quiet count of
// resource t without a datapoint read 0: since when t is known to exist
// (knownSince), or zero (they stay gaps) when that is not known, when
// the query's Start is not on a minute (its steps cut through the
// one-minute datapoints, and one without a datapoint may hold events of
// the one beside it, as may a step under a minute: see keptFor), or when
// the function may run at the edge.
func quietFrom(q provider.Query, t target, edge bool) time.Time {
	if edge || !q.Start.Truncate(time.Minute).Equal(q.Start) {
		return time.Time{}
	}
	at, _ := knownSince(t)
	return at
}

// knownSince returns since when resource t is known to exist, for its
// quiet counts: a function's LastModified (Lambda gives no creation time;
// LastModified is at or after it, and before it the function may not
// have existed), an Application Load Balancer's CreatedTime, a volume's
// CreateTime when it is detached (available) now (an attached volume's
// counts are not quiet: see detachedSince); false for another kind, or
// when the describe call existing made is not known or did not give it.
func knownSince(t target) (time.Time, bool) {
	switch t.kind {
	case provider.KindFunction:
		return lastModified(t)
	case provider.KindLoadBalancer:
		return createdTime(t)
	case provider.KindVolume:
		return detachedSince(t)
	}
	return time.Time{}, false
}

// lastModified returns the LastModified of function t, when its
// GetFunction answer is known and has one that parses.
func lastModified(t target) (time.Time, bool) {
	if t.function == nil || t.function.Configuration == nil {
		return time.Time{}, false
	}
	return parseLastModified(t.function.Configuration.LastModified)
}

// keptFor returns how far back CloudWatch keeps the datapoints of a
// period of step (less an hour, as activityPeriodAt's tiers): 15 days at
// a multiple of a minute, 63 at five, 455 at an hour; 0 (nothing is
// filled) for a step that is not whole minutes: Lambda's and Elastic Load
// Balancing's datapoints are of a minute, and in a minute with events 5
// of its 6 ten-second steps have none.
func keptFor(step time.Duration) time.Duration {
	switch {
	case step%time.Hour == 0:
		return activityHourKept
	case step%activityPeriod5m == 0:
		return activityFiveMinKept
	case step%time.Minute == 0:
		return activityMinuteKept
	}
	return 0
}

// fillQuiet sets to 0 the gaps of s, the series of a quiet count that
// CloudWatch answered whole, in every step that begins at or after from
// (since when its resource is known to exist; nothing is filled when
// zero: see quietFrom), that ended at least delay before now (the real
// time before the read: a datapoint of a later step may not be published
// yet), and that CloudWatch still keeps at the step (an older one is
// unknown, not quiet). The value is 0 for the mean (rate), the sum and
// the count (of datapoints: a step with none published has none).
// Nothing is filled when the period CloudWatch asks of the series' Start
// at answered (the real time after the read; see startPeriod) does not
// divide its step, or Start is not on that period. With afterLast (a
// volume's) only the steps after the series' last datapoint are filled:
// EBS publishes while a volume is attached (every minute, zeros included,
// on a Nitro instance), so a gap before a datapoint is of an attached
// volume, and may be CloudWatch's outage rather than no I/O.
func fillQuiet(s *provider.Series, from, now, answered time.Time, delay time.Duration, afterLast bool) {
	kept := keptFor(s.Step)
	if from.IsZero() || kept == 0 {
		return
	}
	if p := startPeriod(s.Start, answered); s.Step%p != 0 || !s.Start.Truncate(p).Equal(s.Start) {
		return
	}
	last := -1 // the last step with a datapoint, when afterLast
	if afterLast {
		for i, v := range s.Values {
			if !provider.IsGap(v) {
				last = i
			}
		}
	}
	until, oldest := now.Add(-delay), now.Add(-kept)
	for i, v := range s.Values {
		at := s.TimeAt(i)
		if !provider.IsGap(v) || i < last || at.Before(from) || at.Before(oldest) || at.Add(s.Step).After(until) {
			continue
		}
		s.Values[i] = 0
	}
}

// startPeriod returns the period CloudWatch asks of a query starting at
// start, read at now, and to which it rounds start down: a minute when
// start is less than 15 days old, 5 minutes up to 63 days, an hour
// before. It decides by the query's StartTime, not each step: a query
// whose period is not a multiple of it has no datapoint at all, also in
// its recent steps, and a start not on it puts the datapoints on another
// grid than the steps', each straddling two (see MetricStat.Period and
// GetMetricData's StartTime). startSkew makes start older: CloudWatch
// judges it by its clock as it answers.
func startPeriod(start, now time.Time) time.Duration {
	switch age := now.Sub(start) + startSkew; {
	case age < 15*24*time.Hour:
		return time.Minute
	case age < 63*24*time.Hour:
		return activityPeriod5m
	}
	return time.Hour
}

// startSkew is how far CloudWatch's clock may be ahead of the driver's
// real one: a request signed more than 5 minutes off is refused.
const startSkew = 5 * time.Minute

// mayRunAtEdge reports whether function t may be replicated to
// Lambda@Edge, whose metrics are in the regions it runs in, not in
// us-east-1 where it is created: in us-east-1, whether it has a
// published (numbered) version, which Lambda@Edge needs. Every page of
// ListVersionsByFunction is read until one is found. A call that fails
// (no lambda:ListVersionsByFunction permission, throttling) cannot tell:
// the function may run at the edge, and a warning names the call and
// Config.IgnoreFunctionVersions. The reads stand as they did before
// quiet counts (gaps, activity unknown): a check that cannot decide
// never zero-fills, and never fails a read that needs no zeros (a
// scaling signal on a function's errors). False elsewhere, with
// Config.IgnoreFunctionVersions, and for what is no function.
func (d *Driver) mayRunAtEdge(ctx context.Context, op string, t target) bool {
	if !d.edgeChecked(t) {
		return false
	}
	pager := lambda.NewListVersionsByFunctionPaginator(d.lambda, &lambda.ListVersionsByFunctionInput{FunctionName: awssdk.String(t.name)})
	tokens := pageTokens{}
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err == nil {
			err = tokens.next("ListVersionsByFunction", page.NextMarker)
		}
		if err != nil {
			d.warn(ctx, "aws: cannot tell whether a function in "+edgeRegion+" may run at Lambda@Edge (lambda:ListVersionsByFunction failed; see Config.IgnoreFunctionVersions): its steps without a datapoint stay gaps, its activity unknown",
				op, t.id, err)
			return true
		}
		for _, v := range page.Versions {
			if ver := awssdk.ToString(v.Version); ver != "" && ver != "$LATEST" {
				return true
			}
		}
	}
	return false
}

// edgeChecked reports whether mayRunAtEdge asks Lambda of t: a function
// in us-east-1, unless Config.IgnoreFunctionVersions.
func (d *Driver) edgeChecked(t target) bool {
	return t.kind == provider.KindFunction && !d.cfg.IgnoreFunctionVersions && d.region == edgeRegion
}

// edgeRegion is where Lambda@Edge functions are created.
const edgeRegion = "us-east-1"

// basicPeriod is the period of the datapoints EC2 publishes for an
// instance with basic monitoring: one per 5 minutes, stamped at the start
// of its interval, whose Sum covers the whole interval.
const basicPeriod = 5 * time.Minute

// datapointPeriod checks a counter read of resource t against the period
// of its datapoints, and returns what a step's Sum is divided by for the
// rate. AWS publishes its own metrics (every counter of the table) at
// standard resolution, one datapoint a minute at best: a step shorter
// than a minute holds at most one, the total of a minute (Sum/1m for the
// rate; its sum is not the step's and is refused). An EC2 counter of an
// instance whose Monitoring is mon: with detailed monitoring ("enabled")
// it is read as above. With basic monitoring ("disabled") a step that is
// a multiple of 5 minutes holds whole datapoints (Sum/step); a shorter
// step holds at most one, the total of 5 minutes (Sum/5m for the rate;
// its sum is not the step's and is refused); any other step cuts through
// them and is refused. While monitoring changes ("pending", "disabling")
// or when it is unknown, only steps that are multiples of 5 minutes are
// read.
func datapointPeriod(q provider.Query, cw CloudWatchMetric, t target, mon *ec2types.Monitoring) (time.Duration, error) {
	if !cw.Counter || q.Statistic == provider.StatCount {
		return q.Step, nil
	}
	if t.kind != provider.KindInstance || cw.Namespace != "AWS/EC2" || q.Step%basicPeriod == 0 {
		return minutePeriod(q, cw, t)
	}
	state := "unknown"
	if mon != nil {
		state = string(mon.State)
	}
	switch {
	case state == string(ec2types.MonitoringStateEnabled):
		return minutePeriod(q, cw, t)
	case state == string(ec2types.MonitoringStateDisabled) && q.Step < basicPeriod && q.Statistic != provider.StatSum:
		return basicPeriod, nil
	}
	what := "a step of " + q.Step.String() + " cuts through its 5-minute datapoints"
	switch {
	case state != string(ec2types.MonitoringStateDisabled):
		what = "its datapoints' period is not known"
	case q.Step < basicPeriod:
		what = "the sum of a step of " + q.Step.String() + " is not known from 5-minute datapoints"
	}
	kind := "basic monitoring"
	if state != string(ec2types.MonitoringStateDisabled) {
		kind = "no known monitoring period"
	}
	return 0, fmt.Errorf("%w: instance %q has %s (monitoring state %s): %s; use a step that is a multiple of 5m, or enable detailed monitoring",
		provider.ErrUnsupported, t.id, kind, state, what)
}

// minutePeriod is datapointPeriod of a counter AWS publishes once a minute
// at best: a step of a minute or more is its own period; a shorter one
// reads each minute's rate (Sum/1m) in the step holding its datapoint,
// and its sum is refused.
func minutePeriod(q provider.Query, cw CloudWatchMetric, t target) (time.Duration, error) {
	if q.Step >= time.Minute {
		return q.Step, nil
	}
	if q.Statistic == provider.StatSum {
		return 0, fmt.Errorf("%w: %s/%s of %q is published once a minute at best: the sum of a step of %s is not known from one-minute datapoints; use a step that is a multiple of 1m",
			provider.ErrUnsupported, cw.Namespace, cw.Name, t.id, q.Step)
	}
	return time.Minute, nil
}

// QueryMetrics implements provider.MetricsBatcher with as few
// GetMetricData calls as CloudWatch allows: the reads sharing a time range
// go in calls of Config.MetricBatch queries (at most 500), and every page
// of every call is read. Each read's series is on the grid of its query
// (values are placed in the step containing their CloudWatch timestamp,
// so Start should be aligned to Step), in the capacity of its
// Series.Values; steps without datapoints are gaps, but for the quiet
// steps of a Lambda function's invocations, errors and throttles, of
// an Application Load Balancer's requests and of a detached EBS volume's
// reads and writes, which read 0 where that is known (see the package doc, "Quiet counts"; in us-east-1 such
// a function whose series has steps to fill is asked
// ListVersionsByFunction once, after the series is read, and when that
// fails its steps stay gaps; a ctx that ends in that call fails the read
// and is the method's error).
//
// Each read is checked before any API call, and fails alone:
// provider.ErrInvalid for an invalid query or a step CloudWatch cannot use
// as a period (1, 5, 10, 20, 30 s or a multiple of 60 s),
// provider.ErrUnsupported for a statistic the metric does not support
// (see CloudWatchMetric.Counter; "last" never is). Then each resource is
// resolved once (instances and volumes described 200 a call, groups 50
// and load balancers 20, as Activities describes them):
// provider.ErrNotFound for unknown instances, volumes,
// groups, functions and load balancers (RDS ARNs are not checked; a
// volume's DescribeVolumes that fails fails its reads),
// provider.ErrUnsupported for a metric the kind has no mapping for (see
// Mapping), each failing the reads of that resource, and for a counter read
// of a basic-monitoring instance at a step its 5-minute datapoints cannot
// answer (see the package doc). Values are converted
// to the metric's unit (percent to fraction, milliseconds to seconds,
// counters to rates). A GetMetricData call that fails fails its reads;
// one that is throttled, or a ctx that ends, also fails the reads not yet
// made, and is the method's error.
func (d *Driver) QueryMetrics(ctx context.Context, reads []provider.MetricRead) error {
	if len(reads) == 0 {
		return nil
	}
	for i := range reads { // nothing of an earlier use of the reads stays
		reads[i].Series, reads[i].Err = provider.Series{Values: reads[i].Series.Values[:0]}, nil
	}
	fail := func(i int, err error) {
		r := &reads[i]
		r.Series, r.Err = provider.Series{Values: r.Series.Values[:0]}, d.red.Error(err)
	}
	if err := ctxErr(ctx, "query metric", ""); err != nil {
		err = d.red.Error(err)
		for i := range reads {
			fail(i, err)
		}
		return err
	}
	preps := make([]prepared, 0, len(reads))
	type resolved struct {
		t   target
		mon *ec2types.Monitoring // an instance's
		err error
	}
	targets := map[string]resolved{}
	for i := range reads {
		q := reads[i].Query
		if err := q.Validate(); err != nil {
			fail(i, fmt.Errorf("aws: query metric: %w", err))
			continue
		}
		if !validPeriod(q.Step) {
			fail(i, fmt.Errorf("aws: query metric: %w", provider.Invalid("query.step", q.Step, "CloudWatch needs 1s, 5s, 10s, 20s, 30s or a multiple of 60s")))
			continue
		}
		if q.Statistic == provider.StatLast {
			fail(i, fmt.Errorf("aws: query metric %q: %w: CloudWatch has no %q statistic", q.ResourceID, provider.ErrUnsupported, q.Statistic))
			continue
		}
		preps = append(preps, prepared{read: i, q: q})
	}
	// The instances, volumes, groups and load balancers are described in
	// batches; the rest (a function, a name that is no group) one by one.
	ids := make([]string, len(preps))
	for k, p := range preps {
		ids[k] = p.q.ResourceID
	}
	l, err := d.lookUp(ctx, "query metric", ids, true, false)
	if err != nil {
		return d.failRest(reads, preps, err)
	}
	few := d.describeBatchLoadBalancers(ctx, "query metric", l, ids)
	n := 0
	for k, p := range preps {
		q := p.q
		t, ok := targets[q.ResourceID]
		if !ok {
			if err := ctxErr(ctx, "query metric", ""); err != nil {
				// The reads resolved but not sent, and those not resolved.
				return d.failRest(reads, append(preps[:n:n], preps[k:]...), err)
			}
			var listed bool
			if t.t, listed, t.err = few.target(ctx, d, "query metric", l, k, q.ResourceID); !listed {
				t.t, t.mon, t.err = d.found(ctx, "query metric", l, k, q.ResourceID)
			}
			targets[q.ResourceID] = t
		}
		if t.err != nil {
			fail(p.read, t.err)
			continue
		}
		cw, ok := Mapping(t.t.kind, q.Metric)
		if !ok {
			fail(p.read, fmt.Errorf("aws: query metric %q: %w: no CloudWatch mapping of %s for a %s (custom metrics are custom/NAMESPACE/NAME)", q.ResourceID, provider.ErrUnsupported, q.Metric, t.t.kind))
			continue
		}
		stat, err := cloudWatchStat(q.Statistic, cw.Counter)
		if err != nil {
			fail(p.read, fmt.Errorf("aws: query metric %q %s: %w", q.ResourceID, q.Metric, err))
			continue
		}
		per, err := datapointPeriod(q, cw, t.t, t.mon)
		if err != nil {
			fail(p.read, fmt.Errorf("aws: query metric %q %s: %w", q.ResourceID, q.Metric, err))
			continue
		}
		if quietCounts[t.t.kind][q.Metric] {
			// Whether a function may run at the edge is asked once
			// its series is read, and only when it has steps to fill
			// (fill).
			p.quietFrom = quietFrom(q, t.t, false)
			p.afterLast = t.t.kind == provider.KindVolume
		}
		p.cw, p.stat, p.target, p.per = cw, stat, t.t, per
		preps[n] = p
		n++
	}
	preps = preps[:n]
	for _, p := range preps {
		r := &reads[p.read]
		vals := r.Series.Values[:0]
		for range p.q.Steps() {
			vals = append(vals, provider.Gap)
		}
		r.Series, r.Err = provider.Series{ResourceID: p.q.ResourceID, Metric: p.q.Metric, Start: p.q.Start, Step: p.q.Step, Values: vals}, nil
	}
	// Batch by time range: one GetMetricData call has one range.
	type span struct{ start, end int64 }
	var order []span
	groups := map[span][]int{}
	for k, p := range preps {
		s := span{p.q.Start.UnixNano(), p.q.End.UnixNano()}
		if _, ok := groups[s]; !ok {
			order = append(order, s)
		}
		groups[s] = append(groups[s], k)
	}
	done := make([]bool, len(preps))
	now := d.now() // before the reads: a step is past the delay before it is read
	// Whether a function may run at the edge, by ARN, once asked, and
	// ctx's error when it ended in such a question.
	edges := map[string]bool{}
	var cut error
	// fill reads as 0 the quiet steps of the series of p, read whole:
	// in us-east-1, when a function has steps to fill, it is first asked
	// whether it may run at the edge (mayRunAtEdge: once per function;
	// then, or when the call fails, nothing is filled). A ctx that ends
	// in the question fails the read.
	fill := func(p prepared, answered time.Time) {
		r := &reads[p.read]
		if p.quietFrom.IsZero() {
			return
		}
		if d.edgeChecked(p.target) {
			filled := r.Series
			filled.Values = slices.Clone(r.Series.Values)
			fillQuiet(&filled, p.quietFrom, now, answered, d.cfg.PublishDelay, p.afterLast)
			if filled.Gaps() == r.Series.Gaps() {
				return // nothing to fill: the same either way
			}
			edge, ok := edges[p.target.id]
			if !ok {
				if cut == nil {
					edge = d.mayRunAtEdge(ctx, "query metric", p.target)
				}
				if err := ctxErr(ctx, "query metric", ""); err != nil {
					cut = d.red.Error(err)
					fail(p.read, cut)
					return
				}
				edges[p.target.id] = edge
			}
			if edge {
				return
			}
		}
		fillQuiet(&r.Series, p.quietFrom, now, answered, d.cfg.PublishDelay, p.afterLast)
	}
	for _, s := range order {
		idx := groups[s]
		for lo := 0; lo < len(idx); lo += d.cfg.MetricBatch {
			batch := idx[lo:min(lo+d.cfg.MetricBatch, len(idx))]
			err := d.getMetricData(ctx, preps, batch, reads)
			for _, k := range batch {
				done[k] = true
			}
			if err == nil {
				answered := d.now() // CloudWatch judged the Start's age by now at the latest
				for _, k := range batch {
					if p := preps[k]; p.complete && reads[p.read].Err == nil {
						fill(p, answered)
					}
				}
				continue
			}
			err = d.red.Error(err) // once: the reads and the method carry one error
			for _, k := range batch {
				if reads[preps[k].read].Err == nil { // answered in part, or not at all
					fail(preps[k].read, err)
				}
			}
			if ctx.Err() != nil || errors.Is(err, provider.ErrThrottled) {
				var rest []prepared
				for k, p := range preps {
					if !done[k] {
						rest = append(rest, p)
					}
				}
				return d.failRest(reads, rest, err)
			}
		}
	}
	return cut
}

// failRest fails the reads of preps with err, which it returns: the call
// as a whole failed (ctx ended, CloudWatch throttled).
func (d *Driver) failRest(reads []provider.MetricRead, preps []prepared, err error) error {
	err = d.red.Error(err)
	for _, p := range preps {
		r := &reads[p.read]
		r.Series, r.Err = provider.Series{Values: r.Series.Values[:0]}, err
	}
	return err
}

// found returns what the lookup l says of its k-th ID (id), for
// operation op: an instance
// with its Monitoring, or a group, or its describe call's error, or
// provider.ErrNotFound; for a function or a name that is no group,
// existing's answer.
func (d *Driver) found(ctx context.Context, op string, l *lookedUp, k int, id string) (target, *ec2types.Monitoring, error) {
	t := l.targets[k]
	switch t.kind {
	case provider.KindInstance:
		inst, err := l.instance(op, k, id)
		return t, inst.Monitoring, err
	case provider.KindVolume:
		// Whether it is detached now, and since when it exists: a
		// volume's counts are quiet only then. A describe that fails
		// fails the read (see existing).
		var err error
		t.volume, err = l.volume(op, k, id)
		return t, nil, err
	}
	if g, ok, err := l.group(op, k, id); ok {
		t.group = g
		return t, nil, err
	}
	t, err := d.existing(ctx, op, id)
	return t, nil, err
}

// warn logs msg at the warning level for a check that could not decide
// (a call that failed: err, of operation op on resource id), and the
// driver reads as it did before the check.
func (d *Driver) warn(ctx context.Context, msg, op, id string, err error) {
	d.log.WarnContext(ctx, msg, "op", op, "id", id, "err", d.red.Error(wrap(op, id, err)))
}

// existing resolves id and, for instances, volumes, groups, functions and
// load balancers, checks that the resource exists; it keeps a function's
// GetFunction answer and a load balancer's and a volume's description
// (their LastModified, CreatedTime and CreateTime and state: see
// knownSince). A DescribeVolumes that fails fails the read. A DescribeLoadBalancers
// that fails otherwise than not found (no elasticloadbalancing
// permission) does not fail the read, which CloudWatch alone answered
// before the driver had an ELBv2 client: the load balancer is then not
// checked, and its requests are no quiet count, with a warning.
func (d *Driver) existing(ctx context.Context, op, id string) (target, error) {
	t, err := d.resolve(ctx, op, id)
	if err != nil {
		return target{}, err
	}
	switch {
	case t.kind == provider.KindInstance:
		_, err = d.describeInstance(ctx, t.id)
	case t.kind == provider.KindGroup:
		_, err = d.targetGroup(ctx, t)
	case t.kind == provider.KindFunction && t.function == nil:
		t.function, err = d.lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: &t.id})
	case t.kind == provider.KindVolume:
		// Whether it is detached now, and since when it exists: a
		// volume's counts are quiet only then. A describe that fails
		// fails the read: a volume's metrics are of no use to the
		// detector without it.
		t.volume, err = d.describeVolume(ctx, t.id)
	case t.kind == provider.KindLoadBalancer:
		t.loadBalancer, err = d.describeLoadBalancer(ctx, t.id)
		if err != nil && !errors.Is(err, provider.ErrNotFound) && !refusedARN(err) && ctx.Err() == nil {
			// Cannot tell when it was created (no permission,
			// throttled): the read stands as before the driver read it,
			// gaps and activity unknown, as when mayRunAtEdge cannot
			// decide. An ARN ELBv2 finds no load balancer of, or
			// refuses as none (ValidationError), fails the read as it
			// fails Get.
			d.undatedLoadBalancer(ctx, op, t.id, err)
			t.loadBalancer, err = nil, nil
		}
	}
	if err != nil {
		return target{}, wrap(op, id, err)
	}
	return t, nil
}

// undatedLoadBalancer warns that the load balancer id is read without
// its CreatedTime: its describe failed with err, otherwise than not
// found.
func (d *Driver) undatedLoadBalancer(ctx context.Context, op, id string, err error) {
	d.warn(ctx, "aws: cannot tell when a load balancer was created (elasticloadbalancing:DescribeLoadBalancers failed): its requests' steps without a datapoint stay gaps, its activity unknown",
		op, id, err)
}

// getMetricData runs one batch (indexes into preps, all with one range)
// and fills in their reads. A result CloudWatch could not compute fails
// its read alone.
func (d *Driver) getMetricData(ctx context.Context, preps []prepared, batch []int, reads []provider.MetricRead) error {
	first := preps[batch[0]].q
	in := &cloudwatch.GetMetricDataInput{
		StartTime: awssdk.Time(first.Start),
		EndTime:   awssdk.Time(first.End),
		ScanBy:    cwtypes.ScanByTimestampAscending,
	}
	byID := make(map[string]int, len(batch))
	for n, i := range batch {
		p := preps[i]
		qid := "q" + strconv.Itoa(n)
		byID[qid] = i
		in.MetricDataQueries = append(in.MetricDataQueries, cwtypes.MetricDataQuery{
			Id: awssdk.String(qid),
			MetricStat: &cwtypes.MetricStat{
				Metric: &cwtypes.Metric{
					Namespace:  awssdk.String(p.cw.Namespace),
					MetricName: awssdk.String(p.cw.Name),
					Dimensions: []cwtypes.Dimension{{Name: awssdk.String(p.cw.Dimension), Value: awssdk.String(p.target.name)}},
				},
				Period: awssdk.Int32(int32(p.q.Step / time.Second)),
				Stat:   awssdk.String(p.stat),
			},
			ReturnData: awssdk.Bool(true),
		})
	}
	pager, tokens := cloudwatch.NewGetMetricDataPaginator(d.cw, in), pageTokens{}
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err == nil {
			err = tokens.next("GetMetricData", page.NextToken)
		}
		if err != nil {
			return wrap("query metric", "", err) // the call's, not its first read's
		}
		for _, r := range page.MetricDataResults {
			i, ok := byID[awssdk.ToString(r.Id)]
			if !ok {
				continue
			}
			read := &reads[preps[i].read]
			if read.Err != nil {
				continue // failed on an earlier page
			}
			var err error
			switch {
			case r.StatusCode == cwtypes.StatusCodeForbidden:
				err = fmt.Errorf("aws: query metric %q %s: %w: CloudWatch status %s: %s", preps[i].q.ResourceID, preps[i].q.Metric, provider.ErrDenied, r.StatusCode, messages(r.Messages))
			case r.StatusCode == cwtypes.StatusCodeInternalError:
				err = fmt.Errorf("aws: query metric %q %s: CloudWatch status %s: %s", preps[i].q.ResourceID, preps[i].q.Metric, r.StatusCode, messages(r.Messages))
			case len(r.Timestamps) != len(r.Values):
				err = fmt.Errorf("aws: query metric %q %s: CloudWatch returned %d timestamps and %d values", preps[i].q.ResourceID, preps[i].q.Metric, len(r.Timestamps), len(r.Values))
			}
			if err != nil {
				read.Series, read.Err = provider.Series{Values: read.Series.Values[:0]}, d.red.Error(err)
				continue
			}
			place(&read.Series, preps[i], r.Timestamps, r.Values)
			preps[i].complete = r.StatusCode == cwtypes.StatusCodeComplete
		}
	}
	return nil
}

// place puts datapoints on the series' grid, converting units. A datapoint
// outside the grid, or not finite, is dropped; a second datapoint in one
// step (possible only when Start is not aligned to the period) is dropped.
// A counter's rate is its Sum divided by p.per; when that is longer than
// the step (a basic-monitoring instance's 5-minute datapoint), a
// datapoint whose period runs past the query's end is dropped: it covers
// time outside the range and may be incomplete.
func place(s *provider.Series, p prepared, ts []time.Time, vs []float64) {
	scale := p.cw.Scale
	var within time.Duration // a datapoint's period must end by q.End
	switch {
	case p.q.Statistic == provider.StatCount:
		scale = 1 // a number of datapoints has no unit to convert
	case p.cw.Counter && (p.q.Statistic == "" || p.q.Statistic == provider.StatMean):
		scale /= p.per.Seconds() // Sum over the datapoints' period → rate per second
		if p.per > p.q.Step {
			within = p.per
		}
	}
	for k, t := range ts {
		v := vs[k]
		if t.Before(s.Start) || math.IsNaN(v) || math.IsInf(v, 0) || (within > 0 && t.Add(within).After(p.q.End)) {
			continue
		}
		i, ok := s.Index(t)
		if !ok || !provider.IsGap(s.Values[i]) {
			continue
		}
		s.Values[i] = v * scale
	}
}

func messages(ms []cwtypes.MessageData) string {
	parts := make([]string, 0, len(ms))
	for _, m := range ms {
		parts = append(parts, awssdk.ToString(m.Code)+": "+awssdk.ToString(m.Value))
	}
	if len(parts) == 0 {
		return "no message"
	}
	return strings.Join(parts, "; ")
}

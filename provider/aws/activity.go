package aws

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/idlescale/idlescale/provider"
)

var _ provider.ActivitySource = (*Driver)(nil)

// activitySignal is the CloudWatch metric that stands for one kind of
// activity of a resource kind, and the statistic that counts it.
type activitySignal struct {
	kind provider.ActivityKind
	// metric is the provider metric of cw, whose quietCounts entry says
	// whether no datapoint means no event.
	metric provider.Metric
	cw     CloudWatchMetric
	stat   string
	// also names the other metrics of cw's namespace and dimension whose
	// events are this activity too, summed into its count (stat "Sum"
	// only): the requests an ALB answers itself, which its RequestCount
	// does not count; a volume's writes (VolumeWriteOps) beside its reads.
	also []string
}

// activityTable lists the activity the driver can observe per kind. CPU or
// network traffic is utilization, not activity, so instances and groups
// have none: their activity is unknown (absent), never zero.
var activityTable = map[provider.Kind][]activitySignal{
	provider.KindFunction: {
		{provider.ActivityAPICalls, provider.MetricInvocations, metricTable[provider.KindFunction][provider.MetricInvocations], "Sum", nil},
	},
	provider.KindLoadBalancer: {
		{provider.ActivityAPICalls, provider.MetricRequests, metricTable[provider.KindLoadBalancer][provider.MetricRequests], "Sum", albAnswered},
	},
	provider.KindVolume: {
		{provider.ActivityFiles, provider.MetricDiskRead, volumeReadOps, "Sum", []string{"VolumeWriteOps"}},
	},
	provider.KindDatabase: {
		{provider.ActivityDBQueries, provider.MetricConnections, metricTable[provider.KindDatabase][provider.MetricConnections], "Maximum", nil},
	},
}

// volumeReadOps is where a volume's read operations live: its activity
// is the operations it completed, VolumeReadOps and VolumeWriteOps (the
// latter summed in as the signal's also). Its metric is disk_read, whose
// quietCounts entry (a volume's counts are quiet while it is detached)
// holds for the operations as for the bytes.
var volumeReadOps = CloudWatchMetric{"AWS/EBS", "VolumeReadOps", "VolumeId", 1, true}

// albAnswered are the counts of the requests an Application Load
// Balancer answers itself: RequestCount counts only those it chose a
// target for ("Requests that are rejected before a target is chosen are
// not reflected in this metric"), so a load balancer that only redirects
// (HTTP to HTTPS, an old domain to a new one), answers fixed responses,
// or answers errors (no healthy target) has no RequestCount while in use.
// Like RequestCount they have a datapoint only for a minute with such
// requests. A request may be in two of them (a fixed response of 404 is
// an HTTPCode_ELB_4XX_Count too): the count is of use, never less.
var albAnswered = []string{"HTTP_Redirect_Count", "HTTP_Fixed_Response_Count", "HTTPCode_ELB_4XX_Count", "HTTPCode_ELB_5XX_Count"}

// The periods of activity queries, by how far back the window starts:
// CloudWatch keeps 1-minute datapoints for 15 days, 5-minute ones for 63
// days and 1-hour ones for 455, and returns no datapoints for the part of
// a query older than its period's retention. A window over the reaper's
// 28-day terminate window read at one minute counted only its last 15
// days, and a function invoked 20 days ago read as unused. The tiers
// change an hour early, so that a query does not start at the edge of
// one as CloudWatch rolls it up.
const (
	activityPeriod      = time.Minute
	activityPeriod5m    = 5 * time.Minute
	activityPeriod1h    = time.Hour
	activityMinuteKept  = 15*24*time.Hour - time.Hour
	activityFiveMinKept = 63*24*time.Hour - time.Hour
	activityHourKept    = 455*24*time.Hour - time.Hour
)

// activityPeriodAt returns the period of an activity query starting at
// start when it is now: the finest CloudWatch still keeps from start on.
func activityPeriodAt(start, now time.Time) time.Duration {
	switch age := now.Sub(start); {
	case age <= activityMinuteKept:
		return activityPeriod
	case age <= activityFiveMinKept:
		return activityPeriod5m
	}
	return activityPeriod1h
}

// Activity implements provider.ActivitySource from CloudWatch:
//
//	function       api_calls   Sum of AWS/Lambda Invocations in the window
//	load_balancer  api_calls   Sum of AWS/ApplicationELB RequestCount and of
//	                           the requests it answers itself (albAnswered:
//	                           HTTP_Redirect_Count, HTTP_Fixed_Response_Count,
//	                           HTTPCode_ELB_4XX_Count, HTTPCode_ELB_5XX_Count)
//	volume         file_access Sum of AWS/EBS VolumeReadOps and VolumeWriteOps
//	database       db_queries  peak AWS/RDS DatabaseConnections (a proxy:
//	                           0 means no client was connected, so no query ran)
//
// The counts are read at one minute for a window that starts within the
// last 15 days (less an hour), at five minutes for one within 63, and at
// an hour before that: what CloudWatch keeps (its retention is real time,
// so the driver compares the window with the real clock, whatever clock
// the host decides on). A window read at a coarser period is widened to
// it, and may count activity up to one period before its start or after
// its end: more use, never less.
//
// Last is the start of the latest minute that may hold an event: in the
// latest period with a non-zero value, its last minute (its only one at
// one minute), or the window's last minute when the period ends after the
// window, and never before the window's Start: a Start within a minute (or
// a coarser period) whose datapoint has use gives Last = Start, the first
// instant of the window that minute may have held an event in, so that
// Last lies in [Start, End) as provider.ActivityCount requires. A coarser
// period never makes use look older than it is. A kind the
// resource has no CloudWatch signal for is absent from the result (unknown,
// not zero): instances and groups return an empty slice, as does a window
// in which CloudWatch has no datapoint at all, but for a function, an
// Application Load Balancer and a detached volume.
//
// A function publishes no Invocations for a minute it was not invoked in,
// so one without a datapoint in the window, which CloudWatch answered
// whole (status Complete), has a count of 0 from its LastModified on (at
// or after its creation, which Lambda does not give): Since is
// LastModified when that is after Start, and the count is absent
// (unknown) when LastModified is at or after End, when End is after the
// real time (a host's clock ahead of it), or when CloudWatch no longer
// keeps the window from Start or LastModified on. With datapoints, Since
// is the earlier of LastModified and the start of the first datapoint's
// period, when that is after Start: Count and Last cover [Since, End),
// and so must hold the datapoints counted. A datapoint shows that a
// function of that name (CloudWatch's dimension) was there from its
// period on: most often this one, modified since; else a deleted
// predecessor, whose invocations then count as use of this one (more
// use, never less), and between the two no invocation of the name was
// published. (Lambda publishes no Invocations datapoint of 0 as a rule,
// so with datapoints the count is rarely 0, and its cover seldom
// decides a verdict.) Count and Last are what the datapoints give. In
// us-east-1 a function with a published version may run at Lambda@Edge,
// whose invocations are published in other regions: it is read as a
// database is (no datapoint is absent, no Since) unless
// Config.IgnoreFunctionVersions (see the package doc, "Quiet counts").
// Invocations in the last Config.PublishDelay may not be
// published, and counted, yet, as for any CloudWatch count, and the
// count then reads 0 over a window whose only use they were: see the
// package doc, "Activity", for what covers that.
//
// An Application Load Balancer publishes no RequestCount for a minute no
// request reached it in, so it is read as a function is, from its
// CreatedTime (which ELBv2's DescribeLoadBalancers gives) instead of
// LastModified, and with no Lambda@Edge check: with no datapoint in a
// window CloudWatch answered whole, its count is 0, Since is CreatedTime
// when that is after Start, and it is absent when CreatedTime is at or
// after End. RequestCount counts only the requests the load balancer
// chose a target for: those it answers itself (redirects, fixed
// responses, its own errors) are counted from their own metrics, so that
// one that only redirects is not read as unused; the quiet count of 0
// needs each of them answered whole. A network or gateway load balancer
// has no RequestCount in AWS/ApplicationELB: its activity is absent.
//
// EBS publishes a volume's metrics only while it is attached, so a
// volume detached (available) when Activity describes it is read as a
// load balancer is, from its CreateTime: with no datapoint in a window
// CloudWatch answered whole, its count is 0, Since its CreateTime when
// that is after Start, absent when that is at or after End, when End is
// after the real time or CloudWatch no longer keeps the window. With
// datapoints that are all 0 (published while it was attached), the 0 is
// claimed from the last one's period on only (Since, when after Start),
// by the same rules: a gap between them may be CloudWatch's outage. With
// I/O, the count is read as a function's. An attached volume without a
// datapoint has its activity absent (unknown); with datapoints, they are
// counted over the window, as a database's are. A DescribeVolumes that
// fails fails the call.
//
// A result CloudWatch could not compute (status InternalError or
// Forbidden) fails the call. An invalid query returns
// provider.ErrInvalid before any API call; unknown instances, volumes,
// groups, functions and load balancers provider.ErrNotFound. In us-east-1, when
// ListVersionsByFunction fails, a function without a datapoint is absent
// (unknown), as one that may run at the edge, with a warning in the log.
// Activities answers many queries as Activity does, in fewer calls.
func (d *Driver) Activity(ctx context.Context, q provider.ActivityQuery) (_ []provider.ActivityCount, err error) {
	defer d.red.Errorp(&err)
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("aws: activity: %w", err)
	}
	t, err := d.existing(ctx, "activity", q.ResourceID)
	if err != nil {
		return nil, err
	}
	if len(activityTable[t.kind]) == 0 {
		return []provider.ActivityCount{}, nil
	}
	r := d.planActivity(q, t, d.now())
	if err := d.activityData(ctx, []*activityRead{r}); err != nil {
		return nil, wrap("activity", q.ResourceID, err)
	}
	if r.err == nil {
		r.err = d.settleEdge(ctx, r, map[string]bool{})
	}
	if r.err != nil {
		return nil, r.err
	}
	return r.counts(), nil
}

var _ provider.ActivityBatcher = (*Driver)(nil)

// Activities implements provider.ActivityBatcher: every read is answered
// as Activity answers it, with the reads' resources described once each:
// instances and volumes 200 at a time, groups 50 at a time (as
// QueryMetrics describes them), load balancers 20 a
// DescribeLoadBalancers call (those of a call ELBv2 fails for an unknown
// load balancer among them are asked again in halves, the refused half
// in halves again, three or fewer, or two halves both refused, one by
// one: one unknown among 20 costs ten calls, and a call of n at most
// n+3); functions (GetFunction,
// which IAM may grant or deny function by function, so that no listing
// answers for it) and names that are no group are looked up one by one,
// as Activity looks them up, and in us-east-1 each function whose
// versions decide a read (see the package doc, "Quiet counts") is asked
// ListVersionsByFunction once, after its datapoints are read. The CloudWatch queries of the
// reads whose whole periods cover the same range (see Activity) packed
// into GetMetricData calls of up to Config.MetricBatch queries (at most
// 500; a read's queries, up to five for a load balancer, are never split
// between calls), every page read. A repeated read is read once. An
// invalid query fails its read with provider.ErrInvalid before any API
// call, an unknown resource with provider.ErrNotFound, a result
// CloudWatch could not compute its read alone. A GetMetricData call that
// fails fails its reads; one that is throttled, or a ctx that ends, also
// fails the reads not yet made, and is the method's error.
func (d *Driver) Activities(ctx context.Context, reads []provider.ActivityRead) error {
	if len(reads) == 0 {
		return nil
	}
	for i := range reads { // nothing of an earlier use of the reads stays
		reads[i].Counts, reads[i].Err = nil, nil
	}
	fail := func(i int, err error) { reads[i].Counts, reads[i].Err = nil, d.red.Error(err) }
	failAll := func(is []int, err error) error {
		err = d.red.Error(err)
		for _, i := range is {
			fail(i, err)
		}
		return err
	}
	if err := ctxErr(ctx, "activity", ""); err != nil {
		all := make([]int, len(reads))
		for i := range all {
			all[i] = i
		}
		return failAll(all, err)
	}
	var valid []int // the reads whose query is valid, by index
	for i := range reads {
		if err := reads[i].Query.Validate(); err != nil {
			fail(i, fmt.Errorf("aws: activity: %w", err))
			continue
		}
		valid = append(valid, i)
	}
	if len(valid) == 0 {
		return nil
	}
	ids := make([]string, len(valid))
	for k, i := range valid {
		ids[k] = reads[i].Query.ResourceID
	}
	l, err := d.lookUp(ctx, "activity", ids, true, false)
	if err != nil {
		return failAll(valid, err)
	}
	few := d.describeBatchLoadBalancers(ctx, "activity", l, ids)
	// Each resource resolved once.
	type resolved struct {
		t   target
		err error
	}
	targets := map[string]resolved{}
	var pending []int // the reads with signals, by index
	for k, i := range valid {
		id := ids[k]
		t, ok := targets[id]
		if !ok {
			if err := ctxErr(ctx, "activity", ""); err != nil {
				return failAll(append(pending, valid[k:]...), err)
			}
			var listed bool
			switch t.t, listed, t.err = few.target(ctx, d, "activity", l, k, id); {
			case l.errs[k] != nil:
				t.err = l.errs[k]
			case !listed:
				t.t, _, t.err = d.found(ctx, "activity", l, k, id)
			}
			targets[id] = t
		}
		switch {
		case t.err != nil:
			fail(i, t.err)
		case len(activityTable[t.t.kind]) == 0:
			reads[i].Counts = []provider.ActivityCount{}
		default:
			pending = append(pending, i)
		}
	}
	// One prepared read per query (a repeat shares it), in calls by the
	// range of their grid.
	// Times are keyed as instants (UTC, no monotonic reading).
	now := d.now()
	type span struct{ start, end time.Time }
	type query struct {
		id string
		span
	}
	plans := map[query]*activityRead{}
	readsOf := map[*activityRead][]int{} // the reads a prepared read answers
	var order []span
	groups := map[span][]*activityRead{}
	for _, i := range pending {
		q := reads[i].Query
		key := query{q.ResourceID, span{q.Start.UTC().Round(0), q.End.UTC().Round(0)}}
		r, ok := plans[key]
		if !ok {
			t := targets[q.ResourceID]
			r = d.planActivity(q, t.t, now)
			plans[key] = r
			s := span{r.start.UTC().Round(0), r.end.UTC().Round(0)}
			if _, ok := groups[s]; !ok {
				order = append(order, s)
			}
			groups[s] = append(groups[s], r)
		}
		readsOf[r] = append(readsOf[r], i)
	}
	edges := map[string]bool{} // whether a function may run at the edge, by ARN, once asked
	for _, s := range order {
		for _, call := range packActivity(groups[s], d.cfg.MetricBatch) {
			err := d.activityData(ctx, call)
			for _, r := range call {
				if err == nil && r.err == nil {
					r.err = d.settleEdge(ctx, r, edges)
				}
				for _, i := range readsOf[r] {
					switch {
					case err != nil:
						fail(i, wrap("activity", reads[i].Query.ResourceID, err))
					case r.err != nil:
						fail(i, r.err)
					default:
						reads[i].Counts = r.counts()
					}
				}
				delete(readsOf, r)
			}
			if err == nil {
				continue
			}
			if err = wrap("activity", "", err); ctx.Err() != nil || errors.Is(err, provider.ErrThrottled) {
				var rest []int // the reads of the calls not made
				for _, is := range readsOf {
					rest = append(rest, is...)
				}
				return failAll(rest, err)
			}
		}
	}
	// A ctx that ended in the last lookup, with no call left to make, has
	// failed a read: the call as a whole failed.
	return d.red.Error(ctxErr(ctx, "activity", ""))
}

// packActivity splits reads into calls of at most size queries, in their
// order, a read's queries in one call (a read of more than size alone).
func packActivity(reads []*activityRead, size int) [][]*activityRead {
	var calls [][]*activityRead
	n := 0
	for _, r := range reads {
		if len(calls) == 0 || n+len(r.queries) > size {
			calls, n = append(calls, nil), 0
		}
		calls[len(calls)-1] = append(calls[len(calls)-1], r)
		n += len(r.queries)
	}
	return calls
}

// activityRead is one Activity read of a resource that has signals
// (activityTable), prepared: its CloudWatch queries, on the grid of
// whole periods covering [Start, End), and what their answers add up to.
// Activity makes one GetMetricData call of one; Activities packs many
// into a call.
type activityRead struct {
	q       provider.ActivityQuery
	kind    provider.Kind
	name    string // the CloudWatch dimension's value
	signals []activitySignal
	// known is since when the resource is known to exist (knownSince),
	// for its quiet counts; zero when not known or it may run at the
	// edge.
	known time.Time
	// edge is the function that may run at the edge (in us-east-1;
	// see mayRunAtEdge), not asked yet: settleEdge asks it when the
	// answer decides the counts. Nil when there is nothing to ask.
	edge *target
	// now is the real time before the read: the period and what
	// CloudWatch has published (see published) are judged by it.
	now        time.Time
	period     time.Duration
	start, end time.Time
	queries    []activityQuery
	accs       []activityAcc
	// err is the read's failure: a result CloudWatch could not compute.
	err error
}

// activityQuery is one metric of a signal: its signal and metric name,
// and whether CloudWatch's last answer to it had status Complete.
type activityQuery struct {
	signal   int
	name     string
	complete bool
}

// activityAcc is what a signal's datapoints add up to.
type activityAcc struct {
	seen     bool
	count    float64
	last     time.Time
	first    time.Time // the earliest datapoint's period start
	latest   time.Time // the latest datapoint's period start
	complete bool      // CloudWatch's last answer had status Complete
}

// planActivity prepares the read of q of resource t, which has signals,
// now the real time: its counts without a datapoint may be quiet from
// knownSince on, unless a function in us-east-1 may run at the edge,
// which settleEdge asks once the data is read.
func (d *Driver) planActivity(q provider.ActivityQuery, t target, now time.Time) *activityRead {
	r := &activityRead{q: q, kind: t.kind, name: t.name, signals: activityTable[t.kind], now: now}
	// A function's invocations and a load balancer's requests have no
	// datapoint for a quiet minute: with none in the window, the count is
	// 0 from since when the resource is known to exist (knownSince) on,
	// unless a function may run at the edge (see quietFrom).
	r.known, _ = knownSince(t)
	if d.edgeChecked(t) {
		r.edge = &t
	}
	// Whole periods covering [Start, End): CloudWatch's grid.
	r.period = activityPeriodAt(q.Start, now)
	r.start = q.Start.Truncate(r.period)
	r.end = q.End.Truncate(r.period)
	if r.end.Before(q.End) {
		r.end = r.end.Add(r.period)
	}
	for i, s := range r.signals {
		for _, name := range append([]string{s.cw.Name}, s.also...) {
			r.queries = append(r.queries, activityQuery{signal: i, name: name})
		}
	}
	r.accs = make([]activityAcc, len(r.signals))
	return r
}

// metricDataQuery returns the CloudWatch query of r's k-th query, with id.
func (r *activityRead) metricDataQuery(k int, id string) cwtypes.MetricDataQuery {
	s := r.signals[r.queries[k].signal]
	return cwtypes.MetricDataQuery{
		Id: awssdk.String(id),
		MetricStat: &cwtypes.MetricStat{
			Metric: &cwtypes.Metric{
				Namespace:  awssdk.String(s.cw.Namespace),
				MetricName: awssdk.String(r.queries[k].name),
				Dimensions: []cwtypes.Dimension{{Name: awssdk.String(s.cw.Dimension), Value: awssdk.String(r.name)}},
			},
			Period: awssdk.Int32(int32(r.period / time.Second)),
			Stat:   awssdk.String(s.stat),
		},
		ReturnData: awssdk.Bool(true),
	}
}

// activityData reads reads, which share their grid's start and end, with
// one GetMetricData call (every page), and adds each answer to its read;
// a result CloudWatch could not compute fails its read alone (its err).
// The error is the call's.
func (d *Driver) activityData(ctx context.Context, reads []*activityRead) error {
	in := &cloudwatch.GetMetricDataInput{StartTime: awssdk.Time(reads[0].start), EndTime: awssdk.Time(reads[0].end), ScanBy: cwtypes.ScanByTimestampAscending}
	// Each query's read and index, by query ID ("r0a1" for read 0's
	// query 1).
	type ref struct{ read, query int }
	byID := map[string]ref{}
	for i, r := range reads {
		for k := range r.queries {
			id := "r" + strconv.Itoa(i) + "a" + strconv.Itoa(k)
			byID[id] = ref{i, k}
			in.MetricDataQueries = append(in.MetricDataQueries, r.metricDataQuery(k, id))
		}
	}
	pager, tokens := cloudwatch.NewGetMetricDataPaginator(d.cw, in), pageTokens{}
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return err
		}
		if err := tokens.next("GetMetricData", page.NextToken); err != nil {
			return err
		}
		for _, res := range page.MetricDataResults {
			at, ok := byID[awssdk.ToString(res.Id)]
			if !ok || reads[at.read].err != nil {
				continue
			}
			reads[at.read].err = reads[at.read].add(at.query, res)
		}
	}
	return nil
}

// add adds CloudWatch's answer res to r's k-th query, or returns the
// read's error when CloudWatch could not compute it or answered it
// malformed (timestamps and values of different counts).
func (r *activityRead) add(k int, res cwtypes.MetricDataResult) error {
	qr := &r.queries[k]
	i := qr.signal
	switch res.StatusCode {
	case cwtypes.StatusCodeForbidden:
		return fmt.Errorf("aws: activity %q: %s %s: %w: CloudWatch status %s: %s", r.q.ResourceID, r.signals[i].cw.Namespace, qr.name, provider.ErrDenied, res.StatusCode, messages(res.Messages))
	case cwtypes.StatusCodeInternalError:
		return fmt.Errorf("aws: activity %q: %s %s: CloudWatch status %s: %s", r.q.ResourceID, r.signals[i].cw.Namespace, qr.name, res.StatusCode, messages(res.Messages))
	}
	if len(res.Timestamps) != len(res.Values) {
		// A malformed answer: which value is whose is not known, so
		// nothing of it is counted (as QueryMetrics fails it).
		return fmt.Errorf("aws: activity %q: %s %s: CloudWatch returned %d timestamps and %d values", r.q.ResourceID, r.signals[i].cw.Namespace, qr.name, len(res.Timestamps), len(res.Values))
	}
	qr.complete = res.StatusCode == cwtypes.StatusCodeComplete
	for k, ts := range res.Timestamps {
		if ts.Before(r.start) || !ts.Before(r.end) {
			continue
		}
		v := res.Values[k]
		a := &r.accs[i]
		if !a.seen || ts.Before(a.first) {
			a.first = ts
		}
		if !a.seen || ts.After(a.latest) {
			a.latest = ts
		}
		a.seen = true
		if r.signals[i].stat == "Maximum" {
			a.count = max(a.count, v)
		} else {
			a.count += v
		}
		if v > 0 {
			// The latest minute the period's events may have
			// been in, within the window: a coarser period's
			// start is up to a period before them, and Last
			// taken as it made recent use look older.
			l := ts.Add(r.period - activityPeriod)
			if lim := r.q.End.Add(-1).Truncate(activityPeriod); l.After(lim) {
				l = lim
			}
			// A Start not on the grid: the datapoint's period
			// began before it, and its events may lie in the
			// window from Start on. Clamped, not dropped: the
			// count has them (more use, never less), and
			// Last must lie in [Start, End).
			if l.Before(r.q.Start) {
				l = r.q.Start
			}
			if l.After(a.last) {
				a.last = l
			}
		}
	}
	return nil
}

// settleEdge settles, r's data read, whether r's function may run at
// the edge when that decides its counts: a function invoked in the
// window and modified before it reads the same either way, and is asked
// nothing. Else the function is asked ListVersionsByFunction (once: edges
// keeps the answers by ARN), and one that may run at the edge, or whose
// call failed, has no quiet counts. The error is ctx's, when it ended
// before or in the call (the read is then not answered).
func (d *Driver) settleEdge(ctx context.Context, r *activityRead, edges map[string]bool) error {
	t := r.edge
	if t == nil {
		return nil
	}
	r.edge = nil
	known := r.known
	quiet := r.counts()
	r.known = time.Time{}
	if reflect.DeepEqual(quiet, r.counts()) {
		return nil // no quiet count, and no Since: the same without
	}
	edge, ok := edges[t.id]
	if !ok {
		if err := ctxErr(ctx, "activity", r.q.ResourceID); err != nil {
			return err
		}
		edge = d.mayRunAtEdge(ctx, "activity", *t)
		if err := ctxErr(ctx, "activity", r.q.ResourceID); err != nil {
			return err
		}
		edges[t.id] = edge
	}
	if !edge {
		r.known = known
	}
	return nil
}

// counts returns the counts of r, read whole.
func (r *activityRead) counts() []provider.ActivityCount {
	q, now := r.q, r.now
	// A signal is answered whole when each of its queries is.
	accs := slices.Clone(r.accs)
	for i := range accs {
		accs[i].complete = true
	}
	for _, qr := range r.queries {
		accs[qr.signal].complete = accs[qr.signal].complete && qr.complete
	}
	known, volume := r.known, r.kind == provider.KindVolume
	out := []provider.ActivityCount{}
	for i, s := range r.signals {
		a := accs[i]
		quiet := !known.IsZero() && quietCounts[r.kind][s.metric]
		if !a.seen && (!quiet || !a.complete || !known.Before(q.End) || !published(q, known, now)) {
			continue // no datapoint: unknown
		}
		c := provider.ActivityCount{Kind: s.kind, Count: a.count, Last: a.last.UTC()}
		if quiet && volume && a.seen && a.count == 0 {
			// Datapoints of no I/O, published while it was attached: a
			// gap between them may be CloudWatch's outage, so the 0 is
			// claimed from the last one's period on only, and as the
			// quiet 0 with none is, read whole and published.
			since := a.latest
			if known.After(since) {
				since = known
			}
			if !a.complete || !published(q, since, now) {
				continue
			}
			if since.After(q.Start) {
				c.Since = since.UTC()
			}
			out = append(out, c)
			continue
		}
		if quiet {
			// The count covers [Since, End): from LastModified (a load
			// balancer's CreatedTime), or from the earliest datapoint
			// when that is before it (see the method's doc), when that
			// is after Start.
			since := known
			if a.seen && a.first.Before(since) {
				since = a.first
			}
			if since.After(q.Start) {
				c.Since = since.UTC()
			}
		}
		if c.Validate() != nil {
			continue // a negative or non-finite datapoint: unknown rather than wrong
		}
		out = append(out, c)
	}
	return out
}

// published reports whether CloudWatch can tell of a quiet resource
// known to exist since known (a function's LastModified, a load
// balancer's CreatedTime) that it had no event in [Start, End) of q, read
// at now (the real time): the window ended by now, and CloudWatch still
// keeps it from known (or Start) on. A host whose clock runs ahead of the
// real time asks of events not happened yet, and one far behind of
// datapoints CloudWatch no longer keeps.
func published(q provider.ActivityQuery, known, now time.Time) bool {
	from := q.Start
	if known.After(from) {
		from = known
	}
	return !q.End.After(now) && !from.Before(now.Add(-activityHourKept))
}

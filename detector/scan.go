package detector

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/idlescale/idlescale/internal/nilcheck"
	"github.com/idlescale/idlescale/provider"
)

// Fleet is where Scan reads resources, metrics and activity.
type Fleet struct {
	// Inventory lists the resources. Required.
	Inventory provider.Inventory
	// Metrics reads their metrics. Required.
	Metrics provider.MetricsSource
	// Activity reads their activity. Optional: when nil, Metrics is used
	// if it also implements provider.ActivitySource; otherwise the
	// activity signal is unknown.
	Activity provider.ActivitySource
}

// NeedsReporter is implemented by detectors that can say which data they
// read; Scan uses it for the defaults of ScanConfig.Metrics and History.
type NeedsReporter interface {
	Needs() Needs
}

// KindNeedsReporter is implemented by detectors whose metrics depend on
// the kind of resource judged (an Ensemble, see EnsembleConfig.Kinds):
// unless ScanConfig.Metrics is set, Scan reads each resource's metrics
// from NeedsOf its kind, and nothing else.
type KindNeedsReporter interface {
	NeedsOf(k provider.Kind) Needs
}

var _ KindNeedsReporter = (*Ensemble)(nil)

// TerminateReporter is implemented by detectors that recommend a
// terminate only on activity read over a longer window than their
// Needs().ActivityWindow: an Ensemble reads its quiet period (30 minutes
// by default) for every verdict, and a terminate needs activity over all
// of EvidenceConfig.TerminateWindow (28 days by default) showing no use.
// A host that may terminate scans the resources such a detector
// terminates (Terminable) with ScanConfig.ActivityWindow set to
// TerminateWindow, as the reaper does; a detector without it is scanned
// over its own activity window. A type that embeds *Ensemble implements
// it, with the ensemble's window; a detector of a host's own recommends
// a terminate on evidence it must say how long to read.
type TerminateReporter interface {
	// TerminateWindow returns the activity window a terminate is judged
	// on, ending at the scan's now; 0 means none beyond the detector's
	// Needs().ActivityWindow.
	TerminateWindow() time.Duration
}

var _ TerminateReporter = (*Ensemble)(nil)

// TerminateWindow returns EvidenceConfig.TerminateWindow with the
// defaults filled in (see TerminateReporter); 0 for an Ensemble not made
// by NewEnsemble.
func (e *Ensemble) TerminateWindow() time.Duration { return e.cfg.Evidence.TerminateWindow }

var (
	_ NeedsReporter = (*Ensemble)(nil)
	_ NeedsReporter = (*Utilization)(nil)
	_ NeedsReporter = (*Activity)(nil)
	_ NeedsReporter = (*Schedule)(nil)
	_ NeedsReporter = (*Model)(nil)
	_ NeedsReporter = (*Preset)(nil)
)

// Needs returns the activity window the activity strategy reads.
func (a *Activity) Needs() Needs {
	return Needs{Activity: true, ActivityWindow: a.cfg.Quiet}
}

// Needs returns the metric and history the schedule strategy reads.
func (s *Schedule) Needs() Needs {
	return Needs{Metrics: []provider.Metric{s.cfg.Metric}, History: s.cfg.History}
}

// Needs returns the metrics and history the model reads.
func (m *Model) Needs() Needs {
	return Needs{Metrics: m.metrics(), History: max(m.cfg.Window, m.cfg.History), Activity: true, ActivityWindow: 30 * time.Minute}
}

// Needs returns the metrics and window the preset reads.
func (r *Preset) Needs() Needs {
	n := Needs{Metrics: []provider.Metric{provider.MetricCPU}, History: r.window}
	switch {
	case r.cfg.IgnoreNetwork:
	case r.name == "azure_advisor":
		n.Metrics = append(n.Metrics, provider.MetricNetworkUtilization)
	default:
		n.Metrics = append(n.Metrics, provider.MetricNetworkIn, provider.MetricNetworkOut)
	}
	return n
}

// Needs returns the metrics and window the utilization strategy reads.
func (u *Utilization) Needs() Needs {
	return Needs{Metrics: slices.Clone(u.metrics), History: u.cfg.Window}
}

// ScanConfig configures Scan. Now is required; the zero value of every
// other field means its default.
type ScanConfig struct {
	// Now is the time of the decisions. Required.
	Now time.Time `json:"now"`
	// Filter selects the resources. Default: every resource.
	Filter provider.Filter `json:"filter,omitzero"`
	// Step is the grid step of metric queries. Their steps are on
	// multiples of it (since the zero time, so on the hour for a step
	// that divides one): a query's Start is Now − History rounded down,
	// whatever Now is (a reaper's Run reads the real clock), so that its
	// steps are those of a source's own grid, such as CloudWatch's
	// periods (on an AWS driver, a detached volume's, a function's or a
	// load balancer's steps without a datapoint read 0 only when Start
	// is on one: at an odd Now they were all gaps, and such a resource
	// never idle). The data window still ends at Now: a step counts
	// only once it has ended. Default: 5m.
	Step time.Duration `json:"step,omitempty"`
	// Statistic reduces the raw samples within each step (for example max
	// for NewAzureAdvisor). Default: mean.
	Statistic provider.Statistic `json:"statistic,omitempty"`
	// History is how far back before Now metrics are queried (from
	// Now − History rounded down to Step: see Step). Default: the
	// detector's Needs().History, or 24h.
	History time.Duration `json:"history,omitempty"`
	// Metrics are the metrics queried per resource. Default: the
	// detector's NeedsOf(the resource's kind).Metrics when it is a
	// KindNeedsReporter (an Ensemble), else its Needs().Metrics, or [cpu].
	Metrics []provider.Metric `json:"metrics,omitempty"`
	// ActivityWindow is the window of the activity query, ending at Now.
	// Default: the detector's Needs().ActivityWindow, or 30m.
	ActivityWindow time.Duration `json:"activity_window,omitempty"`
	// Concurrency bounds the resources examined at once, and the calls a
	// batch read makes at once when its source answers it one read at a
	// time (provider.WithBatchConcurrency: the Kubernetes driver's
	// workloads). Default: 8.
	Concurrency int `json:"concurrency,omitempty"`
	// Progress, when set, is called after each resource with the number
	// done and the total. Calls are serialised (never concurrent) and
	// done increases by one each time; keep it fast.
	Progress func(done, total int) `json:"-"`

	metricsOf func(provider.Kind) []provider.Metric // a KindNeedsReporter's, when Metrics is not set
}

// Validate checks the configuration; the error names the first wrong
// field.
func (c ScanConfig) Validate() error {
	if c.Now.IsZero() {
		return invalid("scan.now", c.Now, "must be set")
	}
	if err := c.Filter.Validate(); err != nil {
		return provider.Within("scan", err)
	}
	if c.Step < 0 {
		return invalid("scan.step", c.Step, "must be > 0 (0 means the default 5m)")
	}
	if c.History < 0 {
		return invalid("scan.history", c.History, "must be > 0")
	}
	if c.History > 0 && c.Step > 0 && c.History < c.Step {
		return invalid("scan.history", c.History, "is shorter than one step ("+c.Step.String()+")")
	}
	if c.ActivityWindow < 0 {
		return invalid("scan.activity_window", c.ActivityWindow, "must be > 0")
	}
	for i, m := range c.Metrics {
		if err := m.Validate(); err != nil {
			return provider.Within(fmt.Sprintf("scan.metrics[%d]", i), err)
		}
		if slices.Contains(c.Metrics[:i], m) {
			// Read twice, every resource's input would hold two series
			// of it, which Detect refuses.
			return invalid(fmt.Sprintf("scan.metrics[%d]", i), string(m), "appears twice")
		}
	}
	if err := c.Statistic.Validate(); err != nil {
		return provider.Within("scan", err)
	}
	if c.Concurrency < 0 {
		return invalid("scan.concurrency", c.Concurrency, "must be ≥ 0 (0 means the default 8)")
	}
	return nil
}

// Report is the outcome of a Scan.
type Report struct {
	// Verdicts holds one verdict per resource that could be judged, sorted
	// by resource ID. A resource whose metric or activity source failed is
	// still judged (that signal is unknown) and also listed in Errors. A
	// resource ID the inventory lists more than once is not judged: it
	// has one error in Errors (Op "list", matching provider.ErrInvalid)
	// and no verdict.
	Verdicts []Verdict `json:"verdicts"`
	// Errors lists the failures per resource, sorted by resource ID.
	Errors []*ResourceError `json:"-"`
	// Resources is the number of resources the inventory listed.
	Resources int `json:"resources"`
}

// Idle returns the verdicts whose State is Idle, in Verdicts' order.
func (r Report) Idle() []Verdict {
	var out []Verdict
	for _, v := range r.Verdicts {
		if v.State == Idle {
			out = append(out, v)
		}
	}
	return out
}

// Err returns the per-resource errors joined, or nil.
func (r Report) Err() error {
	errs := make([]error, len(r.Errors))
	for i, e := range r.Errors {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// Scan lists the fleet's resources, reads each one's metrics (and
// activity) over the history before cfg.Now and runs d on it, examining at
// most cfg.Concurrency resources at once. When the metrics source is a
// provider.MetricsBatcher (the AWS and Kubernetes drivers, the memory
// cloud, a quota.Source) the metrics are read ScanChunk resources at a
// time, each chunk's queries in one QueryMetrics call (GetMetricData takes
// 500 queries a call, where one call per query would spend the account's
// quota 500 times faster); otherwise each resource reads its own. So is
// the activity when the activity source is a provider.ActivityBatcher
// (the AWS driver, which packs a chunk's CloudWatch queries into
// GetMetricData calls; the Kubernetes driver, which answers a chunk's
// PersistentVolumes from one listing of the cluster's volumes, claims and
// attachments where one read costs those lists each; the memory cloud):
// each chunk's activity in one Activities call. The verdicts are the same either way. An answer whose series names another
// resource or metric (Series.ResourceID, Series.Metric) than its query's
// is a failed read of that metric (provider.ErrInvalid, naming both), not
// data about the resource, and so is an answer without a series (a read
// that a batch call left unanswered: with the call's error when it
// returned one). One failing resource does not fail the
// scan: its error is collected in Report.Errors, and so is a verdict whose
// ResourceID is not the resource's (provider.ErrInvalid, field
// "verdict.resource_id"), which is not reported as a verdict. Scan returns an error
// only for invalid configuration (matching provider.ErrInvalid: cfg, or a
// source or d that is nil, a nil Func or a nil pointer, whose calls would
// panic), a failing inventory listing, or when ctx ends (ctx.Err()). It
// starts no goroutine that outlives it.
func Scan(ctx context.Context, fleet Fleet, d Detector, cfg ScanConfig) (Report, error) {
	if err := cfg.Validate(); err != nil {
		return Report{}, err
	}
	if nilcheck.Is(fleet.Inventory) {
		return Report{}, invalid("fleet.inventory", nil, "must be set")
	}
	if nilcheck.Is(fleet.Metrics) {
		return Report{}, invalid("fleet.metrics", nil, "must be set")
	}
	if fleet.Activity != nil && nilcheck.Is(fleet.Activity) {
		return Report{}, invalid("fleet.activity", fmt.Sprintf("%T", fleet.Activity), "must be nil or a usable source, not a nil pointer or func")
	}
	if isNilDetector(d) {
		return Report{}, invalid("detector", nil, "must be set")
	}
	cfg = scanDefaults(cfg, d)
	act := fleet.Activity
	if act == nil {
		act, _ = fleet.Metrics.(provider.ActivitySource)
	}
	listed, err := fleet.Inventory.List(ctx, cfg.Filter)
	if err != nil {
		return Report{}, fmt.Errorf("detector: scan: list: %w", err)
	}
	// A resource listed twice is neither of its copies: they may disagree
	// (a stale copy of an instance restarted since, its launch time in
	// the grace period on one and long ago on the other), and a verdict
	// must rest on one resource's evidence. Judged, each copy had a
	// verdict under the one ID, and a host acting on the report acted on
	// whichever it read.
	resources, repeated := provider.ListedOnce(listed)
	var errs []*ResourceError
	for _, id := range slices.Sorted(maps.Keys(repeated)) {
		errs = append(errs, &ResourceError{ResourceID: id, Op: "list",
			Err: invalid("resource.id", id, "listed "+strconv.Itoa(repeated[id])+" times by the inventory; a resource listed more than once is not judged")})
	}
	verdicts := make([]Verdict, len(resources))
	judged := make([]bool, len(resources))
	var (
		mu   sync.Mutex
		done int
	)
	record := func(e *ResourceError) {
		mu.Lock()
		errs = append(errs, e)
		mu.Unlock()
	}
	batcher, _ := fleet.Metrics.(provider.MetricsBatcher)
	actBatcher, _ := act.(provider.ActivityBatcher)
	// A batch answered with one call per read (the Kubernetes driver's
	// workloads) makes no more calls at once than the scan would.
	bctx := provider.WithBatchConcurrency(ctx, cfg.Concurrency)
	chunk := len(resources)
	if batcher != nil || actBatcher != nil {
		chunk = ScanChunk
	}
	for lo := 0; lo < len(resources); lo += chunk {
		part := resources[lo:min(lo+chunk, len(resources))]
		var reads []provider.MetricRead     // part's metrics, read ahead in one call
		offsets := make([]int, len(part)+1) // part[j]'s reads are reads[offsets[j]:offsets[j+1]]
		if batcher != nil {
			reads = make([]provider.MetricRead, 0, len(part)*len(cfg.Metrics))
			for j, r := range part {
				for _, q := range queries(r, cfg) {
					reads = append(reads, provider.MetricRead{Query: q})
				}
				offsets[j+1] = len(reads)
			}
			callErr := batcher.QueryMetrics(bctx, reads) // each read carries its error
			if err := ctx.Err(); err != nil {
				return Report{}, err
			}
			if callErr != nil {
				// A read the failed call left unanswered (against the
				// batch contract) fails with the call's error: read as "no
				// data", it would leave a bounded metric unchecked.
				for i := range reads {
					if reads[i].Err == nil && reads[i].Series.Step == 0 {
						reads[i].Err = callErr
					}
				}
			}
		}
		var acts []provider.ActivityRead // part's activity, read ahead in one call
		if actBatcher != nil {
			acts = make([]provider.ActivityRead, len(part))
			for j, r := range part {
				acts[j].Query = activityQuery(r, cfg)
			}
			callErr := actBatcher.Activities(bctx, acts)
			if err := ctx.Err(); err != nil {
				return Report{}, err
			}
			if callErr != nil {
				// A read the failed call left unanswered fails with the
				// call's error: read as "no counts", it would be unknown
				// activity at best, and a source's answer to nobody.
				for i := range acts {
					if acts[i].Err == nil && acts[i].Counts == nil {
						acts[i].Err = callErr
					}
				}
			}
		}
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(cfg.Concurrency)
		for j := range part {
			if gctx.Err() != nil {
				break
			}
			g.Go(func() error {
				i, r := lo+j, part[j]
				var ahead []provider.MetricRead
				if reads != nil {
					ahead = reads[offsets[j]:offsets[j+1]]
				}
				var actAhead *provider.ActivityRead
				if acts != nil {
					actAhead = &acts[j]
				}
				in, ok := gather(gctx, fleet.Metrics, act, r, cfg, ahead, actAhead, record)
				if !ok {
					return gctx.Err()
				}
				v, err := d.Detect(gctx, in)
				switch {
				case gctx.Err() != nil:
					return gctx.Err()
				case err != nil:
					record(&ResourceError{ResourceID: r.ID, Op: "detect", Err: err})
				case v.ResourceID != r.ID:
					// The verdicts are keyed by their ID: one under another
					// resource's would be taken for that resource's.
					record(&ResourceError{ResourceID: r.ID, Op: "detect",
						Err: invalid("verdict.resource_id", v.ResourceID, "must be the ID of the resource judged, "+r.ID)})
				default:
					verdicts[i], judged[i] = v, true
				}
				if cfg.Progress != nil {
					mu.Lock()
					done++
					cfg.Progress(done, len(resources))
					mu.Unlock()
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return Report{}, err
		}
	}
	if err := ctx.Err(); err != nil {
		return Report{}, err
	}
	rep := Report{Resources: len(listed), Errors: errs}
	for i := range verdicts {
		if judged[i] {
			rep.Verdicts = append(rep.Verdicts, verdicts[i])
		}
	}
	slices.SortFunc(rep.Verdicts, func(a, b Verdict) int { return strings.Compare(a.ResourceID, b.ResourceID) })
	slices.SortStableFunc(rep.Errors, func(a, b *ResourceError) int { return strings.Compare(a.ResourceID, b.ResourceID) })
	return rep, nil
}

func scanDefaults(cfg ScanConfig, d Detector) ScanConfig {
	var needs Needs
	if nr, ok := d.(NeedsReporter); ok {
		needs = nr.Needs()
	}
	if cfg.Step == 0 {
		cfg.Step = 5 * time.Minute
	}
	if cfg.History == 0 {
		cfg.History = needs.History
		if cfg.History == 0 {
			cfg.History = 24 * time.Hour
		}
	}
	cfg.History = max(cfg.History, cfg.Step)
	if kn, ok := d.(KindNeedsReporter); ok && cfg.Metrics == nil {
		// Asked once per kind, not once per resource.
		byKind := make(map[provider.Kind][]provider.Metric, len(provider.Kinds()))
		for _, k := range provider.Kinds() {
			byKind[k] = kn.NeedsOf(k).Metrics
		}
		cfg.metricsOf = func(k provider.Kind) []provider.Metric {
			if ms, ok := byKind[k]; ok {
				return ms
			}
			return kn.NeedsOf(k).Metrics
		}
	}
	if cfg.Metrics == nil {
		cfg.Metrics = needs.Metrics
		if cfg.Metrics == nil {
			cfg.Metrics = []provider.Metric{provider.MetricCPU}
		}
	}
	if cfg.ActivityWindow == 0 {
		cfg.ActivityWindow = needs.ActivityWindow
		if cfg.ActivityWindow == 0 {
			cfg.ActivityWindow = 30 * time.Minute
		}
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 8
	}
	return cfg
}

// queryOrMean reads q from ms and, when ms has no such statistic for the
// metric, its mean (see meanInstead).
func queryOrMean(ctx context.Context, ms provider.MetricsSource, q provider.Query) (provider.Series, error) {
	s, err := ms.QueryMetric(ctx, q)
	if meanInstead(q, err) {
		return ms.QueryMetric(ctx, withMean(q))
	}
	return s, err
}

// meanInstead reports whether a read of q that failed with err is read
// again as a mean: the provider refused the statistic (AWS has no maximum
// or percentile of a counter such as NetworkIn), and no data at all would
// let the evidence skip a metric it bounds (a busy proxy's traffic)
// instead of checking its mean rate.
func meanInstead(q provider.Query, err error) bool {
	return errors.Is(err, provider.ErrUnsupported) && q.Statistic != "" && q.Statistic != provider.StatMean
}

func withMean(q provider.Query) provider.Query {
	q.Statistic = provider.StatMean
	return q
}

// ScanChunk is how many resources' metrics Scan reads in one call of a
// provider.MetricsBatcher, and their activity in one call of a
// provider.ActivityBatcher: 125 resources of 4 metrics are the 500 queries
// of one GetMetricData call (the default ensemble's 6 that reach
// CloudWatch on AWS make 750 queries, two calls).
const ScanChunk = 125

// queries returns the metric queries Scan makes for r, in the order of
// its metrics (cfg.Metrics, or those of r's kind), over History before
// Now with Start rounded down to a multiple of Step (see ScanConfig.Step).
func queries(r provider.Resource, cfg ScanConfig) []provider.Query {
	start := cfg.Now.Add(-cfg.History).Truncate(cfg.Step)
	ms := cfg.Metrics
	if cfg.metricsOf != nil {
		ms = cfg.metricsOf(r.Kind)
	}
	qs := make([]provider.Query, len(ms))
	for k, m := range ms {
		qs[k] = provider.Query{ResourceID: r.ID, Metric: m, Start: start, End: cfg.Now, Step: cfg.Step, Statistic: cfg.Statistic}
	}
	return qs
}

// foreignSeries returns an error matching provider.ErrInvalid when s, the
// answer to q, is no series at all (no step: a batch read left
// unanswered), or says that it is another resource's or another metric's
// series (a source that pairs a batch's answers with the wrong reads):
// judged as q's, no data would leave a bounded metric unchecked, and
// another resource's data could stop a busy machine. A series that does
// not say (an empty ResourceID or Metric) is taken as q's.
func foreignSeries(q provider.Query, s provider.Series) error {
	switch {
	case s.Step <= 0:
		return invalid("series.step", s.Step, "the source answered the "+string(q.Metric)+" query of "+q.ResourceID+" with no series (a read left unanswered)")
	case s.ResourceID != "" && s.ResourceID != q.ResourceID:
		return invalid("series.resource_id", s.ResourceID, "the source answered the "+string(q.Metric)+" query of "+q.ResourceID+" with another resource's series")
	case s.Metric != "" && s.Metric != q.Metric:
		return invalid("series.metric", string(s.Metric), "the source answered the "+string(q.Metric)+" query of "+q.ResourceID+" with another metric's series")
	}
	return nil
}

// activityQuery is the activity query Scan makes for r: the
// ActivityWindow before Now.
func activityQuery(r provider.Resource, cfg ScanConfig) provider.ActivityQuery {
	return provider.ActivityQuery{ResourceID: r.ID, Start: cfg.Now.Add(-cfg.ActivityWindow), End: cfg.Now}
}

// gather reads what the detector needs for r: its metrics from ahead (read
// ahead in a batch, one per metric of cfg.Metrics) or else from ms, one
// query each, and its activity from actAhead (read ahead in a batch) or
// else from act. It returns ok = false only when ctx ended.
func gather(ctx context.Context, ms provider.MetricsSource, act provider.ActivitySource, r provider.Resource, cfg ScanConfig, ahead []provider.MetricRead, actAhead *provider.ActivityRead, record func(*ResourceError)) (Input, bool) {
	in := Input{Now: cfg.Now, Resource: r}
	for k, q := range queries(r, cfg) {
		m := q.Metric
		var (
			s   provider.Series
			err error
		)
		if ahead != nil {
			s, err = ahead[k].Series, ahead[k].Err
			if meanInstead(q, err) {
				s, err = ms.QueryMetric(ctx, withMean(q))
			}
		} else {
			s, err = queryOrMean(ctx, ms, q)
		}
		if ctx.Err() != nil {
			return in, false
		}
		if err == nil {
			err = foreignSeries(q, s)
		}
		switch {
		case errors.Is(err, provider.ErrUnsupported):
			// The source does not have this metric: unknown, not an error.
		case err != nil:
			in.MetricErrors = append(in.MetricErrors, MetricError{Metric: m, Err: err})
			record(&ResourceError{ResourceID: r.ID, Op: "metric " + string(m), Err: err})
		case s.Gaps() == len(s.Values):
			// No data at all: leave the metric out.
		default:
			s.Metric = m
			in.Series = append(in.Series, s)
		}
	}
	if act != nil {
		q := activityQuery(r, cfg)
		var (
			counts []provider.ActivityCount
			err    error
		)
		if actAhead != nil {
			counts, err = actAhead.Counts, actAhead.Err
		} else {
			counts, err = act.Activity(ctx, q)
		}
		if ctx.Err() != nil {
			return in, false
		}
		switch {
		case errors.Is(err, provider.ErrUnsupported):
		case err != nil:
			in.ActivityErr = err
			record(&ResourceError{ResourceID: r.ID, Op: "activity", Err: err})
		default:
			in.Activity, in.ActivityFrom = counts, q.Start
		}
	}
	return in, true
}

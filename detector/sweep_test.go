package detector_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	synthfleet "github.com/idlescale/idlescale/provider/memory/synth"
	"github.com/idlescale/idlescale/provider/quota"
)

// batchFleet is a gridFleet that also reads several queries in one call
// (a provider.MetricsBatcher), counting the calls.
type batchFleet struct {
	*gridFleet
	calls atomic.Int32
	fail  bool // every call fails as a whole
}

// errUnreachable is a batchFleet's failure of a whole call.
var errUnreachable = errors.New("metrics backend unreachable")

func (b *batchFleet) QueryMetrics(ctx context.Context, reads []provider.MetricRead) error {
	b.calls.Add(1)
	for i := range reads {
		r := &reads[i]
		if b.fail {
			r.Series, r.Err = provider.Series{}, errUnreachable
			continue
		}
		r.Series, r.Err = b.QueryMetric(ctx, r.Query)
		if errors.Is(r.Err, provider.ErrUnsupported) {
			q := r.Query
			r.Series, r.Err = provider.Series{ResourceID: q.ResourceID, Metric: q.Metric, Start: q.Start, Step: q.Step, Values: make([]float64, q.Steps())}, nil
			for k := range r.Series.Values {
				r.Series.Values[k] = provider.Gap
			}
		}
	}
	if b.fail {
		return errUnreachable
	}
	return nil
}

// TestSweep: hourly sweeps of the trace fleet through a quota budget give
// Scan's verdicts, read each chunk in one batched call, and after the first
// sweep read only the new hour of the resources with a usable state.
func TestSweep(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	f := traceFleet(t, start)
	bf := &batchFleet{gridFleet: f}
	budget, err := quota.NewBudget(quota.Config{Share: 1, Limits: quota.Limits{CallsPerSecond: 1e6, PointsPerSecond: 1e12, RecentPointsPerSecond: 1e12}})
	require.NoError(t, err)
	src, err := quota.NewSource(bf, budget)
	require.NoError(t, err)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	tr, err := detector.NewTracker(ens, detector.TrackerConfig{}, &detector.MemoryStateStore{})
	require.NoError(t, err)
	t0 := start.Add(30 * 24 * time.Hour)
	for h := range 4 {
		now := t0.Add(time.Duration(h) * time.Hour)
		before, usage := bf.calls.Load(), budget.Usage()
		rep, err := tr.Sweep(t.Context(), src, f, f.resources, detector.SweepConfig{Now: now, Chunk: 3})
		require.NoError(t, err)
		require.Empty(t, rep.Errors)
		require.Len(t, rep.Verdicts, len(f.resources))
		scan, err := detector.Scan(t.Context(), detector.Fleet{Inventory: f, Metrics: f}, ens, detector.ScanConfig{Now: now})
		require.NoError(t, err)
		for i := range scan.Verdicts {
			require.Equal(t, comparable(scan.Verdicts[i]), comparable(rep.Verdicts[i]), "%s at %s", scan.Verdicts[i].ResourceID, now)
		}
		calls := bf.calls.Load() - before
		spent := budget.Usage().Calls - usage.Calls
		t.Logf("hour %d: incremental %d, full %v, %d batched calls, %d budget calls, %d points", h, rep.Incremental, rep.Full, calls, spent, rep.Points)
		if h == 0 {
			// 3, 3 and 2 resources' 8 metrics of 28 days (8,064 points
			// each; the four of the utilization thresholds, network in
			// and out, disk read and write): 12 queries fill a
			// GetMetricData call's 100,800 points.
			require.Len(t, ens.NeedsOf(provider.KindInstance).Metrics, 8)
			assert.Equal(t, int32(2+2+2), calls, "the chunks of 3 resources, in calls of 12 full queries")
			assert.Equal(t, map[detector.FullRead]int{detector.FullNewResource: 8}, rep.Full)
			assert.Equal(t, 6, spent, "the new resources' full reads come from the batched calls")
			continue
		}
		assert.Equal(t, int32(3), calls, "one batched call per chunk of 3 resources")
		// Resource 3 lives in a half-hour zone and 4 has suspect zeros:
		// they read in full after their new hour, each query a call.
		assert.Equal(t, 6, rep.Incremental)
		assert.Equal(t, map[detector.FullRead]int{detector.FullZoneOffHour: 1, detector.FullSuspectZeros: 1}, rep.Full)
		// The budget counts the batched calls and the full reads' queries
		// that reach the source: a metric the fleet does not have it
		// refuses itself (ErrUnsupported), which spends nothing.
		reach := 0
		for _, r := range f.resources[3:5] {
			for _, m := range ens.NeedsOf(r.Kind).Metrics {
				if _, ok := f.series[r.ID][m]; ok {
					reach++
				}
			}
		}
		require.Less(t, reach, 2*8, "some metrics refused")
		assert.Equal(t, 3+reach, spent)
		assert.Equal(t, 8*8*12+2*8*8064, rep.Points, "an hour of 8 metrics each, and 2 full reads")
	}
	// The default chunk (1,000) takes the 8 resources in one batched call.
	before := bf.calls.Load()
	rep, err := tr.Sweep(t.Context(), src, f, f.resources, detector.SweepConfig{Now: t0.Add(4 * time.Hour)})
	require.NoError(t, err)
	require.Len(t, rep.Verdicts, len(f.resources))
	assert.Equal(t, int32(1), bf.calls.Load()-before)
	// A batch call that fails as a whole is not the reads' failure: every
	// query of the chunk is read again on its own, and the verdicts stand.
	short := &batchFleet{gridFleet: f, fail: true}
	shortTr, err := detector.NewTracker(ens, detector.TrackerConfig{}, &detector.MemoryStateStore{})
	require.NoError(t, err)
	now := t0.Add(5 * time.Hour)
	rep, err = shortTr.Sweep(t.Context(), short, f, f.resources, detector.SweepConfig{Now: now})
	require.NoError(t, err)
	require.Empty(t, rep.Errors)
	require.Equal(t, int32(1), short.calls.Load(), "the batch was asked, and its failure not taken as the reads'")
	scan, err := detector.Scan(t.Context(), detector.Fleet{Inventory: f, Metrics: f}, ens, detector.ScanConfig{Now: now})
	require.NoError(t, err)
	require.Len(t, rep.Verdicts, len(scan.Verdicts))
	require.Len(t, scan.Verdicts, len(f.resources))
	for i := range scan.Verdicts {
		require.Equal(t, comparable(scan.Verdicts[i]), comparable(rep.Verdicts[i]))
	}
	_, err = tr.Sweep(t.Context(), src, nil, f.resources, detector.SweepConfig{Now: t0, Concurrency: -1})
	require.ErrorIs(t, err, provider.ErrInvalid)
	_, err = tr.Sweep(t.Context(), nil, nil, f.resources, detector.SweepConfig{Now: t0})
	require.ErrorIs(t, err, provider.ErrInvalid)
	_, err = tr.Sweep(t.Context(), src, nil, f.resources, detector.SweepConfig{})
	require.ErrorIs(t, err, provider.ErrInvalid)
	_, err = tr.Sweep(t.Context(), src, nil, f.resources, detector.SweepConfig{Now: t0, Chunk: -1})
	require.ErrorIs(t, err, provider.ErrInvalid)
	_, err = tr.Sweep(t.Context(), src, nil, f.resources, detector.SweepConfig{Now: t0, MaxPoints: -1})
	require.ErrorIs(t, err, provider.ErrInvalid)
	require.ErrorContains(t, err, "sweep.max_points")
}

// TestSweepMaxPoints pins the bound on the steps read ahead: a chunk of
// new resources (6 metrics of 28 days: 48,384 steps each) is read and
// evaluated in parts of at most MaxPoints steps, never splitting a
// resource; an hour read from the states fits in one part. The verdicts
// are those of a sweep with the default bound.
func TestSweepMaxPoints(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	f := traceFleet(t, start)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	t0 := start.Add(30 * 24 * time.Hour)
	perResource := 8 * 8064 // 8 metrics of 28 days
	for _, tt := range []struct {
		maxPoints int
		calls     int32 // batched calls of the first sweep: one per part of the chunk of 8
	}{
		{0, 1}, // the default: 8 resources' 516,096 steps in one part
		{2 * perResource, 4},
		{2*perResource - 1, 8}, // one resource a part
		{1, 8},                 // less than a resource: still one a part
	} {
		bf := &batchFleet{gridFleet: f}
		tr, err := detector.NewTracker(ens, detector.TrackerConfig{}, &detector.MemoryStateStore{})
		require.NoError(t, err)
		rep, err := tr.Sweep(t.Context(), bf, f, f.resources, detector.SweepConfig{Now: t0, Chunk: 8, MaxPoints: tt.maxPoints})
		require.NoError(t, err)
		require.Empty(t, rep.Errors)
		require.Len(t, rep.Verdicts, len(f.resources))
		assert.Equal(t, tt.calls, bf.calls.Load(), "max points %d: batched calls", tt.maxPoints)
		scan, err := detector.Scan(t.Context(), detector.Fleet{Inventory: f, Metrics: f}, ens, detector.ScanConfig{Now: t0})
		require.NoError(t, err)
		for i := range scan.Verdicts {
			require.Equal(t, comparable(scan.Verdicts[i]), comparable(rep.Verdicts[i]), "max points %d: %s", tt.maxPoints, scan.Verdicts[i].ResourceID)
		}
		// The next hour, from the states: one part (2 of the 8 read in
		// full on their own, as in TestSweep).
		before := bf.calls.Load()
		_, err = tr.Sweep(t.Context(), bf, f, f.resources, detector.SweepConfig{Now: t0.Add(time.Hour), Chunk: 8, MaxPoints: max(tt.maxPoints, 8*8*12)})
		require.NoError(t, err)
		assert.Equal(t, int32(1), bf.calls.Load()-before, "max points %d: an hour from the states in one call", tt.maxPoints)
	}
}

// BenchmarkSweepHour sweeps a lazily generated fleet of 2,000 instances
// (provider/memory/synth from the shapes of the 8 NAB EC2 CPU traces in
// testdata/nab, Numenta Inc., MIT licence; synth.DefaultMix: 30 % idle,
// 40 % busy, 20 % daily, 10 % weekly) once per simulated hour after a
// first full sweep: each op is one hour of the whole fleet, read through
// memory.QuotaEmulator with CloudWatch's GetMetricData quota at the
// simulated hour (an hour of 2,000 resources fits in one second of it, so
// none of it is throttled). It reports the wall time per resource, the
// points read per resource, the state kept per resource, the share of
// CloudWatch's GetMetricData quota an hour of a million such resources
// would take (the largest of calls, old points and recent points shares),
// the calls, and the share of idle verdicts. After the timed hours it
// checks a sample of 50 verdicts against Scan's full read.
func BenchmarkSweepHour(b *testing.B) {
	const n = 2000
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	now := start.Add(60 * 24 * time.Hour)
	clk := clock.NewMock() // the simulated hour: recent data is recent to it
	clk.Set(now)
	var shapes []provider.Series
	for _, id := range []string{"24ae8d", "53ea38", "5f5533", "77c1ca", "825cc2", "ac20cd", "c6585a", "fe7f93"} {
		shapes = append(shapes, nabCPU(b, id))
	}
	f, err := synthfleet.New(synthfleet.Config{Size: n, Seed: 1, Shapes: shapes, Start: start}, synthfleet.WithClock(clk))
	require.NoError(b, err)
	resources := make([]provider.Resource, n)
	for i := range resources {
		resources[i] = f.Resource(i)
	}
	cw, err := memory.NewQuotaEmulator(f, clk, quota.CloudWatch())
	require.NoError(b, err)
	noQuota := quota.CloudWatch() // for the first sweep: 28 days of everything at once
	noQuota.CallsPerSecond, noQuota.PointsPerSecond, noQuota.RecentPointsPerSecond = 1e9, 1e15, 1e15
	fullRead, err := memory.NewQuotaEmulator(f, clk, noQuota)
	require.NoError(b, err)
	unlimited, err := quota.NewBudget(quota.Config{Share: 1, Limits: quota.Limits{CallsPerSecond: 1e9, PointsPerSecond: 1e15, RecentPointsPerSecond: 1e15}}, quota.WithClock(clk))
	require.NoError(b, err)
	cloudwatch, err := quota.NewBudget(quota.Config{Share: 1})
	require.NoError(b, err)
	src, err := quota.NewSource(cw, unlimited)
	require.NoError(b, err)
	first, err := quota.NewSource(fullRead, unlimited)
	require.NoError(b, err)
	// The fleet reports network and disk utilization, not bytes: the
	// ensemble checks the peaks of the metrics it has, as a host with such
	// a provider configures it (the default would also read network in
	// and out and disk read and write, which this fleet does not have: 96
	// points a resource, 14.8 % of the quota at a million). On AWS the
	// default reads six metrics that exist (cpu, memory, network in and
	// out, disk read and write: 72 points, 11.1 %); the two utilizations
	// it cannot map are refused before any call.
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{Evidence: detector.EvidenceConfig{PeakBounds: detector.DefaultPeakBounds(detector.DefaultThresholds())}})
	require.NoError(b, err)
	store := &detector.MemoryStateStore{}
	tr, err := detector.NewTracker(ens, detector.TrackerConfig{}, store)
	require.NoError(b, err)
	rep, err := tr.Sweep(b.Context(), first, nil, resources, detector.SweepConfig{Now: now, Concurrency: 2})
	require.NoError(b, err)
	require.Equal(b, n, rep.Full[detector.FullNewResource])
	var last quota.Usage
	var hour detector.SweepReport
	for b.Loop() {
		now = now.Add(time.Hour)
		clk.Set(now)
		before := unlimited.Usage()
		hour, err = tr.Sweep(b.Context(), src, nil, resources, detector.SweepConfig{Now: now, Concurrency: 2})
		if err != nil || hour.Incremental != n {
			b.Fatal(err, hour.Full)
		}
		if th := cw.Usage().Throttled; th != 0 {
			b.Fatalf("the emulated CloudWatch throttled %d calls", th)
		}
		u := unlimited.Usage()
		last = quota.Usage{Cost: quota.Cost{Calls: u.Calls - before.Calls, Points: u.Points - before.Points, RecentPoints: u.RecentPoints - before.RecentPoints}}
	}
	// Agreement with a full read on a sample of the fleet at the last hour.
	sample := 0
	for i := 0; i < n; i += n / 50 {
		rep, err := detector.Scan(b.Context(), detector.Fleet{Inventory: &gridFleet{resources: []provider.Resource{resources[i]}}, Metrics: f}, ens, detector.ScanConfig{Now: now})
		require.NoError(b, err)
		require.Equal(b, comparable(rep.Verdicts[0]), comparable(hour.Verdicts[slices.IndexFunc(hour.Verdicts, func(v detector.Verdict) bool { return v.ResourceID == resources[i].ID })]))
		sample++
	}
	scale := 1_000_000 / n
	million := quota.Cost{Calls: last.Calls * scale, Points: last.Points * scale, RecentPoints: last.RecentPoints * scale}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/resource")
	b.ReportMetric(float64(hour.Points)/n, "points/resource")
	b.ReportMetric(float64(store.Bytes())/float64(store.Len()), "state-bytes/resource")
	b.ReportMetric(100*cloudwatch.QuotaShare(million, time.Hour), "quota-%/hour@1M")
	b.ReportMetric(float64(last.Calls), "calls/hour")
	b.ReportMetric(float64(sample), "verdicts-equal-to-scan")
	idle := 0
	for _, v := range hour.Verdicts {
		if v.State == detector.Idle {
			idle++
		}
	}
	b.ReportMetric(100*float64(idle)/n, "idle-verdicts-%")
}

// cancellingStore, once cancel is set, cancels it at the first Load and
// counts the loads.
type cancellingStore struct {
	detector.MemoryStateStore
	cancel context.CancelFunc
	loads  atomic.Int32
}

func (s *cancellingStore) Load(ctx context.Context, id string) ([]byte, error) {
	if s.cancel != nil {
		s.loads.Add(1)
		s.cancel()
	}
	return s.MemoryStateStore.Load(ctx, id)
}

// TestSweepStopsWhenCancelled: when its context ends while the states
// are loaded, Sweep returns the context's error without loading (and
// decoding) the rest of the chunk, and evaluates nothing.
func TestSweepStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	f := traceFleet(t, start)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	st := &cancellingStore{}
	tr, err := detector.NewTracker(ens, detector.TrackerConfig{}, st)
	require.NoError(t, err)
	t0 := start.Add(30 * 24 * time.Hour)
	_, err = tr.Sweep(t.Context(), &batchFleet{gridFleet: f}, f, f.resources, detector.SweepConfig{Now: t0, Chunk: 8, Concurrency: 1})
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	st.cancel = cancel
	bf := &batchFleet{gridFleet: f}
	_, err = tr.Sweep(ctx, bf, f, f.resources, detector.SweepConfig{Now: t0.Add(time.Hour), Chunk: 8, Concurrency: 1})
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, int32(1), st.loads.Load(), "one state loaded of %d: the others not after the cancel", len(f.resources))
	assert.Zero(t, bf.calls.Load(), "nothing read")
}

// TestSweepDoesNotEvaluateAResourceGivenTwice: a resource given twice was
// evaluated twice at once (against the Tracker's contract: no two calls
// on one resource at once), each copy on its own fields, with two
// verdicts under its ID. It is now not evaluated, one error names it, and
// the others are evaluated as before (as Scan does, and the reaper and
// coord/shardsweep, which refuse such IDs themselves).
func TestSweepDoesNotEvaluateAResourceGivenTwice(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	f := traceFleet(t, start)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	tr, err := detector.NewTracker(ens, detector.TrackerConfig{}, &detector.MemoryStateStore{})
	require.NoError(t, err)
	twice := f.resources[1]
	given := append(slices.Clone(f.resources), twice)
	rep, err := tr.Sweep(t.Context(), f, f, given, detector.SweepConfig{Now: start.Add(30 * 24 * time.Hour)})
	require.NoError(t, err)
	var ids []string
	for _, v := range rep.Verdicts {
		ids = append(ids, v.ResourceID)
	}
	assert.Len(t, ids, len(f.resources)-1)
	assert.NotContains(t, ids, twice.ID)
	require.Len(t, rep.Errors, 1, "%v", rep.Errors)
	assert.Equal(t, twice.ID, rep.Errors[0].ResourceID)
	assert.Equal(t, "list", rep.Errors[0].Op)
	require.ErrorIs(t, rep.Errors[0], provider.ErrInvalid)
}

package detector_test

import (
	"context"
	"errors"
	"sync"
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
)

// nabFleet is a memory cloud whose instances replay NAB CPU traces so that
// they end at now.
func nabFleet(t *testing.T, now time.Time, ids ...string) *memory.Cloud {
	t.Helper()
	mock := clock.NewMock()
	mock.Set(now.Add(-30 * 24 * time.Hour))
	cloud, err := memory.New(memory.Config{}, memory.WithClock(mock))
	require.NoError(t, err)
	for _, id := range ids {
		require.NoError(t, cloud.Add(provider.Resource{ID: id, Kind: provider.KindInstance, HourlyCost: 0.096}))
		s := nabCPU(t, id)
		require.NoError(t, cloud.Replay(id, provider.MetricCPU, s.Samples(), now.Add(-time.Minute)))
		require.NoError(t, cloud.TrackActivity(id, provider.ActivityLogins, provider.ActivityAPICalls))
	}
	mock.Set(now)
	return cloud
}

func TestScanNAB(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 16, 12, 0, 0, 0, time.UTC)
	cloud := nabFleet(t, now, "c6585a", "24ae8d", "825cc2", "5f5533", "ac20cd")
	require.NoError(t, cloud.RecordActivity("ac20cd", provider.ActivityLogins, now.Add(-10*time.Minute), 2))
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	var (
		mu    sync.Mutex
		calls []int
	)
	rep, err := detector.Scan(t.Context(), detector.Fleet{Inventory: cloud, Metrics: cloud}, ens, detector.ScanConfig{
		Now:         now,
		Concurrency: 2,
		Progress: func(done, total int) {
			mu.Lock()
			defer mu.Unlock()
			assert.Equal(t, 5, total)
			calls = append(calls, done)
		},
	})
	require.NoError(t, err)
	require.Empty(t, rep.Errors)
	assert.Equal(t, []int{1, 2, 3, 4, 5}, calls)
	assert.Equal(t, 5, rep.Resources)
	got := map[string]detector.Verdict{}
	for _, v := range rep.Verdicts {
		got[v.ResourceID] = v
	}
	for _, id := range []string{"c6585a", "24ae8d"} {
		v := got[id]
		assert.Equal(t, detector.Idle, v.State, "%s: %v", id, v.Explain())
		assert.Greater(t, v.Confidence, 0.8, id)
		assert.Equal(t, detector.ActionStop, v.Action, id)
		assert.InDelta(t, 0.096*detector.HoursPerMonth, v.MonthlySavings, 1e-9)
	}
	for _, id := range []string{"825cc2", "5f5533", "ac20cd"} {
		assert.Equal(t, detector.NotIdle, got[id].State, "%s: %v", id, got[id].Explain())
	}
	assert.Len(t, rep.Idle(), 2)
}

func TestScanCollectsPerResourceErrors(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 16, 12, 0, 0, 0, time.UTC)
	cloud := nabFleet(t, now, "c6585a", "24ae8d", "825cc2")
	boom := errors.New("cloudwatch: 500")
	_, err := cloud.InjectFault(memory.Fault{Op: memory.OpQueryMetric, ResourceID: "24ae8d", Err: boom})
	require.NoError(t, err)
	_, err = cloud.InjectFault(memory.Fault{Op: memory.OpActivity, ResourceID: "825cc2", Throttle: true})
	require.NoError(t, err)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	rep, err := detector.Scan(t.Context(), detector.Fleet{Inventory: cloud, Metrics: cloud}, ens, detector.ScanConfig{Now: now, Metrics: []provider.Metric{provider.MetricCPU}})
	require.NoError(t, err)
	require.Len(t, rep.Errors, 2)
	assert.Equal(t, "24ae8d", rep.Errors[0].ResourceID)
	require.ErrorIs(t, rep.Errors[0], boom)
	assert.Equal(t, "825cc2", rep.Errors[1].ResourceID)
	require.ErrorIs(t, rep.Err(), provider.ErrThrottled)
	require.Len(t, rep.Verdicts, 3)
	// The failing metric makes 24ae8d unknown, never idle; the others are
	// still judged.
	assert.Equal(t, detector.Unknown, rep.Verdicts[0].State, rep.Verdicts[0].Explain())
	assert.Equal(t, detector.NotIdle, rep.Verdicts[1].State)
	assert.Equal(t, detector.Idle, rep.Verdicts[2].State)
}

func TestScanDetectorErrorAndCancel(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 16, 12, 0, 0, 0, time.UTC)
	cloud := nabFleet(t, now, "c6585a", "24ae8d")
	bad := errors.New("bad detector")
	d := detector.Func(func(_ context.Context, in detector.Input) (detector.Verdict, error) {
		if in.Resource.ID == "c6585a" {
			return detector.Verdict{}, bad
		}
		return detector.Verdict{ResourceID: in.Resource.ID, State: detector.NotIdle}, nil
	})
	var span sync.Map // resource → the span of its series
	inner := d
	d = detector.Func(func(ctx context.Context, in detector.Input) (detector.Verdict, error) {
		for _, s := range in.Series {
			span.Store(in.Resource.ID, s.End().Sub(s.Start))
		}
		return inner(ctx, in)
	})
	rep, err := detector.Scan(t.Context(), detector.Fleet{Inventory: cloud, Metrics: cloud}, d, detector.ScanConfig{Now: now})
	require.NoError(t, err)
	got, ok := span.Load("24ae8d")
	require.True(t, ok)
	assert.Equal(t, 24*time.Hour, got, "a detector that states no needs is given a day")
	require.Len(t, rep.Errors, 1)
	require.ErrorIs(t, rep.Errors[0], bad)
	var re *detector.ResourceError
	require.ErrorAs(t, rep.Err(), &re)
	assert.Equal(t, "detect", re.Op)
	require.Len(t, rep.Verdicts, 1)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = detector.Scan(ctx, detector.Fleet{Inventory: cloud, Metrics: cloud}, d, detector.ScanConfig{Now: now})
	require.ErrorIs(t, err, context.Canceled)

	_, err = detector.Scan(t.Context(), detector.Fleet{Inventory: cloud, Metrics: cloud}, d, detector.ScanConfig{})
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "scan.now", ie.Field)
	_, err = detector.Scan(t.Context(), detector.Fleet{Inventory: cloud}, d, detector.ScanConfig{Now: now})
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "fleet.metrics", ie.Field)
}

// TestScanConfigValidate pins the scan configuration's checks: each names
// its field, a history of exactly one step is allowed and a nanosecond
// less is not.
func TestScanConfigValidate(t *testing.T) {
	t.Parallel()
	now := t0
	require.NoError(t, detector.ScanConfig{Now: now, Step: time.Minute, History: time.Minute}.Validate(), "a history of one step")
	require.NoError(t, detector.ScanConfig{Now: now, Step: time.Minute}.Validate(), "the default history")
	for _, tt := range []struct {
		give  detector.ScanConfig
		field string
	}{
		{detector.ScanConfig{}, "scan.now"},
		{detector.ScanConfig{Now: now, Filter: provider.Filter{Kinds: []provider.Kind{"vm"}}}, "scan.filter.kind"},
		{detector.ScanConfig{Now: now, Step: -time.Minute}, "scan.step"},
		{detector.ScanConfig{Now: now, History: -time.Hour}, "scan.history"},
		{detector.ScanConfig{Now: now, Step: time.Minute, History: time.Minute - 1}, "scan.history"},
		{detector.ScanConfig{Now: now, ActivityWindow: -time.Hour}, "scan.activity_window"},
		{detector.ScanConfig{Now: now, Metrics: []provider.Metric{provider.MetricCPU, "vcpu"}}, "scan.metrics[1]"},
		{detector.ScanConfig{Now: now, Statistic: "median"}, "scan.statistic"},
		{detector.ScanConfig{Now: now, Concurrency: -1}, "scan.concurrency"},
	} {
		var ie *provider.InvalidError
		require.ErrorAs(t, tt.give.Validate(), &ie, tt.field)
		assert.Equal(t, tt.field, ie.Field)
	}
}

// perRead hides a source's batch reads: Scan reads each query on its own.
type perRead struct{ provider.MetricsSource }

// countingBatcher counts the batch calls of a MetricsBatcher source.
type countingBatcher struct {
	*synthfleet.Fleet
	calls atomic.Int32
}

func (c *countingBatcher) QueryMetrics(ctx context.Context, reads []provider.MetricRead) error {
	c.calls.Add(1)
	return c.Fleet.QueryMetrics(ctx, reads)
}

// TestScanBatchedEqualsPerRead scans 300 generated instances (the NAB EC2
// CPU traces' shapes, testdata/nab, Numenta Inc., MIT licence) through a
// batching source, ScanChunk resources per call, and through the same
// source read one query at a time: the reports are the same.
func TestScanBatchedEqualsPerRead(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	now := start.Add(40 * 24 * time.Hour)
	clk := clock.NewMock()
	clk.Set(now)
	var shapes []provider.Series
	for _, id := range []string{"24ae8d", "5f5533", "825cc2", "c6585a"} {
		shapes = append(shapes, nabCPU(t, id))
	}
	f, err := synthfleet.New(synthfleet.Config{Size: 300, Seed: 7, Shapes: shapes, Start: start}, synthfleet.WithClock(clk))
	require.NoError(t, err)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	cfg := detector.ScanConfig{Now: now}
	batched := &countingBatcher{Fleet: f}
	got, err := detector.Scan(t.Context(), detector.Fleet{Inventory: f, Metrics: batched}, ens, cfg)
	require.NoError(t, err)
	want, err := detector.Scan(t.Context(), detector.Fleet{Inventory: f, Metrics: perRead{f}}, ens, cfg)
	require.NoError(t, err)
	assert.Equal(t, int32(3), batched.calls.Load(), "300 resources in chunks of %d", detector.ScanChunk)
	require.Len(t, got.Verdicts, 300)
	idle := 0
	for i := range want.Verdicts {
		require.Equal(t, comparable(want.Verdicts[i]), comparable(got.Verdicts[i]), want.Verdicts[i].ResourceID)
		if got.Verdicts[i].State == detector.Idle {
			idle++
		}
	}
	assert.Positive(t, idle, "some are idle")
	assert.Len(t, got.Errors, len(want.Errors))
}

// TestScanVerdictMustNameItsResource: a verdict is about the resource it
// was made for. A detector that labels it with another ID (here a host's
// detector that swaps two resources, as a cache keyed wrongly would) or
// none gets an error for that resource, not a verdict: Scan's verdicts
// are keyed by their ID (the reaper acts on them by it), so the saturated
// machine was reported idle on the idle one's data.
func TestScanVerdictMustNameItsResource(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 16, 12, 0, 0, 0, time.UTC)
	cloud := nabFleet(t, now, "c6585a", "825cc2", "24ae8d")
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	other := map[string]string{"c6585a": "825cc2", "825cc2": "c6585a", "24ae8d": ""}
	swapped := detector.Func(func(ctx context.Context, in detector.Input) (detector.Verdict, error) {
		v, err := ens.Detect(ctx, in)
		v.ResourceID = other[in.Resource.ID]
		return v, err
	})
	rep, err := detector.Scan(t.Context(), detector.Fleet{Inventory: cloud, Metrics: cloud}, swapped, detector.ScanConfig{Now: now})
	require.NoError(t, err)
	for _, v := range rep.Verdicts {
		assert.Failf(t, "a verdict under another resource's ID", "%s: %s %s", v.ResourceID, v.State, v.Action)
	}
	require.Len(t, rep.Errors, 3)
	for _, e := range rep.Errors {
		assert.Equal(t, "detect", e.Op)
		var ie *provider.InvalidError
		require.ErrorAs(t, e, &ie)
		assert.Equal(t, "verdict.resource_id", ie.Field)
		assert.Equal(t, other[e.ResourceID], ie.Value)
	}
}

// TestScanEmptyFleet: a fleet with no resources is scanned at once, read
// per resource or in batches, with no verdict, no error and no batch call.
func TestScanEmptyFleet(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 16, 12, 0, 0, 0, time.UTC)
	cloud := nabFleet(t, now)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	for name, metrics := range map[string]provider.MetricsSource{"per read": perRead{cloud}, "batched": cloud} {
		rep, err := detector.Scan(t.Context(), detector.Fleet{Inventory: cloud, Metrics: metrics}, ens, detector.ScanConfig{Now: now})
		require.NoError(t, err, name)
		assert.Empty(t, rep.Verdicts, name)
		assert.Empty(t, rep.Errors, name)
	}
}

// gridSource answers like CloudWatch through the AWS driver for a
// detached volume that has no datapoint: zeros in every step that ended
// PublishDelay (5m) before now, but only for a query whose Start is on
// its 5-minute grid (a Start between its periods cuts through them: all
// gaps). It records the queries.
type gridSource struct {
	now     time.Time
	mu      sync.Mutex
	queries []provider.Query
}

func (g *gridSource) QueryMetric(_ context.Context, q provider.Query) (provider.Series, error) {
	g.mu.Lock()
	g.queries = append(g.queries, q)
	g.mu.Unlock()
	s := provider.Series{ResourceID: q.ResourceID, Metric: q.Metric, Start: q.Start, Step: q.Step, Values: make([]float64, q.Steps())}
	for i := range s.Values {
		s.Values[i] = provider.Gap
		if q.Start.Truncate(5*time.Minute).Equal(q.Start) && !s.TimeAt(i+1).After(g.now.Add(-5*time.Minute)) {
			s.Values[i] = 0
		}
	}
	return s, nil
}

// TestScanQueriesOnTheStep: Scan at a Now that is not on the step (a
// reaper's Run reads the real clock: 12:01:45) queries metrics from
// Now − History rounded down to the step, to Now, so that a source whose
// data is on a grid answers on it: a detached volume read through the
// AWS driver (which reads its steps without a datapoint as 0 only for a
// Start on CloudWatch's period) was all gaps, its verdict Unknown ("no
// data"), and the volume never deleted.
func TestScanQueriesOnTheStep(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 16, 12, 1, 45, 0, time.UTC)
	cloud, err := memory.New(memory.Config{})
	require.NoError(t, err)
	require.NoError(t, cloud.Add(provider.Resource{ID: "vol-1", Kind: provider.KindVolume, State: provider.StateStopped, LaunchTime: now.Add(-60 * 24 * time.Hour), HourlyCost: 0.05}))
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	src := &gridSource{now: now}
	rep, err := detector.Scan(t.Context(), detector.Fleet{Inventory: cloud, Metrics: src}, ens, detector.ScanConfig{Now: now})
	require.NoError(t, err)
	require.Len(t, rep.Verdicts, 1)
	assert.Equal(t, detector.Idle, rep.Verdicts[0].State, "%v", rep.Verdicts[0].Explain())
	history := ens.NeedsOf(provider.KindVolume).History
	require.NotEmpty(t, src.queries)
	for _, q := range src.queries {
		assert.Equal(t, now.Add(-history).Truncate(5*time.Minute), q.Start, "%s: on the step, not after Now − History", q.Metric)
		assert.Equal(t, now, q.End, q.Metric)
		assert.Equal(t, 5*time.Minute, q.Step, q.Metric)
	}

	// On the step, Now is unchanged.
	now = now.Truncate(time.Hour)
	src = &gridSource{now: now}
	_, err = detector.Scan(t.Context(), detector.Fleet{Inventory: cloud, Metrics: src}, ens, detector.ScanConfig{Now: now})
	require.NoError(t, err)
	for _, q := range src.queries {
		assert.Equal(t, now.Add(-history), q.Start, q.Metric)
	}
}

// TestScanMetricGivenTwice: a ScanConfig naming a metric twice read it
// twice for every resource, whose input then held two series of it, which
// Detect refuses: the scan returned no verdict at all and one error per
// resource ("input.series[1].metric appears twice"), not the error of the
// configuration. It is now refused before anything is read, naming the
// entry.
func TestScanMetricGivenTwice(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	cloud := nabFleet(t, now, "c6585a")
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	cfg := detector.ScanConfig{Now: now, Metrics: []provider.Metric{provider.MetricCPU, provider.MetricMemory, provider.MetricCPU}}
	var ie *provider.InvalidError
	require.ErrorAs(t, cfg.Validate(), &ie)
	assert.Equal(t, "scan.metrics[2]", ie.Field)
	rep, err := detector.Scan(t.Context(), detector.Fleet{Inventory: cloud, Metrics: cloud}, ens, cfg)
	require.ErrorAs(t, err, &ie, "%d verdicts, errors: %v", len(rep.Verdicts), rep.Err())
	assert.Equal(t, "scan.metrics[2]", ie.Field)
}

// twiceListed lists its resources as they are, copies and all, as a cloud
// API paging while an instance restarts lists a stale copy with the
// current one.
type twiceListed struct {
	provider.Inventory
	listed []provider.Resource
}

func (l twiceListed) List(context.Context, provider.Filter) ([]provider.Resource, error) {
	return l.listed, nil
}

// TestScanDoesNotJudgeAResourceListedTwice: a resource the inventory lists
// twice was judged twice, each copy on its own fields, and the report held
// two verdicts under its ID: here the current copy, launched an hour ago,
// unknown (its grace period), and a stale one launched long ago, idle
// and stopped. A host acting on the report acted on whichever it read.
// Such an ID is now not judged, one error names it, and the other
// resources are judged as before (the reaper and coord/shardsweep refuse
// such IDs too).
func TestScanDoesNotJudgeAResourceListedTwice(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 16, 12, 0, 0, 0, time.UTC)
	cloud := nabFleet(t, now, "c6585a", "24ae8d")
	current, err := cloud.Get(t.Context(), "c6585a")
	require.NoError(t, err)
	stale := current
	current.LaunchTime = now.Add(-time.Hour)
	stale.LaunchTime = now.Add(-60 * 24 * time.Hour)
	other, err := cloud.Get(t.Context(), "24ae8d")
	require.NoError(t, err)
	inv := twiceListed{Inventory: cloud, listed: []provider.Resource{stale, other, current}}
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	rep, err := detector.Scan(t.Context(), detector.Fleet{Inventory: inv, Metrics: cloud}, ens, detector.ScanConfig{Now: now})
	require.NoError(t, err)
	assert.Equal(t, 3, rep.Resources)
	ids := make([]string, 0, len(rep.Verdicts))
	for _, v := range rep.Verdicts {
		ids = append(ids, v.ResourceID)
	}
	assert.Equal(t, []string{"24ae8d"}, ids, "no verdict for an ID listed twice")
	require.Len(t, rep.Errors, 1, "%v", rep.Err())
	assert.Equal(t, "c6585a", rep.Errors[0].ResourceID)
	assert.Equal(t, "list", rep.Errors[0].Op)
	var ie *provider.InvalidError
	require.ErrorAs(t, rep.Errors[0], &ie)
	assert.Equal(t, "resource.id", ie.Field)
}

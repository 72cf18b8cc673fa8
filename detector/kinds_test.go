package detector_test

import (
	"context"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// TestDefaultKinds pins the per-kind defaults: a function is judged on
// its invocations and a load balancer on its requests, each required, with
// the threshold IdleEventRate (half an event a day) for the utilization and
// the learned week, and their zeros trusted.
func TestDefaultKinds(t *testing.T) {
	t.Parallel()
	assert.InDelta(t, 0.5/86400, detector.IdleEventRate, 0)
	kinds := detector.DefaultKinds()
	require.Len(t, kinds, 3)
	for kind, m := range map[provider.Kind]provider.Metric{provider.KindFunction: provider.MetricInvocations, provider.KindLoadBalancer: provider.MetricRequests,
		provider.KindVolume: provider.MetricDiskWrite} {
		kc, ok := kinds[kind]
		require.True(t, ok, kind)
		th := map[provider.Metric]float64{m: detector.IdleEventRate}
		required := []provider.Metric{m}
		switch kind {
		case provider.KindLoadBalancer:
			th[provider.MetricConnections] = detector.IdleEventRate // open connections count, not required
		case provider.KindVolume:
			th[provider.MetricDiskRead] = detector.IdleEventRate // bytes read count too, and are required
			required = append(required, provider.MetricDiskRead)
		}
		assert.Equal(t, th, kc.Utilization.Thresholds, kind)
		assert.Equal(t, required, kc.Utilization.Required, kind)
		assert.True(t, kc.Utilization.Quality.TrustZeros, kind)
		assert.Equal(t, m, kc.Schedule.Metric, kind)
		assert.InDelta(t, detector.IdleEventRate, kc.Schedule.Threshold, 0, kind)
		assert.True(t, kc.Schedule.Quality.TrustZeros, kind)
	}
	// Each call returns its own maps.
	kinds[provider.KindFunction].Utilization.Thresholds[provider.MetricInvocations] = 9
	assert.InDelta(t, detector.IdleEventRate, detector.DefaultKinds()[provider.KindFunction].Utilization.Thresholds[provider.MetricInvocations], 0)

	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	assert.Equal(t, detector.DefaultKinds(), ens.Config().Kinds, "nil means the defaults")
	ens, err = detector.NewEnsemble(detector.EnsembleConfig{Kinds: map[provider.Kind]detector.KindConfig{}})
	require.NoError(t, err)
	assert.Empty(t, ens.Config().Kinds, "an empty map is no per-kind signal")
	assert.Equal(t, ens.NeedsOf(provider.KindInstance), ens.NeedsOf(provider.KindFunction))
}

// eventAt returns s (a series of no events) with one event in the step
// that holds t: a rate of one per step.
func eventAt(s provider.Series, t time.Time) provider.Series {
	c := s.Clone()
	i, ok := c.Index(t)
	if ok {
		c.Values[i] = 1 / c.Step.Seconds()
	}
	return c
}

// connected returns s's grid as one connection open in every step.
func connected(s provider.Series) provider.Series {
	c := noEvents(s, provider.MetricConnections)
	for i := range c.Values {
		c.Values[i] = 1
	}
	return c
}

// TestFunctionJudgedOnInvocations: with the default kinds a function is
// idle only when nothing invoked it, and is terminated only when the
// activity source shows no invocation in 28 days; what it was judged on
// before (CPU, which a function does not have) no longer counts.
func TestFunctionJudgedOnInvocations(t *testing.T) {
	t.Parallel()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	day := 24 * time.Hour
	long := 28 * day
	none := noEvents(days(28, quiet), provider.MetricInvocations)
	unused := []provider.ActivityCount{{Kind: provider.ActivityAPICalls}}
	used := func(ago time.Duration) []provider.ActivityCount {
		return []provider.ActivityCount{{Kind: provider.ActivityAPICalls, Count: 1, Last: tEnd.Add(-ago)}}
	}
	detect := func(kind provider.Kind, act []provider.ActivityCount, s ...provider.Series) detector.Verdict {
		r := res("r", none.Start)
		r.Kind = kind
		v, err := ens.Detect(t.Context(), detector.Input{Now: tEnd, Resource: r, Series: s, ActivityFrom: tEnd.Add(-long), Activity: act})
		require.NoError(t, err)
		return v
	}
	tests := []struct {
		name   string
		give   detector.Verdict
		state  detector.State
		action detector.Action
		code   detector.ReasonCode // a reason the verdict must give
	}{
		{"no invocation in 28 days", detect(provider.KindFunction, unused, none), detector.Idle, detector.ActionTerminate, detector.ReasonNoUse},
		{"one invocation 20 days ago", detect(provider.KindFunction, used(20*day), eventAt(none, tEnd.Add(-20*day))),
			detector.Idle, detector.ActionNone, detector.ReasonUsed},
		{"one invocation 3 hours ago", detect(provider.KindFunction, used(3*time.Hour), eventAt(none, tEnd.Add(-3*time.Hour))),
			detector.NotIdle, detector.ActionNone, detector.ReasonAbove},
		{"one invocation 30 minutes ago", detect(provider.KindFunction, used(30*time.Minute), eventAt(none, tEnd.Add(-30*time.Minute))),
			detector.NotIdle, detector.ActionNone, detector.ReasonAbove},
		{"invocations read as gaps", detect(provider.KindFunction, unused), detector.Unknown, detector.ActionNone, detector.ReasonMissing},
		{"CPU but no invocations", detect(provider.KindFunction, unused, days(28, quiet)), detector.Unknown, detector.ActionNone, detector.ReasonMissing},
		{"no request in 28 days", detect(provider.KindLoadBalancer, unused, noEvents(none, provider.MetricRequests)),
			detector.Idle, detector.ActionTerminate, detector.ReasonNoUse},
		{"a request 3 hours ago", detect(provider.KindLoadBalancer, used(3*time.Hour), eventAt(noEvents(none, provider.MetricRequests), tEnd.Add(-3*time.Hour))),
			detector.NotIdle, detector.ActionNone, detector.ReasonAbove},
		{"an instance without CPU", detect(provider.KindInstance, unused, none), detector.Unknown, detector.ActionNone, detector.ReasonMissing},
		// A WebSocket opened 40 days ago: no request in 28 days, one
		// connection open all along.
		{"a long-lived connection", detect(provider.KindLoadBalancer, unused, noEvents(none, provider.MetricRequests), connected(none)),
			detector.NotIdle, detector.ActionNone, detector.ReasonAbove},
		{"no request, no connection", detect(provider.KindLoadBalancer, unused, noEvents(none, provider.MetricRequests), noEvents(none, provider.MetricConnections)),
			detector.Idle, detector.ActionTerminate, detector.ReasonNoUse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.state, tt.give.State, tt.give.Explain())
			assert.Equal(t, tt.action, tt.give.Action, tt.give.Explain())
			reason(t, tt.give, tt.code)
		})
	}
	// The reasons name the metric judged.
	v := detect(provider.KindFunction, used(3*time.Hour), eventAt(none, tEnd.Add(-3*time.Hour)))
	above := reason(t, v, detector.ReasonAbove)
	assert.Equal(t, provider.MetricInvocations, above.Metric)
	assert.InDelta(t, 1.0/86400, above.Value, 1e-15, "one invocation in the day's mean")
	assert.InDelta(t, detector.IdleEventRate, above.Limit, 0)
	assert.Equal(t, provider.MetricCPU, reason(t, detect(provider.KindInstance, unused, none), detector.ReasonMissing).Metric)

	// A non-nil empty Kinds judges a function on CPU, as every kind.
	cpuOnly, err := detector.NewEnsemble(detector.EnsembleConfig{Kinds: map[provider.Kind]detector.KindConfig{}})
	require.NoError(t, err)
	r := res("r", none.Start)
	r.Kind = provider.KindFunction
	v, err = cpuOnly.Detect(t.Context(), detector.Input{Now: tEnd, Resource: r, Series: []provider.Series{days(28, quiet)}, ActivityFrom: tEnd.Add(-long), Activity: unused})
	require.NoError(t, err)
	assert.Equal(t, detector.ActionTerminate, v.Action, v.Explain())
}

// TestFunctionWeekReadsInvocations: the learned week of a function is its
// invocations': a function invoked in office hours is busy in those
// hours, and no such function is put on an off-hours schedule, idle or
// not: a function, like every kind the ensemble terminates rather than
// stops, cannot be stopped at night. A machine with the same week is.
func TestFunctionWeekReadsInvocations(t *testing.T) {
	t.Parallel()
	office := noEvents(days(28, quiet), provider.MetricInvocations)
	for i := range office.Values {
		if ts := office.TimeAt(i); ts.Weekday() != time.Saturday && ts.Weekday() != time.Sunday && ts.Hour() >= 9 && ts.Hour() < 17 {
			office.Values[i] = 1 / office.Step.Seconds()
		}
	}
	// The same signals for machines as for functions.
	kinds := detector.DefaultKinds()
	kinds[provider.KindInstance] = kinds[provider.KindFunction]
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{Kinds: kinds})
	require.NoError(t, err)
	detect := func(kind provider.Kind, now time.Time) detector.Verdict {
		r := res("r", office.Start)
		r.Kind = kind
		v, err := ens.Detect(t.Context(), detector.Input{Now: now, Resource: r, Series: []provider.Series{office.Window(office.Start, now)},
			ActivityFrom: now.Add(-28 * 24 * time.Hour),
			Activity:     []provider.ActivityCount{{Kind: provider.ActivityAPICalls, Count: 20 * 96, Last: tEnd.Add(-67 * time.Hour)}}})
		require.NoError(t, err)
		return v
	}
	sunday, monday := tEnd.Add(-20*time.Hour), tEnd // Sunday 16:00, Monday 12:00
	for _, now := range []time.Time{sunday, monday} {
		v := detect(provider.KindInstance, now)
		assert.Equal(t, detector.ActionSchedule, v.Action, "a machine: %v", v.Explain())
		require.NotNil(t, v.Schedule)
		v = detect(provider.KindFunction, now)
		assert.Equal(t, detector.ActionNone, v.Action, "a function: %v", v.Explain())
		assert.Nil(t, v.Schedule)
		if now.Equal(sunday) {
			assert.Equal(t, detector.Idle, v.State, v.Explain())
			week := reason(t, v, detector.ReasonWeek)
			assert.Equal(t, 5*8, week.Hours.Len(), "the weekday office hours are busy: %v", v.Explain())
		} else {
			assert.Equal(t, detector.NotIdle, v.State, v.Explain())
		}
	}
}

// TestKindsValidate: a wrong kind or a wrong setting of a kind's signals
// is refused, naming it.
func TestKindsValidate(t *testing.T) {
	t.Parallel()
	kinds := func(k provider.Kind, kc detector.KindConfig) detector.EnsembleConfig {
		return detector.EnsembleConfig{Kinds: map[provider.Kind]detector.KindConfig{k: kc}}
	}
	tests := []struct {
		name  string
		give  detector.EnsembleConfig
		field string
	}{
		{"unknown kind", kinds("vm", detector.KindConfig{}), "ensemble.kinds.kind"},
		{"NaN threshold", kinds(provider.KindFunction, detector.KindConfig{Utilization: detector.UtilizationConfig{
			Thresholds: map[provider.Metric]float64{provider.MetricInvocations: math.NaN()}}}), "ensemble.kinds.function.utilization.thresholds.invocations"},
		{"required without threshold", kinds(provider.KindFunction, detector.KindConfig{Utilization: detector.UtilizationConfig{
			Required: []provider.Metric{provider.MetricInvocations}}}), "ensemble.kinds.function.utilization.required[0]"},
		{"negative schedule history", kinds(provider.KindLoadBalancer, detector.KindConfig{Schedule: detector.ScheduleConfig{History: -time.Hour}}),
			"ensemble.kinds.load_balancer.schedule.history"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Validate says it, and NewEnsemble, which validates.
			for _, err := range []error{tt.give.Validate(), func() error { _, err := detector.NewEnsemble(tt.give); return err }()} {
				require.ErrorIs(t, err, provider.ErrInvalid)
				var ie *provider.InvalidError
				require.ErrorAs(t, err, &ie)
				assert.Equal(t, tt.field, ie.Field, err.Error())
			}
		})
	}
}

// TestNeedsOfKinds: each kind reads its own signals' metrics; Needs is
// every kind's.
func TestNeedsOfKinds(t *testing.T) {
	t.Parallel()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	inst, fn, lb, all := ens.NeedsOf(provider.KindInstance), ens.NeedsOf(provider.KindFunction), ens.NeedsOf(provider.KindLoadBalancer), ens.Needs()
	assert.Len(t, inst.Metrics, 8)
	assert.NotContains(t, inst.Metrics, provider.MetricInvocations)
	assert.NotContains(t, inst.Metrics, provider.MetricRequests)
	assert.Equal(t, provider.MetricInvocations, fn.Metrics[0], "the required metric first")
	assert.NotContains(t, fn.Metrics, provider.MetricRequests)
	assert.Equal(t, []provider.Metric{provider.MetricConnections, provider.MetricRequests}, lb.Metrics[:2], "the utilization's metrics first, by name")
	// The bounded metrics are read for every kind: a peak forbids a
	// terminate whatever judged the idleness.
	for m := range ens.Config().Evidence.PeakBounds {
		assert.Contains(t, fn.Metrics, m)
	}
	assert.Equal(t, append(slices.Clone(inst.Metrics), provider.MetricInvocations, provider.MetricConnections, provider.MetricRequests), all.Metrics)
	for _, n := range []detector.Needs{inst, fn, lb} {
		assert.Equal(t, all.History, n.History)
		assert.Equal(t, all.ActivityWindow, n.ActivityWindow)
	}
}

// recordingFleet is a gridFleet that records the metrics asked of each
// resource, by one query at a time or in batches.
type recordingFleet struct {
	*gridFleet
	mu    sync.Mutex
	asked map[string][]provider.Metric
}

func (f *recordingFleet) QueryMetric(ctx context.Context, q provider.Query) (provider.Series, error) {
	f.mu.Lock()
	f.asked[q.ResourceID] = append(f.asked[q.ResourceID], q.Metric)
	f.mu.Unlock()
	return f.gridFleet.QueryMetric(ctx, q)
}

// batched is a recordingFleet that is a provider.MetricsBatcher.
type batched struct{ *recordingFleet }

func (f batched) QueryMetrics(ctx context.Context, reads []provider.MetricRead) error {
	for i := range reads {
		reads[i].Series, reads[i].Err = f.QueryMetric(ctx, reads[i].Query)
	}
	return nil
}

// kindFleet is 30 days of an idle instance, a function invoked until ten
// days ago, a function never invoked and a load balancer with a request
// every day at noon, all on a 5-minute grid, with activity counts of none
// for the unused function.
func kindFleet(t testing.TB, start time.Time) *gridFleet {
	t.Helper()
	n := 30 * 288
	f := &gridFleet{series: map[string]map[provider.Metric]provider.Series{}, quiet: map[string]bool{}}
	add := func(id string, kind provider.Kind, m provider.Metric, v func(k int, ts time.Time) float64) {
		s := synth(id, start, 5*time.Minute, n, func(k int) float64 { return v(k, start.Add(time.Duration(k)*5*time.Minute)) })
		s.Metric = m
		r := res(id, start)
		r.Kind = kind
		f.resources = append(f.resources, r)
		f.series[id] = map[provider.Metric]provider.Series{m: s}
	}
	add("i-idle", provider.KindInstance, provider.MetricCPU, func(k int, _ time.Time) float64 { return 0.02 + 0.005*noise(k) })
	add("fn-old", provider.KindFunction, provider.MetricInvocations, func(k int, ts time.Time) float64 {
		if k < 20*288 && ts.Hour() == 9 && ts.Minute() == 0 {
			return 1.0 / 300
		}
		return 0
	})
	add("fn-unused", provider.KindFunction, provider.MetricInvocations, func(int, time.Time) float64 { return 0 })
	add("lb-noon", provider.KindLoadBalancer, provider.MetricRequests, func(_ int, ts time.Time) float64 {
		if ts.Hour() == 12 && ts.Minute() == 0 {
			return 1.0 / 300
		}
		return 0
	})
	f.quiet["fn-unused"] = true
	return f
}

// TestScanReadsEachKindsMetrics: Scan asks each resource for its kind's
// metrics only, one query at a time or in a batch, with the same
// verdicts; ScanConfig.Metrics, when set, is asked of every resource.
func TestScanReadsEachKindsMetrics(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	now := start.Add(30 * 24 * time.Hour)
	var reports []detector.Report
	for _, batch := range []bool{false, true} {
		rf := &recordingFleet{gridFleet: kindFleet(t, start), asked: map[string][]provider.Metric{}}
		var ms provider.MetricsSource = rf
		if batch {
			ms = batched{rf}
		}
		rep, err := detector.Scan(t.Context(), detector.Fleet{Inventory: rf.gridFleet, Metrics: ms, Activity: rf.gridFleet}, ens, detector.ScanConfig{Now: now})
		require.NoError(t, err)
		require.Empty(t, rep.Errors)
		for _, r := range rf.resources {
			assert.Equal(t, ens.NeedsOf(r.Kind).Metrics, rf.asked[r.ID], "batch %v: %s", batch, r.ID)
		}
		reports = append(reports, rep)
	}
	require.Equal(t, reports[0], reports[1], "a batch reads what single queries read")
	byID := map[string]detector.Verdict{}
	for _, v := range reports[0].Verdicts {
		byID[v.ResourceID] = v
	}
	assert.Equal(t, detector.Idle, byID["i-idle"].State, byID["i-idle"].Explain())
	assert.Equal(t, detector.Idle, byID["fn-old"].State, byID["fn-old"].Explain())
	assert.Equal(t, detector.ActionNone, byID["fn-old"].Action, "no activity data: no terminate")
	assert.Equal(t, detector.Idle, byID["fn-unused"].State, byID["fn-unused"].Explain())
	assert.Equal(t, detector.NotIdle, byID["lb-noon"].State, byID["lb-noon"].Explain())

	rf := &recordingFleet{gridFleet: kindFleet(t, start), asked: map[string][]provider.Metric{}}
	_, err = detector.Scan(t.Context(), detector.Fleet{Inventory: rf.gridFleet, Metrics: rf}, ens, detector.ScanConfig{Now: now, Metrics: []provider.Metric{provider.MetricCPU}})
	require.NoError(t, err)
	for _, r := range rf.resources {
		assert.Equal(t, []provider.Metric{provider.MetricCPU}, rf.asked[r.ID], r.ID)
	}
}

// TestTrackerKindsEqualFullRead: a Tracker keeps each kind's state with
// its kind's metrics and levels, and its verdicts equal a full read's
// hour after hour; a state made for another kind is read in full again.
func TestTrackerKindsEqualFullRead(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	f := kindFleet(t, start)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	store := &detector.MemoryStateStore{}
	tr, err := detector.NewTracker(ens, detector.TrackerConfig{}, store)
	require.NoError(t, err)
	incremental := 0
	for h := range 6 {
		now := start.Add(29*24*time.Hour + time.Duration(h)*time.Hour)
		for _, r := range f.resources {
			rep, err := detector.Scan(t.Context(), detector.Fleet{Inventory: &gridFleet{resources: []provider.Resource{r}}, Metrics: f, Activity: f}, ens, detector.ScanConfig{Now: now})
			require.NoError(t, err)
			require.Empty(t, rep.Errors)
			got, read, err := tr.Detect(t.Context(), f, f, r, now)
			require.NoError(t, err)
			require.Equal(t, comparable(rep.Verdicts[0]), comparable(got), "%s at %s (full read %v: %s)", r.ID, now, read.Full, read.Why)
			assert.Equal(t, len(ens.NeedsOf(r.Kind).Metrics), read.Queries, "%s reads its kind's metrics", r.ID)
			if !read.Full {
				incremental++
			}
		}
	}
	assert.Equal(t, 5*len(f.resources), incremental, "every hour after the first from the state")

	// The unused function's state, read as a load balancer's (another
	// kind with the same ID), is not used.
	fn := f.resources[slices.IndexFunc(f.resources, func(r provider.Resource) bool { return r.ID == "fn-unused" })]
	fn.Kind = provider.KindLoadBalancer
	_, read, err := tr.Detect(t.Context(), f, f, fn, start.Add(29*24*time.Hour+6*time.Hour))
	require.NoError(t, err)
	assert.True(t, read.Full)
	assert.Equal(t, detector.FullSettings, read.Why)
}

// TestTrackerRefusesAKindsPercentile: a kind's utilization statistic a
// state cannot give is refused by NewTracker, naming the kind.
func TestTrackerRefusesAKindsPercentile(t *testing.T) {
	t.Parallel()
	kc := detector.DefaultKinds()
	fn := kc[provider.KindFunction]
	fn.Utilization.Statistics = map[provider.Metric]provider.Statistic{provider.MetricInvocations: "p95"}
	kc[provider.KindFunction] = fn
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{Kinds: kc})
	require.NoError(t, err)
	_, err = detector.NewTracker(ens, detector.TrackerConfig{}, &detector.MemoryStateStore{})
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "ensemble.kinds.function.utilization.statistics.invocations", ie.Field)
}

// TestStopNeedsTheQuietPeriodCovered: a stop needs the quiet period's
// activity known for every kind a source counts: a count that began ten
// minutes ago cannot say nobody logged in twenty minutes ago, and the
// reaper's re-read refuses such a count (ErrPartialActivity), so the
// detector does not recommend what the re-read would block. A source
// without that kind, or a kind whose last event is known, is judged as
// before.
func TestStopNeedsTheQuietPeriodCovered(t *testing.T) {
	t.Parallel()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	s := days(28, quiet)
	detect := func(act ...provider.ActivityCount) detector.Verdict {
		r := res("r", s.Start)
		v, err := ens.Detect(t.Context(), detector.Input{Now: tEnd, Resource: r, Series: []provider.Series{s}, Activity: act})
		require.NoError(t, err)
		return v
	}
	tests := []struct {
		name string
		give []provider.ActivityCount
		want detector.Action
	}{
		{"no activity source", nil, detector.ActionStop},
		{"the quiet period covered", []provider.ActivityCount{{Kind: provider.ActivityLogins}}, detector.ActionStop},
		{"covered from 30 minutes ago", []provider.ActivityCount{{Kind: provider.ActivityLogins, Since: tEnd.Add(-30 * time.Minute)}}, detector.ActionStop},
		{"covered from 10 minutes ago", []provider.ActivityCount{{Kind: provider.ActivityLogins, Since: tEnd.Add(-10 * time.Minute)}}, detector.ActionNone},
		{"a second short of it", []provider.ActivityCount{{Kind: provider.ActivityLogins}, {Kind: provider.ActivityAPICalls, Since: tEnd.Add(-30*time.Minute + time.Second)}}, detector.ActionNone},
		{"a known last event two hours ago", []provider.ActivityCount{{Kind: provider.ActivityLogins, Count: 1, Last: tEnd.Add(-2 * time.Hour), Since: tEnd.Add(-3 * time.Hour)}}, detector.ActionStop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := detect(tt.give...)
			assert.Equal(t, detector.Idle, v.State, v.Explain())
			assert.Equal(t, tt.want, v.Action, v.Explain())
			if tt.want == detector.ActionNone {
				// The activity signal cannot say quiet, and the stop's
				// evidence says why it is not recommended.
				var signals []string
				for _, r := range v.Reasons {
					if r.Code == detector.ReasonShortHistory {
						signals = append(signals, r.Signal)
						if r.Signal == "evidence" {
							assert.Equal(t, detector.ActionStop, r.Action)
							assert.InDelta(t, float64(30*time.Minute), r.Limit, 0)
						}
					}
				}
				assert.Equal(t, []string{"activity", "evidence"}, signals, v.Explain())
			}
		})
	}
	v := detect(provider.ActivityCount{Kind: provider.ActivityLogins, Since: tEnd.Add(-10 * time.Minute)})
	assert.Contains(t, v.Explain(), "activity: only 10m0s of logins activity history (need 30m0s)")
	assert.Contains(t, v.Explain(), "evidence: only 10m0s of logins activity history: stop needs 30m0s")
	// A kind the ensemble does not count does not shorten the cover.
	logins, err := detector.NewEnsemble(detector.EnsembleConfig{Activity: detector.ActivityConfig{Kinds: []provider.ActivityKind{provider.ActivityLogins}}})
	require.NoError(t, err)
	v, err = logins.Detect(t.Context(), detector.Input{Now: tEnd, Resource: res("r", s.Start), Series: []provider.Series{s},
		Activity: []provider.ActivityCount{{Kind: provider.ActivityLogins}, {Kind: provider.ActivityAPICalls, Since: tEnd}}})
	require.NoError(t, err)
	assert.Equal(t, detector.ActionStop, v.Action, v.Explain())
}

// TestUnusedLoadBalancerWithoutConnectionData: the AWS driver reads an
// unused ALB's requests as zeros but its connections as gaps (published
// only while traffic flows). A Scan leaves a metric without any data out,
// so the connections neither judge nor bound it, and the load balancer is
// terminated on its requests and activity; one with a connection 20 days
// ago (data, then gaps) is not: its connections cannot vouch for
// idleness.
func TestUnusedLoadBalancerWithoutConnectionData(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	n := 30 * 288
	f := &gridFleet{series: map[string]map[provider.Metric]provider.Series{}, quiet: map[string]bool{}}
	for _, id := range []string{"lb-unused", "lb-connected"} {
		req := synth(id, start, 5*time.Minute, n, func(int) float64 { return 0 })
		req.Metric = provider.MetricRequests
		conn := synth(id, start, 5*time.Minute, n, func(k int) float64 {
			if id == "lb-connected" && k == 10*288 {
				return 1
			}
			return math.NaN()
		})
		conn.Metric = provider.MetricConnections
		r := res(id, start)
		r.Kind = provider.KindLoadBalancer
		f.resources = append(f.resources, r)
		f.series[id] = map[provider.Metric]provider.Series{provider.MetricRequests: req, provider.MetricConnections: conn}
		f.quiet[id] = true
	}
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	rep, err := detector.Scan(t.Context(), detector.Fleet{Inventory: f, Metrics: f, Activity: f}, ens,
		detector.ScanConfig{Now: start.Add(30 * 24 * time.Hour), ActivityWindow: 28 * 24 * time.Hour})
	require.NoError(t, err)
	require.Empty(t, rep.Errors)
	require.Len(t, rep.Verdicts, 2)
	byID := map[string]detector.Verdict{}
	for _, v := range rep.Verdicts {
		byID[v.ResourceID] = v
	}
	assert.Equal(t, detector.ActionTerminate, byID["lb-unused"].Action, byID["lb-unused"].Explain())
	assert.Equal(t, detector.ActionNone, byID["lb-connected"].Action, byID["lb-connected"].Explain())
	// Its connections' data is 20 days old: the utilization cannot vouch
	// for idleness, and the verdict is Unknown.
	assert.Equal(t, detector.Unknown, byID["lb-connected"].State, byID["lb-connected"].Explain())
	assert.Contains(t, byID["lb-connected"].Explain(), "utilization: last connections sample is 20.0d old (limit 30m0s)")
}

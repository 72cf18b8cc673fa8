package alert_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/internal/stepclock"
	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/alert"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/reaper"
	"github.com/idlescale/idlescale/safety"
)

func newAlerter(t *testing.T, cfg alert.Config, opts ...alert.Option) (*alert.Alerter, *monitor.Log) {
	t.Helper()
	a, err := alert.New(cfg, opts...)
	require.NoError(t, err)
	l, err := monitor.NewLog(monitor.LogConfig{}, monitor.WithSink("alerts", a))
	require.NoError(t, err)
	return a, l
}

// Repeated matches count on one alert and notify once; the resolving event
// of the same resource resolves it and notifies once more.
func TestDeduplicateAndResolve(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	a, l := newAlerter(t, alert.Config{}, alert.WithNotifier("rec", rec))
	ctx := t.Context()
	idle, notIdle := string(detector.Idle), string(detector.NotIdle)
	require.NoError(t, l.Record(ctx,
		event(monitor.KindVerdict, "i-1", idle, 0),
		event(monitor.KindVerdict, "i-1", idle, time.Hour),
		event(monitor.KindVerdict, "i-2", idle, time.Hour),
		event(monitor.KindVerdict, "i-1", idle, 2*time.Hour),
	))
	firing := a.Firing()
	require.Len(t, firing, 2)
	one := firing[0]
	assert.Equal(t, "idle_found/i-1", one.ID)
	assert.Equal(t, 3, one.Count, "three matches, one alert")
	assert.Equal(t, t0, one.StartsAt)
	assert.Equal(t, t0.Add(2*time.Hour), one.LastSeen)
	assert.Equal(t, alert.SeverityInfo, one.Severity)
	require.NoError(t, a.Deliver(ctx))
	assert.Equal(t, []string{"firing idle_found/i-1", "firing idle_found/i-2"}, rec.sent())

	// Another resource's resolving event changes nothing for i-1; i-2's
	// does.
	require.NoError(t, l.Record(ctx, event(monitor.KindVerdict, "i-2", notIdle, 3*time.Hour)))
	require.NoError(t, a.Deliver(ctx))
	assert.Equal(t, []string{"firing idle_found/i-1", "firing idle_found/i-2", "resolved idle_found/i-2"}, rec.sent())
	all := a.Alerts()
	require.Len(t, all, 2)
	assert.Equal(t, alert.StateFiring, all[0].State)
	assert.Equal(t, alert.StateResolved, all[1].State)
	assert.Equal(t, t0.Add(3*time.Hour), all[1].EndsAt)

	// A resolve event older than the last match does not resolve.
	require.NoError(t, l.Record(ctx, event(monitor.KindVerdict, "i-1", notIdle, time.Hour)))
	assert.Len(t, a.Firing(), 1)
	// Matching again after resolution opens a new alert.
	require.NoError(t, l.Record(ctx, event(monitor.KindVerdict, "i-2", idle, 4*time.Hour)))
	require.NoError(t, a.Deliver(ctx))
	assert.Len(t, rec.sent(), 4)
	assert.Equal(t, "firing idle_found/i-2", rec.sent()[3])
	assert.Equal(t, 1, a.Firing()[1].Count, "a fresh alert")
}

func TestResolveAfterQuietPeriod(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	a, l := newAlerter(t, alert.Config{}, alert.WithNotifier("rec", rec))
	ctx := t.Context()
	b := event(monitor.KindBlocked, "i-1", string(safety.Block), 0)
	require.NoError(t, l.Record(ctx, b))
	require.Len(t, a.Firing(), 1)
	assert.Equal(t, alert.SeverityWarning, a.Firing()[0].Severity)
	// safety_block's quiet time: eight days (one day paged a daily
	// reaper's block again every day; TestSafetyBlockOfADailyReaperStaysFiring).
	const quiet = 8 * 24 * time.Hour
	require.NoError(t, a.Evaluate(ctx, t0.Add(quiet-time.Nanosecond)))
	assert.Len(t, a.Firing(), 1, "quiet for just under eight days")
	require.NoError(t, a.Evaluate(ctx, t0.Add(quiet)))
	assert.Empty(t, a.Firing(), "quiet for eight days: resolved")
	require.NoError(t, a.Deliver(ctx))
	assert.Equal(t, []string{"firing safety_block/i-1", "resolved safety_block/i-1"}, rec.sent())
	require.Error(t, a.Evaluate(ctx, time.Time{}))
}

func TestDefaultRulesFireOnTheirEvents(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give    monitor.Event
		rule    string
		sev     alert.Severity
		resolve monitor.Event
	}{
		{event(monitor.KindScalingStep, "asg", monitor.OutcomeFailed, 0), "scaling_failure", alert.SeverityCritical,
			event(monitor.KindScalingStep, "asg", monitor.OutcomeDone, time.Minute)},
		{event(monitor.KindVerification, "i-1", monitor.OutcomeFailed, 0), "verification_failed", alert.SeverityCritical,
			event(monitor.KindVerification, "i-1", monitor.OutcomeVerified, time.Minute)},
		{event(monitor.KindForecast, "asg", monitor.OutcomeFallback, 0), "forecast_fallback", alert.SeverityInfo,
			event(monitor.KindForecast, "asg", monitor.OutcomeRecovered, time.Minute)},
		{event(monitor.KindBlocked, "i-1", "block", 0), "safety_block", alert.SeverityWarning,
			event(monitor.KindDecision, "i-1", string(safety.Pass), time.Minute)},
		{event(monitor.KindVerdict, "i-1", string(detector.Idle), 0), "idle_found", alert.SeverityInfo,
			event(monitor.KindVerification, "i-1", monitor.OutcomeVerified, time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			t.Parallel()
			a, l := newAlerter(t, alert.Config{})
			require.NoError(t, l.Record(t.Context(), tt.give))
			f := a.Firing()
			require.Len(t, f, 1)
			assert.Equal(t, tt.rule+"/"+tt.give.ResourceID, f[0].ID)
			assert.Equal(t, tt.sev, f[0].Severity)
			require.NoError(t, l.Record(t.Context(), tt.resolve))
			assert.Empty(t, a.Firing())
		})
	}
	// Rollbacks and failures resolve only with time.
	a, l := newAlerter(t, alert.Config{})
	require.NoError(t, l.Record(t.Context(), event(monitor.KindRollback, "asg", monitor.OutcomeStarted, 0), event(monitor.KindRollback, "asg-2", monitor.OutcomeDone, 0),
		event(monitor.KindFailure, "i-9", monitor.OutcomeFailed, 0), event(monitor.KindAction, "i-1", monitor.OutcomeDone, 0)))
	ids := []string{}
	for _, f := range a.Firing() {
		ids = append(ids, f.ID)
	}
	assert.ElementsMatch(t, []string{"rollback/asg", "pipeline_failure/i-9"}, ids, "an action done and a rollback's step fire nothing")
}

// A reaper run that failed whole (its inventory could not be listed:
// credentials refused) records no failure of a resource, only a failed
// run: the built-in alerts fired on a resource's failure and not on
// that, so a reaper that never ran again paged no one. A run that
// succeeds resolves it.
func TestFailedRunFiresAnAlert(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	a, l := newAlerter(t, alert.Config{}, alert.WithNotifier("r", rec))
	obs := monitor.NewReaperObserver(l)
	obs.ObserveReport(reaper.Report{Now: t0}, fmt.Errorf("reaper: list resources: %w", provider.ErrDenied))
	obs.ObserveReport(reaper.Report{Now: t0.Add(time.Hour)}, fmt.Errorf("reaper: list resources: %w", provider.ErrDenied))
	require.NoError(t, obs.Err())
	f := a.Firing()
	require.Len(t, f, 1, "one alert for the failed runs")
	assert.Equal(t, "run_failed", f[0].ID)
	assert.Equal(t, alert.SeverityWarning, f[0].Severity)
	assert.Equal(t, 2, f[0].Count)
	assert.Contains(t, f[0].Reason, "list resources")

	obs.ObserveReport(reaper.Report{Now: t0.Add(2 * time.Hour)}, nil)
	assert.Empty(t, a.Firing(), "a run that succeeded resolves it")
	require.NoError(t, a.Deliver(t.Context()))
	assert.Equal(t, []string{"firing run_failed", "resolved run_failed"}, rec.sent())
}

// A notifier that fails keeps its notifications in order; the other still
// receives; a full backlog drops the oldest and says so.
func TestNotifierFailureIsRetried(t *testing.T) {
	t.Parallel()
	bad, good := &recorder{fail: errors.New("503")}, &recorder{}
	a, l := newAlerter(t, alert.Config{MaxPending: 2}, alert.WithNotifier("bad", bad), alert.WithNotifier("good", good))
	ctx := t.Context()
	require.NoError(t, l.Record(ctx, event(monitor.KindBlocked, "i-1", "block", 0), event(monitor.KindBlocked, "i-2", "block", 0)))
	err := a.Deliver(ctx)
	var ne *alert.NotifyError
	require.ErrorAs(t, err, &ne)
	require.ErrorIs(t, err, alert.ErrNotify)
	assert.Equal(t, "bad", ne.Notifier)
	assert.Equal(t, 2, ne.Pending)
	assert.Len(t, good.sent(), 2)

	require.NoError(t, l.Record(ctx, event(monitor.KindBlocked, "i-3", "block", 0)))
	err = a.Deliver(ctx)
	require.ErrorIs(t, err, alert.ErrDropped)
	require.ErrorAs(t, err, &ne)
	assert.Equal(t, 1, ne.Dropped)
	st := a.Stats()
	assert.Equal(t, alert.NotifierStats{Name: "bad", Pending: 2, Failures: 2, LastError: "503"}, st[0])
	assert.Equal(t, alert.NotifierStats{Name: "good", Sent: 3}, st[1])

	bad.setFail(nil)
	require.NoError(t, a.Deliver(ctx))
	assert.Equal(t, []string{"firing safety_block/i-2", "firing safety_block/i-3"}, bad.sent())
	require.NoError(t, a.Deliver(ctx), "nothing left")
	assert.Len(t, bad.sent(), 2)
}

// CPU above 0.9 (the seed's alert) on a memory cloud: the hot instance
// fires, the cool one does not, and it resolves when its CPU falls; a
// resource without data keeps its alert.
func TestMetricRule(t *testing.T) {
	t.Parallel()
	clk := stepclock.New(t0)
	cloud, err := memory.New(memory.Config{}, memory.WithClock(clk))
	require.NoError(t, err)
	for id, cpu := range map[string][]float64{"i-hot": {0.95, 0.97, 0.5, 0.4}, "i-cool": {0.3, 0.3, 0.3, 0.3}, "i-edge": {0.9, 0.9, 0.9, 0.9}} {
		require.NoError(t, cloud.Add(provider.Resource{ID: id, Kind: provider.KindInstance}))
		for i, v := range cpu {
			// Each value covers 5 minutes (one sample a minute) ending at t0 + (i+1)·5m.
			for m := range 5 {
				at := t0.Add(time.Duration(i*5+m) * time.Minute)
				require.NoError(t, cloud.AddSamples(id, provider.MetricCPU, provider.Sample{Time: at, Value: v}))
			}
		}
	}
	require.NoError(t, cloud.Add(provider.Resource{ID: "i-nodata", Kind: provider.KindInstance}))
	rec := &recorder{}
	a, err := alert.New(alert.Config{}, alert.WithNotifier("rec", rec), alert.WithFleet(alert.Fleet{Inventory: cloud, Metrics: cloud}))
	require.NoError(t, err)
	ctx := t.Context()
	clk.Set(t0.Add(10 * time.Minute))
	require.NoError(t, a.Evaluate(ctx, clk.Now()))
	f := a.Firing()
	require.Len(t, f, 1, "only the hot one; 0.9 is not above 0.9")
	assert.Equal(t, "high_cpu/i-hot", f[0].ID)
	assert.InDelta(t, 0.97, f[0].Value, 1e-9)
	assert.Contains(t, f[0].Reason, "threshold 0.9")
	clk.Set(t0.Add(20 * time.Minute))
	require.NoError(t, a.Evaluate(ctx, clk.Now()))
	assert.Empty(t, a.Firing())
	require.NoError(t, a.Deliver(ctx))
	assert.Equal(t, []string{"firing high_cpu/i-hot", "resolved high_cpu/i-hot"}, rec.sent())

	// Without a fleet the default metric rule is left out, and one the
	// host configured is refused.
	noFleet, err := alert.New(alert.Config{})
	require.NoError(t, err)
	require.NoError(t, noFleet.Evaluate(ctx, t0))
	assert.Len(t, noFleet.Config().Rules, len(alert.DefaultRules())-1)
	_, err = alert.New(alert.Config{Rules: []alert.Rule{{Name: "hot", Metric: provider.MetricCPU, Above: 0.5}}})
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "rules[0]", ie.Field)
	// A fleet whose metrics fail reports it and keeps going.
	failing := provider.MetricsSourceFunc(func(context.Context, provider.Query) (provider.Series, error) {
		return provider.Series{}, provider.ErrThrottled
	})
	fa, err := alert.New(alert.Config{}, alert.WithFleet(alert.Fleet{Inventory: cloud, Metrics: failing}))
	require.NoError(t, err)
	require.ErrorIs(t, fa.Evaluate(ctx, clk.Now()), provider.ErrThrottled)
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		give  alert.Config
		field string
	}{
		{"no name", alert.Config{Rules: []alert.Rule{{Metric: provider.MetricCPU}}}, "rules[0].name"},
		{"slash in name", alert.Config{Rules: []alert.Rule{{Name: "disk/full", Metric: provider.MetricCPU}}}, "rules[0].name"},
		{"resolve on a metric rule", alert.Config{Rules: []alert.Rule{{Name: "x", Metric: provider.MetricCPU,
			Resolve: []alert.Match{{Kinds: []monitor.Kind{monitor.KindRun}}}}}}, "rules[0].resolve"},
		// A metric rule's alert is seen again at every evaluation above
		// its threshold: the only quiet one is a resource without data,
		// which must not count as recovered.
		{"resolve_after on a metric rule", alert.Config{Rules: []alert.Rule{{Name: "x", Metric: provider.MetricCPU, ResolveAfter: time.Hour}}}, "rules[0].resolve_after"},
		{"per_action on a metric rule", alert.Config{Rules: []alert.Rule{{Name: "x", Metric: provider.MetricCPU, PerAction: true}}}, "rules[0].per_action"},
		{"neither", alert.Config{Rules: []alert.Rule{{Name: "x"}}}, "rules[0].match"},
		{"both", alert.Config{Rules: []alert.Rule{{Name: "x", Metric: provider.MetricCPU, Match: alert.Match{Kinds: []monitor.Kind{monitor.KindRun}}}}}, "rules[0].metric"},
		{"unknown kind", alert.Config{Rules: []alert.Rule{{Name: "x", Match: alert.Match{Kinds: []monitor.Kind{"boom"}}}}}, "rules[0].match.kinds[0]"},
		{"outcome without kind", alert.Config{Rules: []alert.Rule{{Name: "x", Match: alert.Match{Outcomes: []string{"idle"}}}}}, "rules[0].match.kinds"},
		{"resolve without kind", alert.Config{Rules: []alert.Rule{{Name: "x", Match: alert.Match{Kinds: []monitor.Kind{monitor.KindRun}}, Resolve: []alert.Match{{}}}}}, "rules[0].resolve[0].kinds"},
		{"threshold on an event rule", alert.Config{Rules: []alert.Rule{{Name: "x", Match: alert.Match{Kinds: []monitor.Kind{monitor.KindRun}}, Above: 0.5}}}, "rules[0].above"},
		{"for on an event rule", alert.Config{Rules: []alert.Rule{{Name: "x", Match: alert.Match{Kinds: []monitor.Kind{monitor.KindRun}}, For: time.Minute}}}, "rules[0].for"},
		{"statistic on an event rule", alert.Config{Rules: []alert.Rule{{Name: "x", Match: alert.Match{Kinds: []monitor.Kind{monitor.KindRun}}, Statistic: provider.StatMax}}}, "rules[0].statistic"},
		{"filter on an event rule", alert.Config{Rules: []alert.Rule{{Name: "x", Match: alert.Match{Kinds: []monitor.Kind{monitor.KindRun}}, Filter: provider.Filter{Tags: map[string]string{"env": "prod"}}}}}, "rules[0].filter"},
		{"NaN threshold", alert.Config{Rules: []alert.Rule{{Name: "x", Metric: provider.MetricCPU, Above: nan()}}}, "rules[0].above"},
		{"negative for", alert.Config{Rules: []alert.Rule{{Name: "x", Metric: provider.MetricCPU, For: -1}}}, "rules[0].for"},
		{"bad statistic", alert.Config{Rules: []alert.Rule{{Name: "x", Metric: provider.MetricCPU, Statistic: "median-ish"}}}, "rules[0].statistic"},
		{"unknown metric", alert.Config{Rules: []alert.Rule{{Name: "x", Metric: "vcpu"}}}, "rules[0].metric"},
		{"bad severity", alert.Config{Rules: []alert.Rule{{Name: "x", Metric: provider.MetricCPU, Severity: "page"}}}, "rules[0].severity"},
		{"negative resolve_after", alert.Config{Rules: []alert.Rule{{Name: "x", Metric: provider.MetricCPU, ResolveAfter: -1}}}, "rules[0].resolve_after"},
		{"repeated", alert.Config{Rules: []alert.Rule{{Name: "x", Metric: provider.MetricCPU}, {Name: "x", Metric: provider.MetricCPU}}}, "rules[1].name"},
		{"interval", alert.Config{Interval: -1}, "interval"},
		{"max_pending", alert.Config{MaxPending: -1}, "max_pending"},
		{"keep_resolved", alert.Config{KeepResolved: -1}, "keep_resolved"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := alert.New(tt.give)
			var ie *provider.InvalidError // one per subtest: they run in parallel
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
		})
	}
	_, err := alert.New(alert.Config{}, alert.WithNotifier("x", nil))
	require.ErrorIs(t, err, provider.ErrInvalid)
	_, err = alert.New(alert.Config{}, alert.WithNotifier("x", &recorder{}), alert.WithNotifier("x", &recorder{}))
	require.ErrorIs(t, err, provider.ErrInvalid)
	metrics := provider.MetricsSourceFunc(func(context.Context, provider.Query) (provider.Series, error) {
		return provider.Series{}, nil
	})
	_, err = alert.New(alert.Config{}, alert.WithFleet(alert.Fleet{Metrics: metrics}))
	require.ErrorIs(t, err, provider.ErrInvalid, "metrics without an inventory")

	cloud, err := memory.New(memory.Config{})
	require.NoError(t, err)
	a, err := alert.New(alert.Config{}, alert.WithFleet(alert.Fleet{Inventory: cloud, Metrics: cloud}))
	require.NoError(t, err)
	c := a.Config()
	assert.Len(t, c.Rules, len(alert.DefaultRules()))
	assert.Equal(t, alert.DefaultInterval, c.Interval)
	assert.Equal(t, provider.StatMean, c.Rules[0].Statistic, "metric rule defaults filled in")
	assert.Equal(t, []provider.State{provider.StateRunning}, c.Rules[0].Filter.States)

	// A host's metric rule gets the defaults it leaves out, keeps what it
	// sets, and an event rule gets none of them.
	a, err = alert.New(alert.Config{Rules: []alert.Rule{
		{Name: "hot", Metric: provider.MetricCPU, Above: 0.8},
		{Name: "hot-max", Metric: provider.MetricCPU, Above: 0.8, For: time.Minute, Statistic: provider.StatMax},
		{Name: "runs", Match: alert.Match{Kinds: []monitor.Kind{monitor.KindRun}}},
	}}, alert.WithFleet(alert.Fleet{Inventory: cloud, Metrics: cloud}))
	require.NoError(t, err)
	c = a.Config()
	assert.Equal(t, alert.DefaultFor, c.Rules[0].For)
	assert.Equal(t, provider.StatMean, c.Rules[0].Statistic)
	assert.Equal(t, time.Minute, c.Rules[1].For)
	assert.Equal(t, provider.StatMax, c.Rules[1].Statistic)
	assert.Zero(t, c.Rules[2].For)
	assert.Empty(t, c.Rules[2].Statistic)
	assert.Empty(t, c.Rules[2].Filter.States)
}

func TestSeverityAndState(t *testing.T) {
	t.Parallel()
	assert.Equal(t, []int{0, 1, 2, 3, -1}, []int{alert.Severity("").Level(), alert.SeverityInfo.Level(),
		alert.SeverityWarning.Level(), alert.SeverityCritical.Level(), alert.Severity("page").Level()})
	var s alert.Severity
	require.NoError(t, s.UnmarshalText([]byte("critical")))
	assert.Equal(t, alert.SeverityCritical, s)
	require.ErrorIs(t, s.UnmarshalText([]byte("Critical")), provider.ErrInvalid)
	assert.Equal(t, alert.SeverityCritical, s)
	var st alert.State
	require.ErrorIs(t, st.UnmarshalText([]byte("open")), provider.ErrInvalid)
	require.NoError(t, st.UnmarshalText([]byte("resolved")))
	b, err := st.MarshalText()
	require.NoError(t, err)
	assert.Equal(t, "resolved", string(b))
	require.ErrorIs(t, alert.State("").Validate(), provider.ErrInvalid)
}

// Run delivers as soon as an event causes a transition, evaluates on its
// interval, and returns nil when ctx ends, leaving no goroutine.
func TestRun(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		a, l := newAlerter(t, alert.Config{Interval: time.Minute}, alert.WithNotifier("rec", rec))
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx) }()
		synctest.Wait()
		require.NoError(t, l.Record(ctx, event(monitor.KindBlocked, "i-1", "block", 0)))
		synctest.Wait()
		assert.Equal(t, []string{"firing safety_block/i-1"}, rec.sent(), "delivered without waiting for the interval")

		rec.setFail(errors.New("down"))
		require.NoError(t, l.Record(ctx, event(monitor.KindBlocked, "i-2", "block", 0)))
		synctest.Wait()
		assert.Len(t, rec.sent(), 1)
		rec.setFail(nil)
		<-time.After(time.Minute) // fake time inside the synctest bubble
		synctest.Wait()
		assert.Len(t, rec.sent(), 2, "retried at the next interval")
		cancel()
		require.NoError(t, <-done)
	})
}

func nan() float64 { return float64(0) / zero }

var zero float64

// One safety block recorded by the reaper and by the engine's auditor is
// one match; a later block counts.
func TestDuplicateDecisionCountsOnce(t *testing.T) {
	t.Parallel()
	a, l := newAlerter(t, alert.Config{})
	b := event(monitor.KindBlocked, "i-1", "block", 0)
	audited := b
	audited.Source = monitor.SourceSafety
	require.NoError(t, l.Record(t.Context(), b, audited))
	require.Len(t, a.Firing(), 1)
	assert.Equal(t, 1, a.Firing()[0].Count)
	require.NoError(t, l.Record(t.Context(), event(monitor.KindBlocked, "i-1", "block", time.Hour)))
	assert.Equal(t, 2, a.Firing()[0].Count)
}

// Alerts lists the firing alerts most severe first, then oldest, then by
// ID; then the resolved ones, newest first.
func TestAlertsOrder(t *testing.T) {
	t.Parallel()
	a, l := newAlerter(t, alert.Config{})
	ctx := t.Context()
	require.NoError(t, l.Record(ctx,
		event(monitor.KindVerdict, "i-info", string(detector.Idle), 0),                 // info, oldest
		event(monitor.KindBlocked, "i-warn-late", "block", 2*time.Hour),                // warning
		event(monitor.KindBlocked, "i-warn-b", "block", time.Hour),                     // warning, older
		event(monitor.KindBlocked, "i-warn-a", "block", time.Hour),                     // same time: by ID
		event(monitor.KindScalingStep, "asg", monitor.OutcomeFailed, 3*time.Hour),      // critical, newest
		event(monitor.KindVerification, "i-gone", monitor.OutcomeFailed, 0),            // resolved first
		event(monitor.KindForecast, "asg-2", monitor.OutcomeFallback, 0),               // resolved second
		event(monitor.KindVerification, "i-gone", monitor.OutcomeVerified, time.Hour),  // resolves
		event(monitor.KindForecast, "asg-2", monitor.OutcomeRecovered, 90*time.Minute), // resolves
	))
	var got []string
	for _, al := range a.Alerts() {
		got = append(got, string(al.State)+" "+al.ID)
	}
	assert.Equal(t, []string{
		"firing scaling_failure/asg",
		"firing safety_block/i-warn-a",
		"firing safety_block/i-warn-b",
		"firing safety_block/i-warn-late",
		"firing idle_found/i-info",
		"resolved forecast_fallback/asg-2",
		"resolved verification_failed/i-gone",
	}, got)
	assert.Len(t, a.Firing(), 5)
}

// An alert's Value is the matching event's confidence (a verdict's), or
// its value when it has none; a resolving event's reason replaces the
// firing one, and an event without a reason leaves it.
func TestAlertValueAndReason(t *testing.T) {
	t.Parallel()
	a, l := newAlerter(t, alert.Config{})
	ctx := t.Context()
	verdict := event(monitor.KindVerdict, "i-1", string(detector.Idle), 0)
	verdict.Confidence, verdict.Value = 0.93, 7
	forecast := event(monitor.KindForecast, "asg", monitor.OutcomeFallback, 0)
	forecast.Value = 1.4 // the forecast's error
	require.NoError(t, l.Record(ctx, verdict, forecast))
	byID := map[string]alert.Alert{}
	for _, al := range a.Firing() {
		byID[al.ID] = al
	}
	assert.InDelta(t, 0.93, byID["idle_found/i-1"].Value, 1e-12)
	assert.InDelta(t, 1.4, byID["forecast_fallback/asg"].Value, 1e-12)
	assert.Equal(t, "verdict idle", byID["idle_found/i-1"].Reason)

	notIdle := event(monitor.KindVerdict, "i-1", string(detector.NotIdle), time.Hour)
	recovered := event(monitor.KindForecast, "asg", monitor.OutcomeRecovered, time.Hour)
	recovered.Reason = ""
	require.NoError(t, l.Record(ctx, notIdle, recovered))
	for _, al := range a.Alerts() {
		byID[al.ID] = al
	}
	assert.Equal(t, alert.StateResolved, byID["idle_found/i-1"].State)
	assert.Equal(t, "verdict not_idle", byID["idle_found/i-1"].Reason, "the resolving event's reason")
	assert.Equal(t, alert.StateResolved, byID["forecast_fallback/asg"].State)
	assert.Equal(t, "forecast fallback", byID["forecast_fallback/asg"].Reason, "kept: the resolving event gave none")
}

// A rule without a severity is a warning and without a summary is
// summarised by its name; a rollback's alert resolves after 24 quiet
// hours.
func TestRuleDefaults(t *testing.T) {
	t.Parallel()
	a, l := newAlerter(t, alert.Config{Rules: []alert.Rule{{Name: "runs", Match: alert.Match{Kinds: []monitor.Kind{monitor.KindRun}}}}})
	require.NoError(t, l.Record(t.Context(), event(monitor.KindRun, "", monitor.OutcomeDone, 0)))
	f := a.Firing()
	require.Len(t, f, 1)
	assert.Equal(t, alert.SeverityWarning, f[0].Severity)
	assert.Equal(t, "runs", f[0].Summary)
	assert.Equal(t, "runs", f[0].ID, "no resource: the rule's name")
	assert.Equal(t, "[warning] firing runs: runs: run done", f[0].String())

	d, l := newAlerter(t, alert.Config{})
	require.NoError(t, l.Record(t.Context(), event(monitor.KindRollback, "asg", monitor.OutcomeStarted, 0)))
	require.NoError(t, d.Evaluate(t.Context(), t0.Add(24*time.Hour-time.Nanosecond)))
	assert.Len(t, d.Firing(), 1)
	require.NoError(t, d.Evaluate(t.Context(), t0.Add(24*time.Hour)))
	assert.Empty(t, d.Firing(), "quiet for 24h")
	r := d.Alerts()[0]
	assert.Equal(t, "quiet for 24h0m0s", r.Reason)
	assert.Equal(t, "[warning] resolved rollback/asg: change rolled back: quiet for 24h0m0s", r.String())
}

func TestNotifyErrorText(t *testing.T) {
	t.Parallel()
	e := &alert.NotifyError{Notifier: "hook", Pending: 3, Err: errors.New("503")}
	assert.Equal(t, `alert: notifier "hook": 3 notifications pending: 503`, e.Error())
	require.ErrorIs(t, e, alert.ErrNotify)
	require.NotErrorIs(t, e, alert.ErrDropped, "nothing dropped")
	e.Dropped = 1
	assert.Equal(t, `alert: notifier "hook": 3 notifications pending, 1 dropped: 503`, e.Error())
	require.ErrorIs(t, e, alert.ErrDropped)
}

// A notification the notifier refuses for good (ErrRejected, a webhook's
// 4xx) is dropped, not retried, and does not hold back the notifications
// queued after it; it shows in Stats and in Deliver's *NotifyError. A
// transient failure after it still keeps the rest pending.
func TestRejectedNotificationIsDroppedNotRetried(t *testing.T) {
	t.Parallel()
	hook := newEndpoint(t, http.StatusOK)
	hook.mu.Lock()
	hook.statusFor = map[string]int{"safety_block/i-bad": http.StatusBadRequest}
	hook.mu.Unlock()
	w, err := alert.NewWebhook(alert.WebhookConfig{URL: hook.URL})
	require.NoError(t, err)
	a, l := newAlerter(t, alert.Config{}, alert.WithNotifier("hook", w))
	ctx := t.Context()
	require.NoError(t, l.Record(ctx, event(monitor.KindBlocked, "i-bad", "block", 0),
		event(monitor.KindBlocked, "i-good", "block", time.Minute)))

	err = a.Deliver(ctx)
	require.ErrorIs(t, err, alert.ErrRejected)
	var ne *alert.NotifyError
	require.ErrorAs(t, err, &ne)
	assert.Equal(t, alert.NotifyError{Notifier: "hook", Rejected: 1, Err: ne.Err}, *ne)
	st := a.Stats()[0]
	assert.Equal(t, 0, st.Pending)
	assert.Equal(t, 1, st.Sent)
	assert.Equal(t, 1, st.Rejected)
	assert.Equal(t, 1, st.Failures, "a Deliver in which the notifier refused one counts as a failure")
	assert.Contains(t, st.LastError, "400")
	for range 2 {
		require.NoError(t, a.Deliver(ctx), "nothing pending: the refused one is not retried")
	}
	assert.Equal(t, 1, a.Stats()[0].Failures, "Delivers with nothing to send are no failures")
	assert.Equal(t, map[string]int{"safety_block/i-bad": 1, "safety_block/i-good": 1}, hook.postsByID())

	// A transient error still keeps the notification, and those after
	// it, at the head of the queue.
	flaky := &recorder{fail: errors.New("503")}
	b, l := newAlerter(t, alert.Config{}, alert.WithNotifier("flaky", flaky))
	require.NoError(t, l.Record(ctx, event(monitor.KindBlocked, "i-1", "block", 0), event(monitor.KindBlocked, "i-2", "block", 0)))
	require.Error(t, b.Deliver(ctx))
	assert.Equal(t, 2, b.Stats()[0].Pending)
	assert.Equal(t, 0, b.Stats()[0].Rejected)
}

// Alert IDs join the rule's name and the resource ID with "/", and
// resource IDs often contain "/": a rule name with "/" is refused, so that
// rule "disk" on resource "full/i-1" and a rule "disk/full" on "i-1" can
// never be one alert (the critical one silently merged into the other).
// Two rules on resources with "/" stay two alerts with distinct IDs.
func TestAlertIDsCannotCollide(t *testing.T) {
	t.Parallel()
	_, err := alert.New(alert.Config{Rules: []alert.Rule{
		{Name: "disk", Match: alert.Match{Kinds: []monitor.Kind{monitor.KindFailure}}},
		{Name: "disk/full", Severity: alert.SeverityCritical, Match: alert.Match{Kinds: []monitor.Kind{monitor.KindBlocked}}},
	}})
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "rules[1].name", ie.Field)

	rec := &recorder{}
	a, l := newAlerter(t, alert.Config{Rules: []alert.Rule{
		{Name: "disk", Match: alert.Match{Kinds: []monitor.Kind{monitor.KindFailure}}},
		{Name: "full", Severity: alert.SeverityCritical, Match: alert.Match{Kinds: []monitor.Kind{monitor.KindBlocked}}},
	}}, alert.WithNotifier("rec", rec))
	require.NoError(t, l.Record(t.Context(), event(monitor.KindFailure, "full/i-1", "failed", 0),
		event(monitor.KindBlocked, "disk/i-1", "block", time.Minute)))
	require.NoError(t, a.Deliver(t.Context()))
	firing := a.Firing()
	require.Len(t, firing, 2)
	assert.Equal(t, "full", firing[0].Rule)
	assert.Equal(t, "full/disk/i-1", firing[0].ID)
	assert.Equal(t, "disk/i-1", firing[0].ResourceID)
	assert.Equal(t, "disk/full/i-1", firing[1].ID)
	assert.ElementsMatch(t, []string{"firing disk/full/i-1", "firing full/disk/i-1"}, rec.sent())
}

// A matching event older than an alert's resolution (a late event) does
// not re-open the resolved alert; one after the resolution does. The
// resolutions are remembered for the latest alerts even after many
// others resolved (the memory is bounded).
func TestLateEventDoesNotReopenResolvedAlert(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	a, l := newAlerter(t, alert.Config{}, alert.WithNotifier("rec", rec))
	ctx := t.Context()
	require.NoError(t, l.Record(ctx,
		event(monitor.KindVerification, "i-1", monitor.OutcomeFailed, 0),
		event(monitor.KindVerification, "i-1", monitor.OutcomeVerified, 10*time.Minute), // resolves
		event(monitor.KindVerification, "i-1", monitor.OutcomeFailed, 5*time.Minute),    // late
		event(monitor.KindVerification, "i-1", monitor.OutcomeFailed, 10*time.Minute),   // at the resolution
	))
	require.NoError(t, a.Deliver(ctx))
	assert.Empty(t, a.Firing(), "the failures at +5m and +10m were already resolved at +10m")
	assert.Equal(t, []string{"firing verification_failed/i-1", "resolved verification_failed/i-1"}, rec.sent())

	require.NoError(t, l.Record(ctx, event(monitor.KindVerification, "i-1", monitor.OutcomeFailed, 11*time.Minute)))
	require.Len(t, a.Firing(), 1, "a failure after the resolution re-opens it")

	// Many other alerts resolve; the latest resolutions are still known.
	var evs []monitor.Event
	for i := range 1500 {
		id := "j-" + strconv.Itoa(i)
		evs = append(evs, event(monitor.KindVerification, id, monitor.OutcomeFailed, time.Hour),
			event(monitor.KindVerification, id, monitor.OutcomeVerified, time.Hour+time.Duration(i)*time.Second))
	}
	require.NoError(t, l.Record(ctx, evs...))
	require.NoError(t, l.Record(ctx, event(monitor.KindVerification, "j-1499", monitor.OutcomeFailed, time.Hour)))
	require.Len(t, a.Firing(), 1, "only i-1: j-1499's late failure is ignored")
}

// flakyInventory lists like its Inventory until fail is set.
type flakyInventory struct {
	provider.Inventory
	mu   sync.Mutex
	fail bool
}

func (f *flakyInventory) List(ctx context.Context, fl provider.Filter) ([]provider.Resource, error) {
	f.mu.Lock()
	fail := f.fail
	f.mu.Unlock()
	if fail {
		return nil, provider.ErrThrottled
	}
	return f.Inventory.List(ctx, fl)
}

// A metric alert resolves when its resource leaves the rule's Filter
// (terminated, stopped): it was never evaluated again and, high_cpu having
// no ResolveAfter, fired for ever. A failed List changes nothing, and a
// listed resource without data keeps its alert.
func TestMetricAlertResolvesWhenResourceNoLongerListed(t *testing.T) {
	t.Parallel()
	clk := stepclock.New(t0)
	cloud, err := memory.New(memory.Config{StopDelay: time.Nanosecond}, memory.WithClock(clk))
	require.NoError(t, err)
	for _, id := range []string{"i-hot", "i-quiet"} {
		require.NoError(t, cloud.Add(provider.Resource{ID: id, Kind: provider.KindInstance}))
		for m := range 10 {
			require.NoError(t, cloud.AddSamples(id, provider.MetricCPU,
				provider.Sample{Time: t0.Add(time.Duration(m) * time.Minute), Value: 0.99}))
		}
	}
	inv := &flakyInventory{Inventory: cloud}
	rec := &recorder{}
	a, err := alert.New(alert.Config{}, alert.WithNotifier("rec", rec),
		alert.WithFleet(alert.Fleet{Inventory: inv, Metrics: cloud}))
	require.NoError(t, err)
	ctx := t.Context()
	clk.Set(t0.Add(10 * time.Minute))
	require.NoError(t, a.Evaluate(ctx, clk.Now()))
	require.Len(t, a.Firing(), 2)

	require.NoError(t, cloud.Terminate(ctx, "i-hot"))
	clk.Set(t0.Add(30 * 24 * time.Hour)) // no data for either any more
	inv.mu.Lock()
	inv.fail = true
	inv.mu.Unlock()
	require.ErrorIs(t, a.Evaluate(ctx, clk.Now()), provider.ErrThrottled)
	require.Len(t, a.Firing(), 2, "a failed List resolves nothing")

	inv.mu.Lock()
	inv.fail = false
	inv.mu.Unlock()
	require.NoError(t, a.Evaluate(ctx, clk.Now()))
	f := a.Firing()
	require.Len(t, f, 1, "i-quiet is listed, without data: it keeps its alert")
	assert.Equal(t, "high_cpu/i-quiet", f[0].ID)
	all := a.Alerts()
	require.Len(t, all, 2)
	assert.Equal(t, "high_cpu/i-hot", all[1].ID)
	assert.Equal(t, alert.StateResolved, all[1].State)
	assert.Contains(t, all[1].Reason, "no longer listed")
	require.NoError(t, a.Deliver(ctx))
	assert.Equal(t, []string{"firing high_cpu/i-hot", "firing high_cpu/i-quiet", "resolved high_cpu/i-hot"}, rec.sent())
}

// An alert resolved because nothing matched for ResolveAfter remembers
// its last match, not the time it resolved, as the bound of late events:
// an event that happened after that last match is new, however late it
// reaches the log (one dated before the resolving Evaluate's now was
// dropped, without a word). An exact repeat of the last match stays
// ignored.
func TestQuietResolutionDoesNotSwallowANewMatch(t *testing.T) {
	t.Parallel()
	rules := []alert.Rule{{Name: "failed", Match: alert.Match{Kinds: []monitor.Kind{monitor.KindFailure}}, ResolveAfter: time.Hour}}
	a, err := alert.New(alert.Config{Rules: rules})
	require.NoError(t, err)
	ctx := t.Context()
	require.NoError(t, a.Write(ctx, []monitor.Event{event(monitor.KindFailure, "i-1", "failed", 0)}))
	require.NoError(t, a.Evaluate(ctx, t0.Add(2*time.Hour)))
	require.Empty(t, a.Firing(), "quiet for an hour: resolved")
	require.NoError(t, a.Write(ctx, []monitor.Event{event(monitor.KindFailure, "i-1", "failed", 0)}))
	assert.Empty(t, a.Firing(), "the same failure again is a late repeat")
	require.NoError(t, a.Write(ctx, []monitor.Event{event(monitor.KindFailure, "i-1", "failed", 90*time.Minute)}))
	assert.Len(t, a.Firing(), 1, "a failure at +90m, recorded after the resolution at +2h, is new")
}

// The memory of resolutions forgets by count: a thousand alerts resolved
// at one time lose at most a quarter of the memory when one more
// resolves (it forgot every resolution at or before the cut, here all).
func TestResolutionMemoryForgetsByCount(t *testing.T) {
	t.Parallel()
	a, err := alert.New(alert.Config{})
	require.NoError(t, err)
	ctx := t.Context()
	var evs []monitor.Event
	for i := range 1001 {
		id := "j-" + strconv.Itoa(i)
		evs = append(evs, event(monitor.KindVerification, id, monitor.OutcomeFailed, 0),
			event(monitor.KindVerification, id, monitor.OutcomeVerified, time.Minute))
	}
	require.NoError(t, a.Write(ctx, evs))
	require.Empty(t, a.Firing())
	var late []monitor.Event
	for i := range 1001 {
		late = append(late, event(monitor.KindVerification, "j-"+strconv.Itoa(i), monitor.OutcomeFailed, 30*time.Second))
	}
	require.NoError(t, a.Write(ctx, late))
	assert.LessOrEqual(t, len(a.Firing()), 1001-1000*3/4, "late failures re-open only the forgotten resolutions")
}

// The memory of resolutions holds at least a thousand: after exactly a
// thousand alerts resolved, a late failure of each, the oldest included,
// is still recognised as late and re-opens none.
func TestResolutionMemoryHoldsAThousand(t *testing.T) {
	t.Parallel()
	a, err := alert.New(alert.Config{})
	require.NoError(t, err)
	ctx := t.Context()
	var evs, late []monitor.Event
	for i := range 1000 {
		id := "j-" + strconv.Itoa(i)
		evs = append(evs, event(monitor.KindVerification, id, monitor.OutcomeFailed, 0),
			event(monitor.KindVerification, id, monitor.OutcomeVerified, time.Minute+time.Duration(i)*time.Second))
		late = append(late, event(monitor.KindVerification, id, monitor.OutcomeFailed, 30*time.Second))
	}
	require.NoError(t, a.Write(ctx, evs))
	require.Empty(t, a.Firing())
	require.NoError(t, a.Write(ctx, late))
	assert.Empty(t, a.Firing(), "a thousand resolutions are remembered: every failure is late")
}

// Each field of a Filter set on an event rule is refused: the rule would
// alert on every resource's events regardless.
func TestEventRuleRefusesEachFilterField(t *testing.T) {
	t.Parallel()
	for _, f := range []provider.Filter{
		{IDs: []string{"i-1"}}, {Kinds: []provider.Kind{provider.KindInstance}}, {States: []provider.State{provider.StateRunning}},
		{Region: "eu-west-1"}, {InstanceTypes: []string{"m5.large"}}, {Environment: "prod"}, {Tags: map[string]string{"team": ""}},
	} {
		_, err := alert.New(alert.Config{Rules: []alert.Rule{{Name: "x", Match: alert.Match{Kinds: []monitor.Kind{monitor.KindBlocked}}, Filter: f}}})
		var ie *provider.InvalidError
		if assert.ErrorAs(t, err, &ie, "%+v", f) {
			assert.Equal(t, "rules[0].filter", ie.Field)
		}
	}
	_, err := alert.New(alert.Config{Rules: []alert.Rule{{Name: "x", Match: alert.Match{Kinds: []monitor.Kind{monitor.KindBlocked}}, Filter: provider.Filter{IDs: []string{}}}}})
	assert.NoError(t, err, "an empty list selects nothing narrower: not refused")
}

// One safety block recorded twice is one match however its two copies
// carry the instant: one with a monotonic reading (the reaper's clock) and
// one without, or in another time zone (read back from JSON).
func TestDuplicateDecisionCountsOnceAcrossTimeRepresentations(t *testing.T) {
	t.Parallel()
	now := time.Now() // carries a monotonic reading
	for name, other := range map[string]time.Time{
		"no monotonic reading": now.Round(0),
		"another zone":         now.In(time.FixedZone("CET", 3600)),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a, l := newAlerter(t, alert.Config{})
			b := event(monitor.KindBlocked, "i-1", "block", 0)
			b.Time = now
			audited := b
			audited.Source, audited.Time = monitor.SourceSafety, other
			require.True(t, audited.Time.Equal(b.Time))
			require.NoError(t, l.Record(t.Context(), b, audited))
			require.Len(t, a.Firing(), 1)
			assert.Equal(t, 1, a.Firing()[0].Count)
		})
	}
}

// cpuAt is a metrics source whose CPU reads *v for every resource.
func cpuAt(mu *sync.Mutex, v *float64) provider.MetricsSource {
	return provider.MetricsSourceFunc(func(_ context.Context, q provider.Query) (provider.Series, error) {
		mu.Lock()
		defer mu.Unlock()
		return provider.Series{ResourceID: q.ResourceID, Metric: q.Metric, Start: q.Start, Step: q.Step, Values: []float64{*v}}, nil
	})
}

// A metric alert that resolved fires again when the metric is back above
// its threshold even though the clock went back meanwhile (a wall clock
// stepped back, a host's clock without a monotonic reading): an
// evaluation is no late event. The alert stayed silent until the clock
// passed the resolution again.
func TestMetricAlertFiresAgainAfterTheClockWentBack(t *testing.T) {
	t.Parallel()
	cloud, err := memory.New(memory.Config{})
	require.NoError(t, err)
	require.NoError(t, cloud.Add(provider.Resource{ID: "i-1", Kind: provider.KindInstance}))
	var mu sync.Mutex
	cpu := 0.99
	set := func(v float64) { mu.Lock(); cpu = v; mu.Unlock() }
	a, err := alert.New(alert.Config{}, alert.WithFleet(alert.Fleet{Inventory: cloud, Metrics: cpuAt(&mu, &cpu)}))
	require.NoError(t, err)
	ctx := t.Context()
	require.NoError(t, a.Evaluate(ctx, t0))
	require.Len(t, a.Firing(), 1)
	set(0.2)
	require.NoError(t, a.Evaluate(ctx, t0.Add(time.Minute)))
	require.Empty(t, a.Firing())
	set(0.99)
	require.NoError(t, a.Evaluate(ctx, t0.Add(-10*time.Minute)), "the clock stepped back 11 minutes")
	f := a.Firing()
	require.Len(t, f, 1, "CPU at 0.99 fires")
	assert.Equal(t, "high_cpu/i-1", f[0].ID)
}

// A metrics source that answers an infinite value (which no series may
// hold) is an error naming the resource, not a value above every
// threshold that fires the alert.
func TestMetricRuleRefusesAnInfiniteValue(t *testing.T) {
	t.Parallel()
	cloud, err := memory.New(memory.Config{})
	require.NoError(t, err)
	require.NoError(t, cloud.Add(provider.Resource{ID: "i-1", Kind: provider.KindInstance}))
	var mu sync.Mutex
	cpu := math.Inf(1)
	a, err := alert.New(alert.Config{}, alert.WithFleet(alert.Fleet{Inventory: cloud, Metrics: cpuAt(&mu, &cpu)}))
	require.NoError(t, err)
	err = a.Evaluate(t.Context(), t0)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "i-1")
	assert.Empty(t, a.Firing())
}

// Run bounds each delivery by the interval: a notifier that hangs
// (a host's, honouring its context, which Run's never ends) keeps its
// notification pending for the next Deliver, and the rules are still
// evaluated. Run waited on it for ever: no quiet period resolved, no
// metric was read again.
func TestRunEvaluatesWhileANotifierHangs(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		hang := alert.NotifierFunc(func(ctx context.Context, _ alert.Alert) error {
			<-ctx.Done()
			return ctx.Err()
		})
		rules := []alert.Rule{{Name: "failed", Match: alert.Match{Kinds: []monitor.Kind{monitor.KindFailure}}, ResolveAfter: time.Minute}}
		a, l := newAlerter(t, alert.Config{Rules: rules, Interval: time.Minute}, alert.WithNotifier("hang", hang))
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx) }()
		synctest.Wait()
		e := event(monitor.KindFailure, "i-1", monitor.OutcomeFailed, 0)
		e.Time = time.Now() // the bubble's clock, which Run reads
		require.NoError(t, l.Record(ctx, e))
		synctest.Wait() // Run is delivering the firing notification, which hangs
		require.Len(t, a.Firing(), 1)
		<-time.After(3 * time.Minute) // fake time inside the synctest bubble
		synctest.Wait()
		assert.Empty(t, a.Firing(), "quiet for its ResolveAfter: resolved by an evaluation")
		assert.Equal(t, 2, a.Stats()[0].Pending, "the firing and the resolution wait for the notifier")
		cancel()
		require.NoError(t, <-done)
	})
}

// Run bounds each notifier's delivery by the interval, not the delivery
// of them all: a notifier that hangs (or fails slowly, a webhook's
// attempts taking longer than the interval) keeps its own notifications
// pending, and the next notifier still receives its own. With one bound
// for the whole Deliver, the hanging notifier used it up and the next one
// was handed a context already ended at every interval, so that none of
// its notifications was ever delivered, where the Deliver doc says "the
// others still receive theirs".
func TestRunDeliversToTheOthersWhileANotifierHangs(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		hang := alert.NotifierFunc(func(ctx context.Context, _ alert.Alert) error {
			<-ctx.Done()
			return ctx.Err()
		})
		var mu sync.Mutex
		var got []alert.Alert
		ok := alert.NotifierFunc(func(ctx context.Context, a alert.Alert) error {
			if err := ctx.Err(); err != nil { // as a request on an ended context fails
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			got = append(got, a)
			return nil
		})
		rules := []alert.Rule{{Name: "failed", Match: alert.Match{Kinds: []monitor.Kind{monitor.KindFailure}}}}
		a, l := newAlerter(t, alert.Config{Rules: rules, Interval: time.Minute},
			alert.WithNotifier("hang", hang), alert.WithNotifier("ok", ok))
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx) }()
		synctest.Wait()
		e := event(monitor.KindFailure, "i-1", monitor.OutcomeFailed, 0)
		e.Time = time.Now() // the bubble's clock, which Run reads
		require.NoError(t, l.Record(ctx, e))
		synctest.Wait()
		<-time.After(10 * time.Minute) // fake time inside the synctest bubble: ten intervals
		synctest.Wait()
		mu.Lock()
		assert.Len(t, got, 1, "the firing notification reached the notifier that works")
		mu.Unlock()
		st := a.Stats()
		require.Len(t, st, 2)
		assert.Equal(t, 1, st[0].Pending, "the hanging notifier keeps its notification")
		assert.Equal(t, 0, st[1].Pending, "the other one has none left")
		cancel()
		require.NoError(t, <-done)
	})
}

// Run delivers a notification an event causes while an evaluation is
// still reading the fleet: a large fleet's metric rules may read for
// longer than the interval (one query a resource), and an event's alert
// (a failed stop, a safety block) is not held back meanwhile. Run
// delivered only between evaluations, so the notification waited for the
// whole read.
func TestRunDeliversWhileAnEvaluationReads(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		cloud, err := memory.New(memory.Config{})
		require.NoError(t, err)
		require.NoError(t, cloud.Add(provider.Resource{ID: "i-1", Kind: provider.KindInstance}))
		reading := make(chan struct{})
		var once sync.Once
		slow := provider.MetricsSourceFunc(func(ctx context.Context, _ provider.Query) (provider.Series, error) {
			once.Do(func() { close(reading) })
			<-ctx.Done() // a read that takes until Run ends
			return provider.Series{}, ctx.Err()
		})
		rec := &recorder{}
		rules := []alert.Rule{
			{Name: "hot", Metric: provider.MetricCPU, Above: 0.9},
			{Name: "failed", Match: alert.Match{Kinds: []monitor.Kind{monitor.KindFailure}}},
		}
		a, l := newAlerter(t, alert.Config{Rules: rules, Interval: time.Minute},
			alert.WithNotifier("rec", rec), alert.WithFleet(alert.Fleet{Inventory: cloud, Metrics: slow}))
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx) }()
		<-reading
		e := event(monitor.KindFailure, "i-2", monitor.OutcomeFailed, 0)
		e.Time = time.Now() // the bubble's clock, which Run reads
		require.NoError(t, l.Record(ctx, e))
		synctest.Wait()
		assert.Equal(t, []string{"firing failed/i-2"}, rec.sent(), "delivered while the evaluation reads")
		cancel()
		require.NoError(t, <-done)
	})
}

// An Evaluate waiting for the one under way returns when its ctx ends,
// with an error matching ctx.Err(), and evaluates nothing, as its doc
// says. Mutation testing found it untested (every test passed with turn's
// error ignored, when the call went on to read the fleet beside the one
// under way, and then took that one's turn from it).
func TestEvaluateWaitingForItsTurnHonoursItsContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		cloud, err := memory.New(memory.Config{})
		require.NoError(t, err)
		require.NoError(t, cloud.Add(provider.Resource{ID: "i-1", Kind: provider.KindInstance}))
		release := make(chan struct{})
		var mu sync.Mutex
		reads := 0
		src := provider.MetricsSourceFunc(func(_ context.Context, q provider.Query) (provider.Series, error) {
			mu.Lock()
			reads++
			mu.Unlock()
			<-release
			return provider.Series{ResourceID: q.ResourceID, Metric: q.Metric, Start: q.Start, Step: q.Step, Values: []float64{0.1}}, nil
		})
		a, err := alert.New(alert.Config{}, alert.WithFleet(alert.Fleet{Inventory: cloud, Metrics: src}))
		require.NoError(t, err)
		done := make(chan error, 1)
		go func() { done <- a.Evaluate(context.Background(), t0) }()
		synctest.Wait() // the first evaluation reads, and waits
		mu.Lock()
		before := reads
		mu.Unlock()
		require.Positive(t, before)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		require.ErrorIs(t, a.Evaluate(ctx, t0.Add(time.Minute)), context.Canceled)
		mu.Lock()
		assert.Equal(t, before, reads, "it evaluated nothing")
		mu.Unlock()
		close(release)
		require.NoError(t, <-done)
	})
}

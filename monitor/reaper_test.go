package monitor_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	bclock "github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/internal/stepclock"
	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/reaper"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/scaling"
)

// sat is a Saturday at 03:00 UTC, outside the default business hours.
var sat = time.Date(2026, time.March, 7, 3, 0, 0, 0, time.UTC)

// idleCloud is a memory cloud on clk with idle instances launched a month
// ago, 8 days of flat CPU, and a fresh verified backup for those listed in
// backed.
func idleCloud(t *testing.T, clk *stepclock.Clock, cpu map[string]float64, backed ...string) *memory.Cloud {
	t.Helper()
	cloud, err := memory.New(memory.Config{StopDelay: time.Nanosecond}, memory.WithClock(clk))
	require.NoError(t, err)
	for id, v := range cpu {
		require.NoError(t, cloud.Add(provider.Resource{ID: id, Kind: provider.KindInstance, Name: id,
			LaunchTime: sat.Add(-30 * 24 * time.Hour), HourlyCost: 0.096, Size: provider.Size{InstanceType: "m5.large"}}))
		var samples []provider.Sample
		for at := sat.Add(-15 * 24 * time.Hour); at.Before(sat); at = at.Add(5 * time.Minute) {
			samples = append(samples, provider.Sample{Time: at, Value: v})
		}
		require.NoError(t, cloud.AddSamples(id, provider.MetricCPU, samples...))
	}
	for _, id := range backed {
		require.NoError(t, cloud.AddBackup(provider.Backup{ID: "snap-" + id, ResourceID: id, Time: sat.Add(-time.Hour),
			Complete: true, Verified: true}))
	}
	return cloud
}

// An executing reaper run, observed: every step of every resource is in
// the log, with the engine's own audited decisions beside the reaper's.
func TestReaperObserverExecutingRun(t *testing.T) {
	t.Parallel()
	clk := stepclock.New(sat)
	cloud := idleCloud(t, clk, map[string]float64{"i-idle": 0.01, "i-nobackup": 0.01, "i-busy": 0.7}, "i-idle")
	l, err := monitor.NewLog(monitor.LogConfig{})
	require.NoError(t, err)
	rules, err := safety.Builtin(safety.BuiltinConfig{}, safety.BuiltinSources{Backups: cloud, History: &safety.MemoryHistory{}})
	require.NoError(t, err)
	eng, err := safety.New(safety.Config{}, rules, safety.WithAuditor(monitor.Auditor(l)))
	require.NoError(t, err)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	obs := monitor.NewReaperObserver(l, monitor.WithObserverClock(clk))
	r, err := reaper.New(reaper.Config{Execute: true}, reaper.Fleet{Inventory: cloud, Metrics: cloud, Actuator: cloud},
		ens, eng, reaper.WithClock(clk), reaper.WithObserver(obs))
	require.NoError(t, err)
	rep, err := r.RunOnce(t.Context(), sat)
	require.NoError(t, err)
	require.Equal(t, 1, rep.Totals.Acted)
	require.NoError(t, obs.Err())

	byKind := func(id string) map[monitor.Kind][]monitor.Event {
		evs, err := l.Query(monitor.Query{ResourceID: id})
		require.NoError(t, err)
		m := map[monitor.Kind][]monitor.Event{}
		for _, e := range evs {
			m[e.Kind] = append(m[e.Kind], e)
		}
		return m
	}
	idle := byKind("i-idle")
	require.Len(t, idle[monitor.KindVerdict], 1)
	v := idle[monitor.KindVerdict][0]
	assert.Equal(t, string(detector.Idle), v.Outcome)
	assert.Greater(t, v.Confidence, 0.8)
	assert.Equal(t, safety.ActionStop, v.Action)
	assert.InDelta(t, 0.096*detector.HoursPerMonth, v.MonthlySavings, 1e-6)
	assert.Equal(t, sat, v.Time)
	assert.NotEmpty(t, v.Reason)
	require.Len(t, idle[monitor.KindDecision], 2, "the reaper's view and the engine's audit")
	sources := []string{idle[monitor.KindDecision][0].Source, idle[monitor.KindDecision][1].Source}
	assert.ElementsMatch(t, []string{monitor.SourceReaper, monitor.SourceSafety}, sources)
	for _, d := range idle[monitor.KindDecision] {
		assert.Equal(t, string(safety.Pass), d.Outcome)
		assert.Equal(t, sat, d.Time, "both at the proposal's now, so they can be matched")
	}
	require.Len(t, idle[monitor.KindAction], 1)
	a := idle[monitor.KindAction][0]
	assert.Equal(t, monitor.OutcomeDone, a.Outcome)
	assert.False(t, a.DryRun)
	require.NotNil(t, a.Cost)
	assert.InDelta(t, 0.096, a.Cost.Before, 1e-9)
	assert.InDelta(t, 0, a.Cost.After, 1e-9, "a stopped instance costs nothing per hour")
	require.Len(t, idle[monitor.KindVerification], 1)
	assert.Equal(t, monitor.OutcomeVerified, idle[monitor.KindVerification][0].Outcome)
	assert.False(t, idle[monitor.KindVerification][0].Time.Before(a.Time))

	nob := byKind("i-nobackup")
	require.Len(t, nob[monitor.KindBlocked], 2, "the reaper's view and the engine's audit")
	for _, b := range nob[monitor.KindBlocked] {
		assert.Contains(t, b.Rules, "backup")
		assert.Equal(t, string(safety.Block), b.Outcome)
	}
	assert.Empty(t, nob[monitor.KindAction])

	busy := byKind("i-busy")
	require.Len(t, busy[monitor.KindVerdict], 1)
	assert.Equal(t, string(detector.NotIdle), busy[monitor.KindVerdict][0].Outcome)
	assert.Len(t, busy, 1, "a skipped resource has only its verdict")
}

func TestReaperEventsByOutcome(t *testing.T) {
	t.Parallel()
	now := sat
	res := provider.Resource{ID: "i-1", Kind: provider.KindInstance, HourlyCost: 0.2}
	verdict := &detector.Verdict{ResourceID: "i-1", State: detector.Idle, Confidence: 0.9, Action: detector.ActionDownsize,
		MonthlySavings: 0.1 * detector.HoursPerMonth, Window: detector.Window{From: now.Add(-time.Hour), To: now}}
	tests := []struct {
		name  string
		give  reaper.Record
		kinds []monitor.Kind
		check func(t *testing.T, evs []monitor.Event)
	}{
		{"detection failed", reaper.Record{ResourceID: "i-1", Outcome: reaper.OutcomeFailed, Reason: "no verdict",
			Errors: []error{errors.New("metrics down")}},
			[]monitor.Kind{monitor.KindFailure}, func(t *testing.T, evs []monitor.Event) {
				assert.Equal(t, sat.Add(time.Hour), evs[0].Time, "no time of its own: the fallback")
				assert.Contains(t, evs[0].Reason, "metrics down")
			}},
		{"rate limited", reaper.Record{ResourceID: "i-1", Resource: res, Verdict: verdict, Action: safety.ActionResize,
			Outcome: reaper.OutcomeRateLimited, Reason: "denied: cooldown", Decision: &safety.Decision{Now: now, Outcome: safety.Pass, Allowed: true}},
			[]monitor.Kind{monitor.KindVerdict, monitor.KindDecision, monitor.KindRateLimited}, func(t *testing.T, evs []monitor.Event) {
				assert.Equal(t, "denied: cooldown", evs[2].Reason)
			}},
		{"would act, a downsize", reaper.Record{ResourceID: "i-1", Resource: res, Verdict: verdict, Action: safety.ActionResize, DryRun: true,
			Outcome: reaper.OutcomeWouldAct, Decision: &safety.Decision{Now: now, Outcome: safety.Pass, Allowed: true}},
			[]monitor.Kind{monitor.KindVerdict, monitor.KindDecision, monitor.KindAction}, func(t *testing.T, evs []monitor.Event) {
				a := evs[2]
				assert.Equal(t, monitor.OutcomeWouldAct, a.Outcome)
				assert.True(t, a.DryRun)
				require.NotNil(t, a.Cost)
				assert.InDelta(t, 0.2, a.Cost.Before, 1e-9)
				assert.InDelta(t, 0.1, a.Cost.After, 1e-9, "half the cost saved")
				assert.Equal(t, safety.ActionResize, evs[0].Action, "the verdict's downsize is a resize")
			}},
		{"deferred", reaper.Record{ResourceID: "i-1", Resource: res, Verdict: verdict, Action: safety.ActionResize, Outcome: reaper.OutcomeDeferred},
			[]monitor.Kind{monitor.KindVerdict, monitor.KindAction}, func(t *testing.T, evs []monitor.Event) {
				assert.Equal(t, monitor.OutcomeDeferred, evs[1].Outcome)
			}},
		{"unverified", reaper.Record{ResourceID: "i-1", Resource: res, Verdict: verdict, Action: safety.ActionResize,
			Outcome: reaper.OutcomeUnverified, ActedAt: now.Add(time.Minute), Errors: []error{reaper.ErrNotVerified}},
			[]monitor.Kind{monitor.KindVerdict, monitor.KindAction, monitor.KindVerification}, func(t *testing.T, evs []monitor.Event) {
				assert.Equal(t, now.Add(time.Minute), evs[1].Time, "the action at the time it was accepted")
				assert.Equal(t, monitor.OutcomeFailed, evs[2].Outcome)
				assert.Contains(t, evs[2].Reason, "not verified")
			}},
		{"needs approval", reaper.Record{ResourceID: "i-1", Resource: res, Verdict: verdict, Action: safety.ActionResize,
			Outcome: reaper.OutcomeNeedsApproval, ApprovalID: "a-1",
			Decision: &safety.Decision{Now: now, Outcome: safety.RequireApproval, ApprovalRequired: true, Risk: safety.RiskHigh}},
			[]monitor.Kind{monitor.KindVerdict, monitor.KindDecision}, func(t *testing.T, evs []monitor.Event) {
				assert.Equal(t, "a-1", evs[1].ApprovalID)
				assert.Equal(t, safety.RiskHigh, evs[1].Risk)
				assert.Equal(t, string(safety.RequireApproval), evs[1].Outcome)
			}},
		{"skipped, no cost known", reaper.Record{ResourceID: "i-1", Verdict: verdict, Outcome: reaper.OutcomeSkipped},
			[]monitor.Kind{monitor.KindVerdict}, nil},
		// Blocked before the Gate was asked: the block is recorded all the
		// same, with the approval that blocked it.
		{"blocked by a denied approval", reaper.Record{ResourceID: "i-1", Resource: res, Verdict: verdict, Action: safety.ActionResize,
			Outcome: reaper.OutcomeBlocked, ApprovalID: "a-1", Reason: "approval a-1 denied by bob: not asking again before 2026-03-07T07:00:00Z"},
			[]monitor.Kind{monitor.KindVerdict, monitor.KindBlocked}, func(t *testing.T, evs []monitor.Event) {
				require.Len(t, evs, 2)
				b := evs[1]
				assert.Equal(t, string(safety.Block), b.Outcome)
				assert.Equal(t, "a-1", b.ApprovalID)
				assert.Equal(t, "approval a-1 denied by bob: not asking again before 2026-03-07T07:00:00Z", b.Reason)
				assert.Equal(t, safety.ActionResize, b.Action)
			}},
		// The provider's call failed without saying that nothing changed:
		// the action is recorded as done (it may have happened), never as
		// accepted.
		{"a call that failed and may have acted", reaper.Record{ResourceID: "i-1", Resource: res, Verdict: verdict, Action: safety.ActionResize,
			Outcome: reaper.OutcomeActed, ActedAt: now.Add(time.Minute), Verified: true, VerifiedAt: now.Add(2 * time.Minute),
			Reason: "resize verified (the provider's call failed, but the change happened)",
			Errors: []error{&reaper.ResourceError{ResourceID: "i-1", Stage: reaper.StageAct, Err: errors.New("request timed out")}}},
			[]monitor.Kind{monitor.KindVerdict, monitor.KindAction, monitor.KindVerification}, func(t *testing.T, evs []monitor.Event) {
				assert.Equal(t, monitor.OutcomeDone, evs[1].Outcome)
				assert.Equal(t, "resize failed, the change may have happened: request timed out", evs[1].Reason)
				assert.Equal(t, monitor.OutcomeVerified, evs[2].Outcome)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			evs := monitor.ReaperEvents(tt.give, sat.Add(time.Hour))
			var kinds []monitor.Kind
			for _, e := range evs {
				kinds = append(kinds, e.Kind)
				require.NoError(t, e.Validate())
				assert.Equal(t, "i-1", e.ResourceID)
				assert.Equal(t, monitor.SourceReaper, e.Source)
			}
			assert.Equal(t, tt.kinds, kinds)
			if tt.check != nil {
				tt.check(t, evs)
			}
		})
	}
}

func TestReaperObserverReportAndErrors(t *testing.T) {
	t.Parallel()
	l, err := monitor.NewLog(monitor.LogConfig{})
	require.NoError(t, err)
	obs := monitor.NewReaperObserver(l)
	obs.ObserveReport(reaper.Report{Now: sat, DryRun: true, Totals: reaper.Totals{Resources: 9, Idle: 4, WouldAct: 1}}, nil)
	obs.ObserveReport(reaper.Report{Now: sat.Add(time.Hour)}, errors.New("inventory down"))
	runs, err := l.Query(monitor.Query{Kinds: []monitor.Kind{monitor.KindRun}})
	require.NoError(t, err)
	require.Len(t, runs, 2)
	assert.Equal(t, monitor.OutcomeDone, runs[0].Outcome)
	assert.InDelta(t, 9, runs[0].Value, 0)
	assert.Contains(t, runs[0].Reason, "4 idle")
	assert.Equal(t, monitor.OutcomeFailed, runs[1].Outcome)
	assert.Contains(t, runs[1].Reason, "inventory down")
	require.NoError(t, obs.Err())

	failing := monitor.NewReaperObserver(monitor.RecorderFunc(func(context.Context, ...monitor.Event) error {
		return errors.New("full")
	}))
	failing.ObserveReport(reaper.Report{Now: sat}, nil)
	require.Error(t, failing.Err())
	require.NoError(t, failing.Err(), "Err forgets what it returned")
	nilRec := monitor.NewReaperObserver(nil)
	nilRec.ObserveReport(reaper.Report{Now: sat}, nil)
	require.Error(t, nilRec.Err())
}

// An observer whose recorder keeps failing (a sink down for hours) while
// the host never calls Err keeps a bounded number of errors and counts
// the rest: every failure was kept, memory growing with every record.
func TestObserverKeepsABoundedNumberOfErrors(t *testing.T) {
	t.Parallel()
	obs := monitor.NewReaperObserver(monitor.RecorderFunc(func(context.Context, ...monitor.Event) error {
		return errors.New("disk full")
	}))
	for range 5000 {
		obs.ObserveReport(reaper.Report{Now: sat}, nil)
	}
	err := obs.Err()
	require.Error(t, err)
	joined, ok := err.(interface{ Unwrap() []error })
	require.True(t, ok)
	assert.LessOrEqual(t, len(joined.Unwrap()), 101, "a bounded number kept")
	assert.True(t, strings.HasPrefix(err.Error(), "disk full\n"), "the first ones are kept")
	assert.True(t, strings.HasSuffix(err.Error(), "monitor: 4900 more Record calls failed"), "and the rest counted")
	require.NoError(t, obs.Err(), "Err forgets what it returned, the count too")
}

// A nil *clock.Mock given to an observer (a host's test that declared its
// mock and forgot to make it) panicked on the first record, inside the
// reaper's or the engine's run: the observers have no error at
// construction, so each call records nothing and Err names the clock.
func TestObserversRefuseANilMockClock(t *testing.T) {
	t.Parallel()
	var mock *bclock.Mock
	rec := monitor.RecorderFunc(func(context.Context, ...monitor.Event) error {
		t.Error("an observer with a nil clock recorded")
		return nil
	})
	ro := monitor.NewReaperObserver(rec, monitor.WithObserverClock(mock))
	ro.ObserveRecord(reaper.Record{})
	ro.ObserveReport(reaper.Report{Now: sat}, nil)
	so := monitor.NewScalingObserver(rec, monitor.WithObserverClock(mock))
	so.Observe(scaling.Event{Target: "web"})
	for name, err := range map[string]error{"reaper": ro.Err(), "scaling": so.Err()} {
		require.ErrorIs(t, err, provider.ErrInvalid, name)
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, name)
		assert.Equal(t, "clock", ie.Field, name)
	}
	require.NoError(t, ro.Err(), "Err forgets what it returned")

	// The real clock, given as nil, is the default and records.
	var got int
	ok2 := monitor.NewReaperObserver(monitor.RecorderFunc(func(_ context.Context, evs ...monitor.Event) error {
		got += len(evs)
		return nil
	}), monitor.WithObserverClock(nil))
	ok2.ObserveReport(reaper.Report{}, nil)
	require.NoError(t, ok2.Err())
	assert.Equal(t, 1, got)
}

package reaper_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	bclock "github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/reaper"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/approval"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		give  reaper.Config
		field string // "" when valid
	}{
		{name: "zero value", give: reaper.Config{}},
		{name: "every action", give: reaper.Config{Actions: []detector.Action{detector.ActionStop, detector.ActionTerminate, detector.ActionDownsize}}},
		{name: "confidence of exactly one", give: reaper.Config{MinConfidence: 1}},
		{name: "confidence above one", give: reaper.Config{MinConfidence: 1.5}, field: "min_confidence"},
		{name: "confidence just above one", give: reaper.Config{MinConfidence: math.Nextafter(1, 2)}, field: "min_confidence"},
		{name: "negative confidence", give: reaper.Config{MinConfidence: -0.1}, field: "min_confidence"},
		{name: "NaN confidence", give: reaper.Config{MinConfidence: nan()}, field: "min_confidence"},
		{name: "schedule action", give: reaper.Config{Actions: []detector.Action{detector.ActionStop, detector.ActionSchedule}}, field: "actions[1]"},
		{name: "unknown action", give: reaper.Config{Actions: []detector.Action{"explode"}}, field: "actions[0]"},
		{name: "repeated action", give: reaper.Config{Actions: []detector.Action{detector.ActionStop, detector.ActionStop}}, field: "actions[1]"},
		{name: "negative max actions", give: reaper.Config{MaxActions: -1}, field: "max_actions"},
		{name: "negative verify timeout", give: reaper.Config{VerifyTimeout: -time.Second}, field: "verify_timeout"},
		{name: "negative verify interval", give: reaper.Config{VerifyInterval: -time.Second}, field: "verify_interval"},
		{name: "interval above timeout", give: reaper.Config{VerifyTimeout: time.Second, VerifyInterval: time.Minute}, field: "verify_interval"},
		{name: "interval equal to the timeout", give: reaper.Config{VerifyTimeout: time.Minute, VerifyInterval: time.Minute}},
		{name: "negative run interval", give: reaper.Config{Interval: -time.Hour}, field: "interval"},
		{name: "bad filter", give: reaper.Config{Filter: provider.Filter{Kinds: []provider.Kind{"spaceship"}}}, field: "filter.kind"},
		{name: "requester with a hidden control", give: reaper.Config{Requester: "reaper\x00"}, field: "requester"},
		{name: "blank requester", give: reaper.Config{Requester: " \u200b"}, field: "requester"},
		{name: "requester named", give: reaper.Config{Requester: "reaper-eu"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.give.Validate()
			if tt.field == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, provider.ErrInvalid)
			var inv *provider.InvalidError
			require.ErrorAs(t, err, &inv)
			assert.Equal(t, tt.field, inv.Field)
		})
	}
}

func nan() float64 { z := 0.0; return z / z }

func TestNewRejectsMissingDependencies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	full := e.fleet()
	tests := []struct {
		name  string
		cfg   reaper.Config
		fleet reaper.Fleet
		det   detector.Detector
		gate  reaper.Gate
		opts  []reaper.Option
		field string
	}{
		{name: "bad config", cfg: reaper.Config{MaxActions: -2}, fleet: full, det: e.ensemble, gate: e.engine, field: "max_actions"},
		{name: "no inventory", fleet: reaper.Fleet{Metrics: e.cloud}, det: e.ensemble, gate: e.engine, field: "fleet.inventory"},
		{name: "no metrics", fleet: reaper.Fleet{Inventory: e.cloud}, det: e.ensemble, gate: e.engine, field: "fleet.metrics"},
		{name: "no detector", fleet: full, gate: e.engine, field: "detector"},
		{name: "no gate", fleet: full, det: e.ensemble, field: "gate"},
		{name: "nil engine as gate", fleet: full, det: e.ensemble, gate: (*safety.Engine)(nil), field: "gate"},
		{name: "execute without actuator", cfg: reaper.Config{Execute: true}, fleet: reaper.Fleet{Inventory: e.cloud, Metrics: e.cloud}, det: e.ensemble, gate: e.engine, field: "fleet.actuator"},
		{name: "downsize without sizer", cfg: reaper.Config{Actions: []detector.Action{detector.ActionDownsize}}, fleet: full, det: e.ensemble, gate: e.engine, field: "sizer"},
		{name: "downsize with a nil sizer", cfg: reaper.Config{Actions: []detector.Action{detector.ActionDownsize}}, fleet: full, det: e.ensemble, gate: e.engine, opts: []reaper.Option{reaper.WithSizer(nil)}, field: "sizer"},
		// Nil pointers are not nil interfaces: they passed New and the
		// first run panicked.
		{name: "nil mock as clock", fleet: full, det: e.ensemble, gate: e.engine, opts: []reaper.Option{reaper.WithClock((*bclock.Mock)(nil))}, field: "clock"},
		{name: "nil cloud as inventory", fleet: reaper.Fleet{Inventory: (*memory.Cloud)(nil), Metrics: e.cloud}, det: e.ensemble, gate: e.engine, field: "fleet.inventory"},
		{name: "nil cloud as metrics", fleet: reaper.Fleet{Inventory: e.cloud, Metrics: (*memory.Cloud)(nil)}, det: e.ensemble, gate: e.engine, field: "fleet.metrics"},
		{name: "nil ensemble as detector", fleet: full, det: (*detector.Ensemble)(nil), gate: e.engine, field: "detector"},
		// An Activity source is optional, but a nil pointer or func is
		// not none: the run read it, for the detector and again before
		// the gate, and panicked.
		{name: "nil cloud as activity", fleet: reaper.Fleet{Inventory: e.cloud, Metrics: e.cloud, Activity: (*memory.Cloud)(nil)}, det: e.ensemble, gate: e.engine, field: "fleet.activity"},
		{name: "nil func as activity", fleet: reaper.Fleet{Inventory: e.cloud, Metrics: e.cloud, Activity: provider.ActivitySourceFunc(nil)}, det: e.ensemble, gate: e.engine, field: "fleet.activity"},
		{name: "execute with a nil cloud as actuator", cfg: reaper.Config{Execute: true}, fleet: reaper.Fleet{Inventory: e.cloud, Metrics: e.cloud, Actuator: (*memory.Cloud)(nil)}, det: e.ensemble, gate: e.engine, field: "fleet.actuator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := reaper.New(tt.cfg, tt.fleet, tt.det, tt.gate, tt.opts...)
			require.ErrorIs(t, err, provider.ErrInvalid)
			var inv *provider.InvalidError
			require.ErrorAs(t, err, &inv)
			assert.Equal(t, tt.field, inv.Field)
		})
	}
	t.Run("dry run needs no actuator", func(t *testing.T) {
		t.Parallel()
		r, err := reaper.New(reaper.Config{}, reaper.Fleet{Inventory: e.cloud, Metrics: e.cloud}, e.ensemble, e.engine)
		require.NoError(t, err)
		c := r.Config()
		assert.False(t, c.Execute)
		assert.InDelta(t, 0.8, c.MinConfidence, 1e-12)
		assert.Equal(t, []detector.Action{detector.ActionStop}, c.Actions)
		assert.Equal(t, 10, c.MaxActions)
		assert.Equal(t, "reaper", c.Requester)
		assert.Equal(t, 5*time.Minute, c.VerifyTimeout)
	})
}

func TestRunOnceRejectsZeroNow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	_, err := e.reaper(t, reaper.Config{}).RunOnce(t.Context(), time.Time{})
	require.ErrorIs(t, err, provider.ErrInvalid)
}

func TestDryRunChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t,
		vm{id: "i-idle", cpu: 0.02},
		vm{id: "i-busy", cpu: 0.6},
		vm{id: "i-prod", cpu: 0.02, env: "production"},
		vm{id: "i-nobackup", cpu: 0.02, noBack: true},
	)
	before := e.cloud.Mutations()
	var observed []string
	r := e.reaper(t, reaper.Config{}, reaper.WithObserver(reaper.ObserverFuncs{Record: func(rec reaper.Record) { observed = append(observed, rec.ResourceID) }}))
	rep, err := r.RunOnce(t.Context(), t0)
	require.NoError(t, err)

	assert.Equal(t, before, e.cloud.Mutations(), "a dry run must not change the cloud")
	assert.Empty(t, e.audit.Events(), "a dry run records no audit event")
	reqs, err := e.store.List(t.Context(), approval.Filter{})
	require.NoError(t, err)
	assert.Empty(t, reqs, "a dry run requests no approval")

	assert.True(t, rep.DryRun)
	idle := record(t, rep, "i-idle")
	assert.Equal(t, reaper.OutcomeWouldAct, idle.Outcome)
	assert.Equal(t, safety.ActionStop, idle.Action)
	assert.True(t, idle.DryRun)
	assert.False(t, idle.Verified)
	assert.InDelta(t, 0.096*detector.HoursPerMonth, idle.MonthlySavings, 1e-9)
	assert.Equal(t, reaper.OutcomeSkipped, record(t, rep, "i-busy").Outcome)
	prod := record(t, rep, "i-prod")
	assert.Equal(t, reaper.OutcomeNeedsApproval, prod.Outcome)
	assert.Empty(t, prod.ApprovalID)
	noBackup := record(t, rep, "i-nobackup")
	assert.Equal(t, reaper.OutcomeBlocked, noBackup.Outcome)
	assert.Equal(t, []string{"backup"}, noBackup.BlockedBy)

	assert.Equal(t, []string{"i-busy", "i-idle", "i-nobackup", "i-prod"}, observed)
	assert.Equal(t, reaper.Totals{
		Resources: 4, Idle: 3, Skipped: 1, WouldAct: 1, NeedsApproval: 1, Blocked: 1,
		EstimatedMonthlySavings: 0.096 * detector.HoursPerMonth,
	}, rep.Totals)
	require.NoError(t, rep.Err())
}

func TestExecuteStopsOnlyAllowedIdleResourcesAndVerifies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t,
		vm{id: "i-idle", cpu: 0.02},
		vm{id: "i-idle2", cpu: 0.03},
		vm{id: "i-busy", cpu: 0.6},
		vm{id: "i-low", cpu: 0.25}, // downsize recommended, not allowed by default
	)
	r := e.reaper(t, reaper.Config{Execute: true})
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	require.NoError(t, rep.Err())

	for _, id := range []string{"i-idle", "i-idle2"} {
		rec := record(t, rep, id)
		assert.Equal(t, reaper.OutcomeActed, rec.Outcome, id)
		assert.True(t, rec.Verified, id)
		assert.Equal(t, provider.StateStopped, rec.FinalState, id)
		assert.False(t, rec.VerifiedAt.Before(rec.ActedAt.Add(30*time.Second)), "stopped no sooner than StopDelay after the stop")
		require.NotNil(t, rec.Decision)
		assert.True(t, rec.Decision.Allowed)
		got, err := e.cloud.Get(t.Context(), id)
		require.NoError(t, err)
		assert.Equal(t, provider.StateStopped, got.State)
	}
	assert.Equal(t, reaper.OutcomeSkipped, record(t, rep, "i-busy").Outcome)
	low := record(t, rep, "i-low")
	assert.Equal(t, reaper.OutcomeSkipped, low.Outcome)
	assert.Contains(t, low.Reason, "downsize not allowed")

	acts := e.actions()
	require.Len(t, acts, 2)
	assert.Equal(t, memory.OpStop, acts[0].Op)
	assert.Equal(t, "i-idle", acts[0].ResourceID)
	assert.Equal(t, "i-idle2", acts[1].ResourceID)

	assert.Equal(t, 2, rep.Totals.Acted)
	assert.InDelta(t, 2*0.096*detector.HoursPerMonth, rep.Totals.RealisedMonthlySavings, 1e-9)
	assert.InDelta(t, rep.Totals.EstimatedMonthlySavings, rep.Totals.RealisedMonthlySavings, 1e-9)
	n, err := e.history.ActedOn(t.Context(), "i-idle", t0.Add(-time.Minute))
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the action is recorded in the safety history")

	// The next run finds the stopped resources and leaves them alone.
	rep, err = e.run(t.Context(), t, r, e.clock.Now())
	require.NoError(t, err)
	assert.Equal(t, reaper.OutcomeSkipped, record(t, rep, "i-idle").Outcome)
	assert.Len(t, e.actions(), 2)
}

func TestVerifyTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{StopDelay: 10 * time.Minute})
	e.add(t, vm{id: "i-slow", cpu: 0.02})
	r := e.reaper(t, reaper.Config{Execute: true, VerifyTimeout: time.Minute, VerifyInterval: 15 * time.Second})
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	rec := record(t, rep, "i-slow")
	assert.Equal(t, reaper.OutcomeUnverified, rec.Outcome)
	assert.False(t, rec.Verified)
	assert.Equal(t, provider.StateStopping, rec.FinalState)
	require.ErrorIs(t, rec.Err(), reaper.ErrNotVerified)
	var re *reaper.ResourceError
	require.ErrorAs(t, rec.Err(), &re)
	assert.Equal(t, reaper.StageVerify, re.Stage)
	assert.Equal(t, 1, rep.Totals.Unverified)
	assert.InDelta(t, 0.096*detector.HoursPerMonth, rep.Totals.EstimatedMonthlySavings, 1e-9)
	assert.Zero(t, rep.Totals.RealisedMonthlySavings)
}

func TestSafetyBlocks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		give    vm
		actions []detector.Action
		want    reaper.Outcome
		rules   []string
	}{
		{name: "no backup", give: vm{id: "i-1", cpu: 0.02, noBack: true}, want: reaper.OutcomeBlocked, rules: []string{"backup"}},
		{name: "production needs approval", give: vm{id: "i-1", cpu: 0.02, env: "production"}, want: reaper.OutcomeNeedsApproval},
		{name: "protected tag", give: vm{id: "i-1", cpu: 0.02, tags: map[string]string{"do-not-stop": "yes"}}, want: reaper.OutcomeNeedsApproval},
		{name: "critical and no backup", give: vm{id: "i-1", cpu: 0.02, env: "production", noBack: true}, want: reaper.OutcomeBlocked, rules: []string{"backup"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, memory.Config{})
			e.add(t, tt.give)
			r := e.reaper(t, reaper.Config{Execute: true, Actions: tt.actions})
			rep, err := e.run(t.Context(), t, r, t0)
			require.NoError(t, err)
			rec := record(t, rep, tt.give.id)
			assert.Equal(t, tt.want, rec.Outcome)
			assert.Equal(t, tt.rules, rec.BlockedBy)
			require.NotNil(t, rec.Decision)
			assert.False(t, rec.Decision.Allowed)
			assert.Empty(t, e.actions(), "nothing may be done to a blocked resource")
		})
	}
}

// A safety rule that cannot decide blocks (fail closed) and its error is kept.
func TestSafetyErrorFailsClosed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-1", cpu: 0.02}, vm{id: "i-2", cpu: 0.02})
	_, err := e.cloud.InjectFault(memory.Fault{Op: memory.OpBackups, ResourceID: "i-1"})
	require.NoError(t, err)
	rep, err := e.run(t.Context(), t, e.reaper(t, reaper.Config{Execute: true}), t0)
	require.NoError(t, err)
	rec := record(t, rep, "i-1")
	assert.Equal(t, reaper.OutcomeBlocked, rec.Outcome)
	require.ErrorIs(t, rec.Err(), safety.ErrRuleFailed)
	require.ErrorIs(t, rec.Err(), memory.ErrInjected)
	assert.Equal(t, reaper.OutcomeActed, record(t, rep, "i-2").Outcome, "one failing resource does not stop the run")
	require.ErrorIs(t, rep.Err(), memory.ErrInjected)
	acts := e.actions()
	require.Len(t, acts, 1)
	assert.Equal(t, "i-2", acts[0].ResourceID)
}

func TestApprovalFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-prod", cpu: 0.02, env: "production"})
	r := e.reaper(t, reaper.Config{Execute: true})

	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	rec := record(t, rep, "i-prod")
	require.Equal(t, reaper.OutcomeNeedsApproval, rec.Outcome)
	require.NotEmpty(t, rec.ApprovalID)
	id := rec.ApprovalID
	req, err := e.approvals.Get(t.Context(), id)
	require.NoError(t, err)
	assert.Equal(t, approval.Pending, req.State)
	assert.Equal(t, "reaper", req.Requester)
	assert.Empty(t, e.actions())

	// A second run while pending asks nothing new.
	rep, err = e.run(t.Context(), t, r, t0.Add(10*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, id, record(t, rep, "i-prod").ApprovalID)
	reqs, err := e.store.List(t.Context(), approval.Filter{})
	require.NoError(t, err)
	assert.Len(t, reqs, 1)

	_, err = e.approvals.Approve(t.Context(), id, "reaper", t0.Add(15*time.Minute), "")
	require.ErrorIs(t, err, approval.ErrSelfApproval)
	_, err = e.approvals.Approve(t.Context(), id, "alice", t0.Add(15*time.Minute), "ok")
	require.NoError(t, err)

	// A dry run with the approval would act but does not consume it.
	dry := e.reaper(t, reaper.Config{})
	e.clock.Set(t0.Add(20 * time.Minute))
	rep, err = dry.RunOnce(t.Context(), t0.Add(20*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, reaper.OutcomeWouldAct, record(t, rep, "i-prod").Outcome)
	req, err = e.approvals.Get(t.Context(), id)
	require.NoError(t, err)
	assert.Equal(t, approval.Approved, req.State)

	rep, err = e.run(t.Context(), t, r, t0.Add(30*time.Minute))
	require.NoError(t, err)
	rec = record(t, rep, "i-prod")
	assert.Equal(t, reaper.OutcomeActed, rec.Outcome)
	assert.Equal(t, id, rec.ApprovalID)
	require.NotNil(t, rec.Decision)
	assert.True(t, rec.Decision.Approved)
	req, err = e.approvals.Get(t.Context(), id)
	require.NoError(t, err)
	assert.Equal(t, approval.Executed, req.State, "the approval is consumed once")
	acts := e.actions()
	require.Len(t, acts, 1)
	assert.Equal(t, memory.OpStop, acts[0].Op)

	var kinds []safety.AuditKind
	for _, ev := range e.audit.Events() {
		if ev.Kind != safety.AuditDecision {
			kinds = append(kinds, ev.Kind)
		}
	}
	assert.Equal(t, []safety.AuditKind{safety.AuditApprovalRequested, safety.AuditApprovalApproved,
		safety.AuditApprovalClaimed, safety.AuditApprovalExecuted}, kinds)
}

func TestApprovalExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-prod", cpu: 0.02, env: "production"})
	r := e.reaper(t, reaper.Config{Execute: true})

	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	first := record(t, rep, "i-prod").ApprovalID
	require.NotEmpty(t, first)

	// Approving after the 4 h TTL fails; the request is expired.
	_, err = e.approvals.Approve(t.Context(), first, "alice", t0.Add(4*time.Hour+time.Minute), "")
	require.ErrorIs(t, err, approval.ErrExpired)

	// The next run asks again, with a new request.
	later := t0.Add(5 * time.Hour)
	e.clock.Set(later)
	rep, err = e.run(t.Context(), t, r, later)
	require.NoError(t, err)
	rec := record(t, rep, "i-prod")
	require.Equal(t, reaper.OutcomeNeedsApproval, rec.Outcome)
	second := rec.ApprovalID
	require.NotEmpty(t, second)
	assert.NotEqual(t, first, second)

	// Approved, but the run comes after expiry: the reaper expires it and
	// asks again rather than act.
	_, err = e.approvals.Approve(t.Context(), second, "alice", later.Add(time.Hour), "")
	require.NoError(t, err)
	tooLate := later.Add(4*time.Hour + time.Second)
	e.clock.Set(tooLate)
	rep, err = e.run(t.Context(), t, r, tooLate)
	require.NoError(t, err)
	rec = record(t, rep, "i-prod")
	assert.Equal(t, reaper.OutcomeNeedsApproval, rec.Outcome)
	assert.NotEqual(t, second, rec.ApprovalID)
	req, err := e.approvals.Get(t.Context(), second)
	require.NoError(t, err)
	assert.Equal(t, approval.Expired, req.State)
	assert.Empty(t, e.actions(), "an expired approval never executes")
}

func TestApprovalDeniedIsNotAskedAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-prod", cpu: 0.02, env: "production"})
	r := e.reaper(t, reaper.Config{Execute: true})
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	id := record(t, rep, "i-prod").ApprovalID
	_, err = e.approvals.Deny(t.Context(), id, "alice", t0.Add(time.Minute), "not now")
	require.NoError(t, err)

	rep, err = e.run(t.Context(), t, r, t0.Add(time.Hour))
	require.NoError(t, err)
	rec := record(t, rep, "i-prod")
	assert.Equal(t, reaper.OutcomeBlocked, rec.Outcome)
	assert.Equal(t, id, rec.ApprovalID)
	assert.Contains(t, rec.Reason, "denied by alice")
	reqs, err := e.store.List(t.Context(), approval.Filter{})
	require.NoError(t, err)
	assert.Len(t, reqs, 1)
	assert.Empty(t, e.actions())
}

func TestProviderFaultsAreRecorded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t,
		vm{id: "i-err", cpu: 0.02},
		vm{id: "i-ok", cpu: 0.02},
		vm{id: "i-throttled", cpu: 0.02},
		vm{id: "i-nometrics", cpu: 0.02},
		vm{id: "i-getfails", cpu: 0.02},
	)
	boom := errors.New("api exploded")
	for _, f := range []memory.Fault{
		{Op: memory.OpStop, ResourceID: "i-err", Err: boom},
		{Op: memory.OpStop, ResourceID: "i-throttled", Throttle: true},
		{Op: memory.OpQueryMetric, ResourceID: "i-nometrics"},
		{Op: memory.OpGet, ResourceID: "i-getfails"},
	} {
		_, err := e.cloud.InjectFault(f)
		require.NoError(t, err)
	}
	lim, err := ratelimit.New(ratelimit.Config{Global: ratelimit.Budget{Events: 10, Window: time.Hour}})
	require.NoError(t, err)
	r := e.reaper(t, reaper.Config{Execute: true}, reaper.WithReserver(lim))
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)

	tests := []struct {
		id    string
		want  reaper.Outcome
		stage reaper.Stage
		cause error
	}{
		{id: "i-err", want: reaper.OutcomeUnverified, stage: reaper.StageAct, cause: boom}, // may have happened: verified, and it did not
		{id: "i-throttled", want: reaper.OutcomeFailed, stage: reaper.StageAct, cause: provider.ErrThrottled},
		{id: "i-nometrics", want: reaper.OutcomeSkipped, stage: reaper.StageDetect, cause: memory.ErrInjected},
		{id: "i-getfails", want: reaper.OutcomeFailed, stage: reaper.StageInventory, cause: memory.ErrInjected},
	}
	for _, tt := range tests {
		rec := record(t, rep, tt.id)
		assert.Equal(t, tt.want, rec.Outcome, tt.id)
		require.ErrorIs(t, rec.Err(), tt.cause, tt.id)
		var re *reaper.ResourceError
		require.ErrorAs(t, rec.Err(), &re, tt.id)
		assert.Equal(t, tt.stage, re.Stage, tt.id)
		assert.Equal(t, tt.id, re.ResourceID)
		require.ErrorIs(t, rep.Err(), tt.cause, "the report keeps %s's error", tt.id)
	}
	assert.Equal(t, reaper.OutcomeActed, record(t, rep, "i-ok").Outcome)
	// i-err's stop failed and was then not verified; i-nometrics fails
	// once per metric the ensemble reads (cpu, memory, network and disk
	// utilization, network in and out, disk read and write): 2 + 1 + 8 +
	// 1 errors, none dropped.
	assert.Equal(t, 12, rep.Totals.Errors)
	assert.Contains(t, record(t, rep, "i-err").Reason, "stop failed, the change may have happened, but not verified (state running)")
	require.ErrorIs(t, record(t, rep, "i-err").Err(), reaper.ErrNotVerified)
	assert.Len(t, record(t, rep, "i-nometrics").Errors, 8)

	// The throttled stop changed nothing, so its budget was refunded; the
	// failed one with an unknown cause keeps it (spent, never exceeded).
	// The stats are read at the last reservation: the run judges (and
	// reserves) at t0 plus the minutes it has taken on the clock, which
	// e.run advances while the run goes on, so on a loaded machine that is
	// after t0, and stats at t0 saw none of them.
	last := t0
	for _, rec := range rep.Records {
		if rec.RateLimit != nil && rec.RateLimit.At.After(last) {
			last = rec.RateLimit.At
		}
	}
	stats, err := lim.StatsAt(t.Context(), last)
	require.NoError(t, err)
	require.NotEmpty(t, stats.Buckets)
	global := stats.Buckets[0]
	assert.Equal(t, 2, global.InWindow, "i-ok and i-err count; i-throttled was refunded")
}

func TestRateLimitDeniesAfterBudget(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-1", cpu: 0.02}, vm{id: "i-2", cpu: 0.02}, vm{id: "i-3", cpu: 0.02}, vm{id: "i-4", cpu: 0.02})
	lim, err := ratelimit.New(ratelimit.Config{Global: ratelimit.Budget{Events: 2, Window: time.Hour}})
	require.NoError(t, err)
	r := e.reaper(t, reaper.Config{Execute: true}, reaper.WithReserver(lim))
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	assert.Equal(t, reaper.OutcomeActed, record(t, rep, "i-1").Outcome)
	assert.Equal(t, reaper.OutcomeActed, record(t, rep, "i-2").Outcome)
	for _, id := range []string{"i-3", "i-4"} {
		rec := record(t, rep, id)
		assert.Equal(t, reaper.OutcomeRateLimited, rec.Outcome, id)
		require.NotNil(t, rec.RateLimit)
		assert.Equal(t, ratelimit.Denied, rec.RateLimit.Outcome)
		assert.Equal(t, ratelimit.ScopeGlobal, rec.RateLimit.Scope)
	}
	assert.Equal(t, 2, rep.Totals.RateLimited)
	assert.Len(t, e.actions(), 2)

	// An hour later the budget is back.
	later := t0.Add(time.Hour + time.Minute)
	rep, err = e.run(t.Context(), t, r, later)
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Totals.Acted)
	assert.Len(t, e.actions(), 4)
}

func TestMaxActionsDefers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-1", cpu: 0.02}, vm{id: "i-2", cpu: 0.02}, vm{id: "i-3", cpu: 0.02})
	rep, err := e.run(t.Context(), t, e.reaper(t, reaper.Config{Execute: true, MaxActions: 1}), t0)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Totals.Acted)
	assert.Equal(t, 2, rep.Totals.Deferred)
	assert.Equal(t, reaper.OutcomeDeferred, record(t, rep, "i-3").Outcome)
	assert.Len(t, e.actions(), 1)
}

func TestLowConfidenceSkipped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-1", cpu: 0.02})
	// A detector whose idle verdicts are not sure enough.
	det := detector.Func(func(_ context.Context, in detector.Input) (detector.Verdict, error) {
		return detector.Verdict{ResourceID: in.Resource.ID, State: detector.Idle, Confidence: 0.85, Action: detector.ActionStop}, nil
	})
	r, err := reaper.New(reaper.Config{Execute: true, MinConfidence: 0.9}, e.fleet(), det, e.engine, reaper.WithClock(e.waitClock()))
	require.NoError(t, err)
	rep, err := r.RunOnce(t.Context(), t0)
	require.NoError(t, err)
	rec := record(t, rep, "i-1")
	assert.Equal(t, reaper.OutcomeSkipped, rec.Outcome)
	assert.Contains(t, rec.Reason, "below 0.90")
	assert.Nil(t, rec.Decision)
	assert.Empty(t, e.actions())
}

func TestDownsize(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-low", cpu: 0.25, itype: "m5.xlarge"})
	smaller := map[string]string{"m5.xlarge": "m5.large"}
	sizer := reaper.SizerFunc(func(_ context.Context, r provider.Resource) (provider.Size, error) {
		to, ok := smaller[r.Size.InstanceType]
		if !ok {
			return provider.Size{}, provider.ErrUnsupported
		}
		return provider.Size{InstanceType: to}, nil
	})
	r := e.reaper(t, reaper.Config{Execute: true, Actions: []detector.Action{detector.ActionDownsize}}, reaper.WithSizer(sizer))
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	rec := record(t, rep, "i-low")
	require.Equal(t, reaper.OutcomeActed, rec.Outcome, rec.String())
	assert.Equal(t, safety.ActionResize, rec.Action)
	assert.Equal(t, "m5.large", rec.TargetSize.InstanceType)
	got, err := e.cloud.Get(t.Context(), "i-low")
	require.NoError(t, err)
	assert.Equal(t, "m5.large", got.Size.InstanceType)
	acts := e.actions()
	require.Len(t, acts, 1)
	assert.Equal(t, memory.OpResize, acts[0].Op)
}

func TestContextCancelled(t *testing.T) {
	t.Parallel()
	t.Run("before the run", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, memory.Config{})
		e.add(t, vm{id: "i-1", cpu: 0.02})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := e.reaper(t, reaper.Config{Execute: true}).RunOnce(ctx, t0)
		require.ErrorIs(t, err, context.Canceled)
		assert.Empty(t, e.actions())
	})
	t.Run("while verifying", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, memory.Config{})
		e.add(t, vm{id: "i-1", cpu: 0.02})
		r := e.reaper(t, reaper.Config{Execute: true})
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		type result struct {
			rep reaper.Report
			err error
		}
		done := make(chan result, 1)
		go func() {
			rep, err := r.RunOnce(ctx, t0)
			done <- result{rep, err}
		}()
		// The mock clock does not move: RunOnce stops, then waits to verify.
		waitFor(t, func() bool { return len(e.actions()) == 1 })
		cancel()
		res := <-done
		require.ErrorIs(t, res.err, context.Canceled)
		rec := record(t, res.rep, "i-1")
		assert.Equal(t, reaper.OutcomeUnverified, rec.Outcome)
		require.ErrorIs(t, rec.Err(), context.Canceled)
		assert.Equal(t, provider.StateStopping, rec.FinalState)
	})
}

// waitFor polls cond every millisecond for at most 10 seconds of real time.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatal("condition not met within 10s")
		case <-tick.C:
		}
	}
}

func TestRunLoop(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-1", cpu: 0.02})
	runs := make(chan reaper.Report, 10)
	r := e.reaper(t, reaper.Config{Interval: 30 * time.Minute},
		reaper.WithObserver(reaper.ObserverFuncs{Report: func(rep reaper.Report, err error) {
			assert.NoError(t, err)
			runs <- rep
		}}))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()

	first := <-runs
	assert.Equal(t, t0, first.Now)
	assert.Equal(t, 1, first.Totals.WouldAct)
	select {
	case <-runs:
		t.Fatal("a second run before the interval passed")
	default:
	}
	// The loop waits on the clock: advance until the next run happens.
	waitFor(t, func() bool {
		e.clock.Add(time.Minute)
		return len(runs) > 0
	})
	second := <-runs
	// The clock moves a minute at a time, so the second run starts at the
	// first step at or after the interval.
	assert.False(t, second.Now.Before(t0.Add(30*time.Minute)), "second run at %v", second.Now)
	assert.False(t, second.Now.After(e.clock.Now()))
	cancel()
	require.NoError(t, <-done, "Run returns nil when ctx ends")
	assert.Empty(t, e.actions())
}

func TestTerminateNeedsApprovalThenVerifies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-old", cpu: 0.02})
	// A detector that recommends terminating (the ensemble does so only for
	// kinds that cannot be stopped).
	det := detector.Func(func(_ context.Context, in detector.Input) (detector.Verdict, error) {
		return detector.Verdict{ResourceID: in.Resource.ID, State: detector.Idle, Confidence: 0.95, Action: detector.ActionTerminate, MonthlySavings: 70}, nil
	})
	cfg := reaper.Config{Execute: true, Actions: []detector.Action{detector.ActionStop, detector.ActionTerminate}}
	r, err := reaper.New(cfg, e.fleet(), det, e.engine, reaper.WithClock(e.waitClock()), reaper.WithApprovals(e.approvals))
	require.NoError(t, err)

	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	rec := record(t, rep, "i-old")
	require.Equal(t, reaper.OutcomeNeedsApproval, rec.Outcome, "terminate cannot be undone: the rollback rule asks a human")
	assert.Equal(t, safety.ActionTerminate, rec.Action)
	_, err = e.approvals.Approve(t.Context(), rec.ApprovalID, "bob", t0.Add(time.Minute), "")
	require.NoError(t, err)

	rep, err = e.run(t.Context(), t, r, t0.Add(5*time.Minute))
	require.NoError(t, err)
	rec = record(t, rep, "i-old")
	assert.Equal(t, reaper.OutcomeActed, rec.Outcome)
	assert.Equal(t, provider.StateTerminated, rec.FinalState)
	acts := e.actions()
	require.Len(t, acts, 1)
	assert.Equal(t, memory.OpTerminate, acts[0].Op)
}

// With a fleet tag the safety engine's limits rule sees the fleet's size and
// the actions the reaper recorded in the history: at most half of a fleet
// is acted on per hour.
func TestFleetShareLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	tags := map[string]string{"fleet": "batch"}
	e.add(t, vm{id: "i-1", cpu: 0.02, tags: tags}, vm{id: "i-2", cpu: 0.02, tags: tags},
		vm{id: "i-3", cpu: 0.02, tags: tags}, vm{id: "i-4", cpu: 0.02, tags: tags})
	rep, err := e.run(t.Context(), t, e.reaper(t, reaper.Config{Execute: true, FleetTag: "fleet"}), t0)
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Totals.Acted)
	assert.Equal(t, 2, rep.Totals.Blocked)
	for _, id := range []string{"i-3", "i-4"} {
		rec := record(t, rep, id)
		assert.Equal(t, reaper.OutcomeBlocked, rec.Outcome, id)
		assert.Equal(t, []string{"limits"}, rec.BlockedBy, id)
		require.NotNil(t, rec.Decision, id)
		require.Len(t, rec.Decision.Blocking, 1, id)
		assert.Contains(t, rec.Decision.Blocking[0].Reason, "batch", id)
	}
	n, err := e.history.ActedOn(t.Context(), "batch", t0.Add(-time.Minute))
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Len(t, e.actions(), 2)
}

// An engine without approvals never accepts a granted approval: the reaper
// reports it once and does not ask again on every run.
func TestApprovedButEngineWithoutApprovals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-prod", cpu: 0.02, env: "production"})
	rep, err := e.run(t.Context(), t, e.reaper(t, reaper.Config{Execute: true}), t0)
	require.NoError(t, err)
	id := record(t, rep, "i-prod").ApprovalID
	_, err = e.approvals.Approve(t.Context(), id, "alice", t0.Add(time.Minute), "")
	require.NoError(t, err)

	rules, err := safety.Builtin(safety.BuiltinConfig{}, safety.BuiltinSources{Backups: e.cloud, History: e.history})
	require.NoError(t, err)
	bare, err := safety.New(safety.Config{}, rules)
	require.NoError(t, err)
	r, err := reaper.New(reaper.Config{Execute: true}, e.fleet(), e.ensemble, bare,
		reaper.WithClock(e.waitClock()), reaper.WithApprovals(e.approvals))
	require.NoError(t, err)
	rep, err = e.run(t.Context(), t, r, t0.Add(2*time.Minute))
	require.NoError(t, err)
	rec := record(t, rep, "i-prod")
	assert.Equal(t, reaper.OutcomeNeedsApproval, rec.Outcome)
	assert.Equal(t, id, rec.ApprovalID)
	assert.Contains(t, rec.Reason, "not accepted by the engine")
	reqs, err := e.store.List(t.Context(), approval.Filter{})
	require.NoError(t, err)
	assert.Len(t, reqs, 1)
	assert.Empty(t, e.actions())
}

// A verification poll that fails is kept on the record; the next poll
// still verifies the stop.
func TestVerifyPollErrorKept(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-1", cpu: 0.02})
	// Get #1 re-reads the resource before acting; Get #2 is the first poll.
	_, err := e.cloud.InjectFault(memory.Fault{Op: memory.OpGet, ResourceID: "i-1", Nth: 2, Throttle: true})
	require.NoError(t, err)
	rep, err := e.run(t.Context(), t, e.reaper(t, reaper.Config{Execute: true}), t0)
	require.NoError(t, err)
	rec := record(t, rep, "i-1")
	assert.Equal(t, reaper.OutcomeActed, rec.Outcome)
	assert.True(t, rec.Verified)
	require.Len(t, rec.Errors, 1)
	require.ErrorIs(t, rec.Err(), provider.ErrThrottled)
	var re *reaper.ResourceError
	require.ErrorAs(t, rec.Err(), &re)
	assert.Equal(t, reaper.StageVerify, re.Stage)
}

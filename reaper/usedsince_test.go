package reaper_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/reaper"
)

// TestQuietDuringTheRunStopped: the activity read again before the gate
// (the run takes minutes over a slow metrics backend) shows the tracked
// kinds with no event: the instance is stopped. A kind reported with a
// count of 0 is not use. (Kills usedSince's count boundary mutant, which
// took every tracked kind for use and stopped nothing.)
func TestQuietDuringTheRunStopped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-1", cpu: 0.02})
	require.NoError(t, e.cloud.TrackActivity("i-1", provider.ActivityLogins, provider.ActivityAPICalls))
	_, err := e.cloud.InjectFault(memory.Fault{Op: memory.OpQueryMetric, Latency: 118 * time.Second})
	require.NoError(t, err)
	r := e.reaper(t, reaper.Config{Execute: true})
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	rec := record(t, rep, "i-1")
	require.NotNil(t, rec.Verdict)
	require.Equal(t, detector.ActionStop, rec.Verdict.Action, "%v", rec.Verdict.Explain())
	assert.Equal(t, reaper.OutcomeActed, rec.Outcome, rec.Reason)
	require.Len(t, e.actions(), 1, "stopped")
	assert.Equal(t, memory.OpStop, e.actions()[0].Op)
}

// TestUncountedKindDuringTheRunNotUse: the detector counts logins only
// (ActivityConfig.Kinds); an API call during the run is of a kind it
// does not count, so the reaper does not count it either and the
// instance is stopped, while a login during the run keeps another one
// running. (Kills usedSince's kinds-filter mutant.)
func TestUncountedKindDuringTheRunNotUse(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-api", cpu: 0.02}, vm{id: "i-login", cpu: 0.02})
	for _, id := range []string{"i-api", "i-login"} {
		require.NoError(t, e.cloud.TrackActivity(id, provider.ActivityLogins, provider.ActivityAPICalls))
	}
	require.NoError(t, e.cloud.RecordActivity("i-api", provider.ActivityAPICalls, t0.Add(5*time.Minute), 3))
	require.NoError(t, e.cloud.RecordActivity("i-login", provider.ActivityLogins, t0.Add(5*time.Minute), 1))
	_, err := e.cloud.InjectFault(memory.Fault{Op: memory.OpQueryMetric, Latency: 118 * time.Second})
	require.NoError(t, err)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{Activity: detector.ActivityConfig{Kinds: []provider.ActivityKind{provider.ActivityLogins}}})
	require.NoError(t, err)
	r, err := reaper.New(reaper.Config{Execute: true}, e.fleet(), ens, e.engine,
		reaper.WithClock(e.waitClock()), reaper.WithApprovals(e.approvals), reaper.WithHistory(e.history))
	require.NoError(t, err)
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	api := record(t, rep, "i-api")
	assert.Equal(t, reaper.OutcomeActed, api.Outcome, "API calls are not counted: %s", api.Reason)
	login := record(t, rep, "i-login")
	assert.Equal(t, reaper.OutcomeSkipped, login.Outcome, login.Reason)
	assert.Contains(t, login.Reason, "(logins 1)")
	var stopped []string
	for _, m := range e.actions() {
		stopped = append(stopped, m.ResourceID)
	}
	assert.Equal(t, []string{"i-api"}, stopped)
}

// TestLoginDuringTheRunNotTerminated: as for a stop, a terminate's
// activity is read again before the gate: a login during the run (the
// scan's reads take minutes) skips the instance, no approval is asked
// for, nothing is terminated. (Kills the mutant of propose's action
// check that read the activity again for a stop only.)
func TestLoginDuringTheRunNotTerminated(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-old", cpu: 0.02})
	require.NoError(t, e.cloud.TrackActivity("i-old", provider.ActivityLogins))
	require.NoError(t, e.cloud.RecordActivity("i-old", provider.ActivityLogins, t0.Add(time.Minute), 1))
	_, err := e.cloud.InjectFault(memory.Fault{Op: memory.OpQueryMetric, Latency: 118 * time.Second})
	require.NoError(t, err)
	det := detector.Func(func(_ context.Context, in detector.Input) (detector.Verdict, error) {
		return detector.Verdict{ResourceID: in.Resource.ID, State: detector.Idle, Confidence: 0.95, Action: detector.ActionTerminate, MonthlySavings: 70}, nil
	})
	cfg := reaper.Config{Execute: true, Actions: []detector.Action{detector.ActionStop, detector.ActionTerminate}}
	r, err := reaper.New(cfg, e.fleet(), det, e.engine, reaper.WithClock(e.waitClock()), reaper.WithApprovals(e.approvals))
	require.NoError(t, err)
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	rec := record(t, rep, "i-old")
	assert.Equal(t, reaper.OutcomeSkipped, rec.Outcome, rec.Reason)
	assert.Contains(t, rec.Reason, "(logins 1)")
	assert.Empty(t, rec.ApprovalID, "no approval asked for")
	assert.Empty(t, e.actions())
}

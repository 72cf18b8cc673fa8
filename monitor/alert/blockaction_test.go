package alert_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/alert"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/scaling"
)

// A scaling target whose scale_in the gate blocks (a minimum-capacity
// rule) and which then scales out: the scale_out executed says nothing
// about the scale_in, which the gate still blocks, so its safety_block
// alert stays firing until a scale_in goes through. The same for a
// resource whose stop was blocked and whose resize passed.
func TestSafetyBlockResolvesOnlyByItsOwnAction(t *testing.T) {
	t.Parallel()
	a, l := newAlerter(t, alert.Config{})
	ctx := t.Context()
	obs := monitor.NewScalingObserver(l)
	in := func(k scaling.EventKind, at time.Duration) scaling.Event {
		return scaling.Event{Kind: k, Time: t0.Add(at), Target: "asg-web", PlanID: "p",
			From: provider.CapacitySpec{Min: 1, Desired: 4, Max: 10}, To: provider.CapacitySpec{Min: 1, Desired: 2, Max: 10}}
	}
	out := func(k scaling.EventKind, at time.Duration) scaling.Event {
		return scaling.Event{Kind: k, Time: t0.Add(at), Target: "asg-web", PlanID: "p",
			From: provider.CapacitySpec{Min: 1, Desired: 4, Max: 10}, To: provider.CapacitySpec{Min: 1, Desired: 6, Max: 10}}
	}
	obs.Observe(in(scaling.EventStepBlocked, 0))
	obs.Observe(out(scaling.EventStepExecuted, time.Hour))
	require.NoError(t, obs.Err())
	require.Len(t, a.Firing(), 1, "a scale_out executed does not resolve a blocked scale_in")
	obs.Observe(in(scaling.EventStepExecuted, 2*time.Hour))
	require.NoError(t, obs.Err())
	assert.Empty(t, a.Firing(), "the scale_in went through")

	require.NoError(t, l.Record(ctx, action(monitor.KindBlocked, "i-1", string(safety.Block), safety.ActionStop, 0),
		action(monitor.KindDecision, "i-1", string(safety.Pass), safety.ActionResize, time.Hour)))
	require.Len(t, a.Firing(), 1, "a resize that passes does not resolve a blocked stop")
	require.NoError(t, l.Record(ctx, action(monitor.KindDecision, "i-1", string(safety.Pass), safety.ActionStop, 2*time.Hour)))
	assert.Empty(t, a.Firing(), "the stop passes")
}

// A resource whose stop and terminate were both blocked keeps its
// safety_block alert until each passes; a verdict that it is not idle
// (no action) resolves it at once.
func TestSafetyBlockOfTwoActionsResolvesWhenBothPass(t *testing.T) {
	t.Parallel()
	a, l := newAlerter(t, alert.Config{})
	ctx := t.Context()
	block := string(safety.Block)
	require.NoError(t, l.Record(ctx,
		action(monitor.KindBlocked, "i-1", block, safety.ActionStop, 0),
		action(monitor.KindBlocked, "i-1", block, safety.ActionTerminate, time.Minute),
		action(monitor.KindBlocked, "i-2", block, safety.ActionStop, 0),
		action(monitor.KindDecision, "i-1", string(safety.Pass), safety.ActionStop, time.Hour)))
	require.Len(t, a.Firing(), 2, "i-1's terminate is still blocked")
	require.NoError(t, l.Record(ctx,
		action(monitor.KindDecision, "i-1", string(safety.Pass), safety.ActionTerminate, 2*time.Hour),
		event(monitor.KindVerdict, "i-2", "not_idle", 2*time.Hour)))
	assert.Empty(t, a.Firing())
}

// TestSafetyBlockIsNotResolvedByABoundsOnlyStepOfTheOtherDirection: the
// engine calls a step that keeps the desired capacity and only raises the
// bounds a scale_out (and one that lowers them a scale_in), and the gate
// judges it so; the monitor's event named no action for it, and a
// resolving event naming none resolves every action: a scale_out that
// only raised the maximum, executed, resolved the safety_block alert of a
// scale_in the gate still blocked. It now names the engine's action, so
// the alert keeps firing until a scale_in goes through; a bounds-only
// scale_in executed resolves it.
func TestSafetyBlockIsNotResolvedByABoundsOnlyStepOfTheOtherDirection(t *testing.T) {
	t.Parallel()
	a, l := newAlerter(t, alert.Config{})
	obs := monitor.NewScalingObserver(l)
	step := func(k scaling.EventKind, at time.Duration, from, to provider.CapacitySpec) scaling.Event {
		return scaling.Event{Kind: k, Time: t0.Add(at), Target: "asg-web", PlanID: "p", From: from, To: to}
	}
	obs.Observe(step(scaling.EventStepBlocked, 0, provider.CapacitySpec{Min: 1, Desired: 4, Max: 10}, provider.CapacitySpec{Min: 1, Desired: 2, Max: 10}))
	obs.Observe(step(scaling.EventStepExecuted, time.Hour, provider.CapacitySpec{Min: 1, Desired: 4, Max: 10}, provider.CapacitySpec{Min: 1, Desired: 4, Max: 12}))
	require.NoError(t, obs.Err())
	require.Len(t, a.Firing(), 1, "a scale_out that only raised the maximum does not resolve a blocked scale_in")
	obs.Observe(step(scaling.EventStepExecuted, 2*time.Hour, provider.CapacitySpec{Min: 2, Desired: 4, Max: 12}, provider.CapacitySpec{Min: 1, Desired: 4, Max: 12}))
	require.NoError(t, obs.Err())
	assert.Empty(t, a.Firing(), "a scale_in (the minimum lowered) went through")
}

// Mutation testing of PerAction found two decisions untested. A block
// whose event named no action (a host's gate, an older auditor) is
// resolved by a resolving event of any action: without it, the alert
// waited for a resolving event naming no action, which a gate that
// passes never writes. And an alert resolved by a verdict forgets the
// actions its matches named: a later block of another action is resolved
// by that action passing, not held open by the stop of the episode
// before.
func TestSafetyBlockPerActionEdges(t *testing.T) {
	t.Parallel()
	a, l := newAlerter(t, alert.Config{})
	ctx := t.Context()
	block, pass := string(safety.Block), string(safety.Pass)
	require.NoError(t, l.Record(ctx, action(monitor.KindBlocked, "i-1", block, "", 0)))
	require.Len(t, a.Firing(), 1)
	require.NoError(t, l.Record(ctx, action(monitor.KindDecision, "i-1", pass, safety.ActionStop, time.Hour)))
	assert.Empty(t, a.Firing(), "a block naming no action: any action passing resolves it")

	require.NoError(t, l.Record(ctx,
		action(monitor.KindBlocked, "i-2", block, safety.ActionStop, 0),
		event(monitor.KindVerdict, "i-2", "not_idle", time.Hour)))
	require.Empty(t, a.Firing(), "not idle: resolved")
	require.NoError(t, l.Record(ctx, action(monitor.KindBlocked, "i-2", block, safety.ActionTerminate, 9*24*time.Hour)))
	require.Len(t, a.Firing(), 1)
	require.NoError(t, l.Record(ctx, action(monitor.KindDecision, "i-2", pass, safety.ActionTerminate, 9*24*time.Hour+time.Hour)))
	assert.Empty(t, a.Firing(), "the terminate passes; the stop blocked before the verdict is no part of this alert")
}

// action is event(k, id, outcome, at) of action act.
func action(k monitor.Kind, id, outcome string, act safety.Action, at time.Duration) monitor.Event {
	e := event(k, id, outcome, at)
	e.Action = act
	return e
}

// TestSafetyBlockPerActionFollowsEachActionsTimes: a PerAction alert's
// resolving event of an action is judged against that action's own
// matches, not the latest match of any action. A stop that passed after
// its block, recorded after a later block of a terminate (two sources,
// or a backfill), resolves the stop; the terminate passing then resolves
// the alert. And a late block of the stop, dated before the stop's pass,
// does not hold the alert open once the terminate passes.
func TestSafetyBlockPerActionFollowsEachActionsTimes(t *testing.T) {
	t.Parallel()
	block, pass := string(safety.Block), string(safety.Pass)
	t.Run("late pass of one action", func(t *testing.T) {
		t.Parallel()
		a, l := newAlerter(t, alert.Config{})
		ctx := t.Context()
		require.NoError(t, l.Record(ctx,
			action(monitor.KindBlocked, "i-1", block, safety.ActionStop, 0),
			action(monitor.KindBlocked, "i-1", block, safety.ActionTerminate, 2*time.Hour),
			action(monitor.KindDecision, "i-1", pass, safety.ActionStop, time.Hour)))
		require.Len(t, a.Firing(), 1, "the terminate is still blocked")
		require.NoError(t, l.Record(ctx, action(monitor.KindDecision, "i-1", pass, safety.ActionTerminate, 3*time.Hour)))
		assert.Empty(t, a.Firing(), "the stop passed at 1h, after its block at 0; the terminate at 3h")
	})
	t.Run("late block of an action that passed", func(t *testing.T) {
		t.Parallel()
		a, l := newAlerter(t, alert.Config{})
		ctx := t.Context()
		require.NoError(t, l.Record(ctx,
			action(monitor.KindBlocked, "i-1", block, safety.ActionStop, 0),
			action(monitor.KindBlocked, "i-1", block, safety.ActionTerminate, time.Hour),
			action(monitor.KindDecision, "i-1", pass, safety.ActionStop, 3*time.Hour),
			action(monitor.KindBlocked, "i-1", block, safety.ActionStop, 2*time.Hour)))
		require.Len(t, a.Firing(), 1, "the terminate is still blocked")
		require.NoError(t, l.Record(ctx, action(monitor.KindDecision, "i-1", pass, safety.ActionTerminate, 4*time.Hour)))
		assert.Empty(t, a.Firing(), "the stop's block at 2h came before its pass at 3h")
	})
}

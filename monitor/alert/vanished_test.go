package alert_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/alert"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/scaling"
)

// The default idle_found alert of a resource no run judges idle any more
// for IdleFoundQuiet, eight days (deleted by hand or by another tool, or no longer selected
// by the reaper's filter: nothing says it is busy) resolves, quiet: it
// fired for good, so alerts_firing and the firing list grew with every
// idle resource that vanished. A resource every run still finds idle
// (hourly or daily) keeps its alert firing.
func TestIdleFoundOfAVanishedResourceResolves(t *testing.T) {
	t.Parallel()
	a, l := newAlerter(t, alert.Config{})
	ctx := t.Context()
	idle := func(id string, at time.Duration) monitor.Event {
		return event(monitor.KindVerdict, id, string(detector.Idle), at)
	}
	require.NoError(t, l.Record(ctx, idle("i-gone", 0), idle("i-hourly", 0), idle("i-daily", 0)))
	for h := 1; h <= 8*24; h++ {
		evs := []monitor.Event{idle("i-hourly", time.Duration(h)*time.Hour)}
		if h%24 == 0 {
			evs = append(evs, idle("i-daily", time.Duration(h)*time.Hour))
		}
		require.NoError(t, l.Record(ctx, evs...))
		require.NoError(t, a.Evaluate(ctx, t0.Add(time.Duration(h)*time.Hour)))
	}
	state := map[string]alert.State{}
	for _, al := range a.Alerts() {
		state[al.ID] = al.State
	}
	assert.Equal(t, map[string]alert.State{
		"idle_found/i-gone":   alert.StateResolved,
		"idle_found/i-hourly": alert.StateFiring,
		"idle_found/i-daily":  alert.StateFiring,
	}, state)
}

// A weekly reaper that finds a resource idle at every run keeps its
// idle_found alert firing: one page, not one a week. The quiet time was
// exactly a week, so the Alerter's evaluation at the next run's start
// (or any time before the run reached the resource) resolved the alert,
// and the run's verdict opened it again: a resolution and a new page for
// the same resource every week.
func TestIdleFoundOfAWeeklyReaperStaysFiring(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	a, l := newAlerter(t, alert.Config{}, alert.WithNotifier("rec", rec))
	ctx := t.Context()
	week := 7 * 24 * time.Hour
	for run := range 4 {
		start := time.Duration(run) * week
		// The Alerter evaluates every minute; the run reaches the
		// resource ten minutes after it starts (a little later each week).
		for m := time.Duration(0); m < 10*time.Minute+time.Duration(run)*time.Minute; m += time.Minute {
			require.NoError(t, a.Evaluate(ctx, t0.Add(start+m)))
		}
		require.NoError(t, l.Record(ctx, event(monitor.KindVerdict, "i-1", string(detector.Idle),
			start+10*time.Minute+time.Duration(run)*time.Minute)))
	}
	require.NoError(t, a.Deliver(ctx))
	assert.Equal(t, []string{"firing idle_found/i-1"}, rec.sent())
	firing := a.Firing()
	require.Len(t, firing, 1)
	assert.Equal(t, 4, firing[0].Count)
}

// A resource whose pipeline step fails at every run of an hourly reaper
// (reaper.DefaultInterval; reaper.Run waits the interval after each run
// ends) keeps one pipeline_failure alert: its quiet time was an hour, so
// the Alerter's evaluation resolved it before the next run came and the
// next run's failure paged again, every hour, for one failure that never
// went away.
func TestPipelineFailureOfAnHourlyReaperStaysFiring(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	a, l := newAlerter(t, alert.Config{}, alert.WithNotifier("rec", rec))
	ctx := t.Context()
	const run = 2 * time.Minute // how long a run takes
	start := time.Duration(0)
	for range 4 {
		require.NoError(t, l.Record(ctx, event(monitor.KindFailure, "i-1", monitor.OutcomeFailed, start)))
		next := start + run + time.Hour
		for m := start; m < next; m += time.Minute {
			require.NoError(t, a.Evaluate(ctx, t0.Add(m)))
		}
		start = next
	}
	require.NoError(t, a.Deliver(ctx))
	assert.Equal(t, []string{"firing pipeline_failure/i-1"}, rec.sent())
}

// The default pipeline_failure alert of a resource whose step stops
// failing resolves, quiet, three hours after its last failure, as
// DefaultRules says, and not before: it is firing 2h59m after the
// failure and resolved at 3h.
func TestPipelineFailureResolvesAfterThreeQuietHours(t *testing.T) {
	t.Parallel()
	a, l := newAlerter(t, alert.Config{})
	ctx := t.Context()
	require.NoError(t, l.Record(ctx, event(monitor.KindFailure, "i-1", monitor.OutcomeFailed, 0)))
	state := func() alert.State {
		for _, al := range a.Alerts() {
			if al.ID == "pipeline_failure/i-1" {
				return al.State
			}
		}
		return ""
	}
	require.NoError(t, a.Evaluate(ctx, t0.Add(3*time.Hour-time.Minute)))
	assert.Equal(t, alert.StateFiring, state(), "2h59m after the failure")
	require.NoError(t, a.Evaluate(ctx, t0.Add(3*time.Hour)))
	assert.Equal(t, alert.StateResolved, state(), "3h after the failure")
}

// A resource that a daily reaper finds idle and the safety gate blocks at
// every run keeps one safety_block alert: its quiet time was 24h, and
// reaper.Run waits its interval after each run ends, so the next run's
// block came a little more than a day after the last one: the Alerter's
// evaluation resolved the alert just before it and the block paged
// again, every day, for one block that never went away. A block no run
// repeats (the resource vanished) still resolves, after eight quiet days
// (as idle_found does, the blocks coming from the same runs), and not
// before.
func TestSafetyBlockOfADailyReaperStaysFiring(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	a, l := newAlerter(t, alert.Config{}, alert.WithNotifier("rec", rec))
	ctx := t.Context()
	const run = 10 * time.Minute // how long a run takes to reach the resource and end
	start := time.Duration(0)
	var last time.Duration
	for range 4 {
		last = start + run/2
		require.NoError(t, l.Record(ctx, event(monitor.KindBlocked, "i-1", string(safety.Block), last)))
		next := start + run + 24*time.Hour
		for m := start; m < next; m += time.Minute {
			require.NoError(t, a.Evaluate(ctx, t0.Add(m)))
		}
		start = next
	}
	require.NoError(t, a.Deliver(ctx))
	assert.Equal(t, []string{"firing safety_block/i-1"}, rec.sent(), "one block, one page")
	require.NoError(t, a.Evaluate(ctx, t0.Add(last+8*24*time.Hour-time.Minute)))
	assert.Len(t, a.Firing(), 1, "quiet for just under eight days")
	require.NoError(t, a.Evaluate(ctx, t0.Add(last+8*24*time.Hour)))
	assert.Empty(t, a.Firing(), "quiet for eight days: resolved")
}

// A block that the gate no longer makes, asking for an approval instead
// (the backup the rule missed was taken; the action now needs a person's
// yes), is no block any more: its safety_block alert resolves, as on a
// decision that passes. It stayed firing, 'action blocked by the safety
// gate', until its quiet time ran out, while the request waited.
func TestSafetyBlockResolvesWhenTheGateAsksForApproval(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	a, l := newAlerter(t, alert.Config{}, alert.WithNotifier("rec", rec))
	ctx := t.Context()
	require.NoError(t, l.Record(ctx, event(monitor.KindBlocked, "i-1", string(safety.Block), 0),
		event(monitor.KindDecision, "i-1", string(safety.RequireApproval), time.Hour)))
	assert.Empty(t, a.Firing(), "the gate asks for an approval: no longer blocked")
	require.NoError(t, a.Deliver(ctx))
	assert.Equal(t, []string{"firing safety_block/i-1", "resolved safety_block/i-1"}, rec.sent())
}

// A scaling target's step that the gate blocked (a change freeze) and a
// later step of it executed: the gate lets its changes through again, so
// its safety_block alert resolves. The scaling observer records no
// decision that passes (the engine decides at every evaluation), so
// nothing resolved it but its quiet time, days after the target scaled
// again.
func TestSafetyBlockOfAScalingTargetResolvesOnAnExecutedStep(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	a, l := newAlerter(t, alert.Config{}, alert.WithNotifier("rec", rec))
	ctx := t.Context()
	obs := monitor.NewScalingObserver(l)
	obs.Observe(scaling.Event{Kind: scaling.EventStepBlocked, Time: t0, Target: "asg-web", PlanID: "p1",
		Reason: "blocked: freeze: change freeze until 18:00",
		From:   provider.CapacitySpec{Min: 1, Desired: 4, Max: 10}, To: provider.CapacitySpec{Min: 1, Desired: 2, Max: 10}})
	require.Len(t, a.Firing(), 1)
	obs.Observe(scaling.Event{Kind: scaling.EventStepExecuted, Time: t0.Add(8 * time.Hour), Target: "asg-web", PlanID: "p2",
		From: provider.CapacitySpec{Min: 1, Desired: 4, Max: 10}, To: provider.CapacitySpec{Min: 1, Desired: 2, Max: 10}})
	require.NoError(t, obs.Err())
	assert.Empty(t, a.Firing(), "the target's step went through: no longer blocked")
	require.NoError(t, a.Deliver(ctx))
	assert.Equal(t, []string{"firing safety_block/asg-web", "resolved safety_block/asg-web"}, rec.sent())
}

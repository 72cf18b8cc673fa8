package alert_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/alert"
	"github.com/idlescale/idlescale/safety"
)

// TestPerActionPassIsJudgedAgainstItsActionsLatestBlock: a PerAction
// alert's resolving event resolves its action when dated at or after
// that action's latest match (Rule.PerAction), not before it: a pass of
// the stop dated between two of its blocks, recorded after both (a
// backfill, a second writer), leaves the alert firing, while one dated
// at its latest block resolves it.
func TestPerActionPassIsJudgedAgainstItsActionsLatestBlock(t *testing.T) {
	t.Parallel()
	block, pass := string(safety.Block), string(safety.Pass)
	a, l := newAlerter(t, alert.Config{})
	ctx := t.Context()
	require.NoError(t, l.Record(ctx,
		action(monitor.KindBlocked, "i-1", block, safety.ActionStop, 0),
		action(monitor.KindBlocked, "i-1", block, safety.ActionStop, 2*time.Hour),
		action(monitor.KindDecision, "i-1", pass, safety.ActionStop, time.Hour)))
	require.Len(t, a.Firing(), 1, "the stop's pass at 1h came before its block at 2h")
	require.NoError(t, l.Record(ctx, action(monitor.KindDecision, "i-1", pass, safety.ActionStop, 2*time.Hour)))
	assert.Empty(t, a.Firing(), "a pass dated at the latest block resolves it")

	// Blocks recorded out of order: the latest is the one that counts.
	a, l = newAlerter(t, alert.Config{})
	require.NoError(t, l.Record(ctx,
		action(monitor.KindBlocked, "i-1", block, safety.ActionStop, 2*time.Hour),
		action(monitor.KindBlocked, "i-1", block, safety.ActionStop, 0),
		action(monitor.KindDecision, "i-1", pass, safety.ActionStop, time.Hour)))
	assert.Len(t, a.Firing(), 1, "the stop's pass at 1h came before its block at 2h, recorded first")
}

// resolvedAt returns the EndsAt of the one resolved alert of a.
func resolvedAt(t *testing.T, a *alert.Alerter) time.Time {
	t.Helper()
	require.Empty(t, a.Firing())
	var ends []time.Time
	for _, al := range a.Alerts() {
		if al.State == alert.StateResolved {
			ends = append(ends, al.EndsAt)
		}
	}
	require.Len(t, ends, 1)
	return ends[0]
}

// TestAlertOfPartsResolvesAtTheLastPartsResolution: an alert whose parts
// (the actions of a PerAction alert, the strategies of a forecast
// fallback) resolve one by one resolves at the last part's resolving
// event, not at the time of the event that arrived last: a stop that
// passed at 3h, recorded before the terminate's pass at 2h, leaves the
// alert resolved at 3h (its EndsAt, what a notifier is told), when the
// stop's last block was still in force until then.
func TestAlertOfPartsResolvesAtTheLastPartsResolution(t *testing.T) {
	t.Parallel()
	t.Run("actions", func(t *testing.T) {
		t.Parallel()
		block, pass := string(safety.Block), string(safety.Pass)
		a, l := newAlerter(t, alert.Config{})
		require.NoError(t, l.Record(t.Context(),
			action(monitor.KindBlocked, "i-1", block, safety.ActionStop, 0),
			action(monitor.KindBlocked, "i-1", block, safety.ActionTerminate, time.Hour),
			action(monitor.KindDecision, "i-1", pass, safety.ActionStop, 3*time.Hour),
			action(monitor.KindDecision, "i-1", pass, safety.ActionTerminate, 2*time.Hour)))
		assert.Equal(t, t0.Add(3*time.Hour), resolvedAt(t, a))
	})
	t.Run("strategies", func(t *testing.T) {
		t.Parallel()
		fc := func(strategy, outcome string, at time.Duration) monitor.Event {
			e := event(monitor.KindForecast, "web", outcome, at)
			e.Source, e.Strategy = monitor.SourceScaling, strategy
			return e
		}
		a, l := newAlerter(t, alert.Config{})
		require.NoError(t, l.Record(t.Context(),
			fc("daily", monitor.OutcomeFallback, 0),
			fc("weekly", monitor.OutcomeFallback, time.Hour),
			fc("daily", monitor.OutcomeRecovered, 3*time.Hour),
			fc("weekly", monitor.OutcomeRecovered, 2*time.Hour)))
		assert.Equal(t, t0.Add(3*time.Hour), resolvedAt(t, a))
	})
}

// TestPerActionBlockAfterItsPassOpensItAgain: an action of a PerAction
// alert that passed and is blocked again after its pass waits for a pass
// of its own again, while a block dated at its pass (or before) is late
// and does not (Rule.PerAction).
func TestPerActionBlockAfterItsPassOpensItAgain(t *testing.T) {
	t.Parallel()
	block, pass := string(safety.Block), string(safety.Pass)
	for _, tt := range []struct {
		name    string
		give    time.Duration // the stop's second block
		waiting bool          // the alert still fires once the terminate passed
	}{
		{"after its pass", 2 * time.Hour, true},
		{"at its pass", time.Hour, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, l := newAlerter(t, alert.Config{})
			ctx := t.Context()
			require.NoError(t, l.Record(ctx,
				action(monitor.KindBlocked, "i-1", block, safety.ActionStop, 0),
				action(monitor.KindBlocked, "i-1", block, safety.ActionTerminate, 0),
				action(monitor.KindDecision, "i-1", pass, safety.ActionStop, time.Hour),
				action(monitor.KindBlocked, "i-1", block, safety.ActionStop, tt.give),
				action(monitor.KindDecision, "i-1", pass, safety.ActionTerminate, 3*time.Hour)))
			if !tt.waiting {
				assert.Empty(t, a.Firing(), "the stop's block at its pass is late")
				return
			}
			require.Len(t, a.Firing(), 1, "the stop is blocked again")
			require.NoError(t, l.Record(ctx, action(monitor.KindDecision, "i-1", pass, safety.ActionStop, 4*time.Hour)))
			assert.Empty(t, a.Firing())
		})
	}
}

// TestPerActionSecondPassCountsForALateBlock: an action that passed
// again, while it was resolved, is resolved at its latest pass: a block
// of it recorded after that pass but dated before it (a backfill, a
// second writer) is late (Rule.PerAction: a match dated at or before its
// resolving event does not make it wait again), so the other action's
// pass resolves the alert. The second pass was dropped, and the late
// block opened the stop again: the alert fired until another pass of it.
func TestPerActionSecondPassCountsForALateBlock(t *testing.T) {
	t.Parallel()
	block, pass := string(safety.Block), string(safety.Pass)
	a, l := newAlerter(t, alert.Config{})
	require.NoError(t, l.Record(t.Context(),
		action(monitor.KindBlocked, "i-1", block, safety.ActionStop, 0),
		action(monitor.KindBlocked, "i-1", block, safety.ActionTerminate, 0),
		action(monitor.KindDecision, "i-1", pass, safety.ActionStop, time.Hour),
		action(monitor.KindDecision, "i-1", pass, safety.ActionStop, 5*time.Hour),
		action(monitor.KindBlocked, "i-1", block, safety.ActionStop, 4*time.Hour),
		action(monitor.KindDecision, "i-1", pass, safety.ActionTerminate, 6*time.Hour)))
	assert.Empty(t, a.Firing(), "the stop's block at 4h came before its pass at 5h")
}

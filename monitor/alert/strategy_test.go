package alert_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/alert"
)

// A target's forecast_fallback alert resolves when every predictive
// strategy of it that fell back has recovered (a forecast event names its
// strategy): the recovery of one resolved it while another still sized
// from the reactive capacity, and two strategies falling back in one
// decision (one time) counted as one match. A recovery that names no
// strategy resolves it, as before.
func TestForecastFallbackResolvesWhenEveryStrategyRecovered(t *testing.T) {
	t.Parallel()
	fc := func(strategy, outcome string, at time.Duration) monitor.Event {
		e := event(monitor.KindForecast, "web", outcome, at)
		e.Source, e.Strategy = monitor.SourceScaling, strategy
		return e
	}
	state := func(a *alert.Alerter) (alert.State, int) {
		for _, al := range a.Alerts() {
			if al.ID == "forecast_fallback/web" {
				return al.State, al.Count
			}
		}
		return "", 0
	}
	rec := &recorder{}
	a, l := newAlerter(t, alert.Config{}, alert.WithNotifier("rec", rec))
	ctx := t.Context()
	require.NoError(t, l.Record(ctx, fc("daily", monitor.OutcomeFallback, 0), fc("weekly", monitor.OutcomeFallback, 0)))
	st, n := state(a)
	assert.Equal(t, alert.StateFiring, st)
	assert.Equal(t, 2, n, "two strategies fell back")

	require.NoError(t, l.Record(ctx, fc("daily", monitor.OutcomeRecovered, time.Minute)))
	st, _ = state(a)
	assert.Equal(t, alert.StateFiring, st, "weekly still falls back")

	require.NoError(t, l.Record(ctx, fc("weekly", monitor.OutcomeRecovered, 2*time.Minute)))
	st, _ = state(a)
	assert.Equal(t, alert.StateResolved, st)
	require.NoError(t, a.Deliver(ctx))
	assert.Equal(t, []string{"firing forecast_fallback/web", "resolved forecast_fallback/web"}, rec.sent())

	require.NoError(t, l.Record(ctx, fc("daily", monitor.OutcomeFallback, 3*time.Minute), fc("weekly", monitor.OutcomeFallback, 3*time.Minute)))
	require.NoError(t, l.Record(ctx, fc("", monitor.OutcomeRecovered, 4*time.Minute)))
	st, _ = state(a)
	assert.Equal(t, alert.StateResolved, st, "a recovery naming no strategy resolves it")
}

// A fallback that names no strategy (a host's own event, or one read
// back from a log written before events named their strategy) and a
// recovery that names one: the recovery is the target's, and no
// strategy is left that has not recovered. The alert stayed firing for
// ever: forecast_fallback has no quiet time, and only a recovery naming
// no strategy resolved it. A strategy named by a fallback still keeps it
// firing until that strategy recovers.
func TestForecastFallbackNamingNoStrategyResolvesOnAnyRecovery(t *testing.T) {
	t.Parallel()
	fc := func(strategy, outcome string, at time.Duration) monitor.Event {
		e := event(monitor.KindForecast, "web", outcome, at)
		e.Source, e.Strategy = monitor.SourceScaling, strategy
		return e
	}
	a, l := newAlerter(t, alert.Config{})
	ctx := t.Context()
	require.NoError(t, l.Record(ctx, fc("", monitor.OutcomeFallback, 0)))
	require.Len(t, a.Firing(), 1)
	require.NoError(t, l.Record(ctx, fc("daily", monitor.OutcomeRecovered, time.Minute)))
	assert.Empty(t, a.Firing(), "the target's forecast recovered")

	require.NoError(t, l.Record(ctx, fc("", monitor.OutcomeFallback, 2*time.Minute), fc("weekly", monitor.OutcomeFallback, 2*time.Minute)))
	require.NoError(t, l.Record(ctx, fc("daily", monitor.OutcomeRecovered, 3*time.Minute)))
	assert.Len(t, a.Firing(), 1, "weekly still falls back")
	require.NoError(t, l.Record(ctx, fc("weekly", monitor.OutcomeRecovered, 4*time.Minute)))
	assert.Empty(t, a.Firing())
}

// TestForecastFallbackFollowsEachStrategysTimes: as PerAction's actions,
// a target's strategies are each judged against their own events, not
// the latest fallback of any strategy. A recovery of daily dated after
// its fallback, recorded after a later fallback of weekly (a second
// writer, a trail backfilled), was ignored as late, and daily stayed
// open for good: once weekly recovered, the alert, which has no quiet
// time, fired until the target was forgotten. A late fallback of daily,
// dated before its recovery, does not open it again either.
func TestForecastFallbackFollowsEachStrategysTimes(t *testing.T) {
	t.Parallel()
	fc := func(strategy, outcome string, at time.Duration) monitor.Event {
		e := event(monitor.KindForecast, "web", outcome, at)
		e.Source, e.Strategy = monitor.SourceScaling, strategy
		return e
	}
	t.Run("late recovery of one strategy", func(t *testing.T) {
		t.Parallel()
		a, l := newAlerter(t, alert.Config{})
		ctx := t.Context()
		require.NoError(t, l.Record(ctx,
			fc("daily", monitor.OutcomeFallback, 0),
			fc("weekly", monitor.OutcomeFallback, 2*time.Hour),
			fc("daily", monitor.OutcomeRecovered, time.Hour)))
		require.Len(t, a.Firing(), 1, "weekly has not recovered")
		require.NoError(t, l.Record(ctx, fc("weekly", monitor.OutcomeRecovered, 3*time.Hour)))
		assert.Empty(t, a.Firing(), "daily recovered at 1h, after its fallback at 0; weekly at 3h")
	})
	t.Run("late fallback of a strategy that recovered", func(t *testing.T) {
		t.Parallel()
		a, l := newAlerter(t, alert.Config{})
		ctx := t.Context()
		require.NoError(t, l.Record(ctx,
			fc("daily", monitor.OutcomeFallback, 0),
			fc("weekly", monitor.OutcomeFallback, time.Hour),
			fc("daily", monitor.OutcomeRecovered, 3*time.Hour),
			fc("daily", monitor.OutcomeFallback, 2*time.Hour)))
		require.Len(t, a.Firing(), 1, "weekly has not recovered")
		require.NoError(t, l.Record(ctx, fc("weekly", monitor.OutcomeRecovered, 4*time.Hour)))
		assert.Empty(t, a.Firing(), "daily's fallback at 2h came before its recovery at 3h")
	})
}

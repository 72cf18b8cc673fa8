package monitor_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/alert"
	"github.com/idlescale/idlescale/reaper"
)

// A run that its context stopped (the host stopping, a deploy, a replica
// losing its leadership: RunOnce returns context.Canceled, and reaper.Run
// logs it as a run done, not a failed one) failed nothing: its records
// say what it did, the rest deferred. It was recorded as a failed run, so
// the default run_failed alert paged "pipeline run failed: context
// canceled" at every deploy. It is now a run that ended deferred; a run
// that failed (its inventory down) still fails.
func TestReaperObserverStoppedRunIsNoFailure(t *testing.T) {
	t.Parallel()
	al, err := alert.New(alert.Config{})
	require.NoError(t, err)
	l, err := monitor.NewLog(monitor.LogConfig{}, monitor.WithSink("alerts", al))
	require.NoError(t, err)
	obs := monitor.NewReaperObserver(l)
	obs.ObserveReport(reaper.Report{Now: sat, Totals: reaper.Totals{Resources: 9, Deferred: 7}}, context.Canceled)
	obs.ObserveReport(reaper.Report{Now: sat.Add(time.Hour), Totals: reaper.Totals{Resources: 9}},
		fmt.Errorf("reaper: list resources: %w", context.Canceled))
	require.NoError(t, obs.Err())
	require.NoError(t, al.Evaluate(t.Context(), sat.Add(2*time.Hour)))
	for _, a := range al.Alerts() {
		assert.NotEqual(t, "run_failed", a.Rule, "a stopped run pages: %+v", a)
	}
	runs, err := l.Query(monitor.Query{Kinds: []monitor.Kind{monitor.KindRun}})
	require.NoError(t, err)
	require.Len(t, runs, 2)
	for _, r := range runs {
		assert.Equal(t, monitor.OutcomeDeferred, r.Outcome, r.Reason)
		assert.Contains(t, r.Reason, "context canceled")
	}
	assert.Contains(t, runs[0].Reason, "7 deferred")

	// A run that failed still pages.
	obs.ObserveReport(reaper.Report{Now: sat.Add(3 * time.Hour)}, fmt.Errorf("reaper: list resources: %w", context.DeadlineExceeded))
	require.NoError(t, al.Evaluate(t.Context(), sat.Add(3*time.Hour)))
	var rules []string
	for _, a := range al.Alerts() {
		rules = append(rules, a.Rule)
	}
	assert.Contains(t, rules, "run_failed")
}

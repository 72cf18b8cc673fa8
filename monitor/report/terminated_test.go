package report_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/report"
	"github.com/idlescale/idlescale/safety"
)

// A resource the reaper terminated (an executed terminate, not in a dry
// run) after its latest verdict is not listed idle: it was, with its
// estimated saving in Totals.EstimatedMonthlySavings, though it no longer
// exists and its saving is counted as realised, as the metrics' idle
// gauge no longer counts it. A terminate in a dry run, one that failed or
// one whose verification failed leaves it listed, and a verdict after the terminate (its ID used again)
// lists it anew.
func TestTerminatedResourceIsNotIdle(t *testing.T) {
	t.Parallel()
	verdict := func(id string, h time.Duration) monitor.Event {
		return monitor.Event{Time: t0.Add(h), Kind: monitor.KindVerdict, Source: monitor.SourceReaper, ResourceID: id,
			Outcome: string(detector.Idle), Action: safety.ActionTerminate, MonthlySavings: 70, Confidence: 0.9}
	}
	terminate := func(id, outcome string, dry bool) monitor.Event {
		return monitor.Event{Time: t0.Add(time.Hour), Kind: monitor.KindAction, Source: monitor.SourceReaper, ResourceID: id,
			Action: safety.ActionTerminate, Outcome: outcome, DryRun: dry, Cost: &monitor.CostChange{Before: 0.1}}
	}
	evs := []monitor.Event{
		verdict("i-gone", 0), verdict("i-dry", 0), verdict("i-failed", 0), verdict("i-again", 0),
		terminate("i-gone", monitor.OutcomeDone, false), terminate("i-dry", monitor.OutcomeWouldAct, true),
		terminate("i-failed", monitor.OutcomeFailed, false), terminate("i-again", monitor.OutcomeDone, false),
		verdict("i-again", 2*time.Hour),
		verdict("i-unverified", 0), terminate("i-unverified", monitor.OutcomeDone, false),
		{Time: t0.Add(time.Hour), Kind: monitor.KindVerification, Source: monitor.SourceReaper, ResourceID: "i-unverified",
			Action: safety.ActionTerminate, Outcome: monitor.OutcomeFailed},
	}
	rep, err := report.Build(report.Input{Now: t0.Add(3 * time.Hour), Events: evs})
	require.NoError(t, err)
	var ids []string
	for _, i := range rep.Idle {
		ids = append(ids, i.ResourceID)
	}
	assert.ElementsMatch(t, []string{"i-dry", "i-failed", "i-again", "i-unverified"}, ids)
	assert.Equal(t, 4, rep.Totals.Idle)
	assert.InDelta(t, 280, rep.Totals.EstimatedMonthlySavings, 1e-9)
}

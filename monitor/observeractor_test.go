package monitor_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/reaper"
)

// A ReaperObserver named after its reaper (WithObserverActor) gives every
// event it records, a record's and a run's, that Actor, so that the
// events of several reapers recording into one log are told apart; one
// not named records none.
func TestReaperObserverActor(t *testing.T) {
	t.Parallel()
	l, err := monitor.NewLog(monitor.LogConfig{})
	require.NoError(t, err)
	named := monitor.NewReaperObserver(l, monitor.WithObserverActor("volumes"))
	rec := reaper.Record{ResourceID: "vol-1", Outcome: reaper.OutcomeSkipped,
		Verdict: &detector.Verdict{State: detector.Idle, Confidence: 0.9}}
	rec.Verdict.Window.To = sat
	named.ObserveRecord(rec)
	named.ObserveReport(reaper.Report{Now: sat}, nil)
	monitor.NewReaperObserver(l).ObserveReport(reaper.Report{Now: sat}, nil)
	require.NoError(t, named.Err())
	evs, err := l.Query(monitor.Query{})
	require.NoError(t, err)
	actors := make([]string, len(evs))
	for i, e := range evs {
		actors[i] = string(e.Kind) + " " + e.Actor
	}
	assert.Equal(t, []string{"verdict volumes", "run volumes", "run "}, actors)
}

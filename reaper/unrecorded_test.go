package reaper_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/reaper"
)

// errHistoryDown is the error of a history that cannot record.
var errHistoryDown = errors.New("history: write failed")

// TestUnrecordedStopCountsAgainstTheFleet: a stop the history could not
// record (a shared history's write failed, its reads still answering)
// counts against the fleet's share limit for the rest of the run, as a
// dry run's would-act decisions do (safety.Proposal.FleetPlanned): one
// run stops two of a fleet of four whose limit is half of it an hour,
// and the two record errors are kept. Before, the limits rule read a
// history without them and the run stopped all four.
func TestUnrecordedStopCountsAgainstTheFleet(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	tags := map[string]string{"fleet": "batch"}
	ids := []string{"i-1", "i-2", "i-3", "i-4"}
	for _, id := range ids {
		e.add(t, vm{id: id, cpu: 0.02, tags: tags})
	}
	failing := reaper.HistoryRecorder(historyFunc(func(string, time.Time, int) error { return errHistoryDown }))
	r := e.reaper(t, reaper.Config{Execute: true, FleetTag: "fleet"}, reaper.WithHistory(failing))
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)

	stopped := 0
	for _, id := range ids {
		res, err := e.cloud.Get(t.Context(), id)
		require.NoError(t, err)
		rec := record(t, rep, id)
		if res.State == provider.StateRunning {
			assert.Equal(t, reaper.OutcomeBlocked, rec.Outcome, "%s: the fleet's share is spent", id)
			assert.Contains(t, rec.BlockedBy, "limits", id)
			continue
		}
		stopped++
		assert.Equal(t, reaper.OutcomeActed, rec.Outcome, id)
		require.ErrorIs(t, rec.Err(), errHistoryDown, id)
		var re *reaper.ResourceError
		require.ErrorAs(t, rec.Err(), &re, id)
		assert.Equal(t, reaper.StageRecord, re.Stage, id)
	}
	assert.Equal(t, 2, stopped, "the fleet-share limit (50%% of 4 an hour) holds")
	assert.Equal(t, 2, rep.Totals.Blocked)
}

// historyFunc adapts a function to a reaper.HistoryRecorder.
type historyFunc func(fleet string, at time.Time, units int) error

func (f historyFunc) Record(fleet string, at time.Time, units int) error { return f(fleet, at, units) }

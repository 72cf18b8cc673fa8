package report_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/report"
	"github.com/idlescale/idlescale/safety"
)

// An action the reaper deferred (its run's MaxActions reached, or the
// provider throttled) is counted in the totals, as every other outcome
// of the actions listed is: it was listed and counted in none, so the
// totals of a run that deferred half its stops added up to half the
// actions, and the text and JSON said nothing of them.
func TestDeferredActionsAreCounted(t *testing.T) {
	t.Parallel()
	evs := []monitor.Event{
		{Time: at(0), Kind: monitor.KindAction, Source: monitor.SourceReaper, ResourceID: "i-1", Action: safety.ActionStop,
			Outcome: monitor.OutcomeDeferred, Reason: "max actions per run reached"},
		{Time: at(0), Kind: monitor.KindAction, Source: monitor.SourceReaper, ResourceID: "i-2", Action: safety.ActionStop,
			Outcome: monitor.OutcomeDeferred, Reason: "max actions per run reached"},
		action("i-3", safety.ActionStop, 0, 0.1, 0),
	}
	rep, err := report.Build(report.Input{Now: at(1), Events: evs})
	require.NoError(t, err)
	require.Len(t, rep.Actions, 3)
	b, err := json.Marshal(rep.Totals)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"deferred":2`)
	var text bytes.Buffer
	require.NoError(t, rep.WriteText(&text))
	assert.Contains(t, text.String(), "1 done, 0 would act, 2 deferred,")
}

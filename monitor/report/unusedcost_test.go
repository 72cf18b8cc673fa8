package report_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/report"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// A resource the report never charges (no executed change of it in the
// events) whose hourly cost is not a cost (NaN, infinite, negative from a
// driver's bug) does not cost the fleet its report: its cost is read
// nowhere, and the report of the others is what it was. Build refused the
// whole report for it, so the dashboard showed no totals and no idle
// list for a fleet because of one resource never acted on.
func TestUnchargedResourceAtAnInvalidCostKeepsTheReport(t *testing.T) {
	t.Parallel()
	evs := []monitor.Event{
		action("i-1", safety.ActionStop, 0, 0.1, 0),
		{Time: at(1), Kind: monitor.KindVerdict, Source: monitor.SourceReaper, ResourceID: "i-9", Outcome: "idle",
			Action: safety.ActionStop, MonthlySavings: 30, Confidence: 0.9},
	}
	for _, cost := range []float64{math.Inf(1), math.NaN(), -0.5} {
		inv := []provider.Resource{
			{ID: "i-1", State: provider.StateStopped, HourlyCost: 0.1},
			{ID: "i-9", Name: "nine", State: provider.StateRunning, HourlyCost: cost},
		}
		rep, err := report.Build(report.Input{Now: at(10), Events: evs, Resources: inv})
		require.NoError(t, err, "cost %v", cost)
		assert.InDelta(t, 1, rep.Totals.RealisedSavings, 1e-9, "cost %v", cost)
		require.Len(t, rep.Idle, 1, "cost %v", cost)
		assert.Equal(t, "nine", rep.Idle[0].Name, "cost %v", cost)
		assert.Equal(t, 2, rep.Totals.Resources, "cost %v", cost)
	}
}

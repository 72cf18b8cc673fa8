package report_test

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/report"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// A stopped resource the inventory shows running again at an hourly cost
// that is no cost (infinite from a driver's division by a zero quantity,
// NaN, negative: Resource.Validate refuses each) was charged at it from
// its launch: its saving, the fleet's total and the savings chart were
// −Inf (or NaN), and the report could not be encoded as JSON. Build now
// refuses it, naming the resource and the field, and the charts, which
// have no error, leave it out.
func TestRestartAtAnInvalidCostIsRefused(t *testing.T) {
	t.Parallel()
	evs := []monitor.Event{action("i-1", safety.ActionStop, 0, 0.1, 0), action("i-2", safety.ActionStop, 0, 0.2, 0)}
	for _, cost := range []float64{math.Inf(1), math.NaN(), -0.5} {
		inv := []provider.Resource{
			{ID: "i-2", State: provider.StateStopped, HourlyCost: 0.2},
			{ID: "i-1", State: provider.StateRunning, HourlyCost: cost, LaunchTime: at(2)},
		}
		_, err := report.Build(report.Input{Now: at(10), Events: evs, Resources: inv})
		require.ErrorIs(t, err, provider.ErrInvalid, "cost %v", cost)
		require.ErrorContains(t, err, "resources[1].hourly_cost")
		require.ErrorContains(t, err, "i-1")

		for _, c := range []report.Chart{report.SavingsChart(evs, inv, at(0), at(10), 0), report.CostChart(evs, inv, at(0), at(10), 0)} {
			_, err := json.Marshal(c)
			require.NoError(t, err, "%s chart at cost %v", c.Name, cost)
		}
		// Left out, i-1 is charged no restart: saved 0.1 an hour for 10
		// hours, and i-2 0.2 an hour.
		c := report.SavingsChart(evs, inv, at(0), at(10), 0)
		assert.InDelta(t, 3, c.Series[0].Values[len(c.Series[0].Values)-1], 1e-9, "cost %v", cost)
	}
	// A valid restart is charged from its launch, as before.
	inv := []provider.Resource{{ID: "i-1", State: provider.StateRunning, HourlyCost: 0.1, LaunchTime: at(2)}}
	rep, err := report.Build(report.Input{Now: at(10), Events: evs[:1], Resources: inv})
	require.NoError(t, err)
	assert.InDelta(t, 0.2, rep.Totals.RealisedSavings, 1e-9)
}

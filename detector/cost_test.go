package detector_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// TestHourlyCostWhoseMonthOverflowsIsRefused: an hourly cost whose month
// (HourlyCost · HoursPerMonth, the savings of a stop) passes the largest
// float64 (a price table's garbage, a parse gone wrong) made a verdict
// with infinite MonthlySavings, which encoding/json refuses: the
// verdict, and a report or an audit trail holding it, failed to encode.
// Detect refuses it as it refuses a NaN cost, naming the field; a large
// cost whose month is finite is judged and its verdict encodes.
func TestHourlyCostWhoseMonthOverflowsIsRefused(t *testing.T) {
	t.Parallel()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	s := days(28, quiet)
	r := res("r", s.Start)

	r.HourlyCost = 1e300
	v, err := ens.Detect(t.Context(), detector.Input{Now: tEnd, Resource: r, Series: []provider.Series{s}})
	require.NoError(t, err)
	require.Equal(t, detector.ActionStop, v.Action, v.Explain())
	_, err = json.Marshal(v)
	require.NoError(t, err, "a finite month encodes")

	r.HourlyCost = 1e306 // × 730.5 h: past math.MaxFloat64
	v, err = ens.Detect(t.Context(), detector.Input{Now: tEnd, Resource: r, Series: []provider.Series{s}})
	if err == nil {
		_, jerr := json.Marshal(v)
		require.Failf(t, "accepted", "monthly savings %v; json: %v", v.MonthlySavings, jerr)
	}
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "input.resource.hourly_cost", ie.Field)
}

package forecasteval_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/forecast"
	"github.com/idlescale/idlescale/internal/forecasteval"
	"github.com/idlescale/idlescale/provider"
)

// TestEvaluateShortWindow checks that a trace whose origins have less than
// a week of history (which seasonal naive 168 reads) is an error naming
// the field, not an index out of range.
func TestEvaluateShortWindow(t *testing.T) {
	t.Parallel()
	y := make([]float64, 400)
	for i := range y {
		y[i] = 10 + 5*math.Sin(2*math.Pi*float64(i)/24) + float64(i%7)
	}
	tr := forecasteval.Trace{Name: "short", Values: y, Window: 48, Origins: []int{100, 124}}
	newModel := func() (forecast.Model, error) { return forecast.NewSeasonalNaive(24) }
	var err error
	require.NotPanics(t, func() { _, err = forecasteval.Evaluate(t.Context(), tr, newModel) })
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "trace.origins[0]", ie.Field)
}

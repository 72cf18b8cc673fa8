package forecasteval_test

import (
	"bytes"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/forecast"
	"github.com/idlescale/idlescale/internal/forecasteval"
)

// TestEvaluateCountsAutosChoices: Row.Chosen counts the model Auto chose
// at every origin, and WriteTable prints the most chosen. Backtest fits a
// ContextFitter through FitContext, which the recorder did not count (its
// Fit was never called), so the "most chosen" column of
// examples/forecast-eval was empty on every trace.
func TestEvaluateCountsAutosChoices(t *testing.T) {
	t.Parallel()
	y := make([]float64, 24*7*4)
	for i := range y {
		y[i] = 100 + 40*math.Sin(2*math.Pi*float64(i)/24) + float64(i%5)
	}
	tr := forecasteval.Trace{Name: "daily", Values: y, Window: 24 * 7 * 2, Origins: []int{24 * 7 * 3, 24*7*3 + 24}}
	row, err := forecasteval.Evaluate(t.Context(), tr, func() (forecast.Model, error) {
		return forecast.NewAuto(forecast.AutoConfig{Periods: []int{24}})
	})
	require.NoError(t, err)
	require.Equal(t, 2, row.Origins)
	total := 0
	for _, n := range row.Chosen {
		total += n
	}
	assert.Equal(t, row.Origins, total, "one choice per origin: %v", row.Chosen)
	var buf bytes.Buffer
	require.NoError(t, forecasteval.WriteTable(&buf, []forecasteval.Row{row}))
	assert.Regexp(t, `(?m)^ +daily .* \(2/2\) *$`, buf.String())
}

package scaling

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/forecast"
	"github.com/idlescale/idlescale/provider"
)

// failingForecast is a fitted model whose Forecast fails as an
// overflowing one does.
type failingForecast struct{ forecast.Model }

func (failingForecast) Forecast([]float64, []float64, [][]float64) error {
	return fmt.Errorf("%w: forecast step 1 is +Inf (the data overflow the model)", forecast.ErrNumeric)
}

// A decision whose forecast fails falls back to the reactive capacity and
// says why, and the status says how that decision was made. The reason
// said "no forecast model (<nil>)" (the fit's error, of a fit that had
// succeeded) and the status still said "forecast".
func TestPredictorForecastFailureIsSaid(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	c := PredictiveConfig{CapacityPerInstance: 50, MinHistory: 48 * time.Hour, Periods: []time.Duration{24 * time.Hour}}.withDefaults()
	pr := newPredictor(c)
	ser := provider.Series{Metric: provider.MetricRequests, Start: start, Step: 5 * time.Minute, Values: dailyWave(576)}
	require.NoError(t, pr.observe(t.Context(), ser, ser.End()))
	require.Equal(t, StandingForecast, pr.standing)
	pr.model = failingForecast{pr.model}

	d := pr.decide(10)
	assert.Equal(t, StandingNoModel, d.Standing)
	assert.Equal(t, d.Reactive, d.Desired)
	reason := d.reason(c, pr)
	assert.NotContains(t, reason, "<nil>")
	assert.Contains(t, reason, "overflow")
	st := pr.status()
	assert.Equal(t, StandingNoModel, st.Standing, "the last decision's standing")
	assert.Contains(t, st.Err, "overflow")
}

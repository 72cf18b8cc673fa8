package scaling_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
)

// A predictive strategy fitted on less than its minimum history asks for
// the minimum history too: given the lookback its Needs ask for (what the
// Autoscaler reads), it forecasts. It asked for FitWindow + ErrorWindow +
// RefitInterval only, so with MinHistory 14 days and FitWindow 7 days every
// State it was given held 8 days: after every restart it stayed on the
// reactive capacity ("short_history") for six days of wall-clock time,
// and a simulator replay (which reads the same Needs) for as long.
func TestPredictiveNeedsCoverMinHistory(t *testing.T) {
	t.Parallel()
	cfg := hourlyConfig() // MinHistory 14 days
	cfg.FitWindow = 7 * 24 * time.Hour
	p, err := scaling.NewPredictive(cfg)
	require.NoError(t, err)
	needs := p.Needs()
	require.Len(t, needs, 1)
	assert.GreaterOrEqual(t, needs[0].Lookback, cfg.MinHistory)

	y := seasonal(20*24, 3)
	st := stateAt(y, len(y), 20)
	st.Metrics[0] = st.Metrics[0].Window(st.Now.Add(-needs[0].Lookback), st.Now) // what the Autoscaler reads
	rec, err := p.Recommend(t.Context(), st)
	require.NoError(t, err)
	s, ok := p.Status("web")
	require.True(t, ok)
	assert.Equal(t, scaling.StandingForecast, s.Standing, rec.Reason)
	assert.Equal(t, provider.MetricRequests, needs[0].Metric)
}

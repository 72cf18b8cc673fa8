package scaling_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/forecast"
	"github.com/idlescale/idlescale/scaling"
)

// A gap policy that interpolates very long gaps (a valid max_gap, however
// large) costs the strategy only the forecast it makes: its forecast
// buffers were sized for the longest gap the policy allows, so a
// max_gap of 2^40 steps made the first recommendation allocate 16 TiB and
// crash the host with "fatal error: runtime: out of memory".
func TestPredictiveHugeMaxGap(t *testing.T) {
	t.Parallel()
	cfg := hourlyConfig()
	cfg.Gaps = forecast.GapPolicy{MaxGap: 1 << 40}
	p, err := scaling.NewPredictive(cfg)
	require.NoError(t, err)
	y := seasonal(15*24, 4)
	for k := len(y) - 5; k < len(y); k++ {
		y[k] = math.NaN() // a gap at the end: forecast across it
	}
	rec, err := p.Recommend(t.Context(), stateAt(y, len(y), 20))
	require.NoError(t, err)
	st, ok := p.Status("web")
	require.True(t, ok)
	assert.Equal(t, scaling.StandingForecast, st.Standing, rec.Reason)
	assert.Positive(t, rec.Capacity.Desired)
	assert.Contains(t, rec.Reason, "forecast p90")
}

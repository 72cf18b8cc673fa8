package scaling_test

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/scaling"
)

// A status whose rolling error is not known yet (NaN) encodes its MASE as
// −1, as PredictiveStatus documents, and decodes it back as NaN: a host
// serving the status as JSON must not fail on every target still short of
// history.
func TestPredictiveStatusJSONUnknownMASE(t *testing.T) {
	t.Parallel()
	p, err := scaling.NewPredictive(hourlyConfig())
	require.NoError(t, err)
	y := seasonal(10*24, 1)
	_, err = p.Recommend(t.Context(), stateAt(y, len(y), 5))
	require.NoError(t, err)
	st, ok := p.Status("web")
	require.True(t, ok)
	require.True(t, math.IsNaN(st.MASE), "short history: no rolling error yet")

	b, err := json.Marshal(st)
	require.NoError(t, err)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(b, &raw))
	assert.InDelta(t, -1, raw["mase"], 0)
	assert.Equal(t, "short_history", raw["standing"])

	var back scaling.PredictiveStatus
	require.NoError(t, json.Unmarshal(b, &back))
	assert.True(t, math.IsNaN(back.MASE), "−1 reads back as unknown")
	assert.Equal(t, st.Standing, back.Standing)
	assert.Equal(t, 10*24*time.Hour, back.History)

	known := scaling.PredictiveStatus{Standing: scaling.StandingForecast, MASE: 0.5}
	b, err = json.Marshal(known)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &back))
	assert.InDelta(t, 0.5, back.MASE, 0)
}

package scaling

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Reading the History of a target the engine keeps none of returns an
// empty History and keeps nothing: it made the target an empty history
// cell for good, so a host serving histories by the ID asked for (a
// dashboard, an API) grew the engine by one cell for every ID anyone
// asked about.
func TestHistoryOfAnUnknownTargetKeepsNothing(t *testing.T) {
	t.Parallel()
	e, err := NewEngine(EngineConfig{}, Cloud{Scaler: nopScaler{}}, nopGate{})
	require.NoError(t, err)
	h := e.History("nobody")
	assert.Empty(t, h.Recommendations)
	assert.Empty(t, h.Changes)
	e.mu.Lock()
	n := len(e.history)
	e.mu.Unlock()
	assert.Zero(t, n, "no cell is made by a read")
}

package forecast_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/forecast"
)

// A persisted Auto fitted with a period of one step (a period AutoConfig
// accepts) reads back with it: the check on the decoded periods refuses
// below 1, as Validate does, not at 1.
func TestUnmarshalAutoPeriodOfOneStep(t *testing.T) {
	t.Parallel()
	a, err := forecast.NewAuto(forecast.AutoConfig{Periods: []int{1}})
	require.NoError(t, err)
	require.NoError(t, a.Fit(seasonal(24*10, 100, 0.01, 20, 2, 31)))
	require.Equal(t, []int{1}, a.Periods())
	data, err := forecast.Marshal(a)
	require.NoError(t, err)
	back, err := forecast.Unmarshal(data)
	require.NoError(t, err)
	assert.Equal(t, []int{1}, back.(*forecast.Auto).Periods())
}

package forecast_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/forecast"
	"github.com/idlescale/idlescale/provider"
)

// A persisted Auto reads back the seasons its Fit compared candidates for
// (detected in the data when none were configured), as it reads back its
// chosen model and scores: they came back nil, as if it had never been
// fitted, and a host reporting a restored model's patterns reported none.
func TestMarshalAutoKeepsPeriods(t *testing.T) {
	t.Parallel()
	a, err := forecast.NewAuto(forecast.AutoConfig{})
	require.NoError(t, err)
	require.NoError(t, a.Fit(seasonal(24*30, 100, 0.01, 20, 2, 31)))
	require.NotEmpty(t, a.Periods(), "seasons detected")
	data, err := forecast.Marshal(a)
	require.NoError(t, err)
	back, err := forecast.Unmarshal(data)
	require.NoError(t, err)
	assert.Equal(t, a.Periods(), back.(*forecast.Auto).Periods())
	assert.Equal(t, a.Chosen(), back.(*forecast.Auto).Chosen())

	var bad forecast.Auto
	require.ErrorIs(t, bad.UnmarshalJSON([]byte(`{"config":{},"periods":[0]}`)), provider.ErrInvalid)
}

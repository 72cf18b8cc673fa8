package forecast_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/forecast"
	"github.com/idlescale/idlescale/provider"
)

// TestEnumsText checks the text forms of ModelKind and Combine: every
// value round-trips and prints as itself, a misspelt one is refused with
// an error naming it (ErrUnknownKind for a model kind), and "" decodes as
// the zero value.
func TestEnumsText(t *testing.T) {
	t.Parallel()
	for _, k := range []forecast.ModelKind{forecast.KindSeasonalNaive, forecast.KindHoltWinters, forecast.KindHarmonic, forecast.KindEnsemble, forecast.KindAuto} {
		require.NoError(t, k.Validate())
		text, err := k.MarshalText()
		require.NoError(t, err)
		var back forecast.ModelKind
		require.NoError(t, back.UnmarshalText(text))
		assert.Equal(t, k, back)
		assert.Equal(t, string(text), k.String())
	}
	for _, c := range []forecast.Combine{"", forecast.CombineMean, forecast.CombineMedian, forecast.CombineInverseError} {
		require.NoError(t, c.Validate())
		text, err := c.MarshalText()
		require.NoError(t, err)
		back := forecast.CombineMedian
		require.NoError(t, back.UnmarshalText(text))
		assert.Equal(t, c, back)
		assert.Equal(t, string(text), c.String())
	}

	var k forecast.ModelKind
	require.NoError(t, k.UnmarshalText(nil), `"" is the unset kind`)
	require.ErrorIs(t, forecast.ModelKind("").Validate(), forecast.ErrUnknownKind)
	err := k.UnmarshalText([]byte("arima"))
	require.ErrorIs(t, err, forecast.ErrUnknownKind)
	require.ErrorIs(t, err, provider.ErrInvalid)
	assert.Contains(t, err.Error(), `"arima"`)

	c := forecast.CombineMedian
	err = c.UnmarshalText([]byte("vote"))
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "vote", ie.Value)
	assert.Equal(t, forecast.CombineMedian, c, "a refused value leaves the target unchanged")
}

// TestSpecJSONRefusesUnknownValues checks that a Spec (as a host loads
// Auto's candidates from JSON) with a misspelt kind or rule fails when it
// is decoded.
func TestSpecJSONRefusesUnknownValues(t *testing.T) {
	t.Parallel()
	var s forecast.Spec
	require.NoError(t, json.Unmarshal([]byte(`{"kind":"ensemble","combine":"median","members":[{"kind":"seasonal_naive","period":24}]}`), &s))
	assert.Equal(t, forecast.Spec{Kind: forecast.KindEnsemble, Combine: forecast.CombineMedian, Members: []forecast.Spec{{Kind: forecast.KindSeasonalNaive, Period: 24}}}, s)
	require.ErrorIs(t, json.Unmarshal([]byte(`{"kind":"holtwinters","period":24}`), &s), forecast.ErrUnknownKind)
	require.ErrorIs(t, json.Unmarshal([]byte(`{"kind":"ensemble","combine":"vote"}`), &s), provider.ErrInvalid)
}

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

// Spec.String names every kind at its edges: a seasonal mean of one season
// is the seasonal naive method, harmonics listed only where given, an
// ensemble's default rule, an unknown kind.
func TestSpecString(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		spec forecast.Spec
		want string
	}{
		{forecast.Spec{Kind: forecast.KindSeasonalNaive, Period: 24}, "snaive(24)"},
		{forecast.Spec{Kind: forecast.KindSeasonalNaive, Period: 24, Seasons: 1}, "snaive(24)"},
		{forecast.Spec{Kind: forecast.KindSeasonalNaive, Period: 168, Seasons: 2}, "mean(168×2)"},
		{forecast.Spec{Kind: forecast.KindHoltWinters, Period: 24}, "hw(24,add)"},
		{forecast.Spec{Kind: forecast.KindHoltWinters, Period: 24, Multiplicative: true, Damped: true}, "hw(24,mul,damped)"},
		{forecast.Spec{Kind: forecast.KindHarmonic, Periods: []int{24, 168}, Harmonics: []int{10}}, "harmonic(24:10,168)"},
		{forecast.Spec{Kind: forecast.KindEnsemble, Members: []forecast.Spec{
			{Kind: forecast.KindSeasonalNaive, Period: 24}, {Kind: forecast.KindHoltWinters, Period: 24, Damped: true},
		}}, "mean[snaive(24) hw(24,add,damped)]"},
		{forecast.Spec{Kind: forecast.KindEnsemble, Combine: forecast.CombineMedian, Members: []forecast.Spec{{Kind: forecast.KindSeasonalNaive, Period: 1}}}, "median[snaive(1)]"},
		{forecast.Spec{Kind: "arima"}, "unknown(arima)"},
	} {
		assert.Equal(t, tt.want, tt.spec.String())
	}
}

// DefaultCandidates at its edges: no period gives the naive method; one
// period has no second seasonal naive; a period of 1 gets no seasonal
// model; a period of 2 does, with one harmonic; harmonics are capped at 10.
func TestDefaultCandidatesEdges(t *testing.T) {
	t.Parallel()
	names := func(periods ...int) []string {
		var out []string
		for _, s := range forecast.DefaultCandidates(periods) {
			out = append(out, s.String())
		}
		return out
	}
	assert.Equal(t, []string{"snaive(1)"}, names())
	assert.Equal(t, []string{"snaive(1)", "mean(1×2)"}, names(1))
	assert.Equal(t, []string{"snaive(2)", "mean(2×2)", "hw(2,add,damped)", "harmonic(2:1)"}, names(2))
	assert.Equal(t, []string{"snaive(12)", "mean(12×2)", "hw(12,add,damped)", "harmonic(12:6)"}, names(12))
	assert.Equal(t, []string{"snaive(24)", "snaive(168)", "mean(168×2)", "hw(24,add,damped)", "harmonic(24:10)"}, names(24, 168))
}

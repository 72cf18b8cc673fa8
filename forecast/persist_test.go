package forecast_test

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/forecast"
	"github.com/idlescale/idlescale/provider"
)

func TestMarshalRoundTrip(t *testing.T) {
	t.Parallel()
	y := seasonal(24*30, 100, 0.01, 20, 2, 31)
	tests := []struct {
		name string
		give func() (forecast.Model, error)
	}{
		{"seasonal naive", func() (forecast.Model, error) { return forecast.NewSeasonalMean(24, 2) }},
		{"holt-winters", func() (forecast.Model, error) {
			return forecast.NewHoltWinters(forecast.HoltWintersConfig{Period: 24, Multiplicative: true, Damped: true})
		}},
		{"harmonic", func() (forecast.Model, error) {
			return forecast.NewHarmonic(forecast.HarmonicConfig{Periods: []int{24, 168}})
		}},
		{"ensemble", func() (forecast.Model, error) {
			a, _ := forecast.NewSeasonalNaive(24)
			b, _ := forecast.NewHoltWinters(forecast.HoltWintersConfig{Period: 24})
			return forecast.NewEnsemble(forecast.CombineInverseError, a, b)
		}},
		{"auto", func() (forecast.Model, error) { return forecast.NewAuto(forecast.AutoConfig{Periods: []int{24, 168}}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := tt.give()
			require.NoError(t, err)
			require.NoError(t, m.Fit(y[:len(y)-5]))
			data, err := forecast.Marshal(m)
			require.NoError(t, err)
			back, err := forecast.Unmarshal(data)
			require.NoError(t, err)
			assert.IsType(t, m, back)
			// Same forecasts after the same updates.
			for _, v := range y[len(y)-5:] {
				require.NoError(t, m.Update(v))
				require.NoError(t, back.Update(v))
			}
			p1, p2 := make([]float64, 30), make([]float64, 30)
			q1, q2 := [][]float64{make([]float64, 30)}, [][]float64{make([]float64, 30)}
			require.NoError(t, m.Forecast(p1, []float64{0.9}, q1))
			require.NoError(t, back.Forecast(p2, []float64{0.9}, q2))
			assert.Equal(t, p1, p2)
			assert.Equal(t, q1, q2)

			// An unfitted model round-trips too.
			fresh, err := tt.give()
			require.NoError(t, err)
			data, err = forecast.Marshal(fresh)
			require.NoError(t, err)
			back, err = forecast.Unmarshal(data)
			require.NoError(t, err)
			require.ErrorIs(t, back.Forecast(p1, nil, nil), forecast.ErrNotFitted)
		})
	}
}

// Skipped candidates have NaN scores, which JSON cannot hold: they are
// left out and come back as NaN.
func TestMarshalAutoWithSkippedCandidates(t *testing.T) {
	t.Parallel()
	a, err := forecast.NewAuto(forecast.AutoConfig{Periods: []int{24, 168}})
	require.NoError(t, err)
	require.NoError(t, a.Fit(seasonal(200, 10, 0, 3, 0.5, 5)))
	data, err := forecast.Marshal(a)
	require.NoError(t, err)
	back, err := forecast.Unmarshal(data)
	require.NoError(t, err)
	got := back.(*forecast.Auto).Scores()
	want := a.Scores()
	require.Len(t, got, len(want))
	skipped := 0
	for i := range want {
		assert.Equal(t, want[i].Name, got[i].Name)
		assert.Equal(t, want[i].Skipped, got[i].Skipped)
		if want[i].Skipped != "" {
			skipped++
			assert.True(t, math.IsNaN(got[i].MAE))
		} else {
			assert.InDelta(t, want[i].MAE, got[i].MAE, 1e-12)
		}
	}
	assert.Positive(t, skipped)
}

func TestUnmarshalBadInput(t *testing.T) {
	t.Parallel()
	m, err := forecast.NewHoltWinters(forecast.HoltWintersConfig{Period: 24})
	require.NoError(t, err)
	require.NoError(t, m.Fit(seasonal(24*10, 100, 0, 20, 2, 1)))
	good, err := forecast.Marshal(m)
	require.NoError(t, err)
	var env map[string]any
	require.NoError(t, json.Unmarshal(good, &env))
	corrupt := func(f func(model map[string]any)) []byte {
		var e map[string]any
		require.NoError(t, json.Unmarshal(good, &e))
		f(e["model"].(map[string]any))
		out, err := json.Marshal(e)
		require.NoError(t, err)
		return out
	}
	tests := []struct {
		name    string
		give    []byte
		wantErr error
	}{
		{"unknown kind", []byte(`{"kind":"arima","model":{}}`), forecast.ErrUnknownKind},
		{"wrong season length", corrupt(func(m map[string]any) {
			m["state"].(map[string]any)["season"] = []any{1.0, 2.0}
		}), provider.ErrInvalid},
		{"invalid config", corrupt(func(m map[string]any) { m["config"].(map[string]any)["period"] = 0 }), provider.ErrInvalid},
		{"unsorted residuals", corrupt(func(m map[string]any) {
			m["fit"].(map[string]any)["residuals"].(map[string]any)["sorted"] = []any{[]any{3.0, 1.0}}
		}), provider.ErrInvalid},
		{"level above 1", corrupt(func(m map[string]any) {
			m["fit"].(map[string]any)["residuals"].(map[string]any)["levels"] = []any{0.0, 0.5, 1.5}
		}), provider.ErrInvalid},
		{"decreasing levels", corrupt(func(m map[string]any) {
			m["fit"].(map[string]any)["residuals"].(map[string]any)["levels"] = []any{0.0, 0.7, 0.6, 1.0}
		}), provider.ErrInvalid},
		// A negative floor read the stored relative errors as absolute
		// ones: intervals about a hundredth as wide, without an error.
		{"negative floor", corrupt(func(m map[string]any) {
			m["fit"].(map[string]any)["residuals"].(map[string]any)["floor"] = -1e6
		}), provider.ErrInvalid},
		{"single level", corrupt(func(m map[string]any) {
			m["fit"].(map[string]any)["residuals"].(map[string]any)["levels"] = []any{0.5}
		}), provider.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := forecast.Unmarshal(tt.give)
			require.ErrorIs(t, err, tt.wantErr)
		})
	}
	_, err = forecast.Unmarshal([]byte("{"))
	require.Error(t, err)
	f, err := forecast.NewFunc(2, func(_, dst []float64) {}, forecast.IntervalOptions{})
	require.NoError(t, err)
	_, err = forecast.Marshal(f)
	require.ErrorIs(t, err, provider.ErrUnsupported)
	_, err = forecast.Marshal(foreignModel{})
	require.ErrorIs(t, err, provider.ErrInvalid)
}

// TestUnmarshalFittedEnsembleOfUnfittedMembers is the regression test of an
// input FuzzUnmarshal found (testdata/fuzz/FuzzUnmarshal/0839a38dfe8a9f32):
// an ensemble marked fitted whose members are not made Update and Forecast
// index the members' empty state and panic. Unmarshal refuses it, naming
// the member; the same ensemble marked unfitted decodes and reports
// ErrNotFitted.
func TestUnmarshalFittedEnsembleOfUnfittedMembers(t *testing.T) {
	t.Parallel()
	const members = `[{"kind":"seasonal_naive","model":{"config":{"period":1}}},{"kind":"harmonic","model":{"config":{"periods":[2]}}}]`
	fitted := []byte(`{"kind":"ensemble","model":{"weights":[0.5,0.5],"members":` + members + `,"fit":{"fitted":true}}}`)
	var m forecast.Model
	var err error
	require.NotPanics(t, func() { m, err = forecast.Unmarshal(fitted) })
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "members[0]", ie.Field)
	assert.Nil(t, m)

	unfitted := []byte(`{"kind":"ensemble","model":{"weights":[0.5,0.5],"members":` + members + `,"fit":{"fitted":false}}}`)
	m, err = forecast.Unmarshal(unfitted)
	require.NoError(t, err)
	require.ErrorIs(t, m.Update(1), forecast.ErrNotFitted)
	require.ErrorIs(t, m.Forecast(make([]float64, 3), nil, nil), forecast.ErrNotFitted)
}

// TestUnmarshalNullFit: a model's fitted state written as null (a
// hand-edited or truncated file) is an error naming the field; decoding it
// dereferenced the nil state and panicked for every built-in model.
func TestUnmarshalNullFit(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, give, field string }{
		{"seasonal naive", `{"kind":"seasonal_naive","model":{"config":{"period":2},"state":null}}`, "state"},
		{"holt-winters", `{"kind":"holt_winters","model":{"config":{"period":2},"fit":null}}`, "fit"},
		{"harmonic", `{"kind":"harmonic","model":{"config":{"periods":[2]},"fit":null}}`, "fit"},
		{"ensemble", `{"kind":"ensemble","model":{"members":[{"kind":"seasonal_naive","model":{"config":{"period":2}}}],"weights":[1],"fit":null}}`, "fit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var m forecast.Model
			var err error
			require.NotPanics(t, func() { m, err = forecast.Unmarshal([]byte(tt.give)) })
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
			assert.Nil(t, m)
		})
	}
}

// TestMarshalKeepsIntervalOptions: a model restored unfitted and then
// fitted estimates its intervals with the options it was built with, as
// the original does. An Ensemble (built from a Spec with options) lost
// them: the restored one fitted with the defaults and its 0.9 quantile
// differed. A negative option in the JSON is an error naming it.
func TestMarshalKeepsIntervalOptions(t *testing.T) {
	t.Parallel()
	y := seasonal(24*20, 100, 0.01, 20, 2, 3)
	opts := forecast.IntervalOptions{Horizon: 3, Origins: 50, Absolute: true, Empirical: true}
	for _, sp := range []forecast.Spec{
		{Kind: forecast.KindEnsemble, Members: []forecast.Spec{{Kind: forecast.KindSeasonalNaive, Period: 24}, {Kind: forecast.KindHoltWinters, Period: 24}}},
		{Kind: forecast.KindSeasonalNaive, Period: 24},
		{Kind: forecast.KindHoltWinters, Period: 24},
		{Kind: forecast.KindHarmonic, Periods: []int{24}},
	} {
		m, err := sp.New(opts)
		require.NoError(t, err)
		data, err := forecast.Marshal(m)
		require.NoError(t, err)
		back, err := forecast.Unmarshal(data)
		require.NoError(t, err)
		require.NoError(t, m.Fit(y))
		require.NoError(t, back.Fit(y))
		p1, p2 := make([]float64, 6), make([]float64, 6)
		q1, q2 := [][]float64{make([]float64, 6)}, [][]float64{make([]float64, 6)}
		require.NoError(t, m.Forecast(p1, []float64{0.9}, q1))
		require.NoError(t, back.Forecast(p2, []float64{0.9}, q2))
		assert.Equal(t, q1, q2, sp.String())
	}
	bad := `{"kind":"ensemble","model":{"members":[{"kind":"seasonal_naive","model":{"config":{"period":2}}}],"weights":[1],"intervals":{"horizon":-1}}}`
	_, err := forecast.Unmarshal([]byte(bad))
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "intervals.horizon", ie.Field)
}

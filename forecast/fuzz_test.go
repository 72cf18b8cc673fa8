package forecast_test

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/forecast"
)

// floatsFrom decodes 8-byte little-endian float64 values, dropping the
// non-finite ones.
func floatsFrom(data []byte) []float64 {
	var y []float64
	for len(data) >= 8 {
		v := math.Float64frombits(binary.LittleEndian.Uint64(data))
		data = data[8:]
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			y = append(y, v)
		}
	}
	return y
}

func fuzzSeed() []byte {
	y := seasonal(24*4, 100, 0.1, 20, 3, 5)
	out := make([]byte, 8*len(y))
	for i, v := range y {
		binary.LittleEndian.PutUint64(out[8*i:], math.Float64bits(v))
	}
	return out
}

// FuzzFitForecast fits every kind of model on arbitrary finite data and
// forecasts: no panic, and for finite inputs either an error or finite
// outputs (never NaN).
func FuzzFitForecast(f *testing.F) {
	f.Add(fuzzSeed(), uint8(0), uint8(12), 0.9)
	f.Add(fuzzSeed(), uint8(1), uint8(30), 0.1)
	f.Add(fuzzSeed(), uint8(2), uint8(1), 0.5)
	f.Add(fuzzSeed(), uint8(3), uint8(24), 0.99)
	f.Add(fuzzSeed(), uint8(4), uint8(5), 0.9)
	f.Add(fuzzSeed(), uint8(5), uint8(5), 0.9)
	f.Add([]byte{1, 2, 3}, uint8(0), uint8(0), 1.5)
	f.Fuzz(func(t *testing.T, data []byte, kind, h uint8, tau float64) {
		y := floatsFrom(data)
		var m forecast.Model
		var err error
		switch kind % 6 {
		case 0:
			m, err = forecast.NewSeasonalNaive(4)
		case 1:
			m, err = forecast.NewHoltWinters(forecast.HoltWintersConfig{Period: 4, Damped: true, MaxEvaluations: 30})
		case 2:
			m, err = forecast.NewHoltWinters(forecast.HoltWintersConfig{Period: 4, Multiplicative: true, MaxEvaluations: 30})
		case 3:
			m, err = forecast.NewHarmonic(forecast.HarmonicConfig{Periods: []int{4, 8}})
		case 4:
			m, err = forecast.NewAuto(forecast.AutoConfig{Periods: []int{4}, Horizon: 4})
		case 5:
			m, err = forecast.NewAuto(forecast.AutoConfig{})
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Fit(y); err != nil {
			return
		}
		point := make([]float64, int(h))
		band := make([]float64, int(h))
		if err := m.Forecast(point, []float64{tau}, [][]float64{band}); err != nil {
			return
		}
		for i := range point {
			if math.IsNaN(point[i]) || math.IsNaN(band[i]) || math.IsInf(point[i], 0) || math.IsInf(band[i], 0) {
				t.Fatalf("step %d: point %v, quantile %v from finite input", i, point[i], band[i])
			}
		}
		if len(y) > 0 {
			_ = m.Update(y[0])
			_ = m.Update(math.NaN())
			if err := m.Forecast(point, nil, nil); err == nil {
				for i, v := range point {
					if math.IsNaN(v) {
						t.Fatalf("after update, step %d is NaN", i)
					}
				}
			}
		}
	})
}

// FuzzUnmarshal feeds arbitrary JSON to Unmarshal and holds a decoded
// model to the contract of Model and Marshal: Unmarshal either fails with
// an error or returns a model whose Forecast writes finite values only, or
// fails with one of the documented errors (ErrNotFitted for an unfitted
// model, ErrInsufficientData for quantiles without errors to estimate them
// from, ErrNumeric for an overflow), before and after an Update; and the
// model marshals again into JSON that restores a model forecasting
// exactly the same.
func FuzzUnmarshal(f *testing.F) {
	// Small seeds (short histories, few origins) keep the fuzzer's
	// minimisation of new inputs quick; the Holt-Winters seed keeps enough
	// errors for a level recalibration table.
	y := floatsFrom(fuzzSeed())[:48]
	small := forecast.IntervalOptions{Horizon: 3, Origins: 8, Empirical: true}
	hw, _ := forecast.NewHoltWinters(forecast.HoltWintersConfig{Period: 4, Intervals: forecast.IntervalOptions{Horizon: 3, Origins: 48}})
	ens, _ := forecast.Spec{Kind: forecast.KindEnsemble, Combine: forecast.CombineMedian, Members: []forecast.Spec{
		{Kind: forecast.KindSeasonalNaive, Period: 4}, {Kind: forecast.KindHarmonic, Periods: []int{8}},
	}}.New(small)
	auto, _ := forecast.NewAuto(forecast.AutoConfig{Periods: []int{4}, Horizon: 2, Candidates: []forecast.Spec{{Kind: forecast.KindSeasonalNaive, Period: 4}}, Intervals: small})
	for _, m := range []forecast.Model{hw, ens, auto} {
		if err := m.Fit(y); err != nil {
			f.Fatal(err)
		}
		data, err := forecast.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"kind":"auto","model":{"model":{"kind":"auto","model":{}}}}`))
	f.Add([]byte(`{"kind":"seasonal_naive","model":{"config":{"period":2},"state":{"fitted":true},"buffer":[1]}}`))
	f.Add([]byte(`{"kind":"harmonic","model":{"config":{"periods":[4]},"fit":{"fitted":true},"params":{"curves":[[1,2,3,4]],"t":-5}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := forecast.Unmarshal(data)
		if err != nil {
			require.Nil(t, m, "a failed Unmarshal returns no model")
			return
		}
		require.NotNil(t, m)
		before := checkDecodedForecast(t, m)
		raw, err := forecast.Marshal(m)
		require.NoError(t, err, "a decoded model marshals again")
		again, err := forecast.Unmarshal(raw)
		require.NoError(t, err, "what Marshal wrote unmarshals: %s", raw)
		assert.Equal(t, before, checkDecodedForecast(t, again), "the restored model forecasts as the decoded one")

		if err := m.Update(1); err != nil {
			require.ErrorIs(t, err, forecast.ErrNotFitted, "Update(1) fails only on an unfitted model")
		}
		checkDecodedForecast(t, m)
	})
}

// decodedForecast is what checkDecodedForecast saw: the point forecast
// alone, then with the 0.9 quantile, or the sentinel each error matched.
type decodedForecast struct {
	point, withP90, p90 []float64
	err, errP90         error
}

// checkDecodedForecast forecasts six steps, first the point forecast
// alone, then with the 0.9 quantile, and fails t unless every value is
// finite or the error is one Model documents.
func checkDecodedForecast(t *testing.T, m forecast.Model) decodedForecast {
	t.Helper()
	var d decodedForecast
	d.point = make([]float64, 6)
	d.err = documented(t, m.Forecast(d.point, nil, nil))
	d.withP90, d.p90 = make([]float64, 6), make([]float64, 6)
	d.errP90 = documented(t, m.Forecast(d.withP90, []float64{0.9}, [][]float64{d.p90}))
	if d.err != nil {
		d.point = nil // what a failed Forecast wrote is unspecified
	}
	if d.errP90 != nil {
		d.withP90, d.p90 = nil, nil
	}
	for _, vs := range [][]float64{d.point, d.withP90, d.p90} {
		for i, v := range vs {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("step %d: %v from a decoded model without an error", i, v)
			}
		}
	}
	return d
}

// documented returns the sentinel that err matches among those Forecast
// documents (nil for nil), and fails t for any other error.
func documented(t *testing.T, err error) error {
	t.Helper()
	if err == nil {
		return nil
	}
	for _, sentinel := range []error{forecast.ErrNotFitted, forecast.ErrInsufficientData, forecast.ErrNumeric} {
		if errors.Is(err, sentinel) {
			return sentinel
		}
	}
	t.Fatalf("Forecast of a decoded model: undocumented error %v", err)
	return nil
}

// FuzzPrepare: no panic, and the prepared values hold no NaN.
func FuzzPrepare(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0xf8, 0x7f, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f}, 2)
	f.Fuzz(func(t *testing.T, data []byte, maxGap int) {
		var y []float64
		for len(data) >= 8 {
			y = append(y, math.Float64frombits(binary.LittleEndian.Uint64(data)))
			data = data[8:]
		}
		out, err := forecast.Prepare(seriesOf(y), forecast.GapPolicy{MaxGap: maxGap})
		if err != nil {
			return
		}
		for i, v := range out {
			if math.IsNaN(v) {
				t.Fatalf("values[%d] is NaN after Prepare", i)
			}
		}
	})
}

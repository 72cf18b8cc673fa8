package forecast_test

import (
	"encoding/binary"
	"math"
	"testing"

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

// FuzzUnmarshal feeds arbitrary JSON to Unmarshal: no panic, and a model
// that decodes either forecasts finite values or returns an error.
func FuzzUnmarshal(f *testing.F) {
	m, _ := forecast.NewHoltWinters(forecast.HoltWintersConfig{Period: 4})
	_ = m.Fit(floatsFrom(fuzzSeed()))
	good, _ := forecast.Marshal(m)
	f.Add(good)
	f.Add([]byte(`{"kind":"auto","model":{"model":{"kind":"auto","model":{}}}}`))
	f.Add([]byte(`{"kind":"seasonal_naive","model":{"config":{"period":2},"state":{"fitted":true},"buffer":[1]}}`))
	f.Add([]byte(`{"kind":"harmonic","model":{"config":{"periods":[4]},"fit":{"fitted":true},"params":{"curves":[[1,2,3,4]],"t":-5}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := forecast.Unmarshal(data)
		if err != nil {
			return
		}
		p := make([]float64, 6)
		_ = m.Forecast(p, []float64{0.9}, [][]float64{make([]float64, 6)})
		_ = m.Update(1)
	})
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

package forecast_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/idlescale/idlescale/forecast"
)

// benchSeries is 10,000 hourly points with daily and weekly seasons, a
// trend and noise.
func benchSeries() []float64 {
	r := rand.New(rand.NewPCG(1, 2))
	y := make([]float64, 10000)
	for t := range y {
		day := math.Sin(2 * math.Pi * float64(t) / 24)
		week := math.Sin(2 * math.Pi * float64(t) / 168)
		y[t] = 100 + 0.002*float64(t) + 30*day + 10*week + 5*r.NormFloat64()
	}
	return y
}

func BenchmarkHoltWintersFit(b *testing.B) {
	y := benchSeries()
	m, err := forecast.NewHoltWinters(forecast.HoltWintersConfig{Period: 24, Damped: true})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Fit(y); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(m.Evaluations()), "evals/op")
}

func BenchmarkHarmonicFit(b *testing.B) {
	y := benchSeries()
	// 2 + 2·(8 + 11) = 40 columns requested; the 7th weekly harmonic
	// duplicates the 1st daily one and is left out: 38 columns.
	m, err := forecast.NewHarmonic(forecast.HarmonicConfig{Periods: []int{24, 168}, Harmonics: []int{8, 11}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Fit(y); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAutoSelect(b *testing.B) {
	y := benchSeries()
	m, err := forecast.NewAuto(forecast.AutoConfig{Periods: []int{24, 168}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Fit(y); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkForecastUpdate(b *testing.B) {
	y := benchSeries()
	models := []struct {
		name string
		new  func() (forecast.Model, error)
	}{
		{"holt-winters", func() (forecast.Model, error) {
			return forecast.NewHoltWinters(forecast.HoltWintersConfig{Period: 24, Damped: true})
		}},
		{"harmonic", func() (forecast.Model, error) {
			return forecast.NewHarmonic(forecast.HarmonicConfig{Periods: []int{24, 168}})
		}},
		{"seasonal-naive", func() (forecast.Model, error) { return forecast.NewSeasonalNaive(168) }},
		{"auto", func() (forecast.Model, error) { return forecast.NewAuto(forecast.AutoConfig{Periods: []int{24, 168}}) }},
	}
	for _, tt := range models {
		b.Run(tt.name, func(b *testing.B) {
			m, err := tt.new()
			if err != nil {
				b.Fatal(err)
			}
			if err := m.Fit(y[:8000]); err != nil {
				b.Fatal(err)
			}
			point := make([]float64, 12)
			p90 := make([]float64, 12)
			q := []float64{0.9}
			bands := [][]float64{p90}
			i := 8000
			b.ReportAllocs()
			for b.Loop() {
				if err := m.Update(y[i]); err != nil {
					b.Fatal(err)
				}
				if i++; i == len(y) {
					i = 8000
				}
				if err := m.Forecast(point, q, bands); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHarmonicRefit refits the predictive strategy's usual model on
// a sliding window: 30 days of 5-minute steps (8,640), daily and weekly
// seasons with 20 harmonics each, intervals for 14 steps; each refit is
// on the window one hour (12 steps) later, as the strategy's hourly
// refits are (the factorised normal matrix is reused).
func BenchmarkHarmonicRefit(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	y := make([]float64, 8640+12*200)
	for t := range y {
		y[t] = 1000 + 600*math.Sin(2*math.Pi*float64(t)/288) + 150*math.Sin(2*math.Pi*float64(t)/2016) + 30*r.NormFloat64()
	}
	m, err := forecast.NewHarmonic(forecast.HarmonicConfig{Periods: []int{288, 2016}, Harmonics: []int{20, 20},
		Intervals: forecast.IntervalOptions{Horizon: 14}})
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Fit(y[12*i : 12*i+8640]); err != nil {
			b.Fatal(err)
		}
		if i++; 12*i+8640 > len(y) {
			i = 0
		}
	}
}

// BenchmarkCandidatePeriods is the period detection that Auto and the
// predictive strategy run on a series given without periods (10,000
// hourly points).
func BenchmarkCandidatePeriods(b *testing.B) {
	y := benchSeries()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := forecast.CandidatePeriods(y); err != nil {
			b.Fatal(err)
		}
	}
}

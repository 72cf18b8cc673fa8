package forecast_test

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/idlescale/idlescale/forecast"
	"github.com/idlescale/idlescale/provider"
)

// hourly returns two weeks of an hourly load: 100 at night, up to 160 in
// the afternoon, with a small deterministic wiggle.
func hourly(days int) []float64 {
	y := make([]float64, 24*days)
	for t := range y {
		y[t] = 130 - 30*math.Cos(2*math.Pi*float64(t%24)/24) + 3*math.Sin(float64(t)*1.7)
	}
	return y
}

func ExampleNewSeasonalNaive() {
	m, err := forecast.NewSeasonalNaive(3)
	if err != nil {
		panic(err)
	}
	if err := m.Fit([]float64{1, 2, 3, 4, 5, 6}); err != nil {
		panic(err)
	}
	point := make([]float64, 4)
	_ = m.Forecast(point, nil, nil)
	fmt.Println(point)
	// Output: [4 5 6 4]
}

func ExampleNewSeasonalMean() {
	m, err := forecast.NewSeasonalMean(2, 2) // mean of the last two seasons of 2 steps
	if err != nil {
		panic(err)
	}
	if err := m.Fit([]float64{0, 0, 1, 10, 3, 30}); err != nil {
		panic(err)
	}
	point := make([]float64, 2)
	_ = m.Forecast(point, nil, nil)
	fmt.Println(point)
	// Output: [2 20]
}

func ExampleNewSeasonal() {
	m, err := forecast.NewSeasonal(forecast.SeasonalConfig{Period: 24, Intervals: forecast.IntervalOptions{Absolute: true}})
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Config().Period, m.Config().Seasons)
	// Output: 24 1
}

func ExampleNewHoltWinters() {
	m, err := forecast.NewHoltWinters(forecast.HoltWintersConfig{Period: 24, Damped: true})
	if err != nil {
		panic(err)
	}
	if err := m.Fit(hourly(14)); err != nil {
		panic(err)
	}
	point := make([]float64, 24)
	p90 := make([]float64, 24)
	_ = m.Forecast(point, []float64{0.9}, [][]float64{p90})
	fmt.Printf("3 am ≈ %.0f, 3 pm ≈ %.0f, p90 above the point: %v\n", point[3], point[15], p90[15] > point[15])
	// Output: 3 am ≈ 109, 3 pm ≈ 151, p90 above the point: true
}

func ExampleNewHarmonic() {
	m, err := forecast.NewHarmonic(forecast.HarmonicConfig{Periods: []int{24}, Harmonics: []int{2}})
	if err != nil {
		panic(err)
	}
	if err := m.Fit(hourly(14)); err != nil {
		panic(err)
	}
	point := make([]float64, 24)
	_ = m.Forecast(point, nil, nil)
	fmt.Printf("midnight ≈ %.0f, noon ≈ %.0f\n", point[0], point[12])
	// Output: midnight ≈ 100, noon ≈ 160
}

func ExampleNewEnsemble() {
	a, _ := forecast.NewSeasonalNaive(24)
	b, _ := forecast.NewHarmonic(forecast.HarmonicConfig{Periods: []int{24}})
	e, err := forecast.NewEnsemble(forecast.CombineMean, a, b)
	if err != nil {
		panic(err)
	}
	if err := e.Fit(hourly(14)); err != nil {
		panic(err)
	}
	point := make([]float64, 1)
	_ = e.Forecast(point, nil, nil)
	fmt.Printf("%.0f %v\n", point[0], e.Weights())
	// Output: 101 [0.5 0.5]
}

func ExampleNewAuto() {
	m, err := forecast.NewAuto(forecast.AutoConfig{Periods: []int{24}})
	if err != nil {
		panic(err)
	}
	if err := m.Fit(hourly(28)); err != nil {
		panic(err)
	}
	best := m.Scores()[0]
	fmt.Println("chosen:", m.Chosen())
	fmt.Println("best validation score is the chosen one:", best.Chosen, best.Name == m.Chosen().String())
	// Output:
	// chosen: mean(24×2)
	// best validation score is the chosen one: true true
}

func ExampleNewFunc() {
	// The mean of the last 3 values as a model, with empirical intervals.
	m, err := forecast.NewFunc(3, func(history, dst []float64) {
		var s float64
		for _, v := range history {
			s += v
		}
		for i := range dst {
			dst[i] = s / float64(len(history))
		}
	}, forecast.IntervalOptions{})
	if err != nil {
		panic(err)
	}
	if err := m.Fit([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9}); err != nil {
		panic(err)
	}
	point := make([]float64, 2)
	_ = m.Forecast(point, nil, nil)
	fmt.Println(point)
	// Output: [8 8]
}

// A Model follows a live metric: fit once, then Update with every new
// value and forecast without allocating.
func ExampleModel() {
	var m forecast.Model
	m, err := forecast.NewSeasonalNaive(24)
	if err != nil {
		panic(err)
	}
	y := hourly(8)
	if err := m.Fit(y[:24*7]); err != nil {
		panic(err)
	}
	point := make([]float64, 12)
	lo, hi := make([]float64, 12), make([]float64, 12)
	for _, v := range y[24*7 : 24*7+6] {
		if err := m.Update(v); err != nil {
			panic(err)
		}
	}
	if err := m.Forecast(point, []float64{0.05, 0.95}, [][]float64{lo, hi}); err != nil {
		panic(err)
	}
	fmt.Printf("next hour %.0f in [%.0f, %.0f]\n", point[0], lo[0], hi[0])
	// Output: next hour 128 in [122, 135]
}

func ExamplePrepare() {
	s := provider.Series{
		Metric: provider.CustomMetric("requests"),
		Start:  time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		Step:   time.Hour,
		Values: []float64{10, provider.Gap, provider.Gap, 40, 50},
	}
	y, err := forecast.Prepare(s, forecast.GapPolicy{MaxGap: 2})
	fmt.Println(y, err)
	_, err = forecast.Prepare(s, forecast.GapPolicy{MaxGap: 1})
	fmt.Println(err)
	// Output:
	// [10 20 30 40 50] <nil>
	// forecast: 2 consecutive gaps from values[1]: at most 1 may be interpolated; fit on the part after the gap
}

func ExampleFitSeries() {
	s := provider.Series{
		Metric: provider.CustomMetric("requests"),
		Start:  time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		Step:   time.Hour,
		Values: []float64{1, 5, 1, provider.Gap, 1, 5},
	}
	m, _ := forecast.NewSeasonalNaive(2)
	if err := forecast.FitSeries(m, s, forecast.GapPolicy{}); err != nil {
		panic(err)
	}
	point := make([]float64, 2)
	_ = m.Forecast(point, nil, nil)
	fmt.Println(point)
	// Output: [1 5]
}

func ExampleDetectPeriods() {
	y := make([]float64, 24*21)
	for t := range y {
		weekend := 0.0
		if (t/24)%7 >= 5 {
			weekend = -40
		}
		y[t] = 100 + 30*math.Sin(2*math.Pi*float64(t)/24) + weekend
	}
	periods, err := forecast.DetectPeriods(y, 0)
	fmt.Println(periods, err)
	// Output: [24 168] <nil>
}

func ExampleDetectSeasons() {
	s := provider.Series{Start: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Step: 30 * time.Minute, Values: make([]float64, 48*14)}
	for i := range s.Values {
		s.Values[i] = math.Sin(2 * math.Pi * float64(i) / 48)
	}
	seasons, err := forecast.DetectSeasons(s, 0)
	fmt.Println(seasons, err)
	// Output: [24h0m0s] <nil>
}

func ExamplePeriodSteps() {
	n, err := forecast.PeriodSteps(24*time.Hour, 5*time.Minute)
	fmt.Println(n, err)
	// Output: 288 <nil>
}

func ExampleBacktest() {
	y := hourly(21)
	res, err := forecast.Backtest(context.Background(), y, func() (forecast.Model, error) {
		return forecast.NewSeasonalNaive(24)
	}, forecast.BacktestOptions{Horizon: 24, SeasonalPeriod: 24, Window: 24 * 7, Quantiles: []float64{0.9}})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d origins, MASE %.2f, coverage of q0.9 %.2f\n", len(res.Origins), res.MASE, res.Coverage[0])
	// Output: 14 origins, MASE 1.00, coverage of q0.9 0.90
}

func ExampleMarshal() {
	m, _ := forecast.NewSeasonalNaive(2)
	_ = m.Fit([]float64{1, 2, 1, 2, 1, 2})
	data, err := forecast.Marshal(m)
	if err != nil {
		panic(err)
	}
	back, err := forecast.Unmarshal(data)
	if err != nil {
		panic(err)
	}
	point := make([]float64, 2)
	_ = back.Forecast(point, nil, nil)
	fmt.Println(point)
	// Output: [1 2]
}

func ExampleMASE() {
	train := []float64{10, 20, 10, 20, 12, 22}
	scale := forecast.Scale(train, 2) // mean |y_t − y_{t−2}| = 1
	fmt.Println(forecast.MASE([]float64{11, 21}, []float64{12, 22}, scale))
	// Output: 1
}

func ExampleSpec_New() {
	spec := forecast.Spec{Kind: forecast.KindHoltWinters, Period: 24, Damped: true}
	m, err := spec.New(forecast.IntervalOptions{})
	fmt.Printf("%s %T %v\n", spec, m, err)
	// Output: hw(24,add,damped) *forecast.HoltWinters <nil>
}

func ExampleDefaultCandidates() {
	for _, s := range forecast.DefaultCandidates([]int{24, 168}) {
		fmt.Println(s)
	}
	// Output:
	// snaive(24)
	// snaive(168)
	// mean(168×2)
	// hw(24,add,damped)
	// harmonic(24:10)
}

func ExampleUnmarshal() {
	m, err := forecast.Unmarshal([]byte(`{"kind":"seasonal_naive","model":{"config":{"period":24}}}`))
	fmt.Printf("%T %v\n", m, err)
	err = m.Forecast(make([]float64, 3), nil, nil)
	fmt.Println(err)
	// Output:
	// *forecast.SeasonalNaive <nil>
	// forecast: model not fitted
}

// By default the quantile level is recalibrated from the errors replayed in
// time order: on a load whose noise keeps growing, the 90 % interval is
// wider than the plain split-conformal one (Empirical).
func ExampleIntervalOptions() {
	y := hourly(28)
	for t := range y {
		// Deterministic noise whose amplitude grows from 1 to 13.
		y[t] += (1 + 12*float64(t)/float64(len(y))) * math.Sin(float64(t)*2.3) * math.Cos(float64(t)*0.37)
	}
	width := func(opts forecast.IntervalOptions) float64 {
		m, err := forecast.NewSeasonal(forecast.SeasonalConfig{Period: 24, Intervals: opts})
		if err != nil {
			panic(err)
		}
		if err := m.Fit(y); err != nil {
			panic(err)
		}
		point := make([]float64, 24)
		lo, hi := make([]float64, 24), make([]float64, 24)
		if err := m.Forecast(point, []float64{0.05, 0.95}, [][]float64{lo, hi}); err != nil {
			panic(err)
		}
		var w float64
		for h := range hi {
			w += (hi[h] - lo[h]) / 24
		}
		return w
	}
	recal, plain := width(forecast.IntervalOptions{Absolute: true}), width(forecast.IntervalOptions{Absolute: true, Empirical: true})
	fmt.Println("recalibrated interval wider:", recal > plain)
	// Output: recalibrated interval wider: true
}

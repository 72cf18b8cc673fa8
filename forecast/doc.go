// Package forecast fits forecasting models to regular metric series and
// predicts future values with calibrated quantiles, choosing the model per
// series automatically.
//
// # Models
//
// Every model implements the small Model interface (Fit, Forecast,
// Update); Update is O(1) and Forecast allocates nothing, so a fitted model
// can follow a live metric and forecast inside a scaling decision:
//
//   - SeasonalNaive: the value one season ago, or the mean of the last K
//     seasons (NewSeasonalNaive, NewSeasonalMean).
//   - HoltWinters: additive or multiplicative season with an optionally
//     damped trend, parameters fitted with gonum/optimize.
//   - Harmonic: Fourier terms for several seasons plus trend with AR(1)
//     errors, least squares on normal equations with gonum/mat.
//   - Ensemble: mean, median or inverse-error weighted combination.
//   - Auto: rolling-origin cross-validation over candidates (Spec,
//     DefaultCandidates) and combinations of the best, falling back to the
//     best naive; Scores reports what it compared.
//
// # Uncertainty
//
// Quantiles come from empirical forecast errors per horizon, collected at
// rolling origins (out of sample for Auto's validation window, and by
// replaying the data with the fitted parameters), taken as split-conformal
// quantiles. For non-negative series the errors are scaled by the forecast
// level plus the mean level, so intervals are wider at peaks.
//
// # Gaps, periods and metrics
//
// A provider.Series marks gaps with NaN. Prepare interpolates short gaps
// linearly and refuses long ones with a *GapError (a gap is never read as
// zero); FitSeries prepares and fits in one call. DetectPeriods and
// DetectSeasons find seasons from the autocorrelation function; PeriodSteps
// converts a duration into steps of the series' step. MASE (scaled by
// Scale, the in-sample seasonal naive error, as in M4), SMAPE, RMSE,
// Pinball and Coverage score forecasts, and Backtest runs them over rolling
// origins.
//
// # Persistence
//
// Marshal and Unmarshal write and read any built-in model, fitted or not,
// as JSON with its kind.
//
// # Usage
//
//	y, err := forecast.Prepare(series, forecast.GapPolicy{})  // hourly series
//	if err != nil { ... }
//	m, err := forecast.NewAuto(forecast.AutoConfig{Periods: []int{24, 168}})
//	if err != nil { ... }
//	if err := m.Fit(y); err != nil { ... }
//	point := make([]float64, 12)
//	p90 := make([]float64, 12)
//	err = m.Forecast(point, []float64{0.9}, [][]float64{p90})
//	// later, for every new hourly value:
//	err = m.Update(v)
//
// Package forecast/accuracy and the command examples/forecast-eval measure
// the accuracy of Auto on real traces.
package forecast

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
// quantiles (Vovk, Gammerman & Shafer 2005; Lei et al. 2018, JASA
// 113(523)): for the n sorted errors e(1) ≤ … ≤ e(n) of horizon h,
//
//	q_τ = e(⌈(n+1)τ⌉) for τ ≥ 0.5,  e(⌊(n+1)τ⌋) for τ < 0.5,
//
// and the τ-quantile forecast is ŷ(T+h) + q_τ (beyond the kept horizons
// the offset of the last one grows with √h). A rank outside 1…n (too few
// errors to tell: τ < 1/(n+1) or τ > n/(n+1)) takes the extreme error,
// min(e(1), 0) below and max(e(n), 0) above, so that such a quantile
// never lies on the wrong side of the point forecast.
//
// Error scale. With IntervalOptions.Absolute the errors stay in the
// series' unit. Otherwise the errors of a non-negative series are stored
// as e/(|ŷ| + ȳ) (ȳ the training mean) and multiplied back by the
// forecast's own |ŷ| + ȳ, so intervals widen at peaks. Auto chooses
// between the two per series: it replays its validation predictions in
// time order, forms at each origin the quantiles at 0.05, 0.9 and 0.95
// from the errors known there, and keeps the scale with the lower summed
// pinball loss ρ_τ(d) = max(τd, (τ−1)d), a proper scoring rule (Gneiting
// & Raftery 2007, JASA 102(477)).
//
// Level recalibration. Conformal quantiles cover at their level only when
// the errors are exchangeable; traffic drops, anomalies and bursts make a
// later error fall in the tails of the earlier ones more often than
// nominal, and intervals taken from the whole window then undercover. So
// the errors are also replayed in time order: for each origin i (the last
// 400) and horizon h (every ⌈H/12⌉-th of the H kept: neighbouring
// horizons' errors are nearly the same), the probability integral
// transform of
// e_i among the k ≥ 20 errors known at i (those of origins ≤ i − h − 1),
//
//	u_i = (#{e_j < e_i} + (#{e_j = e_i} + 1)/2) / (k + 1),
//
// is the level at which the conformal quantile of those errors would just
// have covered e_i. Pooled over horizons, the empirical τ-quantile R(τ) of
// the u's is the level that would have covered a share τ sequentially
// (the recalibration of Kuleshov, Fenner & Ermon 2018, "Accurate
// uncertainties for deep learning using calibrated regression", ICML;
// the PIT histogram of Gneiting, Balabdaoui & Raftery 2007). A forecast
// at level τ reads the error table at
//
//	τ' = min(max(R(τ), τ), (1+τ)/2) for τ ≥ 0.5,
//	τ' = max(min(R(τ), τ), τ/2)     for τ < 0.5:
//
// recalibration only widens (under exchangeability the conformal quantile
// already covers, and a narrowing R mostly reflects the noise of a few
// strongly dependent transforms), and it at most halves the nominal miss
// rate, since beyond that the table's extreme order statistics — often a
// single anomaly — would set the interval. With fewer than 48 transforms
// there is no recalibration. IntervalOptions.Empirical turns it off
// (plain conformal quantiles, as for a benchmark). The table is stored
// with the model (101 levels) and costs Forecast one interpolation.
//
// On the five real traces of the repository's accuracy evaluation
// (examples/forecast-eval: application-server traffic, NYC taxi demand,
// NASA HTTP requests, and NAB's ASG CPU and ELB requests) this takes the
// two-sided 90 % interval [q0.05, q0.95] from 0.82–0.84 coverage to
// 0.85–0.89 and the one-sided 0.9 quantile to 0.88–0.91, with the point
// forecasts unchanged.
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
// The command examples/forecast-eval measures the accuracy of Auto on
// those five real traces against seasonal naive baselines; Backtest runs
// the same kind of evaluation on a host's own traces (read them with
// package trace).
package forecast

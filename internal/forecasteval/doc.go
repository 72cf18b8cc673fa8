// Package forecasteval runs the project's forecast accuracy protocol on
// the real traces in the repository's testdata directory, so that the
// forecast package's test TestAccuracyOnRealTraces and the command
// examples/forecast-eval measure exactly the same thing. It is project
// scaffolding, not part of the SDK: hosts evaluate their own models with
// forecast.Backtest on their own traces (read with package trace).
//
// Protocol: every trace is aggregated to hourly steps (counts:
// the mean of the present 5- or 30-minute samples times the samples per
// hour, which is their sum when none is missing; utilisation: the mean);
// an hour with less than three quarters of its samples is a gap. There is
// one origin per day, counted back from the end of the data (or of each
// clean stretch); each forecasts h = 1…24 from a training window of the
// preceding 8 weeks (app-server traffic, last 56 origins; NYC taxi), 2
// weeks (NASA HTTP, clean stretches only; NAB ASG CPU) or 1 week (NAB ELB
// requests). Origins whose window or horizon has a gap longer than 3
// hours are not used; shorter gaps in a window are interpolated.
//
// Relative MASE is Σ MASE(method) / Σ MASE(seasonal naive 24) over all
// origins and horizons, with MASE scaled by each window's in-sample
// seasonal naive (m = 24) error as in M4. The baseline seasonal naive 24
// uses plain empirical (split-conformal) quantiles of absolute errors.
// Checks lists the criteria of the goal (per trace: vs the better naive,
// one-sided p90 coverage, two-sided 90 % interval coverage, pinball ratio;
// and the geometric means) and WriteTable prints them after the table.
package forecasteval

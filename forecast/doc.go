// Package forecast fits forecasting models to regular metric series and
// predicts future values with prediction intervals.
//
// This package is being built; see the project issues for its scope.
package forecast

// Package safety is the gate every mutation passes: rules, risk levels and
// approvals, failing closed on any error.
//
// This package is being built; see the project issues for its scope.
package safety

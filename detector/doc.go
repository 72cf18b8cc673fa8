// Package detector finds idle resources from utilization, activity,
// schedules and a trained model, combined into one explainable confidence.
//
// This package is being built; see the project issues for its scope.
package detector

// Package prometheus reads metrics and activity from a Prometheus server.
//
// This package is being built; see the project issues for its scope.
package prometheus

// Package ratelimit limits scaling and reaping events per window, per
// target and globally.
//
// This package is being built; see the project issues for its scope.
package ratelimit

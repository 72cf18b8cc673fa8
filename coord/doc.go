// Package coord runs several replicas of a host: leader election, fencing
// and shared state on etcd.
//
// This package is being built; see the project issues for its scope.
package coord

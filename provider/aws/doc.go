// Package aws is the Amazon Web Services driver: EC2, Auto Scaling,
// CloudWatch, Lambda and EBS snapshots.
//
// This package is being built; see the project issues for its scope.
package aws

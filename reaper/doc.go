// Package reaper is the idle-reaping pipeline: inventory, detect, safety,
// act, verify and record. It runs dry by default.
//
// This package is being built; it will compose the detector, safety and
// provider packages.
package reaper

package detector

import (
	"errors"
	"fmt"

	"github.com/idlescale/idlescale/provider"
)

// Errors returned by the package. Bad input (a NaN sample, a threshold
// outside [0, 1], a negative weight) returns a *provider.InvalidError that
// names the field and value and matches provider.ErrInvalid.
var (
	// ErrNoSignal means an Ensemble has no member that can be evaluated: its
	// configuration is empty or every weight is zero.
	ErrNoSignal = errors.New("detector: no signal")
	// ErrNotTrained means a Model was used before Train or Load gave it
	// coefficients.
	ErrNotTrained = errors.New("detector: model not trained")
	// ErrTooFewExamples means a training or evaluation set is too small or
	// holds only one class.
	ErrTooFewExamples = errors.New("detector: too few examples")
	// ErrPartialActivity means an activity source's count covers less of a
	// Recheck's window than the recheck must read (its Since is after the
	// window's start): use in the part before could not be seen, so the
	// caller must not act.
	ErrPartialActivity = errors.New("detector: activity data does not cover the window")
)

// ResourceError is the failure of one resource in a fleet Scan. It wraps the
// cause; errors.Is sees through it.
type ResourceError struct {
	// ResourceID is the resource that failed.
	ResourceID string
	// Op says what failed: "metric cpu", "activity", "detect", or "list"
	// for an ID listed (or given to Tracker.Sweep) more than once.
	Op string
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *ResourceError) Error() string {
	return fmt.Sprintf("detector: %s %s: %v", e.ResourceID, e.Op, e.Err)
}

// Unwrap returns the cause.
func (e *ResourceError) Unwrap() error { return e.Err }

func invalid(field string, value any, reason string) error {
	return provider.Invalid(field, value, reason)
}

// renamed returns err's *provider.InvalidError, made under another path
// (a provider value's own), as the error of field, its value and reason
// kept; an error that is no *provider.InvalidError as it is.
func renamed(field string, err error) error {
	var ie *provider.InvalidError
	if !errors.As(err, &ie) {
		return err
	}
	return invalid(field, ie.Value, ie.Reason)
}

package forecast

import (
	"errors"
	"fmt"

	"github.com/idlescale/idlescale/provider"
)

// Sentinel errors of the package. Every error returned for bad input also
// matches provider.ErrInvalid and, where it names a value, is a
// *provider.InvalidError; test with errors.Is and errors.As.
var (
	// ErrInsufficientData means the series is too short for the model: most
	// seasonal models need at least two full seasons, and a constant or
	// all-gap series carries no information to fit.
	ErrInsufficientData = fmt.Errorf("%w: insufficient data", provider.ErrInvalid)
	// ErrNotFitted means Forecast or Update was called before a successful
	// Fit (or Unmarshal).
	ErrNotFitted = errors.New("forecast: model not fitted")
	// ErrLongGap means the series has a gap longer than the policy allows
	// to interpolate; a model refuses to fit across it. It is matched by
	// every *GapError.
	ErrLongGap = fmt.Errorf("%w: gap too long to interpolate", provider.ErrInvalid)
	// ErrNonPositive means a multiplicative model was given a value ≤ 0.
	ErrNonPositive = fmt.Errorf("%w: non-positive value for a multiplicative model", provider.ErrInvalid)
	// ErrNumeric means a forecast came out NaN or infinite, which happens
	// only when the data are so large that the model's arithmetic
	// overflows (or a Func returned a non-finite value). A built-in
	// model whose fit overflows (values near the largest float64: a
	// Harmonic's normal equations, a Holt-Winters start, a seasonal
	// mean's sum of seasons, or an Ensemble with such a member) refuses
	// the data at Fit with an error matching ErrNumeric and
	// provider.ErrInvalid, rather than fitting a model every forecast of
	// which would be NaN.
	ErrNumeric = errors.New("forecast: non-finite forecast")
	// ErrUnknownKind means a model kind (in a Spec or in persisted JSON) is
	// not one this package knows.
	ErrUnknownKind = fmt.Errorf("%w: unknown model kind", provider.ErrInvalid)
)

// GapError reports a run of gaps too long to interpolate. It matches
// ErrLongGap.
type GapError struct {
	// Index is the position of the first gap step of the run.
	Index int
	// Length is the number of consecutive gap steps.
	Length int
	// Max is the longest run the policy interpolates.
	Max int
}

// Error implements error.
func (e *GapError) Error() string {
	return fmt.Sprintf("forecast: %d consecutive gaps from values[%d]: at most %d may be interpolated; fit on the part after the gap", e.Length, e.Index, e.Max)
}

// Is reports whether target is ErrLongGap or provider.ErrInvalid.
func (e *GapError) Is(target error) bool {
	return target == ErrLongGap || target == provider.ErrInvalid
}

// insufficient returns an error matching ErrInsufficientData that says how
// many values were given and how many are needed.
func insufficient(what string, got, need int) error {
	return fmt.Errorf("%w: %s has %d values, needs at least %d", ErrInsufficientData, what, got, need)
}

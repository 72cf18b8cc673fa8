package forecast

import (
	"fmt"

	"github.com/idlescale/idlescale/provider"
)

// Func is a point forecaster written as a function: given the most recent
// history (oldest first; the slice is only valid during the call and must
// not be modified or retained) it writes the forecast of the next len(dst)
// steps into dst. It must be deterministic and return finite values.
type Func func(history, dst []float64)

// FuncModel adapts a Func to Model: it keeps the last Window values (Update
// is amortised O(1) without allocation) and gets the same empirical
// prediction intervals as the built-in models, from replaying the training
// data. It can be an Ensemble member only through code (it has no Spec),
// and so cannot be an Auto candidate (AutoConfig.Candidates are Specs) nor
// be persisted.
//
// Create one with NewFunc. Not safe for concurrent use.
type FuncModel struct {
	f      Func
	window int
	buf    []float64 // 2·window; the history is buf[lo:lo+n]
	lo, n  int
	b      base
	opts   IntervalOptions
}

var _ Model = (*FuncModel)(nil)

// NewFunc returns a Model calling f with the last window values. Fit needs
// window+1 values (more to estimate intervals). It returns an error
// matching provider.ErrInvalid for a nil f or window < 1.
func NewFunc(window int, f Func, intervals IntervalOptions) (*FuncModel, error) {
	if f == nil {
		return nil, provider.Invalid("func", nil, "must not be nil")
	}
	if window < 1 || window > 1<<22 {
		return nil, provider.Invalid("window", window, "must be in [1, 4194304] steps")
	}
	if err := intervals.Validate(); err != nil {
		return nil, err
	}
	return &FuncModel{f: f, window: window, opts: intervals}, nil
}

// Fit keeps the last Window values of y and estimates the intervals.
func (m *FuncModel) Fit(y []float64) error { return fitModel(m, y, m.opts) }

// Forecast implements Model. It returns an error matching ErrNumeric when
// the function writes a non-finite value.
func (m *FuncModel) Forecast(point, quantiles []float64, bands [][]float64) error {
	return forecastModel(m, point, quantiles, bands)
}

// Update implements Model.
func (m *FuncModel) Update(v float64) error { return updateModel(m, v) }

func (m *FuncModel) kind() ModelKind { return kindFunc }
func (m *FuncModel) minLen() int     { return m.window }
func (m *FuncModel) need() int       { return m.window + 1 }
func (m *FuncModel) base() *base     { return &m.b }

func (m *FuncModel) fitParams(y []float64) error {
	m.reset(y)
	return nil
}

func (m *FuncModel) reset(y []float64) {
	if len(m.buf) != 2*m.window {
		m.buf = make([]float64, 2*m.window)
	}
	k := min(len(y), m.window)
	m.lo, m.n = 0, k
	copy(m.buf, y[len(y)-k:])
}

func (m *FuncModel) step(v float64) {
	if m.lo+m.n == len(m.buf) {
		copy(m.buf, m.buf[m.lo:m.lo+m.n])
		m.lo = 0
	}
	m.buf[m.lo+m.n] = v
	if m.n < m.window {
		m.n++
	} else {
		m.lo++
	}
}

func (m *FuncModel) predict(dst []float64) {
	m.f(m.buf[m.lo:m.lo+m.n:m.lo+m.n], dst)
}

// MarshalJSON returns an error: a function cannot be persisted.
func (m *FuncModel) MarshalJSON() ([]byte, error) {
	return nil, fmt.Errorf("%w: a FuncModel cannot be persisted", provider.ErrUnsupported)
}

package forecast

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/idlescale/idlescale/internal/enumtext"
	"github.com/idlescale/idlescale/provider"
)

// Combine names how an Ensemble combines its members' point forecasts. The
// set is closed; the zero value "" means CombineMean.
type Combine string

// The combination rules.
const (
	// CombineMean is the equally weighted mean (the default).
	CombineMean Combine = "mean"
	// CombineMedian is the per-step median, robust to one bad member.
	CombineMedian Combine = "median"
	// CombineInverseError weights each member by 1/MAE of its
	// rolling-origin errors over the interval horizon (in the series'
	// unit, whatever the member's IntervalOptions), normalised to sum to
	// 1.
	CombineInverseError Combine = "inverse_error"
)

// Validate reports an unknown rule; the empty string means CombineMean.
func (c Combine) Validate() error {
	switch c {
	case "", CombineMean, CombineMedian, CombineInverseError:
		return nil
	}
	return provider.Invalid("combine", string(c), "must be mean, median or inverse_error")
}

// String returns the rule's value, such as "median" ("" for the default,
// mean).
func (c Combine) String() string { return string(c) }

// MarshalText returns the rule's value.
func (c Combine) MarshalText() ([]byte, error) { return []byte(c), nil }

// UnmarshalText sets c from text: a rule Validate accepts ("" means
// mean); any other value is a *provider.InvalidError naming it.
func (c *Combine) UnmarshalText(text []byte) error {
	return enumtext.Unmarshal(c, text, Combine.Validate)
}

// Ensemble combines the point forecasts of several built-in models (a
// forecast combination, Bates & Granger 1969; Hyndman & Athanasopoulos,
// FPP 3rd ed., §13.4):
//
//	ŷ(T+h) = Σ_i w_i ŷ_i(T+h)         (mean: w_i = 1/N; inverse_error: w_i ∝ 1/MAE_i)
//	ŷ(T+h) = median_i ŷ_i(T+h)        (median)
//
// Its intervals come from the combined forecast's own rolling-origin
// errors, not from the members'. Fit fits every member; Update updates
// every member. With a multiplicative Holt-Winters member (at any depth)
// Fit and Update refuse values ≤ 0 as that member does (ErrNonPositive),
// and Update a gap whose combined one-step forecast is ≤ 0.
//
// Create one with NewEnsemble; the zero value is not usable. Not safe for
// concurrent use, but for Forecast, as Model says (concurrent forecasts
// take turns with the ensemble's buffers).
type Ensemble struct {
	combine Combine
	members []core
	weights []float64
	b       base
	opts    IntervalOptions
	// mu guards scratch and col, so that Forecast may be called
	// concurrently (the Model contract) without allocating.
	mu      sync.Mutex
	scratch [][]float64 // per member, predict buffers
	col     []float64
}

var _ Model = (*Ensemble)(nil)

// NewEnsemble returns an unfitted ensemble of members combined by rule
// (empty means CombineMean). Members must be this package's models
// (*SeasonalNaive, *HoltWinters, *Harmonic, *FuncModel, *Ensemble; not
// *Auto), each given once; the ensemble owns them afterwards. It returns
// an error matching provider.ErrInvalid for no members, a nil or foreign
// member, a member given twice (or also inside another member: Update
// would step it twice), or an unknown rule.
func NewEnsemble(rule Combine, members ...Model) (*Ensemble, error) {
	if err := rule.Validate(); err != nil {
		return nil, fmt.Errorf("forecast: ensemble: %w", err)
	}
	if rule == "" {
		rule = CombineMean
	}
	if len(members) == 0 {
		return nil, provider.Invalid("members", 0, "an ensemble needs at least one member")
	}
	cs := make([]core, len(members))
	seen := map[core]bool{}
	for i, m := range members {
		c, ok := m.(core)
		if !ok || isNil(m) {
			return nil, provider.Invalid(fmt.Sprintf("members[%d]", i), fmt.Sprintf("%T", m), "must be a model of package forecast")
		}
		if !addModels(seen, c) {
			// Stepped once per appearance, its state would run ahead
			// of the data.
			return nil, provider.Invalid(fmt.Sprintf("members[%d]", i), fmt.Sprintf("%T", m), "must be a model given once (not again, nor inside another member)")
		}
		cs[i] = c
	}
	e := &Ensemble{combine: rule, members: cs}
	e.weights = make([]float64, len(cs))
	for i := range e.weights {
		e.weights[i] = 1 / float64(len(cs))
	}
	return e, nil
}

// addModels adds c and, for an ensemble, its members at every depth to
// seen, and reports whether none of them was there already.
func addModels(seen map[core]bool, c core) bool {
	if seen[c] {
		return false
	}
	seen[c] = true
	if e, ok := c.(*Ensemble); ok {
		for _, m := range e.members {
			if !addModels(seen, m) {
				return false
			}
		}
	}
	return true
}

// Members returns the ensemble's members (shared, not copies).
func (e *Ensemble) Members() []Model {
	out := make([]Model, len(e.members))
	for i, c := range e.members {
		out[i] = c
	}
	return out
}

// Weights returns a copy of the members' weights (meaningful for mean and
// inverse_error).
func (e *Ensemble) Weights() []float64 { return slices.Clone(e.weights) }

// Fit fits every member on y as its own Fit does (each member, as
// Members returns it, then forecasts with its own intervals), sets the
// weights and estimates the ensemble's intervals. It needs what the most
// demanding member needs.
func (e *Ensemble) Fit(y []float64) error { return fitModel(e, y, e.opts) }

// Forecast implements Model.
func (e *Ensemble) Forecast(point, quantiles []float64, bands [][]float64) error {
	return forecastModel(e, point, quantiles, bands)
}

// Update implements Model; it costs the sum of the members' updates.
func (e *Ensemble) Update(v float64) error { return updateModel(e, v) }

func (e *Ensemble) kind() ModelKind { return KindEnsemble }
func (e *Ensemble) base() *base     { return &e.b }

func (e *Ensemble) minLen() int {
	n := 0
	for _, c := range e.members {
		n = max(n, c.minLen())
	}
	return n
}

func (e *Ensemble) need() int {
	n := 0
	for _, c := range e.members {
		n = max(n, c.need())
	}
	return n
}

func (e *Ensemble) fitParams(y []float64) error {
	for i, c := range e.members {
		// Whole, with its own intervals: Members returns the members as
		// fitted models (and the inverse_error weights need their
		// rolling-origin errors).
		if err := c.Fit(y); err != nil {
			return fmt.Errorf("forecast: ensemble member %d (%s): %w", i, c.kind(), err)
		}
	}
	if e.combine == CombineInverseError {
		maes := make([]float64, len(e.members))
		var top float64
		for i, c := range e.members {
			// In the series' unit: a member's stored errors are relative
			// or absolute as its own interval options say.
			maes[i] = c.base().mae
			if math.IsNaN(maes[i]) {
				return fmt.Errorf("%w: ensemble member %d (%s): no rolling-origin errors to weight by", ErrInsufficientData, i, c.kind())
			}
			top = max(top, maes[i])
		}
		// A perfect member gets a large but finite weight; all perfect
		// members share equally.
		eps := max(top*1e-9, math.SmallestNonzeroFloat64)
		var sum float64
		for i, mae := range maes {
			e.weights[i] = 1 / max(mae, eps)
			sum += e.weights[i]
		}
		for i := range e.weights {
			e.weights[i] /= sum
		}
	}
	return nil
}

func (e *Ensemble) reset(y []float64) {
	for _, c := range e.members {
		c.reset(y)
	}
}

func (e *Ensemble) step(v float64) {
	for _, c := range e.members {
		c.step(v)
	}
}

func (e *Ensemble) predict(dst []float64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.scratch) != len(e.members) {
		e.scratch = make([][]float64, len(e.members))
		e.col = make([]float64, len(e.members))
	}
	for i, c := range e.members {
		if cap(e.scratch[i]) < len(dst) {
			e.scratch[i] = make([]float64, max(len(dst), 64))
		}
		c.predict(e.scratch[i][:len(dst)])
	}
	for t := range dst {
		if e.combine == CombineMedian {
			for i := range e.members {
				e.col[i] = e.scratch[i][t]
			}
			dst[t] = sortedMedian(e.col)
			continue
		}
		var s float64
		for i, w := range e.weights {
			s += w * e.scratch[i][t]
		}
		dst[t] = s
	}
}

type ensembleJSON struct {
	Combine Combine           `json:"combine"`
	Weights []float64         `json:"weights"`
	Members []json.RawMessage `json:"members"`
	Base    *base             `json:"fit"`
	// Intervals are the options Fit estimates the intervals with (a
	// Spec's).
	Intervals IntervalOptions `json:"intervals,omitzero"`
}

// MarshalJSON encodes the rule, weights and every member (as Marshal
// does).
func (e *Ensemble) MarshalJSON() ([]byte, error) {
	j := ensembleJSON{Combine: e.combine, Weights: e.weights, Base: &e.b, Intervals: e.opts}
	for _, c := range e.members {
		raw, err := Marshal(c)
		if err != nil {
			return nil, err
		}
		j.Members = append(j.Members, raw)
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes what MarshalJSON wrote and validates it: a fitted
// ensemble needs fitted members (Fit fits them all), one finite weight
// per member and a valid residual table.
func (e *Ensemble) UnmarshalJSON(data []byte) error {
	j := ensembleJSON{Base: new(base)}
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	if j.Base == nil {
		return nullFit("fit")
	}
	members := make([]Model, len(j.Members))
	for i, raw := range j.Members {
		m, err := Unmarshal(raw)
		if err != nil {
			return fmt.Errorf("members[%d]: %w", i, err)
		}
		members[i] = m
	}
	n, err := NewEnsemble(j.Combine, members...)
	if err != nil {
		return err
	}
	if len(j.Weights) != len(members) {
		return provider.Invalid("weights", len(j.Weights), fmt.Sprintf("must hold one weight per member (%d)", len(members)))
	}
	if err := checkFinite("weights", j.Weights); err != nil {
		return err
	}
	if err := j.Intervals.Validate(); err != nil {
		return err
	}
	if err := j.Base.Residuals.validate(); err != nil {
		return err
	}
	if j.Base.Fitted {
		for i, c := range n.members {
			if !c.base().Fitted {
				return provider.Invalid(fmt.Sprintf("members[%d]", i), c.kind(), "must be fitted in a fitted ensemble")
			}
		}
	}
	// Field by field: an Ensemble holds a mutex, which is not copied.
	e.combine, e.members, e.weights, e.b, e.opts = n.combine, n.members, j.Weights, *j.Base, j.Intervals
	e.scratch, e.col = nil, nil
	return nil
}

// sortedMedian sorts col and returns its median (the mean of the two
// middle values of an even count).
func sortedMedian(col []float64) float64 {
	slices.Sort(col)
	n := len(col)
	if n%2 == 1 {
		return col[n/2]
	}
	return (col[n/2-1] + col[n/2]) / 2
}

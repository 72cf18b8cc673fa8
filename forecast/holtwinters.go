package forecast

import (
	"encoding/json"
	"fmt"
	"math"

	"gonum.org/v1/gonum/optimize"

	"github.com/idlescale/idlescale/provider"
)

// HoltWinters is triple exponential smoothing with a damped additive trend
// and an additive or multiplicative season of Period steps (ETS(A,Ad,A) and
// ETS(A,Ad,M) point forecasts; Hyndman & Athanasopoulos, Forecasting:
// Principles and Practice, 3rd ed., §8.3; Gardner & McKenzie 1985 for the
// damping). With level ℓ, trend b, seasonal s, season m and damping φ:
//
//	additive:       ŷ(T+h) = ℓ_T + (φ+…+φ^h)·b_T + s_{T+h−m(k+1)}
//	                ℓ_t = α(y_t − s_{t−m}) + (1−α)(ℓ_{t−1} + φb_{t−1})
//	                s_t = γ(y_t − ℓ_{t−1} − φb_{t−1}) + (1−γ)s_{t−m}
//	multiplicative: ŷ(T+h) = (ℓ_T + (φ+…+φ^h)·b_T)·s_{T+h−m(k+1)}
//	                ℓ_t = α(y_t / s_{t−m}) + (1−α)(ℓ_{t−1} + φb_{t−1})
//	                s_t = γ(y_t / (ℓ_{t−1} + φb_{t−1})) + (1−γ)s_{t−m}
//	both:           b_t = β(ℓ_t − ℓ_{t−1}) + (1−β)φb_{t−1}
//
// α, β, γ and φ minimise the sum of squared one-step errors with
// gonum/optimize's Nelder–Mead over an unbounded transform that keeps
// 0 < α < 1, 0 < β < α, 0 < γ < 1 − α and 0.8 ≤ φ ≤ 0.98 (φ = 1 without
// Damped). On a series longer than 2·max(2016, 20·m) steps the search
// first runs on the most recent max(2016, 20·m) steps (each evaluation is a
// pass over the data, so this is cheap) and is then polished on the whole
// series with at most 25 more evaluations. The start is ℓ₀ = mean of the
// first season; b₀ = the change between the first two season means divided
// by m for a damped model, 0 without Damped; s = the first season's
// deviations (ratios) from ℓ₀. Fit needs two seasons and a step (one
// rolling origin for the intervals); Update is O(1).
//
// Create one with NewHoltWinters; the zero value is not usable. Not safe for
// concurrent use.
type HoltWinters struct {
	cfg   HoltWintersConfig
	b     base
	par   hwParams
	st    hwState
	opts  IntervalOptions
	work  []float64 // seasonal scratch for the objective
	evals int
	// errScale multiplies the one-step errors whose squares the fit
	// sums: 1, or for data so large or small that the squares overflow
	// or underflow, the power of two that brings the largest |y| into
	// [0.5, 1) (0 means 1).
	errScale float64
}

// HoltWintersConfig configures a HoltWinters model.
type HoltWintersConfig struct {
	// Period is the season length in steps. Required, ≥ 2.
	Period int `json:"period"`
	// Multiplicative selects a multiplicative season; it needs data > 0.
	// Default: additive.
	Multiplicative bool `json:"multiplicative,omitempty"`
	// Damped enables a damped trend (φ fitted in [0.8, 0.98]). Without it
	// φ = 1 (Holt-Winters' linear trend).
	Damped bool `json:"damped,omitempty"`
	// MaxEvaluations bounds the objective evaluations of the fit; each is
	// one pass over the data. Default: 150.
	MaxEvaluations int `json:"max_evaluations,omitempty"`
	// Intervals tunes the empirical prediction intervals.
	Intervals IntervalOptions `json:"intervals,omitzero"`
}

// Validate returns an error naming the first invalid field.
func (c HoltWintersConfig) Validate() error {
	if c.Period < 2 || c.Period > 1<<20 {
		return provider.Invalid("period", c.Period, "must be in [2, 1048576] steps")
	}
	if c.MaxEvaluations < 0 {
		return provider.Invalid("max_evaluations", c.MaxEvaluations, "must be ≥ 0 (0 means 150)")
	}
	return c.Intervals.Validate()
}

type hwParams struct {
	Alpha float64 `json:"alpha"`
	Beta  float64 `json:"beta"`
	Gamma float64 `json:"gamma"`
	Phi   float64 `json:"phi"`
}

type hwState struct {
	Level  float64   `json:"level"`
	Trend  float64   `json:"trend"`
	Season []float64 `json:"season"` // ring of m seasonal terms
	Pos    int       `json:"pos"`    // index of s_{t+1−m}, the term for the next step
}

var _ Model = (*HoltWinters)(nil)

// NewHoltWinters returns an unfitted model, or cfg's validation error.
func NewHoltWinters(cfg HoltWintersConfig) (*HoltWinters, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("forecast: holt-winters: %w", err)
	}
	if cfg.MaxEvaluations == 0 {
		cfg.MaxEvaluations = 150
	}
	return &HoltWinters{cfg: cfg, opts: cfg.Intervals}, nil
}

// Config returns the model's configuration with defaults filled in.
func (m *HoltWinters) Config() HoltWintersConfig { return m.cfg }

// Params returns the fitted smoothing parameters α, β, γ and damping φ.
func (m *HoltWinters) Params() (alpha, beta, gamma, phi float64) {
	return m.par.Alpha, m.par.Beta, m.par.Gamma, m.par.Phi
}

// Evaluations returns the number of objective evaluations of the last Fit.
func (m *HoltWinters) Evaluations() int { return m.evals }

// Fit estimates the parameters on y (2·Period + 1 values at least: two
// seasons start the state, and the intervals need a forecast error; all > 0 for
// a multiplicative model, else ErrNonPositive) and the intervals. Data so
// large (near the largest float64) that the state overflows are refused
// with an error matching ErrNumeric and provider.ErrInvalid.
func (m *HoltWinters) Fit(y []float64) error { return fitModel(m, y, m.opts) }

// Forecast implements Model.
func (m *HoltWinters) Forecast(point, quantiles []float64, bands [][]float64) error {
	return forecastModel(m, point, quantiles, bands)
}

// Update implements Model in O(1). A multiplicative model rejects v ≤ 0,
// and a gap (NaN) whose one-step forecast, which would fill it, is ≤ 0;
// the model is then left as it was.
func (m *HoltWinters) Update(v float64) error { return updateModel(m, v) }

func (m *HoltWinters) kind() ModelKind { return KindHoltWinters }
func (m *HoltWinters) minLen() int     { return 2 * m.cfg.Period }
func (m *HoltWinters) need() int       { return 2*m.cfg.Period + 1 } // > minLen: one origin to replay
func (m *HoltWinters) base() *base     { return &m.b }

// init sets the starting state from the first one or two seasons of y into
// st.Season (length m) and returns ℓ₀ and b₀.
func (m *HoltWinters) init(y []float64, season []float64) (level, trend float64) {
	p := m.cfg.Period
	var s1 float64
	for _, v := range y[:p] {
		s1 += v
	}
	level = s1 / float64(p)
	if len(y) >= 2*p && m.cfg.Damped {
		var s2 float64
		for _, v := range y[p : 2*p] {
			s2 += v
		}
		trend = (s2/float64(p) - level) / float64(p)
	}
	for i, v := range y[:p] {
		if m.cfg.Multiplicative {
			season[i] = v / level
		} else {
			season[i] = v - level
		}
	}
	return level, trend
}

// filter runs the recursions over y[m:] from the initial state and returns
// the sum of squared one-step errors (times errScale²); it leaves the final state in
// level, trend and season (ring position len(y) mod m).
func (m *HoltWinters) filter(par hwParams, y, season []float64) (sse, level, trend float64) {
	p := m.cfg.Period
	level, trend = m.init(y, season)
	a, b, g, phi := par.Alpha, par.Beta, par.Gamma, par.Phi
	k := m.errScale
	if k == 0 {
		k = 1
	}
	j := 0
	if m.cfg.Multiplicative {
		for _, v := range y[p:] {
			base := level + phi*trend
			s := season[j]
			e := (v - base*s) * k
			sse += e * e
			nl := a*(v/s) + (1-a)*base
			trend = b*(nl-level) + (1-b)*phi*trend
			if base != 0 {
				season[j] = g*(v/base) + (1-g)*s
			}
			level = nl
			if j++; j == p {
				j = 0
			}
		}
	} else {
		for _, v := range y[p:] {
			base := level + phi*trend
			s := season[j]
			e := (v - base - s) * k
			sse += e * e
			nl := a*(v-s) + (1-a)*base
			trend = b*(nl-level) + (1-b)*phi*trend
			season[j] = g*(v-base) + (1-g)*s
			level = nl
			if j++; j == p {
				j = 0
			}
		}
	}
	return sse, level, trend
}

// hwSubsample is the number of recent steps the first search stage of a
// long series evaluates; hwPolish bounds the evaluations on the whole
// series that follow.
const (
	hwSubsample = 2016
	hwPolish    = 25
)

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
func logit(p float64) float64   { return math.Log(p / (1 - p)) }

// params maps the unbounded optimisation variables to valid parameters.
func (m *HoltWinters) params(x []float64) hwParams {
	a := 0.001 + 0.998*sigmoid(x[0])
	p := hwParams{Alpha: a, Beta: a * sigmoid(x[1]), Gamma: (1 - a) * sigmoid(x[2]), Phi: 1}
	if m.cfg.Damped {
		p.Phi = 0.8 + 0.18*sigmoid(x[3])
	}
	return p
}

func (m *HoltWinters) fitParams(y []float64) error {
	p := m.cfg.Period
	if cap(m.work) < p {
		m.work = make([]float64, p)
	}
	season := m.work[:p]
	dim := 3
	if m.cfg.Damped {
		dim = 4
	}
	m.evals = 0
	// Squared errors overflow above about 1e154 (every evaluation was
	// then +Inf and the search kept its start) and underflow below
	// about 1e-154; a power of two scales them exactly.
	m.errScale = 1
	if big := maxAbs(y); big > 1e100 || (big > 0 && big < 1e-100) {
		_, e := math.Frexp(big)
		m.errScale = math.Ldexp(1, -e)
	}
	minimize := func(y, x0 []float64, evals int, simplex float64) []float64 {
		obj := func(x []float64) float64 {
			m.evals++
			sse, _, _ := m.filter(m.params(x), y, season)
			if math.IsNaN(sse) || math.IsInf(sse, 0) {
				return math.MaxFloat64
			}
			return sse
		}
		settings := &optimize.Settings{
			FuncEvaluations: evals,
			Converger:       &optimize.FunctionConverge{Relative: 1e-6, Iterations: 3 * len(x0)},
		}
		f0 := obj(x0)
		res, err := optimize.Minimize(optimize.Problem{Func: obj}, x0, settings, &optimize.NelderMead{SimplexSize: simplex})
		if err != nil || res == nil || res.X == nil || !(res.F < f0) {
			return x0
		}
		return res.X
	}
	// Start: α = 0.3, β = 0.1α, γ = 0.1(1−α), φ = 0.94.
	x := []float64{logit(0.3), logit(0.1), logit(0.1), logit(0.14 / 0.18)}[:dim]
	if sub := max(hwSubsample, 20*p); len(y) > 2*sub {
		// Long series: search on the most recent sub steps (cheap
		// evaluations), then polish on all of y from there.
		x = minimize(y[len(y)-sub:], x, m.cfg.MaxEvaluations, 1)
		x = minimize(y, x, hwPolish, 0.25)
	} else {
		x = minimize(y, x, m.cfg.MaxEvaluations, 1)
	}
	m.par = m.params(x)
	m.reset(y)
	return nil
}

func (m *HoltWinters) reset(y []float64) {
	p := m.cfg.Period
	if cap(m.st.Season) < p {
		m.st.Season = make([]float64, p)
	}
	m.st.Season = m.st.Season[:p]
	_, m.st.Level, m.st.Trend = m.filter(m.par, y, m.st.Season)
	m.st.Pos = (len(y) - p) % p
}

func (m *HoltWinters) step(v float64) {
	par, st := m.par, &m.st
	base := st.Level + par.Phi*st.Trend
	s := st.Season[st.Pos]
	var nl float64
	if m.cfg.Multiplicative {
		nl = par.Alpha*(v/s) + (1-par.Alpha)*base
		if base != 0 {
			st.Season[st.Pos] = par.Gamma*(v/base) + (1-par.Gamma)*s
		}
	} else {
		nl = par.Alpha*(v-s) + (1-par.Alpha)*base
		st.Season[st.Pos] = par.Gamma*(v-base) + (1-par.Gamma)*s
	}
	st.Trend = par.Beta*(nl-st.Level) + (1-par.Beta)*par.Phi*st.Trend
	st.Level = nl
	if st.Pos++; st.Pos == len(st.Season) {
		st.Pos = 0
	}
}

func (m *HoltWinters) predict(dst []float64) {
	st, phi := &m.st, m.par.Phi
	p := len(st.Season)
	damp, pw := 0.0, 1.0
	j := st.Pos
	for i := range dst {
		pw *= phi
		damp += pw
		base := st.Level + damp*st.Trend
		if m.cfg.Multiplicative {
			dst[i] = base * st.Season[j]
		} else {
			dst[i] = base + st.Season[j]
		}
		if j++; j == p {
			j = 0
		}
	}
}

type holtWintersJSON struct {
	Config HoltWintersConfig `json:"config"`
	Params hwParams          `json:"params"`
	State  hwState           `json:"state"`
	Base   *base             `json:"fit"`
}

// MarshalJSON encodes the configuration, parameters and fitted state.
func (m *HoltWinters) MarshalJSON() ([]byte, error) {
	return json.Marshal(holtWintersJSON{Config: m.cfg, Params: m.par, State: m.st, Base: &m.b})
}

// UnmarshalJSON decodes what MarshalJSON wrote and validates it.
func (m *HoltWinters) UnmarshalJSON(data []byte) error {
	j := holtWintersJSON{Base: new(base)}
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	if j.Base == nil {
		return nullFit("fit")
	}
	n, err := NewHoltWinters(j.Config)
	if err != nil {
		return err
	}
	if j.Base.Fitted {
		if len(j.State.Season) != n.cfg.Period || j.State.Pos < 0 || j.State.Pos >= n.cfg.Period {
			return provider.Invalid("state.season", len(j.State.Season), fmt.Sprintf("must hold period = %d terms with 0 ≤ pos < period", n.cfg.Period))
		}
		vals := append([]float64{j.Params.Alpha, j.Params.Beta, j.Params.Gamma, j.Params.Phi, j.State.Level, j.State.Trend}, j.State.Season...)
		if err := checkFinite("params_and_state", vals); err != nil {
			return err
		}
		if err := j.Base.Residuals.validate(); err != nil {
			return err
		}
	}
	n.par, n.st, n.b = j.Params, j.State, *j.Base
	*m = *n
	return nil
}

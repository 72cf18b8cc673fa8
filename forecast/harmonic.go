package forecast

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/idlescale/idlescale/provider"
)

// Harmonic is dynamic harmonic regression: a linear trend plus Fourier
// terms for each season, with AR(1) errors (Hyndman & Athanasopoulos,
// Forecasting: Principles and Practice, 3rd ed., §7.4 and §10.5):
//
//	y_t = a + b·t/n + Σ_P Σ_{k=1..K_P} [c_{P,k} sin(2πkt/P) + d_{P,k} cos(2πkt/P)] + r_t
//	r_t = ρ·r_{t−1} + ε_t
//	ŷ(T+h) = a + b·(T+h)/n + Σ seasonal terms at T+h + ρ^h·r_T
//
// The coefficients are least squares, solved from the normal equations
// XᵀX β = Xᵀy with a Cholesky factorisation (gonum/mat); XᵀX is accumulated
// from blocks of 256 rows with a rank-k update, so memory is
// O(columns²), never O(n²) or O(n·columns). ρ is the lag-1
// autocorrelation of the residuals, clamped to [−0.98, 0.98]. Each season's
// fitted curve is tabulated once, so Update and Forecast cost O(seasons)
// per step. Fit needs two of the longest season, and two values more than
// the design has columns (1, the trend's, and two per harmonic kept) when
// that is more (periods 2, or several short ones); it refuses data so large
// (near the largest float64) that the fit overflows, with an error matching
// ErrNumeric.
//
// Create one with NewHarmonic; the zero value is not usable. Not safe for
// concurrent use.
type Harmonic struct {
	cfg  HarmonicConfig
	b    base
	fit  harmonicFit
	opts IntervalOptions
	// normal is the factorised XᵀX of the last fit. X depends only on
	// the number of steps (and the configuration), never on y, so a refit
	// on as many steps reuses it and costs O(n + L·k) instead of
	// O(n + L·k²) (L the phases, k the columns).
	normal *harmonicNormal
	// tables and widths are the basis tables of harmonicTables, which
	// depend only on the configuration (built at the first fit).
	tables [][]float64
	widths []int
	// xty and beta are fitParams' working memory (k values each), kept
	// between fits.
	xty, beta []float64
}

// floats returns buf resliced to n zeroed values, growing it when needed.
func floats(buf *[]float64, n int) []float64 {
	if cap(*buf) < n {
		*buf = make([]float64, n)
	}
	b := (*buf)[:n]
	clear(b)
	return b
}

// harmonicNormal is a factorised normal matrix XᵀX (with its ridge) for
// fits on n steps.
type harmonicNormal struct {
	n    int
	chol mat.Cholesky
}

// HarmonicConfig configures a Harmonic model.
type HarmonicConfig struct {
	// Periods are the season lengths in steps, e.g. [24, 168] for daily and
	// weekly seasons of an hourly series. Required, each ≥ 2.
	Periods []int `json:"periods"`
	// Harmonics is the number of sine/cosine pairs per period (same order
	// as Periods), each in [1, period/2]. Default: min(period/2, 10) for
	// each. A harmonic whose frequency an earlier period already has (the
	// 7th weekly one is the 1st daily one) is left out. The design has at
	// most 2 + 2·ΣK columns, at most 100.
	Harmonics []int `json:"harmonics,omitempty"`
	// NoTrend drops the linear trend column. Default: with trend.
	NoTrend bool `json:"no_trend,omitempty"`
	// NoAR drops the AR(1) error term. Default: with AR(1) errors.
	NoAR bool `json:"no_ar,omitempty"`
	// Intervals tunes the empirical prediction intervals.
	Intervals IntervalOptions `json:"intervals,omitzero"`
}

// maxHarmonicColumns bounds the design width.
const maxHarmonicColumns = 100

// Validate returns an error naming the first invalid field.
func (c HarmonicConfig) Validate() error {
	if len(c.Periods) == 0 {
		return provider.Invalid("periods", c.Periods, "must list at least one period")
	}
	if len(c.Harmonics) != 0 && len(c.Harmonics) != len(c.Periods) {
		return provider.Invalid("harmonics", c.Harmonics, fmt.Sprintf("must be empty or have one entry per period (%d)", len(c.Periods)))
	}
	cols := 2
	for i, p := range c.Periods {
		if p < 2 || p > 1<<20 {
			return provider.Invalid(fmt.Sprintf("periods[%d]", i), p, "must be in [2, 1048576] steps")
		}
		k := min(p/2, 10)
		if len(c.Harmonics) > 0 {
			k = c.Harmonics[i]
			if k < 1 || k > p/2 {
				return provider.Invalid(fmt.Sprintf("harmonics[%d]", i), k, fmt.Sprintf("must be in [1, %d] (period/2)", p/2))
			}
		}
		cols += 2 * k
	}
	if cols > maxHarmonicColumns {
		return provider.Invalid("harmonics", c.Harmonics, fmt.Sprintf("give %d columns; at most %d", cols, maxHarmonicColumns))
	}
	return c.Intervals.Validate()
}

type harmonicFit struct {
	Intercept float64     `json:"intercept"`
	Slope     float64     `json:"slope"` // per step
	Curves    [][]float64 `json:"curves"`
	Rho       float64     `json:"rho"`
	T         int         `json:"t"` // index of the next step
	Resid     float64     `json:"resid"`
}

var _ Model = (*Harmonic)(nil)

// NewHarmonic returns an unfitted model, or cfg's validation error.
func NewHarmonic(cfg HarmonicConfig) (*Harmonic, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("forecast: harmonic: %w", err)
	}
	cfg.Periods = append([]int(nil), cfg.Periods...)
	if len(cfg.Harmonics) == 0 {
		cfg.Harmonics = make([]int, len(cfg.Periods))
		for i, p := range cfg.Periods {
			cfg.Harmonics[i] = min(p/2, 10)
		}
	} else {
		cfg.Harmonics = append([]int(nil), cfg.Harmonics...)
	}
	return &Harmonic{cfg: cfg, opts: cfg.Intervals}, nil
}

// Config returns a copy of the model's configuration with defaults
// filled in; changing it does not change the model.
func (m *Harmonic) Config() HarmonicConfig {
	c := m.cfg
	c.Periods, c.Harmonics = slices.Clone(c.Periods), slices.Clone(c.Harmonics)
	return c
}

// Fit estimates the regression on y and the intervals.
func (m *Harmonic) Fit(y []float64) error { return fitModel(m, y, m.opts) }

// Forecast implements Model.
func (m *Harmonic) Forecast(point, quantiles []float64, bands [][]float64) error {
	return forecastModel(m, point, quantiles, bands)
}

// Update implements Model in O(len(Periods)).
func (m *Harmonic) Update(v float64) error { return updateModel(m, v) }

func (m *Harmonic) kind() ModelKind { return KindHarmonic }
func (m *Harmonic) base() *base     { return &m.b }
func (m *Harmonic) minLen() int     { return 1 }
func (m *Harmonic) need() int {
	longest := 0
	for _, p := range m.cfg.Periods {
		longest = max(longest, p)
	}
	return max(2*longest, m.columns()+2)
}

func (m *Harmonic) columns() int {
	c := 1
	if !m.cfg.NoTrend {
		c++
	}
	for _, ks := range harmonicOrders(m.cfg.Periods, m.cfg.Harmonics) {
		c += 2 * len(ks)
	}
	return c
}

// harmonicOrders returns, per period, the harmonic orders k in the
// design: 1…K, without those whose frequency k/P an earlier period already
// has (the 7th weekly harmonic is the 1st daily one), which would make the
// design singular.
func harmonicOrders(periods, harmonics []int) [][]int {
	out := make([][]int, len(periods))
	for i, p := range periods {
		for k := 1; k <= harmonics[i]; k++ {
			dup := false
			for j := range i {
				q := periods[j]
				// k/p == l/q for an l ≤ K_q  ⇔  k·q divisible by p and l = k·q/p ≤ K_q.
				if k*q%p == 0 && k*q/p <= harmonics[j] {
					dup = true
					break
				}
			}
			if !dup {
				out[i] = append(out[i], k)
			}
		}
	}
	return out
}

// harmonicPeriodic enables the O(n + L·k²) accumulation (tests turn it
// off to check it against the blocked one).
var harmonicPeriodic = true

// harmonicBlock is the number of design rows built at a time.
const harmonicBlock = 256

func (m *Harmonic) fitParams(y []float64) error {
	n, k := len(y), m.columns()
	if m.tables == nil {
		m.tables, m.widths = harmonicTables(m.cfg.Periods, harmonicOrders(m.cfg.Periods, m.cfg.Harmonics))
	}
	tables, widths := m.tables, m.widths
	scale := 1 / float64(n)
	fill := func(t int, row []float64) {
		row[0] = 1
		c := 1
		if !m.cfg.NoTrend {
			row[1] = float64(t) * scale
			c = 2
		}
		for i, p := range m.cfg.Periods {
			w := widths[i]
			ph := t % p
			copy(row[c:c+w], tables[i][ph*w:(ph+1)*w])
			c += w
		}
	}
	nm := m.normal
	if nm == nil || nm.n != n {
		nm = nil // a new XᵀX is accumulated below
	}
	var xtx blas64.Symmetric
	if nm == nil {
		xtx = blas64.Symmetric{N: k, Stride: k, Data: make([]float64, k*k), Uplo: blas.Upper}
	}
	xty := floats(&m.xty, k)
	if L := lcmPeriods(m.cfg.Periods, n/2); L > 0 && harmonicPeriodic {
		m.normalPeriodic(y, L, fill, xtx, xty)
	} else {
		rows := min(harmonicBlock, n)
		blk := make([]float64, rows*k)
		for start := 0; start < n; start += rows {
			r := min(rows, n-start)
			for i := range r {
				fill(start+i, blk[i*k:(i+1)*k])
			}
			a := blas64.General{Rows: r, Cols: k, Stride: k, Data: blk[:r*k]}
			if nm == nil {
				blas64.Syrk(blas.Trans, 1, a, 1, xtx)
			}
			blas64.Gemv(blas.Trans, 1, a, blas64.Vector{N: r, Inc: 1, Data: y[start : start+r]}, 1, blas64.Vector{N: k, Inc: 1, Data: xty})
		}
	}
	if nm == nil {
		// A tiny ridge keeps the system positive definite when columns
		// are nearly collinear (short series).
		var tr float64
		for i := range k {
			tr += xtx.Data[i*k+i]
		}
		for i := range k {
			xtx.Data[i*k+i] += 1e-10 * tr / float64(k)
		}
		nm = &harmonicNormal{n: n}
		if ok := nm.chol.Factorize(mat.NewSymDense(k, xtx.Data)); !ok {
			return fmt.Errorf("%w: harmonic: normal equations are singular (series too short or degenerate)", ErrInsufficientData)
		}
	}
	beta := mat.NewVecDense(k, floats(&m.beta, k))
	if err := nm.chol.SolveVecTo(beta, mat.NewVecDense(k, xty)); err != nil {
		return fmt.Errorf("%w: harmonic: %w", ErrInsufficientData, err)
	}
	b := beta.RawVector().Data
	m.normal = nm
	f := &m.fit
	f.Intercept = b[0]
	f.Slope = 0
	c := 1
	if !m.cfg.NoTrend {
		f.Slope = b[1] * scale
		c = 2
	}
	f.Curves = make([][]float64, len(m.cfg.Periods))
	for i, p := range m.cfg.Periods {
		w := widths[i]
		curve := make([]float64, p)
		bi := b[c : c+w]
		for ph := range p {
			var s float64
			for j, t := range tables[i][ph*w : (ph+1)*w] {
				s += t * bi[j]
			}
			curve[ph] = s
		}
		f.Curves[i] = curve
		c += w
	}
	// AR(1) on the residuals.
	f.Rho = 0
	if !m.cfg.NoAR {
		// ρ is a ratio of sums of products of residuals, which overflow
		// above about 1e154 (∞/∞ made ρ NaN) and underflow below about
		// 1e-154: the residuals are scaled by the power of two of y's
		// largest magnitude, which leaves ρ as it is (exactly, for
		// normal numbers).
		_, e := math.Frexp(maxAbs(y))
		var num, den, prev float64
		// The phases t mod P of reg, counted rather than divided.
		phase := make([]int, len(m.cfg.Periods))
		for t, v := range y {
			reg := f.Intercept + f.Slope*float64(t)
			for i, p := range m.cfg.Periods {
				reg += f.Curves[i][phase[i]]
				if phase[i]++; phase[i] == p {
					phase[i] = 0
				}
			}
			r := math.Ldexp(v-reg, -e)
			if t > 0 {
				num += r * prev
				den += prev * prev
			}
			prev = r
		}
		if den > 0 {
			f.Rho = math.Max(-0.98, math.Min(0.98, num/den))
		}
	}
	if !f.finite() {
		// Values near the largest float64: the fit overflows (Xᵀy or
		// the coefficients), and every forecast would be NaN.
		return fmt.Errorf("%w: %w: harmonic: the data overflow the model (largest |y| %g)", ErrNumeric, provider.ErrInvalid, maxAbs(y))
	}
	m.reset(y)
	return nil
}

// finite reports whether every fitted parameter of f is finite.
func (f *harmonicFit) finite() bool {
	ok := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	if !ok(f.Intercept) || !ok(f.Slope) || !ok(f.Rho) {
		return false
	}
	for _, c := range f.Curves {
		for _, v := range c {
			if !ok(v) {
				return false
			}
		}
	}
	return true
}

// maxAbs returns the largest magnitude in y (0 for an empty y).
func maxAbs(y []float64) float64 {
	m := 0.0
	for _, v := range y {
		m = max(m, math.Abs(v))
	}
	return m
}

// harmonicTables returns, for each period P, the P rows of its 2K basis
// values (sin and cos of each order in orders, at each phase) and the
// width 2K of its rows. sin(2πk·ph/P) depends only on k·ph mod P, so one
// turn of P angles is computed and looked up.
func harmonicTables(periods []int, orders [][]int) (tables [][]float64, widths []int) {
	widths = make([]int, len(orders))
	tables = make([][]float64, len(periods))
	for i, p := range periods {
		ks := orders[i]
		w := 2 * len(ks)
		widths[i] = w
		sin, cos := make([]float64, p), make([]float64, p)
		for j := range p {
			sin[j], cos[j] = math.Sincos(2 * math.Pi * float64(j) / float64(p))
		}
		t := make([]float64, p*w)
		for ph := range p {
			for j, h := range ks {
				a := h * ph % p
				t[ph*w+2*j] = sin[a]
				t[ph*w+2*j+1] = cos[a]
			}
		}
		tables[i] = t
	}
	return tables, widths
}

// lcmPeriods returns the least common multiple of periods, or 0 when it
// exceeds limit.
func lcmPeriods(periods []int, limit int) int {
	l := 1
	for _, p := range periods {
		a, b := l, p
		for b != 0 {
			a, b = b, a%b
		}
		l = l / a * p
		if l > limit {
			return 0
		}
	}
	return l
}

// normalPeriodic accumulates XᵀX and Xᵀy when every seasonal column repeats
// with period L: the rows of one phase differ only in the trend column, so
// per phase it needs the count, Σt and Σy, and one rank-one update (made
// in blocks). XᵀX is left alone when xtx has no data (a cached factor):
// O(n + L·k²) instead of O(n·k²).
func (m *Harmonic) normalPeriodic(y []float64, L int, fill func(int, []float64), xtx blas64.Symmetric, xty []float64) {
	n, k := len(y), len(xty)
	scale := 1 / float64(n)
	acc := xtx.Data != nil // XᵀX is wanted (not cached)
	sumY := make([]float64, L)
	var cnt, sumT []float64
	if acc {
		cnt, sumT = make([]float64, L), make([]float64, L)
	}
	var sumTT, sumTY float64
	ph := 0 // t mod L, counted rather than divided
	for t, v := range y {
		ts := float64(t) * scale
		sumY[ph] += v
		sumTY += ts * v
		if acc {
			cnt[ph]++
			sumT[ph] += ts
			sumTT += ts * ts
		}
		if ph++; ph == L {
			ph = 0
		}
	}
	trend := !m.cfg.NoTrend
	if !acc {
		m.xtyPeriodic(sumY, L, xty)
		if trend {
			xty[1] += sumTY
		}
		return
	}
	// The phases' rank-one updates cnt·row·rowᵀ are made as blocked
	// rank-k updates of the rows scaled by √cnt (BLAS 3: several times
	// faster than one rank-one update per phase).
	rows := min(harmonicBlock, L)
	blk := make([]float64, rows*k)
	for start := 0; start < L; start += rows {
		r := 0
		for ph := start; ph < min(start+rows, L); ph++ {
			if cnt[ph] == 0 {
				continue
			}
			row := blk[r*k : (r+1)*k]
			fill(ph, row) // the seasonal columns at phase ph (trend set below)
			if trend {
				row[1] = 0
			}
			// xty += sumY[ph]·row, element by element as a loop would
			// (the vectorized axpy rounds each product and sum alike).
			blas64.Axpy(sumY[ph], blas64.Vector{N: k, Inc: 1, Data: row}, blas64.Vector{N: k, Inc: 1, Data: xty})
			if trend {
				for j := range k {
					if j != 1 {
						xtx.Data[min(1, j)*k+max(1, j)] += sumT[ph] * row[j]
					}
				}
			}
			w := math.Sqrt(cnt[ph])
			for j := range row {
				row[j] *= w
			}
			r++
		}
		if r > 0 {
			blas64.Syrk(blas.Trans, 1, blas64.General{Rows: r, Cols: k, Stride: k, Data: blk[:r*k]}, 1, xtx)
		}
	}
	if trend {
		xtx.Data[1*k+1] += sumTT
		xty[1] += sumTY
	}
}

// xtyPeriodic is normalPeriodic's Xᵀy alone (a refit with a cached
// factor): each column block straight from its season's basis table,
// without building the rows. Every element adds the phases' terms
// sumY[ph]·x_ph in the same order as the row by row accumulation, so the
// result is the same to the bit. (The trend column's terms are zero in
// the periodic rows; its Σt·y is added by the caller.)
func (m *Harmonic) xtyPeriodic(sumY []float64, L int, xty []float64) {
	for _, v := range sumY[:L] {
		xty[0] += v // the intercept column is 1
	}
	c := 1
	if !m.cfg.NoTrend {
		c = 2
	}
	for i, p := range m.cfg.Periods {
		w, tab := m.widths[i], m.tables[i]
		dst := blas64.Vector{N: w, Inc: 1, Data: xty[c : c+w]}
		q := 0 // ph mod p
		for _, v := range sumY[:L] {
			blas64.Axpy(v, blas64.Vector{N: w, Inc: 1, Data: tab[q*w : (q+1)*w]}, dst)
			if q++; q == p {
				q = 0
			}
		}
		c += w
	}
}

// reg is the regression part at step t.
func (m *Harmonic) reg(t int) float64 {
	f := &m.fit
	v := f.Intercept + f.Slope*float64(t)
	for i, p := range m.cfg.Periods {
		v += f.Curves[i][t%p]
	}
	return v
}

func (m *Harmonic) reset(y []float64) {
	m.fit.T = len(y)
	m.fit.Resid = y[len(y)-1] - m.reg(len(y)-1)
}

func (m *Harmonic) step(v float64) {
	m.fit.Resid = v - m.reg(m.fit.T)
	m.fit.T++
}

func (m *Harmonic) predict(dst []float64) {
	f := &m.fit
	if len(dst) == 1 || len(m.cfg.Periods) > 4 {
		r := f.Resid
		for i := range dst {
			r *= f.Rho
			dst[i] = m.reg(f.T+i) + r
		}
		return
	}
	// reg with the phases counted rather than divided (the same sums).
	var phase [4]int
	for i, p := range m.cfg.Periods {
		phase[i] = f.T % p
	}
	r := f.Resid
	for i := range dst {
		r *= f.Rho
		t := f.T + i
		v := f.Intercept + f.Slope*float64(t)
		for j, p := range m.cfg.Periods {
			v += f.Curves[j][phase[j]]
			if phase[j]++; phase[j] == p {
				phase[j] = 0
			}
		}
		dst[i] = v + r
	}
}

type harmonicJSON struct {
	Config HarmonicConfig `json:"config"`
	Fit    harmonicFit    `json:"params"`
	Base   *base          `json:"fit"`
}

// MarshalJSON encodes the configuration, coefficients and state.
func (m *Harmonic) MarshalJSON() ([]byte, error) {
	return json.Marshal(harmonicJSON{Config: m.cfg, Fit: m.fit, Base: &m.b})
}

// UnmarshalJSON decodes what MarshalJSON wrote and validates it.
func (m *Harmonic) UnmarshalJSON(data []byte) error {
	j := harmonicJSON{Base: new(base)}
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	if j.Base == nil {
		return nullFit("fit")
	}
	n, err := NewHarmonic(j.Config)
	if err != nil {
		return err
	}
	if j.Base.Fitted {
		if len(j.Fit.Curves) != len(n.cfg.Periods) {
			return provider.Invalid("params.curves", len(j.Fit.Curves), "must hold one curve per period")
		}
		for i, p := range n.cfg.Periods {
			if len(j.Fit.Curves[i]) != p {
				return provider.Invalid(fmt.Sprintf("params.curves[%d]", i), len(j.Fit.Curves[i]), fmt.Sprintf("must hold period = %d values", p))
			}
			if err := checkFinite(fmt.Sprintf("params.curves[%d]", i), j.Fit.Curves[i]); err != nil {
				return err
			}
		}
		if j.Fit.T < 0 || j.Fit.T > 1<<50 {
			return provider.Invalid("params.t", j.Fit.T, "must be in [0, 2^50]")
		}
		if err := checkFinite("params", []float64{j.Fit.Intercept, j.Fit.Slope, j.Fit.Rho, j.Fit.Resid}); err != nil {
			return err
		}
		if err := j.Base.Residuals.validate(); err != nil {
			return err
		}
	}
	n.fit, n.b = j.Fit, *j.Base
	*m = *n
	return nil
}

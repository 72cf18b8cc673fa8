package forecast

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/idlescale/idlescale/provider"
)

// Model is a forecasting model for one regular series (one value per step,
// oldest first).
//
// Contract:
//   - Fit estimates the parameters and state from y. y must hold finite
//     values only (use Prepare or FitSeries to interpolate short gaps first);
//     y is not retained. A too-short, constant or otherwise unusable y
//     returns an error matching ErrInsufficientData (or provider.ErrInvalid
//     for NaN/Inf); a failed Fit leaves the model unfitted.
//   - Forecast writes the point forecast of the next len(point) steps into
//     point and, for each quantiles[j] in (0, 1), the quantile forecast of
//     the same steps into bands[j] (len(bands) == len(quantiles), each
//     len(bands[j]) == len(point)). It returns ErrNotFitted before Fit, and
//     an error matching provider.ErrInvalid for an empty point (horizon ≤ 0)
//     or a quantile outside (0, 1). It does not change the model and does
//     not allocate (an Ensemble allocates its per-member buffers once, the
//     first time it forecasts further than ever before). For finite inputs
//     every output is finite; a computation that overflows returns an
//     error matching ErrNumeric instead of NaN or Inf. A built-in model
//     fitted on a y with no negative value forecasts none: its point and
//     quantile forecasts are clipped at 0.
//   - Update appends one new observation in O(1) (O(members) for an
//     ensemble) without refitting parameters; a NaN marks a gap and is
//     replaced by the model's own one-step forecast (a built-in model's
//     clipped at 0 as its Forecast's). ±Inf is an error.
//
// Models are not safe for concurrent use; Forecast alone may be called
// concurrently when no Fit or Update runs at the same time.
type Model interface {
	// Fit estimates the model from y.
	Fit(y []float64) error
	// Forecast writes point and quantile forecasts for len(point) steps.
	Forecast(point, quantiles []float64, bands [][]float64) error
	// Update appends one observation.
	Update(v float64) error
}

// ContextFitter is a Model whose fit can be stopped: an optional
// capability, found by type assertion, of a model whose Fit does long work
// in steps (Auto validates its candidates one after the other). FitContext
// is Fit that returns ctx's error (wrapped, matching it with errors.Is)
// and leaves the model unfitted when ctx ends before the fit is done; it
// checks ctx between steps, so a single step (one parameter fit) runs to
// its end first. Backtest fits through it when a model has it.
type ContextFitter interface {
	Model
	// FitContext is Fit that stops when ctx ends.
	FitContext(ctx context.Context, y []float64) error
}

// fitContext fits m on y through FitContext when m is a ContextFitter,
// else with Fit.
func fitContext(ctx context.Context, m Model, y []float64) error {
	if f, ok := m.(ContextFitter); ok {
		return f.FitContext(ctx, y)
	}
	return m.Fit(y)
}

// core is what every built-in model implements on top of Model; the shared
// machinery (residual tables, Update, Forecast, ensembles, Auto) is written
// against it.
type core interface {
	Model
	// kind names the model for persistence.
	kind() ModelKind
	// need is the number of values Fit needs (at least two seasons for
	// seasonal models).
	need() int
	// minLen is the number of values reset needs; need() > minLen().
	minLen() int
	// fitParams estimates parameters and leaves the state at the end of y.
	fitParams(y []float64) error
	// reset keeps the parameters and sets the state as if y had just been
	// observed; len(y) ≥ minLen(). reset(y) after fitParams(y) gives the
	// same state as fitParams(y).
	reset(y []float64)
	// step observes one finite value.
	step(v float64)
	// predict writes the point forecast of len(dst) steps.
	predict(dst []float64)
	// base returns the shared fitted state.
	base() *base
}

// base is the state every built-in model shares: whether it is fitted,
// whether forecasts are clipped at zero, and the residual table.
type base struct {
	Fitted      bool      `json:"fitted"`
	NonNegative bool      `json:"non_negative,omitempty"`
	Residuals   residuals `json:"residuals"`
	// scratch for Update's imputation of a gap.
	one [1]float64
	// order is the order of the last replay's errors (replayResiduals').
	order errorOrder
	// mae is the mean absolute error, in the series' unit, of the last
	// replay's h-step errors over every origin and horizon (NaN without
	// one): the inverse_error weights'.
	mae float64
}

// IntervalOptions says how prediction intervals are estimated from
// rolling-origin residuals. The zero value means the defaults.
type IntervalOptions struct {
	// Horizon is the number of steps ahead for which empirical residual
	// quantiles are kept; beyond it quantile offsets grow with √h.
	// Default: 48.
	Horizon int `json:"horizon,omitempty"`
	// Origins is the most forecast origins (the most recent ones) whose
	// errors are kept per horizon. Default: 400.
	Origins int `json:"origins,omitempty"`
	// Absolute keeps the errors in the series' unit. By default the errors
	// of a non-negative series are divided by |forecast| + the series'
	// mean level (and multiplied back when forecasting), so intervals
	// widen where the level is high; Auto by default keeps whichever of
	// the two scored the lower pinball loss on its validation window.
	Absolute bool `json:"absolute,omitempty"`
	// Empirical turns off the level recalibration: quantiles are the plain
	// split-conformal quantiles of the errors, as for a benchmark method.
	// By default the level τ is widened (at most to (1+τ)/2, or τ/2 below
	// the median) where, replayed in time order, the errors fell outside
	// the quantiles of the earlier errors more often than nominal (see
	// "Level recalibration" in the package documentation).
	Empirical bool `json:"empirical,omitempty"`
}

func (o IntervalOptions) withDefaults() IntervalOptions {
	if o.Horizon == 0 {
		o.Horizon = 48
	}
	if o.Origins == 0 {
		o.Origins = 400
	}
	return o
}

// Validate reports a negative field.
func (o IntervalOptions) Validate() error {
	if o.Horizon < 0 {
		return provider.Invalid("intervals.horizon", o.Horizon, "must be ≥ 0 (0 means 48)")
	}
	if o.Origins < 0 {
		return provider.Invalid("intervals.origins", o.Origins, "must be ≥ 0 (0 means 400)")
	}
	return nil
}

// residuals holds, for each horizon h = 1…len(Sorted), the sorted forecast
// errors y − ŷ of the rolling origins.
//
// With Floor > 0 the errors are scaled: stored as (y − ŷ)/(|ŷ| + Floor)
// and turned back into offsets with the forecast's own |ŷ| + Floor, so
// intervals widen where the level is high (heteroscedastic counts).
//
// Levels recalibrates the quantile level (see recalibrate): the
// τ-quantile forecast reads the table at level Levels(τ), interpolated
// linearly on the uniform grid 0, 1/(len(Levels)−1), …, 1. Empty means
// the identity (no recalibration).
type residuals struct {
	Sorted [][]float64 `json:"sorted"`
	Floor  float64     `json:"floor,omitempty"`
	Levels []float64   `json:"levels,omitempty"`
}

// scaleFloorShare is the share of the mean level used as Floor for
// non-negative series.
const scaleFloorShare = 1.0

// floorFor returns the residual scale floor for y: scaleFloorShare × the
// mean of y for non-negative y with a positive mean, else 0 (absolute
// errors).
func floorFor(y []float64) float64 {
	var s float64
	for _, v := range y {
		if v < 0 {
			return 0
		}
		s += v
	}
	if s <= 0 {
		return 0
	}
	n := float64(len(y))
	if math.IsInf(s, 1) {
		// The sum overflows where the mean does not (values near the
		// largest float64): a floor of +Inf scaled every error to 0 and
		// every quantile offset to 0·Inf.
		s = 0
		for _, v := range y {
			s += v / n
		}
		return scaleFloorShare * s
	}
	return scaleFloorShare * s / n
}

// scaled returns the error e of forecast f as stored in the table.
func (r *residuals) scaled(e, f float64) float64 {
	if r.Floor > 0 {
		return e / (math.Abs(f) + r.Floor)
	}
	return e
}

// offset returns the tau-quantile of the h-step error (h ≥ 1) of the
// point forecast f.
func (r *residuals) offset(h int, tau, f float64) float64 {
	H := len(r.Sorted)
	if H == 0 {
		return 0
	}
	tau = r.level(tau)
	var q float64
	if h <= H {
		q = offsetQuantile(r.Sorted[h-1], tau)
	} else {
		q = offsetQuantile(r.Sorted[H-1], tau) * math.Sqrt(float64(h)/float64(H))
	}
	if r.Floor > 0 {
		q *= math.Abs(f) + r.Floor
	}
	return q
}

// level returns the recalibrated level of tau: Levels interpolated at tau,
// only ever widening and at most halving the nominal miss rate (in
// [tau, (1+tau)/2] for tau ≥ 0.5, in [tau/2, tau] below), or tau itself
// without a recalibration table.
func (r *residuals) level(tau float64) float64 {
	g := len(r.Levels)
	if g < 2 {
		return tau
	}
	x := tau * float64(g-1)
	k := min(int(x), g-2)
	l := r.Levels[k] + (x-float64(k))*(r.Levels[k+1]-r.Levels[k])
	if tau >= 0.5 {
		return min(max(l, tau), (1+tau)/2)
	}
	return max(min(l, tau), tau/2)
}

// Recalibration constants: the grid size of residuals.Levels, the fewest
// earlier errors a probability integral transform is computed against,
// and the fewest transforms a recalibration needs.
const (
	levelGrid = 101
	pitBins   = 2000
	// pitHorizons is the most horizons whose transforms are computed.
	pitHorizons = 12
	minPast     = 20
	minPITs     = 48
	pitOrigins  = 400
)

// recalibrate returns the level recalibration table of a residual table
// from its errors in origin order (errs[h][i] is the (h+1)-step error of
// the i-th of consecutive origins), or nil when there are too few.
//
// Split-conformal quantiles cover at their nominal level only when the
// errors are exchangeable; drifting levels, bursts and regime changes make
// later errors fall in the tails of earlier ones more often than nominal.
// recalibrate measures that in time order: for each of the last
// pitOrigins origins i and every stride-th horizon h (at most pitHorizons
// horizons) it computes the probability integral
// transform of the error among the errors already known at origin i (those
// of origins ≤ i − h − 1, at least minPast),
//
//	u = (#{e_j < e_i} + (#{e_j = e_i} + 1)/2) / (k + 1),
//
// the level at which the conformal quantile of those k errors would just
// have covered e_i. The table maps a level τ to the empirical τ-quantile
// of the u's (pooled over horizons), so that the conformal quantile at
// the recalibrated level would have covered a share τ of the errors seen
// sequentially (Kuleshov, Fenner & Ermon 2018, "Accurate uncertainties
// for deep learning using calibrated regression", ICML; the PIT histogram
// of Gneiting, Balabdaoui & Raftery 2007). When the errors are
// exchangeable the u's are uniform and the table is near the identity.
func recalibrate(errs [][]float64) []float64 {
	return sortErrors(errs, true, nil, nil)
}

// sortErrors sorts every errs[h] in place and, when recal is set, returns
// recalibrate's table of the errors' original order (else nil). With an
// order (a model's, ys its series at the origins of errs) it sorts from
// the order the model's last replay left (see errorOrder) and keeps the
// new one; the sorted errors and the table are the same either way.
func sortErrors(errs [][]float64, recal bool, ord *errorOrder, ys []float64) []float64 {
	shift := ord.shift(ys)
	if ord != nil {
		ord.y = append(ord.y[:0], ys...)
		ord.perm = slices.Grow(ord.perm[:0], len(errs))[:len(errs)]
	}
	if !recal && ord == nil {
		for _, e := range errs {
			slices.Sort(e)
		}
		return nil
	}
	// The u's are counted in pitBins equal bins: the table's resolution is
	// 1/pitBins, and no sort of all transforms is needed. The counts of
	// earlier errors below and equal to each error come from a Fenwick tree
	// over the ranks of the horizon's errors (their positions in the
	// sorted table): O(n log n) per horizon.
	var hist [pitBins]int32
	var order []float64
	var rank, tree []int32
	var sc sortScratch
	n := 0
	// Errors of neighbouring horizons are strongly dependent; transforms
	// of every stride-th horizon (at most pitHorizons of them) carry
	// nearly all the information at a fraction of the cost.
	stride := (len(errs) + pitHorizons - 1) / pitHorizons
	for h, e := range errs {
		pit := recal && h%stride == 0
		from := max(0, len(e)-pitOrigins) // the origins whose transforms are computed
		switch {
		case ord != nil:
			// rank[i] is the position of the first error equal to the
			// error of origin from + i in the sorted e (lowerBound's).
			rank = ord.sort(h, e, shift, pit, from, rank[:0], &sc)
		case !pit:
			slices.Sort(e)
		default:
			order = append(order[:0], e[from:]...)
			slices.Sort(e)
			rank = rank[:0]
			for _, v := range order {
				rank = append(rank, int32(lowerBound(e, v)))
			}
		}
		if !pit {
			continue
		}
		tree = append(tree[:0], make([]int32, len(e)+1)...)
		known := 0
		for i := range rank {
			if j := i - h - 1; j >= 0 {
				fenwickAdd(tree, rank[j])
				known++
			}
			if known < minPast {
				continue
			}
			below, equal := fenwickCount(tree, rank[i]), 0
			if r := int(rank[i]) + 1; r < len(e) && e[r] == e[rank[i]] {
				// The value occurs more than once in the table.
				equal = fenwickCount(tree, rank[i]+1) - below
			}
			u := (float64(2*below+equal) + 1) / 2 / float64(known+1)
			hist[min(int(u*pitBins), pitBins-1)]++
			n++
		}
	}
	if !recal {
		return nil
	}
	if n < minPITs {
		return nil
	}
	// levels[k] is the k/(levelGrid−1) quantile of the u's, interpolated
	// linearly inside its bin.
	levels := make([]float64, levelGrid)
	levels[levelGrid-1] = 1
	cum, b := 0, 0
	for k := 1; k < levelGrid-1; k++ {
		target := float64(k) / float64(levelGrid-1) * float64(n)
		for b < pitBins-1 && float64(cum+int(hist[b])) < target {
			cum += int(hist[b])
			b++
		}
		frac := 0.0
		if hist[b] > 0 {
			frac = min(max((target-float64(cum))/float64(hist[b]), 0), 1)
		}
		levels[k] = (float64(b) + frac) / pitBins
	}
	return levels
}

// errorOrder is what a model's replay of its errors leaves for the next
// one: its series at the origins and, per horizon, the origins in the
// order of their errors. A refit on the window slid by s steps, the usual
// sliding refit, starts each horizon's sort from that order shifted by s:
// the parameters barely move between refits, so the errors come nearly in
// order and an insertion sort finishes them in about linear time, where a
// comparison sort of errors in time order pays n·log n mispredicted
// branches (two thirds of a refit of the harmonic model before). The
// positions it leaves also give the ranks the level recalibration needs
// without a search. The start only changes the speed: the sorted errors
// are the same from any start (to the sign of a zero), and a start that
// does not fit (no overlap, parameters that moved) falls back to a
// comparison sort.
//
// A fitted model keeps it: its series at the origins and an int32 per
// error of the table (about half the table's own memory).
type errorOrder struct {
	y    []float64
	perm [][]int32
}

// sortScratch is the working memory of a sortErrors call.
type sortScratch struct {
	pairs []errorAt
	seen  []bool
	pos   []int32
}

// errorAt is an error and its origin.
type errorAt struct {
	v float64
	i int32
}

// orderShiftChecks is the number of points at which a shift is verified.
const orderShiftChecks = 16

// shift returns s such that ys[i] = o.y[i+s] wherever both exist (checked
// at orderShiftChecks points), with an overlap of at least half of o.y, or
// −1 when there is none (or no order).
func (o *errorOrder) shift(ys []float64) int {
	if o == nil || len(o.y) == 0 || len(ys) == 0 {
		return -1
	}
	for s := 0; s <= len(o.y)/2; s++ {
		if o.y[s] != ys[0] {
			continue
		}
		n := min(len(ys), len(o.y)-s)
		ok := true
		for k := 1; k < orderShiftChecks && ok; k++ {
			i := k * (n - 1) / (orderShiftChecks - 1)
			ok = o.y[i+s] == ys[i]
		}
		if ok {
			return s
		}
	}
	return -1
}

// sort sorts the errors e of horizon h (in origin order), starting from
// the last order shifted by s (s < 0: none), and keeps the new order.
// When ranks is set it appends, for the origins from on, the position of
// the first error equal to theirs in the sorted e.
func (o *errorOrder) sort(h int, e []float64, s int, ranks bool, from int, rank []int32, sc *sortScratch) []int32 {
	m := len(e)
	a := sc.pairs[:0]
	if cap(sc.seen) < m {
		sc.seen = make([]bool, m)
	}
	seen := sc.seen[:m]
	clear(seen)
	hinted := s >= 0 && h < len(o.perm) && o.perm[h] != nil
	if hinted {
		for _, j := range o.perm[h] {
			if i := int(j) - s; i >= 0 && i < m && !seen[i] {
				a = append(a, errorAt{e[i], int32(i)})
				seen[i] = true
			}
		}
	}
	for i, v := range e {
		if !seen[i] {
			a = append(a, errorAt{v, int32(i)})
		}
	}
	if !hinted || !insertionSort(a, 16*m) {
		slices.SortFunc(a, func(x, y errorAt) int { return cmp.Compare(x.v, y.v) })
	}
	perm := o.perm[h][:0]
	for k, x := range a {
		e[k] = x.v
		perm = append(perm, x.i)
	}
	o.perm[h], sc.pairs = perm, a
	if !ranks {
		return rank
	}
	// pos[i] is origin i's position in the sorted e, moved back to the
	// first of a run of equal errors.
	if cap(sc.pos) < m {
		sc.pos = make([]int32, m)
	}
	pos := sc.pos[:m]
	first := 0
	for k, x := range a {
		if k > 0 && e[k] != e[k-1] {
			first = k
		}
		pos[x.i] = int32(first)
	}
	return append(rank, pos[from:]...)
}

// insertionSort sorts a by value unless that takes more than budget moves
// (then it returns false, a still a permutation of what it was).
func insertionSort(a []errorAt, budget int) bool {
	moves := 0
	for k := 1; k < len(a); k++ {
		x := a[k]
		j := k
		for j > 0 && a[j-1].v > x.v {
			a[j] = a[j-1]
			j--
		}
		a[j] = x
		if moves += k - j; moves > budget {
			return false
		}
	}
	return true
}

// lowerBound returns the index of the first element ≥ v of the sorted,
// finite e (len(e) if none). The loop halves the range without a
// data-dependent branch (a conditional move), which on random errors is
// several times faster than slices.BinarySearch.
func lowerBound(e []float64, v float64) int {
	if len(e) == 0 {
		return 0
	}
	base, n := 0, len(e)
	for n > 1 {
		half := n / 2
		if e[base+half-1] < v {
			base += half
		}
		n -= half
	}
	if e[base] < v {
		base++
	}
	return base
}

// fenwickAdd counts one more value of rank r in the Fenwick (binary
// indexed) tree t (Fenwick 1994).
func fenwickAdd(t []int32, r int32) {
	for i := int(r) + 1; i < len(t); i += i & -i {
		t[i]++
	}
}

// fenwickCount returns how many counted values have a rank < r.
func fenwickCount(t []int32, r int32) int {
	n := 0
	for i := int(r); i > 0; i -= i & -i {
		n += int(t[i])
	}
	return n
}

// conformalQuantile returns the split-conformal tau-quantile of the sorted
// errors e (Vovk et al. 2005; Lei et al. 2018): the ⌈(n+1)τ⌉-th smallest for
// τ ≥ 0.5 and the ⌊(n+1)τ⌋-th for τ < 0.5, clamped to the sample, so that a
// new error falls below it with probability ≥ τ (≤ τ) when the errors are
// exchangeable. It is the plain empirical quantile widened by at most one
// rank.
func conformalQuantile(e []float64, tau float64) float64 {
	n := len(e)
	if n == 0 {
		return 0
	}
	return e[min(max(conformalRank(n, tau), 0), n-1)]
}

// conformalRank is the index (from 0) of conformalQuantile's error among
// n, before it is clamped to the sample: below 0 when τ < 1/(n+1), above
// n − 1 when τ > n/(n+1) (too few errors to tell).
func conformalRank(n int, tau float64) int {
	if tau >= 0.5 {
		return int(math.Ceil(float64(n+1)*tau)) - 1
	}
	return int(math.Floor(float64(n+1)*tau)) - 1
}

// offsetQuantile is the tau-quantile of the sorted errors e that a
// forecast's offset reads: conformalQuantile, except that a rank outside
// the sample is clamped to the extreme error and to 0 where that lies on
// the other side of 0 (min(e(1), 0) below, max(e(n), 0) above). A
// quantile the errors cannot resolve never puts the point forecast
// outside its side of the interval: one error of +9, all a short series
// leaves, put the 0.01 quantile 9 above the forecast and the 0.01 to the
// 0.99 quantile on one value.
func offsetQuantile(e []float64, tau float64) float64 {
	n := len(e)
	if n == 0 {
		return 0
	}
	switch k := conformalRank(n, tau); {
	case k < 0:
		return min(e[0], 0)
	case k > n-1:
		return max(e[n-1], 0)
	default:
		return e[k]
	}
}

// checkFinite returns an error naming the first NaN or Inf in y.
func checkFinite(field string, y []float64) error {
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return provider.Invalid(fmt.Sprintf("%s[%d]", field, i), v, "must be finite (interpolate gaps with Prepare first)")
		}
	}
	return nil
}

// checkFitInput validates y for a model needing need values.
func checkFitInput(kind ModelKind, y []float64, need int) error {
	name := string(kind)
	if len(y) == 0 {
		return insufficient(name+": y", 0, need)
	}
	if err := checkFinite("y", y); err != nil {
		return err
	}
	if len(y) < need {
		return insufficient(name+": y", len(y), need)
	}
	lo, hi := slices.Min(y), slices.Max(y)
	if lo == hi {
		return fmt.Errorf("%w: %s: y is constant (%v): nothing to fit; a constant forecast needs no model", ErrInsufficientData, name, lo)
	}
	return nil
}

// fitModel is Fit for every built-in: validate, estimate parameters on all
// of y, then replay y with the parameters fixed from an early origin to
// collect h-step errors for the intervals. Replaying ends in the same state
// the parameter fit left.
func fitModel(c core, y []float64, opts IntervalOptions) error {
	b := c.base()
	b.Fitted = false
	if positiveOnly(c) {
		for i, v := range y {
			if v <= 0 {
				return fmt.Errorf("%w: %w", ErrNonPositive, provider.Invalid(fmt.Sprintf("y[%d]", i), v, "must be > 0 for a multiplicative season"))
			}
		}
	}
	if err := checkFitInput(c.kind(), y, c.need()); err != nil {
		return err
	}
	if err := c.fitParams(y); err != nil {
		return err
	}
	if err := checkFitFinite(c, y); err != nil {
		return err
	}
	b.NonNegative = slices.Min(y) >= 0
	floor := 0.0
	if !opts.Absolute {
		floor = floorFor(y)
	}
	b.Residuals = replayResiduals(c, y, opts.withDefaults(), floor)
	b.Fitted = true
	return nil
}

// checkFitFinite refuses a fit whose one-step forecast is not finite:
// data so large (near the largest float64) that the fitted state
// overflowed (a Holt-Winters start, the mean of a season, or a seasonal
// mean's sum of seasons), so that every Forecast would fail with
// ErrNumeric. A FuncModel is left to Forecast (its function, not the
// data, writes the value).
func checkFitFinite(c core, y []float64) error {
	if _, ok := c.(*FuncModel); ok {
		return nil
	}
	b := c.base()
	c.predict(b.one[:])
	if f := b.one[0]; math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("%w: %w: %s: the data overflow the model (largest |y| %g; one-step forecast %v)", ErrNumeric, provider.ErrInvalid, c.kind(), maxAbs(y), f)
	}
	return nil
}

// replayResiduals resets c at an early origin and steps through the rest of
// y, recording the h-step errors at every origin. It leaves c in the state
// after all of y.
func replayResiduals(c core, y []float64, o IntervalOptions, floor float64) residuals {
	n := len(y)
	// Clamped to n first: n − Origins − Horizon overflows for the largest.
	t0 := max(c.minLen(), n-min(o.Origins, n)-min(o.Horizon, n)+1)
	c.base().mae = math.NaN()
	if t0 >= n {
		c.reset(y)
		return residuals{Floor: floor}
	}
	r := residuals{Floor: floor}
	H := min(o.Horizon, n-t0)
	errs := make([][]float64, H)
	count := 0
	for h := range errs {
		errs[h] = make([]float64, 0, n-t0-h)
		count += n - t0 - h
	}
	// The mean absolute error in halves, each term divided by the count
	// as it is added: no sum overflows (values near the largest float64).
	var half float64
	pred := make([]float64, H)
	c.reset(y[:t0])
	for t := t0; t < n; t++ {
		k := min(H, n-t)
		c.predict(pred[:k])
		for h := range k {
			errs[h] = append(errs[h], r.scaled(y[t+h]-pred[h], pred[h]))
			half += math.Abs(y[t+h]/2-pred[h]/2) / float64(count)
		}
		c.step(y[t])
	}
	c.base().mae = 2 * half
	r.Levels = sortErrors(errs, !o.Empirical, &c.base().order, y[t0:])
	r.Sorted = errs
	return r
}

// forecastModel is Forecast for every built-in.
func forecastModel(c core, point, quantiles []float64, bands [][]float64) error {
	b := c.base()
	if !b.Fitted {
		return ErrNotFitted
	}
	if err := checkForecastArgs(point, quantiles, bands); err != nil {
		return err
	}
	if len(quantiles) > 0 && len(b.Residuals.Sorted) == 0 {
		return fmt.Errorf("%w: %s: no rolling-origin errors to estimate quantiles from", ErrInsufficientData, c.kind())
	}
	c.predict(point)
	for i, v := range point {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: %s: forecast step %d is %v (the data overflow the model)", ErrNumeric, c.kind(), i+1, v)
		}
	}
	for j, tau := range quantiles {
		for i, p := range point {
			v := clip(b.NonNegative, p+b.Residuals.offset(i+1, tau, p))
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("%w: %s: quantile %v at step %d is %v", ErrNumeric, c.kind(), tau, i+1, v)
			}
			bands[j][i] = v
		}
	}
	for i, p := range point {
		point[i] = clip(b.NonNegative, p)
	}
	return nil
}

func clip(nonNeg bool, v float64) float64 {
	if nonNeg && v < 0 {
		return 0
	}
	return v
}

// checkForecastArgs validates Forecast's arguments.
func checkForecastArgs(point, quantiles []float64, bands [][]float64) error {
	if len(point) == 0 {
		return provider.Invalid("horizon", 0, "must be > 0 (len(point))")
	}
	if len(bands) != len(quantiles) {
		return provider.Invalid("bands", len(bands), fmt.Sprintf("must hold one slice per quantile (%d)", len(quantiles)))
	}
	for j, q := range quantiles {
		if !(q > 0 && q < 1) {
			return provider.Invalid(fmt.Sprintf("quantiles[%d]", j), q, "must be in (0, 1)")
		}
		if len(bands[j]) != len(point) {
			return provider.Invalid(fmt.Sprintf("bands[%d]", j), len(bands[j]), fmt.Sprintf("length must equal len(point) = %d", len(point)))
		}
	}
	return nil
}

// updateModel is Update for every built-in.
func updateModel(c core, v float64) error {
	b := c.base()
	if !b.Fitted {
		return ErrNotFitted
	}
	if math.IsInf(v, 0) {
		return provider.Invalid("value", v, "must be finite, or NaN for a gap")
	}
	pos := positiveOnly(c)
	if pos && v <= 0 {
		return fmt.Errorf("%w: %w", ErrNonPositive, provider.Invalid("value", v, "must be > 0 for a multiplicative season"))
	}
	if math.IsNaN(v) {
		c.predict(b.one[:])
		if f := b.one[0]; pos && !(f > 0) {
			return fmt.Errorf("%w: %w", ErrNonPositive, provider.Invalid("value", v, fmt.Sprintf("is a gap whose one-step forecast %v, which would fill it, is not > 0 as a multiplicative season needs", f)))
		}
		// The forecast as Forecast reports it: a non-negative series'
		// is clipped at 0.
		v = clip(b.NonNegative, b.one[0])
	}
	c.step(v)
	return nil
}

// positiveOnly reports whether c takes values > 0 only: a multiplicative
// Holt-Winters model, or an ensemble with one among its members (which
// Fit and Update reach past the member's own methods).
func positiveOnly(c core) bool {
	switch m := c.(type) {
	case *HoltWinters:
		return m.cfg.Multiplicative
	case *Ensemble:
		return slices.ContainsFunc(m.members, positiveOnly)
	}
	return false
}

// validate checks a decoded residual table: a finite floor ≥ 0, finite
// and sorted errors, and a recalibration table that is empty or ≥ 2
// non-decreasing levels in [0, 1].
func (r *residuals) validate() error {
	if !(r.Floor >= 0) || math.IsInf(r.Floor, 0) {
		// A negative one (or 0 with scaled errors: nothing says which)
		// reads the stored relative errors as absolute ones.
		return provider.Invalid("residuals.floor", r.Floor, "must be a finite number ≥ 0 (0: absolute errors)")
	}
	if len(r.Levels) == 1 {
		return provider.Invalid("residuals.levels", len(r.Levels), "must be empty or hold ≥ 2 levels")
	}
	for i, v := range r.Levels {
		if !(v >= 0 && v <= 1) || (i > 0 && v < r.Levels[i-1]) {
			return provider.Invalid(fmt.Sprintf("residuals.levels[%d]", i), v, "must be in [0, 1] and non-decreasing")
		}
	}
	for h, e := range r.Sorted {
		if err := checkFinite(fmt.Sprintf("residuals[%d]", h), e); err != nil {
			return err
		}
		if !slices.IsSorted(e) {
			return provider.Invalid(fmt.Sprintf("residuals[%d]", h), len(e), "must be sorted")
		}
	}
	return nil
}

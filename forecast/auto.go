package forecast

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/idlescale/idlescale/provider"
)

// AutoConfig configures automatic model selection. The zero value means
// the defaults.
type AutoConfig struct {
	// Periods are the season lengths in steps (e.g. [24, 168] for hourly
	// data). Default: CandidatePeriods of the training data (the seasons
	// DetectPeriods finds, or else its best autocorrelation peaks, and
	// seven times the shortest when the data hold two of those).
	Periods []int `json:"periods,omitempty"`
	// Candidates are the models compared. Default: DefaultCandidates(Periods).
	Candidates []Spec `json:"candidates,omitempty"`
	// Horizon is the number of steps ahead scored at each validation
	// origin. Default: the shortest period, at most 48 (24 when no period).
	// A horizon longer than Validation is scored as Validation: no origin
	// has steps past it.
	Horizon int `json:"horizon,omitempty"`
	// Validation is the number of final training steps used as rolling
	// origins: candidates are fitted on the steps before, then updated one
	// step at a time, forecasting Horizon steps from every origin.
	// Default: a quarter of the data, at least 2·Horizon.
	Validation int `json:"validation,omitempty"`
	// NoCombinations disables the combinations of the best candidates
	// (mean of the best two and three, median of the best three) that are
	// otherwise scored alongside the candidates.
	NoCombinations bool `json:"no_combinations,omitempty"`
	// Intervals tunes the empirical prediction intervals of the chosen
	// model.
	Intervals IntervalOptions `json:"intervals,omitzero"`
}

// Validate returns an error naming the first invalid field.
func (c AutoConfig) Validate() error {
	for i, p := range c.Periods {
		if p < 1 {
			return provider.Invalid(fmt.Sprintf("periods[%d]", i), p, "must be ≥ 1 step")
		}
	}
	for i, s := range c.Candidates {
		if _, err := s.New(IntervalOptions{}); err != nil {
			return provider.Within(fmt.Sprintf("candidates[%d]", i), err)
		}
	}
	if c.Horizon < 0 {
		return provider.Invalid("horizon", c.Horizon, "must be ≥ 0 (0 means the shortest period)")
	}
	if c.Validation < 0 {
		return provider.Invalid("validation", c.Validation, "must be ≥ 0 (0 means a quarter of the data)")
	}
	return c.Intervals.Validate()
}

// Score is one candidate's result in Auto's rolling-origin validation.
type Score struct {
	// Spec is the candidate.
	Spec Spec `json:"spec"`
	// Name is Spec.String().
	Name string `json:"name"`
	// MAE is the mean absolute error over every origin and horizon, in the
	// series' unit; NaN when the candidate was skipped.
	MAE float64 `json:"mae"`
	// MASE is MAE divided by the in-sample mean absolute seasonal
	// difference (lag = shortest period) of the fitting part.
	MASE float64 `json:"mase"`
	// Skipped says why the candidate was not scored, if it was not.
	Skipped string `json:"skipped,omitempty"`
	// Chosen marks the selected model.
	Chosen bool `json:"chosen,omitempty"`
}

// Auto selects a model per series by rolling-origin cross-validation
// inside the training data (Tashman 2000, "Out-of-sample tests of
// forecasting accuracy"): every candidate is fitted on the data before the
// validation window, then updated one step at a time through it, forecasting
// Horizon steps from every origin with the parameters fixed. The candidate
// (or combination of the best candidates) with the lowest MAE is refitted
// on all the data; if it cannot be, the best seasonal naive is used. The
// prediction intervals of the chosen model are the empirical quantiles of
// its validation errors per horizon (out of sample) pooled with the errors
// of replaying the data through the refitted model, the latter widened so
// that their 90th percentile of |error| is at least that of the former.
// Unless Intervals says otherwise, the errors are level-scaled or absolute,
// whichever had the lower sequential pinball loss on the validation
// window, and the quantile level is recalibrated from the validation
// errors replayed in time order (see "Uncertainty" in the package
// documentation).
//
// Create one with NewAuto; the zero value is not usable. After Fit, Scores
// reports what was compared and Chosen what won. Not safe for concurrent
// use.
type Auto struct {
	cfg     AutoConfig
	chosen  core
	spec    Spec
	scores  []Score
	periods []int
}

var (
	_ Model         = (*Auto)(nil)
	_ ContextFitter = (*Auto)(nil)
)

// NewAuto returns an unfitted selector, or cfg's validation error. It
// keeps a copy of cfg.
func NewAuto(cfg AutoConfig) (*Auto, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("forecast: auto: %w", err)
	}
	// A copy: the caller's slices, changed later, would change the
	// validated configuration.
	cfg.Periods = slices.Clone(cfg.Periods)
	cfg.Candidates = cloneSpecs(cfg.Candidates)
	return &Auto{cfg: cfg}, nil
}

// cloneSpecs returns a deep copy of specs (nil for nil).
func cloneSpecs(specs []Spec) []Spec {
	if specs == nil {
		return nil
	}
	out := make([]Spec, len(specs))
	for i, s := range specs {
		s.Periods, s.Harmonics = slices.Clone(s.Periods), slices.Clone(s.Harmonics)
		s.Members = cloneSpecs(s.Members)
		out[i] = s
	}
	return out
}

func (a *Auto) kind() ModelKind { return KindAuto }

type scoreJSON struct {
	Spec    Spec     `json:"spec"`
	Name    string   `json:"name"`
	MAE     *float64 `json:"mae,omitempty"`
	MASE    *float64 `json:"mase,omitempty"`
	Skipped string   `json:"skipped,omitempty"`
	Chosen  bool     `json:"chosen,omitempty"`
}

func finiteOrNil(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// MarshalJSON encodes s; a NaN MAE or MASE (a skipped candidate) is left
// out, since JSON has no NaN.
func (s Score) MarshalJSON() ([]byte, error) {
	return json.Marshal(scoreJSON{Spec: s.Spec, Name: s.Name, MAE: finiteOrNil(s.MAE), MASE: finiteOrNil(s.MASE), Skipped: s.Skipped, Chosen: s.Chosen})
}

// UnmarshalJSON decodes what MarshalJSON wrote; a missing MAE or MASE is
// NaN.
func (s *Score) UnmarshalJSON(data []byte) error {
	var j scoreJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*s = Score{Spec: j.Spec, Name: j.Name, MAE: math.NaN(), MASE: math.NaN(), Skipped: j.Skipped, Chosen: j.Chosen}
	if j.MAE != nil {
		s.MAE = *j.MAE
	}
	if j.MASE != nil {
		s.MASE = *j.MASE
	}
	return nil
}

// Scores returns the validation scores of the last Fit, best first;
// skipped candidates come last.
func (a *Auto) Scores() []Score {
	out := slices.Clone(a.scores)
	for i := range out {
		out[i].Spec = cloneSpecs([]Spec{out[i].Spec})[0]
	}
	return out
}

// Chosen returns the spec of the selected model (zero before Fit).
func (a *Auto) Chosen() Spec { return cloneSpecs([]Spec{a.spec})[0] }

// Periods returns the season lengths in steps that the last Fit compared
// candidates for (the configured ones, or those detected), shortest
// first; nil before Fit.
func (a *Auto) Periods() []int { return slices.Clone(a.periods) }

// Model returns the selected, fitted model (nil before Fit). It is shared
// with a: updating one updates the other.
func (a *Auto) Model() Model {
	if a.chosen == nil {
		return nil
	}
	return a.chosen
}

// Forecast implements Model with the chosen model.
func (a *Auto) Forecast(point, quantiles []float64, bands [][]float64) error {
	if a.chosen == nil {
		return ErrNotFitted
	}
	return forecastModel(a.chosen, point, quantiles, bands)
}

// Update implements Model with the chosen model.
func (a *Auto) Update(v float64) error {
	if a.chosen == nil {
		return ErrNotFitted
	}
	return a.chosen.Update(v)
}

type candidate struct {
	spec  Spec
	model core
	preds []float64 // origins × H, NaN where the horizon passes the end
	mae   float64
	skip  string
}

// Fit validates every candidate on y, picks the best and refits it on all
// of y. It returns ErrInsufficientData when y is empty, constant or too
// short for any candidate's validation, and provider.ErrInvalid for
// non-finite values. The validation window must leave a value to fit
// on: y needs 2·Horizon + 1 values (Validation + 1 when that is set),
// 49 with the default horizon of 24 (no period, or a shortest period of
// 24), and a candidate is only validated with the steps it needs before
// the window; without Periods, 8 values to detect them.
//
// The phases: plan the validation (periods, candidates, horizon, window),
// validate every candidate on rolling origins, rank them (with the
// combinations of the best), refit the winner on all of y with its
// intervals, and record the scores.
func (a *Auto) Fit(y []float64) error { return a.FitContext(context.Background(), y) }

// FitContext is Fit that stops when ctx ends: it checks ctx before each
// candidate's fit, every validationCheck origins of its validation and
// before each refit, and then returns ctx's error wrapped, leaving a
// unfitted. One model's parameter fit is not interrupted.
func (a *Auto) FitContext(ctx context.Context, y []float64) error {
	a.chosen, a.scores, a.spec, a.periods = nil, nil, Spec{}, nil
	need := minDetect // to detect periods
	if len(a.cfg.Periods) > 0 {
		need = a.validationNeed(a.cfg.Periods)
	}
	if err := checkFitInput(KindAuto, y, need); err != nil {
		if len(a.cfg.Periods) == 0 && len(y) < need {
			return fmt.Errorf("%w to detect periods (%d when none is found)", err, a.validationNeed(nil))
		}
		return err
	}
	p, err := a.plan(y)
	if err != nil {
		return err
	}
	cands, err := p.validate(ctx, y, a.cfg.Intervals)
	if err != nil {
		return err
	}
	scored := ranked(make([]*candidate, 0, len(cands)), cands)
	if len(scored) == 0 {
		return noCandidate(cands, len(y))
	}
	if !a.cfg.NoCombinations && len(scored) >= 2 {
		cands = p.appendCombinations(cands, scored, y)
		scored = ranked(scored[:0], cands)
	}
	chosen, err := a.refit(ctx, scored, y, p)
	if err != nil {
		return err
	}
	a.periods = p.periods
	a.scores = scoreTable(scored, cands, chosen, seasonalScale(y[:p.t0], p.periods))
	return nil
}

// autoPlan is what Auto's validation compares and over which window: the
// sorted periods, the candidate specs, the horizon H scored from every
// origin and the first origin t0 (the validation window is y[t0:]).
type autoPlan struct {
	periods []int
	specs   []Spec
	H, t0   int
}

// plan resolves the configuration's defaults for y: periods detected when
// not given, DefaultCandidates when none are configured, the horizon and
// the validation window.
func (a *Auto) plan(y []float64) (autoPlan, error) {
	periods := slices.Clone(a.cfg.Periods)
	if len(periods) == 0 {
		ps, err := CandidatePeriods(y)
		if err != nil {
			return autoPlan{}, fmt.Errorf("forecast: auto: %w", err)
		}
		periods = ps
	}
	slices.Sort(periods)
	specs := a.cfg.Candidates
	if len(specs) == 0 {
		specs = DefaultCandidates(periods)
	}
	n := len(y)
	H, v := a.window(n, periods)
	if v >= n {
		err := insufficient("auto: y", n, min(v, math.MaxInt-1)+1)
		if len(periods) == 0 {
			return autoPlan{}, fmt.Errorf("%w: no period detected, so the horizon is %d and the validation window %d", err, H, v)
		}
		return autoPlan{}, err
	}
	// No origin of the window scores a step past its end: a longer
	// horizon scores nothing more, and origins × H predictions of it
	// overflowed.
	H = min(H, v)
	return autoPlan{periods: periods, specs: specs, H: H, t0: n - v}, nil
}

// minDetect is the fewest values DetectPeriods takes.
const minDetect = 8

// window returns the horizon H and the validation window v of a plan for
// n values and the sorted periods: H as configured, or the shortest
// period, at most 48 (24 without a period); v as configured, or
// max(n/4, 2·H).
func (a *Auto) window(n int, periods []int) (H, v int) {
	H = a.cfg.Horizon
	if H == 0 {
		H = 24
		if len(periods) > 0 {
			H = min(periods[0], 48)
		}
	}
	v = a.cfg.Validation
	if v == 0 {
		v = max(n/4, 2*min(H, math.MaxInt/2)) // 2·H, not past math.MaxInt: the need stays 2·H + 1
	}
	return H, v
}

// validationNeed is the fewest values whose validation window, for the
// given periods (in any order), leaves one to fit on: v + 1 for a
// configured Validation v, else 2·H + 1 (n > n/4 always).
func (a *Auto) validationNeed(periods []int) int {
	if len(periods) > 0 {
		periods = []int{slices.Min(periods)}
	}
	_, v := a.window(0, periods)
	return min(v, math.MaxInt-1) + 1
}

// validate builds every candidate, fits it on y[:t0] and rolls it through
// the validation window; a candidate that cannot be built or fitted there
// is kept with the reason it was skipped. It returns ctx's error when ctx
// ends.
func (p autoPlan) validate(ctx context.Context, y []float64, intervals IntervalOptions) ([]*candidate, error) {
	positive := slices.Min(y) > 0
	cands := make([]*candidate, 0, len(p.specs)+len(autoCombinations))
	for _, s := range p.specs {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("forecast: auto: %w", err)
		}
		c := &candidate{spec: s, mae: math.NaN()}
		cands = append(cands, c)
		m, err := s.New(intervals)
		if err != nil {
			c.skip = err.Error()
			continue
		}
		c.model = m.(core)
		if positiveOnly(c.model) && !positive {
			c.skip = "multiplicative season needs data > 0"
			continue
		}
		if p.t0 < cvNeed(c.model) {
			c.skip = fmt.Sprintf("needs %d steps before the validation window, has %d", cvNeed(c.model), p.t0)
			continue
		}
		if err := c.model.fitParams(y[:p.t0]); err != nil {
			c.skip = err.Error()
			continue
		}
		preds, err := rollPredictions(ctx, c.model, y, p.t0, p.H)
		if err != nil {
			return nil, fmt.Errorf("forecast: auto: %w", err)
		}
		c.preds = preds
		if o, h, v, ok := nonFinitePred(c.preds, len(y)-p.t0, p.H); ok {
			// Left to predMAE, a NaN reads as a step past the end: the
			// candidate was scored on the rest, or was neither scored
			// nor skipped.
			c.skip = fmt.Sprintf("validation forecast %d steps ahead of origin %d is %v (the data overflow the model)", h+1, p.t0+o, v)
			continue
		}
		c.mae = predMAE(c.preds, y, p.t0, p.H)
	}
	return cands, nil
}

// nonFinitePred returns the first origin o and horizon h whose validation
// prediction is NaN or infinite, among the v origins' predictions of H
// steps that lie inside the data (rollPredictions' NaNs past the end are
// not), and its value.
func nonFinitePred(preds []float64, v, H int) (o, h int, val float64, ok bool) {
	for o := range v {
		for h := range min(H, v-o) {
			if x := preds[o*H+h]; math.IsNaN(x) || math.IsInf(x, 0) {
				return o, h, x, true
			}
		}
	}
	return 0, 0, 0, false
}

// ranked appends the scored candidates of cands (not skipped, with a MAE)
// to scored and sorts them, lowest MAE first; ties keep the order of cands.
func ranked(scored, cands []*candidate) []*candidate {
	for _, c := range cands {
		if c.skip == "" && !math.IsNaN(c.mae) {
			scored = append(scored, c)
		}
	}
	slices.SortStableFunc(scored, func(p, q *candidate) int { return cmp.Compare(p.mae, q.mae) })
	return scored
}

// noCandidate is Fit's error when no candidate could be validated on n
// steps; it lists every candidate with the reason it was skipped.
func noCandidate(cands []*candidate, n int) error {
	reasons := make([]string, 0, len(cands))
	for _, c := range cands {
		reasons = append(reasons, c.spec.String()+": "+c.skip)
	}
	return fmt.Errorf("%w: auto: no candidate could be validated on %d steps (%v)", ErrInsufficientData, n, reasons)
}

// autoCombinations are the ensembles of the best-ranked candidates that
// Auto scores alongside them: the mean of the best two and three, the
// median of the best three.
var autoCombinations = []struct {
	rule Combine
	k    int
}{{CombineMean, 2}, {CombineMean, 3}, {CombineMedian, 3}}

// appendCombinations appends to cands the ensembles of autoCombinations
// that the ranked candidates scored allow, scored from their validation
// predictions (no refit).
func (p autoPlan) appendCombinations(cands, scored []*candidate, y []float64) []*candidate {
	for _, cb := range autoCombinations {
		if len(scored) < cb.k {
			continue
		}
		c := &candidate{spec: Spec{Kind: KindEnsemble, Combine: cb.rule}}
		for _, m := range scored[:cb.k] {
			c.spec.Members = append(c.spec.Members, m.spec)
		}
		c.preds = combinePreds(scored[:cb.k], cb.rule)
		c.mae = predMAE(c.preds, y, p.t0, p.H)
		cands = append(cands, c)
	}
	return cands
}

// refit fits the best candidate on all of y and sets its intervals from
// the validation errors; when it cannot be fitted it falls down the
// ranking (the best seasonal naive is always there when the data allow
// one). It returns the candidate refitted, or ctx's error when ctx ends.
func (a *Auto) refit(ctx context.Context, scored []*candidate, y []float64, p autoPlan) (*candidate, error) {
	var fitErr error
	for _, c := range scored {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("forecast: auto: %w", err)
		}
		opts := a.intervalsFor(c, y, p)
		m, err := c.spec.New(opts)
		if err != nil {
			fitErr = err
			continue
		}
		if err := m.Fit(y); err != nil {
			fitErr = err
			continue
		}
		a.chosen, a.spec = m.(core), c.spec
		poolResiduals(a.chosen.base(), predResiduals(c.preds, y, p.t0, p.H, a.chosen.base().Residuals.Floor, !opts.Empirical))
		return c, nil
	}
	return nil, fmt.Errorf("forecast: auto: no candidate could be fitted: %w", fitErr)
}

// intervalsFor returns the interval options the refitted candidate c gets:
// the configured ones, with the errors kept in the series' unit
// (Absolute) when that scored a lower out-of-sample interval loss on the
// validation window.
func (a *Auto) intervalsFor(c *candidate, y []float64, p autoPlan) IntervalOptions {
	opts := a.cfg.Intervals
	if !opts.Absolute {
		if f := floorFor(y); f > 0 && sequentialPinball(c.preds, y, p.t0, p.H, 0) < sequentialPinball(c.preds, y, p.t0, p.H, f) {
			opts.Absolute = true
		}
	}
	return opts
}

// poolResiduals pools the out-of-sample validation errors cv into the
// refitted model's replay errors. Those use parameters fitted on the same
// data; they are widened first so that their 90th percentile of |error| is
// at least the out-of-sample one (at most threefold).
func poolResiduals(b *base, cv residuals) {
	if lambda := absQuantile(&cv, 0.9) / absQuantile(&b.Residuals, 0.9); lambda > 1 && !math.IsInf(lambda, 0) {
		for _, e := range b.Residuals.Sorted {
			for i := range e {
				e[i] *= min(lambda, 3)
			}
		}
	}
	b.Residuals = mergeResiduals(cv, b.Residuals)
}

// scoreTable is Auto's Scores: the ranked candidates (the chosen one
// marked: that candidate, not every one of its name), then the skipped
// ones with their reasons. MASE divides MAE by scale.
func scoreTable(scored, cands []*candidate, chosen *candidate, scale float64) []Score {
	var out []Score
	for _, c := range scored {
		out = append(out, Score{Spec: c.spec, Name: c.spec.String(), MAE: c.mae, MASE: c.mae / scale, Chosen: c == chosen})
	}
	for _, c := range cands {
		if c.skip != "" {
			out = append(out, Score{Spec: c.spec, Name: c.spec.String(), MAE: math.NaN(), MASE: math.NaN(), Skipped: c.skip})
		}
	}
	return out
}

// cvNeed is how many steps a candidate needs before the validation window:
// a seasonal naive only needs its state, a fitted model what Fit needs.
func cvNeed(c core) int {
	if _, ok := c.(*SeasonalNaive); ok {
		return c.minLen()
	}
	return c.need()
}

// validationCheck is how many validation origins rollPredictions steps
// through between two checks of its context.
const validationCheck = 256

// rollPredictions steps c (already fitted on y[:t0]) through y[t0:],
// predicting H steps from every origin; entries past the end are NaN. It
// returns ctx's error when ctx ends.
func rollPredictions(ctx context.Context, c core, y []float64, t0, H int) ([]float64, error) {
	v := len(y) - t0
	preds := make([]float64, v*H)
	for t := t0; t < len(y); t++ {
		if (t-t0)%validationCheck == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		row := preds[(t-t0)*H : (t-t0+1)*H]
		c.predict(row)
		for h := len(y) - t; h < H; h++ {
			row[h] = math.NaN()
		}
		c.step(y[t])
	}
	return preds, nil
}

// predMAE is the mean absolute error of the validation predictions
// preds (origins × H from t0, NaN past the end) against y; NaN when none
// is inside the data.
func predMAE(preds, y []float64, t0, H int) float64 {
	var s float64
	n := 0
	for i, p := range preds {
		if math.IsNaN(p) {
			continue
		}
		t := t0 + i/H + i%H
		s += math.Abs(y[t] - p)
		n++
	}
	if n == 0 {
		return math.NaN()
	}
	if math.IsInf(s, 1) {
		// The errors or their sum overflow where their mean may not
		// (values near the largest float64): every candidate scored
		// +Inf, and the ranking was the order of the candidates.
		s = 0
		k := float64(n)
		for i, p := range preds {
			if !math.IsNaN(p) {
				s += math.Abs(y[t0+i/H+i%H]/2-p/2) / k
			}
		}
		return 2 * s
	}
	return s / float64(n)
}

func combinePreds(cs []*candidate, rule Combine) []float64 {
	out := make([]float64, len(cs[0].preds))
	col := make([]float64, len(cs))
	for i := range out {
		for j, c := range cs {
			col[j] = c.preds[i]
		}
		if rule == CombineMedian {
			out[i] = sortedMedian(col)
			continue
		}
		var s float64
		for _, v := range col {
			s += v
		}
		out[i] = s / float64(len(col))
	}
	return out
}

// predResiduals turns validation predictions into a residual table.
func predResiduals(preds, y []float64, t0, H int, floor float64, recal bool) residuals {
	r := residuals{Floor: floor}
	errs := make([][]float64, H)
	for i, p := range preds {
		if math.IsNaN(p) {
			continue
		}
		h := i % H
		errs[h] = append(errs[h], r.scaled(y[t0+i/H+h]-p, p))
	}
	r.Levels = sortErrors(errs, recal, nil, nil)
	for h, e := range errs {
		if len(e) == 0 {
			errs = errs[:h]
			break
		}
	}
	r.Sorted = errs
	return r
}

// scoredLevels are the quantile levels whose pinball losses
// sequentialPinball sums: the 90 % interval's ends and the 0.9 quantile.
var scoredLevels = [...]float64{0.05, 0.9, 0.95}

// sequentialPinball replays the validation predictions in time order (the
// last pitOrigins origins) and sums the pinball losses, in the series'
// unit, of the quantile forecasts at scoredLevels that a residual table
// with the given floor (0: absolute errors) would have made at each
// origin from the errors already known there (at least minPast per
// horizon). A lower sum means sharper and better calibrated intervals
// (Gneiting & Raftery 2007, "Strictly proper scoring rules, prediction,
// and estimation", JASA 102(477)).
func sequentialPinball(preds, y []float64, t0, H int, floor float64) float64 {
	r := residuals{Floor: floor}
	origins := len(preds) / H
	first := max(0, origins-pitOrigins)
	past := make([]float64, 0, origins-first)
	var loss float64
	for h := range H {
		past = past[:0]
		for i := first; i < origins; i++ {
			if j := i - h - 1; j >= first {
				if p := preds[j*H+h]; !math.IsNaN(p) {
					e := r.scaled(y[t0+j+h]-p, p)
					k, _ := slices.BinarySearch(past, e)
					past = slices.Insert(past, k, e)
				}
			}
			p := preds[i*H+h]
			if len(past) < minPast || math.IsNaN(p) {
				continue
			}
			for _, tau := range scoredLevels {
				q := conformalQuantile(past, tau)
				if floor > 0 {
					q *= math.Abs(p) + floor
				}
				d := y[t0+i+h] - (p + q)
				loss += math.Max(tau*d, (tau-1)*d)
			}
		}
	}
	return loss
}

// absQuantile is the tau-quantile of |e| over all horizons of r.
func absQuantile(r *residuals, tau float64) float64 {
	var all []float64
	for _, e := range r.Sorted {
		for _, v := range e {
			all = append(all, math.Abs(v))
		}
	}
	slices.Sort(all)
	return conformalQuantile(all, tau)
}

// mergeResiduals pools two residual tables horizon by horizon; a horizon
// only one of them has keeps that one's errors.
func mergeResiduals(a, b residuals) residuals {
	n := max(len(a.Sorted), len(b.Sorted))
	out := make([][]float64, n)
	for h := range n {
		var e []float64
		if h < len(a.Sorted) {
			e = append(e, a.Sorted[h]...)
		}
		if h < len(b.Sorted) {
			e = append(e, b.Sorted[h]...)
		}
		out[h] = e
	}
	for _, e := range out {
		slices.Sort(e)
	}
	return residuals{Sorted: out, Floor: a.Floor, Levels: a.Levels}
}

// seasonalScale is the in-sample MAE of the seasonal naive method with the
// shortest period (1 when there is none): MASE's denominator.
func seasonalScale(y []float64, periods []int) float64 {
	m := 1
	if len(periods) > 0 {
		m = periods[0]
	}
	s := Scale(y, m)
	if s == 0 || math.IsNaN(s) {
		return math.NaN()
	}
	return s
}

type autoJSON struct {
	Config  AutoConfig      `json:"config"`
	Spec    Spec            `json:"chosen"`
	Scores  []Score         `json:"scores"`
	Periods []int           `json:"periods,omitempty"`
	Model   json.RawMessage `json:"model,omitempty"`
}

// MarshalJSON encodes the configuration, the scores, the periods compared
// and the chosen model.
func (a *Auto) MarshalJSON() ([]byte, error) {
	j := autoJSON{Config: a.cfg, Spec: a.spec, Scores: a.scores, Periods: a.periods}
	if a.chosen != nil {
		raw, err := Marshal(a.chosen)
		if err != nil {
			return nil, err
		}
		j.Model = raw
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes what MarshalJSON wrote.
func (a *Auto) UnmarshalJSON(data []byte) error {
	var j autoJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	n, err := NewAuto(j.Config)
	if err != nil {
		return err
	}
	if len(j.Model) > 0 {
		m, err := Unmarshal(j.Model)
		if err != nil {
			return err
		}
		c, ok := m.(core)
		if !ok {
			return provider.Invalid("model", fmt.Sprintf("%T", m), "the chosen model must not be an Auto")
		}
		n.chosen = c
	}
	for i, p := range j.Periods {
		if p < 1 {
			return provider.Invalid(fmt.Sprintf("periods[%d]", i), p, "must be ≥ 1 step")
		}
	}
	n.spec, n.scores, n.periods = j.Spec, j.Scores, j.Periods
	*a = *n
	return nil
}

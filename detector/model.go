package detector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"gonum.org/v1/gonum/optimize"

	"github.com/idlescale/idlescale/internal/nilcheck"
	"github.com/idlescale/idlescale/provider"
)

// FeatureNames lists the model's features in order. CPU features are
// computed over ModelConfig.Window before now; the profile features over
// ModelConfig.History.
var featureNames = [...]string{
	"cpu_mean", "cpu_max", "cpu_p95", "cpu_std", "cpu_share_below_10pct",
	"log1p_network_bytes_per_s", "log1p_activity_count", "activity_known",
	"idle_slot_share", "now_slot_idle_share",
}

// NumFeatures is the number of features of a Model.
const NumFeatures = len(featureNames)

// FeatureNames returns the model's feature names in order.
func FeatureNames() []string { return slices.Clone(featureNames[:]) }

// ModelConfig configures feature extraction and training. The zero value
// means the defaults.
//
// The model's features are a CPU series' (and traffic's): a resource
// without CPU, as a function, a load balancer and a volume are (see
// DefaultKinds), leaves the model without an opinion (unknown, the
// reason naming cpu missing), and in an ensemble (WithModel) that
// unknown vote forbids every stop and terminate: with a model, such
// resources may be reported idle but are never terminated.
type ModelConfig struct {
	// Window is the look-back of the CPU features, never from before
	// the resource's launch (Resource.LaunchTime): the steps before it
	// are read as gaps, a predecessor's series under the same ID being
	// not the resource's, so a resource launched less than about Window
	// ago may have no features (unknown, as with gaps). Default: 24h.
	Window time.Duration `json:"window,omitempty"`
	// History is the look-back of the hour-of-week profile features.
	// Default: 7 days (168h).
	History time.Duration `json:"history,omitempty"`
	// Cutoff is the idle probability at or above which the model votes
	// idle, in (0, 1). Default: 0.5.
	Cutoff float64 `json:"cutoff,omitempty"`
	// L2 is the ridge penalty on the (standardised) coefficients, ≥ 0.
	// Default: 0.01.
	L2 float64 `json:"l2,omitempty"`
	// Quality sets the coverage and staleness rules for the CPU and
	// network windows.
	Quality DataQuality `json:"quality,omitzero"`
	// IgnoreNetwork makes the model read no traffic: its traffic feature
	// is 0 for every input, in training and when it decides, and it
	// neither reads nor needs network_in and network_out. For sources
	// that report no traffic, where a model would otherwise have no
	// opinion; its idle votes then rest on CPU and activity alone, as the
	// host chose. It is saved with the model. Default: false (a network
	// metric without a usable series leaves the model without an
	// opinion).
	IgnoreNetwork bool `json:"ignore_network,omitempty"`
}

func (c ModelConfig) withDefaults() ModelConfig {
	if c.Window == 0 {
		c.Window = 24 * time.Hour
	}
	if c.History == 0 {
		c.History = 7 * 24 * time.Hour
	}
	if c.Cutoff == 0 {
		c.Cutoff = 0.5
	}
	if c.L2 == 0 {
		c.L2 = 0.01
	}
	c.Quality = c.Quality.withDefaults()
	return c
}

// Validate checks every field; the error names the first wrong one.
func (c ModelConfig) Validate() error {
	if c.Window < 0 {
		return invalid("model.window", c.Window, "must be > 0 (0 means the default 24h)")
	}
	if c.History < 0 {
		return invalid("model.history", c.History, "must be > 0 (0 means the default 168h)")
	}
	if math.IsNaN(c.Cutoff) || c.Cutoff < 0 || c.Cutoff >= 1 {
		return invalid("model.cutoff", c.Cutoff, "must be in (0, 1) (0 means the default 0.5)")
	}
	if math.IsNaN(c.L2) || math.IsInf(c.L2, 0) || c.L2 < 0 {
		return invalid("model.l2", c.L2, "must be a finite number ≥ 0")
	}
	return provider.Within("model", c.Quality.Validate())
}

// Model is a logistic-regression classifier over features of a resource's
// CPU, network, activity and hour-of-week profile. It is the ensemble's
// model signal. Make one with Train or LoadModel; a trained Model is
// immutable and safe for concurrent use.
type Model struct {
	cfg     ModelConfig
	sched   *Schedule
	mean    [NumFeatures]float64
	scale   [NumFeatures]float64
	coef    [NumFeatures]float64
	bias    float64
	trained bool
}

// Example is one labelled input for training and evaluation.
type Example struct {
	// Input is what the detector would see.
	Input Input
	// Idle is the label.
	Idle bool
	// Group keeps examples of one resource together in cross-validation
	// (several windows of one trace must not be split between training
	// and test folds). Empty means Input.Resource.ID.
	Group string
}

func (m *Model) metrics() []provider.Metric {
	if m.cfg.IgnoreNetwork {
		return []provider.Metric{provider.MetricCPU}
	}
	return []provider.Metric{provider.MetricCPU, provider.MetricNetworkIn, provider.MetricNetworkOut}
}

// Trained reports whether the model has coefficients.
func (m *Model) Trained() bool { return m != nil && m.trained }

// Config returns the configuration with defaults filled in.
func (m *Model) Config() ModelConfig { return m.cfg }

func newModel(cfg ModelConfig) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	sched, err := NewSchedule(ScheduleConfig{History: cfg.History, MinHistory: min(24*time.Hour, cfg.History), Quality: cfg.Quality})
	if err != nil {
		return nil, err
	}
	return &Model{cfg: cfg, sched: sched}, nil
}

// Features computes the model's features of in (see FeatureNames) into
// dst, which must have length NumFeatures. ok is false when the CPU window
// is unusable (missing, stale, gappy, suspect zeros, a source error) or a
// network metric (network_in, network_out) failed (in.MetricErrors), has
// no series, or has a series whose window is unusable: the model then has
// no opinion, since traffic not measured is not no traffic. A network
// metric without a series and without an error (a source that does not
// report it, or a Scan that found no data in the window) is missing too;
// ModelConfig.IgnoreNetwork is how a host whose source reports no traffic
// has the model decide without it.
func (m *Model) Features(in Input, dst []float64) (ok bool, err error) {
	if len(dst) != NumFeatures {
		return false, invalid("features.dst", len(dst), fmt.Sprintf("must have length %d", NumFeatures))
	}
	if err := in.Validate(); err != nil {
		return false, err
	}
	var f [NumFeatures]float64
	ok = m.features(&in, &f, nil)
	copy(dst, f[:])
	return ok, nil
}

// sinceLaunch returns s without its data before launch when the window
// from from reaches before it: a copy whose steps that start before
// launch are gaps (a predecessor's under the same ID is not the
// resource's); s itself otherwise.
func sinceLaunch(s provider.Series, from, launch time.Time) provider.Series {
	if launch.IsZero() || !launch.After(from) || !launch.After(s.Start) {
		return s
	}
	n := ceilIndex(s, launch)
	out := s.Clone()
	for i := range n {
		out.Values[i] = provider.Gap
	}
	return out
}

// features computes the features of in into f (see Features). When they
// cannot be computed it returns false and, when why is not nil, sets it to
// the reason (its Signal left to the caller).
func (m *Model) features(in *Input, f *[NumFeatures]float64, why *Reason) bool {
	var unusable Reason
	if why == nil {
		why = &unusable
	}
	if err := in.metricErr(provider.MetricCPU); err != nil {
		*why = Reason{Code: ReasonSourceError, Metric: provider.MetricCPU, Err: err}
		return false
	}
	s, ok := in.SeriesFor(provider.MetricCPU)
	if !ok {
		*why = Reason{Code: ReasonMissing, Metric: provider.MetricCPU}
		return false
	}
	launch := in.Resource.LaunchTime
	s = sinceLaunch(s, in.Now.Add(-m.cfg.Window), launch)
	w, code, r := view(s, in.Now, m.cfg.Window, 0.10, m.cfg.Quality)
	if code != qOK {
		*why = r
		why.Metric = provider.MetricCPU
		return false
	}
	// Traffic: a network metric that failed, or whose series is missing,
	// stale or gappy over the window, is not known, never 0 bytes/s.
	net := 0.0
	for _, nm := range [...]provider.Metric{provider.MetricNetworkIn, provider.MetricNetworkOut} {
		if m.cfg.IgnoreNetwork {
			break // the host chose a model without traffic
		}
		if err := in.metricErr(nm); err != nil {
			*why = Reason{Code: ReasonSourceError, Metric: nm, Err: err}
			return false
		}
		ns, ok := in.SeriesFor(nm)
		if !ok {
			*why = Reason{Code: ReasonMissing, Metric: nm}
			return false
		}
		ns = sinceLaunch(ns, in.Now.Add(-m.cfg.Window), launch)
		nw, code, r := view(ns, in.Now, m.cfg.Window, math.Inf(1), m.cfg.Quality)
		if code != qOK {
			*why = r
			why.Metric = nm
			return false
		}
		net += nw.stat(provider.StatMean, nw.lo, nw.hi)
	}
	b := scratchPool.Get().(*scratch)
	defer scratchPool.Put(b)
	vals := w.values(w.lo, w.hi, b.a)
	b.a = vals
	n := float64(len(vals))
	sum, mx, below := 0.0, 0.0, 0.0
	for _, x := range vals {
		sum += x
		mx = max(mx, x)
		if x < 0.10 {
			below++
		}
	}
	mean := sum / n
	ss := 0.0
	for _, x := range vals {
		ss += (x - mean) * (x - mean)
	}
	slices.Sort(vals)
	f[0], f[1], f[2], f[3], f[4] = mean, mx, provider.Quantile(vals, 0.95), math.Sqrt(ss/n), below/n
	f[5] = math.Log1p(net)
	if len(in.Activity) > 0 && in.ActivityErr == nil {
		total := 0.0
		for _, a := range in.Activity {
			total += a.Count
		}
		f[6], f[7] = math.Log1p(total), 1
	}
	var p Profile
	if code, _ := m.sched.learn(in, metricData{in: in}, &p); code == qOK && p.History >= m.sched.cfg.MinHistory {
		f[8] = float64(p.IdleSlots()) / float64(max(p.ObservedSlots(), 1))
		if share, ok := p.Share(p.Slot(in.Now)); ok {
			f[9] = share
		} else {
			f[9] = f[4]
		}
	} else {
		f[8], f[9] = f[4], f[4]
	}
	return true
}

// Probability returns the model's idle probability for features f (raw,
// as computed by Features).
func (m *Model) Probability(f []float64) (float64, error) {
	if !m.Trained() {
		return 0, ErrNotTrained
	}
	if len(f) != NumFeatures {
		return 0, invalid("features", len(f), fmt.Sprintf("must have length %d", NumFeatures))
	}
	var a [NumFeatures]float64
	for i, x := range f {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0, invalid(fmt.Sprintf("features[%d]", i), x, "must be finite")
		}
		a[i] = x
	}
	p := m.prob(&a)
	if math.IsNaN(p) {
		return 0, invalid("features", fmt.Sprint(f), "overflow the model's linear predictor")
	}
	return p, nil
}

func (m *Model) prob(f *[NumFeatures]float64) float64 {
	z := m.bias
	for i := range f {
		z += m.coef[i] * (f[i] - m.mean[i]) / m.scale[i]
	}
	return sigmoid(z)
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// Detect implements Detector.
func (m *Model) Detect(ctx context.Context, in Input) (Verdict, error) {
	if !m.Trained() {
		return Verdict{}, ErrNotTrained
	}
	return detectOne(ctx, &in, SignalModel, m.evaluate)
}

func (m *Model) evaluate(in *Input, r *result) error {
	r.window = Window{From: in.Now.Add(-m.cfg.Window), To: in.Now}
	var f [NumFeatures]float64
	var why Reason
	if !m.features(in, &f, &why) {
		why.Signal = SignalModel
		r.add(why)
		return nil
	}
	p := m.prob(&f)
	if math.IsNaN(p) {
		r.add(Reason{Signal: SignalModel, Code: ReasonModel, Value: p, Limit: m.cfg.Cutoff})
		return nil // unknown: the features overflow the model
	}
	r.score = p
	r.state = NotIdle
	if p >= m.cfg.Cutoff {
		r.state = Idle
	}
	r.add(Reason{Signal: SignalModel, Code: ReasonModel, Value: p, Limit: m.cfg.Cutoff})
	return nil
}

// Train fits a Model to examples by L2-regularised logistic regression on
// standardised features, minimising the mean log-loss with gonum's L-BFGS.
// Examples whose features cannot be computed (unusable CPU or network
// data, see Features; examples without network series need
// ModelConfig.IgnoreNetwork) are skipped. It returns ErrTooFewExamples unless at least 4 usable examples of
// each class remain, and an error matching provider.ErrInvalid for invalid
// configuration or input.
func Train(ctx context.Context, examples []Example, cfg ModelConfig) (*Model, error) {
	m, err := newModel(cfg)
	if err != nil {
		return nil, err
	}
	xs, ys, _, err := m.featurize(ctx, examples)
	if err != nil {
		return nil, err
	}
	if err := m.fit(ctx, xs, ys); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Model) featurize(ctx context.Context, examples []Example) ([][NumFeatures]float64, []float64, []int, error) {
	xs := make([][NumFeatures]float64, 0, len(examples))
	ys := make([]float64, 0, len(examples))
	idx := make([]int, 0, len(examples))
	for i := range examples {
		if err := ctx.Err(); err != nil {
			return nil, nil, nil, err
		}
		in := &examples[i].Input
		if err := in.Validate(); err != nil {
			return nil, nil, nil, fmt.Errorf("examples[%d]: %w", i, err)
		}
		var f [NumFeatures]float64
		if !m.features(in, &f, nil) {
			continue
		}
		xs = append(xs, f)
		ys = append(ys, b2f(examples[i].Idle))
		idx = append(idx, i)
	}
	return xs, ys, idx, nil
}

func (m *Model) fit(ctx context.Context, xs [][NumFeatures]float64, ys []float64) error {
	pos := 0
	for _, y := range ys {
		pos += int(y)
	}
	if pos < 4 || len(ys)-pos < 4 {
		return fmt.Errorf("%w: %d idle and %d busy usable examples; need at least 4 of each", ErrTooFewExamples, pos, len(ys)-pos)
	}
	n := float64(len(xs))
	for j := range NumFeatures {
		s := 0.0
		for _, x := range xs {
			s += x[j]
		}
		m.mean[j] = s / n
		v := 0.0
		for _, x := range xs {
			v += (x[j] - m.mean[j]) * (x[j] - m.mean[j])
		}
		m.scale[j] = math.Sqrt(v / n)
		if m.scale[j] < 1e-9 {
			m.scale[j] = 1 // a constant feature: its coefficient stays near 0
		}
	}
	z := make([][NumFeatures]float64, len(xs))
	for i, x := range xs {
		for j := range NumFeatures {
			z[i][j] = (x[j] - m.mean[j]) / m.scale[j]
		}
	}
	lambda := m.cfg.L2
	// Parameters: NumFeatures coefficients, then the bias.
	loss := func(w []float64) float64 {
		l := 0.0
		for i, x := range z {
			t := w[NumFeatures]
			for j := range NumFeatures {
				t += w[j] * x[j]
			}
			// log(1+exp(t)) − y·t, computed stably.
			l += softplus(t) - ys[i]*t
		}
		reg := 0.0
		for j := range NumFeatures {
			reg += w[j] * w[j]
		}
		return l/n + 0.5*lambda*reg
	}
	grad := func(g, w []float64) {
		for j := range g {
			g[j] = 0
		}
		for i, x := range z {
			t := w[NumFeatures]
			for j := range NumFeatures {
				t += w[j] * x[j]
			}
			d := sigmoid(t) - ys[i]
			for j := range NumFeatures {
				g[j] += d * x[j]
			}
			g[NumFeatures] += d
		}
		for j := range g {
			g[j] /= n
		}
		for j := range NumFeatures {
			g[j] += lambda * w[j]
		}
	}
	p := optimize.Problem{Func: loss, Grad: grad, Status: func() (optimize.Status, error) {
		if err := ctx.Err(); err != nil {
			return optimize.Failure, err
		}
		return optimize.NotTerminated, nil
	}}
	res, err := optimize.Minimize(p, make([]float64, NumFeatures+1), &optimize.Settings{MajorIterations: 500, GradientThreshold: 1e-8}, &optimize.LBFGS{})
	if err != nil && (res == nil || ctx.Err() != nil) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("model: train: %w", err)
	}
	for _, w := range res.X {
		if math.IsNaN(w) || math.IsInf(w, 0) {
			return errors.New("model: train: the optimiser diverged")
		}
	}
	copy(m.coef[:], res.X[:NumFeatures])
	m.bias = res.X[NumFeatures]
	m.trained = true
	return nil
}

func softplus(t float64) float64 {
	if t > 0 {
		return t + math.Log1p(math.Exp(-t))
	}
	return math.Log1p(math.Exp(t))
}

// Metrics are a classifier's scores on labelled examples, idle being the
// positive class.
type Metrics struct {
	// N is the number of usable examples scored; Skipped those whose
	// features could not be computed.
	N, Skipped int
	// TP, FP, TN and FN count true and false positives and negatives at
	// the model's cut-off.
	TP, FP, TN, FN int
	// Precision is TP/(TP+FP); Recall TP/(TP+FN); F1 their harmonic mean;
	// Accuracy (TP+TN)/N. Each is 0 when its denominator is 0.
	Precision, Recall, F1, Accuracy float64
	// AUC is the area under the ROC curve (the probability that a random
	// idle example scores above a random busy one, ties counting half);
	// NaN when one class is absent.
	AUC float64
}

// String renders the metrics on one line.
func (s Metrics) String() string {
	return fmt.Sprintf("n=%d skipped=%d tp=%d fp=%d tn=%d fn=%d precision=%.3f recall=%.3f f1=%.3f accuracy=%.3f auc=%.3f",
		s.N, s.Skipped, s.TP, s.FP, s.TN, s.FN, s.Precision, s.Recall, s.F1, s.Accuracy, s.AUC)
}

// Evaluate scores the model on held-out examples. It returns ErrNotTrained
// for an untrained model and ErrTooFewExamples when no example is usable.
func (m *Model) Evaluate(ctx context.Context, examples []Example) (Metrics, error) {
	if !m.Trained() {
		return Metrics{}, ErrNotTrained
	}
	xs, ys, _, err := m.featurize(ctx, examples)
	if err != nil {
		return Metrics{}, err
	}
	if len(xs) == 0 {
		return Metrics{}, fmt.Errorf("%w: no usable example among %d", ErrTooFewExamples, len(examples))
	}
	ps := make([]float64, len(xs))
	for i := range xs {
		ps[i] = m.prob(&xs[i])
	}
	s := score(ps, ys, m.cfg.Cutoff)
	s.Skipped = len(examples) - len(xs)
	return s, nil
}

func score(ps, ys []float64, cutoff float64) Metrics {
	var s Metrics
	s.N = len(ps)
	for i, p := range ps {
		switch idle, pred := ys[i] == 1, p >= cutoff; {
		case idle && pred:
			s.TP++
		case idle:
			s.FN++
		case pred:
			s.FP++
		default:
			s.TN++
		}
	}
	s.Precision = ratio(s.TP, s.TP+s.FP)
	s.Recall = ratio(s.TP, s.TP+s.FN)
	if s.Precision+s.Recall > 0 {
		s.F1 = 2 * s.Precision * s.Recall / (s.Precision + s.Recall)
	}
	s.Accuracy = ratio(s.TP+s.TN, s.N)
	s.AUC = rocAUC(ps, ys)
	return s
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// rocAUC computes the Mann–Whitney form of the ROC AUC with average ranks
// for ties.
func rocAUC(ps, ys []float64) float64 {
	idx := make([]int, len(ps))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return ps[idx[a]] < ps[idx[b]] })
	var rankSum float64
	pos, neg := 0, 0
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && ps[idx[j]] == ps[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // ranks i+1 … j
		for k := i; k < j; k++ {
			if ys[idx[k]] == 1 {
				rankSum += avg
			}
		}
		i = j
	}
	for _, y := range ys {
		if y == 1 {
			pos++
		} else {
			neg++
		}
	}
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	return (rankSum - float64(pos*(pos+1))/2) / float64(pos*neg)
}

// CrossValidate runs k-fold cross-validation: examples are split into k
// folds by Group (shuffled with seed), a model is trained on k−1 folds and
// evaluated on the remaining one. It returns each fold's metrics and the
// metrics pooled over every held-out prediction. k must be in [2, number of
// groups].
func CrossValidate(ctx context.Context, examples []Example, k int, seed uint64, cfg ModelConfig) (folds []Metrics, pooled Metrics, err error) {
	groups := map[string]int{}
	var names []string
	for _, e := range examples {
		g := e.Group
		if g == "" {
			g = e.Input.Resource.ID
		}
		if _, ok := groups[g]; !ok {
			groups[g] = 0
			names = append(names, g)
		}
	}
	if k < 2 || k > len(names) {
		return nil, Metrics{}, invalid("k", k, fmt.Sprintf("must be in [2, %d] (the number of groups)", len(names)))
	}
	slices.Sort(names)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	rng.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	for i, g := range names {
		groups[g] = i % k
	}
	foldOf := func(e Example) int {
		g := e.Group
		if g == "" {
			g = e.Input.Resource.ID
		}
		return groups[g]
	}
	var allP, allY []float64
	skipped := 0
	for f := range k {
		var train, test []Example
		for _, e := range examples {
			if foldOf(e) == f {
				test = append(test, e)
			} else {
				train = append(train, e)
			}
		}
		m, err := Train(ctx, train, cfg)
		if err != nil {
			return nil, Metrics{}, fmt.Errorf("fold %d: %w", f, err)
		}
		xs, ys, _, err := m.featurize(ctx, test)
		if err != nil {
			return nil, Metrics{}, fmt.Errorf("fold %d: %w", f, err)
		}
		ps := make([]float64, len(xs))
		for i := range xs {
			ps[i] = m.prob(&xs[i])
		}
		s := score(ps, ys, m.cfg.Cutoff)
		s.Skipped = len(test) - len(xs)
		skipped += s.Skipped
		folds = append(folds, s)
		allP, allY = append(allP, ps...), append(allY, ys...)
	}
	pooled = score(allP, allY, cfg.withDefaults().Cutoff)
	pooled.Skipped = skipped
	return folds, pooled, nil
}

// modelJSON is the saved form of a Model.
type modelJSON struct {
	Version  int         `json:"version"`
	Features []string    `json:"features"`
	Config   ModelConfig `json:"config"`
	Mean     []float64   `json:"mean"`
	Scale    []float64   `json:"scale"`
	Coef     []float64   `json:"coefficients"`
	Bias     float64     `json:"bias"`
}

// Save writes the model as JSON. It returns ErrNotTrained for a model not
// trained, and an error matching provider.ErrInvalid naming model.writer
// when w is nil or a nil pointer (a nil *bytes.Buffer, whose Write panics).
func (m *Model) Save(w io.Writer) error {
	if !m.Trained() {
		return ErrNotTrained
	}
	if nilcheck.Is(w) { // a nil *bytes.Buffer too: its Write panics
		return invalid("model.writer", fmt.Sprintf("%T", w), "must not be nil or a nil pointer")
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(modelJSON{Version: 1, Features: featureNames[:], Config: m.cfg, Mean: m.mean[:], Scale: m.scale[:], Coef: m.coef[:], Bias: m.bias})
}

// LoadModel reads a model written by Save. It returns an error matching
// provider.ErrInvalid when the JSON is malformed, of another version or
// feature set, or holds a non-finite or non-positive scale, and when r is
// nil or a nil pointer (a nil *bytes.Reader, whose Read panics). An error
// of r itself is returned wrapped, not as invalid input.
func LoadModel(r io.Reader) (*Model, error) {
	if nilcheck.Is(r) { // a nil *bytes.Reader too: its Read panics
		return nil, invalid("model.reader", fmt.Sprintf("%T", r), "must not be nil or a nil pointer")
	}
	var j modelJSON
	src := &errReader{r: r}
	dec := json.NewDecoder(src)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		if src.err != nil && errors.Is(err, src.err) {
			return nil, fmt.Errorf("detector: load model: %w", err)
		}
		return nil, invalid("model", "json", err.Error())
	}
	if j.Version != 1 {
		return nil, invalid("model.version", j.Version, "must be 1")
	}
	if !slices.Equal(j.Features, featureNames[:]) {
		return nil, invalid("model.features", fmt.Sprint(j.Features), "must be "+fmt.Sprint(featureNames))
	}
	for name, v := range map[string][]float64{"mean": j.Mean, "scale": j.Scale, "coefficients": j.Coef} {
		if len(v) != NumFeatures {
			return nil, invalid("model."+name, len(v), fmt.Sprintf("must have %d values", NumFeatures))
		}
		for i, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) || (name == "scale" && x <= 0) {
				return nil, invalid(fmt.Sprintf("model.%s[%d]", name, i), x, "must be finite (and > 0 for scale)")
			}
		}
	}
	if math.IsNaN(j.Bias) || math.IsInf(j.Bias, 0) {
		return nil, invalid("model.bias", j.Bias, "must be finite")
	}
	m, err := newModel(j.Config)
	if err != nil {
		return nil, err
	}
	copy(m.mean[:], j.Mean)
	copy(m.scale[:], j.Scale)
	copy(m.coef[:], j.Coef)
	m.bias = j.Bias
	m.trained = true
	return m, nil
}

// errReader remembers the first error of r other than io.EOF, so that
// LoadModel can tell a failed read from malformed JSON.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && e.err == nil {
		e.err = err
	}
	return n, err
}

package scaling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling/hpa"
)

// HPAConfig configures the HPA strategy: a HorizontalPodAutoscaler spec
// without its replica bounds (the target's Min and Max are its
// minReplicas and maxReplicas) and the controller's settings.
type HPAConfig struct {
	// Metrics are the HPA's metrics. Empty means CPU utilization at 80 %.
	// On a target without pods (an Auto Scaling group, an in-memory
	// group), each metric reads a provider metric: a resource metric the
	// utilization of that name (cpu, memory), the others the provider
	// metric named by their metric name (requests, custom/queue_depth),
	// as the average per instance for pods metrics and as the value for
	// object and external metrics.
	Metrics []hpa.MetricSpec `json:"metrics,omitempty" yaml:"metrics,omitempty"`
	// Behavior is the HPA's behavior; nil for the legacy normalization.
	Behavior *hpa.Behavior `json:"behavior,omitempty" yaml:"behavior,omitempty"`
	// Controller holds the controller's settings (tolerance, CPU
	// initialization period, ...). The zero value means Kubernetes'
	// defaults.
	Controller hpa.Config `json:"controller,omitzero" yaml:"controller,omitempty"`
	// Step is the grid step of the provider metrics read on targets
	// without pods. Default: 1m. Five steps, the lookback, must fit in a
	// time.Duration: a step above about 58 years is refused.
	Step time.Duration `json:"step,omitempty" yaml:"step,omitempty"`
}

// Validate checks the spec (with placeholder bounds) and the controller
// settings, naming the wrong field.
func (c HPAConfig) Validate() error {
	if err := c.Controller.Validate(); err != nil {
		return provider.Within("controller", err)
	}
	if err := nonNegative("step", c.Step); err != nil {
		return err
	}
	if err := fitsSteps("step", c.Step, 5); err != nil { // the lookback
		return err
	}
	spec := c.spec(1, 1)
	if c.minZeroAllowed() {
		spec.MinReplicas = new(int32)
	}
	if err := spec.Validate(); err != nil {
		return err
	}
	for i, m := range spec.WithDefaults().Metrics {
		if _, err := hpaProviderMetric(m); err != nil {
			return provider.Within(fmt.Sprintf("metrics[%d]", i), err)
		}
	}
	return nil
}

// minZeroAllowed reports whether a spec of these metrics may scale to
// zero (an object or external metric).
func (c HPAConfig) minZeroAllowed() bool {
	for _, m := range c.Metrics {
		if m.Type == hpa.SourceObject || m.Type == hpa.SourceExternal {
			return true
		}
	}
	return false
}

// clone returns c with copies of its metrics (their sources and
// selectors) and behavior (its rules, windows, tolerances and policies),
// which later changes to c do not reach: the HPA makes calculators from
// its config when it needs more working spaces.
func (c HPAConfig) clone() HPAConfig {
	c.Metrics = slices.Clone(c.Metrics)
	for i := range c.Metrics {
		c.Metrics[i] = c.Metrics[i].Clone()
	}
	if c.Behavior = clonePtr(c.Behavior); c.Behavior != nil {
		for _, r := range []**hpa.ScalingRules{&c.Behavior.ScaleUp, &c.Behavior.ScaleDown} {
			if *r = clonePtr(*r); *r != nil {
				(*r).StabilizationWindow, (*r).Tolerance = clonePtr((*r).StabilizationWindow), clonePtr((*r).Tolerance)
				(*r).Policies = slices.Clone((*r).Policies)
			}
		}
	}
	return c
}

func (c HPAConfig) spec(minR, maxR int) hpa.Spec {
	lo, hi := int32(minR), int32(maxR)
	return hpa.Spec{MinReplicas: &lo, MaxReplicas: hi, Metrics: c.Metrics, Behavior: c.Behavior}
}

// HPA is the target-tracking strategy that computes exactly the replica
// count of Kubernetes' HorizontalPodAutoscaler (package hpa): on a
// Kubernetes target from the pods a PodSource observed, on any other
// group from its provider metrics, each ready instance counting as a
// running, ready pod reporting the group's value and each launching one as
// a pending pod. Its stabilization windows and rate policies run over the
// target's History: its own recommendations and every scaling event of
// the target. Its replica bounds are the policy's Min and Max (minReplicas
// and maxReplicas); the result is also clamped to the group's own Min and
// Max. Its fitness is 0.8 times the share of its metrics it could read.
// On a group without pods, a provider metric whose latest value's step
// ended five steps or more before Now (a metric no longer published, in
// a series another strategy's longer need made cover more than the HPA's
// five steps) is not read: it is a failed metric, as the threshold,
// target-value and step strategies take such data for none.
// It is safe for concurrent use.
type HPA struct {
	cfg     HPAConfig
	name    string
	metrics []hpa.MetricSpec // after defaults
	names   []string         // their names, and their proposals' input names
	pnames  []string
	needs   []Need
	window  time.Duration // HistoryWindow
	// The stabilization window and the longest policy period (hpaWindows).
	stabilization, period time.Duration
	// containers is the one container (read-only) of the pods
	// synthesized for targets without pods, requesting 1000m of every
	// resource a metric targets.
	containers []hpa.Container
	// scratch holds *hpaScratch, the working spaces of Recommend calls:
	// one per concurrent call (an Autoscaler's targets with the same
	// policy share one strategy, see shareHPAs).
	scratch sync.Pool
}

// hpaScratch is one Recommend call's working space. Its buffers are its
// own: the input may also point at a State's observed pods, which are
// never written.
type hpaScratch struct {
	calc    *hpa.Calculator
	in      hpa.Input
	hist    hpa.History
	metrics []hpa.MetricValues
	pods    []hpa.Pod // synthesized, for a group without pods
	// history's cutoff: Now − the strategy's window (a scratch serves one
	// HPA), for the Now it was computed at.
	cutoffNow, cutoff time.Time
	cutoffSet         bool
	samples           [][]hpa.Sample
	values            [][]int64
	// The recommendations' reasons and inputs, carved from slabs.
	reasons textMemo[reasonKey]
	inputs  inputSlab
}

// getScratch returns a working space from s's pool, or a new one, or the
// error of its calculator.
func (s *HPA) getScratch() (*hpaScratch, error) {
	if sc, ok := s.scratch.Get().(*hpaScratch); ok {
		return sc, nil
	}
	calc, err := hpa.NewCalculator(s.cfg.Controller, s.cfg.spec(1, 1))
	if err != nil {
		return nil, fmt.Errorf("scaling: hpa: %w", err)
	}
	return &hpaScratch{calc: calc}, nil
}

var (
	_ Strategy       = (*HPA)(nil)
	_ MetricNeeder   = (*HPA)(nil)
	_ ExtremesReader = (*HPA)(nil)
)

// NewHPA returns an HPA strategy for cfg, or an error matching
// provider.ErrInvalid naming the wrong field. name is the strategy's name
// in the target's policy: the strategy finds its own recommendations in
// the History by it, so Engine.Decide refuses it as a Candidate of
// another name. Empty means "hpa". It keeps its own copy of cfg: later
// changes to its metrics or behavior change nothing.
func NewHPA(cfg HPAConfig, name string) (*HPA, error) {
	cfg = cfg.clone() // the caller's later changes must not bypass the validation
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("scaling: hpa: %w", err)
	}
	if cfg.Step == 0 {
		cfg.Step = DefaultStep
	}
	if name == "" {
		name = string(StrategyHPA)
	}
	s := &HPA{cfg: cfg, name: name, metrics: cfg.spec(1, 1).WithDefaults().Metrics}
	container := hpa.Container{Name: "main", Requests: hpa.ResourceList{}}
	for _, m := range s.metrics {
		s.names = append(s.names, m.Name())
		s.pnames = append(s.pnames, m.Name()+" proposal")
		pm, _ := hpaProviderMetric(m)
		s.needs = append(s.needs, Need{Metric: pm, Step: cfg.Step, Lookback: 5 * cfg.Step})
		switch m.Type {
		case hpa.SourceResource:
			container.Requests[m.Resource.Name] = 1000
		case hpa.SourceContainerResource:
			container.Requests[m.ContainerResource.Name] = 1000
			container.Name = m.ContainerResource.Container
		}
	}
	s.containers = []hpa.Container{container}
	calc, err := hpa.NewCalculator(s.cfg.Controller, s.cfg.spec(1, 1))
	if err != nil {
		return nil, fmt.Errorf("scaling: hpa: %w", err)
	}
	s.stabilization, s.period = hpaWindows(calc)
	s.window = max(s.stabilization, s.period)
	s.scratch.Put(&hpaScratch{calc: calc}) // the first working space
	return s, nil
}

// Name returns the strategy's name in the target's policy (NewHPA's
// name): it finds its own recommendations in the History by it, so a
// host that decides with it (Engine.Decide, package scaling/sim) names
// its Candidate so.
func (s *HPA) Name() string { return s.name }

// Needs implements MetricNeeder: the provider metric of every HPA metric
// over the last five steps (used on targets without pods).
func (s *HPA) Needs() []Need { return append([]Need(nil), s.needs...) }

// Metrics returns the HPA metrics after defaults, for a PodSource.
func (s *HPA) Metrics() []hpa.MetricSpec { return append([]hpa.MetricSpec(nil), s.metrics...) }

// Recommend implements Strategy.
func (s *HPA) Recommend(ctx context.Context, st State) (Recommendation, error) {
	return s.recommend(ctx, &st, nil)
}

// recommend is Recommend reading the State through a pointer, as the
// engine calls it (Engine.decide); it changes nothing of *st. A batch's
// scratch bs (nil: none) lends its working space and holds the
// recommendation's inputs (see decideScratch).
func (s *HPA) recommend(_ context.Context, st *State, bs *decideScratch) (Recommendation, error) {
	t := &st.Target
	if !t.horizontal() {
		return Recommendation{}, fmt.Errorf("scaling: hpa: %w", provider.Invalid("target.resource.kind", t.Resource.Kind, "the HPA strategy scales groups"))
	}
	minR, maxR := t.Min, t.Max
	if minR == 0 && !s.cfg.minZeroAllowed() {
		minR = 1 // the API server refuses minReplicas 0 without an object or external metric
	}
	var (
		sc     *hpaScratch
		inputs *inputArena
		err    error
	)
	if bs != nil {
		sc, err = bs.hpaScratch(s)
		inputs = bs.inputs
	} else if sc, err = s.getScratch(); err == nil {
		defer s.scratch.Put(sc)
	}
	if err != nil {
		return Recommendation{}, err
	}
	if err := sc.calc.SetBounds(sat32(minR), sat32(max(maxR, minR))); err != nil {
		return Recommendation{}, fmt.Errorf("scaling: hpa: %w", err)
	}
	valid, err := s.input(st, sc)
	if err != nil {
		sc.metrics, sc.in = sc.in.Metrics[:0], hpa.Input{}
		return Recommendation{}, fmt.Errorf("scaling: hpa: %w", err)
	}
	s.history(st, sc, &sc.hist)
	d, err := sc.calc.Decide(sc.in, sc.hist)
	// Keep the buffers for the next call.
	sc.metrics = sc.in.Metrics[:0]
	sc.in = hpa.Input{}
	if err != nil && !errors.Is(err, hpa.ErrInvalidMetrics) {
		return Recommendation{}, fmt.Errorf("scaling: hpa: %w", err)
	}
	rec := desired(t, int(d.Replicas), "")
	rec.Proposal = int(max(d.Proposal, 0))
	switch {
	case err != nil:
		rec = keep(t, fmt.Sprintf("no decision (%s): %v", d.ScalingActive, err))
	default: // rec.Reason says whether the group's bounds clamped it
		rec.Reason = hpaReason(&d, t.Capacity.Desired, rec.Reason, &sc.reasons)
	}
	if d.Proposal < 0 {
		// No proposal (a target outside its bounds, scaling disabled,
		// every metric failed): the controller records none, and the
		// History's record is none (HPA.history skips it). Proposal shows
		// the current count.
		rec.Proposal, rec.NoProposal = t.Capacity.Desired, true
	}
	if inputs != nil {
		rec.Inputs = inputs.make(2 * len(d.Metrics))
	} else {
		rec.Inputs = sc.inputs.make(2 * len(d.Metrics))
	}
	for i, r := range d.Metrics {
		name := s.names[i]
		if r.Err != nil {
			rec.Inputs = append(rec.Inputs, Input{Name: name + " (failed)", Value: math.NaN()})
			continue
		}
		if s.metrics[i].Target().Type == hpa.TargetUtilization {
			rec.Inputs = append(rec.Inputs, Input{Name: name, Value: float64(r.Utilization), Unit: "percent"})
		} else {
			rec.Inputs = append(rec.Inputs, Input{Name: name, Value: float64(r.Usage) / 1000})
		}
		rec.Inputs = append(rec.Inputs, Input{Name: s.pnames[i], Value: float64(r.Replicas), Unit: "replicas"})
	}
	if n := len(s.metrics); n > 0 {
		rec.Fitness = 0.8 * float64(valid) / float64(n)
	}
	// Every metric consulted failed (missing, stale, no ready pod): no
	// data. Metrics not consulted (a target outside its bounds, scaling
	// disabled at zero replicas) are no lack of data.
	rec.NoData = len(d.Metrics) > 0 && !slices.ContainsFunc(d.Metrics, func(r hpa.MetricResult) bool { return r.Err == nil })
	return rec, nil
}

// input fills in the HPA's input from the State: the observed pods, or
// pods synthesized from the group's capacity and provider metrics (the
// series of the strategy's Needs, State.SeriesFor). It returns how many
// metrics had values, or the error of a State whose series cannot be
// told apart.
func (s *HPA) input(st *State, sc *hpaScratch) (int, error) {
	t := &st.Target
	in := &sc.in
	*in = hpa.Input{Now: st.Now, SpecReplicas: int32(t.Capacity.Desired), StatusReplicas: int32(t.Capacity.Current), Metrics: sc.metrics[:0]}
	if st.Pods != nil {
		in.Pods = st.Pods.Pods
	}
	for len(sc.samples) < len(s.metrics) {
		sc.samples, sc.values = append(sc.samples, nil), append(sc.values, nil)
	}
	valid := 0
	if st.Pods != nil {
		in.StatusReplicas = int32(st.Pods.StatusReplicas)
		for i := range s.metrics {
			mv := hpa.MetricValues{Err: fmt.Errorf("the pod source returned no values for metric %d", i)}
			if i < len(st.Pods.Metrics) {
				mv = st.Pods.Metrics[i]
			}
			if mv.Err == nil {
				valid++
			}
			in.Metrics = append(in.Metrics, mv)
		}
		return valid, nil
	}
	in.Pods = s.synthPods(sc.pods, t.Capacity.Ready, max(0, t.Capacity.Current-t.Capacity.Ready))
	sc.pods = in.Pods
	for i, m := range s.metrics {
		mv := hpa.MetricValues{Samples: sc.samples[i][:0], Values: sc.values[i][:0]}
		pm := s.needs[i].Metric
		k, err := st.seriesIndex(&s.needs[i])
		if err != nil {
			return 0, err
		}
		var ser *provider.Series
		last := -1
		if k >= 0 {
			ser = &st.Metrics[k]
			if err := checkLast(ser, pm, 1, time.Time{}); err != nil {
				return 0, err
			}
			last = ser.LastIndex() // as ser.Last, with one time computed below
		}
		switch {
		case last < 0:
			mv.Err = fmt.Errorf("no %s data", pm)
			if err := st.MetricErrors[pm]; err != nil {
				mv.Err = fmt.Errorf("no %s data: %w", pm, err)
			}
		case freshness(st.Now, ser.TimeAt(last), ser.Step, staleSteps) == 0:
			// A series may cover more history than the strategy's five
			// steps (another strategy's longer need of the metric): a
			// metric no longer published leaves its last value, however
			// old, as the latest. Stale, it is no value: the metric is
			// invalid, as the controller takes a failed metric (no
			// scale down on the others, no decision on it alone).
			mv.Err = errors.New(staleReason(st.Now, ser.TimeAt(last), ser.Step, pm))
		case m.Type == hpa.SourceObject:
			mv.Value, mv.Timestamp = hpa.Milli(ser.Values[last]), ser.TimeAt(last)
		case m.Type == hpa.SourceExternal:
			mv.Values, mv.Timestamp = append(mv.Values, hpa.Milli(ser.Values[last])), ser.TimeAt(last)
		default:
			// Utilizations are fractions: of a 1000m request, v×1000 is
			// v×100 percent. Pods metrics are the per-instance average.
			// One sample, the value of each of the ready instances.
			if t.Capacity.Ready > 0 {
				// The sample of the last step is taken at its end.
				mv.Samples = append(mv.Samples, hpa.Sample{Pod: synthReady, Value: hpa.Milli(ser.Values[last]), Timestamp: ser.TimeAt(last + 1), Window: ser.Step})
			} else {
				mv.Err = fmt.Errorf("no ready instance reports %s", pm)
			}
		}
		if mv.Err == nil {
			valid++
		}
		sc.samples[i], sc.values[i] = mv.Samples[:0], mv.Values[:0] // grown buffers, for the next call
		in.Metrics = append(in.Metrics, mv)
	}
	return valid, nil
}

// sat32 is n as an int32 (the HPA's replica counts), saturated: a
// policy's bound beyond math.MaxInt32 means no bound an HPA has, where
// int32(n) wraps (2³² + 10 to 10).
func sat32(n int) int32 { return int32(clampInt(n, math.MinInt32, math.MaxInt32)) }

// synthStart is the start (and readiness) time of synthesized pods: long
// before any decision, past the CPU initialization period.
var synthStart = time.Unix(0, 0).UTC()

// shareHPAs makes the HPA strategies of a compiled target one strategy
// per name and configuration across the targets of an Autoscaler
// (shared): thousands of targets with one policy then share one
// strategy, its pods and its working spaces, instead of thousands of
// copies whose cache misses dominate a pass over the fleet. A strategy
// holds nothing of a target between two Recommend calls, so sharing it
// changes no decision.
func shareHPAs(c *compiled, shared map[string]*HPA) {
	c.hpa = nil
	for i, cand := range c.candidates {
		h, ok := cand.Strategy.(*HPA)
		if !ok {
			continue
		}
		if cfg, err := json.Marshal(h.cfg); err == nil { // always: the config is plain data
			key := h.name + "\x00" + string(cfg)
			if s, ok := shared[key]; ok {
				h = s
				c.candidates[i].Strategy = s
			} else {
				shared[key] = h
			}
		}
		if c.hpa == nil {
			c.hpa = h
		}
	}
}

// synthPods returns the pods of a group without pods, in dst: its pending
// (launching) instances, then its ready ones (running, Ready since
// synthStart), each kind one entry of identical pods (hpa.Pod.Count), so
// that a decision costs the same for a group of 2 instances or 2,000.
func (s *HPA) synthPods(dst []hpa.Pod, ready, pending int) []hpa.Pod {
	dst = dst[:0]
	if pending > 0 {
		dst = append(dst, hpa.Pod{Name: pendingName(pending), Phase: hpa.PhasePending, Count: int32(min(pending, math.MaxInt32)),
			StartTime: synthStart, ReadyTransition: synthStart, Containers: s.containers})
	}
	if ready > 0 {
		dst = append(dst, hpa.Pod{Name: synthReady, Phase: hpa.PhaseRunning, Ready: hpa.ConditionTrue, Count: int32(min(ready, math.MaxInt32)),
			StartTime: synthStart, ReadyTransition: synthStart, Containers: s.containers})
	}
	return dst
}

// The entries' names are those of their first pod when the strategy
// listed one pod per instance (pending-<n−1> … pending-0, then
// instance-0 …): an error about a pod's container names the same pod.
const synthReady = "instance-0"

// pendingNames are the names of the first of 1 to 64 pending instances.
var pendingNames = func() (names [64]string) {
	for i := range names {
		names[i] = "pending-" + strconv.Itoa(i)
	}
	return names
}()

// pendingName is the name of the first of n > 0 pending instances.
func pendingName(n int) string {
	if n <= len(pendingNames) {
		return pendingNames[n-1]
	}
	return "pending-" + strconv.Itoa(n-1)
}

// history fills in h from the target's History: its own unstabilized
// recommendations within the stabilization windows (preceded by the
// current count at its first decision, as the controller records it;
// a decision without a proposal, NoProposal, records none),
// the target's scale events within the longest policy period, by
// direction, and whether its last rescale took the target to zero. Older
// entries cannot change a decision, so they are not read.
func (s *HPA) history(st *State, sc *hpaScratch, h *hpa.History) {
	*h = hpa.History{Recommendations: h.Recommendations[:0], ScaleUpEvents: h.ScaleUpEvents[:0], ScaleDownEvents: h.ScaleDownEvents[:0]}
	window, period := s.stabilization, s.period
	recs := st.History.Recommendations
	from, own := len(recs), false
	// Now.Sub(At) > window ⇔ At before cutoff; the targets of a pass
	// share their Now, and so their cutoff.
	if sc.cutoffNow != st.Now || !sc.cutoffSet { //nolint:staticcheck // the same readings and location: the same cutoff
		sc.cutoffNow, sc.cutoff, sc.cutoffSet = st.Now, st.Now.Add(-window), true
	}
	cutoff := sc.cutoff
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].Strategy != s.name {
			continue
		}
		own = true
		if recs[i].At.Before(cutoff) {
			break
		}
		from = i
	}
	switch {
	case !own:
		h.Recommendations = nil // the first decision: the controller records the current count
	case h.Recommendations == nil:
		// Not the first decision, even with every record of the strategy
		// older than the window: an empty history, not a nil one (a new
		// scratch's nil buffer read as a first decision, and kept the
		// current count where a reused one scaled down).
		h.Recommendations = make([]hpa.TimedReplicas, 0, 4)
	}
	for i := min(from, len(recs)); i < len(recs); i++ {
		r := &recs[i]
		if r.Strategy != s.name {
			continue
		}
		if r.First {
			h.Recommendations = append(h.Recommendations, hpa.TimedReplicas{Replicas: int32(r.Current), At: r.At})
		}
		if !r.NoProposal {
			h.Recommendations = append(h.Recommendations, hpa.TimedReplicas{Replicas: int32(r.Proposal), At: r.At})
		}
	}
	events := st.History.Changes
	first := len(events)
	for first > 0 && st.Now.Sub(events[first-1].At) <= period {
		first--
	}
	for _, e := range events[first:] {
		switch {
		case e.To.Desired > e.From.Desired:
			h.ScaleUpEvents = append(h.ScaleUpEvents, hpa.ScaleEvent{Change: int32(e.To.Desired - e.From.Desired), At: e.At})
		case e.To.Desired < e.From.Desired:
			h.ScaleDownEvents = append(h.ScaleDownEvents, hpa.ScaleEvent{Change: int32(e.From.Desired - e.To.Desired), At: e.At})
		}
	}
	if n := len(events); n > 0 {
		last := events[n-1]
		h.ScaledToZero = last.Strategy == s.name && !last.Rollback && last.To.Desired == 0 && last.From.Desired > 0 &&
			st.Target.Min == 0 && s.cfg.minZeroAllowed()
	}
}

// hpaWindows returns the windows of c's History: its stabilization
// window (the longer of both directions with behavior, the downscale
// stabilization window without) and its longest scaling policy period
// (0 without behavior).
func hpaWindows(c *hpa.Calculator) (window, period time.Duration) {
	window = c.Config().DownscaleStabilizationWindow
	if b := c.Spec().Behavior; b != nil {
		window = max(*b.ScaleUp.StabilizationWindow, *b.ScaleDown.StabilizationWindow)
		for _, r := range []*hpa.ScalingRules{b.ScaleUp, b.ScaleDown} {
			for _, p := range r.Policies {
				period = max(period, p.Period)
			}
		}
	}
	return window, period
}

// HistoryExtremes implements ExtremesReader: the HPA's stabilization
// reads the highest recommendation of the scale-down window and, with a
// behavior, the lowest of the scale-up window.
func (s *HPA) HistoryExtremes() (highest, lowest bool) {
	return true, s.cfg.Behavior != nil
}

// HistoryWindow implements HistoryWindower: the longer of the
// stabilization window and the longest scaling policy period. Older
// recommendations and changes cannot change a decision (the last change,
// which says whether the target was scaled to zero, is always kept).
func (s *HPA) HistoryWindow() time.Duration { return s.window }

// hpaReason is the reason of an HPA decision d at current replicas,
// followed by suffix, remembered in memo:
//
//	fmt.Sprintf("%s: %d → %d (%s, %s)", d.Reason, current, d.Replicas, d.AbleToScale, d.ScalingLimited)
//
// for a rescale, else
//
//	fmt.Sprintf("no rescale: proposal %d, stabilized %d (%s, %s, %s)", d.Proposal, d.Stabilized, d.ScalingActive, d.AbleToScale, d.ScalingLimited)
//
// built without boxing the arguments (a decision per target per pass),
// and only from the key it is remembered by.
func hpaReason(d *hpa.Decision, current int, suffix string, memo *textMemo[reasonKey]) string {
	k := reasonKey{rescale: d.Rescale, able: d.AbleToScale, limited: d.ScalingLimited, suffix: suffix}
	if d.Rescale {
		k.reason, k.current, k.a = d.Reason, current, d.Replicas
	} else {
		k.active, k.a, k.b = d.ScalingActive, d.Proposal, d.Stabilized
	}
	i := k.slot()
	if s, ok := memo.get(i, &k); ok {
		return s
	}
	var buf [160]byte
	var b []byte
	if k.rescale {
		b = append(append(buf[:0], k.reason...), ": "...)
		b = strconv.AppendInt(b, int64(k.current), 10)
		b = strconv.AppendInt(append(b, " → "...), int64(k.a), 10)
		b = append(b, " ("...)
	} else {
		b = strconv.AppendInt(append(buf[:0], "no rescale: proposal "...), int64(k.a), 10)
		b = strconv.AppendInt(append(b, ", stabilized "...), int64(k.b), 10)
		b = append(append(append(b, " ("...), k.active...), ", "...)
	}
	b = append(append(append(b, k.able...), ", "...), k.limited...)
	return memo.put(i, &k, append(append(b, ')'), k.suffix...))
}

// hpaProviderMetric names the provider metric an HPA metric reads on a
// target without pods.
func hpaProviderMetric(m hpa.MetricSpec) (provider.Metric, error) {
	var name string
	switch m.Type {
	case hpa.SourceResource:
		name = string(m.Resource.Name)
	case hpa.SourceContainerResource:
		name = string(m.ContainerResource.Name)
	case hpa.SourcePods:
		name = m.Pods.Metric.Name
	case hpa.SourceObject:
		name = m.Object.Metric.Name
	case hpa.SourceExternal:
		name = m.External.Metric.Name
	}
	pm := provider.Metric(name)
	if err := pm.Validate(); err != nil {
		return "", provider.Invalid("metric.name", name, "must name a provider metric (cpu, requests, custom/...) for targets without pods")
	}
	return pm, nil
}

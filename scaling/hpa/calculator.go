package hpa

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// The Config defaults: kube-controller-manager's.
const (
	DefaultTolerance                    = 0.1
	DefaultCPUInitializationPeriod      = 5 * time.Minute
	DefaultInitialReadinessDelay        = 30 * time.Second
	DefaultDownscaleStabilizationWindow = 5 * time.Minute
)

// Config holds the controller-wide settings of the HPA (the
// kube-controller-manager flags --horizontal-pod-autoscaler-*). The zero
// value means the defaults.
type Config struct {
	// Tolerance is the relative distance from a target within which
	// nothing changes, in both directions unless a Behavior sets its own.
	// 0 means the default, unlike the flag, where 0 is no tolerance: for
	// none, set both directions' ScalingRules.Tolerance to 0. Default: 0.1.
	Tolerance float64 `json:"tolerance,omitempty" yaml:"tolerance,omitempty"`
	// CPUInitializationPeriod is how long after a pod starts its CPU
	// samples are trusted only if the pod is ready and the sample was
	// taken a whole window after it became ready. Default: 5m.
	CPUInitializationPeriod time.Duration `json:"cpu_initialization_period,omitempty" yaml:"cpu_initialization_period,omitempty"`
	// InitialReadinessDelay is how long after a pod starts an unready pod
	// counts as never ready yet (and its CPU sample is set aside).
	// Default: 30s.
	InitialReadinessDelay time.Duration `json:"initial_readiness_delay,omitempty" yaml:"initial_readiness_delay,omitempty"`
	// DownscaleStabilizationWindow is the scale-down stabilization window
	// of a Spec without Behavior, and of a Behavior whose scale-down window
	// is unset, there in whole seconds (truncated, as the controller fills
	// stabilizationWindowSeconds). 0 means the default, unlike the flag:
	// for no window, set the Behavior's scale-down StabilizationWindow to
	// 0. Default: 5m.
	DownscaleStabilizationWindow time.Duration `json:"downscale_stabilization_window,omitempty" yaml:"downscale_stabilization_window,omitempty"`
	// DisablePodLevelResources turns off pod-level requests (the
	// PodLevelResources feature gate, on by default since Kubernetes 1.34):
	// requests are then always summed over containers. Default: false.
	DisablePodLevelResources bool `json:"disable_pod_level_resources,omitempty" yaml:"disable_pod_level_resources,omitempty"`
}

// Validate returns an error matching provider.ErrInvalid naming a negative
// or non-finite field.
func (c Config) Validate() error {
	switch {
	case math.IsNaN(c.Tolerance) || math.IsInf(c.Tolerance, 0) || c.Tolerance < 0:
		return provider.Invalid("tolerance", c.Tolerance, "must be a finite number ≥ 0")
	case c.CPUInitializationPeriod < 0:
		return provider.Invalid("cpu_initialization_period", c.CPUInitializationPeriod, "must be ≥ 0")
	case c.InitialReadinessDelay < 0:
		return provider.Invalid("initial_readiness_delay", c.InitialReadinessDelay, "must be ≥ 0")
	case c.DownscaleStabilizationWindow < 0:
		return provider.Invalid("downscale_stabilization_window", c.DownscaleStabilizationWindow, "must be ≥ 0")
	}
	return nil
}

// WithDefaults returns c with its zero fields set to the defaults.
func (c Config) WithDefaults() Config {
	if c.Tolerance == 0 {
		c.Tolerance = DefaultTolerance
	}
	if c.CPUInitializationPeriod == 0 {
		c.CPUInitializationPeriod = DefaultCPUInitializationPeriod
	}
	if c.InitialReadinessDelay == 0 {
		c.InitialReadinessDelay = DefaultInitialReadinessDelay
	}
	if c.DownscaleStabilizationWindow == 0 {
		c.DownscaleStabilizationWindow = DefaultDownscaleStabilizationWindow
	}
	return c
}

// behaviorDownscaleWindow is the scale-down window that fills a Behavior's
// unset one: DownscaleStabilizationWindow in whole seconds, as
// maybeInitScaleDownStabilizationWindow converts it
// (int32(window.Seconds()) stabilizationWindowSeconds).
func (c Config) behaviorDownscaleWindow() time.Duration {
	return c.DownscaleStabilizationWindow.Truncate(time.Second)
}

// Tolerances returns the tolerances of a Spec with behavior b (nil for
// none): Config.Tolerance in both directions, replaced by the rules' own.
func (c Config) Tolerances(b *Behavior) Tolerances {
	t := Tolerances{ScaleDown: c.WithDefaults().Tolerance, ScaleUp: c.WithDefaults().Tolerance}
	if b == nil {
		return t
	}
	if b.ScaleDown != nil && b.ScaleDown.Tolerance != nil {
		t.ScaleDown = *b.ScaleDown.Tolerance
	}
	if b.ScaleUp != nil && b.ScaleUp.Tolerance != nil {
		t.ScaleUp = *b.ScaleUp.Tolerance
	}
	return t
}

// Tolerances are the relative distances from a target below and above
// which a metric changes the replica count.
type Tolerances struct {
	// ScaleDown is the tolerance below the target (≥ 0).
	ScaleDown float64 `json:"scale_down"`
	// ScaleUp is the tolerance above the target (≥ 0).
	ScaleUp float64 `json:"scale_up"`
}

// validate checks that both tolerances are finite and ≥ 0.
func (t Tolerances) validate() error {
	if math.IsNaN(t.ScaleDown) || math.IsInf(t.ScaleDown, 0) || t.ScaleDown < 0 {
		return provider.Invalid("scale_down", t.ScaleDown, "must be a finite number ≥ 0")
	}
	if math.IsNaN(t.ScaleUp) || math.IsInf(t.ScaleUp, 0) || t.ScaleUp < 0 {
		return provider.Invalid("scale_up", t.ScaleUp, "must be a finite number ≥ 0")
	}
	return nil
}

// Within reports whether a usage ratio (current/target) lies in
// [1 − ScaleDown, 1 + ScaleUp], where nothing changes.
func (t Tolerances) Within(ratio float64) bool {
	return 1.0-t.ScaleDown <= ratio && ratio <= 1.0+t.ScaleUp
}

// MetricInput is what one metric's calculation reads.
type MetricInput struct {
	// Now is the time of the decision.
	Now time.Time
	// SpecReplicas is the current replica count (scale.spec.replicas).
	SpecReplicas int32
	// StatusReplicas is the observed replica count (scale.status.replicas).
	StatusReplicas int32
	// Tolerances are the metric's tolerances.
	Tolerances Tolerances
	// Pods are the pods the selector matches.
	Pods []Pod
	// Values are the metric's samples or values.
	Values MetricValues
}

// MetricResult is one metric's proposal.
type MetricResult struct {
	// Replicas is the replica count the metric proposes (0 when Err).
	Replicas int32 `json:"replicas"`
	// Utilization is the pods' average utilization in percent of their
	// requests, as Kubernetes reports it (utilization targets only).
	Utilization int32 `json:"utilization,omitempty"`
	// Usage is the metric's current value in milli-units as Kubernetes
	// reports it: the average per pod for resource, pods and per-pod
	// targets, the value (or the sum of the values) for object and
	// external value targets.
	Usage int64 `json:"usage"`
	// Timestamp is when the metric was measured.
	Timestamp time.Time `json:"timestamp,omitzero"`
	// Reason is the HPA condition reason of a failed metric
	// ("FailedGetResourceMetric"); empty when it succeeded.
	Reason string `json:"reason,omitempty"`
	// Err is why the metric has no proposal; nil when it has one.
	Err error `json:"-"`
}

// pod classes (groupPods).
const (
	podReady uint8 = iota
	podUnready
	podMissing
	podIgnored
)

type podInfo struct {
	class   uint8
	n       int   // the pods the entry stands for (Pod.Count, at least 1)
	sample  int   // index into the samples, -1 when none
	request int64 // the pod's request of the resource
}

// Calculator computes the replica count of one HPA spec the way
// Kubernetes' horizontal pod autoscaler does, as pure functions of their
// input (which carries the time): Replicas is the replica calculator with
// the combination of several metrics, Decide adds the controller's bounds
// and normalization (stabilization and rate policies) over a History.
//
// A Calculator keeps working space between calls so that a decision
// allocates nothing. It is not safe for concurrent use; use one per
// goroutine (NewCalculator is cheap). Results it returns that hold slices
// (Proposal.Metrics, Decision.Metrics) are valid until its next call.
type Calculator struct {
	cfg              Config
	spec             Spec
	tol              Tolerances
	objectOrExternal bool
	names            []string // the metrics' names
	aboveTarget      []string // their rescale reasons

	m       matcher
	init    initMemo // cpuUnready's, kept from call to call
	single  []int    // Metric's matches
	pods    []podInfo
	weight  []int // per sample: the pods it stands for, 0 once set aside
	kept    int   // the sum of weight: the samples in the metrics set
	results []MetricResult
}

// NewCalculator returns a Calculator for spec under cfg. It validates both
// and fills in their defaults (Spec.WithDefaults, Config.WithDefaults),
// returning an error matching provider.ErrInvalid that names the wrong
// field. It keeps its own copy of spec: later changes to the caller's
// metrics, sources or bounds do not change the Calculator.
func NewCalculator(cfg Config, spec Spec) (*Calculator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("hpa: config: %w", err)
	}
	spec = spec.clone() // the caller's later changes must not bypass the validation
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("hpa: spec: %w", err)
	}
	cfg = cfg.WithDefaults()
	spec = spec.WithDefaults()
	if spec.Behavior != nil && spec.Behavior.ScaleDown.StabilizationWindow == nil {
		// maybeInitScaleDownStabilizationWindow
		w := cfg.behaviorDownscaleWindow()
		spec.Behavior.ScaleDown.StabilizationWindow = &w
	}
	c := &Calculator{
		cfg:              cfg,
		spec:             spec,
		tol:              cfg.Tolerances(spec.Behavior),
		objectOrExternal: spec.hasObjectOrExternal(),
	}
	for _, m := range spec.Metrics {
		c.names = append(c.names, m.Name())
		c.aboveTarget = append(c.aboveTarget, m.Name()+" above target")
	}
	return c, nil
}

// SetBounds changes the spec's MinReplicas and MaxReplicas, for a caller
// that reuses one Calculator for targets with different bounds. It returns
// an error matching provider.ErrInvalid, and changes nothing, for bounds
// the spec's validation refuses.
func (c *Calculator) SetBounds(minReplicas, maxReplicas int32) error {
	if c.spec.MinReplicas != nil && *c.spec.MinReplicas == minReplicas && c.spec.MaxReplicas == maxReplicas {
		return nil
	}
	// A new pointer only when the bounds change: taking the parameter's
	// address would move it to the heap on every call.
	spec, m := c.spec, new(int32)
	*m = minReplicas
	spec.MinReplicas, spec.MaxReplicas = m, maxReplicas
	if err := spec.validateBounds(); err != nil {
		return fmt.Errorf("hpa: bounds: %w", err)
	}
	c.spec = spec
	return nil
}

// Config returns the configuration with its defaults filled in.
func (c *Calculator) Config() Config { return c.cfg }

// Spec returns the spec with its defaults filled in (do not change it).
func (c *Calculator) Spec() Spec { return c.spec }

// Tolerances returns the spec's tolerances.
func (c *Calculator) Tolerances() Tolerances { return c.tol }

// Metric computes the proposal of the spec's metric i (after defaults)
// from in, as the replica calculator's Get...Replicas functions do. The
// error has the upstream meaning (ErrNoMetrics, ErrNoPods,
// ErrMissingRequest, ...) and the metric's context. A metric whose
// Values.Err is set fails with that error. Invalid input (i out of range,
// a negative replica count, a negative or non-finite tolerance, pods or
// samples Input.Validate refuses) returns an error matching
// provider.ErrInvalid naming it.
func (c *Calculator) Metric(i int, in MetricInput) (MetricResult, error) {
	if i < 0 || i >= len(c.spec.Metrics) {
		return MetricResult{}, provider.Invalid("metric", i, fmt.Sprintf("must be in [0, %d)", len(c.spec.Metrics)))
	}
	if in.SpecReplicas < 0 {
		return MetricResult{}, provider.Invalid("spec_replicas", in.SpecReplicas, "must be ≥ 0")
	}
	if in.StatusReplicas < 0 {
		return MetricResult{}, provider.Invalid("status_replicas", in.StatusReplicas, "must be ≥ 0")
	}
	if err := in.Tolerances.validate(); err != nil {
		return MetricResult{}, provider.Within("tolerances", err)
	}
	if err := c.m.pods(in.Pods); err != nil {
		return MetricResult{}, err
	}
	match, err := c.m.match(in.Pods, in.Values.Samples, c.single)
	c.single = match
	if err != nil {
		return MetricResult{}, provider.Within("values", err)
	}
	return c.metric(&c.spec.Metrics[i], &in, match)
}

// metric dispatches on the metric's type and target, as
// computeReplicasForMetric does (validated input).
// The input is passed by pointer down the calculation (it is read only).
func (c *Calculator) metric(spec *MetricSpec, in *MetricInput, match []int) (MetricResult, error) {
	res := MetricResult{Timestamp: in.Values.Timestamp}
	if len(in.Values.Samples) > 0 {
		res.Timestamp = in.Values.Samples[0].Timestamp
	}
	var err error
	t := spec.Target()
	switch spec.Type {
	case SourceResource, SourceContainerResource:
		name, container := spec.resource()
		res.Reason = "FailedGetResourceMetric"
		if spec.Type == SourceContainerResource {
			res.Reason = "FailedGetContainerResourceMetric"
		}
		if in.Values.Err != nil {
			err = fmt.Errorf("unable to get metrics for resource %s: %w", name, in.Values.Err)
		} else if len(in.Values.Samples) == 0 {
			err = fmt.Errorf("unable to get metrics for resource %s: %w from resource metrics API", name, ErrNoMetrics)
		} else if nerr := negativeUsage(in.Values.Samples); nerr != nil {
			err = fmt.Errorf("unable to get metrics for resource %s: %w", name, nerr)
		} else if t.Type == TargetAverageValue {
			res.Replicas, res.Usage, err = c.plain(in, match, name, Milli(t.AverageValue))
		} else {
			res.Replicas, res.Utilization, res.Usage, err = c.resourceUtilization(in, match, name, container, t.AverageUtilization)
		}
		if err != nil {
			err = fmt.Errorf("failed to get %s usage: %w", name, err)
		}
	case SourcePods:
		res.Reason = "FailedGetPodsMetric"
		if in.Values.Err != nil {
			err = fmt.Errorf("unable to get metric %s: %w", spec.Pods.Metric.Name, in.Values.Err)
		} else if len(in.Values.Samples) == 0 {
			err = fmt.Errorf("unable to get metric %s: %w from custom metrics API", spec.Pods.Metric.Name, ErrNoMetrics)
		} else {
			res.Replicas, res.Usage, err = c.plain(in, match, "", Milli(t.AverageValue))
		}
	case SourceObject:
		res.Reason = "FailedGetObjectMetric"
		if in.Values.Err != nil {
			err = fmt.Errorf("unable to get metric %s on %s %s: %w", spec.Object.Metric.Name, spec.Object.DescribedObject.Kind, spec.Object.DescribedObject.Name, in.Values.Err)
		} else if t.Type == TargetValue {
			res.Replicas, err = c.usageRatioReplicas(in, float64(in.Values.Value)/float64(Milli(t.Value)))
			res.Usage = in.Values.Value
		} else {
			res.Replicas, res.Usage = perPodReplicas(in, in.Values.Value, Milli(t.AverageValue), false)
		}
	case SourceExternal:
		res.Reason = "FailedGetExternalMetric"
		if in.Values.Err != nil {
			err = fmt.Errorf("unable to get external metric %s: %w", spec.External.Metric.Name, in.Values.Err)
		} else if len(in.Values.Values) == 0 {
			err = fmt.Errorf("unable to get external metric %s: %w from external metrics API", spec.External.Metric.Name, ErrNoMetrics)
		} else if t.Type == TargetAverageValue {
			res.Replicas, res.Usage = perPodReplicas(in, sumPerPod(in.Values.Values), Milli(t.AverageValue), true)
		} else {
			res.Usage = sumCapped(in.Values.Values)
			res.Replicas, err = c.usageRatioReplicas(in, float64(res.Usage)/float64(Milli(t.Value)))
		}
	}
	if err != nil {
		return MetricResult{Reason: res.Reason, Err: err}, err
	}
	res.Reason = ""
	return res, nil
}

// resource returns the resource and container of a (container) resource
// metric.
func (m MetricSpec) resource() (ResourceName, string) {
	if m.Type == SourceContainerResource {
		return m.ContainerResource.Name, m.ContainerResource.Container
	}
	return m.Resource.Name, ""
}

// group classifies every pod as groupPods does and weighs the samples
// once the ignored and unready pods' samples are removed: a sample stands
// for as many pods as its pod entry (one for a sample of no listed pod),
// and for none once removed. match holds each pod's sample index (-1 for
// none). It returns the ready pod count and the numbers of unready and
// missing pods, each entry counting its Count.
func (c *Calculator) group(in *MetricInput, match []int, resource ResourceName) (ready, unready, missing int) {
	samples := in.Values.Samples
	c.pods = c.pods[:0]
	c.weight = slices.Grow(c.weight[:0], len(samples))[:len(samples)]
	for i := range c.weight {
		c.weight[i] = 1
	}
	c.kept = len(samples)
	cpu := resource == ResourceCPU
	for i := range in.Pods {
		p := &in.Pods[i]
		info := podInfo{n: p.count(), sample: match[i]}
		switch {
		case p.Deleting || p.Phase == PhaseFailed:
			info.class = podIgnored
		case p.Phase == PhasePending:
			info.class = podUnready
		case info.sample < 0:
			info.class = podMissing
		case cpu && c.cpuUnready(p, &samples[info.sample], in.Now, &c.init):
			info.class = podUnready
		default:
			info.class = podReady
		}
		switch info.class {
		case podIgnored, podUnready:
			if info.sample >= 0 {
				c.kept -= c.weight[info.sample]
				c.weight[info.sample] = 0
			}
			if info.class == podUnready {
				unready += info.n
			}
		case podMissing:
			missing += info.n
		default:
			ready += info.n
			c.kept += info.n - c.weight[info.sample]
			c.weight[info.sample] = info.n
		}
		c.pods = append(c.pods, info)
	}
	return ready, unready, missing
}

// cpuUnready reports whether a running pod's CPU sample must be set aside:
// no Ready condition or start time; within the initialization period,
// unready or sampled less than a window after becoming ready; after it,
// unready and never ready since it started. (StartTime + period is not
// StartTime compared with now − period: Add saturates at the ends of
// time, where the two differ.)
func (c *Calculator) cpuUnready(p *Pod, s *Sample, now time.Time, m *initMemo) bool {
	if p.Ready == "" || p.StartTime.IsZero() {
		return true
	}
	if !m.ok || m.start != p.StartTime || m.now != now { //nolint:staticcheck // the same wall and monotonic readings and locations: the same answer
		m.start, m.now, m.within, m.ok = p.StartTime, now, p.StartTime.Add(c.cfg.CPUInitializationPeriod).After(now), true
	}
	if m.within {
		return p.Ready == ConditionFalse || s.Timestamp.Before(p.ReadyTransition.Add(s.Window))
	}
	return p.Ready == ConditionFalse && p.StartTime.Add(c.cfg.InitialReadinessDelay).After(p.ReadyTransition)
}

// initMemo remembers whether the last start time seen is within the CPU
// initialization period at the last now (StartTime + period after now),
// for the next pod with the same start time at the same now: the pods of
// one rollout, or those the scaling package synthesizes, share theirs,
// and a Calculator shared by the targets of a pass sees one now.
type initMemo struct {
	start  time.Time
	now    time.Time
	within bool
	ok     bool
}

// negativeUsage returns an error naming the first sample (and its pod)
// whose value is negative: a resource's usage, which no metrics API
// reports below 0. Kubernetes sums such a value into the utilization (a
// negative one scales the target in to its minimum); the calculator
// refuses it, and the metric is invalid for the decision.
func negativeUsage(samples []Sample) error {
	for j := range samples {
		if s := &samples[j]; s.Value < 0 {
			return provider.Invalid(fmt.Sprintf("samples[%d].value", j), s.Value,
				fmt.Sprintf("pod %s: a resource's usage must be ≥ 0 (milli-units)", s.Pod))
		}
	}
	return nil
}

// resourceUtilization is GetResourceReplicas: a utilization target in
// percent of the pods' requests.
func (c *Calculator) resourceUtilization(in *MetricInput, match []int, resource ResourceName, container string, target int32) (replicas, utilization int32, raw int64, err error) {
	if len(in.Pods) == 0 {
		return 0, 0, 0, ErrNoPods
	}
	ready, unready, missing := c.group(in, match, resource)
	kept := c.kept
	if kept == 0 {
		return 0, 0, 0, ErrNoReadyMetrics
	}
	var last *Pod // the last pod whose request was read
	for i := range in.Pods {
		p := &in.Pods[i]
		if last != nil && sameRequests(last, p) {
			c.pods[i].request = c.pods[i-1].request
			continue
		}
		r, err := c.request(p, container, resource)
		if err != nil {
			return 0, 0, 0, err
		}
		c.pods[i].request, last = r, p
	}
	// First pass: the samples of ready pods (and of unlisted pods, which
	// have no request and do not count).
	var total, requests int64
	entries := 0
	for _, p := range c.pods {
		if p.sample >= 0 && c.weight[p.sample] > 0 {
			// n pods' values and requests: n additions of the same
			// value, with the same wrap-around as n additions.
			total += in.Values.Samples[p.sample].Value * int64(p.n)
			requests += p.request * int64(p.n)
			entries += p.n
		}
	}
	if requests == 0 {
		return 0, 0, 0, ErrNoMatchingMetrics
	}
	utilization = int32((total * 100) / requests)
	raw = total / int64(entries)
	ratio := float64(utilization) / float64(target)

	scaleUpWithUnready := unready > 0 && ratio > 1.0
	if !scaleUpWithUnready && missing == 0 {
		if in.Tolerances.Within(ratio) {
			return in.SpecReplicas, utilization, raw, nil
		}
		return ceilReplicas(ratio * float64(ready)), utilization, raw, nil
	}
	// Second pass: missing pods at 100 % of their request (or the target,
	// above 100 %) on a scale down and at 0 on a scale up; unready pods at
	// 0 on a scale up.
	fallback := int64(max(100, target))
	fillMissing := missing > 0 && ratio != 1.0
	for _, p := range c.pods {
		switch {
		case p.class == podMissing && fillMissing:
			if ratio < 1.0 {
				total += p.request * fallback / 100 * int64(p.n)
			}
			requests += p.request * int64(p.n)
			kept += p.n
		case p.class == podUnready && scaleUpWithUnready:
			requests += p.request * int64(p.n)
			kept += p.n
		}
	}
	if requests == 0 {
		return 0, utilization, raw, ErrNoMatchingMetrics
	}
	newRatio := float64(int32((total*100)/requests)) / float64(target)
	if in.Tolerances.Within(newRatio) || (ratio < 1.0 && newRatio > 1.0) || (ratio > 1.0 && newRatio < 1.0) {
		return in.SpecReplicas, utilization, raw, nil
	}
	replicas = ceilReplicas(newRatio * float64(kept))
	if (newRatio < 1.0 && replicas > in.SpecReplicas) || (newRatio > 1.0 && replicas < in.SpecReplicas) {
		return in.SpecReplicas, utilization, raw, nil
	}
	return replicas, utilization, raw, nil
}

// plain is calcPlainMetricReplicas: an average value target over the
// pods' samples (a pods metric, or a resource's average value).
func (c *Calculator) plain(in *MetricInput, match []int, resource ResourceName, target int64) (replicas int32, usage int64, err error) {
	if len(in.Pods) == 0 {
		return 0, 0, ErrNoPods
	}
	ready, unready, missing := c.group(in, match, resource)
	kept := c.kept
	if kept == 0 {
		return 0, 0, ErrNoReadyMetrics
	}
	var total int64
	for j, w := range c.weight {
		total += in.Values.Samples[j].Value * int64(w) // w additions of the value
	}
	usage = total / int64(kept)
	ratio := float64(usage) / float64(target)

	scaleUpWithUnready := unready > 0 && ratio > 1.0
	if !scaleUpWithUnready && missing == 0 {
		if in.Tolerances.Within(ratio) {
			return in.SpecReplicas, usage, nil
		}
		return ceilReplicas(ratio * float64(ready)), usage, nil
	}
	fillMissing := missing > 0 && ratio != 1.0
	for _, p := range c.pods {
		switch {
		case p.class == podMissing && fillMissing:
			if ratio < 1.0 {
				total += target * int64(p.n)
			}
			kept += p.n
		case p.class == podUnready && scaleUpWithUnready:
			kept += p.n
		}
	}
	newRatio := float64(total/int64(kept)) / float64(target)
	if in.Tolerances.Within(newRatio) || (ratio < 1.0 && newRatio > 1.0) || (ratio > 1.0 && newRatio < 1.0) {
		return in.SpecReplicas, usage, nil
	}
	replicas = ceilReplicas(newRatio * float64(kept))
	if (newRatio < 1.0 && replicas > in.SpecReplicas) || (newRatio > 1.0 && replicas < in.SpecReplicas) {
		return in.SpecReplicas, usage, nil
	}
	return replicas, usage, nil
}

// usageRatioReplicas is getUsageRatioReplicaCount: an object or external
// value target, scaled by the ready pods; from zero replicas the ratio
// alone.
func (c *Calculator) usageRatioReplicas(in *MetricInput, ratio float64) (int32, error) {
	if in.SpecReplicas == 0 {
		return ceilReplicas(ratio), nil
	}
	if in.Tolerances.Within(ratio) {
		return in.SpecReplicas, nil
	}
	if len(in.Pods) == 0 {
		return 0, fmt.Errorf("unable to calculate ready pods: %w", ErrNoPods)
	}
	ready := 0
	for i := range in.Pods {
		if in.Pods[i].readyAndRunning() {
			ready += in.Pods[i].count()
		}
	}
	return ceilReplicas(ratio * float64(ready)), nil
}

// perPodReplicas is GetObjectPerPodMetricReplicas and
// GetExternalPerPodMetricReplicas: an average value target per replica,
// counted against scale.status.replicas.
func perPodReplicas(in *MetricInput, usage, target int64, external bool) (int32, int64) {
	replicas := in.StatusReplicas
	ratio := float64(usage) / (float64(target) * float64(replicas))
	if !in.Tolerances.Within(ratio) {
		replicas = ceilReplicas(float64(usage) / float64(target))
	}
	switch {
	case external && float64(usage) >= float64(math.MaxInt64):
		return replicas, math.MaxInt64
	case in.StatusReplicas == 0:
		// Kubernetes divides by zero here and reports a platform-defined
		// value; report the whole usage instead.
		return replicas, usage
	}
	return replicas, int64(math.Ceil(float64(usage) / float64(in.StatusReplicas)))
}

// sumCapped sums an external metric's values, saturating at MaxInt64 on a
// positive overflow (GetExternalMetricReplicas).
func sumCapped(values []int64) int64 {
	var sum int64
	for _, v := range values {
		if v > 0 && sum > math.MaxInt64-v {
			return math.MaxInt64
		}
		sum += v
	}
	return sum
}

// sumPerPod sums an external metric's values for a per-pod target,
// saturating at MaxInt64 once the sum turns negative
// (GetExternalPerPodMetricReplicas).
func sumPerPod(values []int64) int64 {
	var sum int64
	for _, v := range values {
		sum += v
		if sum < 0 {
			return math.MaxInt64
		}
	}
	return sum
}

// ceilReplicas rounds x up to a replica count, saturating at MaxInt32 (and
// at 0 below), where Kubernetes' int32 conversion is platform-defined.
func ceilReplicas(x float64) int32 {
	if math.IsNaN(x) {
		return 0
	}
	return max(0, toInt32(math.Ceil(x)))
}

// request returns the pod's request of resource as calculateRequests does:
// the named container's, else the pod-level request when the pod sets
// one, else the sum over its containers and restartable init containers.
func (c *Calculator) request(p *Pod, container string, resource ResourceName) (int64, error) {
	if !c.cfg.DisablePodLevelResources && container == "" && podLevelSet(p) {
		v, ok := podRequests(p, resource)
		if v < 0 {
			return 0, negativeRequest(p, resource, v)
		}
		if !ok {
			return 0, fmt.Errorf("%w: missing pod-level request for %s in Pod %s", ErrMissingRequest, resource, p.Name)
		}
		return v, nil
	}
	var sum int64
	for k := range len(p.Containers) + len(p.InitContainers) {
		var ct *Container
		if k < len(p.Containers) {
			ct = &p.Containers[k]
		} else {
			ct = &p.InitContainers[k-len(p.Containers)]
			if !ct.RestartAlways {
				continue
			}
		}
		if container == "" || container == ct.Name {
			v, ok := ct.Requests[resource]
			if !ok {
				return 0, fmt.Errorf("%w for %s in container %s of Pod %s", ErrMissingRequest, resource, ct.Name, p.Name)
			}
			if v < 0 {
				return 0, negativeRequest(p, resource, v)
			}
			sum += v
		}
		if container == ct.Name {
			return sum, nil
		}
	}
	if container != "" {
		return 0, fmt.Errorf("%w: container %s not found in Pod %s", ErrContainerNotFound, container, p.Name)
	}
	return sum, nil
}

// sameRequests reports whether pods a and b request the same for certain:
// neither sets pod-level requests, and they share their containers'
// slices (the same memory: pods synthesized from one template, as the
// scaling package's are). request then reads the same for both.
func sameRequests(a, b *Pod) bool {
	return len(a.Requests) == 0 && len(b.Requests) == 0 &&
		sameSlice(a.Containers, b.Containers) && sameSlice(a.InitContainers, b.InitContainers)
}

// sameSlice reports whether a and b are the same slice of memory.
func sameSlice(a, b []Container) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// negativeRequest is the error of a negative request read from a pod.
func negativeRequest(p *Pod, r ResourceName, v int64) error {
	return provider.Invalid("requests", v, fmt.Sprintf("pod %s requests a negative quantity of %s", p.Name, r))
}

// podLevelSet reports whether the pod requests a pod-level resource
// (IsPodLevelRequestsSet).
func podLevelSet(p *Pod) bool {
	if len(p.Requests) == 0 {
		return false
	}
	for r := range p.Requests {
		if r.podLevel() {
			return true
		}
	}
	return false
}

// podRequests is component-helpers' PodRequests for one resource of the
// pod's spec: the containers' requests aggregated with the init
// containers' (sidecars add, others take the maximum), replaced by the
// pod-level request when set, plus the overhead. ok is false when nothing
// requests the resource.
func podRequests(p *Pod, r ResourceName) (v int64, ok bool) {
	for _, ct := range p.Containers {
		if q, has := ct.Requests[r]; has {
			v, ok = v+q, true
		}
	}
	var side, initMax int64
	hasSide, hasInit := false, false
	for _, ct := range p.InitContainers {
		q, has := ct.Requests[r]
		var use int64
		useOK := false
		if ct.RestartAlways {
			if has {
				v, ok = v+q, true
				side, hasSide = side+q, true
			}
			use, useOK = side, hasSide
		} else {
			if has {
				use, useOK = q, true
			}
			if hasSide {
				use, useOK = use+side, true
			}
		}
		if useOK && (!hasInit || use > initMax) {
			initMax, hasInit = use, true
		}
	}
	if hasInit && (!ok || initMax > v) {
		v, ok = initMax, true
	}
	if q, has := p.Requests[r]; has && r.podLevel() {
		v, ok = q, true
	}
	if q, has := p.Overhead[r]; has {
		v, ok = v+q, true
	}
	return v, ok
}

package hpa

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/idlescale/idlescale/internal/enumtext"
	"github.com/idlescale/idlescale/provider"
)

// DefaultCPUUtilization is the target of the metric an empty Spec.Metrics
// defaults to: CPU at 80 % of the pods' requests (autoscaling/v2 defaults).
const DefaultCPUUtilization = 80

// The API's bounds on behavior (autoscaling validation).
const (
	// MaxStabilizationWindow is the longest ScalingRules.StabilizationWindow: 1h.
	MaxStabilizationWindow = time.Hour
	// MaxPolicyPeriod is the longest ScalingPolicy.Period: 30m.
	MaxPolicyPeriod = 30 * time.Minute
)

// Spec is what a HorizontalPodAutoscaler (autoscaling/v2) asks for, without
// its scale target reference: replica bounds, metrics and behavior. Field
// names follow the Kubernetes API in snake case; durations are
// time.Duration (stabilization_window: 5m) instead of whole seconds.
type Spec struct {
	// MinReplicas is the lowest replica count the autoscaler may set.
	// nil means 1 (the API default). 0 is allowed only with an object or
	// external metric (scaling to zero).
	MinReplicas *int32 `json:"min_replicas,omitempty" yaml:"min_replicas,omitempty"`
	// MaxReplicas is the highest replica count. Required, ≥ 1 and ≥
	// MinReplicas.
	MaxReplicas int32 `json:"max_replicas" yaml:"max_replicas"`
	// Metrics are the metrics whose proposals are combined (the largest
	// wins). Empty means one metric: CPU utilization at 80 % of requests.
	Metrics []MetricSpec `json:"metrics,omitempty" yaml:"metrics,omitempty"`
	// Behavior configures scaling up and down (stabilization windows and
	// rate policies). nil selects the legacy normalization: a 5-minute
	// scale-down stabilization (Config.DownscaleStabilizationWindow) and a
	// scale-up limit of max(2 × current, 4).
	Behavior *Behavior `json:"behavior,omitempty" yaml:"behavior,omitempty"`
}

// Min returns MinReplicas, or 1 when it is nil.
func (s Spec) Min() int32 {
	if s.MinReplicas == nil {
		return 1
	}
	return *s.MinReplicas
}

// WithDefaults returns s as the API server stores it: the default metric
// when none is given, and every unset field of Behavior filled in (see
// Behavior.WithDefaults). It does not change s.
func (s Spec) WithDefaults() Spec {
	if len(s.Metrics) == 0 {
		s.Metrics = []MetricSpec{DefaultMetric()}
	}
	if s.Behavior != nil {
		b := s.Behavior.WithDefaults()
		s.Behavior = &b
	}
	return s
}

// clone returns s with copies of its minimum and metrics (their sources
// too), which the caller's later changes to s do not reach. (WithDefaults
// copies the behavior.)
func (s Spec) clone() Spec {
	if s.MinReplicas != nil {
		m := *s.MinReplicas
		s.MinReplicas = &m
	}
	s.Metrics = slices.Clone(s.Metrics)
	for i := range s.Metrics {
		s.Metrics[i] = s.Metrics[i].Clone()
	}
	return s
}

// Clone returns m with a copy of its source (and of the source's metric
// selector), which later changes to m do not reach.
func (m MetricSpec) Clone() MetricSpec {
	if m.Resource != nil {
		r := *m.Resource
		m.Resource = &r
	}
	if m.ContainerResource != nil {
		r := *m.ContainerResource
		m.ContainerResource = &r
	}
	if m.Pods != nil {
		p := *m.Pods
		p.Metric.Selector = maps.Clone(p.Metric.Selector)
		m.Pods = &p
	}
	if m.Object != nil {
		o := *m.Object
		o.Metric.Selector = maps.Clone(o.Metric.Selector)
		m.Object = &o
	}
	if m.External != nil {
		e := *m.External
		e.Metric.Selector = maps.Clone(e.Metric.Selector)
		m.External = &e
	}
	return m
}

// DefaultMetric returns the metric an empty Spec.Metrics means: CPU
// utilization at DefaultCPUUtilization percent of the pods' requests.
func DefaultMetric() MetricSpec {
	return MetricSpec{Type: SourceResource, Resource: &ResourceMetricSource{
		Name:   ResourceCPU,
		Target: MetricTarget{Type: TargetUtilization, AverageUtilization: DefaultCPUUtilization},
	}}
}

// Validate returns an error matching provider.ErrInvalid naming the first
// wrong field, as the API server's validation would ("metrics[1].pods.target.type").
func (s Spec) Validate() error {
	for i, m := range s.Metrics {
		if err := m.Validate(); err != nil {
			return provider.Within(fmt.Sprintf("metrics[%d]", i), err)
		}
	}
	if err := s.validateBounds(); err != nil {
		return err
	}
	if s.Behavior != nil {
		if err := s.Behavior.Validate(); err != nil {
			return provider.Within("behavior", err)
		}
	}
	return nil
}

// validateBounds checks MinReplicas and MaxReplicas.
func (s Spec) validateBounds() error {
	if s.MinReplicas != nil && *s.MinReplicas < 0 {
		return provider.Invalid("min_replicas", *s.MinReplicas, "must be ≥ 0")
	}
	if s.MaxReplicas < 1 {
		return provider.Invalid("max_replicas", s.MaxReplicas, "must be set and ≥ 1")
	}
	if s.MaxReplicas < s.Min() {
		return provider.Invalid("max_replicas", s.MaxReplicas, fmt.Sprintf("must be ≥ min_replicas %d", s.Min()))
	}
	if s.Min() == 0 && !s.hasObjectOrExternal() {
		return provider.Invalid("min_replicas", 0, "0 needs at least one object or external metric (scaling to zero)")
	}
	return nil
}

// hasObjectOrExternal reports whether any metric is an object or external
// metric, the ones that can scale a workload up from zero.
func (s Spec) hasObjectOrExternal() bool {
	for _, m := range s.Metrics {
		if m.Type == SourceObject || m.Type == SourceExternal {
			return true
		}
	}
	return false
}

// SourceType is the kind of a metric: a typed string whose values are the
// autoscaling/v2 MetricSourceType names in snake case. The empty value is
// unset, which Validate refuses.
type SourceType string

// The metric source types.
const (
	SourceResource          SourceType = "resource"           // a resource (cpu, memory) of the pods, against their requests
	SourceContainerResource SourceType = "container_resource" // a resource of one container of each pod
	SourcePods              SourceType = "pods"               // a custom metric of each pod, averaged
	SourceObject            SourceType = "object"             // a custom metric of one Kubernetes object
	SourceExternal          SourceType = "external"           // a metric from outside the cluster
)

// String returns the type's name.
func (t SourceType) String() string { return string(t) }

// Validate returns an error matching provider.ErrInvalid, naming the
// value, unless t is a known SourceType.
func (t SourceType) Validate() error {
	switch t {
	case SourceResource, SourceContainerResource, SourcePods, SourceObject, SourceExternal:
		return nil
	}
	return provider.Invalid("type", string(t), "must be one of resource, container_resource, pods, object, external")
}

// MarshalText encodes t as its name (empty when unset); an unknown value is
// an error.
func (t SourceType) MarshalText() ([]byte, error) { return enumtext.Marshal(t, SourceType.Validate) }

// UnmarshalText decodes a known name or empty text; other text is an error
// matching provider.ErrInvalid naming it.
func (t *SourceType) UnmarshalText(b []byte) error {
	return enumtext.Unmarshal(t, b, SourceType.Validate)
}

// TargetType says what a MetricTarget compares: a typed string whose
// values are the autoscaling/v2 MetricTargetType names in snake case.
type TargetType string

// The target types.
const (
	TargetUtilization  TargetType = "utilization"   // average percent of the pods' requests (resource metrics)
	TargetValue        TargetType = "value"         // the metric's value (object, external)
	TargetAverageValue TargetType = "average_value" // the metric's value divided by the number of pods
)

// String returns the type's name.
func (t TargetType) String() string { return string(t) }

// Validate returns an error matching provider.ErrInvalid, naming the
// value, unless t is a known TargetType.
func (t TargetType) Validate() error {
	switch t {
	case TargetUtilization, TargetValue, TargetAverageValue:
		return nil
	}
	return provider.Invalid("type", string(t), "must be one of utilization, value, average_value")
}

// MarshalText encodes t as its name (empty when unset); an unknown value is
// an error.
func (t TargetType) MarshalText() ([]byte, error) { return enumtext.Marshal(t, TargetType.Validate) }

// UnmarshalText decodes a known name or empty text; other text is an error
// matching provider.ErrInvalid naming it.
func (t *TargetType) UnmarshalText(b []byte) error {
	return enumtext.Unmarshal(t, b, TargetType.Validate)
}

// MetricSpec is one metric of a Spec: its Type and the matching source.
// Exactly the source named by Type is set.
type MetricSpec struct {
	// Type is the kind of metric. Required.
	Type SourceType `json:"type" yaml:"type"`
	// Resource is set for SourceResource.
	Resource *ResourceMetricSource `json:"resource,omitempty" yaml:"resource,omitempty"`
	// ContainerResource is set for SourceContainerResource.
	ContainerResource *ContainerResourceMetricSource `json:"container_resource,omitempty" yaml:"container_resource,omitempty"`
	// Pods is set for SourcePods.
	Pods *PodsMetricSource `json:"pods,omitempty" yaml:"pods,omitempty"`
	// Object is set for SourceObject.
	Object *ObjectMetricSource `json:"object,omitempty" yaml:"object,omitempty"`
	// External is set for SourceExternal.
	External *ExternalMetricSource `json:"external,omitempty" yaml:"external,omitempty"`
}

// Target returns the metric's target, or the zero MetricTarget when the
// source named by Type is not set.
func (m MetricSpec) Target() MetricTarget {
	switch {
	case m.Type == SourceResource && m.Resource != nil:
		return m.Resource.Target
	case m.Type == SourceContainerResource && m.ContainerResource != nil:
		return m.ContainerResource.Target
	case m.Type == SourcePods && m.Pods != nil:
		return m.Pods.Target
	case m.Type == SourceObject && m.Object != nil:
		return m.Object.Target
	case m.Type == SourceExternal && m.External != nil:
		return m.External.Target
	}
	return MetricTarget{}
}

// Name returns the metric's description as the HPA controller reports it,
// such as "cpu resource utilization (percentage of request)" or "pods metric
// qps". A metric whose source named by Type is not set (one Validate
// refuses) is named by its type alone.
func (m MetricSpec) Name() string {
	t := m.Target()
	switch {
	case !m.sourceSet():
		return string(m.Type)
	case m.Type == SourceResource:
		if t.Type == TargetAverageValue {
			return string(m.Resource.Name) + " resource"
		}
		return string(m.Resource.Name) + " resource utilization (percentage of request)"
	case m.Type == SourceContainerResource:
		if t.Type == TargetAverageValue {
			return string(m.ContainerResource.Name) + " resource"
		}
		return string(m.ContainerResource.Name) + " container resource utilization (percentage of request)"
	case m.Type == SourcePods:
		return "pods metric " + m.Pods.Metric.Name
	case m.Type == SourceObject:
		if t.Type == TargetAverageValue {
			return "external metric " + m.Object.Metric.Name
		}
		return m.Object.DescribedObject.Kind + " metric " + m.Object.Metric.Name
	case m.Type == SourceExternal:
		return "external metric " + m.External.Metric.Name
	}
	return string(m.Type)
}

// sourceSet reports whether the source named by Type is set.
func (m MetricSpec) sourceSet() bool {
	switch m.Type {
	case SourceResource:
		return m.Resource != nil
	case SourceContainerResource:
		return m.ContainerResource != nil
	case SourcePods:
		return m.Pods != nil
	case SourceObject:
		return m.Object != nil
	case SourceExternal:
		return m.External != nil
	}
	return false
}

// Validate checks that the source named by Type, and only it, is set and
// that its target is one the API accepts for that type.
func (m MetricSpec) Validate() error {
	if err := m.Type.Validate(); err != nil {
		return err
	}
	set := 0
	for _, p := range []bool{m.Resource != nil, m.ContainerResource != nil, m.Pods != nil, m.Object != nil, m.External != nil} {
		if p {
			set++
		}
	}
	if set != 1 {
		return provider.Invalid(string(m.Type), nil, "exactly the source named by type must be set")
	}
	var (
		field   = string(m.Type)
		allowed []TargetType
		err     error
	)
	switch m.Type {
	case SourceResource:
		if m.Resource == nil {
			return provider.Invalid(field, nil, "is required for type resource")
		}
		err = m.Resource.Name.validate("name")
		allowed = []TargetType{TargetUtilization, TargetAverageValue}
	case SourceContainerResource:
		if m.ContainerResource == nil {
			return provider.Invalid(field, nil, "is required for type container_resource")
		}
		err = m.ContainerResource.Name.validate("name")
		if err == nil && m.ContainerResource.Container == "" {
			err = provider.Invalid("container", "", "is required")
		}
		allowed = []TargetType{TargetUtilization, TargetAverageValue}
	case SourcePods:
		if m.Pods == nil {
			return provider.Invalid(field, nil, "is required for type pods")
		}
		err = m.Pods.Metric.validate()
		allowed = []TargetType{TargetAverageValue}
	case SourceObject:
		if m.Object == nil {
			return provider.Invalid(field, nil, "is required for type object")
		}
		err = m.Object.Metric.validate()
		if err == nil && (m.Object.DescribedObject.Kind == "" || m.Object.DescribedObject.Name == "") {
			err = provider.Invalid("described_object", m.Object.DescribedObject, "kind and name are required")
		}
		allowed = []TargetType{TargetValue, TargetAverageValue}
	case SourceExternal:
		if m.External == nil {
			return provider.Invalid(field, nil, "is required for type external")
		}
		err = m.External.Metric.validate()
		allowed = []TargetType{TargetValue, TargetAverageValue}
	}
	if err != nil {
		return provider.Within(field, err)
	}
	if err := m.Target().validate(allowed); err != nil {
		return provider.Within(field+".target", err)
	}
	return nil
}

// ResourceMetricSource targets a resource of the pods (the sum over their
// containers).
type ResourceMetricSource struct {
	// Name is the resource, such as cpu or memory. Required.
	Name ResourceName `json:"name" yaml:"name"`
	// Target is utilization or average_value.
	Target MetricTarget `json:"target" yaml:"target"`
}

// ContainerResourceMetricSource targets a resource of one named container
// of each pod.
type ContainerResourceMetricSource struct {
	// Name is the resource, such as cpu or memory. Required.
	Name ResourceName `json:"name" yaml:"name"`
	// Container is the container's name. Required.
	Container string `json:"container" yaml:"container"`
	// Target is utilization or average_value.
	Target MetricTarget `json:"target" yaml:"target"`
}

// MetricIdentifier names a custom or external metric.
type MetricIdentifier struct {
	// Name is the metric's name. Required.
	Name string `json:"name" yaml:"name"`
	// Selector narrows the metric's series (label=value), as the metrics
	// API's label selector does. It is passed to the source that reads the
	// metric; the calculator does not interpret it.
	Selector map[string]string `json:"selector,omitempty" yaml:"selector,omitempty"`
}

func (id MetricIdentifier) validate() error {
	if id.Name == "" {
		return provider.Invalid("metric.name", "", "is required")
	}
	return nil
}

// PodsMetricSource targets a custom metric of each pod, averaged over the
// pods.
type PodsMetricSource struct {
	// Metric names the metric.
	Metric MetricIdentifier `json:"metric" yaml:"metric"`
	// Target must be average_value.
	Target MetricTarget `json:"target" yaml:"target"`
}

// ObjectReference names a Kubernetes object (or any object the host's
// metric source knows).
type ObjectReference struct {
	// Kind is the object's kind, such as Ingress. Required.
	Kind string `json:"kind" yaml:"kind"`
	// Name is the object's name. Required.
	Name string `json:"name" yaml:"name"`
	// APIVersion is the object's API version, such as networking.k8s.io/v1.
	APIVersion string `json:"api_version,omitempty" yaml:"api_version,omitempty"`
}

// ObjectMetricSource targets a metric of one object.
type ObjectMetricSource struct {
	// DescribedObject is the object the metric describes.
	DescribedObject ObjectReference `json:"described_object" yaml:"described_object"`
	// Metric names the metric.
	Metric MetricIdentifier `json:"metric" yaml:"metric"`
	// Target is value or average_value (the value divided by the current
	// replica count).
	Target MetricTarget `json:"target" yaml:"target"`
}

// ExternalMetricSource targets a metric from outside the cluster (a queue
// length, a load balancer's request rate). When it has several series,
// their values are summed.
type ExternalMetricSource struct {
	// Metric names the metric.
	Metric MetricIdentifier `json:"metric" yaml:"metric"`
	// Target is value or average_value.
	Target MetricTarget `json:"target" yaml:"target"`
}

// MetricTarget is the value a metric should have.
type MetricTarget struct {
	// Type says which of the fields below is the target. Required.
	Type TargetType `json:"type" yaml:"type"`
	// Value is the target value of the metric, in its unit (> 0) for
	// TargetValue.
	Value float64 `json:"value,omitempty" yaml:"value,omitempty"`
	// AverageValue is the target value per pod, in the metric's unit (> 0)
	// for TargetAverageValue.
	AverageValue float64 `json:"average_value,omitempty" yaml:"average_value,omitempty"`
	// AverageUtilization is the target percent of the pods' requests
	// (≥ 1; may exceed 100) for TargetUtilization.
	AverageUtilization int32 `json:"average_utilization,omitempty" yaml:"average_utilization,omitempty"`
}

// validate checks the target's type against allowed and the field it names.
func (t MetricTarget) validate(allowed []TargetType) error {
	if err := t.Type.Validate(); err != nil {
		return err
	}
	ok := false
	for _, a := range allowed {
		ok = ok || a == t.Type
	}
	if !ok {
		return provider.Invalid("type", string(t.Type), fmt.Sprintf("must be one of %v for this metric type", allowed))
	}
	switch t.Type {
	case TargetUtilization:
		if t.AverageUtilization < 1 {
			return provider.Invalid("average_utilization", t.AverageUtilization, "must be ≥ 1")
		}
	case TargetValue:
		if err := positiveQuantity("value", t.Value); err != nil {
			return err
		}
	case TargetAverageValue:
		if err := positiveQuantity("average_value", t.AverageValue); err != nil {
			return err
		}
	}
	return nil
}

// positiveQuantity checks that v is a finite quantity whose milli-value is
// positive and fits in an int64.
func positiveQuantity(field string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
		return provider.Invalid(field, v, "must be a finite number > 0")
	}
	if v*1000 >= math.MaxInt64 {
		return provider.Invalid(field, v, "is too large")
	}
	return nil
}

// Milli returns v in milli-units, rounded up as Kubernetes'
// resource.Quantity.MilliValue rounds: 0.1 is 100, 0.0005 is 1. A value
// within 1e-9 of a whole milli-unit counts as that milli-unit, so that
// decimal fractions written in a policy file do not round up by a float
// error; a positive value is never 0 (1e-13 is 1, as the quantity). A
// value beyond the int64 range saturates at its bounds (a metric value of
// 1e19 is math.MaxInt64), where Go's conversion is platform-defined.
func Milli(v float64) int64 {
	m := v * 1000
	switch {
	case m >= math.MaxInt64:
		return math.MaxInt64
	case m <= math.MinInt64:
		return math.MinInt64
	}
	if r := math.Round(m); math.Abs(m-r) < 1e-9*math.Max(1, math.Abs(m)) && (r != 0 || m <= 0) {
		return int64(r)
	}
	return int64(math.Ceil(m))
}

// Behavior configures how fast the autoscaler scales in each direction.
type Behavior struct {
	// ScaleUp are the rules for scaling up. nil means the default: no
	// stabilization, and at most +4 pods or +100 % per 15 s, whichever is
	// larger.
	ScaleUp *ScalingRules `json:"scale_up,omitempty" yaml:"scale_up,omitempty"`
	// ScaleDown are the rules for scaling down. nil means the default:
	// Config.DownscaleStabilizationWindow (5m) and at most −100 % per 15 s.
	ScaleDown *ScalingRules `json:"scale_down,omitempty" yaml:"scale_down,omitempty"`
}

// WithDefaults returns b with every unset field filled in as the API
// server does (autoscaling/v2 defaults): an unset select policy is max,
// unset policies the default ones, and an unset scale-up stabilization
// window 0. An unset scale-down window stays unset: the controller fills it
// from Config.DownscaleStabilizationWindow.
func (b Behavior) WithDefaults() Behavior {
	b.ScaleUp = fillRules(b.ScaleUp, defaultScaleUpRules())
	b.ScaleDown = fillRules(b.ScaleDown, defaultScaleDownRules())
	return b
}

func defaultScaleUpRules() ScalingRules {
	var zero time.Duration
	return ScalingRules{
		StabilizationWindow: &zero,
		SelectPolicy:        SelectMax,
		Policies: []ScalingPolicy{
			{Type: PolicyPods, Value: 4, Period: 15 * time.Second},
			{Type: PolicyPercent, Value: 100, Period: 15 * time.Second},
		},
	}
}

func defaultScaleDownRules() ScalingRules {
	return ScalingRules{
		SelectPolicy: SelectMax,
		Policies:     []ScalingPolicy{{Type: PolicyPercent, Value: 100, Period: 15 * time.Second}},
	}
}

// fillRules copies the set fields of from over def, as copyHPAScalingRules
// does.
func fillRules(from *ScalingRules, def ScalingRules) *ScalingRules {
	if from == nil {
		return &def
	}
	if from.SelectPolicy != "" {
		def.SelectPolicy = from.SelectPolicy
	}
	if from.StabilizationWindow != nil {
		w := *from.StabilizationWindow
		def.StabilizationWindow = &w
	}
	if len(from.Policies) > 0 {
		def.Policies = append([]ScalingPolicy(nil), from.Policies...)
	}
	if from.Tolerance != nil {
		t := *from.Tolerance
		def.Tolerance = &t
	}
	return &def
}

// Validate checks both directions' rules.
func (b Behavior) Validate() error {
	if b.ScaleUp != nil {
		if err := b.ScaleUp.Validate(); err != nil {
			return provider.Within("scale_up", err)
		}
	}
	if b.ScaleDown != nil {
		if err := b.ScaleDown.Validate(); err != nil {
			return provider.Within("scale_down", err)
		}
	}
	return nil
}

// ScalingRules configure one direction of scaling.
type ScalingRules struct {
	// StabilizationWindow is how far back recommendations are considered:
	// scaling up uses the lowest recommendation of the window, scaling down
	// the highest, so that a flapping metric does not flap the replicas.
	// Whole seconds in [0, 1h]. nil means the default (0 up; Config.DownscaleStabilizationWindow down).
	StabilizationWindow *time.Duration `json:"stabilization_window,omitempty" yaml:"stabilization_window,omitempty"`
	// SelectPolicy picks among Policies: max (the largest change), min or
	// disabled (no scaling in this direction). Unset means max.
	SelectPolicy SelectPolicy `json:"select_policy,omitempty" yaml:"select_policy,omitempty"`
	// Policies limit the change per period. Empty means the defaults.
	Policies []ScalingPolicy `json:"policies,omitempty" yaml:"policies,omitempty"`
	// Tolerance is the relative distance from the target, in this
	// direction, within which nothing changes (≥ 0). nil means
	// Config.Tolerance (0.1).
	Tolerance *float64 `json:"tolerance,omitempty" yaml:"tolerance,omitempty"`
}

// Validate checks the window, policies and tolerance against the API's
// bounds.
func (r ScalingRules) Validate() error {
	if w := r.StabilizationWindow; w != nil && (*w < 0 || *w > MaxStabilizationWindow || *w%time.Second != 0) {
		return provider.Invalid("stabilization_window", *w, "must be whole seconds in [0, 1h]")
	}
	if r.SelectPolicy != "" {
		if err := r.SelectPolicy.Validate(); err != nil {
			return err
		}
	}
	for i, p := range r.Policies {
		if err := p.Validate(); err != nil {
			return provider.Within(fmt.Sprintf("policies[%d]", i), err)
		}
	}
	if t := r.Tolerance; t != nil && (math.IsNaN(*t) || math.IsInf(*t, 0) || *t < 0) {
		return provider.Invalid("tolerance", *t, "must be a finite number ≥ 0")
	}
	return nil
}

// longestPeriod returns the longest policy period (getLongestPolicyPeriod).
func (r ScalingRules) longestPeriod() time.Duration {
	var p time.Duration
	for _, pol := range r.Policies {
		p = max(p, pol.Period)
	}
	return p
}

// SelectPolicy says which policy of a direction applies.
type SelectPolicy string

// The select policies.
const (
	SelectMax      SelectPolicy = "max"      // the policy allowing the largest change
	SelectMin      SelectPolicy = "min"      // the policy allowing the smallest change
	SelectDisabled SelectPolicy = "disabled" // no scaling in this direction
)

// String returns the policy's name.
func (p SelectPolicy) String() string { return string(p) }

// Validate returns an error matching provider.ErrInvalid, naming the
// value, unless p is a known SelectPolicy.
func (p SelectPolicy) Validate() error {
	switch p {
	case SelectMax, SelectMin, SelectDisabled:
		return nil
	}
	return provider.Invalid("select_policy", string(p), "must be one of max, min, disabled")
}

// MarshalText encodes p as its name (empty when unset); an unknown value is
// an error.
func (p SelectPolicy) MarshalText() ([]byte, error) {
	return enumtext.Marshal(p, SelectPolicy.Validate)
}

// UnmarshalText decodes a known name or empty text; other text is an error
// matching provider.ErrInvalid naming it.
func (p *SelectPolicy) UnmarshalText(b []byte) error {
	return enumtext.Unmarshal(p, b, SelectPolicy.Validate)
}

// PolicyType says how a ScalingPolicy's Value counts.
type PolicyType string

// The policy types.
const (
	PolicyPods    PolicyType = "pods"    // Value pods per Period
	PolicyPercent PolicyType = "percent" // Value percent of the replicas at the start of the Period
)

// String returns the type's name.
func (t PolicyType) String() string { return string(t) }

// Validate returns an error matching provider.ErrInvalid, naming the
// value, unless t is a known PolicyType.
func (t PolicyType) Validate() error {
	switch t {
	case PolicyPods, PolicyPercent:
		return nil
	}
	return provider.Invalid("type", string(t), "must be pods or percent")
}

// MarshalText encodes t as its name (empty when unset); an unknown value is
// an error.
func (t PolicyType) MarshalText() ([]byte, error) { return enumtext.Marshal(t, PolicyType.Validate) }

// UnmarshalText decodes a known name or empty text; other text is an error
// matching provider.ErrInvalid naming it.
func (t *PolicyType) UnmarshalText(b []byte) error {
	return enumtext.Unmarshal(t, b, PolicyType.Validate)
}

// ScalingPolicy limits the change of one direction over a sliding period:
// at most Value pods, or Value percent of the replicas at the period's
// start. Scale events of both directions inside the period count.
type ScalingPolicy struct {
	// Type is pods or percent. Required.
	Type PolicyType `json:"type" yaml:"type"`
	// Value is the allowed change (> 0).
	Value int32 `json:"value" yaml:"value"`
	// Period is the sliding window: whole seconds in [1s, 30m], as
	// Kubernetes' periodSeconds.
	Period time.Duration `json:"period" yaml:"period"`
}

// Validate checks the type, value and period.
func (p ScalingPolicy) Validate() error {
	if err := p.Type.Validate(); err != nil {
		return err
	}
	if p.Value <= 0 {
		return provider.Invalid("value", p.Value, "must be > 0")
	}
	if p.Period < time.Second || p.Period > MaxPolicyPeriod || p.Period%time.Second != 0 {
		return provider.Invalid("period", p.Period, "must be whole seconds in [1s, 30m]")
	}
	return nil
}

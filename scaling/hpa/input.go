package hpa

import (
	"fmt"
	"strings"
	"time"

	"github.com/idlescale/idlescale/internal/enumtext"
	"github.com/idlescale/idlescale/provider"
)

// ResourceName names a compute resource of a pod, as in Kubernetes ("cpu",
// "memory", "ephemeral-storage", "hugepages-2Mi").
type ResourceName string

// The resources the resource metrics API reports.
const (
	ResourceCPU    ResourceName = "cpu"    // in millicores (milli-units of a core)
	ResourceMemory ResourceName = "memory" // in milli-bytes (Kubernetes' MilliValue of bytes)
)

func (r ResourceName) validate(field string) error {
	if r == "" {
		return provider.Invalid(field, "", "is required")
	}
	return nil
}

// podLevel reports whether r can be requested at pod level (KEP-2837): cpu,
// memory and huge pages (IsSupportedPodLevelResource).
func (r ResourceName) podLevel() bool {
	return r == ResourceCPU || r == ResourceMemory || strings.HasPrefix(string(r), "hugepages-")
}

// ResourceList maps resources to quantities in milli-units (Kubernetes'
// Quantity.MilliValue: 250m CPU is 250, 1 CPU is 1000).
type ResourceList map[ResourceName]int64

// PodPhase is a pod's lifecycle phase, in snake case.
type PodPhase string

// The pod phases.
const (
	PhasePending   PodPhase = "pending"
	PhaseRunning   PodPhase = "running"
	PhaseSucceeded PodPhase = "succeeded"
	PhaseFailed    PodPhase = "failed"
	PhaseUnknown   PodPhase = "unknown"
)

// String returns the phase's name.
func (p PodPhase) String() string { return string(p) }

// Validate returns an error matching provider.ErrInvalid, naming the
// value, unless p is a known PodPhase.
func (p PodPhase) Validate() error {
	switch p {
	case PhasePending, PhaseRunning, PhaseSucceeded, PhaseFailed, PhaseUnknown:
		return nil
	}
	return provider.Invalid("phase", string(p), "must be one of pending, running, succeeded, failed, unknown")
}

// MarshalText encodes p as its name (empty when unset); an unknown value is
// an error.
func (p PodPhase) MarshalText() ([]byte, error) { return enumtext.Marshal(p, PodPhase.Validate) }

// UnmarshalText decodes a known name or empty text; other text is an error
// matching provider.ErrInvalid naming it.
func (p *PodPhase) UnmarshalText(b []byte) error { return enumtext.Unmarshal(p, b, PodPhase.Validate) }

// ConditionStatus is the status of a pod's Ready condition. The empty
// value means the pod has no Ready condition at all.
type ConditionStatus string

// The condition statuses.
const (
	ConditionTrue    ConditionStatus = "true"
	ConditionFalse   ConditionStatus = "false"
	ConditionUnknown ConditionStatus = "unknown"
)

// String returns the status's name.
func (s ConditionStatus) String() string { return string(s) }

// Validate returns an error matching provider.ErrInvalid, naming the
// value, unless s is a known ConditionStatus.
func (s ConditionStatus) Validate() error {
	switch s {
	case ConditionTrue, ConditionFalse, ConditionUnknown:
		return nil
	}
	return provider.Invalid("ready", string(s), "must be one of true, false, unknown")
}

// MarshalText encodes s as its name (empty when unset); an unknown value is
// an error.
func (s ConditionStatus) MarshalText() ([]byte, error) {
	return enumtext.Marshal(s, ConditionStatus.Validate)
}

// UnmarshalText decodes a known name or empty text; other text is an error
// matching provider.ErrInvalid naming it.
func (s *ConditionStatus) UnmarshalText(b []byte) error {
	return enumtext.Unmarshal(s, b, ConditionStatus.Validate)
}

// Container is one container of a pod, as far as requests go.
type Container struct {
	// Name is the container's name, unique in its pod.
	Name string `json:"name"`
	// Requests are its resource requests in milli-units. A resource absent
	// from the map is not requested.
	Requests ResourceList `json:"requests,omitempty"`
	// RestartAlways marks an init container whose restart policy is Always
	// (a sidecar): its requests count with the regular containers'.
	RestartAlways bool `json:"restart_always,omitempty"`
}

// Pod is one pod matched by the scale target's selector, with what the HPA
// reads of it: phase, deletion, the Ready condition and its last
// transition, start time and requests. provider/kubernetes fills it from
// the API; a test writes it by hand.
type Pod struct {
	// Name identifies the pod; samples are matched to pods by name.
	// Required and unique.
	Name string `json:"name"`
	// Phase is the pod's phase. Required.
	Phase PodPhase `json:"phase"`
	// Deleting reports whether the pod has a deletion timestamp.
	Deleting bool `json:"deleting,omitempty"`
	// Ready is the status of the pod's Ready condition; empty when the pod
	// has no such condition.
	Ready ConditionStatus `json:"ready,omitempty"`
	// ReadyTransition is the Ready condition's last transition time.
	ReadyTransition time.Time `json:"ready_transition,omitzero"`
	// StartTime is when the kubelet started the pod; zero when it has not
	// (status.startTime unset).
	StartTime time.Time `json:"start_time,omitzero"`
	// Containers are the pod's regular containers.
	Containers []Container `json:"containers,omitempty"`
	// InitContainers are its init containers, in order.
	InitContainers []Container `json:"init_containers,omitempty"`
	// Requests are the pod-level requests (spec.resources.requests,
	// KEP-2837); nil when not set.
	Requests ResourceList `json:"requests,omitempty"`
	// Overhead is the pod's runtime overhead (spec.overhead), added to its
	// pod-level requests.
	Overhead ResourceList `json:"overhead,omitempty"`
	// Count is the number of identical pods the entry stands for: each has
	// everything above, and the entry's sample (matched by Name) is each
	// one's sample. 0 and 1 both mean one pod. A decision over an entry of
	// n pods is the decision over n entries that differ only in their
	// names, in as many steps as one entry: the scaling package describes
	// a group without pods (an Auto Scaling group's instances) this way.
	Count int32 `json:"count,omitempty"`
}

// count is the number of pods the entry stands for (Count, at least 1).
func (p *Pod) count() int {
	if p.Count > 1 {
		return int(p.Count)
	}
	return 1
}

// readyAndRunning reports whether the pod counts in an object or external
// metric's ready pods: running, with Ready true (podutil.IsPodReady).
func (p *Pod) readyAndRunning() bool { return p.Phase == PhaseRunning && p.Ready == ConditionTrue }

// Sample is one pod's metric as the metrics API reports it.
type Sample struct {
	// Pod is the pod's name. Samples for pods not in Input.Pods still count
	// where Kubernetes counts them (the average of a pods metric).
	Pod string `json:"pod"`
	// Value is the pod's usage in milli-units: for a resource, the sum over
	// its containers (or the named container's); for a pods metric, its
	// value. A pod some of whose containers lack the resource has no
	// sample, as the metrics client drops it. A resource's usage must be ≥
	// 0: a negative one makes the metric invalid for the decision, with an
	// error matching provider.ErrInvalid naming the pod (a pods metric may
	// be negative, as in Kubernetes).
	Value int64 `json:"value"`
	// Timestamp is when the value was measured (the end of its window).
	Timestamp time.Time `json:"timestamp"`
	// Window is the span the value was averaged over (the metrics server's
	// window; one minute for custom metrics without one).
	Window time.Duration `json:"window"`
}

// MetricValues is what was read for one MetricSpec: per-pod samples for
// resource, container resource and pods metrics, one value for an object
// metric, the matching series' values for an external metric. Values are
// in milli-units.
type MetricValues struct {
	// Samples are the per-pod samples (resource, container_resource, pods).
	Samples []Sample `json:"samples,omitempty"`
	// Value is an object metric's value.
	Value int64 `json:"value,omitempty"`
	// Values are an external metric's values; they are summed. None is
	// ErrNoMetrics (the metric is invalid), not a value of 0.
	Values []int64 `json:"values,omitempty"`
	// Timestamp is when an object or external value was measured; for
	// per-pod samples the first sample's time is reported.
	Timestamp time.Time `json:"timestamp,omitzero"`
	// Err is set when the metric could not be read: the metric is invalid
	// for this decision (see Calculator.Replicas).
	Err error `json:"-"`
}

// Input is what a controller observed of a scale target for one decision.
type Input struct {
	// Now is the time of the decision (it replaces Kubernetes' time.Now()
	// in the readiness checks and windows). Required.
	Now time.Time `json:"now"`
	// SpecReplicas is the target's desired replicas (scale.spec.replicas):
	// the current replica count of every calculation. ≥ 0.
	SpecReplicas int32 `json:"spec_replicas"`
	// StatusReplicas is the target's observed replicas
	// (scale.status.replicas), which per-pod object and external targets
	// divide by. ≥ 0.
	StatusReplicas int32 `json:"status_replicas"`
	// Pods are the pods the target's selector matches.
	Pods []Pod `json:"pods,omitempty"`
	// Metrics are the values read for Spec.Metrics (after WithDefaults),
	// in the same order.
	Metrics []MetricValues `json:"metrics,omitempty"`
}

// Validate checks the replica counts and the pods: names set and unique,
// known phases and statuses, non-negative requests, and that the samples'
// pod names are set and unique within each metric. It returns an error
// matching provider.ErrInvalid naming the field ("pods[2].name").
func (in Input) Validate() error {
	var m matcher
	if err := in.validate(&m); err != nil {
		return err
	}
	for i := range in.Pods {
		if err := in.Pods[i].validateRequests(); err != nil {
			return provider.Within(fmt.Sprintf("pods[%d]", i), err)
		}
	}
	return nil
}

// validate is Validate without the requests (which a decision checks where
// it reads them); m matches each metric's samples to the pods, and keeps
// the matches.
func (in *Input) validate(m *matcher) error {
	if in.Now.IsZero() {
		return provider.Invalid("now", in.Now, "is required")
	}
	if in.SpecReplicas < 0 {
		return provider.Invalid("spec_replicas", in.SpecReplicas, "must be ≥ 0")
	}
	if in.StatusReplicas < 0 {
		return provider.Invalid("status_replicas", in.StatusReplicas, "must be ≥ 0")
	}
	if err := m.pods(in.Pods); err != nil {
		return err
	}
	for i := range in.Metrics {
		if i == len(m.matches) {
			m.matches = append(m.matches, nil)
		}
		match, err := m.match(in.Pods, in.Metrics[i].Samples, m.matches[i])
		m.matches[i] = match
		if err != nil {
			return provider.Within(fmt.Sprintf("metrics[%d]", i), err)
		}
	}
	return nil
}

// matcher validates pods and samples and matches samples to pods by name,
// reusing its working space between calls.
type matcher struct {
	index   map[string]int
	matches [][]int // per metric of the last Input: per pod, the index of its sample or -1
}

// pods checks every pod and that their names are unique.
func (m *matcher) pods(pods []Pod) error {
	for i := range pods {
		if err := pods[i].validate(); err != nil {
			return provider.Within(fmt.Sprintf("pods[%d]", i), err)
		}
	}
	if len(pods) <= 16 {
		// The names of one workload's pods share a long prefix and differ
		// at the end: a name whose last byte no name before it ends with
		// is new; only the others are compared, with the names ending the
		// same way (names are not empty: checked above).
		var last [4]uint64 // a bit per byte value that ends a name so far
		for i := range pods {
			a := pods[i].Name
			c := a[len(a)-1]
			if last[c>>6]&(1<<(c&63)) != 0 {
				for j := range i {
					if b := pods[j].Name; len(a) == len(b) && b[len(b)-1] == c && a == b {
						return provider.Invalid(fmt.Sprintf("pods[%d].name", i), pods[i].Name, "duplicate pod name")
					}
				}
			}
			last[c>>6] |= 1 << (c & 63)
		}
		return nil
	}
	m.reset()
	for i := range pods {
		if _, dup := m.index[pods[i].Name]; dup {
			return provider.Invalid(fmt.Sprintf("pods[%d].name", i), pods[i].Name, "duplicate pod name")
		}
		m.index[pods[i].Name] = i
	}
	return nil
}

func (m *matcher) reset() {
	if m.index == nil {
		m.index = make(map[string]int)
	}
	clear(m.index)
}

// match checks the samples (pod named, at most once, window ≥ 0) and
// returns, in dst, the index of each pod's sample (-1 for none). Pods must
// have unique names. Samples listed in the pods' order take a fast path.
func (m *matcher) match(pods []Pod, samples []Sample, dst []int) ([]int, error) {
	dst = dst[:0]
	for j := range samples {
		if samples[j].Pod == "" {
			return dst, provider.Invalid(fmt.Sprintf("samples[%d].pod", j), "", "is required")
		}
		if samples[j].Window < 0 {
			return dst, provider.Invalid(fmt.Sprintf("samples[%d].window", j), samples[j].Window, "must be ≥ 0")
		}
	}
	if len(samples) == len(pods) {
		aligned := true
		for k := range pods {
			if samples[k].Pod != pods[k].Name {
				aligned = false
				break
			}
		}
		if aligned { // unique pods: unique samples, each pod's own
			for k := range pods {
				dst = append(dst, k)
			}
			return dst, nil
		}
	}
	m.reset()
	for j := range samples {
		if _, dup := m.index[samples[j].Pod]; dup {
			return dst, provider.Invalid(fmt.Sprintf("samples[%d].pod", j), samples[j].Pod, "duplicate sample for the pod")
		}
		m.index[samples[j].Pod] = j
	}
	for k := range pods {
		j, ok := m.index[pods[k].Name]
		if !ok {
			j = -1
		}
		dst = append(dst, j)
	}
	return dst, nil
}

// validate checks the pod's name, phase and Ready status. Negative
// requests are checked where a request is read (Calculator.request) and by
// validateRequests.
func (p *Pod) validate() error {
	if p.Phase == PhaseRunning && p.Ready == ConditionTrue && p.Name != "" && p.Count >= 0 {
		return nil // most pods: known values, compared without a switch
	}
	if p.Name == "" {
		return provider.Invalid("name", "", "is required")
	}
	if p.Count < 0 {
		return provider.Invalid("count", p.Count, "must be ≥ 0")
	}
	if err := p.Phase.Validate(); err != nil {
		return err
	}
	if p.Ready != "" {
		if err := p.Ready.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// validateRequests checks that no request or overhead of the pod is
// negative.
func (p *Pod) validateRequests() error {
	for i := range p.Containers {
		if r, v, bad := negative(p.Containers[i].Requests); bad {
			return provider.Invalid(fmt.Sprintf("containers[%d].requests[%s]", i, r), v, "must be ≥ 0")
		}
	}
	for i := range p.InitContainers {
		if r, v, bad := negative(p.InitContainers[i].Requests); bad {
			return provider.Invalid(fmt.Sprintf("init_containers[%d].requests[%s]", i, r), v, "must be ≥ 0")
		}
	}
	if r, v, bad := negative(p.Requests); bad {
		return provider.Invalid(fmt.Sprintf("requests[%s]", r), v, "must be ≥ 0")
	}
	if r, v, bad := negative(p.Overhead); bad {
		return provider.Invalid(fmt.Sprintf("overhead[%s]", r), v, "must be ≥ 0")
	}
	return nil
}

// negative returns a negative quantity of l, if it has one.
func negative(l ResourceList) (ResourceName, int64, bool) {
	for r, v := range l {
		if v < 0 {
			return r, v, true
		}
	}
	return "", 0, false
}

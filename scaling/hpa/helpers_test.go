package hpa_test

import (
	"fmt"
	"time"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling/hpa"
)

// The tests restate Kubernetes' own test cases. Kubernetes' fixtures use a
// zero start time and transition time for pods that are long past their
// initialization, the wall clock for "hot" pods (just started) and three
// minutes ago for "cool" ones, with a 2-minute CPU initialization period, a
// 10-second initial readiness delay and a 0.1 tolerance. The restated
// fixtures use a fixed now and the same offsets.
var (
	now     = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	longAgo = now.Add(-240 * time.Hour) // upstream: the zero time
	hot     = now                       // upstream: hotCPUCreationTime
	cool    = now.Add(-3 * time.Minute) // upstream: coolCPUCreationTime
)

// testConfig is upstream's testing configuration
// (defaultTestingTolerance, defaultTestingCPUInitializationPeriod,
// defaultTestingDelayOfInitialReadinessStatus).
var testConfig = hpa.Config{
	Tolerance:               0.1,
	CPUInitializationPeriod: 2 * time.Minute,
	InitialReadinessDelay:   10 * time.Second,
}

// defaultTolerances are the testing tolerances in both directions.
var defaultTolerances = hpa.Tolerances{ScaleDown: 0.1, ScaleUp: 0.1}

// scenario restates upstream's calcScenario: pods pod-0, pod-1, ... with
// two containers each ("container1" and "container2"), running and ready
// unless said otherwise.
type scenario struct {
	replicas int32
	// requests is each pod's per-container CPU request in millicores; a
	// pod beyond its end requests nothing.
	requests []int64
	// levels[i][j] is container j's CPU usage of pod i; a pod beyond its
	// end has no sample, and so has a pod with fewer than two containers
	// reported (unless the metric is of the container it reports).
	levels [][]int64
	// names renames the samples of the first pods (a sample for a pod that
	// is not listed).
	names []string
	// container scopes a resource metric to one container.
	container string
	ready     []hpa.ConditionStatus
	start     []time.Time
	phase     []hpa.PodPhase
	deleting  []bool
	// custom are the values of a pods, object or external metric.
	custom []int64
}

// podCount is upstream's pod count: the replicas, or more when phases are
// given for pods beyond them (failed pods are not replicas).
func (s scenario) podCount() int { return max(int(s.replicas), len(s.phase)) }

func (s scenario) pods() []hpa.Pod {
	var pods []hpa.Pod
	for i := range s.podCount() {
		p := hpa.Pod{
			Name:            fmt.Sprintf("pod-%d", i),
			Phase:           hpa.PhaseRunning,
			Ready:           hpa.ConditionTrue,
			ReadyTransition: longAgo,
			StartTime:       longAgo,
			Containers:      []hpa.Container{{Name: "container1"}, {Name: "container2"}},
		}
		if i < len(s.ready) {
			p.Ready = s.ready[i]
		}
		if s.start != nil {
			p.StartTime = s.start[i]
		}
		if s.phase != nil {
			p.Phase = s.phase[i]
		}
		if s.deleting != nil {
			p.Deleting = s.deleting[i]
		}
		if i < len(s.requests) {
			for j := range p.Containers {
				p.Containers[j].Requests = hpa.ResourceList{hpa.ResourceCPU: s.requests[i]}
			}
		}
		pods = append(pods, p)
	}
	return pods
}

// cpuSamples restates upstream's fake resource metrics client: the sum
// over a pod's two containers, or the named container's usage.
func (s scenario) cpuSamples() []hpa.Sample {
	var out []hpa.Sample
	for i, lv := range s.levels {
		name := fmt.Sprintf("pod-%d", i)
		if i < len(s.names) {
			name = s.names[i]
		}
		smp := hpa.Sample{Pod: name, Timestamp: longAgo, Window: time.Minute}
		switch s.container {
		case "":
			if len(lv) < 2 {
				continue // a container without usage drops the pod
			}
			smp.Value = lv[0] + lv[1]
		default:
			j := map[string]int{"container1": 0, "container2": 1}[s.container]
			if j >= len(lv) {
				continue // the container is not reported
			}
			smp.Value = lv[j]
		}
		out = append(out, smp)
	}
	return out
}

// customSamples restates upstream's fake custom metrics client: one sample
// per value, for pod-0, pod-1, ...
func (s scenario) customSamples() []hpa.Sample {
	var out []hpa.Sample
	for i, v := range s.custom {
		out = append(out, hpa.Sample{Pod: fmt.Sprintf("pod-%d", i), Value: v, Timestamp: longAgo, Window: time.Minute})
	}
	return out
}

// reqs returns n equal per-container requests.
func reqs(n int, milli int64) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = milli
	}
	return out
}

// levels restates upstream's makePodMetricLevels: both containers of pod i
// use v[i].
func levels(v ...int64) [][]int64 {
	out := make([][]int64, len(v))
	for i, x := range v {
		out[i] = []int64{x, x}
	}
	return out
}

// timeT shortens the start-time slices of the fixtures.
type timeT = time.Time

func statuses(s ...hpa.ConditionStatus) []hpa.ConditionStatus { return s }

const (
	T = hpa.ConditionTrue
	F = hpa.ConditionFalse
)

// Shorthands for pod phases.
const (
	running = hpa.PhaseRunning
	pending = hpa.PhasePending
	failed  = hpa.PhaseFailed
)

func i32(v int32) *int32 { return &v }

func f64(v float64) *float64 { return &v }

func dur(d time.Duration) *time.Duration { return &d }

// cpuUtilization is a resource metric of CPU utilization, optionally of
// one container.
func cpuUtilization(target int32, container string) hpa.MetricSpec {
	t := hpa.MetricTarget{Type: hpa.TargetUtilization, AverageUtilization: target}
	if container != "" {
		return hpa.MetricSpec{Type: hpa.SourceContainerResource, ContainerResource: &hpa.ContainerResourceMetricSource{
			Name: hpa.ResourceCPU, Container: container, Target: t,
		}}
	}
	return hpa.MetricSpec{Type: hpa.SourceResource, Resource: &hpa.ResourceMetricSource{Name: hpa.ResourceCPU, Target: t}}
}

// podsMetric is a pods metric "qps" with a target average in milli-units.
func podsMetric(targetMilli int64) hpa.MetricSpec {
	return hpa.MetricSpec{Type: hpa.SourcePods, Pods: &hpa.PodsMetricSource{
		Metric: hpa.MetricIdentifier{Name: "qps"},
		Target: hpa.MetricTarget{Type: hpa.TargetAverageValue, AverageValue: float64(targetMilli) / 1000},
	}}
}

// objectMetric is an object metric "qps" of a Deployment, with a value or
// average value target in milli-units.
func objectMetric(typ hpa.TargetType, targetMilli int64) hpa.MetricSpec {
	t := hpa.MetricTarget{Type: typ}
	if typ == hpa.TargetValue {
		t.Value = float64(targetMilli) / 1000
	} else {
		t.AverageValue = float64(targetMilli) / 1000
	}
	return hpa.MetricSpec{Type: hpa.SourceObject, Object: &hpa.ObjectMetricSource{
		DescribedObject: hpa.ObjectReference{Kind: "Deployment", Name: "some-deployment", APIVersion: "apps/v1"},
		Metric:          hpa.MetricIdentifier{Name: "qps"},
		Target:          t,
	}}
}

// externalMetric is an external metric "qps" with a value or average value
// target in milli-units.
func externalMetric(typ hpa.TargetType, targetMilli int64) hpa.MetricSpec {
	t := hpa.MetricTarget{Type: typ}
	if typ == hpa.TargetValue {
		t.Value = float64(targetMilli) / 1000
	} else {
		t.AverageValue = float64(targetMilli) / 1000
	}
	return hpa.MetricSpec{Type: hpa.SourceExternal, External: &hpa.ExternalMetricSource{
		Metric: hpa.MetricIdentifier{Name: "qps", Selector: map[string]string{"label": "value"}},
		Target: t,
	}}
}

// providerInvalid shortens provider.InvalidError in errors.As targets.
type providerInvalid = provider.InvalidError

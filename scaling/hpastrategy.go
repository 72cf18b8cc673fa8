package scaling

import (
	"context"
	"errors"
	"fmt"
	"math"
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
	// without pods. Default: 1m.
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
// the target. Its fitness is 0.8 times the share of its metrics it could
// read. It is safe for concurrent use.
type HPA struct {
	cfg   HPAConfig
	name  string
	needs []Need
}

var (
	_ Strategy     = (*HPA)(nil)
	_ MetricNeeder = (*HPA)(nil)
)

// NewHPA returns an HPA strategy for cfg, or an error matching
// provider.ErrInvalid naming the wrong field. name is the strategy's name
// in the target's policy: the strategy finds its own recommendations in
// the History by it. Empty means "hpa".
func NewHPA(cfg HPAConfig, name string) (*HPA, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("scaling: hpa: %w", err)
	}
	if cfg.Step == 0 {
		cfg.Step = DefaultStep
	}
	if name == "" {
		name = string(StrategyHPA)
	}
	s := &HPA{cfg: cfg, name: name}
	for _, m := range cfg.spec(1, 1).WithDefaults().Metrics {
		pm, _ := hpaProviderMetric(m)
		s.needs = append(s.needs, Need{Metric: pm, Step: cfg.Step, Lookback: 5 * cfg.Step})
	}
	return s, nil
}

// Needs implements MetricNeeder: the provider metric of every HPA metric
// over the last five steps (used on targets without pods).
func (s *HPA) Needs() []Need { return append([]Need(nil), s.needs...) }

// Metrics returns the HPA metrics after defaults, for a PodSource.
func (s *HPA) Metrics() []hpa.MetricSpec { return s.cfg.spec(1, 1).WithDefaults().Metrics }

// Recommend implements Strategy.
func (s *HPA) Recommend(_ context.Context, st State) (Recommendation, error) {
	t := st.Target
	if !t.Horizontal() {
		return Recommendation{}, fmt.Errorf("scaling: hpa: %w", provider.Invalid("target.resource.kind", t.Resource.Kind, "the HPA strategy scales groups"))
	}
	minR, maxR := t.Min, t.Max
	if minR == 0 && !s.cfg.minZeroAllowed() {
		minR = 1 // the API server refuses minReplicas 0 without an object or external metric
	}
	calc, err := hpa.NewCalculator(s.cfg.Controller, s.cfg.spec(minR, max(maxR, minR)))
	if err != nil {
		return Recommendation{}, fmt.Errorf("scaling: hpa: %w", err)
	}
	in, valid := s.input(st, calc.Spec().Metrics)
	d, err := calc.Decide(in, s.history(st))
	if err != nil && !errors.Is(err, hpa.ErrInvalidMetrics) {
		return Recommendation{}, fmt.Errorf("scaling: hpa: %w", err)
	}
	rec := desired(t, int(d.Replicas), "")
	rec.Proposal = int(max(d.Proposal, 0))
	if d.Proposal < 0 {
		rec.Proposal = t.Capacity.Desired
	}
	switch {
	case err != nil:
		rec = keep(t, fmt.Sprintf("no decision (%s): %v", d.ScalingActive, err))
	case d.Rescale:
		rec.Reason = fmt.Sprintf("%s: %d → %d (%s, %s)", d.Reason, in.SpecReplicas, d.Replicas, d.AbleToScale, d.ScalingLimited)
	default:
		rec.Reason = fmt.Sprintf("no rescale: proposal %d, stabilized %d (%s, %s, %s)", d.Proposal, d.Stabilized, d.ScalingActive, d.AbleToScale, d.ScalingLimited)
	}
	for i, r := range d.Metrics {
		name := calc.Spec().Metrics[i].Name()
		if r.Err != nil {
			rec.Inputs = append(rec.Inputs, Input{Name: name + " (failed)", Value: math.NaN()})
			continue
		}
		if r.Utilization != 0 || calc.Spec().Metrics[i].Target().Type == hpa.TargetUtilization {
			rec.Inputs = append(rec.Inputs, Input{Name: name, Value: float64(r.Utilization), Unit: "percent"})
		} else {
			rec.Inputs = append(rec.Inputs, Input{Name: name, Value: float64(r.Usage) / 1000})
		}
		rec.Inputs = append(rec.Inputs, Input{Name: name + " proposal", Value: float64(r.Replicas), Unit: "replicas"})
	}
	if n := len(calc.Spec().Metrics); n > 0 {
		rec.Fitness = 0.8 * float64(valid) / float64(n)
	}
	return rec, nil
}

// input builds the HPA's input from the State: the observed pods, or pods
// synthesized from the group's capacity and provider metrics. It returns
// how many metrics had values.
func (s *HPA) input(st State, metrics []hpa.MetricSpec) (hpa.Input, int) {
	t := st.Target
	in := hpa.Input{Now: st.Now, SpecReplicas: int32(t.Capacity.Desired), StatusReplicas: int32(t.Capacity.Current)}
	valid := 0
	if st.Pods != nil {
		in.StatusReplicas = int32(st.Pods.StatusReplicas)
		in.Pods = st.Pods.Pods
		in.Metrics = make([]hpa.MetricValues, len(metrics))
		for i := range in.Metrics {
			if i < len(st.Pods.Metrics) {
				in.Metrics[i] = st.Pods.Metrics[i]
			} else {
				in.Metrics[i].Err = fmt.Errorf("the pod source returned no values for metric %d", i)
			}
			if in.Metrics[i].Err == nil {
				valid++
			}
		}
		return in, valid
	}
	// Each instance is a pod with one container requesting 1000m of every
	// resource a metric targets, so that a utilization v (a fraction)
	// reports as v×1000m, v×100 percent.
	container := hpa.Container{Name: "main", Requests: hpa.ResourceList{}}
	for _, m := range metrics {
		switch m.Type {
		case hpa.SourceResource:
			container.Requests[m.Resource.Name] = 1000
		case hpa.SourceContainerResource:
			container.Requests[m.ContainerResource.Name] = 1000
			container.Name = m.ContainerResource.Container
		}
	}
	started := st.Now.Add(-24 * time.Hour) // long past the CPU initialization period
	for i := range t.Capacity.Current {
		p := hpa.Pod{Name: fmt.Sprintf("instance-%d", i), Phase: hpa.PhasePending, StartTime: started, ReadyTransition: started,
			Containers: []hpa.Container{container}}
		if i < t.Capacity.Ready {
			p.Phase, p.Ready = hpa.PhaseRunning, hpa.ConditionTrue
		}
		in.Pods = append(in.Pods, p)
	}
	for _, m := range metrics {
		pm, _ := hpaProviderMetric(m)
		var mv hpa.MetricValues
		ser, ok := st.Series(pm)
		at, v, has := ser.Last()
		switch {
		case !ok || !has:
			mv.Err = fmt.Errorf("no %s data", pm)
			if err := st.MetricErrors[pm]; err != nil {
				mv.Err = fmt.Errorf("no %s data: %w", pm, err)
			}
		case m.Type == hpa.SourceObject:
			mv.Value, mv.Timestamp = hpa.Milli(v), at
		case m.Type == hpa.SourceExternal:
			mv.Values, mv.Timestamp = []int64{hpa.Milli(v)}, at
		default:
			// Utilizations are fractions: of a 1000m request, v×1000 is
			// v×100 percent. Pods metrics are the per-instance average.
			for j := range t.Capacity.Ready {
				mv.Samples = append(mv.Samples, hpa.Sample{Pod: in.Pods[j].Name, Value: hpa.Milli(v), Timestamp: at.Add(ser.Step), Window: ser.Step})
			}
			if len(mv.Samples) == 0 {
				mv.Err = fmt.Errorf("no ready instance reports %s", pm)
			}
		}
		if mv.Err == nil {
			valid++
		}
		in.Metrics = append(in.Metrics, mv)
	}
	return in, valid
}

// history converts the target's History into the HPA's: its own
// unstabilized recommendations (preceded by the current count at its
// first decision, as the controller records it), every scale event of the
// target by direction, and whether its last rescale took the target to
// zero.
func (s *HPA) history(st State) hpa.History {
	var h hpa.History
	for _, r := range st.History.Recommendations {
		if r.Strategy != s.name {
			continue
		}
		if r.First {
			h.Recommendations = append(h.Recommendations, hpa.TimedReplicas{Replicas: int32(r.Current), At: r.At})
		}
		h.Recommendations = append(h.Recommendations, hpa.TimedReplicas{Replicas: int32(r.Proposal), At: r.At})
	}
	for _, e := range st.History.Events {
		switch {
		case e.To.Desired > e.From.Desired:
			h.ScaleUpEvents = append(h.ScaleUpEvents, hpa.ScaleEvent{Change: int32(e.To.Desired - e.From.Desired), At: e.At})
		case e.To.Desired < e.From.Desired:
			h.ScaleDownEvents = append(h.ScaleDownEvents, hpa.ScaleEvent{Change: int32(e.From.Desired - e.To.Desired), At: e.At})
		}
	}
	if n := len(st.History.Events); n > 0 {
		last := st.History.Events[n-1]
		h.ScaledToZero = last.Strategy == s.name && !last.Rollback && last.To.Desired == 0 && last.From.Desired > 0 &&
			st.Target.Min == 0 && s.cfg.minZeroAllowed()
	}
	return h
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

package kubernetes

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/scaling/hpa"
)

var _ scaling.PodSource = (*Driver)(nil)

// HPAInput reads what a HorizontalPodAutoscaler reads of a workload, in
// the shape the scaling/hpa calculator takes (hpa.Input), at now:
//
//   - SpecReplicas and StatusReplicas: the workload's spec.replicas and
//     status.replicas (what its scale subresource reports);
//   - Pods: every pod its selector matches, with its phase, deletion, the
//     Ready condition's status and last transition, start time, and the
//     requests of its containers, init containers (sidecars marked),
//     pod-level requests and overhead, in milli-units;
//   - Metrics: for each of metrics, in order, the per-pod samples of the
//     resource metrics API (metrics.k8s.io/v1beta1, one list call for all
//     of them) with their timestamp and window: for a resource metric the
//     sum over the pod's containers, and no sample for a pod one of whose
//     containers does not report the resource, as the HPA's metrics client
//     does; for a container resource metric the named container's usage.
//     A negative usage (which the HPA's client would sum in) sets the
//     metric's MetricValues.Err to an error matching provider.ErrInvalid
//     naming the pod and the container: the metric is invalid for the
//     decision.
//
// Pods, object and external metrics come from the custom and external
// metrics APIs, which the driver does not read: their MetricValues.Err
// matches provider.ErrUnsupported, which makes them invalid for the
// decision (no scale down), as an unavailable metrics API does for the
// resource metrics (MetricValues.Err wraps the API's error, and the
// calculator's ErrNoMetrics follows when no sample came back).
//
// The calculator gives its own errors the upstream meanings: no pods
// (hpa.ErrNoPods), a missing request (hpa.ErrMissingRequest). HPAInput
// returns an error only when the workload or its pods cannot be read: an
// unknown workload provider.ErrNotFound, a pod provider.ErrUnsupported, a
// workload without selector ErrNoSelector.
func (d *Driver) HPAInput(ctx context.Context, id string, metrics []hpa.MetricSpec, now time.Time) (_ hpa.Input, err error) {
	defer d.red.Errorp(&err)
	const op = "hpa input"
	ref, err := d.workloadRef(ctx, op, id)
	if err != nil {
		return hpa.Input{}, err
	}
	w, err := d.getWorkload(ctx, op, id, ref)
	if err != nil {
		return hpa.Input{}, err
	}
	pods, sel, err := d.workloadPods(ctx, op, id, w)
	if err != nil {
		return hpa.Input{}, err
	}
	return d.hpaInput(ctx, op, id, w, pods, metrics, now, func() ([]metricsv1beta1.PodMetrics, error) {
		return d.listPodMetrics(ctx, op, id, ref.Namespace, sel, "")
	})
}

// hpaInput is HPAInput of workload w and its pods (sorted by name), the
// pod metrics of those pods listed by podMetrics when a metric needs them.
func (d *Driver) hpaInput(ctx context.Context, op, id string, w workload, pods []corev1.Pod, metrics []hpa.MetricSpec, now time.Time,
	podMetrics func() ([]metricsv1beta1.PodMetrics, error),
) (hpa.Input, error) {
	in := hpa.Input{
		Now: now, SpecReplicas: w.replicas, StatusReplicas: w.current,
		Pods: make([]hpa.Pod, len(pods)), Metrics: make([]hpa.MetricValues, len(metrics)),
	}
	for i := range pods {
		in.Pods[i] = hpaPod(&pods[i])
	}
	var (
		pms    []metricsv1beta1.PodMetrics
		pmErr  error
		listed bool
	)
	for i, m := range metrics {
		var res hpa.ResourceName
		container := ""
		switch {
		case m.Type == hpa.SourceResource && m.Resource != nil:
			res = m.Resource.Name
		case m.Type == hpa.SourceContainerResource && m.ContainerResource != nil:
			res, container = m.ContainerResource.Name, m.ContainerResource.Container
		default:
			in.Metrics[i].Err = fmt.Errorf("kubernetes: %s %q: metric %d (%s): %w: the driver reads the resource metrics API only, not the custom or external metrics APIs",
				op, id, i, m.Type, provider.ErrUnsupported)
			continue
		}
		if d.metrics == nil {
			in.Metrics[i].Err = fmt.Errorf("kubernetes: %s %q: %w: %w", op, id, ErrNoMetricsSource, provider.ErrUnsupported)
			continue
		}
		if !listed {
			pms, pmErr = podMetrics()
			listed = true
		}
		if pmErr != nil {
			in.Metrics[i].Err = pmErr
			continue
		}
		samples, err := hpaSamples(pms, corev1.ResourceName(res), container)
		if err != nil {
			in.Metrics[i].Err = fmt.Errorf("kubernetes: %s %q: metric %d (%s): %w", op, id, i, m.Type, err)
			continue
		}
		in.Metrics[i].Samples = samples
		if len(pms) > 0 { // the metrics client reports the first item's time
			in.Metrics[i].Timestamp = pms[0].Timestamp.Time
		}
	}
	if err := ctx.Err(); err != nil {
		return hpa.Input{}, wrap(op, id, call{}, err)
	}
	for i := range in.Metrics {
		// Returned for the decision (and logged by its callers), as
		// redacted as the errors of the calls.
		in.Metrics[i].Err = d.red.Error(in.Metrics[i].Err)
	}
	return in, nil
}

// ObservePods implements scaling.PodSource for the scaling engine's HPA
// strategy: HPAInput of target.ID, without the replica count the engine
// already has.
func (d *Driver) ObservePods(ctx context.Context, target provider.Resource, metrics []hpa.MetricSpec, now time.Time) (_ scaling.PodObservation, err error) {
	defer d.red.Errorp(&err)
	in, err := d.HPAInput(ctx, target.ID, metrics, now)
	if err != nil {
		return scaling.PodObservation{}, err
	}
	return scaling.PodObservation{StatusReplicas: int(in.StatusReplicas), Pods: in.Pods, Metrics: in.Metrics}, nil
}

// hpaPod converts a pod to the calculator's view of it.
func hpaPod(p *corev1.Pod) hpa.Pod {
	out := hpa.Pod{
		Name:     p.Name,
		Phase:    hpaPhase(p.Status.Phase),
		Deleting: p.DeletionTimestamp != nil,
		Overhead: milliList(p.Spec.Overhead),
	}
	for _, c := range p.Status.Conditions {
		if c.Type != corev1.PodReady {
			continue
		}
		switch c.Status {
		case corev1.ConditionTrue:
			out.Ready = hpa.ConditionTrue
		case corev1.ConditionFalse:
			out.Ready = hpa.ConditionFalse
		default:
			out.Ready = hpa.ConditionUnknown
		}
		out.ReadyTransition = c.LastTransitionTime.Time
		break
	}
	if p.Status.StartTime != nil {
		out.StartTime = p.Status.StartTime.Time
	}
	for _, c := range p.Spec.Containers {
		out.Containers = append(out.Containers, hpa.Container{Name: c.Name, Requests: milliList(c.Resources.Requests)})
	}
	for _, c := range p.Spec.InitContainers {
		always := c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
		out.InitContainers = append(out.InitContainers, hpa.Container{Name: c.Name, Requests: milliList(c.Resources.Requests), RestartAlways: always})
	}
	if p.Spec.Resources != nil {
		out.Requests = milliList(p.Spec.Resources.Requests)
	}
	return out
}

// hpaPhase maps a pod phase; the empty phase (never stored by the API
// server, which defaults it) counts as pending.
func hpaPhase(p corev1.PodPhase) hpa.PodPhase {
	switch p {
	case corev1.PodRunning:
		return hpa.PhaseRunning
	case corev1.PodSucceeded:
		return hpa.PhaseSucceeded
	case corev1.PodFailed:
		return hpa.PhaseFailed
	case corev1.PodUnknown:
		return hpa.PhaseUnknown
	}
	return hpa.PhasePending
}

// milliList converts a resource list to milli-units (Quantity.MilliValue);
// nil for an empty list.
func milliList(l corev1.ResourceList) hpa.ResourceList {
	if len(l) == 0 {
		return nil
	}
	out := make(hpa.ResourceList, len(l))
	for name, q := range l {
		out[hpa.ResourceName(name)] = q.MilliValue()
	}
	return out
}

// hpaSamples returns one sample per pod of pms, as the HPA's resource
// metrics client builds them (pkg/controller/podautoscaler/metrics/client.go,
// getPodMetrics and getContainerMetrics): the sum of res over the pod's
// containers, skipping a pod without containers or one of whose containers
// lacks res; or, with container set, that container's usage, skipping pods
// without it or without res in it. A negative usage of a container it
// counts is a *provider.InvalidError naming the pod and the container
// (the HPA's client would sum it in; QueryMetric refuses it too); one in
// a pod that has no sample (another container lacks res) is not counted.
func hpaSamples(pms []metricsv1beta1.PodMetrics, res corev1.ResourceName, container string) ([]hpa.Sample, error) {
	out := make([]hpa.Sample, 0, len(pms))
	for _, pm := range pms {
		var (
			sum      int64
			found    bool
			negative error // of a container counted, once the pod is known to have a sample
		)
		for _, c := range pm.Containers {
			if container != "" && c.Name != container {
				continue
			}
			q, ok := c.Usage[res]
			if !ok {
				found = false
				break
			}
			if q.Sign() < 0 && negative == nil {
				negative = fmt.Errorf("metrics of pod %s/%s: %w", pm.Namespace, pm.Name,
					provider.Invalid(fmt.Sprintf("containers[%s].usage.%s", c.Name, res), q.String(), "the metrics API must report usage ≥ 0"))
			}
			sum += q.MilliValue()
			found = true
		}
		if !found {
			continue // no sample, whatever its other containers report
		}
		if negative != nil {
			return nil, negative
		}
		out = append(out, hpa.Sample{Pod: pm.Name, Value: sum, Timestamp: pm.Timestamp.Time, Window: pm.Window.Duration})
	}
	return out, nil
}

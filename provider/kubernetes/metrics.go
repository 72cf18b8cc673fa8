package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"

	"github.com/idlescale/idlescale/provider"
)

// The driver's own metrics besides provider.MetricCPU and
// provider.MetricMemory (utilizations of the requests): the raw usage, and
// the metrics a usage source (WithUsageSource) must answer per pod.
const (
	// MetricCPUUsage is CPU usage in cores ("custom/cpu_cores"), summed
	// over a pod's containers and a workload's pods.
	MetricCPUUsage provider.Metric = provider.CustomPrefix + "cpu_cores"
	// MetricMemoryUsage is memory usage in bytes, the working set
	// ("custom/memory_bytes"), summed like MetricCPUUsage.
	MetricMemoryUsage provider.Metric = provider.CustomPrefix + "memory_bytes"
)

// QueryMetric reads a workload's or a pod's CPU or memory on the grid of q:
//
//	cpu           Σ CPU usage / Σ CPU requests of the pods with data in the step (fraction)
//	memory        Σ memory usage / Σ memory requests, likewise (fraction)
//	custom/cpu_cores     Σ CPU usage in cores
//	custom/memory_bytes  Σ memory working set in bytes
//
// as the HorizontalPodAutoscaler computes a resource utilization: over a
// workload's pods that its selector matches and that are neither being
// deleted nor terminated (Failed, Succeeded), with a pod's requests as
// podRequest counts them (its regular containers and native sidecars, or
// its pod-level requests). Each pod's samples are first reduced per
// step by q.Statistic; with StatCount a step holds the number of samples
// of all the pods, for every metric. A step without any pod's data is a
// gap. A pod one of whose containers the resource metrics API reports
// without the resource has no data, as for the HPA.
//
// By default the samples come from the resource metrics API
// (metrics.k8s.io/v1beta1, one list call per query), which knows only each
// pod's latest sample (its usage averaged over its window, stamped at its
// timestamp): a query returns data in the step holding that timestamp and
// gaps elsewhere. With WithUsageSource the history comes from that source,
// one query per pod (Config.Concurrency at a time; in a QueryMetrics
// batch, at most provider.WithBatchConcurrency's bound at once over the
// whole batch, eight by default).
//
// Errors: an invalid query provider.ErrInvalid before any call; another
// metric provider.ErrUnsupported; an unknown workload or pod
// provider.ErrNotFound; a workload without selector ErrNoSelector; a pod
// with data but no request for the resource of a utilization, or pods
// with data whose requests of it total 0, ErrMissingRequest (also
// provider.ErrUnsupported); no metrics client or
// usage source ErrNoMetricsSource; a workload's read from a resource
// metrics API that the cluster does not serve (no metrics-server)
// ErrUnavailable, never provider.ErrNotFound, which says the workload
// does not exist (a pod's read, a get of its PodMetrics, cannot tell
// that 404 from a pod without a sample, and returns gaps); a usage
// source's infinite or negative value, or a negative one from the
// metrics API, provider.ErrInvalid naming the pod.
func (d *Driver) QueryMetric(ctx context.Context, q provider.Query) (_ provider.Series, err error) {
	defer d.red.Errorp(&err)
	return d.queryMetric(ctx, q, nil)
}

// queryMetric is QueryMetric; slots, when not nil, bounds the usage
// source's queries of every read of a batch together (a query holds a
// slot while it runs).
func (d *Driver) queryMetric(ctx context.Context, q provider.Query, slots chan struct{}) (provider.Series, error) {
	const op = "query metric"
	if err := ctxErr(ctx, op, q.ResourceID); err != nil {
		return provider.Series{}, err
	}
	if err := q.Validate(); err != nil {
		return provider.Series{}, fmt.Errorf("kubernetes: %s: %w", op, err)
	}
	if name, ok, err := d.volumeRef(op, q.ResourceID); ok {
		if err != nil {
			return provider.Series{}, err
		}
		return d.volumeSeries(ctx, op, q, name)
	}
	res, utilization, ok := metricResource(q.Metric)
	if !ok {
		return provider.Series{}, fmt.Errorf("kubernetes: %s %q: %w: metric %s (the driver reads cpu, memory, %s and %s)",
			op, q.ResourceID, provider.ErrUnsupported, q.Metric, MetricCPUUsage, MetricMemoryUsage)
	}
	ref, err := d.resolve(ctx, op, q.ResourceID)
	if err != nil {
		return provider.Series{}, err
	}
	pods, sel, err := d.metricPods(ctx, op, q.ResourceID, ref)
	if err != nil {
		return provider.Series{}, err
	}
	if d.metrics == nil && d.usage == nil {
		return provider.Series{}, fmt.Errorf("kubernetes: %s %q: %w: %w (give NewForConfig a rest.Config, or use WithMetricsClient or WithUsageSource)",
			op, q.ResourceID, ErrNoMetricsSource, provider.ErrUnsupported)
	}
	var perPod []provider.Series
	if d.usage != nil {
		perPod, err = d.usageSeries(ctx, q, pods, res, slots)
	} else {
		perPod, err = d.metricsAPISeries(ctx, op, q, ref, sel, pods, res)
	}
	if err != nil {
		return provider.Series{}, err
	}
	return combine(q, pods, perPod, res, utilization)
}

// metricResource returns the resource a metric measures and whether it is
// a utilization of the requests.
func metricResource(m provider.Metric) (corev1.ResourceName, bool, bool) {
	switch m {
	case provider.MetricCPU:
		return corev1.ResourceCPU, true, true
	case provider.MetricMemory:
		return corev1.ResourceMemory, true, true
	case MetricCPUUsage:
		return corev1.ResourceCPU, false, true
	case MetricMemoryUsage:
		return corev1.ResourceMemory, false, true
	}
	return "", false, false
}

// metricPods returns the pods whose usage counts for ref: a workload's
// pods that are neither deleted nor terminated, or the one pod, and the
// selector that lists them (nil for a pod).
func (d *Driver) metricPods(ctx context.Context, op, id string, ref Ref) ([]corev1.Pod, labels.Selector, error) {
	if ref.Kind == ObjectPod {
		p, _, err := d.getPod(ctx, op, id, ref)
		if err != nil {
			return nil, nil, err
		}
		return []corev1.Pod{*p}, nil, nil
	}
	w, err := d.getWorkload(ctx, op, id, ref)
	if err != nil {
		return nil, nil, err
	}
	all, sel, err := d.workloadPods(ctx, op, id, w)
	if err != nil {
		return nil, nil, err
	}
	pods := slices.DeleteFunc(all, func(p corev1.Pod) bool {
		return p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded
	})
	return pods, sel, nil
}

// workloadPods lists the pods the workload's selector matches, sorted by
// name.
func (d *Driver) workloadPods(ctx context.Context, op, id string, w workload) ([]corev1.Pod, labels.Selector, error) {
	sel, err := w.podSelector()
	if err != nil {
		return nil, nil, fmt.Errorf("kubernetes: %s %q: %w", op, id, err)
	}
	list, err := d.client.CoreV1().Pods(w.ref.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, nil, wrap(op, id, call{verb: "list", resource: "pods", namespace: w.ref.Namespace}, err)
	}
	pods := list.Items
	slices.SortFunc(pods, func(a, b corev1.Pod) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return pods, sel, nil
}

// listPodMetrics reads the latest PodMetrics of the pods sel matches in
// namespace, or of the one pod name when sel is nil; a pod without metrics
// is absent from the result.
func (d *Driver) listPodMetrics(ctx context.Context, op, id, namespace string, sel labels.Selector, name string) ([]metricsv1beta1.PodMetrics, error) {
	api := d.metrics.MetricsV1beta1().PodMetricses(namespace)
	if sel == nil {
		pm, err := api.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, wrap(op, id, call{verb: "get", resource: "pods.metrics.k8s.io", namespace: namespace, name: name}, err)
		}
		return []metricsv1beta1.PodMetrics{*pm}, nil
	}
	list, err := api.List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if apierrors.IsNotFound(err) {
		// A list finds no object to miss: its resource is not served
		// (no metrics-server, or no APIService for it). The workload
		// exists; its metrics API does not answer.
		return nil, fmt.Errorf("kubernetes: %s %q: %w: the resource metrics API (metrics.k8s.io/v1beta1) is not served; install metrics-server, or read usage with WithUsageSource: %w",
			op, id, ErrUnavailable, err)
	}
	if err != nil {
		return nil, wrap(op, id, call{verb: "list", resource: "pods.metrics.k8s.io", namespace: namespace}, err)
	}
	return list.Items, nil
}

// metricsAPISeries places each pod's latest sample from the resource
// metrics API on the grid of q: one Series per pod, in the order of pods.
func (d *Driver) metricsAPISeries(ctx context.Context, op string, q provider.Query, ref Ref, sel labels.Selector, pods []corev1.Pod, res corev1.ResourceName) ([]provider.Series, error) {
	name := ""
	if sel == nil && len(pods) == 1 {
		name = pods[0].Name
	}
	pms, err := d.listPodMetrics(ctx, op, q.ResourceID, ref.Namespace, sel, name)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]metricsv1beta1.PodMetrics, len(pms))
	for _, pm := range pms {
		byName[pm.Name] = pm
	}
	out := make([]provider.Series, len(pods))
	for i, p := range pods {
		var samples []provider.Sample
		if pm, ok := byName[p.Name]; ok && !pm.Timestamp.IsZero() {
			v, ok, err := containerUsage(pm, res)
			if err != nil {
				return nil, fmt.Errorf("kubernetes: %s %q: metrics of pod %s: %w", op, q.ResourceID, p.Name, err)
			}
			if ok {
				samples = []provider.Sample{{Time: pm.Timestamp.Time, Value: v}}
			}
		}
		s, err := provider.Resample(q, samples)
		if err != nil {
			return nil, fmt.Errorf("kubernetes: %s %q: metrics of pod %s: %w", op, q.ResourceID, p.Name, err)
		}
		out[i] = s
	}
	return out, nil
}

// containerUsage sums a resource's usage over a pod's containers, in cores
// or bytes; ok is false for a pod without containers or one of whose
// containers lacks the resource, which has no sample, as the HPA's metrics
// client skips it (a partial sum would count the pod's whole request
// against part of its usage). A negative usage is a *provider.InvalidError
// naming the container.
func containerUsage(pm metricsv1beta1.PodMetrics, res corev1.ResourceName) (v float64, ok bool, err error) {
	for _, c := range pm.Containers {
		q, found := c.Usage[res]
		if !found {
			return 0, false, nil
		}
		if q.Sign() < 0 {
			return 0, false, provider.Invalid(fmt.Sprintf("containers[%s].usage.%s", c.Name, res), q.String(), "the metrics API must report usage ≥ 0")
		}
		v += quantity(q, res)
	}
	return v, len(pm.Containers) > 0, nil
}

// usageSeries asks the usage source for each pod's usage on the grid of q,
// Config.Concurrency pods at a time, each holding one of slots (when not
// nil: a batch's bound) while it asks. A pod the source does not know is
// all gaps; an infinite or negative value is provider.ErrInvalid.
func (d *Driver) usageSeries(ctx context.Context, q provider.Query, pods []corev1.Pod, res corev1.ResourceName, slots chan struct{}) ([]provider.Series, error) {
	metric := MetricCPUUsage
	if res == corev1.ResourceMemory {
		metric = MetricMemoryUsage
	}
	out := make([]provider.Series, len(pods))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(d.cfg.Concurrency)
	for i, p := range pods {
		g.Go(func() error {
			if slots != nil {
				select {
				case slots <- struct{}{}:
					defer func() { <-slots }()
				case <-gctx.Done():
					return ctxErr(gctx, "query metric", q.ResourceID)
				}
			}
			pq := q
			pq.ResourceID, pq.Metric = Ref{Namespace: p.Namespace, Kind: ObjectPod, Name: p.Name}.String(), metric
			s, err := d.usage.PodUsage(gctx, p.Namespace, p.Name, pq)
			if errors.Is(err, provider.ErrNotFound) {
				s, err = provider.Resample(pq, nil)
			}
			if err != nil {
				return fmt.Errorf("kubernetes: query metric %q: usage of pod %s: %w", q.ResourceID, p.Name, err)
			}
			if !s.Start.Equal(q.Start) || s.Step != q.Step || s.Len() != q.Steps() {
				return fmt.Errorf("kubernetes: query metric %q: the usage source returned pod %s on another grid (start %s, step %s, %d steps; want %s, %s, %d)",
					q.ResourceID, p.Name, s.Start, s.Step, s.Len(), q.Start, q.Step, q.Steps())
			}
			for k, v := range s.Values {
				if math.IsInf(v, 0) || v < 0 { // cores and bytes: never negative
					return fmt.Errorf("kubernetes: query metric %q: the usage source returned pod %s: %w",
						q.ResourceID, p.Name, provider.Invalid(fmt.Sprintf("values[%d]", k), v, "usage must be finite and ≥ 0, or a gap (NaN)"))
				}
			}
			out[i] = s
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// combine aggregates per-pod series into the workload's: sums, or sums of
// usage over sums of requests of the pods with data in the step.
func combine(q provider.Query, pods []corev1.Pod, perPod []provider.Series, res corev1.ResourceName, utilization bool) (provider.Series, error) {
	out := provider.Series{ResourceID: q.ResourceID, Metric: q.Metric, Start: q.Start, Step: q.Step, Values: make([]float64, q.Steps())}
	count := q.Statistic == provider.StatCount
	requests := make([]float64, len(pods))
	missing := make([]string, len(pods)) // a container without a request
	for i := range pods {
		requests[i], missing[i] = podRequest(&pods[i].Spec, res)
	}
	for k := range out.Values {
		var sum, req float64
		n := 0
		for i, s := range perPod {
			v := s.Values[k]
			if provider.IsGap(v) {
				continue
			}
			if utilization && !count && missing[i] != "" {
				return provider.Series{}, fmt.Errorf("kubernetes: query metric %q: %w: %s of pod %s/%s has no %s request: %w",
					q.ResourceID, ErrMissingRequest, missing[i], pods[i].Namespace, pods[i].Name, res, provider.ErrUnsupported)
			}
			sum += v
			req += requests[i]
			n++
		}
		switch {
		case n == 0:
			out.Values[k] = provider.Gap
		case utilization && !count && req == 0:
			// Σ usage / 0 is +Inf, or NaN (a gap) when idle: no
			// utilization, as the HPA's calculator refuses it.
			return provider.Series{}, fmt.Errorf("kubernetes: query metric %q: %w: the pods with data at %s request 0 %s: %w",
				q.ResourceID, ErrMissingRequest, out.TimeAt(k).Format(time.RFC3339), res, provider.ErrUnsupported)
		case utilization && !count:
			out.Values[k] = sum / req
		default:
			out.Values[k] = sum
		}
	}
	return out, nil
}

// podRequest returns a pod's request of res (cores or bytes) as the
// HorizontalPodAutoscaler computes it: the pod-level request
// (spec.resources) when the pod sets pod-level CPU, memory or hugepages
// requests, else the sum over its regular containers and its restartable
// init containers (native sidecars, restartPolicy Always), whose usage the
// metrics include. missing names what has no request ("" when nothing is
// missing): a container, sidecars included, or the pod-level resources.
func podRequest(spec *corev1.PodSpec, res corev1.ResourceName) (sum float64, missing string) {
	if podLevelRequestsSet(spec) {
		q, ok := spec.Resources.Requests[res]
		if !ok {
			return 0, "the pod-level resources"
		}
		return quantity(q, res), ""
	}
	add := func(c *corev1.Container) {
		q, ok := c.Resources.Requests[res]
		if !ok {
			if missing == "" {
				missing = fmt.Sprintf("container %q", c.Name)
			}
			return
		}
		sum += quantity(q, res)
	}
	for i := range spec.Containers {
		add(&spec.Containers[i])
	}
	for i := range spec.InitContainers {
		if c := &spec.InitContainers[i]; c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			add(c)
		}
	}
	return sum, missing
}

// podLevelRequestsSet reports whether spec sets pod-level requests of a
// resource that can be set at pod level (CPU, memory, hugepages), as the
// HPA's resourcehelpers.IsPodLevelRequestsSet does.
func podLevelRequestsSet(spec *corev1.PodSpec) bool {
	if spec.Resources == nil {
		return false
	}
	for r := range spec.Resources.Requests {
		if r == corev1.ResourceCPU || r == corev1.ResourceMemory || strings.HasPrefix(string(r), corev1.ResourceHugePagesPrefix) {
			return true
		}
	}
	return false
}

// quantity is q in cores for CPU, else in its base unit (bytes).
func quantity(q resource.Quantity, res corev1.ResourceName) float64 {
	if res == corev1.ResourceCPU {
		return float64(q.MilliValue()) / 1000
	}
	return float64(q.Value())
}

package kubernetes

import (
	"context"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
)

var (
	_ provider.ResourceBatcher = (*Driver)(nil)
	_ provider.CapacityBatcher = (*Driver)(nil)
	_ provider.MetricsBatcher  = (*Driver)(nil)
	_ provider.ActivityBatcher = (*Driver)(nil)
	_ scaling.PodBatcher       = (*Driver)(nil)
)

// Batch reads: the Autoscaler reads a batch of targets at a time (their
// workloads, capacities and pods). One at a time, that is a GET of the
// workload and a LIST of its namespace's HPAs for Get, a GET for
// Capacity, and a GET, a LIST of pods and a LIST of pod metrics for
// ObservePods: six calls a target, which client-go's default rate limit
// (5 a second) spreads over more than a second. In a batch the driver
// lists each namespace's workloads once (a LIST of Deployments and one of
// StatefulSets), for GetResources its HPAs once, and for ObservePodsBatch
// its pods and pod metrics once, and answers every read from those lists, matching
// each workload's selector itself as the API server would. What a list
// cannot answer exactly as the single call would — a pod's ID, an object
// the list does not have (the single call's error then says why), a list
// that failed (forbidden to list, say, where GET is allowed), pod metrics
// without their pods' labels — is read with the single call. One
// difference remains: a user who may list workloads but not get them
// reads them in a batch and is refused one by one (the driver's RBAC
// grants both).

// nsLists is what a batch listed of one namespace: its workloads by name
// (the ones the configured label selector selects), and for pods, every
// pod and pod metrics object.
type nsLists struct {
	workloads map[Ref]workload
	failed    bool // a list failed: the namespace's reads are made one by one
	pods      []corev1.Pod
	metrics   []metricsv1beta1.PodMetrics
	metricErr bool // listing pod metrics failed, or the list cannot be matched to selectors
	listedPM  bool
}

// listNamespace lists the workloads of ns (and, with pods, its pods) for
// op.
func (d *Driver) listNamespace(ctx context.Context, op, ns string, pods bool) *nsLists {
	l := &nsLists{}
	ws, err := d.listWorkloads(ctx, op, ns)
	if err != nil {
		l.failed = true
		return l
	}
	l.workloads = make(map[Ref]workload, len(ws))
	for _, w := range ws {
		l.workloads[w.ref] = w
	}
	if pods {
		list, err := d.client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			l.failed = true
			return l
		}
		l.pods = list.Items
		slices.SortFunc(l.pods, func(a, b corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	}
	return l
}

// podMetrics returns the pod metrics of l's namespace that sel selects,
// listing them on the first call; ok is false when the list failed.
func (d *Driver) podMetrics(ctx context.Context, op, ns string, l *nsLists, sel labels.Selector) ([]metricsv1beta1.PodMetrics, bool) {
	if !l.listedPM {
		l.listedPM = true
		list, err := d.metrics.MetricsV1beta1().PodMetricses(ns).List(ctx, metav1.ListOptions{})
		switch {
		case err != nil:
			l.metricErr = true
		case !labelled(list.Items, l.pods):
			// A metrics API that does not copy the pods' labels into its
			// objects (metrics-server before v0.5.0): the selectors cannot
			// be matched here as the server matches them.
			l.metricErr = true
		default:
			l.metrics = list.Items
		}
	}
	if l.metricErr {
		return nil, false
	}
	var out []metricsv1beta1.PodMetrics
	for i := range l.metrics {
		if sel.Matches(labels.Set(l.metrics[i].Labels)) {
			out = append(out, l.metrics[i])
		}
	}
	return out, true
}

// labelled reports whether the pod metrics carry their pods' labels, as
// metrics-server (v0.5.0 and later) and prometheus-adapter copy them: no
// object without labels whose pod has some.
func labelled(pms []metricsv1beta1.PodMetrics, pods []corev1.Pod) bool {
	var podLabels map[string]int
	for i := range pms {
		if len(pms[i].Labels) > 0 {
			continue
		}
		if podLabels == nil {
			podLabels = make(map[string]int, len(pods))
			for k := range pods {
				podLabels[pods[k].Name] = len(pods[k].Labels)
			}
		}
		if podLabels[pms[i].Name] > 0 {
			return false
		}
	}
	return true
}

// batchRefs resolves the IDs of a batch for op: the workload reads it can
// answer from lists, by namespace (indexes into the batch), and whether
// each read is left to the single call (a pod, an ID that does not
// resolve: the single call returns the same error).
func (d *Driver) batchRefs(ctx context.Context, op string, ids func(int) string, n int) (refs []Ref, byNS map[string][]int, single []bool) {
	refs, single, byNS = make([]Ref, n), make([]bool, n), map[string][]int{}
	for i := range n {
		ref, err := d.resolve(ctx, op, ids(i))
		if err != nil || ref.Kind == ObjectPod {
			single[i] = true
			continue
		}
		refs[i] = ref
		byNS[ref.Namespace] = append(byNS[ref.Namespace], i)
	}
	return refs, byNS, single
}

// GetResources implements provider.ResourceBatcher: every read is
// answered as Get would answer it, a namespace's workloads from one list,
// and the HorizontalPodAutoscalers that scale them (ScaledBy) from one
// more (a read whose namespace's HPAs could not be listed is made with
// Get, which returns its error); PersistentVolumes from one list of them
// (and one of the VolumeAttachments, one of the claims), a read of one the list does not
// have as selected made with Get.
func (d *Driver) GetResources(ctx context.Context, reads []provider.ResourceRead) error {
	type hpas struct {
		scaledBy map[Ref]string
		err      error
	}
	byNS := map[string]hpas{}
	volumes := volumeIndex{d: d, op: "get"}
	fromVolumes := func(r *provider.ResourceRead) bool {
		v, ok := volumes.get(ctx, r.ID)
		if ok {
			r.Resource, r.Err = d.volumeResource(v), nil
		}
		return ok
	}
	return batchWorkloads(ctx, d, "get", "get resources", reads,
		func(r *provider.ResourceRead) string { return r.ID },
		func(r *provider.ResourceRead, err error) { r.Resource, r.Err = provider.Resource{}, err },
		func(r *provider.ResourceRead, w workload) {
			h, ok := byNS[w.ref.Namespace]
			if !ok {
				h.scaledBy, h.err = d.scaledBy(ctx, "get", r.ID, w.ref.Namespace)
				byNS[w.ref.Namespace] = h
			}
			if h.err != nil {
				r.Resource, r.Err = d.Get(ctx, r.ID)
				return
			}
			r.Resource, r.Err = d.workloadResource(w, h.scaledBy[w.ref]), nil
		},
		func(r *provider.ResourceRead) {
			if !fromVolumes(r) {
				r.Resource, r.Err = d.Get(ctx, r.ID)
			}
		})
}

// GetCapacities implements provider.CapacityBatcher: every read is
// answered as Capacity would answer it, a namespace's workloads from one
// list.
func (d *Driver) GetCapacities(ctx context.Context, reads []provider.CapacityRead) error {
	return batchWorkloads(ctx, d, "capacity", "get capacities", reads,
		func(r *provider.CapacityRead) string { return r.ID },
		func(r *provider.CapacityRead, err error) { r.Capacity, r.Err = provider.Capacity{}, err },
		func(r *provider.CapacityRead, w workload) {
			r.Capacity, r.Err = d.capacity("capacity", r.ID, w)
			r.Err = d.red.Error(r.Err)
		},
		func(r *provider.CapacityRead) { r.Capacity, r.Err = d.Capacity(ctx, r.ID) })
}

// volumeIndex answers a batch's reads of PersistentVolumes from one
// listing of them (listVolumes: one LIST of the volumes, one of the
// VolumeAttachments and one of the claims), made at the first read of a
// volume, where a single read of a stopped one makes those three LISTs
// each.
type volumeIndex struct {
	d      *Driver
	op     string
	listed bool
	byName map[string]volume // nil when the listing failed
}

// get returns the PersistentVolume id names, judged against the cluster's
// others as the single read judges it; ok is false when id names no
// volume (or volumes are not listed: Config.PersistentVolumes.List), the
// listing failed, or it has no such volume that the configuration
// selects: the single call then answers, with its error.
func (x *volumeIndex) get(ctx context.Context, id string) (volume, bool) {
	name, ok, err := x.d.volumeRef(x.op, id)
	if !ok || err != nil {
		return volume{}, false
	}
	if !x.listed {
		x.listed = true
		if vs, err := x.d.listVolumes(ctx, x.op, ""); err == nil {
			x.byName = make(map[string]volume, len(vs))
			for _, v := range vs {
				x.byName[v.pv.Name] = v
			}
		}
	}
	v, ok := x.byName[name]
	if !ok || !x.d.sees(v.pv) {
		return volume{}, false
	}
	return v, true
}

// ended returns the error of the batch call whole when ctx ended before
// it, after giving it to every read with fail; nil otherwise.
func ended[R any](ctx context.Context, d *Driver, whole string, reads []R, fail func(*R, error)) error {
	err := ctxErr(ctx, whole, "")
	if err == nil {
		return nil
	}
	err = d.red.Error(err)
	for i := range reads {
		fail(&reads[i], err)
	}
	return err
}

// batchSingle is how many single calls a batch of metric or activity
// reads makes at once for the reads it does not answer from a listing (a
// workload's metrics), unless the context bounds it
// (provider.WithBatchConcurrency: a detector Scan passes its
// ScanConfig.Concurrency, whose default is 8 too).
const batchSingle = 8

// batchVolumes answers reads for the batch call whole: fromList answers a
// read from a listing, when it can, and single makes the single call for
// the others, batchSingle at a time (or the context's bound), once every
// read a listing answers is answered: the listing is made before any
// single call, not beside them, so that the batch makes no more calls at
// once than the bound; fail gives every read the error of a ctx that
// ended before the batch.
func batchVolumes[R any](ctx context.Context, d *Driver, whole string, reads []R,
	fail func(*R, error), fromList func(*R) bool, single func(*R),
) error {
	if err := ended(ctx, d, whole, reads, fail); err != nil {
		return err
	}
	var rest []int // the reads no listing answers
	for i := range reads {
		if !fromList(&reads[i]) {
			rest = append(rest, i)
		}
	}
	var (
		wg   sync.WaitGroup
		slot = make(chan struct{}, provider.BatchConcurrency(ctx, batchSingle))
	)
	for _, i := range rest {
		slot <- struct{}{}
		wg.Go(func() {
			defer func() { <-slot }()
			single(&reads[i])
		})
	}
	wg.Wait()
	return d.red.Error(ctxErr(ctx, whole, ""))
}

// QueryMetrics implements provider.MetricsBatcher: every read is answered
// as QueryMetric would answer it, the disk counts of PersistentVolumes
// from one listing of them (volumeIndex), the other reads with
// QueryMetric, at most eight at once or as many as
// provider.WithBatchConcurrency sets; that bound also holds for the usage
// source's per-pod queries (WithUsageSource) of the whole batch, so that
// a batch asks a Prometheus server no more at once than its caller allows.
func (d *Driver) QueryMetrics(ctx context.Context, reads []provider.MetricRead) error {
	const op = "query metric"
	volumes := volumeIndex{d: d, op: op}
	usageSlots := make(chan struct{}, provider.BatchConcurrency(ctx, batchSingle))
	return batchVolumes(ctx, d, "query metrics", reads,
		func(r *provider.MetricRead, err error) {
			r.Series, r.Err = provider.Series{Values: r.Series.Values[:0]}, err
		},
		func(r *provider.MetricRead) bool {
			q := r.Query
			if q.Metric != provider.MetricDiskRead && q.Metric != provider.MetricDiskWrite || q.Validate() != nil {
				return false
			}
			v, ok := volumes.get(ctx, q.ResourceID)
			if ok {
				r.Series, r.Err = d.quietSeries(op, q, v)
				r.Err = d.red.Error(r.Err)
			}
			return ok
		},
		func(r *provider.MetricRead) {
			r.Series, r.Err = d.queryMetric(ctx, r.Query, usageSlots)
			r.Err = d.red.Error(r.Err)
		})
}

// Activities implements provider.ActivityBatcher: every read is answered
// as Activity would answer it, those of PersistentVolumes from one
// listing of them (volumeIndex), the others with Activity (at most eight at
// once or as many as provider.WithBatchConcurrency sets).
func (d *Driver) Activities(ctx context.Context, reads []provider.ActivityRead) error {
	const op = "activity"
	volumes := volumeIndex{d: d, op: op}
	return batchVolumes(ctx, d, "activities", reads,
		func(r *provider.ActivityRead, err error) { r.Counts, r.Err = nil, err },
		func(r *provider.ActivityRead) bool {
			if r.Query.Validate() != nil {
				return false
			}
			v, ok := volumes.get(ctx, r.Query.ResourceID)
			if ok {
				r.Counts, r.Err = quietActivity(op, r.Query, v)
				r.Err = d.red.Error(r.Err)
			}
			return ok
		},
		func(r *provider.ActivityRead) { r.Counts, r.Err = d.Activity(ctx, r.Query) })
}

// batchWorkloads answers reads of workloads for op (the batch call whole):
// fromList from a namespace's list where it has the read's workload, else
// single (the single call); fail gives every read the error of a ctx that
// ended before the batch.
func batchWorkloads[R any](ctx context.Context, d *Driver, op, whole string, reads []R,
	id func(*R) string, fail func(*R, error), fromList func(*R, workload), single func(*R),
) error {
	if err := ended(ctx, d, whole, reads, fail); err != nil {
		return err
	}
	refs, byNS, one := d.batchRefs(ctx, op, func(i int) string { return id(&reads[i]) }, len(reads))
	for _, ns := range sortedKeys(byNS) {
		l := d.listNamespace(ctx, op, ns, false)
		for _, i := range byNS[ns] {
			if w, ok := l.workloads[refs[i]]; ok && !l.failed {
				fromList(&reads[i], w)
			} else {
				one[i] = true
			}
		}
	}
	for i := range reads {
		if one[i] {
			single(&reads[i])
		}
	}
	return d.red.Error(ctxErr(ctx, whole, ""))
}

// ObservePodsBatch implements scaling.PodBatcher: every read is answered
// as ObservePods would answer it, from one list of a namespace's
// workloads, one of its pods and one of its pod metrics.
func (d *Driver) ObservePodsBatch(ctx context.Context, reads []scaling.PodRead) error {
	const op = "hpa input"
	if err := ctxErr(ctx, "observe pods", ""); err != nil {
		err = d.red.Error(err)
		for i := range reads {
			reads[i].Observation, reads[i].Err = scaling.PodObservation{}, err
		}
		return err
	}
	refs, byNS, single := d.batchRefs(ctx, op, func(i int) string { return reads[i].Target.ID }, len(reads))
	for _, ns := range sortedKeys(byNS) {
		l := d.listNamespace(ctx, op, ns, true)
		for _, i := range byNS[ns] {
			r := &reads[i]
			w, ok := l.workloads[refs[i]]
			if l.failed || !ok {
				single[i] = true
				continue
			}
			sel, err := w.podSelector()
			if err != nil {
				single[i] = true // the single call's error
				continue
			}
			var pods []corev1.Pod
			for k := range l.pods {
				if sel.Matches(labels.Set(l.pods[k].Labels)) {
					pods = append(pods, l.pods[k])
				}
			}
			metricsFailed := false
			in, err := d.hpaInput(ctx, op, r.Target.ID, w, pods, r.Metrics, r.Now, func() ([]metricsv1beta1.PodMetrics, error) {
				pms, ok := d.podMetrics(ctx, op, ns, l, sel)
				if !ok {
					metricsFailed = true
				}
				return pms, nil
			})
			if metricsFailed {
				single[i] = true // the single call's error for the metrics
				continue
			}
			if err != nil {
				r.Observation, r.Err = scaling.PodObservation{}, d.red.Error(err)
				continue
			}
			r.Observation, r.Err = scaling.PodObservation{StatusReplicas: int(in.StatusReplicas), Pods: in.Pods, Metrics: in.Metrics}, nil
		}
	}
	for i := range reads {
		if r := &reads[i]; single[i] {
			r.Observation, r.Err = d.ObservePods(ctx, r.Target, r.Metrics, r.Now)
		}
	}
	return d.red.Error(ctxErr(ctx, "observe pods", ""))
}

// sortedKeys returns m's keys in order (the namespaces of a batch are
// listed in a fixed order).
func sortedKeys(m map[string][]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

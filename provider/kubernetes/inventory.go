package kubernetes

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/idlescale/idlescale/provider"
)

// List returns the Deployments and StatefulSets the configuration selects
// (kind group) and their pods (kind instance) that match f, sorted by ID.
// A pod is listed once, under the first workload (by ID) whose selector
// matches its labels; pods of no listed workload are not listed.
func (d *Driver) List(ctx context.Context, f provider.Filter) (_ []provider.Resource, err error) {
	defer d.red.Errorp(&err)
	if err := ctxErr(ctx, "list", ""); err != nil {
		return nil, err
	}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("kubernetes: list: %w", err)
	}
	wantPods := len(f.Kinds) == 0 || slices.Contains(f.Kinds, provider.KindInstance)
	out, err := d.listVolumeResources(ctx, f)
	if err != nil {
		return nil, err
	}
	if len(f.Kinds) > 0 && !wantPods && !slices.Contains(f.Kinds, provider.KindGroup) {
		slices.SortFunc(out, func(a, b provider.Resource) int { return cmp.Compare(a.ID, b.ID) })
		return out, nil // no workload asked for
	}
	for _, ns := range d.namespaces() {
		ws, err := d.listWorkloads(ctx, "list", ns)
		if err != nil {
			return nil, err
		}
		var listed []Ref // the workloads listed, out's last ones
		for _, w := range ws {
			if r := d.workloadResource(w, ""); f.Match(r) { // the filter reads no ScaledBy
				out, listed = append(out, r), append(listed, w.ref)
			}
		}
		if len(listed) > 0 {
			// The HPAs of the namespace, when a workload is listed.
			scaledBy, err := d.scaledBy(ctx, "list", "", ns)
			if err != nil {
				return nil, err
			}
			for i, ref := range listed {
				out[len(out)-len(listed)+i].ScaledBy = scaledBy[ref]
			}
		}
		if !wantPods || len(ws) == 0 {
			continue
		}
		pods, err := d.client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, wrap("list", "", call{verb: "list", resource: "pods", namespace: ns}, err)
		}
		owners := newOwnerIndex(ws)
		for i := range pods.Items {
			p := &pods.Items[i]
			w, ok := owners.owner(p)
			if !ok {
				continue
			}
			if r := d.podResource(p, w); f.Match(r) {
				out = append(out, r)
			}
		}
	}
	slices.SortFunc(out, func(a, b provider.Resource) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// Get returns one workload or pod by ID (NAMESPACE/KIND/NAME). A pod is
// found only when a workload the configuration selects owns it (see List).
// An ID of any other form, or in a namespace outside Config.Namespaces, is
// provider.ErrNotFound.
func (d *Driver) Get(ctx context.Context, id string) (_ provider.Resource, err error) {
	defer d.red.Errorp(&err)
	if err := ctxErr(ctx, "get", id); err != nil {
		return provider.Resource{}, err
	}
	if name, ok, err := d.volumeRef("get", id); ok {
		if err != nil {
			return provider.Resource{}, err
		}
		v, err := d.getVolume(ctx, "get", id, name)
		if err != nil {
			return provider.Resource{}, err
		}
		return d.volumeResource(v), nil
	}
	ref, err := d.resolve(ctx, "get", id)
	if err != nil {
		return provider.Resource{}, err
	}
	if ref.Kind != ObjectPod {
		w, err := d.getWorkload(ctx, "get", id, ref)
		if err != nil {
			return provider.Resource{}, err
		}
		scaledBy, err := d.scaledBy(ctx, "get", id, ref.Namespace)
		if err != nil {
			return provider.Resource{}, err
		}
		return d.workloadResource(w, scaledBy[ref]), nil
	}
	p, w, err := d.getPod(ctx, "get", id, ref)
	if err != nil {
		return provider.Resource{}, err
	}
	return d.podResource(p, w), nil
}

// resolve checks ctx and id and returns the object id names, or an error:
// provider.ErrInvalid for an ID ValidateID refuses, provider.ErrNotFound for
// any other ID that names nothing the driver sees.
func (d *Driver) resolve(ctx context.Context, op, id string) (Ref, error) {
	if err := ctxErr(ctx, op, id); err != nil {
		return Ref{}, err
	}
	ref, ok, err := ParseRef(id)
	if err != nil {
		return Ref{}, fmt.Errorf("kubernetes: %s: %w", op, err)
	}
	if !ok {
		return Ref{}, notFound(op, id, idFormat)
	}
	if ref.Kind == ObjectPersistentVolume {
		if !d.cfg.PersistentVolumes.List {
			return Ref{}, notFound(op, id, "config.persistent_volumes.list is off")
		}
		return Ref{}, fmt.Errorf("kubernetes: %s %q: %w: the driver lists and reads PersistentVolumes, and changes none", op, id, provider.ErrUnsupported)
	}
	if !d.inScope(ref.Namespace) {
		return Ref{}, notFound(op, id, "namespace "+ref.Namespace+" is not in config.namespaces")
	}
	return ref, nil
}

// getPod reads a pod and the workload that owns it; a pod no selected
// workload owns is provider.ErrNotFound.
func (d *Driver) getPod(ctx context.Context, op, id string, ref Ref) (*corev1.Pod, workload, error) {
	p, err := d.client.CoreV1().Pods(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if err != nil {
		return nil, workload{}, wrap(op, id, call{verb: "get", resource: "pods", namespace: ref.Namespace, name: ref.Name}, err)
	}
	ws, err := d.listWorkloads(ctx, op, ref.Namespace)
	if err != nil {
		return nil, workload{}, err
	}
	w, ok := newOwnerIndex(ws).owner(p)
	if !ok {
		return nil, workload{}, notFound(op, id, "no Deployment or StatefulSet the driver sees selects the pod")
	}
	return p, w, nil
}

// ownerIndex finds the workload of a pod by selector.
type ownerIndex struct {
	ws   []workload
	sels []labels.Selector // nil for a workload without a usable selector
}

func newOwnerIndex(ws []workload) ownerIndex {
	idx := ownerIndex{ws: ws, sels: make([]labels.Selector, len(ws))}
	for i, w := range ws {
		if sel, err := w.podSelector(); err == nil {
			idx.sels[i] = sel
		}
	}
	return idx
}

// owner returns the first workload (by ID) of the pod's namespace whose
// selector matches the pod's labels.
func (o ownerIndex) owner(p *corev1.Pod) (workload, bool) {
	set := labels.Set(p.Labels)
	for i, w := range o.ws {
		if w.ref.Namespace == p.Namespace && o.sels[i] != nil && o.sels[i].Matches(set) {
			return w, true
		}
	}
	return workload{}, false
}

// workloadState maps a workload onto the lifecycle states: terminated while
// it is being deleted; stopped at zero replicas with none left, stopping at
// zero replicas with some left (a Deployment's terminating pods, still
// shutting down, included; or not known to have none: a status of an
// older spec may predate pods a start made, see observed); pending while
// none of its replicas is ready (or known ready: a status of an older
// spec counts none); running otherwise.
func workloadState(w workload) provider.State {
	switch {
	case w.deleting():
		return provider.StateTerminated
	case w.replicas == 0 && w.current == 0 && w.terminating == 0 && !w.stale:
		return provider.StateStopped
	case w.replicas == 0:
		return provider.StateStopping
	case w.ready == 0:
		return provider.StatePending
	}
	return provider.StateRunning
}

// podState maps a pod onto the lifecycle states: stopping while it is being
// deleted, then by phase: Pending (and Unknown) pending, Running running,
// Succeeded and Failed terminated.
func podState(p *corev1.Pod) provider.State {
	if p.DeletionTimestamp != nil {
		return provider.StateStopping
	}
	switch p.Status.Phase {
	case corev1.PodRunning:
		return provider.StateRunning
	case corev1.PodSucceeded, corev1.PodFailed:
		return provider.StateTerminated
	}
	return provider.StatePending
}

// workloadResource is the resource of w, which scaledBy scales (see
// provider.Resource.ScaledBy; empty for none). A workload whose bound
// annotations are malformed is listed, Protected, as one whose
// criticality or time zone is (applyMetadata): its owner meant bounds the
// driver cannot read, so the safety rules must not act on it as if it
// had none (and its Capacity and writes are provider.ErrInvalid).
func (d *Driver) workloadResource(w workload, scaledBy string) provider.Resource {
	r := provider.Resource{
		ID: w.ref.String(), Kind: provider.KindGroup, Provider: d.cfg.Name, Region: d.cfg.Region,
		Name: w.ref.Name, State: workloadState(w), Tags: tags(w.meta),
		LaunchTime: w.meta.CreationTimestamp.Time, ScaledBy: scaledBy,
	}
	applyMetadata(&r, w.meta)
	if _, err := d.bounds(w); err != nil {
		r.Protected = true
	}
	cpu, mem := podRequests(&w.template.Spec)
	r.Size = sizeOf(cpu, mem)
	r.HourlyCost = d.hourlyCost(cpu, mem) * float64(w.replicas)
	return r.NormalizeLabels()
}

func (d *Driver) podResource(p *corev1.Pod, owner workload) provider.Resource {
	r := provider.Resource{
		ID: Ref{Namespace: p.Namespace, Kind: ObjectPod, Name: p.Name}.String(), Kind: provider.KindInstance,
		Provider: d.cfg.Name, Region: d.cfg.Region, Name: p.Name, State: podState(p),
		Tags: tags(p.ObjectMeta), LaunchTime: p.CreationTimestamp.Time,
	}
	if p.Status.StartTime != nil {
		r.LaunchTime = p.Status.StartTime.Time
	}
	applyMetadata(&r, owner.meta)   // inherited ...
	applyMetadata(&r, p.ObjectMeta) // ... unless the pod says otherwise
	cpu, mem := podRequests(&p.Spec)
	r.Size = sizeOf(cpu, mem)
	if r.State == provider.StateRunning || r.State == provider.StatePending {
		r.HourlyCost = d.hourlyCost(cpu, mem)
	}
	return r.NormalizeLabels()
}

// AnnotationPrefix starts the annotations of the convention, which Tags
// carry besides the labels.
const AnnotationPrefix = "idlescale.io/"

// tags returns an object's labels and its annotations that start with
// AnnotationPrefix (an annotation wins over a label of the same key), or
// nil when there are none.
func tags(meta metav1.ObjectMeta) map[string]string {
	out := maps.Clone(meta.Labels)
	for k, v := range meta.Annotations {
		if strings.HasPrefix(k, AnnotationPrefix) {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

// applyMetadata sets the fields of the annotation convention that meta
// carries (annotation first, then label), leaving the others as they are.
func applyMetadata(r *provider.Resource, meta metav1.ObjectMeta) {
	get := func(key string) (string, bool) {
		if v, ok := meta.Annotations[key]; ok {
			return v, true
		}
		v, ok := meta.Labels[key]
		return v, ok
	}
	if v, ok := get(AnnotationEnvironment); ok {
		r.Environment = v
	}
	if v, ok := get(AnnotationRole); ok {
		r.Role = v
	}
	if v, ok := get(AnnotationOwner); ok {
		r.Owner = v
	}
	malformed := false // a criticality or time zone the safety rules cannot read
	if v, ok := get(AnnotationCriticality); ok {
		if c := provider.Criticality(provider.LabelKey(v)); c.Validate() == nil {
			r.Criticality = c
		} else {
			malformed = true
		}
	}
	if v, ok := get(AnnotationProtected); ok {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "false", "no", "0", "off":
			r.Protected = false
		default:
			r.Protected = true
		}
	}
	if v, ok := get(AnnotationTimeZone); ok {
		if _, err := provider.LoadZone(v); err == nil { // not "Local": the host's zone
			r.TimeZone = v
		} else if v != "" {
			malformed = true
		}
	}
	if malformed {
		// Its owner meant to say something the rules cannot read: they
		// must not judge it as of no criticality or in UTC.
		r.Protected = true
	}
}

// podRequests returns the CPU (cores) and memory (bytes) requests of a pod
// as podRequest counts them: the pod-level requests when set, else the sum
// over its regular containers and native sidecars (restartable init
// containers, which run beside them). Other init containers run before
// them and are left out.
func podRequests(spec *corev1.PodSpec) (cpu, mem float64) {
	cpu, _ = podRequest(spec, corev1.ResourceCPU)
	mem, _ = podRequest(spec, corev1.ResourceMemory)
	return cpu, mem
}

// mib is one mebibyte in bytes.
const mib = 1 << 20

// sizeOf returns the Size of requests: VCPU in cores and MemoryMiB rounded
// to the nearest MiB. Without a memory request the size is unknown (zero):
// provider.Size needs memory (or an instance type) for an instance.
func sizeOf(cpu, mem float64) provider.Size {
	if mem <= 0 {
		return provider.Size{}
	}
	return provider.Size{VCPU: cpu, MemoryMiB: int(math.Max(1, math.Round(mem/mib)))}
}

func (d *Driver) hourlyCost(cpu, mem float64) float64 {
	return cpu*d.cfg.CPUHourlyPrice + mem/(1<<30)*d.cfg.MemoryHourlyPrice
}

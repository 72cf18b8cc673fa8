package kubernetes

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/idlescale/idlescale/provider"
)

// workload is what the driver needs of a Deployment or a StatefulSet.
type workload struct {
	ref  Ref
	meta metav1.ObjectMeta
	// replicas is spec.replicas (the API default 1 when unset).
	replicas int32
	// current and ready are status.replicas and status.readyReplicas;
	// ready is 0 while the status is of an older spec (stale).
	current, ready int32
	// stale says the status is of an older spec: its controller has not
	// yet seen the latest change (see observed).
	stale bool
	// terminating is a Deployment's status.terminatingReplicas: pods
	// shutting down, which status.replicas no longer counts.
	terminating int32
	selector    *metav1.LabelSelector
	template    corev1.PodTemplateSpec
	// deletesClaims says a scale-in deletes the PersistentVolumeClaims of
	// the pods it removes: a StatefulSet with claim templates whose
	// retention policy is whenScaled: Delete.
	deletesClaims bool
}

func (w workload) deleting() bool { return w.meta.DeletionTimestamp != nil }

// podSelector returns the workload's selector, or an error matching
// ErrNoSelector when it has none or it selects everything.
func (w workload) podSelector() (labels.Selector, error) {
	if w.selector == nil || (len(w.selector.MatchLabels) == 0 && len(w.selector.MatchExpressions) == 0) {
		return nil, fmt.Errorf("%w: %s", ErrNoSelector, w.ref)
	}
	sel, err := metav1.LabelSelectorAsSelector(w.selector)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrNoSelector, w.ref, err)
	}
	return sel, nil
}

// orZero is *p, or 0 when p is nil (an optional count).
func orZero(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

func specReplicas(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

// observed returns ready, the status's ready replicas, when the status
// is of the workload's current spec (status.observedGeneration, written
// by its controller, at least metadata.generation), and 0 otherwise: a
// status written before the controller saw the latest change (a scale, a
// stop and a start, a new template) counts pods that may be going or
// coming, so no replica is known ready at the current spec, as kubectl
// rollout status waits for "the deployment spec update to be observed".
// It also says whether the status is of an older spec (stale).
func observed(meta metav1.ObjectMeta, observedGeneration int64, ready int32) (int32, bool) {
	if observedGeneration < meta.Generation {
		return 0, true
	}
	return ready, false
}

func fromDeployment(d *appsv1.Deployment) workload {
	ready, stale := observed(d.ObjectMeta, d.Status.ObservedGeneration, d.Status.ReadyReplicas)
	return workload{
		ref:  Ref{Namespace: d.Namespace, Kind: ObjectDeployment, Name: d.Name},
		meta: d.ObjectMeta, replicas: specReplicas(d.Spec.Replicas),
		current: d.Status.Replicas, ready: ready, stale: stale, terminating: orZero(d.Status.TerminatingReplicas),
		selector: d.Spec.Selector, template: d.Spec.Template,
	}
}

func fromStatefulSet(s *appsv1.StatefulSet) workload {
	ready, stale := observed(s.ObjectMeta, s.Status.ObservedGeneration, s.Status.ReadyReplicas)
	return workload{
		ref:  Ref{Namespace: s.Namespace, Kind: ObjectStatefulSet, Name: s.Name},
		meta: s.ObjectMeta, replicas: specReplicas(s.Spec.Replicas),
		current: s.Status.Replicas, ready: ready, stale: stale,
		selector: s.Spec.Selector, template: s.Spec.Template,
		deletesClaims: len(s.Spec.VolumeClaimTemplates) > 0 && s.Spec.PersistentVolumeClaimRetentionPolicy != nil &&
			s.Spec.PersistentVolumeClaimRetentionPolicy.WhenScaled == appsv1.DeletePersistentVolumeClaimRetentionPolicyType,
	}
}

// rbacResource returns the resource name RBAC rules use for the workload's
// kind, with sub appended ("deployments.apps/scale").
func rbacResource(k ObjectKind, sub string) string {
	var r string
	switch k {
	case ObjectDeployment:
		r = "deployments.apps"
	case ObjectStatefulSet:
		r = "statefulsets.apps"
	default:
		r = "pods"
	}
	if sub != "" {
		r += "/" + sub
	}
	return r
}

// getWorkload reads one workload; one that config.label_selector does not
// select is provider.ErrNotFound. op and id name the caller's operation in
// errors.
func (d *Driver) getWorkload(ctx context.Context, op, id string, ref Ref) (workload, error) {
	c := call{verb: "get", resource: rbacResource(ref.Kind, ""), namespace: ref.Namespace, name: ref.Name}
	var w workload
	switch ref.Kind {
	case ObjectDeployment:
		obj, err := d.client.AppsV1().Deployments(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return workload{}, wrap(op, id, c, err)
		}
		w = fromDeployment(obj)
	case ObjectStatefulSet:
		obj, err := d.client.AppsV1().StatefulSets(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			return workload{}, wrap(op, id, c, err)
		}
		w = fromStatefulSet(obj)
	default:
		return workload{}, notFound(op, id, "not a workload")
	}
	if !d.selector.Matches(labels.Set(w.meta.Labels)) {
		return workload{}, notFound(op, id, "the workload is not selected by config.label_selector")
	}
	return w, nil
}

// listWorkloads lists the Deployments and StatefulSets of namespace ("" for
// all) that the configured label selector selects, sorted by ID.
func (d *Driver) listWorkloads(ctx context.Context, op, namespace string) ([]workload, error) {
	opts := metav1.ListOptions{LabelSelector: d.cfg.LabelSelector}
	deps, err := d.client.AppsV1().Deployments(namespace).List(ctx, opts)
	if err != nil {
		return nil, wrap(op, "", call{verb: "list", resource: "deployments.apps", namespace: namespace}, err)
	}
	sets, err := d.client.AppsV1().StatefulSets(namespace).List(ctx, opts)
	if err != nil {
		return nil, wrap(op, "", call{verb: "list", resource: "statefulsets.apps", namespace: namespace}, err)
	}
	out := make([]workload, 0, len(deps.Items)+len(sets.Items))
	for i := range deps.Items {
		if d.inScope(deps.Items[i].Namespace) {
			out = append(out, fromDeployment(&deps.Items[i]))
		}
	}
	for i := range sets.Items {
		if d.inScope(sets.Items[i].Namespace) {
			out = append(out, fromStatefulSet(&sets.Items[i]))
		}
	}
	slices.SortFunc(out, func(a, b workload) int { return cmp.Compare(a.ref.String(), b.ref.String()) })
	return out, nil
}

// updateScale writes spec.replicas through the scale subresource,
// conditional on resourceVersion rv: a lost race is provider.ErrConflict.
func (d *Driver) updateScale(ctx context.Context, op, id string, ref Ref, rv string, replicas int32) (*autoscalingv1.Scale, error) {
	c := call{verb: "update", resource: rbacResource(ref.Kind, "scale"), namespace: ref.Namespace, name: ref.Name}
	s := &autoscalingv1.Scale{
		ObjectMeta: metav1.ObjectMeta{Name: ref.Name, Namespace: ref.Namespace, ResourceVersion: rv},
		Spec:       autoscalingv1.ScaleSpec{Replicas: replicas},
	}
	var (
		out *autoscalingv1.Scale
		err error
	)
	if ref.Kind == ObjectStatefulSet {
		out, err = d.client.AppsV1().StatefulSets(ref.Namespace).UpdateScale(ctx, ref.Name, s, metav1.UpdateOptions{})
	} else {
		out, err = d.client.AppsV1().Deployments(ref.Namespace).UpdateScale(ctx, ref.Name, s, metav1.UpdateOptions{})
	}
	return out, wrap(op, id, c, err)
}

// patchAnnotations sets (non-nil values) and removes (nil values)
// annotations of the workload with a JSON merge patch, conditional on
// resourceVersion rv, and returns the workload as written.
func (d *Driver) patchAnnotations(ctx context.Context, op, id string, ref Ref, rv string, set map[string]*string) (workload, error) {
	return d.patchWorkload(ctx, op, id, ref, rv, set, nil)
}

// patchWorkload is patchAnnotations that also sets spec.replicas when
// replicas is not nil, in the same patch: the annotations and the replicas
// are written together or not at all.
func (d *Driver) patchWorkload(ctx context.Context, op, id string, ref Ref, rv string, set map[string]*string, replicas *int32) (workload, error) {
	patch := map[string]any{"metadata": map[string]any{"resourceVersion": rv, "annotations": set}}
	if replicas != nil {
		patch["spec"] = map[string]any{"replicas": *replicas}
	}
	data, err := json.Marshal(patch)
	if err != nil {
		return workload{}, fmt.Errorf("kubernetes: %s %q: %w", op, id, err)
	}
	c := call{verb: "patch", resource: rbacResource(ref.Kind, ""), namespace: ref.Namespace, name: ref.Name}
	if ref.Kind == ObjectStatefulSet {
		obj, err := d.client.AppsV1().StatefulSets(ref.Namespace).Patch(ctx, ref.Name, types.MergePatchType, data, metav1.PatchOptions{})
		if err != nil {
			return workload{}, wrap(op, id, c, err)
		}
		return fromStatefulSet(obj), nil
	}
	obj, err := d.client.AppsV1().Deployments(ref.Namespace).Patch(ctx, ref.Name, types.MergePatchType, data, metav1.PatchOptions{})
	if err != nil {
		return workload{}, wrap(op, id, c, err)
	}
	return fromDeployment(obj), nil
}

// annotationBound reads a bound (AnnotationMinReplicas,
// AnnotationMaxReplicas) as the convention reads every key, from the
// annotations and, when absent there, from the labels: a whole number in
// [0, MaxInt32]. src is where it was found, "annotation" or "label", and
// "" when it is absent; a present value of any other form is a
// *provider.InvalidError naming the annotation or label and the value
// (replicas are an int32: 4294967296 would write 0), never a silent
// default.
func annotationBound(meta metav1.ObjectMeta, key string) (n int, src string, err error) {
	src = "annotation"
	v, present := meta.Annotations[key]
	if !present {
		src = "label"
		v, present = meta.Labels[key]
	}
	if !present {
		return 0, "", nil
	}
	n, err = strconv.Atoi(v)
	if err != nil || n < 0 || n > math.MaxInt32 {
		return 0, "", provider.Invalid(src+" "+key, v,
			"must be a whole number from 0 to 2147483647; set it to the bound meant, or remove it to use config.bounds")
	}
	return n, src, nil
}

func ptr[T any](v T) *T { return &v }

package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/idlescale/idlescale/provider"
)

// ErrHPAScales means a HorizontalPodAutoscaler scales the workload, so the
// driver refused a replica change that the HPA would undo at its next sync
// (and that would undo the HPA's). It is matched by every *HPAConflictError,
// which also matches provider.ErrConflict: nothing was written.
var ErrHPAScales = errors.New("kubernetes: a HorizontalPodAutoscaler scales the workload")

// HPAConflictError reports a replica change the driver refused because a
// HorizontalPodAutoscaler scales the workload. It matches ErrHPAScales and
// provider.ErrConflict; nothing was written.
type HPAConflictError struct {
	// Namespace and Name name the HorizontalPodAutoscaler (the first by
	// name that refuses the change when several target the workload).
	Namespace, Name string
	// MinReplicas and MaxReplicas are the HPA's bounds (MinReplicas 1
	// when its spec leaves it out, as the API server defaults it).
	MinReplicas, MaxReplicas int32
	// From and To are the replica change refused.
	From, To int32
}

// Error implements error: "HorizontalPodAutoscaler shop/web (2 to 10
// replicas) scales the workload: the driver does not change its replicas
// from 3 to 5 ...".
func (e *HPAConflictError) Error() string {
	why := "the driver changes an HPA's workload only to and from zero replicas, where the HPA is off"
	if e.MinReplicas == 0 {
		why = "its minReplicas is 0, so it scales the workload at zero replicas too"
	}
	return fmt.Sprintf("HorizontalPodAutoscaler %s/%s (%d to %d replicas) scales the workload: the driver does not change its replicas from %d to %d (%s)",
		e.Namespace, e.Name, e.MinReplicas, e.MaxReplicas, e.From, e.To, why)
}

// Unwrap returns ErrHPAScales and provider.ErrConflict.
func (e *HPAConflictError) Unwrap() []error { return []error{ErrHPAScales, provider.ErrConflict} }

// hpaAllows returns nil when a replica change from → to of the workload
// ref is one no HorizontalPodAutoscaler would undo, and otherwise a
// *HPAConflictError (wrapped with op and id) naming the HPA; a failed list
// is returned as the error, so that a change is never made unchecked.
//
// An HPA whose scaleTargetRef names the workload (kind and name, in the
// workload's namespace) scales it while its replicas are above zero; at
// zero, an HPA whose minReplicas is not 0 is off ("scaling is disabled
// since the replica count of the target is zero", the HPA controller's
// ScalingDisabled), and resumes when something else scales the workload
// up. So the driver allows a change to or from zero, and refuses any
// other, as well as every change when an HPA's minReplicas is 0 (the
// HPAScaleToZero feature: that HPA scales at zero too). Config.IgnoreHPAs
// skips the check, and a change of nothing is never checked.
func (d *Driver) hpaAllows(ctx context.Context, op, id string, ref Ref, from, to int32) error {
	if d.cfg.IgnoreHPAs || from == to {
		return nil
	}
	hpas, err := d.hpasOf(ctx, op, id, ref)
	if err != nil {
		return err
	}
	for _, h := range hpas {
		minReplicas := int32(1)
		if h.Spec.MinReplicas != nil {
			minReplicas = *h.Spec.MinReplicas
		}
		if (from == 0 || to == 0) && minReplicas != 0 {
			continue
		}
		return fmt.Errorf("kubernetes: %s %q: %w", op, id, &HPAConflictError{
			Namespace: h.Namespace, Name: h.Name, MinReplicas: minReplicas, MaxReplicas: h.Spec.MaxReplicas, From: from, To: to,
		})
	}
	return nil
}

// hpasOf lists the HorizontalPodAutoscalers (autoscaling/v2) of ref's
// namespace whose scaleTargetRef names the workload (hpaTarget), sorted
// by name.
func (d *Driver) hpasOf(ctx context.Context, op, id string, ref Ref) ([]autoscalingv2.HorizontalPodAutoscaler, error) {
	list, err := d.listHPAs(ctx, op, id, ref.Namespace)
	if err != nil {
		return nil, err
	}
	var out []autoscalingv2.HorizontalPodAutoscaler
	for _, h := range list {
		if t, ok := hpaTarget(&h); ok && t == ref {
			out = append(out, h)
		}
	}
	slices.SortFunc(out, func(a, b autoscalingv2.HorizontalPodAutoscaler) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// listHPAs lists the HorizontalPodAutoscalers (autoscaling/v2) of
// namespace ns (every namespace for ""); a failed list is the error,
// wrapped with op and id and naming the list.
func (d *Driver) listHPAs(ctx context.Context, op, id, ns string) ([]autoscalingv2.HorizontalPodAutoscaler, error) {
	list, err := d.client.AutoscalingV2().HorizontalPodAutoscalers(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, wrap(op, id, call{verb: "list", resource: "horizontalpodautoscalers.autoscaling", namespace: ns}, err)
	}
	return list.Items, nil
}

// hpaTarget returns the workload h's scaleTargetRef names, in h's
// namespace: a Deployment or StatefulSet of API group apps (or
// extensions, the group Deployments had before apps/v1, or none, or an
// apiVersion that does not parse: the safe side). ok is false for any
// other target, such as a custom resource of the same kind and name in
// another group, which is something else.
func hpaTarget(h *autoscalingv2.HorizontalPodAutoscaler) (Ref, bool) {
	t := h.Spec.ScaleTargetRef
	var kind ObjectKind
	switch t.Kind {
	case "Deployment":
		kind = ObjectDeployment
	case "StatefulSet":
		kind = ObjectStatefulSet
	default:
		return Ref{}, false
	}
	if gv, err := schema.ParseGroupVersion(t.APIVersion); err == nil && gv.Group != "apps" && gv.Group != "extensions" && gv.Group != "" {
		return Ref{}, false
	}
	return Ref{Namespace: h.Namespace, Kind: kind, Name: t.Name}, true
}

// scaledBy returns, for each workload of namespace ns (every namespace
// for "") that a HorizontalPodAutoscaler targets, provider.Resource.ScaledBy:
// "HorizontalPodAutoscaler NAMESPACE/NAME", the first such HPA by name.
// One list of the namespace's HPAs; none with Config.IgnoreHPAs (nil). A
// failed list is the error (wrapped with op and id): whether an HPA
// scales a workload is then unknown, and the inventory does not say
// none.
func (d *Driver) scaledBy(ctx context.Context, op, id, ns string) (map[Ref]string, error) {
	if d.cfg.IgnoreHPAs {
		return nil, nil
	}
	list, err := d.listHPAs(ctx, op, id, ns)
	if err != nil {
		return nil, err
	}
	first := map[Ref]string{} // the first HPA's name by workload
	for i := range list {
		h := &list[i]
		if ref, ok := hpaTarget(h); ok {
			if name, seen := first[ref]; !seen || h.Name < name {
				first[ref] = h.Name
			}
		}
	}
	out := make(map[Ref]string, len(first))
	for ref, name := range first {
		out[ref] = "HorizontalPodAutoscaler " + ref.Namespace + "/" + name // the HPA's namespace, not ns
	}
	return out, nil
}

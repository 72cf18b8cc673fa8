package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/idlescale/idlescale/provider"
)

// Resize changes a running pod's CPU and memory requests in place, through
// the pod's resize subresource (in-place pod resize, Kubernetes 1.33 and
// later), without restarting it: size.VCPU is the pod's total CPU request
// in cores and size.MemoryMiB its total memory request in MiB, as Get
// reports them; a field left zero keeps that resource as it is. The total
// is shared among the pod's regular containers and native sidecars
// (restartable init containers) in proportion to their current requests, and
// each container's limit is scaled by the same factor as its request, so
// the pod keeps its QoS class (a Guaranteed pod stays Guaranteed), which
// in-place resize requires. The kubelet then applies the change; Get
// reports the new requests at once.
//
// Errors: a size with an instance type or a timeout, with neither vcpu
// nor memory_mib, or with more bytes or millicores than an int64 holds,
// provider.ErrInvalid before any call; a workload
// provider.ErrUnsupported (resizing one means changing its pod template,
// which replaces its pods); a pod with no request for a resource to
// resize provider.ErrUnsupported (adding one would change its QoS class),
// as is a pod with pod-level requests (spec.resources, which Size
// reports); an API server without the pods/resize subresource
// provider.ErrUnsupported with that reason; a change the API server refuses (such as a memory limit
// decrease it does not allow) provider.ErrInvalid with its message. Lost
// resourceVersion races are retried up to Config.ConflictRetries times:
// the size is absolute, so retrying on the re-read pod is safe, while it
// is the same pod (its UID): one deleted and created again under its name
// is provider.ErrConflict, nothing written, since the size was decided
// for the pod deleted.
func (d *Driver) Resize(ctx context.Context, id string, size provider.Size) (err error) {
	defer d.red.Errorp(&err)
	const op = "resize"
	if err := ctxErr(ctx, op, id); err != nil {
		return err
	}
	if err := validateResize(size); err != nil {
		return fmt.Errorf("kubernetes: %s %q: %w", op, id, err)
	}
	ref, err := d.resolve(ctx, op, id)
	if err != nil {
		return err
	}
	if ref.Kind != ObjectPod {
		if _, err := d.getWorkload(ctx, op, id, ref); err != nil {
			return err
		}
		return fmt.Errorf("kubernetes: %s %q: %w: resizing a workload means changing its pod template, which replaces its pods; resize its pods in place", op, id, provider.ErrUnsupported)
	}
	pod, _, err := d.getPod(ctx, op, id, ref)
	if err != nil {
		return err
	}
	if err := d.checkResizeSupported(ctx, op, id); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		changed, err := resizeContainers(pod, size)
		if err != nil {
			return fmt.Errorf("kubernetes: %s %q: %w", op, id, err)
		}
		if !changed {
			return nil
		}
		_, err = d.client.CoreV1().Pods(ref.Namespace).UpdateResize(ctx, ref.Name, pod, metav1.UpdateOptions{})
		if err == nil {
			d.log.Info("kubernetes: resized", "id", id, "vcpu", size.VCPU, "memory_mib", size.MemoryMiB)
			return nil
		}
		err = wrap(op, id, call{verb: "update", resource: "pods/resize", namespace: ref.Namespace, name: ref.Name}, err)
		if !errors.Is(err, provider.ErrConflict) || attempt >= d.cfg.ConflictRetries {
			return err
		}
		uid := pod.UID
		if pod, _, err = d.getPod(ctx, op, id, ref); err != nil {
			return err
		}
		if pod.UID != uid {
			// Deleted and created again under its name: the size was
			// decided for the pod deleted, not for this one.
			return fmt.Errorf("kubernetes: %s %q: %w: the pod was deleted and created again since it was read", op, id, provider.ErrConflict)
		}
	}
}

// validateResize checks a size for a pod.
func validateResize(size provider.Size) error {
	if err := size.Validate(); err != nil {
		return err
	}
	switch {
	case size.InstanceType != "":
		return provider.Invalid("instance_type", size.InstanceType, "a pod has no instance type; give vcpu and/or memory_mib")
	case size.Timeout != 0:
		return provider.Invalid("timeout", size.Timeout, "only functions have a timeout")
	case size.VCPU == 0 && size.MemoryMiB == 0:
		return provider.Invalid("size", "{}", "must set vcpu or memory_mib")
	case size.VCPU != 0 && math.Round(size.VCPU*1000) < 1:
		return provider.Invalid("vcpu", size.VCPU, "must be at least 0.001 (1 millicore)")
	case math.Round(size.VCPU*1000) >= math.MaxInt64:
		// Not converted: int64 of a larger float is undefined.
		return provider.Invalid("vcpu", size.VCPU, "must be below 9223372036854775.807 cores (millicores are an int64)")
	case int64(size.MemoryMiB) > math.MaxInt64/mib:
		// Not multiplied: 2⁴⁴ + 512 MiB would wrap around to 512 MiB.
		return provider.Invalid("memory_mib", size.MemoryMiB, fmt.Sprintf("must be ≤ %d (bytes are an int64)", int64(math.MaxInt64/mib)))
	}
	return nil
}

// checkResizeSupported asks the API server's discovery, until it has an
// answer, whether it serves pods/resize. The call is bounded by ctx and
// made without holding the lock, so that a hung server holds up no other
// caller past its own deadline (two first callers may both ask).
func (d *Driver) checkResizeSupported(ctx context.Context, op, id string) error {
	d.resizeMu.Lock()
	checked, ok := d.resizeChecked, d.resizeOK
	d.resizeMu.Unlock()
	if !checked {
		list, err := d.coreResources(ctx)
		if err != nil {
			return wrap(op, id, call{verb: "get", resource: "discovery /api/v1"}, err)
		}
		ok = slices.ContainsFunc(list.APIResources, func(r metav1.APIResource) bool { return r.Name == "pods/resize" })
		d.resizeMu.Lock()
		d.resizeChecked, d.resizeOK = true, ok
		d.resizeMu.Unlock()
	}
	if !ok {
		return fmt.Errorf("kubernetes: %s %q: %w: the API server does not serve the pods/resize subresource (in-place pod resize needs Kubernetes 1.33 or later)", op, id, provider.ErrUnsupported)
	}
	return nil
}

// coreResources reads the resources of the core API (/api/v1) as
// client-go's ServerResourcesForGroupVersion("v1") does, but bounded by
// ctx, which that call does not take. A client without a discovery REST
// client (a fake clientset) is asked through that call.
func (d *Driver) coreResources(ctx context.Context) (*metav1.APIResourceList, error) {
	disc := d.client.Discovery()
	rc := disc.RESTClient()
	if rc == nil {
		return disc.ServerResourcesForGroupVersion("v1")
	}
	list := &metav1.APIResourceList{GroupVersion: "v1"}
	if err := rc.Get().AbsPath("/api/v1").Do(ctx).Into(list); err != nil {
		return nil, err
	}
	return list, nil
}

// resizeContainers sets pod's container requests (and limits, by the same
// factor) so that their totals are size's, and reports whether anything
// changed.
func resizeContainers(pod *corev1.Pod, size provider.Size) (bool, error) {
	if podLevelRequestsSet(&pod.Spec) {
		// Size is then the pod-level requests, which resizing the
		// containers would not change.
		return false, fmt.Errorf("%w: pod %s/%s sets pod-level requests (spec.resources), which the driver does not resize; it resizes containers",
			provider.ErrUnsupported, pod.Namespace, pod.Name)
	}
	changed := false
	if size.VCPU != 0 {
		c, err := scaleResource(pod, corev1.ResourceCPU, int64(math.Round(size.VCPU*1000)), true)
		if err != nil {
			return false, err
		}
		changed = changed || c
	}
	if size.MemoryMiB != 0 {
		c, err := scaleResource(pod, corev1.ResourceMemory, int64(size.MemoryMiB)*mib, false)
		if err != nil {
			return false, err
		}
		changed = changed || c
	}
	return changed, nil
}

// scaleResource shares total (millicores when milli, else bytes) among the
// containers and native sidecars that request res, in proportion to their requests, the last
// one taking the rounding remainder; limits keep their ratio to requests.
func scaleResource(pod *corev1.Pod, res corev1.ResourceName, total int64, milli bool) (bool, error) {
	value := func(q resource.Quantity) int64 {
		if milli {
			return q.MilliValue()
		}
		return q.Value()
	}
	quantity := func(v int64) resource.Quantity {
		if milli {
			return *resource.NewMilliQuantity(v, resource.DecimalSI)
		}
		return *resource.NewQuantity(v, resource.BinarySI)
	}
	// The regular containers and the native sidecars (restartable init
	// containers), whose requests Size counts.
	var idx []*corev1.Container
	var sum int64
	add := func(c *corev1.Container) {
		if q, ok := c.Resources.Requests[res]; ok && value(q) > 0 {
			idx = append(idx, c)
			sum += value(q)
		}
	}
	for i := range pod.Spec.Containers {
		add(&pod.Spec.Containers[i])
	}
	for i := range pod.Spec.InitContainers {
		if c := &pod.Spec.InitContainers[i]; c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			add(c)
		}
	}
	if sum == 0 {
		return false, fmt.Errorf("%w: pod %s/%s has no %s request to resize (adding one would change its QoS class, which in-place resize does not allow)",
			provider.ErrUnsupported, pod.Namespace, pod.Name, res)
	}
	if sum == total {
		return false, nil
	}
	left := total
	for n, c := range idx {
		old := value(c.Resources.Requests[res])
		v := left
		if n < len(idx)-1 {
			v = max(1, int64(math.Round(float64(old)*float64(total)/float64(sum))))
			v = min(v, left-int64(len(idx)-1-n)) // leave at least 1 for each container after this one
		}
		if v < 1 {
			return false, fmt.Errorf("%w: %s total %d is too small to share among %d containers", provider.ErrInvalid, res, total, len(idx))
		}
		left -= v
		c.Resources.Requests[res] = quantity(v)
		if lim, ok := c.Resources.Limits[res]; ok {
			l := value(lim)
			if l == old {
				l = v
			} else {
				l = max(v, int64(math.Round(float64(l)*float64(v)/float64(old))))
			}
			c.Resources.Limits[res] = quantity(l)
		}
	}
	return true, nil
}

package kubernetes_test

import (
	"errors"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientset "k8s.io/client-go/kubernetes"

	"github.com/idlescale/idlescale/internal/kubetest"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/kubernetes"
)

func annotated(kv ...string) func(*appsv1.Deployment) {
	return func(d *appsv1.Deployment) {
		d.Annotations = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			d.Annotations[kv[i]] = kv[i+1]
		}
	}
}

func TestCapacityBounds(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "100m", "64Mi", false)}
	f.deployment("plain", 3, cs)
	f.deployment("annotated", 3, cs, annotated(kubernetes.AnnotationMinReplicas, "2", kubernetes.AnnotationMaxReplicas, "8"))
	f.deployment("policy", 3, cs, annotated(kubernetes.AnnotationMinReplicas, "2", kubernetes.AnnotationMaxReplicas, "8"))
	f.deployment("outside", 12, cs)
	f.statefulSet("db", 0, cs)
	_, err := kubetest.MirrorReplicas(f.ctx, f.admin, f.ns)
	require.NoError(t, err)

	d := f.driver(kubernetes.Config{Workloads: map[string]kubernetes.Bounds{f.id(kubernetes.ObjectDeployment, "policy"): {Min: 1, Max: 4}}})
	for _, tt := range []struct {
		name string
		id   string
		want provider.Capacity
	}{
		{"defaults", f.id(kubernetes.ObjectDeployment, "plain"), capacity(1, 10, 3, 3, 3)},
		{"annotations", f.id(kubernetes.ObjectDeployment, "annotated"), capacity(2, 8, 3, 3, 3)},
		{"the host's policy wins", f.id(kubernetes.ObjectDeployment, "policy"), capacity(1, 4, 3, 3, 3)},
		{"widened to the replicas", f.id(kubernetes.ObjectDeployment, "outside"), capacity(1, 12, 12, 12, 12)},
		{"a stopped statefulset", f.id(kubernetes.ObjectStatefulSet, "db"), capacity(0, 10, 0, 0, 0)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.Capacity(f.ctx, tt.id)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			require.NoError(t, got.Validate())
		})
	}
	b, err := d.Bounds(f.ctx, f.id(kubernetes.ObjectDeployment, "outside"))
	require.NoError(t, err)
	assert.Equal(t, kubernetes.Bounds{Min: kubernetes.DefaultMinReplicas, Max: kubernetes.DefaultMaxReplicas}, b, "Bounds reports the bounds as they are")
	_, err = d.Capacity(f.ctx, f.id(kubernetes.ObjectPod, "web-1"))
	require.ErrorIs(t, err, provider.ErrUnsupported, "a pod is not scaled")
}

func capacity(lo, hi, desired, current, ready int) provider.Capacity {
	return provider.Capacity{CapacitySpec: provider.CapacitySpec{Min: lo, Max: hi, Desired: desired}, Current: current, Ready: ready}
}

func TestSetCapacity(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "100m", "64Mi", false)}
	f.deployment("web", 2, cs, annotated(kubernetes.AnnotationStoppedReplicas, "5"))
	f.deployment("fixed", 2, cs)
	f.statefulSet("db", 1, cs)
	d := f.driver(kubernetes.Config{Workloads: map[string]kubernetes.Bounds{f.id(kubernetes.ObjectDeployment, "fixed"): {Min: 1, Max: 4}}})
	web := f.id(kubernetes.ObjectDeployment, "web")

	require.NoError(t, d.SetCapacity(f.ctx, web, provider.CapacitySpec{Min: 0, Max: 20, Desired: 7}))
	got, err := f.admin.AppsV1().Deployments(f.ns).Get(f.ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(7), *got.Spec.Replicas)
	assert.Equal(t, "0", got.Annotations[kubernetes.AnnotationMinReplicas])
	assert.Equal(t, "20", got.Annotations[kubernetes.AnnotationMaxReplicas])
	assert.NotContains(t, got.Annotations, kubernetes.AnnotationStoppedReplicas, "scaling up forgets what Stop remembered")

	// Same bounds: no annotation write (the resourceVersion moves only with the scale).
	rv := got.ResourceVersion
	require.NoError(t, d.SetCapacity(f.ctx, web, provider.CapacitySpec{Min: 0, Max: 20, Desired: 7}))
	again, err := f.admin.AppsV1().Deployments(f.ns).Get(f.ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, rv, again.ResourceVersion, "setting what is already there writes nothing")

	fixed := f.id(kubernetes.ObjectDeployment, "fixed")
	err = d.SetCapacity(f.ctx, fixed, provider.CapacitySpec{Min: 1, Max: 9, Desired: 3})
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Contains(t, ie.Reason, "config.workloads")
	require.NoError(t, d.SetCapacity(f.ctx, fixed, provider.CapacitySpec{Min: 1, Max: 4, Desired: 3}))
	c, err := d.Capacity(f.ctx, fixed)
	require.NoError(t, err)
	assert.Equal(t, provider.CapacitySpec{Min: 1, Max: 4, Desired: 3}, c.CapacitySpec)

	db := f.id(kubernetes.ObjectStatefulSet, "db")
	require.NoError(t, d.SetCapacity(f.ctx, db, provider.CapacitySpec{Min: 1, Max: 3, Desired: 3}))
	set, err := f.admin.AppsV1().StatefulSets(f.ns).GetScale(f.ctx, "db", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(3), set.Spec.Replicas, "through the statefulset's scale subresource")

	// Replicas are an int32: a larger count is refused by name, not cast
	// (2³² was written as 0 replicas, a stop, and the HPA check took it
	// for one).
	for _, n := range []int{math.MaxInt32 + 1, 1 << 32, math.MaxInt} {
		err = d.SetCapacity(f.ctx, db, provider.CapacitySpec{Min: 1, Max: n, Desired: n})
		require.ErrorAs(t, err, &ie, "desired %d", n)
		assert.Equal(t, "desired", ie.Field)
		set, err = f.admin.AppsV1().StatefulSets(f.ns).GetScale(f.ctx, "db", metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, int32(3), set.Spec.Replicas, "desired %d: nothing written", n)
	}

	err = d.SetCapacity(f.ctx, f.id(kubernetes.ObjectDeployment, "nope"), provider.CapacitySpec{Max: 1, Desired: 1})
	require.ErrorIs(t, err, provider.ErrNotFound)
	err = d.SetCapacity(f.ctx, f.id(kubernetes.ObjectPod, "web-1"), provider.CapacitySpec{Max: 1, Desired: 1})
	require.ErrorIs(t, err, provider.ErrUnsupported)
}

// interceptor calls before once, on the first request that match selects,
// before sending it, and after (when set) once, after that request's
// response: a way to make another writer win a race against the driver on
// the real API server.
type interceptor struct {
	next      http.RoundTripper
	matches   func(*http.Request) bool
	before    func()
	after     func()
	once      sync.Once
	afterOnce sync.Once
	// seen counts the requests that match, each once however many times
	// client-go sends it (retriedByClient, as counter counts).
	seen atomic.Int32
}

func (i *interceptor) RoundTrip(r *http.Request) (*http.Response, error) {
	if !i.matches(r) {
		return i.next.RoundTrip(r)
	}
	if i.before != nil {
		i.once.Do(i.before)
	}
	resp, err := i.next.RoundTrip(r)
	if !retriedByClient(resp, err) { // a request client-go sends again is one request
		i.seen.Add(1)
	}
	if i.after != nil {
		i.afterOnce.Do(i.after)
	}
	return resp, err
}

// raceDriver returns a driver whose first PUT of web's scale subresource is
// preceded by interfere (done with the admin client).
func raceDriver(t *testing.T, f *fixture, interfere func()) (*kubernetes.Driver, *interceptor) {
	t.Helper()
	ic := &interceptor{
		matches: func(r *http.Request) bool {
			return r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/deployments/web/scale")
		},
		before: interfere,
	}
	rc := restConfig()
	rc.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { ic.next = rt; return ic }
	cs, err := clientset.NewForConfig(rc)
	require.NoError(t, err)
	d, err := kubernetes.New(kubernetes.Config{Namespaces: []string{f.ns}}, cs)
	require.NoError(t, err)
	return d, ic
}

func TestSetCapacityRetriesARaceOnlyWhenSafe(t *testing.T) {
	t.Parallel()
	cs := []corev1.Container{container("app", "100m", "64Mi", false)}
	t.Run("another writer changed something else", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.deployment("web", 2, cs)
		d, ic := raceDriver(t, f, func() {
			// A label change moves the resourceVersion, not the replicas.
			_, err := f.admin.AppsV1().Deployments(f.ns).Patch(f.ctx, "web", "application/merge-patch+json",
				[]byte(`{"metadata":{"labels":{"touched":"yes"}}}`), metav1.PatchOptions{})
			require.NoError(t, err)
		})
		require.NoError(t, d.SetCapacity(f.ctx, f.id(kubernetes.ObjectDeployment, "web"), provider.CapacitySpec{Min: 1, Max: 10, Desired: 4}))
		assert.Equal(t, int32(2), ic.seen.Load(), "the first write lost the race and was retried once")
		s, err := f.admin.AppsV1().Deployments(f.ns).GetScale(f.ctx, "web", metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, int32(4), s.Spec.Replicas)
	})
	t.Run("another writer scaled", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.deployment("web", 2, cs)
		d, ic := raceDriver(t, f, func() {
			s, err := f.admin.AppsV1().Deployments(f.ns).GetScale(f.ctx, "web", metav1.GetOptions{})
			require.NoError(t, err)
			s.Spec.Replicas = 9
			_, err = f.admin.AppsV1().Deployments(f.ns).UpdateScale(f.ctx, "web", s, metav1.UpdateOptions{})
			require.NoError(t, err)
		})
		err := d.SetCapacity(f.ctx, f.id(kubernetes.ObjectDeployment, "web"), provider.CapacitySpec{Min: 1, Max: 10, Desired: 4})
		require.ErrorIs(t, err, provider.ErrConflict)
		assert.Contains(t, err.Error(), "replicas changed from 2 to 9")
		assert.Equal(t, int32(1), ic.seen.Load(), "not retried: the decision was made on stale replicas")
		s, err := f.admin.AppsV1().Deployments(f.ns).GetScale(f.ctx, "web", metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, int32(9), s.Spec.Replicas, "the other writer's replicas stand")
	})
}

// TestForbiddenNamesVerbAndResource gives the viewer read access but not
// the scale subresource, as RBAC would for a read-only dashboard.
func TestForbiddenNamesVerbAndResource(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deployment("web", 2, []corev1.Container{container("app", "100m", "64Mi", false)})
	f.grantViewer("read-only",
		rbacv1.PolicyRule{APIGroups: []string{"apps"}, Resources: []string{"deployments", "statefulsets", "deployments/scale"}, Verbs: []string{"get", "list"}},
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}},
		rbacv1.PolicyRule{APIGroups: []string{"autoscaling"}, Resources: []string{"horizontalpodautoscalers"}, Verbs: []string{"list"}})

	d := f.driverAs(viewer, kubernetes.Config{})
	web := f.id(kubernetes.ObjectDeployment, "web")
	var c provider.Capacity
	err := eventually(func() (err error) { c, err = d.Capacity(f.ctx, web); return err })
	require.NoError(t, err, "the viewer reads once the binding is seen")
	err = d.SetCapacity(f.ctx, web, provider.CapacitySpec{Min: c.Min, Max: c.Max, Desired: 3})
	require.ErrorIs(t, err, kubernetes.ErrForbidden)
	require.ErrorIs(t, err, provider.ErrDenied, "nothing changed, by the provider contract")
	assert.True(t, provider.ChangedNothing(err))
	var fe *kubernetes.ForbiddenError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "update", fe.Verb)
	assert.Equal(t, "deployments.apps/scale", fe.Resource)
	assert.Equal(t, f.ns, fe.Namespace)
	assert.Equal(t, "web", fe.Name)
	assert.Contains(t, err.Error(), "update deployments.apps/scale "+f.ns+"/web")
	assert.Contains(t, err.Error(), `cannot update resource "deployments/scale"`, "the server's message stays in the chain")

	err = d.Workloads().Stop(f.ctx, web)
	require.ErrorIs(t, err, provider.ErrDenied)
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "patch", fe.Verb, "Stop first remembers the replicas in an annotation")
	assert.Equal(t, "deployments.apps", fe.Resource)

	_, err = d.List(f.ctx, provider.Filter{})
	require.NoError(t, err, "listing needs only get and list")
	s, err := f.admin.AppsV1().Deployments(f.ns).GetScale(f.ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(2), s.Spec.Replicas, "nothing changed")
}

// TestSetCapacityWakesAStoppedWorkload is what a scaling engine does when
// demand returns: it passes back the bounds Capacity reported for the
// stopped workload (widened to zero) with the replicas it wants, and
// verifies that Capacity then reports exactly that; what Stop remembered
// is forgotten.
func TestSetCapacityWakesAStoppedWorkload(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deployment("web", 3, []corev1.Container{container("app", "100m", "64Mi", false)},
		annotated(kubernetes.AnnotationMinReplicas, "2", kubernetes.AnnotationMaxReplicas, "8"))
	d := f.driver(kubernetes.Config{})
	web := f.id(kubernetes.ObjectDeployment, "web")
	require.NoError(t, d.Workloads().Stop(f.ctx, web))
	c, err := d.Capacity(f.ctx, web)
	require.NoError(t, err)
	assert.Equal(t, provider.CapacitySpec{Min: 0, Max: 8, Desired: 0}, c.CapacitySpec, "widened to the stopped replicas")
	r, err := d.Get(f.ctx, web)
	require.NoError(t, err)
	assert.Equal(t, "3", r.Tags[kubernetes.AnnotationStoppedReplicas], "a strategy sees what Stop remembered")

	// Woken with the bounds Capacity reported: the Min of 0 is the stopped
	// workload's, not a new floor, and is not stored (it was, so that
	// every wake lowered the workload's floor to 0 for good).
	want := c.CapacitySpec
	want.Desired = 1
	require.NoError(t, d.SetCapacity(f.ctx, web, want))
	c, err = d.Capacity(f.ctx, web)
	require.NoError(t, err)
	assert.Equal(t, provider.CapacitySpec{Min: 1, Max: 8, Desired: 1}, c.CapacitySpec, "the floor of 2, widened to the one replica")
	got, err := f.admin.AppsV1().Deployments(f.ns).Get(f.ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(1), *got.Spec.Replicas)
	assert.Equal(t, "2", got.Annotations[kubernetes.AnnotationMinReplicas], "the floor kept")
	assert.NotContains(t, got.Annotations, kubernetes.AnnotationStoppedReplicas)
	want.Desired = 3
	require.NoError(t, d.SetCapacity(f.ctx, web, want), "a later step of a gradual wake")
	c, err = d.Capacity(f.ctx, web)
	require.NoError(t, err)
	assert.Equal(t, provider.CapacitySpec{Min: 2, Max: 8, Desired: 3}, c.CapacitySpec)

	// Stopped again through SetCapacity (a rollback of the wake): Capacity
	// reports exactly what was set, and the floor is still 2.
	want.Desired = 0
	require.NoError(t, d.SetCapacity(f.ctx, web, want))
	c, err = d.Capacity(f.ctx, web)
	require.NoError(t, err)
	assert.Equal(t, want, c.CapacitySpec)
	b, err := d.Bounds(f.ctx, web)
	require.NoError(t, err)
	assert.Equal(t, kubernetes.Bounds{Min: 2, Max: 8}, b)

	// A floor of 0 given with another Max is stored, as any other bounds.
	require.NoError(t, d.SetCapacity(f.ctx, web, provider.CapacitySpec{Min: 0, Max: 9, Desired: 2}))
	c, err = d.Capacity(f.ctx, web)
	require.NoError(t, err)
	assert.Equal(t, provider.CapacitySpec{Min: 0, Max: 9, Desired: 2}, c.CapacitySpec)
}

// scaleBy returns a function that sets web's replicas to n as another
// writer (an HPA, kubectl scale) would.
func scaleBy(t *testing.T, f *fixture, n int32) func() {
	return func() {
		s, err := f.admin.AppsV1().Deployments(f.ns).GetScale(f.ctx, "web", metav1.GetOptions{})
		require.NoError(t, err)
		s.Spec.Replicas = n
		_, err = f.admin.AppsV1().Deployments(f.ns).UpdateScale(f.ctx, "web", s, metav1.UpdateOptions{})
		require.NoError(t, err)
	}
}

// isWorkloadPatch matches the driver's merge patches of web.
func isWorkloadPatch(r *http.Request) bool {
	return r.Method == http.MethodPatch && strings.HasSuffix(r.URL.Path, "/deployments/web")
}

// TestSetCapacityConflictWritesNothing pins SetCapacity's promise that a
// provider.ErrConflict (another writer changed the replicas) wrote
// nothing: the bound annotations and the replicas are one conditional
// patch. It wrote the annotations first, then lost the scale write to a
// writer that came in between and returned ErrConflict with the bounds
// stored.
func TestSetCapacityConflictWritesNothing(t *testing.T) {
	t.Parallel()
	cs := []corev1.Container{container("app", "100m", "64Mi", false)}
	spec := provider.CapacitySpec{Min: 2, Max: 8, Desired: 4}
	get := func(f *fixture) *appsv1.Deployment {
		o, err := f.admin.AppsV1().Deployments(f.ns).Get(f.ctx, "web", metav1.GetOptions{})
		require.NoError(t, err)
		return o
	}
	t.Run("another writer scales before the write", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.deployment("web", 3, cs)
		d, ic := raceDriver(t, f, nil)
		ic.matches, ic.before = isWorkloadPatch, scaleBy(t, f, 6)
		err := d.SetCapacity(f.ctx, f.id(kubernetes.ObjectDeployment, "web"), spec)
		require.ErrorIs(t, err, provider.ErrConflict)
		o := get(f)
		assert.NotContains(t, o.Annotations, kubernetes.AnnotationMinReplicas, "ErrConflict, yet the bounds were written")
		assert.NotContains(t, o.Annotations, kubernetes.AnnotationMaxReplicas)
		assert.Equal(t, int32(6), *o.Spec.Replicas, "the other writer's replicas stand")
	})
	t.Run("another writer scales right after the driver's first write", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.deployment("web", 3, cs)
		d, ic := raceDriver(t, f, nil)
		ic.matches, ic.after = isWorkloadPatch, scaleBy(t, f, 6)
		err := d.SetCapacity(f.ctx, f.id(kubernetes.ObjectDeployment, "web"), spec)
		o := get(f)
		if errors.Is(err, provider.ErrConflict) {
			require.NotContains(t, o.Annotations, kubernetes.AnnotationMinReplicas, "ErrConflict, yet the bounds were written: %v", err)
		}
		require.NoError(t, err, "the bounds and the replicas were written together before the other writer")
		assert.Equal(t, "2", o.Annotations[kubernetes.AnnotationMinReplicas])
		assert.Equal(t, "8", o.Annotations[kubernetes.AnnotationMaxReplicas])
		assert.Equal(t, int32(6), *o.Spec.Replicas, "the other writer came after")
	})
}

// TestSetCapacityRefusesBoundsAboveInt32 pins that a bound the
// annotations cannot hold is refused by name: a Max above 2147483647 was
// stored in an annotation that Bounds then ignored, so SetCapacity
// succeeded and Capacity reported the default bounds instead of what it
// was given.
func TestSetCapacityRefusesBoundsAboveInt32(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deployment("web", 2, []corev1.Container{container("app", "100m", "64Mi", false)})
	d := f.driver(kubernetes.Config{})
	web := f.id(kubernetes.ObjectDeployment, "web")
	err := d.SetCapacity(f.ctx, web, provider.CapacitySpec{Min: 1, Max: math.MaxInt32 + 1, Desired: 4})
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "max", ie.Field)
	o, err := f.admin.AppsV1().Deployments(f.ns).Get(f.ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(2), *o.Spec.Replicas, "nothing written")
	assert.NotContains(t, o.Annotations, kubernetes.AnnotationMaxReplicas, "nothing written")

	require.NoError(t, d.SetCapacity(f.ctx, web, provider.CapacitySpec{Min: 1, Max: math.MaxInt32, Desired: 4}))
	c, err := d.Capacity(f.ctx, web)
	require.NoError(t, err)
	assert.Equal(t, provider.CapacitySpec{Min: 1, Max: math.MaxInt32, Desired: 4}, c.CapacitySpec, "the largest bound is stored")
}

// TestScaleRetryRefusesAWorkloadBeingDeleted pins that a scale write that
// lost its race is retried only on a workload that is still live and
// selected: one deleted (with a finalizer holding it) or relabelled out of
// config.label_selector in between is provider.ErrConflict or
// provider.ErrNotFound, nothing written. The retry re-read the scale
// subresource alone, which shows neither, and scaled it.
func TestScaleRetryRefusesAWorkloadBeingDeleted(t *testing.T) {
	t.Parallel()
	cs := []corev1.Container{container("app", "100m", "64Mi", false)}
	for _, tt := range []struct {
		name      string
		interfere func(f *fixture)
		want      error
	}{
		{"deleted", func(f *fixture) {
			_, err := f.admin.AppsV1().Deployments(f.ns).Patch(f.ctx, "web", "application/merge-patch+json",
				[]byte(`{"metadata":{"finalizers":["idlescale.io/test"]}}`), metav1.PatchOptions{})
			require.NoError(t, err)
			require.NoError(t, f.admin.AppsV1().Deployments(f.ns).Delete(f.ctx, "web", metav1.DeleteOptions{}))
		}, provider.ErrConflict},
		{"relabelled", func(f *fixture) {
			_, err := f.admin.AppsV1().Deployments(f.ns).Patch(f.ctx, "web", "application/merge-patch+json",
				[]byte(`{"metadata":{"labels":{"managed":"no"}}}`), metav1.PatchOptions{})
			require.NoError(t, err)
		}, provider.ErrNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.deployment("web", 2, cs, func(d *appsv1.Deployment) { d.Labels["managed"] = "yes" })
			ic := &interceptor{
				matches: func(r *http.Request) bool {
					return r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/deployments/web/scale")
				},
				before: func() { tt.interfere(f) },
			}
			rc := restConfig()
			rc.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { ic.next = rt; return ic }
			cs, err := clientset.NewForConfig(rc)
			require.NoError(t, err)
			d, err := kubernetes.New(kubernetes.Config{Namespaces: []string{f.ns}, LabelSelector: "managed=yes"}, cs)
			require.NoError(t, err)
			err = d.SetCapacity(f.ctx, f.id(kubernetes.ObjectDeployment, "web"), provider.CapacitySpec{Min: 1, Max: 10, Desired: 4})
			require.ErrorIs(t, err, tt.want)
			assert.Equal(t, int32(1), ic.seen.Load(), "not retried")
			s, err := f.admin.AppsV1().Deployments(f.ns).GetScale(f.ctx, "web", metav1.GetOptions{})
			require.NoError(t, err)
			assert.Equal(t, int32(2), s.Spec.Replicas, "nothing written")
		})
	}
}

// TestSetCapacityRetryKeepsItsBounds pins that a retried SetCapacity
// writes what it was given, bounds included: when another writer changed
// the bound annotations between its read and its scale write, the retry
// wrote the replicas alone, so SetCapacity succeeded and Capacity then
// reported the other writer's bounds rather than what was set.
func TestSetCapacityRetryKeepsItsBounds(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deployment("web", 2, []corev1.Container{container("app", "100m", "64Mi", false)})
	d, ic := raceDriver(t, f, func() {
		_, err := f.admin.AppsV1().Deployments(f.ns).Patch(f.ctx, "web", "application/merge-patch+json",
			[]byte(`{"metadata":{"annotations":{"`+kubernetes.AnnotationMaxReplicas+`":"5"}}}`), metav1.PatchOptions{})
		require.NoError(t, err)
	})
	web := f.id(kubernetes.ObjectDeployment, "web")
	want := provider.CapacitySpec{Min: 1, Max: 10, Desired: 4}
	require.NoError(t, d.SetCapacity(f.ctx, web, want))
	assert.Equal(t, int32(1), ic.seen.Load(), "the first write lost the race")
	c, err := d.Capacity(f.ctx, web)
	require.NoError(t, err)
	assert.Equal(t, want, c.CapacitySpec, "Capacity reports what was set")
}

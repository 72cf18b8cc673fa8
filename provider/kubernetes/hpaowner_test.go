package kubernetes_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/kubernetes"
)

// hpa creates a HorizontalPodAutoscaler named name in the fixture's
// namespace scaling the object kind/name of apiVersion between minReplicas
// (nil: left out, the API server's default 1) and maxReplicas. An HPA with
// minReplicas 0 needs an object or external metric (HPAScaleToZero, on by
// default in Kubernetes 1.37); the others scale on CPU.
func (f *fixture) hpa(name, apiVersion, kind, target string, minReplicas *int32, maxReplicas int32) {
	f.t.Helper()
	metric := autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
		Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: new(int32(60))},
	}}
	if minReplicas != nil && *minReplicas == 0 {
		q := resource.MustParse("30")
		metric = autoscalingv2.MetricSpec{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
			Metric: autoscalingv2.MetricIdentifier{Name: "queue_depth"},
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &q},
		}}
	}
	_, err := f.admin.AutoscalingV2().HorizontalPodAutoscalers(f.ns).Create(f.ctx, &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: apiVersion, Kind: kind, Name: target},
			MinReplicas:    minReplicas, MaxReplicas: maxReplicas,
			Metrics: []autoscalingv2.MetricSpec{metric},
		},
	}, metav1.CreateOptions{})
	require.NoError(f.t, err)
}

// replicasOf reads a Deployment's spec.replicas through its scale
// subresource, as the HPA does.
func (f *fixture) replicasOf(name string) int32 {
	f.t.Helper()
	s, err := f.admin.AppsV1().Deployments(f.ns).GetScale(f.ctx, name, metav1.GetOptions{})
	require.NoError(f.t, err)
	return s.Spec.Replicas
}

// TestHPAScaledWorkloadIsLeftToTheHPA: a Deployment that an HPA (2 to 10
// replicas) scales. The HPA would undo any replica change the driver made
// above zero at its next sync, and the driver's caller would undo the
// HPA's: SetCapacity refuses it, names the HPA and writes nothing. A change
// to and from zero is allowed, because at zero the HPA is off (its
// ScalingDisabled): that is how an idle workload is stopped outside its
// hours and given back to the HPA in the morning.
func TestHPAScaledWorkloadIsLeftToTheHPA(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deployment("web", 3, []corev1.Container{container("app", "100m", "64Mi", false)})
	f.hpa("web-hpa", "apps/v1", "Deployment", "web", new(int32(2)), 10)
	d := f.driver(kubernetes.Config{})
	web := f.id(kubernetes.ObjectDeployment, "web")
	c, err := d.Capacity(f.ctx, web)
	require.NoError(t, err)

	err = d.SetCapacity(f.ctx, web, provider.CapacitySpec{Min: c.Min, Max: c.Max, Desired: 5})
	require.ErrorIs(t, err, kubernetes.ErrHPAScales)
	require.ErrorIs(t, err, provider.ErrConflict, "nothing changed: callers refund what they reserved")
	var he *kubernetes.HPAConflictError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, kubernetes.HPAConflictError{Namespace: f.ns, Name: "web-hpa", MinReplicas: 2, MaxReplicas: 10, From: 3, To: 5}, *he)
	assert.Contains(t, err.Error(), `set capacity "`+web+`": HorizontalPodAutoscaler `+f.ns+"/web-hpa (2 to 10 replicas) scales the workload")
	assert.Equal(t, int32(3), f.replicasOf("web"), "nothing written")

	err = d.SetCapacity(f.ctx, web, provider.CapacitySpec{Min: 1, Max: 4, Desired: 2})
	require.ErrorIs(t, err, kubernetes.ErrHPAScales, "down as well as up")
	got, err := d.Capacity(f.ctx, web)
	require.NoError(t, err)
	assert.Equal(t, c, got, "the bounds were not written either: one refusal for the whole write")

	require.NoError(t, d.SetCapacity(f.ctx, web, provider.CapacitySpec{Min: 1, Max: 4, Desired: 3}),
		"new bounds with the same replicas change nothing the HPA scales")

	act := d.Workloads()
	require.NoError(t, act.Stop(f.ctx, web), "to zero: the HPA is off there")
	assert.Equal(t, int32(0), f.replicasOf("web"))
	require.NoError(t, act.Start(f.ctx, web), "from zero: handed back to the HPA")
	assert.Equal(t, int32(3), f.replicasOf("web"))

	require.NoError(t, d.SetCapacity(f.ctx, web, provider.CapacitySpec{Min: 0, Max: 4, Desired: 0}), "SetCapacity to zero")
	assert.Equal(t, int32(0), f.replicasOf("web"))
	require.NoError(t, d.SetCapacity(f.ctx, web, provider.CapacitySpec{Min: 0, Max: 4, Desired: 4}), "and from zero")
	assert.Equal(t, int32(4), f.replicasOf("web"))

	require.NoError(t, f.driver(kubernetes.Config{IgnoreHPAs: true}).SetCapacity(f.ctx, web, provider.CapacitySpec{Min: 0, Max: 4, Desired: 2}),
		"config.ignore_hpas: the host vouches that no HPA scales its workloads")
	assert.Equal(t, int32(2), f.replicasOf("web"))
}

// TestHPAScalingFromZeroKeepsTheWorkload: an HPA with minReplicas 0
// (HPAScaleToZero, beta and on by default in Kubernetes 1.37) scales the workload
// at zero replicas too, from its external metric. Stopping it would be
// undone by the HPA at the next sync, and starting it would fight the
// HPA's own decision: both are refused, and nothing is written.
func TestHPAScalingFromZeroKeepsTheWorkload(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deployment("web", 2, []corev1.Container{container("app", "100m", "64Mi", false)})
	f.deployment("idle", 0, []corev1.Container{container("app", "100m", "64Mi", false)})
	f.hpa("web", "apps/v1", "Deployment", "web", new(int32(0)), 5)
	f.hpa("idle", "apps/v1", "Deployment", "idle", new(int32(0)), 5)
	d := f.driver(kubernetes.Config{})
	act := d.Workloads()
	web, idle := f.id(kubernetes.ObjectDeployment, "web"), f.id(kubernetes.ObjectDeployment, "idle")

	err := act.Stop(f.ctx, web)
	var he *kubernetes.HPAConflictError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, kubernetes.HPAConflictError{Namespace: f.ns, Name: "web", MinReplicas: 0, MaxReplicas: 5, From: 2, To: 0}, *he)
	assert.Contains(t, err.Error(), "its minReplicas is 0, so it scales the workload at zero replicas too")
	assert.Equal(t, int32(2), f.replicasOf("web"))
	o, err := f.admin.AppsV1().Deployments(f.ns).Get(f.ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	assert.NotContains(t, o.Annotations, kubernetes.AnnotationStoppedReplicas, "Stop remembered nothing")

	require.ErrorIs(t, d.SetCapacity(f.ctx, web, provider.CapacitySpec{Min: 0, Max: 5, Desired: 0}), kubernetes.ErrHPAScales)
	require.ErrorIs(t, act.Start(f.ctx, idle), kubernetes.ErrHPAScales)
	assert.Equal(t, int32(0), f.replicasOf("idle"))
	require.NoError(t, act.Stop(f.ctx, idle), "stopping a stopped workload changes nothing, so checks nothing")
}

// TestHPAOfAnotherObjectIsNotTheWorkloads: the HPA's scaleTargetRef must
// name the workload, by kind, name and API group. An HPA of a StatefulSet
// or of a custom resource (group example.com) of the same name scales
// something else and does not stop the driver; several of the workload's
// own are reported by the first name.
func TestHPAOfAnotherObjectIsNotTheWorkloads(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deployment("web", 3, []corev1.Container{container("app", "100m", "64Mi", false)})
	f.deployment("api", 3, []corev1.Container{container("app", "100m", "64Mi", false)})
	f.hpa("a-set", "apps/v1", "StatefulSet", "web", nil, 10)
	f.hpa("b-custom", "example.com/v1", "Deployment", "web", nil, 10)
	f.hpa("c-other", "apps/v1", "Deployment", "webb", nil, 10)
	d := f.driver(kubernetes.Config{})
	web, api := f.id(kubernetes.ObjectDeployment, "web"), f.id(kubernetes.ObjectDeployment, "api")

	require.NoError(t, d.SetCapacity(f.ctx, web, provider.CapacitySpec{Min: 1, Max: 10, Desired: 5}))
	assert.Equal(t, int32(5), f.replicasOf("web"))

	f.hpa("z-api", "apps/v1", "Deployment", "api", nil, 10)
	f.hpa("m-api", "extensions/v1beta1", "Deployment", "api", nil, 8)
	err := d.SetCapacity(f.ctx, api, provider.CapacitySpec{Min: 1, Max: 10, Desired: 5})
	var he *kubernetes.HPAConflictError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, "m-api", he.Name, "the first by name; the group Deployments had before apps/v1 is theirs")
	assert.Equal(t, int32(1), he.MinReplicas, "minReplicas left out is 1")
	assert.Equal(t, int32(3), f.replicasOf("api"))
}

// TestHPACheckNeedsListPermission: a user who may scale but not list HPAs
// gets a *ForbiddenError naming the list, and nothing is written: the
// check fails closed.
func TestHPACheckNeedsListPermission(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deployment("web", 2, []corev1.Container{container("app", "100m", "64Mi", false)})
	f.grantViewer("scaler",
		rbacv1.PolicyRule{APIGroups: []string{"apps"}, Resources: []string{"deployments", "statefulsets"}, Verbs: []string{"get", "list", "patch"}},
		rbacv1.PolicyRule{APIGroups: []string{"apps"}, Resources: []string{"deployments/scale"}, Verbs: []string{"get", "update"}})
	d := f.driverAs(viewer, kubernetes.Config{})
	web := f.id(kubernetes.ObjectDeployment, "web")
	var c provider.Capacity
	require.NoError(t, eventually(func() (err error) { c, err = d.Capacity(f.ctx, web); return err }))

	err := d.SetCapacity(f.ctx, web, provider.CapacitySpec{Min: c.Min, Max: c.Max, Desired: 3})
	var fe *kubernetes.ForbiddenError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "list", fe.Verb)
	assert.Equal(t, "horizontalpodautoscalers.autoscaling", fe.Resource)
	assert.Equal(t, f.ns, fe.Namespace)
	assert.Equal(t, int32(2), f.replicasOf("web"))

	require.NoError(t, f.driverAs(viewer, kubernetes.Config{IgnoreHPAs: true}).SetCapacity(f.ctx, web, provider.CapacitySpec{Min: c.Min, Max: c.Max, Desired: 3}),
		"config.ignore_hpas needs no HPA permission")
	assert.Equal(t, int32(3), f.replicasOf("web"))
}

// TestInventoryNamesTheHPAThatScalesAWorkload: List, Get and GetResources
// report the HorizontalPodAutoscaler that scales a workload in
// provider.Resource.ScaledBy (the first by name when several do), matched
// as SetCapacity matches it (kind, name and API group), from one list of
// HPAs per namespace, and only when groups are asked for. With
// Config.IgnoreHPAs there is no list and no ScaledBy. A user who may not
// list HPAs gets a *ForbiddenError naming the list, not an inventory that
// says no HPA scales anything.
func TestInventoryNamesTheHPAThatScalesAWorkload(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "100m", "64Mi", false)}
	f.deployment("web", 3, cs)
	f.deployment("api", 2, cs)
	f.statefulSet("db", 1, cs)
	f.pod("web-a", map[string]string{"app": "web"}, cs, nil)
	f.hpa("web-z", "apps/v1", "Deployment", "web", nil, 10)
	f.hpa("web-b", "apps/v1", "Deployment", "web", nil, 10)
	f.hpa("db", "apps/v1", "StatefulSet", "db", nil, 3)
	f.hpa("api-custom", "example.com/v1", "Deployment", "api", nil, 10)
	f.hpa("api-set", "apps/v1", "StatefulSet", "api", nil, 10)
	web, api, db := f.id(kubernetes.ObjectDeployment, "web"), f.id(kubernetes.ObjectDeployment, "api"), f.id(kubernetes.ObjectStatefulSet, "db")
	want := map[string]string{
		web: "HorizontalPodAutoscaler " + f.ns + "/web-b",
		api: "",
		db:  "HorizontalPodAutoscaler " + f.ns + "/db",
	}
	hpaList := "GET /apis/autoscaling/v2/namespaces/" + f.ns + "/horizontalpodautoscalers"
	d, calls := f.countingDriver(kubernetes.Config{})

	calls.take()
	all, err := d.List(f.ctx, provider.Filter{})
	require.NoError(t, err)
	assert.Equal(t, 1, count(calls.take(), hpaList), "one list of HPAs for the namespace")
	got := map[string]string{}
	for _, r := range all {
		if r.Kind == provider.KindGroup {
			got[r.ID] = r.ScaledBy
		} else {
			assert.Empty(t, r.ScaledBy, "%s: a pod is not scaled by an HPA", r.ID)
		}
	}
	assert.Equal(t, want, got)

	pods, err := d.List(f.ctx, provider.Filter{Kinds: []provider.Kind{provider.KindInstance}})
	require.NoError(t, err)
	require.Len(t, pods, 1)
	assert.Zero(t, count(calls.take(), hpaList), "pods alone: no HPA list")
	byID, err := d.List(f.ctx, provider.Filter{IDs: []string{pods[0].ID}})
	require.NoError(t, err)
	assert.Equal(t, pods, byID)
	assert.Zero(t, count(calls.take(), hpaList), "a filter no workload matches: no HPA list")

	reads := []provider.ResourceRead{{ID: web}, {ID: api}, {ID: db}}
	require.NoError(t, d.GetResources(f.ctx, reads))
	assert.Equal(t, 1, count(calls.take(), hpaList), "a batch: one list of HPAs for the namespace")
	for _, r := range reads {
		require.NoError(t, r.Err)
		assert.Equal(t, want[r.ID], r.Resource.ScaledBy, r.ID)
		one, err := d.Get(f.ctx, r.ID)
		require.NoError(t, err)
		assert.Equal(t, want[r.ID], one.ScaledBy, r.ID)
	}

	ignoring, calls := f.countingDriver(kubernetes.Config{IgnoreHPAs: true})
	calls.take()
	all, err = ignoring.List(f.ctx, provider.Filter{})
	require.NoError(t, err)
	for _, r := range all {
		assert.Empty(t, r.ScaledBy, "%s: config.ignore_hpas", r.ID)
	}
	one, err := ignoring.Get(f.ctx, web)
	require.NoError(t, err)
	assert.Empty(t, one.ScaledBy)
	assert.Zero(t, count(calls.take(), hpaList), "config.ignore_hpas: no HPA list")

	f.grantViewer("reader",
		rbacv1.PolicyRule{APIGroups: []string{"apps"}, Resources: []string{"deployments", "statefulsets"}, Verbs: []string{"get", "list"}},
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list"}})
	reader := f.driverAs(viewer, kubernetes.Config{})
	require.NoError(t, eventually(func() error {
		_, err := reader.List(f.ctx, provider.Filter{Kinds: []provider.Kind{provider.KindInstance}})
		return err
	}))
	_, err = reader.List(f.ctx, provider.Filter{IDs: []string{pods[0].ID}})
	require.NoError(t, err, "a pod by ID needs no HPA list")
	for _, call := range []func() error{
		func() error { _, err := reader.List(f.ctx, provider.Filter{}); return err },
		func() error { _, err := reader.Get(f.ctx, web); return err },
	} {
		var fe *kubernetes.ForbiddenError
		require.ErrorAs(t, call(), &fe)
		assert.Equal(t, "list", fe.Verb)
		assert.Equal(t, "horizontalpodautoscalers.autoscaling", fe.Resource)
	}
	batch := []provider.ResourceRead{{ID: web}}
	require.NoError(t, reader.GetResources(f.ctx, batch))
	var fe *kubernetes.ForbiddenError
	require.ErrorAs(t, batch[0].Err, &fe, "a batch read gets Get's error")
	_, err = f.driverAs(viewer, kubernetes.Config{IgnoreHPAs: true}).List(f.ctx, provider.Filter{})
	require.NoError(t, err, "config.ignore_hpas needs no HPA permission")
}

// count returns how many of calls are want.
func count(calls []string, want string) int {
	n := 0
	for _, c := range calls {
		if c == want {
			n++
		}
	}
	return n
}

// A driver that sees every namespace (no Config.Namespaces) lists the
// HPAs of all of them at once; List still names a workload's HPA with its
// namespace, as Get and GetResources do, so that a re-read before acting
// (Resource.ChangedFrom) finds the workload unchanged.
func TestInventoryNamesTheHPAInItsNamespaceAcrossNamespaces(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "100m", "64Mi", false)}
	f.deployment("web", 3, cs)
	f.hpa("web-hpa", "apps/v1", "Deployment", "web", nil, 10)
	web := f.id(kubernetes.ObjectDeployment, "web")
	want := "HorizontalPodAutoscaler " + f.ns + "/web-hpa"
	d := f.driver(kubernetes.Config{Namespaces: []string{}})

	listed, err := d.List(f.ctx, provider.Filter{IDs: []string{web}})
	require.NoError(t, err)
	require.Len(t, listed, 1)
	assert.Equal(t, want, listed[0].ScaledBy, "List")
	one, err := d.Get(f.ctx, web)
	require.NoError(t, err)
	assert.Equal(t, want, one.ScaledBy, "Get")
	reads := []provider.ResourceRead{{ID: web}}
	require.NoError(t, d.GetResources(f.ctx, reads))
	require.NoError(t, reads[0].Err)
	assert.Equal(t, want, reads[0].Resource.ScaledBy, "GetResources")
	assert.Empty(t, one.ChangedFrom(listed[0]))
}

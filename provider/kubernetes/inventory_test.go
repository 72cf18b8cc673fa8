package kubernetes_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/idlescale/idlescale/internal/kubetest"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/kubernetes"
)

func TestListMapsTheAnnotationConvention(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	containers := []corev1.Container{container("app", "500m", "256Mi", false), container("sidecar", "250m", "256Mi", false)}
	f.deployment("web", 2, containers, func(d *appsv1.Deployment) {
		d.Labels[kubernetes.AnnotationRole] = "frontend" // a label serves when no annotation says otherwise
		d.Annotations = map[string]string{
			kubernetes.AnnotationEnvironment: "production",
			kubernetes.AnnotationCriticality: "High",
			kubernetes.AnnotationOwner:       "team-shop",
			kubernetes.AnnotationProtected:   "yes",
			kubernetes.AnnotationTimeZone:    "Europe/Berlin",
			"example.com/notes":              "not a tag",
		}
	})
	f.deployment("batch", 1, containers, func(d *appsv1.Deployment) {
		d.Annotations = map[string]string{
			kubernetes.AnnotationCriticality: "sky-high", // not a level: unknown
			kubernetes.AnnotationProtected:   "off",
			kubernetes.AnnotationTimeZone:    "Mars/Olympus_Mons", // not a zone: unset
		}
	})
	f.deployment("tiered", 1, containers, func(d *appsv1.Deployment) {
		d.Annotations = map[string]string{kubernetes.AnnotationCriticality: "tier-1", kubernetes.AnnotationProtected: "off"}
	})
	f.deployment("zoned", 1, containers, func(d *appsv1.Deployment) {
		d.Annotations = map[string]string{kubernetes.AnnotationTimeZone: "Asia/Tokio", kubernetes.AnnotationProtected: "off"}
	})
	// The pod overrides its workload's owner and inherits the rest.
	f.pod("web-1", map[string]string{"app": "web"}, containers, running(time.Now()))
	_, err := f.admin.CoreV1().Pods(f.ns).Patch(f.ctx, "web-1", "application/merge-patch+json",
		[]byte(`{"metadata":{"annotations":{"idlescale.io/owner":"on-call"}}}`), metav1.PatchOptions{})
	require.NoError(t, err)

	d := f.driver(kubernetes.Config{Region: "eu-central-1", CPUHourlyPrice: 0.04, MemoryHourlyPrice: 0.004})
	got, err := d.List(f.ctx, provider.Filter{})
	require.NoError(t, err)
	require.Len(t, got, 5)
	byID := map[string]provider.Resource{}
	for _, r := range got {
		require.NoError(t, r.Validate(), r.ID)
		byID[r.ID] = r
	}
	web := byID[f.id(kubernetes.ObjectDeployment, "web")]
	assert.Equal(t, provider.KindGroup, web.Kind)
	assert.Equal(t, "kubernetes", web.Provider)
	assert.Equal(t, "eu-central-1", web.Region)
	assert.Equal(t, "web", web.Name)
	assert.Equal(t, "production", web.Environment)
	assert.Equal(t, "frontend", web.Role)
	assert.Equal(t, provider.CriticalityHigh, web.Criticality)
	assert.Equal(t, "team-shop", web.Owner)
	assert.True(t, web.Protected)
	assert.Equal(t, "Europe/Berlin", web.TimeZone)
	assert.Equal(t, map[string]string{
		"app": "web", kubernetes.AnnotationRole: "frontend", kubernetes.AnnotationEnvironment: "production",
		kubernetes.AnnotationCriticality: "High", kubernetes.AnnotationOwner: "team-shop",
		kubernetes.AnnotationProtected: "yes", kubernetes.AnnotationTimeZone: "Europe/Berlin",
	}, web.Tags, "the labels and the annotations of the convention, no others")
	assert.Equal(t, provider.Size{VCPU: 0.75, MemoryMiB: 512}, web.Size, "the per-pod requests")
	// 2 replicas × (0.75 cores × 0.04 + 0.5 GiB × 0.004)
	assert.InDelta(t, 2*(0.75*0.04+0.5*0.004), web.HourlyCost, 1e-12)

	batch := byID[f.id(kubernetes.ObjectDeployment, "batch")]
	assert.Equal(t, provider.CriticalityUnknown, batch.Criticality)
	assert.True(t, batch.Protected, "a criticality or time zone the safety rules cannot read protects it, whatever idlescale.io/protected says")
	assert.Empty(t, batch.TimeZone)
	assert.True(t, byID[f.id(kubernetes.ObjectDeployment, "tiered")].Protected, "a criticality the rules cannot read alone protects")
	assert.True(t, byID[f.id(kubernetes.ObjectDeployment, "zoned")].Protected, "a time zone the rules cannot read alone protects")

	pod := byID[f.id(kubernetes.ObjectPod, "web-1")]
	assert.Equal(t, provider.KindInstance, pod.Kind)
	assert.Equal(t, provider.StateRunning, pod.State)
	assert.Equal(t, "on-call", pod.Owner, "the pod's own annotation wins")
	assert.Equal(t, "production", pod.Environment, "inherited from the workload")
	assert.True(t, pod.Protected, "a pod of a protected workload is protected")
	assert.InDelta(t, 0.75*0.04+0.5*0.004, pod.HourlyCost, 1e-12)
}

func TestStates(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "100m", "64Mi", false)}
	f.deployment("up", 2, cs)
	f.deployment("starting", 2, cs)
	f.deployment("down", 2, cs)
	f.statefulSet("zero", 0, cs)
	_, err := kubetest.MirrorReplicas(f.ctx, f.admin, f.ns) // up and down have 2 ready, zero 0
	require.NoError(t, err)
	scale, err := f.admin.AppsV1().Deployments(f.ns).GetScale(f.ctx, "down", metav1.GetOptions{})
	require.NoError(t, err)
	scale.Spec.Replicas = 0
	_, err = f.admin.AppsV1().Deployments(f.ns).UpdateScale(f.ctx, "down", scale, metav1.UpdateOptions{})
	require.NoError(t, err)
	dep, err := f.admin.AppsV1().Deployments(f.ns).Get(f.ctx, "starting", metav1.GetOptions{})
	require.NoError(t, err)
	dep.Status = appsv1.DeploymentStatus{Replicas: 2} // two pods, none ready yet
	_, err = f.admin.AppsV1().Deployments(f.ns).UpdateStatus(f.ctx, dep, metav1.UpdateOptions{})
	require.NoError(t, err)
	labels := map[string]string{"app": "up"}
	f.pod("pending", labels, cs, nil)
	f.pod("running", labels, cs, running(time.Now()))
	f.pod("failed", labels, cs, phase(corev1.PodFailed))
	f.pod("done", labels, cs, phase(corev1.PodSucceeded))
	// A finalizer keeps a deleted pod visible, as a kubelet would while it
	// shuts the containers down.
	f.pod("leaving", labels, cs, running(time.Now()))
	_, err = f.admin.CoreV1().Pods(f.ns).Patch(f.ctx, "leaving", "application/merge-patch+json",
		[]byte(`{"metadata":{"finalizers":["idlescale.io/test"]}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	require.NoError(t, f.admin.CoreV1().Pods(f.ns).Delete(f.ctx, "leaving", metav1.DeleteOptions{}))

	d := f.driver(kubernetes.Config{})
	want := map[string]provider.State{
		f.id(kubernetes.ObjectDeployment, "up"):       provider.StateRunning,
		f.id(kubernetes.ObjectDeployment, "starting"): provider.StatePending,
		f.id(kubernetes.ObjectDeployment, "down"):     provider.StateStopping, // spec 0, status still 2
		f.id(kubernetes.ObjectStatefulSet, "zero"):    provider.StateStopped,
		f.id(kubernetes.ObjectPod, "pending"):         provider.StatePending,
		f.id(kubernetes.ObjectPod, "running"):         provider.StateRunning,
		f.id(kubernetes.ObjectPod, "failed"):          provider.StateTerminated,
		f.id(kubernetes.ObjectPod, "done"):            provider.StateTerminated,
		f.id(kubernetes.ObjectPod, "leaving"):         provider.StateStopping,
	}
	got, err := d.List(f.ctx, provider.Filter{})
	require.NoError(t, err)
	gotStates := map[string]provider.State{}
	for _, r := range got {
		gotStates[r.ID] = r.State
	}
	assert.Equal(t, want, gotStates)

	// A pod costs while it is pending or running, not once it has ended
	// or while it is being deleted (its savings would count a pod that
	// costs nothing).
	priced, err := f.driver(kubernetes.Config{CPUHourlyPrice: 0.04, MemoryHourlyPrice: 0.004}).List(f.ctx, provider.Filter{Kinds: []provider.Kind{provider.KindInstance}})
	require.NoError(t, err)
	cost := map[string]float64{}
	for _, r := range priced {
		cost[r.ID] = r.HourlyCost
	}
	each := 0.1*0.04 + 64.0/1024*0.004
	assert.InDelta(t, each, cost[f.id(kubernetes.ObjectPod, "pending")], 1e-12)
	assert.InDelta(t, each, cost[f.id(kubernetes.ObjectPod, "running")], 1e-12)
	for _, name := range []string{"failed", "done", "leaving"} {
		id := f.id(kubernetes.ObjectPod, name)
		require.Contains(t, cost, id)
		assert.Zero(t, cost[id], name)
	}
	for id, st := range want {
		r, err := d.Get(f.ctx, id)
		require.NoError(t, err, id)
		assert.Equal(t, st, r.State, id)
	}
	_, err = kubetest.MirrorReplicas(f.ctx, f.admin, f.ns)
	require.NoError(t, err)
	r, err := d.Get(f.ctx, f.id(kubernetes.ObjectDeployment, "down"))
	require.NoError(t, err)
	assert.Equal(t, provider.StateStopped, r.State, "once the controller removed the pods")

	// A workload being deleted is terminated.
	_, err = f.admin.AppsV1().Deployments(f.ns).Patch(f.ctx, "up", "application/merge-patch+json",
		[]byte(`{"metadata":{"finalizers":["idlescale.io/test"]}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	require.NoError(t, f.admin.AppsV1().Deployments(f.ns).Delete(f.ctx, "up", metav1.DeleteOptions{}))
	r, err = d.Get(f.ctx, f.id(kubernetes.ObjectDeployment, "up"))
	require.NoError(t, err)
	assert.Equal(t, provider.StateTerminated, r.State)
}

func TestScope(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	other := newFixture(t)
	cs := []corev1.Container{container("app", "100m", "64Mi", false)}
	f.deployment("web", 1, cs, func(d *appsv1.Deployment) { d.Labels["tier"] = "web" })
	f.deployment("worker", 1, cs)
	other.deployment("web", 1, cs, func(d *appsv1.Deployment) { d.Labels["tier"] = "web" })
	f.pod("web-1", map[string]string{"app": "web"}, cs, running(time.Now()))
	f.pod("stray", map[string]string{"app": "nobody"}, cs, running(time.Now()))

	d := f.driver(kubernetes.Config{LabelSelector: "tier=web"})
	got, err := d.List(f.ctx, provider.Filter{})
	require.NoError(t, err)
	assert.Equal(t, []string{f.id(kubernetes.ObjectDeployment, "web"), f.id(kubernetes.ObjectPod, "web-1")}, ids(got),
		"only the selected workloads of the configured namespace and their pods")

	for _, id := range []string{
		f.id(kubernetes.ObjectDeployment, "worker"),  // not selected
		f.id(kubernetes.ObjectPod, "stray"),          // no workload owns it
		other.id(kubernetes.ObjectDeployment, "web"), // another namespace
		f.id(kubernetes.ObjectDeployment, "missing"), // does not exist
		"nonexistent-ns/deployment/web",              // nor does this
		f.ns + "/replicaset/web",                     // not a kind the driver reports
		"web",                                        // not an ID of this driver
		f.ns + "/deployment/Not_A_Name",              // not a Kubernetes name
	} {
		_, err := d.Get(f.ctx, id)
		require.ErrorIs(t, err, provider.ErrNotFound, id)
	}
	for _, id := range []string{"", "has space"} {
		_, err := d.Get(f.ctx, id)
		require.ErrorIs(t, err, provider.ErrInvalid, id)
	}

	// Every namespace: both webs.
	all := f.driver(kubernetes.Config{Namespaces: []string{}, LabelSelector: "tier=web"})
	got, err = all.List(f.ctx, provider.Filter{Kinds: []provider.Kind{provider.KindGroup}})
	require.NoError(t, err)
	assert.Contains(t, ids(got), f.id(kubernetes.ObjectDeployment, "web"))
	assert.Contains(t, ids(got), other.id(kubernetes.ObjectDeployment, "web"))
}

func ids(rs []provider.Resource) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

// Near-miss spellings of the convention's labels are read as a person
// meant them: the safety gate's critical rule must see "production" and
// "high" in " production\u00a0" and " HIGH ".
func TestListNormalisesLabels(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	containers := []corev1.Container{container("app", "500m", "256Mi", false)}
	f.deployment("web", 1, containers, func(d *appsv1.Deployment) {
		d.Annotations = map[string]string{
			kubernetes.AnnotationEnvironment: " production\u00a0",
			kubernetes.AnnotationRole:        "front\u200bend  web",
			kubernetes.AnnotationOwner:       "\tteam-shop ",
			kubernetes.AnnotationCriticality: " HIGH ",
		}
	})
	f.pod("web-1", map[string]string{"app": "web"}, containers, running(time.Now()))

	d := f.driver(kubernetes.Config{})
	got, err := d.List(f.ctx, provider.Filter{})
	require.NoError(t, err)
	require.Len(t, got, 2)
	for _, r := range got {
		assert.Equal(t, "production", r.Environment, r.ID)
		assert.Equal(t, "frontend web", r.Role, r.ID)
		assert.Equal(t, "team-shop", r.Owner, r.ID)
		assert.Equal(t, provider.CriticalityHigh, r.Criticality, r.ID)
	}
	web, err := d.Get(f.ctx, f.id(kubernetes.ObjectDeployment, "web"))
	require.NoError(t, err)
	assert.Equal(t, "production", web.Environment, "Get normalises as List does")
	assert.Equal(t, " production\u00a0", web.Tags[kubernetes.AnnotationEnvironment], "tags keep the values as written")
}

// TestSizeWithoutMemoryRequest: a workload whose pods request CPU but no
// memory has no known size (provider.Size needs memory for an
// instance), not a size of 1 MiB; one that requests memory has its size.
func TestSizeWithoutMemoryRequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deployment("cpu-only", 1, []corev1.Container{container("app", "250m", "", false)})
	f.deployment("both", 1, []corev1.Container{container("app", "250m", "3Mi", false)})
	d := f.driver(kubernetes.Config{})
	r, err := d.Get(f.ctx, f.id(kubernetes.ObjectDeployment, "cpu-only"))
	require.NoError(t, err)
	assert.True(t, r.Size.IsZero(), "no memory request: %+v", r.Size)
	r, err = d.Get(f.ctx, f.id(kubernetes.ObjectDeployment, "both"))
	require.NoError(t, err)
	assert.Equal(t, provider.Size{VCPU: 0.25, MemoryMiB: 3}, r.Size)
}

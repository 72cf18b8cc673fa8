package kubernetes_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientset "k8s.io/client-go/kubernetes"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/kubernetes"
)

// TestWriteToARecreatedWorkloadIsNotRetried: the Deployment web is
// deleted and created again, with the same replicas, between the driver's
// read and its write (a GitOps tool replacing it, a person's delete and
// apply). The write loses the resourceVersion race, and its retry was
// judged on the replicas alone, which are unchanged, so it went ahead on
// the new object: SetCapacity scaled, and Stop stopped, a workload that
// was never read, with the decision made for the one deleted (the
// reaper's judgement of idleness, the engine's plan). A retry now
// requires the same object (its UID): the call fails with
// provider.ErrConflict naming the replacement, and the new workload keeps
// its replicas.
func TestWriteToARecreatedWorkloadIsNotRetried(t *testing.T) {
	t.Parallel()
	cs := []corev1.Container{container("app", "100m", "64Mi", false)}
	recreatingDriver := func(t *testing.T, f *fixture, method, suffix string) (*kubernetes.Driver, *interceptor) {
		t.Helper()
		ic := &interceptor{
			matches: func(r *http.Request) bool {
				return r.Method == method && strings.HasSuffix(r.URL.Path, suffix)
			},
			before: func() {
				require.NoError(t, f.admin.AppsV1().Deployments(f.ns).Delete(f.ctx, "web", metav1.DeleteOptions{}))
				f.deployment("web", 3, cs)
			},
		}
		rc := restConfig()
		rc.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { ic.next = rt; return ic }
		c, err := clientset.NewForConfig(rc)
		require.NoError(t, err)
		d, err := kubernetes.New(kubernetes.Config{Namespaces: []string{f.ns}}, c)
		require.NoError(t, err)
		return d, ic
	}
	replicas := func(t *testing.T, f *fixture) (int32, map[string]string) {
		t.Helper()
		got, err := f.admin.AppsV1().Deployments(f.ns).Get(f.ctx, "web", metav1.GetOptions{})
		require.NoError(t, err)
		return *got.Spec.Replicas, got.Annotations
	}
	t.Run("set capacity", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.deployment("web", 3, cs)
		d, ic := recreatingDriver(t, f, http.MethodPut, "/deployments/web/scale")
		err := d.SetCapacity(f.ctx, f.id(kubernetes.ObjectDeployment, "web"), provider.CapacitySpec{Min: 1, Max: 10, Desired: 5})
		require.ErrorIs(t, err, provider.ErrConflict)
		assert.Contains(t, err.Error(), "created again")
		assert.Equal(t, int32(1), ic.seen.Load(), "the lost write, not retried on the new object")
		n, _ := replicas(t, f)
		assert.Equal(t, int32(3), n, "the new workload's replicas stand")
	})
	t.Run("stop", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.deployment("web", 3, cs)
		d, ic := recreatingDriver(t, f, http.MethodPatch, "/deployments/web")
		err := d.Workloads().Stop(f.ctx, f.id(kubernetes.ObjectDeployment, "web"))
		require.ErrorIs(t, err, provider.ErrConflict)
		assert.Contains(t, err.Error(), "created again")
		assert.Equal(t, int32(1), ic.seen.Load(), "the lost write, not retried on the new object")
		n, ann := replicas(t, f)
		assert.Equal(t, int32(3), n, "the new workload is not stopped")
		assert.NotContains(t, ann, kubernetes.AnnotationStoppedReplicas)
	})
}

// TestResizeOfARecreatedPodIsNotRetried: the pod web-0 is deleted and
// created again under its name (a StatefulSet's pod replaced, a person's
// delete and apply) between Resize's read and its write. The write loses
// the resourceVersion race, and its retry went ahead on the re-read pod,
// another object whose load no one judged: the downsize decided for the
// one deleted was applied to its replacement. A retry now requires the
// same pod (its UID), as the workload writes' do: Resize fails with
// provider.ErrConflict naming the replacement, and the new pod keeps its
// requests.
func TestResizeOfARecreatedPodIsNotRetried(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "2", "512Mi", false)}
	labels := map[string]string{"app": "web"}
	f.deployment("web", 1, cs)
	f.pod("web-0", labels, cs, running(time.Now()))
	d, ic := raceDriver(t, f, func() {
		zero := int64(0)
		require.NoError(t, f.admin.CoreV1().Pods(f.ns).Delete(f.ctx, "web-0", metav1.DeleteOptions{GracePeriodSeconds: &zero}))
		f.pod("web-0", labels, cs, running(time.Now()))
	})
	ic.matches = func(r *http.Request) bool {
		return r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/pods/web-0/resize")
	}
	err := d.Resize(f.ctx, f.id(kubernetes.ObjectPod, "web-0"), provider.Size{VCPU: 0.5})
	require.ErrorIs(t, err, provider.ErrConflict)
	assert.Contains(t, err.Error(), "created again")
	assert.Equal(t, int32(1), ic.seen.Load(), "the lost write, not retried on the new pod")
	p, err := f.admin.CoreV1().Pods(f.ns).Get(f.ctx, "web-0", metav1.GetOptions{})
	require.NoError(t, err)
	got := p.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU]
	assert.Equal(t, "2", got.String(), "the new pod's request stands")
}

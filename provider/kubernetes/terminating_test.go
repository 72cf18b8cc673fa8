package kubernetes_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/kubernetes"
)

// TestStoppedOnceNoPodIsTerminating scales a Deployment to zero whose
// controller then reports, as it does while the pods shut down within
// their grace period, no replica but two terminating
// (status.terminatingReplicas): they still run and cost, so the workload
// is stopping, not stopped (a reaper would verify a stop whose pods are
// still draining); once none is terminating it is stopped.
func TestStoppedOnceNoPodIsTerminating(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deployment("web", 0, []corev1.Container{container("app", "100m", "64Mi", false)})
	setStatus := func(terminating int32) {
		o, err := f.admin.AppsV1().Deployments(f.ns).Get(f.ctx, "web", metav1.GetOptions{})
		require.NoError(t, err)
		o.Status.ObservedGeneration = o.Generation
		o.Status.Replicas = 0
		o.Status.TerminatingReplicas = &terminating
		_, err = f.admin.AppsV1().Deployments(f.ns).UpdateStatus(f.ctx, o, metav1.UpdateOptions{})
		require.NoError(t, err)
	}
	d := f.driver(kubernetes.Config{})
	id := f.id(kubernetes.ObjectDeployment, "web")
	setStatus(2)
	r, err := d.Get(f.ctx, id)
	require.NoError(t, err)
	assert.Equal(t, provider.StateStopping, r.State, "two pods are still shutting down")
	setStatus(0)
	r, err = d.Get(f.ctx, id)
	require.NoError(t, err)
	assert.Equal(t, provider.StateStopped, r.State)
}

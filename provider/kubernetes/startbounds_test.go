package kubernetes_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/idlescale/idlescale/provider/kubernetes"
)

// TestStartRestoresTheBoundsOfMemory checks the two ends of the counts
// Start accepts in AnnotationStoppedReplicas, a whole number from 1 to
// 2147483647 (TestStartRefusesMalformedMemory has those just outside):
// each is restored as remembered, not refused, and not replaced by the
// workload's minimum (3 here), and the annotation is removed.
func TestStartRestoresTheBoundsOfMemory(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "100m", "64Mi", false)}
	want := map[string]int32{"one": 1, "int32-max": 2147483647}
	for name, n := range map[string]string{"one": "1", "int32-max": "2147483647"} {
		// Within the workload's max (TestStartKeepsToAMaxLoweredWhileStopped
		// has a count above it).
		f.deployment(name, 0, cs, annotated(kubernetes.AnnotationMinReplicas, "3", kubernetes.AnnotationMaxReplicas, "2147483647",
			kubernetes.AnnotationStoppedReplicas, n))
	}
	act := f.driver(kubernetes.Config{}).Workloads()
	for name, n := range want {
		require.NoError(t, act.Start(f.ctx, f.id(kubernetes.ObjectDeployment, name)), name)
		s, err := f.admin.AppsV1().Deployments(f.ns).GetScale(f.ctx, name, metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, n, s.Spec.Replicas, "%s: the remembered replicas are restored", name)
		o, err := f.admin.AppsV1().Deployments(f.ns).Get(f.ctx, name, metav1.GetOptions{})
		require.NoError(t, err)
		assert.NotContains(t, o.Annotations, kubernetes.AnnotationStoppedReplicas, name)
	}
}

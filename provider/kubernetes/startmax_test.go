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

// TestStartKeepsToAMaxLoweredWhileStopped lowers a stopped workload's
// maximum below the replicas Stop remembered (its max-replicas
// annotation, the host's policy): Start restores the
// remembered count only up to that maximum, the owner's word since the
// stop, and forgets it; a count within the maximum is restored as
// remembered. A maximum of 0 (both annotations 0: the owner keeps the
// workload off) is provider.ErrInvalid naming it and the replicas Start
// would run, and nothing is written.
func TestStartKeepsToAMaxLoweredWhileStopped(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "100m", "64Mi", false)}
	f.deployment("annotated", 0, cs, annotated(kubernetes.AnnotationMaxReplicas, "4", kubernetes.AnnotationStoppedReplicas, "6"))
	f.deployment("policy", 0, cs, annotated(kubernetes.AnnotationStoppedReplicas, "8"))
	f.deployment("defaults", 0, cs, annotated(kubernetes.AnnotationStoppedReplicas, "7"))
	f.deployment("within", 0, cs, annotated(kubernetes.AnnotationMaxReplicas, "4", kubernetes.AnnotationStoppedReplicas, "3"))
	f.deployment("off", 0, cs, annotated(kubernetes.AnnotationMinReplicas, "0", kubernetes.AnnotationMaxReplicas, "0", kubernetes.AnnotationStoppedReplicas, "2"))
	f.deployment("off-forgotten", 0, cs, annotated(kubernetes.AnnotationMinReplicas, "0", kubernetes.AnnotationMaxReplicas, "0"))
	act := f.driver(kubernetes.Config{
		Bounds:    kubernetes.Bounds{Min: 1, Max: 5},
		Workloads: map[string]kubernetes.Bounds{f.id(kubernetes.ObjectDeployment, "policy"): {Min: 1, Max: 2}},
	}).Workloads()
	// config.bounds' max is a default for every workload, under which
	// "defaults" ran the 7 remembered: restored, as fewer could not carry
	// its load.
	for name, want := range map[string]int32{"annotated": 4, "policy": 2, "defaults": 7, "within": 3} {
		require.NoError(t, act.Start(f.ctx, f.id(kubernetes.ObjectDeployment, name)), name)
		s, err := f.admin.AppsV1().Deployments(f.ns).GetScale(f.ctx, name, metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, want, s.Spec.Replicas, "%s: started within its max", name)
		o, err := f.admin.AppsV1().Deployments(f.ns).Get(f.ctx, name, metav1.GetOptions{})
		require.NoError(t, err)
		assert.NotContains(t, o.Annotations, kubernetes.AnnotationStoppedReplicas, name)
	}
	for name, replicas := range map[string]string{"off": "2", "off-forgotten": "1"} {
		id := f.id(kubernetes.ObjectDeployment, name)
		err := act.Start(f.ctx, id)
		require.ErrorIs(t, err, provider.ErrInvalid, name)
		require.ErrorContains(t, err, id, name)
		require.ErrorContains(t, err, kubernetes.AnnotationMaxReplicas+" 0", name)
		require.ErrorContains(t, err, replicas+" replicas", name)
		s, err := f.admin.AppsV1().Deployments(f.ns).GetScale(f.ctx, name, metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, int32(0), s.Spec.Replicas, "%s: a refused Start writes nothing", name)
	}
}

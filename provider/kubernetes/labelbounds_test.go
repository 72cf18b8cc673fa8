package kubernetes_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/idlescale/idlescale/internal/kubetest"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/kubernetes"
)

// labelled adds labels to a Deployment (its own, not its pods').
func labelled(kv ...string) func(*appsv1.Deployment) {
	return func(d *appsv1.Deployment) {
		for i := 0; i+1 < len(kv); i += 2 {
			d.Labels[kv[i]] = kv[i+1]
		}
	}
}

// TestBoundLabelsAreRead pins the convention's "each key read from the
// annotations and then from the labels" for the replica bounds: a team
// that labels its workloads idlescale.io/min-replicas=2 (to select them
// with kubectl get -l) gets that floor in Capacity and in a Start without
// remembered replicas, an annotation still wins over the label, and a
// label the driver cannot read is refused as such an annotation is,
// naming the label. The labels were not read: Capacity reported the
// default bounds, 1 to 10, and Start woke the workload to 1.
func TestBoundLabelsAreRead(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "100m", "64Mi", false)}
	f.deployment("labelled", 3, cs, labelled(kubernetes.AnnotationMinReplicas, "2", kubernetes.AnnotationMaxReplicas, "4"))
	f.deployment("both", 3, cs, labelled(kubernetes.AnnotationMinReplicas, "2", kubernetes.AnnotationMaxReplicas, "4"),
		func(d *appsv1.Deployment) { d.Annotations = map[string]string{kubernetes.AnnotationMinReplicas: "3"} })
	f.deployment("stopped", 0, cs, labelled(kubernetes.AnnotationMinReplicas, "2"))
	f.deployment("junk", 3, cs, labelled(kubernetes.AnnotationMaxReplicas, "ten"))
	_, err := kubetest.MirrorReplicas(f.ctx, f.admin, f.ns)
	require.NoError(t, err)
	d := f.driver(kubernetes.Config{})

	got, err := d.Capacity(f.ctx, f.id(kubernetes.ObjectDeployment, "labelled"))
	require.NoError(t, err)
	assert.Equal(t, capacity(2, 4, 3, 3, 3), got, "the labels' bounds")
	got, err = d.Capacity(f.ctx, f.id(kubernetes.ObjectDeployment, "both"))
	require.NoError(t, err)
	assert.Equal(t, capacity(3, 4, 3, 3, 3), got, "the annotation wins over the label, the other label stays")

	require.NoError(t, d.Workloads().Start(f.ctx, f.id(kubernetes.ObjectDeployment, "stopped")))
	s, err := f.admin.AppsV1().Deployments(f.ns).GetScale(f.ctx, "stopped", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(2), s.Spec.Replicas, "Start restores the labelled floor")

	_, err = d.Capacity(f.ctx, f.id(kubernetes.ObjectDeployment, "junk"))
	require.ErrorIs(t, err, provider.ErrInvalid)
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "label "+kubernetes.AnnotationMaxReplicas, inv.Field, "the error names the label")
	assert.Equal(t, "ten", inv.Value)
}

package kubernetes_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/kubernetes"
)

// claimsDeletedWhenScaled gives a StatefulSet a claim template and the
// PersistentVolumeClaim retention policy whenScaled (whenDeleted Retain).
func claimsDeletedWhenScaled(whenScaled appsv1.PersistentVolumeClaimRetentionPolicyType) func(*appsv1.StatefulSet) {
	return func(s *appsv1.StatefulSet) {
		s.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{
			ObjectMeta: metav1.ObjectMeta{Name: "data"},
			Spec: corev1.PersistentVolumeClaimSpec{
				AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
			},
		}}
		s.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
			WhenDeleted: appsv1.RetainPersistentVolumeClaimRetentionPolicyType, WhenScaled: whenScaled,
		}
	}
}

// TestStopKeepsTheClaimsOfAStatefulSet checks Stop's contract, "keeping
// its storage", on a StatefulSet whose PersistentVolumeClaim retention
// policy deletes the claims of the pods a scale-in removes (whenScaled:
// Delete): scaled to zero, it would lose every claim, and a Start would
// bring it back on empty volumes. Stop refuses it with
// provider.ErrUnsupported naming the policy and writes nothing; one that
// retains its claims is stopped, and one already at zero is stopped
// already.
func TestStopKeepsTheClaimsOfAStatefulSet(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "100m", "64Mi", false)}
	f.statefulSet("deletes", 2, cs, claimsDeletedWhenScaled(appsv1.DeletePersistentVolumeClaimRetentionPolicyType))
	f.statefulSet("retains", 2, cs, claimsDeletedWhenScaled(appsv1.RetainPersistentVolumeClaimRetentionPolicyType))
	f.statefulSet("stopped", 0, cs, claimsDeletedWhenScaled(appsv1.DeletePersistentVolumeClaimRetentionPolicyType))
	act := f.driver(kubernetes.Config{}).Workloads()
	replicas := func(name string) int32 {
		s, err := f.admin.AppsV1().StatefulSets(f.ns).GetScale(f.ctx, name, metav1.GetOptions{})
		require.NoError(t, err)
		return s.Spec.Replicas
	}

	id := f.id(kubernetes.ObjectStatefulSet, "deletes")
	err := act.Stop(f.ctx, id)
	require.ErrorIs(t, err, provider.ErrUnsupported)
	require.ErrorContains(t, err, id)
	require.ErrorContains(t, err, "whenScaled")
	assert.Equal(t, int32(2), replicas("deletes"), "a refused Stop writes nothing")
	o, err := f.admin.AppsV1().StatefulSets(f.ns).Get(f.ctx, "deletes", metav1.GetOptions{})
	require.NoError(t, err)
	assert.NotContains(t, o.Annotations, kubernetes.AnnotationStoppedReplicas)

	require.NoError(t, act.Stop(f.ctx, f.id(kubernetes.ObjectStatefulSet, "retains")))
	assert.Equal(t, int32(0), replicas("retains"))
	require.NoError(t, act.Stop(f.ctx, f.id(kubernetes.ObjectStatefulSet, "stopped")), "stopping a stopped workload changes nothing")
}

// TestScaleToZeroKeepsTheClaimsOfAStatefulSet: SetCapacity to zero of a
// StatefulSet whose claims are deleted on scale-in (a scheduled scale to
// zero, a rollback of a wake) is refused as Stop is, nothing written: its
// controller would delete every claim, the database's data. It scaled it
// to zero. A scale-in that leaves replicas, which deletes only the claims
// of the pods it removes as the owner chose, and a scale to zero of one
// that retains its claims go through.
func TestScaleToZeroKeepsTheClaimsOfAStatefulSet(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "100m", "64Mi", false)}
	f.statefulSet("deletes", 3, cs, claimsDeletedWhenScaled(appsv1.DeletePersistentVolumeClaimRetentionPolicyType))
	f.statefulSet("retains", 2, cs, claimsDeletedWhenScaled(appsv1.RetainPersistentVolumeClaimRetentionPolicyType))
	d := f.driver(kubernetes.Config{Bounds: kubernetes.Bounds{Min: 0, Max: 10}})
	replicas := func(name string) int32 {
		s, err := f.admin.AppsV1().StatefulSets(f.ns).GetScale(f.ctx, name, metav1.GetOptions{})
		require.NoError(t, err)
		return s.Spec.Replicas
	}
	id := f.id(kubernetes.ObjectStatefulSet, "deletes")
	err := d.SetCapacity(f.ctx, id, provider.CapacitySpec{Min: 0, Max: 10, Desired: 0})
	require.ErrorIs(t, err, provider.ErrUnsupported)
	require.ErrorContains(t, err, id)
	require.ErrorContains(t, err, "whenScaled")
	assert.Equal(t, int32(3), replicas("deletes"), "a refused scale to zero writes nothing")
	require.NoError(t, d.SetCapacity(f.ctx, id, provider.CapacitySpec{Min: 0, Max: 10, Desired: 1}), "a scale-in that leaves a replica")
	assert.Equal(t, int32(1), replicas("deletes"))
	require.NoError(t, d.SetCapacity(f.ctx, f.id(kubernetes.ObjectStatefulSet, "retains"), provider.CapacitySpec{Min: 0, Max: 10, Desired: 0}))
	assert.Equal(t, int32(0), replicas("retains"))
}

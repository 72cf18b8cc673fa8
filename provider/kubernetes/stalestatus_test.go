package kubernetes_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/idlescale/idlescale/internal/kubetest"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/kubernetes"
)

// TestStatusOfAnOlderSpecIsNotSettled stops and starts a Deployment and a
// StatefulSet faster than their controllers act: the status then still
// reads 3 replicas, all ready, written (status.observedGeneration) before
// the controller saw the stop or the start, whose pods may be going or
// coming. Such a status is not the workload's: its Capacity does not read
// settled (a scaling engine would verify a wake that has not happened) and
// it is pending, not running, until the controller writes a status of the
// current generation.
func TestStatusOfAnOlderSpecIsNotSettled(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "100m", "64Mi", false)}
	f.deployment("web", 3, cs)
	f.statefulSet("db", 3, cs)
	_, err := kubetest.MirrorReplicas(f.ctx, f.admin, f.ns)
	require.NoError(t, err)
	d := f.driver(kubernetes.Config{})
	ids := []string{f.id(kubernetes.ObjectDeployment, "web"), f.id(kubernetes.ObjectStatefulSet, "db")}
	for _, id := range ids {
		c, err := d.Capacity(f.ctx, id)
		require.NoError(t, err)
		require.True(t, c.Settled(), "%s: the controller saw the spec: %+v", id, c)
		require.NoError(t, d.Workloads().Stop(f.ctx, id))
		require.NoError(t, d.Workloads().Start(f.ctx, id))

		c, err = d.Capacity(f.ctx, id)
		require.NoError(t, err)
		assert.Equal(t, 3, c.Desired, id)
		assert.False(t, c.Settled(), "%s: the status is from before the stop and the start: %+v", id, c)
		r, err := d.Get(f.ctx, id)
		require.NoError(t, err)
		assert.Equal(t, provider.StatePending, r.State, "%s: no replica is known ready at the current spec", id)
	}
	_, err = kubetest.MirrorReplicas(f.ctx, f.admin, f.ns)
	require.NoError(t, err)
	for _, id := range ids {
		c, err := d.Capacity(f.ctx, id)
		require.NoError(t, err)
		assert.True(t, c.Settled(), "%s: the controller caught up: %+v", id, c)
		r, err := d.Get(f.ctx, id)
		require.NoError(t, err)
		assert.Equal(t, provider.StateRunning, r.State, id)
	}
}

// TestStopOfAnUnobservedStartIsNotStopped starts a stopped Deployment and
// StatefulSet and stops them again before their controllers wrote a status
// of the start: the status still reads 0 replicas, written while the
// spec was 0, but the start's pods may be running. The workload is
// stopping, not stopped (a reaper would verify a stop that has not
// happened), until the controller writes a status of the current spec.
func TestStopOfAnUnobservedStartIsNotStopped(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "100m", "64Mi", false)}
	f.deployment("web", 0, cs)
	f.statefulSet("db", 0, cs)
	_, err := kubetest.MirrorReplicas(f.ctx, f.admin, f.ns)
	require.NoError(t, err)
	d := f.driver(kubernetes.Config{})
	ids := []string{f.id(kubernetes.ObjectDeployment, "web"), f.id(kubernetes.ObjectStatefulSet, "db")}
	for _, id := range ids {
		r, err := d.Get(f.ctx, id)
		require.NoError(t, err)
		require.Equal(t, provider.StateStopped, r.State, id)
		require.NoError(t, d.Workloads().Start(f.ctx, id))
		require.NoError(t, d.Workloads().Stop(f.ctx, id))
		r, err = d.Get(f.ctx, id)
		require.NoError(t, err)
		assert.Equal(t, provider.StateStopping, r.State, "%s: the status is from before the start", id)
	}
	_, err = kubetest.MirrorReplicas(f.ctx, f.admin, f.ns)
	require.NoError(t, err)
	for _, id := range ids {
		r, err := d.Get(f.ctx, id)
		require.NoError(t, err)
		assert.Equal(t, provider.StateStopped, r.State, "%s: the controller caught up", id)
	}
}

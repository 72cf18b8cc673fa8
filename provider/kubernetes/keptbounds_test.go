package kubernetes_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/kubernetes"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/scaling"
)

// TestSetCapacityAfterAKubectlScaleKeepsTheOwnersBounds: a workload whose
// owner annotated [4, 10] is scaled outside them by someone else (kubectl
// scale). Capacity reports its bounds widened to the replicas; passed
// back with other replicas (widened only to include them), they are not
// stored: the owner's annotations stay, and Capacity reports them
// widened to the new replicas only. They were stored, so that a kubectl
// scale to 2 followed by any scaling lowered the owner's floor to 2 for
// good (and one to 15 raised the max to 15). Bounds other than those
// are still stored as given.
func TestSetCapacityAfterAKubectlScaleKeepsTheOwnersBounds(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deployment("web", 5, []corev1.Container{container("app", "100m", "64Mi", false)},
		annotated(kubernetes.AnnotationMinReplicas, "4", kubernetes.AnnotationMaxReplicas, "10"))
	d := f.driver(kubernetes.Config{})
	web := f.id(kubernetes.ObjectDeployment, "web")
	capacity := func() provider.CapacitySpec {
		t.Helper()
		c, err := d.Capacity(f.ctx, web)
		require.NoError(t, err)
		return c.CapacitySpec
	}
	owners := func(msg string) {
		t.Helper()
		got, err := f.admin.AppsV1().Deployments(f.ns).Get(f.ctx, "web", metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, [2]string{"4", "10"}, [2]string{got.Annotations[kubernetes.AnnotationMinReplicas], got.Annotations[kubernetes.AnnotationMaxReplicas]}, msg)
	}

	scaleBy(t, f, 2)()
	require.Equal(t, provider.CapacitySpec{Min: 2, Max: 10, Desired: 2}, capacity(), "widened to the replicas")
	require.NoError(t, d.SetCapacity(f.ctx, web, provider.CapacitySpec{Min: 2, Max: 10, Desired: 3}))
	assert.Equal(t, provider.CapacitySpec{Min: 3, Max: 10, Desired: 3}, capacity(), "the floor of 4, widened to the 3 replicas")
	owners("the floor kept through a step from below it")
	require.NoError(t, d.SetCapacity(f.ctx, web, provider.CapacitySpec{Min: 3, Max: 10, Desired: 6}), "the bounds as read, widened to nothing more")
	assert.Equal(t, provider.CapacitySpec{Min: 4, Max: 10, Desired: 6}, capacity())
	owners("back within the owner's bounds")

	scaleBy(t, f, 15)()
	require.Equal(t, provider.CapacitySpec{Min: 4, Max: 15, Desired: 15}, capacity())
	require.NoError(t, d.SetCapacity(f.ctx, web, provider.CapacitySpec{Min: 4, Max: 15, Desired: 12}))
	assert.Equal(t, provider.CapacitySpec{Min: 4, Max: 12, Desired: 12}, capacity(), "the max of 10, widened to the 12 replicas")
	owners("the max kept through a step from above it")

	// Going further outside the bounds than the replicas read: the bounds
	// as read, widened to the new replicas (a rollback toward where a
	// kubectl scale left the workload).
	require.NoError(t, d.SetCapacity(f.ctx, web, provider.CapacitySpec{Min: 4, Max: 14, Desired: 14}))
	assert.Equal(t, provider.CapacitySpec{Min: 4, Max: 14, Desired: 14}, capacity())
	owners("widened only to the new replicas: not stored")

	// Other bounds are the caller's own: stored, as before.
	require.NoError(t, d.SetCapacity(f.ctx, web, provider.CapacitySpec{Min: 3, Max: 14, Desired: 5}))
	assert.Equal(t, provider.CapacitySpec{Min: 3, Max: 14, Desired: 5}, capacity())
	b, err := d.Bounds(f.ctx, web)
	require.NoError(t, err)
	assert.Equal(t, kubernetes.Bounds{Min: 3, Max: 14}, b, "a floor of 3 is not the bounds as read (a Min of 4)")
}

// TestSetCapacityAfterAKubectlScaleOfAFixedWorkload: a workload whose
// bounds the host's policy fixes (Config.Workloads [1, 4]), scaled to 6
// by someone else, is reported at [1, 6]; those bounds passed back to
// scale it in are accepted (they were refused, so the engine could not
// bring the workload back within its host's bounds), and bounds wider
// than the workload as read are still refused, nothing written.
func TestSetCapacityAfterAKubectlScaleOfAFixedWorkload(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deployment("web", 3, []corev1.Container{container("app", "100m", "64Mi", false)})
	web := f.id(kubernetes.ObjectDeployment, "web")
	d := f.driver(kubernetes.Config{Workloads: map[string]kubernetes.Bounds{web: {Min: 1, Max: 4}}})
	scaleBy(t, f, 6)()
	c, err := d.Capacity(f.ctx, web)
	require.NoError(t, err)
	require.Equal(t, provider.CapacitySpec{Min: 1, Max: 6, Desired: 6}, c.CapacitySpec)

	var ie *provider.InvalidError
	require.ErrorAs(t, d.SetCapacity(f.ctx, web, provider.CapacitySpec{Min: 1, Max: 7, Desired: 5}), &ie, "wider than the workload as read")
	require.ErrorAs(t, d.SetCapacity(f.ctx, web, provider.CapacitySpec{Min: 2, Max: 6, Desired: 5}), &ie, "a floor other than the host's")
	assert.Equal(t, int32(6), f.replicasOf("web"), "nothing written")

	require.NoError(t, d.SetCapacity(f.ctx, web, provider.CapacitySpec{Min: 1, Max: 6, Desired: 5}))
	c, err = d.Capacity(f.ctx, web)
	require.NoError(t, err)
	assert.Equal(t, provider.CapacitySpec{Min: 1, Max: 5, Desired: 5}, c.CapacitySpec)
	require.NoError(t, d.SetCapacity(f.ctx, web, provider.CapacitySpec{Min: 1, Max: 5, Desired: 3}), "the bounds as read")
	c, err = d.Capacity(f.ctx, web)
	require.NoError(t, err)
	assert.Equal(t, provider.CapacitySpec{Min: 1, Max: 4, Desired: 3}, c.CapacitySpec, "back within the host's bounds")
}

// TestEngineScalesAWorkloadKubectlScaledBelowItsFloor runs the scaling
// engine on a workload annotated [4, 10] that someone scaled to 2: its
// plan 2 → 3 → 4 → 6 keeps the bounds it read ([2, 10]), and completes,
// every step verified, with the owner's floor of 4 kept. Before, the
// driver stored the plan's [2, 10], and the owner's min-replicas was 2
// for good.
func TestEngineScalesAWorkloadKubectlScaledBelowItsFloor(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deployment("web", 5, []corev1.Container{container("app", "100m", "64Mi", false)},
		annotated(kubernetes.AnnotationMinReplicas, "4", kubernetes.AnnotationMaxReplicas, "10"))
	f.controllers()
	web := f.id(kubernetes.ObjectDeployment, "web")
	d := f.driver(kubernetes.Config{})
	scaleBy(t, f, 2)()

	engine := gradualEngine(t, d, d)
	c, err := d.Capacity(f.ctx, web)
	require.NoError(t, err)
	require.Equal(t, provider.CapacitySpec{Min: 2, Max: 10, Desired: 2}, c.CapacitySpec)
	p := planTo(t, f, engine, d, web, 6, 20)
	require.Len(t, p.Steps, 3, "2 → 3 → 4 → 6")
	x, err := engine.Execute(f.ctx, p)
	require.NoError(t, err)
	require.Equal(t, scaling.PlanCompleted, x.Status, x.Reason)
	for _, s := range x.Steps {
		assert.Equal(t, scaling.StepVerified, s.Status, "step %d: %s", s.Step.Index, s.Reason)
	}
	c, err = d.Capacity(f.ctx, web)
	require.NoError(t, err)
	assert.Equal(t, provider.CapacitySpec{Min: 4, Max: 10, Desired: 6}, c.CapacitySpec)
	b, err := d.Bounds(f.ctx, web)
	require.NoError(t, err)
	assert.Equal(t, kubernetes.Bounds{Min: 4, Max: 10}, b, "the owner's floor kept")
}

// TestFixedWorkloadWithinItsEntryIsRefusedBoundsWidenedToNewReplicas: a
// workload whose Config.Workloads entry fixes [1, 4], at 3 replicas
// (within the entry: no one scaled it outside), is refused 6 replicas
// with [1, 6], nothing written; since the entry accepted the bounds as
// Capacity reports them, widened to the new replicas, it was scaled to
// 6, above its host's policy. A rollback (provider.WithRollback) toward
// where a kubectl scale had left it still passes such bounds back.
func TestFixedWorkloadWithinItsEntryIsRefusedBoundsWidenedToNewReplicas(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deployment("web", 3, []corev1.Container{container("app", "100m", "64Mi", false)})
	web := f.id(kubernetes.ObjectDeployment, "web")
	d := f.driver(kubernetes.Config{Workloads: map[string]kubernetes.Bounds{web: {Min: 1, Max: 4}}})
	var ie *provider.InvalidError
	require.ErrorAs(t, d.SetCapacity(f.ctx, web, provider.CapacitySpec{Min: 1, Max: 6, Desired: 6}), &ie)
	assert.Equal(t, int32(3), f.replicasOf("web"), "nothing written")

	require.NoError(t, d.SetCapacity(provider.WithRollback(f.ctx), web, provider.CapacitySpec{Min: 1, Max: 6, Desired: 6}))
	c, err := d.Capacity(f.ctx, web)
	require.NoError(t, err)
	assert.Equal(t, provider.CapacitySpec{Min: 1, Max: 6, Desired: 6}, c.CapacitySpec)
}

// gradualEngine is a scaling engine writing through sc and reading d's
// inventory, gated by the gradual rule alone, polling every 100 ms and
// verifying each step within 2 minutes (a generous real-time bound).
func gradualEngine(t *testing.T, sc provider.Scaler, d *kubernetes.Driver, opts ...scaling.EngineOption) *scaling.Engine {
	t.Helper()
	gradual, err := safety.NewGradualRule(safety.GradualConfig{})
	require.NoError(t, err)
	gate, err := safety.New(safety.Config{}, []safety.Rule{gradual})
	require.NoError(t, err)
	engine, err := scaling.NewEngine(scaling.EngineConfig{PollInterval: 100 * time.Millisecond, VerifyTimeout: 2 * time.Minute, VerifyWindow: time.Millisecond},
		scaling.Cloud{Scaler: sc, Inventory: d}, gate, opts...)
	require.NoError(t, err)
	return engine
}

// planTo is engine's plan to take workload id to desired replicas, with
// the bounds it reads, within a policy of [0, hi].
func planTo(t *testing.T, f *fixture, engine *scaling.Engine, d *kubernetes.Driver, id string, desired, hi int) scaling.Plan {
	t.Helper()
	res, err := d.Get(f.ctx, id)
	require.NoError(t, err)
	c, err := d.Capacity(f.ctx, id)
	require.NoError(t, err)
	to := scaling.StrategyFunc(func(_ context.Context, s scaling.State) (scaling.Recommendation, error) {
		spec := s.Target.Capacity.CapacitySpec
		spec.Desired = desired
		return scaling.Recommendation{Capacity: spec, Proposal: desired, Reason: "to " + strconv.Itoa(desired), Fitness: 1}, nil
	})
	dec, err := engine.Decide(f.ctx, scaling.State{Now: time.Now(), Target: scaling.Target{ID: id, Resource: res, Capacity: c, Min: 0, Max: hi}},
		[]scaling.Candidate{{Name: "to", Strategy: to}}, "")
	require.NoError(t, err)
	return engine.Plan(dec, scaling.PlanOptions{})
}

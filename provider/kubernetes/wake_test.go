package kubernetes_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/kubernetes"
	"github.com/idlescale/idlescale/scaling"
)

// TestEngineWakesAStoppedWorkloadKeepingItsFloor runs the scaling
// engine's wake of workloads the reaper stopped (Workloads.Stop): one
// whose bounds the host's policy fixes (Config.Workloads), one whose
// bounds are its annotations. Capacity reports each with a Min of 0
// while stopped, and the engine's gradual wake (0 → 1 → 2 → 3) passes
// that 0 back. Before, the first was refused at once (its policy's
// bounds only), and the second was woken with its floor lowered to 0
// for good. Now both complete, verified, with their floors kept; and a
// wake whose verification fails is rolled back to zero through the same
// bounds.
func TestEngineWakesAStoppedWorkloadKeepingItsFloor(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "100m", "64Mi", false)}
	f.deployment("fixed", 2, cs)
	f.deployment("annotated", 2, cs, annotated(kubernetes.AnnotationMinReplicas, "2", kubernetes.AnnotationMaxReplicas, "8"))
	f.controllers()
	fixed, annot := f.id(kubernetes.ObjectDeployment, "fixed"), f.id(kubernetes.ObjectDeployment, "annotated")
	d := f.driver(kubernetes.Config{Workloads: map[string]kubernetes.Bounds{fixed: {Min: 1, Max: 4}}})
	for _, id := range []string{fixed, annot} {
		require.NoError(t, d.Workloads().Stop(f.ctx, id))
	}

	engine := gradualEngine(t, d, d)
	wake := func(id string) (scaling.Plan, scaling.Execution) {
		t.Helper()
		res, err := d.Get(f.ctx, id)
		require.NoError(t, err)
		c, err := d.Capacity(f.ctx, id)
		require.NoError(t, err)
		require.Equal(t, 0, c.Desired)
		require.Equal(t, 0, c.Min, "a stopped workload reports a Min of 0")
		target := scaling.Target{ID: id, Resource: res, Capacity: c, Min: 0, Max: 10}
		to3 := scaling.StrategyFunc(func(_ context.Context, s scaling.State) (scaling.Recommendation, error) {
			spec := s.Target.Capacity.CapacitySpec
			spec.Desired = 3
			return scaling.Recommendation{Capacity: spec, Proposal: 3, Reason: "requests are back", Fitness: 1}, nil
		})
		dec, err := engine.Decide(f.ctx, scaling.State{Now: time.Now(), Target: target}, []scaling.Candidate{{Name: "wake", Strategy: to3}}, "")
		require.NoError(t, err)
		p := engine.Plan(dec, scaling.PlanOptions{})
		require.Len(t, p.Steps, 3, "0 → 1 → 2 → 3")
		x, err := engine.Execute(f.ctx, p)
		require.NoError(t, err)
		return p, x
	}
	for id, floor := range map[string]kubernetes.Bounds{fixed: {Min: 1, Max: 4}, annot: {Min: 2, Max: 8}} {
		_, x := wake(id)
		require.Equal(t, scaling.PlanCompleted, x.Status, "%s: %s", id, x.Reason)
		c, err := d.Capacity(f.ctx, id)
		require.NoError(t, err)
		assert.Equal(t, provider.CapacitySpec{Min: floor.Min, Max: floor.Max, Desired: 3}, c.CapacitySpec, id)
		b, err := d.Bounds(f.ctx, id)
		require.NoError(t, err)
		assert.Equal(t, floor, b, "%s: the floor kept", id)
	}
	got, err := f.admin.AppsV1().Deployments(f.ns).Get(f.ctx, "annotated", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "2", got.Annotations[kubernetes.AnnotationMinReplicas])

	// Policy's bounds other than the entry's (or the entry's as a stopped
	// workload reports them) are still refused, nothing written.
	var ie *provider.InvalidError
	require.ErrorAs(t, d.SetCapacity(f.ctx, fixed, provider.CapacitySpec{Min: 0, Max: 5, Desired: 3}), &ie)
	require.ErrorAs(t, d.SetCapacity(f.ctx, fixed, provider.CapacitySpec{Min: 2, Max: 4, Desired: 3}), &ie)

	// The rollback of a wake: stopped again through the bounds it was
	// woken with, which the policy's entry accepts.
	require.NoError(t, d.Workloads().Stop(f.ctx, fixed))
	p, _ := wake(fixed)
	require.Equal(t, provider.CapacitySpec{Min: 0, Max: 4, Desired: 0}, p.Rollback[len(p.Rollback)-1].To)
	for _, s := range p.Rollback {
		require.NoError(t, d.SetCapacity(f.ctx, fixed, s.To), "rollback step %d", s.Index)
	}
	c, err := d.Capacity(f.ctx, fixed)
	require.NoError(t, err)
	assert.Equal(t, provider.CapacitySpec{Min: 0, Max: 4, Desired: 0}, c.CapacitySpec)
}

// TestFixedFloorHeldWhileRunning: a workload whose policy entry fixes
// [2, 6] accepts the stopped bounds' Min of 0 on the way from or to a
// stop (a wake's steps, their rollback, a stop), but not to run below
// its floor: from 4 replicas, {0, 6, 1} is refused, nothing written. It
// was accepted, a direct caller's way around the host's policy.
func TestFixedFloorHeldWhileRunning(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deployment("web", 4, []corev1.Container{container("app", "100m", "64Mi", false)})
	web := f.id(kubernetes.ObjectDeployment, "web")
	d := f.driver(kubernetes.Config{Workloads: map[string]kubernetes.Bounds{web: {Min: 2, Max: 6}}})
	assertFloorOf2Held(t, f, d, web)
}

// assertFloorOf2Held checks, on the deployment "web" at 4 replicas with
// bounds [2, 6], that {0, 6, 1} is refused naming desired with nothing
// written, and that a stop's steps down to 0, a wake and its rollback
// (the stopped bounds' Min of 0) are written.
func assertFloorOf2Held(t *testing.T, f *fixture, d *kubernetes.Driver, web string) {
	t.Helper()
	replicas := func() int32 {
		t.Helper()
		got, err := f.admin.AppsV1().Deployments(f.ns).Get(f.ctx, "web", metav1.GetOptions{})
		require.NoError(t, err)
		return *got.Spec.Replicas
	}
	var ie *provider.InvalidError
	require.ErrorAs(t, d.SetCapacity(f.ctx, web, provider.CapacitySpec{Min: 0, Max: 6, Desired: 1}), &ie)
	assert.Equal(t, "desired", ie.Field)
	assert.Equal(t, int32(4), replicas(), "nothing written")
	for _, step := range []int{2, 1, 0, 1, 2, 3, 2, 1} { // down to a stop, a wake, its rollback
		require.NoError(t, d.SetCapacity(f.ctx, web, provider.CapacitySpec{Min: 0, Max: 6, Desired: step}), "to %d", step)
		assert.Equal(t, int32(step), replicas())
	}
}

// TestSetCapacityAtZeroKeepsTheRememberedReplicas: a change of bounds
// that keeps a stopped workload at zero (a host narrowing its max while
// it sleeps, writing back the Capacity it read with another Max) keeps
// the replicas Stop remembered, so that Start brings back as many as
// were stopped (only a write above zero, a wake, lets them go), and
// keeps the owner's floor: the Min of 0 is the stopped workload's
// widened report, and it was stored in min-replicas for good.
func TestSetCapacityAtZeroKeepsTheRememberedReplicas(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deployment("web", 5, []corev1.Container{container("app", "100m", "64Mi", false)}, annotated(kubernetes.AnnotationMinReplicas, "2", kubernetes.AnnotationMaxReplicas, "8"))
	id := f.id(kubernetes.ObjectDeployment, "web")
	d := f.driver(kubernetes.Config{})
	require.NoError(t, d.Workloads().Stop(f.ctx, id))
	c, err := d.Capacity(f.ctx, id)
	require.NoError(t, err)
	require.Equal(t, 0, c.Desired)
	want := c.CapacitySpec
	want.Max = 6
	require.NoError(t, d.SetCapacity(f.ctx, id, want))
	o, err := f.admin.AppsV1().Deployments(f.ns).Get(f.ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "5", o.Annotations[kubernetes.AnnotationStoppedReplicas], "the replicas Stop remembered: %v", o.Annotations)
	assert.Equal(t, "2", o.Annotations[kubernetes.AnnotationMinReplicas], "the owner's floor: %v", o.Annotations)
	assert.Equal(t, "6", o.Annotations[kubernetes.AnnotationMaxReplicas], "the new max: %v", o.Annotations)
	c, err = d.Capacity(f.ctx, id)
	require.NoError(t, err)
	assert.Equal(t, provider.CapacitySpec{Min: 0, Max: 6, Desired: 0}, c.CapacitySpec, "reported as a stopped workload")
	require.NoError(t, d.Workloads().Start(f.ctx, id))
	c, err = d.Capacity(f.ctx, id)
	require.NoError(t, err)
	assert.Equal(t, provider.CapacitySpec{Min: 2, Max: 6, Desired: 5}, c.CapacitySpec, "Start brings back the five stopped, above the kept floor")
}

// TestAnnotatedFloorHeldWhileRunning: a workload whose bounds are its
// annotations ([2, 6]) keeps its floor through the stopped bounds' Min
// of 0, which SetCapacity does not store, as a policy entry's does
// (TestFixedFloorHeldWhileRunning): from 4 replicas, {0, 6, 1} is refused
// and nothing written. It was accepted: the workload ran 1 replica under
// its owner's min-replicas of 2, which stayed written, and Capacity then
// reported {1, 6, 1}, neither what was asked nor the floor. A wake's steps,
// their rollback and a stop still pass, and the floor stays 2.
func TestAnnotatedFloorHeldWhileRunning(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deployment("web", 4, []corev1.Container{container("app", "100m", "64Mi", false)},
		annotated(kubernetes.AnnotationMinReplicas, "2", kubernetes.AnnotationMaxReplicas, "6"))
	web := f.id(kubernetes.ObjectDeployment, "web")
	d := f.driver(kubernetes.Config{})
	assertFloorOf2Held(t, f, d, web)
	b, err := d.Bounds(f.ctx, web)
	require.NoError(t, err)
	assert.Equal(t, kubernetes.Bounds{Min: 2, Max: 6}, b, "the owner's floor kept")
	// Bounds the caller means to store, a lower floor, are stored (from
	// within the bounds: at 1 replica, [1, 6] is how Capacity reports the
	// workload, see TestFloorAtTheNewReplicasIsNotStored).
	require.NoError(t, d.SetCapacity(f.ctx, web, provider.CapacitySpec{Min: 2, Max: 6, Desired: 4}))
	require.NoError(t, d.SetCapacity(f.ctx, web, provider.CapacitySpec{Min: 1, Max: 6, Desired: 3}))
	b, err = d.Bounds(f.ctx, web)
	require.NoError(t, err)
	assert.Equal(t, kubernetes.Bounds{Min: 1, Max: 6}, b)
}

// TestFloorAtTheNewReplicasIsNotStored: bounds that are the workload's
// own widened only to the new replicas ({1, 6, 1} on a workload annotated
// [2, 6]) are what a caller passes back to scale a workload outside its
// bounds (the scaling engine's rollback toward where a kubectl scale left
// it), and are not stored: Capacity reports exactly them, and the owner's
// floor of 2 stays (TestSetCapacityAfterAKubectlScaleKeepsTheOwnersBounds).
// Meant as a new floor, they are the one case read otherwise; a floor
// kept is the safe side of that doubt.
func TestFloorAtTheNewReplicasIsNotStored(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deployment("web", 3, []corev1.Container{container("app", "100m", "64Mi", false)},
		annotated(kubernetes.AnnotationMinReplicas, "2", kubernetes.AnnotationMaxReplicas, "6"))
	web := f.id(kubernetes.ObjectDeployment, "web")
	d := f.driver(kubernetes.Config{})
	want := provider.CapacitySpec{Min: 1, Max: 6, Desired: 1}
	require.NoError(t, d.SetCapacity(f.ctx, web, want))
	c, err := d.Capacity(f.ctx, web)
	require.NoError(t, err)
	assert.Equal(t, want, c.CapacitySpec)
	b, err := d.Bounds(f.ctx, web)
	require.NoError(t, err)
	assert.Equal(t, kubernetes.Bounds{Min: 2, Max: 6}, b)
}

// TestFloorRaisedDuringARaceIsHeld: a write that lost a resourceVersion
// race to the owner raising the workload's floor (min-replicas 1 → 3) is
// retried on the re-read workload only within the new floor: {0, 6, 1},
// accepted from 4 replicas above a floor of 1, is refused once the floor
// is 3, and nothing is written. The retry judged it on the floor of the
// first read and scaled the workload to 1, under the floor its owner had
// just set.
func TestFloorRaisedDuringARaceIsHeld(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deployment("web", 4, []corev1.Container{container("app", "100m", "64Mi", false)},
		annotated(kubernetes.AnnotationMinReplicas, "1", kubernetes.AnnotationMaxReplicas, "6"))
	d, ic := raceDriver(t, f, func() {
		_, err := f.admin.AppsV1().Deployments(f.ns).Patch(f.ctx, "web", "application/merge-patch+json",
			[]byte(`{"metadata":{"annotations":{"`+kubernetes.AnnotationMinReplicas+`":"3"}}}`), metav1.PatchOptions{})
		require.NoError(t, err)
	})
	var ie *provider.InvalidError
	require.ErrorAs(t, d.SetCapacity(f.ctx, f.id(kubernetes.ObjectDeployment, "web"), provider.CapacitySpec{Min: 0, Max: 6, Desired: 1}), &ie)
	assert.Equal(t, "desired", ie.Field)
	assert.Equal(t, int32(1), ic.seen.Load(), "the lost write, not retried")
	got, err := f.admin.AppsV1().Deployments(f.ns).Get(f.ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(4), *got.Spec.Replicas, "nothing written")
	assert.Equal(t, "3", got.Annotations[kubernetes.AnnotationMinReplicas], "the owner's floor stands")
}

// lostReplyScaler is the driver whose write to a desired capacity of
// lostAt takes effect and then fails, as a reply lost after the API server
// applied it: the scaling engine finds the step in effect and rolls the
// plan back.
type lostReplyScaler struct {
	*kubernetes.Driver
	lostAt int
}

func (s lostReplyScaler) SetCapacity(ctx context.Context, id string, want provider.CapacitySpec) error {
	if err := s.Driver.SetCapacity(ctx, id, want); err != nil || want.Desired != s.lostAt {
		return err
	}
	return fmt.Errorf("the reply was lost: %w", kubernetes.ErrUnavailable)
}

// TestEngineRollbackOfAWakeAboveTheFloorFailsNamingIt: the engine wakes
// a stopped workload whose min-replicas is 4 to 6 (0 → 1 → 2 → 3 → 4 →
// 6), and the last step fails after it took effect. Its rollback, from 6
// back to the stop, goes 6 → 3 first (the gradual rule's half), which
// the driver refuses: the workload runs above its floor, and 3 is below
// it. The plan must end failed, its rollback failed (ErrRollback), with
// the driver's refusal (provider.ErrInvalid naming desired and the floor)
// in its error and reason, the workload left at 6 (fail closed: nothing
// scaled in), and no rollback step retried.
func TestEngineRollbackOfAWakeAboveTheFloorFailsNamingIt(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deployment("web", 6, []corev1.Container{container("app", "100m", "64Mi", false)},
		annotated(kubernetes.AnnotationMinReplicas, "4", kubernetes.AnnotationMaxReplicas, "8"))
	f.controllers()
	id := f.id(kubernetes.ObjectDeployment, "web")
	d := f.driver(kubernetes.Config{})
	require.NoError(t, d.Workloads().Stop(f.ctx, id))

	var (
		mu     sync.Mutex
		events []scaling.Event
	)
	engine := gradualEngine(t, lostReplyScaler{Driver: d, lostAt: 6}, d,
		scaling.WithObserver(scaling.ObserverFunc(func(ev scaling.Event) {
			mu.Lock()
			defer mu.Unlock()
			events = append(events, ev)
		})))
	c, err := d.Capacity(f.ctx, id)
	require.NoError(t, err)
	require.Equal(t, provider.CapacitySpec{Min: 0, Max: 8, Desired: 0}, c.CapacitySpec)
	p := planTo(t, f, engine, d, id, 6, 10)
	require.Len(t, p.Steps, 5, "0 → 1 → 2 → 3 → 4 → 6")

	x, err := engine.Execute(f.ctx, p)
	require.Error(t, err)
	assert.Equal(t, scaling.PlanFailed, x.Status, x.Reason)
	require.ErrorIs(t, err, scaling.ErrRollback)
	require.ErrorIs(t, err, provider.ErrInvalid, "the driver's refusal is in the chain")
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "desired", ie.Field)
	assert.Contains(t, x.Reason, "rollback failed")
	assert.Contains(t, x.Reason, kubernetes.AnnotationMinReplicas, "the reason names the floor's source")
	assert.Contains(t, x.Reason, "is 4", "the reason names the floor")
	require.Len(t, x.Rollback, 1, "one rollback step tried, not retried")
	assert.Equal(t, scaling.StepFailed, x.Rollback[0].Status)
	assert.Equal(t, 3, x.Rollback[0].Step.To.Desired)

	c, err = d.Capacity(f.ctx, id)
	require.NoError(t, err)
	assert.Equal(t, provider.CapacitySpec{Min: 4, Max: 8, Desired: 6}, c.CapacitySpec, "left where the wake took it, its floor kept")
	var failed, completed int
	mu.Lock()
	defer mu.Unlock()
	for _, ev := range events {
		switch ev.Kind {
		case scaling.EventRollbackFailed:
			failed++
		case scaling.EventRollbackCompleted:
			completed++
		}
	}
	assert.Equal(t, 1, failed, "a rollback_failed event")
	assert.Zero(t, completed, "no rollback_completed event")
}

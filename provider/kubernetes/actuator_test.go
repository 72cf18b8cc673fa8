package kubernetes_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
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

// TestStopStart walks a Deployment and a StatefulSet through the Actuator
// contract: stop remembers and scales to zero, start restores, both are
// idempotent, and the states move as the controllers (MirrorReplicas) act.
func TestStopStart(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "100m", "64Mi", false)}
	f.deployment("web", 3, cs)
	f.statefulSet("db", 2, cs)
	settle := func() {
		_, err := kubetest.MirrorReplicas(f.ctx, f.admin, f.ns)
		require.NoError(t, err)
	}
	settle()
	d := f.driver(kubernetes.Config{})
	act := d.Workloads()
	state := func(id string) provider.State {
		r, err := d.Get(f.ctx, id)
		require.NoError(t, err)
		return r.State
	}
	for _, tt := range []struct {
		id       string
		replicas int
		scale    func() int32
		meta     func() metav1.ObjectMeta
	}{
		{f.id(kubernetes.ObjectDeployment, "web"), 3,
			func() int32 {
				s, err := f.admin.AppsV1().Deployments(f.ns).GetScale(f.ctx, "web", metav1.GetOptions{})
				require.NoError(t, err)
				return s.Spec.Replicas
			},
			func() metav1.ObjectMeta {
				o, err := f.admin.AppsV1().Deployments(f.ns).Get(f.ctx, "web", metav1.GetOptions{})
				require.NoError(t, err)
				return o.ObjectMeta
			}},
		{f.id(kubernetes.ObjectStatefulSet, "db"), 2,
			func() int32 {
				s, err := f.admin.AppsV1().StatefulSets(f.ns).GetScale(f.ctx, "db", metav1.GetOptions{})
				require.NoError(t, err)
				return s.Spec.Replicas
			},
			func() metav1.ObjectMeta {
				o, err := f.admin.AppsV1().StatefulSets(f.ns).Get(f.ctx, "db", metav1.GetOptions{})
				require.NoError(t, err)
				return o.ObjectMeta
			}},
	} {
		require.Equal(t, provider.StateRunning, state(tt.id))
		require.NoError(t, act.Stop(f.ctx, tt.id))
		assert.Equal(t, int32(0), tt.scale())
		assert.Equal(t, strconv.Itoa(tt.replicas), tt.meta().Annotations[kubernetes.AnnotationStoppedReplicas], "the replicas are remembered")
		assert.Equal(t, provider.StateStopping, state(tt.id), "pods are still there")
		require.NoError(t, act.Stop(f.ctx, tt.id), "stopping a stopping workload")
		assert.Equal(t, strconv.Itoa(tt.replicas), tt.meta().Annotations[kubernetes.AnnotationStoppedReplicas], "a second Stop keeps what the first remembered")
		settle()
		assert.Equal(t, provider.StateStopped, state(tt.id))
		require.NoError(t, act.Stop(f.ctx, tt.id), "stopping a stopped workload")

		require.NoError(t, act.Start(f.ctx, tt.id))
		assert.Equal(t, int32(tt.replicas), tt.scale(), "the remembered replicas are restored")
		assert.NotContains(t, tt.meta().Annotations, kubernetes.AnnotationStoppedReplicas)
		assert.Equal(t, provider.StatePending, state(tt.id), "no replica is ready yet")
		require.NoError(t, act.Start(f.ctx, tt.id), "starting a pending workload")
		settle()
		assert.Equal(t, provider.StateRunning, state(tt.id))
		require.NoError(t, act.Start(f.ctx, tt.id), "starting a running workload")
		assert.Equal(t, int32(tt.replicas), tt.scale())
	}
}

func TestStartWithoutMemory(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "100m", "64Mi", false)}
	// Scaled to zero by someone else: nothing remembered.
	f.deployment("plain", 0, cs)
	f.deployment("floor", 0, cs, annotated(kubernetes.AnnotationMinReplicas, "3"))
	f.deployment("zero-floor", 0, cs, annotated(kubernetes.AnnotationMinReplicas, "0"))
	act := f.driver(kubernetes.Config{}).Workloads()
	for name, want := range map[string]int32{"plain": 1, "floor": 3, "zero-floor": 1} {
		require.NoError(t, act.Start(f.ctx, f.id(kubernetes.ObjectDeployment, name)), name)
		s, err := f.admin.AppsV1().Deployments(f.ns).GetScale(f.ctx, name, metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, want, s.Spec.Replicas, "%s restarts at its minimum, at least 1", name)
	}
}

// TestStartRefusesMalformedMemory checks that Start does not guess the
// replicas of a workload whose remembered count it cannot read: an
// AnnotationStoppedReplicas that Stop could not have written (not a whole
// number, below 1, or beyond an int32: 2³² once read as 0 started
// nothing) is provider.ErrInvalid naming the workload and the annotation,
// and the workload stays at zero with its annotation, for a person to fix.
func TestStartRefusesMalformedMemory(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "100m", "64Mi", false)}
	bad := map[string]string{
		"junk": "junk", "negative": "-2", "zero": "0", "spaced": " 3", "fraction": "2.5",
		"above-int32": "2147483648", "overflow": "4294967296",
	}
	for name, v := range bad {
		f.deployment(name, 0, cs, annotated(kubernetes.AnnotationMinReplicas, "2", kubernetes.AnnotationStoppedReplicas, v))
	}
	act := f.driver(kubernetes.Config{}).Workloads()
	for name, v := range bad {
		id := f.id(kubernetes.ObjectDeployment, name)
		err := act.Start(f.ctx, id)
		require.ErrorIs(t, err, provider.ErrInvalid, "%s: Start restored a guess", name)
		require.ErrorContains(t, err, id, name)
		require.ErrorContains(t, err, kubernetes.AnnotationStoppedReplicas+" "+strconv.Quote(v), name)
		s, err := f.admin.AppsV1().Deployments(f.ns).GetScale(f.ctx, name, metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, int32(0), s.Spec.Replicas, "%s: a refused Start writes nothing", name)
		o, err := f.admin.AppsV1().Deployments(f.ns).Get(f.ctx, name, metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, v, o.Annotations[kubernetes.AnnotationStoppedReplicas], "%s: the annotation stays", name)
	}
}

func TestActuatorErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "100m", "64Mi", false)}
	f.deployment("web", 2, cs, func(d *appsv1.Deployment) { d.Finalizers = []string{"idlescale.io/test"} })
	f.pod("web-1", map[string]string{"app": "web"}, cs, running(time.Now()))
	act := f.driver(kubernetes.Config{}).Workloads()
	web := f.id(kubernetes.ObjectDeployment, "web")
	pod := f.id(kubernetes.ObjectPod, "web-1")

	for name, fn := range map[string]func(context.Context, string) error{"Start": act.Start, "Stop": act.Stop, "Terminate": act.Terminate} {
		require.ErrorIs(t, fn(f.ctx, f.id(kubernetes.ObjectDeployment, "missing")), provider.ErrNotFound, name)
		require.ErrorIs(t, fn(f.ctx, ""), provider.ErrInvalid, name)
		ctx, cancel := context.WithCancel(f.ctx)
		cancel()
		require.ErrorIs(t, fn(ctx, web), context.Canceled, name)
	}
	require.ErrorIs(t, act.Stop(f.ctx, pod), provider.ErrUnsupported, "pods cannot be stopped")
	require.ErrorIs(t, act.Start(f.ctx, pod), provider.ErrUnsupported)
	require.ErrorIs(t, act.Terminate(f.ctx, web), provider.ErrUnsupported, "deliberately")
	require.ErrorIs(t, act.Terminate(f.ctx, pod), provider.ErrUnsupported)
	var tc provider.TerminateChecker = act // says so before anyone approves one
	require.ErrorIs(t, tc.CanTerminate(provider.Resource{ID: web, Kind: provider.KindGroup}), provider.ErrUnsupported)
	var sc provider.StopChecker = act // and of a stop it refuses, as Stop does
	require.ErrorIs(t, sc.CanStop(provider.Resource{ID: pod, Kind: provider.KindInstance}), provider.ErrUnsupported)
	require.ErrorContains(t, sc.CanStop(provider.Resource{ID: pod, Kind: provider.KindInstance}), "cannot stop a pod")
	require.ErrorIs(t, sc.CanStop(provider.Resource{ID: "persistentvolume/" + f.ns + "-pv", Kind: provider.KindVolume}), provider.ErrUnsupported)
	require.NoError(t, sc.CanStop(provider.Resource{ID: web, Kind: provider.KindGroup}), "Stop scales a workload to zero")
	require.NoError(t, sc.CanStop(provider.Resource{ID: f.id(kubernetes.ObjectStatefulSet, "db"), Kind: provider.KindGroup}))
	require.NoError(t, sc.CanStop(provider.Resource{ID: "not/a/ref/form", Kind: provider.KindGroup}), "Stop says what is wrong with an ID")
	s, err := f.admin.AppsV1().Deployments(f.ns).GetScale(f.ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(2), s.Spec.Replicas, "none of that changed anything")

	require.NoError(t, f.admin.AppsV1().Deployments(f.ns).Delete(f.ctx, "web", metav1.DeleteOptions{}))
	require.ErrorIs(t, act.Stop(f.ctx, web), provider.ErrConflict, "a workload being deleted")
	require.ErrorIs(t, act.Start(f.ctx, web), provider.ErrConflict)
}

func TestStopRetriesWhenOnlyTheVersionMoved(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deployment("web", 4, []corev1.Container{container("app", "100m", "64Mi", false)})
	patches := 0
	d, ic := raceDriver(t, f, func() {})
	// Make the annotation patch lose a race: another writer changes a
	// label between the driver's read and its patch.
	ic.matches = func(r *http.Request) bool {
		return r.Method == http.MethodPatch && strings.HasSuffix(r.URL.Path, "/deployments/web")
	}
	ic.before = func() {
		patches++
		_, err := f.admin.AppsV1().Deployments(f.ns).Patch(f.ctx, "web", "application/merge-patch+json",
			[]byte(`{"metadata":{"labels":{"touched":"yes"}}}`), metav1.PatchOptions{})
		require.NoError(t, err)
	}
	require.NoError(t, d.Workloads().Stop(f.ctx, f.id(kubernetes.ObjectDeployment, "web")))
	assert.Equal(t, 1, patches)
	assert.Equal(t, int32(2), ic.seen.Load(), "the patch was retried once")
	o, err := f.admin.AppsV1().Deployments(f.ns).Get(f.ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(0), *o.Spec.Replicas)
	assert.Equal(t, "4", o.Annotations[kubernetes.AnnotationStoppedReplicas])
}

// TestStopConflictWritesNothing pins that Stop remembers the replicas and
// scales to zero in one conditional patch: when another writer scales the
// workload right after the driver's first write, Stop has already stopped
// it (the other writer's count stands) instead of returning
// provider.ErrConflict with the stopped-replicas annotation written and the
// workload running.
func TestStopConflictWritesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deployment("web", 4, []corev1.Container{container("app", "100m", "64Mi", false)})
	d, ic := raceDriver(t, f, nil)
	ic.matches, ic.after = isWorkloadPatch, scaleBy(t, f, 6)
	err := d.Workloads().Stop(f.ctx, f.id(kubernetes.ObjectDeployment, "web"))
	o, gerr := f.admin.AppsV1().Deployments(f.ns).Get(f.ctx, "web", metav1.GetOptions{})
	require.NoError(t, gerr)
	if errors.Is(err, provider.ErrConflict) {
		require.NotContains(t, o.Annotations, kubernetes.AnnotationStoppedReplicas, "ErrConflict, yet the replicas were remembered: %v", err)
	}
	require.NoError(t, err)
	assert.Equal(t, "4", o.Annotations[kubernetes.AnnotationStoppedReplicas])
	assert.Equal(t, int32(6), *o.Spec.Replicas, "the other writer came after")
}

// TestStopRefusesAfterAnotherWriterScaled pins that Stop retries a lost
// race as SetCapacity does: only while the replicas are unchanged. When
// another writer (an HPA scaling up on load, a person) changed them between
// the driver's read and its patch, Stop returns provider.ErrConflict and
// writes nothing. It retried on the new count and stopped the workload
// its caller had judged idle at another size. Another Stop in between
// still succeeds: the workload is stopped, as Stop leaves it.
func TestStopRefusesAfterAnotherWriterScaled(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deployment("web", 4, []corev1.Container{container("app", "100m", "64Mi", false)})
	d, ic := raceDriver(t, f, nil)
	ic.matches, ic.before = isWorkloadPatch, scaleBy(t, f, 6)
	err := d.Workloads().Stop(f.ctx, f.id(kubernetes.ObjectDeployment, "web"))
	require.ErrorIs(t, err, provider.ErrConflict)
	assert.Contains(t, err.Error(), "replicas changed from 4 to 6")
	assert.Equal(t, int32(1), ic.seen.Load(), "not retried: the decision was made on stale replicas")
	o, err := f.admin.AppsV1().Deployments(f.ns).Get(f.ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(6), *o.Spec.Replicas, "the other writer's replicas stand")
	assert.NotContains(t, o.Annotations, kubernetes.AnnotationStoppedReplicas)

	// Another Stop in between: stopped is stopped, as at the first read.
	g := newFixture(t)
	g.deployment("web", 4, []corev1.Container{container("app", "100m", "64Mi", false)})
	d, ic = raceDriver(t, g, nil)
	ic.matches = isWorkloadPatch
	ic.before = func() {
		_, err := g.admin.AppsV1().Deployments(g.ns).Patch(g.ctx, "web", "application/merge-patch+json",
			[]byte(`{"metadata":{"annotations":{"`+kubernetes.AnnotationStoppedReplicas+`":"4"}},"spec":{"replicas":0}}`), metav1.PatchOptions{})
		require.NoError(t, err)
	}
	require.NoError(t, d.Workloads().Stop(g.ctx, g.id(kubernetes.ObjectDeployment, "web")))
	o, err = g.admin.AppsV1().Deployments(g.ns).Get(g.ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(0), *o.Spec.Replicas)
	assert.Equal(t, "4", o.Annotations[kubernetes.AnnotationStoppedReplicas])
}

// TestStartKeepsTheMemoryOfALaterStop pins that Start forgets the
// remembered replicas only while the workload runs: when another Stop
// came between Start's scale write and its removal of the annotation (a
// second reaper, a person), the annotation is that Stop's memory. Start
// removed it, so the next Start restored the minimum (1) instead of 4.
func TestStartKeepsTheMemoryOfALaterStop(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deployment("web", 0, []corev1.Container{container("app", "100m", "64Mi", false)},
		annotated(kubernetes.AnnotationStoppedReplicas, "4"))
	d, ic := raceDriver(t, f, nil)
	ic.before = nil
	ic.after = func() {
		// Another Stop, as Workloads.Stop writes it.
		_, err := f.admin.AppsV1().Deployments(f.ns).Patch(f.ctx, "web", "application/merge-patch+json",
			[]byte(`{"metadata":{"annotations":{"`+kubernetes.AnnotationStoppedReplicas+`":"4"}},"spec":{"replicas":0}}`), metav1.PatchOptions{})
		require.NoError(t, err)
	}
	web := f.id(kubernetes.ObjectDeployment, "web")
	require.NoError(t, d.Workloads().Start(f.ctx, web))
	o, err := f.admin.AppsV1().Deployments(f.ns).Get(f.ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, int32(0), *o.Spec.Replicas, "the other Stop came after")
	assert.Equal(t, "4", o.Annotations[kubernetes.AnnotationStoppedReplicas], "the other Stop's memory stays")

	require.NoError(t, f.driver(kubernetes.Config{}).Workloads().Start(f.ctx, web))
	s, err := f.admin.AppsV1().Deployments(f.ns).GetScale(f.ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(4), s.Spec.Replicas)
}

// TestStartThatLosesToAnotherStartSucceeds pins that Start, like Stop, is
// idempotent across a lost race: when another writer started the workload
// between Start's read and its write, Start succeeds without writing (the
// other writer's replicas stand), as it does on a running workload. It
// returned provider.ErrConflict.
func TestStartThatLosesToAnotherStartSucceeds(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deployment("web", 0, []corev1.Container{container("app", "100m", "64Mi", false)},
		annotated(kubernetes.AnnotationStoppedReplicas, "3"))
	d, ic := raceDriver(t, f, nil)
	ic.before = scaleBy(t, f, 4)
	require.NoError(t, d.Workloads().Start(f.ctx, f.id(kubernetes.ObjectDeployment, "web")))
	assert.Equal(t, int32(1), ic.seen.Load(), "not retried")
	s, err := f.admin.AppsV1().Deployments(f.ns).GetScale(f.ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(4), s.Spec.Replicas, "the other writer's replicas stand")
}

// TestStartForgetsItsMemoryAfterALostRace: Start's removal of the
// remembered replicas, after it restored them, loses a resourceVersion
// race to another writer that touched the workload in between (a
// controller's status update, a relabelling), and is retried on the
// re-read workload, still running: the annotation went. It was only
// logged and stayed, and a later Start of the workload scaled to zero by
// something else (kubectl scale, SetCapacity to 0) restored that stale
// count instead of the minimum.
func TestStartForgetsItsMemoryAfterALostRace(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deployment("web", 0, []corev1.Container{container("app", "100m", "64Mi", false)},
		annotated(kubernetes.AnnotationStoppedReplicas, "4"))
	d, ic := raceDriver(t, f, func() {
		_, err := f.admin.AppsV1().Deployments(f.ns).Patch(f.ctx, "web", "application/merge-patch+json",
			[]byte(`{"metadata":{"labels":{"touched":"yes"}}}`), metav1.PatchOptions{})
		require.NoError(t, err)
	})
	ic.matches = isWorkloadPatch // the removal, Start's only patch
	require.NoError(t, d.Workloads().Start(f.ctx, f.id(kubernetes.ObjectDeployment, "web")))
	assert.Equal(t, int32(2), ic.seen.Load(), "the removal lost the race and was retried once")
	o, err := f.admin.AppsV1().Deployments(f.ns).Get(f.ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(4), *o.Spec.Replicas, "restored")
	assert.NotContains(t, o.Annotations, kubernetes.AnnotationStoppedReplicas, "the restored memory is forgotten")
	assert.Equal(t, "yes", o.Labels["touched"], "the other writer's change stays")
}

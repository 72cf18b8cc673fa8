package kubernetes_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/kubernetes"
)

// TestMalformedBoundsAreRefused pins that a bound annotation the driver
// cannot read (not a whole number from 0 to 2147483647) is never replaced
// by a default: Capacity (one by one and in a batch), Bounds, SetCapacity,
// Stop and Start fail with provider.ErrInvalid naming the workload, the
// annotation and its value, and write nothing (even a Stop of a stopped
// workload, which would change nothing); List and Get still list the
// workload, Protected, beside a well-formed one that is not. The bounds
// fell back on Config.Bounds: "l" for a floor of 1 read as none, and a
// max of 4294967296 as the default 10. (A stopped workload that
// remembers its replicas is started to them:
// TestMalformedBoundsStillStartARememberedWorkload.)
func TestMalformedBoundsAreRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "100m", "64Mi", false)}
	type bad struct {
		key, value string
		replicas   int32
	}
	bads := map[string]bad{
		"min-junk":     {kubernetes.AnnotationMinReplicas, "l", 3},
		"min-negative": {kubernetes.AnnotationMinReplicas, "-1", 3},
		"min-spaced":   {kubernetes.AnnotationMinReplicas, " 2", 3},
		"max-fraction": {kubernetes.AnnotationMaxReplicas, "2.5", 3},
		"max-overflow": {kubernetes.AnnotationMaxReplicas, "4294967296", 3},
		"max-above":    {kubernetes.AnnotationMaxReplicas, "2147483648", 3},
		"stopped-min":  {kubernetes.AnnotationMinReplicas, "two", 0},
		"stopped-max":  {kubernetes.AnnotationMaxReplicas, "ten", 0},
	}
	for name, b := range bads {
		f.deployment(name, b.replicas, cs, annotated(b.key, b.value))
	}
	f.deployment("good", 3, cs, annotated(kubernetes.AnnotationMinReplicas, "2", kubernetes.AnnotationMaxReplicas, "8"))
	d := f.driver(kubernetes.Config{})
	act := d.Workloads()

	versions := map[string]string{}
	for name := range bads {
		o, err := f.admin.AppsV1().Deployments(f.ns).Get(f.ctx, name, metav1.GetOptions{})
		require.NoError(t, err)
		versions[name] = o.ResourceVersion
	}
	var reads []provider.CapacityRead
	for name, b := range bads {
		id := f.id(kubernetes.ObjectDeployment, name)
		named := func(what string, err error) {
			t.Helper()
			require.ErrorIs(t, err, provider.ErrInvalid, "%s: %s read a default for %s %q", name, what, b.key, b.value)
			require.ErrorContains(t, err, id, "%s: %s", name, what)
			require.ErrorContains(t, err, b.key+" "+strconv.Quote(b.value), "%s: %s", name, what)
		}
		_, err := d.Capacity(f.ctx, id)
		named("Capacity", err)
		_, err = d.Bounds(f.ctx, id)
		named("Bounds", err)
		named("SetCapacity", d.SetCapacity(f.ctx, id, provider.CapacitySpec{Min: 1, Max: 10, Desired: 5}))
		named("SetCapacity to zero", d.SetCapacity(f.ctx, id, provider.CapacitySpec{Min: 0, Max: 10, Desired: 0}))
		// Even where they would change nothing: the workload is refused
		// whole until its annotation is fixed.
		named("Stop", act.Stop(f.ctx, id))
		named("Start", act.Start(f.ctx, id))
		reads = append(reads, provider.CapacityRead{ID: id})
	}
	require.NoError(t, d.GetCapacities(f.ctx, reads))
	for _, r := range reads {
		require.ErrorIs(t, r.Err, provider.ErrInvalid, "GetCapacities %s", r.ID)
		require.ErrorContains(t, r.Err, r.ID)
		_, single := d.Capacity(f.ctx, r.ID)
		require.EqualError(t, r.Err, single.Error(), "GetCapacities answers as Capacity")
	}
	for name, b := range bads {
		o, err := f.admin.AppsV1().Deployments(f.ns).Get(f.ctx, name, metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, versions[name], o.ResourceVersion, "%s: a refused workload is not written", name)
		assert.Equal(t, b.replicas, *o.Spec.Replicas, name)
		assert.Equal(t, b.value, o.Annotations[b.key], name)
	}

	rs, err := d.List(f.ctx, provider.Filter{Kinds: []provider.Kind{provider.KindGroup}})
	require.NoError(t, err, "one workload's malformed bounds do not fail the inventory")
	require.Len(t, rs, len(bads)+1)
	for _, r := range rs {
		if r.ID == f.id(kubernetes.ObjectDeployment, "good") {
			assert.False(t, r.Protected, "well-formed bounds protect nothing")
			continue
		}
		assert.True(t, r.Protected, "%s: listed protected, so that no rule acts on bounds it cannot read", r.ID)
		g, err := d.Get(f.ctx, r.ID)
		require.NoError(t, err)
		assert.True(t, g.Protected, "%s: Get as List", r.ID)
	}
	c, err := d.Capacity(f.ctx, f.id(kubernetes.ObjectDeployment, "good"))
	require.NoError(t, err)
	assert.Equal(t, capacity(2, 8, 3, 0, 0), c)
}

// TestMalformedBoundsStillStartARememberedWorkload: a stopped workload
// that remembers its replicas (AnnotationStoppedReplicas, as Stop wrote
// it) is started to them whatever its bound annotations say: Start needs
// no bound to restore them, and a typo in one must not keep a stopped
// service down (a host's morning wake). Nothing else changes: the
// malformed annotation stays as written, Capacity, Bounds, SetCapacity
// and Stop still refuse the workload, the inventory lists it Protected,
// and a stopped workload without remembered replicas (whose Min would
// decide them) is still refused. Start refused it like any other write,
// leaving it at zero.
func TestMalformedBoundsStillStartARememberedWorkload(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "100m", "64Mi", false)}
	f.deployment("remembers", 0, cs, annotated(kubernetes.AnnotationMinReplicas, "x", kubernetes.AnnotationStoppedReplicas, "4"))
	f.deployment("forgot", 0, cs, annotated(kubernetes.AnnotationMinReplicas, "x"))
	d := f.driver(kubernetes.Config{})
	id, forgot := f.id(kubernetes.ObjectDeployment, "remembers"), f.id(kubernetes.ObjectDeployment, "forgot")

	for _, id := range []string{id, forgot} {
		_, err := d.Capacity(f.ctx, id)
		require.ErrorIs(t, err, provider.ErrInvalid, id)
		named := kubernetes.AnnotationMinReplicas + ` "x"`
		require.ErrorContains(t, err, named)
		require.ErrorIs(t, d.SetCapacity(f.ctx, id, provider.CapacitySpec{Min: 1, Max: 10, Desired: 5}), provider.ErrInvalid, id)
		require.ErrorIs(t, d.Workloads().Stop(f.ctx, id), provider.ErrInvalid, id)
	}
	err := d.Workloads().Start(f.ctx, forgot)
	require.ErrorIs(t, err, provider.ErrInvalid, "no remembered replicas: its Min would decide them")
	require.ErrorContains(t, err, kubernetes.AnnotationMinReplicas+` "x"`)

	require.NoError(t, d.Workloads().Start(f.ctx, id), "the remembered replicas need no bound")
	o, err := f.admin.AppsV1().Deployments(f.ns).Get(f.ctx, "remembers", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(4), *o.Spec.Replicas, "started to its remembered replicas")
	assert.Equal(t, "x", o.Annotations[kubernetes.AnnotationMinReplicas], "the malformed bound is left to its owner")
	assert.NotContains(t, o.Annotations, kubernetes.AnnotationStoppedReplicas, "forgotten once restored")
	_, err = d.Capacity(f.ctx, id)
	require.ErrorIs(t, err, provider.ErrInvalid, "still refused")
	require.ErrorIs(t, d.Workloads().Start(f.ctx, id), provider.ErrInvalid, "running: refused, as before")
	// Running with the remembered replicas left behind (Start's
	// housekeeping failed, or it was scaled by hand): refused too, the
	// replicas being no stopped workload's to restore. The running one
	// above had forgotten them, and a Start that let every remembering
	// workload through lived.
	f.deployment("left", 3, cs, annotated(kubernetes.AnnotationMinReplicas, "x", kubernetes.AnnotationStoppedReplicas, "4"))
	err = d.Workloads().Start(f.ctx, f.id(kubernetes.ObjectDeployment, "left"))
	require.ErrorIs(t, err, provider.ErrInvalid, "running, remembering: refused")
	require.ErrorContains(t, err, kubernetes.AnnotationMinReplicas+` "x"`)
	r, err := d.Get(f.ctx, id)
	require.NoError(t, err)
	assert.True(t, r.Protected)

	// The same after a lost resourceVersion race: the retry needs no
	// bound either.
	f.deployment("web", 0, cs, annotated(kubernetes.AnnotationMinReplicas, "x", kubernetes.AnnotationStoppedReplicas, "4"))
	rd, ic := raceDriver(t, f, func() {
		_, err := f.admin.AppsV1().Deployments(f.ns).Patch(f.ctx, "web", "application/merge-patch+json",
			[]byte(`{"metadata":{"labels":{"touched":"yes"}}}`), metav1.PatchOptions{})
		require.NoError(t, err)
	})
	require.NoError(t, rd.Workloads().Start(f.ctx, f.id(kubernetes.ObjectDeployment, "web")), "retried after a lost race")
	assert.Equal(t, int32(2), ic.seen.Load(), "the first write lost the race and was retried once")
	o, err = f.admin.AppsV1().Deployments(f.ns).Get(f.ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(4), *o.Spec.Replicas)
}

// TestContradictoryBoundsAreRefused: a max-replicas below the
// min-replicas beside it is not what the owner meant, either of them:
// the driver refuses the workload as it does a malformed bound, naming
// both, and lists it Protected. One bound beside config.bounds' other (a
// floor above the default ceiling) still keeps the floor.
func TestContradictoryBoundsAreRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "100m", "64Mi", false)}
	f.deployment("crossed", 4, cs, annotated(kubernetes.AnnotationMinReplicas, "5", kubernetes.AnnotationMaxReplicas, "3"))
	f.deployment("equal", 4, cs, annotated(kubernetes.AnnotationMinReplicas, "4", kubernetes.AnnotationMaxReplicas, "4"))
	f.deployment("high-floor", 12, cs, annotated(kubernetes.AnnotationMinReplicas, "12"))
	d := f.driver(kubernetes.Config{})
	crossed := f.id(kubernetes.ObjectDeployment, "crossed")
	_, err := d.Capacity(f.ctx, crossed)
	require.ErrorIs(t, err, provider.ErrInvalid)
	require.ErrorContains(t, err, crossed)
	require.ErrorContains(t, err, kubernetes.AnnotationMaxReplicas+` "3"`)
	require.ErrorContains(t, err, kubernetes.AnnotationMinReplicas+" 5")
	err = d.SetCapacity(f.ctx, crossed, provider.CapacitySpec{Min: 1, Max: 6, Desired: 4})
	require.ErrorIs(t, err, provider.ErrInvalid)
	r, err := d.Get(f.ctx, crossed)
	require.NoError(t, err)
	assert.True(t, r.Protected, "a workload whose bounds cannot be read is protected")

	c, err := d.Capacity(f.ctx, f.id(kubernetes.ObjectDeployment, "equal"))
	require.NoError(t, err)
	assert.Equal(t, provider.CapacitySpec{Min: 4, Max: 4, Desired: 4}, c.CapacitySpec, "max equal to min is a fixed size")
	c, err = d.Capacity(f.ctx, f.id(kubernetes.ObjectDeployment, "high-floor"))
	require.NoError(t, err)
	assert.Equal(t, provider.CapacitySpec{Min: 12, Max: 12, Desired: 12}, c.CapacitySpec, "a floor above the default ceiling keeps the floor")
}

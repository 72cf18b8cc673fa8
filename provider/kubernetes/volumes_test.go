package kubernetes_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/kubernetes"
)

// volumeLabel marks the PersistentVolumes of one test: they are
// cluster-scoped, so every test selects its own by this label's value,
// its namespace.
const volumeLabel = "idlescale-test"

// csiDisk is a PersistentVolume source of the EBS CSI driver, its volume
// handle the test's own: the storage of a volume is judged against every
// volume of the cluster, other tests' too.
func (f *fixture) csiDisk(handle string) corev1.PersistentVolumeSource {
	return corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: "ebs.csi.aws.com", VolumeHandle: f.ns + "-" + handle}}
}

// nfsShare is an NFS PersistentVolume source on the test's own server.
func (f *fixture) nfsShare(path string) corev1.PersistentVolumeSource {
	return corev1.PersistentVolumeSource{NFS: &corev1.NFSVolumeSource{Server: f.ns + ".nfs.local", Path: path}}
}

// volumeSpec is what a test says of one PersistentVolume.
type volumeSpec struct {
	source corev1.PersistentVolumeSource
	modes  []corev1.PersistentVolumeAccessMode // default ReadWriteOnce
	size   string                              // default 100Gi
	class  string                              // default gp3
	claim  string                              // the claim of the fixture's namespace it names, if any
	phase  corev1.PersistentVolumePhase        // "" leaves the API server's Pending
	since  time.Time                           // its last phase change, when phase is set
	labels map[string]string                   // besides the test's label
}

// volume creates the PersistentVolume NAMESPACE-name as spec says and
// deletes it when the test ends, and returns its resource ID.
func (f *fixture) volume(name string, spec volumeSpec) string {
	f.t.Helper()
	if spec.modes == nil {
		spec.modes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
	}
	if spec.size == "" {
		spec.size = "100Gi"
	}
	if spec.class == "" {
		spec.class = "gp3"
	}
	labels := map[string]string{volumeLabel: f.ns}
	for k, v := range spec.labels {
		labels[k] = v
	}
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: f.ns + "-" + name, Labels: labels},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(spec.size)},
			AccessModes:                   spec.modes,
			PersistentVolumeSource:        spec.source,
			StorageClassName:              spec.class,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
		},
	}
	if spec.claim != "" {
		pv.Spec.ClaimRef = &corev1.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: f.ns, Name: spec.claim}
	}
	pvs := f.admin.CoreV1().PersistentVolumes()
	out, err := pvs.Create(f.ctx, pv, metav1.CreateOptions{})
	require.NoError(f.t, err)
	f.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = pvs.Delete(ctx, out.Name, metav1.DeleteOptions{})
	})
	if spec.phase != "" {
		out.Status.Phase = spec.phase
		out.Status.LastPhaseTransitionTime = &metav1.Time{Time: spec.since}
		out, err = pvs.UpdateStatus(f.ctx, out, metav1.UpdateOptions{})
		require.NoError(f.t, err)
		require.Equal(f.t, spec.since.Unix(), out.Status.LastPhaseTransitionTime.Unix(), "the API server keeps the transition time a client sets with the phase")
	}
	return kubernetes.Ref{Kind: kubernetes.ObjectPersistentVolume, Name: out.Name}.String()
}

// volumeDriver returns a driver listing the test's PersistentVolumes in
// every namespace, priced at $0.08 a GiB-month of gp3, with clock c.
func (f *fixture) volumeDriver(c fixedClock) *kubernetes.Driver {
	f.t.Helper()
	return f.driver(kubernetes.Config{Namespaces: []string{}, PersistentVolumes: kubernetes.PersistentVolumeConfig{
		List: true, LabelSelector: volumeLabel + "=" + f.ns, MonthlyPrices: map[string]float64{"gp3": 0.08},
	}}, kubernetes.WithClock(c))
}

// fixedClock is a clock.Clock stopped at one time.
type fixedClock time.Time

func (c fixedClock) Now() time.Time                         { return time.Time(c) }
func (c fixedClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// TestPersistentVolumesListed: with Config.PersistentVolumes.List, List,
// Get and GetResources report the selected PersistentVolumes as volumes,
// stopped only while no claim holds them or is meant to (released, or
// available without a claim reserving it) and no volume in use shares
// their storage, priced by their class's GiB-month.
func TestPersistentVolumesListed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := time.Now().UTC().Truncate(time.Second)
	long := now.Add(-40 * 24 * time.Hour)
	ids := map[string]string{
		"released":       f.volume("released", volumeSpec{source: f.csiDisk("vol-1"), claim: "data-db-0", phase: corev1.VolumeReleased, since: long}),
		"available":      f.volume("available", volumeSpec{source: f.csiDisk("vol-2"), phase: corev1.VolumeAvailable, since: long}),
		"reserved":       f.volume("reserved", volumeSpec{source: f.csiDisk("vol-3"), claim: "data-db-1", phase: corev1.VolumeAvailable, since: long}),
		"bound":          f.volume("bound", volumeSpec{source: f.csiDisk("vol-4"), claim: "data-db-2", phase: corev1.VolumeBound, since: long}),
		"same-disk":      f.volume("same-disk", volumeSpec{source: f.csiDisk("vol-4"), claim: "old", phase: corev1.VolumeReleased, since: long}),
		"failed":         f.volume("failed", volumeSpec{source: f.csiDisk("vol-5"), claim: "gone", phase: corev1.VolumeFailed, since: long}),
		"pending":        f.volume("pending", volumeSpec{source: f.csiDisk("vol-6")}),
		"nfs-released":   f.volume("nfs-released", volumeSpec{source: f.nfsShare("/exports/a/"), claim: "old-share", phase: corev1.VolumeReleased, since: long}),
		"nfs-bound":      f.volume("nfs-bound", volumeSpec{source: f.nfsShare("/exports"), claim: "share", phase: corev1.VolumeBound, since: long}),
		"nfs-other-path": f.volume("nfs-other-path", volumeSpec{source: f.nfsShare("/exportsb"), claim: "b", phase: corev1.VolumeReleased, since: long}),
		"unpriced":       f.volume("unpriced", volumeSpec{source: f.csiDisk("vol-7"), class: "io2", phase: corev1.VolumeReleased, claim: "x", since: long}),
	}
	want := map[string]provider.State{
		"released": provider.StateStopped, "available": provider.StateStopped,
		"reserved": provider.StateRunning, "bound": provider.StateRunning,
		"same-disk": provider.StateRunning, // vol-4 is bound through "bound"
		"nfs-bound": provider.StateRunning,
		"failed":    provider.StateRunning, "pending": provider.StatePending,
		"nfs-released":   provider.StateRunning, // within the bound share
		"nfs-other-path": provider.StateStopped, // /exportsb is not within /exports
		"unpriced":       provider.StateStopped,
	}
	d := f.volumeDriver(fixedClock(now))
	got, err := d.List(f.ctx, provider.Filter{Kinds: []provider.Kind{provider.KindVolume}})
	require.NoError(t, err)
	require.Len(t, got, len(ids))
	byID := map[string]provider.Resource{}
	for _, r := range got {
		byID[r.ID] = r
	}
	for name, id := range ids {
		r, ok := byID[id]
		require.True(t, ok, "%s (%s) listed", name, id)
		assert.Equal(t, provider.KindVolume, r.Kind, name)
		assert.Equal(t, want[name], r.State, name)
		assert.Equal(t, strings.TrimPrefix(id, "persistentvolume/"), r.Name, name)
		one, err := d.Get(f.ctx, id)
		require.NoError(t, err, name)
		assert.Equal(t, r, one, "%s: Get agrees with List", name)
	}
	assert.InDelta(t, 100*0.08/730.5, byID[ids["released"]].HourlyCost, 1e-12, "100 GiB at $0.08 a GiB-month")
	assert.Zero(t, byID[ids["unpriced"]].HourlyCost, "a class without a price is unknown")
	assert.Equal(t, f.ns, byID[ids["released"]].Tags[volumeLabel], "labels are tags")

	reads := make([]provider.ResourceRead, 0, len(ids))
	for _, id := range ids {
		reads = append(reads, provider.ResourceRead{ID: id})
	}
	require.NoError(t, d.GetResources(f.ctx, reads))
	for _, r := range reads {
		require.NoError(t, r.Err, r.ID)
		assert.Equal(t, byID[r.ID], r.Resource, "GetResources agrees with List")
	}

	// A List without Kinds has them beside the workloads; one of groups
	// alone does not.
	all, err := d.List(f.ctx, provider.Filter{IDs: []string{ids["released"]}})
	require.NoError(t, err)
	require.Len(t, all, 1)
	groups, err := d.List(f.ctx, provider.Filter{Kinds: []provider.Kind{provider.KindGroup}, IDs: []string{ids["released"]}})
	require.NoError(t, err)
	assert.Empty(t, groups)
	stopped, err := d.List(f.ctx, provider.Filter{Kinds: []provider.Kind{provider.KindVolume}, States: []provider.State{provider.StateStopped}})
	require.NoError(t, err)
	assert.Len(t, stopped, 4, "released, available, nfs-other-path, unpriced")
}

// TestPersistentVolumesScope: the driver sees no PersistentVolume without
// Config.PersistentVolumes.List, only those its label selector selects,
// and, with Config.Namespaces, only those whose claim is in one of them.
func TestPersistentVolumesScope(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := time.Now().UTC().Truncate(time.Second)
	long := now.Add(-40 * 24 * time.Hour)
	claimed := f.volume("claimed", volumeSpec{source: f.csiDisk("vol-1"), claim: "data", phase: corev1.VolumeReleased, since: long})
	unclaimed := f.volume("unclaimed", volumeSpec{source: f.csiDisk("vol-2"), phase: corev1.VolumeAvailable, since: long})
	elsewhere := f.volume("elsewhere", volumeSpec{source: f.csiDisk("vol-3"), phase: corev1.VolumeAvailable, since: long, labels: map[string]string{"tier": "cold"}})

	off := f.driver(kubernetes.Config{Namespaces: []string{}})
	_, err := off.Get(f.ctx, claimed)
	require.ErrorIs(t, err, provider.ErrNotFound)
	require.ErrorContains(t, err, "config.persistent_volumes.list is off")
	list, err := off.List(f.ctx, provider.Filter{Kinds: []provider.Kind{provider.KindVolume}})
	require.NoError(t, err)
	assert.Empty(t, list)

	inNS := f.driver(kubernetes.Config{PersistentVolumes: kubernetes.PersistentVolumeConfig{List: true, LabelSelector: volumeLabel + "=" + f.ns}})
	list, err = inNS.List(f.ctx, provider.Filter{Kinds: []provider.Kind{provider.KindVolume}})
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, claimed, list[0].ID, "only the volume claimed in the driver's namespace")
	_, err = inNS.Get(f.ctx, unclaimed)
	require.ErrorIs(t, err, provider.ErrNotFound)

	cold := f.driver(kubernetes.Config{Namespaces: []string{}, PersistentVolumes: kubernetes.PersistentVolumeConfig{List: true, LabelSelector: volumeLabel + "=" + f.ns + ",tier=cold"}})
	list, err = cold.List(f.ctx, provider.Filter{Kinds: []provider.Kind{provider.KindVolume}})
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, elsewhere, list[0].ID)
	_, err = cold.Get(f.ctx, claimed)
	require.ErrorIs(t, err, provider.ErrNotFound)
	_, err = cold.Get(f.ctx, "persistentvolume/"+f.ns+"-none")
	require.ErrorIs(t, err, provider.ErrNotFound)

	// A volume a claim holds is read alone (no list): the scope holds for
	// it too, and for QueryMetric and Activity of it.
	bound := f.volume("bound", volumeSpec{source: f.csiDisk("vol-4"), claim: "live", phase: corev1.VolumeBound, since: long})
	_, err = cold.Get(f.ctx, bound)
	require.ErrorIs(t, err, provider.ErrNotFound, "the selector leaves a bound volume out")
	_, err = cold.QueryMetric(f.ctx, provider.Query{ResourceID: bound, Metric: provider.MetricDiskRead, Start: long, End: now, Step: time.Hour})
	require.ErrorIs(t, err, provider.ErrNotFound)
	_, err = cold.Activity(f.ctx, provider.ActivityQuery{ResourceID: bound, Start: long, End: now})
	require.ErrorIs(t, err, provider.ErrNotFound)
	pvs := f.admin.CoreV1().PersistentVolumes()
	pv, err := pvs.Get(f.ctx, strings.TrimPrefix(bound, "persistentvolume/"), metav1.GetOptions{})
	require.NoError(t, err)
	pv.Spec.ClaimRef.Namespace = f.ns + "-other"
	_, err = pvs.Update(f.ctx, pv, metav1.UpdateOptions{})
	require.NoError(t, err)
	_, err = inNS.Get(f.ctx, bound)
	require.ErrorIs(t, err, provider.ErrNotFound, "a volume bound to a claim of another namespace")
}

// TestPersistentVolumesAreNotChanged: the driver only lists and reads
// PersistentVolumes: scaling, resizing, stopping, starting and
// terminating one is provider.ErrUnsupported, and the volume is as it was.
func TestPersistentVolumesAreNotChanged(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.volume("released", volumeSpec{source: f.csiDisk("vol-1"), claim: "data", phase: corev1.VolumeReleased, since: time.Now().Add(-40 * 24 * time.Hour)})
	d := f.volumeDriver(fixedClock(time.Now()))
	before, err := f.admin.CoreV1().PersistentVolumes().Get(f.ctx, strings.TrimPrefix(id, "persistentvolume/"), metav1.GetOptions{})
	require.NoError(t, err)
	w := d.Workloads()
	r, err := d.Get(f.ctx, id)
	require.NoError(t, err)
	for name, call := range map[string]func() error{
		"Capacity":     func() error { _, err := d.Capacity(f.ctx, id); return err },
		"SetCapacity":  func() error { return d.SetCapacity(f.ctx, id, provider.CapacitySpec{Min: 0, Max: 1, Desired: 0}) },
		"Resize":       func() error { return d.Resize(f.ctx, id, provider.Size{VCPU: 1, MemoryMiB: 512}) },
		"Stop":         func() error { return w.Stop(f.ctx, id) },
		"Start":        func() error { return w.Start(f.ctx, id) },
		"Terminate":    func() error { return w.Terminate(f.ctx, id) },
		"CanTerminate": func() error { return w.CanTerminate(r) },
		"CanStop":      func() error { return w.CanStop(r) },
	} {
		err := call()
		require.ErrorIs(t, err, provider.ErrUnsupported, name)
		assert.True(t, provider.ChangedNothing(err), "%s: %v", name, err)
	}
	after, err := f.admin.CoreV1().PersistentVolumes().Get(f.ctx, before.Name, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, before.ResourceVersion, after.ResourceVersion, "nothing was written")
}

// TestPersistentVolumeQuietCounts: a disk no claim holds reads 0 bytes
// read and written in every step from its last phase change to now, and
// its activity is no file access since then; before, in the step not
// over, and for a volume a claim may use, nothing is known.
func TestPersistentVolumeQuietCounts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := time.Now().UTC().Truncate(time.Hour).Add(30 * time.Minute)
	released := now.Add(-5*time.Hour - 30*time.Minute) // 2 h into a step: at the hour, 5 h before now's
	ids := map[string]string{
		"released":  f.volume("released", volumeSpec{source: f.csiDisk("vol-1"), claim: "data", phase: corev1.VolumeReleased, since: released}),
		"bound":     f.volume("bound", volumeSpec{source: f.csiDisk("vol-2"), claim: "live", phase: corev1.VolumeBound, since: released}),
		"rwx":       f.volume("rwx", volumeSpec{source: f.csiDisk("fs-1"), modes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}, claim: "shared", phase: corev1.VolumeReleased, since: released}),
		"nfs":       f.volume("nfs", volumeSpec{source: f.nfsShare("/exports/x"), claim: "share", phase: corev1.VolumeReleased, since: released}),
		"same-disk": f.volume("same-disk", volumeSpec{source: f.csiDisk("vol-3"), phase: corev1.VolumeAvailable, since: released}),
		"same-too":  f.volume("same-too", volumeSpec{source: f.csiDisk("vol-3"), claim: "a", phase: corev1.VolumeReleased, since: released}),
	}
	d := f.volumeDriver(fixedClock(now))
	start := now.Truncate(time.Hour).Add(-8 * time.Hour)
	for _, m := range []provider.Metric{provider.MetricDiskRead, provider.MetricDiskWrite} {
		for _, stat := range []provider.Statistic{provider.StatMean, provider.StatSum, provider.StatMax} {
			s, err := d.QueryMetric(f.ctx, provider.Query{ResourceID: ids["released"], Metric: m, Start: start, End: now.Add(time.Hour), Step: time.Hour, Statistic: stat})
			require.NoError(t, err, m)
			require.Len(t, s.Values, 10, "steps from 8 h before the hour to the one after now")
			assert.Equal(t, ids["released"], s.ResourceID)
			assert.Equal(t, m, s.Metric)
			for i, v := range s.Values {
				at := s.TimeAt(i)
				quiet := !at.Before(released) && !at.Add(time.Hour).After(now)
				if quiet {
					assert.Zero(t, v, "%s %s at %s, after the release and over", m, stat, at)
				} else {
					assert.True(t, math.IsNaN(v), "%s %s at %s: %v, a gap (before the release, or not over)", m, stat, at, v)
				}
			}
			assert.Equal(t, 5, len(s.Values)-s.Gaps(), "the five steps from the release's to the last one over")
		}
	}
	_, err := d.QueryMetric(f.ctx, provider.Query{ResourceID: ids["released"], Metric: provider.MetricCPU, Start: start, End: now, Step: time.Hour})
	require.ErrorIs(t, err, provider.ErrUnsupported)

	act, err := d.Activity(f.ctx, provider.ActivityQuery{ResourceID: ids["released"], Start: now.Add(-24 * time.Hour), End: now})
	require.NoError(t, err)
	require.Equal(t, []provider.ActivityCount{{Kind: provider.ActivityFiles, Since: released}}, act, "no access since the release, and nothing known before")
	act, err = d.Activity(f.ctx, provider.ActivityQuery{ResourceID: ids["released"], Start: released, End: now})
	require.NoError(t, err)
	require.Equal(t, []provider.ActivityCount{{Kind: provider.ActivityFiles}}, act, "the whole window")
	act, err = d.Activity(f.ctx, provider.ActivityQuery{ResourceID: ids["released"], Start: released.Add(-2 * time.Hour), End: released.Add(-time.Hour)})
	require.NoError(t, err)
	require.Equal(t, []provider.ActivityCount{{Kind: provider.ActivityFiles, Since: released.Add(-time.Hour)}}, act, "a window before the release covers nothing")

	for name, why := range map[string]string{
		"bound":     "it is running (phase Bound)",
		"rwx":       "access modes let many pods mount it",
		"nfs":       "not a disk",
		"same-disk": "also PersistentVolume " + f.ns + "-same-too",
		"same-too":  "also PersistentVolume " + f.ns + "-same-disk",
	} {
		_, err := d.QueryMetric(f.ctx, provider.Query{ResourceID: ids[name], Metric: provider.MetricDiskWrite, Start: start, End: now, Step: time.Hour})
		require.ErrorIs(t, err, provider.ErrUnsupported, name)
		require.ErrorContains(t, err, why, name)
		_, err = d.Activity(f.ctx, provider.ActivityQuery{ResourceID: ids[name], Start: start, End: now})
		require.ErrorIs(t, err, provider.ErrUnsupported, name)
		require.ErrorContains(t, err, why, name)
	}

	// Activity of workloads and pods is not counted; unknown IDs are not found.
	_, err = d.Activity(f.ctx, provider.ActivityQuery{ResourceID: f.id(kubernetes.ObjectDeployment, "web"), Start: start, End: now})
	require.ErrorIs(t, err, provider.ErrUnsupported)
	_, err = d.Activity(f.ctx, provider.ActivityQuery{ResourceID: "persistentvolume/" + f.ns + "-none", Start: start, End: now})
	require.ErrorIs(t, err, provider.ErrNotFound)
	_, err = d.Activity(f.ctx, provider.ActivityQuery{ResourceID: "a/b", Start: start, End: now})
	require.ErrorIs(t, err, provider.ErrNotFound)
	_, err = d.Activity(f.ctx, provider.ActivityQuery{ResourceID: ids["released"], Start: now, End: now})
	require.ErrorIs(t, err, provider.ErrInvalid)
}

// TestPersistentVolumeFoundIdleByTheDetector: the default ensemble,
// scanning the driver 41 days after the volumes were made (the driver's
// clock and the scan's now; the API server dates their creation today),
// recommends terminating a disk released 40 days ago and nothing for one
// released 3 days ago, one bound, or one within a share; the driver itself
// refuses to delete any (TestPersistentVolumesAreNotChanged): the
// recommendation is a report for the volume's owners. The scan makes nine
// requests.
func TestPersistentVolumeFoundIdleByTheDetector(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	made := time.Now().UTC().Truncate(time.Second)
	now := made.Add(41 * 24 * time.Hour)
	ids := map[string]string{
		"long-released":   f.volume("long-released", volumeSpec{source: f.csiDisk("vol-1"), claim: "data", phase: corev1.VolumeReleased, since: now.Add(-40 * 24 * time.Hour)}),
		"recent-released": f.volume("recent-released", volumeSpec{source: f.csiDisk("vol-2"), claim: "data2", phase: corev1.VolumeReleased, since: now.Add(-3 * 24 * time.Hour)}),
		"bound":           f.volume("bound", volumeSpec{source: f.csiDisk("vol-3"), claim: "live", phase: corev1.VolumeBound, since: now.Add(-40 * 24 * time.Hour)}),
		"nfs-released":    f.volume("nfs-released", volumeSpec{source: f.nfsShare("/exports/a"), claim: "old", phase: corev1.VolumeReleased, since: now.Add(-40 * 24 * time.Hour)}),
	}
	d, c := f.countingDriver(kubernetes.Config{Namespaces: []string{}, PersistentVolumes: kubernetes.PersistentVolumeConfig{
		List: true, LabelSelector: volumeLabel + "=" + f.ns, MonthlyPrices: map[string]float64{"gp3": 0.08},
	}}, kubernetes.WithClock(fixedClock(now)))
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	rep, err := detector.Scan(f.ctx, detector.Fleet{Inventory: d, Metrics: d}, ens, detector.ScanConfig{
		Now: now, Filter: provider.Filter{Kinds: []provider.Kind{provider.KindVolume}},
		ActivityWindow: ens.TerminateWindow(), // a terminate needs activity over all of it
	})
	require.NoError(t, err)
	require.NoError(t, rep.Err())
	// The listing, then one of the volumes, attachments and claims for the
	// counts and one for the activity (QueryMetrics, Activities), where
	// one read at a time made a GET and those three LISTs for each count
	// and the activity of each of the three stopped volumes.
	calls := c.take()
	assert.Len(t, calls, 9, "%v", calls)
	got := map[string]detector.Verdict{}
	for _, v := range rep.Verdicts {
		got[v.ResourceID] = v
		t.Logf("%s: %s %s: %s", v.ResourceID, v.State, v.Action, v.Explain())
	}
	require.Len(t, got, len(ids))
	long := got[ids["long-released"]]
	assert.Equal(t, detector.ActionTerminate, long.Action, long.Explain())
	assert.InDelta(t, 100*0.08/730.5*detector.HoursPerMonth, long.MonthlySavings, 1e-9, "its storage's month")
	for _, name := range []string{"recent-released", "bound", "nfs-released"} {
		v := got[ids[name]]
		assert.Equal(t, detector.ActionNone, v.Action, "%s: %s", name, v.Explain())
	}
}

// attach creates a VolumeAttachment NAMESPACE-name of source to a node,
// as the attach/detach controller does while a pod on it uses the disk,
// and deletes it when the test ends.
func (f *fixture) attach(name string, source storagev1.VolumeAttachmentSource) {
	f.t.Helper()
	vas := f.admin.StorageV1().VolumeAttachments()
	va, err := vas.Create(f.ctx, &storagev1.VolumeAttachment{
		ObjectMeta: metav1.ObjectMeta{Name: f.ns + "-" + name},
		Spec:       storagev1.VolumeAttachmentSpec{Attacher: "ebs.csi.aws.com", NodeName: "node-1", Source: source},
	}, metav1.CreateOptions{})
	require.NoError(f.t, err)
	f.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = vas.Delete(ctx, va.Name, metav1.DeleteOptions{})
	})
}

// TestPersistentVolumeAttachedIsNotQuiet: a released disk still attached
// to a node (a VolumeAttachment names it: its pod was force-deleted from
// a node that still runs it) or whose disk a pod mounts directly (an
// inline volume, which the attach/detach controller attaches by its
// spec) may be written without a claim: it is running, and its I/O is
// not known.
func TestPersistentVolumeAttachedIsNotQuiet(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := time.Now().UTC().Truncate(time.Second)
	long := now.Add(-40 * 24 * time.Hour)
	ids := map[string]string{
		"attached": f.volume("attached", volumeSpec{source: f.csiDisk("vol-1"), claim: "data", phase: corev1.VolumeReleased, since: long}),
		"inline":   f.volume("inline", volumeSpec{source: f.csiDisk("vol-2"), claim: "data2", phase: corev1.VolumeReleased, since: long}),
		"detached": f.volume("detached", volumeSpec{source: f.csiDisk("vol-3"), claim: "data3", phase: corev1.VolumeReleased, since: long}),
	}
	pvName := strings.TrimPrefix(ids["attached"], "persistentvolume/")
	f.attach("by-name", storagev1.VolumeAttachmentSource{PersistentVolumeName: &pvName})
	inline := f.csiDisk("vol-2")
	f.attach("inline", storagev1.VolumeAttachmentSource{InlineVolumeSpec: &corev1.PersistentVolumeSpec{
		PersistentVolumeSource: inline, AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
	}})
	d := f.volumeDriver(fixedClock(now))
	list, err := d.List(f.ctx, provider.Filter{Kinds: []provider.Kind{provider.KindVolume}})
	require.NoError(t, err)
	require.Len(t, list, len(ids))
	for _, r := range list {
		want := provider.StateRunning
		if r.ID == ids["detached"] {
			want = provider.StateStopped
		}
		assert.Equal(t, want, r.State, r.ID)
	}
	for _, name := range []string{"attached", "inline"} {
		r, err := d.Get(f.ctx, ids[name])
		require.NoError(t, err, name)
		assert.Equal(t, provider.StateRunning, r.State, name)
		_, err = d.QueryMetric(f.ctx, provider.Query{ResourceID: ids[name], Metric: provider.MetricDiskWrite, Start: long, End: now, Step: time.Hour})
		require.ErrorIs(t, err, provider.ErrUnsupported, name)
		require.ErrorContains(t, err, "attached to node node-1", name)
		_, err = d.Activity(f.ctx, provider.ActivityQuery{ResourceID: ids[name], Start: long, End: now})
		require.ErrorIs(t, err, provider.ErrUnsupported, name)
	}
	_, err = d.QueryMetric(f.ctx, provider.Query{ResourceID: ids["detached"], Metric: provider.MetricDiskWrite, Start: long, End: now, Step: time.Hour})
	require.NoError(t, err, "a disk no node has attached is known quiet")
}

// TestPersistentVolumeSharerOutsideScopeIsNotNamed: a volume the
// configuration does not select (another namespace's claim, or a label
// the selector leaves out) still keeps a volume of its storage from
// being quiet, but the reason does not name it: the driver shows nothing
// of a volume outside its scope.
func TestPersistentVolumeSharerOutsideScopeIsNotNamed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := time.Now().UTC().Truncate(time.Second)
	long := now.Add(-40 * 24 * time.Hour)
	mine := f.volume("mine", volumeSpec{source: f.csiDisk("vol-1"), claim: "data", phase: corev1.VolumeReleased, since: long})
	seen := f.volume("seen", volumeSpec{source: f.csiDisk("vol-1"), claim: "data-old", phase: corev1.VolumeReleased, since: long})
	hidden := f.volume("hidden", volumeSpec{source: f.csiDisk("vol-1"), phase: corev1.VolumeAvailable, since: long})
	unselected := f.volume("unselected", volumeSpec{source: f.csiDisk("vol-1"), claim: "x", phase: corev1.VolumeReleased, since: long, labels: map[string]string{"tier": "cold"}})
	d := f.driver(kubernetes.Config{PersistentVolumes: kubernetes.PersistentVolumeConfig{List: true, LabelSelector: volumeLabel + "=" + f.ns + ",tier!=cold"}})
	_, err := d.Get(f.ctx, hidden)
	require.ErrorIs(t, err, provider.ErrNotFound, "no claim in the driver's namespace")
	_, err = d.Get(f.ctx, unselected)
	require.ErrorIs(t, err, provider.ErrNotFound, "the selector leaves it out")

	_, err = d.QueryMetric(f.ctx, provider.Query{ResourceID: mine, Metric: provider.MetricDiskWrite, Start: long, End: now, Step: time.Hour})
	require.ErrorIs(t, err, provider.ErrUnsupported)
	require.ErrorContains(t, err, strings.TrimPrefix(seen, "persistentvolume/"), "a sharer the driver sees is named")
	for _, id := range []string{hidden, unselected} {
		assert.NotContains(t, err.Error(), strings.TrimPrefix(id, "persistentvolume/"), "a sharer outside the scope is not")
	}
	assert.ErrorContains(t, err, "2 PersistentVolumes the configuration does not select")
}

// TestPersistentVolumeClassOfTheBetaAnnotation: a PersistentVolume whose
// class is named by the volume.beta.kubernetes.io/storage-class
// annotation (as older provisioners and manifests name it, and as the
// PersistentVolume controller still reads it first) is priced by that
// class.
func TestPersistentVolumeClassOfTheBetaAnnotation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	pvs := f.admin.CoreV1().PersistentVolumes()
	pv, err := pvs.Create(f.ctx, &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			Name:        f.ns + "-beta",
			Labels:      map[string]string{volumeLabel: f.ns},
			Annotations: map[string]string{corev1.BetaStorageClassAnnotation: "gp3"},
		},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:               corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("100Gi")},
			AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			PersistentVolumeSource: f.csiDisk("vol-1"),
		},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = pvs.Delete(ctx, pv.Name, metav1.DeleteOptions{})
	})
	d := f.volumeDriver(fixedClock(time.Now()))
	r, err := d.Get(f.ctx, kubernetes.Ref{Kind: kubernetes.ObjectPersistentVolume, Name: pv.Name}.String())
	require.NoError(t, err)
	assert.InDelta(t, 100*0.08/730.5, r.HourlyCost, 1e-12, "100 GiB of gp3 at $0.08 a GiB-month")
}

// TestPersistentVolumesReadInABatch: GetResources answers a batch of
// PersistentVolume reads as Get does, each, from one list of the
// cluster's volumes (and one of its VolumeAttachments, one of its
// claims), not from a GET and three LISTs for each stopped volume.
func TestPersistentVolumesReadInABatch(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	long := time.Now().Add(-40 * 24 * time.Hour)
	var reads []provider.ResourceRead
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		reads = append(reads, provider.ResourceRead{ID: f.volume(name, volumeSpec{source: f.csiDisk(name), claim: "data-" + name, phase: corev1.VolumeReleased, since: long})})
	}
	reads = append(reads,
		provider.ResourceRead{ID: f.volume("bound", volumeSpec{source: f.csiDisk("f"), claim: "live", phase: corev1.VolumeBound, since: long})},
		provider.ResourceRead{ID: f.volume("cold", volumeSpec{source: f.csiDisk("g"), claim: "x", phase: corev1.VolumeReleased, since: long, labels: map[string]string{"tier": "cold"}})},
		provider.ResourceRead{ID: "persistentvolume/" + f.ns + "-none"},
	)
	cfg := kubernetes.Config{Namespaces: []string{}, PersistentVolumes: kubernetes.PersistentVolumeConfig{
		List: true, LabelSelector: volumeLabel + "=" + f.ns + ",tier!=cold", MonthlyPrices: map[string]float64{"gp3": 0.08},
	}}
	d, c := f.countingDriver(cfg)
	require.NoError(t, d.GetResources(f.ctx, reads))
	calls := c.take()
	for _, r := range reads {
		one, err := d.Get(f.ctx, r.ID)
		if err != nil {
			require.Error(t, r.Err, r.ID)
			assert.Equal(t, err.Error(), r.Err.Error(), r.ID)
			continue
		}
		require.NoError(t, r.Err, r.ID)
		assert.Equal(t, one, r.Resource, "%s: the batch agrees with Get", r.ID)
	}
	assert.LessOrEqual(t, len(calls), 5, "one LIST of the volumes, one of the attachments, one of the claims, a GET of each not listed as selected: %v", calls)
}

// claimVolume creates a PersistentVolumeClaim name in namespace ns that
// names the PersistentVolume of id (spec.volumeName), as its owner does
// to reuse a retained disk; no controller runs, so it stays Pending.
func (f *fixture) claimVolume(ns, name, id string) {
	f.t.Helper()
	_, err := f.admin.CoreV1().PersistentVolumeClaims(ns).Create(f.ctx, &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("100Gi")}},
			VolumeName:  strings.TrimPrefix(id, "persistentvolume/"),
		},
	}, metav1.CreateOptions{})
	require.NoError(f.t, err)
}

// TestPersistentVolumeNamedByAClaimIsNotQuiet: a released or available
// volume that a PersistentVolumeClaim names (spec.volumeName: its owner
// means to reuse it, and the PersistentVolume controller binds the claim
// to it once it matches) is running, its I/O not known, and the reason
// names the claim only when the driver sees its namespace.
func TestPersistentVolumeNamedByAClaimIsNotQuiet(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := time.Now().UTC().Truncate(time.Second)
	long := now.Add(-40 * 24 * time.Hour)
	ids := map[string]string{
		"released":  f.volume("released", volumeSpec{source: f.csiDisk("vol-1"), claim: "data", phase: corev1.VolumeReleased, since: long}),
		"available": f.volume("available", volumeSpec{source: f.csiDisk("vol-2"), phase: corev1.VolumeAvailable, since: long}),
		"elsewhere": f.volume("elsewhere", volumeSpec{source: f.csiDisk("vol-3"), claim: "data3", phase: corev1.VolumeReleased, since: long}),
		"unnamed":   f.volume("unnamed", volumeSpec{source: f.csiDisk("vol-4"), claim: "data4", phase: corev1.VolumeReleased, since: long}),
	}
	other, err := apiServer.Namespace(f.ctx, f.admin, t.Name()+"-other")
	require.NoError(t, err)
	f.claimVolume(f.ns, "data-again", ids["released"])
	f.claimVolume(f.ns, "fresh", ids["available"])
	f.claimVolume(other, "theirs", ids["elsewhere"])

	d := f.volumeDriver(fixedClock(now))
	list, err := d.List(f.ctx, provider.Filter{Kinds: []provider.Kind{provider.KindVolume}})
	require.NoError(t, err)
	require.Len(t, list, len(ids))
	for _, r := range list {
		want := provider.StateRunning
		if r.ID == ids["unnamed"] {
			want = provider.StateStopped
		}
		assert.Equal(t, want, r.State, r.ID)
	}
	for name, claim := range map[string]string{"released": f.ns + "/data-again", "available": f.ns + "/fresh", "elsewhere": other + "/theirs"} {
		r, err := d.Get(f.ctx, ids[name])
		require.NoError(t, err, name)
		assert.Equal(t, provider.StateRunning, r.State, name)
		_, err = d.QueryMetric(f.ctx, provider.Query{ResourceID: ids[name], Metric: provider.MetricDiskWrite, Start: long, End: now, Step: time.Hour})
		require.ErrorIs(t, err, provider.ErrUnsupported, name)
		require.ErrorContains(t, err, "PersistentVolumeClaim "+claim+" names it (spec.volumeName)", name)
		_, err = d.Activity(f.ctx, provider.ActivityQuery{ResourceID: ids[name], Start: long, End: now})
		require.ErrorIs(t, err, provider.ErrUnsupported, name)
	}
	_, err = d.QueryMetric(f.ctx, provider.Query{ResourceID: ids["unnamed"], Metric: provider.MetricDiskWrite, Start: long, End: now, Step: time.Hour})
	require.NoError(t, err, "a volume no claim names is known quiet")

	// A driver that sees only the fixture's namespace still counts the
	// other namespace's claim, but does not name it.
	mine := f.driver(kubernetes.Config{PersistentVolumes: kubernetes.PersistentVolumeConfig{List: true, LabelSelector: volumeLabel + "=" + f.ns}})
	_, err = mine.QueryMetric(f.ctx, provider.Query{ResourceID: ids["elsewhere"], Metric: provider.MetricDiskWrite, Start: long, End: now, Step: time.Hour})
	require.ErrorIs(t, err, provider.ErrUnsupported)
	require.ErrorContains(t, err, "a PersistentVolumeClaim of a namespace the configuration does not select names it")
	assert.NotContains(t, err.Error(), other)
}

// TestPersistentVolumesWithTheDocumentedRBAC: a driver granted exactly the
// package doc's ClusterRole for PersistentVolumes lists them and reads a
// stopped one's counts; without the claims' list it reads none, and says
// which permission it lacks.
func TestPersistentVolumesWithTheDocumentedRBAC(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := time.Now().UTC().Truncate(time.Second)
	long := now.Add(-40 * 24 * time.Hour)
	id := f.volume("released", volumeSpec{source: f.csiDisk("vol-1"), claim: "data", phase: corev1.VolumeReleased, since: long})
	documented := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"persistentvolumes"}, Verbs: []string{"get", "list"}},
		{APIGroups: []string{""}, Resources: []string{"persistentvolumeclaims"}, Verbs: []string{"list"}},
		{APIGroups: []string{"storage.k8s.io"}, Resources: []string{"volumeattachments"}, Verbs: []string{"list"}},
	}
	roles := f.admin.RbacV1().ClusterRoles()
	role, err := roles.Create(f.ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: f.ns + "-volumes"}, Rules: []rbacv1.PolicyRule{documented[0], documented[2]}}, metav1.CreateOptions{})
	require.NoError(t, err)
	bindings := f.admin.RbacV1().ClusterRoleBindings()
	binding, err := bindings.Create(f.ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: f.ns + "-volumes"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: "User", Name: volumeReader, APIGroup: "rbac.authorization.k8s.io"}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = bindings.Delete(ctx, binding.Name, metav1.DeleteOptions{})
		_ = roles.Delete(ctx, role.Name, metav1.DeleteOptions{})
	})
	d := f.driverAs(volumeReader, kubernetes.Config{Namespaces: []string{}, PersistentVolumes: kubernetes.PersistentVolumeConfig{List: true, LabelSelector: volumeLabel + "=" + f.ns}})
	read := func() error {
		_, err := d.QueryMetric(f.ctx, provider.Query{ResourceID: id, Metric: provider.MetricDiskWrite, Start: long, End: now, Step: time.Hour})
		return err
	}
	require.NoError(t, eventually(func() error {
		if err := read(); !errors.Is(err, kubernetes.ErrForbidden) || !strings.Contains(err.Error(), "list persistentvolumeclaims in all namespaces") {
			return fmt.Errorf("want the claims' list refused, and named: %w", err)
		}
		return nil
	}))
	_, err = d.List(f.ctx, provider.Filter{Kinds: []provider.Kind{provider.KindVolume}})
	require.ErrorIs(t, err, provider.ErrDenied, "no volume is listed without knowing which a claim names")
	role.Rules = documented
	_, err = roles.Update(f.ctx, role, metav1.UpdateOptions{})
	require.NoError(t, err)
	require.NoError(t, eventually(read), "the documented rules are enough")
	list, err := d.List(f.ctx, provider.Filter{Kinds: []provider.Kind{provider.KindVolume}})
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, provider.StateStopped, list[0].State)
}

// TestPersistentVolumeCountsAndActivityInABatch: QueryMetrics and
// Activities (the batch reads a detector Scan makes) answer the reads of
// PersistentVolumes from one listing of the volumes, the attachments and
// the claims, whatever the number of stopped volumes, where a single read
// of a stopped one makes a GET and those three LISTs; every read is
// answered exactly as the single call answers it: a quiet disk, a bound
// one, one a claim names, one attached, a share, two of one disk, an
// unknown one, an unsupported metric, an invalid query, a repeat.
func TestPersistentVolumeCountsAndActivityInABatch(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := time.Now().UTC().Truncate(time.Hour).Add(30 * time.Minute)
	long := now.Add(-40 * 24 * time.Hour)
	ids := []string{
		f.volume("bound", volumeSpec{source: f.csiDisk("vol-b"), claim: "live", phase: corev1.VolumeBound, since: long}),
		f.volume("claimed", volumeSpec{source: f.csiDisk("vol-c"), claim: "data-c", phase: corev1.VolumeReleased, since: long}),
		f.volume("attached", volumeSpec{source: f.csiDisk("vol-a"), claim: "data-a", phase: corev1.VolumeReleased, since: long}),
		f.volume("nfs", volumeSpec{source: f.nfsShare("/exports/x"), claim: "share", phase: corev1.VolumeReleased, since: long}),
		f.volume("same-disk", volumeSpec{source: f.csiDisk("vol-s"), phase: corev1.VolumeAvailable, since: long}),
		f.volume("same-too", volumeSpec{source: f.csiDisk("vol-s"), claim: "s", phase: corev1.VolumeReleased, since: long}),
	}
	for i := range 8 {
		name := "quiet-" + strconv.Itoa(i)
		ids = append(ids, f.volume(name, volumeSpec{source: f.csiDisk("vol-q" + strconv.Itoa(i)), claim: "data-" + name, phase: corev1.VolumeReleased, since: long.Add(time.Duration(i) * time.Hour)}))
	}
	f.claimVolume(f.ns, "data-again", ids[1])
	name := strings.TrimPrefix(ids[2], "persistentvolume/")
	f.attach("attached", storagev1.VolumeAttachmentSource{PersistentVolumeName: &name})
	unknown := "persistentvolume/" + f.ns + "-none"

	cfg := kubernetes.Config{Namespaces: []string{}, PersistentVolumes: kubernetes.PersistentVolumeConfig{
		List: true, LabelSelector: volumeLabel + "=" + f.ns, MonthlyPrices: map[string]float64{"gp3": 0.08},
	}}
	d, c := f.countingDriver(cfg, kubernetes.WithClock(fixedClock(now)))
	start := now.Truncate(time.Hour).Add(-50 * 24 * time.Hour)
	q := func(id string, m provider.Metric) provider.Query {
		return provider.Query{ResourceID: id, Metric: m, Start: start, End: now, Step: time.Hour, Statistic: provider.StatMax}
	}
	var mreads []provider.MetricRead
	var areads []provider.ActivityRead
	for _, id := range append(slices.Clone(ids), unknown) {
		mreads = append(mreads, provider.MetricRead{Query: q(id, provider.MetricDiskRead)}, provider.MetricRead{Query: q(id, provider.MetricDiskWrite)})
		areads = append(areads, provider.ActivityRead{Query: provider.ActivityQuery{ResourceID: id, Start: now.Add(-45 * 24 * time.Hour), End: now}})
	}
	bad := q(ids[6], provider.MetricDiskRead)
	bad.Step = 0
	mreads = append(mreads, provider.MetricRead{Query: q(ids[6], provider.MetricCPU)}, provider.MetricRead{Query: bad}, provider.MetricRead{Query: q(ids[6], provider.MetricDiskRead)})
	areads = append(areads, provider.ActivityRead{Query: provider.ActivityQuery{ResourceID: ids[6], Start: now, End: now}}, areads[6])

	c.take()
	require.NoError(t, d.QueryMetrics(f.ctx, mreads))
	metricCalls := c.take()
	require.NoError(t, d.Activities(f.ctx, areads))
	activityCalls := c.take()
	// Three LISTs, and the unknown volume's GET (the single call's, for
	// its error) for each of its reads; the unsupported metric and the
	// invalid query make none.
	assert.Len(t, metricCalls, 5, "QueryMetrics of %d volumes: %v", len(ids), metricCalls)
	assert.Len(t, activityCalls, 4, "Activities of %d volumes: %v", len(ids), activityCalls)

	quiet := 0
	for i, r := range mreads {
		one, err := d.QueryMetric(f.ctx, r.Query)
		if err != nil {
			require.Error(t, r.Err, "read %d %s %s", i, r.Query.ResourceID, r.Query.Metric)
			assert.Equal(t, err.Error(), r.Err.Error(), "read %d", i)
			continue
		}
		require.NoError(t, r.Err, "read %d %s %s", i, r.Query.ResourceID, r.Query.Metric)
		assert.Equal(t, one.Start, r.Series.Start)
		assert.Equal(t, one.ResourceID, r.Series.ResourceID)
		assert.Equal(t, one.Metric, r.Series.Metric)
		require.Len(t, r.Series.Values, len(one.Values))
		for j := range one.Values {
			require.Equal(t, math.IsNaN(one.Values[j]), math.IsNaN(r.Series.Values[j]), "read %d step %d", i, j)
		}
		quiet++
	}
	assert.Equal(t, 2*8+1, quiet, "the quiet disks' two counts, and the repeat")
	for i, r := range areads {
		one, err := d.Activity(f.ctx, r.Query)
		if err != nil {
			require.Error(t, r.Err, "read %d %s", i, r.Query.ResourceID)
			assert.Equal(t, err.Error(), r.Err.Error(), "read %d", i)
			continue
		}
		require.NoError(t, r.Err, "read %d %s", i, r.Query.ResourceID)
		assert.Equal(t, one, r.Counts, "read %d", i)
	}
	for i, want := range map[int]string{0: "phase Bound", 1: "names it (spec.volumeName)", 2: "attached to node node-1", 3: "not a disk", 4: "also PersistentVolume"} {
		require.ErrorIs(t, areads[i].Err, provider.ErrUnsupported, ids[i])
		require.ErrorContains(t, areads[i].Err, want, ids[i])
	}
	require.ErrorIs(t, areads[len(ids)].Err, provider.ErrNotFound)
	require.ErrorIs(t, areads[len(ids)+1].Err, provider.ErrInvalid)
}

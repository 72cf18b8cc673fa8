package kubernetes

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/idlescale/idlescale/provider"
)

// gib is one gibibyte in bytes.
const gib = 1 << 30

// volume is a PersistentVolume as the driver judges it against the
// cluster's others: its state, and since when no claim can have read or
// written it (zero when that is not known: see quietSince).
type volume struct {
	pv    *corev1.PersistentVolume
	state provider.State
	// quiet is since when the volume's storage has served no claim, for
	// its disk counts and activity; zero when not known.
	quiet time.Time
	// why says why quiet is zero, for the error of a read.
	why string
}

// listVolumes returns every PersistentVolume of the cluster judged
// (judgeVolumes), those the configuration does not select included: the
// storage of one may be another's; against the cluster's
// VolumeAttachments: a node may have one's disk attached; and against
// its PersistentVolumeClaims: a claim may name one (spec.volumeName).
// Their reasons name only the volumes the configuration selects (sees),
// and only the claims of the namespaces it sees. It needs list on
// persistentvolumes, on persistentvolumeclaims in all namespaces and on
// volumeattachments.storage.k8s.io.
func (d *Driver) listVolumes(ctx context.Context, op, id string) ([]volume, error) {
	l, err := d.client.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, wrap(op, id, call{verb: "list", resource: "persistentvolumes"}, err)
	}
	vas, err := d.client.StorageV1().VolumeAttachments().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, wrap(op, id, call{verb: "list", resource: "volumeattachments.storage.k8s.io"}, err)
	}
	pvcs, err := d.client.CoreV1().PersistentVolumeClaims(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, wrap(op, id, call{verb: "list", resource: "persistentvolumeclaims", namespace: metav1.NamespaceAll}, err)
	}
	claims := map[string]string{} // who names a volume, by its name
	for _, c := range pvcs.Items {
		switch {
		case c.Spec.VolumeName == "":
		case d.inScope(c.Namespace):
			claims[c.Spec.VolumeName] = "PersistentVolumeClaim " + c.Namespace + "/" + c.Name
		case claims[c.Spec.VolumeName] == "":
			claims[c.Spec.VolumeName] = "a PersistentVolumeClaim of a namespace the configuration does not select"
		}
	}
	return judgeVolumes(l.Items, vas.Items, claims, d.sees), nil
}

// sees reports whether the configuration selects pv: its labels match
// PersistentVolumeConfig.LabelSelector and, with Config.Namespaces set,
// its claim (spec.claimRef, kept while it is released) is in one of
// them.
func (d *Driver) sees(pv *corev1.PersistentVolume) bool {
	if !d.pvSelector.Matches(labels.Set(pv.Labels)) {
		return false
	}
	if len(d.cfg.Namespaces) == 0 {
		return true
	}
	return pv.Spec.ClaimRef != nil && d.inScope(pv.Spec.ClaimRef.Namespace)
}

// volumeRef returns the name of the PersistentVolume id names, ok false
// when id names none (another kind, or no valid ID: resolve says what).
// With Config.PersistentVolumes.List off such an ID is not found.
func (d *Driver) volumeRef(op, id string) (name string, ok bool, err error) {
	ref, valid, _ := ParseRef(id)
	if !valid || ref.Kind != ObjectPersistentVolume {
		return "", false, nil
	}
	if !d.cfg.PersistentVolumes.List {
		return "", true, notFound(op, id, "config.persistent_volumes.list is off")
	}
	return ref.Name, true, nil
}

// getVolume returns the PersistentVolume named name, judged: alone when
// its phase says a claim holds or may hold it (sharing its storage
// changes nothing then), else against the cluster's others, which it
// lists (a stopped volume is the rare one, so a scan of the cluster's
// volumes lists them for the few that may be unused, not for each). It
// is provider.ErrNotFound when there is none or the configuration does
// not select it.
func (d *Driver) getVolume(ctx context.Context, op, id, name string) (volume, error) {
	pv, err := d.client.CoreV1().PersistentVolumes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return volume{}, wrap(op, id, call{verb: "get", resource: "persistentvolumes", name: name}, err)
	}
	if !d.sees(pv) {
		return volume{}, notFound(op, id, "config.persistent_volumes.label_selector or config.namespaces leaves it out")
	}
	if volumeState(pv) != provider.StateStopped {
		return judgeVolumes([]corev1.PersistentVolume{*pv}, nil, nil, nil)[0], nil
	}
	vs, err := d.listVolumes(ctx, op, id)
	if err != nil {
		return volume{}, err
	}
	for _, v := range vs {
		if v.pv.Name == name {
			if !d.sees(v.pv) { // relabelled between the two reads
				return volume{}, notFound(op, id, "config.persistent_volumes.label_selector or config.namespaces leaves it out")
			}
			return v, nil
		}
	}
	return volume{}, notFound(op, id, "no PersistentVolume of that name") // deleted between the two reads
}

// volumeResource is the resource of v: kind volume, its state, labels,
// the annotation convention, creation time and price.
func (d *Driver) volumeResource(v volume) provider.Resource {
	pv := v.pv
	r := provider.Resource{
		ID: Ref{Kind: ObjectPersistentVolume, Name: pv.Name}.String(), Kind: provider.KindVolume,
		Provider: d.cfg.Name, Region: d.cfg.Region, Name: pv.Name, State: v.state,
		Tags: tags(pv.ObjectMeta), LaunchTime: pv.CreationTimestamp.Time,
	}
	applyMetadata(&r, pv.ObjectMeta)
	if price := d.cfg.PersistentVolumes.MonthlyPrices[storageClass(pv)]; price > 0 {
		if q, ok := pv.Spec.Capacity[corev1.ResourceStorage]; ok && q.Sign() > 0 {
			r.HourlyCost = q.AsApproximateFloat64() / gib * price / provider.HoursPerMonth
		}
	}
	return r.NormalizeLabels()
}

// storageClass returns the storage class of pv as the PersistentVolume
// controller reads it: the volume.beta.kubernetes.io/storage-class
// annotation when it has one, else spec.storageClassName.
func storageClass(pv *corev1.PersistentVolume) string {
	if class, ok := pv.Annotations[corev1.BetaStorageClassAnnotation]; ok {
		return class
	}
	return pv.Spec.StorageClassName
}

// volumeState maps a PersistentVolume onto the lifecycle states:
// stopping while it is being deleted; then by phase, pending while
// Pending, running while Bound (a claim holds it), stopped while Released
// (its claim was deleted and the storage kept) or Available without a
// claim reserving it (no claim ever held it, or it was made available
// again). Available but reserved for a claim (spec.claimRef set: someone
// means it for that claim) and Failed (its reclamation failed, and the
// storage may still be attached somewhere) are running, so that a
// volume in doubt is recommended less; so is a phase the driver does not
// know. judgeVolumes turns a stopped volume whose storage another volume
// in use shares into running too.
func volumeState(pv *corev1.PersistentVolume) provider.State {
	if pv.DeletionTimestamp != nil {
		return provider.StateStopping
	}
	switch pv.Status.Phase {
	case corev1.VolumePending:
		return provider.StatePending
	case corev1.VolumeReleased:
		return provider.StateStopped
	case corev1.VolumeAvailable:
		if pv.Spec.ClaimRef == nil {
			return provider.StateStopped
		}
	}
	return provider.StateRunning
}

// judgeVolumes judges each of the cluster's PersistentVolumes pvs: its
// state (volumeState), running when another volume in use (not stopped)
// shares its storage (sharedStorage) or when one of the cluster's
// VolumeAttachments vas attaches it, or its disk, to a node (a pod there
// may use it: one force-deleted from a node that still runs, or one that
// mounts the disk inline, without a claim), and since when it is quiet
// (quietSince). A stopped volume that a PersistentVolumeClaim names
// (spec.volumeName: claims says which, by the volume's name) is running
// too: someone means it for that claim, which the PersistentVolume
// controller binds it to as soon as the volume matches it (a claim that
// names a Released volume, the usual way to reuse a retained disk, waits
// for its owner to clear the volume's claimRef). The reasons name only
// the volumes visible selects (all when visible is nil): the others are
// counted, not shown.
func judgeVolumes(pvs []corev1.PersistentVolume, vas []storagev1.VolumeAttachment, claims map[string]string, visible func(*corev1.PersistentVolume) bool) []volume {
	out := make([]volume, len(pvs))
	byName := map[string]*corev1.PersistentVolume{}
	for i := range pvs {
		out[i] = volume{pv: &pvs[i], state: volumeState(&pvs[i])}
		byName[pvs[i].Name] = &pvs[i]
	}
	attached := map[string]string{} // node by PersistentVolume name ("pv\x00NAME") or diskKey
	for _, va := range vas {
		src := va.Spec.Source
		switch {
		case src.PersistentVolumeName != nil:
			attached["pv\x00"+*src.PersistentVolumeName] = va.Spec.NodeName
			if pv := byName[*src.PersistentVolumeName]; pv != nil {
				if k := diskKey(pv); k != "" {
					attached[k] = va.Spec.NodeName
				}
			}
		case src.InlineVolumeSpec != nil:
			if k := diskKey(&corev1.PersistentVolume{Spec: *src.InlineVolumeSpec}); k != "" {
				attached[k] = va.Spec.NodeName
			}
		}
	}
	buckets := map[string][]int{} // the volumes that may share storage, by storageBucket
	for i := range out {
		if b := storageBucket(out[i].pv); b != "" {
			buckets[b] = append(buckets[b], i)
		}
	}
	for i := range out {
		var sharers []string // the other volumes of the same storage visible selects
		hidden := 0          // and those it does not
		inUse := ""
		for _, j := range buckets[storageBucket(out[i].pv)] {
			if i == j || !sharedStorage(out[i].pv, out[j].pv) {
				continue
			}
			if visible == nil || visible(out[j].pv) {
				sharers = append(sharers, out[j].pv.Name)
			} else {
				hidden++
			}
			if inUse == "" && volumeState(out[j].pv) != provider.StateStopped {
				inUse = out[j].pv.Name
			}
		}
		if inUse != "" && out[i].state == provider.StateStopped {
			out[i].state = provider.StateRunning
		}
		if by := claims[out[i].pv.Name]; by != "" && out[i].state == provider.StateStopped {
			out[i].state = provider.StateRunning
			out[i].why = by + " names it (spec.volumeName): it is meant for that claim, which may bind it at any time"
			continue
		}
		node, ok := attached["pv\x00"+out[i].pv.Name]
		if k := diskKey(out[i].pv); !ok && k != "" {
			node, ok = attached[k]
		}
		if ok && out[i].state == provider.StateStopped {
			out[i].state = provider.StateRunning
			out[i].why = fmt.Sprintf("it is attached to node %s (a VolumeAttachment names it or its disk): a pod there may use it without a claim", node)
			continue
		}
		out[i].quiet, out[i].why = quietSince(out[i], sharers, hidden)
	}
	return out
}

// quietSince returns since when no claim can have read or written v's
// storage, or zero and why that is not known. It is known only of a
// volume that is stopped (released, or available without a claim
// reserving it), since its last phase change (status.lastPhaseTransitionTime,
// set by the API server since Kubernetes 1.28): no pod mounts a volume
// but through a claim bound to it. Only of a disk, too (isDisk: an
// in-tree cloud disk, or a volume of their CSI drivers), that no claim but one at a time may
// write (access modes ReadWriteOnce or ReadWriteOncePod) and that no
// other PersistentVolume names: a file share (NFS, a CSI file system
// mounted many times) or a node's directory (hostPath, local) may be
// mounted by pods directly, or served to clients outside the cluster, so
// that no I/O through this volume says nothing of its storage.
//
// sharers are the names of the other volumes of v's storage that may be
// shown, hidden the number of those that may not.
func quietSince(v volume, sharers []string, hidden int) (time.Time, string) {
	pv := v.pv
	switch {
	case v.state != provider.StateStopped:
		return time.Time{}, fmt.Sprintf("it is %s (phase %s): only a volume no claim holds is known to serve none", v.state, phaseOf(pv))
	case len(sharers) > 0 || hidden > 0:
		var of []string
		if len(sharers) > 0 {
			of = append(of, "PersistentVolume "+strings.Join(sharers, ", ")+"'s")
		}
		if hidden > 0 {
			of = append(of, fmt.Sprintf("%d PersistentVolumes the configuration does not select", hidden))
		}
		return time.Time{}, "its storage is also " + strings.Join(of, " and ")
	case !isDisk(pv):
		return time.Time{}, "its storage is not a disk (an in-tree cloud disk, or a volume of ebs.csi.aws.com, pd.csi.storage.gke.io, disk.csi.azure.com, cinder.csi.openstack.org or csi.vsphere.vmware.com): a file share or a node's directory may be used without a claim"
	case slices.ContainsFunc(pv.Spec.AccessModes, func(m corev1.PersistentVolumeAccessMode) bool {
		return m != corev1.ReadWriteOnce && m != corev1.ReadWriteOncePod
	}):
		return time.Time{}, "its access modes let many pods mount it (a shared file system may be served outside the cluster too)"
	case pv.Status.LastPhaseTransitionTime == nil:
		return time.Time{}, "the API server did not say when it entered phase " + string(phaseOf(pv)) + " (status.lastPhaseTransitionTime, Kubernetes 1.28 and later)"
	}
	return pv.Status.LastPhaseTransitionTime.UTC(), ""
}

func phaseOf(pv *corev1.PersistentVolume) corev1.PersistentVolumePhase {
	if pv.Status.Phase == "" {
		return "unknown"
	}
	return pv.Status.Phase
}

// isDisk reports whether pv's storage is a cloud disk: an in-tree one, or
// a volume of a CSI driver of disks only, one of those the CSI migration
// gives the in-tree disks to (of csi.vsphere.vmware.com, a handle not of
// a file volume, "file:..."). A volume of any other CSI driver may be a
// file system (EFS, Azure Files, Filestore, an NFS or SMB share, a
// bucket), whatever its access modes say (the EFS driver's own example
// makes one ReadWriteOnce), and its file system may be mounted without
// this volume: it is no disk.
func isDisk(pv *corev1.PersistentVolume) bool {
	s := pv.Spec.PersistentVolumeSource
	if s.CSI != nil {
		switch s.CSI.Driver {
		case "ebs.csi.aws.com", "pd.csi.storage.gke.io", "disk.csi.azure.com", "cinder.csi.openstack.org":
			return true
		case "csi.vsphere.vmware.com":
			return !strings.HasPrefix(s.CSI.VolumeHandle, "file:")
		}
		return false
	}
	return s.AWSElasticBlockStore != nil || s.GCEPersistentDisk != nil || s.AzureDisk != nil ||
		s.Cinder != nil || s.VsphereVolume != nil
}

// sharedStorage reports whether a and b name the same storage: the same
// disk (diskKey: the same CSI driver and volume handle, the same in-tree
// cloud disk, or an in-tree disk and the handle its CSI driver gives it),
// the same NFS server with one path within the other's, or the same path
// of a node (hostPath, local).
func sharedStorage(a, b *corev1.PersistentVolume) bool {
	if ka, kb := diskKey(a), diskKey(b); ka != "" || kb != "" {
		return ka == kb
	}
	x, y := a.Spec.PersistentVolumeSource, b.Spec.PersistentVolumeSource
	switch {
	case x.NFS != nil && y.NFS != nil:
		return x.NFS.Server == y.NFS.Server && nested(x.NFS.Path, y.NFS.Path)
	case x.HostPath != nil && y.HostPath != nil:
		return nested(x.HostPath.Path, y.HostPath.Path)
	case x.Local != nil && y.Local != nil:
		return nested(x.Local.Path, y.Local.Path)
	}
	return false
}

// diskKey returns the disk pv names, as one key for each of the ways a
// PersistentVolume may name it, or "" when pv is neither a CSI volume
// nor an in-tree cloud disk. An
// in-tree cloud disk and a volume of the CSI driver the CSI migration
// turns it into (k8s.io/csi-translation-lib) name one disk: an EBS
// volume's ID, bare or as aws://ZONE/ID, is the ebs.csi.aws.com handle;
// a GCE persistent disk's name the last element of the
// pd.csi.storage.gke.io handle (projects/P/zones/Z/disks/NAME, whose
// project and zone may be UNSPECIFIED, so that disks of one name in
// other projects or zones count as one: two volumes found sharing a disk
// are judged less idle, never more); an Azure disk's URI, in any case,
// the disk.csi.azure.com handle; a Cinder volume's ID the
// cinder.csi.openstack.org handle; a vSphere volume's path the
// csi.vsphere.vmware.com handle. Any other CSI volume is its driver and
// handle.
func diskKey(pv *corev1.PersistentVolume) string {
	s := pv.Spec.PersistentVolumeSource
	switch {
	case s.CSI != nil:
		switch h := s.CSI.VolumeHandle; s.CSI.Driver {
		case "ebs.csi.aws.com":
			return "ebs\x00" + ebsVolumeID(h)
		case "pd.csi.storage.gke.io":
			return "gce\x00" + h[strings.LastIndex(h, "/")+1:]
		case "disk.csi.azure.com":
			return "azure\x00" + strings.ToLower(h) // ARM URIs: ASCII, case-insensitive
		case "cinder.csi.openstack.org":
			return "cinder\x00" + h
		case "csi.vsphere.vmware.com":
			return "vsphere\x00" + h
		default:
			return "csi\x00" + s.CSI.Driver + "\x00" + h
		}
	case s.AWSElasticBlockStore != nil:
		return "ebs\x00" + ebsVolumeID(s.AWSElasticBlockStore.VolumeID)
	case s.GCEPersistentDisk != nil:
		return "gce\x00" + s.GCEPersistentDisk.PDName
	case s.AzureDisk != nil:
		return "azure\x00" + strings.ToLower(s.AzureDisk.DataDiskURI)
	case s.Cinder != nil:
		return "cinder\x00" + s.Cinder.VolumeID
	case s.VsphereVolume != nil:
		return "vsphere\x00" + s.VsphereVolume.VolumePath
	}
	return ""
}

// ebsVolumeID returns the EBS volume ID of an in-tree volume ID of any of
// its forms: vol-ID, aws:///vol-ID or aws://ZONE/vol-ID.
func ebsVolumeID(id string) string {
	if rest, ok := strings.CutPrefix(id, "aws://"); ok {
		return rest[strings.LastIndex(rest, "/")+1:]
	}
	return id
}

// storageBucket returns a key that every volume sharedStorage may find
// sharing pv's storage has too ("" for a source it never compares), so
// that a cluster's volumes are compared within their buckets, not each
// with every other.
func storageBucket(pv *corev1.PersistentVolume) string {
	if k := diskKey(pv); k != "" {
		return k
	}
	s := pv.Spec.PersistentVolumeSource
	switch {
	case s.NFS != nil:
		return "nfs\x00" + s.NFS.Server
	case s.HostPath != nil:
		return "hostpath"
	case s.Local != nil:
		return "local"
	}
	return ""
}

// nested reports whether one of the slash-separated paths a and b is the
// other or within it.
func nested(a, b string) bool {
	a, b = path.Clean("/"+a), path.Clean("/"+b)
	within := func(p, dir string) bool { return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/") }
	return within(a, b) || within(b, a)
}

// listVolumeResources returns the PersistentVolumes the configuration
// selects that match f, when Config.PersistentVolumes.List is on and f
// asks for volumes (by no Kinds, or KindVolume among them).
func (d *Driver) listVolumeResources(ctx context.Context, f provider.Filter) ([]provider.Resource, error) {
	if !d.cfg.PersistentVolumes.List || len(f.Kinds) > 0 && !slices.Contains(f.Kinds, provider.KindVolume) {
		return nil, nil
	}
	vs, err := d.listVolumes(ctx, "list", "")
	if err != nil {
		return nil, err
	}
	var out []provider.Resource
	for _, v := range vs {
		if !d.sees(v.pv) {
			continue
		}
		if r := d.volumeResource(v); f.Match(r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// volumeSeries answers QueryMetric q of the PersistentVolume name: its
// disk_read and disk_write are 0 in every step that begins at or after
// the volume is quiet (quietSince) and ends by now, whatever the
// statistic, and gaps before that and in steps not yet over. A volume not
// known quiet, and any other metric, is provider.ErrUnsupported: the
// driver reads no I/O of a volume a claim may use (kubelet's volume
// statistics, in Prometheus, tell a mounted volume's use).
func (d *Driver) volumeSeries(ctx context.Context, op string, q provider.Query, name string) (provider.Series, error) {
	if q.Metric != provider.MetricDiskRead && q.Metric != provider.MetricDiskWrite {
		// Before any call, as a workload's unknown metric is.
		return provider.Series{}, fmt.Errorf("kubernetes: %s %q: %w: metric %s (of a PersistentVolume the driver reads %s and %s, and only while no claim holds it)",
			op, q.ResourceID, provider.ErrUnsupported, q.Metric, provider.MetricDiskRead, provider.MetricDiskWrite)
	}
	v, err := d.getVolume(ctx, op, q.ResourceID, name)
	if err != nil {
		return provider.Series{}, err
	}
	return d.quietSeries(op, q, v)
}

// quietSeries answers the disk_read or disk_write query q of the volume v
// as volumeSeries does.
func (d *Driver) quietSeries(op string, q provider.Query, v volume) (provider.Series, error) {
	if v.quiet.IsZero() {
		return provider.Series{}, fmt.Errorf("kubernetes: %s %q: %w: the driver knows a PersistentVolume has no I/O only while no claim can use it, and of this one it does not: %s",
			op, q.ResourceID, provider.ErrUnsupported, v.why)
	}
	now := d.clock.Now()
	s := provider.Series{ResourceID: q.ResourceID, Metric: q.Metric, Start: q.Start, Step: q.Step, Values: make([]float64, q.Steps())}
	for i := range s.Values {
		at := s.TimeAt(i)
		if at.Before(v.quiet) || at.Add(s.Step).After(now) {
			s.Values[i] = provider.Gap
		}
	}
	return s, nil
}

// Activity implements provider.ActivitySource for PersistentVolumes: a
// volume known quiet (see volumeSeries) had no file access from then on,
// a count of 0 of provider.ActivityFiles whose Since is when it became
// quiet, when that is after q.Start (at most q.End). A volume not known
// quiet is provider.ErrUnsupported, and so is the ID of a workload or a
// pod, without a read: the driver counts no other activity, and a
// detector Scan, which asks its Metrics for activity when it is an
// ActivitySource, must not pay an API call a workload for nothing (so
// such an ID is unsupported whether or not its object exists; Get says).
// An ID of no form the driver knows, of a namespace outside
// Config.Namespaces, or of a volume with Config.PersistentVolumes.List
// off or that it does not select, is provider.ErrNotFound; an invalid
// query provider.ErrInvalid.
func (d *Driver) Activity(ctx context.Context, q provider.ActivityQuery) (_ []provider.ActivityCount, err error) {
	defer d.red.Errorp(&err)
	const op = "activity"
	if err := ctxErr(ctx, op, q.ResourceID); err != nil {
		return nil, err
	}
	if err := q.Validate(); err != nil {
		return nil, fmt.Errorf("kubernetes: %s: %w", op, err)
	}
	name, isVolume, err := d.volumeRef(op, q.ResourceID)
	if err != nil {
		return nil, err
	}
	if !isVolume {
		if _, err := d.resolve(ctx, op, q.ResourceID); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("kubernetes: %s %q: %w: the driver counts the activity of PersistentVolumes only", op, q.ResourceID, provider.ErrUnsupported)
	}
	v, err := d.getVolume(ctx, op, q.ResourceID, name)
	if err != nil {
		return nil, err
	}
	return quietActivity(op, q, v)
}

// quietActivity answers the activity query q of the volume v as Activity
// does.
func quietActivity(op string, q provider.ActivityQuery, v volume) ([]provider.ActivityCount, error) {
	if v.quiet.IsZero() {
		return nil, fmt.Errorf("kubernetes: %s %q: %w: %s", op, q.ResourceID, provider.ErrUnsupported, v.why)
	}
	c := provider.ActivityCount{Kind: provider.ActivityFiles}
	if v.quiet.After(q.Start) {
		c.Since = minTime(v.quiet, q.End)
	}
	return []provider.ActivityCount{c}, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

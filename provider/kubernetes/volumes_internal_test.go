package kubernetes

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/idlescale/idlescale/provider"
)

func TestNested(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want bool
	}{
		{"/exports", "/exports", true},
		{"/exports", "/exports/a", true},
		{"/exports/a/", "/exports", true},
		{"exports/a", "/exports", true},
		{"/", "/data", true},
		{"/exports", "/exportsb", false},
		{"/exports/a", "/exports/b", false},
		{"/exports/a/../b", "/exports/b/c", true},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, nested(tt.a, tt.b), "%q %q", tt.a, tt.b)
		assert.Equal(t, tt.want, nested(tt.b, tt.a), "%q %q", tt.b, tt.a)
	}
}

func TestSharedStorage(t *testing.T) {
	t.Parallel()
	pv := func(s corev1.PersistentVolumeSource) *corev1.PersistentVolume {
		return &corev1.PersistentVolume{Spec: corev1.PersistentVolumeSpec{PersistentVolumeSource: s}}
	}
	csi := func(driver, handle string) *corev1.PersistentVolume {
		return pv(corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: driver, VolumeHandle: handle}})
	}
	nfs := func(server, path string) *corev1.PersistentVolume {
		return pv(corev1.PersistentVolumeSource{NFS: &corev1.NFSVolumeSource{Server: server, Path: path}})
	}
	ebs := func(id string) *corev1.PersistentVolume {
		return pv(corev1.PersistentVolumeSource{AWSElasticBlockStore: &corev1.AWSElasticBlockStoreVolumeSource{VolumeID: id}})
	}
	azure := func(uri string) *corev1.PersistentVolume {
		return pv(corev1.PersistentVolumeSource{AzureDisk: &corev1.AzureDiskVolumeSource{DataDiskURI: uri}})
	}
	host := func(path string) *corev1.PersistentVolume {
		return pv(corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: path}})
	}
	tests := []struct {
		name string
		a, b *corev1.PersistentVolume
		want bool
	}{
		{"same CSI handle", csi("ebs.csi.aws.com", "vol-1"), csi("ebs.csi.aws.com", "vol-1"), true},
		{"another handle", csi("ebs.csi.aws.com", "vol-1"), csi("ebs.csi.aws.com", "vol-2"), false},
		{"same handle of another driver", csi("ebs.csi.aws.com", "vol-1"), csi("other.csi", "vol-1"), false},
		{"same EBS volume", ebs("vol-1"), ebs("vol-1"), true},
		{"another EBS volume", ebs("vol-1"), ebs("vol-2"), false},
		{"Azure URIs differ in case only", azure("https://A/b.vhd"), azure("https://a/B.vhd"), true},
		{"NFS path within", nfs("nfs", "/exports"), nfs("nfs", "/exports/a"), true},
		{"NFS path beside", nfs("nfs", "/exports"), nfs("nfs", "/exportsb"), false},
		{"NFS other server", nfs("nfs", "/exports"), nfs("nfs2", "/exports"), false},
		{"host path within", host("/data"), host("/data/x"), true},
		{"CSI and NFS", csi("nfs.csi.k8s.io", "nfs#/exports"), nfs("nfs", "/exports"), false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, sharedStorage(tt.a, tt.b), tt.name)
		assert.Equal(t, tt.want, sharedStorage(tt.b, tt.a), tt.name+", reversed")
	}
}

func TestVolumeState(t *testing.T) {
	t.Parallel()
	claim := &corev1.ObjectReference{Namespace: "shop", Name: "data"}
	deleting := metav1.Now()
	tests := []struct {
		name     string
		phase    corev1.PersistentVolumePhase
		claim    *corev1.ObjectReference
		deleting bool
		want     provider.State
	}{
		{"pending", corev1.VolumePending, nil, false, provider.StatePending},
		{"available", corev1.VolumeAvailable, nil, false, provider.StateStopped},
		{"available, reserved", corev1.VolumeAvailable, claim, false, provider.StateRunning},
		{"bound", corev1.VolumeBound, claim, false, provider.StateRunning},
		{"released", corev1.VolumeReleased, claim, false, provider.StateStopped},
		{"failed", corev1.VolumeFailed, claim, false, provider.StateRunning},
		{"no phase", "", nil, false, provider.StateRunning},
		{"unknown phase", "Resizing", nil, false, provider.StateRunning},
		{"released, deleting", corev1.VolumeReleased, claim, true, provider.StateStopping},
	}
	for _, tt := range tests {
		pv := &corev1.PersistentVolume{Spec: corev1.PersistentVolumeSpec{ClaimRef: tt.claim}, Status: corev1.PersistentVolumeStatus{Phase: tt.phase}}
		if tt.deleting {
			pv.DeletionTimestamp = &deleting
		}
		assert.Equal(t, tt.want, volumeState(pv), tt.name)
	}
}

// TestJudgeVolumes: a stopped disk is quiet from its last phase change,
// and every other volume says why not.
func TestJudgeVolumes(t *testing.T) {
	t.Parallel()
	since := metav1.NewTime(metav1.Now().Add(-1000).UTC().Truncate(1e9))
	disk := func(name, handle string, phase corev1.PersistentVolumePhase, modes ...corev1.PersistentVolumeAccessMode) corev1.PersistentVolume {
		if modes == nil {
			modes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOncePod}
		}
		return corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.PersistentVolumeSpec{AccessModes: modes, PersistentVolumeSource: corev1.PersistentVolumeSource{
				CSI: &corev1.CSIPersistentVolumeSource{Driver: "pd.csi.storage.gke.io", VolumeHandle: handle}}},
			Status: corev1.PersistentVolumeStatus{Phase: phase, LastPhaseTransitionTime: &since},
		}
	}
	noTime := disk("no-time", "h-2", corev1.VolumeAvailable)
	noTime.Status.LastPhaseTransitionTime = nil
	local := disk("local", "", corev1.VolumeReleased)
	local.Spec.CSI, local.Spec.Local = nil, &corev1.LocalVolumeSource{Path: "/mnt/disks/ssd1"}
	vs := judgeVolumes([]corev1.PersistentVolume{
		disk("quiet", "h-1", corev1.VolumeReleased),
		noTime,
		disk("rox", "h-3", corev1.VolumeReleased, corev1.ReadWriteOnce, corev1.ReadOnlyMany),
		local,
		disk("twin-a", "h-4", corev1.VolumeReleased),
		disk("twin-b", "h-4", corev1.VolumeAvailable),
		disk("bound", "h-5", corev1.VolumeBound),
		disk("released-of-bound", "h-5", corev1.VolumeReleased),
		disk("claimed", "h-6", corev1.VolumeReleased),
	}, nil, map[string]string{"claimed": "PersistentVolumeClaim shop/data-new", "bound": "PersistentVolumeClaim shop/data"}, nil)
	want := map[string]struct {
		state provider.State
		why   string
	}{
		"quiet":             {provider.StateStopped, ""},
		"no-time":           {provider.StateStopped, "did not say when it entered phase Available"},
		"rox":               {provider.StateStopped, "access modes let many pods mount it"},
		"local":             {provider.StateStopped, "not a disk"},
		"twin-a":            {provider.StateStopped, "its storage is also PersistentVolume twin-b's"},
		"twin-b":            {provider.StateStopped, "its storage is also PersistentVolume twin-a's"},
		"bound":             {provider.StateRunning, "it is running (phase Bound)"},
		"released-of-bound": {provider.StateRunning, "it is running (phase Released)"},
		"claimed":           {provider.StateRunning, "PersistentVolumeClaim shop/data-new names it (spec.volumeName)"},
	}
	require.Len(t, vs, len(want), "one judgement per volume")
	for _, v := range vs {
		w, ok := want[v.pv.Name]
		require.True(t, ok, v.pv.Name)
		assert.Equal(t, w.state, v.state, v.pv.Name)
		if w.why == "" {
			assert.Equal(t, since.Time, v.quiet, v.pv.Name)
			assert.Empty(t, v.why, v.pv.Name)
			continue
		}
		assert.True(t, v.quiet.IsZero(), v.pv.Name)
		assert.Contains(t, v.why, w.why, v.pv.Name)
	}
}

// TestSharedStorageAcrossForms: one cloud disk named by an in-tree
// PersistentVolume and by one of its CSI driver (the CSI migration's
// drivers take the in-tree volumes' IDs as handles), or by two forms of
// one ID, is the same storage: a released volume of it is not quiet
// while the other is bound.
func TestSharedStorageAcrossForms(t *testing.T) {
	t.Parallel()
	pv := func(s corev1.PersistentVolumeSource) *corev1.PersistentVolume {
		return &corev1.PersistentVolume{Spec: corev1.PersistentVolumeSpec{PersistentVolumeSource: s}}
	}
	csi := func(driver, handle string) *corev1.PersistentVolume {
		return pv(corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: driver, VolumeHandle: handle}})
	}
	ebs := func(id string) *corev1.PersistentVolume {
		return pv(corev1.PersistentVolumeSource{AWSElasticBlockStore: &corev1.AWSElasticBlockStoreVolumeSource{VolumeID: id}})
	}
	gce := func(name string) *corev1.PersistentVolume {
		return pv(corev1.PersistentVolumeSource{GCEPersistentDisk: &corev1.GCEPersistentDiskVolumeSource{PDName: name}})
	}
	azure := func(uri string) *corev1.PersistentVolume {
		return pv(corev1.PersistentVolumeSource{AzureDisk: &corev1.AzureDiskVolumeSource{DataDiskURI: uri}})
	}
	cinder := func(id string) *corev1.PersistentVolume {
		return pv(corev1.PersistentVolumeSource{Cinder: &corev1.CinderPersistentVolumeSource{VolumeID: id}})
	}
	vsphere := func(path string) *corev1.PersistentVolume {
		return pv(corev1.PersistentVolumeSource{VsphereVolume: &corev1.VsphereVirtualDiskVolumeSource{VolumePath: path}})
	}
	tests := []struct {
		name string
		a, b *corev1.PersistentVolume
		want bool
	}{
		{"EBS in-tree and CSI", ebs("vol-0a1b"), csi("ebs.csi.aws.com", "vol-0a1b"), true},
		{"EBS URL with a zone and CSI", ebs("aws://us-east-1a/vol-0a1b"), csi("ebs.csi.aws.com", "vol-0a1b"), true},
		{"EBS URL without a zone and bare ID", ebs("aws:///vol-0a1b"), ebs("vol-0a1b"), true},
		{"EBS URL and another volume", ebs("aws://us-east-1a/vol-0a1b"), csi("ebs.csi.aws.com", "vol-0a1c"), false},
		{"GCE PD in-tree and CSI", gce("data-1"), csi("pd.csi.storage.gke.io", "projects/UNSPECIFIED/zones/UNSPECIFIED/disks/data-1"), true},
		{"GCE PD CSI handles of one disk", csi("pd.csi.storage.gke.io", "projects/p/zones/us-central1-a/disks/data-1"), csi("pd.csi.storage.gke.io", "projects/UNSPECIFIED/zones/UNSPECIFIED/disks/data-1"), true},
		{"GCE PD in-tree and another CSI disk", gce("data-1"), csi("pd.csi.storage.gke.io", "projects/p/zones/z/disks/data-2"), false},
		{"Azure disk in-tree and CSI", azure("/subscriptions/S/resourceGroups/G/providers/Microsoft.Compute/disks/d1"), csi("disk.csi.azure.com", "/subscriptions/s/resourcegroups/g/providers/microsoft.compute/disks/D1"), true},
		{"Cinder in-tree and CSI", cinder("7c5f"), csi("cinder.csi.openstack.org", "7c5f"), true},
		{"vSphere in-tree and CSI", vsphere("[ds1] kubevols/d1.vmdk"), csi("csi.vsphere.vmware.com", "[ds1] kubevols/d1.vmdk"), true},
		{"EBS in-tree and another driver's handle", ebs("vol-0a1b"), csi("other.csi", "vol-0a1b"), false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, sharedStorage(tt.a, tt.b), tt.name)
		assert.Equal(t, tt.want, sharedStorage(tt.b, tt.a), tt.name+", reversed")
		if tt.want {
			assert.Equal(t, storageBucket(tt.a), storageBucket(tt.b), tt.name+": one bucket")
		}
	}

	since := metav1.Now()
	released := *ebs("aws://us-east-1a/vol-0a1b")
	released.Name, released.Spec.AccessModes = "old", []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
	released.Status = corev1.PersistentVolumeStatus{Phase: corev1.VolumeReleased, LastPhaseTransitionTime: &since}
	bound := *csi("ebs.csi.aws.com", "vol-0a1b")
	bound.Name, bound.Spec.AccessModes = "new", []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
	bound.Status = corev1.PersistentVolumeStatus{Phase: corev1.VolumeBound, LastPhaseTransitionTime: &since}
	vs := judgeVolumes([]corev1.PersistentVolume{released, bound}, nil, nil, nil)
	assert.Equal(t, provider.StateRunning, vs[0].state, "the released in-tree volume's disk is bound through the CSI one")
	assert.True(t, vs[0].quiet.IsZero(), "and it is not quiet")
}

// TestCSIFileSystemIsNotQuiet: a released CSI volume of a file system
// (EFS, Azure Files, Filestore, an NFS or SMB share, a bucket), even one
// made ReadWriteOnce as the EFS driver's static provisioning example
// does, is no disk: its file system may be mounted by other volumes
// (fs-ID:/path, an access point) or by clients outside the cluster, so
// no I/O through this volume says nothing of its storage. So is a volume
// of a CSI driver the driver does not know serves disks only.
func TestCSIFileSystemIsNotQuiet(t *testing.T) {
	t.Parallel()
	since := metav1.Now()
	released := func(driver, handle string) corev1.PersistentVolume {
		return corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{Name: driver},
			Spec: corev1.PersistentVolumeSpec{
				AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				ClaimRef:               &corev1.ObjectReference{Namespace: "shop", Name: "data"},
				PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: driver, VolumeHandle: handle}},
			},
			Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeReleased, LastPhaseTransitionTime: &since},
		}
	}
	vs := judgeVolumes([]corev1.PersistentVolume{
		released("efs.csi.aws.com", "fs-0123"),
		released("file.csi.azure.com", "rg#account#share"),
		released("filestore.csi.storage.gke.io", "modeInstance/us-central1-a/fs/vol1"),
		released("nfs.csi.k8s.io", "nfs.local#/exports#sub"),
		released("smb.csi.k8s.io", "smb.local/share#sub"),
		released("s3.csi.aws.com", "bucket"),
		released("example.com/unknown", "v-1"),
	}, nil, nil, nil)
	require.Len(t, vs, 7)
	for _, v := range vs {
		assert.Equal(t, provider.StateStopped, v.state, v.pv.Name)
		assert.True(t, v.quiet.IsZero(), "%s: a file system's volume is never known quiet", v.pv.Name)
		assert.Contains(t, v.why, "not a disk", v.pv.Name)
	}

	disks := judgeVolumes([]corev1.PersistentVolume{
		released("ebs.csi.aws.com", "vol-1"),
		released("pd.csi.storage.gke.io", "projects/p/zones/z/disks/d"),
		released("disk.csi.azure.com", "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/disks/d"),
		released("cinder.csi.openstack.org", "c-1"),
		released("csi.vsphere.vmware.com", "0b0c5c5e-1111-2222-3333-444455556666"),
	}, nil, nil, nil)
	require.Len(t, disks, 5)
	for _, v := range disks {
		assert.WithinDuration(t, since.Time, v.quiet, 0, "%s: a disk", v.pv.Name)
	}
	vsanFile := judgeVolumes([]corev1.PersistentVolume{released("csi.vsphere.vmware.com", "file:0b0c5c5e-1111-2222-3333-444455556666")}, nil, nil, nil)
	require.Len(t, vsanFile, 1)
	assert.True(t, vsanFile[0].quiet.IsZero(), "a vSphere file volume is a share")
}

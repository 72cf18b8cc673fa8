// Package kubernetes is the Kubernetes driver of idlescale: Deployments and
// StatefulSets and their pods, read and scaled through client-go
// (k8s.io/client-go, k8s.io/metrics), so that a host can run the scaling
// engine, the predictive strategy and the idle reaper on its workloads,
// including what a HorizontalPodAutoscaler cannot do: scale an idle
// workload to zero outside its busy hours, with the safety gate in front,
// and back up when demand returns.
//
// A Driver implements provider.Inventory, Scaler, MetricsSource, Resizer
// and ActivitySource (of PersistentVolumes), and passes the providertest conformance suite against a real
// kube-apiserver; Driver.Workloads is its provider.Actuator:
//
//	rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig) // or rest.InClusterConfig()
//	d, err := kubernetes.NewForConfig(kubernetes.Config{
//		Namespaces:    []string{"shop"},
//		LabelSelector: "idlescale.io/managed=true",
//	}, rc)
//	groups, err := d.List(ctx, provider.Filter{Kinds: []provider.Kind{provider.KindGroup}})
//	c, err := d.Capacity(ctx, "shop/deployment/web")
//	err = d.SetCapacity(ctx, "shop/deployment/web", provider.CapacitySpec{Min: 1, Max: 10, Desired: 4})
//	err = d.Workloads().Stop(ctx, "shop/deployment/web") // to zero, remembering 4
//
// # Resource IDs
//
// A resource ID is NAMESPACE/KIND/NAME with KIND deployment, statefulset
// (kind group) or pod (kind instance): "shop/deployment/web",
// "shop/pod/web-5d9c7b6f4-x2k4q" (Ref and ParseRef); a PersistentVolume's,
// listed with Config.PersistentVolumes.List (see "PersistentVolumes"), is
// persistentvolume/NAME. List returns the
// Deployments and StatefulSets of Config.Namespaces (default: all) that
// Config.LabelSelector selects, and their pods: the pods a workload's own
// selector matches, each listed under the first such workload by ID. Any ID
// not of that form, of a namespace or workload the configuration leaves
// out, or of a pod no such workload owns, is provider.ErrNotFound.
//
// # Labels, annotations and states
//
// Tags are the object's labels and its annotations that start with
// "idlescale.io/" (AnnotationPrefix), so that strategies and filters see
// them. The annotation convention fills the rest, each key read from the
// annotations and then from the labels (but stopped-replicas, the
// driver's own memory, from the annotations alone); a pod inherits what
// its workload says unless it says otherwise:
//
//	idlescale.io/environment     Resource.Environment ("production")
//	idlescale.io/role            Resource.Role ("web")
//	idlescale.io/criticality     Resource.Criticality: low, medium, high, critical (other values: unknown)
//	idlescale.io/owner           Resource.Owner ("team-shop")
//	idlescale.io/protected       Resource.Protected, unless "false", "no", "0" or "off"
//	idlescale.io/time-zone       Resource.TimeZone, an IANA name ("Europe/Berlin")
//	idlescale.io/min-replicas    the workload's replica bounds (written by SetCapacity): 0 to 2147483647
//	idlescale.io/max-replicas    (other values, or a max below the min: the workload is Protected, its Capacity and writes provider.ErrInvalid)
//	idlescale.io/stopped-replicas  the replicas Stop remembered (removed by Start)
//
// For example:
//
//	metadata:
//	  annotations:
//	    idlescale.io/environment: staging
//	    idlescale.io/criticality: low
//	    idlescale.io/owner: team-shop
//	    idlescale.io/min-replicas: "1"
//	    idlescale.io/max-replicas: "12"
//
// Environment, role and owner are normalised where they enter
// (provider.Resource.NormalizeLabels: " production" and "production\u00a0"
// are "production"), and criticality is matched in provider.LabelKey form
// (" High " is high), so that the safety gate's critical rule sees what a
// person meant; Tags keep the values as written.
//
// A workload is stopped at zero replicas with none left, stopping at zero
// with some left (a Deployment's pods still shutting down, its
// status.terminatingReplicas, included), terminated while being deleted,
// pending while none of its replicas is ready, and running otherwise. A status its controller
// wrote before it saw the workload's latest change (status.observedGeneration
// below metadata.generation) counts no replica ready: the workload is
// pending and its Capacity (Desired above 0) not settled until the
// controller catches up, and at zero replicas it is stopping, not
// stopped, so that a wake or a stop is not verified on the pods of an
// older spec.
// A pod is pending (Pending, Unknown), running, terminated (Succeeded,
// Failed) or, while being deleted, stopping. Size is the requests of a pod (counted as for
// utilization, below: sidecars included), or of a workload's
// pod template (VCPU in cores, MemoryMiB), and HourlyCost prices them with
// Config.CPUHourlyPrice and MemoryHourlyPrice (times the replicas for a
// workload).
//
// # Scaling
//
// SetCapacity writes replicas through the workload's scale subresource
// (deployments/scale, statefulsets/scale), as the HorizontalPodAutoscaler
// does, or, when the bound annotations change too, with them in one merge
// patch of the workload (so that neither is written without the other);
// Capacity reads the workload itself, for its readiness and bounds
// with its replicas. A Deployment has only replicas, so Min and Max come from the host's
// policy (Config.Workloads, which wins), else the bound annotations, else
// Config.Bounds (default 1 to 10); a bound annotation that is not a whole
// number from 0 to 2147483647 is never replaced by a default: Capacity,
// SetCapacity, Stop and Start fail on that workload with
// provider.ErrInvalid naming it, the annotation and its value, and write
// nothing (but a Start of a stopped workload that remembers its
// replicas, which needs no bound: a typo must not keep it down), while List, Get and GetResources list it Protected (as an
// unreadable criticality or time zone), so that one workload's typo does
// not fail the namespace's inventory; Capacity widens them to include
// the replicas (a stopped workload reports Min 0), and SetCapacity stores
// what it is given, so that Capacity then reports exactly that, except
// the Min of 0 of a stopped workload's reported bounds passed back: the
// workload keeps its floor through a stop and a wake (the scaling engine
// takes the floor it finds for the 0 it wrote), and such bounds do not
// take a workload running above its floor below it (provider.ErrInvalid,
// nothing written); nor are the bounds of a workload someone scaled
// outside them (kubectl scale), widened to its replicas, stored when
// passed back: its owner's min-replicas and max-replicas outlive the
// kubectl scale. Every
// write is conditional on
// the resourceVersion the driver read: a write that loses the race is
// retried on the re-read object only while the replicas it was based on
// are unchanged (someone relabelled the object, a controller updated its
// status); when another writer changed the replicas, or deleted the
// workload and created another of its name, the call fails with
// provider.ErrConflict and writes nothing, so a decision made on stale
// replicas, or on another object, is never applied.
//
// # Stop and start
//
// Workloads (the Actuator) stops a workload by scaling it to zero while
// remembering its replicas in idlescale.io/stopped-replicas (one merge
// patch of the workload, conditional on the resourceVersion read), and
// starts it by restoring them (or its minimum, at least 1, when nothing is
// remembered; an annotation that is not such a count is
// provider.ErrInvalid, and Start changes nothing), up to its own maximum
// bound (annotated, or its Config.Workloads entry's), which may have been
// lowered while it was stopped (a maximum of 0
// is provider.ErrInvalid: nothing is started). A StatefulSet whose
// persistentVolumeClaimRetentionPolicy is whenScaled: Delete (with claim
// templates) is not stopped, nor scaled to zero by SetCapacity
// (provider.ErrUnsupported): at zero replicas its controller would delete
// every claim of its pods, and a stop keeps the storage. Terminate is deliberately unsupported: deleting a workload
// is for its owners. The Driver itself is not an Actuator, because its
// instances are pods, which Kubernetes cannot stop.
//
// # Scaling alongside a HorizontalPodAutoscaler
//
// A workload that a HorizontalPodAutoscaler scales has one writer of its
// replicas already: a change the driver made would be undone at the HPA's
// next sync (every 15 s), and the HPA's by the driver's caller at its next
// pass. So before it writes replicas, SetCapacity, Stop and Start list the
// namespace's HPAs (autoscaling/v2) and look for one whose scaleTargetRef
// names the workload (kind Deployment or StatefulSet and its name; an API
// group of apps, extensions, none, or an apiVersion that does not parse
// counts as the workload's, so that only an HPA of another group's object
// is passed over). With one, a change is made
// only where the HPA is off, as its controller is: at zero replicas an HPA
// whose minReplicas is not 0 does nothing ("scaling is disabled since the
// replica count of the target is zero", ScalingDisabled), and resumes when
// the workload is scaled up again. So
//
//   - Stop, Start and SetCapacity to or from zero are allowed: the idle
//     workload is stopped outside its hours and given back to the HPA;
//   - any other replica change is refused, before anything is written,
//     with a *HPAConflictError naming the HPA and its bounds (it matches
//     ErrHPAScales and provider.ErrConflict, so the scaling engine and
//     the reaper take it as "nothing changed");
//   - every replica change is refused when an HPA's minReplicas is 0
//     (HPAScaleToZero, beta and on by default in Kubernetes 1.37): that HPA
//     scales the workload at zero too, from its object or external metric.
//
// New bounds without a replica change are written: they do not move the
// workload. An HPA created between the check and the write is not seen;
// its controller and the driver then take turns until one of them stops.
// A host that knows no HPA targets its workloads, or that may not list
// them, sets Config.IgnoreHPAs; without it, a list the API server refuses
// is a *ForbiddenError and nothing is written.
//
// The inventory says which workloads have an HPA: List, Get and
// GetResources set provider.Resource.ScaledBy of a workload an HPA
// targets (matched as above) to "HorizontalPodAutoscaler NAMESPACE/NAME",
// the first by name, from one list of the namespace's HPAs (none for a
// List that lists no workload of the namespace, such as one of pods
// alone, or with Config.IgnoreHPAs). The scaling Autoscaler
// then plans no replica change for it, in a dry run too, not even to or
// from zero, which the driver allows: taking such a workload to zero
// outside its hours and back is the reaper's (Workloads.Stop and Start),
// which ask the driver, while the Autoscaler's policy would keep
// deciding its replicas against the HPA's. A refused list fails the read
// with a *ForbiddenError, so that no workload reads as having no HPA when
// that is unknown.
//
// # Metrics
//
// QueryMetric reads cpu and memory (utilization of the requests, as the
// HPA computes it: Σ usage / Σ requests over a workload's live pods with
// data, a pod's request being its pod-level request when it sets one, else
// the sum over its containers and native sidecars, restartable init
// containers; one of those without a request is ErrMissingRequest) and MetricCPUUsage and MetricMemoryUsage (cores and bytes). By
// default the samples come from the resource metrics API
// (metrics.k8s.io/v1beta1, served by metrics-server), which knows only each
// pod's latest sample: enough for the scaling engine, not for the idle
// detector's history. For history, read cAdvisor's metrics from Prometheus
// with WithUsageSource(NewPrometheusUsage(...)), which queries, per pod:
//
//	sum(rate(container_cpu_usage_seconds_total{namespace="NS",container!="",container!="POD",pod="POD"}[5m]))
//	sum(container_memory_working_set_bytes{namespace="NS",container!="",container!="POD",pod="POD"})
//
// through the prometheus package's Source (PrometheusConfig), and
// aggregates per workload as above.
//
// # The HPA's inputs
//
// HPAInput reads a workload as a HorizontalPodAutoscaler does, in the
// shape the scaling/hpa calculator takes (hpa.Input): spec and status
// replicas, every pod its selector matches with its phase, deletion, Ready
// condition and last transition, start time and requests, and the
// per-pod samples of the resource metrics API with their timestamp and
// window. The Driver is the scaling.PodSource of the scaling engine's HPA
// strategy (ObservePods), so an Autoscaler over it computes exactly the
// replica count the HPA controller would:
//
//	engine, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: d, Inventory: d}, gate)
//	as, err := scaling.NewAutoscaler(policy, engine, scaling.Fleet{Inventory: d, Metrics: d, Pods: d})
//
// # Batch reads
//
// The Autoscaler reads its targets a batch at a time, and the Driver
// answers a batch from lists: GetResources and GetCapacities
// (provider.ResourceBatcher, provider.CapacityBatcher) from one list of a
// namespace's Deployments and one of its StatefulSets (and GetResources
// one of its HPAs, for ScaledBy; and its PersistentVolumes from one list
// of them, one of the VolumeAttachments and one of the claims,
// TestPersistentVolumesReadInABatch; QueryMetrics and Activities,
// provider.MetricsBatcher and provider.ActivityBatcher, answer their
// counts and activity from those three lists too and read the rest one
// by one, eight at once or as many as provider.WithBatchConcurrency sets:
// a detector Scan sets its Concurrency, and so many a usage source's
// per-pod queries of the whole batch), ObservePodsBatch (scaling.PodBatcher)
// from those, one list of its pods and one of its pod metrics, matching
// each workload's selector as the API server would. One by one, a target
// costs six requests a pass (Get, a GET and a LIST of the namespace's
// HPAs; Capacity; and a GET and two LISTs to observe its pods), which
// client-go's default rate limit of 5 a second spreads over more than a
// second; a batch costs at most nine a namespace (two lists for each of
// the three methods, the HPAs, and the pods and their metrics). Every answer is the single call's (TestBatchReadsEqualSingleReads
// compares them on a real API server); what a list cannot answer exactly —
// a pod's ID, an object the list does not have, a list the user may not
// make, pod metrics without their pods' labels (metrics-server before
// v0.5.0) — is read with the single call. The one exception: a user who may
// list Deployments and StatefulSets but not get them (the RBAC below grants
// both) reads them in a batch and is refused one by one.
//
// Every batch lists the namespace's pods and pod metrics whole: far fewer
// requests than one per target, but more data on a namespace of thousands
// of pods. An Autoscaler's default batches are small (a quarter of the
// targets per worker), made for providers that read cheaply; over this
// driver set scaling.Config.BatchSize (256, say) so that a pass makes a few
// batches, and so a few requests per namespace, rather than many.
//
// # PersistentVolumes
//
// Storage that no claim uses is the cluster's counterpart of an unattached
// EBS volume: it serves nothing and is billed every month. With
// Config.PersistentVolumes.List on, the driver lists the cluster's
// PersistentVolumes that its LabelSelector selects (and, with
// Config.Namespaces set, those whose claim, bound or released, is in one
// of them) as resources of kind volume, ID persistentvolume/NAME (a
// PersistentVolume has no namespace):
//
//	d, err := kubernetes.NewForConfig(kubernetes.Config{
//		PersistentVolumes: kubernetes.PersistentVolumeConfig{
//			List:          true,
//			MonthlyPrices: map[string]float64{"gp3": 0.08}, // per GiB-month, by storage class
//		},
//	}, rc)
//	rep, err := detector.Scan(ctx, detector.Fleet{Inventory: d, Metrics: d}, ens, detector.ScanConfig{
//		Now: now, Filter: provider.Filter{Kinds: []provider.Kind{provider.KindVolume}},
//		ActivityWindow: ens.TerminateWindow(),
//	})
//
// A volume is pending while Pending, running while Bound, stopping while
// being deleted, and stopped while Released (its claim was deleted and
// the storage kept) or Available without a claim reserving it. Available
// but reserved for a claim (spec.claimRef set), Failed (its reclamation
// failed) and any phase the driver does not know are running, so that
// one in doubt is recommended less, and so is a stopped volume that a
// PersistentVolumeClaim names (spec.volumeName: its owner means it for
// that claim, as when reusing a retained disk), one that a
// VolumeAttachment attaches to a node, by its name or by its disk (a pod
// force-deleted from a node that still runs it, or one that mounts the
// disk inline, without a claim), or whose storage another volume in use
// names (the same CSI driver and volume handle, the same in-tree cloud
// disk, an in-tree cloud disk and the handle its CSI driver gives it,
// whatever form the disk's ID takes, the same NFS server with one path
// within the other's, the same node path). HourlyCost is the capacity
// in GiB times Config.PersistentVolumes.MonthlyPrices of its storage
// class, divided by 730.5 hours; LaunchTime is its creation. Tags and
// the annotation convention are read as for workloads. List reads them
// with three requests (a LIST of them, one of the VolumeAttachments and
// one of the PersistentVolumeClaims); Get, QueryMetric and Activity of a
// volume with one GET, and those three LISTs more for a stopped one (to
// see whether another shares its storage, a claim names it or a node has
// it attached). The batch reads (GetResources, and QueryMetrics and
// Activities, which a detector Scan makes, 125 resources a call) answer
// every volume of a batch from those three LISTs, made once a batch: a
// Scan of the cluster's volumes makes three requests to list them and six
// for each 125 it reads, where one read at a time made twelve for each
// stopped volume (TestPersistentVolumeFoundIdleByTheDetector).
//
// Kubernetes measures no I/O of a volume, but it knows when none can have
// happened through it: no pod mounts a PersistentVolume but through a
// claim bound to it (a pod that mounts its disk inline is seen only while
// a node has the disk attached, above). So QueryMetric reads the disk_read and disk_write of
// a stopped volume as 0 in every step that begins at or after its last
// phase change (status.lastPhaseTransitionTime, Kubernetes 1.28 and later)
// and has ended by now (WithClock), whatever the statistic, and as gaps
// before and after; and the Driver's Activity (provider.ActivitySource,
// which a detector Scan uses through its Metrics) counts no file access
// since then. That holds only of a disk that one claim at a time may
// write: an in-tree cloud disk or a volume of the CSI drivers the CSI
// migration gives them to (ebs.csi.aws.com, pd.csi.storage.gke.io,
// disk.csi.azure.com, cinder.csi.openstack.org, and
// csi.vsphere.vmware.com but for its file volumes), with access modes
// ReadWriteOnce or ReadWriteOncePod, that no other PersistentVolume
// names. A file share (NFS, a volume of any other CSI driver, which may
// be a file system whatever its access modes say, any volume many pods
// may mount) and a node's directory (hostPath, local) can be used without a
// claim, by pods that mount them directly or by clients outside the
// cluster; their reads, and those of a volume a claim holds or may hold,
// are provider.ErrUnsupported with the reason, and the detector
// recommends nothing for them. The detector's default ensemble
// recommends terminating a stopped volume once its counts and activity
// have been quiet over EvidenceConfig.TerminateWindow (TestPersistentVolumeFoundIdleByTheDetector).
//
// The driver never changes a PersistentVolume: Capacity, SetCapacity,
// Resize and the Workloads' Stop, Start and Terminate of one are
// provider.ErrUnsupported, and the reaper does not act on it. Deleting
// the object frees nothing under the Retain reclaim policy (the storage
// stays), and freeing the storage is a decision about its data: the
// recommendation is a report for its owners.
//
// # Resizing
//
// Resize changes a pod's CPU and memory requests in place through the
// pods/resize subresource (Kubernetes 1.33 and later; the driver asks
// discovery until it answers, within the caller's context), sharing the
// total among the pod's containers and native sidecars and scaling limits
// alike so that the pod keeps its QoS class; a pod with pod-level requests
// (spec.resources) is provider.ErrUnsupported. Resizing a workload (its
// pod template, which replaces its pods) is provider.ErrUnsupported.
//
// # Errors
//
// Errors wrap the provider sentinels with client-go's error kept in the
// chain: NotFound is provider.ErrNotFound, Conflict provider.ErrConflict,
// TooManyRequests provider.ErrThrottled (as is client-go's own rate
// limit, rest.Config's QPS and Burst, when it refuses to wait past the
// caller's deadline: nothing was sent), Invalid and BadRequest
// provider.ErrInvalid, Forbidden a *ForbiddenError (ErrForbidden) naming
// the verb and resource the driver needed, Unauthorized ErrUnauthorized
// (both match provider.ErrDenied: nothing was changed), and an API server
// that is unreachable, unavailable or timing out ErrUnavailable. The
// caller's context bounds every call: a hung server returns
// context.DeadlineExceeded at the deadline.
//
// Credentials never reach an error or a log line: every error the driver
// returns and every line it logs are redacted (package internal/redact:
// passwords and tokens in URLs, authorization headers, bearer tokens, and,
// with NewForConfig, the rest.Config's own bearer token and password), as
// in every driver of this module.
//
// # RBAC
//
// The driver needs, in the namespaces it sees (a Role, or a ClusterRole for
// all of them):
//
//	rules:
//	- apiGroups: [apps]
//	  resources: [deployments, statefulsets]
//	  verbs: [get, list, patch]        # patch: annotations (with replicas when they change together), Stop
//	- apiGroups: [apps]
//	  resources: [deployments/scale, statefulsets/scale]
//	  verbs: [update]                  # Scaler, Workloads
//	- apiGroups: [""]
//	  resources: [pods]
//	  verbs: [get, list]
//	- apiGroups: [""]
//	  resources: [pods/resize]
//	  verbs: [update]                  # Resizer only
//	- apiGroups: [metrics.k8s.io]
//	  resources: [pods]
//	  verbs: [get, list]               # MetricsSource from the resource metrics API
//	- apiGroups: [autoscaling]
//	  resources: [horizontalpodautoscalers]
//	  verbs: [list]                    # the HPA check and ScaledBy (not with Config.IgnoreHPAs)
//
// and, with Config.PersistentVolumes.List, a ClusterRole (PersistentVolumes
// are cluster-scoped; the driver lists them all, since one's storage may
// be another's):
//
//	rules:
//	- apiGroups: [""]
//	  resources: [persistentvolumes]
//	  verbs: [get, list]
//	- apiGroups: [""]
//	  resources: [persistentvolumeclaims]
//	  verbs: [list]                    # a volume a claim names is meant for it
//	- apiGroups: [storage.k8s.io]
//	  resources: [volumeattachments]
//	  verbs: [list]                    # a disk a node has attached is in use
//
// A read-only dry run needs only get and list (the HPAs' list included:
// List and Get name the HPA that scales a workload).
//
// # Testing
//
// The package's tests run against a real kube-apiserver (v1.37.2, built
// from the Go module proxy by `make kube-apiserver` and cached in .bin/)
// on an embedded etcd, started by internal/kubetest, with RBAC on; no
// controllers or kubelets run, so the tests set pod status through the
// status subresource and play the Deployment controller with
// kubetest.MirrorReplicas. The metrics API is served by an in-test HTTPS
// server in its real JSON shape, and the Prometheus path is read from a
// real Prometheus scraping cAdvisor-shaped metrics.
package kubernetes

package kubernetes

import (
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strconv"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/idlescale/idlescale/provider"
)

// Name is the default provider name the driver reports.
const Name = "kubernetes"

// The annotation convention. The driver reads each key from the object's
// annotations and, when absent there, from its labels (so that a team can
// select on it with kubectl get -l), but AnnotationStoppedReplicas, which
// it writes itself, from the annotations alone; a pod that does not carry
// a key inherits it from its workload. See the package doc.
const (
	// AnnotationEnvironment fills Resource.Environment ("production").
	AnnotationEnvironment = "idlescale.io/environment"
	// AnnotationRole fills Resource.Role ("web", "worker").
	AnnotationRole = "idlescale.io/role"
	// AnnotationCriticality fills Resource.Criticality from low, medium,
	// high or critical; any other value leaves it unknown and makes the
	// resource Protected (the safety rules must not judge it as of no
	// criticality).
	AnnotationCriticality = "idlescale.io/criticality"
	// AnnotationOwner fills Resource.Owner (a team or a person).
	AnnotationOwner = "idlescale.io/owner"
	// AnnotationProtected sets Resource.Protected when present with any
	// value but "false", "no", "0" or "off".
	AnnotationProtected = "idlescale.io/protected"
	// AnnotationTimeZone fills Resource.TimeZone when it names an IANA time
	// zone ("Europe/Berlin"); any other non-empty value leaves it unset and
	// makes the resource Protected (business hours cannot be judged in it).
	AnnotationTimeZone = "idlescale.io/time-zone"
	// AnnotationMinReplicas and AnnotationMaxReplicas hold a workload's
	// replica bounds, a decimal integer from 0 to 2147483647; SetCapacity
	// writes them. Any other value is never replaced by a default: the
	// driver refuses to read or write the workload's replicas
	// (provider.ErrInvalid naming the workload, the annotation and the
	// value; only a Workloads.Start of a stopped workload that remembers
	// its replicas, which needs no bound, restores them) and lists it
	// Protected, until the annotation is fixed. So is a max-replicas
	// below the min-replicas beside it; one bound alone beside the other
	// from Config.Bounds keeps the floor (a min-replicas of 12 with the
	// default max 10 is [12, 12]).
	AnnotationMinReplicas = "idlescale.io/min-replicas"
	AnnotationMaxReplicas = "idlescale.io/max-replicas"
	// AnnotationStoppedReplicas holds the replicas a workload had when
	// Workloads.Stop scaled it to zero, a decimal integer from 1 to
	// 2147483647; Workloads.Start restores them and removes it, and
	// refuses any other value (provider.ErrInvalid) rather than guess.
	// It is the driver's own memory, read from the annotations alone.
	AnnotationStoppedReplicas = "idlescale.io/stopped-replicas"
)

// Bounds are the replica bounds of a workload: what a Deployment or
// StatefulSet does not have, and a Scaler must report.
type Bounds struct {
	// Min is the lowest replica count. Must be ≥ 0.
	Min int `json:"min" yaml:"min"`
	// Max is the highest replica count. Must be ≥ Min, ≥ 1 and ≤
	// 2147483647 (replicas are an int32).
	Max int `json:"max" yaml:"max"`
}

// The bounds of workloads that have neither a policy entry nor
// annotations, when Config.Bounds is zero: at least 1 replica (as a
// HorizontalPodAutoscaler's minReplicas) and at most 10.
const (
	DefaultMinReplicas = 1
	DefaultMaxReplicas = 10
)

// Validate returns a *provider.InvalidError unless 0 ≤ Min ≤ Max,
// Max ≥ 1 and Max ≤ 2147483647 (replicas are an int32).
func (b Bounds) Validate() error {
	switch {
	case b.Min < 0:
		return provider.Invalid("min", b.Min, "must be ≥ 0")
	case b.Max < 1:
		return provider.Invalid("max", b.Max, "must be ≥ 1")
	case b.Min > b.Max:
		return provider.Invalid("min", b.Min, "must be ≤ max "+strconv.Itoa(b.Max))
	case b.Max > math.MaxInt32:
		// Not cast: Start would restore a minimum of 2³² as 0 replicas.
		return provider.Invalid("max", b.Max, "must be ≤ 2147483647 (replicas are an int32)")
	}
	return nil
}

// Config is the driver's policy, as a host would load it from YAML or JSON;
// New takes it with the clientset. The zero value means the defaults:
// every namespace, every Deployment and StatefulSet, bounds 1 to 10.
// Validate reports the first invalid field.
type Config struct {
	// Name is the provider name reported in Resource.Provider and by
	// Driver.Name. Default: "kubernetes" (the constant Name).
	Name string `json:"name,omitempty" yaml:"name,omitempty"`
	// Region is copied into every Resource.Region (the cluster's region or
	// name, for filters). Default: "".
	Region string `json:"region,omitempty" yaml:"region,omitempty"`
	// Namespaces are the namespaces the driver sees; an ID in any other
	// namespace is not found. Default: all namespaces.
	Namespaces []string `json:"namespaces,omitempty" yaml:"namespaces,omitempty"`
	// LabelSelector selects the Deployments and StatefulSets the driver
	// sees, in kubectl's syntax ("tier=web,env!=dev"); their pods are the
	// pods their own selectors match. Default: "" (every workload).
	LabelSelector string `json:"label_selector,omitempty" yaml:"label_selector,omitempty"`

	// Bounds are the replica bounds of workloads without a Workloads entry
	// or bound annotations. Default (the zero Bounds): DefaultMinReplicas
	// to DefaultMaxReplicas, 1 to 10.
	Bounds Bounds `json:"bounds,omitzero" yaml:"bounds,omitempty"`
	// Workloads fixes the bounds of individual workloads, by resource ID
	// (NAMESPACE/KIND/NAME, in one of Namespaces when they are set): the
	// host's policy. An entry wins over the workload's annotations, and
	// SetCapacity refuses other bounds for it with provider.ErrInvalid,
	// but for the entry's with a Min of 0, as Capacity reports them for
	// the workload stopped (see SetCapacity). Default: none.
	Workloads map[string]Bounds `json:"workloads,omitempty" yaml:"workloads,omitempty"`

	// IgnoreHPAs skips the HorizontalPodAutoscaler check of SetCapacity,
	// Workloads.Stop and Workloads.Start and the inventory's
	// Resource.ScaledBy, and with them the RBAC they need (list
	// horizontalpodautoscalers.autoscaling), for a host that knows no HPA
	// targets its workloads. With the check (the default), a replica
	// change that an HPA targeting the workload would undo is refused with
	// a *HPAConflictError, and List, Get and GetResources name the HPA in
	// ScaledBy: see the package doc's "Scaling alongside a
	// HorizontalPodAutoscaler". Default: false.
	IgnoreHPAs bool `json:"ignore_hpas,omitempty" yaml:"ignore_hpas,omitempty"`

	// ConflictRetries is how many times a write that lost a
	// resourceVersion race is retried after re-reading the object, when
	// retrying is safe (the replica count it was based on has not changed);
	// otherwise the write fails with provider.ErrConflict at once.
	// Default: 3. Range: 0 (default) to 10.
	ConflictRetries int `json:"conflict_retries,omitempty" yaml:"conflict_retries,omitempty"`
	// Concurrency bounds the parallel per-pod queries of a usage source
	// (WithUsageSource) of one QueryMetric; those of a QueryMetrics batch
	// are also bounded together by provider.WithBatchConcurrency (default
	// 8). Default: 4.
	Concurrency int `json:"concurrency,omitempty" yaml:"concurrency,omitempty"`

	// CPUHourlyPrice is the price of one requested CPU core per hour and
	// MemoryHourlyPrice of one requested GiB of memory per hour, in the
	// host's currency; they fill Resource.HourlyCost from the requests (a
	// workload's per-pod requests times its replicas). Default: 0, which
	// leaves HourlyCost 0 (unknown).
	CPUHourlyPrice    float64 `json:"cpu_hourly_price,omitempty" yaml:"cpu_hourly_price,omitempty"`
	MemoryHourlyPrice float64 `json:"memory_hourly_price,omitempty" yaml:"memory_hourly_price,omitempty"`

	// PersistentVolumes lists the cluster's PersistentVolumes beside the
	// workloads, so that the detector can find the storage no claim uses:
	// see the package doc's "PersistentVolumes". Default: off.
	PersistentVolumes PersistentVolumeConfig `json:"persistent_volumes,omitzero" yaml:"persistent_volumes,omitempty"`
}

// PersistentVolumeConfig says which PersistentVolumes the driver lists
// and how it prices them. The zero value lists none.
type PersistentVolumeConfig struct {
	// List makes List, Get, GetResources, QueryMetric and Activity see
	// the PersistentVolumes (kind volume, ID persistentvolume/NAME) that
	// LabelSelector selects, and, with Config.Namespaces set, only those
	// whose claim (bound, or released: the claim deleted) is in one of
	// them. It needs get and list on persistentvolumes, and list on
	// volumeattachments.storage.k8s.io and on persistentvolumeclaims in
	// all namespaces (a ClusterRole: see the package doc's RBAC).
	// Default: false, and
	// such an ID is provider.ErrNotFound.
	List bool `json:"list,omitempty" yaml:"list,omitempty"`
	// LabelSelector selects the PersistentVolumes listed, in kubectl's
	// syntax. Default: "" (every PersistentVolume).
	LabelSelector string `json:"label_selector,omitempty" yaml:"label_selector,omitempty"`
	// MonthlyPrices is the price of one GiB (2³⁰ bytes) of a
	// PersistentVolume's capacity per month, in the host's currency, by
	// its storage class (the volume.beta.kubernetes.io/storage-class
	// annotation when it has one, else spec.storageClassName, as the
	// PersistentVolume controller reads it; "" for one without a class,
	// such as a volume made by hand); it fills Resource.HourlyCost as capacity × price /
	// 730.5 (the hours of an average month). A class without a price
	// leaves HourlyCost 0 (unknown). Default: none.
	MonthlyPrices map[string]float64 `json:"monthly_prices,omitempty" yaml:"monthly_prices,omitempty"`
}

// Validate reports the first invalid field as a *provider.InvalidError,
// its name relative to the PersistentVolumeConfig ("label_selector").
func (c PersistentVolumeConfig) Validate() error {
	if _, err := labels.Parse(c.LabelSelector); err != nil {
		return provider.Invalid("label_selector", c.LabelSelector, "must be a label selector: "+err.Error())
	}
	classes := slices.Sorted(maps.Keys(c.MonthlyPrices))
	for _, class := range classes {
		if v := c.MonthlyPrices[class]; math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return provider.Invalid("monthly_prices["+class+"]", v, "must be a finite number ≥ 0")
		}
	}
	return nil
}

// Validate reports the first invalid field as a *provider.InvalidError.
func (c Config) Validate() error {
	for i, ns := range c.Namespaces {
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return provider.Invalid(fmt.Sprintf("config.namespaces[%d]", i), ns, "must be a namespace name: "+errs[0])
		}
	}
	if _, err := labels.Parse(c.LabelSelector); err != nil {
		return provider.Invalid("config.label_selector", c.LabelSelector, "must be a label selector: "+err.Error())
	}
	if c.Bounds != (Bounds{}) {
		if err := c.Bounds.Validate(); err != nil {
			return provider.Within("config.bounds", err)
		}
	}
	ids := make([]string, 0, len(c.Workloads))
	for id := range c.Workloads {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		field := "config.workloads[" + id + "]"
		ref, ok, err := ParseRef(id)
		if err != nil || !ok || ref.Kind == ObjectPod || ref.Kind == ObjectPersistentVolume {
			return provider.Invalid(field, id, "must be the ID of a deployment or statefulset: NAMESPACE/deployment/NAME or NAMESPACE/statefulset/NAME")
		}
		if len(c.Namespaces) > 0 && !slices.Contains(c.Namespaces, ref.Namespace) {
			return provider.Invalid(field, id, "names namespace "+ref.Namespace+", which is not in config.namespaces: the driver would never see it")
		}
		if err := c.Workloads[id].Validate(); err != nil {
			return provider.Within(field, err)
		}
	}
	if c.ConflictRetries < 0 || c.ConflictRetries > 10 {
		return provider.Invalid("config.conflict_retries", c.ConflictRetries, "must be 0 (default 3) to 10")
	}
	if c.Concurrency < 0 {
		return provider.Invalid("config.concurrency", c.Concurrency, "must be ≥ 0")
	}
	for _, p := range []struct {
		field string
		v     float64
	}{{"config.cpu_hourly_price", c.CPUHourlyPrice}, {"config.memory_hourly_price", c.MemoryHourlyPrice}} {
		if math.IsNaN(p.v) || math.IsInf(p.v, 0) || p.v < 0 {
			return provider.Invalid(p.field, p.v, "must be a finite number ≥ 0")
		}
	}
	if err := c.PersistentVolumes.Validate(); err != nil {
		return provider.Within("config.persistent_volumes", err)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = Name
	}
	if c.Bounds == (Bounds{}) {
		c.Bounds = Bounds{Min: DefaultMinReplicas, Max: DefaultMaxReplicas}
	}
	if c.ConflictRetries == 0 {
		c.ConflictRetries = 3
	}
	if c.Concurrency == 0 {
		c.Concurrency = 4
	}
	c.Namespaces = slices.Clone(c.Namespaces)
	c.Workloads = maps.Clone(c.Workloads) // the driver's own: the caller may change theirs
	c.PersistentVolumes.MonthlyPrices = maps.Clone(c.PersistentVolumes.MonthlyPrices)
	slices.Sort(c.Namespaces)
	c.Namespaces = slices.Compact(c.Namespaces)
	return c
}

// Option wires a collaborator of a Driver: the metrics client, a usage
// source, a logger. What configures behaviour is in Config.
type Option func(*Driver)

// WithLogger sets the logger for writes and retries (debug and info
// levels). Default (and nil): discard.
func WithLogger(l *slog.Logger) Option { return func(d *Driver) { d.log = l } }

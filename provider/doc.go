// Package provider is the shared vocabulary of idlescale: the resources the
// library reasons about, their metrics, capacities, sizes, backups and
// activity, and the small capability interfaces that drivers implement.
//
// # Capabilities
//
// A driver implements whichever capabilities its backend has; callers
// discover optional ones by type assertion, as net/http does with Flusher:
//
//	inv  Inventory       // List and Get resources
//	src  MetricsSource   // QueryMetric over a range at a step
//	act  Actuator        // Start, Stop, Terminate
//	sc   Scaler          // Capacity and SetCapacity of a group (BoundsKeeper: bounds of its own)
//	rz   Resizer         // Resize an instance or function
//	bk   BackupCatalog   // Backups of a resource
//	av   ActivitySource  // logins, API calls, queries, ...
//	rb   ResourceBatcher // GetResources: many Gets in one call (also CapacityBatcher, MetricsBatcher, ActivityBatcher)
//
//	if sc, ok := p.(provider.Scaler); ok { ... }
//
// Each interface documents its contract: what errors mean, idempotence,
// concurrency and context handling. The package
// github.com/idlescale/idlescale/provider/providertest checks a driver
// against these contracts, and github.com/idlescale/idlescale/provider/memory
// is a complete in-memory implementation for tests and dry runs.
//
// # Rollbacks
//
// A capacity write (or a resize) that undoes a change its caller just
// made (the scaling engine's rollback of a step that failed or was not
// verified) is made with a context marked by WithRollback, and a driver
// reads the mark with IsRollback. Such a write must not wait for a
// cooldown: the cooldown in effect is most often the one the change
// being undone started, which may outlast the caller's retries (Auto
// Scaling's default cooldown is 300 s, the scaling engine's default
// RetryDeadline 2 min), so a rollback deferred by it fails and leaves
// the change in place. A driver that paces writes lets a marked one through
// (the AWS driver sends it without HonorCooldown); the others ignore the
// mark, so every existing Scaler and Resizer keeps working unchanged.
// The mark is carried by the context rather than by CapacitySpec or a
// new method so that it passes through a host's wrappers (logging,
// change tickets) that hand their context on.
//
// # Batch reads
//
// ResourceBatcher, CapacityBatcher, MetricsBatcher and ActivityBatcher
// are optional capabilities for callers that read a whole fleet at once,
// such as the scaling Autoscaler's pass over thousands of targets or the
// detector's Scan: one call reads many resources, capacities, metric or
// activity queries, as the backends do (EC2 DescribeInstances and
// DescribeAutoScalingGroups take many IDs, CloudWatch GetMetricData 500
// queries, a Kubernetes LIST every PersistentVolume). The functions
// GetResources, GetCapacities, QueryMetrics and Activities use them when a
// driver has them and make one call per read otherwise, so callers need
// not care. A wrapper that embeds a driver to change one of its reads (a
// cache, a retention, a test's hook on Activity) changes the batch method
// the embedding promotes too, or hides it (a named field instead of an
// embedded one): a caller that batches reads through it, not around it.
// A driver that answers part of a batch with one call per read (the
// Kubernetes driver's workloads) makes at most BatchConcurrency of them
// at once: a caller that bounds its reads passes its bound with
// WithBatchConcurrency (a detector Scan its Concurrency, the scaling
// Autoscaler 1, its workers being its concurrency).
//
// Every batch method has the same contract: reads[i] is answered in place
// with exactly what the per-resource call (Inventory.Get, Scaler.Capacity,
// MetricsSource.QueryMetric, ActivitySource.Activity) returns for its
// input, including the error of that read alone (ErrInvalid, ErrNotFound,
// ErrUnsupported, a throttle);
// one read's failure does not fail the others, and a successful read has a
// nil Err. The method's own error is non-nil only when the call as a whole
// failed (ctx ended, the backend unreachable); every read it did not
// answer then carries that error, so a caller may look at the reads alone.
// Reads may repeat an input; an empty slice is no call. Implementations
// must be safe for concurrent use, honour ctx and not retain the reads.
// providertest checks these contracts for the drivers that implement them.
// A driver documents any exception (the Kubernetes driver's: a user who
// may list workloads but not get them reads them in a batch).
//
// # Series and gaps
//
// Metrics come back as a Series: a regular grid (Start, Step) of values in
// the metric's unit (utilizations are fractions in [0, 1]). A step without
// data is a gap, stored as NaN and tested with IsGap; it is never a zero.
// Raw samples (Sample) are finite and strictly increasing in time;
// ValidateSamples and Resample enforce that.
//
// # Enums
//
// Kind, State, Criticality, Metric, Unit, Statistic and ActivityKind are
// typed strings with lower-case values. Each has String, MarshalText and
// UnmarshalText, so JSON and YAML read and write the plain value, and
// Validate. UnmarshalText accepts "" (the zero value, "not set"; each type
// says what that means and whether it is allowed where it is used) and
// every value Validate accepts; anything else is an error naming the
// value, so a misspelt value in a configuration file fails when the file
// is read. Metric is the one open set: any well-formed custom name
// (CustomMetric) is valid. Criticality is ordered: compare Level, never the
// strings.
//
// # Labels and IDs
//
// Labels come from people and tags, so drivers normalise them once, where
// they enter (Resource.NormalizeLabels, NormalizeLabel): "production " and
// "production" are one environment. Code that matches labels against a
// list of names compares LabelKey forms (case and separators do not
// matter). Resource IDs are at most MaxIDLength bytes, the one limit every
// package that keys on IDs accepts.
//
// # Errors
//
// Drivers wrap the sentinels ErrNotFound, ErrThrottled, ErrUnsupported,
// ErrConflict, ErrInvalid and ErrDenied and keep their own cause in the
// chain. An Actuator's or a Resizer's call that returns an error
// matching one of them changed nothing (ChangedNothing); any other error
// may have left the change made (a timeout after the backend took it),
// and callers must read the resource again to know. A Scaler's
// SetCapacity writes absolute values that may be written again as they
// are, and its drivers retry it so: after an attempt whose reply was
// lost took effect, a retry may still answer a sentinel. Callers read the
// capacity back after a SetCapacity that failed (the scaling engine
// does).
// Invalid input is reported as an *InvalidError that names the field and
// value, with credentials in the value masked. No cloud SDK is imported
// here.
package provider

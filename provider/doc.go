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
//	sc   Scaler          // Capacity and SetCapacity of a group
//	rz   Resizer         // Resize an instance or function
//	bk   BackupCatalog   // Backups of a resource
//	av   ActivitySource  // logins, API calls, queries, ...
//
//	if sc, ok := p.(provider.Scaler); ok { ... }
//
// Each interface documents its contract: what errors mean, idempotence,
// concurrency and context handling. The package
// github.com/idlescale/idlescale/provider/providertest checks a driver
// against these contracts, and github.com/idlescale/idlescale/provider/memory
// is a complete in-memory implementation for tests and dry runs.
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
// ErrConflict and ErrInvalid and keep their own cause in the chain. Invalid
// input is reported as an *InvalidError that names the field and value,
// with credentials in the value masked. No cloud SDK is imported here.
package provider

package provider

import (
	"context"
	"time"
)

// Inventory lists the resources a provider knows.
//
// Implementations must be safe for concurrent use, honour ctx (returning
// ctx.Err() wrapped when it ends first) and return copies that the caller
// may change. Arguments are not retained.
type Inventory interface {
	// List returns the resources matching f, sorted by ID. An invalid
	// filter returns an error matching ErrInvalid; an empty result is not an
	// error.
	List(ctx context.Context, f Filter) ([]Resource, error)
	// Get returns one resource, or an error matching ErrNotFound. It is
	// the resource List returns for the ID (every field
	// Resource.ChangedFrom compares): callers re-read with Get what they
	// listed before they act, and take a difference for a change.
	Get(ctx context.Context, id string) (Resource, error)
}

// MetricsSource reads metric history.
//
// QueryMetric returns a Series on the grid of q: Start = q.Start, Step =
// q.Step, q.Steps() values, value k reducing (by q.Statistic) the raw
// samples in [Start + k·Step, Start + (k+1)·Step); a step without samples is
// a gap (NaN), never zero. An invalid query returns an error matching
// ErrInvalid before any backend call; an unknown resource ErrNotFound; a
// metric the source does not have for that resource ErrUnsupported or a
// series of gaps, as the driver documents. Implementations must be safe for
// concurrent use and honour ctx.
type MetricsSource interface {
	QueryMetric(ctx context.Context, q Query) (Series, error)
}

// MetricsSourceFunc adapts a function to a MetricsSource.
type MetricsSourceFunc func(ctx context.Context, q Query) (Series, error)

// QueryMetric calls f(ctx, q).
func (f MetricsSourceFunc) QueryMetric(ctx context.Context, q Query) (Series, error) {
	return f(ctx, q)
}

// Actuator changes the lifecycle state of instances (and of databases or
// functions where the backend allows).
//
// Every method returns once the backend accepted the change; the resource
// may still be in a transitional state (StatePending, StateStopping).
// Starting a running or pending resource and stopping a stopped or stopping
// one change nothing (idempotence) and succeed, unless the transition under
// way fails: a driver that waits for its changes (the AWS driver without
// Config.NoWait) waits for that one too and returns its failure (a start
// that ends stopped). Starting or stopping a
// terminated resource returns ErrConflict; a kind that cannot be stopped
// returns ErrUnsupported; an unknown ID returns ErrNotFound. Implementations
// must be safe for concurrent use and honour ctx.
type Actuator interface {
	// Start starts a stopped resource.
	Start(ctx context.Context, id string) error
	// Stop stops a running resource, keeping its storage.
	Stop(ctx context.Context, id string) error
	// Terminate deletes the resource for good. Terminating a terminated
	// resource succeeds.
	Terminate(ctx context.Context, id string) error
}

// TerminateChecker is an optional interface of an Actuator whose
// Terminate refuses some resources whatever their state, for their kind
// or the driver's design (ErrUnsupported: the AWS driver never deletes a
// function or a load balancer, the Kubernetes driver no workload).
// CanTerminate says so from the resource alone, with no call to the
// backend, so that a caller (the reaper) does not ask a person to approve
// a terminate the driver would refuse. It returns nil when Terminate may
// delete r, its state and the backend permitting, and otherwise an error
// matching ErrUnsupported that says why not.
type TerminateChecker interface {
	CanTerminate(r Resource) error
}

// StopChecker is an optional interface of an Actuator whose Stop refuses
// some resources whatever their state, for their kind or the driver's
// design (ErrUnsupported: a volume, whose state follows its attachment,
// a function or a load balancer, which have nothing to stop; a driver
// that stops only instances). CanStop says so from the resource alone,
// with no call to the backend, as TerminateChecker does for Terminate,
// so that a caller (the reaper) does not ask a person to approve a stop
// the driver would refuse. It returns nil when Stop may stop r, its
// state and the backend permitting, and otherwise an error matching
// ErrUnsupported that says why not. providertest checks both against the
// calls they answer for.
//
// A host's Actuator that wraps a driver (to log, or to stop what the
// driver does not) keeps these only by implementing them: one that embeds
// the Actuator interface hides the driver's, and a person is asked again
// to approve what the driver refuses; one that embeds the driver's type
// and handles more kinds in its own Stop or Terminate inherits checks
// that refuse those kinds, so it must answer for them too.
type StopChecker interface {
	CanStop(r Resource) error
}

// Scaler reads and sets the capacity of horizontally scaled groups.
//
// SetCapacity validates want (0 ≤ Min ≤ Desired ≤ Max, ErrInvalid
// otherwise) before any backend call, and Capacity then reports want. A
// driver whose bounds come from a policy of its own may report a stopped
// group with a Min of 0 and keep its own Min when that 0 is passed back
// (the Kubernetes driver does): the scaling engine takes a group at
// want's Desired and Max with a Min between 1 and Desired as at such a
// want, in a plan that wakes or stops the group. Such a driver may also
// report a group that someone else scaled outside its bounds with bounds
// widened to include Desired, and keep its own bounds when those are
// passed back, so that Capacity then reports its own bounds rather than
// want's: it says so by implementing BoundsKeeper. The group's Current
// count moves toward Desired over time; Capacity reports it. Unknown groups return ErrNotFound
// and resources that are not groups ErrUnsupported. A SetCapacity whose
// ctx is marked by WithRollback (IsRollback) undoes a change its caller
// just made: a driver that paces changes of capacity (a cooldown that
// defers or refuses them, such as Auto Scaling's with the AWS driver's
// HonorCooldown) must not defer or refuse it for that pacing; any other
// driver may ignore the mark. Implementations must be safe for
// concurrent use and honour ctx.
type Scaler interface {
	// Capacity returns the group's spec and observed counts.
	Capacity(ctx context.Context, id string) (Capacity, error)
	// SetCapacity sets the group's min, max and desired size.
	SetCapacity(ctx context.Context, id string, want CapacitySpec) error
}

// BoundsKeeper is implemented by a Scaler whose groups' bounds are a
// policy of its own (the Kubernetes driver's bound annotations and
// Config.Workloads), when KeepsBounds returns true: it reports a group
// that someone else scaled outside those bounds (kubectl scale) with
// bounds widened to include Desired, and does not store bounds passed
// back that are the ones it reports widened only to include the new
// Desired, keeping its own; Capacity then reports its own bounds widened
// to the new Desired only. The scaling engine, given such a Scaler, plans
// from the widened bounds and, in a plan that keeps the bounds it read,
// writes each step with the bounds as read widened only to the step's
// desired capacity, and accepts a narrower bound where the plan's bound
// equalled the desired capacity it read: a Min above the step's, up to
// Desired, or a Max below the step's, down to Desired. Any other Scaler's
// group is matched exactly, so that bounds someone else changed during a
// plan are drift. A host's Scaler that wraps such a driver keeps this
// only by implementing it too (one that embeds the Scaler interface
// hides it).
type BoundsKeeper interface {
	// KeepsBounds reports whether the Scaler keeps its groups' bounds as
	// the type's doc says (a wrapper may return false to opt out).
	KeepsBounds() bool
}

// Resizer changes the vertical size of instances and functions.
//
// Resize validates size for the resource's kind (and the driver's limits,
// such as Lambda's memory and timeout ranges) before any backend call,
// returning ErrInvalid. Resizing to the current size succeeds and changes
// nothing. A driver that must stop an instance to resize it restores the
// previous state on failure. A Resize whose ctx is marked by WithRollback
// undoes a change, as a Scaler's SetCapacity so marked does, and must
// not be deferred by any pacing of the driver's. Implementations must be safe for
// concurrent use and honour ctx.
type Resizer interface {
	Resize(ctx context.Context, id string, size Size) error
}

// ResizerFunc adapts a function to a Resizer.
type ResizerFunc func(ctx context.Context, id string, size Size) error

// Resize calls f(ctx, id, size).
func (f ResizerFunc) Resize(ctx context.Context, id string, size Size) error {
	return f(ctx, id, size)
}

// BackupCatalog reports the backups of a resource.
//
// Backups returns the backups taken at or after since, newest first; an
// empty slice when there are none. An unknown resource returns ErrNotFound.
// Implementations must be safe for concurrent use and honour ctx.
type BackupCatalog interface {
	Backups(ctx context.Context, resourceID string, since time.Time) ([]Backup, error)
}

// BackupCatalogFunc adapts a function to a BackupCatalog.
type BackupCatalogFunc func(ctx context.Context, resourceID string, since time.Time) ([]Backup, error)

// Backups calls f(ctx, resourceID, since).
func (f BackupCatalogFunc) Backups(ctx context.Context, resourceID string, since time.Time) ([]Backup, error) {
	return f(ctx, resourceID, since)
}

// ActivitySource reports human and workload activity on a resource.
//
// Activity returns one ActivityCount per kind the source observes for the
// resource in [q.Start, q.End), sorted by kind; a kind the source cannot
// observe is absent (unknown), not zero. A count that covers only the end
// of the window (the source keeps less than it, or began observing later)
// says where it begins in ActivityCount.Since: a reaper must not read the
// part before as quiet. An unknown resource returns ErrNotFound. Implementations must be safe for concurrent use and honour
// ctx.
type ActivitySource interface {
	Activity(ctx context.Context, q ActivityQuery) ([]ActivityCount, error)
}

// ActivitySourceFunc adapts a function to an ActivitySource.
type ActivitySourceFunc func(ctx context.Context, q ActivityQuery) ([]ActivityCount, error)

// Activity calls f(ctx, q).
func (f ActivitySourceFunc) Activity(ctx context.Context, q ActivityQuery) ([]ActivityCount, error) {
	return f(ctx, q)
}

// Namer is implemented by drivers that report their provider name (the
// value they put in Resource.Provider).
type Namer interface {
	Name() string
}

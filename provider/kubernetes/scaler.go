package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/idlescale/idlescale/provider"
)

// KeepsBounds reports true: the Driver is a provider.BoundsKeeper. A
// workload's bounds are its annotations or its Config.Workloads entry,
// and the bounds Capacity reports for a workload scaled outside them,
// passed back, are not stored (SetCapacity).
func (d *Driver) KeepsBounds() bool { return true }

// Capacity returns a workload's replicas, read from the workload itself:
// Desired is spec.replicas (what its scale subresource reports), Current
// status.replicas, Ready status.readyReplicas (0 while the status is of
// an older spec: status.observedGeneration below metadata.generation, the
// controller has not yet seen the latest change, so a scale or a wake
// does not read settled before it has), and Min and Max its bounds
// (Bounds). When someone scaled the workload outside its bounds (kubectl
// scale), the reported bounds are widened to include Desired, so the
// Capacity is valid; SetCapacity does not store them when they are
// passed back. A pod is provider.ErrUnsupported (scale its
// workload); a workload whose bound annotations are malformed is
// provider.ErrInvalid (see Bounds).
func (d *Driver) Capacity(ctx context.Context, id string) (_ provider.Capacity, err error) {
	defer d.red.Errorp(&err)
	ref, err := d.workloadRef(ctx, "capacity", id)
	if err != nil {
		return provider.Capacity{}, err
	}
	w, err := d.getWorkload(ctx, "capacity", id, ref)
	if err != nil {
		return provider.Capacity{}, err
	}
	return d.capacity("capacity", id, w)
}

// capacity is Capacity of workload w; op and id name the caller's
// operation in errors.
func (d *Driver) capacity(op, id string, w workload) (provider.Capacity, error) {
	b, err := d.bounds(w)
	if err != nil {
		return provider.Capacity{}, fmt.Errorf("kubernetes: %s %q: %w", op, id, err)
	}
	desired := int(w.replicas)
	b = b.widen(desired)
	c := provider.Capacity{
		CapacitySpec: provider.CapacitySpec{Min: b.Min, Max: b.Max, Desired: desired},
		Current:      int(w.current),
		Ready:        min(int(w.ready), int(w.current)),
	}
	return c, nil
}

// widen returns b stretched to include replicas, as Capacity reports it.
func (b Bounds) widen(replicas int) Bounds {
	return Bounds{Min: min(b.Min, replicas), Max: max(b.Max, replicas)}
}

// reported reports whether want is b as Capacity reports a workload of
// b at replicas (widened to include them) and then widened only to
// desired, the replicas a SetCapacity sets: what a caller passes back to
// change the replicas of a workload someone scaled outside its bounds
// (kubectl scale), which SetCapacity does not store (see SetCapacity).
func (b Bounds) reported(replicas int32, desired int, want Bounds) bool {
	return b.widen(int(replicas)).widen(desired) == want
}

// outside reports whether replicas are outside b: a workload someone
// scaled outside its bounds (kubectl scale).
func (b Bounds) outside(replicas int32) bool {
	return b.widen(int(replicas)) != b
}

// errFixedBounds is SetCapacity's error for bounds want other than the
// host's policy's entry for the workload.
func errFixedBounds(op, id string, entry, want Bounds) error {
	return fmt.Errorf("kubernetes: %s %q: %w", op, id, provider.Invalid("capacity", fmt.Sprintf("[%d, %d]", want.Min, want.Max),
		fmt.Sprintf("the host's policy (config.workloads) fixes the bounds at [%d, %d]", entry.Min, entry.Max)))
}

// belowFloor returns a *provider.InvalidError when want would take a
// workload whose floor SetCapacity keeps (cur, its bounds: want is them
// as a stopped workload reports them, a Min of 0, which is not stored)
// below that floor, but not to zero, from replicas above it: the stopped
// workload's bounds are accepted on the way from or to a stop (a wake's
// steps and their rollback start at or below the floor), not to run a
// workload below it. fixed says the floor is the host's policy's
// (config.workloads) rather than the workload's own (its min-replicas
// annotation, or config.bounds).
func belowFloor(cur Bounds, fixed bool, want provider.CapacitySpec, replicas int32) error {
	if !cur.stopped(Bounds{Min: want.Min, Max: want.Max}) || want.Desired == 0 || want.Desired >= cur.Min || int(replicas) <= cur.Min {
		return nil
	}
	whose := "the workload's floor (its " + AnnotationMinReplicas + " annotation, else config.bounds) is"
	if fixed {
		whose = "the host's policy (config.workloads) fixes the floor at"
	}
	return provider.Invalid("desired", want.Desired, fmt.Sprintf(
		"%s %d, and the workload runs %d replicas: below the floor only on the way from or to a stop (a Min of 0 beside the workload's own Max is not stored)", whose, cur.Min, replicas))
}

// floorHeld returns belowFloor's error for want on w (wrapped with op and
// id), or the error of w's malformed bound annotations.
func (d *Driver) floorHeld(op, id string, w workload, fixed bool, want provider.CapacitySpec) error {
	cur, err := d.bounds(w)
	if err == nil {
		err = belowFloor(cur, fixed, want, w.replicas)
	}
	if err != nil {
		return fmt.Errorf("kubernetes: %s %q: %w", op, id, err)
	}
	return nil
}

// stopped reports whether want is b as Capacity reports it for a stopped
// workload: widened to a Min of 0, the Max b's own. SetCapacity keeps b
// for it rather than store the 0 (a workload's floor outlives its stops).
func (b Bounds) stopped(want Bounds) bool {
	return b.Min > 0 && want.Min == 0 && want.Max == b.Max
}

// Bounds returns the replica bounds of a workload: Config.Workloads[id]
// when the host's policy has an entry, else the workload's
// AnnotationMinReplicas and AnnotationMaxReplicas (each falling back on
// Config.Bounds when absent), else Config.Bounds. A bound annotation that
// is not a whole number from 0 to 2147483647, or a max-replicas below the
// min-replicas beside it, is provider.ErrInvalid naming the workload, the
// annotation and its value, rather than a
// default the workload's owner did not mean: Capacity, SetCapacity and
// Workloads' Stop and Start refuse the workload likewise, and write
// nothing, until the annotation is fixed or removed (a Config.Workloads
// entry, which wins, reads no annotation); only a Start of a stopped
// workload that remembers its replicas, which needs no bound, restores
// them.
func (d *Driver) Bounds(ctx context.Context, id string) (_ Bounds, err error) {
	defer d.red.Errorp(&err)
	ref, err := d.workloadRef(ctx, "bounds", id)
	if err != nil {
		return Bounds{}, err
	}
	w, err := d.getWorkload(ctx, "bounds", id, ref)
	if err != nil {
		return Bounds{}, err
	}
	b, err := d.bounds(w)
	if err != nil {
		return Bounds{}, fmt.Errorf("kubernetes: bounds %q: %w", id, err)
	}
	return b, nil
}

// bounds returns w's bounds (see Bounds), or the *provider.InvalidError
// of a malformed bound annotation.
func (d *Driver) bounds(w workload) (Bounds, error) {
	if b, ok := d.cfg.Workloads[w.ref.String()]; ok {
		return b, nil
	}
	b := d.cfg.Bounds
	lo, minSrc, err := annotationBound(w.meta, AnnotationMinReplicas)
	if err != nil {
		return Bounds{}, err
	}
	if minSrc != "" {
		b.Min = lo
	}
	hi, maxSrc, err := annotationBound(w.meta, AnnotationMaxReplicas)
	if err != nil {
		return Bounds{}, err
	}
	if maxSrc != "" {
		b.Max = hi
	}
	switch {
	case minSrc != "" && maxSrc != "" && hi < lo:
		// The owner wrote both, and one of them is not what was meant.
		return Bounds{}, provider.Invalid(maxSrc+" "+AnnotationMaxReplicas, strconv.Itoa(hi),
			fmt.Sprintf("is below %s %s %d: set the two bounds meant", minSrc, AnnotationMinReplicas, lo))
	case b.Max < b.Min:
		// One annotation beside config.bounds' other bound (a floor
		// above the default ceiling): keep the floor.
		b.Max = b.Min
	}
	return b, nil
}

// checkBounds returns the error of w's bounds (a malformed bound
// annotation) for op on id, or nil: the writes refuse such a workload
// before writing anything.
func (d *Driver) checkBounds(op, id string, w workload) error {
	if _, err := d.bounds(w); err != nil {
		return fmt.Errorf("kubernetes: %s %q: %w", op, id, err)
	}
	return nil
}

// liveWorkload resolves id to a workload and reads it; a pod is
// provider.ErrUnsupported, a workload being deleted provider.ErrConflict,
// and one with a malformed bound annotation provider.ErrInvalid (Bounds).
func (d *Driver) liveWorkload(ctx context.Context, op, id string) (Ref, workload, error) {
	ref, w, err := d.undeletedWorkload(ctx, op, id)
	if err != nil {
		return Ref{}, workload{}, err
	}
	if err := d.checkBounds(op, id, w); err != nil {
		return Ref{}, workload{}, err
	}
	return ref, w, nil
}

// undeletedWorkload is liveWorkload without the check of the bound
// annotations, for a write that does not need them (Workloads.Start of
// a workload that remembers its replicas).
func (d *Driver) undeletedWorkload(ctx context.Context, op, id string) (Ref, workload, error) {
	ref, err := d.workloadRef(ctx, op, id)
	if err != nil {
		return Ref{}, workload{}, err
	}
	w, err := d.getWorkload(ctx, op, id, ref)
	if err != nil {
		return Ref{}, workload{}, err
	}
	if w.deleting() {
		return Ref{}, workload{}, errDeleting(op, id)
	}
	return ref, w, nil
}

// errDeleting is the error for a write to a workload being deleted.
func errDeleting(op, id string) error {
	return fmt.Errorf("kubernetes: %s %q: %w: the workload is being deleted", op, id, provider.ErrConflict)
}

// workloadRef resolves id and refuses pods with provider.ErrUnsupported.
func (d *Driver) workloadRef(ctx context.Context, op, id string) (Ref, error) {
	ref, err := d.resolve(ctx, op, id)
	if err != nil {
		return Ref{}, err
	}
	if ref.Kind == ObjectPod {
		return Ref{}, fmt.Errorf("kubernetes: %s %q: %w: a pod is not scaled or stopped; act on its Deployment or StatefulSet", op, id, provider.ErrUnsupported)
	}
	return ref, nil
}

// SetCapacity sets a workload's bounds and replicas. The bounds are stored
// in AnnotationMinReplicas and AnnotationMaxReplicas with a merge patch
// when they differ from the stored ones (a workload with a
// Config.Workloads entry accepts only those bounds, or them as Capacity
// reports them (below): provider.ErrInvalid otherwise; a Desired or Max above 2147483647, the most an int32
// spec.replicas holds, too) in the same patch as spec.replicas, conditional on the
// resourceVersion read, so that Capacity then reports exactly want and a
// lost race writes neither; when the bounds are unchanged spec.replicas is
// written through the scale subresource, conditional likewise. Setting
// Desired > 0 also forgets the replicas a Workloads.Stop remembered. A
// workload whose bound annotations are malformed is provider.ErrInvalid,
// and nothing is written (see Bounds): SetCapacity does not overwrite a
// bound its owner wrote and the driver cannot read.
//
// One exception: a Min of 0 with the workload's own Max, and its own Min
// above 0, is what Capacity reports for a stopped workload, and is not
// stored (a workload with a Config.Workloads entry accepts it too), but
// for a Desired between 0 and the floor while the workload runs more
// replicas than the floor, which would run it below the floor that stays:
// provider.ErrInvalid, nothing written, whether the floor is the entry's,
// the min-replicas annotation's or Config.Bounds'. Passed
// back to wake the workload, or to stop it, the stored floor stays, and
// Capacity reports it again once the workload runs (the scaling engine
// takes that floor for the 0 it wrote); stored, that 0 would lower the
// floor of every workload the engine wakes to 0 for good. To give a
// workload a floor of 0, annotate it (AnnotationMinReplicas) or set
// Config.Bounds.
//
// Likewise for a workload someone scaled outside its bounds (kubectl
// scale): the bounds Capacity reports for it (widened to its replicas),
// passed back with another Desired and widened only to include it, are
// not stored, and a workload with a Config.Workloads entry accepts them
// while it runs outside the entry (or in a rollback, provider.IsRollback,
// which passes back the bounds read before it): within the entry, they
// would run it beyond its host's policy, provider.ErrInvalid.
// Its own bounds stay, and Capacity reports them widened to the new
// replicas only, not want's when want's were widened further (the
// scaling engine passes back the bounds it reads, and takes a bound so
// kept for the wider one its plan carried). Stored, a kubectl scale below the workload's floor would have
// lowered its min-replicas for good, and one above its max raised its
// max-replicas. Other bounds are stored as given.
//
// A scale to zero of a StatefulSet whose
// persistentVolumeClaimRetentionPolicy is whenScaled: Delete (with claim
// templates) is provider.ErrUnsupported, nothing written, as Stop's is:
// its controller would delete every claim of its pods, its data, which
// no change of capacity means to (a scheduled scale to zero, a rollback
// of a wake). A scale-in that leaves replicas deletes only the claims of
// the pods it removes, as the workload's owner chose.
//
// A replica change that a HorizontalPodAutoscaler targeting the workload
// would undo (any change but to or from zero) is refused with a
// *HPAConflictError (ErrHPAScales, provider.ErrConflict) before anything
// is written; see the package doc.
//
// A write that loses a resourceVersion race is retried (up to
// Config.ConflictRetries times, re-reading the object each time) only when
// the replica count it was based on has not changed; when someone else
// changed the replicas in between, or deleted the workload and created
// another of its name, SetCapacity returns provider.ErrConflict and writes
// nothing, so a decision made on stale replicas, or on another object, is
// never applied.
// A retry is judged on the re-read workload's floor: one its owner raised
// in between refuses the write as above (provider.ErrInvalid).
func (d *Driver) SetCapacity(ctx context.Context, id string, want provider.CapacitySpec) (err error) {
	defer d.red.Errorp(&err)
	const op = "set capacity"
	if err := ctxErr(ctx, op, id); err != nil {
		return err
	}
	if err := want.Validate(); err != nil {
		return fmt.Errorf("kubernetes: %s %q: %w", op, id, err)
	}
	if want.Desired > math.MaxInt32 {
		// Not cast: 2³² replicas would be written as 0, a stop.
		return fmt.Errorf("kubernetes: %s %q: %w", op, id, provider.Invalid("desired", want.Desired, "must be ≤ 2147483647 (replicas are an int32)"))
	}
	if want.Max > math.MaxInt32 {
		// Not stored: Bounds refuses such an annotation, so the
		// workload would be refused until someone fixed it.
		return fmt.Errorf("kubernetes: %s %q: %w", op, id, provider.Invalid("max", want.Max, "must be ≤ 2147483647 (replicas are an int32)"))
	}
	wantBounds := Bounds{Min: want.Min, Max: want.Max}
	entry, fixed := d.cfg.Workloads[id]
	if fixed && entry != wantBounds && !entry.stopped(wantBounds) && (wantBounds.Min > entry.Min || wantBounds.Max < entry.Max) {
		return errFixedBounds(op, id, entry, wantBounds)
	}
	ref, w, err := d.liveWorkload(ctx, op, id)
	if err != nil {
		return err
	}
	if fixed && entry != wantBounds && !entry.stopped(wantBounds) &&
		(!entry.reported(w.replicas, want.Desired, wantBounds) || !entry.outside(w.replicas) && !provider.IsRollback(ctx)) {
		// Wider than the entry, but not as Capacity reports the
		// workload scaled outside it (or, in a rollback, as it
		// reported it then): a workload within the entry was
		// scaled outside it by no one, and such bounds would only
		// run it beyond its host's policy.
		return errFixedBounds(op, id, entry, wantBounds)
	}
	if err := d.floorHeld(op, id, w, fixed, want); err != nil {
		return err
	}
	from := w.replicas
	if err := d.hpaAllows(ctx, op, id, ref, from, int32(want.Desired)); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			// The floor of the re-read workload: its owner may have
			// raised it in the race lost.
			if err := d.floorHeld(op, id, w, fixed, want); err != nil {
				return err
			}
		}
		if want.Desired == 0 && w.replicas > 0 && w.deletesClaims {
			// Judged on every read, as Stop does: the policy may change
			// in a race lost.
			return errDeletesClaims(op, id)
		}
		set, err := d.boundsPatch(id, w, wantBounds, want.Desired)
		if err != nil {
			return fmt.Errorf("kubernetes: %s %q: %w", op, id, err)
		}
		var replicas *int32
		if int(w.replicas) != want.Desired {
			replicas = ptr(int32(want.Desired))
		}
		if len(set) == 0 {
			if replicas == nil {
				return nil
			}
			// A lost race is decided again below on the re-read object,
			// whose bounds may need writing now.
			if _, err = d.updateScale(ctx, op, id, ref, w.meta.ResourceVersion, *replicas); err == nil {
				d.log.Info("kubernetes: scaled", "id", id, "from", from, "to", *replicas)
				return nil
			}
		} else if _, err = d.patchWorkload(ctx, op, id, ref, w.meta.ResourceVersion, set, replicas); err == nil {
			// The bounds and the replicas in one patch, so that a lost race
			// writes neither.
			d.log.Debug("kubernetes: annotations written", "id", id, "annotations", len(set))
			if replicas != nil {
				d.log.Info("kubernetes: scaled", "id", id, "from", from, "to", *replicas)
			}
			return nil
		}
		if !errors.Is(err, provider.ErrConflict) || attempt >= d.cfg.ConflictRetries {
			return err
		}
		if w, err = d.rereadUnchanged(ctx, op, id, w); err != nil {
			return err
		}
	}
}

// boundsPatch returns the annotations to write for bounds b on w: the
// bound annotations when they differ from w's (and w has no Config.Workloads
// entry, and b is not w's as Capacity reports them: widened to w's
// replicas, stopped or scaled outside its bounds by someone else), and the
// removal of the stopped-replicas annotation when forget is set and it is
// present. It is empty when there is nothing to write, and an error when
// w's bound annotations are malformed. A workload at zero kept there
// (forget unset) keeps its floor: a Min of 0 is how Capacity reports it
// while stopped, so a host that reads its Capacity and writes back
// another Max (a read-modify-write) does not lower the owner's floor to 0
// for good.
func (d *Driver) boundsPatch(id string, w workload, b Bounds, desired int) (map[string]*string, error) {
	cur, err := d.bounds(w)
	if err != nil {
		return nil, err
	}
	forget := desired > 0
	if w.replicas == 0 && !forget && cur.Min > 0 && b.Min == 0 && b.Max >= cur.Min {
		b.Min = cur.Min
	}
	set := map[string]*string{}
	if _, fixed := d.cfg.Workloads[id]; !fixed && cur != b && !cur.stopped(b) && !cur.reported(w.replicas, desired, b) {
		set[AnnotationMinReplicas] = ptr(strconv.Itoa(b.Min))
		set[AnnotationMaxReplicas] = ptr(strconv.Itoa(b.Max))
	}
	if _, ok := w.meta.Annotations[AnnotationStoppedReplicas]; ok && forget {
		set[AnnotationStoppedReplicas] = nil
	}
	return set, nil
}

// rereadUnchanged re-reads workload was after a lost race and returns it
// when it is the same object (its UID) and its replicas are still
// was.replicas; otherwise it returns provider.ErrConflict: someone else
// scaled it, or deleted it and created another of its name (whose
// replicas no one judged), and the caller's decision is stale. It does
// not check the bound annotations: a caller that needs them checks the
// workload returned (SetCapacity's boundsPatch, Stop's checkBounds).
func (d *Driver) rereadUnchanged(ctx context.Context, op, id string, was workload) (workload, error) {
	w, err := d.getWorkload(ctx, op, id, was.ref)
	if err != nil {
		return w, err
	}
	if w.deleting() {
		return w, errDeleting(op, id)
	}
	if w.meta.UID != was.meta.UID {
		return w, fmt.Errorf("kubernetes: %s %q: %w: the workload was deleted and created again since it was read", op, id, provider.ErrConflict)
	}
	if w.replicas != was.replicas {
		return w, fmt.Errorf("kubernetes: %s %q: %w: replicas changed from %d to %d by another writer since they were read",
			op, id, provider.ErrConflict, was.replicas, w.replicas)
	}
	d.log.Info("kubernetes: retrying after a lost resourceVersion race", "id", id, "op", op)
	return w, nil
}

// scaleTo writes replicas to workload w through the scale subresource at
// the resourceVersion read, retrying lost races while the workload is the
// same object, live, selected and its replicas are still w's
// (rereadUnchanged).
func (d *Driver) scaleTo(ctx context.Context, op, id string, w workload, replicas int32) error {
	for attempt := 0; ; attempt++ {
		_, err := d.updateScale(ctx, op, id, w.ref, w.meta.ResourceVersion, replicas)
		if err == nil {
			d.log.Info("kubernetes: scaled", "id", id, "from", w.replicas, "to", replicas)
			return nil
		}
		if !errors.Is(err, provider.ErrConflict) || attempt >= d.cfg.ConflictRetries {
			return err
		}
		// The workload, not its scale subresource: one being deleted or no
		// longer selected is not written either.
		if w, err = d.rereadUnchanged(ctx, op, id, w); err != nil {
			return err
		}
	}
}

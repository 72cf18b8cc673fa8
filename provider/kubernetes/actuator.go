package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/idlescale/idlescale/provider"
)

// Workloads is the provider.Actuator of a Driver: it stops a Deployment or
// StatefulSet by scaling it to zero and starts it by restoring the
// replicas it had. Get one with Driver.Workloads; it is safe for
// concurrent use.
//
// It is a value of its own rather than methods of Driver because its
// contract is about workloads (kind group), while the Driver's instances
// are pods, which Kubernetes cannot stop: a pod is deleted and replaced by
// its controller. Pass it where an Actuator is wanted:
//
//	reaper.Fleet{Inventory: d, Metrics: d, Actuator: d.Workloads()}
type Workloads struct {
	d *Driver
}

var _ provider.Actuator = (*Workloads)(nil)

// Workloads returns the driver's Actuator for workloads.
func (d *Driver) Workloads() *Workloads { return &Workloads{d: d} }

// Stop scales a workload to zero replicas and remembers its replicas in
// AnnotationStoppedReplicas, both in one merge patch conditional on the
// resourceVersion read: a lost race writes neither. Stopping a workload at zero replicas
// (stopped or stopping) succeeds and changes nothing. A pod is
// provider.ErrUnsupported; a workload being deleted provider.ErrConflict.
// Lost races are retried as SetCapacity retries them: when another
// writer changed the replicas in between (or replaced the workload with
// another of its name), Stop returns provider.ErrConflict and writes
// nothing (unless it scaled the workload
// to zero: Stop then succeeds, as on a stopped workload). A workload that a
// HorizontalPodAutoscaler with minReplicas 0 targets is refused with a
// *HPAConflictError, since that HPA scales it at zero too; one with
// minReplicas ≥ 1 is off at zero, so Stop is allowed (package doc). A
// workload whose bound annotations are malformed is provider.ErrInvalid,
// stopped or not, and nothing is written (Driver.Bounds). A StatefulSet
// with claim templates whose persistentVolumeClaimRetentionPolicy is
// whenScaled: Delete is provider.ErrUnsupported unless it is at zero
// already, and nothing is written: scaled to zero, it would lose every
// PersistentVolumeClaim of its pods, where a stop keeps the storage
// (provider.Actuator).
func (a *Workloads) Stop(ctx context.Context, id string) (err error) {
	defer a.d.red.Errorp(&err)
	const op = "stop"
	d := a.d
	ref, w, err := d.liveWorkload(ctx, op, id)
	if err != nil {
		return err
	}
	if err := d.hpaAllows(ctx, op, id, ref, w.replicas, 0); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		if w.replicas == 0 {
			return nil
		}
		if w.deletesClaims {
			// Judged on every read: the policy may change in a race lost.
			return errDeletesClaims(op, id)
		}
		from := w.replicas
		_, err = d.patchWorkload(ctx, op, id, ref, w.meta.ResourceVersion,
			map[string]*string{AnnotationStoppedReplicas: ptr(strconv.Itoa(int(from)))}, ptr(int32(0)))
		if err == nil {
			d.log.Info("kubernetes: scaled", "id", id, "from", from, "to", 0)
			return nil
		}
		if !errors.Is(err, provider.ErrConflict) || attempt >= d.cfg.ConflictRetries {
			return err
		}
		// Nothing was written; retry only while the replicas the caller
		// judged are still there. Stopped meanwhile (another Stop) is
		// stopped, as at the first read.
		cur, rerr := d.rereadUnchanged(ctx, op, id, w)
		if rerr != nil {
			if errors.Is(rerr, provider.ErrConflict) && cur.ref == ref && cur.meta.UID == w.meta.UID && !cur.deleting() && cur.replicas == 0 {
				return nil
			}
			return rerr
		}
		// Refused as at the first read when its bounds were broken
		// meanwhile.
		if err := d.checkBounds(op, id, cur); err != nil {
			return err
		}
		w = cur
	}
}

// ownMax reports whether w's maximum bound is its own: its
// AnnotationMaxReplicas or its Config.Workloads entry, not Config.Bounds'
// default.
func (d *Driver) ownMax(w workload) bool {
	if _, ok := d.cfg.Workloads[w.ref.String()]; ok {
		return true
	}
	_, src, err := annotationBound(w.meta, AnnotationMaxReplicas)
	return err == nil && src != ""
}

// errDeletesClaims is Stop's and SetCapacity's error for a StatefulSet
// whose scale to zero would delete its PersistentVolumeClaims.
func errDeletesClaims(op, id string) error {
	return fmt.Errorf("kubernetes: %s %q: %w: the StatefulSet's persistentVolumeClaimRetentionPolicy is whenScaled: Delete, so a scale to zero would delete every PersistentVolumeClaim of its pods, its data, which a stop or a scale to zero keeps; set whenScaled: Retain to let it be scaled to zero", op, id, provider.ErrUnsupported)
}

// Start restores a stopped workload's replicas: the count in
// AnnotationStoppedReplicas, or, when none is remembered (no annotation:
// someone else scaled it to zero), its minimum bound but at least 1; but
// never more than its own maximum bound (its AnnotationMaxReplicas or its
// Config.Workloads entry, not Config.Bounds' default: the workload ran
// the replicas remembered under that default), which may have been
// lowered while it was stopped: a remembered count above it starts the
// workload at that maximum (a warning in the log names both), and a
// maximum of 0 (both bound annotations 0: its owner keeps it off) is
// provider.ErrInvalid naming the annotation and the replicas Start would
// run, and nothing is written. An
// annotation that is not a count Stop could have written (a whole number
// from 1 to 2147483647) is provider.ErrInvalid naming the workload and the
// annotation, and Start writes nothing: it does not guess the replicas of
// a workload whose memory it cannot read (set the annotation to the
// replicas to restore, or remove it to restore the minimum). It writes them
// through the scale subresource, conditional on the resourceVersion read,
// then removes the annotation (unless the workload was stopped again in
// between: the annotation is then that Stop's). Starting a workload with
// replicas > 0 (running or pending) succeeds and changes nothing, as does
// losing the race to another writer that started it. A pod is
// provider.ErrUnsupported; a workload being deleted provider.ErrConflict;
// a workload that a HorizontalPodAutoscaler with minReplicas 0 targets a
// *HPAConflictError (that HPA scales it from zero itself). With any other
// HPA, Start hands the workload back to it. A workload whose bound
// annotations are malformed is provider.ErrInvalid and nothing is
// written (Driver.Bounds), unless it is stopped and remembers its
// replicas: those need no bound, and it is started to them (its bound
// annotations left as they are), so that a typo in one does not keep a
// stopped service down.
func (a *Workloads) Start(ctx context.Context, id string) (err error) {
	defer a.d.red.Errorp(&err)
	const op = "start"
	d := a.d
	ref, w, err := d.undeletedWorkload(ctx, op, id)
	if err != nil {
		return err
	}
	// The bounds decide the replicas only when none are remembered: a
	// stopped workload that remembers them is started to them whatever
	// its bound annotations say, so that a typo in one does not keep a
	// stopped service down (it stays refused by every other call).
	v, remembers := w.meta.Annotations[AnnotationStoppedReplicas]
	b, berr := d.bounds(w)
	if berr != nil && (w.replicas > 0 || !remembers) {
		return fmt.Errorf("kubernetes: %s %q: %w", op, id, berr)
	}
	if w.replicas > 0 {
		return nil
	}
	restore := max(1, b.Min)
	if remembers {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > math.MaxInt32 {
			return fmt.Errorf("kubernetes: %s %q: %w", op, id, provider.Invalid("annotation "+AnnotationStoppedReplicas, v,
				"must be the replicas Stop remembered, a whole number from 1 to 2147483647; set it to the replicas to restore, or remove it to restore the minimum"))
		}
		restore = n
	}
	if berr == nil && restore > b.Max && d.ownMax(w) {
		// The maximum was lowered since the stop: it is the owner's word
		// now, and Start does not write replicas above it. Not
		// config.bounds', a default for every workload, under which this
		// one ran the replicas remembered: fewer could not carry its load.
		if b.Max == 0 {
			// Only both bound annotations 0 give a max of 0
			// (config.bounds' and config.workloads' are ≥ 1).
			_, src, _ := annotationBound(w.meta, AnnotationMaxReplicas)
			return fmt.Errorf("kubernetes: %s %q: %w", op, id, provider.Invalid(src+" "+AnnotationMaxReplicas, 0,
				fmt.Sprintf("the workload may run no replica, and Start would run %d replicas; raise the maximum to start it", restore)))
		}
		d.log.Warn("kubernetes: starting at the workload's maximum, below the replicas remembered", "id", id, "remembered", restore, "max", b.Max)
		restore = b.Max
	}
	if err := d.hpaAllows(ctx, op, id, ref, 0, int32(restore)); err != nil {
		return err
	}
	if err := d.scaleTo(ctx, op, id, w, int32(restore)); err != nil {
		if errors.Is(err, provider.ErrConflict) {
			// Started meanwhile (another Start): started is started, as
			// at the first read.
			if cur, gerr := d.getWorkload(ctx, op, id, ref); gerr == nil && !cur.deleting() && cur.replicas > 0 {
				return nil
			}
		}
		return err
	}
	if _, ok := w.meta.Annotations[AnnotationStoppedReplicas]; !ok {
		return nil
	}
	// The replicas are restored; forgetting them is housekeeping, and a
	// failure leaves an annotation that the next Stop overwrites. A lost
	// race (a status update, a relabelling) is decided again on the
	// re-read workload, as the writes are.
	for attempt := 0; ; attempt++ {
		cur, err := d.getWorkload(ctx, op, id, ref)
		if err == nil && cur.meta.UID != w.meta.UID {
			// Deleted and created again since the scale write: the
			// annotation, if any, is the new object's.
			d.log.Info("kubernetes: started, but the workload was replaced since; its annotations are left as they are", "id", id)
			return nil
		}
		if err == nil && cur.replicas == 0 {
			// Stopped again since the scale write: the annotation is that
			// Stop's memory now, for the next Start.
			d.log.Info("kubernetes: started, but stopped again since; the remembered replicas stay", "id", id)
			return nil
		}
		if err == nil {
			_, err = d.patchAnnotations(ctx, op, id, ref, cur.meta.ResourceVersion, map[string]*string{AnnotationStoppedReplicas: nil})
			if errors.Is(err, provider.ErrConflict) && attempt < d.cfg.ConflictRetries {
				continue
			}
		}
		if err != nil {
			d.log.Warn("kubernetes: started, but the remembered replicas were not removed", "id", id, "err", err)
		}
		return nil
	}
}

var (
	_ provider.TerminateChecker = (*Workloads)(nil)
	_ provider.StopChecker      = (*Workloads)(nil)
)

// CanStop implements provider.StopChecker: a pod (Kubernetes cannot stop
// one: its controller replaces it) and a PersistentVolume (the driver
// never changes one) are provider.ErrUnsupported, as Stop says, so that a
// reaper asks no one to approve their stop; a Deployment or a
// StatefulSet, and an ID of no form the driver knows (Stop says it is not
// found), are nil.
func (a *Workloads) CanStop(r provider.Resource) error {
	ref, ok, err := ParseRef(r.ID)
	if err != nil || !ok {
		return nil
	}
	switch ref.Kind {
	case ObjectPod:
		return fmt.Errorf("kubernetes: stop %q: %w: Kubernetes cannot stop a pod (its controller replaces it); stop its workload", r.ID, provider.ErrUnsupported)
	case ObjectPersistentVolume:
		return fmt.Errorf("kubernetes: stop %q: %w: the driver never changes a PersistentVolume", r.ID, provider.ErrUnsupported)
	}
	return nil
}

// CanTerminate implements provider.TerminateChecker: every resource is
// provider.ErrUnsupported, as Terminate says.
func (a *Workloads) CanTerminate(r provider.Resource) error {
	return fmt.Errorf("kubernetes: terminate %q: %w: the driver never deletes a workload (Stop scales it to zero)", r.ID, provider.ErrUnsupported)
}

// Terminate is deliberately unsupported: deleting a Deployment or a
// StatefulSet is for its owners (kubectl delete, GitOps), not for an idle
// reaper; Stop scales it to zero and keeps it. It returns
// provider.ErrNotFound for an unknown workload and provider.ErrUnsupported
// otherwise, without changing anything.
func (a *Workloads) Terminate(ctx context.Context, id string) (err error) {
	defer a.d.red.Errorp(&err)
	const op = "terminate"
	d := a.d
	ref, err := d.resolve(ctx, op, id)
	if err != nil {
		return err
	}
	if ref.Kind == ObjectPod {
		if _, _, err := d.getPod(ctx, op, id, ref); err != nil {
			return err
		}
	} else if _, err := d.getWorkload(ctx, op, id, ref); err != nil {
		return err
	}
	return fmt.Errorf("kubernetes: %s %q: %w: the driver never deletes workloads or pods; Stop scales a workload to zero", op, id, provider.ErrUnsupported)
}

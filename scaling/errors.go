package scaling

import (
	"errors"
	"fmt"
)

// Errors of the package. Functions wrap them with context; test with
// errors.Is.
var (
	// ErrNotVerified means a step was carried out but its verification
	// failed: the capacity did not settle within the deadline, or a
	// monitoring signal was unhealthy during the window. The plan was
	// rolled back (or its rollback failed, see ErrRollback).
	ErrNotVerified = errors.New("scaling: not verified")
	// ErrRollback means a rollback could not restore the state before the
	// plan: a rollback step was blocked or failed.
	ErrRollback = errors.New("scaling: rollback failed")
	// ErrDrift means the target's capacity is neither where the plan left
	// it nor where it was going: someone else changed it, and the plan is
	// abandoned rather than fight that change.
	ErrDrift = errors.New("scaling: capacity changed outside the plan")
	// ErrWriteTimeout means a provider write (SetCapacity, Resize) did
	// not return within EngineConfig.WriteTimeout. Its outcome is
	// unknown: it may have taken effect, or still take effect, so it is
	// never taken for a write that changed nothing. The engine re-reads
	// the target and records a change it finds in effect; a step's
	// reservation is kept (not refunded) and the plan rolled back; a
	// rollback step found in effect is settled and the rollback goes on,
	// one not found so fails the rollback (ErrRollback). (A write that
	// failed with another error is read again the same way, but a step's
	// found where it started is taken for one that changed nothing.)
	ErrWriteTimeout = errors.New("scaling: provider write timed out")
	// ErrPlanRunning means the plan is being executed by another call.
	ErrPlanRunning = errors.New("scaling: plan already running")
	// ErrTargetInUse means Engine.Forget refused to forget a target that
	// the policy of an Autoscaler of the engine (one not closed) still
	// has: that Autoscaler keeps writing the target's History, which a
	// new one would split from.
	ErrTargetInUse = errors.New("scaling: target in use")
	// ErrClosed means the Autoscaler was closed (Autoscaler.Close): it
	// evaluates no target any more.
	ErrClosed = errors.New("scaling: autoscaler closed")
	// ErrNoStrategy means a target has no strategy that could recommend.
	ErrNoStrategy = errors.New("scaling: no strategy recommended")
	// ErrScaledByAnother means the Autoscaler decided a new desired
	// capacity for a group that another autoscaler scales
	// (provider.Resource.ScaledBy, such as a Kubernetes
	// HorizontalPodAutoscaler) and planned nothing: the other would undo
	// the change at its next sync, and the Autoscaler the other's at its
	// next pass. Remove the target, or the other autoscaler.
	ErrScaledByAnother = errors.New("scaling: another autoscaler scales the group")
)

// StepError is the failure of one plan step, naming the stage. It wraps
// the cause (errors.Is reaches provider.ErrThrottled, safety.ErrRuleFailed,
// ErrNotVerified, a fencing error, ...). A step the safety gate refused
// or the rate limiter denied is no failure and no StepError (see
// Engine.Execute).
type StepError struct {
	// PlanID and Step identify the step (Step counts from 1; 0 for the
	// plan as a whole).
	PlanID string
	// Step is the step's number.
	Step int
	// Stage is where it failed.
	Stage Stage
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *StepError) Error() string {
	return fmt.Sprintf("scaling: plan %s step %d: %s: %v", e.PlanID, e.Step, e.Stage, e.Err)
}

// Unwrap returns the cause.
func (e *StepError) Unwrap() error { return e.Err }

package reaper

import (
	"errors"
	"fmt"
)

// ErrNotVerified means an action was accepted by the provider but the
// resource did not reach its target state (stopped, terminated, the new
// size) within Config.VerifyTimeout.
var ErrNotVerified = errors.New("reaper: action not verified")

// Stage names the step of the pipeline an error came from.
type Stage string

// The stages of the pipeline, in order.
const (
	StageDetect    Stage = "detect"    // reading metrics or activity, or the detector
	StageInventory Stage = "inventory" // re-reading the resource before acting
	StageSize      Stage = "size"      // choosing the target size of a downsize
	StageSafety    Stage = "safety"    // the safety engine or the approval store
	StageApproval  Stage = "approval"  // requesting or consuming an approval
	StageRateLimit Stage = "ratelimit" // reserving rate-limit budget
	StageAct       Stage = "act"       // Stop, Terminate or Resize
	StageVerify    Stage = "verify"    // polling for the target state
	StageRecord    Stage = "record"    // recording the action in the history
)

// ResourceError is one failure of one resource in a run. It wraps the cause,
// so errors.Is and errors.As see through it (for example to
// provider.ErrThrottled or safety.ErrBlocked).
type ResourceError struct {
	// ResourceID is the resource that failed.
	ResourceID string
	// Stage is the step that failed.
	Stage Stage
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *ResourceError) Error() string {
	return fmt.Sprintf("reaper: %s: %s: %v", e.ResourceID, e.Stage, e.Err)
}

// Unwrap returns the cause.
func (e *ResourceError) Unwrap() error { return e.Err }

package reaper

import (
	"errors"
	"fmt"

	"github.com/idlescale/idlescale/internal/enumtext"
)

// ErrNotVerified means an action was accepted by the provider but the
// resource did not reach its target state (stopped, terminated, the new
// size) within Config.VerifyTimeout.
var ErrNotVerified = errors.New("reaper: action not verified")

// Stage names the step of the pipeline an error came from. Its values are
// lower-case names ("ratelimit"), as JSON shows them. The zero Stage "" is
// unset; Validate refuses it, and MarshalText and UnmarshalText map it to
// and from empty text.
type Stage string

// The stages of the pipeline, in order.
const (
	StageDetect    Stage = "detect"    // reading metrics or activity, or the detector
	StageInventory Stage = "inventory" // re-reading the resource before acting
	StageSize      Stage = "size"      // choosing the target size of a downsize
	StageSafety    Stage = "safety"    // the Gate, or listing the approval requests
	StageApproval  Stage = "approval"  // requesting or consuming an approval
	StageRateLimit Stage = "ratelimit" // reserving or refunding rate-limit budget (the Reserver)
	StageAct       Stage = "act"       // Stop, Terminate or Resize
	StageVerify    Stage = "verify"    // polling for the target state
	StageRecord    Stage = "record"    // recording the action in the history
)

// stages lists the stages in order.
var stages = []Stage{StageDetect, StageInventory, StageSize, StageSafety, StageApproval,
	StageRateLimit, StageAct, StageVerify, StageRecord}

// String returns s's value, such as "ratelimit" ("" when unset).
func (s Stage) String() string { return string(s) }

// Validate returns a *provider.InvalidError (matching provider.ErrInvalid)
// naming the value unless s is one of the stages above; it refuses the
// unset Stage.
func (s Stage) Validate() error { return oneOf("stage", s, stages) }

// MarshalText returns s's value (empty text when unset).
func (s Stage) MarshalText() ([]byte, error) { return []byte(s), nil }

// UnmarshalText sets s from text: empty text (unset) or a value Validate
// accepts; any other text is a *provider.InvalidError naming it, and s is
// left unchanged.
func (s *Stage) UnmarshalText(text []byte) error { return enumtext.Unmarshal(s, text, Stage.Validate) }

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

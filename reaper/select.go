package reaper

import (
	"fmt"
	"math"
	"strconv"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// Selection is Select's answer for one resource: the action the reaper
// proposes to the Gate, or why it passes the resource over.
type Selection struct {
	// Action is the safety action to propose: stop, terminate, or resize
	// for a downsize. Empty when Skip is set.
	Action safety.Action `json:"action,omitempty"`
	// Skip says why the resource is not a candidate; empty for a
	// candidate.
	Skip string `json:"skip,omitempty"`
}

// Select is the reaper's candidate selection: a pure function of cfg and
// one resource's verdict that reads no clock and calls no provider, as the
// Kubernetes HPA's replica calculator is to its controller. RunOnce calls
// it for every verdict; the resources it selects then go through the rest
// of the pipeline (re-read from the inventory and skipped unless the
// action applies to their state, the Gate, approvals, the Reserver, the
// provider).
//
// A verdict is a candidate when, in this order:
//
//   - it recommends an action (not detector.ActionNone);
//   - its state is detector.Idle, or detector.NotIdle and the action is a
//     downsize (which comes with a confident not-idle verdict): an Unknown
//     (or unset) state never is, whatever it recommends;
//   - its confidence is at least cfg.MinConfidence (a confidence that is
//     not a number, or is outside [0, 1], never is);
//   - the reaper carries the action out (stop, terminate, downsize; not
//     schedule) and cfg.Actions allows it.
//
// The first rule that fails gives Skip. cfg is used with its defaults
// filled in (a zero cfg selects idle verdicts recommending stop with
// confidence ≥ 0.8). Select returns an error matching provider.ErrInvalid,
// naming the field, when cfg is invalid.
func Select(cfg Config, v detector.Verdict) (Selection, error) {
	if err := cfg.Validate(); err != nil {
		return Selection{}, fmt.Errorf("reaper: select: %w", err)
	}
	return selectAction(cfg.withDefaults(), v), nil
}

// selectAction is Select for a valid cfg with its defaults filled in.
func selectAction(cfg Config, v detector.Verdict) Selection {
	switch {
	case v.Action == detector.ActionNone:
		return Selection{Skip: "verdict " + v.State.String() + ", no action recommended (confidence " + ftoa(v.Confidence) + ")"}
	case v.State != detector.Idle && v.Action != detector.ActionDownsize:
		return Selection{Skip: "verdict " + v.State.String() + ": not idle"}
	case v.State != detector.Idle && v.State != detector.NotIdle:
		// A downsize of a verdict that could not decide (a host's
		// detector may recommend one): Unknown is never a reason to act.
		name := v.State.String()
		if name == "" {
			name = "unset"
		}
		return Selection{Skip: "verdict " + name + ": undecided, never a reason to act"}
	case math.IsNaN(v.Confidence):
		return Selection{Skip: "confidence is not a number"}
	case v.Confidence < 0 || v.Confidence > 1:
		// An infinity (a host detector's division by zero) would pass
		// every minimum: it is no evidence.
		return Selection{Skip: "confidence " + strconv.FormatFloat(v.Confidence, 'g', -1, 64) + " is outside [0, 1]"}
	case v.Confidence < cfg.MinConfidence:
		return Selection{Skip: "confidence " + ftoa(v.Confidence) + " below " + ftoa(cfg.MinConfidence)}
	}
	action, ok := safetyAction(v.Action)
	switch {
	case !ok:
		return Selection{Skip: "action " + string(v.Action) + " is not carried out by the reaper"}
	case !cfg.allows(v.Action):
		return Selection{Skip: "action " + string(v.Action) + " not allowed by config"}
	}
	return Selection{Action: action}
}

// safetyAction maps a detector action to the safety action that carries it
// out; ok is false for actions the reaper does not carry out.
func safetyAction(a detector.Action) (safety.Action, bool) {
	switch a {
	case detector.ActionStop:
		return safety.ActionStop, true
	case detector.ActionTerminate:
		return safety.ActionTerminate, true
	case detector.ActionDownsize:
		return safety.ActionResize, true
	}
	return "", false
}

// applies reports whether action makes sense for res in its state: stop
// a running one, terminate one not yet terminated (a volume only while
// detached, stopped: an attached one, running, serves an instance, and
// a pending or stopping one is being attached or detached, see
// provider.State), resize a running or stopped one.
func applies(action safety.Action, res provider.Resource) bool {
	switch s := res.State; action {
	case safety.ActionStop:
		return s == provider.StateRunning
	case safety.ActionTerminate:
		return s != provider.StateTerminated && (res.Kind != provider.KindVolume || s == provider.StateStopped)
	default: // resize
		return s == provider.StateRunning || s == provider.StateStopped
	}
}

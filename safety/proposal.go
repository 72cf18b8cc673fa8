package safety

import (
	"github.com/idlescale/idlescale/internal/enumtext"

	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// Action is the kind of mutation a Proposal asks for.
type Action string

// The actions the engine knows. Disruptive actions (stop, terminate,
// resize, scale in) take capacity or state away. The business-hours,
// backup and dependency rules apply by default to those on one resource
// (stop, terminate, resize), not to a group's scale in: an autoscaler
// scales in all day, and the rollback of a scale-out that failed its
// verification is a scale in. A host that wants scale-ins kept out of
// business hours adds ActionScaleIn to BusinessHoursConfig.Actions.
const (
	ActionStart     Action = "start"     // start a stopped resource
	ActionStop      Action = "stop"      // stop a running resource, keeping storage
	ActionTerminate Action = "terminate" // delete a resource for good
	ActionResize    Action = "resize"    // change a resource's vertical size
	ActionScaleIn   Action = "scale_in"  // lower a group's desired capacity (or its bounds)
	ActionScaleOut  Action = "scale_out" // raise a group's desired capacity (or, keeping it, its bounds)
)

// Actions lists every Action.
func Actions() []Action {
	return []Action{ActionStart, ActionStop, ActionTerminate, ActionResize, ActionScaleIn, ActionScaleOut}
}

// String returns a as text ("stop", "scale_in", ...), or the value as it
// is when a is unset or unknown.
func (a Action) String() string { return string(a) }

// Validate returns an error matching provider.ErrInvalid, naming the
// value, unless a is a known Action. The empty Action is unset: a
// proposal must set one, so Validate refuses it.
func (a Action) Validate() error {
	switch a {
	case ActionStart, ActionStop, ActionTerminate, ActionResize, ActionScaleIn, ActionScaleOut:
		return nil
	}
	return provider.Invalid("action", string(a), "must be one of start, stop, terminate, resize, scale_in, scale_out")
}

// MarshalText implements encoding.TextMarshaler: a known action as its
// name, unset as empty text. An unknown value returns the error of
// Validate.
func (a Action) MarshalText() ([]byte, error) { return enumtext.Marshal(a, Action.Validate) }

// UnmarshalText implements encoding.TextUnmarshaler: it accepts the names
// of the known actions, and empty text as unset. Any other text returns
// an error matching provider.ErrInvalid naming it, and leaves a
// unchanged.
func (a *Action) UnmarshalText(b []byte) error { return enumtext.Unmarshal(a, b, Action.Validate) }

// Disruptive reports whether a takes capacity away or interrupts service:
// stop, terminate, resize and scale in.
func (a Action) Disruptive() bool {
	switch a {
	case ActionStop, ActionTerminate, ActionResize, ActionScaleIn:
		return true
	}
	return false
}

// IsScale reports whether a changes a group's capacity.
func (a Action) IsScale() bool { return a == ActionScaleIn || a == ActionScaleOut }

// Proposal is one mutation about to happen, as the engine sees it. It is a
// value: rules must not change it (Resource.Tags is shared with the
// caller).
type Proposal struct {
	// ID optionally identifies the proposal in the caller's records (a
	// plan step, a reaper candidate). It is reported, never interpreted.
	ID string `json:"id,omitempty"`
	// Action is what is about to happen. Required.
	Action Action `json:"action"`
	// Resource is the resource or group acted on. ID and Kind are
	// required; Environment, Role, Criticality, Protected, Tags and
	// TimeZone feed the critical-workload and business-hours rules.
	Resource provider.Resource `json:"resource"`
	// Current is the group's capacity before a scale action (required for
	// scale_in and scale_out; it is the state a rollback restores).
	Current provider.CapacitySpec `json:"current,omitzero"`
	// Target is the capacity a scale action asks for (required for
	// scale_in and scale_out).
	Target provider.CapacitySpec `json:"target,omitzero"`
	// CurrentSize is the size before a resize (the rollback state); the
	// zero value means unknown.
	CurrentSize provider.Size `json:"current_size,omitzero"`
	// TargetSize is the size a resize asks for (required for resize).
	TargetSize provider.Size `json:"target_size,omitzero"`
	// Fleet names the fleet (group of like resources) the resource belongs
	// to, for the per-hour fleet share limit. Empty means the resource is
	// its own fleet.
	Fleet string `json:"fleet,omitempty"`
	// FleetSize is how many resources the fleet has (≥ 0; 0 means
	// unknown). A group without a Fleet is its own fleet of
	// Current.Desired instances when it is 0; the limits rule blocks a
	// disruptive action on a named Fleet of unknown size.
	FleetSize int `json:"fleet_size,omitempty"`
	// FleetPlanned is how many instances of the fleet the caller has
	// planned to act on before this proposal without recording them in
	// the ActionHistory (≥ 0): a dry run's own would-act decisions, so
	// that it reports what an executing run would do. The limits rule
	// counts them as acted on. It is not part of the Fingerprint.
	FleetPlanned int `json:"fleet_planned,omitempty"`
	// Requester is who or what asked for the change: a person, a service
	// account, "reaper", "autoscaler". Required; approvals refuse an
	// approver who is the same identity once normalised (case, white
	// space, invisible characters; see approval.SameIdentity), and a
	// requester that is not UTF-8, contains a control character or is
	// empty once normalised.
	Requester string `json:"requester"`
	// Source is the verdict or plan the proposal came from (a detector
	// verdict summary, a scaling plan ID), for the audit trail.
	Source string `json:"source,omitempty"`
	// Reason says why, in words.
	Reason string `json:"reason,omitempty"`
	// ApprovalID names a granted approval request for exactly this
	// proposal; the engine checks it when a rule requires approval.
	ApprovalID string `json:"approval_id,omitempty"`
	// Now is the time the decision is made for. Required; the engine never
	// reads the clock.
	Now time.Time `json:"now"`
}

// Validate checks the fields the engine relies on and returns an error
// matching provider.ErrInvalid that names the first wrong field. A scale
// action must move desired capacity its way; a scale_out that keeps it
// must not lower Min or Max (that is a scale_in, which the rules treat as
// disruptive).
func (p Proposal) Validate() error {
	if err := p.Action.Validate(); err != nil {
		return err
	}
	if err := provider.ValidateID(p.Resource.ID); err != nil {
		return provider.Within("resource", err)
	}
	if err := p.Resource.Kind.Validate(); err != nil {
		return provider.Within("resource", err)
	}
	if p.Resource.State != "" {
		if err := p.Resource.State.Validate(); err != nil {
			return provider.Within("resource", err)
		}
	}
	if err := p.Resource.Criticality.Validate(); err != nil {
		return provider.Within("resource", err)
	}
	if p.Requester == "" {
		return provider.Invalid("requester", p.Requester, "must name who or what asked for the change")
	}
	if p.Now.IsZero() {
		return provider.Invalid("now", p.Now, "must be set: decisions take now in their input")
	}
	if p.FleetSize < 0 {
		return provider.Invalid("fleet_size", p.FleetSize, "must be ≥ 0")
	}
	if p.FleetPlanned < 0 {
		return provider.Invalid("fleet_planned", p.FleetPlanned, "must be ≥ 0")
	}
	switch {
	case p.Action.IsScale():
		if err := p.Current.Validate(); err != nil {
			return provider.Within("current", err)
		}
		if err := p.Target.Validate(); err != nil {
			return provider.Within("target", err)
		}
		if p.Action == ActionScaleIn && p.Target.Desired > p.Current.Desired {
			return provider.Invalid("target.desired", p.Target.Desired, "scale_in must not raise desired above current "+strconv.Itoa(p.Current.Desired))
		}
		if p.Action == ActionScaleOut && p.Target.Desired < p.Current.Desired {
			return provider.Invalid("target.desired", p.Target.Desired, "scale_out must not lower desired below current "+strconv.Itoa(p.Current.Desired))
		}
		// At the same desired capacity, a scale_out raises bounds only:
		// lowering one is a scale_in, which the rules treat as disruptive.
		if p.Action == ActionScaleOut && p.Target.Desired == p.Current.Desired {
			if p.Target.Max < p.Current.Max {
				return provider.Invalid("target.max", p.Target.Max, "a scale_out that keeps desired must not lower max below current "+strconv.Itoa(p.Current.Max)+" (that is a scale_in)")
			}
			if p.Target.Min < p.Current.Min {
				return provider.Invalid("target.min", p.Target.Min, "a scale_out that keeps desired must not lower min below current "+strconv.Itoa(p.Current.Min)+" (that is a scale_in)")
			}
		}
	case p.Action == ActionResize:
		if err := p.TargetSize.ValidateFor(p.Resource.Kind); err != nil {
			return provider.Within("target_size", err)
		}
		if !p.CurrentSize.IsZero() {
			if err := p.CurrentSize.ValidateFor(p.Resource.Kind); err != nil {
				return provider.Within("current_size", err)
			}
		}
	}
	return nil
}

// Units returns how many instances the proposal acts on: the fall in
// desired capacity for scale_in, the rise for scale_out, and 1 for every
// other action.
func (p Proposal) Units() int {
	switch p.Action {
	case ActionScaleIn:
		return p.Current.Desired - p.Target.Desired
	case ActionScaleOut:
		return p.Target.Desired - p.Current.Desired
	}
	return 1
}

// Fingerprint returns a stable hex digest (SHA-256) of what the proposal
// would change: action, resource identity (ID, kind, provider, region),
// current and target capacity, current and target size. An approval is
// bound to it, so a changed target needs a new approval. Requester, Now,
// Reason and the resource's labels are not part of it.
func (p Proposal) Fingerprint() string {
	h := sha256.New()
	var buf []byte
	str := func(s string) {
		buf = strconv.AppendInt(buf[:0], int64(len(s)), 10)
		buf = append(buf, ':')
		buf = append(buf, s...)
		h.Write(buf)
	}
	num := func(n int64) {
		buf = strconv.AppendInt(buf[:0], n, 10)
		buf = append(buf, ';')
		h.Write(buf)
	}
	str(string(p.Action))
	str(p.Resource.ID)
	str(string(p.Resource.Kind))
	str(p.Resource.Provider)
	str(p.Resource.Region)
	for _, c := range []provider.CapacitySpec{p.Current, p.Target} {
		num(int64(c.Min))
		num(int64(c.Max))
		num(int64(c.Desired))
	}
	for _, s := range []provider.Size{p.CurrentSize, p.TargetSize} {
		str(s.InstanceType)
		str(strconv.FormatFloat(s.VCPU, 'g', -1, 64))
		num(int64(s.MemoryMiB))
		num(int64(s.Timeout))
	}
	return hex.EncodeToString(h.Sum(nil))
}

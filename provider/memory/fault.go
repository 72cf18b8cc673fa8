package memory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/idlescale/idlescale/internal/enumtext"
	"github.com/idlescale/idlescale/internal/redact"
	"github.com/idlescale/idlescale/provider"
)

// Op names an operation of the Cloud, for fault injection and the mutation
// log. The set is closed. The zero value "" means not set; Validate and
// Fault.Validate refuse it.
type Op string

// The operations. OpAdd and OpUpdate appear only in the mutation log.
const (
	OpList        Op = "list"
	OpGet         Op = "get"
	OpQueryMetric Op = "query_metric"
	OpStart       Op = "start"
	OpStop        Op = "stop"
	OpTerminate   Op = "terminate"
	OpCapacity    Op = "capacity"
	OpSetCapacity Op = "set_capacity"
	OpResize      Op = "resize"
	OpBackups     Op = "backups"
	OpActivity    Op = "activity"
	OpAdd         Op = "add"
	OpUpdate      Op = "update"
)

var injectable = []Op{OpList, OpGet, OpQueryMetric, OpStart, OpStop, OpTerminate, OpCapacity, OpSetCapacity, OpResize, OpBackups, OpActivity}

// Validate returns a *provider.InvalidError naming o unless o is one of the
// operations above.
func (o Op) Validate() error {
	if o == OpAdd || o == OpUpdate || slices.Contains(injectable, o) {
		return nil
	}
	return provider.Invalid("op", string(o), "must be one of list, get, query_metric, start, stop, terminate, capacity, set_capacity, resize, backups, activity, add, update")
}

// String returns the operation's value, such as "set_capacity".
func (o Op) String() string { return string(o) }

// MarshalText returns the operation's value.
func (o Op) MarshalText() ([]byte, error) { return []byte(o), nil }

// UnmarshalText sets o from text: "" (not set) or an operation Validate
// accepts; any other value is a *provider.InvalidError naming it.
func (o *Op) UnmarshalText(text []byte) error { return enumtext.Unmarshal(o, text, Op.Validate) }

// Fault describes a failure to inject into matching calls. A call matches
// when its operation is Op and, if ResourceID is set, it concerns that
// resource.
//
// What a firing fault does:
//   - Latency > 0 delays the call on the Cloud's clock first (a cancelled
//     context ends the wait with the context's error);
//   - Throttle fails the call with an error matching provider.ErrThrottled
//     (and wrapping Err, when set);
//   - Partial applies part of the change (half of a capacity change, half
//     of a List) and then fails with an error matching ErrPartial and Err
//     (or provider.ErrThrottled with Throttle); a SetCapacity's, which
//     changed the group, matches none of the sentinels that say nothing
//     changed (provider.ChangedNothing), whatever Err is; on any other
//     operation it applies nothing and the call fails as without Partial
//     (not matching ErrPartial);
//   - Err fails the call with an error that wraps Err (errors.Is and
//     errors.As reach it);
//   - a Fault with none of Throttle, Partial and Err fails with ErrInjected,
//     unless it has a Latency, in which case it only delays.
type Fault struct {
	// Op is the operation to fail. Required.
	Op Op `json:"op" yaml:"op"`
	// ResourceID restricts the fault to one resource; empty matches all.
	// It must be a valid ID, and a list fault has none (Validate).
	ResourceID string `json:"resource_id,omitempty" yaml:"resource_id,omitempty"`
	// Err is the error to return.
	Err error `json:"-" yaml:"-"`
	// Throttle returns an error matching provider.ErrThrottled.
	Throttle bool `json:"throttle,omitempty" yaml:"throttle,omitempty"`
	// Latency delays the call on the Cloud's clock.
	Latency time.Duration `json:"latency,omitempty" yaml:"latency,omitempty"`
	// Partial applies part of the change before failing (SetCapacity and
	// List; other operations fail without applying anything, with an
	// error that does not match ErrPartial).
	Partial bool `json:"partial,omitempty" yaml:"partial,omitempty"`
	// Nth fires the fault only on the Nth matching call, counting from 1;
	// 0 fires it on every matching call.
	Nth int `json:"nth,omitempty" yaml:"nth,omitempty"`
	// Times limits how often the fault fires; 0 means no limit.
	Times int `json:"times,omitempty" yaml:"times,omitempty"`
}

// Validate checks Op, Nth, Times and Latency, and that ResourceID is
// empty or a valid resource ID (provider.ValidateID), and empty for a
// list fault (a List concerns no one resource): a fault no call can
// match, which would never fire, is refused.
func (f Fault) Validate() error {
	switch {
	case !slices.Contains(injectable, f.Op):
		return provider.Invalid("fault.op", string(f.Op), "must be an injectable operation (list, get, query_metric, start, stop, terminate, capacity, set_capacity, resize, backups, activity)")
	case f.Nth < 0:
		return provider.Invalid("fault.nth", f.Nth, "must be ≥ 0")
	case f.Times < 0:
		return provider.Invalid("fault.times", f.Times, "must be ≥ 0")
	case f.Latency < 0:
		return provider.Invalid("fault.latency", f.Latency, "must be ≥ 0")
	case f.ResourceID != "" && provider.ValidateID(f.ResourceID) != nil:
		// Every call refuses such an ID before the faults: it would never fire.
		return provider.Invalid("fault.resource_id", f.ResourceID, fmt.Sprintf(
			"must be a resource ID (provider.ValidateID: no white space or control characters, at most %d bytes), or empty for every resource", provider.MaxIDLength))
	case f.Op == OpList && f.ResourceID != "":
		// A List concerns no one resource: the fault would never fire.
		return provider.Invalid("fault.resource_id", f.ResourceID, "must be empty for list, which concerns no one resource")
	}
	return nil
}

type faultState struct {
	Fault
	id    int
	calls int
	fired int
}

type faultSet struct {
	next   int
	active []*faultState
}

// FaultID identifies an injected fault for RemoveFault: an opaque handle
// numbered from 1 in the order faults were injected, not an enum.
type FaultID int

// InjectFault adds a fault and returns its ID. Faults are checked in the
// order they were added; the first that fires decides the call. Every
// fault a call matches counts it toward its Nth, whichever fault fires.
func (c *Cloud) InjectFault(f Fault) (_ FaultID, err error) {
	defer redact.Errorp(&err)
	if err := f.Validate(); err != nil {
		return 0, fmt.Errorf("memory: inject fault: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults.next++
	c.faults.active = append(c.faults.active, &faultState{Fault: f, id: c.faults.next})
	return FaultID(c.faults.next), nil
}

// RemoveFault removes one injected fault; unknown IDs are ignored.
func (c *Cloud) RemoveFault(id FaultID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, f := range c.faults.active {
		if f.id == int(id) {
			c.faults.active = append(c.faults.active[:i], c.faults.active[i+1:]...)
			return
		}
	}
}

// ClearFaults removes every injected fault.
func (c *Cloud) ClearFaults() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults.active = nil
}

// firing is the fault that fired for a call, if any.
type firing struct{ f *Fault }

func (fi firing) partial() bool { return fi.f != nil && fi.f.Partial }

func (fi firing) err(op Op, id string) error {
	f := fi.f
	cause := f.Err
	switch {
	case f.Throttle && cause != nil:
		cause = fmt.Errorf("%w: %w", provider.ErrThrottled, cause) // both reach the caller
	case f.Throttle:
		cause = provider.ErrThrottled
	case cause == nil:
		cause = ErrInjected
	}
	switch {
	case f.Partial && op == OpSetCapacity:
		// Part of the change was made: the error must not say that
		// nothing changed (provider.ChangedNothing), whatever its cause.
		return fmt.Errorf("memory: %s %q: %w: %w", op, id, ErrPartial, somethingChanged{cause})
	case f.Partial && op == OpList:
		return fmt.Errorf("memory: %s %q: %w: %w", op, id, ErrPartial, cause)
	default:
		return fmt.Errorf("memory: %s %q: %w", op, id, cause)
	}
}

// somethingChanged is err, which errors.Is and errors.As reach, but for
// the provider sentinels that say nothing changed.
type somethingChanged struct{ err error }

func (e somethingChanged) Error() string { return e.err.Error() }

// Is reports whether err matches target, unless target says nothing
// changed.
func (e somethingChanged) Is(target error) bool {
	return !provider.ChangedNothing(target) && errors.Is(e.err, target)
}

// As finds target in err's chain.
func (e somethingChanged) As(target any) bool { return errors.As(e.err, target) }

// enter starts a call: it checks ctx, fires faults and waits out injected
// latency. A returned firing with partial() set lets the caller apply part
// of its change and then return firing.err.
func (c *Cloud) enter(ctx context.Context, op Op, id string) (firing, error) {
	if err := ctx.Err(); err != nil {
		return firing{}, fmt.Errorf("memory: %s %q: %w", op, id, err)
	}
	c.mu.Lock()
	var hit *Fault
	for _, f := range c.faults.active {
		if f.Op != op || (f.ResourceID != "" && f.ResourceID != id) {
			continue
		}
		f.calls++ // every matching call counts toward Nth, the ones an earlier fault decides too
		if hit != nil || f.Nth != 0 && f.calls != f.Nth {
			continue
		}
		if f.Times != 0 && f.fired >= f.Times {
			continue
		}
		f.fired++
		cp := f.Fault
		hit = &cp
	}
	c.mu.Unlock()
	if hit == nil {
		return firing{}, nil
	}
	if hit.Latency > 0 {
		select {
		case <-ctx.Done():
			return firing{}, fmt.Errorf("memory: %s %q: %w", op, id, ctx.Err())
		case <-c.clock.After(hit.Latency):
		}
	}
	fi := firing{f: hit}
	switch {
	case hit.Partial && (op == OpSetCapacity || op == OpList):
		return fi, nil
	case hit.Latency > 0 && hit.Err == nil && !hit.Throttle && !hit.Partial:
		return firing{}, nil
	}
	return firing{}, fi.err(op, id)
}

// Mutation is one change the Cloud applied, in the order applied.
type Mutation struct {
	// Seq numbers mutations from 1.
	Seq int `json:"seq"`
	// Time is the Cloud's clock when the change was applied.
	Time time.Time `json:"time"`
	// Op is the operation.
	Op Op `json:"op"`
	// ResourceID is the resource changed.
	ResourceID string `json:"resource_id"`
	// From and To describe the change (states, capacities or sizes).
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Err is set when the change was applied only in part.
	Err error `json:"-"`
}

// record appends a mutation; c.mu must be held for writing.
func (c *Cloud) record(now time.Time, op Op, id, from, to string, err error) {
	m := Mutation{Seq: len(c.mutations) + 1, Time: now, Op: op, ResourceID: id, From: from, To: to, Err: err}
	c.mutations = append(c.mutations, m)
	c.log.Debug("memory: mutation", "seq", m.Seq, "op", string(op), "resource", id, "from", from, "to", to)
}

// Mutations returns a copy of the mutation log.
func (c *Cloud) Mutations() []Mutation {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]Mutation, len(c.mutations))
	copy(out, c.mutations)
	return out
}

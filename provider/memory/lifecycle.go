package memory

import (
	"context"
	"fmt"
	"time"

	"github.com/idlescale/idlescale/internal/redact"
	"github.com/idlescale/idlescale/provider"
)

// stoppable kinds can be started and stopped.
func stoppable(k provider.Kind) bool {
	return k == provider.KindInstance || k == provider.KindDatabase
}

var _ provider.StopChecker = (*Cloud)(nil)

// CanStop implements provider.StopChecker: a resource of a kind other than
// instance and database is provider.ErrUnsupported, as Stop refuses it
// (a function, a group, a volume, whose state follows its attachment, a
// load balancer), so that a reaper asks no one to approve its stop.
func (c *Cloud) CanStop(r provider.Resource) error {
	if !stoppable(r.Kind) {
		return fmt.Errorf("memory: stop %q: %w: a %s cannot be started or stopped", r.ID, provider.ErrUnsupported, r.Kind)
	}
	return nil
}

// Start implements provider.Actuator. A stopped instance or database becomes
// pending and runs after Config.StartDelay. Starting a running or pending one
// changes nothing; a stopping or terminated one returns provider.ErrConflict;
// other kinds provider.ErrUnsupported.
func (c *Cloud) Start(ctx context.Context, id string) (err error) {
	defer redact.Errorp(&err)
	return c.transition(ctx, OpStart, id, func(now time.Time, e *entry) (changed bool, err error) {
		switch e.res.State {
		case provider.StateRunning, provider.StatePending:
			return false, nil
		case provider.StateStopped:
			e.res.State, e.next, e.due = provider.StatePending, provider.StateRunning, now.Add(c.cfg.StartDelay)
			e.res.LaunchTime = now
			return true, nil
		}
		return false, fmt.Errorf("%w: cannot start a %s resource", provider.ErrConflict, e.res.State)
	})
}

// Stop implements provider.Actuator. A running instance or database becomes
// stopping and is stopped after Config.StopDelay. Stopping a stopped or
// stopping one changes nothing; a pending or terminated one returns
// provider.ErrConflict; other kinds provider.ErrUnsupported.
func (c *Cloud) Stop(ctx context.Context, id string) (err error) {
	defer redact.Errorp(&err)
	return c.transition(ctx, OpStop, id, func(now time.Time, e *entry) (bool, error) {
		switch e.res.State {
		case provider.StateStopped, provider.StateStopping:
			return false, nil
		case provider.StateRunning:
			e.res.State, e.next, e.due = provider.StateStopping, provider.StateStopped, now.Add(c.cfg.StopDelay)
			return true, nil
		}
		return false, fmt.Errorf("%w: cannot stop a %s resource", provider.ErrConflict, e.res.State)
	})
}

// Terminate implements provider.Actuator. Any resource becomes terminated at
// once; terminating a terminated one changes nothing. A terminated group has
// no capacity. A volume is terminated only while detached (stopped, see
// provider.State): one attached to an instance (running), or on its way
// to or from it (pending, stopping), is refused with provider.ErrConflict
// and left as it is, as EBS deletes only an available volume and the other
// clouds refuse to delete a disk in use: Update it to stopped first.
func (c *Cloud) Terminate(ctx context.Context, id string) (err error) {
	defer redact.Errorp(&err)
	return c.transition(ctx, OpTerminate, id, func(_ time.Time, e *entry) (bool, error) {
		switch {
		case e.res.State == provider.StateTerminated:
			return false, nil
		case e.res.Kind == provider.KindVolume && e.res.State != provider.StateStopped:
			return false, fmt.Errorf("%w: the volume is %s, not detached (stopped): it may be attached to an instance", provider.ErrConflict, e.res.State)
		}
		e.res.State, e.next, e.due = provider.StateTerminated, "", time.Time{}
		if e.group != nil {
			*e.group = groupState{}
		}
		return true, nil
	})
}

func (c *Cloud) transition(ctx context.Context, op Op, id string, apply func(time.Time, *entry) (bool, error)) error {
	if err := provider.ValidateID(id); err != nil {
		return fmt.Errorf("memory: %s: %w", op, err)
	}
	if _, err := c.enter(ctx, op, id); err != nil {
		return err
	}
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.resources[id]
	if !ok {
		return notFound(string(op), id)
	}
	if op != OpTerminate && !stoppable(e.res.Kind) {
		return fmt.Errorf("memory: %s %q: %w: a %s cannot be started or stopped", op, id, provider.ErrUnsupported, e.res.Kind)
	}
	e.settle(now)
	from := e.res.State
	changed, err := apply(now, e)
	if err != nil {
		return fmt.Errorf("memory: %s %q: %w", op, id, err)
	}
	if changed {
		c.record(now, op, id, string(from), string(e.res.State), nil)
	}
	return nil
}

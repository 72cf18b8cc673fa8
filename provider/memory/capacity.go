package memory

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/idlescale/idlescale/internal/redact"
	"github.com/idlescale/idlescale/provider"
)

// MaxGroupSize is the largest Max capacity a group of the in-memory cloud
// accepts (SetCapacity, AddGroup, fleet files): the cloud keeps the launch
// or drain time of every instance, so a larger group would take memory in
// proportion. Larger capacities return a *provider.InvalidError naming
// capacity.max.
const MaxGroupSize = 100_000

// checkGroupSize refuses a spec whose Max exceeds MaxGroupSize.
func checkGroupSize(field string, spec provider.CapacitySpec) error {
	if spec.Max > MaxGroupSize {
		return provider.Invalid(field, spec.Max, fmt.Sprintf("must be at most %d (memory.MaxGroupSize)", MaxGroupSize))
	}
	return nil
}

// groupState is a group's capacity: ready instances, instances still
// launching (each with the time it becomes ready) and instances draining
// (each with the time it disappears).
type groupState struct {
	spec     provider.CapacitySpec
	ready    int
	launches []time.Time
	drains   []time.Time
}

// at returns the capacity observed at now.
func (g *groupState) at(now time.Time) provider.Capacity {
	ready := g.ready
	launching := 0
	for _, t := range g.launches {
		if now.Before(t) {
			launching++
		} else {
			ready++
		}
	}
	draining := 0
	for _, t := range g.drains {
		if now.Before(t) {
			draining++
		}
	}
	return provider.Capacity{CapacitySpec: g.spec, Current: ready + launching + draining, Ready: ready}
}

// settle folds finished launches and drains into the state.
func (g *groupState) settle(now time.Time) {
	g.launches = slices.DeleteFunc(g.launches, func(t time.Time) bool {
		if !now.Before(t) {
			g.ready++
			return true
		}
		return false
	})
	g.drains = slices.DeleteFunc(g.drains, func(t time.Time) bool { return !now.Before(t) })
}

// moveTo starts the change from the current size toward desired.
func (g *groupState) moveTo(now time.Time, desired int, cfg Config) {
	serving := g.ready + len(g.launches)
	switch {
	case desired > serving:
		for range desired - serving {
			g.launches = append(g.launches, now.Add(cfg.LaunchDelay))
		}
	case desired < serving:
		remove := serving - desired
		// Cancel the launches that would finish last first, then drain ready
		// instances.
		slices.SortFunc(g.launches, func(a, b time.Time) int { return a.Compare(b) })
		cancel := min(remove, len(g.launches))
		g.launches = g.launches[:len(g.launches)-cancel]
		remove -= cancel
		for range remove {
			g.ready--
			g.drains = append(g.drains, now.Add(cfg.DrainDelay))
		}
	}
}

// Capacity implements provider.Scaler.
func (c *Cloud) Capacity(ctx context.Context, id string) (_ provider.Capacity, err error) {
	defer redact.Errorp(&err)
	if err := provider.ValidateID(id); err != nil {
		return provider.Capacity{}, fmt.Errorf("memory: capacity: %w", err)
	}
	if _, err := c.enter(ctx, OpCapacity, id); err != nil {
		return provider.Capacity{}, err
	}
	now := c.clock.Now()
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, err := c.group(OpCapacity, id)
	if err != nil {
		return provider.Capacity{}, err
	}
	return e.group.at(now), nil
}

// SetCapacity implements provider.Scaler. New instances become ready after
// Config.LaunchDelay; removed ones stop serving at once and disappear from
// Current after Config.DrainDelay. The capacity the group has already
// changes nothing and records no mutation. A terminated group returns
// provider.ErrConflict; a Max above MaxGroupSize provider.ErrInvalid.
func (c *Cloud) SetCapacity(ctx context.Context, id string, want provider.CapacitySpec) (err error) {
	defer redact.Errorp(&err)
	if err := provider.ValidateID(id); err != nil {
		return fmt.Errorf("memory: set capacity: %w", err)
	}
	if err := want.Validate(); err != nil {
		return fmt.Errorf("memory: set capacity %q: %w", id, provider.Within("capacity", err))
	}
	if err := checkGroupSize("capacity.max", want); err != nil {
		return fmt.Errorf("memory: set capacity %q: %w", id, err)
	}
	fault, err := c.enter(ctx, OpSetCapacity, id)
	if err != nil {
		return err
	}
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, err := c.group(OpSetCapacity, id)
	if err != nil {
		return err
	}
	if e.res.State == provider.StateTerminated {
		return fmt.Errorf("memory: set capacity %q: %w: group is terminated", id, provider.ErrConflict)
	}
	g := e.group
	g.settle(now)
	from := g.spec
	if fault.partial() {
		// Apply half of the change to desired, keeping it inside the bounds.
		half := from.Desired + (want.Desired-from.Desired)/2
		want.Desired = min(max(half, want.Min), want.Max)
	}
	g.spec = want
	g.moveTo(now, want.Desired, c.cfg)
	var ferr error
	if fault.partial() {
		ferr = fault.err(OpSetCapacity, id)
	}
	if want != from || ferr != nil {
		// A capacity the group has already is no change, and no
		// mutation, as a Stop of a stopped instance is none.
		c.record(now, OpSetCapacity, id, specString(from), specString(want), ferr)
	}
	return ferr
}

func (c *Cloud) group(op Op, id string) (*entry, error) {
	e, ok := c.resources[id]
	if !ok {
		return nil, notFound(string(op), id)
	}
	if e.group == nil {
		return nil, fmt.Errorf("memory: %s %q: %w: a %s has no capacity", op, id, provider.ErrUnsupported, e.res.Kind)
	}
	return e, nil
}

func specString(s provider.CapacitySpec) string {
	return fmt.Sprintf("min=%d max=%d desired=%d", s.Min, s.Max, s.Desired)
}

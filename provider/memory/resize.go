package memory

import (
	"context"
	"fmt"

	"github.com/idlescale/idlescale/internal/redact"
	"github.com/idlescale/idlescale/provider"
)

// InstanceType is one entry of the Cloud's instance catalogue.
type InstanceType struct {
	// Name is the type's name, such as "m5.large".
	Name string
	// VCPU is its number of virtual CPUs.
	VCPU float64
	// MemoryMiB is its memory in MiB.
	MemoryMiB int
	// HourlyCost is its on-demand price per hour (USD, us-east-1 Linux).
	HourlyCost float64
}

// catalog holds common EC2 types with their us-east-1 on-demand Linux
// prices, so that resizes in dry runs change cost as they would on AWS.
var catalog = map[string]InstanceType{
	"t3.nano":    {"t3.nano", 2, 512, 0.0052},
	"t3.micro":   {"t3.micro", 2, 1024, 0.0104},
	"t3.small":   {"t3.small", 2, 2048, 0.0208},
	"t3.medium":  {"t3.medium", 2, 4096, 0.0416},
	"t3.large":   {"t3.large", 2, 8192, 0.0832},
	"t3.xlarge":  {"t3.xlarge", 4, 16384, 0.1664},
	"m5.large":   {"m5.large", 2, 8192, 0.096},
	"m5.xlarge":  {"m5.xlarge", 4, 16384, 0.192},
	"m5.2xlarge": {"m5.2xlarge", 8, 32768, 0.384},
	"m5.4xlarge": {"m5.4xlarge", 16, 65536, 0.768},
	"c5.large":   {"c5.large", 2, 4096, 0.085},
	"c5.xlarge":  {"c5.xlarge", 4, 8192, 0.17},
	"c5.2xlarge": {"c5.2xlarge", 8, 16384, 0.34},
	"r5.large":   {"r5.large", 2, 16384, 0.126},
	"r5.xlarge":  {"r5.xlarge", 4, 32768, 0.252},
}

// LookupInstanceType returns the catalogue entry for name.
func LookupInstanceType(name string) (InstanceType, bool) {
	t, ok := catalog[name]
	return t, ok
}

// withCatalogSize fills VCPU, MemoryMiB and (when unset) HourlyCost from the
// catalogue for a known instance type.
func withCatalogSize(r provider.Resource) provider.Resource {
	t, ok := catalog[r.Size.InstanceType]
	if !ok {
		return r
	}
	if r.Size.VCPU == 0 {
		r.Size.VCPU = t.VCPU
	}
	if r.Size.MemoryMiB == 0 {
		r.Size.MemoryMiB = t.MemoryMiB
	}
	if r.HourlyCost == 0 {
		r.HourlyCost = t.HourlyCost
	}
	return r
}

// Resize implements provider.Resizer for instances, databases and
// functions. An instance type from the catalogue (LookupInstanceType) sets
// VCPU, MemoryMiB and HourlyCost; another type must come with VCPU or
// MemoryMiB. A function's memory and timeout must lie inside
// Config.FunctionMemoryMiB and Config.FunctionTimeout. Invalid sizes return
// provider.ErrInvalid before anything changes; groups, volumes and load
// balancers return provider.ErrUnsupported; terminated resources
// provider.ErrConflict.
func (c *Cloud) Resize(ctx context.Context, id string, size provider.Size) (err error) {
	defer redact.Errorp(&err)
	if err := provider.ValidateID(id); err != nil {
		return fmt.Errorf("memory: resize: %w", err)
	}
	if err := size.Validate(); err != nil {
		return fmt.Errorf("memory: resize %q: %w", id, provider.Within("size", err))
	}
	if _, err := c.enter(ctx, OpResize, id); err != nil {
		return err
	}
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.resources[id]
	if !ok {
		return notFound("resize", id)
	}
	e.settle(now)
	kind := e.res.Kind
	switch kind {
	case provider.KindInstance, provider.KindDatabase, provider.KindFunction:
	default:
		return fmt.Errorf("memory: resize %q: %w: a %s cannot be resized", id, provider.ErrUnsupported, kind)
	}
	if e.res.State == provider.StateTerminated {
		return fmt.Errorf("memory: resize %q: %w: resource is terminated", id, provider.ErrConflict)
	}
	next, cost, err := c.resolveSize(kind, size, e.res.HourlyCost)
	if err != nil {
		return fmt.Errorf("memory: resize %q: %w", id, provider.Within("size", err))
	}
	if next == e.res.Size {
		return nil
	}
	from := e.res.Size
	e.res.Size, e.res.HourlyCost = next, cost
	c.record(now, OpResize, id, sizeString(from), sizeString(next), nil)
	return nil
}

// resolveSize validates size for kind and returns the full size and the
// new hourly cost.
func (c *Cloud) resolveSize(kind provider.Kind, size provider.Size, cost float64) (provider.Size, float64, error) {
	if kind == provider.KindFunction {
		if err := size.ValidateFor(kind); err != nil {
			return provider.Size{}, 0, err
		}
		lo, hi := c.cfg.FunctionMemoryMiB[0], c.cfg.FunctionMemoryMiB[1]
		if size.MemoryMiB < lo || size.MemoryMiB > hi {
			return provider.Size{}, 0, provider.Invalid("memory_mib", size.MemoryMiB, fmt.Sprintf("must lie in [%d, %d]", lo, hi))
		}
		tlo, thi := c.cfg.FunctionTimeout[0], c.cfg.FunctionTimeout[1]
		if size.Timeout < tlo || size.Timeout > thi {
			return provider.Size{}, 0, provider.Invalid("timeout", size.Timeout, fmt.Sprintf("must lie in [%s, %s]", tlo, thi))
		}
		return size, cost, nil
	}
	// Checked before a catalogue type fills in the rest, so that a field
	// the kind does not have (a timeout) is refused, not dropped.
	if err := size.ValidateFor(kind); err != nil {
		return provider.Size{}, 0, err
	}
	if t, ok := catalog[size.InstanceType]; ok {
		return provider.Size{InstanceType: t.Name, VCPU: t.VCPU, MemoryMiB: t.MemoryMiB}, t.HourlyCost, nil
	}
	if size.InstanceType != "" && size.VCPU == 0 && size.MemoryMiB == 0 {
		return provider.Size{}, 0, provider.Invalid("instance_type", size.InstanceType, "is not in the catalogue; give vcpu or memory_mib with it")
	}
	return size, cost, nil
}

func sizeString(s provider.Size) string {
	if s.Timeout > 0 {
		return fmt.Sprintf("memory=%dMiB timeout=%s", s.MemoryMiB, s.Timeout)
	}
	return fmt.Sprintf("type=%s vcpu=%g memory=%dMiB", s.InstanceType, s.VCPU, s.MemoryMiB)
}
